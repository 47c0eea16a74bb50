import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { databaseAnswers } from './index.js';
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

  it('is healthy while a long transaction keeps it busy, and not while one holds it doing nothing', async () => {
    const holdFor = async (ms: number, work: (client: Awaited<ReturnType<typeof pool.connect>>) => Promise<unknown>) => {
      const client = await pool.connect();
      const started = performance.now();
      try {
        while (performance.now() - started < ms) await work(client);
      } finally {
        client.release();
      }
    };
    const busy = holdFor(1500, (client) => client.query('SELECT pg_sleep(0.02)'));
    assert.equal(await databaseAnswers(pool, 500), true, 'busy with a load');
    await busy;
    // The check above left its own query waiting behind the load: it is answered before the connection is held idle.
    await pool.query('SELECT 1');
    const idle = holdFor(2000, () => new Promise((resolve) => setTimeout(resolve, 50)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await databaseAnswers(pool, 500), false, 'held with nothing answered');
    await idle;
    assert.equal(await databaseAnswers(pool, 500), true, 'free again');
  });

  it('answers queries in order, one connection at a time', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.query('SELECT $1::int AS n', [i])));
    assert.deepEqual(
      results.map((r) => r.rows[0]?.n),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });
});
