import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localToInstant, parseCalendarDate, ukDay, UK_TIME_ZONE } from '#platform/council/dates';
import { staffSignsIn, useSite } from '../support/browser.js';

/**
 * Staff appointment pages in Chromium, with an accessibility audit of every page: a case officer
 * opens today's calendar, opens a booking and marks the caller as arrived; then, without
 * JavaScript, a team leader books for a caller on the phone, blocks out time, and looks at feeds
 * and utilisation.
 */

const site = useSite();

/**
 * A booking for earlier today, put straight into the database: whatever the time the test runs,
 * the normal rules would only allow booking times still to come.
 */
async function bookedToday(name: string): Promise<{ id: string; reference: string }> {
  const { service } = site.server.running.services.appointments;
  const today = parseCalendarDate(ukDay()) ?? 0;
  const start = localToInstant(today, 9 * 60, UK_TIME_ZONE);
  const reference = `T${Math.random().toString(36).slice(2, 5).toUpperCase().padEnd(3, '0')}-${Math.random().toString(36).slice(2, 6).toUpperCase().padEnd(4, '0')}`;
  const row = await service.repo.insertBooking(
    service.repo.db,
    {
      reference,
      kind: 'booking',
      type_code: 'council-tax-advice',
      location_code: 'civic-centre',
      status: 'confirmed',
      starts_at: new Date(start),
      ends_at: new Date(start + 20 * 60_000),
      name,
      email: 'morning.caller@example.com',
      source: 'staff',
      booked_by: null,
      answers: JSON.stringify({ topic: 'A letter about arrears' }),
    },
    ['council-tax-adviser-khan'],
  );
  return { id: row.id, reference: row.reference };
}

describe('staff appointments in the browser', () => {
  test('a case officer opens today’s calendar, opens a booking and marks the caller as arrived', async () => {
    const booking = await bookedToday('Morgan Early');
    const officer = await site.newPage({ javaScript: true });
    await staffSignsIn(site, officer, 'case-officer');
    await officer.clickLink('Appointments');
    await officer.expectHeading('Appointments');
    await officer.clickLink(/^Today at Kingsmere Civic Centre/);
    await officer.expectHeading(/\(today\)$/);
    assert.ok((await officer.text()).includes('Morgan Early'));

    await officer.clickLink(new RegExp(`reference ${booking.reference}`));
    await officer.expectHeading(`Council tax advice: ${booking.reference}`);
    const before = await officer.text();
    assert.match(before, /Status Booked/);
    assert.match(before, /What would you like advice about\? A letter about arrears/);

    await officer.clickButton('Mark as arrived');
    await officer.expectNoErrorSummary();
    const after = await officer.text();
    assert.match(after, /Marked as arrived/);
    assert.match(after, /Status Arrived/);
    assert.equal((await site.server.running.services.appointments.service.booking(booking.id))?.status, 'arrived');

    await officer.clickLink('Back to the calendar');
    await officer.clickLink('Week');
    await officer.expectHeading(/^Week beginning Monday/);
    officer.expectNoScriptProblems();
    await officer.close();
  });

  test('a team leader books for a caller, blocks out time and makes a calendar feed, without JavaScript', async () => {
    const officer = await site.newPage({ javaScript: false });
    // A team leader: an authenticator code is good for one sign-in of the same person.
    await staffSignsIn(site, officer, 'team-leader');
    await officer.visit('/staff/appointments/civic-centre/book');
    await officer.fillAndSubmit({ 'What is the appointment for?': 'Council tax advice' }, 'Continue');
    await officer.expectHeading('Choose a date');
    const firstDate = await officer.page.locator('#date option').nth(1).innerText();
    await officer.fillAndSubmit({ 'Choose a date': firstDate }, 'Continue');
    await officer.fillAndSubmit({ 'What would you like advice about?': 'Paying in instalments' }, 'Book appointment');
    await officer.expectErrorSummary(['Choose a time', 'Enter the caller’s full name']);

    await officer.page.locator('input[name="start"]').first().check();
    await officer.fillAndSubmit({ 'Full name': 'Robin Phone', 'Email address (optional)': 'robin.phone@example.com' }, 'Book appointment');
    await officer.expectHeading(/^Appointment booked/);
    assert.match(await officer.text(), /Reference [A-Z0-9]{4}-[A-Z0-9]{4}/);
    await officer.clickLink('See the booking');
    await officer.expectHeading(/^Council tax advice: /);

    await officer.visit('/staff/appointments/civic-centre');
    await officer.clickButton('Block out time');
    await officer.expectHeading('Block out time');
    const tomorrow = new Date(Date.now() + 86_400_000);
    const date = `${tomorrow.getUTCDate()}/${tomorrow.getUTCMonth() + 1}/${tomorrow.getUTCFullYear()}`;
    await officer.fillAndSubmit(
      { 'Who or what is not available?': 'Housing options adviser: Ravi Patel', Date: date, From: '25:00', To: '10:00', Reason: '' },
      'Block out time',
    );
    await officer.expectErrorSummary(['Enter the start time on the 24-hour clock, like 09:30', 'Enter why the time is blocked out']);

    await officer.visit('/staff/appointments/feeds');
    await officer.fillAndSubmit({ Calendar: 'Council tax adviser: Imran Khan (Kingsmere Civic Centre)' }, 'Make feed');
    await officer.expectHeading('Calendar feed made');
    const url = (await officer.page.locator('#feed-url').innerText()).trim();
    assert.match(url, /\/appointments\/feeds\/[A-Za-z0-9_-]{43}\.ics$/);
    const feed = await fetch(`${site.server.url}${new URL(url).pathname}`);
    assert.equal(feed.status, 200);
    assert.match(await feed.text(), /^BEGIN:VCALENDAR/);
    await officer.clickButton(/^Stop feed/);
    assert.match(await officer.text(), /Feed stopped/);
    assert.equal((await fetch(`${site.server.url}${new URL(url).pathname}`)).status, 404);

    await officer.visit('/staff/appointments/utilisation');
    await officer.expectHeading('Appointment utilisation');
    await officer.close();
  });
});
