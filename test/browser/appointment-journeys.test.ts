import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useSite, type BoroughPage } from '../support/browser.js';

/**
 * Booking a recycling centre visit in Chromium, with an accessibility audit of every page: with
 * JavaScript on and off, from the list of appointments to the confirmation; then cancelling it
 * from the link in the confirmation email.
 */

const site = useSite();

/** From the list of appointments to the page of times for the recycling centre. */
async function toTimes(page: BoroughPage): Promise<void> {
  await page.visit('/appointments');
  await page.expectHeading('Book an appointment');
  await page.clickLink('Book a visit to the recycling centre');
  await page.expectHeading('Book a visit to the recycling centre');
  await page.clickButton('Start now');
  await page.expectHeading('Choose a time');
  assert.match(await page.text(), /\d+ places left/);
}

/** Your details (first with nothing filled in), check your answers, confirm; returns the reference. */
async function finish(page: BoroughPage, name: string, email: string): Promise<string> {
  assert.match(page.path, /^\/appointments\/booking\/[0-9a-f-]+\/details$/);
  await page.expectHeading('Your details');
  assert.match(await page.text(), /We are holding this time for you until \d{1,2}(:\d{2})?(am|pm)\./);
  await page.submit('Continue');
  await page.expectErrorSummary([
    'Enter your full name',
    'Enter your email address',
    'Enter vehicle registration number',
    'Select what vehicle are you coming in',
  ]);
  await page.fillAndSubmit(
    { 'Full name': name, 'Email address': email, 'Vehicle registration number': 'KM21 ABC', 'What vehicle are you coming in?': 'Car with a small trailer' },
    'Continue',
  );
  assert.match(page.path, /\/check$/);
  await page.expectHeading('Check your answers before booking');
  const answers = await page.text();
  for (const expected of [name, email, 'KM21 ABC', 'Car with a small trailer']) assert.ok(answers.includes(expected), `check your answers shows ${expected}`);
  await page.clickButton('Confirm booking');
  assert.match(page.path, /\/confirmation$/);
  await page.expectHeading('Appointment booked');
  const reference = (await page.page.locator('.govuk-panel__body strong').innerText()).trim();
  assert.match(reference, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  assert.ok((await page.text()).includes(`We have sent a confirmation email to ${email}`));

  const href = await page.page.getByRole('link', { name: 'Download the appointment for your calendar' }).getAttribute('href');
  assert.ok(href);
  const calendar = await page.context.request.get(href);
  assert.equal(calendar.headers()['content-type'], 'text/calendar; charset=utf-8');
  assert.match(await calendar.text(), new RegExp(`Reference: ${reference}`));
  page.expectNoScriptProblems();
  return reference;
}

describe('booking an appointment in the browser, with axe on every page', () => {
  test('JavaScript on: a recycling centre visit from the next available times, then cancelled from the email', async () => {
    const page = await site.newPage({ javaScript: true });
    await toTimes(page);
    await page.submit('Continue');
    await page.expectErrorSummary(['Select a time']);
    await page.page.locator('input[name="start"]').nth(2).check();
    await page.submit('Continue');
    const email = 'jo.javascript@example.com';
    const reference = await finish(page, 'Jo Javascript', email);

    const message = await site.server.waitForEmail(email, { subject: /^Your appointment is booked/ });
    assert.ok(message.body.includes(reference));
    await page.visit(site.server.linkIn(message, /^\/appointments\/manage\//));
    await page.expectHeading('Your appointment');
    assert.ok((await page.text()).includes(reference));
    await page.clickButton('Cancel appointment');
    await page.expectHeading('Are you sure you want to cancel your appointment?');
    await page.fillAndSubmit({ 'Why are you cancelling? (optional)': 'My plans changed' }, 'Yes, cancel appointment');
    await page.expectHeading('Appointment cancelled');
    await site.server.waitForEmail(email, { subject: /^Your appointment is cancelled/ });
    const booking = await site.server.running.services.appointments.service.repo.byReference(
      site.server.running.services.appointments.service.repo.db,
      reference,
    );
    assert.equal(booking?.status, 'cancelled');
    assert.equal(booking.cancel_reason, 'My plans changed');
    page.expectNoScriptProblems();
    await page.close();
  });

  test('JavaScript off: a recycling centre visit on another date', async () => {
    const page = await site.newPage({ javaScript: false });
    await toTimes(page);
    const dates = page.page.locator('#dates a');
    assert.ok((await dates.count()) > 2, 'other dates are listed');
    const day = (await dates.nth(2).innerText()).trim();
    await page.clickLink(day, page.page.locator('#dates'));
    await page.expectHeading('Choose a time');
    assert.ok((await page.text()).includes(`Times on ${day}`));
    await page.page.locator('input[name="start"]').nth(4).check();
    await page.submit('Continue');
    const reference = await finish(page, 'Nat Noscript', 'nat.noscript@example.com');
    const message = await site.server.waitForEmail('nat.noscript@example.com', { subject: /^Your appointment is booked/ });
    assert.ok(message.body.includes(reference));
    assert.ok(message.subject?.includes(day), 'booked on the day chosen');
    await page.close();
  });
});
