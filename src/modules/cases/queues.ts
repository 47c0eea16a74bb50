// What the staff work queues need beyond the case service: reading and checking their filters,
// saved views, bulk changes, the CSV download, the map and search. Every function checks the
// staff member's permissions itself, so no route can skip them.
import { recordAudit } from '#platform/audit/index';
import { startOfLocalDay } from '#platform/council/dates';
import type { AreaGeometry, BBox, Geography } from '#platform/geo/index';
import { toCsv } from '#platform/http/csv';
import { HttpError } from '#platform/http/errors';
import { assertCan, can, type Account, type StaffMember } from '#modules/account/index';
import { PRIORITIES, type CaseType } from './model/case-type.js';
import { asDb, type CaseRow, type SlaFilter, type SortKey } from './repository.js';
import { normaliseReference, SLA_FILTERS, SORT_KEYS, type CaseSummary, type CasesService, type QueueQuery } from './service.js';
import { isCalendarDate } from './sla.js';

export const PAGE_SIZE = 25;
export const BULK_CAP = 100;
export const EXPORT_CAP = 10_000;
export const MAP_CAP = 2_000;
export const VIEW_NAME_MAX = 60;
/** Enough for any sensible set of views; the list stays usable on a phone. */
export const SAVED_VIEWS_CAP = 50;
const SEARCH_MAX = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REFERENCE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/* ------------------------------------------------------------ filters */

/** Every query string parameter a queue page understands; anything else is refused. */
export const QUEUE_PARAMS = ['team', 'type', 'status', 'priority', 'sla', 'ward', 'assignee', 'from', 'to', 'state', 'sort', 'order', 'page'] as const;
export type QueueParam = (typeof QUEUE_PARAMS)[number];
const MULTI_PARAMS: ReadonlySet<QueueParam> = new Set(['type', 'status', 'priority', 'ward']);
const isQueueParam = (key: string): key is QueueParam => (QUEUE_PARAMS as readonly string[]).includes(key);

/** The filters as typed or chosen, kept for showing them again (with any mistakes) in the form. */
export interface QueueValues {
  team: string;
  type: string[];
  status: string[];
  priority: string[];
  sla: string;
  ward: string[];
  assignee: string;
  from: string;
  to: string;
  state: string;
  sort: string;
  order: string;
  page: string;
}

export const EMPTY_VALUES: QueueValues = {
  team: '',
  type: [],
  status: [],
  priority: [],
  sla: '',
  ward: [],
  assignee: '',
  from: '',
  to: '',
  state: '',
  sort: '',
  order: '',
  page: '',
};

export interface Colleague {
  id: string;
  name: string;
  teams: string[];
}

/** What the filters may be set to for one staff member. */
export interface QueueChoices {
  /** The staff member's own teams, in the council's order. */
  teams: { code: string; name: string }[];
  /** Case types they may see: every unrestricted one, and restricted ones of their own teams. */
  types: CaseType[];
  wards: { code: string; name: string }[];
  /** Members of the chosen team who work on cases; empty for "My work". */
  members: Colleague[];
  /** Everyone who works on cases in any of the staff member's teams, for names and assigning. */
  colleagues: Colleague[];
}

export interface StatusChoice {
  code: string;
  label: string;
}

export interface ParsedQueue {
  values: QueueValues;
  query: QueueQuery;
  /** Keyed by the form field the message is about; `filters` for a parameter the form does not have. */
  errors: Record<string, string>;
}

/**
 * The statuses of the chosen types (every type the staff member can see when none is chosen), each
 * code once. Types may call the same status different things ("Repair ordered", "Cleansing ordered"),
 * so every name it goes by is shown.
 */
export function statusChoices(types: readonly CaseType[], chosen: readonly string[]): StatusChoice[] {
  const from = chosen.length ? types.filter((t) => chosen.includes(t.code)) : types;
  const seen = new Map<string, string[]>();
  for (const type of from)
    for (const status of type.statuses) {
      const labels = seen.get(status.code) ?? [];
      if (!labels.includes(status.label)) labels.push(status.label);
      seen.set(status.code, labels);
    }
  return [...seen].map(([code, labels]) => ({ code, label: labels.join(' / ') }));
}

