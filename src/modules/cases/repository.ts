import { sql, type Kysely, type Selectable, type Transaction, type Insertable, type SelectQueryBuilder } from 'kysely';
import type { CaseEventKind, CaseTables } from './migrations.js';

export type CasesTx = Transaction<CaseTables>;
/** The platform's audit log and outbox take any executor; a cases transaction is one. */
export const asDb = (tx: CasesTx | Kysely<CaseTables>): Kysely<object> => tx as unknown as Kysely<object>;
export type CaseRow = Selectable<CaseTables['cases']>;
export type PersonRow = Selectable<CaseTables['case_people']>;
export type EventRow = Selectable<CaseTables['case_events']>;
export type TaskRow = Selectable<CaseTables['case_tasks']>;
export type AttachmentRow = Selectable<CaseTables['case_attachments']>;
export type LinkRow = Selectable<CaseTables['case_links']>;
export type SavedViewRow = Selectable<CaseTables['case_saved_views']>;
export type NewCase = Omit<Insertable<CaseTables['cases']>, 'details'> & { details: unknown };
export type NewPerson = Insertable<CaseTables['case_people']>;

export interface NewEvent {
  caseId: string;
  kind: CaseEventKind;
  actor: { type: 'staff' | 'resident' | 'system' | 'api'; id?: string | null; label?: string | null };
  public?: boolean;
  body?: string | null;
  details?: Record<string, unknown>;
}

export type SlaFilter = 'on-track' | 'due-soon' | 'breached';
export type SortKey = 'due' | 'opened' | 'updated' | 'priority' | 'reference';

/** A queue's filters. `teams` limits the queue to what the viewer may see. */
export interface QueueFilters {
  teams: readonly string[];
  /** Restricted types the viewer may not see are left out by team; this leaves them all out when false. */
  includeRestricted: boolean;
  open?: boolean | undefined;
  types?: readonly string[] | undefined;
  statuses?: readonly string[] | undefined;
  priorities?: readonly string[] | undefined;
  wards?: readonly string[] | undefined;
  assignee?: string | 'unassigned' | undefined;
  sla?: SlaFilter | undefined;
  openedFrom?: Date | undefined;
  openedTo?: Date | undefined;
  /** `now` and the due-soon boundary, for SLA filters (computed in working time by the caller). */
  now: Date;
  dueSoonBefore: Date;
  sort: SortKey;
  descending: boolean;
  limit: number;
  offset: number;
}

export interface SearchInput {
  reference?: string;
  postcode?: string;
  uprn?: string;
  email?: string;
  phoneDigits?: string;
  name?: string;
  teams: readonly string[];
  limit: number;
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  return e?.code === '23505' && (e.constraint === constraint || (typeof e.message === 'string' && e.message.includes(constraint)));
}

const PRIORITY_RANK = sql<number>`CASE cases.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END`;

type CaseQuery = SelectQueryBuilder<CaseTables, 'cases', object>;

