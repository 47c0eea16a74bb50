import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DeliveryStatus, FormTables } from './migrations.js';

export type FormsTx = Transaction<FormTables>;
/** The platform's audit log and outbox take any executor; a forms transaction is one. */
export const asDb = (tx: FormsTx): Kysely<object> => tx as unknown as Kysely<object>;
export type DraftRow = Selectable<FormTables['form_drafts']>;
export type SubmissionRow = Selectable<FormTables['form_submissions']>;
export type DeliveryRow = Selectable<FormTables['form_deliveries']>;
export type VersionRow = Selectable<FormTables['form_versions']>;

export interface NewSubmission {
  reference: string;
  slug: string;
  version: number;
  draftId: string;
  answers: Record<string, unknown>;
  summary: unknown;
  submittedBy: 'resident' | 'anonymous' | 'staff';
  residentId: string | null;
  staffId: string | null;
  channel: string;
  contactEmail: string | null;
  startedAt: Date;
}

export interface SubmissionFilters {
  slug?: string | undefined;
  reference?: string | undefined;
  /** Submitted at or after this moment. */
  submittedFrom?: Date | undefined;
  /** Submitted before this moment. */
  submittedBefore?: Date | undefined;
  deliveryStatus?: DeliveryStatus | undefined;
  limit?: number;
  offset?: number;
}

export interface FunnelRow {
  version: number;
  started: number;
  completed: number;
  medianSeconds: number | null;
  pages: Record<string, number>;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  return e?.code === '23505' && (e.constraint === constraint || (typeof e.message === 'string' && e.message.includes(constraint)));
}

