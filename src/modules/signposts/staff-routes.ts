import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCalendarDate } from '#platform/council/dates';
import { toCsv } from '#platform/http/csv';
import { HttpError } from '#platform/http/errors';
import { errorSummary, formatDate, formatDateTime } from '#platform/views/index';
import { can, type Account, type StaffMember } from '#modules/account/index';
import { formatProbability, matchWeightChart } from './chart.js';
import type { SearchQuery } from './linkage/index.js';
import { renderWorkingSetPdf, type WorkingSetCopy } from './pdf.js';
import type { PersonView, Purpose, SignpostsService, TimelineEvent } from './service.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** What the officer said they are working on: every search and view is audited against it. */
    signpostsPurpose?: Purpose;
    /** People locked together for a family view, in the order they were added. */
    signpostsWorkingSet?: string[];
    /** A one-off message for the next Signposts page. */
    signpostsFlash?: { text: string; success: boolean };
  }
}

type Body = Record<string, unknown>;
type FieldErrors = Record<string, string>;

export const WORKING_SET_LIMIT = 20;
const HOME = '/staff/signposts';
const HIDDEN_TEXT = 'Hidden: your role cannot see this';
const AUDIT_PAGE_SIZE = 50;

/** Navigation entries for the staff header. */
export const SIGNPOSTS_NAVIGATION = [
  { href: '/staff/signposts', text: 'Signposts', permission: 'signposts:search' },
  { href: '/staff/signposts/review', text: 'Possible links', permission: 'signposts:review' },
  { href: '/staff/signposts/sources', text: 'Signposts sources', permission: 'signposts:govern' },
  { href: '/staff/signposts/audit', text: 'Signposts audit', permission: 'signposts:govern' },
] as const;

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const text = (body: Body, name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
const paramsOf = (request: FastifyRequest): URLSearchParams => new URLSearchParams(request.url.split('?')[1] ?? '');
const PERSON_ID = /^\d{1,18}$/;
const personHref = (id: string): string => `${HOME}/people/${id}`;
const reviewHref = (a: string, b: string): string => `${HOME}/review/${a}/${b}`;

/** Only a page inside Signposts may be gone back to, so a form cannot be used to send someone elsewhere. */
const safeReturn = (value: string | null | undefined): string | undefined =>
  value && /^\/staff\/signposts(\/[\w\-./]*)?(\?[^\s]*)?$/.test(value) ? value : undefined;

/** Dates of birth come whole or partial, with or without dashes: "9 March 2014", "March 2014" or "2014". */
export function dobText(raw: string): string {
  const digits = raw.replace(/-/g, '');
  if (/^\d{8}$/.test(digits)) return formatDate(`${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}T12:00:00Z`);
  if (/^\d{6}$/.test(digits)) {
    const month = new Date(Date.UTC(Number(digits.slice(0, 4)), Number(digits.slice(4, 6)) - 1, 15));
    return month.toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  }
  return raw ? raw : 'Not recorded';
}

const eventDateText = (date: string | null): string => (date ? formatDate(`${date}T12:00:00Z`) : 'No date');

/** A probability as a percentage that never rounds a near-certainty up to 100. */
export function percent(probability: number, decimals = 0): string {
  const scale = 10 ** decimals;
  return `${(Math.floor(probability * 100 * scale) / scale).toFixed(decimals)}%`;
}

/** A weight with its sign, to one decimal: "+3.2", "−1.5" (a true minus sign, which screen readers say). */
export function signedWeight(weight: number): string {
  const rounded = Math.round(weight * 10) / 10;
  if (rounded === 0) return '0.0';
  return `${rounded > 0 ? '+' : '\u2212'}${Math.abs(rounded).toFixed(1)}`;
}

/** Day, month and year boxes as YYYY-MM-DD; undefined when all are empty, null when they are not a real date. */
function dateFromParts(params: URLSearchParams, prefix: string): string | undefined | null {
  const get = (part: string) => (params.get(`${prefix}-${part}`) ?? '').trim();
  const [day, month, year] = [get('day'), get('month'), get('year')];
  if (!day && !month && !year) return undefined;
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return null;
  const date = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  return parseCalendarDate(date) === undefined ? null : date;
}

/** A date of birth may be partial: a year, a month and year, or a whole date. */
function dobFromParts(params: URLSearchParams): string | undefined | null {
  const get = (part: string) => (params.get(`dob-${part}`) ?? '').trim();
  const [day, month, year] = [get('day'), get('month'), get('year')];
  if (!day && !month && !year) return undefined;
  if (!/^\d{4}$/.test(year)) return null;
  if (!day && !month) return year;
  if (!day && /^\d{1,2}$/.test(month) && Number(month) >= 1 && Number(month) <= 12) return `${year}-${month.padStart(2, '0')}`;
  return dateFromParts(params, 'dob');
}

const POSTCODE_LIKE = /^[A-Z]{1,2}\d[A-Z\d]?(\s*\d([A-Z]{2})?)?$/i;

const uniq = (values: string[]): string[] => [...new Set(values.filter(Boolean))];

/** The error summary, taking date errors to the day box. */
const summaryOf = (errors: FieldErrors, dateFields: readonly string[] = []) =>
  errorSummary(errors).map((e) => (dateFields.includes(e.href.slice(1)) ? { ...e, href: `${e.href}-day` } : e));

const ACTION_WORDS: Record<string, string> = {
  'signposts.searched': 'Searched',
  'signposts.person-viewed': 'Viewed a person',
  'signposts.exported': 'Exported a working set',
  'signposts.break-glass': 'Used break-glass access',
  'signposts.link-confirmed': 'Confirmed a link',
  'signposts.link-rejected': 'Rejected a link',
  'signposts.loaded': 'Loaded an extract',
  'signposts.purged': 'Purged expired records',
  'signposts.relinked': 'Re-linked records',
};

const QUERY_WORDS: Record<string, string> = {
  name: 'name',
  dob: 'date of birth',
  ageFrom: 'age from',
  ageTo: 'age to',
  postcode: 'postcode',
  address: 'address',
  identifier: 'identifier',
};

/** "childrens-social-care" for the file name of a download: letters, digits and hyphens only. */
const fileSafe = (value: string): string =>
  value
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'signposts';

/** One event as a timeline row. */
const eventRow = (e: TimelineEvent, personName?: string) => ({
  date: eventDateText(e.date),
  end: e.end ? eventDateText(e.end) : '',
  isoDate: e.date ?? '',
  person: personName ?? e.name,
  personId: e.personId,
  agency: e.agency,
  type: e.type,
  summary: e.summary ?? HIDDEN_TEXT,
  summaryHidden: e.summary === null,
  status: e.status === 'open' ? 'Open' : 'Closed',
  open: e.status === 'open',
  professional: e.professional || 'Not recorded',
  contact: e.contact ?? HIDDEN_TEXT,
});

/** Safeguarding staff pages: one view of a person across agencies, a family working set, link review, sources and the audit report. */
export function registerSignpostsRoutes(app: FastifyInstance, deps: { account: Account; service: SignpostsService; councilName: string }): void {
  const { account, service } = deps;
  const searching = { preHandler: account.requireStaff('signposts:search') };
  const reviewing = { preHandler: account.requireStaff('signposts:review') };
  const governing = { preHandler: account.requireStaff('signposts:govern') };
  // Sources are for those who govern them and those who search them: the service checks for either.
  const signedIn = { preHandler: account.requireStaff() };

  async function memberOf(request: FastifyRequest): Promise<StaffMember> {
    const member = await account.staff.current(request);
    if (!member) throw new HttpError(403, 'Sign in to continue.');
    return member;
  }

  function takeFlash(request: FastifyRequest): { text: string; success: boolean } | undefined {
    const flash = request.session.signpostsFlash;
    if (flash) request.session.signpostsFlash = undefined;
    return flash;
  }

  const workingSetOf = (request: FastifyRequest): string[] => (request.session.signpostsWorkingSet ?? []).filter((id) => PERSON_ID.test(id));

  /** Shared by every page that shows the purpose: the reference, the reason and a way to change it. */
  const purposeView = (purpose: Purpose, back: string) => ({ ...purpose, changeHref: `${HOME}/purpose?next=${encodeURIComponent(back)}` });

  // ---------------------------------------------------------------- the purpose
  function renderPurpose(reply: FastifyReply, state: { values: Record<string, string>; next?: string; errors?: FieldErrors; changing?: boolean }) {
    const errors = state.errors ?? {};
    return reply.code(Object.keys(errors).length ? 400 : 200).view('signposts-purpose.njk', {
      pageTitle: 'What are you working on?',
      values: state.values,
      next: state.next ?? '',
      changing: state.changing ?? false,
      fieldErrors: errors,
      errors: summaryOf(errors),
    });
  }

  app.get(`${HOME}/purpose`, searching, async (request, reply) => {
    const purpose = request.session.signpostsPurpose;
    return renderPurpose(reply, {
      values: { reference: purpose?.reference ?? '', reason: purpose?.reason ?? '' },
      next: safeReturn(paramsOf(request).get('next')),
      changing: purpose !== undefined,
    });
  });

  app.post(`${HOME}/purpose`, searching, async (request, reply) => {
    const body = bodyOf(request);
    const values = { reference: text(body, 'reference').trim(), reason: text(body, 'reason').trim() };
    const next = safeReturn(text(body, 'next'));
    const errors: FieldErrors = {};
    if (!values.reference) errors.reference = 'Enter the referral or case reference';
    else if (values.reference.length > 100) errors.reference = 'The reference must be 100 characters or fewer';
    if (!values.reason) errors.reason = 'Enter the reason you need to search';
    else if (values.reason.length < 10) errors.reason = 'The reason must be at least 10 characters';
    else if (values.reason.length > 1000) errors.reason = 'The reason must be 1,000 characters or fewer';
    if (Object.keys(errors).length > 0) return renderPurpose(reply, { values, next, errors, changing: request.session.signpostsPurpose !== undefined });
    request.session.signpostsPurpose = values;
    return reply.redirect(next ?? HOME, 303);
  });

  /** Pages that read people need a purpose first; the officer is sent to give one and brought back. */
  function purposeOr(request: FastifyRequest, reply: FastifyReply): Purpose | undefined {
    const purpose = request.session.signpostsPurpose;
    if (purpose) return purpose;
    // A form sent without a purpose comes back to the start: its address is not a page to return to.
    const next = request.method === 'GET' ? request.url : HOME;
    void reply.redirect(`${HOME}/purpose?next=${encodeURIComponent(next)}`, 303);
    return undefined;
  }

  // ---------------------------------------------------------------- search
  app.get(HOME, searching, async (request, reply) => {
    const member = await memberOf(request);
    const purpose = request.session.signpostsPurpose;
    if (!purpose) return renderPurpose(reply, { values: { reference: '', reason: '' } });
    const params = paramsOf(request);
    const fields = ['name', 'dob-day', 'dob-month', 'dob-year', 'ageFrom', 'ageTo', 'place', 'identifier'];
    const values = Object.fromEntries(fields.map((f) => [f, (params.get(f) ?? '').trim()]));
    const searched = fields.some((f) => params.has(f));
    const errors: FieldErrors = {};
    let results: Awaited<ReturnType<SignpostsService['search']>> | undefined;
    if (searched) {
      const query: SearchQuery = {};
      if (values.name) query.name = values.name;
      const dob = dobFromParts(params);
      if (dob === null) errors.dob = 'Date of birth must be a real date, a month and year, or a year';
      else if (dob) query.dob = dob;
      for (const [field, label] of [
        ['ageFrom', 'Age from'],
        ['ageTo', 'Age to'],
      ] as const) {
        const raw = values[field] ?? '';
        if (!raw) continue;
        if (!/^\d{1,3}$/.test(raw) || Number(raw) > 120) errors[field] = `${label} must be a whole number of years, from 0 to 120`;
        else query[field] = Number(raw);
      }
      if (query.ageFrom !== undefined && query.ageTo !== undefined && query.ageFrom > query.ageTo)
        errors.ageTo = 'Age to must be the same as or more than age from';
      const place = values.place ?? '';
      if (place) {
        if (POSTCODE_LIKE.test(place)) query.postcode = place;
        else query.address = place;
      }
      if (values.identifier) query.identifier = values.identifier;
      // An age range alone would list half the borough: it only narrows a search.
      if (!query.name && !query.dob && !query.postcode && !query.address && !query.identifier && Object.keys(errors).length === 0)
        errors.name = 'Enter a name, date of birth, address or identifier';
      if (Object.keys(errors).length === 0)
        try {
          results = await service.search(member, purpose, query);
        } catch (error) {
          if (!(error instanceof HttpError) || error.statusCode !== 400) throw error;
          errors.name = error.message;
        }
    }
    const inSet = new Set(workingSetOf(request));
    const here = request.url;
    return reply.code(Object.keys(errors).length ? 400 : 200).view('signposts-search.njk', {
      pageTitle: 'Find a person',
      flash: takeFlash(request),
      purpose: purposeView(purpose, here),
      values,
      searched: searched && Object.keys(errors).length === 0,
      here,
      workingSetCount: inSet.size,
      results: (results ?? []).map((r) => ({
        personId: r.personId,
        href: personHref(r.personId),
        names: uniq(r.versions.map((v) => v.name)),
        firstName: r.versions[0]?.name ?? 'Name not recorded',
        dobs: uniq(r.versions.map((v) => dobText(v.dob))),
        addresses: uniq(r.versions.map((v) => (v.address === 'Hidden' ? HIDDEN_TEXT : v.address))),
        agencies: uniq(r.versions.map((v) => v.agency)),
        confidence: `${percent(r.score)} match`,
        agreement: r.agreement.map((a) => a.description),
        locked: inSet.has(r.personId),
      })),
      fieldErrors: errors,
      errors: summaryOf(errors, ['dob']),
    });
  });

  // ---------------------------------------------------------------- a person
  async function renderPerson(request: FastifyRequest, reply: FastifyReply, personId: string, state: { errors?: FieldErrors; reason?: string } = {}) {
    const member = await memberOf(request);
    const purpose = purposeOr(request, reply);
    if (!purpose) return reply;
    const view = await service.person(member, purpose, personId);
    const params = paramsOf(request);
    const errors = state.errors ?? {};
    const agencies = uniq(view.timeline.map((e) => e.agency)).sort();
    const types = uniq(view.timeline.map((e) => e.type)).sort();
    const chosenAgencies = params.getAll('agency').filter((a) => agencies.includes(a));
    const chosenType = types.includes(params.get('type') ?? '') ? (params.get('type') ?? '') : '';
    const from = dateFromParts(params, 'from');
    const to = dateFromParts(params, 'to');
    if (from === null) errors.from = 'The from date must be a real date';
    if (to === null) errors.to = 'The to date must be a real date';
    if (from && to && from > to) errors.to = 'The to date must be the same as or after the from date';
    const timeline = view.timeline.filter(
      (e) =>
        (chosenAgencies.length === 0 || chosenAgencies.includes(e.agency)) &&
        (!chosenType || e.type === chosenType) &&
        (!from || (e.date !== null && e.date >= from)) &&
        (!to || (e.date !== null && e.date <= to)),
    );
    const filtered = timeline.length !== view.timeline.length;
    const inSet = workingSetOf(request).includes(personId);
    const here = personHref(personId);
    return reply.code(Object.keys(errors).length ? 400 : 200).view('signposts-person.njk', {
      pageTitle: view.name,
      flash: takeFlash(request),
      purpose: purposeView(purpose, here),
      person: { ...view, dobText: dobText(view.dob), href: here },
      agencyCount: uniq(view.records.map((r) => r.agency)).length,
      openCount: view.contacts.filter((c) => c.open).length,
      contacts: view.contacts.map((c) => ({
        ...c,
        contact: c.contact ?? HIDDEN_TEXT,
        first: c === view.contacts[0],
        latest: c.latest ? eventDateText(c.latest) : 'No date',
      })),
      records: view.records.map((r) => ({
        ...r,
        dobText: dobText(r.dob),
        address: r.hidden.includes('address') ? HIDDEN_TEXT : r.address || 'Not recorded',
        hiddenOther: r.hidden.filter((f) => f !== 'address').map((f) => (f === 'summary' ? 'Event summaries' : f === 'contact' ? 'Contact details' : f)),
      })),
      timeline: timeline.map((e) => eventRow(e)),
      timelineTotal: view.timeline.length,
      filtered,
      filter: {
        agencyItems: agencies.map((a) => ({ value: a, text: a, checked: chosenAgencies.includes(a) })),
        typeItems: [{ value: '', text: 'All types' }, ...types.map((t) => ({ value: t, text: t, selected: t === chosenType }))],
        values: {
          'from-day': params.get('from-day') ?? '',
          'from-month': params.get('from-month') ?? '',
          'from-year': params.get('from-year') ?? '',
          'to-day': params.get('to-day') ?? '',
          'to-month': params.get('to-month') ?? '',
          'to-year': params.get('to-year') ?? '',
        },
      },
      related: view.related.map((r) => ({ ...r, href: personHref(r.personId), dobText: dobText(r.dob) })),
      pendingLinks: view.pendingLinks.map((l) => ({ ...l, href: reviewHref(l.recordId, l.otherRecordId), probabilityText: formatProbability(l.probability) })),
      canReview: can(member, 'signposts:review'),
      hiddenSources: view.breakGlass ? [] : view.hiddenSources,
      hiddenTotal: view.hiddenSources.reduce((n, h) => n + h.count, 0),
      breakGlassAction: `${here}/break-glass`,
      reason: state.reason ?? '',
      inSet,
      fieldErrors: errors,
      errors: summaryOf(errors, ['from', 'to']),
    });
  }

  app.get<{ Params: { personId: string } }>(`${HOME}/people/:personId`, searching, async (request, reply) => {
    if (!PERSON_ID.test(request.params.personId)) throw new HttpError(404, 'Page not found');
    return renderPerson(request, reply, request.params.personId);
  });

  app.post<{ Params: { personId: string } }>(`${HOME}/people/:personId/break-glass`, searching, async (request, reply) => {
    const member = await memberOf(request);
    const personId = request.params.personId;
    if (!PERSON_ID.test(personId)) throw new HttpError(404, 'Page not found');
    const purpose = purposeOr(request, reply);
    if (!purpose) return reply;
    const reason = text(bodyOf(request), 'reason').trim();
    if (reason.length < 10)
      return renderPerson(request, reply, personId, {
        reason,
        errors: { reason: reason ? 'The reason must be at least 10 characters' : 'Enter why you need to see these records' },
      });
    try {
      await service.breakGlass(member, purpose, personId, reason);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 400) return renderPerson(request, reply, personId, { reason, errors: { reason: error.message } });
      throw error;
    }
    request.session.signpostsFlash = { text: 'Records opened. The information governance lead has been told.', success: true };
    return reply.redirect(personHref(personId), 303);
  });

  // ---------------------------------------------------------------- the working set
  app.post(`${HOME}/working-set`, searching, async (request, reply) => {
    const body = bodyOf(request);
    const action = text(body, 'action') || 'add';
    const personId = text(body, 'personId');
    const back = safeReturn(text(body, 'back')) ?? `${HOME}/working-set`;
    const set = workingSetOf(request);
    if (action === 'clear') {
      request.session.signpostsWorkingSet = [];
      request.session.signpostsFlash = { text: 'Working set cleared', success: true };
      return reply.redirect(`${HOME}/working-set`, 303);
    }
    if (!PERSON_ID.test(personId)) throw new HttpError(400, 'Choose a person.');
    if (action === 'remove') {
      request.session.signpostsWorkingSet = set.filter((id) => id !== personId);
      request.session.signpostsFlash = { text: 'Removed from the working set', success: true };
    } else if (set.includes(personId)) {
      request.session.signpostsFlash = { text: 'Already in the working set', success: true };
    } else if (set.length >= WORKING_SET_LIMIT) {
      request.session.signpostsFlash = { text: `The working set is full: it holds up to ${WORKING_SET_LIMIT} people. Remove someone first.`, success: false };
    } else {
      request.session.signpostsWorkingSet = [...set, personId];
      request.session.signpostsFlash = { text: 'Locked into the working set', success: true };
    }
    return reply.redirect(back, 303);
  });

  /** Every event of every locked person, newest first, each with the person's name. */
  const familyTimeline = (people: PersonView[]) =>
    people
      .flatMap((p) => p.timeline.map((e) => ({ event: e, name: p.name })))
      .sort((x, y) => (y.event.date ?? '').localeCompare(x.event.date ?? '') || x.name.localeCompare(y.name));

  app.get(`${HOME}/working-set`, searching, async (request, reply) => {
    const member = await memberOf(request);
    const purpose = purposeOr(request, reply);
    if (!purpose) return reply;
    const ids = workingSetOf(request);
    const people = ids.length ? await service.workingSet(member, purpose, ids, 'viewed') : [];
    const here = `${HOME}/working-set`;
    return reply.view('signposts-working-set.njk', {
      pageTitle: 'Family working set',
      flash: takeFlash(request),
      purpose: purposeView(purpose, here),
      limit: WORKING_SET_LIMIT,
      people: people.map((p) => ({
        personId: p.personId,
        name: p.name,
        dobText: dobText(p.dob),
        href: personHref(p.personId),
        agencies: uniq(p.records.map((r) => r.agency)),
        open: p.contacts.filter((c) => c.open).length,
      })),
      timeline: familyTimeline(people).map(({ event, name }) => eventRow(event, name)),
      someHidden: people.some((p) => p.hiddenSources.length > 0 && !p.breakGlass),
      pdfHref: `${HOME}/working-set.pdf`,
    });
  });

  app.get(`${HOME}/working-set.pdf`, searching, async (request, reply) => {
    const member = await memberOf(request);
    const purpose = purposeOr(request, reply);
    if (!purpose) return reply;
    const ids = workingSetOf(request);
    if (ids.length === 0) {
      request.session.signpostsFlash = { text: 'Lock at least one person into the working set before you download it.', success: false };
      return reply.redirect(`${HOME}/working-set`, 303);
    }
    const people = await service.workingSet(member, purpose, ids, 'exported');
    const copy: WorkingSetCopy = {
      councilName: deps.councilName,
      title: 'Family working set',
      purpose: { reference: purpose.reference, reason: purpose.reason },
      preparedBy: member.name,
      preparedAt: new Date(),
      people: people.map((p) => ({
        name: p.name,
        dateOfBirth: dobText(p.dob),
        addresses: uniq(p.records.map((r) => (r.hidden.includes('address') ? '' : r.address))),
        records: p.records.map((r) => ({
          source: r.agency,
          recordId: r.recordId,
          details: [
            `Name: ${r.name}`,
            ...(r.previousNames.length ? [`Previous names: ${r.previousNames.join(', ')}`] : []),
            ...(r.aliases.length ? [`Also known as: ${r.aliases.join(', ')}`] : []),
            `Date of birth: ${dobText(r.dob)}`,
            ...(r.gender ? [`Gender: ${r.gender}`] : []),
            ...r.identifiers.map((i) => `${i.label}: ${i.value}`),
            ...(r.viaBreakGlass ? ['Seen through break-glass access'] : []),
          ],
        })),
        contacts: p.contacts.map((c) => ({
          source: c.agency,
          professional: c.professional,
          contact: c.contact ?? HIDDEN_TEXT,
          role: c.open ? 'Open involvement' : 'Closed involvement',
        })),
      })),
      timeline: familyTimeline(people).map(({ event, name }) => ({
        date: eventDateText(event.date),
        person: name,
        source: event.agency,
        type: event.type,
        summary: event.summary ?? HIDDEN_TEXT,
        status: event.status === 'open' ? 'Open' : 'Closed',
      })),
      ...(people.some((p) => p.hiddenSources.length > 0 && !p.breakGlass) ? { hiddenNotice: 'Records from sources you may not see are not included.' } : {}),
    };
    const pdf = await renderWorkingSetPdf(copy);
    return reply
      .type('application/pdf')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="working-set-${fileSafe(purpose.reference)}.pdf"`)
      .send(pdf);
  });

  // ---------------------------------------------------------------- possible links
  app.get(`${HOME}/review`, reviewing, async (request, reply) => {
    const member = await memberOf(request);
    const pageText = paramsOf(request).get('page') ?? '1';
    const page = /^\d{1,5}$/.test(pageText) && Number(pageText) >= 1 ? Number(pageText) : 1;
    const queue = await service.reviewQueue(member, page);
    const pages = Math.max(1, Math.ceil(queue.total / 20));
    const pageHref = (n: number) => `${HOME}/review?page=${n}`;
    return reply.view('signposts-review-queue.njk', {
      pageTitle: 'Possible links to review',
      flash: takeFlash(request),
      total: queue.total,
      pairs: queue.pairs.map((p) => ({
        a: { ...p.a, dobText: dobText(p.a.dob) },
        b: { ...p.b, dobText: dobText(p.b.dob) },
        probability: formatProbability(p.probability),
        twins: p.reason === 'possible twins or siblings',
        href: reviewHref(p.a.id, p.b.id),
      })),
      pagination:
        pages > 1
          ? {
              previous: page > 1 ? { href: pageHref(page - 1) } : undefined,
              next: page < pages ? { href: pageHref(page + 1) } : undefined,
              items: Array.from({ length: pages }, (_, i) => ({ number: i + 1, href: pageHref(i + 1), current: i + 1 === page })),
            }
          : undefined,
    });
  });

  async function renderPair(
    request: FastifyRequest,
    reply: FastifyReply,
    a: string,
    b: string,
    state: { errors?: FieldErrors; values?: Record<string, string> } = {},
  ) {
    const member = await memberOf(request);
    const purpose = purposeOr(request, reply);
    if (!purpose) return reply;
    const pair = await service.pairForReview(member, a, b);
    const errors = state.errors ?? {};
    const values = state.values ?? { decision: '', note: '' };
    const { explanation } = pair;
    const record = (r: typeof pair.a) => ({
      ...r,
      dobText: dobText(r.dob),
      address: r.hidden.includes('address') ? HIDDEN_TEXT : r.address || 'Not recorded',
    });
    return reply.code(Object.keys(errors).length ? 400 : 200).view('signposts-review-pair.njk', {
      pageTitle: 'Are these the same person?',
      purpose: purposeView(purpose, reviewHref(a, b)),
      a: record(pair.a),
      b: record(pair.b),
      status: pair.status,
      note: pair.note,
      chart: matchWeightChart(explanation),
      fields: explanation.fields.map((f) => ({
        label: f.fieldLabel,
        left: f.leftValue || 'Not recorded',
        right: f.rightValue || 'Not recorded',
        description: f.description,
        weight: signedWeight(f.weight),
      })),
      prior: { probability: formatProbability(explanation.prior), weight: signedWeight(explanation.priorWeight) },
      total: signedWeight(explanation.totalWeight),
      probability: formatProbability(explanation.probability),
      action: reviewHref(a, b),
      decisionItems: [
        { value: 'confirmed', text: 'Same person', checked: values.decision === 'confirmed' },
        { value: 'rejected', text: 'Not the same person', checked: values.decision === 'rejected' },
      ],
      values,
      fieldErrors: errors,
      errors: summaryOf(errors),
    });
  }

  app.get<{ Params: { a: string; b: string } }>(`${HOME}/review/:a/:b`, reviewing, async (request, reply) =>
    renderPair(request, reply, request.params.a, request.params.b),
  );

  app.post<{ Params: { a: string; b: string } }>(`${HOME}/review/:a/:b`, reviewing, async (request, reply) => {
    const member = await memberOf(request);
    const { a, b } = request.params;
    const purpose = purposeOr(request, reply);
    if (!purpose) return reply;
    const body = bodyOf(request);
    const values = { decision: text(body, 'decision'), note: text(body, 'note') };
    const errors: FieldErrors = {};
    if (values.decision !== 'confirmed' && values.decision !== 'rejected') errors.decision = 'Select whether the records are the same person';
    if (values.note.length > 1000) errors.note = 'The note must be 1,000 characters or fewer';
    if (Object.keys(errors).length > 0) return renderPair(request, reply, a, b, { errors, values });
    try {
      await service.decide(member, purpose, a, b, values.decision as 'confirmed' | 'rejected', values.note);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 400) return renderPair(request, reply, a, b, { errors: { decision: error.message }, values });
      throw error;
    }
    request.session.signpostsFlash = { text: 'Decision saved', success: true };
    return reply.redirect(`${HOME}/review`, 303);
  });

  // ---------------------------------------------------------------- sources and freshness
  app.get(`${HOME}/sources`, signedIn, async (request, reply) => {
    const member = await memberOf(request);
    const sources = await service.freshness(member);
    const loads = await service.recentLoads(30);
    const agencyOf = new Map(service.sources.map((s) => [s.code, s.agency]));
    const hours = (n: number) => (n % 24 === 0 ? `Every ${n === 24 ? 'day' : `${n / 24} days`}` : `Every ${n} hours`);
    return reply.view('signposts-sources.njk', {
      pageTitle: 'Signposts sources',
      sources: sources.map(({ source, records, last, overdue }) => ({
        code: source.code,
        agency: source.agency,
        system: source.system,
        owner: source.owner,
        agreement: source.agreement,
        lawfulBasis: source.lawfulBasis,
        roles: source.roles.map((r) => r.replace(/-/g, ' ')).join(', '),
        refresh: hours(source.refreshHours),
        retention: `${source.retentionDays.toLocaleString('en-GB')} days`,
        records: records.toLocaleString('en-GB'),
        last: last
          ? `${formatDateTime(last.finished_at)}: ${last.rows.toLocaleString('en-GB')} rows, ${last.rejected.toLocaleString('en-GB')} rejected`
          : 'Never loaded',
        overdue,
      })),
      loads: loads.map((l) => ({
        id: l.id,
        when: formatDateTime(l.finished_at),
        agency: agencyOf.get(l.source_code) ?? l.source_code,
        fileName: l.file_name,
        via: l.via === 'api' ? 'API' : 'Command line',
        loadedBy: l.loaded_by,
        status: l.status === 'loaded' ? 'Loaded' : l.status === 'unchanged' ? 'Unchanged' : 'Failed',
        failed: l.status === 'failed',
        rows: l.rows.toLocaleString('en-GB'),
        rejected: l.rejected,
        problemsHref: `${HOME}/loads/${l.id}/problems.csv`,
      })),
      canGovern: can(member, 'signposts:govern'),
    });
  });

  app.get<{ Params: { loadId: string } }>(`${HOME}/loads/:loadId/problems.csv`, governing, async (request, reply) => {
    const { load, csv } = await service.loadProblems(await memberOf(request), request.params.loadId);
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${fileSafe(load.source_code)}-load-${load.id}-rejected-rows.csv"`)
      .send(csv);
  });

  // ---------------------------------------------------------------- the information governance audit report
  app.get(`${HOME}/audit`, governing, async (request, reply) => {
    const member = await memberOf(request);
    const params = paramsOf(request);
    const errors: FieldErrors = {};
    const staffName = (params.get('staff') ?? '').trim().slice(0, 100);
    const from = dateFromParts(params, 'from');
    const to = dateFromParts(params, 'to');
    if (from === null) errors.from = 'The from date must be a real date';
    if (to === null) errors.to = 'The to date must be a real date';
    if (from && to && from > to) errors.to = 'The to date must be the same as or after the from date';
    const csv = params.get('format') === 'csv';
    const pageText = params.get('page') ?? '1';
    const page = /^\d{1,6}$/.test(pageText) && Number(pageText) >= 1 ? Number(pageText) : 1;
    const query = {
      ...(staffName ? { actor: staffName } : {}),
      ...(from ? { from: new Date(`${from}T00:00:00Z`) } : {}),
      // The end date includes the whole of that day.
      ...(to ? { to: new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000) } : {}),
    };
    const values: Record<string, string> = { staff: staffName };
    for (const p of ['from-day', 'from-month', 'from-year', 'to-day', 'to-month', 'to-year']) values[p] = params.get(p) ?? '';
    const filterParams = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== ''));

    const rowOf = (r: Awaited<ReturnType<SignpostsService['auditTrail']>>['rows'][number]) => {
      const details = (r.details ?? {}) as { purpose?: Purpose; query?: Record<string, unknown>; results?: number };
      const purposeText = details.purpose ? `${details.purpose.reference}: ${details.purpose.reason}` : (r.reason ?? '');
      return {
        at: r.at,
        when: formatDateTime(r.at),
        who: r.actor_label ?? (r.actor_type === 'system' ? 'The system' : r.actor_type),
        what: ACTION_WORDS[r.action] ?? r.action,
        subjectType: r.subject_type,
        subjectId: r.subject_id,
        personHref: r.subject_type === 'signposts-person' && r.subject_id ? personHref(r.subject_id) : undefined,
        whom:
          r.subject_type === 'signposts-person'
            ? `Person ${r.subject_id ?? ''}`
            : r.subject_type === 'signposts-working-set'
              ? `Working set of ${(r.subject_id ?? '').split(',').filter(Boolean).length} people`
              : r.subject_type === 'signposts-link'
                ? `Records ${(r.subject_id ?? '').replace('-', ' and ')}`
                : r.subject_type === 'signposts-source'
                  ? (service.sources.find((s) => s.code === r.subject_id)?.agency ?? r.subject_id ?? '')
                  : details.query
                    ? `Search: ${Object.entries(details.query)
                        .map(([k, v]) => `${QUERY_WORDS[k] ?? k} ${String(v)}`)
                        .join(', ')}${details.results !== undefined ? ` (${details.results} found)` : ''}`
                    : '',
        purpose: purposeText,
        reason: r.action === 'signposts.break-glass' ? (r.reason ?? '') : '',
      };
    };

    if (csv) {
      if (Object.keys(errors).length > 0) throw new HttpError(400, 'The dates are not real dates.');
      const rows: string[][] = [];
      // Every matching event, a page at a time, so the download is the whole report and not only what is on screen.
      for (let p = 1; ; p++) {
        const result = await service.auditTrail(member, { ...query, page: p, pageSize: 200 });
        for (const r of result.rows.map(rowOf)) rows.push([r.at.toISOString(), r.who, r.what, r.whom, r.purpose, r.reason]);
        if (p * result.pageSize >= result.total || result.rows.length === 0) break;
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="signposts-audit.csv"')
        .send(toCsv(['when', 'who', 'what', 'whom', 'purpose', 'reason'], rows));
    }

    const result = Object.keys(errors).length
      ? { rows: [], total: 0, page: 1, pageSize: AUDIT_PAGE_SIZE }
      : await service.auditTrail(member, { ...query, page, pageSize: AUDIT_PAGE_SIZE });
    const pages = Math.max(1, Math.ceil(result.total / AUDIT_PAGE_SIZE));
    const pageHref = (n: number) => {
      const p = new URLSearchParams(filterParams);
      p.set('page', String(n));
      return `${HOME}/audit?${p.toString()}`;
    };
    const csvParams = new URLSearchParams(filterParams);
    csvParams.set('format', 'csv');
    return reply.code(Object.keys(errors).length ? 400 : 200).view('signposts-audit.njk', {
      pageTitle: 'Signposts audit',
      values,
      rows: result.rows.map(rowOf),
      total: result.total,
      firstShown: result.total ? (result.page - 1) * AUDIT_PAGE_SIZE + 1 : 0,
      lastShown: Math.min(result.total, result.page * AUDIT_PAGE_SIZE),
      csvHref: `${HOME}/audit?${csvParams.toString()}`,
      pagination:
        pages > 1
          ? {
              previous: result.page > 1 ? { href: pageHref(result.page - 1) } : undefined,
              next: result.page < pages ? { href: pageHref(result.page + 1) } : undefined,
              items: Array.from({ length: pages }, (_, i) => i + 1)
                .filter((n) => n === 1 || n === pages || Math.abs(n - result.page) <= 2)
                .flatMap((n, i, all) => [
                  ...(i > 0 && n - (all[i - 1] ?? n) > 1 ? [{ ellipsis: true }] : []),
                  { number: n, href: pageHref(n), current: n === result.page },
                ]),
            }
          : undefined,
      fieldErrors: errors,
      errors: summaryOf(errors, ['from', 'to']),
    });
  });
}