/** The only code that touches the case tables. */
export function createCasesRepository(database: Kysely<object>) {
  const db = database.withTables<CaseTables>();
  const on = (tx?: CasesTx): Kysely<CaseTables> => tx ?? db;

  function filtered(query: CaseQuery, f: QueueFilters): CaseQuery {
    let q = query.where('cases.team', 'in', f.teams.length ? [...f.teams] : ['']);
    if (!f.includeRestricted) q = q.where('cases.restricted', '=', false);
    if (f.open !== false) q = q.where('cases.closed_at', 'is', null);
    else q = q.where('cases.closed_at', 'is not', null);
    if (f.types?.length) q = q.where('cases.type', 'in', [...f.types]);
    if (f.statuses?.length) q = q.where('cases.status', 'in', [...f.statuses]);
    if (f.priorities?.length) q = q.where('cases.priority', 'in', [...f.priorities]);
    if (f.wards?.length) q = q.where('cases.ward', 'in', [...f.wards]);
    if (f.assignee === 'unassigned') q = q.where('cases.assignee_id', 'is', null);
    else if (f.assignee) q = q.where('cases.assignee_id', '=', f.assignee);
    if (f.openedFrom) q = q.where('cases.opened_at', '>=', f.openedFrom);
    if (f.openedTo) q = q.where('cases.opened_at', '<', f.openedTo);
    if (f.sla === 'breached') q = q.where((eb) => eb.or([eb('cases.breached_at', 'is not', null), eb('cases.due_at', '<', f.now)]));
    else if (f.sla === 'due-soon') q = q.where('cases.breached_at', 'is', null).where('cases.due_at', '>=', f.now).where('cases.due_at', '<', f.dueSoonBefore);
    else if (f.sla === 'on-track')
      q = q.where('cases.breached_at', 'is', null).where((eb) => eb.or([eb('cases.due_at', 'is', null), eb('cases.due_at', '>=', f.dueSoonBefore)]));
    return q;
  }

  return {
    db,
    transaction<T>(work: (tx: CasesTx) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },

    /* ------------------------------------------------------------ people */

    async personForResident(tx: CasesTx, residentId: string): Promise<PersonRow | undefined> {
      return tx.selectFrom('case_people').selectAll().where('resident_id', '=', residentId).executeTakeFirst();
    },
    async insertPerson(tx: CasesTx, person: NewPerson): Promise<PersonRow> {
      return tx.insertInto('case_people').values(person).returningAll().executeTakeFirstOrThrow();
    },
    async updatePerson(tx: CasesTx, id: string, changes: Partial<NewPerson>): Promise<void> {
      await tx.updateTable('case_people').set(changes).where('id', '=', id).execute();
    },
    async person(id: string): Promise<PersonRow | undefined> {
      return db.selectFrom('case_people').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async peopleByIds(ids: readonly string[]): Promise<PersonRow[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('case_people')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute();
    },
    async findPeople(input: { email?: string; phoneDigits?: string; postcode?: string; name?: string }, limit: number): Promise<PersonRow[]> {
      let q = db.selectFrom('case_people').selectAll().where('anonymised_at', 'is', null);
      if (input.email) q = q.where(sql<string>`lower(email)`, '=', input.email.toLowerCase());
      if (input.phoneDigits) q = q.where('phone_digits', '=', input.phoneDigits);
      if (input.postcode) q = q.where('postcode', '=', input.postcode);
      if (input.name) q = q.where(sql<string>`lower(name)`, 'like', `%${input.name.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`);
      return q.orderBy('name').limit(limit).execute();
    },

    /* ------------------------------------------------------------ cases */

    /** Inserts a case; a clashing reference is reported so the caller can draw another. */
    async insertCase(tx: CasesTx, row: NewCase): Promise<CaseRow | 'reference-taken'> {
      try {
        await sql`SAVEPOINT case_insert`.execute(tx);
        const inserted = await tx
          .insertInto('cases')
          .values({ ...row, details: JSON.stringify(row.details ?? {}) })
          .returningAll()
          .executeTakeFirstOrThrow();
        await sql`RELEASE SAVEPOINT case_insert`.execute(tx);
        return inserted;
      } catch (error) {
        await sql`ROLLBACK TO SAVEPOINT case_insert`.execute(tx);
        if (isUniqueViolation(error, 'cases_reference_key')) return 'reference-taken';
        throw error;
      }
    },
    async caseForDelivery(tx: CasesTx, deliveryId: string): Promise<CaseRow | undefined> {
      return tx.selectFrom('cases').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
    },
    async caseByReference(reference: string, tx?: CasesTx): Promise<CaseRow | undefined> {
      return on(tx).selectFrom('cases').selectAll().where('reference', '=', reference).executeTakeFirst();
    },
    /** Locks the case row for a change, so two officers' changes apply one after the other. */
    async lockCase(tx: CasesTx, reference: string): Promise<CaseRow | undefined> {
      return tx.selectFrom('cases').selectAll().where('reference', '=', reference).forUpdate().executeTakeFirst();
    },
    async casesByIds(ids: readonly string[]): Promise<CaseRow[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('cases')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute();
    },
    async casesByReferences(references: readonly string[]): Promise<CaseRow[]> {
      if (references.length === 0) return [];
      return db
        .selectFrom('cases')
        .selectAll()
        .where('reference', 'in', [...references])
        .execute();
    },
    async updateCase(tx: CasesTx, id: string, changes: Partial<Omit<NewCase, 'details'>>): Promise<void> {
      await tx
        .updateTable('cases')
        .set({ ...changes, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    /* ------------------------------------------------------------ timeline */

    async addEvent(tx: CasesTx | Kysely<CaseTables>, e: NewEvent): Promise<void> {
      await tx
        .insertInto('case_events')
        .values({
          case_id: e.caseId,
          kind: e.kind,
          actor_type: e.actor.type,
          actor_id: e.actor.id ?? null,
          actor_label: e.actor.label ?? null,
          public: e.public ?? false,
          body: e.body ?? null,
          details: JSON.stringify(e.details ?? {}),
        })
        .execute();
    },
    async events(caseId: string, opts: { publicOnly?: boolean } = {}): Promise<EventRow[]> {
      let q = db.selectFrom('case_events').selectAll().where('case_id', '=', caseId);
      if (opts.publicOnly) q = q.where('public', '=', true);
      return q.orderBy('at', 'desc').orderBy('id', 'desc').execute();
    },

    /* ------------------------------------------------------------ tasks, attachments, links */

    async tasks(caseId: string): Promise<TaskRow[]> {
      return db.selectFrom('case_tasks').selectAll().where('case_id', '=', caseId).orderBy('created_at').execute();
    },
    async insertTask(tx: CasesTx, task: Insertable<CaseTables['case_tasks']>): Promise<TaskRow> {
      return tx.insertInto('case_tasks').values(task).returningAll().executeTakeFirstOrThrow();
    },
    async completeTask(tx: CasesTx, caseId: string, taskId: string, staffId: string): Promise<TaskRow | undefined> {
      return tx
        .updateTable('case_tasks')
        .set({ done_at: sql<Date>`now()`, done_by: staffId })
        .where('case_id', '=', caseId)
        .where('id', '=', taskId)
        .where('done_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
    },
    async attachments(caseId: string, opts: { publicOnly?: boolean } = {}): Promise<AttachmentRow[]> {
      let q = db.selectFrom('case_attachments').selectAll().where('case_id', '=', caseId);
      if (opts.publicOnly) q = q.where('public', '=', true);
      return q.orderBy('created_at').execute();
    },
    async attachment(caseId: string, id: string): Promise<AttachmentRow | undefined> {
      return db.selectFrom('case_attachments').selectAll().where('case_id', '=', caseId).where('id', '=', id).executeTakeFirst();
    },
    async insertAttachment(tx: CasesTx, row: Insertable<CaseTables['case_attachments']>): Promise<AttachmentRow> {
      return tx.insertInto('case_attachments').values(row).returningAll().executeTakeFirstOrThrow();
    },
    async links(caseId: string): Promise<(LinkRow & { direction: 'from' | 'to' })[]> {
      const from = await db.selectFrom('case_links').selectAll().where('case_id', '=', caseId).execute();
      const to = await db.selectFrom('case_links').selectAll().where('other_id', '=', caseId).execute();
      return [...from.map((l) => ({ ...l, direction: 'from' as const })), ...to.map((l) => ({ ...l, direction: 'to' as const }))];
    },
    async insertLink(tx: CasesTx, link: Insertable<CaseTables['case_links']>): Promise<boolean> {
      const done = await tx
        .insertInto('case_links')
        .values(link)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(done.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /* ------------------------------------------------------------ queues and search */

    async queue(f: QueueFilters): Promise<{ rows: CaseRow[]; total: number }> {
      let q = filtered(db.selectFrom('cases'), f).selectAll();
      const dir = f.descending ? 'desc' : 'asc';
      switch (f.sort) {
        case 'due':
          q = q.orderBy('cases.due_at', (ob) => (f.descending ? ob.desc() : ob.asc()).nullsLast()).orderBy('cases.opened_at', dir);
          break;
        case 'opened':
          q = q.orderBy('cases.opened_at', dir);
          break;
        case 'updated':
          q = q.orderBy('cases.updated_at', dir);
          break;
        case 'priority':
          q = q.orderBy(PRIORITY_RANK, dir).orderBy('cases.due_at', (ob) => ob.asc().nullsLast());
          break;
        case 'reference':
          q = q.orderBy('cases.reference', dir);
          break;
      }
      const rows = await q.orderBy('cases.id').limit(f.limit).offset(f.offset).execute();
      const counted = await filtered(db.selectFrom('cases'), f)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(counted.n) };
    },
    /** Located cases for the map (newest first, capped). */
    async located(f: QueueFilters, cap: number): Promise<CaseRow[]> {
      return filtered(db.selectFrom('cases'), f).selectAll().where('cases.lat', 'is not', null).orderBy('cases.opened_at', 'desc').limit(cap).execute();
    },
    /** All rows of a queue view, for export (capped). */
    async exportRows(f: QueueFilters, cap: number): Promise<CaseRow[]> {
      return filtered(db.selectFrom('cases'), f).selectAll().orderBy('cases.opened_at', 'desc').limit(cap).execute();
    },
    async search(input: SearchInput): Promise<CaseRow[]> {
      let q = db.selectFrom('cases').selectAll().where('cases.anonymised_at', 'is', null);
      if (input.reference) q = q.where('cases.reference', '=', input.reference);
      // ANY(ARRAY(...)) rather than IN (SELECT ...): the planner then combines the two indexes
      // instead of reading every case (measured: 134 ms to 5 ms over 200,000 cases on PostgreSQL).
      if (input.postcode) {
        const postcode = input.postcode;
        q = q.where(sql<boolean>`(cases.postcode = ${postcode} OR cases.person_id = ANY(ARRAY(SELECT id FROM case_people WHERE postcode = ${postcode})))`);
      }
      if (input.uprn) {
        const uprn = input.uprn;
        q = q.where(sql<boolean>`(cases.uprn = ${uprn} OR cases.person_id = ANY(ARRAY(SELECT id FROM case_people WHERE uprn = ${uprn})))`);
      }
      if (input.email) {
        const email = input.email.toLowerCase();
        q = q.where('cases.person_id', 'in', (eb) =>
          eb
            .selectFrom('case_people')
            .select('id')
            .where(sql<string>`lower(email)`, '=', email),
        );
      }
      if (input.phoneDigits) {
        const digits = input.phoneDigits;
        q = q.where('cases.person_id', 'in', (eb) => eb.selectFrom('case_people').select('id').where('phone_digits', '=', digits));
      }
      if (input.name) {
        const pattern = `%${input.name.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`;
        q = q.where('cases.person_id', 'in', (eb) =>
          eb
            .selectFrom('case_people')
            .select('id')
            .where(sql<string>`lower(name)`, 'like', pattern),
        );
      }
      // Restricted cases outside the viewer's teams never appear, not even as a count.
      q = q.where((eb) => eb.or([eb('cases.restricted', '=', false), eb('cases.team', 'in', input.teams.length ? [...input.teams] : [''])]));
      return q.orderBy('cases.opened_at', 'desc').limit(input.limit).execute();
    },
    async casesForPerson(personId: string, limit: number): Promise<CaseRow[]> {
      return db.selectFrom('cases').selectAll().where('person_id', '=', personId).orderBy('opened_at', 'desc').limit(limit).execute();
    },
    async casesForResident(residentId: string): Promise<CaseRow[]> {
      return db
        .selectFrom('cases')
        .selectAll()
        .where('resident_id', '=', residentId)
        .where('anonymised_at', 'is', null)
        .orderBy('opened_at', 'desc')
        .limit(200)
        .execute();
    },

    async queueWebhook(tx: CasesTx, hook: { caseId: string; url: string; secretEnv: string; payload: string }): Promise<void> {
      await tx
        .insertInto('case_webhooks')
        .values({ case_id: hook.caseId, url: hook.url, secret_env: hook.secretEnv, payload: hook.payload, status: 'pending', attempts: 0 })
        .execute();
    },

    /* ------------------------------------------------------------ saved views */

    async savedViews(staffId: string): Promise<SavedViewRow[]> {
      return db.selectFrom('case_saved_views').selectAll().where('staff_id', '=', staffId).orderBy('name').execute();
    },
    async saveView(staffId: string, name: string, query: string): Promise<void> {
      await db
        .insertInto('case_saved_views')
        .values({ staff_id: staffId, name, query })
        .onConflict((oc) => oc.columns(['staff_id', 'name']).doUpdateSet({ query }))
        .execute();
    },
    async deleteView(staffId: string, id: string): Promise<void> {
      await db.deleteFrom('case_saved_views').where('staff_id', '=', staffId).where('id', '=', id).execute();
    },

    /* ------------------------------------------------------------ clocks and retention */

    /** Open cases whose due time has passed and are not yet flagged. */
    async dueForBreach(now: Date, limit: number): Promise<CaseRow[]> {
      return db
        .selectFrom('cases')
        .selectAll()
        .where('closed_at', 'is', null)
        .where('breached_at', 'is', null)
        .where('due_at', '<=', now)
        .orderBy('due_at')
        .limit(limit)
        .execute();
    },
    async dueSoonUnwarned(now: Date, before: Date, limit: number): Promise<CaseRow[]> {
      return db
        .selectFrom('cases')
        .selectAll()
        .where('closed_at', 'is', null)
        .where('breached_at', 'is', null)
        .where('due_soon_at', 'is', null)
        .where('due_at', '>', now)
        .where('due_at', '<=', before)
        .orderBy('due_at')
        .limit(limit)
        .execute();
    },
    async closedBefore(type: string, before: Date, limit: number): Promise<CaseRow[]> {
      return db
        .selectFrom('cases')
        .selectAll()
        .where('type', '=', type)
        .where('closed_at', '<', before)
        .where('anonymised_at', 'is', null)
        .orderBy('closed_at')
        .limit(limit)
        .execute();
    },
    async teamSummary(team: string, now: Date, dueSoonBefore: Date): Promise<{ open: number; unassigned: number; dueSoon: number; breached: number }> {
      const row = await db
        .selectFrom('cases')
        .where('team', '=', team)
        .where('closed_at', 'is', null)
        .select((eb) => [
          eb.fn.countAll<string>().as('open'),
          sql<string>`count(*) FILTER (WHERE assignee_id IS NULL)`.as('unassigned'),
          sql<string>`count(*) FILTER (WHERE breached_at IS NULL AND due_at >= ${now} AND due_at < ${dueSoonBefore})`.as('dueSoon'),
          sql<string>`count(*) FILTER (WHERE breached_at IS NOT NULL OR due_at < ${now})`.as('breached'),
        ])
        .executeTakeFirstOrThrow();
      return { open: Number(row.open), unassigned: Number(row.unassigned), dueSoon: Number(row.dueSoon), breached: Number(row.breached) };
    },
    /** Clears personal data from a closed case, its people (when no other case needs them) and its timeline text. */
    async anonymise(tx: CasesTx, c: CaseRow): Promise<void> {
      await tx
        .updateTable('cases')
        .set({
          description: null,
          address: null,
          postcode: c.postcode ? c.postcode.replace(/\s*\w{3}$/, '') : null,
          uprn: null,
          lat: null,
          lng: null,
          person_id: null,
          resident_id: null,
          details: JSON.stringify({}),
          tags: [],
          anonymised_at: sql<Date>`now()`,
        })
        .where('id', '=', c.id)
        .execute();
      await sql`SELECT set_config('borough.anonymising', 'on', true)`.execute(tx);
      await tx.updateTable('case_events').set({ body: null, actor_label: null }).where('case_id', '=', c.id).execute();
      await sql`SELECT set_config('borough.anonymising', 'off', true)`.execute(tx);
      await tx.deleteFrom('case_tasks').where('case_id', '=', c.id).execute();
      if (c.person_id) {
        const stillUsed = await tx.selectFrom('cases').select('id').where('person_id', '=', c.person_id).limit(1).executeTakeFirst();
        if (!stillUsed)
          await tx
            .updateTable('case_people')
            .set({
              name: 'Removed',
              organisation: null,
              email: null,
              phone: null,
              phone_digits: null,
              address: null,
              postcode: null,
              uprn: null,
              resident_id: null,
              anonymised_at: sql<Date>`now()`,
            })
            .where('id', '=', c.person_id)
            .execute();
      }
    },
    /**
     * Reclaims space and refreshes planner statistics. PostgreSQL's autovacuum does this by itself;
     * the embedded database has none, and queue counts stay index-only only on a vacuumed table.
     */
    async tidy(): Promise<void> {
      await sql`VACUUM (ANALYZE) cases, case_people, case_events`.execute(db);
    },
    async attachmentFileIds(caseId: string): Promise<string[]> {
      const rows = await db.selectFrom('case_attachments').select('file_id').where('case_id', '=', caseId).execute();
      return rows.map((r) => r.file_id);
    },
    async deleteAttachments(tx: CasesTx, caseId: string): Promise<void> {
      await tx.deleteFrom('case_attachments').where('case_id', '=', caseId).execute();
    },

    /* ------------------------------------------------------------ JSON API */

    /**
     * Cases for the JSON API, least recently changed first (then by ID), so a client can page through
     * everything changed since a time. Restricted cases, and every case of the types named in
     * `excludeTypes`, are always left out.
     */
    async apiCases(f: {
      team?: string | undefined;
      type?: string | undefined;
      status?: string | undefined;
      /** True for open cases only, false for closed only; both when absent. */
      open?: boolean | undefined;
      updatedSince?: Date | undefined;
      excludeTypes: readonly string[];
      limit: number;
      offset: number;
    }): Promise<{ rows: CaseRow[]; total: number }> {
      const where = (q: CaseQuery): CaseQuery => {
        let out = q.where('cases.restricted', '=', false);
        if (f.excludeTypes.length) out = out.where('cases.type', 'not in', [...f.excludeTypes]);
        if (f.team) out = out.where('cases.team', '=', f.team);
        if (f.type) out = out.where('cases.type', '=', f.type);
        if (f.status) out = out.where('cases.status', '=', f.status);
        if (f.open === true) out = out.where('cases.closed_at', 'is', null);
        if (f.open === false) out = out.where('cases.closed_at', 'is not', null);
        if (f.updatedSince) out = out.where('cases.updated_at', '>=', f.updatedSince);
        return out;
      };
      const rows = await where(db.selectFrom('cases')).selectAll().orderBy('cases.updated_at').orderBy('cases.id').limit(f.limit).offset(f.offset).execute();
      const counted = await where(db.selectFrom('cases'))
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(counted.n) };
    },

    /* ------------------------------------------------------------ webhook outbox */

    /**
     * Takes up to `batch` due webhooks with a lease: each is marked `sending` with its next attempt
     * pushed `leaseMs` ahead, so if this process stops mid-send another picks it up once the lease
     * runs out. A webhook waits while an earlier one for the same case and receiver is unsent, so
     * each receiver hears of a case's changes in order. Leases that ran out on the last attempt fail.
     */
    async claimWebhooks(batch: number, leaseMs: number, maxAttempts: number): Promise<Selectable<CaseTables['case_webhooks']>[]> {
      await sql`
        UPDATE case_webhooks SET status = 'failed', last_error = 'Sending was interrupted too many times'
        WHERE status = 'sending' AND next_attempt_at <= now() AND attempts >= ${maxAttempts}
      `.execute(db);
      const result = await sql<Selectable<CaseTables['case_webhooks']>>`
        UPDATE case_webhooks
        SET status = 'sending', attempts = attempts + 1, next_attempt_at = now() + ${leaseMs}::double precision * interval '1 millisecond'
        WHERE id IN (
          SELECT w.id FROM case_webhooks w
          WHERE w.status IN ('pending', 'sending') AND w.next_attempt_at <= now()
            AND NOT EXISTS (
              SELECT 1 FROM case_webhooks e
              WHERE e.case_id = w.case_id AND e.url = w.url AND e.status IN ('pending', 'sending')
                AND (e.created_at, e.id) < (w.created_at, w.id)
            )
          ORDER BY w.next_attempt_at, w.created_at
          LIMIT ${batch}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING *
      `.execute(db);
      return result.rows;
    },
    /** Records an attempt's outcome, unless the lease was lost to another worker meanwhile. */
    async finishWebhook(
      row: Pick<Selectable<CaseTables['case_webhooks']>, 'id' | 'attempts'>,
      outcome: { status: 'sent' } | { status: 'pending' | 'failed'; error: string; retryInMs: number },
    ): Promise<void> {
      const update =
        outcome.status === 'sent'
          ? { status: outcome.status, last_error: null, sent_at: sql<Date>`now()` }
          : {
              status: outcome.status,
              last_error: outcome.error,
              next_attempt_at: sql<Date>`now() + ${outcome.retryInMs}::double precision * interval '1 millisecond'`,
            };
      await db.updateTable('case_webhooks').set(update).where('id', '=', row.id).where('status', '=', 'sending').where('attempts', '=', row.attempts).execute();
    },
  };
}

export type CasesRepository = ReturnType<typeof createCasesRepository>;
