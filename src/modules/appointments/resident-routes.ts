import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCalendarDate } from '#platform/council/dates';
import { HttpError } from '#platform/http/errors';
import type { Account } from '#modules/account/index';
import { extraAnswerText, extraQuestionView } from '#modules/forms/index';
import { dayNumberToDate, localDayNumber, type Slot } from './model/availability.js';
import type { AppointmentType, Location } from './model/config.js';
import { formatDay, formatTime, formatWhen } from './model/when.js';
import { BookingProblems, SlotTaken, type AppointmentActor, type AppointmentsService, type Booking } from './service.js';

type Body = Record<string, unknown>;
type Posted = Record<string, string | string[]>;
type Resident = Awaited<ReturnType<Account['residents']['signedIn']>>;
type FieldErrors = Record<string, string>;

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** Bookings this browser holds or has booked, by id: the key that lets it finish and see them. */
    appointmentHolds?: Record<string, string>;
    /** The details given for each held booking, as posted, until it is booked. */
    appointmentDetails?: Record<string, Posted>;
    /** The waiting list just joined, for its confirmation page. */
    appointmentWaiting?: { type: string; location: string; email: string; fromDate: string; toDate: string };
  }
}

/** The first few times offered before the list of dates. */
const NEXT_TIMES = 6;
/** Holds a browser remembers: enough for a few goes at booking, without the session growing. */
const HOLDS_KEPT = 20;
const MAX_REASON = 500;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{3})?)?Z$/;
const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;
const SLOT_TAKEN = new SlotTaken().message;
const SELECT_TIME = 'Select a time';

// Rate limits on what holds places or sends email: generous for a person, a brake on a script.
const HOLDS_PER_MINUTE = { rateLimit: { max: 20, timeWindow: '1 minute' } };
const FORMS_PER_MINUTE = { rateLimit: { max: 30, timeWindow: '1 minute' } };
const EMAILS_PER_MINUTE = { rateLimit: { max: 10, timeWindow: '1 minute' } };

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const textOf = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
const queryOf = (request: FastifyRequest): Record<string, string | undefined> => (request.query ?? {}) as Record<string, string | undefined>;
const errorList = (errors: FieldErrors, anchors: Record<string, string> = {}) =>
  Object.entries(errors).map(([field, text]) => ({ text, href: `#${anchors[field] ?? field}` }));

/** "30 minutes", "1 hour", "1 hour 30 minutes". */
export function durationText(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const parts = [];
  if (hours > 0) parts.push(`${hours} hour${hours === 1 ? '' : 's'}`);
  if (rest > 0 || hours === 0) parts.push(`${rest} minute${rest === 1 ? '' : 's'}`);
  return parts.join(' ');
}

const dayOf = (date: string): string => formatDay(new Date(`${date}T12:00:00Z`));
const dateOfSlot = (slot: Slot): string => dayNumberToDate(localDayNumber(slot.start.getTime()));

/** The answers to a type's questions as posted: text, or lists of text for checkboxes. */
function postedDetails(type: AppointmentType, body: Body): Posted {
  const posted: Posted = {};
  for (const field of ['name', 'email', 'phone', 'remindBy', ...type.questions.map((q) => q.id)]) {
    const value = body[field];
    if (typeof value === 'string') posted[field] = value.slice(0, 2000);
    else if (Array.isArray(value)) posted[field] = value.filter((item): item is string => typeof item === 'string').map((item) => item.slice(0, 2000));
  }
  return posted;
}

function whereText(booking: Booking): string {
  const location = booking.location;
  if (location?.kind === 'phone') return booking.phone ? `By phone: we will call you on ${booking.phone}` : 'By phone: we will call you';
  return [location?.name, location?.address].filter(Boolean).join('\n');
}

/** A date from the three boxes of a GOV.UK date input: YYYY-MM-DD, or a problem. */
function dateFromParts(body: Body, prefix: string, what: string): { value: string; parts: Record<string, string>; error?: string } {
  const parts = { day: textOf(body[`${prefix}-day`]), month: textOf(body[`${prefix}-month`]), year: textOf(body[`${prefix}-year`]) };
  const missing = (['day', 'month', 'year'] as const).filter((part) => !parts[part]);
  if (missing.length === 3) return { value: '', parts, error: `Enter the ${what}` };
  if (missing.length > 0) return { value: '', parts, error: `The ${what} must include a ${missing.join(' and ')}` };
  if (![parts.day, parts.month, parts.year].every((p) => /^\d+$/.test(p)) || parts.year.length !== 4)
    return { value: '', parts, error: `The ${what} must be a real date` };
  const value = `${parts.year}-${parts.month.padStart(2, '0')}-${parts.day.padStart(2, '0')}`;
  if (parseCalendarDate(value) === undefined) return { value: '', parts, error: `The ${what} must be a real date` };
  return { value, parts };
}

