import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useSite, type BoroughPage } from '../support/browser.js';

const site = useSite();

const STRONG_PASSWORD = 'lantern meadow cobalt';
const NEW_PASSWORD = 'harbour violet gravel';
const EMPTY_ACTIVITY = 'You have not reported, applied for or booked anything yet.';

const council = () => site.server.council.shortName;
const subjects = {
  confirm: () => `Confirm your email address for your ${council()} account`,
  signIn: () => `Sign in to your ${council()} account`,
  reset: () => `Reset your ${council()} account password`,
};

/** A resident with a confirmed email address, made through the account service rather than the browser. */
async function confirmedResident(email: string, password = STRONG_PASSWORD): Promise<{ email: string; password: string }> {
  const residents = site.server.running.services.account.residents;
  const meta = { requestId: `browser-test-${email}` };
  const since = new Date();
  const registered = await residents.register({ email, password, confirmPassword: password }, meta);
  assert.ok(registered.ok, `could not register ${email}`);
  const message = await site.server.waitForEmail(email, { since, subject: subjects.confirm() });
  const token = new URL(site.server.linkIn(message, /confirm-email/)).searchParams.get('token') ?? '';
  const confirmed = await residents.confirmEmail(token, meta);
  assert.ok(confirmed.ok, `could not confirm ${email}`);
  return { email, password };
}

async function inputValue(page: BoroughPage, id: string): Promise<string> {
  return page.page.locator(`input#${id}`).inputValue();
}

