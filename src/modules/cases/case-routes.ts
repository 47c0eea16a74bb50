import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '#platform/http/errors';
import { formatBytes } from '#platform/files/index';
import type { Geography } from '#platform/geo/index';
import { errorSummary, paragraphs } from '#platform/views/index';
import { can, type Account, type StaffMember } from '#modules/account/index';
import { PRIORITIES, type CaseType, type Priority } from './model/case-type.js';
import {
  normalisePostcode,
  normaliseReference,
  type CaseLocation,
  type CaseSummary,
  type CasesService,
  type EventRow,
  type PersonRow,
  type Subject,
} from './service.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** A one-off success message for the next case page. */
    caseFlash?: string;
  }
}

/* ------------------------------------------------------------ shared with the residents' pages */

export type Body = Record<string, unknown>;
export type FieldErrors = Record<string, string>;

export const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
export const text = (body: Body, name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');

const REFERENCE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;

/** The case reference in an address, as stored; anything that cannot be one is "not found". */
export function referenceParam(raw: string): string {
  const reference = normaliseReference(raw);
  if (!REFERENCE.test(reference)) throw new HttpError(404, 'Page not found');
  return reference;
}

export function takeFlash(request: FastifyRequest): string | undefined {
  const flash = request.session.caseFlash;
  if (flash) request.session.caseFlash = undefined;
  return flash;
}

export const ATTACHMENT_TYPES = ['image/jpeg', 'image/png', 'application/pdf'];
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** A file from a multipart form: its bytes, or a note that it was over the size limit. */
export type Upload = { filename: string; bytes: Buffer } | { filename: string; tooLarge: true };

export function uploadOf(body: Body, name: string): Upload | undefined {
  const value = body[name];
  if (typeof value !== 'object' || value === null || !('filename' in value)) return undefined;
  return value as Upload;
}

/** Registers routes that take a file in a scope of their own: only they read multipart bodies. */
export function withUploads(app: FastifyInstance, routes: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      // An oversized file is cut short and reported on the page, not answered with a bare 413.
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_ATTACHMENT_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        const value: Upload | '' = part.file.truncated
          ? { filename: part.filename, tooLarge: true }
          : bytes.length > 0
            ? { filename: part.filename, bytes }
            : '';
        (part as unknown as { value: Upload | '' }).value = value;
      },
    });
    routes(scope);
  });
}

/** A header parameter value in RFC 5987 form: percent-encoded UTF-8, including the few characters encodeURIComponent leaves. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Sends a stored file as a download, whatever its type, so a browser never renders it in the page's origin. */
export function sendAttachment(reply: FastifyReply, file: { filename: string; contentType: string; bytes: Buffer }): FastifyReply {
  const plain = file.filename.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 100) || 'file';
  return reply
    .type(file.contentType)
    .header('content-disposition', `attachment; filename="${plain}"; filename*=UTF-8''${encodeRfc5987(file.filename)}`)
    .header('cache-control', 'private, no-store')
    .send(file.bytes);
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function partsIn(date: Date, timeZone: string): Record<string, string> {
  let format = timeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      // en-GB's own 12-hour clock runs 0 to 11; GOV.UK style is 12am to 11pm.
      hourCycle: 'h12',
    });
    timeFormats.set(timeZone, format);
  }
  return Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
}

/** "Tuesday 1 December 2026", in the council's time zone. */
export function longDate(date: Date, timeZone: string): string {
  const p = partsIn(date, timeZone);
  return `${p.weekday} ${p.day} ${p.month} ${p.year}`;
}

/** "3pm on Tuesday 1 December 2026", GOV.UK style (midday and midnight in words), in the council's time zone. */
export function timeAndDate(date: Date, timeZone: string): string {
  const p = partsIn(date, timeZone);
  const period = (p.dayPeriod ?? '').toLowerCase().replace(/[\s.]/g, '');
  let time = `${p.hour}${p.minute === '00' ? '' : `:${p.minute}`}${period}`;
  if (p.hour === '12' && p.minute === '00') time = period === 'am' ? 'midnight' : 'midday';
  return `${time} on ${longDate(date, timeZone)}`;
}

export function detailText(details: Record<string, unknown>, key: string): string | undefined {
  const value = details[key];
  return typeof value === 'string' ? value : undefined;
}

/** Checks a resident's or officer's upload before anything is saved, with GOV.UK wording. */
export function uploadProblem(upload: Upload | undefined, required: boolean): string | undefined {
  if (!upload) return required ? 'Select a file' : undefined;
  if ('tooLarge' in upload) return `The selected file must be smaller than ${formatBytes(MAX_ATTACHMENT_BYTES)}`;
  return undefined;
}

/* ------------------------------------------------------------ words */

