import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from '#platform/db/index';
import { createTestApp, type TestApp } from './support/app.js';

/** Runs only in the PostgreSQL layer: with a server, every web process counts rate limits in the database. */
describe('rate limits on a PostgreSQL server', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    assert.ok(t.config.databaseUrl, 'this file runs in the PostgreSQL layer');
  });
  after(async () => t?.close());

  it('a sign-in is counted in the database, where every web process sees it', async () => {
    const count = async () =>
      (await sql<{ n: number }>`SELECT coalesce(sum(hits), 0)::int AS n FROM rate_limits`.execute(t.platform.database.db)).rows[0]?.n ?? 0;
    const before = await count();
    const client = t.client();
    await client.get('/account/sign-in');
    await client.post('/account/sign-in', { email: 'nobody@example.com', password: 'not the password' });
    assert.equal(await count(), before + 1);
  });
});