async function expectSignInPage(page: BoroughPage, returnTo = '/account'): Promise<void> {
  assert.equal(page.path, `/account/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
  await page.expectHeading('Sign in to your account');
  assert.equal(await page.page.locator('input[name="returnTo"]').inputValue(), returnTo);
}

async function expectActivityPage(page: BoroughPage, who: string): Promise<void> {
  assert.equal(page.path, '/account');
  assert.equal(page.lastResponse?.status(), 200);
  await page.expectHeading('Your council activity');
  assert.equal((await page.page.locator('main .govuk-caption-l').innerText()).trim(), who);
  assert.ok((await page.text()).includes(EMPTY_ACTIVITY), 'the empty state is shown');
  const current = page.page.getByRole('navigation', { name: 'Your account' }).locator('a[aria-current="page"]');
  assert.equal((await current.innerText()).trim(), 'Your council activity');
}

async function signOut(page: BoroughPage): Promise<void> {
  await page.clickButton('Sign out');
  assert.equal(page.path, '/account/signed-out');
  await page.expectHeading('You have signed out');
  await page.visit('/account');
  await expectSignInPage(page);
}

// ---------------------------------------------------------------------------------------------
// Journeys, each in a fresh browser context

async function registerAndConfirm(page: BoroughPage, email: string, weak: { password: string; message: string }): Promise<void> {
  await page.visit('/account/register');
  await page.expectHeading('Create an account');

  await page.fillAndSubmit({ 'Email address': email, 'Create a password': weak.password, 'Confirm password': weak.password }, 'Create account');
  assert.equal(page.lastResponse?.status(), 400);
  await page.expectErrorSummary([weak.message]);
  assert.equal((await page.page.locator('#password-error').innerText()).replace(/^Error:\s*/, '').trim(), weak.message);
  assert.equal(await inputValue(page, 'email'), email, 'the email address is kept');
  assert.equal(await inputValue(page, 'password'), '', 'the rejected password is not sent back');
  assert.equal(await site.server.latestEmail(email), undefined, 'no email is sent for a rejected registration');

  const since = new Date();
  await page.fillAndSubmit({ 'Create a password': STRONG_PASSWORD, 'Confirm password': STRONG_PASSWORD }, 'Create account');
  await page.expectNoErrorSummary();
  await page.expectHeading('Check your email');
  assert.ok((await page.text()).includes(`We have sent an email to ${email}.`));

  const message = await site.server.waitForEmail(email, { since, subject: subjects.confirm() });
  await page.visit(site.server.linkIn(message, /^\/account\/confirm-email\?token=/));
  await page.expectHeading('Confirm your email address');
  await page.clickButton('Confirm email address');

  // Confirming the address signs the new resident in.
  await expectActivityPage(page, email);
  const banner = page.page.locator('.govuk-notification-banner--success');
  assert.ok((await banner.innerText()).includes('Your email address is confirmed and your account is ready.'));

  // The confirmation link works once.
  await page.visit(site.server.linkIn(message, /^\/account\/confirm-email\?token=/));
  assert.equal(page.lastResponse?.status(), 410);
  await page.expectHeading('The link does not work');
}

async function signInWithPassword(page: BoroughPage, resident: { email: string; password: string }): Promise<void> {
  await page.visit('/account/sign-in');
  await page.expectHeading('Sign in to your account');

  await page.fillAndSubmit({ 'Email address': resident.email, Password: 'not the right password' }, 'Sign in');
  assert.equal(page.lastResponse?.status(), 401);
  await page.expectErrorSummary(['Enter a correct email address and password']);
  assert.equal(await inputValue(page, 'email'), resident.email, 'the email address is kept');
  assert.equal(await inputValue(page, 'password'), '', 'the password is not sent back');

  await page.fillAndSubmit({ Password: resident.password }, 'Sign in');
  await expectActivityPage(page, resident.email);
}

async function resetPassword(page: BoroughPage, resident: { email: string; password: string }): Promise<void> {
  await page.visit('/account/sign-in');
  await page.clickLink('I have forgotten my password');
  assert.equal(page.path, '/account/forgot-password');
  await page.expectHeading('Reset your password');

  const since = new Date();
  await page.fillAndSubmit({ 'Email address': resident.email }, 'Send me a link');
  await page.expectHeading('Check your email');
  assert.ok((await page.text()).includes(`If ${resident.email} has an account, we have sent it an email with a link to reset your password.`));

  const message = await site.server.waitForEmail(resident.email, { since, subject: subjects.reset() });
  const link = site.server.linkIn(message, /^\/account\/reset-password\?token=/);
  await page.visit(link);
  await page.expectHeading('Choose a new password');

  await page.fillAndSubmit({ 'New password': NEW_PASSWORD, 'Confirm new password': `${NEW_PASSWORD}s` }, 'Reset password');
  assert.equal(page.lastResponse?.status(), 400);
  await page.expectErrorSummary(['Passwords must match']);

  await page.fillAndSubmit({ 'New password': NEW_PASSWORD, 'Confirm new password': NEW_PASSWORD }, 'Reset password');
  await page.expectHeading('Your password has been reset');
  assert.ok((await page.text()).includes('You have been signed out on all your devices.'));

  await page.clickLink('Sign in with your new password');
  assert.equal(page.path, '/account/sign-in');
  await page.fillAndSubmit({ 'Email address': resident.email, Password: NEW_PASSWORD }, 'Sign in');
  await expectActivityPage(page, resident.email);

  // The reset link works once.
  await page.visit(link);
  assert.equal(page.lastResponse?.status(), 410);
  await page.expectHeading('The link does not work');
}

// ---------------------------------------------------------------------------------------------

describe('resident account journeys with JavaScript on', () => {
  test('registering: a weak password is explained, then the emailed link confirms the address and opens the account', async () => {
    const page = await site.newPage({ javaScript: true });
    await registerAndConfirm(page, 'new.resident@example.com', { password: 'short', message: 'Password must be 10 characters or more' });
    await page.close();
    page.expectNoScriptProblems();
  });

  test('signing in with a password: a wrong password is refused, the right one opens the account, then signing out', async () => {
    const resident = await confirmedResident('password.resident@example.com');
    const page = await site.newPage({ javaScript: true });
    await signInWithPassword(page, resident);
    await signOut(page);
    await page.close();
    page.expectNoScriptProblems();
  });

  test('signing in with a one-time link sent by email', async () => {
    const resident = await confirmedResident('link.resident@example.com');
    const page = await site.newPage({ javaScript: true });
    await page.visit('/account/sign-in');
    await page.clickLink('email you a link to sign in');
    assert.equal(page.path, `/account/sign-in/email-link?returnTo=${encodeURIComponent('/account')}`);
    await page.expectHeading('Get a link to sign in');

    await page.fillAndSubmit({ 'Email address': 'not an email address' }, 'Send me a link');
    assert.equal(page.lastResponse?.status(), 400);
    const [emailProblem] = await page.page.locator('.govuk-error-summary__list a').allInnerTexts();
    assert.ok(emailProblem, 'an invalid address is explained');
    await page.expectErrorSummary([emailProblem.trim()]);

    const since = new Date();
    await page.fillAndSubmit({ 'Email address': resident.email }, 'Send me a link');
    await page.expectHeading('Check your email');
    assert.ok((await page.text()).includes(`If ${resident.email} has an account, we have sent it an email with a link to sign in.`));

    const message = await site.server.waitForEmail(resident.email, { since, subject: subjects.signIn() });
    const link = site.server.linkIn(message, /^\/account\/sign-in\/link\?token=/);
    await page.visit(link);
    await page.expectHeading('Sign in to your account');
    await page.clickButton('Sign in');
    await expectActivityPage(page, resident.email);

    // The link works once.
    await page.visit(link);
    assert.equal(page.lastResponse?.status(), 410);
    await page.expectHeading('The link does not work');
    assert.ok((await page.text()).includes('The link has already been used.'));
    await page.close();
    page.expectNoScriptProblems();
  });

  test('resetting a forgotten password with the emailed link, then signing in with the new password', async () => {
    const resident = await confirmedResident('reset.resident@example.com');
    const page = await site.newPage({ javaScript: true });
    await resetPassword(page, resident);
    await page.close();
    page.expectNoScriptProblems();
  });

  test('the account page asks a signed-out visitor to sign in, then returns them to it', async () => {
    const resident = await confirmedResident('return.resident@example.com');
    const page = await site.newPage({ javaScript: true });
    await page.visit('/account');
    await expectSignInPage(page);
    await page.fillAndSubmit({ 'Email address': resident.email, Password: resident.password }, 'Sign in');
    await expectActivityPage(page, resident.email);
    await page.close();
    page.expectNoScriptProblems();
  });
});

describe('resident account journeys with JavaScript off', () => {
  test('registering: a common password is explained, then the emailed link confirms the address and opens the account', async () => {
    const page = await site.newPage({ javaScript: false });
    await registerAndConfirm(page, 'plain.resident@example.com', { password: 'password123', message: 'Choose a password that is harder to guess' });
    const enhanced = await page.page.evaluate(() => document.body.classList.contains('govuk-frontend-supported'));
    assert.equal(enhanced, false, 'no script ran');
    await page.close();
  });

  test('signing in with a password: a wrong password is refused, the right one opens the account, then signing out', async () => {
    const resident = await confirmedResident('plain.password@example.com');
    const page = await site.newPage({ javaScript: false });
    await signInWithPassword(page, resident);
    await signOut(page);
    await page.close();
  });

  test('resetting a forgotten password with the emailed link, then signing in with the new password', async () => {
    const resident = await confirmedResident('plain.reset@example.com');
    const page = await site.newPage({ javaScript: false });
    await resetPassword(page, resident);
    await page.close();
  });
});
