import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { syntheticResidents } from './linkage/synthetic.js';
import { relinkAll, type StoredRecord } from './matcher.js';
import { relinkOffThread, RelinkStopped } from './relink-worker.js';

const stored = (people: number): StoredRecord[] =>
  syntheticResidents({ people, seed: 11 }).map((person, i) => ({ id: String(i + 1), personId: String(i + 1), sourceCode: 'health', person }));

describe('re-linking on a worker thread', () => {
  test('gives the same people, review pairs and model as re-linking in the request thread', async () => {
    const records = stored(300);
    const decisions = [{ a: '1', b: '2', status: 'rejected' as const }];
    const here = relinkAll(records, decisions);
    const there = await relinkOffThread(records, decisions);
    assert.deepEqual(there.clusterOf, here.clusterOf);
    assert.deepEqual(there.review, here.review);
    // A model crosses threads as data, as it is stored: compared the same way.
    assert.deepEqual(JSON.parse(JSON.stringify(there.model)), JSON.parse(JSON.stringify(here.model)));
    assert.ok(new Set(there.clusterOf.values()).size < records.length, 'some records were linked into one person');
  });

  test('stops when the platform stops, without waiting for the result', async () => {
    const stopping = new AbortController();
    const started = performance.now();
    const relinking = relinkOffThread(stored(4000), [], stopping.signal);
    setTimeout(() => stopping.abort(), 50);
    await assert.rejects(relinking, RelinkStopped);
    const took = performance.now() - started;
    const full = performance.now();
    await relinkOffThread(stored(4000), []);
    assert.ok(took < performance.now() - full, `stopped after ${Math.round(took)} ms, sooner than a whole re-link`);
  });

  test('refuses to start once the platform is stopping', async () => {
    await assert.rejects(relinkOffThread(stored(10), [], AbortSignal.abort()), RelinkStopped);
  });
});
