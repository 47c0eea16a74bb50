import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { signToken } from '#platform/security/tokens';
import { createTestApp, pageText, type TestApp } from '../../../../test/support/app.js';
import { browser, capture, emailsTo, lastEmailTo, linkIn, one, registerResident, sessionCookie, STRONG_PASSWORD, useLink } from './test-helpers.js';

describe('resident registration', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  test('registering, confirming the email address by the emailed link, and landing signed in', async () => {
    const client = browser(t);
    const form = await client.get('/account/register');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /name="_csrf"/);
    const res = await client.post('/account/register', { email: 'new.resident@example.com', password: STRONG_PASSWORD, confirmPassword: STRONG_PASSWORD });
    assert.equal(res.statusCode, 200);
    assert.match(pageText(res.body), /Check your email/);

    const mail = await lastEmailTo(t, 'new.resident@example.com');
    assert.match(mail.subject, /Confirm your email address/);
    const link = linkIn(mail, '/account/confirm-email');
    assert.ok(mail.body.includes(`${t.config.baseUrl}/account/confirm-email?token=`));

    const before = sessionCookie(client);
    const confirmed = await useLink(client, link);
    assert.equal(confirmed.statusCode, 302);
    assert.equal(confirmed.headers.location, '/account');
    assert.notEqual(sessionCookie(client), before);
    const home = await client.follow(confirmed);
    assert.equal(home.statusCode, 200);
    assert.match(pageText(home.body), /Your email address is confirmed/);
    assert.match(pageText(home.body), /You have not reported, applied for or booked anything yet/);

    const audit = await sql<{ action: string; details: unknown }>`SELECT action, details FROM audit_events WHERE subject_type = 'resident' ORDER BY id`.execute(
      t.platform.database.db,
    );
    const actions = audit.rows.map((r) => r.action);
    assert.ok(actions.includes('account.registered'));
    assert.ok(actions.includes('account.email-verified'));
    assert.ok(!JSON.stringify(audit.rows).includes('new.resident@example.com'), 'no email address in the audit log');

    // The confirmation link works once.
    const again = await client.get(link);
    assert.equal(again.statusCode, 410);
    assert.match(pageText(again.body), /already been used/);
  });

  test('registering with an email address that has an account gives the same answer and tells the owner', async () => {
    await registerResident(t, 'taken@example.com');
    const client = browser(t);
    await client.get('/account/register');
    const res = await client.post('/account/register', {
      email: 'Taken@example.com',
      password: 'another long passphrase',
      confirmPassword: 'another long passphrase',
    });
    assert.equal(res.statusCode, 200);
    assert.match(pageText(res.body), /Check your email/);
    const mail = await lastEmailTo(t, 'taken@example.com');
    assert.match(mail.subject, /You already have a Kingsmere Council account/);
    assert.match(mail.body, /reset it/);
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM residents WHERE email = 'taken@example.com'`.execute(t.platform.database.db);
    assert.equal(count.rows[0]?.n, 1);
  });

  for (const [password, message] of [
    ['short', 'Password must be 10 characters or more'],
    ['password123', 'Choose a password that is harder to guess'],
    ['', 'Enter a password'],
    ['weak.person@example.com!', 'Choose a password that is harder to guess'],
  ] as const) {
    test(`a password like "${password}" is refused with "${message}" in the summary and by the field`, async () => {
      const client = browser(t);
      await client.get('/account/register');
      const res = await client.post('/account/register', { email: 'weak.person@example.com', password, confirmPassword: password });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /govuk-error-summary/);
      const summary = /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(res.body)?.[0] ?? '';
      assert.ok(summary.includes(message), 'message in the error summary');
      assert.ok(summary.includes('href="#password"'), 'summary links to the field');
      assert.match(res.body, new RegExp(`id="password-error"[\\s\\S]*?${message}`));
      assert.match(res.body, /value="weak.person@example.com"/, 'the email answer is kept');
      assert.match(res.body, /<title>Error: /);
      assert.equal((await emailsTo(t, 'weak.person@example.com')).length, 0);
    });
  }

  test('mismatched confirmation and a badly formed email address are shown by their fields', async () => {
    const client = browser(t);
    await client.get('/account/register');
    const res = await client.post('/account/register', { email: 'not-an-email', password: STRONG_PASSWORD, confirmPassword: 'something else entirely' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /id="email-error"[\s\S]*?Enter an email address in the correct format/);
    assert.match(res.body, /id="confirmPassword-error"[\s\S]*?Passwords must match/);
    assert.match(res.body, /value="not-an-email"/);
  });

  test('an unconfirmed account cannot sign in with its password, and can ask for a new link', async () => {
    const client = browser(t);
    await client.get('/account/register');
    await client.post('/account/register', { email: 'unconfirmed@example.com', password: STRONG_PASSWORD, confirmPassword: STRONG_PASSWORD });
    await client.get('/account/sign-in');
    const res = await client.post('/account/sign-in', { email: 'unconfirmed@example.com', password: STRONG_PASSWORD });
    assert.equal(res.statusCode, 403);
    assert.match(pageText(res.body), /Confirm your email address first/);
    assert.equal((await client.get('/account')).statusCode, 302, 'not signed in');

    await client.get('/account/sign-in');
    const resend = await client.post('/account/confirm-email/resend', { email: 'unconfirmed@example.com' });
    assert.equal(resend.statusCode, 200);
    const mails = await emailsTo(t, 'unconfirmed@example.com');
    assert.equal(mails.length, 2);
    const confirmed = await useLink(client, linkIn(await lastEmailTo(t, 'unconfirmed@example.com'), '/account/confirm-email'));
    assert.equal(confirmed.statusCode, 302);
    assert.equal((await client.get('/account')).statusCode, 200);
  });

  test('forged, expired and wrong-purpose links are refused', async () => {
    const client = browser(t);
    const { id } = one((await sql<{ id: string }>`SELECT id FROM residents ORDER BY created_at LIMIT 1`.execute(t.platform.database.db)).rows);
    const forged = signToken('a different secret of enough length', {
      purpose: 'verify-email',
      subject: id,
      expiresAt: Date.now() + 60_000,
      data: { kind: 'register', email: 'x@example.com' },
    });
    const expired = signToken(t.config.sessionSecret, { purpose: 'sign-in-link', subject: id, expiresAt: Date.now() - 1000 });
    const wrongPurpose = signToken(t.config.sessionSecret, { purpose: 'reset-password', subject: id, expiresAt: Date.now() + 60_000 });

    const r1 = await client.get(`/account/confirm-email?token=${encodeURIComponent(forged)}`);
    assert.equal(r1.statusCode, 400);
    assert.match(pageText(r1.body), /The link does not work/);
    const r2 = await client.get(`/account/sign-in/link?token=${encodeURIComponent(expired)}`);
    assert.equal(r2.statusCode, 410);
    assert.match(pageText(r2.body), /expired/);
    const r3 = await client.get(`/account/sign-in/link?token=${encodeURIComponent(wrongPurpose)}`);
    assert.equal(r3.statusCode, 400);
    // Posting a forged token straight to the form does not sign anyone in.
    await client.get('/account/sign-in');
    const r4 = await client.post('/account/sign-in/link', { token: forged });
    assert.equal(r4.statusCode, 400);
    assert.equal((await client.get('/account')).statusCode, 302);
    const r5 = await client.get('/account/reset-password?token=nonsense');
    assert.equal(r5.statusCode, 400);
  });

  test('a form posted without its CSRF token is refused', async () => {
    const client = browser(t);
    await client.get('/account/register');
    const res = await client.post(
      '/account/register',
      { email: 'csrf@example.com', password: STRONG_PASSWORD, confirmPassword: STRONG_PASSWORD },
      { csrf: false },
    );
    assert.equal(res.statusCode, 403);
    const wrong = await client.post('/account/sign-in', { email: 'csrf@example.com', password: STRONG_PASSWORD }, { csrf: 'forged-token' });
    assert.equal(wrong.statusCode, 403);
    assert.equal((await emailsTo(t, 'csrf@example.com')).length, 0);
  });

  test('registration is rate limited per IP address', async () => {
    const client = browser(t);
    await client.get('/account/register');
    const token = capture(/name="_csrf" value="([^"]+)"/, (await client.get('/account/register')).body);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await client.post('/account/register', { email: 'limit@example.com', password: '', confirmPassword: '' }, { csrf: token })).statusCode);
    assert.deepEqual(codes, [400, 400, 400, 400, 400, 429]);
  });
});
