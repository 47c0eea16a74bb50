import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateTotp, TOTP_PERIOD_SECONDS } from '../../src/platform/security/totp.js';
import { useSite, type BoroughPage } from '../support/browser.js';

const site = useSite();

/** The demo staff users of the council the site runs: one per role, sharing a password and an authenticator secret. */
function demoStaff(): { emailDomain: string; password: string; totpSecret: string } {
  const staff = site.server.running.platform.council.demoUsers?.staff;
  assert.ok(staff, 'the demo council has demo staff users');
  return staff;
}

/** Each test signs in as a different demo user: a code's time step can be used once per user. */
const staffEmail = (role: string) => `${role}@${demoStaff().emailDomain}`;

const WRONG_CODE_MESSAGE = 'The code is not correct or has already been used. Wait for a new code and try again';

/** A six-digit code that no step near now produces, so it is wrong whenever it arrives. */
function wrongCode(): string {
  const now = Date.now();
  const near = new Set([-2, -1, 0, 1, 2].map((n) => generateTotp(demoStaff().totpSecret, { now: now + n * TOTP_PERIOD_SECONDS * 1000 })));
  for (let i = 0; ; i++) {
    const candidate = String((123456 + i * 111111) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

async function enterPassword(page: BoroughPage, email: string): Promise<void> {
  await page.visit('/staff/sign-in');
  await page.expectHeading(`Sign in to ${site.server.council.shortName} staff services`);
  await page.fillAndSubmit({ 'Email address': email, Password: demoStaff().password }, 'Continue');
  assert.equal(page.path, '/staff/sign-in/code');
  await page.expectHeading('Enter the code from your authenticator app');
}

async function signInWithCode(page: BoroughPage, role: string, name: string): Promise<string> {
  await enterPassword(page, staffEmail(role));

  await page.fillAndSubmit({ 'Enter the code from your authenticator app': wrongCode() }, 'Sign in');
  assert.equal(page.lastResponse?.status(), 401);
  assert.equal(page.path, '/staff/sign-in/code');
  await page.expectErrorSummary([WRONG_CODE_MESSAGE]);
  assert.equal((await page.page.locator('#code-error').innerText()).replace(/^Error:\s*/, '').trim(), WRONG_CODE_MESSAGE);

  const code = generateTotp(demoStaff().totpSecret);
  await page.fillAndSubmit({ 'Enter the code from your authenticator app': code }, 'Sign in');
  assert.equal(page.path, '/staff');
  assert.equal(page.lastResponse?.status(), 200);
  await page.expectHeading(`Hello, ${name}`);
  assert.ok((await page.page.locator('body').innerText()).includes(`Signed in as ${name}`));
  return code;
}

async function signOut(page: BoroughPage): Promise<void> {
  await page.clickButton('Sign out');
  assert.equal(page.path, '/staff/sign-in');
  await page.expectHeading(`Sign in to ${site.server.council.shortName} staff services`);
  await page.visit('/staff');
  assert.equal(page.path, `/staff/sign-in?returnTo=${encodeURIComponent('/staff')}`);
}

describe('staff sign-in with JavaScript on', () => {
  test('a wrong password is refused without asking for a code', async () => {
    const page = await site.newPage({ javaScript: true });
    await page.visit('/staff/sign-in');
    await page.fillAndSubmit({ 'Email address': staffEmail('manager'), Password: 'not the staff password' }, 'Continue');
    assert.equal(page.lastResponse?.status(), 401);
    assert.equal(page.path, '/staff/sign-in');
    await page.expectErrorSummary(['Enter a correct email address and password']);
    assert.equal(await page.page.locator('input#email').inputValue(), staffEmail('manager'), 'the email address is kept');
    assert.equal(await page.page.locator('input#password').inputValue(), '', 'the password is not sent back');
    await page.visit('/staff/sign-in/code');
    assert.equal(page.path, '/staff/sign-in', 'the code page needs a checked password first');
    await page.close();
    page.expectNoScriptProblems();
  });

  test('password, then a wrong code is refused, then the right code opens staff services; signing out ends it', async () => {
    const page = await site.newPage({ javaScript: true });
    const code = await signInWithCode(page, 'case-officer', 'Demo case officer');
    await signOut(page);

    // The code just used cannot sign in again.
    await enterPassword(page, staffEmail('case-officer'));
    await page.fillAndSubmit({ 'Enter the code from your authenticator app': code }, 'Sign in');
    assert.equal(page.lastResponse?.status(), 401);
    await page.expectErrorSummary([WRONG_CODE_MESSAGE]);
    await page.close();
    page.expectNoScriptProblems();
  });
});

describe('staff sign-in with JavaScript off', () => {
  test('password, then a wrong code is refused, then the right code opens staff services; signing out ends it', async () => {
    const page = await site.newPage({ javaScript: false });
    await signInWithCode(page, 'team-leader', 'Demo team leader');
    await signOut(page);
    await page.close();
  });
});
