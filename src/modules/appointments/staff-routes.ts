import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCalendarDate, ukDay } from '#platform/council/dates';
import { HttpError } from '#platform/http/errors';
import { errorSummary, paragraphs } from '#platform/views/index';
import { assertCan, can, type Account, type StaffMember } from '#modules/account/index';
import { extraAnswerText, extraQuestionView } from '#modules/forms/index';
import type { BookingStatus } from './migrations.js';
import { dayNumberToDate, localDayNumber, type Slot } from './model/availability.js';
import type { AppointmentType } from './model/config.js';
import { formatDay, formatTime } from './model/when.js';
import { BookingProblems, SlotTaken, type AppointmentsService, type Booking } from './service.js';
import { ATTENDANCE, createAppointmentsStaff, type Attendance, type StaffCalendar } from './staff.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** A one-off success message for the next staff appointments page. */
    appointmentStaffFlash?: string;
  }
}

type Body = Record<string, unknown>;
type FieldErrors = Record<string, string>;

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const text = (body: Body, name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
const paramsOf = (request: FastifyRequest): URLSearchParams => new URLSearchParams(request.url.split('?')[1] ?? '');
const realDate = (value: string | null | undefined): string | undefined => (value && parseCalendarDate(value) !== undefined ? value : undefined);

const STATUS_TAGS: Record<BookingStatus, { text: string; classes: string }> = {
  held: { text: 'Being booked', classes: 'govuk-tag--grey' },
  confirmed: { text: 'Booked', classes: 'govuk-tag--blue' },
  arrived: { text: 'Arrived', classes: 'govuk-tag--turquoise' },
  seen: { text: 'Seen', classes: 'govuk-tag--green' },
  'did-not-attend': { text: 'Did not attend', classes: 'govuk-tag--red' },
  cancelled: { text: 'Cancelled', classes: 'govuk-tag--grey' },
  expired: { text: 'Not booked', classes: 'govuk-tag--grey' },
};

const ATTENDANCE_BUTTONS: Record<Attendance, { text: string; done: string }> = {
  arrived: { text: 'Mark as arrived', done: 'Marked as arrived' },
  seen: { text: 'Mark as seen', done: 'Marked as seen' },
  'did-not-attend': { text: 'Mark as did not attend', done: 'Marked as did not attend' },
};

function tagOf(booking: Booking): { text: string; classes: string } {
  if (booking.kind === 'block')
    return booking.status === 'cancelled' ? { text: 'Removed', classes: 'govuk-tag--grey' } : { text: 'Blocked out', classes: 'govuk-tag--purple' };
  return STATUS_TAGS[booking.status];
}

const timeRange = (from: Date, to: Date) => `${formatTime(from)} to ${formatTime(to)}`;
const hoursText = (hours: { from: Date; to: Date }[]) => (hours.length ? hours.map((h) => timeRange(h.from, h.to)).join(' and ') : 'Not working');
const bookingHref = (id: string) => `/staff/appointments/booking/${id}`;
const blockReasonOf = (booking: Booking) => (typeof booking.answers.reason === 'string' ? booking.answers.reason : '');

/** One booking or block as a calendar shows it. */
function entryView(booking: Booking) {
  const block = booking.kind === 'block';
  return {
    id: booking.id,
    // A booking still being made has no page yet: it is shown so the time is not mistaken for free.
    href: booking.status === 'held' ? undefined : bookingHref(booking.id),
    time: timeRange(booking.start, booking.end),
    start: formatTime(booking.start),
    title: block ? 'Time blocked out' : (booking.type?.name ?? 'Appointment'),
    detail: block ? blockReasonOf(booking) : (booking.name ?? ''),
    reference: booking.reference,
    tag: tagOf(booking),
  };
}

/** Day, month and year boxes as YYYY-MM-DD; undefined when all are empty, null when they are not a real date. */
function dateFromParts(body: Body | URLSearchParams, prefix: string): string | undefined | null {
  const get = (part: string) => (body instanceof URLSearchParams ? (body.get(`${prefix}-${part}`) ?? '') : text(body, `${prefix}-${part}`)).trim();
  const [day, month, year] = [get('day'), get('month'), get('year')];
  if (!day && !month && !year) return undefined;
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return null;
  const date = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  return parseCalendarDate(date) === undefined ? null : date;
}

/** The boxes of a date input filled from YYYY-MM-DD. */
function dateParts(prefix: string, date: string | undefined): Record<string, string> {
  const [year, month, day] = (date ?? '').split('-');
  return { [`${prefix}-day`]: day ? String(Number(day)) : '', [`${prefix}-month`]: month ? String(Number(month)) : '', [`${prefix}-year`]: year ?? '' };
}

/** The error summary, taking date errors to the day box. */
function summaryOf(errors: FieldErrors, dateFields: readonly string[] = []) {
  return errorSummary(errors).map((e) => {
    const field = e.href.slice(1);
    return dateFields.includes(field) ? { ...e, href: `#${field}-day` } : e;
  });
}

/** The service's messages speak to the resident; on the staff form they are about the caller. */
const forCaller = (errors: FieldErrors): FieldErrors =>
  Object.fromEntries(
    Object.entries(errors).map(([field, message]) => [field, message.replace(/\byour\b/g, 'the caller’s').replace(/\bcall you\b/g, 'call them')]),
  );

/** "Tuesday 8 December (12 times)", for a list of dates with free times. */
const dateItems = (dates: { date: string; count: number }[], chosen: string | undefined) =>
  dates.map(({ date, count }) => ({
    value: date,
    text: `${formatDay(new Date(`${date}T12:00:00Z`))} (${count} ${count === 1 ? 'time' : 'times'} free)`,
    selected: date === chosen,
  }));

const timeItems = (slots: Slot[], chosen: string | undefined, resourceName: (code: string) => string) =>
  slots.map((slot) => ({
    value: slot.start.toISOString(),
    text: formatTime(slot.start),
    hint: { text: slot.placesLeft > 1 ? `${slot.placesLeft} places left` : `With ${slot.resources.map(resourceName).join(' in ')}` },
    checked: slot.start.toISOString() === chosen,
  }));

const counted = (n: number) => n.toLocaleString('en-GB');
const numbers = (r: { capacity: number; booked: number; attended: number; didNotAttend: number; cancelled: number }) => ({
  capacity: counted(r.capacity),
  booked: counted(r.booked),
  attended: counted(r.attended),
  didNotAttend: counted(r.didNotAttend),
  cancelled: counted(r.cancelled),
});
const percentText = (value: number | null) => (value === null ? 'No times offered' : `${value}%`);

const slotsOn = (slots: Slot[], date: string) => slots.filter((slot) => dayNumberToDate(localDayNumber(slot.start.getTime())) === date);

/** Staff pages for appointments: the calendar, booking for a caller, attendance, blocked-out time, calendar feeds and utilisation. */
export function registerStaffAppointmentRoutes(app: FastifyInstance, service: AppointmentsService, account: Account): void {
  const staff = createAppointmentsStaff(service);
  const guard = { preHandler: account.requireStaff('appointments:manage') };
  // Utilisation is also for those who read insights: the service checks for either permission.
  const signedIn = { preHandler: account.requireStaff() };
  const resourceName = (code: string) => service.config.resources.get(code)?.name ?? code;

  async function memberOf(request: FastifyRequest): Promise<StaffMember> {
    const member = await account.staff.current(request);
    if (!member) throw new HttpError(403, 'Sign in to continue.');
    return member;
  }

  function takeFlash(request: FastifyRequest): string | undefined {
    const flash = request.session.appointmentStaffFlash;
    if (flash) request.session.appointmentStaffFlash = undefined;
    return flash;
  }

  async function staffNames(ids: (string | null | undefined)[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const id of new Set(ids)) {
      if (!id) continue;
      const found = await account.staff.findMember(id);
      names.set(id, found?.name ?? 'A former member of staff');
    }
    return names;
  }

  const calendarHref = (location: string, date: string, view: 'day' | 'week' = 'day') =>
    `/staff/appointments/${location}?date=${date}${view === 'week' ? '&view=week' : ''}`;

  // ---------------------------------------------------------------- choosing a calendar
  app.get('/staff/appointments', guard, async (request, reply) => {
    const member = await memberOf(request);
    const params = paramsOf(request);
    const locations = [...service.config.locations.values()];
    const today = ukDay();
    const errors: FieldErrors = {};
    const values: Record<string, string> = {
      location: params.get('location') ?? '',
      view: params.get('view') === 'week' ? 'week' : 'day',
      ...dateParts('date', today),
    };
    if (params.has('location')) {
      for (const part of ['date-day', 'date-month', 'date-year']) values[part] = params.get(part) ?? '';
      const date = dateFromParts(params, 'date');
      if (!service.config.locations.has(values.location ?? '')) errors.location = 'Choose a location';
      if (date === null) errors.date = 'Enter a real date, like 8 12 2026';
      if (Object.keys(errors).length === 0) return reply.redirect(calendarHref(values.location ?? '', date ?? today, values.view === 'week' ? 'week' : 'day'));
    }
    return reply.code(Object.keys(errors).length ? 400 : 200).view('appointments-staff/index.njk', {
      pageTitle: 'Appointments',
      flash: takeFlash(request),
      locations: locations.map((l) => ({
        name: l.name,
        today: calendarHref(l.code, today),
        week: calendarHref(l.code, today, 'week'),
        book: `/staff/appointments/${l.code}/book`,
      })),
      locationItems: locations.map((l) => ({ value: l.code, text: l.name, checked: values.location === l.code })),
      viewItems: [
        { value: 'day', text: 'Day', checked: values.view !== 'week' },
        { value: 'week', text: 'Week', checked: values.view === 'week' },
      ],
      values,
      canSeeUtilisation: can(member, 'insights:read') || can(member, 'appointments:manage'),
      fieldErrors: errors,
      errors: summaryOf(errors, ['date']),
    });
  });

  // ---------------------------------------------------------------- calendar feeds
  async function renderFeeds(
    request: FastifyRequest,
    reply: FastifyReply,
    member: StaffMember,
    state: { created?: { url: string; name: string }; errors?: FieldErrors } = {},
  ) {
    const feeds = await staff.listFeeds(member);
    const names = await staffNames(feeds.map((f) => f.createdBy));
    const errors = state.errors ?? {};
    const locationName = (code: string) => service.config.locations.get(code)?.name ?? code;
    return reply.code(Object.keys(errors).length ? 400 : 200).view('appointments-staff/feeds.njk', {
      pageTitle: state.created ? 'Calendar feed made' : 'Calendar feeds',
      flash: takeFlash(request),
      created: state.created,
      feeds: feeds.map((f) => ({ ...f, createdByName: names.get(f.createdBy) ?? '' })),
      resourceItems: [
        { value: '', text: 'Choose a calendar' },
        ...[...service.config.resources.values()].map((r) => ({ value: r.code, text: `${r.name} (${locationName(r.location)})` })),
      ],
      fieldErrors: errors,
      errors: summaryOf(errors),
    });
  }

  app.get('/staff/appointments/feeds', guard, async (request, reply) => renderFeeds(request, reply, await memberOf(request)));

  app.post('/staff/appointments/feeds', guard, async (request, reply) => {
    const member = await memberOf(request);
    try {
      const feed = await staff.createFeed(member, text(bodyOf(request), 'resource'));
      const resource = (await staff.listFeeds(member)).find((f) => f.id === feed.id)?.resource.name ?? '';
      // The address is shown on this response only: it is not kept anywhere it could be shown again.
      return await renderFeeds(request, reply, member, { created: { url: feed.url, name: resource } });
    } catch (error) {
      if (error instanceof BookingProblems) return renderFeeds(request, reply, member, { errors: error.fields });
      throw error;
    }
  });

  app.post<{ Params: { id: string } }>('/staff/appointments/feeds/:id/revoke', guard, async (request, reply) => {
    await staff.revokeFeed(await memberOf(request), request.params.id);
    request.session.appointmentStaffFlash = 'Feed stopped. Calendars using its address no longer get appointments from it.';
    return reply.redirect('/staff/appointments/feeds', 303);
  });

  // Fetched by calendar programs, which have no session: the secret address is the only key.
  app.get<{ Params: { file: string } }>(
    '/appointments/feeds/:file',
    { config: { csrf: false, rateLimit: { max: 60, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const token = /^(.+)\.ics$/.exec(request.params.file)?.[1];
      const calendar = token ? await staff.feedCalendar(token) : undefined;
      if (calendar === undefined) throw new HttpError(404, 'Page not found');
      return reply
        .type('text/calendar; charset=utf-8')
        .header('cache-control', 'private, no-store')
        .header('x-robots-tag', 'noindex')
        .header('content-disposition', 'inline; filename="appointments.ics"')
        .send(calendar);
    },
  );

  // ---------------------------------------------------------------- utilisation
  app.get('/staff/appointments/utilisation', signedIn, async (request, reply) => {
    const member = await memberOf(request);
    const params = paramsOf(request);
    // Refused before anything is read from the address; the service checks again.
    if (!can(member, 'insights:read')) assertCan(member, 'appointments:manage');
    const today = ukDay();
    const monthStart = `${today.slice(0, 8)}01`;
    const monthEnd = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)), 0)).toISOString().slice(0, 10);
    const errors: FieldErrors = {};
    const pick = (name: 'from' | 'to', fallback: string) => {
      const parts = dateFromParts(params, name);
      if (parts === null) {
        errors[name] = name === 'from' ? 'Enter a real start date' : 'Enter a real end date';
        return fallback;
      }
      return parts ?? realDate(params.get(name)) ?? fallback;
    };
    const from = pick('from', monthStart);
    const to = pick('to', monthEnd);
    let rows: Awaited<ReturnType<typeof staff.utilisation>> = [];
    if (Object.keys(errors).length === 0)
      try {
        rows = await staff.utilisation(member, { from, to });
      } catch (error) {
        if (!(error instanceof BookingProblems)) throw error;
        Object.assign(errors, error.fields);
      }
    const values: Record<string, string> = { ...dateParts('from', from), ...dateParts('to', to) };
    for (const part of ['from-day', 'from-month', 'from-year', 'to-day', 'to-month', 'to-year']) if (params.has(part)) values[part] = params.get(part) ?? '';
    const total = rows.reduce(
      (sum, r) => ({
        capacity: sum.capacity + r.capacity,
        booked: sum.booked + r.booked,
        attended: sum.attended + r.attended,
        didNotAttend: sum.didNotAttend + r.didNotAttend,
        cancelled: sum.cancelled + r.cancelled,
      }),
      { capacity: 0, booked: 0, attended: 0, didNotAttend: 0, cancelled: 0 },
    );
    const dayText = (date: string) => formatDay(new Date(`${date}T12:00:00Z`));
    return reply.code(Object.keys(errors).length ? 400 : 200).view('appointments-staff/utilisation.njk', {
      pageTitle: 'Appointment utilisation',
      period: `${dayText(from)} to ${dayText(to)}`,
      rows: rows.map((r) => ({ ...numbers(r), type: r.type, location: r.location, utilisationText: percentText(r.utilisation) })),
      total: { ...numbers(total), utilisationText: percentText(total.capacity > 0 ? Math.round((total.booked / total.capacity) * 1000) / 10 : null) },
      values,
      fieldErrors: errors,
      errors: summaryOf(errors, ['from', 'to']),
      canManage: can(member, 'appointments:manage'),
    });
  });

  // ---------------------------------------------------------------- one booking or block
  interface PageState {
    errors?: FieldErrors;
    values?: Record<string, string>;
    status?: number;
  }

  async function renderBooking(request: FastifyRequest, reply: FastifyReply, member: StaffMember, id: string, state: PageState = {}) {
    const detail = await staff.bookingDetail(member, id);
    const booking = detail.booking;
    const errors = state.errors ?? {};
    const values = state.values ?? {};
    const names = await staffNames([detail.bookedBy, ...detail.notes.map((n) => n.staffId)]);
    const now = Date.now();
    const isBooking = booking.kind === 'booking';
    const open = booking.status === 'confirmed' || booking.status === 'arrived';
    const dayHasCome = localDayNumber(now) >= localDayNumber(booking.start.getTime());
    const attendance =
      isBooking && open && dayHasCome ? ATTENDANCE.filter((s) => s !== booking.status && (s !== 'did-not-attend' || now >= booking.start.getTime())) : [];

    // Moving: the dates with free times, then the times on the date chosen.
    const canMove = isBooking && booking.status === 'confirmed' && booking.type !== undefined && booking.location !== undefined;
    let moveDates: { date: string; count: number }[] = [];
    let moveTimes: Slot[] = [];
    const moveDate = realDate(values.moveDate ?? paramsOf(request).get('moveDate'));
    if (canMove && booking.type && booking.location) {
      const slots = await service.availability(booking.type.code, booking.location.code, { staff: true });
      moveDates = service.datesOf(slots);
      if (moveDate) moveTimes = slotsOn(slots, moveDate);
    }
    const type = booking.type;
    const date = dayNumberToDate(localDayNumber(booking.start.getTime()));
    return reply.code(state.status ?? 200).view('appointments-staff/booking.njk', {
      pageTitle: isBooking ? `Appointment ${booking.reference}` : `Blocked-out time ${booking.reference}`,
      booking,
      action: bookingHref(booking.id),
      calendarHref: booking.location ? calendarHref(booking.location.code, date) : '/staff/appointments',
      isBooking,
      tag: tagOf(booking),
      time: timeRange(booking.start, booking.end),
      day: formatDay(booking.start),
      resources: booking.resources.map((r) => r.name).join(', '),
      bookedBy: detail.bookedBy ? names.get(detail.bookedBy) : undefined,
      createdAt: detail.createdAt,
      sourceText: { web: 'Online', staff: 'By staff', form: 'From a form' }[booking.source],
      blockReason: detail.blockReason,
      caseReference: detail.caseReference,
      answers: (type?.questions ?? []).map((q) => ({ key: { text: q.label }, value: { text: extraAnswerText(q, booking.answers[q.id]) } })),
      notes: detail.notes.map((n) => ({ paragraphs: paragraphs(n.text), by: names.get(n.staffId) ?? '', at: n.at })),
      flash: takeFlash(request),
      attendance: attendance.map((s) => ({ value: s, text: ATTENDANCE_BUTTONS[s].text })),
      attendanceHint:
        isBooking && open && !dayHasCome
          ? 'You can record whether they came from the day of the appointment.'
          : attendance.length > 0 && !attendance.includes('did-not-attend') && booking.status === 'confirmed'
            ? 'You can mark them as not attending once their appointment time has started.'
            : undefined,
      canMove,
      canCancel: isBooking && booking.status === 'confirmed',
      canUnblock: !isBooking && booking.status === 'confirmed',
      moveDate,
      moveDateItems: [{ value: '', text: 'Choose a date' }, ...dateItems(moveDates, moveDate)],
      moveTimeItems: timeItems(moveTimes, values.start, resourceName),
      values,
      fieldErrors: errors,
      errors: summaryOf(errors),
    });
  }

  app.get<{ Params: { id: string } }>('/staff/appointments/booking/:id', guard, async (request, reply) =>
    renderBooking(request, reply, await memberOf(request), request.params.id),
  );

  /**
   * Runs one of the booking page's forms: success is a message shown once after going back to the
   * page; problems with what was entered, or a refusal (400, 409), show the page again with them.
   */
  function action(path: string, spec: { fields: readonly string[]; field: string; run(member: StaffMember, id: string, body: Body): Promise<string> }) {
    app.post<{ Params: { id: string } }>(`/staff/appointments/booking/:id/${path}`, guard, async (request, reply) => {
      const member = await memberOf(request);
      const id = request.params.id;
      const body = bodyOf(request);
      const values = Object.fromEntries(spec.fields.map((f) => [f, text(body, f)]));
      try {
        request.session.appointmentStaffFlash = await spec.run(member, id, body);
      } catch (error) {
        if (error instanceof BookingProblems) return renderBooking(request, reply, member, id, { errors: error.fields, values, status: 400 });
        if (error instanceof SlotTaken) return renderBooking(request, reply, member, id, { errors: { start: error.message }, values, status: 409 });
        if (error instanceof HttpError && (error.statusCode === 400 || error.statusCode === 409))
          return renderBooking(request, reply, member, id, { errors: { [spec.field]: error.message }, values, status: error.statusCode });
        throw error;
      }
      return reply.redirect(bookingHref(id), 303);
    });
  }

  action('attendance', {
    fields: [],
    field: 'attendance',
    async run(member, id, body) {
      const status = text(body, 'status');
      if (!(ATTENDANCE as readonly string[]).includes(status))
        throw new BookingProblems({ attendance: 'Choose whether they arrived, were seen or did not attend' });
      await staff.setAttendance(member, id, status as Attendance);
      return ATTENDANCE_BUTTONS[status as Attendance].done;
    },
  });

  action('notes', {
    fields: ['note'],
    field: 'note',
    async run(member, id, body) {
      await staff.addNote(member, id, text(body, 'note'));
      return 'Note added';
    },
  });

  action('case', {
    fields: ['caseReference'],
    field: 'caseReference',
    async run(member, id, body) {
      const reference = await staff.linkCase(member, id, text(body, 'caseReference'));
      return `Linked to case ${reference}`;
    },
  });

  action('move', {
    fields: ['start', 'moveDate'],
    field: 'start',
    async run(member, id, body) {
      const start = new Date(text(body, 'start'));
      if (!text(body, 'start') || Number.isNaN(start.getTime())) throw new BookingProblems({ start: 'Choose the new time' });
      const moved = await service.move({ type: 'staff', member }, id, start);
      return `Appointment moved to ${moved.when}${moved.email ? '. The new time has been emailed to them' : ''}`;
    },
  });

  action('cancel', {
    fields: ['reason'],
    field: 'reason',
    async run(member, id, body) {
      const cancelled = await service.cancel({ type: 'staff', member }, id, { reason: text(body, 'reason') });
      return `Appointment cancelled${cancelled.email ? '. They have been emailed to say so' : ''}`;
    },
  });

  action('unblock', {
    fields: [],
    field: 'unblock',
    async run(member, id) {
      await staff.unblock(member, id);
      return 'Blocked-out time removed: it can be booked again';
    },
  });

  app.get<{ Params: { id: string } }>('/staff/appointments/booking/:id/booked', guard, async (request, reply) => {
    const detail = await staff.bookingDetail(await memberOf(request), request.params.id);
    const booking = detail.booking;
    if (booking.kind !== 'booking') throw new HttpError(404, 'Page not found');
    return reply.view('appointments-staff/booked.njk', {
      pageTitle: 'Appointment booked',
      booking,
      href: bookingHref(booking.id),
      calendarHref: booking.location ? calendarHref(booking.location.code, dayNumberToDate(localDayNumber(booking.start.getTime()))) : '/staff/appointments',
      bookAnotherHref: booking.location ? `/staff/appointments/${booking.location.code}/book` : '/staff/appointments',
    });
  });

  // ---------------------------------------------------------------- the calendar of a location
  app.get<{ Params: { location: string } }>('/staff/appointments/:location', guard, async (request, reply) => {
    const member = await memberOf(request);
    const params = paramsOf(request);
    const date = realDate(params.get('date')) ?? ukDay();
    const view = params.get('view') === 'week' ? 'week' : 'day';
    const calendar: StaffCalendar = await staff.calendar(member, { location: request.params.location, date, view });
    const code = calendar.location.code;
    const first = calendar.days[0];
    const today = ukDay();
    const unit = view === 'week' ? 'week' : 'day';
    const dayLabel = (d: string) => formatDay(new Date(`${d}T12:00:00Z`));
    const heading = view === 'week' ? `Week beginning ${first?.label ?? ''}` : (first?.label ?? '');
    const statusParts = Object.entries(calendar.counts.byStatus).map(([status, n]) => `${n} ${STATUS_TAGS[status as BookingStatus].text.toLowerCase()}`);
    const { appointments, blocks } = calendar.counts;
    return reply.view('appointments-staff/calendar.njk', {
      pageTitle: `${calendar.location.name}: ${heading}`,
      flash: takeFlash(request),
      location: calendar.location,
      view,
      heading,
      isToday: view === 'day' && date === today,
      summary:
        `${appointments} ${appointments === 1 ? 'appointment' : 'appointments'}${statusParts.length ? ` (${statusParts.join(', ')})` : ''}` +
        (blocks ? `, ${blocks} ${blocks === 1 ? 'time' : 'times'} blocked out` : ''),
      subNavigation: [
        { text: 'Day', href: calendarHref(code, date), active: view === 'day' },
        { text: 'Week', href: calendarHref(code, date, 'week'), active: view === 'week' },
      ],
      pagination: {
        previous: {
          href: calendarHref(code, calendar.previous, view),
          labelText: view === 'week' ? `Week of ${dayLabel(calendar.previous)}` : dayLabel(calendar.previous),
          text: `Previous ${unit}`,
        },
        next: {
          href: calendarHref(code, calendar.next, view),
          labelText: view === 'week' ? `Week of ${dayLabel(calendar.next)}` : dayLabel(calendar.next),
          text: `Next ${unit}`,
        },
        landmarkLabel: `Other ${unit}s`,
      },
      todayHref: calendar.days.some((d) => d.date === today) ? undefined : calendarHref(code, today, view),
      closed: view === 'day' ? first?.closed : undefined,
      resources: calendar.resources.map((r) => ({
        code: r.code,
        name: r.name,
        hours: hoursText(r.days[0]?.hours ?? []),
        entries: (r.days[0]?.entries ?? []).map(entryView),
        blockHref: `/staff/appointments/${code}/block?resource=${r.code}&date=${date}`,
      })),
      weekColumns: calendar.resources.map((r) => r.name),
      weekRows: calendar.days.map((d, i) => ({
        label: d.label,
        href: calendarHref(code, d.date),
        closed: d.closed,
        today: d.date === today,
        counts: `${d.appointments} ${d.appointments === 1 ? 'appointment' : 'appointments'}`,
        cells: calendar.resources.map((r) => {
          const day = r.days[i];
          return { working: (day?.hours.length ?? 0) > 0, hours: hoursText(day?.hours ?? []), entries: (day?.entries ?? []).map(entryView) };
        }),
      })),
      bookHref: `/staff/appointments/${code}/book`,
      blockHref: `/staff/appointments/${code}/block?date=${date}`,
    });
  });

  // ---------------------------------------------------------------- booking for a caller
  async function renderBook(
    request: FastifyRequest,
    reply: FastifyReply,
    locationCode: string,
    input: { type?: string; date?: string; body?: Body; errors?: FieldErrors; status?: number },
  ) {
    const location = staff.locationCalled(locationCode);
    const types = staff.typesAt(location.code);
    const base = `/staff/appointments/${location.code}/book`;
    const calendar = calendarHref(location.code, ukDay());
    const errors = input.errors ?? {};
    const type: AppointmentType | undefined = types.find((t) => t.code === input.type);
    if (!type) {
      if (types.length === 1 && input.type === undefined) return reply.redirect(`${base}?type=${types[0]?.code ?? ''}`);
      if (input.type !== undefined) errors.type = 'Choose the type of appointment';
      return reply.code(Object.keys(errors).length ? 400 : 200).view('appointments-staff/book-type.njk', {
        pageTitle: 'What is the appointment for?',
        location,
        action: base,
        calendarHref: calendar,
        typeItems: types.map((t) => ({ value: t.code, text: t.name, hint: { text: `${t.lengthMinutes} minutes` } })),
        fieldErrors: errors,
        errors: summaryOf(errors),
      });
    }
    const slots = await service.availability(type.code, location.code, { staff: true });
    const dates = service.datesOf(slots);
    const date = dates.some((d) => d.date === input.date) ? input.date : undefined;
    if (!date) {
      if (input.date !== undefined) errors.date = 'Choose a date with free times';
      return reply.code(Object.keys(errors).length ? 400 : 200).view('appointments-staff/book-date.njk', {
        pageTitle: 'Choose a date',
        location,
        type,
        action: base,
        backHref: types.length > 1 ? base : calendar,
        dateItems: [{ value: '', text: 'Choose a date' }, ...dateItems(dates, input.date)],
        horizonDays: type.horizonDays,
        fieldErrors: errors,
        errors: summaryOf(errors),
      });
    }
    const body = input.body ?? {};
    return reply.code(input.status ?? 200).view('appointments-staff/book-details.njk', {
      pageTitle: `Book ${type.name.charAt(0).toLowerCase()}${type.name.slice(1)}`,
      location,
      type,
      date,
      dayText: formatDay(new Date(`${date}T12:00:00Z`)),
      action: base,
      backHref: `${base}?type=${type.code}`,
      timeItems: timeItems(slotsOn(slots, date), text(body, 'start'), resourceName),
      values: { name: text(body, 'name'), email: text(body, 'email'), phone: text(body, 'phone'), remindBy: text(body, 'remindBy') || 'email' },
      questions: type.questions.map((q) => extraQuestionView(q, body[q.id], errors[q.id])),
      fieldErrors: errors,
      errors: summaryOf(errors),
    });
  }

  app.get<{ Params: { location: string } }>('/staff/appointments/:location/book', guard, async (request, reply) => {
    const params = paramsOf(request);
    return renderBook(request, reply, request.params.location, {
      ...(params.has('type') ? { type: params.get('type') ?? '' } : {}),
      ...(params.has('date') ? { date: params.get('date') ?? '' } : {}),
    });
  });

  app.post<{ Params: { location: string } }>('/staff/appointments/:location/book', guard, async (request, reply) => {
    const member = await memberOf(request);
    const location = staff.locationCalled(request.params.location);
    const body = bodyOf(request);
    const typeCode = text(body, 'type');
    const type = staff.typesAt(location.code).find((t) => t.code === typeCode);
    if (!type) return renderBook(request, reply, location.code, { type: typeCode });
    const again = (errors: FieldErrors, status: number) =>
      renderBook(request, reply, location.code, { type: type.code, date: text(body, 'date'), body, errors, status });
    // Every problem at once: the time and the caller's details.
    const errors: FieldErrors = { ...forCaller(service.checkDetails(type, body, location, { byStaff: true }).errors) };
    const start = new Date(text(body, 'start'));
    if (!text(body, 'start') || Number.isNaN(start.getTime())) errors.start = 'Choose a time';
    const ordered = (all: FieldErrors): FieldErrors => {
      const order = ['start', 'name', 'email', 'phone', 'remindBy', ...type.questions.map((q) => q.id)];
      return Object.fromEntries(order.filter((f) => all[f]).map((f) => [f, all[f] ?? '']));
    };
    if (Object.keys(errors).length > 0) return again(ordered(errors), 400);
    try {
      const booking = await service.bookFor(member, { type: type.code, location: location.code, start, details: body });
      return await reply.redirect(`${bookingHref(booking.id)}/booked`, 303);
    } catch (error) {
      if (error instanceof BookingProblems) return again(ordered(forCaller(error.fields)), 400);
      if (error instanceof SlotTaken) return again({ start: error.message }, 409);
      throw error;
    }
  });

  // ---------------------------------------------------------------- blocking out time
  async function renderBlock(
    request: FastifyRequest,
    reply: FastifyReply,
    locationCode: string,
    state: { values: Record<string, string>; errors?: FieldErrors },
  ) {
    const location = staff.locationCalled(locationCode);
    const errors = state.errors ?? {};
    const values = state.values;
    return reply.code(Object.keys(errors).length ? 400 : 200).view('appointments-staff/block.njk', {
      pageTitle: 'Block out time',
      location,
      action: `/staff/appointments/${location.code}/block`,
      calendarHref: calendarHref(location.code, dateFromParts(values, 'date') ?? ukDay()),
      resourceItems: staff.resourcesAt(location.code).map((r) => ({ value: r.code, text: r.name, checked: values.resource === r.code })),
      values,
      fieldErrors: errors,
      errors: summaryOf(errors, ['date']),
    });
  }

  app.get<{ Params: { location: string } }>('/staff/appointments/:location/block', guard, async (request, reply) => {
    const params = paramsOf(request);
    return renderBlock(request, reply, request.params.location, {
      values: { resource: params.get('resource') ?? '', ...dateParts('date', realDate(params.get('date')) ?? ukDay()), from: '', to: '', reason: '' },
    });
  });

  app.post<{ Params: { location: string } }>('/staff/appointments/:location/block', guard, async (request, reply) => {
    const member = await memberOf(request);
    const location = staff.locationCalled(request.params.location);
    const body = bodyOf(request);
    const fields = ['resource', 'date-day', 'date-month', 'date-year', 'from', 'to', 'reason'];
    const values = Object.fromEntries(fields.map((f) => [f, text(body, f)]));
    const date = dateFromParts(body, 'date');
    const resource = staff.resourcesAt(location.code).find((r) => r.code === values.resource);
    try {
      const block = await staff.block(member, {
        resource: resource?.code ?? '',
        date: date ?? '',
        from: values.from ?? '',
        to: values.to ?? '',
        reason: values.reason ?? '',
      });
      request.session.appointmentStaffFlash = `Time blocked out for ${resource?.name ?? ''}: ${formatDay(block.start)}, ${timeRange(block.start, block.end)}`;
      return await reply.redirect(calendarHref(location.code, date ?? ukDay()), 303);
    } catch (error) {
      if (!(error instanceof BookingProblems)) throw error;
      const errors = { ...error.fields };
      if (date === undefined) errors.date = 'Enter the date';
      return renderBlock(request, reply, location.code, { values, errors });
    }
  });
}
