import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createTestApp, pageText, TestClient, type TestApp } from '../../../../test/support/app.js';
import { startOidcProvider, type TestOidcProvider } from '../../../../test/support/oidc-provider.js';

/** A browser on its own address, so each one has its own sign-in rate limit. */
function browser(t: TestApp, ip: string): TestClient {
  return new TestClient({ inject: (opts: Record<string, unknown>) => t.app.inject({ ...opts, remoteAddress: ip }) } as unknown as FastifyInstance);
}

describe('staff single sign-on through the council identity provider', () => {
  let t: TestApp;
  let idp: TestOidcProvider;
  const redirectUri = 'http://localhost:3000/staff/sign-in/oidc/callback';

  before(async () => {
    idp = await startOidcProvider({
      redirectUri,
      users: [
        { subject: 'idp-0001', email: 'sam.jones@kingsmere.example', name: 'Sam Jones', password: 'correct horse battery' },
        { subject: 'idp-0002', email: 'stranger@elsewhere.example', name: 'A Stranger', password: 'another long phrase' },
        { subject: 'idp-0003', email: 'unverified@kingsmere.example', emailVerified: false, password: 'yet another phrase' },
      ],
    });
    t = await createTestApp({ env: { PORT: '3000', OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret } });
    await t.services.account.staff.seedDemo();
    await t.services.account.staff.createStaffUser({ email: 'sam.jones@kingsmere.example', name: 'Sam Jones', roles: ['case-officer'], teams: ['highways'] });
    await t.services.account.staff.createStaffUser({ email: 'unverified@kingsmere.example', name: 'Una Verified', roles: ['case-officer'], teams: [] });
  });

  after(async () => {
    await t?.close();
    await idp?.close();
  });

  async function signInThroughProvider(client: TestClient, credentials: { email: string; password: string }) {
    const page = await client.get('/staff/sign-in?returnTo=/staff');
    assert.match(page.body, /Sign in with your council account/);
    const start = await client.get('/staff/sign-in/oidc?returnTo=/staff');
    assert.equal(start.statusCode, 302);
    const authorizationUrl = String(start.headers.location);
    assert.ok(authorizationUrl.startsWith(idp.issuer), 'goes to the identity provider');
    const url = new URL(authorizationUrl);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'));
    const back = new URL(await idp.signIn(authorizationUrl, credentials));
    assert.equal(`${back.origin}${back.pathname}`, redirectUri);
    return client.get(`${back.pathname}${back.search}`);
  }

  test('an invited member of staff signs in with their council account, is matched by verified email, then by subject', async () => {
    const client = browser(t, '10.1.0.1');
    const res = await signInThroughProvider(client, { email: 'sam.jones@kingsmere.example', password: 'correct horse battery' });
    assert.equal(res.statusCode, 302, pageText(res.body));
    assert.equal(res.headers.location, '/staff');
    const home = await client.get('/staff');
    assert.equal(home.statusCode, 200);
    assert.match(pageText(home.body), /Hello, Sam Jones/);

    const row = await t.platform.database.db
      .withTables<{ staff_users: { email: string; oidc_subject: string | null; status: string } }>()
      .selectFrom('staff_users')
      .select(['oidc_subject', 'status'])
      .where('email', '=', 'sam.jones@kingsmere.example')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { oidc_subject: 'idp-0001', status: 'active' });

    // A second time, in a new browser, the subject alone identifies them.
    const again = browser(t, '10.1.0.2');
    const res2 = await signInThroughProvider(again, { email: 'sam.jones@kingsmere.example', password: 'correct horse battery' });
    assert.equal(res2.headers.location, '/staff');
    assert.equal((await again.get('/staff')).statusCode, 200);
  });

  test('someone the council has not invited is refused with a clear page', async () => {
    const client = browser(t, '10.1.0.3');
    const res = await signInThroughProvider(client, { email: 'stranger@elsewhere.example', password: 'another long phrase' });
    assert.equal(res.statusCode, 403);
    assert.match(pageText(res.body), /Staff must be invited by an administrator/);
    assert.equal((await client.get('/staff')).statusCode, 302);
  });

  test('an unverified email address is not enough to link an account', async () => {
    const client = browser(t, '10.1.0.4');
    const res = await signInThroughProvider(client, { email: 'unverified@kingsmere.example', password: 'yet another phrase' });
    assert.equal(res.statusCode, 403);
    assert.match(pageText(res.body), /has not confirmed your email address/);
  });

  test('a callback with the wrong state, or with no sign-in started, is refused', async () => {
    const client = browser(t, '10.1.0.5');
    await client.get('/staff/sign-in');
    const start = await client.get('/staff/sign-in/oidc');
    const authorizationUrl = new URL(String(start.headers.location));
    authorizationUrl.searchParams.set('state', 'not-the-state-we-sent');
    const back = new URL(await idp.signIn(authorizationUrl.href, { email: 'sam.jones@kingsmere.example', password: 'correct horse battery' }));
    const res = await client.get(`${back.pathname}${back.search}`);
    assert.equal(res.statusCode, 403);
    assert.match(pageText(res.body), /Sign in did not work/);

    const fresh = browser(t, '10.1.0.6');
    const res2 = await fresh.get('/staff/sign-in/oidc/callback?code=abc&state=xyz');
    assert.equal(res2.statusCode, 403);
  });

  test('a disabled member of staff cannot sign in through single sign-on', async () => {
    const staff = t.services.account.staff;
    const adminMember = await staff.findMemberByEmail('administrator@kingsmere.example');
    assert.ok(adminMember);
    const sam = (await staff.listStaff(adminMember)).find((u) => u.email === 'sam.jones@kingsmere.example');
    assert.ok(sam);
    await staff.setStatus(adminMember, sam.id, 'disabled');
    const client = browser(t, '10.1.0.7');
    const res = await signInThroughProvider(client, { email: 'sam.jones@kingsmere.example', password: 'correct horse battery' });
    assert.equal(res.statusCode, 403);
    assert.match(pageText(res.body), /disabled/);
  });
});
