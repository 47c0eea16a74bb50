import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '#platform/http/errors';
import type { Account, StaffMember } from '#modules/account/index';
import type { SortKey } from './repository.js';
import {
  BULK_CAP,
  cleanSearch,
  createCaseQueues,
  defaultDescending,
  EXPORT_CAP,
  localDay,
  MAP_CAP,
  PAGE_SIZE,
  parseQueueQuery,
  queueSearch,
  statusChoices,
  VIEW_NAME_MAX,
  type BulkOutcome,
  type ParsedQueue,
  type QueueChoices,
  type QueueValues,
} from './queues.js';
import { SORT_KEYS, type CaseSummary, type CasesService } from './service.js';

/** What the queue page says after a bulk change or a saved view, once, after the redirect. */
interface QueueNotice {
  kind: 'bulk' | 'view-saved' | 'view-deleted' | 'refused';
  text: string;
  bulk?: BulkOutcome;
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    caseQueueNotice?: QueueNotice;
  }
}

type Body = Record<string, unknown>;

const SLA_TAGS: Record<string, { text: string; classes: string }> = {
  'on-track': { text: 'On track', classes: 'govuk-tag--green' },
  'due-soon': { text: 'Due soon', classes: 'govuk-tag--yellow' },
  breached: { text: 'Breached', classes: 'govuk-tag--red' },
};
const PRIORITY_TAGS: Record<string, { text: string; classes: string } | undefined> = {
  high: { text: 'High', classes: 'govuk-tag--orange' },
  urgent: { text: 'Urgent', classes: 'govuk-tag--red' },
};
const PRIORITY_LABELS: Record<string, string> = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' };
const SORT_LABELS: Record<SortKey, string> = { reference: 'Reference', priority: 'Priority', due: 'Due', opened: 'Opened', updated: 'Last updated' };
/** Fields the error summary links to; the rest are about the address, so it points at the filters. */
const FIELD_IDS = new Set(['type', 'status', 'priority', 'sla', 'ward', 'assignee', 'from', 'to', 'state', 'viewName', 'q']);

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const text = (body: Body, name: string): string => {
  const value = body[name];
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : '';
};
const list = (body: Body, name: string): string[] => {
  const value = body[name];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
};
const paramsOf = (request: FastifyRequest): URLSearchParams => new URLSearchParams(request.url.split('?')[1] ?? '');

