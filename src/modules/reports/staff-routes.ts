import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '#platform/http/errors';
import { errorSummary, paragraphs } from '#platform/views/index';
import type { Account, StaffMember } from '#modules/account/index';
import { normaliseReference } from '#modules/cases/index';
import { fillResponse, REPORT_STATUS_NAMES, REPORT_STATUSES, responsesFor, unfilledGaps, type ReportStatus } from './model/category.js';
import { ReportProblems, type ReportsService } from './service.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** A one-off success message for the next staff report page. */
    reportStaffFlash?: string;
  }
}

type Body = Record<string, unknown>;
type FieldErrors = Record<string, string>;

const STAFF_PAGE_SIZE = 25;
const PHOTO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const text = (body: Body, name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
const paramsOf = (request: FastifyRequest): URLSearchParams => new URLSearchParams(request.url.split('?')[1] ?? '');

/** "Less than an hour", "5 hours", "3 days": how long ago a report was made, for triage. */
function ageText(since: Date, now = new Date()): string {
  const hours = Math.floor((now.getTime() - since.getTime()) / 3_600_000);
  if (hours < 1) return 'Less than an hour';
  if (hours < 48) return `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
  return `${Math.floor(hours / 24)} days`;
}

/** The triage list's filters as read from the address; values that are not choices are dropped. */
interface ListFilters {
  category: string[];
  status: ReportStatus[];
  ward: string;
  visibility: '' | 'visible' | 'hidden';
  state: 'open' | 'closed' | 'all';
  page: number;
}

function listSearch(filters: ListFilters, changes: Partial<ListFilters> = {}): string {
  const f = { ...filters, ...changes };
  const params = new URLSearchParams();
  for (const c of f.category) params.append('category', c);
  for (const s of f.status) params.append('status', s);
  if (f.ward) params.set('ward', f.ward);
  if (f.visibility) params.set('visibility', f.visibility);
  if (f.state !== 'open') params.set('state', f.state);
  if (f.page > 1) params.set('page', String(f.page));
  return params.toString();
}

const listHref = (filters: ListFilters, changes: Partial<ListFilters> = {}) => {
  const search = listSearch(filters, { page: 1, ...changes });
  return `/staff/reports${search ? `?${search}` : ''}`;
};

/** The statuses the Respond form offers: a duplicate is marked with its own form, which names the report it duplicates. */
const responseStatuses = <T extends { reportStatus: ReportStatus }>(next: readonly T[]): T[] => next.filter((s) => s.reportStatus !== 'duplicate');

/** What the report page is shown again with after a form on it is refused: the errors and what was typed. */
interface PageState {
  errors?: FieldErrors;
  values?: Record<string, string>;
  status?: number;
  /** A template picked with "Use template": its index in the category's responses. */
  template?: string | undefined;
}

/** Staff pages to triage and moderate street reports, for holders of reports:moderate; the service checks it again. */
export function registerReportStaffRoutes(app: FastifyInstance, service: ReportsService, account: Account): void {
  const guard = { preHandler: account.requireStaff('reports:moderate') };

  async function memberOf(request: FastifyRequest): Promise<StaffMember> {
    const member = await account.staff.current(request);
    if (!member) throw new HttpError(403, 'Sign in to continue.');
    return member;
  }

  function takeFlash(request: FastifyRequest): string | undefined {
    const flash = request.session.reportStaffFlash;
    if (flash) request.session.reportStaffFlash = undefined;
    return flash;
  }

  // ---------------------------------------------------------------- the triage list
  app.get('/staff/reports', guard, async (request, reply) => {
    const member = await memberOf(request);
    const params = paramsOf(request);
    const categories = service.categories();
    const wards = await service.wards();
    const categoryName = new Map(categories.map((c) => [c.code, c.name]));
    const wardName = new Map(wards.map((w) => [w.code, w.name]));
    const visibility = params.get('visibility');
    const state = params.get('state');
    const page = Number(params.get('page') ?? '1');
    const filters: ListFilters = {
      category: [...new Set(params.getAll('category'))].filter((c) => categoryName.has(c)),
      status: [...new Set(params.getAll('status'))].filter((s): s is ReportStatus => (REPORT_STATUSES as readonly string[]).includes(s)),
      ward: wardName.has(params.get('ward') ?? '') ? (params.get('ward') ?? '') : '',
      visibility: visibility === 'visible' || visibility === 'hidden' ? visibility : '',
      state: state === 'closed' || state === 'all' ? state : 'open',
      page: Number.isInteger(page) && page >= 1 && page <= 100_000 ? page : 1,
    };
    const { rows, total } = await service.staffReports(member, {
      categories: filters.category,
      statuses: filters.status,
      wardCode: filters.ward || undefined,
      hidden: filters.visibility === '' ? undefined : filters.visibility === 'hidden',
      open: filters.state === 'all' ? undefined : filters.state === 'open',
      limit: STAFF_PAGE_SIZE,
      offset: (filters.page - 1) * STAFF_PAGE_SIZE,
    });
    const now = new Date();
    const pages = Math.max(1, Math.ceil(total / STAFF_PAGE_SIZE));

    const without = <K extends 'category' | 'status'>(key: K, value: string) => listHref(filters, { [key]: filters[key].filter((v) => v !== value) });
    const selected: { heading: { text: string }; items: { href: string; text: string }[] }[] = [];
    const add = (heading: string, items: { href: string; text: string }[]) => {
      if (items.length) selected.push({ heading: { text: heading }, items });
    };
    add(
      'Category',
      filters.category.map((c) => ({ href: without('category', c), text: categoryName.get(c) ?? c })),
    );
    add(
      'Status',
      filters.status.map((s) => ({ href: without('status', s), text: REPORT_STATUS_NAMES[s] })),
    );
    if (filters.ward) add('Ward', [{ href: listHref(filters, { ward: '' }), text: wardName.get(filters.ward) ?? filters.ward }]);
    if (filters.visibility)
      add('Public or hidden', [
        { href: listHref(filters, { visibility: '' }), text: filters.visibility === 'hidden' ? 'Hidden from the public' : 'Shown to the public' },
      ]);
    if (filters.state !== 'open')
      add('Open or closed', [{ href: listHref(filters, { state: 'open' }), text: filters.state === 'closed' ? 'Closed' : 'Open and closed' }]);

    const pageHref = (n: number) => listHref(filters, { page: n });
    const items: ({ number: number; href: string; current: boolean } | { ellipsis: true })[] = [];
    for (let n = 1; n <= pages; n++) {
      if (n === 1 || n === pages || Math.abs(n - filters.page) <= 1) items.push({ number: n, href: pageHref(n), current: n === filters.page });
      else if (!('ellipsis' in (items.at(-1) ?? {}))) items.push({ ellipsis: true });
    }

    return reply.view('reports-staff/list.njk', {
      pageTitle: 'Street reports',
      filters,
      selectedFilters: selected.length
        ? { heading: { text: 'Selected filters' }, clearLink: { text: 'Clear filters', href: '/staff/reports' }, categories: selected }
        : undefined,
      categoryItems: categories.map((c) => ({ value: c.code, text: c.name, checked: filters.category.includes(c.code) })),
      statusItems: REPORT_STATUSES.map((s) => ({ value: s, text: REPORT_STATUS_NAMES[s], checked: filters.status.includes(s) })),
      wardItems: [{ value: '', text: 'Any ward' }, ...wards.map((w) => ({ value: w.code, text: w.name, selected: filters.ward === w.code }))],
      visibilityItems: [
        { value: '', text: 'Either', checked: filters.visibility === '' },
        { value: 'visible', text: 'Shown to the public', checked: filters.visibility === 'visible' },
        { value: 'hidden', text: 'Hidden from the public', checked: filters.visibility === 'hidden' },
      ],
      stateItems: [
        { value: 'open', text: 'Open', checked: filters.state === 'open' },
        { value: 'closed', text: 'Closed', checked: filters.state === 'closed' },
        { value: 'all', text: 'Open and closed', checked: filters.state === 'all' },
      ],
      rows: rows.map((r) => ({
        reference: r.reference,
        href: `/staff/reports/${r.reference}`,
        category: r.category.name,
        title: r.title,
        place: r.place ?? (r.wardCode ? wardName.get(r.wardCode) : undefined) ?? '',
        statusName: r.statusName,
        closed: r.closed,
        hidden: r.hidden,
        createdAt: r.createdAt,
        age: ageText(r.createdAt, now),
        followers: r.followers,
        pendingPhotos: r.pendingPhotos,
      })),
      total,
      totalText: `${total.toLocaleString('en-GB')} ${total === 1 ? 'report' : 'reports'}`,
      firstShown: total ? (filters.page - 1) * STAFF_PAGE_SIZE + 1 : 0,
      lastShown: Math.min(total, filters.page * STAFF_PAGE_SIZE),
      beyondLastPage: total > 0 && rows.length === 0,
      firstPageHref: pageHref(1),
      pagination:
        pages > 1
          ? {
              previous: filters.page > 1 ? { href: pageHref(Math.min(filters.page - 1, pages)) } : undefined,
              next: filters.page < pages ? { href: pageHref(filters.page + 1) } : undefined,
              items,
            }
          : undefined,
    });
  });

  // ---------------------------------------------------------------- one report
  async function renderReport(request: FastifyRequest, reply: FastifyReply, member: StaffMember, reference: string, state: PageState = {}) {
    const detail = await service.staffReport(member, reference);
    const { row, report, category, caseStatus, nextStatuses } = detail;
    const errors = state.errors ?? {};
    const values = state.values ?? {};
    const wardName = row.ward_code ? (await service.wards()).find((w) => w.code === row.ward_code)?.name : undefined;
    const reachable = [caseStatus.code, ...nextStatuses.map((s) => s.code)];
    const offered = responsesFor(category, reachable);
    const placeholders = { reference: report.reference, category: category.name.charAt(0).toLowerCase() + category.name.slice(1) };

    // "Use template": the template's words in the update box, and its status chosen when it is one the report can move to.
    let update = values.update ?? '';
    let chosenStatus = values.status ?? caseStatus.code;
    let chosenTemplate = '';
    if (state.template !== undefined) {
      const template = /^\d{1,3}$/.test(state.template) ? category.responses[Number(state.template)] : undefined;
      if (template && offered.includes(template)) {
        update = fillResponse(template.text, placeholders);
        if (template.status && reachable.includes(template.status)) chosenStatus = template.status;
        chosenTemplate = state.template;
      } else errors.template = 'Choose a response template';
    }
    const canDuplicate = nextStatuses.some((s) => s.reportStatus === 'duplicate');
    const statusLabel = (code: string | undefined) => nextStatuses.find((s) => s.code === code)?.label ?? code;

    return reply.code(state.status ?? (errors.template ? 400 : 200)).view('reports-staff/report.njk', {
      pageTitle: `Report ${report.reference}`,
      report,
      row,
      category,
      caseStatus,
      caseHref: detail.caseHref,
      canWork: detail.canWork,
      followers: detail.followers,
      wardName,
      description: paragraphs(report.detail),
      flash: takeFlash(request),
      statusItems: [
        { value: caseStatus.code, text: `Keep as ${caseStatus.label}`, hint: { text: `Shown to the public as ${report.statusName}` } },
        ...responseStatuses(nextStatuses).map((s) => ({
          value: s.code,
          text: s.label,
          hint: { text: `Shown to the public as ${REPORT_STATUS_NAMES[s.reportStatus]}` },
        })),
      ].map((item) => ({ ...item, checked: item.value === chosenStatus })),
      update,
      templateItems: [
        { value: '', text: 'Choose a template' },
        ...offered.map((t) => ({
          value: String(category.responses.indexOf(t)),
          text: t.status ? `${t.title} (when moving to ${statusLabel(t.status)})` : t.title,
          selected: String(category.responses.indexOf(t)) === chosenTemplate,
        })),
      ],
      updates: detail.updates.map((u) => ({
        title: u.kind === 'not-fixed' ? 'Reported as not fixed' : u.kind === 'update' ? 'Update' : `Status: ${REPORT_STATUS_NAMES[u.status]}`,
        paragraphs: paragraphs(u.text),
        hidden: u.hidden,
        at: new Date(u.created_at),
      })),
      photos: detail.photos.map((p, i) => ({
        id: p.id,
        number: i + 1,
        state: p.state,
        href: `/staff/reports/${report.reference}/photos/${p.id}`,
      })),
      canDuplicate,
      duplicateItems: detail.nearbyOpen.map((r) => ({
        value: r.reference,
        text: `${r.reference}: ${r.title}`,
        hint: { text: `${Math.round(r.distanceMetres)} metres away, ${r.statusName.toLowerCase()}, reported ${ageText(r.createdAt).toLowerCase()} ago` },
        checked: values.duplicateOf === r.reference,
      })),
      visibilityItems: [
        { value: 'visible', text: 'Shown to the public', checked: (values.visibility ?? (row.hidden ? 'hidden' : 'visible')) === 'visible' },
        { value: 'hidden', text: 'Hidden from the public', checked: (values.visibility ?? (row.hidden ? 'hidden' : 'visible')) === 'hidden' },
      ],
      values: {
        title: values.title ?? report.title,
        detail: values.detail ?? report.detail,
        removeName: values.removeName === 'yes',
        reason: values.reason ?? '',
        duplicateOfOther: values.duplicateOfOther ?? '',
      },
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  }

  app.get<{ Params: { reference: string } }>('/staff/reports/:reference', guard, async (request, reply) => {
    // A reference written another way (lower case, no hyphen) is sent to the address as stored.
    const reference = normaliseReference(request.params.reference);
    const template = paramsOf(request).get('template') ?? undefined;
    if (reference !== request.params.reference)
      return reply.redirect(`/staff/reports/${encodeURIComponent(reference)}${template === undefined ? '' : `?template=${encodeURIComponent(template)}`}`, 301);
    return renderReport(request, reply, await memberOf(request), reference, { template });
  });

  app.get<{ Params: { reference: string; id: string } }>('/staff/reports/:reference/photos/:id', guard, async (request, reply) => {
    const member = await memberOf(request);
    if (!PHOTO_ID.test(request.params.id)) throw new HttpError(404, 'Photo not found');
    const photo = await service.staffPhoto(member, normaliseReference(request.params.reference), request.params.id);
    if (!photo) throw new HttpError(404, 'Photo not found');
    return reply.type(photo.contentType).header('cache-control', 'private, no-store').send(photo.bytes);
  });

  /**
   * Runs one of the page's forms: success is a message shown once after the redirect back; the
   * service's field problems, or its 400 and 409 refusals, show the page again with what was typed.
   */
  function action(
    path: string,
    spec: { fields: readonly string[]; field: (body: Body) => string; run(member: StaffMember, reference: string, body: Body): Promise<string | FieldErrors> },
  ) {
    app.post<{ Params: { reference: string } }>(`/staff/reports/:reference/${path}`, guard, async (request, reply) => {
      const member = await memberOf(request);
      const reference = normaliseReference(request.params.reference);
      const body = bodyOf(request);
      const values = Object.fromEntries(spec.fields.map((f) => [f, text(body, f)]));
      let outcome: string | FieldErrors;
      try {
        outcome = await spec.run(member, reference, body);
      } catch (error) {
        if (error instanceof ReportProblems) {
          const field = spec.field(body);
          outcome = Object.fromEntries(error.problems.map((p) => [spec.fields.includes(p.field) ? p.field : field, p.message]));
          // A reference typed in the box is what was wrong, not the choice of nearby reports.
          if (outcome.duplicateOf && values.duplicateOfOther) outcome = { duplicateOfOther: outcome.duplicateOf };
        } else if (error instanceof HttpError && (error.statusCode === 400 || error.statusCode === 409))
          return renderReport(request, reply, member, reference, { errors: { [spec.field(body)]: error.message }, values, status: error.statusCode });
        else throw error;
      }
      if (typeof outcome !== 'string') return renderReport(request, reply, member, reference, { errors: outcome, values, status: 400 });
      request.session.reportStaffFlash = outcome;
      return reply.redirect(`/staff/reports/${encodeURIComponent(reference)}`, 303);
    });
  }

  action('respond', {
    fields: ['status', 'update'],
    field: () => 'update',
    async run(member, reference, body): Promise<string | FieldErrors> {
      const { category, caseStatus, nextStatuses } = await service.staffReport(member, reference);
      const to = text(body, 'status') || caseStatus.code;
      const next = nextStatuses.find((s) => s.code === to);
      if (to !== caseStatus.code && !next) return { status: 'Choose the new status' };
      if (next?.reportStatus === 'duplicate')
        return { status: 'Use “Mark as a duplicate” to say which report this one duplicates, so its followers move to it' };
      const update = text(body, 'update');
      const gaps = unfilledGaps(update, category);
      if (gaps.length) return { update: `Replace ${gaps.join(' and ')} with the right words before sending the update` };
      await service.respond(member, reference, to, update);
      return next ? `Report moved to ${next.label}` : 'Update published';
    },
  });

  action('duplicate', {
    fields: ['duplicateOf', 'duplicateOfOther'],
    field: (body) => (text(body, 'duplicateOfOther').trim() ? 'duplicateOfOther' : 'duplicateOf'),
    async run(member, reference, body): Promise<string | FieldErrors> {
      const original = text(body, 'duplicateOfOther').trim() || text(body, 'duplicateOf');
      if (!original) return { duplicateOf: 'Choose the report this one duplicates, or enter its reference' };
      await service.markDuplicate(member, reference, original);
      return `Marked as a duplicate of ${normaliseReference(original)}. Its followers now follow that report.`;
    },
  });

  action('moderate', {
    fields: ['visibility', 'title', 'detail', 'removeName', 'reason'],
    field: () => 'reason',
    async run(member, reference, body): Promise<string | FieldErrors> {
      const { row, report } = await service.staffReport(member, reference);
      const visibility = text(body, 'visibility');
      if (visibility !== 'visible' && visibility !== 'hidden') return { visibility: 'Choose whether the public can see the report' };
      const changes: { hidden?: boolean; title?: string; detail?: string; showName?: boolean } = {};
      if ((visibility === 'hidden') !== row.hidden) changes.hidden = visibility === 'hidden';
      const title = text(body, 'title').replace(/\r\n/g, '\n').trim();
      const detail = text(body, 'detail').replace(/\r\n/g, '\n').trim();
      if (title !== report.title) changes.title = title;
      if (detail !== report.detail) changes.detail = detail;
      if (text(body, 'removeName') === 'yes' && report.name !== null) changes.showName = false;
      if (Object.keys(changes).length === 0)
        return { visibility: 'Make a change: hide or show the report, edit its title or description, or remove the name of the person who reported it' };
      await service.moderate(member, reference, changes, text(body, 'reason'));
      const done: string[] = [];
      if (changes.hidden !== undefined) done.push(changes.hidden ? 'Report hidden from the public' : 'Report shown to the public again');
      if (changes.title !== undefined || changes.detail !== undefined) done.push('Public title or description changed');
      if (changes.showName === false) done.push('Name removed from the public page');
      return done.join('. ');
    },
  });

  app.post<{ Params: { reference: string; id: string } }>('/staff/reports/:reference/photos/:id', guard, async (request, reply) => {
    const member = await memberOf(request);
    const reference = normaliseReference(request.params.reference);
    if (!PHOTO_ID.test(request.params.id)) throw new HttpError(404, 'Photo not found');
    const decision = text(bodyOf(request), 'decision');
    if (decision !== 'approve' && decision !== 'hide') throw new HttpError(400, 'Choose whether to approve or hide the photo.');
    await service.moderatePhoto(member, reference, request.params.id, decision === 'approve' ? 'approved' : 'hidden');
    request.session.reportStaffFlash = decision === 'approve' ? 'Photo approved: it is shown on the public page' : 'Photo hidden from the public';
    return reply.redirect(`/staff/reports/${encodeURIComponent(reference)}#photos`, 303);
  });
}
