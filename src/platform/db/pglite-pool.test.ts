import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPglitePool } from './pglite-pool.js';

describe('the embedded database pool', () => {
  let pool: Awaited<ReturnType<typeof openPglitePool>>;
  before(async () => (pool = await openPglitePool(undefined)));
  after(() => pool.end());

  it('lets other work in during a long run of queries', async () => {
    let timerFiredAfterMs: number | undefined;
    const started = performance.now();
    setTimeout(() => (timerFiredAfterMs = performance.now() - started), 0);
    let queries = 0;
    // Without a turn of the event loop between queries the timer would wait for the whole run.
    while (timerFiredAfterMs === undefined && performance.now() - started < 5000) {
      await pool.query('SELECT $1::int AS n', [queries]);
      queries++;
    }
    assert.ok(timerFiredAfterMs !== undefined, `a timer fired while ${queries} queries ran`);
    assert.ok(timerFiredAfterMs < 1000, `the timer fired after ${Math.round(timerFiredAfterMs)} ms, not at the end of the run`);
  });

  it('answers queries in order, one connection at a time', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.query('SELECT $1::int AS n', [i])));
    assert.deepEqual(
      results.map((r) => r.rows[0]?.n),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });
});
