import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { boxAround, haversineMetres, type LatLng } from '#platform/geo/index';
import { HttpError } from '#platform/http/errors';
import type { Platform } from '#platform/platform';
import { errorSummary, formatDate } from '#platform/views/index';
import type { Account } from '#modules/account/index';
import { normaliseReference } from '#modules/cases/index';
import { REPORT_STATUSES, type ReportStatus } from './model/category.js';
import { NOT_FIXED_DAYS, ReportProblems, type PublicReport, type ReportsService } from './service.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** A one-off success message for the next report page. */
    reportFlash?: string;
  }
}

type Body = Record<string, unknown>;
type FieldErrors = Record<string, string>;

const PAGE_SIZE = 20;
/** Reports "near" a place are those in a box reaching this far from it. */
const NEAR_METRES = 1000;
const FEED_SIZE = 100;
const MAX_NOT_FIXED_CHARACTERS = 1000;
const DAY_MS = 86_400_000;
/** These routes send emails (to addresses anyone can type, or to a report's followers), so each IP address may use them only a few times a minute. */
const EMAILS_PER_MINUTE = { rateLimit: { max: 10, timeWindow: '1 minute' } };

const REFERENCE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The status filter in the residents' words; every report status is in exactly one group. */
const OPEN_STATUSES: readonly ReportStatus[] = ['open', 'investigating', 'action_scheduled', 'in_progress'];
const STATUS_GROUPS: Readonly<Record<string, { text: string; statuses: readonly ReportStatus[] }>> = {
  open: { text: 'Open', statuses: OPEN_STATUSES },
  fixed: { text: 'Fixed', statuses: ['fixed'] },
  closed: { text: 'Closed', statuses: REPORT_STATUSES.filter((s) => s !== 'fixed' && !OPEN_STATUSES.includes(s)) },
};
const AGES: Readonly<Record<string, { text: string; days: number }>> = {
  '7': { text: 'In the last 7 days', days: 7 },
  '30': { text: 'In the last 30 days', days: 30 },
  '90': { text: 'In the last 90 days', days: 90 },
};
const ALERT_DISTANCES: readonly { metres: number; text: string }[] = [
  { metres: 200, text: '200 metres' },
  { metres: 500, text: '500 metres' },
  { metres: 1000, text: '1 kilometre' },
  { metres: 2000, text: '2 kilometres' },
  { metres: 5000, text: '5 kilometres' },
];

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const queryOf = (request: FastifyRequest): Body => (request.query && typeof request.query === 'object' ? (request.query as Body) : {});
/** One value of a field (the first, if it was sent more than once). */
const one = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : '');
const many = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');

function coordinate(value: unknown, max: number): number | undefined {
  const text = one(value).trim();
  if (!/^-?\d{1,3}(\.\d{1,10})?$/.test(text)) return undefined;
  const n = Number(text);
  return Math.abs(n) <= max ? n : undefined;
}

/** The reference in an address, as stored; anything that cannot be one is "not found". */
function referenceParam(raw: string): string {
  const reference = normaliseReference(raw);
  if (!REFERENCE.test(reference)) throw new HttpError(404, 'Page not found');
  return reference;
}

const queryString = (url: string): string => {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at);
};

function statusTagClass(report: Pick<PublicReport, 'status'>): string {
  if (report.status === 'fixed') return 'govuk-tag--green';
  if (report.status === 'open') return 'govuk-tag--blue';
  if (OPEN_STATUSES.includes(report.status)) return 'govuk-tag--light-blue';
  return 'govuk-tag--grey';
}

/** "today", "yesterday", "3 days ago", then the date. */
function ageText(date: Date, now = new Date()): string {
  const day = (d: Date) => Math.floor(new Date(d.toLocaleDateString('en-CA', { timeZone: 'Europe/London' })).getTime() / DAY_MS);
  const days = day(now) - day(date);
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days < 30) return `${days} days ago`;
  return `on ${formatDate(date)}`;
}

function distanceText(metres: number): string {
  const tens = Math.max(10, Math.round(metres / 10) * 10);
  if (tens < 1000) return `${tens} metres away`;
  return `${(Math.round(metres / 100) / 10).toLocaleString('en-GB')} km away`;
}

