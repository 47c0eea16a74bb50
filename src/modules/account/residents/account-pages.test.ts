import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp } from '../../../../test/support/app.js';
import { browser, emailsTo, lastEmailTo, linkIn, one, registerResident, signIn, STRONG_PASSWORD, useLink } from './test-helpers.js';

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('the signed-in resident account', () => {
  let t: TestApp;
  const deletedFor: string[] = [];
  before(async () => {
    t = await createTestApp();
    t.services.account.activity.register({
      heading: 'Your reports',
      async listForResident(residentId) {
        const r = await sql<{ email: string }>`SELECT email FROM residents WHERE id = ${residentId}`.execute(t.platform.database.db);
        if (r.rows[0]?.email !== 'busy@example.com') return [];
        return [
          {
            kind: 'report',
            title: 'Streetlight not working',
            reference: 'KM4X7P2Q',
            status: 'In progress',
            updatedAt: new Date('2026-11-20T10:00:00Z'),
            href: '/reports/KM4X7P2Q',
          },
        ];
      },
      async exportForResident(residentId) {
        return { residentId, reports: ['KM4X7P2Q'] };
      },
      async onResidentDeleted(residentId) {
        deletedFor.push(residentId);
      },
    });
  });
  after(async () => {
    await t.close();
  });

  test('"Your council activity" has a clear empty state and the account navigation', async () => {
    const client = await registerResident(t, 'quiet@example.com');
    const res = await client.get('/account');
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Your council activity/);
    assert.match(text, /You have not reported, applied for or booked anything yet/);
    for (const item of ['Your details', 'Sign-in and security', 'Your data']) assert.ok(text.includes(item), item);
    assert.match(res.body, /href="\/account" aria-current="page"/);
  });

  test('"Your council activity" lists what each capability says the resident has', async () => {
    const client = await registerResident(t, 'busy@example.com');
    const text = pageText((await client.get('/account')).body);
    assert.match(text, /Your reports/);
    assert.match(text, /Streetlight not working KM4X7P2Q In progress 20 November 2026/);
    assert.doesNotMatch(text, /You have not reported/);
  });

  test('changing name, phone and contact preferences, with errors kept by their fields', async () => {
    const client = await registerResident(t, 'details@example.com');
    await client.get('/account/details/change');
    const bad = await client.post('/account/details/change', { name: 'Alex Jones', phone: '12345', contact: ['email', 'sms'] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="phone-error"[\s\S]*?Enter a UK phone number/);
    assert.match(bad.body, /value="Alex Jones"/);
    assert.match(bad.body, /value="12345"/);
    const smsWithoutPhone = await client.post('/account/details/change', { name: 'Alex Jones', phone: '', contact: ['sms'] });
    assert.match(smsWithoutPhone.body, /id="phone-error"[\s\S]*?Enter a mobile phone number to get text messages/);
    const landlineSms = await client.post('/account/details/change', { name: 'Alex Jones', phone: '0161 496 0000', contact: ['sms'] });
    assert.equal(landlineSms.statusCode, 400);
    const ok = await client.post('/account/details/change', { name: 'Alex Jones', phone: '+44 7700 900982', contact: ['email', 'sms'] });
    assert.equal(ok.statusCode, 302);
    const page = pageText((await client.follow(ok)).body);
    assert.match(page, /Your details have been updated/);
    assert.match(page, /Full name Alex Jones/);
    assert.match(page, /Phone number \+44 7700 900982/);
    assert.match(page, /How we contact you Email and text message/);
  });

  test('entering an address by hand', async () => {
    const client = await registerResident(t, 'manual@example.com');
    const lookup = await client.get('/account/details/address?postcode=NOT+A+POSTCODE');
    assert.equal(lookup.statusCode, 400);
    assert.match(lookup.body, /id="postcode-error"[\s\S]*?Enter a real postcode/);
    const none = await client.get('/account/details/address?postcode=SW1A+1AA');
    assert.equal(none.statusCode, 200);
    assert.match(pageText(none.body), /We could not find any addresses for SW1A 1AA/);
    assert.match(none.body, /href="\/account\/details\/address\/manual\?postcode=SW1A%201AA"/);

    await client.get('/account/details/address/manual?postcode=SW1A%201AA');
    const bad = await client.post('/account/details/address/manual', { addressLine1: '', addressLine2: '', town: 'London', postcode: 'SW1A 1AA' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="addressLine1-error"[\s\S]*?Enter address line 1/);
    assert.match(bad.body, /value="London"/);
    const ok = await client.post('/account/details/address/manual', {
      addressLine1: 'Flat 2, 10 Downing Street',
      addressLine2: '',
      town: 'London',
      postcode: 'sw1a1aa',
    });
    assert.equal(ok.statusCode, 302);
    const page = pageText((await client.follow(ok)).body);
    assert.match(page, /Address Flat 2, 10 Downing Street London SW1A 1AA/);
  });

  test('changing the email address is confirmed from the new address, and the old one is told', async () => {
    const client = await registerResident(t, 'old.address@example.com');
    await client.get('/account/security/email');
    const wrong = await client.post('/account/security/email', { email: 'new.address@example.com', password: 'not my password' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /id="password-error"[\s\S]*?Your password is incorrect/);
    assert.match(wrong.body, /value="new.address@example.com"/);
    const res = await client.post('/account/security/email', { email: 'new.address@example.com', password: STRONG_PASSWORD });
    assert.equal(res.statusCode, 200);
    assert.match(pageText(res.body), /Check your email/);
    const still = await sql<{ email: string }>`SELECT email FROM residents WHERE email = 'old.address@example.com'`.execute(t.platform.database.db);
    assert.equal(still.rows.length, 1, 'unchanged until confirmed');

    const link = linkIn(await lastEmailTo(t, 'new.address@example.com'), '/account/confirm-email');
    const done = await useLink(client, link);
    assert.equal(done.statusCode, 302);
    const security = pageText((await client.follow(done)).body);
    assert.match(security, /Your email address has been changed/);
    assert.match(security, /Email address new.address@example.com/);
    const told = await lastEmailTo(t, 'old.address@example.com');
    assert.match(told.subject, /email address for your Kingsmere Council account has been changed/);
    await signIn(t, 'new.address@example.com');

    // An address that already has an account is not taken over, and its owner is told.
    const other = await registerResident(t, 'second@example.com');
    await other.get('/account/security/email');
    const taken = await other.post('/account/security/email', { email: 'new.address@example.com', password: STRONG_PASSWORD });
    assert.equal(taken.statusCode, 200);
    assert.match((await lastEmailTo(t, 'new.address@example.com')).subject, /already used/);
  });

  test('changing the password needs the current one and ends other sessions', async () => {
    const here = await registerResident(t, 'changer@example.com');
    const there = await signIn(t, 'changer@example.com');
    await here.get('/account/security/password');
    const bad = await here.post('/account/security/password', { currentPassword: 'wrong', password: 'qwertyuiop', confirmPassword: 'qwertyuiop' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /id="currentPassword-error"[\s\S]*?Your current password is incorrect/);
    assert.match(bad.body, /id="password-error"[\s\S]*?Choose a password that is harder to guess/);
    const ok = await here.post('/account/security/password', {
      currentPassword: STRONG_PASSWORD,
      password: 'plum tractor lantern ocean',
      confirmPassword: 'plum tractor lantern ocean',
    });
    assert.equal(ok.statusCode, 302);
    assert.equal((await here.get('/account')).statusCode, 200, 'still signed in here');
    assert.equal((await there.get('/account')).statusCode, 302, 'signed out elsewhere');
    assert.match((await lastEmailTo(t, 'changer@example.com')).subject, /password has been changed/);
    await signIn(t, 'changer@example.com', 'plum tractor lantern ocean');
  });

  test("downloading my data gives a JSON file with the profile and each capability's export", async () => {
    const client = await registerResident(t, 'busy.download@example.com');
    const res = await client.get('/account/your-data/download');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="your-account-data-\d{4}-\d{2}-\d{2}\.json"$/);
    const data = JSON.parse(res.body) as { account: { email: string; id: string }; activity: Record<string, { residentId: string }> };
    assert.equal(data.account.email, 'busy.download@example.com');
    assert.equal(data.activity['Your reports']?.residentId, data.account.id);
    assert.ok(!('password_hash' in data.account) && !res.body.includes('argon2'), 'no password hash');
  });

  test('deleting the account needs the password, tells capabilities, ends sessions and is audited', async () => {
    const client = await registerResident(t, 'leaver@example.com');
    const other = await signIn(t, 'leaver@example.com');
    const page = await client.get('/account/your-data/delete');
    const text = pageText(page.body);
    for (const kept of t.platform.council.profile.accounts.deletedAccountKept) assert.ok(text.includes(kept), kept);
    const wrong = await client.post('/account/your-data/delete', { password: 'not it' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /id="password-error"[\s\S]*?Your password is incorrect/);
    const { id } = one((await sql<{ id: string }>`SELECT id FROM residents WHERE email = 'leaver@example.com'`.execute(t.platform.database.db)).rows);
    const res = await client.post('/account/your-data/delete', { password: STRONG_PASSWORD });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/account/deleted');
    assert.match(pageText((await client.follow(res)).body), /Your account has been deleted/);
    assert.deepEqual(deletedFor, [id]);
    assert.equal((await sql`SELECT 1 FROM residents WHERE id = ${id}`.execute(t.platform.database.db)).rows.length, 0);
    assert.equal((await sql`SELECT 1 FROM sessions WHERE user_id = ${id}`.execute(t.platform.database.db)).rows.length, 0);
    assert.equal((await other.get('/account')).statusCode, 302);
    const audit = await sql<{
      actor_id: string;
      details: unknown;
    }>`SELECT actor_id, details FROM audit_events WHERE action = 'account.deleted' AND subject_id = ${id}`.execute(t.platform.database.db);
    assert.equal(audit.rows.length, 1);
    assert.ok(!JSON.stringify(audit.rows).includes('leaver@'));
    assert.match((await lastEmailTo(t, 'leaver@example.com')).subject, /has been deleted/);
    const again = browser(t);
    await again.get('/account/sign-in');
    assert.equal((await again.post('/account/sign-in', { email: 'leaver@example.com', password: STRONG_PASSWORD })).statusCode, 401);
  });

  test('an account without a password confirms deletion with a checkbox', async () => {
    const client = await registerResident(t, 'linkonly@example.com');
    await sql`UPDATE residents SET password_hash = NULL WHERE email = 'linkonly@example.com'`.execute(t.platform.database.db);
    const page = await client.get('/account/your-data/delete');
    assert.doesNotMatch(page.body, /name="password"/);
    const missing = await client.post('/account/your-data/delete', {});
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /id="confirm-error"/);
    const res = await client.post('/account/your-data/delete', { confirm: 'yes' }, { csrf: csrfOf(missing.body) });
    assert.equal(res.statusCode, 302);
    assert.equal((await emailsTo(t, 'linkonly@example.com')).at(-1)?.subject.includes('deleted'), true);
  });
});
