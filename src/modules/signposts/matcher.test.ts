import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { syntheticResidents } from './linkage/synthetic.js';
import { buildMatcher, type StoredRecord } from './matcher.js';

describe('the matcher', () => {
  test('is built a slice at a time, letting other work run between slices, and finds every record it holds', async () => {
    const records: StoredRecord[] = syntheticResidents({ people: 6000, seed: 5 }).map((person, i) => ({
      id: String(i + 1),
      personId: String(i + 1),
      sourceCode: 'health',
      person,
    }));
    assert.ok(records.length > 5000, `${records.length} records, more than one slice`);
    let otherWorkRan = false;
    setImmediate(() => (otherWorkRan = true));
    const { matcher, ranBeforeTheEnd } = await buildMatcher(records, undefined).then((built) => ({ matcher: built, ranBeforeTheEnd: otherWorkRan }));
    assert.ok(ranBeforeTheEnd, 'work queued before the build began ran before it ended');
    assert.equal(matcher.records.size, records.length);
    for (const stored of [records[0], records[2500], records.at(-1)] as StoredRecord[]) {
      const { forenames, surname, dob } = stored.person;
      const hits = matcher.index.search({ forenames, surname, dob });
      assert.ok(
        hits.some((h) => h.records.some((r) => r.id === stored.id)),
        `record ${stored.id} (${forenames} ${surname}) is found`,
      );
    }
  });
});
