// What staff do with appointments beyond booking, moving and cancelling (which are in the service):
// the calendar of a location, blocked-out time, attendance, notes, links to cases, private calendar
// feeds and utilisation figures. Every function checks the permission itself and audits each change
// in the transaction that makes it.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { recordAudit } from '#platform/audit/index';
import { localToInstant, parseCalendarDate, UK_TIME_ZONE } from '#platform/council/dates';
import { HttpError } from '#platform/http/errors';
import { randomReference, sha256Hex } from '#platform/security/tokens';
import { assertCan, can, type StaffMember } from '#modules/account/index';
import { calendarFile, type CalendarEvent } from './ical.js';
import type { BookingStatus } from './migrations.js';
import { availableSlots, closedReason, dayNumberToDate, GRANULE_MS, heldWindow, localDayNumber, placesFree } from './model/availability.js';
import type { AppointmentType, Location, Resource } from './model/config.js';
import { formatDay } from './model/when.js';
import { isPlaceTaken, type AppointmentsDb, type BookingRow } from './repository.js';
import { BookingProblems, type AppointmentsService, type Booking } from './service.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** A calendar feed shows this much of the past and the future. */
const FEED_PAST_DAYS = 30;
const FEED_FUTURE_DAYS = 120;
/** The longest period utilisation is worked out for at once. */
const UTILISATION_MAX_DAYS = 366;
const NOTE_MAX = 2000;
const REASON_MAX = 500;
const FEED_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CLOCK = /^(\d{1,2}):(\d{2})$/;

/** Statuses of a booking that went ahead or is still to happen: what counts as booked. */
export const BOOKED_STATUSES: readonly BookingStatus[] = ['confirmed', 'arrived', 'seen', 'did-not-attend'];
/** What the calendar shows: bookings still being made (a hold), booked and attended ones, and blocked-out time. */
const CALENDAR_STATUSES: readonly BookingStatus[] = ['held', ...BOOKED_STATUSES];

export type Attendance = 'arrived' | 'seen' | 'did-not-attend';
export const ATTENDANCE: readonly Attendance[] = ['arrived', 'seen', 'did-not-attend'];

export interface CalendarDay {
  date: string;
  dayNumber: number;
  /** "Tuesday 8 December 2026". */
  label: string;
  /** Why the location is shut all day, if it is. */
  closed: string | undefined;
  appointments: number;
  blocks: number;
}

export interface CalendarResourceDay {
  date: string;
  /** When the resource works that day; none when it does not. */
  hours: { from: Date; to: Date }[];
  /** Bookings and blocks on the resource that day, in time order. */
  entries: Booking[];
}

export interface CalendarResource {
  code: string;
  name: string;
  kind: Resource['kind'];
  days: CalendarResourceDay[];
}

export interface StaffCalendar {
  location: Location;
  view: 'day' | 'week';
  date: string;
  days: CalendarDay[];
  resources: CalendarResource[];
  /** Everything in the period once, in time order. */
  entries: Booking[];
  counts: { appointments: number; blocks: number; byStatus: Partial<Record<BookingStatus, number>> };
  /** The same view a day or a week either side. */
  previous: string;
  next: string;
}

export interface UtilisationRow {
  type: { code: string; name: string };
  location: { code: string; name: string };
  /** Bookings the type could take in the period if nothing were booked. */
  capacity: number;
  booked: number;
  attended: number;
  didNotAttend: number;
  cancelled: number;
  /** Booked as a percentage of capacity, one decimal place; null when there was no capacity. */
  utilisation: number | null;
}

const actorOf = (member: StaffMember) => ({ type: 'staff' as const, id: member.id, label: member.name });
const auditDb = (tx: AppointmentsDb) => tx as unknown as Kysely<object>;

