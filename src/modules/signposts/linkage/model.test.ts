import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidatePairs } from './blocking.js';
import { COMPARISONS } from './comparisons.js';
import { compile, log2, probabilityFromWeight, scoreWeights, seededRandom, termFrequencyAdjustment, train } from './model.js';
import { standardise } from './standardise.js';
import { syntheticPerson, syntheticResidents } from './synthetic.js';

const must = <T>(value: T | undefined): T => {
  assert.ok(value !== undefined);
  return value;
};

const records = syntheticResidents({ people: 400, seed: 3 }).map((r) => standardise(r));
const model = train(records, records, candidatePairs(records, undefined));
const comparison = (key: string) => must(model.comparisons.find((c) => c.key === key));
const levelOf = (key: string, level: string) => must(comparison(key).levels.find((l) => l.key === level));

describe('train', () => {
  it('learns that exact agreement is far likelier for the same person', () => {
    for (const key of ['forename', 'surname', 'dob', 'postcode', 'identifiers']) {
      const exact = levelOf(key, 'exact');
      assert.ok(exact.m > 0.3, `${key} m ${exact.m}`);
      assert.ok(exact.m / exact.u > 10, `${key} m/u ${exact.m / exact.u}`);
      assert.ok(levelOf(key, 'else').m < levelOf(key, 'else').u, `${key} else`);
    }
  });

  it('keeps each distribution summing to one, with neutral levels weighing nothing', () => {
    for (const [f, c] of model.comparisons.entries()) {
      const counted = c.levels.filter((_, l) => !COMPARISONS[f]?.levels[l]?.neutral);
      for (const [l, level] of c.levels.entries())
        if (COMPARISONS[f]?.levels[l]?.neutral) assert.deepEqual([level.m, level.u], [1, 1], `${c.key} ${level.key}`);
      const m = counted.reduce((t, l) => t + l.m, 0);
      const u = counted.reduce((t, l) => t + l.u, 0);
      assert.ok(Math.abs(u - 1) < 1e-9, `${c.key} u ${u}`);
      assert.ok(m >= 0.999 && m < 1.05, `${c.key} m ${m}`);
    }
  });

  it('estimates a sensible prior and is repeatable', () => {
    const people = new Map<string, number>();
    for (const r of records) people.set(syntheticPerson(r.id), (people.get(syntheticPerson(r.id)) ?? 0) + 1);
    let truePairs = 0;
    for (const n of people.values()) truePairs += (n * (n - 1)) / 2;
    const expected = truePairs / ((records.length * (records.length - 1)) / 2);
    assert.ok(model.prior > expected / 3 && model.prior < expected * 3, `${model.prior} vs ${expected}`);
    assert.deepEqual(train(records, records, candidatePairs(records, undefined)), model);
  });

  it('gives rarer names more weight on an exact match', () => {
    const cm = compile(model);
    const forename = model.comparisons.findIndex((c) => c.key === 'surname');
    assert.ok(termFrequencyAdjustment(cm, forename, 'nameseenonce') > termFrequencyAdjustment(cm, forename, 'smith'));
  });
});

describe('scoreWeights', () => {
  it('scores true pairs above false ones', () => {
    const pairs = candidatePairs(records, undefined);
    const weights = scoreWeights(model, records, records, pairs);
    let right = 0;
    for (let k = 0; k < weights.length; k++) {
      const same = syntheticPerson(must(records[must(pairs.left[k])]).id) === syntheticPerson(must(records[must(pairs.right[k])]).id);
      if (same === must(weights[k]) > 0) right++;
    }
    assert.ok(right / weights.length > 0.97, `${right} of ${weights.length}`);
  });

  it('converts weights to probabilities', () => {
    assert.equal(probabilityFromWeight(0), 0.5);
    assert.ok(Math.abs(probabilityFromWeight(log2(3)) - 0.75) < 1e-12);
    assert.equal(probabilityFromWeight(5000), 1);
  });

  it('rejects a model from another version of the comparisons', () => {
    assert.throws(() => compile({ ...model, comparisons: model.comparisons.slice(1) }));
  });
});

describe('seededRandom', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    for (let i = 0; i < 100; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
  });
});
