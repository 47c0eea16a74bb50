import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../src/app.js';
import { createTestApp, type TestApp, type TestClient } from './support/app.js';

describe('sessions', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await t.services.account.residents.seedDemo();
  });
  after(() => t.close());

  async function signedIn(): Promise<TestClient> {
    const client = t.client();
    await client.get('/account/sign-in');
    const demo = t.platform.council.demoUsers?.residents;
    assert.ok(demo?.people[0]);
    const res = await client.post('/account/sign-in', { email: demo.people[0].email, password: demo.password });
    assert.equal(res.statusCode, 302);
    assert.equal((await client.get('/account')).statusCode, 200);
    return client;
  }

  const sessionId = (client: TestClient) => decodeURIComponent(client.cookies.get('borough_session') ?? '').split('.')[0] ?? '';

  it('keeps sessions in the database with an idle expiry, HttpOnly and SameSite=Lax', async () => {
    const client = t.client();
    await client.get('/account/sign-in');
    const res = await client.post('/account/sign-in', { email: 'nobody@example.com', password: 'wrong password here' });
    const cookie = String(res.headers['set-cookie'] ?? '');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    const row = await sql<{ expires_at: Date }>`SELECT expires_at FROM sessions WHERE id = ${sessionId(client)}`.execute(t.platform.database.db);
    const expires = row.rows[0]?.expires_at;
    assert.ok(expires, 'the session is stored');
    assert.ok(Math.abs(expires.getTime() - (Date.now() + SESSION_IDLE_MS)) < 60_000);
  });

  it('ends a session left idle past its expiry', async () => {
    const client = await signedIn();
    await sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ${sessionId(client)}`.execute(t.platform.database.db);
    const res = await client.get('/account');
    assert.equal(res.statusCode, 302);
    assert.match(String(res.headers.location), /^\/account\/sign-in/);
  });

  it('ends a session at the absolute timeout however active it is', async () => {
    const client = await signedIn();
    const longAgo = Date.now() - SESSION_ABSOLUTE_MS - 1000;
    await sql`UPDATE sessions SET data = jsonb_set(data, '{startedAt}', to_jsonb(${longAgo}::bigint)) WHERE id = ${sessionId(client)}`.execute(
      t.platform.database.db,
    );
    const res = await client.get('/account');
    assert.equal(res.statusCode, 302);
    assert.match(String(res.headers.location), /^\/account\/sign-in/);
  });

  it('gives the browser a new session id at sign-in', async () => {
    const client = t.client();
    await client.get('/account/sign-in');
    const before = sessionId(client);
    assert.ok(before, 'a session exists before signing in (for the CSRF token)');
    const demo = t.platform.council.demoUsers?.residents;
    assert.ok(demo?.people[0]);
    await client.post('/account/sign-in', { email: demo.people[0].email, password: demo.password });
    assert.notEqual(sessionId(client), before);
  });

  it('writes a page view that changed nothing at most once a minute, and any change at once', async () => {
    const client = await signedIn();
    const id = sessionId(client);
    const stored = async () =>
      (await sql<{ data: { marker?: string; residentId?: string } }>`SELECT data FROM sessions WHERE id = ${id}`.execute(t.platform.database.db)).rows[0]?.data;
    // Mark the stored row: a write would replace the mark.
    await sql`UPDATE sessions SET data = data || '{"marker":"kept"}'::jsonb WHERE id = ${id}`.execute(t.platform.database.db);
    assert.equal((await client.get('/account')).statusCode, 200);
    assert.equal((await stored())?.marker, 'kept', 'an unchanged session is not written again within the minute');
    await client.post('/account/sign-out', {});
    const after = await stored();
    assert.ok(after === undefined || after.residentId === undefined, 'signing out is written at once');
  });
});
