import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { SIGN_IN_LOCKOUT_THRESHOLD } from '#platform/security/passwords';
import { createTestApp, pageText, type TestApp } from '../../../../test/support/app.js';
import { browser, capture, emailsTo, lastEmailTo, linkIn, registerResident, sessionCookie, signIn, STRONG_PASSWORD, useLink } from './test-helpers.js';

async function sessionsOf(t: TestApp, email: string): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sessions s JOIN residents r ON s.user_id = r.id::text WHERE r.email = ${email}`.execute(
    t.platform.database.db,
  );
  return r.rows[0]?.n ?? 0;
}

describe('resident sign-in', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await registerResident(t, 'sign.in@example.com');
    await registerResident(t, 'locked.out@example.com');
    await registerResident(t, 'link.user@example.com');
    await registerResident(t, 'everywhere@example.com');
    await registerResident(t, 'forgetful@example.com');
  });
  after(async () => {
    await t.close();
  });

  test('/account sends a signed-out resident to sign in, then back, on a new session id', async () => {
    const client = browser(t);
    const res = await client.get('/account/details');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/account/sign-in?returnTo=%2Faccount%2Fdetails');
    const page = await client.follow(res);
    assert.match(page.body, /name="returnTo" value="\/account\/details"/);
    const before = sessionCookie(client);
    assert.ok(before, 'a session exists before sign-in (for the CSRF token)');
    const signedIn = await client.post('/account/sign-in', { email: 'sign.in@example.com', password: STRONG_PASSWORD, returnTo: '/account/details' });
    assert.equal(signedIn.statusCode, 302);
    assert.equal(signedIn.headers.location, '/account/details');
    assert.notEqual(sessionCookie(client), before, 'the session id changes at sign-in');
    const details = await client.follow(signedIn);
    assert.equal(details.statusCode, 200);
    assert.match(pageText(details.body), /Your details/);
  });

  test('returnTo never leads off the site', async () => {
    const client = browser(t);
    await client.get('/account/sign-in?returnTo=//evil.example/x');
    const res = await client.post('/account/sign-in', { email: 'sign.in@example.com', password: STRONG_PASSWORD, returnTo: 'https://evil.example/' });
    assert.equal(res.headers.location, '/account');
  });

  test('a wrong password or unknown email gets the same message, and the email answer is kept', async () => {
    const client = browser(t);
    await client.get('/account/sign-in');
    const wrong = await client.post('/account/sign-in', { email: 'sign.in@example.com', password: 'not the right password' });
    assert.equal(wrong.statusCode, 401);
    assert.match(pageText(wrong.body), /There is a problem Enter a correct email address and password/);
    assert.match(wrong.body, /value="sign.in@example.com"/);
    const unknown = await client.post('/account/sign-in', { email: 'nobody@example.com', password: 'not the right password' });
    assert.equal(unknown.statusCode, 401);
    assert.match(pageText(unknown.body), /Enter a correct email address and password/);
    const empty = await client.post('/account/sign-in', { email: '', password: '' });
    assert.match(empty.body, /id="email-error"[\s\S]*?Enter your email address/);
    assert.match(empty.body, /id="password-error"[\s\S]*?Enter your password/);
  });

  test('repeated failures slow down sign-in, then lock it and email the owner', async () => {
    const db = t.platform.database.db;
    // Each attempt from a different address, as a spread-out attack would be: the per-IP limit does not help here.
    const attempt = async (password: string) => {
      const c = browser(t);
      await c.get('/account/sign-in');
      return c.post('/account/sign-in', { email: 'locked.out@example.com', password });
    };
    let last = await attempt('wrong password 0');
    for (let i = 1; i < SIGN_IN_LOCKOUT_THRESHOLD; i++) {
      if (i === 5) {
        const early = await attempt('wrong password early');
        assert.equal(early.statusCode, 429);
        assert.match(pageText(early.body), /Wait \d+ seconds? and try again/);
      }
      // Step past the growing delay between attempts rather than waiting for it.
      await sql`UPDATE residents SET last_failed_sign_in_at = now() - interval '1 minute' WHERE email = 'locked.out@example.com'`.execute(db);
      last = await attempt(`wrong password ${i}`);
    }
    assert.equal(last.statusCode, 423);
    assert.match(pageText(last.body), /too many times. Try again in 15 minutes/);
    const mail = await lastEmailTo(t, 'locked.out@example.com');
    assert.match(mail.subject, /Someone tried to sign in to your Kingsmere Council account/);
    assert.match(mail.body, /15 minutes/);

    // Even the right password is refused while locked.
    const right = await browser(t).get('/account/sign-in');
    assert.equal(right.statusCode, 200);
    const other = browser(t);
    await other.get('/account/sign-in');
    const refused = await other.post('/account/sign-in', { email: 'locked.out@example.com', password: STRONG_PASSWORD });
    assert.equal(refused.statusCode, 423);
    const audit = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE action = 'account.sign-in-locked'`.execute(db);
    assert.equal(audit.rows[0]?.n, 1);

    // Once the lock has passed, the right password works and the count starts again.
    await sql`UPDATE residents SET locked_until = now() - interval '1 second', last_failed_sign_in_at = now() - interval '16 minutes' WHERE email = 'locked.out@example.com'`.execute(
      db,
    );
    const ok = await other.post('/account/sign-in', { email: 'locked.out@example.com', password: STRONG_PASSWORD });
    assert.equal(ok.statusCode, 302);
    const row = await sql<{ failed_sign_ins: number }>`SELECT failed_sign_ins FROM residents WHERE email = 'locked.out@example.com'`.execute(db);
    assert.equal(row.rows[0]?.failed_sign_ins, 0);
  });

  test('an emailed sign-in link works once, and asking gives the same answer for unknown addresses', async () => {
    const client = browser(t);
    await client.get('/account/sign-in/email-link?returnTo=%2Faccount%2Fsecurity');
    const asked = await client.post('/account/sign-in/email-link', { email: 'link.user@example.com', returnTo: '/account/security' });
    assert.equal(asked.statusCode, 200);
    assert.match(pageText(asked.body), /Check your email/);
    await client.get('/account/sign-in/email-link');
    const unknown = await client.post('/account/sign-in/email-link', { email: 'no.account@example.com', returnTo: '/account' });
    assert.equal(unknown.statusCode, 200);
    assert.equal(pageText(unknown.body).replace('no.account@example.com', 'X'), pageText(asked.body).replace('link.user@example.com', 'X'));
    assert.equal((await emailsTo(t, 'no.account@example.com')).length, 0);

    const link = linkIn(await lastEmailTo(t, 'link.user@example.com'), '/account/sign-in/link');
    const before = sessionCookie(client);
    const res = await useLink(client, link);
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/account/security');
    assert.notEqual(sessionCookie(client), before);
    assert.equal((await client.get('/account')).statusCode, 200);

    const second = browser(t);
    const again = await second.get(link);
    assert.equal(again.statusCode, 410);
    assert.match(pageText(again.body), /already been used/);
  });

  test('signing out ends the session', async () => {
    const client = await signIn(t, 'sign.in@example.com');
    const home = await client.get('/account');
    assert.equal(home.statusCode, 200);
    const out = await client.post('/account/sign-out', {});
    assert.equal(out.statusCode, 302);
    assert.equal(out.headers.location, '/account/signed-out');
    assert.equal((await client.get('/account')).statusCode, 302);
  });

  test('signing out of all devices ends every session of the resident', async () => {
    const phone = await signIn(t, 'everywhere@example.com');
    const laptop = await signIn(t, 'everywhere@example.com');
    const bystander = await signIn(t, 'sign.in@example.com');
    assert.ok((await sessionsOf(t, 'everywhere@example.com')) >= 2);
    await laptop.get('/account/security');
    const res = await laptop.post('/account/sign-out-everywhere', {});
    assert.equal(res.statusCode, 200);
    assert.match(pageText(res.body), /You have signed out on all your devices/);
    assert.equal(await sessionsOf(t, 'everywhere@example.com'), 0);
    assert.equal((await phone.get('/account')).statusCode, 302);
    assert.equal((await laptop.get('/account')).statusCode, 302);
    assert.equal((await bystander.get('/account')).statusCode, 200, 'other residents stay signed in');
  });

  test('resetting a forgotten password works once and ends every other session', async () => {
    const elsewhere = await signIn(t, 'forgetful@example.com');
    const client = browser(t);
    await client.get('/account/forgot-password');
    const asked = await client.post('/account/forgot-password', { email: 'forgetful@example.com' });
    assert.match(pageText(asked.body), /Check your email/);
    await client.get('/account/forgot-password');
    const unknown = await client.post('/account/forgot-password', { email: 'ghost@example.com' });
    assert.equal(unknown.statusCode, 200);
    assert.equal((await emailsTo(t, 'ghost@example.com')).length, 0);

    const link = linkIn(await lastEmailTo(t, 'forgetful@example.com'), '/account/reset-password');
    const page = await client.get(link);
    assert.equal(page.statusCode, 200);
    const token = capture(/name="token" value="([^"]+)"/, page.body);
    const weak = await client.post('/account/reset-password', { token, password: 'password1234', confirmPassword: 'password1234' });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.body, /id="password-error"[\s\S]*?Choose a password that is harder to guess/);
    const done = await client.post('/account/reset-password', { token, password: 'a brand new passphrase', confirmPassword: 'a brand new passphrase' });
    assert.equal(done.statusCode, 200);
    assert.match(pageText(done.body), /Your password has been reset/);
    assert.equal((await elsewhere.get('/account')).statusCode, 302, 'signed out elsewhere');
    assert.equal(await sessionsOf(t, 'forgetful@example.com'), 0);

    const reused = await client.get(link);
    assert.equal(reused.statusCode, 410);
    await signIn(t, 'forgetful@example.com', 'a brand new passphrase');
    const old = browser(t);
    await old.get('/account/sign-in');
    assert.equal((await old.post('/account/sign-in', { email: 'forgetful@example.com', password: STRONG_PASSWORD })).statusCode, 401);
  });

  test('sign-in is rate limited per IP address', async () => {
    const client = browser(t);
    await client.get('/account/sign-in');
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await client.post('/account/sign-in', { email: '', password: '' })).statusCode);
    assert.equal(codes.filter((c) => c === 429).length, 1);
    assert.equal(codes.at(-1), 429);
  });
});
