import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { emailsTo, signIn } from '../account/residents/test-helpers.js';
import { formBookingProvider } from './form-bookings.js';
import { formatWhen } from './model/when.js';
import type { AppointmentsService } from './service.js';
import { ADVICE_FORM as adviceForm, ADVICE_FORM_SLUG as SLUG } from './form-bookings.test-support.js';

const TAKEN = 'That time has just been taken. Choose another time.';
const PLACE = 'Kingsmere Civic Centre';

describe('appointments booked through a form', () => {
  let t: TestApp;
  let appointments: AppointmentsService;

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    appointments = t.services.appointments.service;
    t.services.forms.service.setBookingProvider(formBookingProvider(appointments));
    const published = await t.services.forms.service.publish(adviceForm, { actor: { type: 'system' } });
    assert.ok(published.ok, JSON.stringify(published));
  });
  after(async () => t?.close());

  const db = () => t.platform.database.db;

  /** The times a page offers, as posted. */
  const offered = (html: string): string[] => [...html.matchAll(/name="visit" type="radio" value="([^"]+)"/g)].map((match) => match[1] ?? '');
  const checkedTime = (html: string): string | undefined => /name="visit" type="radio" value="([^"]+)" checked/.exec(html)?.[1];

  /** Answers the first two pages and opens the question; the page's HTML. */
  async function atVisit(client: TestClient, who = { first: 'Jo', last: 'Resident', email: 'jo.resident@example.com' }): Promise<string> {
    await client.get(`/forms/${SLUG}`);
    let res = await client.post(`/forms/${SLUG}/start`, {});
    assert.equal(res.headers.location, `/forms/${SLUG}/you`);
    await client.get(`/forms/${SLUG}/you`);
    res = await client.post(`/forms/${SLUG}/you`, { 'applicant-firstName': who.first, 'applicant-lastName': who.last, email: who.email, phone: '' });
    assert.equal(res.headers.location, `/forms/${SLUG}/about`);
    await client.get(`/forms/${SLUG}/about`);
    res = await client.post(`/forms/${SLUG}/about`, { councilTaxAccount: '12345678', topic: 'I cannot understand my bill' });
    assert.equal(res.headers.location, `/forms/${SLUG}/visit`);
    const page = await client.get(`/forms/${SLUG}/visit`);
    assert.equal(page.statusCode, 200);
    return page.body;
  }

  /** Chooses a time on the question's page; the response. */
  const choose = (client: TestClient, start: string) => client.post(`/forms/${SLUG}/visit`, { visit: start });

  async function latestDraft(): Promise<Record<string, unknown>> {
    const row = (
      await sql<{ answers: Record<string, unknown> }>`SELECT answers FROM form_drafts WHERE slug = ${SLUG} ORDER BY updated_at DESC LIMIT 1`.execute(db())
    ).rows[0];
    assert.ok(row, 'a draft');
    return row.answers;
  }

  async function heldVisit(): Promise<{ holdId: string; key: string; start: string }> {
    const visit = (await latestDraft()).visit as { holdId?: string; key?: string; start: string };
    assert.ok(visit.holdId && visit.key, 'the answer holds the time');
    return { holdId: visit.holdId, key: visit.key, start: visit.start };
  }

  const formBookings = (status: string, start?: string) =>
    appointments.repo.db
      .selectFrom('appointment_bookings')
      .selectAll()
      .where('source', '=', 'form')
      .where('status', '=', status as never)
      .$if(start !== undefined, (query) => query.where('starts_at', '=', new Date(start ?? '')))
      .execute();

  /** Lets the hold run out, as the reminders job would once its time has passed. */
  async function runOut(holdId: string): Promise<void> {
    await appointments.repo.db
      .updateTable('appointment_bookings')
      .set({ hold_expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', holdId)
      .execute();
    await appointments.expireHolds();
  }

  test('publishing checks the question against the council’s appointment types', async () => {
    const [you, about, visit] = adviceForm.pages;
    const elsewhere = { ...visit, components: [{ ...visit?.components[0], location: 'ashford-lane-hwrc' }] };
    const refused = await t.services.forms.service.publish(
      { ...adviceForm, id: 'elsewhere', slug: 'elsewhere', pages: [you, about, elsewhere] },
      { actor: { type: 'system' } },
    );
    assert.equal(refused.ok, false);
    assert.deepEqual(
      refused.findings.map((finding) => `${finding.path}: ${finding.message}`),
      ['pages[2].components[0].location: Council tax advice is not offered at "ashford-lane-hwrc": use one of civic-centre, by-phone'],
    );
  });

  test('the question offers the next 20 free times at the place, earliest first', async () => {
    const html = await atVisit(t.client());
    const free = await appointments.availability('council-tax-advice', 'civic-centre', { limit: 20 });
    assert.equal(free.length, 20, 'the adviser has at least 20 free times');
    assert.deepEqual(
      offered(html),
      free.map((slot) => slot.start.toISOString()),
    );
    const text = pageText(html);
    assert.match(text, new RegExp(`${formatWhen(free[0]?.start ?? new Date())}`));
    assert.match(text, new RegExp(`Where: ${PLACE}`));
    assert.match(html, /<h1 class="govuk-fieldset__heading">\s*Choose a time to see an adviser/, 'the one question is the page heading');
  });

  test('a time someone has just taken is refused; a free one is held, shown checked, and never shows its key', async () => {
    const client = t.client();
    const [first, second] = offered(await atVisit(client));
    assert.ok(first && second);
    await appointments.hold({ type: 'resident', residentId: null }, { type: 'council-tax-advice', location: 'civic-centre', start: new Date(first) });
    let res = await choose(client, first);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, new RegExp(`<a href="#visit">${TAKEN}</a>`), 'in the error summary');
    assert.equal(checkedTime(res.body), undefined, 'the taken time is not chosen');
    assert.equal((await formBookings('held', first)).length, 0, 'no hold from the form');

    res = await choose(client, second);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/forms/${SLUG}/check-answers`);
    const held = await heldVisit();
    assert.equal(held.start, second);
    const [hold] = await formBookings('held', second);
    assert.equal(hold?.id, held.holdId);

    const check = await client.get(`/forms/${SLUG}/check-answers`);
    assert.equal(check.statusCode, 200);
    assert.match(pageText(check.body), new RegExp(`${formatWhen(new Date(second))}, ${PLACE}`));
    assert.match(check.body, new RegExp(`href="/forms/${SLUG}/visit\\?change=1#visit"`), 'a Change link');
    // Held, the time is no longer free to others, yet it is still the resident's to keep.
    const back = await client.get(`/forms/${SLUG}/visit?change=1`);
    assert.equal(checkedTime(back.body), second);
    for (const body of [res.body, check.body, back.body]) assert.ok(!body.includes(held.key), 'the key is never on a page');
  });

  test('sending books exactly one appointment, for the signed-in resident, with its reference in the answers and on the confirmation', async () => {
    const client = await signIn(t, 'sam.taylor@example.com', 'kingsmere-demo-resident');
    const residentId = (await sql<{ id: string }>`SELECT id FROM residents WHERE email = 'sam.taylor@example.com'`.execute(db())).rows[0]?.id ?? '';
    const already = (await appointments.residentBookings(residentId)).length;
    const [, , start = ''] = offered(await atVisit(client, { first: 'Sam', last: 'Taylor', email: 'sam.taylor@example.com' }));
    assert.equal((await choose(client, start)).headers.location, `/forms/${SLUG}/check-answers`);
    await client.get(`/forms/${SLUG}/check-answers`);
    const csrf = client.csrf();
    // Pressed twice at once.
    const [sent, again] = await Promise.all([
      client.post(`/forms/${SLUG}/check-answers`, {}, { csrf }),
      client.post(`/forms/${SLUG}/check-answers`, {}, { csrf }),
    ]);
    assert.equal(sent.headers.location, `/forms/${SLUG}/confirmation`);
    assert.equal(again.headers.location, `/forms/${SLUG}/confirmation`);

    const bookings = (await appointments.residentBookings(residentId)).slice(already);
    assert.equal(bookings.length, 1, 'one booking');
    const [booking] = bookings;
    assert.ok(booking);
    assert.equal(booking.status, 'confirmed');
    assert.equal(booking.source, 'form');
    assert.equal(booking.start.toISOString(), start);
    assert.equal(booking.name, 'Sam Taylor');
    assert.equal(booking.email, 'sam.taylor@example.com');
    assert.deepEqual(booking.answers, { accountNumber: '12345678', topic: 'I cannot understand my bill' });
    assert.equal((await formBookings('confirmed', start)).length, 1);

    const submission = (
      await sql<{ answers: Record<string, unknown>; summary: unknown }>`SELECT answers, summary FROM form_submissions WHERE slug = ${SLUG}`.execute(db())
    ).rows;
    assert.equal(submission.length, 1);
    assert.deepEqual(submission[0]?.answers.visit, {
      appointmentType: 'council-tax-advice',
      location: 'civic-centre',
      start,
      when: booking.when,
      where: PLACE,
      reference: booking.reference,
    });
    assert.match(JSON.stringify(submission[0]?.summary), new RegExp(`Booking reference ${booking.reference}`), 'staff and deliveries see the reference');

    const confirmation = pageText((await client.get(`/forms/${SLUG}/confirmation`)).body);
    assert.match(confirmation, new RegExp(`Booking reference ${booking.reference}`));
    assert.match(confirmation, new RegExp(`When ${booking.when}`));
    assert.match(confirmation, new RegExp(`Where ${PLACE}`));
    const emails = await emailsTo(t, 'sam.taylor@example.com');
    assert.ok(emails.some((email) => email.subject.startsWith('Your appointment is booked') && email.body.includes(booking.reference)));
  });

  test('a hold that ran out is held again when the form is sent', async () => {
    const client = t.client();
    const [, , , start = ''] = offered(await atVisit(client, { first: 'Ali', last: 'Late', email: 'ali.late@example.com' }));
    await choose(client, start);
    const held = await heldVisit();
    await runOut(held.holdId);
    await client.get(`/forms/${SLUG}/check-answers`);
    const sent = await client.post(`/forms/${SLUG}/check-answers`, {});
    assert.equal(sent.headers.location, `/forms/${SLUG}/confirmation`);
    const [booking] = await formBookings('confirmed', start);
    assert.ok(booking, 'booked at the time chosen');
    assert.notEqual(booking.id, held.holdId, 'under a new hold');
    assert.equal(booking.email, 'ali.late@example.com');
    assert.match(pageText((await client.get(`/forms/${SLUG}/confirmation`)).body), new RegExp(`Booking reference ${booking.reference}`));
  });

  test('a time taken after its hold ran out sends the resident back to choose again, keeping every other answer', async () => {
    const client = t.client();
    const times = offered(await atVisit(client, { first: 'Bo', last: 'Unlucky', email: 'bo.unlucky@example.com' }));
    const [start = '', other = ''] = times.slice(4);
    await choose(client, start);
    await runOut((await heldVisit()).holdId);
    await appointments.hold({ type: 'resident', residentId: null }, { type: 'council-tax-advice', location: 'civic-centre', start: new Date(start) });
    await client.get(`/forms/${SLUG}/check-answers`);
    const sent = await client.post(`/forms/${SLUG}/check-answers`, {});
    assert.equal(sent.headers.location, `/forms/${SLUG}/visit?change=1`);
    const page = await client.get(`/forms/${SLUG}/visit?change=1`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`<a href="#visit">${TAKEN}</a>`));
    assert.equal(checkedTime(page.body), undefined);
    const kept = await latestDraft();
    assert.equal(kept.visit, undefined);
    assert.equal(kept.topic, 'I cannot understand my bill');
    assert.equal(kept.email, 'bo.unlucky@example.com');
    assert.equal((await client.get(`/forms/${SLUG}/check-answers`)).headers.location, `/forms/${SLUG}/visit`, 'check answers waits for a time');

    await client.get(`/forms/${SLUG}/visit?change=1`);
    assert.equal((await client.post(`/forms/${SLUG}/visit?change=1`, { visit: other })).headers.location, `/forms/${SLUG}/check-answers`);
    await client.get(`/forms/${SLUG}/check-answers`);
    assert.equal((await client.post(`/forms/${SLUG}/check-answers`, {})).headers.location, `/forms/${SLUG}/confirmation`);
    const booked = (await formBookings('confirmed')).filter((booking) => booking.email === 'bo.unlucky@example.com');
    assert.deepEqual(
      booked.map((booking) => new Date(booking.starts_at).toISOString()),
      [other],
    );
  });
});