/** The only code that touches the forms tables. */
export function createFormsRepository(database: Kysely<object>) {
  const db = database.withTables<FormTables>();
  const on = (tx?: FormsTx): Kysely<FormTables> => tx ?? db;

  return {
    transaction<T>(work: (tx: FormsTx) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },

    /* ------------------------------------------------------------ definitions */

    async liveVersion(slug: string): Promise<{ version: number; title: string } | undefined> {
      const row = await db.selectFrom('forms').select(['live_version', 'title']).where('slug', '=', slug).executeTakeFirst();
      return row ? { version: row.live_version, title: row.title } : undefined;
    },
    async version(slug: string, version: number): Promise<VersionRow | undefined> {
      return db.selectFrom('form_versions').selectAll().where('slug', '=', slug).where('version', '=', version).executeTakeFirst();
    },
    async versions(slug: string): Promise<Omit<VersionRow, 'definition'>[]> {
      return db
        .selectFrom('form_versions')
        .select(['slug', 'version', 'published_at', 'published_by', 'note'])
        .where('slug', '=', slug)
        .orderBy('version', 'desc')
        .execute();
    },
    async listForms(): Promise<{ slug: string; form_id: string; title: string; live_version: number }[]> {
      return db.selectFrom('forms').select(['slug', 'form_id', 'title', 'live_version']).orderBy('title').execute();
    },
    async formIdOwner(formId: string): Promise<string | undefined> {
      return (await db.selectFrom('forms').select('slug').where('form_id', '=', formId).executeTakeFirst())?.slug;
    },
    /** Adds a version and makes it live. Versions are numbered in order under a row lock on the form. */
    async publish(
      tx: FormsTx,
      input: { slug: string; formId: string; title: string; definition: unknown; by: string | null; note: string | null },
    ): Promise<number> {
      const existing = await tx.selectFrom('forms').select('live_version').where('slug', '=', input.slug).forUpdate().executeTakeFirst();
      const latest = await tx
        .selectFrom('form_versions')
        .select((eb) => eb.fn.max('version').as('latest'))
        .where('slug', '=', input.slug)
        .executeTakeFirst();
      const version = Number(latest?.latest ?? 0) + 1;
      if (!existing) await tx.insertInto('forms').values({ slug: input.slug, form_id: input.formId, title: input.title, live_version: version }).execute();
      await tx
        .insertInto('form_versions')
        .values({ slug: input.slug, version, definition: JSON.stringify(input.definition), published_by: input.by, note: input.note })
        .execute();
      await tx.updateTable('forms').set({ live_version: version, title: input.title }).where('slug', '=', input.slug).execute();
      return version;
    },

    /* ------------------------------------------------------------ drafts */

    async createDraft(input: {
      slug: string;
      version: number;
      residentId: string | null;
      staffId: string | null;
      channel: string;
      answers: Record<string, unknown>;
      expiresAt: Date;
    }): Promise<DraftRow> {
      return db.transaction().execute(async (tx) => {
        const draft = await tx
          .insertInto('form_drafts')
          .values({
            slug: input.slug,
            version: input.version,
            resident_id: input.residentId,
            staff_id: input.staffId,
            channel: input.channel,
            answers: JSON.stringify(input.answers),
            pages_done: [],
            expires_at: input.expiresAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await tx.insertInto('form_journeys').values({ draft_id: draft.id, slug: input.slug, version: input.version, started_at: draft.created_at }).execute();
        return draft;
      });
    },
    /** The draft, and whether it has been sent, in one round trip: every form page reads both. */
    async draft(id: string): Promise<(DraftRow & { submitted: boolean }) | undefined> {
      return db
        .selectFrom('form_drafts')
        .selectAll()
        .select(sql<boolean>`EXISTS (SELECT 1 FROM form_submissions WHERE form_submissions.draft_id = form_drafts.id)`.as('submitted'))
        .where('id', '=', id)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst();
    },
    async saveDraft(id: string, patch: { answers: Record<string, unknown>; pagesDone: string[]; expiresAt: Date; reached?: string }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('form_drafts')
          .set({ answers: JSON.stringify(patch.answers), pages_done: patch.pagesDone, expires_at: patch.expiresAt, updated_at: sql<Date>`now()` })
          .where('id', '=', id)
          .execute();
        if (patch.reached !== undefined)
          await tx
            .updateTable('form_journeys')
            .set({ pages_reached: sql<string[]>`array_append(pages_reached, ${patch.reached}::text)` })
            .where('draft_id', '=', id)
            .where(sql<boolean>`NOT (${patch.reached}::text = ANY(pages_reached))`)
            .execute();
      });
    },
    async setResumeEmail(id: string, email: string): Promise<void> {
      await db.updateTable('form_drafts').set({ resume_email: email }).where('id', '=', id).execute();
    },
    async claimDraft(id: string, residentId: string): Promise<void> {
      await db.updateTable('form_drafts').set({ resident_id: residentId }).where('id', '=', id).where('resident_id', 'is', null).execute();
    },
    async draftsForResident(residentId: string): Promise<(DraftRow & { title: string })[]> {
      return db
        .selectFrom('form_drafts')
        .innerJoin('forms', 'forms.slug', 'form_drafts.slug')
        .selectAll('form_drafts')
        .select('forms.title')
        .where('form_drafts.resident_id', '=', residentId)
        .where('form_drafts.expires_at', '>', sql<Date>`now()`)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('form_submissions').select('id').whereRef('form_submissions.draft_id', '=', 'form_drafts.id'))),
        )
        .orderBy('form_drafts.updated_at', 'desc')
        .execute();
    },
    async deleteDraftsOfResident(residentId: string): Promise<void> {
      await db.deleteFrom('form_drafts').where('resident_id', '=', residentId).execute();
    },
    /** Drafts past their expiry, and drafts already submitted, are removed. */
    async purgeDrafts(): Promise<number> {
      const result = await db
        .deleteFrom('form_drafts')
        .where((eb) =>
          eb.or([
            eb('expires_at', '<=', sql<Date>`now()`),
            eb.exists(eb.selectFrom('form_submissions').select('id').whereRef('form_submissions.draft_id', '=', 'form_drafts.id')),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /* ------------------------------------------------------------ submissions */

    async submissionForDraft(draftId: string): Promise<SubmissionRow | undefined> {
      return db.selectFrom('form_submissions').selectAll().where('draft_id', '=', draftId).executeTakeFirst();
    },
    /**
     * Inserts a submission, or finds the one already made from the same draft. A reference that
     * clashes with another submission's is reported so the caller can draw another.
     */
    async insertSubmission(tx: FormsTx, s: NewSubmission): Promise<{ row: SubmissionRow; created: boolean } | 'reference-taken'> {
      try {
        await sql`SAVEPOINT submission_insert`.execute(tx);
        const row = await tx
          .insertInto('form_submissions')
          .values({
            reference: s.reference,
            slug: s.slug,
            version: s.version,
            draft_id: s.draftId,
            answers: JSON.stringify(s.answers),
            summary: JSON.stringify(s.summary),
            submitted_by: s.submittedBy,
            resident_id: s.residentId,
            staff_id: s.staffId,
            channel: s.channel,
            contact_email: s.contactEmail,
            started_at: s.startedAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await sql`RELEASE SAVEPOINT submission_insert`.execute(tx);
        return { row, created: true };
      } catch (error) {
        await sql`ROLLBACK TO SAVEPOINT submission_insert`.execute(tx);
        if (isUniqueViolation(error, 'form_submissions_draft_id_key')) {
          const row = await tx.selectFrom('form_submissions').selectAll().where('draft_id', '=', s.draftId).executeTakeFirstOrThrow();
          return { row, created: false };
        }
        if (isUniqueViolation(error, 'form_submissions_reference_key')) return 'reference-taken';
        throw error;
      }
    },
    async completeJourney(tx: FormsTx, draftId: string): Promise<void> {
      await tx
        .updateTable('form_journeys')
        .set({ completed_at: sql<Date>`now()` })
        .where('draft_id', '=', draftId)
        .where('completed_at', 'is', null)
        .execute();
    },
    async submission(id: string): Promise<SubmissionRow | undefined> {
      return db.selectFrom('form_submissions').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async submissionByReference(reference: string): Promise<SubmissionRow | undefined> {
      return db.selectFrom('form_submissions').selectAll().where('reference', '=', reference).executeTakeFirst();
    },
    async submissionsForResident(residentId: string): Promise<(SubmissionRow & { title: string })[]> {
      return db
        .selectFrom('form_submissions')
        .innerJoin('forms', 'forms.slug', 'form_submissions.slug')
        .selectAll('form_submissions')
        .select('forms.title')
        .where('form_submissions.resident_id', '=', residentId)
        .orderBy('form_submissions.submitted_at', 'desc')
        .execute();
    },
    async detachResident(residentId: string): Promise<void> {
      await db.updateTable('form_submissions').set({ resident_id: null, contact_email: null }).where('resident_id', '=', residentId).execute();
    },
    async listSubmissions(filters: SubmissionFilters): Promise<{ rows: (SubmissionRow & { delivery_status: string | null })[]; total: number }> {
      let query = db.selectFrom('form_submissions');
      if (filters.slug) query = query.where('form_submissions.slug', '=', filters.slug);
      if (filters.reference) query = query.where('form_submissions.reference', '=', filters.reference.toUpperCase());
      if (filters.submittedFrom) query = query.where('form_submissions.submitted_at', '>=', filters.submittedFrom);
      if (filters.submittedBefore) query = query.where('form_submissions.submitted_at', '<', filters.submittedBefore);
      // The worst status among a submission's deliveries: failed, then waiting, then delivered.
      const worst = sql<string | null>`(
        SELECT CASE WHEN bool_or(d.status = 'failed') THEN 'failed' WHEN bool_or(d.status IN ('pending', 'sending')) THEN 'pending' WHEN count(*) > 0 THEN 'delivered' END
        FROM form_deliveries d WHERE d.submission_id = form_submissions.id
      )`;
      const filtered = filters.deliveryStatus ? query.where(worst, '=', filters.deliveryStatus === 'sending' ? 'pending' : filters.deliveryStatus) : query;
      const total = await filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await filtered
        .selectAll('form_submissions')
        .select(worst.as('delivery_status'))
        .orderBy('submitted_at', 'desc')
        .limit(filters.limit ?? 50)
        .offset(filters.offset ?? 0)
        .execute();
      return { rows, total: Number(total.n) };
    },

    /* ------------------------------------------------------------ deliveries */

    async addDeliveries(
      tx: FormsTx,
      submissionId: string,
      targets: { name: string; type: 'webhook' | 'email' | 'case'; settings: Record<string, unknown> }[],
    ): Promise<void> {
      if (targets.length === 0) return;
      await tx
        .insertInto('form_deliveries')
        .values(targets.map((t) => ({ submission_id: submissionId, name: t.name, type: t.type, settings: JSON.stringify(t.settings) })))
        .execute();
    },
    async deliveriesOf(submissionId: string): Promise<DeliveryRow[]> {
      return db.selectFrom('form_deliveries').selectAll().where('submission_id', '=', submissionId).orderBy('name').execute();
    },
    async delivery(id: string): Promise<DeliveryRow | undefined> {
      return db.selectFrom('form_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async failedDeliveries(limit = 100): Promise<(DeliveryRow & { reference: string; slug: string })[]> {
      return db
        .selectFrom('form_deliveries')
        .innerJoin('form_submissions', 'form_submissions.id', 'form_deliveries.submission_id')
        .selectAll('form_deliveries')
        .select(['form_submissions.reference', 'form_submissions.slug'])
        .where('form_deliveries.status', '=', 'failed')
        .orderBy('form_deliveries.created_at', 'desc')
        .limit(limit)
        .execute();
    },
    /** Takes due deliveries for this worker, leasing them so a vanished worker's come back. */
    async claimDeliveries(batch: number, leaseMs: number, maxAttempts: number): Promise<DeliveryRow[]> {
      await sql`
        UPDATE form_deliveries SET status = 'failed', last_error = 'Delivery was interrupted too many times'
        WHERE status = 'sending' AND next_attempt_at <= now() AND attempts >= ${maxAttempts}
      `.execute(db);
      const result = await sql<DeliveryRow>`
        UPDATE form_deliveries
        SET status = 'sending', attempts = attempts + 1, next_attempt_at = now() + ${leaseMs}::double precision * interval '1 millisecond'
        WHERE id IN (
          SELECT id FROM form_deliveries
          WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
          ORDER BY next_attempt_at, created_at
          LIMIT ${batch}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING *
      `.execute(db);
      return result.rows;
    },
    async finishDelivery(
      row: DeliveryRow,
      outcome: { status: 'delivered'; detail: string } | { status: 'pending' | 'failed'; error: string; retryInMs: number },
      tx?: FormsTx,
    ): Promise<void> {
      const update =
        outcome.status === 'delivered'
          ? { status: outcome.status, detail: outcome.detail, last_error: null, delivered_at: sql<Date>`now()` }
          : {
              status: outcome.status,
              last_error: outcome.error,
              next_attempt_at: sql<Date>`now() + ${outcome.retryInMs}::double precision * interval '1 millisecond'`,
            };
      await on(tx)
        .updateTable('form_deliveries')
        .set(update)
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .where('attempts', '=', row.attempts)
        .execute();
    },
    async retryDelivery(id: string): Promise<boolean> {
      const result = await db
        .updateTable('form_deliveries')
        .set({ status: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /* ------------------------------------------------------------ funnel */

    async funnel(slug: string): Promise<FunnelRow[]> {
      const totals = await sql<{ version: number; started: number; completed: number; median_seconds: number | null }>`
        SELECT version, count(*)::int AS started, count(completed_at)::int AS completed,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS median_seconds
        FROM form_journeys WHERE slug = ${slug} GROUP BY version ORDER BY version DESC
      `.execute(db);
      const pages = await sql<{ version: number; page: string; reached: number }>`
        SELECT version, page, count(*)::int AS reached
        FROM form_journeys, unnest(pages_reached) AS page WHERE slug = ${slug} GROUP BY version, page
      `.execute(db);
      return totals.rows.map((row) => ({
        version: row.version,
        started: row.started,
        completed: row.completed,
        medianSeconds: row.median_seconds === null ? null : Math.round(Number(row.median_seconds)),
        pages: Object.fromEntries(pages.rows.filter((p) => p.version === row.version).map((p) => [p.page, p.reached])),
      }));
    },
  };
}

export type FormsRepository = ReturnType<typeof createFormsRepository>;