const PRIORITY_LABELS: Record<Priority, string> = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' };
const CHANNEL_WORDS: Record<string, string> = { online: 'online', phone: 'phone', 'face-to-face': 'face to face', email: 'email', api: 'another system' };
const ASSISTED_CHANNELS = [
  { value: 'phone', text: 'Phone' },
  { value: 'face-to-face', text: 'Face to face' },
  { value: 'email', text: 'Email' },
] as const;
const SUBJECT_KINDS = ['existing', 'new', 'anonymous'] as const;
const LINK_KINDS = [
  { value: 'duplicate-of', text: 'This case is a duplicate of it' },
  { value: 'parent-of', text: 'This case is the parent of it' },
  { value: 'child-of', text: 'This case is part of it (a child case)' },
  { value: 'related', text: 'Related' },
] as const;
type LinkKind = (typeof LINK_KINDS)[number]['value'];
const LINK_WORDS: Record<string, string> = {
  'duplicate-of': 'Marked as a duplicate of',
  'has-duplicate': 'Another case marked as a duplicate of this one:',
  'parent-of': 'Linked as the parent of',
  'child-of': 'Linked as part of',
  related: 'Linked to the related case',
};

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const UK_POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$/i;
const PHONE = /^\+?[\d\s()-]{7,20}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TAG = /^[a-z0-9][a-z0-9 -]{0,39}$/;

function priorityLabel(priority: string): string {
  return PRIORITY_LABELS[priority as Priority] ?? priority;
}

/** "KM12AB" as "KM1 2AB". */
function showPostcode(postcode: string | null | undefined): string {
  if (!postcode) return '';
  const compact = postcode.replace(/\s+/g, '').toUpperCase();
  return compact.length > 3 ? `${compact.slice(0, -3)} ${compact.slice(-3)}` : compact;
}

function slaTag(c: CaseSummary): { text: string; colour: string } {
  if (c.sla === null) return { text: 'No target', colour: 'grey' };
  if (c.closed) return c.sla === 'breached' ? { text: 'Missed target', colour: 'red' } : { text: 'Met target', colour: 'green' };
  if (c.sla === 'breached') return { text: 'Overdue', colour: 'red' };
  return c.sla === 'due-soon' ? { text: 'Due soon', colour: 'yellow' } : { text: 'On track', colour: 'green' };
}

