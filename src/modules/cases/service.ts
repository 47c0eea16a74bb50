import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '#platform/audit/index';
import type { Files } from '#platform/files/index';
import type { Geography } from '#platform/geo/index';
import { queueEmail, queueSms, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { HttpError } from '#platform/http/errors';
import { randomReference } from '#platform/security/tokens';
import { assertCan, can, type Account, type StaffMember } from '#modules/account/index';
import { fillMessage, fillTemplate, PRIORITIES, type CaseType, type Priority } from './model/case-type.js';
import type { CaseEventKind } from './migrations.js';
import {
  asDb,
  createCasesRepository,
  type CaseRow,
  type CasesTx,
  type EventRow,
  type NewCase,
  type PersonRow,
  type QueueFilters,
  type SlaFilter,
  type SortKey,
} from './repository.js';
import { addWorkingTime, dueSoonBoundary, slaState, type SlaState, type WorkingCalendar } from './sla.js';

export interface CasesContext {
  platform: Platform;
  notifier: Notifier;
  geo: Geography;
  files: Files;
  account: Account;
  types: ReadonlyMap<string, CaseType>;
  calendar: WorkingCalendar;
}

export type Source = CaseRow['source'];
export type Channel = CaseRow['channel'];

/** Who a case is about or for. */
export type Subject =
  | { kind: 'resident'; residentId: string }
  | {
      kind: 'person' | 'organisation';
      /** An existing contact record; the other fields are ignored when given. */
      personId?: string | undefined;
      name: string;
      organisation?: string | undefined;
      email?: string | undefined;
      phone?: string | undefined;
      address?: string | undefined;
      postcode?: string | undefined;
      uprn?: string | undefined;
      contactBy?: 'email' | 'sms' | 'none' | undefined;
    }
  | { kind: 'anonymous' };

export interface CaseLocation {
  lat?: number | undefined;
  lng?: number | undefined;
  address?: string | undefined;
  postcode?: string | undefined;
  uprn?: string | undefined;
  usrn?: string | undefined;
}

export interface OpenCaseInput {
  type: string;
  title: string;
  description?: string | undefined;
  priority?: Priority | undefined;
  /** Defaults to the type's team. */
  team?: string | undefined;
  subject: Subject;
  location?: CaseLocation | undefined;
  source: Source;
  channel: Channel;
  sourceReference?: string | undefined;
  /** A form delivery opens one case however often it is retried. */
  deliveryId?: string | undefined;
  details?: unknown;
  tags?: string[] | undefined;
  /** When the case began, for records brought over from another system; now by default. */
  openedAt?: Date | undefined;
  /** For someone without an account: a signed link to follow the case, given its reference; it fills ((caseLink)) in their messages. */
  trackingLink?: ((reference: string) => string) | undefined;
}

/** Who is acting on a case. */
export type CaseActor =
  { type: 'staff'; member: StaffMember } | { type: 'api'; id: string; label: string } | { type: 'system' } | { type: 'resident'; residentId: string };

/** A status change or public update, as told to the capabilities that listen (street reports keep their public timeline). */
export interface CaseChange {
  caseId: string;
  reference: string;
  type: string;
  kind: 'status' | 'update';
  from: string;
  to: string;
  closed: boolean;
  update: string | undefined;
  actor: CaseActor;
}

/** Runs inside the change's transaction: what it writes commits with the change, and an error it throws undoes the change. */
export type CaseChangeListener = (tx: Kysely<object>, change: CaseChange) => Promise<void>;

export interface CaseSummary {
  id: string;
  reference: string;
  type: string;
  typeName: string;
  title: string;
  status: string;
  statusLabel: string;
  residentStatusLabel: string;
  closed: boolean;
  priority: string;
  team: string;
  assigneeId: string | null;
  restricted: boolean;
  ward: string | null;
  postcode: string | null;
  lat: number | null;
  lng: number | null;
  openedAt: Date;
  updatedAt: Date;
  dueAt: Date | null;
  closedAt: Date | null;
  sla: SlaState | null;
  tags: string[];
  subjectKind: CaseRow['subject_kind'];
  personId: string | null;
  residentId: string | null;
  source: Source;
  channel: Channel;
  sourceReference: string | null;
  anonymised: boolean;
}

export interface QueueQuery {
  team?: string | undefined;
  mine?: boolean | undefined;
  open?: boolean | undefined;
  types?: string[] | undefined;
  statuses?: string[] | undefined;
  priorities?: string[] | undefined;
  wards?: string[] | undefined;
  assignee?: string | undefined;
  sla?: SlaFilter | undefined;
  openedFrom?: Date | undefined;
  openedTo?: Date | undefined;
  sort?: SortKey | undefined;
  descending?: boolean | undefined;
  page?: number | undefined;
  pageSize?: number | undefined;
}

export const SORT_KEYS: readonly SortKey[] = ['due', 'opened', 'updated', 'priority', 'reference'];
export const SLA_FILTERS: readonly SlaFilter[] = ['on-track', 'due-soon', 'breached'];
export const CHANNELS: readonly Channel[] = ['online', 'phone', 'face-to-face', 'email', 'api'];
const MAX_TEXT = 10_000;
const REFERENCE_PATTERN = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;

/** References are shown as ABCD-EFGH; people type them with spaces, in lower case or without the hyphen. */
export function normaliseReference(input: string): string {
  const compact = input.replace(/[\s-]+/g, '').toUpperCase();
  return /^[A-Z0-9]{8}$/.test(compact) ? `${compact.slice(0, 4)}-${compact.slice(4)}` : compact;
}

export function normalisePostcode(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

function newReference(): string {
  const raw = randomReference();
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

function auditActor(actor: CaseActor): Actor {
  switch (actor.type) {
    case 'staff':
      return { type: 'staff', id: actor.member.id, label: actor.member.name };
    case 'api':
      return { type: 'api', id: actor.id, label: actor.label };
    case 'resident':
      return { type: 'resident', id: actor.residentId };
    case 'system':
      return { type: 'system' };
  }
}

function eventActor(actor: CaseActor): { type: 'staff' | 'resident' | 'system' | 'api'; id: string | null; label: string | null } {
  const a = auditActor(actor);
  return { type: a.type === 'anonymous' ? 'system' : a.type, id: a.id ?? null, label: a.type === 'resident' ? 'Resident' : (a.label ?? null) };
}

function cleanText(value: string | undefined, max = MAX_TEXT): string | undefined {
  const text = value?.replace(/\r\n/g, '\n').trim();
  return text ? text.slice(0, max) : undefined;
}

function trackingLinkOf(details: unknown): string {
  const link = details !== null && typeof details === 'object' ? (details as { trackingLink?: unknown }).trackingLink : undefined;
  return typeof link === 'string' ? link : '';
}

export function createCasesService(ctx: CasesContext) {
  const { platform, notifier, geo, account, types, calendar } = ctx;
  const repo = createCasesRepository(platform.database.db);
  const teamCodes = new Set(platform.council.teams.map((t) => t.code));
  /** Transactions that queued a message for the resident, so the notifier is woken once they commit. */
  const messaged = new WeakSet<CasesTx>();
  /** Likewise for webhooks: the worker running in this process, if any, is woken after the commit. */
  const hooked = new WeakSet<CasesTx>();
  let webhookNudge: (() => void) | undefined;
  const changeListeners: CaseChangeListener[] = [];

  /** Tells the listeners about a status change or public update, inside the transaction that made it. */
  async function announce(tx: CasesTx, change: CaseChange): Promise<void> {
    for (const listener of changeListeners) await listener(asDb(tx), change);
  }

  function typeOf(code: string): CaseType {
    const type = types.get(code);
    if (!type) throw new HttpError(400, `Unknown case type "${code}"`);
    return type;
  }

  function summary(row: CaseRow, now = new Date()): CaseSummary {
    const type = types.get(row.type);
    const status = type?.status(row.status);
    return {
      id: row.id,
      reference: row.reference,
      type: row.type,
      typeName: type?.name ?? row.type,
      title: row.title,
      status: row.status,
      statusLabel: status?.label ?? row.status,
      residentStatusLabel: status?.residentLabel ?? status?.label ?? row.status,
      closed: row.closed_at !== null,
      priority: row.priority,
      team: row.team,
      assigneeId: row.assignee_id,
      restricted: row.restricted,
      ward: row.ward,
      postcode: row.postcode,
      lat: row.lat,
      lng: row.lng,
      openedAt: new Date(row.opened_at),
      updatedAt: new Date(row.updated_at),
      dueAt: row.due_at ? new Date(row.due_at) : null,
      closedAt: row.closed_at ? new Date(row.closed_at) : null,
      sla: row.breached_at ? 'breached' : slaState(row.due_at ? new Date(row.due_at) : null, now, calendar, row.closed_at ? new Date(row.closed_at) : null),
      tags: row.tags,
      subjectKind: row.subject_kind,
      personId: row.person_id,
      residentId: row.resident_id,
      source: row.source,
      channel: row.channel,
      sourceReference: row.source_reference,
      anonymised: row.anonymised_at !== null,
    };
  }

  function dueAt(type: CaseType, priority: Priority, from: Date): Date | null {
    const target = type.sla?.byPriority?.[priority] ?? type.sla;
    return target ? addWorkingTime(from, { amount: target.amount, unit: target.unit }, calendar) : null;
  }

  /* ------------------------------------------------------------ authorisation */

  function isMember(member: StaffMember, team: string): boolean {
    return member.teams.includes(team);
  }

  /** Staff may open any unrestricted case; a restricted one only from its own team. */
  function assertCanSee(member: StaffMember, row: Pick<CaseRow, 'restricted' | 'team'>): void {
    assertCan(member, 'cases:work');
    if (row.restricted && !isMember(member, row.team)) throw new HttpError(403, 'This case is restricted to its team.');
  }

  /** Changing a case is for its team, or the officer it is assigned to. */
  function assertCanWork(member: StaffMember, row: Pick<CaseRow, 'restricted' | 'team' | 'assignee_id'>): void {
    assertCanSee(member, row);
    if (!isMember(member, row.team) && row.assignee_id !== member.id) throw new HttpError(403, 'Only the case’s team can change it.');
  }

  function assertActorCanWork(actor: CaseActor, row: CaseRow): void {
    if (actor.type === 'staff') assertCanWork(actor.member, row);
  }

  /* ------------------------------------------------------------ people */

  /**
   * Reads what a subject needs before the transaction: the embedded database has one connection,
   * so nothing may query outside a transaction while it is open.
   */
  async function prepareSubject(subject: Subject) {
    if (subject.kind === 'resident') {
      const profile = await account.residents.profile(subject.residentId);
      if (!profile) throw new HttpError(400, 'That resident account no longer exists');
      return { subject, profile };
    }
    if (subject.kind !== 'anonymous' && subject.personId) {
      const person = await repo.person(subject.personId);
      if (!person) throw new HttpError(400, 'That contact no longer exists');
      return { subject, person };
    }
    if (subject.kind !== 'anonymous' && !cleanText(subject.name, 200)) throw new HttpError(400, 'Enter the person’s name');
    return { subject };
  }

  async function subjectPerson(
    tx: CasesTx,
    prepared: Awaited<ReturnType<typeof prepareSubject>>,
  ): Promise<{ personId: string | null; residentId: string | null }> {
    const { subject } = prepared;
    if (subject.kind === 'anonymous') return { personId: null, residentId: null };
    if (subject.kind === 'resident' && 'profile' in prepared && prepared.profile) {
      const profile = prepared.profile;
      const fields = {
        name: profile.name ?? profile.email,
        email: profile.email,
        phone: profile.phone,
        phone_digits: profile.phone ? profile.phone.replace(/\D/g, '') : null,
        address: profile.address ? [...profile.address.lines, profile.address.town].filter(Boolean).join(', ') : null,
        postcode: profile.address?.postcode ? normalisePostcode(profile.address.postcode) : null,
        uprn: profile.address?.uprn ?? null,
        contact_by: profile.contactBySms && profile.phone ? ('sms' as const) : ('email' as const),
      };
      const existing = await repo.personForResident(tx, subject.residentId);
      if (existing) {
        await repo.updatePerson(tx, existing.id, fields);
        return { personId: existing.id, residentId: subject.residentId };
      }
      const person = await repo.insertPerson(tx, { ...fields, kind: 'person', resident_id: subject.residentId });
      return { personId: person.id, residentId: subject.residentId };
    }
    if ('person' in prepared && prepared.person) return { personId: prepared.person.id, residentId: prepared.person.resident_id };
    if (subject.kind === 'resident') throw new HttpError(400, 'That resident account no longer exists');
    const name = cleanText(subject.name, 200) ?? '';
    const phone = cleanText(subject.phone, 40);
    const email = cleanText(subject.email, 320);
    const person = await repo.insertPerson(tx, {
      kind: subject.kind,
      name,
      organisation: cleanText(subject.organisation, 200) ?? null,
      email: email ?? null,
      phone: phone ?? null,
      phone_digits: phone ? phone.replace(/\D/g, '') : null,
      address: cleanText(subject.address, 500) ?? null,
      postcode: subject.postcode ? normalisePostcode(subject.postcode) : null,
      uprn: subject.uprn ?? null,
      contact_by: subject.contactBy ?? (email ? 'email' : phone ? 'sms' : 'none'),
    });
    return { personId: person.id, residentId: null };
  }

  /* ------------------------------------------------------------ messages to residents */

  async function messageResident(
    tx: CasesTx,
    row: CaseRow,
    type: CaseType,
    status: string,
    update: string | undefined,
    template = type.notifications[status],
  ): Promise<boolean> {
    if (!template || !row.person_id) return false;
    const person = await tx.selectFrom('case_people').selectAll().where('id', '=', row.person_id).executeTakeFirst();
    if (!person || person.contact_by === 'none') return false;
    const values = {
      reference: row.reference,
      caseType: type.name,
      status: type.status(status)?.residentLabel ?? type.status(status)?.label ?? status,
      name: person.name,
      update: update ?? '',
      expectedDate:
        row.due_at && !type.isClosed(status) ? new Date(row.due_at).toLocaleDateString('en-GB', { dateStyle: 'long', timeZone: calendar.timeZone }) : '',
      caseLink: row.resident_id ? `${platform.config.baseUrl}/account/cases/${row.reference}` : trackingLinkOf(row.details),
    };
    const related = { type: 'case', id: row.id };
    if (person.contact_by === 'sms' && person.phone) {
      await queueSms(asDb(tx), {
        to: person.phone,
        body: `${fillTemplate(template.subject, values)}\n\n${fillMessage(template.body, values)}`.slice(0, 900),
        related,
      });
    } else if (person.email) {
      await queueEmail(asDb(tx), { to: person.email, subject: fillTemplate(template.subject, values), body: fillMessage(template.body, values), related });
    } else return false;
    await repo.addEvent(tx, {
      caseId: row.id,
      kind: 'message',
      actor: { type: 'system' },
      body: fillTemplate(template.subject, values),
      details: { status, channel: person.contact_by === 'sms' && person.phone ? 'sms' : 'email' },
    });
    messaged.add(tx);
    return true;
  }

  /* ------------------------------------------------------------ opening */

  /**
   * Opens a case. `alongside` runs in the same transaction once the case row exists, so a capability
   * that keeps its own record of the case (a street report) commits both or neither.
   */
  async function open(
    actor: CaseActor,
    input: OpenCaseInput,
    alongside?: (tx: Kysely<object>, opened: CaseSummary) => Promise<void>,
  ): Promise<{ case: CaseSummary; created: boolean }> {
    const type = typeOf(input.type);
    if (actor.type === 'staff') {
      assertCan(actor.member, 'cases:work');
      if (type.restricted && !isMember(actor.member, type.team)) throw new HttpError(403, 'This case type is restricted to its team.');
    }
    const team = input.team ?? type.team;
    if (!teamCodes.has(team)) throw new HttpError(400, `Unknown team "${team}"`);
    const priority = input.priority ?? type.defaultPriority;
    if (!PRIORITIES.includes(priority)) throw new HttpError(400, 'Priority must be low, normal, high or urgent');
    const title = cleanText(input.title, 200);
    if (!title) throw new HttpError(400, 'Enter a title');
    const loc = input.location ?? {};
    const located = typeof loc.lat === 'number' && typeof loc.lng === 'number';
    const ward = located ? await geo.wardAt(loc.lat as number, loc.lng as number) : null;
    const openedAt = input.openedAt && input.openedAt.getTime() <= Date.now() ? input.openedAt : new Date();
    const prepared = await prepareSubject(input.subject);

    let sent = false;
    const result = await repo.transaction(async (tx) => {
      sent = false;
      if (input.deliveryId) {
        const existing = await repo.caseForDelivery(tx, input.deliveryId);
        if (existing) return { row: existing, created: false };
      }
      const { personId, residentId } = await subjectPerson(tx, prepared);
      const base: Omit<NewCase, 'reference'> = {
        type: type.code,
        status: type.initialStatus,
        priority,
        team,
        assignee_id: null,
        restricted: type.restricted,
        title,
        description: cleanText(input.description) ?? null,
        subject_kind: input.subject.kind,
        person_id: personId,
        resident_id: residentId,
        lat: located ? (loc.lat as number) : null,
        lng: located ? (loc.lng as number) : null,
        address: cleanText(loc.address, 500) ?? null,
        postcode: loc.postcode ? normalisePostcode(loc.postcode) : null,
        uprn: loc.uprn ?? null,
        usrn: loc.usrn ?? null,
        ward: ward?.code ?? null,
        source: input.source,
        channel: input.channel,
        source_reference: input.sourceReference ?? null,
        delivery_id: input.deliveryId ?? null,
        details: input.details ?? {},
        tags: [...new Set((input.tags ?? []).map((t) => t.trim().toLowerCase()).filter(Boolean))],
        opened_at: openedAt,
        due_at: dueAt(type, priority, openedAt),
      };
      let row: CaseRow | 'reference-taken' = 'reference-taken';
      for (let i = 0; i < 5 && row === 'reference-taken'; i++) {
        const reference = newReference();
        const trackingLink = residentId ? undefined : input.trackingLink?.(reference);
        row = await repo.insertCase(tx, { ...base, reference, ...(trackingLink ? { details: { ...(base.details as object), trackingLink } } : {}) });
      }
      if (row === 'reference-taken') throw new Error('Could not draw a free case reference');
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'opened',
        actor: eventActor(actor),
        public: true,
        body: `Opened from ${input.source === 'staff' ? `contact by ${input.channel}` : input.source}`,
        details: { status: type.initialStatus, source: input.source, channel: input.channel, sourceReference: input.sourceReference ?? null },
      });
      await recordAudit(asDb(tx), {
        actor: auditActor(actor),
        action: 'case.opened',
        subject: { type: 'case', id: row.id },
        details: { reference: row.reference, type: type.code },
      });
      sent = await messageResident(tx, row, type, type.initialStatus, undefined);
      if (alongside) await alongside(asDb(tx), summary(row));
      return { row, created: true };
    });
    if (sent) await notifier.nudge();
    return { case: summary(result.row), created: result.created };
  }

  /* ------------------------------------------------------------ reading */

  /** The case for a member of staff; a restricted case's every view is audited and shown on its timeline. */
  async function caseForStaff(member: StaffMember, reference: string, opts: { view?: boolean } = {}): Promise<CaseRow> {
    const row = await repo.caseByReference(normaliseReference(reference));
    if (!row) throw new HttpError(404, 'Case not found');
    try {
      assertCanSee(member, row);
    } catch (error) {
      if (row.restricted)
        await recordAudit(platform.database.db, {
          actor: { type: 'staff', id: member.id, label: member.name },
          action: 'case.view-refused',
          subject: { type: 'case', id: row.id },
        });
      throw error;
    }
    if (row.restricted && opts.view) {
      await repo.transaction(async (tx) => {
        await repo.addEvent(tx, { caseId: row.id, kind: 'viewed', actor: { type: 'staff', id: member.id, label: member.name } });
        await recordAudit(asDb(tx), {
          actor: { type: 'staff', id: member.id, label: member.name },
          action: 'case.viewed',
          subject: { type: 'case', id: row.id },
        });
      });
    }
    return row;
  }

  async function caseDetail(member: StaffMember, reference: string) {
    const row = await caseForStaff(member, reference, { view: true });
    const type = types.get(row.type);
    const [events, tasks, attachments, links, person] = await Promise.all([
      repo.events(row.id),
      repo.tasks(row.id),
      repo.attachments(row.id),
      repo.links(row.id),
      row.person_id ? repo.person(row.person_id) : Promise.resolve(undefined),
    ]);
    const linked = await repo.casesByIds(links.map((l) => (l.direction === 'from' ? l.other_id : l.case_id)));
    const canWork = can(member, 'cases:work') && (isMember(member, row.team) || row.assignee_id === member.id);
    const nextStatuses = (type?.status(row.status)?.next ?? []).map((code) => ({
      code,
      label: type?.status(code)?.label ?? code,
      closed: type?.isClosed(code) ?? false,
    }));
    return {
      case: summary(row),
      type,
      description: row.description,
      details: row.details,
      location: { lat: row.lat, lng: row.lng, address: row.address, postcode: row.postcode, uprn: row.uprn, usrn: row.usrn, ward: row.ward },
      person: person ?? null,
      events,
      tasks,
      attachments,
      links: links.map((l) => ({ ...l, other: linked.find((c) => c.id === (l.direction === 'from' ? l.other_id : l.case_id)) })),
      canWork,
      canReassign: canWork && can(member, 'cases:reassign'),
      nextStatuses: canWork ? nextStatuses : [],
    };
  }

  /* ------------------------------------------------------------ changing */

  async function change<T>(actor: CaseActor, reference: string, work: (tx: CasesTx, row: CaseRow) => Promise<T>): Promise<T> {
    let nudge = false;
    let wake = false;
    const result = await repo.transaction(async (tx) => {
      const row = await repo.lockCase(tx, normaliseReference(reference));
      if (!row) throw new HttpError(404, 'Case not found');
      assertActorCanWork(actor, row);
      if (row.anonymised_at) throw new HttpError(409, 'This case has been anonymised and can no longer be changed.');
      const out = await work(tx, row);
      nudge = messaged.has(tx);
      wake = hooked.has(tx);
      return out;
    });
    if (nudge) await notifier.nudge();
    if (wake) webhookNudge?.();
    return result;
  }

  async function changeStatus(actor: CaseActor, reference: string, to: string, opts: { update?: string | undefined; note?: string | undefined } = {}) {
    return change(actor, reference, async (tx, row) => {
      const type = typeOf(row.type);
      if (!type.status(to)) throw new HttpError(400, `Unknown status "${to}"`);
      if (!type.canMove(row.status, to))
        throw new HttpError(409, `A case cannot move from ${type.status(row.status)?.label ?? row.status} to ${type.status(to)?.label ?? to}.`);
      const closing = type.isClosed(to);
      const reopening = !closing && row.closed_at !== null;
      const update = cleanText(opts.update);
      await repo.updateCase(tx, row.id, {
        status: to,
        closed_at: closing ? (row.closed_at ?? new Date()) : null,
        ...(reopening ? { due_at: dueAt(type, row.priority as Priority, new Date()), breached_at: null, due_soon_at: null } : {}),
      });
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'status',
        actor: eventActor(actor),
        public: true,
        body: update ?? null,
        details: { from: row.status, to, fromLabel: type.status(row.status)?.label, toLabel: type.status(to)?.label },
      });
      const note = cleanText(opts.note);
      if (note) await repo.addEvent(tx, { caseId: row.id, kind: 'note', actor: eventActor(actor), body: note });
      await recordAudit(asDb(tx), {
        actor: auditActor(actor),
        action: 'case.status-changed',
        subject: { type: 'case', id: row.id },
        details: { from: row.status, to },
      });
      await messageResident(tx, { ...row, status: to }, type, to, update);
      await queueWebhooks(tx, row, type, to);
      await announce(tx, { caseId: row.id, reference: row.reference, type: row.type, kind: 'status', from: row.status, to, closed: closing, update, actor });
      return summary({ ...row, status: to, closed_at: closing ? (row.closed_at ?? new Date()) : null });
    });
  }

  async function addNote(actor: CaseActor, reference: string, text: string, opts: { public?: boolean } = {}) {
    const body = cleanText(text);
    if (!body) throw new HttpError(400, opts.public ? 'Enter the update' : 'Enter the note');
    return change(actor, reference, async (tx, row) => {
      await repo.addEvent(tx, { caseId: row.id, kind: opts.public ? 'update' : 'note', actor: eventActor(actor), public: opts.public ?? false, body });
      await repo.updateCase(tx, row.id, {});
      if (opts.public) {
        const type = typeOf(row.type);
        await recordAudit(asDb(tx), { actor: auditActor(actor), action: 'case.public-update', subject: { type: 'case', id: row.id } });
        // An update is news for the resident: it goes out in the type's update message.
        await messageResident(tx, row, type, row.status, body, type.updateMessage);
        await announce(tx, {
          caseId: row.id,
          reference: row.reference,
          type: row.type,
          kind: 'update',
          from: row.status,
          to: row.status,
          closed: row.closed_at !== null,
          update: body,
          actor,
        });
      }
    });
  }

  async function assign(member: StaffMember, reference: string, to: { assigneeId?: string | null; team?: string }) {
    // Looked up before the transaction: the embedded database has one connection.
    const assignee = to.assigneeId ? await account.staff.findMember(to.assigneeId) : null;
    return change({ type: 'staff', member }, reference, async (tx, row) => {
      const reassigning =
        (to.team !== undefined && to.team !== row.team) || (to.assigneeId !== undefined && to.assigneeId !== null && to.assigneeId !== member.id);
      const takingOver = to.assigneeId !== undefined && row.assignee_id !== null && row.assignee_id !== member.id;
      if (reassigning || takingOver) assertCan(member, 'cases:reassign');
      const team = to.team ?? row.team;
      if (!teamCodes.has(team)) throw new HttpError(400, `Unknown team "${team}"`);
      if (row.restricted && team !== row.team) throw new HttpError(400, 'A restricted case stays with its team.');
      let assigneeId = to.assigneeId === undefined ? row.assignee_id : to.assigneeId;
      if (to.team !== undefined && to.team !== row.team && to.assigneeId === undefined) assigneeId = null;
      let assigneeName: string | null = null;
      if (assigneeId && assigneeId === to.assigneeId) {
        if (!assignee || assignee.status !== 'active') throw new HttpError(400, 'Choose an active member of staff');
        if (!assignee.teams.includes(team)) throw new HttpError(400, `${assignee.name} is not in that team`);
        if (!can(assignee, 'cases:work')) throw new HttpError(400, `${assignee.name} does not work on cases`);
        assigneeName = assignee.name;
      }
      await repo.updateCase(tx, row.id, { team, assignee_id: assigneeId });
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'assigned',
        actor: eventActor({ type: 'staff', member }),
        details: { fromTeam: row.team, toTeam: team, fromAssignee: row.assignee_id, toAssignee: assigneeId, assigneeName },
      });
      await recordAudit(asDb(tx), {
        actor: auditActor({ type: 'staff', member }),
        action: 'case.assigned',
        subject: { type: 'case', id: row.id },
        details: { team, assigneeId },
      });
    });
  }

  async function setPriority(member: StaffMember, reference: string, priority: Priority) {
    if (!PRIORITIES.includes(priority)) throw new HttpError(400, 'Choose a priority');
    return change({ type: 'staff', member }, reference, async (tx, row) => {
      if (row.priority === priority) return;
      const type = typeOf(row.type);
      const due = row.closed_at ? row.due_at : dueAt(type, priority, new Date(row.opened_at));
      await repo.updateCase(tx, row.id, { priority, due_at: due, ...(due && due > new Date() ? { breached_at: null } : {}) });
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'priority',
        actor: eventActor({ type: 'staff', member }),
        details: { from: row.priority, to: priority },
      });
      await recordAudit(asDb(tx), {
        actor: auditActor({ type: 'staff', member }),
        action: 'case.priority-changed',
        subject: { type: 'case', id: row.id },
        details: { from: row.priority, to: priority },
      });
    });
  }

  async function setTags(member: StaffMember, reference: string, tags: string[]) {
    const clean = [...new Set(tags.map((t) => t.trim().toLowerCase()).filter((t) => /^[a-z0-9][a-z0-9 -]{0,39}$/.test(t)))].slice(0, 20);
    return change({ type: 'staff', member }, reference, async (tx, row) => {
      await repo.updateCase(tx, row.id, { tags: clean });
      await repo.addEvent(tx, { caseId: row.id, kind: 'tags', actor: eventActor({ type: 'staff', member }), details: { from: row.tags, to: clean } });
    });
  }

  async function addTask(member: StaffMember, reference: string, input: { title: string; dueOn?: string | undefined; assigneeId?: string | undefined }) {
    const title = cleanText(input.title, 200);
    if (!title) throw new HttpError(400, 'Enter what needs doing');
    if (input.dueOn && !/^\d{4}-\d{2}-\d{2}$/.test(input.dueOn)) throw new HttpError(400, 'Enter a real due date');
    return change({ type: 'staff', member }, reference, async (tx, row) => {
      const task = await repo.insertTask(tx, {
        case_id: row.id,
        title,
        due_on: input.dueOn ?? null,
        assignee_id: input.assigneeId ?? null,
        created_by: member.id,
      });
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'task',
        actor: eventActor({ type: 'staff', member }),
        body: title,
        details: { taskId: task.id, action: 'added', dueOn: input.dueOn ?? null },
      });
      return task;
    });
  }

  async function completeTask(member: StaffMember, reference: string, taskId: string) {
    return change({ type: 'staff', member }, reference, async (tx, row) => {
      const task = await repo.completeTask(tx, row.id, taskId, member.id);
      if (!task) throw new HttpError(404, 'Task not found or already done');
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'task',
        actor: eventActor({ type: 'staff', member }),
        body: task.title,
        details: { taskId, action: 'done' },
      });
    });
  }

  async function link(member: StaffMember, reference: string, otherReference: string, kind: 'duplicate-of' | 'parent-of' | 'child-of' | 'related') {
    const other = await caseForStaff(member, otherReference);
    return change({ type: 'staff', member }, reference, async (tx, row) => {
      if (other.id === row.id) throw new HttpError(400, 'A case cannot be linked to itself');
      const [from, to, stored] = kind === 'child-of' ? [other.id, row.id, 'parent-of' as const] : [row.id, other.id, kind];
      const added = await repo.insertLink(tx, { case_id: from, other_id: to, kind: stored, created_by: member.id });
      if (!added) throw new HttpError(409, 'These cases are already linked');
      for (const [id, ref, k] of [
        [row.id, other.reference, kind],
        [other.id, row.reference, inverse(kind)],
      ] as const)
        await repo.addEvent(tx, { caseId: id, kind: 'link', actor: eventActor({ type: 'staff', member }), details: { reference: ref, kind: k } });
    });
  }

  function inverse(kind: 'duplicate-of' | 'parent-of' | 'child-of' | 'related'): string {
    return kind === 'parent-of' ? 'child-of' : kind === 'child-of' ? 'parent-of' : kind === 'duplicate-of' ? 'has-duplicate' : 'related';
  }

  async function addAttachment(actor: CaseActor, reference: string, file: { bytes: Buffer; filename: string }, opts: { public?: boolean } = {}) {
    return change(actor, reference, async (tx, row) => {
      if (actor.type === 'resident' && row.resident_id !== actor.residentId) throw new HttpError(404, 'Case not found');
      const saved = await ctx.files.save(asDb(tx), file.bytes, {
        allowed: ['image/jpeg', 'image/png', 'application/pdf'],
        maxBytes: 10 * 1024 * 1024,
        originalName: file.filename,
      });
      if (!saved.ok) throw new HttpError(400, saved.message);
      const who = eventActor(actor);
      const attachment = await repo.insertAttachment(tx, {
        case_id: row.id,
        file_id: saved.file.id,
        filename: saved.file.originalName ?? 'file',
        content_type: saved.file.contentType,
        size: saved.file.size,
        added_by_type: who.type,
        added_by_id: who.id,
        public: opts.public ?? actor.type === 'resident',
      });
      await repo.addEvent(tx, {
        caseId: row.id,
        kind: 'attachment',
        actor: who,
        public: attachment.public,
        body: attachment.filename,
        details: { attachmentId: attachment.id },
      });
      return attachment;
    });
  }

  /* ------------------------------------------------------------ webhooks */

  async function queueWebhooks(tx: CasesTx, row: CaseRow, type: CaseType, to: string): Promise<void> {
    for (const hook of type.webhooks) {
      const payload = JSON.stringify({
        event: 'case.status-changed',
        case: { reference: row.reference, type: row.type, from: row.status, to, closed: type.isClosed(to), at: new Date().toISOString() },
      });
      await repo.queueWebhook(tx, { caseId: row.id, url: hook.url, secretEnv: hook.secretEnv, payload });
      hooked.add(tx);
    }
  }

  /* ------------------------------------------------------------ queues */

  function queueFilters(member: StaffMember, query: QueueQuery, now = new Date()): QueueFilters {
    assertCan(member, 'cases:work');
    let teams = member.teams.filter((t) => teamCodes.has(t));
    if (query.team) {
      if (!member.teams.includes(query.team)) throw new HttpError(403, 'You can only see your own teams’ queues.');
      teams = [query.team];
    }
    const pageSize = Math.min(Math.max(query.pageSize ?? 25, 1), 100);
    const page = Math.max(query.page ?? 1, 1);
    return {
      teams,
      // Restricted cases show only in their own team's queue, which a viewer is a member of by now.
      includeRestricted: true,
      open: query.open,
      types: query.types,
      statuses: query.statuses,
      priorities: query.priorities,
      wards: query.wards,
      assignee: query.mine ? member.id : query.assignee,
      sla: query.sla,
      openedFrom: query.openedFrom,
      openedTo: query.openedTo,
      now,
      dueSoonBefore: dueSoonBoundary(now, calendar),
      sort: query.sort ?? 'due',
      descending: query.descending ?? false,
      limit: pageSize,
      offset: (page - 1) * pageSize,
    };
  }

  async function queue(member: StaffMember, query: QueueQuery) {
    const now = new Date();
    const filters = queueFilters(member, query, now);
    const { rows, total } = await repo.queue(filters);
    return { cases: rows.map((r) => summary(r, now)), total, page: Math.floor(filters.offset / filters.limit) + 1, pageSize: filters.limit };
  }

  async function search(member: StaffMember, text: string) {
    assertCan(member, 'cases:work');
    const q = text.trim();
    if (!q) return { kind: 'none' as const, cases: [] as CaseSummary[] };
    const teams = member.teams;
    const reference = normaliseReference(q);
    let input: Parameters<typeof repo.search>[0];
    let kind: 'reference' | 'postcode' | 'uprn' | 'email' | 'phone' | 'name';
    if (REFERENCE_PATTERN.test(reference)) [kind, input] = ['reference', { reference, teams, limit: 50 }];
    else if (platform.council.postcodePattern.test(q.toUpperCase()) || /^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$/i.test(q))
      [kind, input] = ['postcode', { postcode: normalisePostcode(q), teams, limit: 50 }];
    else if (/^\d{6,12}$/.test(q)) [kind, input] = ['uprn', { uprn: q, teams, limit: 50 }];
    else if (q.includes('@')) [kind, input] = ['email', { email: q, teams, limit: 50 }];
    else if (/^[+\d][\d\s()-]{6,}$/.test(q)) [kind, input] = ['phone', { phoneDigits: q.replace(/\D/g, '').replace(/^44/, '0'), teams, limit: 50 }];
    else [kind, input] = ['name', { name: q.slice(0, 100), teams, limit: 50 }];
    const rows = await repo.search(input);
    return { kind, cases: rows.map((r) => summary(r)) };
  }

  /** Every case a person has had with the council, across teams (restricted ones only for their team). */
  async function contactHistory(member: StaffMember, personId: string) {
    assertCan(member, 'cases:work');
    const person = await repo.person(personId);
    if (!person) throw new HttpError(404, 'Contact not found');
    const rows = await repo.casesForPerson(personId, 500);
    const visible = rows.filter((r) => !r.restricted || isMember(member, r.team));
    return { person, cases: visible.map((r) => summary(r)), hidden: rows.length - visible.length };
  }

  /* ------------------------------------------------------------ residents */

  async function residentCases(residentId: string): Promise<CaseSummary[]> {
    return (await repo.casesForResident(residentId)).map((r) => summary(r));
  }

  async function residentCase(residentId: string, reference: string) {
    const row = await repo.caseByReference(normaliseReference(reference));
    // Another resident's case is "not found", not "forbidden": references are not to be probed.
    if (!row || row.resident_id !== residentId || row.anonymised_at) throw new HttpError(404, 'Case not found');
    const [events, attachments] = await Promise.all([repo.events(row.id, { publicOnly: true }), repo.attachments(row.id, { publicOnly: true })]);
    return { case: summary(row), events, attachments };
  }

  async function residentAddInformation(residentId: string, reference: string, text: string) {
    const body = cleanText(text, 5000);
    if (!body) throw new HttpError(400, 'Enter the information you want to add');
    const row = await repo.caseByReference(normaliseReference(reference));
    if (!row || row.resident_id !== residentId) throw new HttpError(404, 'Case not found');
    if (row.closed_at) throw new HttpError(409, 'This case is closed. Contact the council if you need it looked at again.');
    return change({ type: 'resident', residentId }, reference, async (tx, locked) => {
      await repo.addEvent(tx, { caseId: locked.id, kind: 'resident-info', actor: { type: 'resident', id: residentId, label: 'Resident' }, public: true, body });
      await repo.updateCase(tx, locked.id, {});
    });
  }

  /** A deleted account's cases stay under the retention schedule, but no longer appear to anyone signing in. */
  async function forgetResident(residentId: string): Promise<void> {
    await repo.transaction(async (tx) => {
      await tx.updateTable('cases').set({ resident_id: null }).where('resident_id', '=', residentId).execute();
      await tx.updateTable('case_people').set({ resident_id: null }).where('resident_id', '=', residentId).execute();
    });
  }

  return {
    repo,
    types,
    geo,
    /** Set by the webhook worker while it runs in this process. */
    setWebhookNudge(nudge: (() => void) | undefined) {
      webhookNudge = nudge;
    },
    forgetResident,
    calendar,
    summary,
    typeOf,
    open,
    caseForStaff,
    caseDetail,
    changeStatus,
    addNote,
    onChange: (listener: CaseChangeListener) => void changeListeners.push(listener),
    assign,
    setPriority,
    setTags,
    addTask,
    completeTask,
    link,
    addAttachment,
    queueFilters,
    queue,
    search,
    contactHistory,
    residentCases,
    residentCase,
    residentAddInformation,
    assertCanSee,
    assertCanWork,
    isMember,

    /**
     * An attachment's file for download, after the same checks as reading its case: staff who may see
     * the case (a restricted case's download counts as a view), or the resident whose case it is
     * (files shown to them only). Anything else is "not found".
     */
    async attachmentFile(viewer: { type: 'staff'; member: StaffMember } | { type: 'resident'; residentId: string }, reference: string, attachmentId: string) {
      let row: CaseRow | undefined;
      if (viewer.type === 'staff') row = await caseForStaff(viewer.member, reference, { view: true });
      else {
        row = await repo.caseByReference(normaliseReference(reference));
        if (!row || row.resident_id !== viewer.residentId || row.anonymised_at) throw new HttpError(404, 'Case not found');
      }
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(attachmentId)) throw new HttpError(404, 'File not found');
      const attachment = await repo.attachment(row.id, attachmentId);
      if (!attachment || (viewer.type === 'resident' && !attachment.public)) throw new HttpError(404, 'File not found');
      const stored = await ctx.files.read(platform.database.db, attachment.file_id);
      if (!stored) throw new HttpError(404, 'File not found');
      return { filename: attachment.filename, contentType: stored.file.contentType, bytes: stored.bytes };
    },

    /* ------------------------------------------------------------ JSON API for back-office systems */

    /** Whether a code is one of the council's teams, for checking API filters. */
    isTeam(code: string): boolean {
      return teamCodes.has(code);
    },

    /**
     * Cases for back-office systems, least recently changed first. An API client belongs to no team,
     * so restricted cases (and every case of a type now configured as restricted) are never listed.
     */
    async apiCases(query: {
      team?: string | undefined;
      type?: string | undefined;
      status?: string | undefined;
      open?: boolean | undefined;
      updatedSince?: Date | undefined;
      page: number;
      pageSize: number;
    }) {
      const now = new Date();
      const pageSize = Math.min(Math.max(Math.trunc(query.pageSize), 1), 100);
      const page = Math.max(Math.trunc(query.page), 1);
      const excludeTypes = [...types.values()].filter((t) => t.restricted).map((t) => t.code);
      const { rows, total } = await repo.apiCases({ ...query, excludeTypes, limit: pageSize, offset: (page - 1) * pageSize });
      return { cases: rows.map((row) => ({ ...summary(row, now), uprn: row.uprn, usrn: row.usrn })), total, page, pageSize };
    },

    /**
     * One case for a back-office system: its public timeline (what the resident sees) and the statuses
     * it may move to. A restricted case is "not found", so its reference cannot be probed.
     */
    async apiCase(reference: string) {
      const row = await repo.caseByReference(normaliseReference(reference));
      const type = row ? types.get(row.type) : undefined;
      if (!row || !type || row.restricted || type.restricted) throw new HttpError(404, 'Case not found');
      const events = await repo.events(row.id, { publicOnly: true });
      const nextStatuses = (type.status(row.status)?.next ?? []).map((code) => ({
        code,
        label: type.status(code)?.label ?? code,
        closed: type.isClosed(code),
      }));
      return { case: { ...summary(row), uprn: row.uprn, usrn: row.usrn }, events, nextStatuses };
    },
  };
}

export type CasesService = ReturnType<typeof createCasesService>;
export type { EventRow, PersonRow, CaseRow, CaseEventKind };
