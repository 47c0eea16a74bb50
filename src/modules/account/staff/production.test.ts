import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { generateTotp } from '#platform/security/totp';
import { createTestApp, pageText, TestClient, type TestApp } from '../../../../test/support/app.js';
import { DEMO_PASSWORD } from './demo.test-support.js';

/** A browser reaching the service over HTTPS through the council's proxy. */
let nextIp = 1;
function browser(t: TestApp): TestClient {
  const ip = `10.4.0.${nextIp++}`;
  const inject = (opts: { headers?: Record<string, string> }) =>
    t.app.inject({ ...opts, remoteAddress: ip, headers: { ...opts.headers, 'x-forwarded-proto': 'https' } });
  return new TestClient({ inject } as unknown as FastifyInstance);
}

describe('staff services in production', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp({
      env: {
        NODE_ENV: 'production',
        BOROUGH_DEMO: 'false',
        BOROUGH_BASE_URL: 'https://services.kingsmere.example',
        SESSION_SECRET: 'a-production-session-secret-of-sufficient-length',
        SMTP_URL: 'smtp://127.0.0.1:2525',
      },
    });
  });
  after(async () => t?.close());

  test('demo staff accounts cannot sign in, even if someone loads them', async () => {
    await t.services.account.staff.seedDemo();
    const client = browser(t);
    await client.get('/staff/sign-in');
    const res = await client.post('/staff/sign-in', { email: 'administrator@kingsmere.example', password: DEMO_PASSWORD });
    assert.equal(res.statusCode, 403);
    assert.match(pageText(res.body), /Demonstration accounts cannot be used/);
  });

  test('the messages page does not exist: mail goes out by SMTP or GOV.UK Notify', async () => {
    const staff = t.services.account.staff;
    const link = await staff.createStaffUser({ email: 'it.admin@kingsmere.example', name: 'Ira Admin', roles: ['administrator'], teams: [] });
    assert.ok(link.startsWith('https://services.kingsmere.example/staff/invitation?token='));
    const client = browser(t);
    const url = new URL(link);
    assert.equal((await client.get(`${url.pathname}${url.search}`)).headers.location, '/staff/invitation');
    await client.get('/staff/invitation');
    const chosen = await client.post('/staff/invitation', { password: 'quartz meadow violin harbour', confirmPassword: 'quartz meadow violin harbour' });
    assert.equal(chosen.headers.location, '/staff/sign-in/set-up-authenticator');
    const setup = await client.get('/staff/sign-in/set-up-authenticator');
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(setup.body)?.[1]?.replace(/ /g, '');
    assert.ok(secret);
    assert.equal((await client.post('/staff/sign-in/set-up-authenticator', { code: generateTotp(secret) })).headers.location, '/staff');

    const home = await client.get('/staff');
    assert.equal(home.statusCode, 200);
    assert.doesNotMatch(home.body, /href="\/staff\/messages"/);
    assert.equal((await client.get('/staff/audit')).statusCode, 200);
    assert.equal((await client.get('/staff/messages')).statusCode, 404);
    const [message] = await t.services.notifier.listMessages({ recipient: 'it.admin@kingsmere.example' });
    assert.ok(message);
    assert.equal((await client.get(`/staff/messages/${message.id}`)).statusCode, 404);
    const admin = await staff.findMemberByEmail('it.admin@kingsmere.example');
    assert.ok(admin);
    await assert.rejects(staff.listMessages(admin), (e: { statusCode?: number }) => e.statusCode === 404);
  });
});
