import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { recordAudit, type Actor } from '#platform/audit/index';
import { ukDay, parseCalendarDate } from '#platform/council/dates';
import { HttpError } from '#platform/http/errors';
import { queueEmail, queueSms, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { randomReference, sha256Hex, signToken, verifyToken } from '#platform/security/tokens';
import { assertCan, type StaffMember } from '#modules/account/index';
import type { Cases } from '#modules/cases/index';
import { validateAnswer } from '#modules/forms/index';
import { calendarFile, type CalendarEvent } from './ical.js';
import type { BookingStatus } from './migrations.js';
import { availableSlots, dayNumberToDate, GRANULE_MS, heldWindow, localDayNumber, workingTime, type Slot } from './model/availability.js';
import type { AppointmentsConfig, AppointmentType, Location } from './model/config.js';
import { formatWhen } from './model/when.js';
import { createAppointmentsRepository, isPlaceTaken, type AppointmentsDb, type BookingRow } from './repository.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** How often a claim is tried again when another booking took a place at the same moment. */
const CLAIM_ATTEMPTS = 4;
/** A waiting-list offer is held this long for the person offered it. */
const OFFER_HOURS = 12;
const MANAGE_PURPOSE = 'appointment-manage';
const OFFER_PURPOSE = 'appointment-offer';

export type AppointmentActor = { type: 'resident'; residentId: string | null } | { type: 'staff'; member: StaffMember } | { type: 'system' };

export interface AppointmentsDeps {
  platform: Platform;
  config: AppointmentsConfig;
  notifier: Pick<Notifier, 'nudge'>;
  cases: Pick<Cases, 'service'>;
}

export interface BookingDetails {
  name: string;
  email: string;
  phone?: string | undefined;
  remindBy: 'email' | 'sms';
  answers: Record<string, unknown>;
  residentId?: string | null | undefined;
}

/** Problems with what someone entered, by field, in the GOV.UK error-summary shape. */
export class BookingProblems extends Error {
  constructor(readonly fields: Record<string, string>) {
    super('The booking details have problems');
  }
}

/** The time chosen has just been taken by someone else. */
export class SlotTaken extends Error {
  constructor() {
    super('That time has just been taken. Choose another time.');
  }
}

export interface Booking {
  id: string;
  reference: string;
  kind: 'booking' | 'block';
  type: AppointmentType | undefined;
  location: Location | undefined;
  status: BookingStatus;
  start: Date;
  end: Date;
  when: string;
  resources: { code: string; name: string }[];
  name: string | null;
  email: string | null;
  phone: string | null;
  remindBy: 'email' | 'sms';
  answers: Record<string, unknown>;
  residentId: string | null;
  source: 'web' | 'staff' | 'form';
  caseId: string | null;
  cancelReason: string | null;
  holdExpiresAt: Date | null;
  sequence: number;
  /** Whether the resident may still change or cancel it themselves. */
  canChange: boolean;
  canCancel: boolean;
}

const ACTIVE: readonly BookingStatus[] = ['confirmed'];

function auditActor(actor: AppointmentActor): Actor {
  if (actor.type === 'staff') return { type: 'staff', id: actor.member.id, label: actor.member.name };
  if (actor.type === 'resident') return actor.residentId ? { type: 'resident', id: actor.residentId } : { type: 'anonymous' };
  return { type: 'system' };
}

function newReference(): string {
  const raw = randomReference();
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

const EMAIL = /^[^\s@<>,;"()[\]\\]+@[^\s@<>,;"()[\]\\]+\.[^\s@<>,;"()[\]\\]+$/;
const PHONE = /^\+?[\d\s().-]{10,20}$/;

export function createAppointmentsService(deps: AppointmentsDeps) {
  const { platform, config, notifier, cases } = deps;
  const secret = platform.config.sessionSecret;
  const repo = createAppointmentsRepository(platform.database.db.withTables<never>() as unknown as AppointmentsDb);
  const host = new URL(platform.config.baseUrl).host;
  const link = (path: string) => `${platform.config.baseUrl}${path}`;

  const typeOf = (code: string): AppointmentType => {
    const type = config.types.get(code);
    if (!type) throw new HttpError(404, 'Page not found');
    return type;
  };
  const locationOf = (type: AppointmentType, code: string): Location => {
    const location = config.locations.get(code);
    if (!location || !type.locations.includes(code)) throw new HttpError(404, 'Page not found');
    return location;
  };
  const resourcesFor = (type: AppointmentType, location: string) =>
    type.needs.map((need) => need.oneOf.filter((code) => config.resources.get(code)?.location === location));

  /** The bookable window: from now plus the notice (staff may book sooner) to the horizon. */
  const windowFor = (type: AppointmentType, now: number, staff = false) => ({
    from: now + (staff ? 0 : type.minimumNoticeMinutes * MINUTE_MS),
    to: now + type.horizonDays * DAY_MS,
  });

  const longestBuffer = Math.max(0, ...[...config.types.values()].flatMap((t) => [t.bufferBeforeMinutes, t.bufferAfterMinutes])) * MINUTE_MS;

  /**
   * Places taken on each resource by granule, from the bookings holding them: a booking takes one
   * place across its time and its type's buffers, a block takes every place. The claims in the
   * database remain the last word; this is what availability is worked out from.
   */
  async function takenMap(executor: AppointmentsDb, location: string, resources: readonly string[], from: number, to: number) {
    const rows = await repo.holding(executor, location, resources, new Date(from - longestBuffer), new Date(to + longestBuffer));
    const taken = new Map<string, Map<number, number>>();
    for (const row of rows) {
      const type = row.type_code ? config.types.get(row.type_code) : undefined;
      const before = (type?.bufferBeforeMinutes ?? 0) * MINUTE_MS;
      const after = (type?.bufferAfterMinutes ?? 0) * MINUTE_MS;
      const places = row.kind === 'block' ? (config.resources.get(row.resource_code)?.capacity ?? 1) : 1;
      let byGranule = taken.get(row.resource_code);
      if (!byGranule) taken.set(row.resource_code, (byGranule = new Map()));
      for (const [start, end] of row.spans)
        for (let g = Math.floor((start - before) / GRANULE_MS) * GRANULE_MS; g < end + after; g += GRANULE_MS)
          byGranule.set(g, (byGranule.get(g) ?? 0) + places);
    }
    return taken;
  }

  async function mustFind(tx: AppointmentsDb, id: string): Promise<BookingRow> {
    const row = await repo.byId(tx, id);
    if (!row) throw new Error(`Booking ${id} vanished inside its own transaction`);
    return row;
  }

  function toBooking(row: BookingRow, now = Date.now()): Booking {
    const type = row.type_code ? config.types.get(row.type_code) : undefined;
    const start = new Date(row.starts_at);
    const before = (minutes: number) => row.status === 'confirmed' && start.getTime() - now > minutes * MINUTE_MS;
    return {
      id: row.id,
      reference: row.reference,
      kind: row.kind,
      type,
      location: config.locations.get(row.location_code),
      status: row.status,
      start,
      end: new Date(row.ends_at),
      when: formatWhen(start),
      resources: row.resources.map((code) => ({ code, name: config.resources.get(code)?.name ?? code })),
      name: row.name,
      email: row.email,
      phone: row.phone,
      remindBy: row.remind_by,
      answers: (row.answers ?? {}) as Record<string, unknown>,
      residentId: row.resident_id,
      source: row.source,
      caseId: row.case_id,
      cancelReason: row.cancel_reason,
      holdExpiresAt: row.hold_expires_at ? new Date(row.hold_expires_at) : null,
      sequence: row.sequence,
      canChange: type ? before(type.changeUntilMinutes) : false,
      canCancel: type ? before(type.cancelUntilMinutes) : false,
    };
  }

  /** The bookable window, and what is taken on the type's resources across it (with room for buffers either side). */
  async function takenFor(type: AppointmentType, locationCode: string, opts: { now?: number; from?: number; to?: number; staff?: boolean } = {}) {
    const now = opts.now ?? Date.now();
    const window = windowFor(type, now, opts.staff);
    const from = Math.max(window.from, opts.from ?? window.from);
    const to = Math.min(window.to, opts.to ?? window.to);
    const resources = resourcesFor(type, locationCode).flat();
    const taken =
      from > to
        ? new Map<string, Map<number, number>>()
        : await takenMap(
            repo.db,
            locationCode,
            resources,
            from - type.bufferBeforeMinutes * MINUTE_MS,
            to + (type.lengthMinutes + type.bufferAfterMinutes) * MINUTE_MS,
          );
    return { from, to, taken };
  }

  /** Free slots of a type at a location, earliest first. */
  async function availability(
    typeCode: string,
    locationCode: string,
    opts: { now?: number; from?: number; to?: number; limit?: number; staff?: boolean } = {},
  ) {
    const type = typeOf(typeCode);
    locationOf(type, locationCode);
    const { from, to, taken } = await takenFor(type, locationCode, opts);
    if (from > to) return [];
    return availableSlots(config, { type, location: locationCode, from, to, taken, ...(opts.limit ? { limit: opts.limit } : {}) });
  }

  /** Dates with free times (local YYYY-MM-DD) and how many, for the list of dates. */
  function datesOf(slots: readonly Slot[]): { date: string; count: number }[] {
    const byDate = new Map<string, number>();
    for (const slot of slots) {
      const date = dayNumberToDate(localDayNumber(slot.start.getTime()));
      byDate.set(date, (byDate.get(date) ?? 0) + 1);
    }
    return [...byDate].map(([date, count]) => ({ date, count }));
  }

  /**
   * Claims the places a slot needs inside the transaction: for each need, the first resource free
   * across the whole window. Refusals from the database (another booking took the place meanwhile)
   * fail the transaction; the caller tries again.
   */
  async function claimSlot(tx: AppointmentsDb, bookingId: string, type: AppointmentType, locationCode: string, start: number, staff: boolean) {
    const window = heldWindow(type, start);
    const candidates = resourcesFor(type, locationCode);
    await repo.lockResources(tx, candidates.flat());
    const taken = await takenMap(tx, locationCode, candidates.flat(), window.from, window.to);
    const now = Date.now();
    const bookable = windowFor(type, now, staff);
    const slots = availableSlots(config, { type, location: locationCode, from: start, to: start, taken });
    const slot = slots.find((s) => s.start.getTime() === start);
    if (!slot || start < bookable.from || start > bookable.to) throw new SlotTaken();
    for (const resource of slot.resources) await repo.claim(tx, bookingId, resource, new Date(window.from), new Date(window.to), type.capacityPerSlot);
    return slot;
  }

  /** Runs a claiming transaction, again if another booking took a place at the same moment; "slot taken" once there is none. */
  async function withClaims<T>(work: (tx: AppointmentsDb) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await repo.transaction(async (tx) => {
          await repo.expireHolds(tx);
          return work(tx);
        });
      } catch (error) {
        if (!isPlaceTaken(error)) throw error;
        if (attempt >= CLAIM_ATTEMPTS) throw new SlotTaken();
      }
    }
  }

  /**
   * Holds a slot while the resident answers the questions. The returned key is the only way to
   * finish the booking: the browser keeps it in its session, an offer email carries it in the link.
   */
  async function hold(
    actor: AppointmentActor,
    input: { type: string; location: string; start: Date; source?: 'web' | 'staff' | 'form' },
  ): Promise<{ booking: Booking; key: string }> {
    const type = typeOf(input.type);
    locationOf(type, input.location);
    const staff = actor.type === 'staff';
    if (staff) assertCan(actor.member, 'appointments:manage');
    const start = input.start.getTime();
    if (!Number.isFinite(start) || start % GRANULE_MS !== 0) throw new SlotTaken();
    const key = randomBytes(24).toString('base64url');
    const row = await withClaims(async (tx) => {
      const booking = await repo.insertBooking(
        tx,
        {
          reference: newReference(),
          kind: 'booking',
          type_code: type.code,
          location_code: input.location,
          status: 'held',
          starts_at: new Date(start),
          ends_at: new Date(start + type.lengthMinutes * MINUTE_MS),
          hold_expires_at: sql<Date>`now() + ${`${type.holdMinutes} minutes`}::interval` as unknown as Date,
          hold_key: sha256Hex(key),
          resident_id: actor.type === 'resident' ? actor.residentId : null,
          source: input.source ?? (staff ? 'staff' : 'web'),
          booked_by: staff ? actor.member.id : null,
        },
        [],
      );
      const slot = await claimSlot(tx, booking.id, type, input.location, start, staff);
      await repo.setResources(tx, booking.id, slot.resources);
      return { ...booking, resources: slot.resources };
    });
    return { booking: toBooking(row), key };
  }

  /** Lets a hold go at once (the resident chose another time), for the holder of its key only. */
  async function releaseHold(id: string, key: string | undefined): Promise<void> {
    if (!key) return;
    await repo.transaction(async (tx) => {
      const row = await repo.byId(tx, id, { lock: true });
      if (!row || row.status !== 'held' || row.hold_key !== sha256Hex(key)) return;
      await repo.release(tx, id);
      await repo.updateBooking(tx, id, { status: 'expired' });
    });
  }

  /** The held booking the key belongs to, while the hold lasts. */
  async function heldBooking(id: string, key: string | undefined): Promise<Booking | undefined> {
    if (!key) return undefined;
    const row = await repo.byId(repo.db, id);
    if (!row || row.hold_key !== sha256Hex(key)) return undefined;
    return toBooking(row);
  }

  /** Checks the details a resident gives, with the type's own questions. */
  function checkDetails(
    type: AppointmentType,
    raw: Record<string, unknown>,
    location?: Location,
    opts: { byStaff?: boolean } = {},
  ): { details: Omit<BookingDetails, 'residentId'>; errors: Record<string, string> } {
    const errors: Record<string, string> = {};
    const text = (field: string) => (typeof raw[field] === 'string' ? (raw[field] as string).trim() : '');
    const name = text('name');
    const email = text('email');
    const phone = text('phone');
    const remindBy = text('remindBy') === 'sms' ? 'sms' : 'email';
    if (!name) errors.name = 'Enter your full name';
    else if (name.length > 200) errors.name = 'Name must be 200 characters or fewer';
    // Staff booking for a caller without an email address can leave it out: there is then no confirmation email.
    if (!email && !opts.byStaff) errors.email = 'Enter your email address';
    else if (email && (email.length > 320 || !EMAIL.test(email))) errors.email = 'Enter an email address in the correct format, like name@example.com';
    if (phone && !PHONE.test(phone)) errors.phone = 'Enter a telephone number, like 01632 960 001 or 07700 900 982';
    if (remindBy === 'sms' && !phone) errors.phone = 'Enter a mobile phone number for text message reminders';
    if (location?.kind === 'phone' && !phone && !errors.phone) errors.phone = 'Enter a phone number so we can call you';
    const answers: Record<string, unknown> = {};
    const context = { answers, profile: {}, today: ukDay() };
    for (const question of type.questions) {
      const result = validateAnswer(question, raw[question.id], context);
      if ('error' in result) errors[question.id] = result.error;
      else if (result.value !== undefined) answers[question.id] = result.value;
    }
    return { details: { name, email, phone: phone || undefined, remindBy, answers }, errors };
  }

  function calendarEvent(booking: Booking): CalendarEvent {
    const location = booking.location;
    const where = location?.kind === 'phone' ? 'By phone: we will call you' : [location?.name, location?.address].filter(Boolean).join(', ');
    return {
      uid: `${booking.id}@${host}`,
      start: booking.start,
      end: booking.end,
      summary: `${booking.type?.name ?? 'Appointment'} (${platform.council.profile.shortName})`,
      description: [`Reference: ${booking.reference}`, ...(booking.type?.whatToBring.length ? ['Bring:', ...booking.type.whatToBring] : [])].join('\n'),
      location: where,
      status: booking.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED',
      sequence: booking.sequence,
      updatedAt: new Date(),
    };
  }

  function icsFor(booking: Booking): string {
    return calendarFile([calendarEvent(booking)], {
      productId: `-//${platform.council.profile.name}//Appointments//EN`,
      method: booking.status === 'cancelled' ? 'CANCEL' : 'PUBLISH',
    });
  }

  /** A link that lets whoever holds it see, change or cancel the booking, until the day after it. */
  function manageLink(booking: Booking): string {
    const token = signToken(secret, { purpose: MANAGE_PURPOSE, subject: booking.id, expiresAt: booking.end.getTime() + DAY_MS });
    return link(`/appointments/manage/${encodeURIComponent(token)}`);
  }

  function bookingFromToken(token: string): string | undefined {
    const result = verifyToken(secret, token, MANAGE_PURPOSE);
    return result.ok ? result.payload.subject : undefined;
  }

  async function tellResident(tx: AppointmentsDb, booking: Booking, what: 'booked' | 'changed' | 'cancelled'): Promise<void> {
    if (!booking.email) return;
    const type = booking.type;
    const location = booking.location;
    const council = platform.council.profile;
    const heading = { booked: 'Your appointment is booked', changed: 'Your appointment has changed', cancelled: 'Your appointment is cancelled' }[what];
    const lines = [
      `Dear ${booking.name ?? 'resident'},`,
      '',
      `${heading}.`,
      '',
      `Appointment: ${type?.name ?? 'Appointment'}`,
      `When: ${booking.when}`,
      `Where: ${location?.kind === 'phone' ? 'By phone. We will call you on the number you gave.' : [location?.name, location?.address].filter(Boolean).join(', ')}`,
      `Reference: ${booking.reference}`,
    ];
    if (what !== 'cancelled') {
      if (type?.whatToBring.length) lines.push('', 'Please bring:', ...type.whatToBring.map((item) => `- ${item}`));
      if (type?.cost) lines.push('', `Cost: ${type.cost}`);
      lines.push('', 'To change or cancel your appointment, use this link:', manageLink(booking));
      lines.push('', 'The attached calendar file adds the appointment to your calendar.');
    } else if (booking.cancelReason) lines.push('', `Reason: ${booking.cancelReason}`);
    lines.push('', `If you need help, call ${council.contact.phone} (${council.contact.phoneHours}).`, '', council.name);
    await queueEmail(tx, {
      to: booking.email,
      subject: `${heading}: ${type?.name ?? 'appointment'} on ${booking.when}`,
      body: lines.join('\n'),
      attachments: [
        {
          filename: 'appointment.ics',
          contentType: 'text/calendar; charset=utf-8; method=' + (what === 'cancelled' ? 'CANCEL' : 'PUBLISH'),
          content: icsFor(booking),
        },
      ],
      related: { type: 'appointment', id: booking.id },
    });
  }

  /**
   * Finishes a held booking with the resident's details. Confirming twice (a double press, a
   * retried request) returns the one booking; a hold that ran out and was let go cannot be finished.
   */
  async function confirm(actor: AppointmentActor, id: string, key: string, raw: Record<string, unknown>): Promise<Booking> {
    const existing = await repo.byId(repo.db, id);
    if (!existing || existing.hold_key !== sha256Hex(key)) throw new HttpError(404, 'Page not found');
    const type = typeOf(existing.type_code ?? '');
    const { details, errors } = checkDetails(type, raw, config.locations.get(existing.location_code), { byStaff: actor.type === 'staff' });
    if (Object.keys(errors).length > 0) throw new BookingProblems(errors);
    const residentId = actor.type === 'resident' ? actor.residentId : existing.resident_id;
    if (type.signInRequired && !residentId && actor.type !== 'staff') throw new HttpError(403, 'Sign in to book this appointment.');
    const booking = await repo.transaction(async (tx) => {
      const row = await repo.byId(tx, id, { lock: true });
      if (!row) throw new HttpError(404, 'Page not found');
      if (row.status !== 'held') {
        if (row.status === 'expired') throw new HttpError(409, 'We could not keep that time for you any longer. Choose a time again.');
        return toBooking(row);
      }
      const holdStillClaimed = await tx.selectFrom('appointment_claims').select('booking_id').where('booking_id', '=', id).limit(1).executeTakeFirst();
      if (!holdStillClaimed) throw new HttpError(409, 'We could not keep that time for you any longer. Choose a time again.');
      await repo.updateBooking(tx, id, {
        status: 'confirmed',
        hold_expires_at: null,
        confirmed_at: sql<Date>`now()` as unknown as Date,
        name: details.name,
        email: details.email || null,
        phone: details.phone ?? null,
        remind_by: details.remindBy,
        answers: JSON.stringify(details.answers),
        resident_id: residentId ?? null,
      });
      const confirmed = toBooking(await mustFind(tx, id));
      await tellResident(tx, confirmed, 'booked');
      await tx
        .updateTable('appointment_waiting')
        .set({ status: 'booked' })
        .where('status', '=', 'offered')
        .where('email', '=', details.email)
        .where('type_code', '=', type.code)
        .execute();
      await recordAudit(tx as unknown as Kysely<object>, {
        actor: auditActor(actor),
        action: 'appointment.booked',
        subject: { type: 'appointment', id },
        details: { reference: row.reference, type: type.code, location: row.location_code, start: row.starts_at, source: row.source },
      });
      return confirmed;
    });
    await notifier.nudge();
    return booking;
  }

  /** Staff book for someone on the phone: hold and confirm in one step. */
  async function bookFor(member: StaffMember, input: { type: string; location: string; start: Date; details: Record<string, unknown> }): Promise<Booking> {
    assertCan(member, 'appointments:manage');
    const type = typeOf(input.type);
    const { errors } = checkDetails(type, input.details, locationOf(type, input.location), { byStaff: true });
    if (Object.keys(errors).length > 0) throw new BookingProblems(errors);
    const { booking, key } = await hold({ type: 'staff', member }, { type: input.type, location: input.location, start: input.start, source: 'staff' });
    return confirm({ type: 'staff', member }, booking.id, key, input.details);
  }

  /** Who may change a booking: staff who manage appointments, the resident who owns it, or whoever holds its signed link (checked by the caller). */
  function assertMayChange(actor: AppointmentActor, row: BookingRow, viaLink: boolean): void {
    if (actor.type === 'staff') return assertCan(actor.member, 'appointments:manage');
    if (actor.type === 'system' || viaLink) return;
    if (!actor.residentId || actor.residentId !== row.resident_id) throw new HttpError(404, 'Page not found');
  }

  async function cancel(actor: AppointmentActor, id: string, opts: { reason?: string; viaLink?: boolean } = {}): Promise<Booking> {
    const reason = opts.reason?.trim() ?? '';
    if (actor.type === 'staff' && !reason) throw new BookingProblems({ reason: 'Enter why the appointment is cancelled' });
    if (reason.length > 500) throw new BookingProblems({ reason: 'Reason must be 500 characters or fewer' });
    const booking = await repo.transaction(async (tx) => {
      const row = await repo.byId(tx, id, { lock: true });
      if (!row || row.kind !== 'booking') throw new HttpError(404, 'Page not found');
      assertMayChange(actor, row, opts.viaLink ?? false);
      if (row.status === 'cancelled') return toBooking(row);
      const current = toBooking(row);
      if (actor.type !== 'staff' && !current.canCancel) throw new HttpError(409, 'This appointment can no longer be cancelled online. Call us to cancel it.');
      if (actor.type === 'staff' && !ACTIVE.includes(row.status)) throw new HttpError(409, 'Only a booked appointment can be cancelled.');
      await repo.release(tx, id);
      await repo.updateBooking(tx, id, {
        status: 'cancelled',
        cancelled_at: sql<Date>`now()` as unknown as Date,
        cancel_reason: reason || null,
        sequence: row.sequence + 1,
      });
      const cancelled = toBooking(await mustFind(tx, id));
      await tellResident(tx, cancelled, 'cancelled');
      await recordAudit(tx as unknown as Kysely<object>, {
        actor: auditActor(actor),
        action: 'appointment.cancelled',
        subject: { type: 'appointment', id },
        ...(reason ? { reason } : {}),
        details: { reference: row.reference },
      });
      await offerFreedSlot(tx, cancelled);
      return cancelled;
    });
    await notifier.nudge();
    return booking;
  }

  /** Moves a booking to another start time, keeping its reference: the new places are claimed before the old are let go. */
  async function move(actor: AppointmentActor, id: string, newStart: Date, opts: { viaLink?: boolean } = {}): Promise<Booking> {
    const existing = await repo.byId(repo.db, id);
    if (!existing || existing.kind !== 'booking' || !existing.type_code) throw new HttpError(404, 'Page not found');
    assertMayChange(actor, existing, opts.viaLink ?? false);
    const type = typeOf(existing.type_code);
    if (actor.type !== 'staff' && !toBooking(existing).canChange)
      throw new HttpError(409, 'This appointment can no longer be changed online. Call us to change it.');
    if (existing.status !== 'confirmed') throw new HttpError(409, 'Only a booked appointment can be moved.');
    const start = newStart.getTime();
    if (!Number.isFinite(start) || start % GRANULE_MS !== 0) throw new SlotTaken();
    const booking = await withClaims(async (tx) => {
      const row = await repo.byId(tx, id, { lock: true });
      if (!row || row.status !== 'confirmed') throw new HttpError(409, 'Only a booked appointment can be moved.');
      await repo.release(tx, id);
      const slot = await claimSlot(tx, id, type, row.location_code, start, actor.type === 'staff');
      await repo.setResources(tx, id, slot.resources);
      await repo.updateBooking(tx, id, {
        starts_at: slot.start,
        ends_at: slot.end,
        sequence: row.sequence + 1,
        reminded: '[]',
      });
      const moved = toBooking(await mustFind(tx, id));
      await tellResident(tx, moved, 'changed');
      await recordAudit(tx as unknown as Kysely<object>, {
        actor: auditActor(actor),
        action: 'appointment.moved',
        subject: { type: 'appointment', id },
        details: { reference: row.reference, from: row.starts_at, to: slot.start },
      });
      return moved;
    });
    await notifier.nudge();
    return booking;
  }

  /**
   * Offers a freed slot to the first person waiting for that type, place and day: the slot is held
   * for them for a while, and the email's link lets them finish the booking.
   */
  async function offerFreedSlot(tx: AppointmentsDb, freed: Booking): Promise<void> {
    const type = freed.type;
    if (!type || freed.start.getTime() - Date.now() < type.minimumNoticeMinutes * MINUTE_MS) return;
    const date = dayNumberToDate(localDayNumber(freed.start.getTime()));
    const waiting = await tx
      .selectFrom('appointment_waiting')
      .selectAll()
      .where('status', '=', 'waiting')
      .where('type_code', '=', type.code)
      .where('location_code', '=', freed.location?.code ?? '')
      .where(sql<boolean>`from_date <= ${date}::date AND to_date >= ${date}::date`)
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!waiting) return;
    const key = randomBytes(24).toString('base64url');
    const until = Math.min(Date.now() + OFFER_HOURS * HOUR_MS, freed.start.getTime() - type.minimumNoticeMinutes * MINUTE_MS);
    const offered = await repo.insertBooking(
      tx,
      {
        reference: newReference(),
        kind: 'booking',
        type_code: type.code,
        location_code: freed.location?.code ?? '',
        status: 'held',
        starts_at: freed.start,
        ends_at: freed.end,
        hold_expires_at: new Date(until),
        hold_key: sha256Hex(key),
        resident_id: waiting.resident_id,
        name: waiting.name,
        email: waiting.email,
        source: 'web',
        booked_by: null,
      },
      freed.resources.map((r) => r.code),
    );
    const window = heldWindow(type, freed.start.getTime());
    await repo.lockResources(
      tx,
      freed.resources.map((r) => r.code),
    );
    for (const resource of freed.resources) await repo.claim(tx, offered.id, resource.code, new Date(window.from), new Date(window.to), type.capacityPerSlot);
    await tx
      .updateTable('appointment_waiting')
      .set({ status: 'offered', offered_at: sql<Date>`now()` as unknown as Date })
      .where('id', '=', waiting.id)
      .execute();
    const token = signToken(secret, { purpose: OFFER_PURPOSE, subject: offered.id, expiresAt: until, data: { k: key } });
    await queueEmail(tx, {
      to: waiting.email,
      subject: `An appointment has come free: ${type.name} on ${formatWhen(freed.start)}`,
      body: [
        `Dear ${waiting.name},`,
        '',
        `You asked us to tell you if a time came free for: ${type.name}. One has:`,
        '',
        `When: ${formatWhen(freed.start)}`,
        `Where: ${freed.location?.name ?? ''}`,
        '',
        `We are keeping it for you until ${formatWhen(new Date(until))}. To book it, use this link:`,
        link(`/appointments/offer/${encodeURIComponent(token)}`),
        '',
        'If you do not want it, you do not need to do anything.',
        '',
        platform.council.profile.name,
      ].join('\n'),
      related: { type: 'appointment', id: offered.id },
    });
  }

  /** The held booking and its key, from an offer link. */
  function offerFromToken(token: string): { id: string; key: string } | undefined {
    const result = verifyToken(secret, token, OFFER_PURPOSE);
    if (!result.ok) return undefined;
    const key = result.payload.data?.k;
    return typeof key === 'string' ? { id: result.payload.subject, key } : undefined;
  }

  async function joinWaitingList(
    actor: AppointmentActor,
    input: { type: string; location: string; name: string; email: string; fromDate: string; toDate: string },
  ): Promise<void> {
    const type = typeOf(input.type);
    locationOf(type, input.location);
    const errors: Record<string, string> = {};
    const name = input.name.trim();
    const email = input.email.trim();
    if (!name) errors.name = 'Enter your full name';
    if (!email) errors.email = 'Enter your email address';
    else if (!EMAIL.test(email)) errors.email = 'Enter an email address in the correct format, like name@example.com';
    const from = parseCalendarDate(input.fromDate);
    const to = parseCalendarDate(input.toDate);
    const today = parseCalendarDate(ukDay()) ?? 0;
    if (from === undefined) errors.fromDate = 'The first date you could come must be a real date';
    else if (from < today) errors.fromDate = 'The first date must be today or in the future';
    if (to === undefined) errors.toDate = 'The last date you could come must be a real date';
    else if (from !== undefined && to < from) errors.toDate = 'The last date must be the same as or after the first date';
    else if (to > today + type.horizonDays) errors.toDate = `The last date must be within ${type.horizonDays} days`;
    if (Object.keys(errors).length > 0) throw new BookingProblems(errors);
    await repo.transaction(async (tx) => {
      const row = await tx
        .insertInto('appointment_waiting')
        .values({
          type_code: type.code,
          location_code: input.location,
          name,
          email,
          resident_id: actor.type === 'resident' ? actor.residentId : null,
          from_date: input.fromDate,
          to_date: input.toDate,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(tx as unknown as Kysely<object>, {
        actor: auditActor(actor),
        action: 'appointment.waiting-list-joined',
        subject: { type: 'appointment-waiting', id: row.id },
        details: { type: type.code, location: input.location },
      });
    });
  }

  /** Sends the reminders that are due: each type's hours before, once each, by the way the resident chose. */
  async function sendReminders(now = Date.now()): Promise<number> {
    const longest = Math.max(0, ...[...config.types.values()].flatMap((t) => t.remindersHoursBefore));
    const rows = await repo.upcoming(repo.db, new Date(now + longest * HOUR_MS));
    let sent = 0;
    for (const row of rows) {
      const type = row.type_code ? config.types.get(row.type_code) : undefined;
      if (!type) continue;
      const reminded = new Set((row.reminded as unknown as number[]) ?? []);
      const start = new Date(row.starts_at).getTime();
      // A reminder is due once its time has come, and only if the booking was made before then.
      const due = type.remindersHoursBefore.filter(
        (hours) => !reminded.has(hours) && start - hours * HOUR_MS <= now && new Date(row.confirmed_at ?? row.created_at).getTime() < start - hours * HOUR_MS,
      );
      const skipped = type.remindersHoursBefore.filter((hours) => !reminded.has(hours) && start - hours * HOUR_MS <= now && !due.includes(hours));
      if (due.length === 0 && skipped.length === 0) continue;
      await repo.transaction(async (tx) => {
        const current = await repo.byId(tx, row.id, { lock: true });
        if (!current || current.status !== 'confirmed') return;
        const booking = toBooking(current);
        if (due.length > 0) {
          const where = booking.location?.kind === 'phone' ? 'by phone' : `at ${booking.location?.name ?? ''}`;
          const text = `Reminder from ${platform.council.profile.shortName}: ${type.name}, ${booking.when}, ${where}. Reference ${booking.reference}.`;
          if (current.remind_by === 'sms' && current.phone) await queueSms(tx, { to: current.phone, body: text, related: { type: 'appointment', id: row.id } });
          else if (current.email)
            await queueEmail(tx, {
              to: current.email,
              subject: `Reminder: ${type.name} on ${booking.when}`,
              body: [text, '', 'To change or cancel it, use this link:', manageLink(booking), '', platform.council.profile.name].join('\n'),
              related: { type: 'appointment', id: row.id },
            });
          sent++;
        }
        await repo.updateBooking(tx, row.id, { reminded: JSON.stringify([...reminded, ...due, ...skipped]) });
      });
    }
    if (sent > 0) await notifier.nudge();
    return sent;
  }

  return {
    config,
    repo,
    typeOf,
    locationOf,
    toBooking,
    availability,
    takenFor,
    datesOf,
    hold,
    heldBooking,
    releaseHold,
    checkDetails,
    confirm,
    bookFor,
    cancel,
    move,
    manageLink,
    /** An absolute link to a path on the site. */
    siteLink: link,
    bookingFromToken,
    offerFromToken,
    joinWaitingList,
    sendReminders,
    icsFor,
    calendarEvent,
    workingTime: (resource: string, day: number) => workingTime(config, resource, day),
    cases,

    async booking(id: string): Promise<Booking | undefined> {
      const row = await repo.byId(repo.db, id);
      return row ? toBooking(row) : undefined;
    },

    /** A resident's own booking, by reference; anything else is "not found". */
    async residentBooking(residentId: string, reference: string): Promise<Booking> {
      const row = await repo.byReference(repo.db, reference.trim().toUpperCase());
      if (!row || row.resident_id !== residentId || row.status === 'held' || row.status === 'expired') throw new HttpError(404, 'Page not found');
      return toBooking(row);
    },

    async residentBookings(residentId: string): Promise<Booking[]> {
      return (await repo.forResident(repo.db, residentId)).map((row) => toBooking(row));
    },

    /** A deleted account's bookings stay (staff need the day's list), but no longer belong to anyone signing in. */
    async forgetResident(residentId: string): Promise<void> {
      await repo.db.updateTable('appointment_bookings').set({ resident_id: null }).where('resident_id', '=', residentId).execute();
      await repo.db.updateTable('appointment_waiting').set({ resident_id: null }).where('resident_id', '=', residentId).execute();
    },

    /** Lets go of holds that ran out (also done before every claim). */
    async expireHolds(): Promise<number> {
      return (await repo.transaction((tx) => repo.expireHolds(tx))).length;
    },

    /** Makes each resource's places match its configured capacity. */
    syncPlaces(): Promise<void> {
      return repo.syncPlaces(repo.db, new Map([...config.resources.values()].map((r) => [r.code, r.capacity])));
    },
  };
}

export type AppointmentsService = ReturnType<typeof createAppointmentsService>;
