import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from '#platform/db/index';
import { createTestApp, type TestApp } from './support/app.js';

/** Runs only in the PostgreSQL layer: what the platform does when the server closes its connections. */
describe('the PostgreSQL connection pool', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    assert.ok(t.config.databaseUrl, 'this file runs in the PostgreSQL layer');
  });
  after(async () => t?.close());

  it('survives the server closing an idle connection (a restart or failover), and the next query works', async () => {
    const db = t.platform.database.db;
    const pool = t.platform.database.pool;
    // Two connections at once, so they are different ones; the first then waits idle in the pool.
    const first = await pool.connect();
    const second = await pool.connect();
    const idle = (await first.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
    first.release();
    try {
      await second.query(`SELECT pg_terminate_backend(${Number(idle.pid)})`);
    } finally {
      second.release();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rows = (await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows;
    assert.equal(rows[0]?.one, 1);
  });
});