/** Text for XML: escaped, and without the control characters XML 1.0 cannot hold at all. */
function xmlText(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/* ------------------------------------------------------------ the list and the feed: what was asked for */

interface ListValues {
  q: string;
  lat?: number | undefined;
  lng?: number | undefined;
  categories: string[];
  statuses: string[];
  age: string;
  page: number;
}

/** The list's address for these values, with some changed; the feed and the pages share it. */
function listSearch(values: ListValues, change: Partial<ListValues> = {}): string {
  const v = { ...values, ...change };
  const params = new URLSearchParams();
  if (v.q) params.set('q', v.q);
  else if (v.lat !== undefined && v.lng !== undefined) {
    params.set('lat', String(v.lat));
    params.set('lng', String(v.lng));
  }
  for (const c of v.categories) params.append('category', c);
  for (const s of v.statuses) params.append('status', s);
  if (v.age) params.set('age', v.age);
  if (v.page > 1) params.set('page', String(v.page));
  const search = params.toString();
  return search ? `?${search}` : '';
}

export function registerPublicReportRoutes(app: FastifyInstance, service: ReportsService, account: Account, platform: Platform): void {
  const { profile } = platform.council;
  const absolute = (path: string) => `${platform.config.baseUrl}${path}`;
  const { mapTiles } = platform.config;
  const tiles = mapTiles ? { url: mapTiles.url, attribution: mapTiles.attribution } : undefined;
  const publicCategories = () =>
    service
      .categories()
      .filter((c) => c.public)
      .sort((a, b) => a.name.localeCompare(b.name));

  function takeFlash(request: FastifyRequest): string | undefined {
    const flash = request.session.reportFlash;
    if (flash) request.session.reportFlash = undefined;
    return flash;
  }

  async function wardName(code: string | null): Promise<string | undefined> {
    if (!code) return undefined;
    return (await service.wards()).find((w) => w.code === code)?.name;
  }

  /* ------------------------------------------------------------ a report's page */

  interface ReportPageState {
    token?: string | undefined;
    errors?: FieldErrors;
    values?: Record<string, string>;
    status?: number;
  }

  async function renderReport(request: FastifyRequest, reply: FastifyReply, reference: string, state: ReportPageState = {}) {
    const report = await service.publicReport(reference);
    if (!report) throw new HttpError(404, 'Page not found');
    const resident = await account.residents.signedIn(request);
    const token = state.token && service.isReporterToken(report.reference, state.token) ? state.token : undefined;
    const mayReopen =
      service.canSayNotFixed(report) && (token !== undefined || (resident !== undefined && (await service.isReporter(report.reference, resident.id))));
    const errors = state.errors ?? {};
    return reply.code(state.status ?? 200).view('reports-public/report.njk', {
      pageTitle: `${report.title} (report ${report.reference})`,
      report,
      tiles,
      statusClass: statusTagClass(report),
      ward: await wardName(report.wardCode),
      paragraphs: report.detail.split(/\n\s*\n/).map((p) => p.split('\n')),
      updates: report.updates.map((u) => ({ ...u, paragraphs: (u.text ?? '').split(/\n\s*\n/).filter((p) => p.trim() !== '') })),
      resident,
      token,
      mayReopen,
      notFixedDays: NOT_FIXED_DAYS,
      flash: takeFlash(request),
      values: state.values ?? {},
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  }

  const reportPath = (reference: string, token: string | undefined) => `/reports/${reference}${token ? `?t=${encodeURIComponent(token)}` : ''}`;

  app.get<{ Params: { reference: string } }>('/reports/:reference', async (request, reply) => {
    const reference = referenceParam(request.params.reference);
    if (reference !== request.params.reference) return reply.redirect(`/reports/${reference}${queryString(request.url)}`, 301);
    return renderReport(request, reply, reference, { token: one(queryOf(request).t) || undefined });
  });

  app.get<{ Params: { reference: string; photoId: string } }>('/reports/:reference/photos/:photoId', async (request, reply) => {
    const reference = referenceParam(request.params.reference);
    const photo = UUID.test(request.params.photoId) ? await service.publicPhoto(reference, request.params.photoId) : null;
    if (!photo) throw new HttpError(404, 'Page not found');
    return reply.type(photo.contentType).header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(photo.bytes);
  });

  app.post<{ Params: { reference: string } }>('/reports/:reference/follow', { config: EMAILS_PER_MINUTE }, async (request, reply) => {
    const reference = referenceParam(request.params.reference);
    const body = bodyOf(request);
    const token = one(body.t) || undefined;
    const resident = await account.residents.signedIn(request);
    try {
      if (resident) {
        // A signed-in resident's email address was confirmed when they made their account.
        await service.follow(reference, resident.email);
        request.session.reportFlash = `You are following this report. We will email ${resident.email} when it is updated.`;
        return reply.redirect(reportPath(reference, token), 303);
      }
      const email = one(body.email).trim();
      await service.askToFollow(reference, email);
      return reply.view('reports-public/check-email.njk', { pageTitle: 'Check your email', reason: 'follow', email: email.toLowerCase(), reference });
    } catch (error) {
      if (!(error instanceof ReportProblems)) throw error;
      const errors = Object.fromEntries(error.problems.map((p) => [p.field, p.message]));
      return renderReport(request, reply, reference, { token, errors, values: { email: one(body.email) }, status: 400 });
    }
  });

  app.post<{ Params: { reference: string } }>('/reports/:reference/not-fixed', { config: EMAILS_PER_MINUTE }, async (request, reply) => {
    const reference = referenceParam(request.params.reference);
    const body = bodyOf(request);
    const token = one(body.t) || undefined;
    const details = one(body.details);
    const values = { details };
    if (!(await service.publicReport(reference))) throw new HttpError(404, 'Page not found');
    if (details.trim().length > MAX_NOT_FIXED_CHARACTERS)
      return renderReport(request, reply, reference, {
        token,
        values,
        status: 400,
        errors: { details: `What is still wrong must be ${MAX_NOT_FIXED_CHARACTERS.toLocaleString('en-GB')} characters or fewer` },
      });
    const resident = await account.residents.signedIn(request);
    try {
      await service.notFixed(reference, { token, residentId: resident?.id }, details);
    } catch (error) {
      if (error instanceof HttpError && (error.statusCode === 403 || error.statusCode === 409))
        return renderReport(request, reply, reference, { token, values, status: error.statusCode, errors: { details: error.message } });
      throw error;
    }
    request.session.reportFlash = 'Thank you for telling us. The report is open again and the team will look at it.';
    return reply.redirect(reportPath(reference, token), 303);
  });

  /* ------------------------------------------------------------ the list and the feed */

  interface Found {
    values: ListValues;
    errors: FieldErrors;
    centre: (LatLng & { label: string }) | undefined;
    reports: (PublicReport & { distance?: string | undefined })[];
    more: boolean;
  }

  /** Reads the filters, finds the place asked about and the reports for the page. */
  async function findReports(query: Body, size: number, paged: boolean): Promise<Found> {
    const known = new Set(publicCategories().map((c) => c.code));
    const pageText = one(query.page);
    const values: ListValues = {
      q: one(query.q).trim().slice(0, 100),
      categories: [...new Set(many(query.category).filter((c) => known.has(c)))],
      statuses: [...new Set(many(query.status).filter((s) => Object.hasOwn(STATUS_GROUPS, s)))],
      age: Object.hasOwn(AGES, one(query.age)) ? one(query.age) : '',
      page: paged && /^\d{1,4}$/.test(pageText) ? Math.max(1, Number(pageText)) : 1,
    };
    const errors: FieldErrors = {};
    let centre: Found['centre'];
    if (values.q) {
      const [place] = await service.findPlaces(values.q, 1);
      if (place) centre = { lat: place.lat, lng: place.lng, label: place.label };
      else errors.q = `We cannot find ‘${values.q}’. Enter a postcode or a street in ${profile.area}`;
    } else {
      const lat = coordinate(query.lat, 90);
      const lng = coordinate(query.lng, 180);
      if (lat !== undefined && lng !== undefined) {
        values.lat = lat;
        values.lng = lng;
        const where = await service.locate(lat, lng);
        centre = { lat, lng, label: where.description ?? 'the point you chose' };
      }
    }
    const age = AGES[values.age];
    const rows = await service.publicReports({
      box: centre ? boxAround(centre, NEAR_METRES) : undefined,
      categories: values.categories,
      statuses: values.statuses.flatMap((s) => STATUS_GROUPS[s]?.statuses ?? []),
      since: age ? new Date(Date.now() - age.days * DAY_MS) : undefined,
      order: 'newest',
      limit: size + 1,
      offset: (values.page - 1) * size,
    });
    const reports = rows.slice(0, size).map((r) => (centre ? { ...r, distance: distanceText(haversineMetres(centre, r)) } : r));
    return { values, errors, centre, reports, more: rows.length > size };
  }

  function listHeading(found: Found): string {
    return found.centre ? `Problems reported near ${found.centre.label}` : `Problems reported in ${profile.area}`;
  }

  app.get('/reports', async (request, reply) => {
    const found = await findReports(queryOf(request), PAGE_SIZE, true);
    const { values, errors } = found;
    const search = listSearch(values, { page: 1 });
    const href = (page: number) => `/reports${listSearch(values, { page })}`;
    const first = (values.page - 1) * PAGE_SIZE + 1;
    const alertSearch = new URLSearchParams();
    if (values.q && found.centre) alertSearch.set('q', values.q);
    else if (values.lat !== undefined && values.lng !== undefined) {
      alertSearch.set('lat', String(values.lat));
      alertSearch.set('lng', String(values.lng));
    }
    const heading = listHeading(found);
    return reply.code(Object.keys(errors).length ? 400 : 200).view('reports-public/list.njk', {
      pageTitle: values.page > 1 ? `${heading} (page ${values.page})` : heading,
      heading,
      values,
      tiles,
      centre: found.centre,
      reports: found.reports.map((r) => ({ ...r, statusClass: statusTagClass(r), age: ageText(r.createdAt) })),
      range: found.reports.length ? { from: first, to: first + found.reports.length - 1 } : undefined,
      pagination:
        values.page > 1 || found.more
          ? {
              previous: values.page > 1 ? { href: href(values.page - 1), labelText: `Page ${values.page - 1}` } : undefined,
              next: found.more ? { href: href(values.page + 1), labelText: `Page ${values.page + 1}` } : undefined,
            }
          : undefined,
      firstPage: values.page > 1 ? href(1) : undefined,
      categoryItems: publicCategories().map((c) => ({ value: c.code, text: c.name, checked: values.categories.includes(c.code) })),
      statusItems: Object.entries(STATUS_GROUPS).map(([value, group]) => ({ value, text: group.text, checked: values.statuses.includes(value) })),
      ageItems: [
        ...Object.entries(AGES).map(([value, age]) => ({ value, text: age.text, checked: values.age === value })),
        { value: '', text: 'At any time', checked: values.age === '' },
      ],
      feedHref: `/reports/feed.atom${search}`,
      feedTitle: heading,
      alertHref: `/reports/alerts${alertSearch.toString() ? `?${alertSearch.toString()}` : ''}`,
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  });

  app.get('/reports/feed.atom', async (request, reply) => {
    const found = await findReports(queryOf(request), FEED_SIZE, false);
    if (Object.keys(found.errors).length) throw new HttpError(404, 'Page not found');
    const search = listSearch(found.values);
    const self = absolute(`/reports/feed.atom${search}`);
    const updated = found.reports.reduce((latest, r) => (r.updatedAt > latest ? r.updatedAt : latest), new Date(0));
    const entries = found.reports.map((r) => {
      const url = absolute(`/reports/${r.reference}`);
      const where = r.place ?? (r.approximate ? 'Location shown approximately' : '');
      const summary = [`${r.category.name}.`, `Status: ${r.statusName}.`, where ? `Where: ${where}.` : ''].filter(Boolean).join(' ');
      return [
        '  <entry>',
        `    <id>${xmlText(url)}</id>`,
        `    <title>${xmlText(r.title)}</title>`,
        `    <published>${r.createdAt.toISOString()}</published>`,
        `    <updated>${r.updatedAt.toISOString()}</updated>`,
        `    <link rel="alternate" type="text/html" href="${xmlText(url)}"/>`,
        `    <category term="${xmlText(r.category.code)}" label="${xmlText(r.category.name)}"/>`,
        `    <summary type="text">${xmlText(summary)}</summary>`,
        '  </entry>',
      ].join('\n');
    });
    const xml = [
      '<?xml version="1.0" encoding="utf-8"?>',
      '<feed xmlns="http://www.w3.org/2005/Atom">',
      `  <id>${xmlText(self)}</id>`,
      `  <title>${xmlText(`${listHeading(found)} - ${profile.shortName}`)}</title>`,
      `  <updated>${(found.reports.length ? updated : new Date()).toISOString()}</updated>`,
      `  <link rel="self" type="application/atom+xml" href="${xmlText(self)}"/>`,
      `  <link rel="alternate" type="text/html" href="${xmlText(absolute(`/reports${search}`))}"/>`,
      `  <author><name>${xmlText(profile.name)}</name></author>`,
      ...entries,
      '</feed>',
      '',
    ].join('\n');
    return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(xml);
  });

  /* ------------------------------------------------------------ alerts */

  interface AlertValues {
    area: string;
    q: string;
    lat: string;
    lng: string;
    radius: string;
    ward: string;
    email: string;
  }

  async function renderAlerts(reply: FastifyReply, values: AlertValues, errors: FieldErrors = {}) {
    const lat = coordinate(values.lat, 90);
    const lng = coordinate(values.lng, 180);
    const point = lat !== undefined && lng !== undefined ? (await service.locate(lat, lng)).description : undefined;
    const wards = [...(await service.wards())].sort((a, b) => a.name.localeCompare(b.name));
    return reply.code(Object.keys(errors).length ? 400 : 200).view('reports-public/alerts.njk', {
      pageTitle: 'Get an email when a problem is reported',
      values,
      mapPoint: lat !== undefined && lng !== undefined ? { lat, lng, description: point ?? 'the point you chose on the map' } : undefined,
      distanceItems: ALERT_DISTANCES.map((d) => ({ value: String(d.metres), text: d.text, checked: values.radius === String(d.metres) })),
      wardItems: [{ value: '', text: 'Choose a ward' }, ...wards.map((w) => ({ value: w.code, text: w.name, selected: values.ward === w.code }))],
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  }

  app.get('/reports/alerts', async (request, reply) => {
    const query = queryOf(request);
    const resident = await account.residents.signedIn(request);
    const q = one(query.q).trim().slice(0, 100);
    const lat = one(query.lat);
    const lng = one(query.lng);
    const nearPlace = q !== '' || (coordinate(lat, 90) !== undefined && coordinate(lng, 180) !== undefined);
    return renderAlerts(reply, { area: nearPlace ? 'place' : '', q, lat, lng, radius: '', ward: '', email: resident?.email ?? '' });
  });

  app.post('/reports/alerts', { config: EMAILS_PER_MINUTE }, async (request, reply) => {
    const body = bodyOf(request);
    const values: AlertValues = {
      area: one(body.area),
      q: one(body.q).trim().slice(0, 100),
      lat: one(body.lat),
      lng: one(body.lng),
      radius: one(body.radius),
      ward: one(body.ward),
      email: one(body.email).trim(),
    };
    // In the order the page asks, so the error summary follows the page.
    const errors: FieldErrors = {};
    let point: (LatLng & { label: string }) | undefined;
    if (values.area === 'place') {
      const lat = coordinate(values.lat, 90);
      const lng = coordinate(values.lng, 180);
      if (values.q) {
        const [place] = await service.findPlaces(values.q, 1);
        if (place) point = { lat: place.lat, lng: place.lng, label: place.label };
        else errors.q = `We cannot find ‘${values.q}’. Enter a postcode or a street in ${profile.area}`;
      } else if (lat !== undefined && lng !== undefined) point = { lat, lng, label: 'the point you chose on the map' };
      else errors.q = 'Enter a postcode or street';
      if (!ALERT_DISTANCES.some((d) => String(d.metres) === values.radius)) errors.radius = 'Choose how far from there';
    } else if (values.area === 'ward') {
      if (!(await service.wards()).some((w) => w.code === values.ward)) errors.ward = 'Choose a ward';
    } else errors.area = 'Choose whether you want alerts near a place or for a ward';
    if (!values.email) errors.email = 'Enter your email address';
    if (Object.keys(errors).length) return renderAlerts(reply, values, errors);

    try {
      if (point) await service.askForAlert({ email: values.email, lat: point.lat, lng: point.lng, radius: Number(values.radius) });
      else await service.askForAlert({ email: values.email, ward: values.ward });
    } catch (error) {
      if (!(error instanceof ReportProblems)) throw error;
      const fields: Record<string, string> = { location: 'q' };
      return renderAlerts(reply, values, Object.fromEntries(error.problems.map((p) => [fields[p.field] ?? p.field, p.message])));
    }
    return reply.view('reports-public/check-email.njk', { pageTitle: 'Check your email', reason: 'alert', email: values.email.toLowerCase() });
  });

  /* ------------------------------------------------------------ links from emails */

  function linkProblem(reply: FastifyReply) {
    return reply.code(400).view('reports-public/link-problem.njk', { pageTitle: 'This link has expired or is not valid' });
  }

  // Signed tokens are longer than the router allows a named parameter to be, so they are the rest of the path.
  // Opening the link only shows a button: mail scanners that follow links must not confirm for someone.
  app.get<{ Params: { '*': string } }>('/reports/confirm/*', async (request, reply) => {
    const confirmation = await service.readConfirmation(request.params['*']);
    if (!confirmation) return linkProblem(reply);
    const heading = confirmation.kind === 'follow' ? `Get updates on report ${confirmation.reference}` : 'Set up your alert for new reports';
    return reply.view('reports-public/confirm.njk', {
      pageTitle: heading,
      heading,
      body:
        confirmation.kind === 'follow'
          ? 'We will email you when the report’s status changes or the council adds an update.'
          : 'We will email you when a problem is reported in the area you chose.',
      action: `/reports/confirm/${request.params['*']}`,
    });
  });

  app.post<{ Params: { '*': string } }>('/reports/confirm/*', async (request, reply) => {
    const confirmed = await service.confirm(request.params['*']);
    if (!confirmed) return linkProblem(reply);
    if (confirmed.kind === 'follow')
      return reply.view('reports-public/done.njk', {
        pageTitle: `You will get updates on report ${confirmed.reference}`,
        heading: 'You will get updates on this report',
        reference: confirmed.reference,
        body: ['We will email you when the report’s status changes or the council adds an update.', 'Each email has a link to stop the emails.'],
        link: { href: `/reports/${confirmed.reference}`, text: `Go to report ${confirmed.reference}` },
      });
    return reply.view('reports-public/done.njk', {
      pageTitle: 'Your alert is set up',
      heading: 'Your alert is set up',
      body: ['We will email you when a problem is reported in the area you chose.', 'Each email has a link to stop the emails.'],
      link: { href: '/reports', text: 'See problems already reported' },
    });
  });

  app.get<{ Params: { '*': string } }>('/reports/unsubscribe/*', async (request, reply) => {
    return reply.view('reports-public/unsubscribe.njk', {
      pageTitle: 'Stop emails about street reports',
      action: `/reports/unsubscribe/${request.params['*']}`,
    });
  });

  // Mail programs unsubscribe with one POST (RFC 8058) without a session: the signed link is the proof.
  void app.register(async (scope) => {
    // RFC 8058 allows the one-click body as multipart; it says nothing the link does not.
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 4096 }, (_request, _body, done) => done(null, {}));
    scope.post<{ Params: { '*': string } }>('/reports/unsubscribe/*', { config: { csrf: false } }, async (request, reply) => {
      const stopped = await service.unsubscribe(request.params['*']);
      if (!stopped) return linkProblem(reply);
      return reply.view('reports-public/done.njk', {
        pageTitle: 'You will not get these emails any more',
        heading: 'You will not get these emails any more',
        body: [stopped === 'follow' ? 'We will not email you about this report again.' : 'We will not email you about new reports in that area again.'],
        link: { href: '/reports', text: 'See problems reported' },
      });
    });
  });
}