function newReference(): string {
  const raw = randomReference();
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

/** Minutes after midnight of "09:30" or "9:30" on the booking grid; undefined when it is not such a time. */
function clockOf(value: string): number | undefined {
  const match = CLOCK.exec(value.trim());
  if (!match) return undefined;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return undefined;
  return hours * 60 + minutes;
}

/** Monday of the week a day is in. 1970-01-01 (day 0) was a Thursday. */
const mondayOf = (dayNumber: number) => dayNumber - ((((dayNumber + 3) % 7) + 7) % 7);
const dayStart = (dayNumber: number) => localToInstant(dayNumber, 0, UK_TIME_ZONE);

export function createAppointmentsStaff(service: AppointmentsService) {
  const { config, repo } = service;
  const cases = service.cases.service;

  const locationCalled = (code: string): Location => {
    const location = config.locations.get(code);
    if (!location) throw new HttpError(404, 'Page not found');
    return location;
  };

  const resourcesAt = (location: string): Resource[] => [...config.resources.values()].filter((r) => r.location === location);

  /** The types booked at a location, with the location among theirs. */
  const typesAt = (location: string): AppointmentType[] => [...config.types.values()].filter((t) => t.locations.includes(location));

  async function lockedBooking(tx: AppointmentsDb, id: string): Promise<BookingRow> {
    const row = await repo.byId(tx, id, { lock: true });
    if (!row || row.status === 'held' || row.status === 'expired') throw new HttpError(404, 'Page not found');
    return row;
  }

  /** A day's or a week's bookings and blocked-out time at a location, by resource, with when each resource works. */
  async function calendar(member: StaffMember, query: { location: string; date: string; view: 'day' | 'week' }, now = Date.now()): Promise<StaffCalendar> {
    assertCan(member, 'appointments:manage');
    const location = locationCalled(query.location);
    const day = parseCalendarDate(query.date);
    if (day === undefined) throw new HttpError(400, 'Enter a real date, like 2026-12-08.');
    const first = query.view === 'week' ? mondayOf(day) : day;
    const count = query.view === 'week' ? 7 : 1;
    const dayNumbers = Array.from({ length: count }, (_, i) => first + i);
    const from = dayStart(first);
    const to = dayStart(first + count);
    const rows = await repo.between(repo.db, { location: location.code, from: new Date(from), to: new Date(to), statuses: CALENDAR_STATUSES });
    // A hold that has run out is free time, even before it is tidied away.
    const entries = rows
      .filter((row) => row.status !== 'held' || (row.hold_expires_at !== null && new Date(row.hold_expires_at).getTime() > now))
      .map((row) => service.toBooking(row, now));
    const onDay = (booking: Booking, dayNumber: number) => booking.start.getTime() < dayStart(dayNumber + 1) && booking.end.getTime() > dayStart(dayNumber);
    const isAppointment = (b: Booking) => b.kind === 'booking' && b.status !== 'held';

    const byStatus: Partial<Record<BookingStatus, number>> = {};
    for (const entry of entries) if (isAppointment(entry)) byStatus[entry.status] = (byStatus[entry.status] ?? 0) + 1;
    const step = count;
    return {
      location,
      view: query.view,
      date: dayNumberToDate(day),
      days: dayNumbers.map((n) => {
        const date = dayNumberToDate(n);
        const that = entries.filter((b) => onDay(b, n));
        return {
          date,
          dayNumber: n,
          label: formatDay(new Date(localToInstant(n, 12 * 60, UK_TIME_ZONE))),
          closed: closedReason(config, location.code, date),
          appointments: that.filter(isAppointment).length,
          blocks: that.filter((b) => b.kind === 'block').length,
        };
      }),
      resources: resourcesAt(location.code).map((resource) => ({
        code: resource.code,
        name: resource.name,
        kind: resource.kind,
        days: dayNumbers.map((n) => ({
          date: dayNumberToDate(n),
          hours: service.workingTime(resource.code, n).map(([a, b]) => ({ from: new Date(a), to: new Date(b) })),
          entries: entries.filter((b) => onDay(b, n) && b.resources.some((r) => r.code === resource.code)),
        })),
      })),
      entries,
      counts: { appointments: entries.filter(isAppointment).length, blocks: entries.filter((b) => b.kind === 'block').length, byStatus },
      previous: dayNumberToDate(first - step),
      next: dayNumberToDate(first + step),
    };
  }

  /** One booking or block with its notes and the case it is linked to, for its staff page. */
  async function bookingDetail(member: StaffMember, id: string) {
    assertCan(member, 'appointments:manage');
    const row = await repo.byId(repo.db, id);
    if (!row || row.status === 'held' || row.status === 'expired') throw new HttpError(404, 'Page not found');
    const [notes, linked] = await Promise.all([repo.notes(repo.db, id), row.case_id ? cases.repo.casesByIds([row.case_id]) : Promise.resolve([])]);
    const answers = (row.answers ?? {}) as Record<string, unknown>;
    return {
      booking: service.toBooking(row),
      notes: notes.map((note) => ({ id: note.id, text: note.text, staffId: note.staff_id, at: new Date(note.created_at) })),
      caseReference: linked[0]?.reference,
      bookedBy: row.booked_by,
      createdAt: new Date(row.created_at),
      blockReason: row.kind === 'block' && typeof answers.reason === 'string' ? answers.reason : undefined,
    };
  }

  /**
   * Blocks out time on a resource (leave, training, a room out of use): the block claims every place
   * of the resource for the time, so nothing can be booked in it. Time already booked is refused.
   */
  async function block(
    member: StaffMember,
    input: { resource: string; date: string; from: string; to: string; reason: string },
    now = Date.now(),
  ): Promise<Booking> {
    assertCan(member, 'appointments:manage');
    const errors: Record<string, string> = {};
    const resource = config.resources.get(input.resource);
    if (!resource) errors.resource = 'Choose what to block out time for';
    const day = parseCalendarDate(input.date);
    if (day === undefined) errors.date = 'Enter a real date';
    const from = clockOf(input.from);
    const to = clockOf(input.to);
    const onGrid = (minutes: number) => (minutes * MINUTE_MS) % GRANULE_MS === 0;
    if (from === undefined) errors.from = 'Enter the start time on the 24-hour clock, like 09:30';
    else if (!onGrid(from)) errors.from = 'Enter a start time on a 5-minute boundary, like 09:30 or 09:35';
    if (to === undefined) errors.to = 'Enter the end time on the 24-hour clock, like 12:30';
    else if (!onGrid(to)) errors.to = 'Enter an end time on a 5-minute boundary, like 12:30 or 12:35';
    else if (from !== undefined && to <= from) errors.to = 'The end time must be after the start time';
    const reason = input.reason.trim();
    if (!reason) errors.reason = 'Enter why the time is blocked out';
    else if (reason.length > REASON_MAX) errors.reason = `Reason must be ${REASON_MAX} characters or fewer`;
    if (!errors.date && !errors.to && day !== undefined && to !== undefined && localToInstant(day, to, UK_TIME_ZONE) <= now)
      errors.date = 'That time has already passed. Block out time that is still to come';
    if (Object.keys(errors).length > 0 || !resource || day === undefined || from === undefined || to === undefined)
      throw new BookingProblems(Object.fromEntries(['resource', 'date', 'from', 'to', 'reason'].flatMap((f) => (errors[f] ? [[f, errors[f]]] : []))));

    const start = new Date(localToInstant(day, from, UK_TIME_ZONE));
    const end = new Date(localToInstant(day, to, UK_TIME_ZONE));
    const booked = () => new BookingProblems({ from: 'There are appointments in that time. Move or cancel the appointments in that time first' });
    try {
      const row = await repo.transaction(async (tx) => {
        await repo.expireHolds(tx);
        const there = await repo.between(tx, { resources: [resource.code], from: start, to: end });
        if (there.some((r) => r.kind === 'booking')) throw booked();
        if (there.length > 0) throw new BookingProblems({ from: 'Some of that time is already blocked out. Choose a time that is not' });
        const inserted = await repo.insertBooking(
          tx,
          {
            reference: newReference(),
            kind: 'block',
            type_code: null,
            location_code: resource.location,
            status: 'confirmed',
            starts_at: start,
            ends_at: end,
            source: 'staff',
            booked_by: member.id,
            answers: JSON.stringify({ reason }),
            confirmed_at: sql<Date>`now()` as unknown as Date,
          },
          [resource.code],
        );
        // Refused by the database if a booking's buffer, or one made meanwhile, holds any place in the time.
        await repo.claimAll(tx, inserted.id, resource.code, start, end);
        await recordAudit(auditDb(tx), {
          actor: actorOf(member),
          action: 'appointment.time-blocked',
          subject: { type: 'appointment', id: inserted.id },
          reason,
          details: { reference: inserted.reference, resource: resource.code, from: start, to: end },
        });
        return inserted;
      });
      return service.toBooking(row);
    } catch (error) {
      if (isPlaceTaken(error)) throw booked();
      throw error;
    }
  }

  /** Frees blocked-out time for booking again. */
  async function unblock(member: StaffMember, id: string): Promise<Booking> {
    assertCan(member, 'appointments:manage');
    const row = await repo.transaction(async (tx) => {
      const current = await lockedBooking(tx, id);
      if (current.kind !== 'block') throw new HttpError(404, 'Page not found');
      if (current.status === 'cancelled') return current;
      await repo.release(tx, id);
      await repo.updateBooking(tx, id, { status: 'cancelled', cancelled_at: sql<Date>`now()` as unknown as Date, sequence: current.sequence + 1 });
      await recordAudit(auditDb(tx), {
        actor: actorOf(member),
        action: 'appointment.time-unblocked',
        subject: { type: 'appointment', id },
        details: { reference: current.reference, resource: current.resources[0] },
      });
      return lockedBooking(tx, id);
    });
    return service.toBooking(row);
  }

  /**
   * Records whether the person came: from the day of the appointment, for one that is booked or
   * where they have arrived; "did not attend" only once it should have started.
   */
  async function setAttendance(member: StaffMember, id: string, status: Attendance, now = Date.now()): Promise<Booking> {
    assertCan(member, 'appointments:manage');
    if (!ATTENDANCE.includes(status)) throw new HttpError(400, 'Choose whether they arrived, were seen or did not attend.');
    const row = await repo.transaction(async (tx) => {
      const current = await lockedBooking(tx, id);
      if (current.kind !== 'booking') throw new HttpError(404, 'Page not found');
      if (current.status === status) return current;
      if (current.status !== 'confirmed' && current.status !== 'arrived')
        throw new HttpError(409, 'Attendance can only be recorded for an appointment that is booked or where the person has arrived.');
      const start = new Date(current.starts_at).getTime();
      if (localDayNumber(now) < localDayNumber(start)) throw new HttpError(409, 'Attendance can be recorded from the day of the appointment.');
      if (status === 'did-not-attend' && now < start)
        throw new HttpError(409, 'Someone can be marked as not attending only once their appointment time has started.');
      await repo.updateBooking(tx, id, { status });
      await recordAudit(auditDb(tx), {
        actor: actorOf(member),
        action: 'appointment.attendance-recorded',
        subject: { type: 'appointment', id },
        details: { reference: current.reference, from: current.status, to: status },
      });
      return lockedBooking(tx, id);
    });
    return service.toBooking(row);
  }

  /** An internal note on a booking: staff only, never shown to the resident. */
  async function addNote(member: StaffMember, id: string, text: string): Promise<void> {
    assertCan(member, 'appointments:manage');
    const note = text.replace(/\r\n/g, '\n').trim();
    if (!note) throw new BookingProblems({ note: 'Enter a note' });
    if (note.length > NOTE_MAX) throw new BookingProblems({ note: `Note must be ${NOTE_MAX} characters or fewer` });
    await repo.transaction(async (tx) => {
      const current = await lockedBooking(tx, id);
      await repo.addNote(tx, id, member.id, note);
      await recordAudit(auditDb(tx), {
        actor: actorOf(member),
        action: 'appointment.note-added',
        subject: { type: 'appointment', id },
        details: { reference: current.reference },
      });
    });
  }

  /** Links a booking to a case the member may see, by the case's reference. */
  async function linkCase(member: StaffMember, id: string, caseReference: string): Promise<string> {
    assertCan(member, 'appointments:manage');
    const reference = caseReference.trim();
    if (!reference) throw new BookingProblems({ caseReference: 'Enter the case reference' });
    let found: Awaited<ReturnType<typeof cases.caseForStaff>>;
    try {
      found = await cases.caseForStaff(member, reference);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) throw new BookingProblems({ caseReference: 'There is no case with that reference' });
      if (error instanceof HttpError && error.statusCode === 403)
        throw new BookingProblems({ caseReference: 'You cannot see that case, so you cannot link it' });
      throw error;
    }
    const booking = await repo.transaction(async (tx) => {
      const current = await lockedBooking(tx, id);
      if (current.kind !== 'booking') throw new HttpError(404, 'Page not found');
      await repo.updateBooking(tx, id, { case_id: found.id });
      await recordAudit(auditDb(tx), {
        actor: actorOf(member),
        action: 'appointment.case-linked',
        subject: { type: 'appointment', id },
        details: { reference: current.reference, case: found.reference, previousCaseId: current.case_id },
      });
      return service.toBooking(current);
    });
    // The case's timeline says so too, for whoever works it next. The case may belong to another
    // team, so the note is the system's, naming who linked it.
    await cases.addNote(
      { type: 'system' },
      found.reference,
      `Appointment ${booking.reference} linked by ${member.name}: ${booking.type?.name ?? 'appointment'}, ${booking.when}${booking.location ? `, ${booking.location.name}` : ''}.`,
    );
    return found.reference;
  }

  // ---------------------------------------------------------------- calendar feeds

  /**
   * A private feed of one resource's bookings for a calendar program. The token is the only key, so
   * it is shown once and only its hash is kept; a lost or leaked feed is revoked and made again.
   */
  async function createFeed(member: StaffMember, resourceCode: string): Promise<{ id: string; token: string; url: string }> {
    assertCan(member, 'appointments:manage');
    const resource = config.resources.get(resourceCode);
    if (!resource) throw new BookingProblems({ resource: 'Choose whose calendar to make a feed of' });
    const token = randomBytes(32).toString('base64url');
    const feed = await repo.transaction(async (tx) => {
      const inserted = await repo.insertFeed(tx, { resource_code: resource.code, token_hash: sha256Hex(token), created_by: member.id });
      await recordAudit(auditDb(tx), {
        actor: actorOf(member),
        action: 'appointment.feed-created',
        subject: { type: 'appointment-feed', id: inserted.id },
        details: { resource: resource.code },
      });
      return inserted;
    });
    return { id: feed.id, token, url: service.siteLink(`/appointments/feeds/${token}.ics`) };
  }

  async function listFeeds(member: StaffMember) {
    assertCan(member, 'appointments:manage');
    return (await repo.activeFeeds(repo.db)).map((feed) => ({
      id: feed.id,
      resource: { code: feed.resource_code, name: config.resources.get(feed.resource_code)?.name ?? feed.resource_code },
      createdBy: feed.created_by,
      createdAt: new Date(feed.created_at),
    }));
  }

  async function revokeFeed(member: StaffMember, id: string): Promise<void> {
    assertCan(member, 'appointments:manage');
    await repo.transaction(async (tx) => {
      const feed = await repo.feedById(tx, id);
      if (!feed) throw new HttpError(404, 'Page not found');
      if (!(await repo.revokeFeed(tx, id))) return;
      await recordAudit(auditDb(tx), {
        actor: actorOf(member),
        action: 'appointment.feed-revoked',
        subject: { type: 'appointment-feed', id },
        details: { resource: feed.resource_code },
      });
    });
  }

  /**
   * The feed's calendar, or undefined for a token that is unknown or revoked.
   *
   * A feed ends up on phones and home computers and is read without signing in, so each event
   * carries only what is needed to plan the day: the kind of appointment, its reference and a link
   * to the booking in the staff pages (which needs signing in). No name, contact details or answers.
   */
  async function feedCalendar(token: string, now = Date.now()): Promise<string | undefined> {
    if (!FEED_TOKEN.test(token)) return undefined;
    const feed = await repo.feedByTokenHash(repo.db, sha256Hex(token));
    const resource = feed ? config.resources.get(feed.resource_code) : undefined;
    if (!resource) return undefined;
    const rows = await repo.between(repo.db, {
      resources: [resource.code],
      from: new Date(now - FEED_PAST_DAYS * DAY_MS),
      to: new Date(now + FEED_FUTURE_DAYS * DAY_MS),
      statuses: [...BOOKED_STATUSES, 'cancelled'],
    });
    const events = rows.map((row): CalendarEvent => {
      const booking = service.toBooking(row, now);
      const base = service.calendarEvent(booking);
      const isBlock = booking.kind === 'block';
      return {
        uid: base.uid,
        start: booking.start,
        end: booking.end,
        summary: isBlock ? 'Time blocked out' : `${booking.type?.name ?? 'Appointment'} (${booking.reference})`,
        description: `Reference ${booking.reference}. Details for staff: ${service.siteLink(`/staff/appointments/booking/${booking.id}`)}`,
        ...(booking.location ? { location: booking.location.name } : {}),
        url: service.siteLink(`/staff/appointments/booking/${booking.id}`),
        status: booking.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED',
        sequence: booking.sequence,
        updatedAt: new Date(row.updated_at),
      };
    });
    return calendarFile(events, { productId: '-//Borough//Staff appointment feed//EN', name: `Appointments: ${resource.name}`, method: 'PUBLISH' });
  }

  // ---------------------------------------------------------------- utilisation

  /**
   * How many bookings a type could take at a location in a period if nothing were booked: the
   * calendar is filled from empty, one booking's worth on each free slot at a time, so resources
   * working side by side (two registrars) count twice and slots that overlap are not counted twice.
   * Each type is counted as if it had its resources to itself.
   */
  function capacityOf(type: AppointmentType, location: string, from: number, to: number): number {
    const taken = new Map<string, Map<number, number>>();
    let total = 0;
    for (let round = 0; round < 100; round++) {
      let added = 0;
      for (const slot of availableSlots(config, { type, location, from, to, taken })) {
        const window = heldWindow(type, slot.start.getTime());
        const places = Math.min(...slot.resources.map((code) => placesFree(config, code, type, window, taken)));
        if (places <= 0) continue;
        for (const code of slot.resources) {
          let granules = taken.get(code);
          if (!granules) taken.set(code, (granules = new Map()));
          for (let g = window.from; g < window.to; g += GRANULE_MS) granules.set(g, (granules.get(g) ?? 0) + places);
        }
        added += places;
      }
      if (added === 0) break;
      total += added;
    }
    return total;
  }

  /** Capacity, bookings and attendance per type and location between two dates (both included). */
  async function utilisation(member: StaffMember, query: { from: string; to: string }): Promise<UtilisationRow[]> {
    if (!can(member, 'insights:read')) assertCan(member, 'appointments:manage');
    const first = parseCalendarDate(query.from);
    const last = parseCalendarDate(query.to);
    const errors: Record<string, string> = {};
    if (first === undefined) errors.from = 'Enter a real start date';
    if (last === undefined) errors.to = 'Enter a real end date';
    else if (first !== undefined && last < first) errors.to = 'The end date must be the same as or after the start date';
    else if (first !== undefined && last - first >= UTILISATION_MAX_DAYS) errors.to = `The period can be up to ${UTILISATION_MAX_DAYS} days long`;
    if (Object.keys(errors).length > 0 || first === undefined || last === undefined) throw new BookingProblems(errors);
    const from = dayStart(first);
    const to = dayStart(last + 1);
    const rows = await repo.startingBetween(repo.db, new Date(from), new Date(to), [...BOOKED_STATUSES, 'cancelled']);
    const result: UtilisationRow[] = [];
    for (const type of config.types.values())
      for (const code of type.locations) {
        const location = config.locations.get(code);
        if (!location) continue;
        const mine = rows.filter((row) => row.type_code === type.code && row.location_code === code);
        const counted = (statuses: readonly BookingStatus[]) => mine.filter((row) => statuses.includes(row.status)).length;
        const capacity = capacityOf(type, code, from, to - 1);
        const booked = counted(BOOKED_STATUSES);
        result.push({
          type: { code: type.code, name: type.name },
          location: { code, name: location.name },
          capacity,
          booked,
          attended: counted(['seen']),
          didNotAttend: counted(['did-not-attend']),
          cancelled: counted(['cancelled']),
          utilisation: capacity > 0 ? Math.round((booked / capacity) * 1000) / 10 : null,
        });
      }
    return result;
  }

  return {
    locationCalled,
    resourcesAt,
    typesAt,
    calendar,
    bookingDetail,
    block,
    unblock,
    setAttendance,
    addNote,
    linkCase,
    createFeed,
    listFeeds,
    revokeFeed,
    feedCalendar,
    utilisation,
  };
}

export type AppointmentsStaff = ReturnType<typeof createAppointmentsStaff>;
