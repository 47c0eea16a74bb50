import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { generateTotp, TOTP_PERIOD_SECONDS } from '#platform/security/totp';
import { createTestApp, pageText, TestClient, type TestApp } from '../../../../test/support/app.js';
import { DEMO_PASSWORD, DEMO_TOTP_SECRET } from './demo.test-support.js';

/** A browser on its own address, so each one has its own sign-in rate limit. */
let nextIp = 1;
function browser(t: TestApp): TestClient {
  const ip = `10.2.0.${nextIp++}`;
  return new TestClient({ inject: (opts: Record<string, unknown>) => t.app.inject({ ...opts, remoteAddress: ip }) } as unknown as FastifyInstance);
}

type StaffRow = {
  id: string;
  email: string;
  status: string;
  failed_sign_ins: number;
  last_failed_sign_in_at: Date | null;
  locked_until: Date | null;
  totp_last_step: number | null;
  totp_secret: string | null;
};

describe('staff sign-in', () => {
  let t: TestApp;
  const staffUsers = () => t.platform.database.db.withTables<{ staff_users: StaffRow; sessions: { user_kind: string | null; user_id: string | null } }>();

  before(async () => {
    t = await createTestApp();
    await t.services.account.staff.seedDemo();
  });
  after(async () => t?.close());

  async function enterPassword(client: TestClient, email: string, password = DEMO_PASSWORD) {
    await client.get('/staff/sign-in');
    return client.post('/staff/sign-in', { email, password, returnTo: '/staff' });
  }

  async function signIn(client: TestClient, email: string, code = generateTotp(DEMO_TOTP_SECRET)) {
    const res = await enterPassword(client, email);
    assert.equal(res.statusCode, 302, pageText(res.body));
    assert.equal(res.headers.location, '/staff/sign-in/code');
    await client.get('/staff/sign-in/code');
    return client.post('/staff/sign-in/code', { code });
  }

  test('a member of staff signs in with their password and a code from their authenticator app, on a new session', async () => {
    const client = browser(t);
    const res = await enterPassword(client, 'case-officer@kingsmere.example');
    assert.equal(res.headers.location, '/staff/sign-in/code');
    const before = client.cookies.get('borough_session');
    assert.ok(before);
    await client.get('/staff/sign-in/code');
    const done = await client.post('/staff/sign-in/code', { code: generateTotp(DEMO_TOTP_SECRET) });
    assert.equal(done.statusCode, 302);
    assert.equal(done.headers.location, '/staff');
    assert.notEqual(client.cookies.get('borough_session'), before, 'the session id changes at sign-in');
    const home = await client.get('/staff');
    assert.equal(home.statusCode, 200);
    assert.match(pageText(home.body), /Hello, Demo case officer/);
    const audit = await t.platform.database.db
      .withTables<{ audit_events: { action: string; subject_id: string | null } }>()
      .selectFrom('audit_events')
      .select('action')
      .where('action', '=', 'staff.signed-in')
      .execute();
    assert.ok(audit.length >= 1);
  });

  test('a wrong password or a wrong code is refused', async () => {
    const client = browser(t);
    const bad = await enterPassword(client, 'manager@kingsmere.example', 'not the password at all');
    assert.equal(bad.statusCode, 401);
    assert.match(pageText(bad.body), /Enter a correct email address and password/);
    const unknown = await enterPassword(client, 'nobody@kingsmere.example', 'not the password at all');
    assert.equal(unknown.statusCode, 401);
    assert.match(pageText(unknown.body), /Enter a correct email address and password/);

    const code = generateTotp(DEMO_TOTP_SECRET);
    const wrong = await signIn(client, 'manager@kingsmere.example', code === '000000' ? '111111' : '000000');
    assert.equal(wrong.statusCode, 401);
    assert.match(pageText(wrong.body), /The code is not correct/);
    assert.equal((await client.get('/staff')).statusCode, 302, 'still signed out');
  });

  test('a code cannot be used twice, even from another browser', async () => {
    const code = generateTotp(DEMO_TOTP_SECRET);
    const first = browser(t);
    assert.equal((await signIn(first, 'content-editor@kingsmere.example', code)).headers.location, '/staff');
    const second = browser(t);
    const again = await signIn(second, 'content-editor@kingsmere.example', code);
    assert.equal(again.statusCode, 401);
    assert.equal((await second.get('/staff')).statusCode, 302);
    // The next code, from the following time step, works.
    const next = generateTotp(DEMO_TOTP_SECRET, { now: Date.now() + TOTP_PERIOD_SECONDS * 1000 });
    assert.equal((await signIn(browser(t), 'content-editor@kingsmere.example', next)).headers.location, '/staff');
  });

  test('repeated failures slow sign-in down and then lock the account', async () => {
    const email = 'directory-moderator@kingsmere.example';
    // After a few failures, the next attempt must wait, even with the right password.
    await staffUsers().updateTable('staff_users').set({ failed_sign_ins: 5, last_failed_sign_in_at: new Date() }).where('email', '=', email).execute();
    const waiting = await enterPassword(browser(t), email);
    assert.equal(waiting.statusCode, 429);
    assert.match(pageText(waiting.body), /Wait \d+ seconds/);

    // One more failure at the threshold locks the account.
    await staffUsers()
      .updateTable('staff_users')
      .set({ failed_sign_ins: 9, last_failed_sign_in_at: new Date(Date.now() - 60_000) })
      .where('email', '=', email)
      .execute();
    const client = browser(t);
    const locked = await enterPassword(client, email, 'a wrong password here');
    assert.equal(locked.statusCode, 429);
    assert.match(pageText(locked.body), /too many times/);
    const row = await staffUsers().selectFrom('staff_users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    assert.equal(row.failed_sign_ins, 10);
    assert.ok(row.locked_until && row.locked_until > new Date());
    const stillLocked = await enterPassword(browser(t), email);
    assert.equal(stillLocked.statusCode, 429, 'the right password does not help while locked');

    // Once the lock has passed, the right details work and the count is reset.
    await staffUsers()
      .updateTable('staff_users')
      .set({ locked_until: new Date(Date.now() - 1000), last_failed_sign_in_at: new Date(Date.now() - 16 * 60_000) })
      .where('email', '=', email)
      .execute();
    assert.equal((await signIn(browser(t), email)).headers.location, '/staff');
    const reset = await staffUsers().selectFrom('staff_users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    assert.equal(reset.failed_sign_ins, 0);
  });

  test('a disabled member of staff is signed out everywhere and cannot sign in again', async () => {
    const staff = t.services.account.staff;
    const client = browser(t);
    assert.equal((await signIn(client, 'team-leader@kingsmere.example')).headers.location, '/staff');
    assert.equal((await client.get('/staff')).statusCode, 200);
    const admin = await staff.findMemberByEmail('administrator@kingsmere.example');
    const leader = await staff.findMemberByEmail('team-leader@kingsmere.example');
    assert.ok(admin && leader);
    await staff.setStatus(admin, leader.id, 'disabled');
    const sessions = await staffUsers().selectFrom('sessions').selectAll().where('user_kind', '=', 'staff').where('user_id', '=', leader.id).execute();
    assert.equal(sessions.length, 0);
    const after = await client.get('/staff');
    assert.equal(after.statusCode, 302);
    assert.match(String(after.headers.location), /^\/staff\/sign-in/);
    const refused = await enterPassword(browser(t), 'team-leader@kingsmere.example');
    assert.equal(refused.statusCode, 403);
    assert.match(pageText(refused.body), /has been disabled/);
    await staff.setStatus(admin, leader.id, 'active');
  });

  test('an invited member of staff sets a password and an authenticator app, then is signed in', async () => {
    const link = await t.services.account.staff.createStaffUser({
      email: 'new.officer@kingsmere.example',
      name: 'Nia Officer',
      roles: ['case-officer'],
      teams: ['highways'],
    });
    const [message] = await t.services.notifier.listMessages({ recipient: 'new.officer@kingsmere.example' });
    assert.ok(message, 'the invitation is emailed');
    assert.ok((await t.services.notifier.getMessage(message.id))?.body.includes(link));

    const client = browser(t);
    const path = `${new URL(link).pathname}${new URL(link).search}`;
    const open = await client.get(path);
    assert.equal(open.statusCode, 302);
    assert.equal(open.headers.location, '/staff/invitation');
    const form = await client.get('/staff/invitation');
    assert.match(pageText(form.body), /Choose a password/);

    const weak = await client.post('/staff/invitation', { password: 'password1', confirmPassword: 'password1' });
    assert.equal(weak.statusCode, 400);
    assert.match(pageText(weak.body), /There is a problem/);

    const chosen = await client.post('/staff/invitation', { password: 'marble kettle orchard lantern', confirmPassword: 'marble kettle orchard lantern' });
    assert.equal(chosen.statusCode, 302);
    assert.equal(chosen.headers.location, '/staff/sign-in/set-up-authenticator');
    const setup = await client.get('/staff/sign-in/set-up-authenticator');
    assert.equal(setup.statusCode, 200);
    assert.match(setup.body, /<svg[^>]*>/, 'a QR code drawn as SVG');
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(setup.body)?.[1]?.replace(/ /g, '');
    assert.ok(secret);

    const wrong = await client.post('/staff/sign-in/set-up-authenticator', { code: generateTotp(secret) === '123456' ? '654321' : '123456' });
    assert.equal(wrong.statusCode, 401);
    const done = await client.post('/staff/sign-in/set-up-authenticator', { code: generateTotp(secret) });
    assert.equal(done.statusCode, 302);
    assert.equal(done.headers.location, '/staff');
    assert.match(pageText((await client.get('/staff')).body), /Hello, Nia Officer/);
    const row = await staffUsers().selectFrom('staff_users').selectAll().where('email', '=', 'new.officer@kingsmere.example').executeTakeFirstOrThrow();
    assert.equal(row.status, 'active');

    // The link works once.
    const reused = await browser(t).get(path);
    assert.equal(reused.statusCode, 400);
    assert.match(pageText(reused.body), /already been used/);
    // A tampered link does nothing.
    assert.equal((await browser(t).get(`${path}x`)).statusCode, 400);
  });

  test('authenticator secrets are sealed in the database; one stored before sealing is sealed when next used', async () => {
    const stored = async (email: string) =>
      (await staffUsers().selectFrom('staff_users').select('totp_secret').where('email', '=', email).executeTakeFirstOrThrow()).totp_secret ?? '';
    const sealed = await stored('administrator@kingsmere.example');
    assert.match(sealed, /^v1\./);
    assert.ok(!sealed.includes(DEMO_TOTP_SECRET), 'the secret cannot be read from the database');

    await staffUsers().updateTable('staff_users').set({ totp_secret: DEMO_TOTP_SECRET }).where('email', '=', 'manager@kingsmere.example').execute();
    const done = await signIn(browser(t), 'manager@kingsmere.example');
    assert.equal(done.headers.location, '/staff', 'a secret stored before sealing still works');
    assert.match(await stored('manager@kingsmere.example'), /^v1\./, 'and is sealed once used');
  });

  test('after an authenticator reset, the next sign-in sets up a new one', async () => {
    await t.services.account.staff.resetMfa('safeguarding-officer@kingsmere.example');
    const client = browser(t);
    const res = await enterPassword(client, 'safeguarding-officer@kingsmere.example');
    assert.equal(res.headers.location, '/staff/sign-in/set-up-authenticator');
    const setup = await client.get('/staff/sign-in/set-up-authenticator');
    const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(setup.body)?.[1]?.replace(/ /g, '');
    assert.ok(secret);
    assert.notEqual(secret, DEMO_TOTP_SECRET);
    assert.equal((await client.post('/staff/sign-in/set-up-authenticator', { code: generateTotp(secret) })).headers.location, '/staff');
    const row = await staffUsers()
      .selectFrom('staff_users')
      .select('totp_secret')
      .where('email', '=', 'safeguarding-officer@kingsmere.example')
      .executeTakeFirstOrThrow();
    assert.ok(row.totp_secret?.startsWith('v1.') && !row.totp_secret.includes(secret), 'a new secret is sealed too');
  });

  test('staff pages send signed-out people to sign in and back', async () => {
    const res = await browser(t).get('/staff/users');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/staff/sign-in?returnTo=%2Fstaff%2Fusers');
    const offsite = await browser(t).get('/staff/sign-in?returnTo=//evil.example/');
    assert.match(offsite.body, /name="returnTo" value="\/staff"/);
  });

  test('forms without the CSRF token are refused', async () => {
    const client = browser(t);
    await client.get('/staff/sign-in');
    const res = await client.post('/staff/sign-in', { email: 'case-officer@kingsmere.example', password: DEMO_PASSWORD }, { csrf: false });
    assert.equal(res.statusCode, 403);
    const signedIn = browser(t);
    await signIn(signedIn, 'administrator@kingsmere.example');
    assert.equal((await signedIn.post('/staff/sign-out', {}, { csrf: false })).statusCode, 403);
    await signedIn.get('/staff');
    assert.equal((await signedIn.post('/staff/sign-out', {})).statusCode, 302);
    assert.equal((await signedIn.get('/staff')).statusCode, 302, 'signed out');
  });

  test('sign-in attempts are rate limited per address', async () => {
    const client = browser(t);
    await client.get('/staff/sign-in');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await client.post('/staff/sign-in', { email: '', password: '' })).statusCode);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(400));
    assert.equal(statuses[10], 429);
  });
});