function sourceText(c: CaseSummary, details: unknown): string {
  const ref = c.sourceReference;
  switch (c.source) {
    case 'form': {
      const form = formOf(details);
      const how = c.channel === 'online' ? 'online' : `filled in by staff, contact by ${CHANNEL_WORDS[c.channel] ?? c.channel}`;
      return `Form submission${ref ? ` ${ref}` : ''}${form ? ` (${form})` : ''}, ${how}`;
    }
    case 'report':
      return `Street report${ref ? ` ${ref}` : ''}`;
    case 'booking':
      return `Booking${ref ? ` ${ref}` : ''}`;
    case 'staff':
      return `Opened by staff, contact by ${CHANNEL_WORDS[c.channel] ?? c.channel}`;
    case 'api':
      return `Another system${ref ? `, reference ${ref}` : ''}`;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function formOf(details: unknown): string | undefined {
  const form = record(record(details)?.form);
  return typeof form?.title === 'string' ? form.title : undefined;
}

/** The answers a form submission carried, as sections of question and answer rows. */
function sourceSections(details: unknown): { title: string | undefined; rows: { question: string; answer: string[] }[] }[] {
  const summary = record(details)?.summary;
  if (!Array.isArray(summary)) return [];
  return summary.flatMap((section: unknown) => {
    const s = record(section);
    if (!s || !Array.isArray(s.rows)) return [];
    const rows = s.rows.flatMap((row: unknown) => {
      const r = record(row);
      if (!r || typeof r.question !== 'string') return [];
      const answer = Array.isArray(r.answer) ? r.answer.map(String) : typeof r.answer === 'string' ? [r.answer] : [];
      return [{ question: r.question, answer }];
    });
    return rows.length ? [{ title: typeof s.title === 'string' ? s.title : undefined, rows }] : [];
  });
}

function subjectRows(c: CaseSummary, person: PersonRow | null): { key: string; value: string }[] {
  if (c.subjectKind === 'anonymous') return [{ key: 'Who', value: 'Anonymous' }];
  if (!person) return [{ key: 'Who', value: c.anonymised ? 'Removed under the retention schedule' : 'Not known' }];
  const kind = c.subjectKind === 'resident' ? 'Resident with an account' : person.kind === 'organisation' ? 'Organisation' : 'Person without an account';
  const rows = [
    { key: 'Who', value: kind },
    { key: 'Name', value: person.name },
    { key: 'Organisation', value: person.organisation ?? '' },
    { key: 'Email', value: person.email ?? '' },
    { key: 'Phone', value: person.phone ?? '' },
    { key: 'Address', value: [person.address, showPostcode(person.postcode)].filter(Boolean).join(', ') },
    { key: 'Updates by', value: person.contact_by === 'sms' ? 'Text message' : person.contact_by === 'email' ? 'Email' : 'No updates' },
  ];
  return rows.filter((row) => row.value !== '');
}

interface TimelineItem {
  label: string;
  byline: string;
  at: Date;
  tags: { text: string; colour: string }[];
  paragraphs: string[][];
  link?: { href: string; text: string } | undefined;
}

function byline(e: EventRow): string {
  if (e.actor_label) return e.actor_label;
  return e.actor_type === 'system' ? 'System' : e.actor_type === 'resident' ? 'Resident' : e.actor_type === 'api' ? 'Another system' : 'Staff';
}

/** Everything that happened to the case, in the words staff use. */
function staffTimeline(events: readonly EventRow[], reference: string, type: CaseType | undefined, teamName: (code: string) => string): TimelineItem[] {
  // A message is queued in the same transaction as the change that caused it, so they share a time.
  const messagedAt = new Set(events.filter((e) => e.kind === 'message').map((e) => new Date(e.at).getTime()));
  const visible = (e: EventRow) =>
    messagedAt.has(new Date(e.at).getTime()) ? { text: 'Sent to resident', colour: 'green' } : { text: 'Visible to resident', colour: 'blue' };
  const statusLabel = (code: string | undefined) => (code ? (type?.status(code)?.label ?? code) : '');
  return events.map((e): TimelineItem => {
    const d = e.details;
    const item: TimelineItem = { label: '', byline: byline(e), at: new Date(e.at), tags: [], paragraphs: paragraphs(e.body) };
    switch (e.kind) {
      case 'opened':
        item.label = 'Case opened';
        break;
      case 'status':
        item.label = `Status changed from ${detailText(d, 'fromLabel') ?? statusLabel(detailText(d, 'from'))} to ${detailText(d, 'toLabel') ?? statusLabel(detailText(d, 'to'))}`;
        if (e.body) item.tags.push(visible(e));
        break;
      case 'note':
        item.label = 'Internal note';
        item.tags.push({ text: 'Internal', colour: 'grey' });
        break;
      case 'update':
        item.label = 'Update for the resident';
        item.tags.push(visible(e));
        break;
      case 'resident-info':
        item.label = 'Information from the resident';
        item.tags.push({ text: 'From resident', colour: 'purple' });
        break;
      case 'message': {
        const channel = detailText(d, 'channel') === 'sms' ? 'Text message' : 'Email';
        item.label = `${channel} sent to the resident`;
        item.tags.push({ text: 'Sent to resident', colour: 'green' });
        item.paragraphs = e.body ? [[`Subject: ${e.body}`]] : [];
        break;
      }
      case 'viewed':
        item.label = 'Viewed';
        item.tags.push({ text: 'Restricted case', colour: 'orange' });
        break;
      case 'assigned': {
        const fromTeam = detailText(d, 'fromTeam');
        const toTeam = detailText(d, 'toTeam');
        const parts: string[] = [];
        if (fromTeam && toTeam && fromTeam !== toTeam) parts.push(`Moved from ${teamName(fromTeam)} to ${teamName(toTeam)}`);
        const name = detailText(d, 'assigneeName');
        if (name) parts.push(`Assigned to ${name}`);
        else if (d.toAssignee === null && d.fromAssignee) parts.push('Unassigned');
        item.label = parts.join('. ') || 'Assignment unchanged';
        break;
      }
      case 'priority':
        item.label = `Priority changed from ${priorityLabel(detailText(d, 'from') ?? '')} to ${priorityLabel(detailText(d, 'to') ?? '')}`;
        break;
      case 'tags': {
        const to = Array.isArray(d.to) ? d.to.map(String) : [];
        item.label = to.length ? `Tags set to ${to.join(', ')}` : 'Tags removed';
        break;
      }
      case 'task': {
        const done = detailText(d, 'action') === 'done';
        item.label = done ? 'Task done' : 'Task added';
        const dueOn = detailText(d, 'dueOn');
        item.paragraphs = [[`${e.body ?? ''}${!done && dueOn ? ` (due ${dayText(dueOn)})` : ''}`]];
        break;
      }
      case 'attachment': {
        item.label = 'File added';
        const id = detailText(d, 'attachmentId');
        if (id) item.link = { href: `/staff/cases/${reference}/attachments/${id}`, text: `Download ${e.body ?? 'file'}` };
        item.paragraphs = [];
        if (e.public) item.tags.push({ text: 'Visible to resident', colour: 'blue' });
        break;
      }
      case 'link': {
        const other = detailText(d, 'reference') ?? '';
        item.label = `${LINK_WORDS[detailText(d, 'kind') ?? 'related'] ?? 'Linked to'} ${other}`;
        if (REFERENCE.test(other)) item.link = { href: `/staff/cases/${other}`, text: `Open case ${other}` };
        break;
      }
      case 'sla':
        item.label = detailText(d, 'state') === 'breached' ? 'Target missed' : 'Target due soon';
        item.tags.push(detailText(d, 'state') === 'breached' ? { text: 'Overdue', colour: 'red' } : { text: 'Due soon', colour: 'yellow' });
        item.paragraphs = [];
        break;
      case 'anonymised':
        item.label = 'Personal details removed under the retention schedule';
        break;
    }
    return item;
  });
}

/** "2026-12-01" as "1 December 2026". */
function dayText(day: string): string {
  const date = new Date(`${day}T12:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** A date column as YYYY-MM-DD: drivers give either text or a Date at local midnight. */
function dayOf(value: unknown): string {
  if (value instanceof Date) return `${value.getFullYear()}-${String(value.getMonth() + 1).padStart(2, '0')}-${String(value.getDate()).padStart(2, '0')}`;
  return String(value).slice(0, 10);
}

/** Day, month and year boxes as YYYY-MM-DD; undefined when all are empty, null when they are not a real date. */
function dateFromParts(day: string, month: string, year: string): string | undefined | null {
  if (!day.trim() && !month.trim() && !year.trim()) return undefined;
  if (!/^\d{1,2}$/.test(day.trim()) || !/^\d{1,2}$/.test(month.trim()) || !/^\d{4}$/.test(year.trim())) return null;
  const [d, m, y] = [Number(day), Number(month), Number(year)];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/* ------------------------------------------------------------ routes */

interface PageState {
  errors?: FieldErrors;
  values?: Record<string, string>;
  /** The action whose form should be open: the one that was just tried. */
  open?: string;
  status?: number;
}

/** Where each field's error should take the reader, when it is not the field's own id. */
const ERROR_TARGETS: Record<string, string> = { taskDue: 'taskDue-day' };

function summaryOf(errors: FieldErrors): { text: string; href: string }[] {
  return errorSummary(errors).map((e) => {
    const field = e.href.slice(1);
    return { text: e.text, href: `#${ERROR_TARGETS[field] ?? field}` };
  });
}

/** A staff case page action: the fields it keeps on error, the field its service errors belong to, and its work. */
interface CaseAction {
  form: string;
  field: string;
  fields: readonly string[];
  run(member: StaffMember, reference: string, body: Body): Promise<string | FieldErrors>;
}

/** Staff pages for one case (`/staff/cases/:reference`) and for opening a case for someone (`/staff/cases/new`). */
export function registerCasePageRoutes(app: FastifyInstance, service: CasesService, account: Account): void {
  const guard = { preHandler: account.requireStaff('cases:work') };
  const timeZone = service.calendar.timeZone;
  // The service keeps its geography to itself; the same database holds the same wards and gazetteer.
  const geo = service.geo;

  async function memberOf(request: FastifyRequest): Promise<StaffMember> {
    const member = await account.staff.current(request);
    if (!member) throw new HttpError(403, 'Sign in to continue.');
    return member;
  }

  async function teamNames(): Promise<Map<string, string>> {
    return new Map((await account.staff.teams()).map((t) => [t.code, t.name]));
  }

  // ---------------------------------------------------------------- the case page
  async function renderCase(request: FastifyRequest, reply: FastifyReply, member: StaffMember, reference: string, state: PageState = {}) {
    const detail = await service.caseDetail(member, reference);
    const c = detail.case;
    const teams = await teamNames();
    const teamName = (code: string) => teams.get(code) ?? code;
    const [assignee, members] = await Promise.all([
      c.assigneeId ? account.staff.findMember(c.assigneeId) : Promise.resolve(null),
      detail.canReassign ? account.staff.teamMembers(c.team) : Promise.resolve([]),
    ]);
    const mine = c.assigneeId === member.id;
    const inTeam = member.teams.includes(c.team);
    const errors = state.errors ?? {};
    const values = state.values ?? {};
    const location = detail.location;
    const locationRows = [
      { key: 'Address', value: location.address ?? '' },
      { key: 'Postcode', value: showPostcode(location.postcode) },
      { key: 'UPRN', value: location.uprn ?? '' },
      { key: 'USRN', value: location.usrn ?? '' },
      { key: 'Ward', value: location.ward ? ((await geo.wards()).find((w) => w.code === location.ward)?.name ?? location.ward) : '' },
      { key: 'Latitude and longitude', value: location.lat !== null && location.lng !== null ? `${location.lat.toFixed(6)}, ${location.lng.toFixed(6)}` : '' },
    ].filter((row) => row.value !== '');
    const visibleType = (row: { restricted: boolean; team: string }) => !row.restricted || member.teams.includes(row.team);
    const links = detail.links.map((l) => {
      const other = l.other;
      const kind =
        l.kind === 'related'
          ? 'Related to'
          : l.kind === 'duplicate-of'
            ? l.direction === 'from'
              ? 'Duplicate of'
              : 'Has a duplicate:'
            : l.direction === 'from'
              ? 'Parent of'
              : 'Part of';
      if (!other) return { kind, reference: undefined, about: 'A case that no longer exists' };
      const otherType = service.types.get(other.type);
      const about = visibleType(other)
        ? `${otherType?.name ?? other.type}: ${other.title} (${otherType?.status(other.status)?.label ?? other.status})`
        : 'A restricted case';
      return { kind, reference: other.reference, about };
    });
    const due = c.dueAt ? `${c.closed ? 'Was due' : 'Due'} by ${timeAndDate(c.dueAt, timeZone)}` : '';
    return reply.code(state.status ?? 200).view('staff/case/case.njk', {
      c,
      typeName: c.typeName,
      teamName: teamName(c.team),
      priorityLabel: priorityLabel(c.priority),
      statusColour: c.closed ? 'grey' : 'blue',
      sla: slaTag(c),
      due,
      opened: c.openedAt,
      source: sourceText(c, detail.details),
      sections: sourceSections(detail.details),
      description: paragraphs(detail.description),
      subjectRows: subjectRows(c, detail.person),
      personId: detail.person && !detail.person.anonymised_at ? detail.person.id : undefined,
      assigneeName: assignee ? `${assignee.name}${mine ? ' (you)' : ''}` : undefined,
      locationRows,
      tasks: detail.tasks.map((t) => ({
        id: t.id,
        title: t.title,
        due: t.due_on ? dayText(dayOf(t.due_on)) : undefined,
        doneAt: t.done_at,
      })),
      attachments: detail.attachments.map((a) => ({
        id: a.id,
        filename: a.filename,
        size: formatBytes(a.size),
        addedAt: a.created_at,
        byResident: a.added_by_type === 'resident',
        public: a.public,
      })),
      links,
      timeline: staffTimeline(detail.events, c.reference, detail.type, teamName),
      canWork: detail.canWork && !c.anonymised,
      canReassign: detail.canReassign && !c.anonymised,
      readOnlyReason: detail.canWork ? undefined : `Only the ${teamName(c.team)} team, or the officer the case is assigned to, can change it.`,
      canAssignToMe: inTeam && !mine && (c.assigneeId === null || detail.canReassign),
      nextStatuses: detail.nextStatuses,
      priorities: PRIORITIES.map((p) => ({ value: p, text: PRIORITY_LABELS[p], checked: (values.priority ?? c.priority) === p })),
      assigneeItems: [
        { value: 'unassigned', text: 'Nobody (unassigned)' },
        ...members.filter((m) => can(m, 'cases:work')).map((m) => ({ value: m.id, text: m.id === member.id ? `${m.name} (you)` : m.name })),
      ].map((item) => ({ ...item, selected: item.value === (values.assignee ?? c.assigneeId ?? 'unassigned') })),
      teamItems: [
        { value: '', text: 'Choose a team' },
        ...[...teams].filter(([code]) => code !== c.team).map(([code, name]) => ({ value: code, text: name, selected: values.team === code })),
      ],
      linkKinds: LINK_KINDS.map((k) => ({ ...k, checked: values.linkKind === k.value })),
      tagsValue: values.tags ?? c.tags.join(', '),
      values,
      open: state.open,
      fieldErrors: errors,
      errors: summaryOf(errors),
      flash: takeFlash(request),
      canAssist: can(member, 'forms:assist'),
    });
  }

  app.get<{ Params: { reference: string } }>('/staff/cases/:reference', guard, async (request, reply) => {
    const reference = referenceParam(request.params.reference);
    if (reference !== request.params.reference) return reply.redirect(`/staff/cases/${reference}`, 301);
    return renderCase(request, reply, await memberOf(request), reference);
  });

  app.get<{ Params: { reference: string; id: string } }>('/staff/cases/:reference/attachments/:id', guard, async (request, reply) => {
    const member = await memberOf(request);
    const file = await service.attachmentFile({ type: 'staff', member }, referenceParam(request.params.reference), request.params.id);
    return sendAttachment(reply, file);
  });

  /** Runs an action: team check first (so nobody learns anything from validation), then the work, then back to the page. */
  async function runAction(request: FastifyRequest, reply: FastifyReply, rawReference: string, action: CaseAction) {
    const member = await memberOf(request);
    const reference = referenceParam(rawReference);
    service.assertCanWork(member, await service.caseForStaff(member, reference));
    const body = bodyOf(request);
    const values = Object.fromEntries(action.fields.map((f) => [f, text(body, f)]));
    let outcome: string | FieldErrors;
    try {
      outcome = await action.run(member, reference, body);
    } catch (error) {
      if (error instanceof HttpError && (error.statusCode === 400 || error.statusCode === 409))
        return renderCase(request, reply, member, reference, {
          errors: { [action.field]: error.message },
          values,
          open: action.form,
          status: error.statusCode,
        });
      throw error;
    }
    if (typeof outcome !== 'string') return renderCase(request, reply, member, reference, { errors: outcome, values, open: action.form, status: 400 });
    request.session.caseFlash = outcome;
    return reply.redirect(`/staff/cases/${reference}`, 303);
  }

  const action = (path: string, spec: CaseAction) =>
    app.post<{ Params: { reference: string } }>(`/staff/cases/:reference/${path}`, guard, (request, reply) =>
      runAction(request, reply, request.params.reference, spec),
    );

  action('status', {
    form: 'status',
    field: 'status',
    fields: ['status', 'statusUpdate', 'statusNote'],
    async run(member, reference, body) {
      const to = text(body, 'status');
      if (!to) return { status: 'Select the new status' };
      const changed = await service.changeStatus({ type: 'staff', member }, reference, to, {
        update: text(body, 'statusUpdate') || undefined,
        note: text(body, 'statusNote') || undefined,
      });
      return `Status changed to ${changed.statusLabel}`;
    },
  });

  action('notes', {
    form: 'note',
    field: 'note',
    fields: ['note'],
    async run(member, reference, body) {
      if (!text(body, 'note').trim()) return { note: 'Enter the note' };
      await service.addNote({ type: 'staff', member }, reference, text(body, 'note'));
      return 'Internal note added';
    },
  });

  action('updates', {
    form: 'update',
    field: 'update',
    fields: ['update'],
    async run(member, reference, body) {
      if (!text(body, 'update').trim()) return { update: 'Enter the update for the resident' };
      await service.addNote({ type: 'staff', member }, reference, text(body, 'update'), { public: true });
      return 'Update for the resident added';
    },
  });

  action('assign', {
    form: 'assign',
    field: 'assignee',
    fields: ['assignee'],
    async run(member, reference, body) {
      const choice = text(body, 'assignee');
      if (!choice) return { assignee: 'Select who to assign the case to' };
      if (choice === 'unassigned') {
        await service.assign(member, reference, { assigneeId: null });
        return 'Case unassigned';
      }
      const assigneeId = choice === 'me' ? member.id : choice;
      if (!UUID.test(assigneeId)) return { assignee: 'Select who to assign the case to' };
      await service.assign(member, reference, { assigneeId });
      const assignee = assigneeId === member.id ? undefined : await account.staff.findMember(assigneeId);
      return assignee ? `Case assigned to ${assignee.name}` : 'Case assigned to you';
    },
  });

  action('team', {
    form: 'team',
    field: 'team',
    fields: ['team'],
    async run(member, reference, body) {
      const team = text(body, 'team');
      const teams = await teamNames();
      if (!teams.has(team)) return { team: 'Select the team to move the case to' };
      await service.assign(member, reference, { team });
      return `Case moved to ${teams.get(team) ?? team}`;
    },
  });

  action('priority', {
    form: 'priority',
    field: 'priority',
    fields: ['priority'],
    async run(member, reference, body) {
      const priority = text(body, 'priority');
      if (!(PRIORITIES as readonly string[]).includes(priority)) return { priority: 'Select a priority' };
      await service.setPriority(member, reference, priority as Priority);
      return `Priority changed to ${priorityLabel(priority)}`;
    },
  });

  action('tags', {
    form: 'tags',
    field: 'tags',
    fields: ['tags'],
    async run(member, reference, body) {
      const tags = text(body, 'tags')
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean);
      const bad = tags.find((t) => !TAG.test(t));
      if (bad) return { tags: `“${bad}” is not a tag: use letters, numbers, spaces and hyphens, up to 40 characters` };
      if (new Set(tags).size > 20) return { tags: 'Enter 20 tags or fewer' };
      await service.setTags(member, reference, tags);
      return tags.length ? 'Tags saved' : 'Tags removed';
    },
  });

  action('tasks', {
    form: 'task',
    field: 'taskTitle',
    fields: ['taskTitle', 'taskDue-day', 'taskDue-month', 'taskDue-year'],
    async run(member, reference, body) {
      const errors: FieldErrors = {};
      const title = text(body, 'taskTitle').trim();
      if (!title) errors.taskTitle = 'Enter what needs doing';
      else if (title.length > 200) errors.taskTitle = 'The task must be 200 characters or fewer';
      const dueOn = dateFromParts(text(body, 'taskDue-day'), text(body, 'taskDue-month'), text(body, 'taskDue-year'));
      if (dueOn === null) errors.taskDue = 'The due date must be a real date, like 27 3 2027';
      if (Object.keys(errors).length) return errors;
      await service.addTask(member, reference, { title, dueOn: dueOn ?? undefined });
      return 'Task added';
    },
  });

  app.post<{ Params: { reference: string; taskId: string } }>('/staff/cases/:reference/tasks/:taskId/done', guard, (request, reply) =>
    runAction(request, reply, request.params.reference, {
      form: 'tasks',
      field: 'tasks',
      fields: [],
      async run(member, reference) {
        if (!UUID.test(request.params.taskId)) throw new HttpError(404, 'Task not found');
        await service.completeTask(member, reference, request.params.taskId);
        return 'Task marked as done';
      },
    }),
  );

  action('links', {
    form: 'link',
    field: 'linkReference',
    fields: ['linkReference', 'linkKind'],
    async run(member, reference, body) {
      const errors: FieldErrors = {};
      const other = normaliseReference(text(body, 'linkReference'));
      const kind = text(body, 'linkKind');
      if (!other) errors.linkReference = 'Enter the reference of the other case';
      else if (!REFERENCE.test(other)) errors.linkReference = 'Enter a case reference like ABCD-2345';
      else if (other === reference) errors.linkReference = 'Enter the reference of a different case';
      if (!LINK_KINDS.some((k) => k.value === kind)) errors.linkKind = 'Select how the cases are linked';
      if (Object.keys(errors).length) return errors;
      try {
        await service.link(member, reference, other, kind as LinkKind);
      } catch (error) {
        // The other case's own "not found" or "restricted" belongs to the field, not to this page.
        if (error instanceof HttpError && (error.statusCode === 404 || error.statusCode === 403))
          return { linkReference: error.statusCode === 404 ? `There is no case ${other}` : `You cannot see case ${other}` };
        throw error;
      }
      return `Case linked to ${other}`;
    },
  });

  withUploads(app, (scope) => {
    scope.post<{ Params: { reference: string } }>('/staff/cases/:reference/attachments', guard, (request, reply) =>
      runAction(request, reply, request.params.reference, {
        form: 'attachment',
        field: 'attachment',
        fields: ['attachmentPublic'],
        async run(member, reference, body) {
          const upload = uploadOf(body, 'attachment');
          const problem = uploadProblem(upload, true);
          if (problem || !upload || 'tooLarge' in upload) return { attachment: problem ?? 'Select a file' };
          const shown = text(body, 'attachmentPublic') === 'yes';
          await service.addAttachment({ type: 'staff', member }, reference, { bytes: upload.bytes, filename: upload.filename }, { public: shown });
          return `${upload.filename} added`;
        },
      }),
    );
  });

  // ---------------------------------------------------------------- opening a case for someone
  registerNewCaseRoutes(app, service, geo, guard, memberOf);
}