/** A real calendar date written YYYY-MM-DD (what a date input sends), or null. */
function parseDay(value: string): string | null {
  return isCalendarDate(value) ? value : null;
}

/** Today's date in the time zone, YYYY-MM-DD. */
export function localDay(timeZone: string, at = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * Reads a queue's query string into a QueueQuery. Every value is checked against what this staff
 * member may choose; an unknown one is reported rather than quietly dropped, so a mistyped or
 * out-of-date link never shows a different list from the one it seems to.
 */
export function parseQueueQuery(params: URLSearchParams, choices: QueueChoices, member: StaffMember, timeZone: string): ParsedQueue {
  const values: QueueValues = { ...EMPTY_VALUES, type: [], status: [], priority: [], ward: [] };
  const errors: Record<string, string> = {};
  const unknown = new Set<string>();
  for (const key of new Set(params.keys())) {
    if (!isQueueParam(key)) {
      unknown.add(key);
      continue;
    }
    const given = params
      .getAll(key)
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (MULTI_PARAMS.has(key)) {
      values[key as 'type' | 'status' | 'priority' | 'ward'] = [...new Set(given)];
      continue;
    }
    const single = key as Exclude<QueueParam, 'type' | 'status' | 'priority' | 'ward'>;
    if (given.length > 1) errors[single] = `Choose only one value for “${key}”`;
    values[single] = given[0] ?? '';
  }
  if (unknown.size) errors.filters = `This page has no filter called ${[...unknown].map((k) => `“${k.slice(0, 40)}”`).join(', ')}`;

  const query: QueueQuery = { pageSize: PAGE_SIZE };
  if (values.team) {
    // Another team's queue is refused outright (403) before this point; this catches a team that no longer exists.
    if (!choices.teams.some((t) => t.code === values.team)) errors.team = 'Choose one of your teams';
    else query.team = values.team;
  } else query.mine = true;

  const typeCodes = new Set(choices.types.map((t) => t.code));
  const badTypes = values.type.filter((code) => !typeCodes.has(code));
  if (badTypes.length) errors.type = `Select case types from the list (there is no case type “${badTypes[0]?.slice(0, 60)}” you can see)`;
  else if (values.type.length) query.types = values.type;

  const statuses = new Set(statusChoices(choices.types, badTypes.length ? [] : values.type).map((s) => s.code));
  const badStatuses = values.status.filter((code) => !statuses.has(code));
  if (badStatuses.length)
    errors.status = values.type.length
      ? `Select statuses of the chosen case types (“${badStatuses[0]?.slice(0, 60)}” is not one of them)`
      : `Select statuses from the list (there is no status “${badStatuses[0]?.slice(0, 60)}”)`;
  else if (values.status.length) query.statuses = values.status;

  const badPriorities = values.priority.filter((p) => !(PRIORITIES as readonly string[]).includes(p));
  if (badPriorities.length) errors.priority = 'Select priorities from the list: low, normal, high or urgent';
  else if (values.priority.length) query.priorities = values.priority;

  if (values.sla) {
    if ((SLA_FILTERS as readonly string[]).includes(values.sla)) query.sla = values.sla as SlaFilter;
    else errors.sla = 'Select on track, due soon or breached';
  }

  const wardCodes = new Set(choices.wards.map((w) => w.code));
  if (values.ward.some((w) => !wardCodes.has(w))) errors.ward = 'Select wards from the list';
  else if (values.ward.length) query.wards = values.ward;

  if (values.assignee) {
    if (!values.team) errors.assignee = 'Choose a team’s queue to filter by who cases are assigned to';
    else if (values.assignee === 'me') query.assignee = member.id;
    else if (values.assignee === 'unassigned') query.assignee = 'unassigned';
    else if (choices.members.some((m) => m.id === values.assignee)) query.assignee = values.assignee;
    else errors.assignee = 'Select who the cases are assigned to from the list';
  }

  const from = values.from ? parseDay(values.from) : undefined;
  const to = values.to ? parseDay(values.to) : undefined;
  if (from === null) errors.from = 'Opened from must be a real date, like 2026-11-23';
  if (to === null) errors.to = 'Opened to must be a real date, like 2026-11-30';
  if (from && to && from > to) errors.to = 'Opened to must be the same as or after opened from';
  if (from && !errors.from) query.openedFrom = startOfLocalDay(from, timeZone);
  // The end date includes the whole of that day.
  if (to && !errors.to) query.openedTo = startOfLocalDay(nextDay(to), timeZone);

  if (values.state === 'closed') query.open = false;
  else if (values.state && values.state !== 'open') errors.state = 'Select open or closed cases';

  if (values.sort) {
    if ((SORT_KEYS as readonly string[]).includes(values.sort)) query.sort = values.sort as SortKey;
    else errors.sort = 'Sort by due date, opened, last updated, priority or reference';
  }
  if (values.order) {
    if (values.order === 'asc' || values.order === 'desc') query.descending = values.order === 'desc';
    else errors.order = 'Sort in ascending or descending order';
  } else query.descending = defaultDescending(query.sort ?? 'due');

  if (values.page) {
    if (/^\d{1,6}$/.test(values.page) && Number(values.page) >= 1) query.page = Number(values.page);
    else errors.page = 'The page number must be a whole number, 1 or more';
  }
  return { values, query, errors };
}

/** The calendar date after a YYYY-MM-DD date. */
function nextDay(day: string): string {
  const m = DAY.exec(day);
  return new Date(Date.UTC(Number(m?.[1]), Number(m?.[2]) - 1, Number(m?.[3]) + 1)).toISOString().slice(0, 10);
}

/** Newest first for dates people look back on; soonest, most urgent or A to Z for the rest. */
export function defaultDescending(sort: SortKey): boolean {
  return sort === 'opened' || sort === 'updated';
}

/** The query string for a set of filter values, without empty ones. */
export function queueSearch(values: QueueValues, changes: Partial<QueueValues> = {}): string {
  const merged: QueueValues = { ...values, ...changes };
  const params = new URLSearchParams();
  for (const key of QUEUE_PARAMS) {
    const value = merged[key];
    for (const item of Array.isArray(value) ? value : [value]) if (item !== '') params.append(key, item);
  }
  return params.toString();
}

/** Only the queue's own parameters of a query string, page left out: what a saved view or a bulk action returns to. */
export function cleanSearch(search: string): string {
  const params = new URLSearchParams(search.replace(/^\?/, ''));
  const kept = new URLSearchParams();
  for (const [key, value] of params) if (isQueueParam(key) && key !== 'page' && value.trim() !== '') kept.append(key, value.trim());
  return kept.toString();
}

/* ------------------------------------------------------------ the download */

const PRIORITY_RANK: Record<string, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

/** The download comes in the order the list was sorted in (the export query reads newest first). */
export function sortLikeTheList(cases: CaseSummary[], sort: SortKey, descending: boolean): CaseSummary[] {
  const time = (d: Date | null) => d?.getTime() ?? null;
  const compare = (a: number | string | null, b: number | string | null, nullsLast = true): number => {
    if (a === b) return 0;
    if (a === null) return nullsLast ? 1 : -1;
    if (b === null) return nullsLast ? -1 : 1;
    return a < b ? -1 : 1;
  };
  const direction = descending ? -1 : 1;
  const by = (c: CaseSummary): number | string | null =>
    sort === 'due'
      ? time(c.dueAt)
      : sort === 'opened'
        ? time(c.openedAt)
        : sort === 'updated'
          ? time(c.updatedAt)
          : sort === 'priority'
            ? (PRIORITY_RANK[c.priority] ?? 4)
            : c.reference;
  return [...cases].sort((a, b) => {
    const ka = by(a);
    const kb = by(b);
    // Cases with no due date stay at the end whichever way the list is sorted.
    if (ka === null || kb === null) return compare(ka, kb);
    return direction * compare(ka, kb) || compare(time(a.dueAt), time(b.dueAt));
  });
}

/* ------------------------------------------------------------ the map */

export interface MapDot {
  x: number;
  y: number;
  case: CaseSummary;
}

export interface DrawnMap {
  width: number;
  height: number;
  boundary: string | null;
  wards: { code: string; name: string; d: string }[];
  dots: MapDot[];
}

const MAP_WIDTH = 1000;
const MAP_PADDING = 20;

function extend(box: BBox | null, lat: number, lng: number): BBox {
  if (!box) return { south: lat, north: lat, west: lng, east: lng };
  return { south: Math.min(box.south, lat), north: Math.max(box.north, lat), west: Math.min(box.west, lng), east: Math.max(box.east, lng) };
}

/**
 * Draws the council's area and its cases as SVG coordinates. Longitude is scaled by the cosine of
 * the middle latitude, which keeps a borough-sized area the right shape without a projection library.
 */
export function drawMap(
  boundary: { geometry: AreaGeometry; bbox: BBox } | null,
  wards: { code: string; name: string; geometry: AreaGeometry; bbox: BBox }[],
  cases: CaseSummary[],
): DrawnMap | null {
  let box: BBox | null = boundary?.bbox ?? null;
  for (const ward of wards) box = extend(extend(box, ward.bbox.south, ward.bbox.west), ward.bbox.north, ward.bbox.east);
  for (const c of cases) if (c.lat !== null && c.lng !== null) box = extend(box, c.lat, c.lng);
  if (!box) return null;
  const midLat = ((box.south + box.north) / 2) * (Math.PI / 180);
  const kx = Math.cos(midLat);
  // A single point (or a line) still needs an area to draw in.
  const spanX = Math.max((box.east - box.west) * kx, 0.002);
  const spanY = Math.max(box.north - box.south, 0.002);
  const scale = (MAP_WIDTH - 2 * MAP_PADDING) / Math.max(spanX, spanY * 0.6);
  const width = Math.round(spanX * scale + 2 * MAP_PADDING);
  const height = Math.round(spanY * scale + 2 * MAP_PADDING);
  const west = box.west;
  const north = box.north;
  const x = (lng: number) => Math.round((MAP_PADDING + (lng - west) * kx * scale) * 10) / 10;
  const y = (lat: number) => Math.round((MAP_PADDING + (north - lat) * scale) * 10) / 10;
  const path = (geometry: AreaGeometry) => {
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    return polygons.flatMap((rings) => rings.map((ring) => `M${ring.map(([lng, lat]) => `${x(lng)} ${y(lat)}`).join('L')}Z`)).join('');
  };
  return {
    width,
    height,
    boundary: boundary ? path(boundary.geometry) : null,
    wards: wards.map((w) => ({ code: w.code, name: w.name, d: path(w.geometry) })),
    dots: cases.flatMap((c) => (c.lat !== null && c.lng !== null ? [{ x: x(c.lng), y: y(c.lat), case: c }] : [])),
  };
}

/* ------------------------------------------------------------ search */

export type SearchKind = 'none' | 'reference' | 'postcode' | 'uprn' | 'email' | 'phone' | 'name';

/** A postcode written the usual way, with a space before the last three characters. */
export function formatPostcode(text: string): string {
  const compact = text.replace(/\s+/g, '').toUpperCase();
  return compact.length > 3 ? `${compact.slice(0, -3)} ${compact.slice(-3)}` : compact;
}

/** What a search looked for, in words: "Cases at postcode KM1 1AA". */
export function describeSearch(kind: SearchKind, text: string): string {
  const q = text.trim();
  switch (kind) {
    case 'reference':
      return `Case with reference ${normaliseReference(q)}`;
    case 'postcode':
      return `Cases at postcode ${formatPostcode(q)}`;
    case 'uprn':
      return `Cases at the property with UPRN ${q}`;
    case 'email':
      return `Cases for the email address ${q}`;
    case 'phone':
      return `Cases for the phone number ${q}`;
    case 'name':
      return `Cases for people named “${q}”`;
    case 'none':
      return 'Search cases';
  }
}

/* ------------------------------------------------------------ bulk changes */

export interface BulkOutcome {
  action: 'assign' | 'status';
  /** Who the cases went to, or the status they moved to. */
  target: string;
  done: string[];
  skipped: { reference: string; reason: string }[];
}

/** Checked references, each once, in the order given. */
function bulkReferences(references: readonly string[]): string[] {
  const clean = [...new Set(references.map((r) => normaliseReference(r)).filter((r) => r !== ''))];
  if (clean.length === 0) throw new HttpError(400, 'Select at least one case');
  if (clean.length > BULK_CAP) throw new HttpError(400, `Select ${BULK_CAP} cases or fewer at a time`);
  const bad = clean.find((r) => !REFERENCE.test(r));
  if (bad) throw new HttpError(400, `“${bad.slice(0, 20)}” is not a case reference`);
  return clean;
}

/* ------------------------------------------------------------ the queue capability */

export interface CaseQueuesDeps {
  service: CasesService;
  account: Account;
  geo: Pick<Geography, 'boundary' | 'wards'>;
}

export function createCaseQueues({ service, account, geo }: CaseQueuesDeps) {
  const repo = service.repo;

  /** Active members of a team who can be given cases. */
  async function workers(team: string): Promise<Colleague[]> {
    const members = await account.staff.teamMembers(team);
    return members.filter((m) => can(m, 'cases:work')).map((m) => ({ id: m.id, name: m.name, teams: m.teams }));
  }

  function visibleTypes(member: StaffMember): CaseType[] {
    return [...service.types.values()].filter((t) => !t.restricted || member.teams.includes(t.team)).sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
  }

  /** What this staff member may filter by; another team's queue is refused here. */
  async function choices(member: StaffMember, team?: string): Promise<QueueChoices> {
    assertCan(member, 'cases:work');
    if (team && !member.teams.includes(team)) throw new HttpError(403, 'You can only see your own teams’ queues.');
    const [allTeams, wards] = await Promise.all([account.staff.teams(), geo.wards()]);
    const teams = allTeams.filter((t) => member.teams.includes(t.code)).map((t) => ({ code: t.code, name: t.name }));
    const byTeam = await Promise.all(teams.map(async (t) => [t.code, await workers(t.code)] as const));
    const colleagues = new Map<string, Colleague>();
    for (const [, list] of byTeam) for (const m of list) colleagues.set(m.id, m);
    return {
      teams,
      types: visibleTypes(member),
      wards: wards.map((w) => ({ code: w.code, name: w.name })),
      members: team ? (byTeam.find(([code]) => code === team)?.[1] ?? []) : [],
      colleagues: [...colleagues.values()].sort((a, b) => a.name.localeCompare(b.name, 'en-GB')),
    };
  }

  /** Names for the staff a list of cases is assigned to, looking up anyone who has since left the team. */
  async function assigneeNames(cases: readonly CaseSummary[], known: readonly Colleague[]): Promise<Map<string, string>> {
    const names = new Map(known.map((c) => [c.id, c.name]));
    for (const id of new Set(cases.map((c) => c.assigneeId))) {
      if (id === null || names.has(id)) continue;
      names.set(id, (await account.staff.findMember(id))?.name ?? 'A former member of staff');
    }
    return names;
  }

  async function teamNames(): Promise<Map<string, string>> {
    return new Map((await account.staff.teams()).map((t) => [t.code, t.name]));
  }

  async function wardNames(): Promise<Map<string, string>> {
    return new Map((await geo.wards()).map((w) => [w.code, w.name]));
  }

  /** One page of a queue. */
  async function queue(member: StaffMember, query: QueueQuery) {
    return service.queue(member, { ...query, pageSize: PAGE_SIZE });
  }

  /** The whole queue view as CSV (up to EXPORT_CAP rows); personal data leaving the system, so audited. */
  async function exportCsv(member: StaffMember, query: QueueQuery, search: string): Promise<{ csv: string; rows: number; capped: boolean }> {
    const filters = service.queueFilters(member, { ...query, page: 1 });
    const found = await repo.exportRows(filters, EXPORT_CAP + 1);
    const capped = found.length > EXPORT_CAP;
    const now = new Date();
    const cases = sortLikeTheList(
      found.slice(0, EXPORT_CAP).map((row) => service.summary(row, now)),
      filters.sort,
      filters.descending,
    );
    const [names, teams, wards] = await Promise.all([assigneeNames(cases, []), teamNames(), wardNames()]);
    const csv = toCsv(
      ['reference', 'type', 'title', 'status', 'priority', 'team', 'assignee_name', 'ward', 'postcode', 'opened', 'due', 'sla_state', 'closed'],
      cases.map((c) => [
        c.reference,
        c.typeName,
        c.title,
        c.statusLabel,
        c.priority,
        teams.get(c.team) ?? c.team,
        c.assigneeId ? (names.get(c.assigneeId) ?? '') : '',
        c.ward ? (wards.get(c.ward) ?? c.ward) : '',
        c.postcode ? formatPostcode(c.postcode) : '',
        c.openedAt,
        c.dueAt,
        c.sla ?? '',
        c.closedAt,
      ]),
    );
    await recordAudit(asDb(repo.db), {
      actor: { type: 'staff', id: member.id, label: member.name },
      action: 'cases.exported',
      details: { filters: search, rows: cases.length, capped },
    });
    return { csv, rows: cases.length, capped };
  }

  /** Open cases with a location, drawn over the council's boundary and wards. */
  async function map(member: StaffMember, query: QueueQuery) {
    const filters = service.queueFilters(member, { ...query, open: true, page: 1 });
    const [rows, boundary, wards] = await Promise.all([repo.located(filters, MAP_CAP + 1), geo.boundary(), geo.wards()]);
    const now = new Date();
    const cases = rows.slice(0, MAP_CAP).map((row: CaseRow) => service.summary(row, now));
    return { cases, capped: rows.length > MAP_CAP, drawn: drawMap(boundary, wards, cases), wardNames: new Map(wards.map((w) => [w.code, w.name])) };
  }

  /** Search by reference, name, email, phone, postcode or UPRN, with the name of each case's person. */
  async function search(member: StaffMember, text: string) {
    assertCan(member, 'cases:work');
    const q = text.trim();
    if (q.length > SEARCH_MAX) throw new HttpError(400, `Search for ${SEARCH_MAX} characters or fewer`);
    const { kind, cases } = await service.search(member, q);
    const personIds = [...new Set(cases.flatMap((c) => (c.personId ? [c.personId] : [])))];
    const people = new Map((await repo.peopleByIds(personIds)).map((p) => [p.id, p]));
    return {
      kind: kind as SearchKind,
      description: describeSearch(kind, q),
      cases: cases.map((c) => ({ ...c, personName: c.personId ? (people.get(c.personId)?.name ?? null) : null })),
    };
  }

  /** A person's details and every case they have had that this staff member may see. */
  async function contactHistory(member: StaffMember, personId: string) {
    assertCan(member, 'cases:work');
    if (!UUID.test(personId)) throw new HttpError(404, 'Contact not found');
    return service.contactHistory(member, personId);
  }

  /* -------------------------------------------------------- saved views */

  async function savedViews(member: StaffMember) {
    assertCan(member, 'cases:work');
    return repo.savedViews(member.id);
  }

  /** Saves filters under a name; saving under a name already used replaces that view. */
  async function saveView(member: StaffMember, name: string, search: string): Promise<{ ok: true; replaced: boolean } | { ok: false; error: string }> {
    assertCan(member, 'cases:work');
    const clean = name.replace(/\s+/g, ' ').trim();
    if (!clean) return { ok: false, error: 'Enter a name for the view' };
    if (clean.length > VIEW_NAME_MAX) return { ok: false, error: `The name must be ${VIEW_NAME_MAX} characters or fewer` };
    const existing = await repo.savedViews(member.id);
    const replaced = existing.some((v) => v.name === clean);
    if (!replaced && existing.length >= SAVED_VIEWS_CAP)
      return { ok: false, error: `You can save up to ${SAVED_VIEWS_CAP} views. Delete one you no longer use first` };
    await repo.saveView(member.id, clean, cleanSearch(search));
    return { ok: true, replaced };
  }

  /** Deletes one of the staff member's own views; anyone else's is "not found". */
  async function deleteView(member: StaffMember, id: string): Promise<string> {
    assertCan(member, 'cases:work');
    const view = UUID.test(id) ? (await repo.savedViews(member.id)).find((v) => v.id === id) : undefined;
    if (!view) throw new HttpError(404, 'Saved view not found');
    await repo.deleteView(member.id, id);
    return view.name;
  }

  /* -------------------------------------------------------- bulk changes */

  /** Cases the staff member may see, by reference; others are simply not found. */
  async function visibleCases(member: StaffMember, references: readonly string[]): Promise<Map<string, CaseRow>> {
    const rows = await repo.casesByReferences(references);
    return new Map(rows.filter((r) => !r.restricted || member.teams.includes(r.team)).map((r) => [r.reference, r]));
  }

  async function bulkAssign(member: StaffMember, references: readonly string[], to: string): Promise<BulkOutcome> {
    assertCan(member, 'cases:work');
    const chosen = bulkReferences(references);
    const assigneeId = to === 'me' ? member.id : to;
    if (assigneeId !== member.id && !can(member, 'cases:reassign'))
      throw new HttpError(403, 'Only team leaders can assign cases to someone else. You can assign cases to yourself.');
    const assignee = UUID.test(assigneeId) ? await account.staff.findMember(assigneeId) : null;
    if (!assignee || assignee.status !== 'active' || !can(assignee, 'cases:work')) throw new HttpError(400, 'Choose who to assign the cases to from the list');
    const rows = await visibleCases(member, chosen);
    const names = new Map<string, string>([[assignee.id, assignee.name]]);
    const nameOf = async (id: string) => {
      const known = names.get(id);
      if (known) return known;
      const name = (await account.staff.findMember(id))?.name ?? 'someone else';
      names.set(id, name);
      return name;
    };
    const outcome: BulkOutcome = { action: 'assign', target: assignee.id === member.id ? 'you' : assignee.name, done: [], skipped: [] };
    for (const reference of chosen) {
      const row = rows.get(reference);
      const skip = (reason: string) => outcome.skipped.push({ reference, reason });
      if (!row) skip('Case not found');
      else if (row.closed_at) skip('The case is closed');
      else if (row.assignee_id === assignee.id) skip(`Already assigned to ${assignee.id === member.id ? 'you' : assignee.name}`);
      else if (row.assignee_id && row.assignee_id !== member.id && !can(member, 'cases:reassign'))
        skip(`Assigned to ${await nameOf(row.assignee_id)}: only a team leader can reassign it`);
      else
        try {
          await service.assign(member, reference, { assigneeId: assignee.id });
          outcome.done.push(reference);
        } catch (error) {
          if (!(error instanceof HttpError) || error.statusCode >= 500) throw error;
          skip(error.message);
        }
    }
    return outcome;
  }

  async function bulkChangeStatus(member: StaffMember, references: readonly string[], to: string): Promise<BulkOutcome> {
    assertCan(member, 'cases:work');
    const chosen = bulkReferences(references);
    const types = visibleTypes(member);
    if (!types.some((t) => t.status(to))) throw new HttpError(400, 'Choose a status from the list');
    const rows = await visibleCases(member, chosen);
    // Named as the selected cases' own types name it.
    const rowTypes = new Set([...rows.values()].map((r) => r.type));
    const label = (statusChoices(types, [...rowTypes]).find((s) => s.code === to) ?? statusChoices(types, []).find((s) => s.code === to))?.label ?? to;
    const outcome: BulkOutcome = { action: 'status', target: label, done: [], skipped: [] };
    for (const reference of chosen) {
      const row = rows.get(reference);
      const type = row ? service.types.get(row.type) : undefined;
      const skip = (reason: string) => outcome.skipped.push({ reference, reason });
      const target = type?.status(to);
      const current = type?.status(row?.status ?? '')?.label ?? row?.status;
      if (!row || !type) skip('Case not found');
      else if (!target) skip(`${type.name} cases have no status “${label}”`);
      else if (row.status === to) skip(`Already ${target.label}`);
      else if (!type.canMove(row.status, to)) skip(`A ${type.name.toLowerCase()} case cannot move from ${current} to ${target.label}`);
      else
        try {
          await service.changeStatus({ type: 'staff', member }, reference, to);
          outcome.done.push(reference);
        } catch (error) {
          if (!(error instanceof HttpError) || error.statusCode >= 500) throw error;
          skip(error.message);
        }
    }
    return outcome;
  }

  return {
    choices,
    visibleTypes,
    assigneeNames,
    teamNames,
    queue,
    exportCsv,
    map,
    search,
    contactHistory,
    savedViews,
    saveView,
    deleteView,
    bulkAssign,
    bulkChangeStatus,
  };
}

export type CaseQueues = ReturnType<typeof createCaseQueues>;
