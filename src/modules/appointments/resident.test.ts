import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { signToken } from '#platform/security/tokens';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { browser, signIn } from '../account/residents/test-helpers.js';
import { formatTime } from './model/when.js';
import type { AppointmentsService } from './service.js';

const RESIDENT_PASSWORD = 'kingsmere-demo-resident';
const MINUTE_MS = 60_000;

const RECYCLING = { type: 'recycling-centre-visit', location: 'ashford-lane-hwrc' };
const ADVICE_IN_PERSON = { type: 'council-tax-advice', location: 'civic-centre' };
const ADVICE_BY_PHONE = { type: 'council-tax-advice', location: 'by-phone' };
type Place = typeof RECYCLING;

/** Answers to each type's own questions. */
const ANSWERS: Record<string, Record<string, string>> = {
  'recycling-centre-visit': { registration: 'KM21 ABC', vehicle: 'car' },
  'council-tax-advice': { topic: 'I have fallen behind with payments' },
};

/* ---------------------------------------------------------------- reading pages */

const location = (res: LightMyRequestResponse) => String(res.headers.location ?? '');
const text = (res: LightMyRequestResponse) => pageText(res.body);

function errorSummary(html: string): string[] {
  const summary = /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => (m[1] ?? '').trim());
}

function titleOf(html: string): string {
  return pageText(/<title>([\s\S]*?)<\/title>/.exec(html)?.[1] ?? '');
}

function h1Of(html: string): string {
  return pageText(/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '');
}

function backLink(html: string): string | undefined {
  return /<a href="([^"]*)" class="govuk-back-link">/.exec(html)?.[1]?.replace(/&amp;/g, '&');
}

function inputValue(html: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0];
  return tag ? (/value="([^"]*)"/.exec(tag)?.[1] ?? '') : undefined;
}

function checkedValue(html: string, name: string): string | undefined {
  const tag = [...html.matchAll(new RegExp(`<input[^>]*name="${name}"[^>]*>`, 'g'))].map((m) => m[0]).find((t) => / checked/.test(t));
  return tag ? /value="([^"]*)"/.exec(tag)?.[1] : undefined;
}

const idFrom = (path: string) => {
  const m = /^\/appointments\/booking\/([0-9a-f-]{36})\/(details|check|confirmation)$/.exec(path);
  assert.ok(m?.[1], `a booking page, not ${path}`);
  return m[1];
};