function summaryOf(errors: Record<string, string>): { text: string; href: string }[] {
  return Object.entries(errors).map(([field, message]) => ({ text: message, href: `#${FIELD_IDS.has(field) ? field : 'filters'}` }));
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;

/** A case as a row of any of the tables on these pages. */
function caseRow(c: CaseSummary, names: ReadonlyMap<string, string>, wards: ReadonlyMap<string, string>) {
  return {
    reference: c.reference,
    href: `/staff/cases/${c.reference}`,
    typeName: c.typeName,
    title: c.title,
    statusLabel: c.statusLabel,
    closed: c.closed,
    priority: PRIORITY_LABELS[c.priority] ?? c.priority,
    priorityTag: PRIORITY_TAGS[c.priority],
    // A closed case can only have been on time or late; only late is worth a tag.
    sla: c.sla && (!c.closed || c.sla === 'breached') ? SLA_TAGS[c.sla] : undefined,
    slaText: c.sla ? (SLA_TAGS[c.sla]?.text ?? '') : 'No target',
    dueAt: c.dueAt,
    openedAt: c.openedAt,
    updatedAt: c.updatedAt,
    closedAt: c.closedAt,
    assignee: c.assigneeId ? (names.get(c.assigneeId) ?? 'Someone else') : 'Unassigned',
    ward: c.ward ? (wards.get(c.ward) ?? c.ward) : '',
    personId: c.personId,
  };
}

/** Staff pages for the work queues: lists, saved views, bulk changes, the CSV download, the map and search. */
export function registerCaseStaffRoutes(app: FastifyInstance, service: CasesService, account: Account): void {
  account.staff.addNavigation({ href: '/staff/cases', text: 'Cases', permission: 'cases:work' });
  // The cases service does not hand out the geography it was built with; the same database gives the same boundary and wards.
  const queues = createCaseQueues({ service, account, geo: service.geo });
  const guard = { preHandler: account.requireStaff('cases:work') };
  const timeZone = service.calendar.timeZone;

  async function memberOf(request: FastifyRequest): Promise<StaffMember> {
    const member = await account.staff.current(request);
    if (!member) throw new HttpError(403, 'Sign in to continue.');
    return member;
  }

  /** The queue's filters from the address; another team's queue is refused (403) by the service. */
  async function readQueue(member: StaffMember, params: URLSearchParams): Promise<ParsedQueue & { choices: QueueChoices }> {
    const teams = params
      .getAll('team')
      .map((t) => t.trim())
      .filter(Boolean);
    const choices = await queues.choices(member, teams.length === 1 ? teams[0] : undefined);
    return { ...parseQueueQuery(params, choices, member, timeZone), choices };
  }

  function queueTitle(values: QueueValues, choices: QueueChoices): string {
    if (!values.team) return 'My work';
    const team = choices.teams.find((t) => t.code === values.team)?.name ?? values.team;
    return values.assignee === 'unassigned' ? `${team}: unassigned` : team;
  }

  /** The links that switch between "My work" and each of the staff member's teams' queues. */
  function queueNavigation(values: QueueValues, choices: QueueChoices) {
    const items = [{ text: 'My work', href: '/staff/cases', active: !values.team }];
    for (const team of choices.teams) {
      items.push({
        text: team.name,
        href: `/staff/cases?team=${encodeURIComponent(team.code)}`,
        active: values.team === team.code && values.assignee !== 'unassigned',
      });
      items.push({
        text: `${team.name}: unassigned`,
        href: `/staff/cases?team=${encodeURIComponent(team.code)}&assignee=unassigned`,
        active: values.team === team.code && values.assignee === 'unassigned',
      });
    }
    return items;
  }

  /** The filter panel: its options and the selected filters as tags that each remove one filter. */
  function filterPanel(values: QueueValues, choices: QueueChoices, errors: Record<string, string>) {
    const here = (changes: Partial<QueueValues>) => `/staff/cases?${queueSearch(values, { ...changes, page: '' })}`;
    const without = (key: 'type' | 'status' | 'priority' | 'ward', value: string) => here({ [key]: values[key].filter((v) => v !== value) });
    const statuses = statusChoices(choices.types, errors.type ? [] : values.type);
    const statusLabel = new Map(statuses.map((s) => [s.code, s.label]));
    const typeName = new Map(choices.types.map((t) => [t.code, t.name]));
    const wardName = new Map(choices.wards.map((w) => [w.code, w.name]));
    const memberName = new Map(choices.members.map((m) => [m.id, m.name]));
    const categories: { heading: { text: string }; items: { href: string; text: string }[] }[] = [];
    const add = (heading: string, items: { href: string; text: string }[]) => {
      if (items.length) categories.push({ heading: { text: heading }, items });
    };
    add(
      'Case type',
      values.type.map((v) => ({ href: without('type', v), text: typeName.get(v) ?? v })),
    );
    add(
      'Status',
      values.status.map((v) => ({ href: without('status', v), text: statusLabel.get(v) ?? v })),
    );
    add(
      'Priority',
      values.priority.map((v) => ({ href: without('priority', v), text: PRIORITY_LABELS[v] ?? v })),
    );
    if (values.sla) add('Service level', [{ href: here({ sla: '' }), text: SLA_TAGS[values.sla]?.text ?? values.sla }]);
    add(
      'Ward',
      values.ward.map((v) => ({ href: without('ward', v), text: wardName.get(v) ?? v })),
    );
    if (values.assignee) {
      const who = values.assignee === 'me' ? 'Me' : values.assignee === 'unassigned' ? 'Unassigned' : (memberName.get(values.assignee) ?? values.assignee);
      add('Assigned to', [{ href: here({ assignee: '' }), text: who }]);
    }
    const opened = [];
    if (values.from) opened.push({ href: here({ from: '' }), text: `From ${values.from}` });
    if (values.to) opened.push({ href: here({ to: '' }), text: `To ${values.to}` });
    add('Opened', opened);
    if (values.state === 'closed') add('Open or closed', [{ href: here({ state: '' }), text: 'Closed' }]);

    // Statuses already chosen stay on the list so they can be seen and taken off.
    for (const code of values.status) if (!statusLabel.has(code)) statuses.push({ code, label: code });
    return {
      selected: categories.length
        ? {
            heading: { text: 'Selected filters' },
            clearLink: { text: 'Clear filters', href: values.team ? `/staff/cases?team=${encodeURIComponent(values.team)}` : '/staff/cases' },
            categories,
          }
        : undefined,
      typeItems: choices.types.map((t) => ({ value: t.code, text: t.name, checked: values.type.includes(t.code) })),
      // Without a chosen type the full list of every type's statuses is too long to be useful, unless some are already chosen.
      statusItems:
        (values.type.length && !errors.type) || values.status.length
          ? statuses.map((s) => ({ value: s.code, text: s.label, checked: values.status.includes(s.code) }))
          : [],
      priorityItems: Object.entries(PRIORITY_LABELS).map(([value, label]) => ({ value, text: label, checked: values.priority.includes(value) })),
      slaItems: [
        { value: '', text: 'Any', checked: !values.sla },
        ...Object.entries(SLA_TAGS).map(([value, tag]) => ({ value, text: tag.text, checked: values.sla === value })),
      ],
      wardItems: choices.wards.map((w) => ({ value: w.code, text: w.name, checked: values.ward.includes(w.code) })),
      assigneeItems: values.team
        ? [
            { value: '', text: 'Anyone', selected: !values.assignee },
            { value: 'me', text: 'Me', selected: values.assignee === 'me' },
            { value: 'unassigned', text: 'Unassigned', selected: values.assignee === 'unassigned' },
            ...choices.members.map((m) => ({ value: m.id, text: m.name, selected: values.assignee === m.id })),
          ]
        : undefined,
      stateItems: [
        { value: 'open', text: 'Open', checked: values.state !== 'closed' },
        { value: 'closed', text: 'Closed', checked: values.state === 'closed' },
      ],
    };
  }

  /** Column headings that sort the list, with aria-sort on the one it is sorted by. */
  function sortHeaders(values: QueueValues, sort: SortKey, descending: boolean) {
    const headers: Record<string, { text: string; href: string; ariaSort: string }> = {};
    for (const key of SORT_KEYS) {
      const current = key === sort;
      const order = current ? (descending ? 'asc' : 'desc') : defaultDescending(key) ? 'desc' : 'asc';
      headers[key] = {
        text: SORT_LABELS[key],
        href: `/staff/cases?${queueSearch(values, { sort: key, order, page: '' })}`,
        ariaSort: current ? (descending ? 'descending' : 'ascending') : 'none',
      };
    }
    return headers;
  }

  function pagination(values: QueueValues, page: number, total: number) {
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (pages <= 1) return undefined;
    const href = (n: number) => `/staff/cases?${queueSearch(values, { page: n > 1 ? String(n) : '' })}`;
    const items: ({ number: number; href: string; current: boolean } | { ellipsis: true })[] = [];
    for (let n = 1; n <= pages; n++) {
      if (n === 1 || n === pages || Math.abs(n - page) <= 1) items.push({ number: n, href: href(n), current: n === page });
      else if (!('ellipsis' in (items[items.length - 1] ?? {}))) items.push({ ellipsis: true });
    }
    return {
      previous: page > 1 ? { href: href(Math.min(page - 1, pages)) } : undefined,
      next: page < pages ? { href: href(page + 1) } : undefined,
      items,
    };
  }

  interface QueueExtras {
    viewName?: string;
    viewError?: string;
    status?: number;
  }

  async function renderQueue(request: FastifyRequest, reply: FastifyReply, member: StaffMember, params: URLSearchParams, extras: QueueExtras = {}) {
    const { values, query, errors, choices } = await readQueue(member, params);
    const failed = Object.keys(errors).length > 0;
    const [result, views] = await Promise.all([failed ? undefined : queues.queue(member, query), queues.savedViews(member)]);
    const cases = result?.cases ?? [];
    const names = await queues.assigneeNames(cases, choices.colleagues);
    const wardNames = new Map(choices.wards.map((w) => [w.code, w.name]));
    const notice = request.session.caseQueueNotice;
    request.session.caseQueueNotice = undefined;
    const total = result?.total ?? 0;
    const page = result?.page ?? 1;
    const sort = query.sort ?? 'due';
    const search = queueSearch(values);
    const filterSearch = cleanSearch(search);
    const title = queueTitle(values, choices);
    // Statuses to move to: those of the chosen types, or of the types on this page when none is chosen.
    const typesHere = values.type.length && !errors.type ? values.type : [...new Set(cases.map((c) => c.type))];
    const viewErrors: Record<string, string> = extras.viewError ? { viewName: extras.viewError } : {};
    const allErrors = { ...errors, ...viewErrors };
    return reply.code(extras.status ?? (failed ? 400 : 200)).view('staff/queues/queue.njk', {
      pageTitle: `${title} – Cases`,
      heading: title,
      queueNavigation: queueNavigation(values, choices),
      values,
      filters: filterPanel(values, choices, errors),
      fieldErrors: allErrors,
      errors: summaryOf(allErrors),
      failed,
      rows: cases.map((c) => caseRow(c, names, wardNames)),
      total,
      totalText: plural(total, 'case'),
      firstShown: total ? (page - 1) * PAGE_SIZE + 1 : 0,
      lastShown: Math.min(total, page * PAGE_SIZE),
      beyondLastPage: total > 0 && cases.length === 0,
      firstPageHref: `/staff/cases?${queueSearch(values, { page: '' })}`,
      sortHeaders: sortHeaders(values, sort, query.descending ?? false),
      pagination: pagination(values, page, total),
      exportHref: `/staff/cases/export.csv${filterSearch ? `?${filterSearch}` : ''}`,
      exportCapped: total > EXPORT_CAP,
      exportCap: EXPORT_CAP.toLocaleString('en-GB'),
      mapHref: `/staff/cases/map${filterSearch ? `?${filterSearch}` : ''}`,
      back: search,
      filterSearch,
      views: views.map((v) => ({ id: v.id, name: v.name, href: `/staff/cases${v.query ? `?${v.query}` : ''}`, current: v.query === filterSearch })),
      viewName: extras.viewName ?? '',
      viewNameMax: VIEW_NAME_MAX,
      notice,
      bulkCap: BULK_CAP,
      assignItems: [
        { value: 'me', text: `Me (${member.name})` },
        ...choices.colleagues.filter((c) => c.id !== member.id && (!values.team || c.teams.includes(values.team))).map((c) => ({ value: c.id, text: c.name })),
      ],
      statusItems: statusChoices(choices.types, typesHere).map((s) => ({ value: s.code, text: s.label })),
    });
  }

  // ---------------------------------------------------------------- the queue
  app.get('/staff/cases', guard, async (request, reply) => renderQueue(request, reply, await memberOf(request), paramsOf(request)));

  // ---------------------------------------------------------------- saved views
  app.post('/staff/cases/views', guard, async (request, reply) => {
    const member = await memberOf(request);
    const body = bodyOf(request);
    const search = cleanSearch(text(body, 'query'));
    const params = new URLSearchParams(search);
    const name = text(body, 'name');
    const { errors } = await readQueue(member, params);
    if (Object.keys(errors).length) return renderQueue(request, reply, member, params, { viewName: name, status: 400 });
    const saved = await queues.saveView(member, name, search);
    if (!saved.ok) return renderQueue(request, reply, member, params, { viewName: name, viewError: saved.error, status: 400 });
    const clean = name.replace(/\s+/g, ' ').trim();
    request.session.caseQueueNotice = { kind: 'view-saved', text: saved.replaced ? `Saved view “${clean}” updated` : `Saved view “${clean}” added` };
    return reply.redirect(`/staff/cases${search ? `?${search}` : ''}`, 303);
  });

  app.post<{ Params: { id: string } }>('/staff/cases/views/:id/delete', guard, async (request, reply) => {
    const member = await memberOf(request);
    const name = await queues.deleteView(member, request.params.id);
    request.session.caseQueueNotice = { kind: 'view-deleted', text: `Saved view “${name}” deleted` };
    const back = cleanSearch(text(bodyOf(request), 'back'));
    return reply.redirect(`/staff/cases${back ? `?${back}` : ''}`, 303);
  });

  // ---------------------------------------------------------------- bulk changes
  app.post('/staff/cases/bulk', guard, async (request, reply) => {
    const member = await memberOf(request);
    const body = bodyOf(request);
    const back = new URLSearchParams(text(body, 'back'));
    // Back to the same list and page, with only the queue's own parameters.
    const kept = new URLSearchParams(cleanSearch(back.toString()));
    const page = back.get('page');
    if (page && /^\d{1,6}$/.test(page)) kept.set('page', page);
    const action = text(body, 'action');
    const references = list(body, 'cases');
    try {
      let outcome: BulkOutcome;
      if (action === 'assign') outcome = await queues.bulkAssign(member, references, text(body, 'assignTo'));
      else if (action === 'status') outcome = await queues.bulkChangeStatus(member, references, text(body, 'status'));
      else throw new HttpError(400, 'Choose whether to assign the cases or change their status');
      const changed = outcome.action === 'assign' ? `assigned to ${outcome.target}` : `moved to ${outcome.target}`;
      request.session.caseQueueNotice = {
        kind: 'bulk',
        text: outcome.done.length ? `${plural(outcome.done.length, 'case')} ${changed}` : `No cases were ${changed}`,
        bulk: outcome,
      };
    } catch (error) {
      // A refusal or a mistake in the choices is shown on the list itself, where the cases can be chosen again.
      if (!(error instanceof HttpError) || (error.statusCode !== 400 && error.statusCode !== 403)) throw error;
      request.session.caseQueueNotice = { kind: 'refused', text: `${error.message.replace(/\.$/, '')}. No cases were changed.` };
    }
    const search = kept.toString();
    return reply.redirect(`/staff/cases${search ? `?${search}` : ''}`, 303);
  });

  // ---------------------------------------------------------------- CSV download
  app.get('/staff/cases/export.csv', guard, async (request, reply) => {
    const member = await memberOf(request);
    const params = paramsOf(request);
    const { values, query, errors } = await readQueue(member, params);
    // Back to the list, where the same filters show what to correct.
    if (Object.keys(errors).length) return reply.redirect(`/staff/cases?${params.toString()}`, 303);
    const search = cleanSearch(queueSearch(values));
    const { csv } = await queues.exportCsv(member, query, search);
    const filename = `cases-${values.team || 'my-work'}-${localDay(timeZone)}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'private, no-store')
      .send(csv);
  });

  // ---------------------------------------------------------------- map
  app.get('/staff/cases/map', guard, async (request, reply) => {
    const member = await memberOf(request);
    const { values, query, errors, choices } = await readQueue(member, paramsOf(request));
    const failed = Object.keys(errors).length > 0;
    const title = queueTitle(values, choices);
    const listSearch = cleanSearch(queueSearch(values));
    const base = {
      pageTitle: `Map of open cases – ${title}`,
      heading: `Map of open cases`,
      queueTitle: title,
      listHref: `/staff/cases${listSearch ? `?${listSearch}` : ''}`,
      closedAsked: values.state === 'closed',
      errors: summaryOf(errors),
    };
    if (failed) return reply.code(400).view('staff/queues/map.njk', { ...base, failed });
    const drawn = await queues.map(member, query);
    const names = await queues.assigneeNames(drawn.cases, choices.colleagues);
    const rows = new Map(drawn.cases.map((c) => [c.reference, caseRow(c, names, drawn.wardNames)]));
    return reply.view('staff/queues/map.njk', {
      ...base,
      map: drawn.drawn,
      dots: (drawn.drawn?.dots ?? []).map((d) => ({ x: d.x, y: d.y, sla: d.case.sla ?? 'none', row: rows.get(d.case.reference) })),
      rows: [...rows.values()],
      countText: plural(drawn.cases.length, 'open case'),
      capped: drawn.capped,
      cap: MAP_CAP.toLocaleString('en-GB'),
    });
  });

  // ---------------------------------------------------------------- search
  app.get('/staff/cases/search', guard, async (request, reply) => {
    const member = await memberOf(request);
    const q = paramsOf(request).get('q') ?? '';
    const base = { q, pageTitle: 'Search cases' };
    if (q.trim().length > 200) {
      const errors = { q: 'Search for 200 characters or fewer' };
      return reply.code(400).view('staff/queues/search.njk', { ...base, fieldErrors: errors, errors: summaryOf(errors) });
    }
    if (!q.trim()) return reply.view('staff/queues/search.njk', { ...base, fieldErrors: {}, errors: [] });
    const found = await queues.search(member, q);
    const teams = await queues.teamNames();
    return reply.view('staff/queues/search.njk', {
      ...base,
      pageTitle: `${found.description} – Search cases`,
      searched: true,
      description: found.description,
      countText: plural(found.cases.length, 'case'),
      rows: found.cases.map((c) => ({ ...caseRow(c, new Map(), new Map()), personName: c.personName, team: teams.get(c.team) ?? c.team })),
      fieldErrors: {},
      errors: [],
    });
  });

  // ---------------------------------------------------------------- a person's contact history
  app.get<{ Params: { personId: string } }>('/staff/cases/people/:personId', guard, async (request, reply) => {
    const member = await memberOf(request);
    const { person, cases, hidden } = await queues.contactHistory(member, request.params.personId);
    const teams = await queues.teamNames();
    return reply.view('staff/queues/person.njk', {
      pageTitle: `${person.name} – contact history`,
      person,
      rows: cases.map((c) => ({ ...caseRow(c, new Map(), new Map()), team: teams.get(c.team) ?? c.team })),
      countText: plural(cases.length, 'case'),
      hidden,
      hiddenText: hidden
        ? `${plural(hidden, 'restricted case is', 'restricted cases are')} not shown because ${hidden === 1 ? 'it belongs' : 'they belong'} to a team you are not in.`
        : '',
    });
  });
}
