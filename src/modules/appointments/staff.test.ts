import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { localToInstant, parseCalendarDate, ukDay, UK_TIME_ZONE } from '#platform/council/dates';
import { HttpError } from '#platform/http/errors';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { signInDemoStaff, type SignedInStaff } from '../../../test/support/staff.js';
import { dayNumberToDate } from './model/availability.js';
import { BookingProblems, SlotTaken, type AppointmentsService, type Booking } from './service.js';
import { createAppointmentsStaff, type AppointmentsStaff } from './staff.js';

const MINUTE_MS = 60_000;

describe('staff appointments', () => {
  let testApp: TestApp;
  let service: AppointmentsService;
  let staff: AppointmentsStaff;
  let officer: SignedInStaff;
  let client: TestClient;
  let manager: SignedInStaff;
  let editor: SignedInStaff;
  /** The last day handed out, so each test books on days of its own. */
  let lastDay = 0;

  before(async () => {
    testApp = await createTestApp({ seedDemo: true });
    service = testApp.services.appointments.service;
    staff = createAppointmentsStaff(service);
    officer = await signInDemoStaff(testApp, 'case-officer');
    client = officer.client;
    manager = await signInDemoStaff(testApp, 'manager');
    editor = await signInDemoStaff(testApp, 'content-editor');
    lastDay = (parseCalendarDate(ukDay()) ?? 0) + 1;
  });
  after(async () => {
    await testApp.close();
  });

  /** The next working day (Monday to `lastWeekday`, 1 is Monday) that is not a bank holiday, after the last one used. */
  const nextDay = (lastWeekday = 5): string => {
    for (let day = lastDay + 1; ; day++) {
      const weekday = ((((day + 3) % 7) + 7) % 7) + 1;
      const date = dayNumberToDate(day);
      if (weekday <= lastWeekday && !service.config.bankHolidays.has(date)) {
        lastDay = day;
        return date;
      }
    }
  };
  /** A day the tests that need no day of their own share, each at its own times. */
  let shared: string | undefined;
  const sharedDay = (): string => (shared ??= nextDay());
  const at = (date: string, time: string): Date =>
    new Date(localToInstant(parseCalendarDate(date) ?? 0, Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5)), UK_TIME_ZONE));
  const caller = { name: 'Sam Caller', email: 'sam.caller@example.com', phone: '', remindBy: 'email', accountNumber: '', topic: 'Arrears on my bill' };
  const councilTax = (date: string, time: string, details: Record<string, unknown> = caller): Promise<Booking> =>
    service.bookFor(officer.member, { type: 'council-tax-advice', location: 'civic-centre', start: at(date, time), details });
  const auditActions = async (id: string): Promise<string[]> => {
    const { rows } = await sql<{ action: string }>`SELECT action FROM audit_events WHERE subject_id = ${id} ORDER BY id`.execute(testApp.platform.database.db);
    return rows.map((r) => r.action);
  };
  const refused = (status: number) => (error: unknown) => error instanceof HttpError && error.statusCode === status;
  const problem = (field: string, pattern: RegExp) => (error: unknown) => error instanceof BookingProblems && pattern.test(error.fields[field] ?? '');

  test('staff without permission are refused, in the service and on every page', async () => {
    const date = nextDay();
    const booking = await councilTax(date, '09:00');
    const feed = await staff.createFeed(officer.member, 'council-tax-adviser-khan');
    const block = await staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '16:00', to: '16:40', reason: 'Training' });

    for (const { member } of [editor, manager]) {
      const calls: [string, () => Promise<unknown>][] = [
        ['calendar', () => staff.calendar(member, { location: 'civic-centre', date, view: 'day' })],
        ['bookingDetail', () => staff.bookingDetail(member, booking.id)],
        ['block', () => staff.block(member, { resource: 'council-tax-adviser-khan', date, from: '15:00', to: '15:20', reason: 'Leave' })],
        ['unblock', () => staff.unblock(member, block.id)],
        ['setAttendance', () => staff.setAttendance(member, booking.id, 'arrived')],
        ['addNote', () => staff.addNote(member, booking.id, 'A note')],
        ['linkCase', () => staff.linkCase(member, booking.id, 'AB12-CD34')],
        ['createFeed', () => staff.createFeed(member, 'council-tax-adviser-khan')],
        ['listFeeds', () => staff.listFeeds(member)],
        ['revokeFeed', () => staff.revokeFeed(member, feed.id)],
      ];
      for (const [name, call] of calls) await assert.rejects(call(), refused(403), `${member.email} ${name}`);
    }
    await assert.rejects(staff.utilisation(editor.member, { from: date, to: date }), refused(403), 'neither insights nor appointments');
    assert.ok((await staff.utilisation(manager.member, { from: date, to: date })).length > 0, 'insights:read is enough for utilisation');

    const pages = [
      '/staff/appointments',
      `/staff/appointments/civic-centre?date=${date}`,
      `/staff/appointments/civic-centre?date=${date}&view=week`,
      `/staff/appointments/booking/${booking.id}`,
      `/staff/appointments/booking/${booking.id}/booked`,
      '/staff/appointments/civic-centre/book',
      '/staff/appointments/civic-centre/block',
      '/staff/appointments/feeds',
    ];
    const posts: [string, Record<string, string>][] = [
      [`/staff/appointments/booking/${booking.id}/attendance`, { status: 'arrived' }],
      [`/staff/appointments/booking/${booking.id}/notes`, { note: 'Hello' }],
      [`/staff/appointments/booking/${booking.id}/case`, { caseReference: 'AB12-CD34' }],
      [`/staff/appointments/booking/${booking.id}/move`, { start: at(date, '11:00').toISOString() }],
      [`/staff/appointments/booking/${booking.id}/cancel`, { reason: 'Testing' }],
      [`/staff/appointments/booking/${block.id}/unblock`, {}],
      ['/staff/appointments/civic-centre/book', { type: 'council-tax-advice', date, start: at(date, '11:00').toISOString(), ...caller }],
      [
        '/staff/appointments/civic-centre/block',
        {
          resource: 'council-tax-adviser-khan',
          'date-day': date.slice(8),
          'date-month': date.slice(5, 7),
          'date-year': date.slice(0, 4),
          from: '15:00',
          to: '15:20',
          reason: 'Leave',
        },
      ],
      ['/staff/appointments/feeds', { resource: 'council-tax-adviser-khan' }],
      [`/staff/appointments/feeds/${feed.id}/revoke`, {}],
    ];
    for (const who of [editor, manager]) {
      for (const url of pages) assert.equal((await who.client.get(url)).statusCode, 403, `${who.member.email} GET ${url}`);
      await who.client.get('/staff');
      const token = who.client.csrf();
      for (const [url, form] of posts) assert.equal((await who.client.post(url, form, { csrf: token })).statusCode, 403, `${who.member.email} POST ${url}`);
    }
    assert.equal((await editor.client.get(`/staff/appointments/utilisation?from=${date}&to=${date}`)).statusCode, 403);
    assert.equal((await manager.client.get(`/staff/appointments/utilisation?from=${date}&to=${date}`)).statusCode, 200);

    // Nothing changed.
    const after = await staff.bookingDetail(officer.member, booking.id);
    assert.equal(after.booking.status, 'confirmed');
    assert.equal(after.notes.length, 0);
    assert.equal((await staff.bookingDetail(officer.member, block.id)).booking.status, 'confirmed');
    assert.ok((await staff.listFeeds(officer.member)).some((f) => f.id === feed.id));
    assert.equal((await staff.calendar(officer.member, { location: 'civic-centre', date, view: 'day' })).counts.blocks, 1);
  });

  test('the day and week calendars show a booking under its resource, with the working hours and closed days', async () => {
    const date = nextDay();
    const booking = await councilTax(date, '10:00');
    const calendar = await staff.calendar(officer.member, { location: 'civic-centre', date, view: 'day' });
    assert.equal(calendar.days.length, 1);
    assert.ok(calendar.entries.some((e) => e.id === booking.id));
    const khan = calendar.resources.find((r) => r.code === 'council-tax-adviser-khan');
    assert.ok(
      khan?.days[0]?.entries.some((e) => e.id === booking.id),
      'under the adviser it is with',
    );
    assert.ok((khan?.days[0]?.hours.length ?? 0) > 0, 'the adviser works that day');
    assert.ok(!calendar.resources.find((r) => r.code === 'housing-adviser-patel')?.days[0]?.entries.some((e) => e.id === booking.id));
    assert.ok(calendar.counts.appointments >= 1);
    assert.equal(calendar.counts.byStatus.confirmed, calendar.counts.appointments);

    const week = await staff.calendar(officer.member, { location: 'civic-centre', date, view: 'week' });
    assert.equal(week.days.length, 7);
    assert.equal(new Date(`${week.days[0]?.date ?? ''}T12:00:00Z`).getUTCDay(), 1, 'weeks start on Monday');
    assert.equal(new Date(`${week.previous}T12:00:00Z`).getUTCDay(), 1, 'the week before starts on its Monday');
    assert.ok(week.entries.some((e) => e.id === booking.id));

    const day = await client.get(`/staff/appointments/civic-centre?date=${date}`);
    assert.equal(day.statusCode, 200);
    assert.ok(day.body.includes(`href="/staff/appointments/booking/${booking.id}"`));
    const text = pageText(day.body);
    assert.match(text, new RegExp(`10am to 10:20am Council tax advice at 10am, reference ${booking.reference} Sam Caller ${booking.reference} Booked`));
    assert.match(text, /Council tax adviser: Imran Khan 9am to 1pm and 2pm to 5pm|Council tax adviser: Imran Khan 9am to 1pm and 2pm to 4:30pm/);
    assert.match(day.body, /<caption class="govuk-table__caption govuk-table__caption--m">\s*Council tax adviser: Imran Khan/);
    assert.match(day.body, /Previous day/);
    assert.match(day.body, /Next day/);

    const weekPage = await client.get(`/staff/appointments/civic-centre?date=${date}&view=week`);
    assert.equal(weekPage.statusCode, 200);
    assert.ok(weekPage.body.includes(`href="/staff/appointments/booking/${booking.id}"`));
    assert.match(pageText(weekPage.body), /Week beginning Monday/);

    // The register office is closed on Christmas Eve.
    const christmasEve = await client.get('/staff/appointments/register-office?date=2026-12-24');
    assert.match(pageText(christmasEve.body), /Closed Christmas Eve: closed for the holiday/);
    const christmasWeek = await client.get('/staff/appointments/register-office?date=2026-12-24&view=week');
    assert.match(pageText(christmasWeek.body), /Thursday 24 December 2026 .*Closed Christmas Eve: closed for the holiday/);
    assert.match(pageText(christmasWeek.body), /Friday 25 December 2026 .*Closed Bank holiday/);

    assert.equal((await client.get('/staff/appointments/nowhere')).statusCode, 404);
    const bad = await client.get('/staff/appointments/civic-centre?date=2026-02-30');
    assert.equal(bad.statusCode, 200, 'a date that is not real shows today');

    const page = await client.get(`/staff/appointments/booking/${booking.id}`);
    assert.equal(page.statusCode, 200);
    const detail = pageText(page.body);
    assert.match(detail, new RegExp(`Council tax advice: ${booking.reference}`));
    assert.match(detail, /Name Sam Caller Email sam\.caller@example\.com/);
    assert.match(detail, /What would you like advice about\? Arrears on my bill/);
    assert.match(detail, /Council tax account number Not answered/);
  });

  test('staff book for a caller: type, date, time and details, with problems shown and the reference at the end', async () => {
    const choose = await client.get('/staff/appointments/civic-centre/book');
    assert.equal(choose.statusCode, 200);
    assert.match(pageText(choose.body), /What is the appointment for\? .*Council tax advice 20 minutes Housing options interview 45 minutes/);
    const noType = await client.get('/staff/appointments/civic-centre/book?type=');
    assert.equal(noType.statusCode, 400);
    assert.match(pageText(noType.body), /There is a problem Choose the type of appointment/);
    // The only type at a location is chosen for you.
    assert.equal(
      (await client.get('/staff/appointments/register-office/book')).headers.location,
      '/staff/appointments/register-office/book?type=birth-registration',
    );

    const dates = await client.get('/staff/appointments/civic-centre/book?type=council-tax-advice');
    assert.equal(dates.statusCode, 200);
    const date = sharedDay();
    assert.ok(dates.body.includes(`value="${date}"`));
    const times = await client.get(`/staff/appointments/civic-centre/book?type=council-tax-advice&date=${date}`);
    assert.equal(times.statusCode, 200);
    const start = at(date, '11:00').toISOString();
    assert.ok(times.body.includes(`value="${start}"`));
    assert.match(times.body, /name="topic"/, 'the type’s own questions are asked');

    const empty = await client.post('/staff/appointments/civic-centre/book', { type: 'council-tax-advice', date, topic: 'Discounts' });
    assert.equal(empty.statusCode, 400);
    const problems = pageText(empty.body);
    assert.match(problems, /There is a problem Choose a time Enter the caller’s full name (?!Enter the caller’s email)/, 'a caller may have no email address');
    assert.ok(empty.body.includes('>Discounts</textarea>'), 'answers are kept');

    const done = await client.post('/staff/appointments/civic-centre/book', { type: 'council-tax-advice', date, start, ...caller });
    assert.equal(done.statusCode, 303);
    const confirmation = await client.follow(done);
    assert.equal(confirmation.statusCode, 200);
    const reference = /Reference\s*<br><strong>([A-Z0-9]{4}-[A-Z0-9]{4})<\/strong>/.exec(confirmation.body)?.[1];
    assert.ok(reference, 'the confirmation shows the reference');
    const id = /\/staff\/appointments\/booking\/([0-9a-f-]{36})\/booked/.exec(String(done.headers.location))?.[1] ?? '';
    const booked = await service.booking(id);
    assert.equal(booked?.reference, reference);
    assert.equal(booked?.source, 'staff');
    assert.equal(booked?.start.toISOString(), start);

    const phoneDates = await client.get('/staff/appointments/by-phone/book?type=council-tax-advice');
    const phoneDate = /<option value="(\d{4}-\d{2}-\d{2})"/.exec(phoneDates.body)?.[1] ?? '';
    await client.get(`/staff/appointments/by-phone/book?type=council-tax-advice&date=${phoneDate}`);
    const noPhone = await client.post('/staff/appointments/by-phone/book', { type: 'council-tax-advice', date: phoneDate, ...caller });
    assert.equal(noPhone.statusCode, 400);
    assert.match(pageText(noPhone.body), /There is a problem Choose a time Enter a phone number so we can call them/);

    const taken = await client.post('/staff/appointments/civic-centre/book', { type: 'council-tax-advice', date, start, ...caller, name: 'Another Caller' });
    assert.equal(taken.statusCode, 409);
    assert.match(pageText(taken.body), /That time has just been taken\. Choose another time\./);
    assert.ok(taken.body.includes('value="Another Caller"'));
  });

  test('blocked-out time is refused where there are bookings, and stops bookings in it until removed', async () => {
    const date = nextDay();
    await councilTax(date, '10:00');
    await assert.rejects(
      staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '09:30', to: '10:30', reason: 'Training' }),
      problem('from', /Move or cancel the appointments in that time first/),
    );
    await assert.rejects(
      staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '14:00', to: '13:00', reason: '' }),
      (error: unknown) => error instanceof BookingProblems && Boolean(error.fields.to) && Boolean(error.fields.reason),
    );
    await assert.rejects(
      staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '9:03', to: '10:00', reason: 'Leave' }),
      problem('from', /5-minute boundary/),
    );

    const block = await staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '14:00', to: '15:00', reason: 'Team training' });
    assert.equal(block.kind, 'block');
    assert.equal(block.status, 'confirmed');
    assert.equal(block.type, undefined);
    assert.equal(block.source, 'staff');
    assert.deepEqual(await auditActions(block.id), ['appointment.time-blocked']);
    await assert.rejects(
      service.hold({ type: 'resident', residentId: null }, { type: 'council-tax-advice', location: 'civic-centre', start: at(date, '14:20') }),
      SlotTaken,
    );
    const free = await service.availability('council-tax-advice', 'civic-centre', { from: at(date, '13:00').getTime(), to: at(date, '16:00').getTime() });
    assert.deepEqual(
      free.map((s) => s.start.toISOString()),
      [at(date, '15:00').toISOString(), at(date, '15:20').toISOString(), at(date, '15:40').toISOString(), at(date, '16:00').toISOString()],
    );
    await assert.rejects(
      staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '14:30', to: '15:30', reason: 'Leave' }),
      problem('from', /already blocked out/),
    );

    const calendar = await client.get(`/staff/appointments/civic-centre?date=${date}`);
    assert.match(pageText(calendar.body), /2pm to 3pm Time blocked out at 2pm, reference [A-Z0-9-]+ Team training [A-Z0-9-]+ Blocked out/);

    await staff.unblock(officer.member, block.id);
    assert.equal((await service.booking(block.id))?.status, 'cancelled');
    const held = await service.hold({ type: 'resident', residentId: null }, { type: 'council-tax-advice', location: 'civic-centre', start: at(date, '14:20') });
    assert.equal(held.booking.status, 'held', 'the time can be booked again');

    // Through the page.
    const form = await client.get(`/staff/appointments/civic-centre/block?resource=council-tax-adviser-khan&date=${date}`);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /value="council-tax-adviser-khan" checked/);
    const parts = { 'date-day': String(Number(date.slice(8))), 'date-month': String(Number(date.slice(5, 7))), 'date-year': date.slice(0, 4) };
    const wrong = await client.post('/staff/appointments/civic-centre/block', {
      resource: 'council-tax-adviser-khan',
      ...parts,
      from: '09:30',
      to: '10:30',
      reason: 'Leave',
    });
    assert.equal(wrong.statusCode, 400);
    assert.match(pageText(wrong.body), /There is a problem There are appointments in that time\. Move or cancel the appointments in that time first/);
    const missing = await client.post('/staff/appointments/civic-centre/block', {
      resource: '',
      'date-day': '',
      'date-month': '',
      'date-year': '',
      from: '',
      to: '',
      reason: '',
    });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /href="#date-day">Enter the date/);
    const otherPlace = await client.post('/staff/appointments/civic-centre/block', {
      resource: 'registrar-anwar',
      ...parts,
      from: '16:00',
      to: '16:30',
      reason: 'Leave',
    });
    assert.equal(otherPlace.statusCode, 400, 'only resources at the location');
    const made = await client.post('/staff/appointments/civic-centre/block', {
      resource: 'council-tax-adviser-khan',
      ...parts,
      from: '16:00',
      to: '16:40',
      reason: 'Leave',
    });
    assert.equal(made.statusCode, 303);
    const shown = await client.follow(made);
    assert.match(pageText(shown.body), /Time blocked out for Council tax adviser: Imran Khan: .*, 4pm to 4:40pm/);
    const blockId = /\/staff\/appointments\/booking\/([0-9a-f-]{36})" *>Time blocked out/.exec(shown.body)?.[1];
    assert.ok(blockId);
    const blockPage = await client.get(`/staff/appointments/booking/${blockId}`);
    assert.match(pageText(blockPage.body), /Blocked-out time: .* Reason Leave/);
    await client.post(`/staff/appointments/booking/${blockId}/unblock`, {});
    assert.equal((await service.booking(blockId))?.status, 'cancelled');
  });

  test('attendance is recorded from the day of the appointment, and "did not attend" only once it has started', async () => {
    const date = nextDay();
    const booking = await councilTax(date, '10:00');
    const start = booking.start.getTime();
    await assert.rejects(staff.setAttendance(officer.member, booking.id, 'arrived', start - 24 * 60 * MINUTE_MS), refused(409), 'not before the day');
    await assert.rejects(staff.setAttendance(officer.member, booking.id, 'did-not-attend', start - 30 * MINUTE_MS), refused(409), 'not before the time');
    assert.equal((await staff.setAttendance(officer.member, booking.id, 'arrived', start - 30 * MINUTE_MS)).status, 'arrived');
    assert.equal((await staff.setAttendance(officer.member, booking.id, 'seen', start + 10 * MINUTE_MS)).status, 'seen');
    await assert.rejects(staff.setAttendance(officer.member, booking.id, 'arrived', start + 20 * MINUTE_MS), refused(409), 'a seen booking stays seen');
    assert.deepEqual(
      (await auditActions(booking.id)).filter((a) => a !== 'appointment.booked'),
      ['appointment.attendance-recorded', 'appointment.attendance-recorded'],
    );

    const missed = await councilTax(date, '11:00');
    assert.equal((await staff.setAttendance(officer.member, missed.id, 'did-not-attend', missed.start.getTime() + 5 * MINUTE_MS)).status, 'did-not-attend');
    const cancelled = await councilTax(date, '11:20');
    await service.cancel({ type: 'staff', member: officer.member }, cancelled.id, { reason: 'Caller rang to cancel' });
    await assert.rejects(staff.setAttendance(officer.member, cancelled.id, 'arrived', cancelled.start.getTime()), refused(409));

    // The page offers attendance only once the day has come, and explains why not before.
    const page = await client.get(`/staff/appointments/booking/${(await councilTax(date, '11:40')).id}`);
    assert.match(pageText(page.body), /You can record whether they came from the day of the appointment\./);
    assert.doesNotMatch(page.body, /Mark as arrived/);
    const early = await client.post(`/staff/appointments/booking/${missed.id}/attendance`, { status: 'arrived' });
    assert.equal(early.statusCode, 409);
    assert.match(
      pageText(early.body),
      /There is a problem Attendance can only be recorded for an appointment that is booked or where the person has arrived\./,
    );
  });

  test('notes are added to a booking, from 1 to 2000 characters', async () => {
    const booking = await councilTax(sharedDay(), '12:00');
    await assert.rejects(staff.addNote(officer.member, booking.id, '   '), problem('note', /Enter a note/));
    await assert.rejects(staff.addNote(officer.member, booking.id, 'x'.repeat(2001)), problem('note', /2000 characters or fewer/));
    await staff.addNote(officer.member, booking.id, 'x'.repeat(2000));
    await staff.addNote(officer.member, booking.id, 'Needs a hearing loop');
    const detail = await staff.bookingDetail(officer.member, booking.id);
    assert.deepEqual(
      detail.notes.map((n) => n.text.length),
      [2000, 20],
    );
    assert.equal(detail.notes[1]?.staffId, officer.member.id);
    assert.equal((await auditActions(booking.id)).filter((a) => a === 'appointment.note-added').length, 2);

    const none = await client.post(`/staff/appointments/booking/${booking.id}/notes`, { note: '' });
    assert.equal(none.statusCode, 400);
    assert.match(none.body, /href="#note">Enter a note/);
    const added = await client.post(`/staff/appointments/booking/${booking.id}/notes`, { note: 'Called to confirm' });
    assert.equal(added.statusCode, 303);
    const page = pageText((await client.follow(added)).body);
    assert.match(page, /Success Note added/);
    assert.match(page, new RegExp(`Called to confirm ${officer.member.name}`));
  });

  test('a booking is linked to a case the member may see, by its reference', async () => {
    const booking = await councilTax(sharedDay(), '14:00');
    const { case: opened } = await testApp.services.cases.service.open(
      { type: 'staff', member: officer.member },
      { type: 'general-enquiry', title: 'Advice about arrears', subject: { kind: 'person', name: 'Sam Caller' }, source: 'staff', channel: 'phone' },
    );
    await assert.rejects(staff.linkCase(officer.member, booking.id, ''), problem('caseReference', /Enter the case reference/));
    await assert.rejects(staff.linkCase(officer.member, booking.id, 'ZZZZ-ZZZZ'), problem('caseReference', /no case with that reference/));
    assert.equal(await staff.linkCase(officer.member, booking.id, opened.reference.toLowerCase()), opened.reference);
    assert.equal((await staff.bookingDetail(officer.member, booking.id)).caseReference, opened.reference);
    assert.ok((await auditActions(booking.id)).includes('appointment.case-linked'));
    const detail = await testApp.services.cases.service.caseDetail(officer.member, opened.reference);
    assert.ok(
      detail.events.some((event) => event.kind === 'note' && event.body?.startsWith(`Appointment ${booking.reference} linked`)),
      'the case timeline notes the appointment',
    );

    const other = await councilTax(sharedDay(), '14:20');
    const linked = await client.post(`/staff/appointments/booking/${other.id}/case`, { caseReference: opened.reference });
    assert.equal(linked.statusCode, 303);
    const page = await client.follow(linked);
    assert.ok(page.body.includes(`href="/staff/cases/${opened.reference}"`));
    assert.match(pageText(page.body), new RegExp(`Linked to case ${opened.reference}`));
    const unknown = await client.post(`/staff/appointments/booking/${other.id}/case`, { caseReference: 'ZZZZ-ZZZZ' });
    assert.equal(unknown.statusCode, 400);
    assert.match(pageText(unknown.body), /There is a problem There is no case with that reference/);
  });

  test('staff move a booking to a free time and cancel one, giving a reason', async () => {
    const date = sharedDay();
    const booking = await councilTax(date, '15:00');
    const chooser = await client.get(`/staff/appointments/booking/${booking.id}?moveDate=${date}`);
    assert.equal(chooser.statusCode, 200);
    const newStart = at(date, '16:00').toISOString();
    assert.ok(chooser.body.includes(`value="${newStart}"`));
    assert.ok(!chooser.body.includes(`value="${booking.start.toISOString()}"`), 'its own time is not free');
    const none = await client.post(`/staff/appointments/booking/${booking.id}/move`, { moveDate: date });
    assert.equal(none.statusCode, 400);
    assert.match(pageText(none.body), /Choose the new time/);
    const moved = await client.post(`/staff/appointments/booking/${booking.id}/move`, { moveDate: date, start: newStart });
    assert.equal(moved.statusCode, 303);
    assert.equal((await service.booking(booking.id))?.start.toISOString(), newStart);

    const noReason = await client.post(`/staff/appointments/booking/${booking.id}/cancel`, { reason: '' });
    assert.equal(noReason.statusCode, 400);
    assert.match(pageText(noReason.body), /There is a problem Enter why the appointment is cancelled/);
    const cancelled = await client.post(`/staff/appointments/booking/${booking.id}/cancel`, { reason: 'The adviser is ill' });
    assert.equal(cancelled.statusCode, 303);
    const after = await service.booking(booking.id);
    assert.equal(after?.status, 'cancelled');
    assert.equal(after?.cancelReason, 'The adviser is ill');
  });

  test('a calendar feed shows the resource’s bookings without personal details, until it is revoked', async () => {
    const date = sharedDay();
    const booking = await councilTax(date, '09:20', { ...caller, name: 'Feed Person', email: 'feed.person@example.com', phone: '07700 900982' });
    const gone = await councilTax(date, '09:40');
    await service.cancel({ type: 'staff', member: officer.member }, gone.id, { reason: 'No longer needed' });
    const feed = await staff.createFeed(officer.member, 'council-tax-adviser-khan');
    assert.match(feed.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(feed.url, `${testApp.config.baseUrl}/appointments/feeds/${feed.token}.ics`);
    const { rows } = await sql<{ token_hash: string }>`SELECT token_hash FROM appointment_feeds WHERE id = ${feed.id}`.execute(testApp.platform.database.db);
    assert.notEqual(rows[0]?.token_hash, feed.token, 'only a hash of the token is kept');
    assert.match(rows[0]?.token_hash ?? '', /^[0-9a-f]{64}$/);

    const path = new URL(feed.url).pathname;
    const res = await testApp.client().get(path);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/calendar/);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    assert.equal(res.headers['set-cookie'], undefined, 'no session for a calendar program');
    const body = res.body.replace(/\r\n /g, '');
    assert.ok(body.startsWith('BEGIN:VCALENDAR\r\n'));
    const host = new URL(testApp.config.baseUrl).host;
    assert.ok(body.includes(`UID:${booking.id}@${host}`));
    assert.ok(body.includes(`SUMMARY:Council tax advice (${booking.reference})`));
    assert.match(body, new RegExp(`UID:${gone.id}@${host}[\\s\\S]*?STATUS:CANCELLED`));
    for (const personal of ['Feed Person', 'feed.person@example.com', '07700', 'Arrears']) assert.ok(!body.includes(personal), `no ${personal} in the feed`);

    // Through the pages: the address is shown once, when the feed is made.
    const made = await client.get('/staff/appointments/feeds');
    assert.equal(made.statusCode, 200);
    assert.ok(!made.body.includes(feed.token));
    const created = await client.post('/staff/appointments/feeds', { resource: 'council-tax-adviser-khan' });
    assert.equal(created.statusCode, 200);
    const url = /id="feed-url">([^<]+)</.exec(created.body)?.[1];
    assert.ok(url?.endsWith('.ics'));
    assert.ok(!(await client.get('/staff/appointments/feeds')).body.includes(url ?? 'missing'));
    assert.equal((await client.post('/staff/appointments/feeds', { resource: '' })).statusCode, 400);

    await staff.revokeFeed(officer.member, feed.id);
    assert.equal((await testApp.client().get(path)).statusCode, 404);
    assert.equal(await staff.feedCalendar(feed.token), undefined);
    assert.equal((await testApp.client().get('/appointments/feeds/not-a-token.ics')).statusCode, 404);
    const second = await staff.listFeeds(officer.member);
    assert.ok(!second.some((f) => f.id === feed.id));
    const other = second[0];
    assert.ok(other);
    const revoked = await client.post(`/staff/appointments/feeds/${other.id}/revoke`, {});
    assert.equal(revoked.statusCode, 303);
    assert.equal((await testApp.client().get(new URL(url ?? '').pathname)).statusCode, 404);
    const actions = await auditActions(feed.id);
    assert.deepEqual(actions, ['appointment.feed-created', 'appointment.feed-revoked']);
  });

  test('utilisation counts capacity, bookings and attendance per type and location', async () => {
    // Monday to Wednesday: the register office and civic centre keep the same hours on each.
    const date = nextDay(3);
    const seen = await councilTax(date, '09:00');
    const missed = await councilTax(date, '09:20');
    const cancelled = await councilTax(date, '09:40');
    await councilTax(date, '10:00');
    await staff.setAttendance(officer.member, seen.id, 'seen', seen.start.getTime() + MINUTE_MS);
    await staff.setAttendance(officer.member, missed.id, 'did-not-attend', missed.start.getTime() + 10 * MINUTE_MS);
    await service.cancel({ type: 'staff', member: officer.member }, cancelled.id, { reason: 'Caller rang' });
    await staff.block(officer.member, { resource: 'council-tax-adviser-khan', date, from: '15:00', to: '16:00', reason: 'Training' });

    const rows = await staff.utilisation(manager.member, { from: date, to: date });
    const row = (type: string, location: string) => rows.find((r) => r.type.code === type && r.location.code === location);
    assert.deepEqual(row('council-tax-advice', 'civic-centre'), {
      type: { code: 'council-tax-advice', name: 'Council tax advice' },
      location: { code: 'civic-centre', name: 'Kingsmere Civic Centre' },
      // 9am to 1pm and 2pm to 5pm in 20-minute appointments, with one adviser.
      capacity: 21,
      booked: 3,
      attended: 1,
      didNotAttend: 1,
      cancelled: 1,
      utilisation: 14.3,
    });
    assert.equal(row('council-tax-advice', 'by-phone')?.capacity, 42, 'two phone advisers side by side');
    assert.equal(row('housing-options-interview', 'civic-centre')?.capacity, 14, 'two advisers and two rooms, on the hour');
    assert.equal(row('birth-registration', 'register-office')?.capacity, 26, 'two registrars and two rooms, every half hour outside lunch');
    assert.equal(row('recycling-centre-visit', 'ashford-lane-hwrc')?.capacity, 36 * 12, '12 cars every 15 minutes, 8am to 5pm');
    assert.equal(row('recycling-centre-visit', 'ashford-lane-hwrc')?.utilisation, 0);

    await assert.rejects(staff.utilisation(manager.member, { from: date, to: '2020-01-01' }), problem('to', /same as or after/));
    await assert.rejects(staff.utilisation(manager.member, { from: 'soon', to: date }), problem('from', /real start date/));

    const page = await manager.client.get(`/staff/appointments/utilisation?from=${date}&to=${date}`);
    assert.equal(page.statusCode, 200);
    assert.match(pageText(page.body), /Council tax advice Kingsmere Civic Centre 21 3 1 1 1 14\.3%/);
    const parts = await manager.client.get(
      `/staff/appointments/utilisation?from-day=${Number(date.slice(8))}&from-month=${Number(date.slice(5, 7))}&from-year=${date.slice(0, 4)}&to-day=31&to-month=2&to-year=2027`,
    );
    assert.equal(parts.statusCode, 400);
    assert.match(parts.body, /href="#to-day">Enter a real end date/);
  });
});