/* ------------------------------------------------------------ opening a case for someone */

interface NewCaseValues {
  type: string;
  channel: string;
  subject: string;
  find: string;
  personId: string;
  name: string;
  organisation: string;
  email: string;
  phone: string;
  address: string;
  postcode: string;
  title: string;
  description: string;
  priority: string;
  locationAddress: string;
  locationPostcode: string;
  uprn: string;
}

const NEW_CASE_FIELDS: readonly (keyof NewCaseValues)[] = [
  'type',
  'channel',
  'subject',
  'find',
  'personId',
  'name',
  'organisation',
  'email',
  'phone',
  'address',
  'postcode',
  'title',
  'description',
  'priority',
  'locationAddress',
  'locationPostcode',
  'uprn',
];

/** Types a member of staff may open: restricted ones only for their own team. */
function openableTypes(service: CasesService, member: StaffMember): CaseType[] {
  return [...service.types.values()]
    .filter((t) => t.sources.includes('staff') && (!t.restricted || member.teams.includes(t.team)))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What the officer typed to find someone, read as an email address, phone number, postcode or name. */
function peopleQuery(find: string): { email?: string; phoneDigits?: string; postcode?: string; name?: string } {
  const q = find.trim();
  if (q.includes('@')) return { email: q };
  if (UK_POSTCODE.test(q)) return { postcode: normalisePostcode(q) };
  if (PHONE.test(q) && /\d{5}/.test(q.replace(/\D/g, ''))) return { phoneDigits: q.replace(/\D/g, '').replace(/^44/, '0') };
  return { name: q.slice(0, 100) };
}

function personHint(p: PersonRow): string {
  return (
    [p.organisation, p.email, p.phone, [p.address, showPostcode(p.postcode)].filter(Boolean).join(', ')].filter(Boolean).join(' · ') || 'No contact details'
  );
}

function validateNewCase(v: NewCaseValues, types: readonly CaseType[]): FieldErrors {
  const errors: FieldErrors = {};
  if (!types.some((t) => t.code === v.type)) errors.type = 'Select the type of case';
  if (!ASSISTED_CHANNELS.some((c) => c.value === v.channel)) errors.channel = 'Select how they contacted the council';
  if (!(SUBJECT_KINDS as readonly string[]).includes(v.subject)) errors.subject = 'Select who the case is for';
  if (v.subject === 'existing' && !UUID.test(v.personId)) errors.personId = 'Search for the person and select them, or choose another option';
  if (v.subject === 'new') {
    if (!v.name.trim() && !v.organisation.trim()) errors.name = 'Enter the person’s full name, or the organisation’s name';
    else if (v.name.trim().length > 200) errors.name = 'The name must be 200 characters or fewer';
    if (v.organisation.trim().length > 200) errors.organisation = 'The organisation’s name must be 200 characters or fewer';
    if (v.email.trim() && !EMAIL.test(v.email.trim())) errors.email = 'Enter an email address in the correct format, like name@example.com';
    if (v.phone.trim() && !(PHONE.test(v.phone.trim()) && v.phone.replace(/\D/g, '').length >= 10))
      errors.phone = 'Enter a phone number, like 01632 960 001 or 07700 900 982';
    if (v.postcode.trim() && !UK_POSTCODE.test(v.postcode.trim())) errors.postcode = 'Enter a real postcode, like KM1 2AB';
  }
  if (!v.title.trim()) errors.title = 'Enter a title for the case';
  else if (v.title.trim().length > 200) errors.title = 'The title must be 200 characters or fewer';
  if (v.description.length > 10_000) errors.description = 'The description must be 10,000 characters or fewer';
  if (v.priority && !(PRIORITIES as readonly string[]).includes(v.priority)) errors.priority = 'Select a priority';
  if (v.locationPostcode.trim() && !UK_POSTCODE.test(v.locationPostcode.trim())) errors.locationPostcode = 'Enter a real postcode, like KM1 2AB';
  if (v.uprn.trim() && !/^\d{1,12}$/.test(v.uprn.trim())) errors.uprn = 'Enter the UPRN using numbers only, up to 12 digits';
  return errors;
}

function subjectOf(v: NewCaseValues): Subject {
  if (v.subject === 'existing') return { kind: 'person', personId: v.personId, name: '' };
  if (v.subject === 'anonymous') return { kind: 'anonymous' };
  const organisation = v.organisation.trim() !== '';
  return {
    kind: organisation ? 'organisation' : 'person',
    name: (v.name.trim() || v.organisation.trim()).slice(0, 200),
    organisation: organisation ? v.organisation.trim() : undefined,
    email: v.email.trim() || undefined,
    phone: v.phone.trim() || undefined,
    address: v.address.trim() || undefined,
    postcode: v.postcode.trim() || undefined,
  };
}

/** Where the case is: what the officer typed, placed on the map when the UPRN is in the council's gazetteer. */
async function locationOf(v: NewCaseValues, geo: Geography): Promise<CaseLocation | undefined> {
  const address = v.locationAddress.trim() || undefined;
  const postcode = v.locationPostcode.trim() || undefined;
  const uprn = v.uprn.trim() || undefined;
  if (!address && !postcode && !uprn) return undefined;
  const known = uprn ? await geo.addressByUprn(uprn) : null;
  if (!known) return { address, postcode, uprn };
  return { address: address ?? known.singleLine, postcode: postcode ?? known.postcode, uprn, usrn: known.usrn, lat: known.lat, lng: known.lng };
}

/** Which field a refusal from the service is about, so the error summary can point at it. */
function fieldForServiceError(message: string): keyof NewCaseValues {
  if (/contact|person|name/i.test(message)) return 'subject';
  if (/type|team/i.test(message)) return 'type';
  if (/priority/i.test(message)) return 'priority';
  return 'title';
}

function registerNewCaseRoutes(
  app: FastifyInstance,
  service: CasesService,
  geo: Geography,
  guard: { preHandler: ReturnType<Account['requireStaff']> },
  memberOf: (request: FastifyRequest) => Promise<StaffMember>,
): void {
  const empty = (): NewCaseValues => Object.fromEntries(NEW_CASE_FIELDS.map((f) => [f, ''])) as unknown as NewCaseValues;

  async function render(
    reply: FastifyReply,
    member: StaffMember,
    values: NewCaseValues,
    opts: { errors?: FieldErrors; people?: PersonRow[] | undefined; searched?: boolean; status?: number } = {},
  ) {
    const types = openableTypes(service, member);
    const errors = opts.errors ?? {};
    let people = opts.people ?? [];
    // The person chosen before a validation error stays on the list to choose.
    if (values.personId && UUID.test(values.personId) && !people.some((p) => p.id === values.personId)) {
      const chosen = await service.repo.person(values.personId);
      if (chosen && !chosen.anonymised_at) people = [chosen, ...people];
    }
    return reply.code(opts.status ?? 200).view('staff/case/new.njk', {
      values,
      typeItems: [
        { value: '', text: 'Choose a case type' },
        ...types.map((t) => ({ value: t.code, text: t.restricted ? `${t.name} (restricted)` : t.name })),
      ].map((item) => ({ ...item, selected: item.value === values.type })),
      channelItems: ASSISTED_CHANNELS.map((c) => ({ ...c, checked: values.channel === c.value })),
      priorityItems: [{ value: '', text: 'Usual for the case type' }, ...PRIORITIES.map((p) => ({ value: p, text: PRIORITY_LABELS[p] }))].map((item) => ({
        ...item,
        checked: item.value === values.priority,
      })),
      personItems: people.map((p) => ({ value: p.id, text: p.name, hint: { text: personHint(p) }, checked: p.id === values.personId })),
      searched: opts.searched ?? false,
      canAssist: can(member, 'forms:assist'),
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  }

  app.get('/staff/cases/new', guard, async (request, reply) => render(reply, await memberOf(request), empty()));

  app.post('/staff/cases/new', guard, async (request, reply) => {
    const member = await memberOf(request);
    const body = bodyOf(request);
    const values = empty();
    for (const field of NEW_CASE_FIELDS) values[field] = text(body, field);

    if (text(body, 'action') === 'find') {
      values.subject ||= 'existing';
      if (!values.find.trim()) return render(reply, member, values, { errors: { find: 'Enter a name, email address, phone number or postcode' }, status: 400 });
      const people = await service.repo.findPeople(peopleQuery(values.find), 20);
      return render(reply, member, values, { people, searched: true });
    }

    const types = openableTypes(service, member);
    // A type that exists but is not offered (a restricted one) goes to the service, which refuses it.
    const known = service.types.has(values.type) ? [...types, ...(types.some((t) => t.code === values.type) ? [] : [service.typeOf(values.type)])] : types;
    const errors = validateNewCase(values, known);
    const people = values.subject === 'existing' && values.find.trim() ? await service.repo.findPeople(peopleQuery(values.find), 20) : undefined;
    if (Object.keys(errors).length) return render(reply, member, values, { errors, people, searched: people !== undefined, status: 400 });

    const location = await locationOf(values, geo);
    try {
      const { case: opened } = await service.open(
        { type: 'staff', member },
        {
          type: values.type,
          title: values.title,
          description: values.description || undefined,
          priority: (values.priority || undefined) as Priority | undefined,
          subject: subjectOf(values),
          location,
          source: 'staff',
          channel: values.channel as 'phone' | 'face-to-face' | 'email',
        },
      );
      request.session.caseFlash = `Case ${opened.reference} opened`;
      return reply.redirect(`/staff/cases/${opened.reference}`, 303);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 400)
        return render(reply, member, values, { errors: { [fieldForServiceError(error.message)]: error.message }, people, status: 400 });
      throw error;
    }
  });
}
