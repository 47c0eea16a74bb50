import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { sql } from '#platform/db/index';
import { databaseRateLimitStore, purgeEndedRateLimits } from '#platform/http/rate-limit-store';
import { createTestApp, type TestApp } from './support/app.js';

type Store = InstanceType<ReturnType<typeof databaseRateLimitStore>>;

function incr(store: Store, key: string, timeWindow = 60_000): Promise<{ current: number; ttl: number }> {
  return new Promise((resolve, reject) =>
    store.incr(key, (error, result) => (error || !result ? reject(error ?? new Error('no result')) : resolve(result)), timeWindow, 10),
  );
}

describe('rate limits counted in the database', () => {
  let t: TestApp;
  let db: Kysely<object>;
  before(async () => {
    t = await createTestApp();
    db = t.platform.database.db as unknown as Kysely<object>;
  });
  after(async () => t?.close());

  it('two web processes (two stores) count the same requests for a route and address', async () => {
    const Store = databaseRateLimitStore(db);
    const route = { routeInfo: { method: 'POST', url: '/staff/sign-in' } };
    const first = new Store({}).child(route);
    const second = new Store({}).child(route);
    assert.equal((await incr(first, '192.0.2.1')).current, 1);
    assert.equal((await incr(second, '192.0.2.1')).current, 2);
    const third = await incr(first, '192.0.2.1');
    assert.equal(third.current, 3);
    assert.ok(third.ttl > 55_000 && third.ttl <= 60_000, `time left in the window: ${third.ttl}`);
    assert.equal((await incr(first, '192.0.2.2')).current, 1, 'each address is counted apart');
    const other = new Store({}).child({ routeInfo: { method: 'POST', url: '/account/sign-in' } });
    assert.equal((await incr(other, '192.0.2.1')).current, 1, 'each route is counted apart');
  });

  it('starts again once the window has ended, and housekeeping removes ended windows', async () => {
    const store = new (databaseRateLimitStore(db))({}).child({ routeInfo: { method: 'POST', url: '/reports/alerts' } });
    assert.equal((await incr(store, '198.51.100.7', 50)).current, 1);
    assert.equal((await incr(store, '198.51.100.7', 50)).current, 2);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal((await incr(store, '198.51.100.7', 50)).current, 1, 'a new window');
    await sql`UPDATE rate_limits SET resets_at = now() - interval '2 minutes' WHERE key LIKE 'POST/reports/alerts-%'`.execute(db);
    assert.equal(await purgeEndedRateLimits(db), 1);
  });
});

describe('rate limits behind a trusted reverse proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { BOROUGH_TRUSTED_PROXIES: '127.0.0.1' } });
  });
  after(async () => t?.close());

  it('count each resident address the proxy forwards, not the proxy itself', async () => {
    const signIn = (address: string) =>
      t.app.inject({
        method: 'POST',
        url: '/staff/sign-in',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': address },
        payload: { email: 'nobody@kingsmere.example', password: 'wrong' },
      });
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await signIn('192.0.2.10')).statusCode);
    assert.equal(statuses.at(-1), 429, 'the eleventh try from one address is refused');
    assert.notEqual((await signIn('192.0.2.11')).statusCode, 429, 'another address behind the proxy is not');
  });

  it('do not believe a forwarded address from anyone but the proxy', async () => {
    const fromElsewhere = (forwarded: string) =>
      t.app.inject({ method: 'POST', url: '/staff/sign-in', remoteAddress: '203.0.113.5', headers: { 'x-forwarded-for': forwarded }, payload: {} });
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await fromElsewhere(`192.0.2.${100 + i}`)).statusCode);
    assert.equal(statuses.at(-1), 429, 'changing the header does not escape the limit');
  });
});