/** How a resident came to manage a booking: the signed link from an email, or their account. */
interface Managed {
  booking: Booking;
  /** The booking's page; its other pages are below it. */
  base: string;
  actor: AppointmentActor;
  viaLink: boolean;
  /** Page values for the account's pages (its layout and navigation). */
  frame: Record<string, unknown>;
}

/**
 * Booking an appointment without JavaScript: what can be booked, where, a time (held for a few
 * minutes), the resident's details and the type's questions, check your answers, booked. The held
 * booking's key stays in the session: only this browser can finish the booking or see it after.
 * Then: changing or cancelling it from the signed link in the emails or from the account, and
 * the waiting list when there are no times.
 */
export function registerResidentAppointmentRoutes(app: FastifyInstance, service: AppointmentsService, account: Account): void {
  const actorOf = (resident: Resident): AppointmentActor => ({ type: 'resident', residentId: resident?.id ?? null });

  function page(reply: FastifyReply, template: string, title: string, values: Record<string, unknown>, status = 200) {
    const errors = (values.errors as unknown[] | undefined) ?? [];
    return reply.code(status).view(`appointments/${template}.njk`, { pageTitle: title, ...values, errors });
  }

  /* ---------------------------------------------------------------- the session's holds */

  function keyFor(request: FastifyRequest, id: string): string | undefined {
    return request.session.appointmentHolds?.[id];
  }

  function keep(request: FastifyRequest, id: string, key: string): void {
    const holds = Object.entries(request.session.appointmentHolds ?? {}).filter(([held]) => held !== id);
    request.session.appointmentHolds = Object.fromEntries([...holds.slice(-(HOLDS_KEPT - 1)), [id, key]]);
  }

  function saveDetails(request: FastifyRequest, id: string, details: Posted | undefined): void {
    const kept = Object.entries(request.session.appointmentDetails ?? {}).filter(([held]) => held !== id && keyFor(request, held) !== undefined);
    request.session.appointmentDetails = Object.fromEntries(details ? [...kept, [id, details]] : kept);
  }

  /** The booking this browser holds, or "not found" for anyone else. */
  async function heldBy(request: FastifyRequest, id: string): Promise<{ booking: Booking & { type: AppointmentType; location: Location }; key: string }> {
    const key = keyFor(request, id);
    const booking = key ? await service.heldBooking(id, key) : undefined;
    if (!key || !booking?.type || !booking.location || booking.kind !== 'booking') throw new HttpError(404, 'Page not found');
    return { booking: booking as Booking & { type: AppointmentType; location: Location }, key };
  }

  const timesPath = (type: string, location: string) => `/appointments/${type}/${location}`;
  const bookingPath = (id: string, step: string) => `/appointments/booking/${id}/${step}`;

  const holdEnded = (booking: Booking) =>
    booking.status === 'expired' || (booking.status === 'held' && booking.holdExpiresAt !== null && booking.holdExpiresAt.getTime() <= Date.now());

  function renderHoldEnded(reply: FastifyReply, booking: Booking, message: string) {
    return page(
      reply,
      'hold-ended',
      'We could not keep that time for you',
      { message, type: booking.type, again: timesPath(booking.type?.code ?? '', booking.location?.code ?? '') },
      409,
    );
  }

  /** Where a held or booked booking's journey is now, for a page that is no longer the right one. */
  function whereNow(booking: Booking): string | undefined {
    return booking.status === 'held' || booking.status === 'expired' ? undefined : bookingPath(booking.id, 'confirmation');
  }

  /* ---------------------------------------------------------------- 1. what can be booked */

  app.get('/appointments', async (_request, reply) => {
    const types = [...service.config.types.values()].sort((a, b) => a.name.localeCompare(b.name));
    return page(reply, 'list', 'Book an appointment', { types, back: '/' });
  });

  /* ---------------------------------------------------------------- 2. start page and where */

  function locationsOf(type: AppointmentType): Location[] {
    return type.locations.map((code) => service.locationOf(type, code));
  }

  function renderStart(reply: FastifyReply, type: AppointmentType, values: { chosen?: string; change?: string; error?: string }) {
    const locations = locationsOf(type);
    const only = locations.length === 1 ? locations[0] : undefined;
    return page(
      reply,
      'start',
      type.name,
      {
        type,
        length: durationText(type.lengthMinutes),
        byPhone: locations.some((l) => l.kind === 'phone'),
        inPerson: locations.filter((l) => l.kind === 'in-person'),
        only,
        startHref: only ? `${timesPath(type.code, only.code)}${values.change ? `?change=${encodeURIComponent(values.change)}` : ''}` : undefined,
        locations: locations.map((l) => ({
          value: l.code,
          text: l.name,
          hint: l.address ? { text: l.address } : undefined,
          checked: l.code === values.chosen,
        })),
        change: values.change,
        locationError: values.error,
        errors: values.error ? [{ text: values.error, href: '#location' }] : [],
        back: values.change ? bookingPath(values.change, 'check') : '/appointments',
      },
      values.error ? 400 : 200,
    );
  }

  app.get<{ Params: { type: string } }>('/appointments/:type', async (request, reply) => {
    const type = service.typeOf(request.params.type);
    const change = textOf(queryOf(request).change);
    return renderStart(reply, type, { change: change && keyFor(request, change) ? change : undefined });
  });

  app.post<{ Params: { type: string } }>('/appointments/:type', { config: FORMS_PER_MINUTE }, async (request, reply) => {
    const type = service.typeOf(request.params.type);
    const body = bodyOf(request);
    const chosen = textOf(body.location);
    const change = textOf(body.change);
    const changing = change && keyFor(request, change) ? change : undefined;
    if (!type.locations.includes(chosen)) return renderStart(reply, type, { change: changing, error: 'Select where you would like your appointment' });
    return reply.redirect(`${timesPath(type.code, chosen)}${changing ? `?change=${encodeURIComponent(changing)}` : ''}`, 303);
  });

  /* ---------------------------------------------------------------- 3. choose a time */

  interface TimesPage {
    type: AppointmentType;
    location: Location;
    /** The page's own path (without a date), where the form posts and the dates link. */
    path: string;
    back: string;
    query: Record<string, string>;
    hidden: Record<string, string>;
    current?: Booking | undefined;
    frame?: Record<string, unknown>;
  }

  async function renderTimes(request: FastifyRequest, reply: FastifyReply, times: TimesPage, error?: string) {
    const { type, location } = times;
    const slots = await service.availability(type.code, location.code);
    const requested = textOf(queryOf(request).date) || textOf(bodyOf(request).date);
    const date = CALENDAR_DATE.test(requested) && parseCalendarDate(requested) !== undefined ? requested : undefined;
    const chosen = textOf(bodyOf(request).start);
    const group = type.capacityPerSlot > 1;
    const item = (slot: Slot, text: string) => {
      const value = slot.start.toISOString();
      const left = group ? `${slot.placesLeft} ${slot.placesLeft === 1 ? 'place' : 'places'} left` : undefined;
      return { value, text, hint: left ? { text: left } : undefined, checked: value === chosen && !error };
    };
    const queryString = (extra: Record<string, string>) => {
      const params = new URLSearchParams({ ...times.query, ...extra }).toString();
      return params ? `?${params}` : '';
    };
    const onDay = date ? slots.filter((slot) => dateOfSlot(slot) === date) : [];
    const status = error === SLOT_TAKEN ? 409 : error ? 400 : 200;
    return reply.code(status).view('appointments/times.njk', {
      ...times.frame,
      pageTitle: times.current ? 'Choose a new time' : 'Choose a time',
      type,
      location,
      action: `${times.path}${date ? queryString({ date }) : queryString({})}`,
      hidden: { ...times.hidden, ...(date ? { date } : {}) },
      back: date ? `${times.path}${queryString({})}` : times.back,
      current: times.current,
      date: date ? { label: dayOf(date), items: onDay.map((slot) => item(slot, formatTime(slot.start))) } : undefined,
      next: slots.slice(0, NEXT_TIMES).map((slot) => item(slot, formatWhen(slot.start))),
      dates: service.datesOf(slots).map(({ date: day, count }) => ({
        href: `${times.path}${queryString({ date: day })}`,
        text: dayOf(day),
        count: `${count} ${count === 1 ? 'time' : 'times'}`,
        current: day === date,
      })),
      horizon: type.horizonDays,
      waitingList: times.current ? undefined : `${timesPath(type.code, location.code)}/waiting-list`,
      startError: error,
      errors: error ? [{ text: error, href: '#start' }] : [],
    });
  }

  /** The type and place of the times page; residents sign in first for a type that needs it. */
  async function timesFor(request: FastifyRequest<{ Params: { type: string; location: string } }>, reply: FastifyReply) {
    const type = service.typeOf(request.params.type);
    const location = service.locationOf(type, request.params.location);
    if (type.signInRequired) {
      await account.requireResident(request, reply);
      if (reply.sent) return undefined;
    }
    const change = textOf(queryOf(request).change) || textOf(bodyOf(request).change);
    const changing = change && keyFor(request, change) ? change : undefined;
    const times: TimesPage = {
      type,
      location,
      path: timesPath(type.code, location.code),
      back: changing ? bookingPath(changing, 'check') : `/appointments/${type.code}`,
      query: changing ? { change: changing } : {},
      hidden: changing ? { change: changing } : {},
    };
    return { times, changing };
  }

  app.get<{ Params: { type: string; location: string } }>('/appointments/:type/:location', async (request, reply) => {
    const found = await timesFor(request, reply);
    if (!found) return reply;
    return renderTimes(request, reply, found.times);
  });

  /** The instant chosen on a times page, or undefined when none (or nonsense) was sent. */
  function chosenStart(body: Body): Date | undefined {
    const start = textOf(body.start);
    if (!ISO_INSTANT.test(start)) return undefined;
    const at = new Date(start);
    return Number.isNaN(at.getTime()) ? undefined : at;
  }

  app.post<{ Params: { type: string; location: string } }>('/appointments/:type/:location', { config: HOLDS_PER_MINUTE }, async (request, reply) => {
    const found = await timesFor(request, reply);
    if (!found) return reply;
    const { times, changing } = found;
    const start = chosenStart(bodyOf(request));
    if (!start) return renderTimes(request, reply, times, SELECT_TIME);
    const resident = await account.residents.signedIn(request);
    const previous = changing ? await service.heldBooking(changing, keyFor(request, changing)) : undefined;
    // The same time again: the hold already has it.
    if (changing && previous?.status === 'held' && previous.start.getTime() === start.getTime()) return reply.redirect(bookingPath(changing, 'check'), 303);
    try {
      const { booking, key } = await service.hold(actorOf(resident), { type: times.type.code, location: times.location.code, start });
      keep(request, booking.id, key);
      // The time given up is let go at once, for someone else to take.
      if (changing) await service.releaseHold(changing, keyFor(request, changing));
      // A new time for a booking already checked keeps the details given: back to check them.
      const details = changing ? request.session.appointmentDetails?.[changing] : undefined;
      if (changing && details) {
        saveDetails(request, booking.id, details);
        saveDetails(request, changing, undefined);
        return reply.redirect(bookingPath(booking.id, 'check'), 303);
      }
      return reply.redirect(bookingPath(booking.id, 'details'), 303);
    } catch (error) {
      if (error instanceof SlotTaken) return renderTimes(request, reply, times, SLOT_TAKEN);
      throw error;
    }
  });

  /* ---------------------------------------------------------------- 4. your details */

  function holdingUntil(booking: Booking): string {
    const until = booking.holdExpiresAt ?? new Date();
    const sameDay = localDayNumber(until.getTime()) === localDayNumber(Date.now());
    return sameDay ? formatTime(until) : formatWhen(until);
  }

  /** The details as the form shows them: what was posted, else the offer's or the account's. */
  function detailsValues(booking: Booking, posted: Posted | undefined, resident: Resident): Posted {
    if (posted) return posted;
    return {
      name: booking.name ?? resident?.name ?? '',
      email: booking.email ?? resident?.email ?? '',
      phone: booking.phone ?? resident?.phone ?? '',
      remindBy: 'email',
    };
  }

  /** The service's checks, with the errors in page order. */
  function checkDetails(type: AppointmentType, location: Location, posted: Posted) {
    const { details, errors } = service.checkDetails(type, posted, location);
    // In the order the fields are on the page.
    const order = ['name', 'email', 'phone', 'remindBy', ...type.questions.map((q) => q.id)];
    const ordered = Object.fromEntries(order.filter((field) => errors[field]).map((field) => [field, errors[field] as string]));
    return { details, errors: ordered };
  }

  function renderDetails(
    reply: FastifyReply,
    booking: Booking & { type: AppointmentType; location: Location },
    values: Posted,
    errors: FieldErrors,
    status = 200,
  ) {
    const { type, location } = booking;
    const text = (field: string) => (typeof values[field] === 'string' ? (values[field] as string) : '');
    return page(
      reply,
      'details',
      'Your details',
      {
        type,
        booking,
        where: location.kind === 'phone' ? 'by phone' : `at ${location.name}`,
        byPhone: location.kind === 'phone',
        until: holdingUntil(booking),
        values: { name: text('name'), email: text('email'), phone: text('phone'), remindBy: text('remindBy') || 'email' },
        questions: type.questions.map((question) => extraQuestionView(question, values[question.id], errors[question.id])),
        fieldErrors: errors,
        errors: errorList(errors),
        action: bookingPath(booking.id, 'details'),
        back: timesPath(type.code, location.code),
      },
      status,
    );
  }

  app.get<{ Params: { id: string } }>('/appointments/booking/:id/details', async (request, reply) => {
    const { booking } = await heldBy(request, request.params.id);
    const next = whereNow(booking);
    if (next) return reply.redirect(next);
    if (holdEnded(booking)) return renderHoldEnded(reply, booking, 'We could not keep that time for you any longer. Choose a time again.');
    const resident = await account.residents.signedIn(request);
    return renderDetails(reply, booking, detailsValues(booking, request.session.appointmentDetails?.[booking.id], resident), {});
  });

  app.post<{ Params: { id: string } }>('/appointments/booking/:id/details', { config: FORMS_PER_MINUTE }, async (request, reply) => {
    const { booking } = await heldBy(request, request.params.id);
    const next = whereNow(booking);
    if (next) return reply.redirect(next, 303);
    const posted = postedDetails(booking.type, bodyOf(request));
    saveDetails(request, booking.id, posted);
    const { errors } = checkDetails(booking.type, booking.location, posted);
    if (Object.keys(errors).length > 0) return renderDetails(reply, booking, posted, errors, 400);
    return reply.redirect(bookingPath(booking.id, 'check'), 303);
  });

  /* ---------------------------------------------------------------- 5. check your answers and book */

  function summary(booking: Booking & { type: AppointmentType; location: Location }, posted: Posted) {
    const { type, location } = booking;
    const { details } = service.checkDetails(type, posted);
    const detailsHref = (field: string) => `${bookingPath(booking.id, 'details')}#${field}`;
    const appointment = [
      { key: 'Appointment', value: type.name },
      {
        key: 'Where',
        value: location.kind === 'phone' ? 'By phone' : [location.name, location.address].filter(Boolean).join('\n'),
        ...(type.locations.length > 1 ? { href: `/appointments/${type.code}?change=${booking.id}`, hidden: 'where' } : {}),
      },
      {
        key: 'When',
        value: booking.when,
        href: `${timesPath(type.code, location.code)}?change=${booking.id}`,
        hidden: 'the time',
      },
    ];
    const you = [
      { key: 'Full name', value: details.name, href: detailsHref('name'), hidden: 'your full name' },
      { key: 'Email address', value: details.email, href: detailsHref('email'), hidden: 'your email address' },
      { key: 'Phone number', value: details.phone ?? 'Not given', href: detailsHref('phone'), hidden: 'your phone number' },
      {
        key: 'Reminders',
        value: details.remindBy === 'sms' ? 'By text message' : 'By email',
        href: detailsHref('remindBy'),
        hidden: 'how you are reminded',
      },
      ...type.questions.map((question) => ({
        key: question.label,
        value: extraAnswerText(question, details.answers[question.id]),
        href: detailsHref(question.id),
        hidden: question.label.toLowerCase(),
      })),
    ];
    return { appointment, you };
  }

  app.get<{ Params: { id: string } }>('/appointments/booking/:id/check', async (request, reply) => {
    const { booking } = await heldBy(request, request.params.id);
    const next = whereNow(booking);
    if (next) return reply.redirect(next);
    if (holdEnded(booking)) return renderHoldEnded(reply, booking, 'We could not keep that time for you any longer. Choose a time again.');
    const posted = request.session.appointmentDetails?.[booking.id];
    if (!posted || Object.keys(checkDetails(booking.type, booking.location, posted).errors).length > 0)
      return reply.redirect(bookingPath(booking.id, 'details'));
    return page(reply, 'check', 'Check your answers before booking', {
      type: booking.type,
      sections: summary(booking, posted),
      until: holdingUntil(booking),
      action: bookingPath(booking.id, 'check'),
      back: bookingPath(booking.id, 'details'),
    });
  });

  app.post<{ Params: { id: string } }>('/appointments/booking/:id/check', { config: FORMS_PER_MINUTE }, async (request, reply) => {
    const { booking, key } = await heldBy(request, request.params.id);
    const posted = request.session.appointmentDetails?.[booking.id];
    if (!posted) return reply.redirect(whereNow(booking) ?? bookingPath(booking.id, 'details'), 303);
    const resident = await account.residents.signedIn(request);
    try {
      // Confirming what is already booked (a second press) gives back the same booking.
      await service.confirm(actorOf(resident), booking.id, key, posted);
    } catch (error) {
      if (error instanceof BookingProblems) {
        const resident = await account.residents.signedIn(request);
        return renderDetails(reply, booking, detailsValues(booking, posted, resident), error.fields, 400);
      }
      if (error instanceof HttpError && error.statusCode === 409) return renderHoldEnded(reply, booking, error.message);
      throw error;
    }
    return reply.redirect(bookingPath(booking.id, 'confirmation'), 303);
  });

  /* ---------------------------------------------------------------- 6. booked */

  /** A booking this browser made and which is booked (or was, and has since been cancelled). */
  async function bookedBy(request: FastifyRequest, id: string) {
    const { booking } = await heldBy(request, id);
    if (booking.status === 'held' || booking.status === 'expired') throw new HttpError(404, 'Page not found');
    return booking;
  }

  function changeLimits(booking: Booking): { change: string; cancel: string } {
    const type = booking.type;
    const until = (minutes: number) => (minutes === 0 ? 'until it starts' : `up to ${durationText(minutes)} before it starts`);
    return {
      change: type ? until(type.changeUntilMinutes) : '',
      cancel: type ? until(type.cancelUntilMinutes) : '',
    };
  }

  app.get<{ Params: { id: string } }>('/appointments/booking/:id/confirmation', async (request, reply) => {
    const booking = await bookedBy(request, request.params.id);
    const resident = await account.residents.signedIn(request);
    return page(reply, 'confirmation', 'Appointment booked', {
      booking,
      where: whereText(booking),
      calendar: bookingPath(booking.id, 'appointment.ics'),
      limits: changeLimits(booking),
      account: resident && booking.residentId === resident.id ? `/account/appointments/${booking.reference}` : undefined,
    });
  });

  function sendCalendar(reply: FastifyReply, booking: Booking) {
    return reply
      .header('Content-Type', 'text/calendar; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="appointment-${booking.reference}.ics"`)
      .header('Cache-Control', 'no-store')
      .send(service.icsFor(booking));
  }

  app.get<{ Params: { id: string } }>('/appointments/booking/:id/appointment.ics', async (request, reply) => {
    return sendCalendar(reply, await bookedBy(request, request.params.id));
  });

  /* ---------------------------------------------------------------- 7 and 8. change or cancel */

  function renderLinkExpired(reply: FastifyReply) {
    return page(reply, 'link-expired', 'This link has expired', {}, 404);
  }

  /** The booking a signed link is for, or undefined when the link is not (or no longer) good. */
  async function byLink(request: FastifyRequest, token: string): Promise<Managed | undefined> {
    const id = service.bookingFromToken(token);
    const booking = id ? await service.booking(id) : undefined;
    if (!booking || booking.kind !== 'booking' || booking.status === 'held' || booking.status === 'expired') return undefined;
    const resident = await account.residents.signedIn(request);
    return {
      booking,
      base: `/appointments/manage/${encodeURIComponent(token)}`,
      actor: actorOf(resident),
      viaLink: true,
      frame: {},
    };
  }

  async function byAccount(request: FastifyRequest<{ Params: { reference: string } }>): Promise<Managed> {
    const resident = account.residents.current(request);
    const booking = await service.residentBooking(resident.id, request.params.reference);
    return {
      booking,
      base: `/account/appointments/${booking.reference}`,
      actor: { type: 'resident', residentId: resident.id },
      viaLink: false,
      frame: { frame: 'appointments/account-frame.njk', resident, section: 'activity', back: '/account' },
    };
  }

  function manageValues(managed: Managed) {
    const { booking } = managed;
    return {
      ...managed.frame,
      booking,
      base: managed.base,
      where: whereText(booking),
      active: booking.status === 'confirmed',
      calendar: booking.status === 'confirmed' ? `${managed.base}/appointment.ics` : undefined,
    };
  }

  /** A page saying why the booking cannot be changed or cancelled online, with the number to call. */
  function renderCannot(reply: FastifyReply, managed: Managed, heading: string, message: string) {
    return page(reply, 'cannot', heading, { ...manageValues(managed), heading, message, back: managed.base }, 409);
  }

  function renderCancel(reply: FastifyReply, managed: Managed, reason: string, error?: string) {
    return page(
      reply,
      'cancel',
      'Are you sure you want to cancel your appointment?',
      {
        ...manageValues(managed),
        reason,
        maxReason: MAX_REASON,
        reasonError: error,
        errors: error ? [{ text: error, href: '#reason' }] : [],
        back: managed.base,
      },
      error ? 400 : 200,
    );
  }

  const cannotCancel = (reply: FastifyReply, managed: Managed, message = 'It is too close to the time of the appointment to cancel it online.') =>
    renderCannot(reply, managed, 'You cannot cancel this appointment online', message);

  const changeTimes = (managed: Managed): TimesPage => ({
    type: managed.booking.type as AppointmentType,
    location: managed.booking.location as Location,
    path: `${managed.base}/change`,
    back: managed.base,
    query: {},
    hidden: {},
    current: managed.booking,
    frame: managed.frame,
  });

  /** Whether the time can be changed online; when not, the page saying why is sent. */
  async function changeable(reply: FastifyReply, managed: Managed): Promise<boolean> {
    const { booking } = managed;
    if (booking.status !== 'confirmed' || !booking.type || !booking.location) {
      await renderCannot(reply, managed, 'You cannot change this appointment', 'Only a booked appointment can be changed.');
      return false;
    }
    if (!booking.canChange) {
      await renderCannot(reply, managed, 'You cannot change this appointment online', 'It is too close to the time of the appointment to change it online.');
      return false;
    }
    return true;
  }

  type ManagePage = (request: FastifyRequest, reply: FastifyReply, managed: Managed) => Promise<unknown>;

  /** The pages under a booking's page, by method and the rest of the path ('' for the booking itself). */
  const managePages: Record<'GET' | 'POST', Record<string, ManagePage>> = {
    GET: {
      '': async (_request, reply, managed) => page(reply, 'manage', 'Your appointment', manageValues(managed)),
      'appointment.ics': async (_request, reply, managed) => sendCalendar(reply, managed.booking),
      cancel: async (_request, reply, managed) => {
        if (managed.booking.status === 'cancelled') return reply.redirect(`${managed.base}/cancelled`);
        if (!managed.booking.canCancel) return cannotCancel(reply, managed);
        return renderCancel(reply, managed, '');
      },
      cancelled: async (_request, reply, managed) => {
        if (managed.booking.status !== 'cancelled') return reply.redirect(managed.base);
        return page(reply, 'cancelled', 'Appointment cancelled', manageValues(managed));
      },
      change: async (request, reply, managed) => {
        if (!(await changeable(reply, managed))) return reply;
        return renderTimes(request, reply, changeTimes(managed));
      },
      changed: async (_request, reply, managed) => {
        if (managed.booking.status !== 'confirmed') return reply.redirect(managed.base);
        return page(reply, 'changed', 'Your appointment has changed', manageValues(managed));
      },
    },
    POST: {
      cancel: async (request, reply, managed) => {
        const raw = bodyOf(request).reason;
        const reason = typeof raw === 'string' ? raw.slice(0, 5000) : '';
        if (reason.trim().length > MAX_REASON) return renderCancel(reply, managed, reason, `The reason must be ${MAX_REASON} characters or fewer`);
        try {
          await service.cancel(managed.actor, managed.booking.id, { reason, viaLink: managed.viaLink });
        } catch (error) {
          if (error instanceof BookingProblems) return renderCancel(reply, managed, reason, Object.values(error.fields)[0]);
          if (error instanceof HttpError && error.statusCode === 409) return cannotCancel(reply, managed, error.message);
          throw error;
        }
        return reply.redirect(`${managed.base}/cancelled`, 303);
      },
      change: async (request, reply, managed) => {
        if (!(await changeable(reply, managed))) return reply;
        const start = chosenStart(bodyOf(request));
        if (!start) return renderTimes(request, reply, changeTimes(managed), SELECT_TIME);
        try {
          await service.move(managed.actor, managed.booking.id, start, { viaLink: managed.viaLink });
        } catch (error) {
          if (error instanceof SlotTaken) return renderTimes(request, reply, changeTimes(managed), SLOT_TAKEN);
          if (error instanceof HttpError && error.statusCode === 409)
            return renderCannot(reply, managed, 'You cannot change this appointment online', error.message);
          throw error;
        }
        return reply.redirect(`${managed.base}/changed`, 303);
      },
    },
  };

  // Signed links are longer than a route parameter may be, so everything after "manage/" is read here.
  for (const method of ['GET', 'POST'] as const) {
    app.route<{ Params: { '*': string } }>({
      method,
      url: '/appointments/manage/*',
      ...(method === 'POST' ? { config: HOLDS_PER_MINUTE } : {}),
      handler: async (request, reply) => {
        const [token = '', sub = '', ...rest] = request.params['*'].split('/');
        const handler = rest.length === 0 ? managePages[method][sub] : undefined;
        if (!handler) throw new HttpError(404, 'Page not found');
        const managed = await byLink(request, token);
        if (!managed) return renderLinkExpired(reply);
        return handler(request, reply, managed);
      },
    });
  }

  for (const method of ['GET', 'POST'] as const) {
    for (const [sub, handler] of Object.entries(managePages[method])) {
      app.route<{ Params: { reference: string } }>({
        method,
        url: `/account/appointments/:reference${sub ? `/${sub}` : ''}`,
        preHandler: account.requireResident,
        ...(method === 'POST' ? { config: HOLDS_PER_MINUTE } : {}),
        handler: async (request, reply) => handler(request, reply, await byAccount(request)),
      });
    }
  }

  /* ---------------------------------------------------------------- 9. the waiting list */

  function renderWaitingList(
    reply: FastifyReply,
    type: AppointmentType,
    location: Location,
    values: { name: string; email: string; fromDate: Record<string, string>; toDate: Record<string, string> },
    errors: FieldErrors = {},
  ) {
    return page(
      reply,
      'waiting-list',
      'Join the waiting list',
      {
        type,
        location,
        values,
        horizon: type.horizonDays,
        fieldErrors: errors,
        errors: errorList(errors, { fromDate: 'fromDate-day', toDate: 'toDate-day' }),
        action: `${timesPath(type.code, location.code)}/waiting-list`,
        back: timesPath(type.code, location.code),
      },
      Object.keys(errors).length > 0 ? 400 : 200,
    );
  }

  app.get<{ Params: { type: string; location: string } }>('/appointments/:type/:location/waiting-list', async (request, reply) => {
    const type = service.typeOf(request.params.type);
    const location = service.locationOf(type, request.params.location);
    const resident = await account.residents.signedIn(request);
    return renderWaitingList(reply, type, location, { name: resident?.name ?? '', email: resident?.email ?? '', fromDate: {}, toDate: {} });
  });

  app.post<{ Params: { type: string; location: string } }>(
    '/appointments/:type/:location/waiting-list',
    { config: EMAILS_PER_MINUTE },
    async (request, reply) => {
      const type = service.typeOf(request.params.type);
      const location = service.locationOf(type, request.params.location);
      const body = bodyOf(request);
      const name = textOf(body.name).slice(0, 200);
      const email = textOf(body.email).slice(0, 320);
      const from = dateFromParts(body, 'fromDate', 'first date you could come');
      const to = dateFromParts(body, 'toDate', 'last date you could come');
      const values = { name, email, fromDate: from.parts, toDate: to.parts };
      const resident = await account.residents.signedIn(request);
      const errors: FieldErrors = {};
      try {
        await service.joinWaitingList(actorOf(resident), { type: type.code, location: location.code, name, email, fromDate: from.value, toDate: to.value });
      } catch (error) {
        if (!(error instanceof BookingProblems)) throw error;
        Object.assign(errors, error.fields);
      }
      // The boxes' own problems say more than the service's, which sees only the date they make.
      if (!email) errors.email = 'Enter your email address';
      if (from.error) errors.fromDate = from.error;
      if (to.error) errors.toDate = to.error;
      if (Object.keys(errors).length > 0) {
        const ordered = Object.fromEntries(['name', 'email', 'fromDate', 'toDate'].filter((f) => errors[f]).map((f) => [f, errors[f] as string]));
        return renderWaitingList(reply, type, location, values, ordered);
      }
      request.session.appointmentWaiting = { type: type.code, location: location.code, email, fromDate: from.value, toDate: to.value };
      return reply.redirect(`${timesPath(type.code, location.code)}/waiting-list/joined`, 303);
    },
  );

  app.get<{ Params: { type: string; location: string } }>('/appointments/:type/:location/waiting-list/joined', async (request, reply) => {
    const type = service.typeOf(request.params.type);
    const location = service.locationOf(type, request.params.location);
    const joined = request.session.appointmentWaiting;
    if (!joined || joined.type !== type.code || joined.location !== location.code) return reply.redirect(`${timesPath(type.code, location.code)}/waiting-list`);
    return page(reply, 'waiting-list-joined', 'You are on the waiting list', {
      type,
      location,
      email: joined.email,
      from: dayOf(joined.fromDate),
      to: dayOf(joined.toDate),
    });
  });

  /* ---------------------------------------------------------------- 10. a time offered from the waiting list */

  app.get<{ Params: { '*': string } }>('/appointments/offer/*', async (request, reply) => {
    const offer = service.offerFromToken(request.params['*']);
    const booking = offer ? await service.heldBooking(offer.id, offer.key) : undefined;
    if (!offer || !booking || booking.kind !== 'booking') return renderLinkExpired(reply);
    keep(request, offer.id, offer.key);
    if (booking.status !== 'held' && booking.status !== 'expired') return reply.redirect(bookingPath(offer.id, 'confirmation'));
    return reply.redirect(bookingPath(offer.id, 'details'));
  });
}
