import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidatePairs, DEFAULT_BLOCKING_RULES } from './blocking.js';
import { standardise, type PersonRecord } from './standardise.js';
import { syntheticPerson, syntheticResidents } from './synthetic.js';

const must = <T>(value: T | undefined): T => {
  assert.ok(value !== undefined);
  return value;
};

const prepare = (records: PersonRecord[]) => records.map((r) => standardise(r));

describe('candidatePairs', () => {
  const records = prepare(syntheticResidents({ people: 300, seed: 11 }));

  it('dedupes within one list: each pair once, left index first', () => {
    const pairs = candidatePairs(records, undefined);
    const seen = new Set<string>();
    for (let k = 0; k < pairs.left.length; k++) {
      assert.ok(must(pairs.left[k]) < must(pairs.right[k]));
      const key = `${pairs.left[k]}:${pairs.right[k]}`;
      assert.ok(!seen.has(key), key);
      seen.add(key);
    }
    assert.ok(pairs.left.length < (records.length * (records.length - 1)) / 2 / 5, 'far fewer than all pairs');
  });

  it('finds nearly every true pair through the union of keys', () => {
    const pairs = candidatePairs(records, undefined);
    const found = new Set<string>();
    for (let k = 0; k < pairs.left.length; k++) found.add(`${pairs.left[k]}:${pairs.right[k]}`);
    let truth = 0;
    let caught = 0;
    for (let i = 0; i < records.length; i++) {
      for (let j = i + 1; j < records.length; j++) {
        if (syntheticPerson(must(records[i]).id) !== syntheticPerson(must(records[j]).id)) continue;
        truth++;
        if (found.has(`${i}:${j}`)) caught++;
      }
    }
    assert.ok(truth > 50);
    assert.ok(caught / truth > 0.97, `${caught} of ${truth}`);
  });

  it('links two lists and skips oversized blocks', () => {
    const left = prepare([
      { id: 'a1', forenames: 'Ann', surname: 'Lee', dob: '19900101' },
      { id: 'a2', forenames: 'Bob', surname: 'Ray', dob: '19900101' },
    ]);
    const right = prepare([
      { id: 'b1', forenames: 'Anne', surname: 'Lee', dob: '19900101' },
      { id: 'b2', forenames: 'Rob', surname: 'Day', dob: '19800101' },
    ]);
    const all = candidatePairs(left, right);
    assert.deepEqual(
      [...all.left].map((i, k) => `${must(left[i]).id}-${must(right[must(all.right[k])]).id}`),
      ['a1-b1', 'a2-b1'],
    );
    const dobOnly = DEFAULT_BLOCKING_RULES.filter((r) => r.name === 'date of birth');
    assert.equal(candidatePairs(left, right, { rules: dobOnly, maxBlockPairs: 1 }).left.length, 0);
  });

  it('meets swapped names and shared identifiers', () => {
    const list = prepare([
      { id: '1', forenames: 'James', surname: 'Morgan' },
      { id: '2', forenames: 'Morgan', surname: 'James' },
      { id: '3', forenames: 'Zed', identifiers: { nhs: '9434765919' } },
      { id: '4', surname: 'Other', identifiers: { nhs: '9434765919' } },
    ]);
    const pairs = candidatePairs(list, undefined);
    assert.deepEqual([...pairs.left].map((i, k) => `${i}-${pairs.right[k]}`).sort(), ['0-1', '2-3']);
  });
});