describe('booking an appointment, without JavaScript', () => {
  let t: TestApp;
  let service: AppointmentsService;

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    service = t.services.appointments.service;
  });
  after(async () => t?.close());

  /** Free times well clear of the type's notice, so the clock moving on during a test cannot rule them out. */
  async function freeTimes(place: Place): Promise<Date[]> {
    const type = service.typeOf(place.type);
    const clear = Date.now() + (type.minimumNoticeMinutes + 20) * MINUTE_MS;
    const slots = await service.availability(place.type, place.location);
    const starts = slots.filter((slot) => slot.start.getTime() > clear).map((slot) => slot.start);
    assert.ok(starts.length > 10, `there are times to book for ${place.type}`);
    return starts;
  }

  const timesPath = (place: Place) => `/appointments/${place.type}/${place.location}`;

  /** Chooses a time on the times page; returns the response to the choice. */
  async function choose(client: TestClient, place: Place, start: Date): Promise<LightMyRequestResponse> {
    const page = await client.get(timesPath(place));
    assert.equal(page.statusCode, 200);
    return client.post(timesPath(place), { start: start.toISOString() });
  }

  async function hold(client: TestClient, place: Place, start: Date): Promise<string> {
    const res = await choose(client, place, start);
    assert.equal(res.statusCode, 303, text(res).slice(0, 400));
    return idFrom(location(res));
  }

  function detailsFor(place: Place, who: { name: string; email: string; phone?: string }): Record<string, string> {
    return { name: who.name, email: who.email, phone: who.phone ?? '', remindBy: 'email', ...ANSWERS[place.type] };
  }

  /** Holds a time, gives the details and confirms; returns the booking's id and reference. */
  async function book(client: TestClient, place: Place, start: Date, who: { name: string; email: string; phone?: string }) {
    const id = await hold(client, place, start);
    await client.get(`/appointments/booking/${id}/details`);
    const details = await client.post(`/appointments/booking/${id}/details`, detailsFor(place, who));
    assert.equal(details.statusCode, 303, errorSummary(details.body).join('; '));
    await client.get(`/appointments/booking/${id}/check`);
    const confirmed = await client.post(`/appointments/booking/${id}/check`, {});
    assert.equal(location(confirmed), `/appointments/booking/${id}/confirmation`);
    const booking = await service.booking(id);
    assert.equal(booking?.status, 'confirmed');
    return { id, reference: booking.reference };
  }

  async function emailsTo(address: string) {
    const messages = await t.services.notifier.listMessages({ recipient: address });
    const stored = await Promise.all(messages.reverse().map((m) => t.services.notifier.getMessage(m.id)));
    return stored.filter((m) => m !== undefined);
  }

  function manageLinkIn(body: string): string {
    const m = /https?:\/\/[^\s/]+(\/appointments\/manage\/[^\s]+)/.exec(body);
    assert.ok(m?.[1], 'the email has the link to manage the appointment');
    return m[1];
  }

  const icsOf = (message: { attachments: { filename: string; content: string }[] }) => {
    const file = message.attachments.find((a) => a.filename === 'appointment.ics');
    assert.ok(file, 'the email has the calendar file');
    return Buffer.from(file.content, 'base64').toString('utf8');
  };

  test('a recycling centre visit from the list to the confirmation, with the email and its calendar file', async () => {
    const client = browser(t);
    const list = await client.get('/appointments');
    assert.equal(list.statusCode, 200);
    assert.equal(titleOf(list.body), 'Book an appointment - Kingsmere Council online services');
    for (const type of service.config.types.values()) {
      assert.ok(list.body.includes(`href="/appointments/${type.code}"`), `${type.name} is listed`);
      assert.ok(text(list).includes(type.description));
    }
    assert.ok(text(list).includes('Cost: Free for Kingsmere residents with household waste.'));

    const start = await client.get(`/appointments/${RECYCLING.type}`);
    assert.equal(h1Of(start.body), 'Book a visit to the recycling centre');
    assert.match(text(start), /What to bring Your booking reference/);
    assert.match(text(start), /takes about 15 minutes/);
    assert.match(
      start.body,
      new RegExp(
        `href="${timesPath(RECYCLING)}"[^>]*class="govuk-button govuk-button--start"|class="govuk-button govuk-button--start"[^>]*href="${timesPath(RECYCLING)}"`,
      ),
    );
    assert.equal(backLink(start.body), '/appointments');

    const times = await client.get(timesPath(RECYCLING));
    assert.equal(h1Of(times.body), 'Choose a time');
    assert.equal(titleOf(times.body), 'Choose a time - Kingsmere Council online services');
    assert.equal(backLink(times.body), `/appointments/${RECYCLING.type}`);
    assert.match(text(times), /Next available times/);
    assert.equal([...times.body.matchAll(/name="start" type="radio"/g)].length, 6, 'the next six times');
    assert.match(text(times), /\d+ places left/, 'a site slot says how many places are left');
    const dates = service.datesOf(await service.availability(RECYCLING.type, RECYCLING.location));
    const second = dates[1];
    assert.ok(second);
    assert.ok(times.body.includes(`href="${timesPath(RECYCLING)}?date=${second.date}"`), 'each date with times is a link');
    assert.ok(text(times).includes(`(${second.count} times)`));

    const day = await client.get(`${timesPath(RECYCLING)}?date=${second.date}`);
    assert.match(text(day), /Times on \w+day \d+ \w+ \d{4}/);
    assert.equal([...day.body.matchAll(/name="start" type="radio"/g)].length, second.count);
    assert.equal(backLink(day.body), timesPath(RECYCLING));

    const none = await client.post(timesPath(RECYCLING), {});
    assert.equal(none.statusCode, 400);
    assert.deepEqual(errorSummary(none.body), ['Select a time']);
    assert.match(titleOf(none.body), /^Error: Choose a time/);
    const garbled = await client.post(timesPath(RECYCLING), { start: 'next tuesday' });
    assert.deepEqual(errorSummary(garbled.body), ['Select a time']);

    const [when] = await freeTimes(RECYCLING);
    assert.ok(when);
    const chosen = await client.post(timesPath(RECYCLING), { start: when.toISOString() });
    assert.equal(chosen.statusCode, 303);
    const id = idFrom(location(chosen));

    const details = await client.get(location(chosen));
    assert.equal(details.statusCode, 200);
    assert.equal(h1Of(details.body), 'Your details');
    const held = await service.booking(id);
    assert.ok(held?.holdExpiresAt);
    assert.ok(text(details).includes(`We are holding this time for you until ${formatTime(held.holdExpiresAt)}.`));
    assert.ok(text(details).includes(held.when));
    assert.equal(backLink(details.body), timesPath(RECYCLING));
    assert.match(details.body, /<label class="govuk-label govuk-label--s" for="registration">\s*Vehicle registration number/);

    const email = 'robin.recycles@example.com';
    const sent = await client.post(`/appointments/booking/${id}/details`, detailsFor(RECYCLING, { name: 'Robin Recycles', email }));
    assert.equal(location(sent), `/appointments/booking/${id}/check`);

    const check = await client.get(`/appointments/booking/${id}/check`);
    assert.equal(h1Of(check.body), 'Check your answers before booking');
    const checkText = text(check);
    for (const expected of ['Robin Recycles', email, 'KM21 ABC', 'Car', 'By email', held.when, 'Ashford Lane household waste recycling centre'])
      assert.ok(checkText.includes(expected), `check your answers shows ${expected}`);
    assert.ok(check.body.includes(`href="${timesPath(RECYCLING)}?change=${id}"`), 'the time can be changed');
    assert.ok(check.body.includes(`href="/appointments/booking/${id}/details#registration"`), 'an answer can be changed');
    assert.match(check.body, />\s*Confirm booking\s*</);

    const confirmed = await client.post(`/appointments/booking/${id}/check`, {});
    assert.equal(location(confirmed), `/appointments/booking/${id}/confirmation`);
    const booking = await service.booking(id);
    assert.equal(booking?.status, 'confirmed');
    assert.equal(booking.name, 'Robin Recycles');
    assert.deepEqual(booking.answers, { registration: 'KM21 ABC', vehicle: 'car' });

    const confirmation = await client.get(location(confirmed));
    assert.equal(confirmation.statusCode, 200);
    assert.equal(titleOf(confirmation.body), 'Appointment booked - Kingsmere Council online services');
    const shown = text(confirmation);
    assert.ok(shown.includes(`Your reference is ${booking.reference}`));
    assert.ok(shown.includes(`We have sent a confirmation email to ${email}`));
    assert.ok(shown.includes('Proof that you live in Kingsmere'), 'what to bring');
    assert.ok(confirmation.body.includes(`href="/appointments/booking/${id}/appointment.ics"`));
    assert.match(shown, /change or cancel/);

    const [message, ...more] = await emailsTo(email);
    assert.equal(more.length, 0);
    assert.ok(message);
    assert.equal(message.subject, `Your appointment is booked: Book a visit to the recycling centre on ${booking.when}`);
    assert.ok(message.body.includes(booking.reference));
    manageLinkIn(message.body);
    const ics = icsOf(message);
    assert.match(ics, /BEGIN:VEVENT/);
    assert.match(ics, /METHOD:PUBLISH/);
    assert.match(ics, /SEQUENCE:0/);

    // Back on a step of a finished booking goes to its confirmation.
    const again = await client.get(`/appointments/booking/${id}/details`);
    assert.equal(location(again), `/appointments/booking/${id}/confirmation`);
  });

  test('details with problems are shown again with every answer kept; a phone appointment needs a number', async () => {
    const client = browser(t);
    const [when] = await freeTimes(ADVICE_BY_PHONE);
    assert.ok(when);
    const id = await hold(client, ADVICE_BY_PHONE, when);
    const page = await client.get(`/appointments/booking/${id}/details`);
    assert.match(text(page), /We will call you on this number/);

    const bad = await client.post(`/appointments/booking/${id}/details`, {
      name: 'Alex Adviceseeker',
      email: 'not-an-email',
      phone: '',
      remindBy: 'sms',
      accountNumber: '12345678',
      topic: 'A bill I do not understand',
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(errorSummary(bad.body), [
      'Enter an email address in the correct format, like name@example.com',
      'Enter a mobile phone number for text message reminders',
    ]);
    assert.match(titleOf(bad.body), /^Error: Your details/);
    assert.equal(inputValue(bad.body, 'name'), 'Alex Adviceseeker');
    assert.equal(inputValue(bad.body, 'email'), 'not-an-email');
    assert.equal(inputValue(bad.body, 'accountNumber'), '12345678');
    assert.match(bad.body, /<textarea[^>]*name="topic"[^>]*>\s*A bill I do not understand<\/textarea>/);
    assert.equal(checkedValue(bad.body, 'remindBy'), 'sms');
    assert.match(bad.body, /href="#email"/);
    assert.match(bad.body, /href="#phone"/);

    const noNumber = await client.post(`/appointments/booking/${id}/details`, {
      name: 'Alex Adviceseeker',
      email: 'alex@example.com',
      remindBy: 'email',
      topic: 'A bill I do not understand',
    });
    assert.deepEqual(errorSummary(noNumber.body), ['Enter a phone number so we can call you']);
    const missing = await client.post(`/appointments/booking/${id}/details`, { name: '', email: '', phone: '07700 900982', remindBy: 'email' });
    assert.deepEqual(errorSummary(missing.body), ['Enter your full name', 'Enter your email address', 'Enter what would you like advice about']);

    const ok = await client.post(`/appointments/booking/${id}/details`, {
      name: 'Alex Adviceseeker',
      email: 'alex@example.com',
      phone: '07700 900982',
      remindBy: 'sms',
      topic: 'A bill I do not understand',
    });
    assert.equal(location(ok), `/appointments/booking/${id}/check`);
    const check = await client.get(`/appointments/booking/${id}/check`);
    assert.ok(text(check).includes('By text message'));
    assert.ok(text(check).includes('Council tax account number Not answered'));
    await client.post(`/appointments/booking/${id}/check`, {});
    const confirmation = await client.get(`/appointments/booking/${id}/confirmation`);
    assert.ok(text(confirmation).includes('By phone: we will call you on 07700 900982'));
  });

  test('a time another browser has just held is refused with a GOV.UK error, and the times shown again', async () => {
    const first = browser(t);
    const second = browser(t);
    const [when] = await freeTimes(ADVICE_IN_PERSON);
    assert.ok(when);
    await hold(first, ADVICE_IN_PERSON, when);
    const taken = await choose(second, ADVICE_IN_PERSON, when);
    assert.equal(taken.statusCode, 409);
    assert.deepEqual(errorSummary(taken.body), ['That time has just been taken. Choose another time.']);
    assert.match(taken.body, /href="#start"/);
    assert.match(text(taken), /Next available times/);
    assert.ok(!taken.body.includes(`value="${when.toISOString()}"`), 'the taken time is no longer offered');
  });

  test('pressing "Confirm booking" twice makes one booking and sends one email', async () => {
    const client = browser(t);
    const [, when] = await freeTimes(RECYCLING);
    assert.ok(when);
    const id = await hold(client, RECYCLING, when);
    await client.get(`/appointments/booking/${id}/details`);
    await client.post(`/appointments/booking/${id}/details`, detailsFor(RECYCLING, { name: 'Dee Doubleclick', email: 'dee@example.com' }));
    await client.get(`/appointments/booking/${id}/check`);
    const csrf = client.csrf();
    const [one, two] = await Promise.all([
      client.post(`/appointments/booking/${id}/check`, {}, { csrf }),
      client.post(`/appointments/booking/${id}/check`, {}, { csrf }),
    ]);
    const three = await client.post(`/appointments/booking/${id}/check`, {}, { csrf });
    for (const res of [one, two, three]) assert.equal(location(res), `/appointments/booking/${id}/confirmation`);
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM appointment_bookings WHERE email = 'dee@example.com'`.execute(t.platform.database.db);
    assert.equal(rows.rows[0]?.n, 1);
    assert.equal((await emailsTo('dee@example.com')).length, 1);
  });

  test('the confirmation and calendar file are only for the browser that booked', async () => {
    const client = browser(t);
    const [, , when] = await freeTimes(RECYCLING);
    assert.ok(when);
    const { id, reference } = await book(client, RECYCLING, when, { name: 'Cal Endar', email: 'cal@example.com' });
    const ics = await client.get(`/appointments/booking/${id}/appointment.ics`);
    assert.equal(ics.statusCode, 200);
    assert.equal(ics.headers['content-type'], 'text/calendar; charset=utf-8');
    assert.equal(ics.headers['content-disposition'], `attachment; filename="appointment-${reference}.ics"`);
    assert.match(ics.body, /^BEGIN:VCALENDAR\r\n/);
    assert.ok(ics.body.includes(`Reference: ${reference}`));

    const stranger = browser(t);
    assert.equal((await stranger.get(`/appointments/booking/${id}/appointment.ics`)).statusCode, 404);
    assert.equal((await stranger.get(`/appointments/booking/${id}/confirmation`)).statusCode, 404);
    assert.equal((await stranger.get(`/appointments/booking/${id}/details`)).statusCode, 404);
    assert.equal((await stranger.get('/appointments/booking/not-a-booking/check')).statusCode, 404);
  });

  test('the link in the email changes the time (the calendar file updated) and cancels the appointment', async () => {
    const client = browser(t);
    const times = await freeTimes(ADVICE_IN_PERSON);
    const [when, later] = [times[2], times[6]];
    assert.ok(when && later);
    const { id, reference } = await book(client, ADVICE_IN_PERSON, when, { name: 'Morgan Mover', email: 'morgan@example.com' });
    const [booked] = await emailsTo('morgan@example.com');
    assert.ok(booked);
    const link = manageLinkIn(booked.body);

    // The link works in any browser, signed in or not.
    const holder = browser(t);
    const manage = await holder.get(link);
    assert.equal(manage.statusCode, 200);
    assert.equal(titleOf(manage.body), 'Your appointment - Kingsmere Council online services');
    assert.ok(text(manage).includes(reference));
    assert.match(manage.body, /href="[^"]*\/change"[^>]*>\s*Change time/);
    assert.match(manage.body, /href="[^"]*\/cancel"[^>]*>\s*Cancel appointment/);

    const change = await holder.get(`${link}/change`);
    assert.equal(change.statusCode, 200);
    assert.equal(h1Of(change.body), 'Choose a new time');
    assert.equal(backLink(change.body), link);
    assert.ok(text(change).includes(`Your appointment is on ${(await service.booking(id))?.when}`));
    const noTime = await holder.post(`${link}/change`, {});
    assert.deepEqual(errorSummary(noTime.body), ['Select a time']);

    // A time another browser is holding is refused.
    const other = browser(t);
    await hold(other, ADVICE_IN_PERSON, times[4] as Date);
    const refused = await holder.post(`${link}/change`, { start: (times[4] as Date).toISOString() });
    assert.equal(refused.statusCode, 409);
    assert.deepEqual(errorSummary(refused.body), ['That time has just been taken. Choose another time.']);

    const moved = await holder.post(`${link}/change`, { start: later.toISOString() });
    assert.equal(location(moved), `${link}/changed`);
    const changed = await holder.get(location(moved));
    assert.equal(h1Of(changed.body), 'Your appointment has changed');
    const now = await service.booking(id);
    assert.equal(now?.start.getTime(), later.getTime());
    assert.ok(text(changed).includes(now.when));
    const [, changedEmail] = await emailsTo('morgan@example.com');
    assert.ok(changedEmail);
    assert.match(changedEmail.subject ?? '', /^Your appointment has changed/);
    assert.match(icsOf(changedEmail), /SEQUENCE:1/);

    const cancelPage = await holder.get(`${link}/cancel`);
    assert.equal(h1Of(cancelPage.body), 'Are you sure you want to cancel your appointment?');
    const tooLong = await holder.post(`${link}/cancel`, { reason: 'x'.repeat(501) });
    assert.deepEqual(errorSummary(tooLong.body), ['The reason must be 500 characters or fewer']);
    const cancelled = await holder.post(`${link}/cancel`, { reason: 'I sorted it out online' });
    assert.equal(location(cancelled), `${link}/cancelled`);
    const done = await holder.get(location(cancelled));
    assert.match(text(done), /Appointment cancelled Your reference was/);
    assert.ok(text(done).includes('We have sent an email to morgan@example.com'));
    assert.equal((await service.booking(id))?.status, 'cancelled');
    const cancelledEmail = (await emailsTo('morgan@example.com')).at(-1);
    assert.ok(cancelledEmail);
    assert.match(cancelledEmail.subject ?? '', /^Your appointment is cancelled/);
    assert.match(icsOf(cancelledEmail), /METHOD:CANCEL/);
    assert.match(icsOf(cancelledEmail), /SEQUENCE:2/);

    // Afterwards the link shows the cancelled appointment, with nothing left to change.
    const after = await holder.get(link);
    assert.match(text(after), /This appointment has been cancelled/);
    assert.ok(!/Change time|Cancel appointment/.test(text(after)));
    assert.equal(location(await holder.get(`${link}/cancel`)), `${link}/cancelled`);
  });

  test('a garbled or expired link says so, with how to get help', async () => {
    const client = browser(t);
    const garbled = await client.get('/appointments/manage/not-a-real-token');
    assert.equal(garbled.statusCode, 404);
    assert.equal(h1Of(garbled.body), 'This link has expired');
    assert.ok(text(garbled).includes(t.platform.council.profile.contact.phone));

    const [when] = await freeTimes(RECYCLING);
    assert.ok(when);
    const { id } = await book(browser(t), RECYCLING, when, { name: 'Eve Expired', email: 'eve@example.com' });
    const expired = signToken(t.config.sessionSecret, { purpose: 'appointment-manage', subject: id, expiresAt: Date.now() - 1000 });
    for (const path of ['', '/cancel', '/change', '/appointment.ics']) {
      const res = await client.get(`/appointments/manage/${encodeURIComponent(expired)}${path}`);
      assert.equal(res.statusCode, 404, path);
      assert.equal(h1Of(res.body), 'This link has expired');
    }
    await client.get(timesPath(RECYCLING));
    const post = await client.post(`/appointments/manage/${encodeURIComponent(expired)}/cancel`, {});
    assert.equal(post.statusCode, 404);
    assert.equal((await service.booking(id))?.status, 'confirmed');

    const offer = await client.get('/appointments/offer/not-a-real-token');
    assert.equal(offer.statusCode, 404);
    assert.equal(h1Of(offer.body), 'This link has expired');
  });

  test('a signed-in resident’s details are filled in, and the booking is in their account only', async () => {
    const sam = await signIn(t, 'sam.taylor@example.com', RESIDENT_PASSWORD);
    const [, , , when] = await freeTimes(RECYCLING);
    assert.ok(when);
    const id = await hold(sam, RECYCLING, when);
    const details = await sam.get(`/appointments/booking/${id}/details`);
    assert.equal(inputValue(details.body, 'name'), 'Sam Taylor');
    assert.equal(inputValue(details.body, 'email'), 'sam.taylor@example.com');
    assert.equal(inputValue(details.body, 'phone'), '07700 900123');
    await sam.post(`/appointments/booking/${id}/details`, {
      name: 'Sam Taylor',
      email: 'sam.taylor@example.com',
      remindBy: 'email',
      ...ANSWERS[RECYCLING.type],
    });
    await sam.get(`/appointments/booking/${id}/check`);
    await sam.post(`/appointments/booking/${id}/check`, {});
    const booking = await service.booking(id);
    assert.ok(booking?.residentId);
    const confirmation = await sam.get(`/appointments/booking/${id}/confirmation`);
    assert.ok(confirmation.body.includes(`href="/account/appointments/${booking.reference}"`));

    const home = await sam.get('/account');
    assert.match(text(home), /Your appointments/);
    assert.ok(home.body.includes(`/account/appointments/${booking.reference}`));

    const page = await sam.get(`/account/appointments/${booking.reference}`);
    assert.equal(page.statusCode, 200);
    assert.equal(h1Of(page.body), 'Your appointment');
    assert.ok(text(page).includes(booking.when));
    assert.match(page.body, /aria-label="Your account"/, 'inside the account pages');
    assert.equal(backLink(page.body), '/account');
    const ics = await sam.get(`/account/appointments/${booking.reference}/appointment.ics`);
    assert.equal(ics.headers['content-type'], 'text/calendar; charset=utf-8');

    const priya = await signIn(t, 'priya.shah@example.com', RESIDENT_PASSWORD);
    assert.equal((await priya.get(`/account/appointments/${booking.reference}`)).statusCode, 404);
    assert.equal((await priya.get(`/account/appointments/${booking.reference}/cancel`)).statusCode, 404);
    const anonymous = browser(t);
    const signInFirst = await anonymous.get(`/account/appointments/${booking.reference}`);
    assert.equal(signInFirst.statusCode, 302);
    assert.match(location(signInFirst), /^\/account\/sign-in\?returnTo=/);

    const cancel = await sam.get(`/account/appointments/${booking.reference}/cancel`);
    assert.equal(cancel.statusCode, 200);
    const done = await sam.post(`/account/appointments/${booking.reference}/cancel`, {});
    assert.equal(location(done), `/account/appointments/${booking.reference}/cancelled`);
    assert.equal((await service.booking(id))?.status, 'cancelled');
  });

  test('a type that needs an account sends residents to sign in before choosing a time', async () => {
    const type = service.typeOf(ADVICE_IN_PERSON.type);
    type.signInRequired = true;
    try {
      const anonymous = browser(t);
      const start = await anonymous.get(`/appointments/${type.code}`);
      assert.match(text(start), /You need to sign in/);
      const refused = await anonymous.get(timesPath(ADVICE_IN_PERSON));
      assert.equal(refused.statusCode, 302);
      assert.equal(location(refused), `/account/sign-in?returnTo=${encodeURIComponent(timesPath(ADVICE_IN_PERSON))}`);
      const priya = await signIn(t, 'priya.shah@example.com', RESIDENT_PASSWORD);
      const times = await priya.get(timesPath(ADVICE_IN_PERSON));
      assert.equal(times.statusCode, 200);
      assert.match(text(times), /Next available times/);
    } finally {
      type.signInRequired = false;
    }
  });

  test('the waiting list: its problems, then joining it', async () => {
    const client = browser(t);
    const path = `${timesPath(ADVICE_BY_PHONE)}/waiting-list`;
    const form = await client.get(path);
    assert.equal(form.statusCode, 200);
    assert.equal(h1Of(form.body), 'Join the waiting list');
    assert.equal(backLink(form.body), timesPath(ADVICE_BY_PHONE));

    const empty = await client.post(path, {});
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(errorSummary(empty.body), [
      'Enter your full name',
      'Enter your email address',
      'Enter the first date you could come',
      'Enter the last date you could come',
    ]);
    assert.match(empty.body, /href="#fromDate-day"/);

    const partly = await client.post(path, {
      name: 'Wai Ting',
      email: 'wai@example',
      'fromDate-day': '31',
      'fromDate-month': '2',
      'fromDate-year': '2027',
      'toDate-day': '3',
      'toDate-year': '2027',
    });
    assert.deepEqual(errorSummary(partly.body), [
      'Enter an email address in the correct format, like name@example.com',
      'The first date you could come must be a real date',
      'The last date you could come must include a month',
    ]);
    assert.equal(inputValue(partly.body, 'name'), 'Wai Ting');
    assert.equal(inputValue(partly.body, 'fromDate-day'), '31');

    const today = new Date();
    const parts = (d: Date) => {
      const [year, month, day] = d.toISOString().slice(0, 10).split('-');
      return { day: String(Number(day)), month: String(Number(month)), year: year ?? '' };
    };
    const from = parts(new Date(today.getTime() + 3 * 86_400_000));
    const to = parts(new Date(today.getTime() + 2 * 86_400_000));
    const backwards = await client.post(path, {
      name: 'Wai Ting',
      email: 'wai@example.com',
      'fromDate-day': from.day,
      'fromDate-month': from.month,
      'fromDate-year': from.year,
      'toDate-day': to.day,
      'toDate-month': to.month,
      'toDate-year': to.year,
    });
    assert.deepEqual(errorSummary(backwards.body), ['The last date must be the same as or after the first date']);

    const until = parts(new Date(today.getTime() + 10 * 86_400_000));
    const joined = await client.post(path, {
      name: 'Wai Ting',
      email: 'wai@example.com',
      'fromDate-day': from.day,
      'fromDate-month': from.month,
      'fromDate-year': from.year,
      'toDate-day': until.day,
      'toDate-month': until.month,
      'toDate-year': until.year,
    });
    assert.equal(location(joined), `${path}/joined`);
    const done = await client.get(location(joined));
    assert.equal(h1Of(done.body), 'You are on the waiting list');
    assert.ok(text(done).includes('we will email wai@example.com'));
    const rows = await sql<{ name: string; status: string }>`SELECT name, status FROM appointment_waiting WHERE email = 'wai@example.com'`.execute(
      t.platform.database.db,
    );
    assert.deepEqual(rows.rows, [{ name: 'Wai Ting', status: 'waiting' }]);
  });

  test('a time offered from the waiting list opens the details with the name and email already given', async () => {
    const times = await freeTimes(ADVICE_IN_PERSON);
    const freed = times.at(-1);
    assert.ok(freed);
    const day = freed.toISOString().slice(0, 10);
    await service.joinWaitingList(
      { type: 'resident', residentId: null },
      { ...ADVICE_IN_PERSON, name: 'Olive Offer', email: 'olive@example.com', fromDate: day, toDate: day },
    );
    const { id } = await book(browser(t), ADVICE_IN_PERSON, freed, { name: 'Carl Canceller', email: 'carl@example.com' });
    await service.cancel({ type: 'system' }, id);

    const [offer] = await emailsTo('olive@example.com');
    assert.ok(offer, 'the waiting resident is offered the time');
    const link = /https?:\/\/[^\s/]+(\/appointments\/offer\/[^\s]+)/.exec(offer.body)?.[1];
    assert.ok(link);
    const client = browser(t);
    const opened = await client.get(link);
    assert.equal(opened.statusCode, 302);
    const details = await client.get(location(opened));
    assert.equal(details.statusCode, 200);
    assert.equal(inputValue(details.body, 'name'), 'Olive Offer');
    assert.equal(inputValue(details.body, 'email'), 'olive@example.com');
    const offeredId = idFrom(location(opened));
    await client.post(`/appointments/booking/${offeredId}/details`, detailsFor(ADVICE_IN_PERSON, { name: 'Olive Offer', email: 'olive@example.com' }));
    await client.get(`/appointments/booking/${offeredId}/check`);
    const booked = await client.post(`/appointments/booking/${offeredId}/check`, {});
    assert.equal(location(booked), `/appointments/booking/${offeredId}/confirmation`);
    const booking = await service.booking(offeredId);
    assert.equal(booking?.status, 'confirmed');
    assert.equal(booking.start.getTime(), freed.getTime());
  });

  test('a hold that ran out cannot be booked: the resident is told, and can choose a time again', async () => {
    const client = browser(t);
    const times = await freeTimes(ADVICE_IN_PERSON);
    const when = times[9];
    assert.ok(when);
    const id = await hold(client, ADVICE_IN_PERSON, when);
    await client.get(`/appointments/booking/${id}/details`);
    await client.post(`/appointments/booking/${id}/details`, detailsFor(ADVICE_IN_PERSON, { name: 'Len Late', email: 'len@example.com' }));
    await client.get(`/appointments/booking/${id}/check`);
    await sql`UPDATE appointment_bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = ${id}`.execute(t.platform.database.db);
    await service.expireHolds();

    const late = await client.post(`/appointments/booking/${id}/check`, {});
    assert.equal(late.statusCode, 409);
    assert.equal(h1Of(late.body), 'We could not keep that time for you');
    assert.ok(text(late).includes('We could not keep that time for you any longer. Choose a time again.'));
    assert.ok(late.body.includes(`href="${timesPath(ADVICE_IN_PERSON)}"`));
    const check = await client.get(`/appointments/booking/${id}/check`);
    assert.equal(check.statusCode, 409);
    assert.equal((await service.booking(id))?.status, 'expired');
    assert.equal((await emailsTo('len@example.com')).length, 0);
  });

  test('changing the time from check your answers keeps the details given', async () => {
    const client = browser(t);
    const times = await freeTimes(RECYCLING);
    const [first, second] = [times[5], times[8]];
    assert.ok(first && second);
    const id = await hold(client, RECYCLING, first);
    await client.get(`/appointments/booking/${id}/details`);
    await client.post(`/appointments/booking/${id}/details`, detailsFor(RECYCLING, { name: 'Cass Changer', email: 'cass@example.com' }));
    const times2 = await client.get(`${timesPath(RECYCLING)}?change=${id}`);
    assert.equal(backLink(times2.body), `/appointments/booking/${id}/check`);
    const moved = await client.post(`${timesPath(RECYCLING)}?change=${id}`, { start: second.toISOString(), change: id });
    assert.equal(moved.statusCode, 303);
    assert.match(location(moved), /\/check$/);
    const newId = idFrom(location(moved));
    assert.notEqual(newId, id);
    const check = await client.get(location(moved));
    assert.ok(text(check).includes('Cass Changer'));
    assert.ok(text(check).includes((await service.booking(newId))?.when ?? 'missing'));
  });
});
