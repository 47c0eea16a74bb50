import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { BookingProblems, SlotTaken, type AppointmentsService } from './service.js';
import { appointmentProblems } from './model/config.js';

const resident = { type: 'resident', residentId: null } as const;
const details = (extra: Record<string, unknown> = {}) => ({ name: 'Jo Resident', email: 'jo@example.com', ...extra });
const visitAnswers = { registration: 'KM21 ABC', vehicle: 'car' };
const birthAnswers = { babyName: 'Ada Resident', whoIsComing: 'both-parents' };

describe('appointment bookings', () => {
  let testApp: TestApp;
  let appointments: AppointmentsService;

  before(async () => {
    testApp = await createTestApp({ seedDemo: true });
    appointments = testApp.services.appointments.service;
  });
  after(async () => {
    await testApp.close();
  });

  const db = () => appointments.repo.db;
  /** A slot with nothing booked in it yet, a few days ahead so notice and cut-offs do not get in the way. */
  const freeSlot = async (type: string, location: string, skip = 0) => {
    const slots = await appointments.availability(type, location, { from: Date.now() + 3 * 86_400_000 });
    const slot = slots.filter((s) => s.placesLeft === (appointments.config.types.get(type)?.capacityPerSlot ?? 1) || type !== 'recycling-centre-visit')[skip];
    assert.ok(slot, `a free ${type} slot`);
    return slot;
  };

  test('the shipped configuration loads with no problems', () => {
    assert.deepEqual(appointmentProblems(testApp.platform.council.dir, new Set(testApp.services.cases.service.types.keys())), []);
  });

  test('a hold claims the places; confirming sends an email with a calendar file; confirming again makes no second booking', async () => {
    const slot = await freeSlot('birth-registration', 'register-office', 5);
    const { booking, key } = await appointments.hold(resident, { type: 'birth-registration', location: 'register-office', start: slot.start });
    assert.equal(booking.status, 'held');
    assert.deepEqual(
      booking.resources.map((r) => r.code),
      slot.resources,
    );
    const claims = await db()
      .selectFrom('appointment_claims')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('booking_id', '=', booking.id)
      .executeTakeFirstOrThrow();
    assert.equal(claims.n, 12, 'two resources for six five-minute granules');
    const first = await appointments.confirm(resident, booking.id, key, details(birthAnswers));
    const second = await appointments.confirm(resident, booking.id, key, details(birthAnswers));
    assert.equal(first.status, 'confirmed');
    assert.equal(second.id, first.id);
    const emails = (await testApp.services.notifier.listMessages({ limit: 500 })).filter((m) => m.related?.id === booking.id);
    assert.equal(emails.length, 1, 'one confirmation email');
    const message = await testApp.services.notifier.getMessage(emails[0]?.id ?? '');
    assert.match(message?.body ?? '', new RegExp(`Reference: ${first.reference}`));
    assert.match(message?.body ?? '', /\/appointments\/manage\//);
    assert.deepEqual(emails[0]?.attachmentNames, ['appointment.ics']);
    const ics = appointments.icsFor(first);
    assert.match(ics, /BEGIN:VEVENT/);
    assert.match(ics, new RegExp(`UID:${first.id}@`));
    assert.match(ics, new RegExp(`DTSTART:${slot.start.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`));
  });

  test('bad details are refused field by field, and the hold stays', async () => {
    const slot = await freeSlot('birth-registration', 'register-office', 7);
    const { booking, key } = await appointments.hold(resident, { type: 'birth-registration', location: 'register-office', start: slot.start });
    await assert.rejects(
      appointments.confirm(resident, booking.id, key, { name: '', email: 'not-an-email', remindBy: 'sms', whoIsComing: 'nobody' }),
      (error: unknown) => {
        assert.ok(error instanceof BookingProblems);
        assert.deepEqual(Object.keys(error.fields).sort(), ['babyName', 'email', 'name', 'phone', 'whoIsComing']);
        return true;
      },
    );
    assert.equal((await appointments.booking(booking.id))?.status, 'held');
    await assert.rejects(appointments.confirm(resident, booking.id, 'a-wrong-key', details(birthAnswers)), /not found/i);
  });

  test('many people racing for one recycling centre slot: exactly its twelve places are held', async () => {
    const slot = await freeSlot('recycling-centre-visit', 'ashford-lane-hwrc', 3);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => appointments.hold(resident, { type: 'recycling-centre-visit', location: 'ashford-lane-hwrc', start: slot.start })),
    );
    const held = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(held.length, 12);
    assert.ok(refused.every((r) => r.reason instanceof SlotTaken));
    const after = await appointments.availability('recycling-centre-visit', 'ashford-lane-hwrc', { from: slot.start.getTime(), to: slot.start.getTime() });
    assert.equal(after.length, 0, 'the slot is no longer offered');
  });

  test('racing for one registrar slot: two registrars and two rooms make two bookings, no more', async () => {
    const slot = await freeSlot('birth-registration', 'register-office', 9);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => appointments.hold(resident, { type: 'birth-registration', location: 'register-office', start: slot.start })),
    );
    const held = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.booking] : []));
    assert.equal(held.length, 2);
    assert.notDeepEqual(held[0]?.resources, held[1]?.resources);
  });

  test('the database itself refuses a second claim on a place, and a place the resource does not have', async () => {
    const slot = await freeSlot('housing-options-interview', 'civic-centre', 2);
    const { booking } = await appointments.hold(resident, { type: 'housing-options-interview', location: 'civic-centre', start: slot.start });
    const claim = await db().selectFrom('appointment_claims').selectAll().where('booking_id', '=', booking.id).orderBy('granule').executeTakeFirstOrThrow();
    await assert.rejects(
      sql`INSERT INTO appointment_claims (resource_code, granule, place, booking_id) VALUES (${claim.resource_code}, ${claim.granule}, ${claim.place}, ${booking.id}::uuid)`.execute(
        db(),
      ),
      (error: { code?: string }) => error.code === '23505',
    );
    await assert.rejects(
      sql`INSERT INTO appointment_claims (resource_code, granule, place, booking_id) VALUES (${claim.resource_code}, ${new Date(0)}, 2, ${booking.id}::uuid)`.execute(
        db(),
      ),
      (error: { code?: string }) => error.code === '23503',
    );
  });

  test('a hold that runs out lets the place go, and can no longer be confirmed', async () => {
    const slot = await freeSlot('council-tax-advice', 'civic-centre', 4);
    const first = await appointments.hold(resident, { type: 'council-tax-advice', location: 'civic-centre', start: slot.start });
    await assert.rejects(appointments.hold(resident, { type: 'council-tax-advice', location: 'civic-centre', start: slot.start }), SlotTaken);
    await db()
      .updateTable('appointment_bookings')
      .set({ hold_expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', first.booking.id)
      .execute();
    const second = await appointments.hold(resident, { type: 'council-tax-advice', location: 'civic-centre', start: slot.start });
    assert.equal(second.booking.status, 'held');
    assert.equal((await appointments.booking(first.booking.id))?.status, 'expired');
    await assert.rejects(appointments.confirm(resident, first.booking.id, first.key, details({ topic: 'My bill' })), /could not keep that time/);
  });

  test('a time that is not on the grid, outside the hours, or inside the notice is refused', async () => {
    const slot = await freeSlot('council-tax-advice', 'civic-centre', 6);
    const hold = (start: Date) => appointments.hold(resident, { type: 'council-tax-advice', location: 'civic-centre', start });
    await assert.rejects(hold(new Date(slot.start.getTime() + 60_000)), SlotTaken);
    await assert.rejects(hold(new Date(slot.start.getTime() + 5 * 60_000)), SlotTaken);
    const night = new Date(slot.start);
    night.setUTCHours(2, 0, 0, 0);
    await assert.rejects(hold(night), SlotTaken);
    await assert.rejects(hold(new Date(Math.ceil((Date.now() + 10 * 60_000) / 300_000) * 300_000)), SlotTaken);
    await assert.rejects(hold(new Date(Date.now() + 400 * 86_400_000)), SlotTaken);
    await assert.rejects(appointments.hold(resident, { type: 'no-such-type', location: 'civic-centre', start: slot.start }), /not found/i);
    await assert.rejects(appointments.hold(resident, { type: 'council-tax-advice', location: 'register-office', start: slot.start }), /not found/i);
  });

  test('moving keeps the reference and frees the old time; cancelling frees it and tells the resident', async () => {
    const slot = await freeSlot('housing-options-interview', 'civic-centre', 8);
    const later = await freeSlot('housing-options-interview', 'civic-centre', 20);
    const { booking, key } = await appointments.hold(resident, { type: 'housing-options-interview', location: 'civic-centre', start: slot.start });
    const confirmed = await appointments.confirm(resident, booking.id, key, details({ atRisk: 'no' }));
    const moved = await appointments.move(resident, confirmed.id, later.start, { viaLink: true });
    assert.equal(moved.reference, confirmed.reference);
    assert.equal(moved.start.getTime(), later.start.getTime());
    assert.equal(moved.sequence, confirmed.sequence + 1);
    const back = await appointments.availability('housing-options-interview', 'civic-centre', { from: slot.start.getTime(), to: slot.start.getTime() });
    assert.equal(back[0]?.placesLeft, 1, 'the old time is free again');
    // A resident without the link, and not the owner, cannot touch it.
    await assert.rejects(appointments.cancel({ type: 'resident', residentId: '00000000-0000-4000-8000-000000000000' }, confirmed.id), /not found/i);
    const cancelled = await appointments.cancel(resident, confirmed.id, { viaLink: true });
    assert.equal(cancelled.status, 'cancelled');
    const claims = await db().selectFrom('appointment_claims').select('booking_id').where('booking_id', '=', confirmed.id).execute();
    assert.equal(claims.length, 0);
    const emails = (await testApp.services.notifier.listMessages({ limit: 500 })).filter((m) => m.related?.id === confirmed.id);
    assert.deepEqual(emails.map((m) => m.subject?.split(':')[0]).sort(), [
      'Your appointment has changed',
      'Your appointment is booked',
      'Your appointment is cancelled',
    ]);
    const audit = await db()
      .withTables<{ audit_events: { action: string; subject_id: string } }>()
      .selectFrom('audit_events')
      .select('action')
      .where('subject_id', '=', confirmed.id)
      .execute();
    assert.deepEqual(audit.map((a) => a.action).sort(), ['appointment.booked', 'appointment.cancelled', 'appointment.moved']);
  });

  test('inside the cut-off a resident cannot cancel online, but staff can with a reason', async () => {
    const slot = (await appointments.availability('council-tax-advice', 'civic-centre'))[0];
    assert.ok(slot);
    const { booking, key } = await appointments.hold(resident, { type: 'council-tax-advice', location: 'civic-centre', start: slot.start });
    await appointments.confirm(resident, booking.id, key, details({ topic: 'Arrears' }));
    // Bring the appointment inside its hour's cut-off by moving the clock of the booking, not the test.
    await db()
      .updateTable('appointment_bookings')
      .set({ starts_at: new Date(Date.now() + 30 * 60_000), ends_at: new Date(Date.now() + 50 * 60_000) })
      .where('id', '=', booking.id)
      .execute();
    await assert.rejects(appointments.cancel(resident, booking.id, { viaLink: true }), /can no longer be cancelled online/);
    const officer = await testApp.services.account.staff.findMemberByEmail('case-officer@kingsmere.example');
    assert.ok(officer);
    await assert.rejects(appointments.cancel({ type: 'staff', member: officer }, booking.id), BookingProblems);
    const cancelled = await appointments.cancel({ type: 'staff', member: officer }, booking.id, { reason: 'Adviser unwell' });
    assert.equal(cancelled.cancelReason, 'Adviser unwell');
    const editor = await testApp.services.account.staff.findMemberByEmail('content-editor@kingsmere.example');
    assert.ok(editor);
    const other = await freeSlot('council-tax-advice', 'civic-centre', 10);
    await assert.rejects(
      appointments.hold({ type: 'staff', member: editor }, { type: 'council-tax-advice', location: 'civic-centre', start: other.start }),
      /permission/,
    );
    await assert.rejects(
      appointments.bookFor(editor, { type: 'council-tax-advice', location: 'civic-centre', start: other.start, details: details({ topic: 'Bill' }) }),
      /permission/,
    );
  });

  test('staff book for a caller in one step', async () => {
    const officer = await testApp.services.account.staff.findMemberByEmail('case-officer@kingsmere.example');
    assert.ok(officer);
    const slot = await freeSlot('council-tax-advice', 'by-phone', 2);
    const booking = await appointments.bookFor(officer, {
      type: 'council-tax-advice',
      location: 'by-phone',
      start: slot.start,
      details: details({ phone: '01632 960 001', topic: 'Discounts' }),
    });
    assert.equal(booking.status, 'confirmed');
    assert.equal(booking.source, 'staff');
    assert.equal(booking.phone, '01632 960 001');
    // A caller with no email address: the booking is made, and there is no confirmation email to send.
    const other = await freeSlot('council-tax-advice', 'by-phone', 3);
    const noEmail = await appointments.bookFor(officer, {
      type: 'council-tax-advice',
      location: 'by-phone',
      start: other.start,
      details: { name: 'Pat Caller', phone: '01632 960 002', topic: 'Arrears' },
    });
    assert.equal(noEmail.email, null);
    assert.equal((await testApp.services.notifier.listMessages({ limit: 500 })).filter((m) => m.related?.id === noEmail.id).length, 0);
    await assert.rejects(
      appointments.bookFor(officer, {
        type: 'council-tax-advice',
        location: 'by-phone',
        start: other.start,
        details: { name: 'Pat Caller', topic: 'Arrears' },
      }),
      (error: unknown) => error instanceof BookingProblems && error.fields.phone === 'Enter a phone number so we can call you',
    );
  });

  test('reminders go once, at the configured time, by the way chosen', async () => {
    const slot = await freeSlot('recycling-centre-visit', 'ashford-lane-hwrc', 30);
    const { booking, key } = await appointments.hold(resident, { type: 'recycling-centre-visit', location: 'ashford-lane-hwrc', start: slot.start });
    await appointments.confirm(resident, booking.id, key, details({ ...visitAnswers, phone: '07700 900982', remindBy: 'sms' }));
    const start = slot.start.getTime();
    const texts = async () => (await testApp.services.notifier.listMessages({ limit: 500 })).filter((m) => m.related?.id === booking.id && m.channel === 'sms');
    await appointments.sendReminders(start - 3 * 3_600_000);
    assert.equal((await texts()).length, 0, 'not yet: the reminder is two hours before');
    await appointments.sendReminders(start - 2 * 3_600_000 + 1000);
    assert.equal((await texts()).length, 1);
    await appointments.sendReminders(start - 3_600_000);
    assert.equal((await texts()).length, 1, 'only once');
    assert.match(
      (await testApp.services.notifier.getMessage((await texts())[0]?.id ?? ''))?.body ?? '',
      /^Reminder from Kingsmere Council: Book a visit to the recycling centre, /,
    );
  });

  test('the waiting list: a cancelled time is held for the first person waiting and offered by email', async () => {
    const slot = await freeSlot('housing-options-interview', 'civic-centre', 30);
    const date = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(slot.start);
    await assert.rejects(
      appointments.joinWaitingList(resident, {
        type: 'housing-options-interview',
        location: 'civic-centre',
        name: '',
        email: 'x',
        fromDate: date,
        toDate: '2020-01-01',
      }),
      (error: unknown) => error instanceof BookingProblems && Object.keys(error.fields).sort().join() === 'email,name,toDate',
    );
    await appointments.joinWaitingList(resident, {
      type: 'housing-options-interview',
      location: 'civic-centre',
      name: 'Wendy Waiting',
      email: 'wendy@example.com',
      fromDate: date,
      toDate: date,
    });
    const { booking, key } = await appointments.hold(resident, { type: 'housing-options-interview', location: 'civic-centre', start: slot.start });
    const confirmed = await appointments.confirm(resident, booking.id, key, details({ atRisk: 'yes' }));
    await appointments.cancel(resident, confirmed.id, { viaLink: true });
    const offers = (await testApp.services.notifier.listMessages({ limit: 500 })).filter((m) => m.recipient === 'wendy@example.com');
    assert.equal(offers.length, 1);
    const offer = await testApp.services.notifier.getMessage(offers[0]?.id ?? '');
    const token = decodeURIComponent(/\/appointments\/offer\/(\S+)/.exec(offer?.body ?? '')?.[1] ?? '');
    const found = appointments.offerFromToken(token);
    assert.ok(found);
    const held = await appointments.heldBooking(found.id, found.key);
    assert.equal(held?.name, 'Wendy Waiting');
    assert.equal(held?.start.getTime(), slot.start.getTime());
    const booked = await appointments.confirm(resident, found.id, found.key, { name: 'Wendy Waiting', email: 'wendy@example.com', atRisk: 'yes' });
    assert.equal(booked.status, 'confirmed');
  });
});
