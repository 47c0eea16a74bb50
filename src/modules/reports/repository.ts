import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { BBox } from '#platform/geo/index';
import type { ReportStatus } from './model/category.js';
import type { ReportTables, ReportsTable, ReportUpdatesTable } from './migrations.js';

export type ReportRow = Selectable<ReportsTable>;
export type ReportUpdateRow = Selectable<ReportUpdatesTable>;
export type ReportsDb = Kysely<ReportTables>;

/** Narrows any executor (the cases transaction a report is written in) to the report tables. */
export const reportsDb = (executor: Kysely<object>): ReportsDb => executor.withTables<ReportTables>();

export interface PublicQuery {
  box?: BBox | undefined;
  categories?: readonly string[] | undefined;
  statuses?: readonly ReportStatus[] | undefined;
  /** Only reports made or updated since. */
  since?: Date | undefined;
  until?: Date | undefined;
  reference?: readonly string[] | undefined;
  /** Only closed (true) or only open (false) reports. */
  closed?: boolean | undefined;
  order?: 'newest' | 'updated' | undefined;
  limit: number;
  offset?: number | undefined;
}

export interface StaffQuery {
  categories?: readonly string[] | undefined;
  statuses?: readonly ReportStatus[] | undefined;
  wardCode?: string | undefined;
  hidden?: boolean | undefined;
  open?: boolean | undefined;
  limit: number;
  offset?: number | undefined;
}

export function createReportsRepository(db: ReportsDb) {
  return {
    db,
    transaction<T>(work: (tx: ReportsDb) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },

    async insertReport(tx: ReportsDb, row: Insertable<ReportsTable>): Promise<ReportRow> {
      return tx.insertInto('reports').values(row).returningAll().executeTakeFirstOrThrow();
    },
    async updateReport(tx: ReportsDb, reference: string, changes: Updateable<ReportsTable>): Promise<void> {
      await tx
        .updateTable('reports')
        .set({ ...changes, updated_at: sql<Date>`now()` })
        .where('reference', '=', reference)
        .execute();
    },
    byReference(executor: ReportsDb, reference: string): Promise<ReportRow | undefined> {
      return executor.selectFrom('reports').selectAll().where('reference', '=', reference).executeTakeFirst();
    },
    byCaseId(executor: ReportsDb, caseId: string): Promise<ReportRow | undefined> {
      return executor.selectFrom('reports').selectAll().where('case_id', '=', caseId).executeTakeFirst();
    },
    byToken(token: string): Promise<ReportRow | undefined> {
      return db.selectFrom('reports').selectAll().where('token', '=', token).executeTakeFirst();
    },

    /** Open reports in a box, newest first: the duplicate check and the asset states read these. */
    openInBox(box: BBox, opts: { category?: string | undefined; limit: number }): Promise<ReportRow[]> {
      let query = db
        .selectFrom('reports')
        .selectAll()
        .where('closed', '=', false)
        .where('lat', '>=', box.south)
        .where('lat', '<=', box.north)
        .where('lng', '>=', box.west)
        .where('lng', '<=', box.east);
      if (opts.category) query = query.where('category', '=', opts.category);
      return query.orderBy('created_at', 'desc').limit(opts.limit).execute();
    },
    /** The newest open report on each of the assets. */
    async openForAssets(assetIds: readonly string[]): Promise<Map<string, ReportRow>> {
      if (assetIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('reports')
        .selectAll()
        .where('closed', '=', false)
        .where('asset_id', '=', sql<string>`ANY(${sql.val([...assetIds])}::text[])`)
        .orderBy('created_at', 'desc')
        .execute();
      const byAsset = new Map<string, ReportRow>();
      for (const row of rows) if (row.asset_id && !byAsset.has(row.asset_id)) byAsset.set(row.asset_id, row);
      return byAsset;
    },
    async otherOpenOnAsset(tx: ReportsDb, assetId: string, except: string): Promise<boolean> {
      const row = await tx
        .selectFrom('reports')
        .select('reference')
        .where('asset_id', '=', assetId)
        .where('closed', '=', false)
        .where('reference', '<>', except)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Public, not hidden reports for the map, the list, the feed and Open311. */
    publicReports(query: PublicQuery): Promise<ReportRow[]> {
      let q = db.selectFrom('reports').selectAll().where('public', '=', true);
      const { box } = query;
      if (box)
        q = q.where('public_lat', '>=', box.south).where('public_lat', '<=', box.north).where('public_lng', '>=', box.west).where('public_lng', '<=', box.east);
      if (query.categories?.length) q = q.where('category', 'in', [...query.categories]);
      if (query.statuses?.length) q = q.where('status', 'in', [...query.statuses]);
      if (query.reference?.length) q = q.where('reference', 'in', [...query.reference]);
      if (query.closed !== undefined) q = q.where('closed', '=', query.closed);
      const column = query.order === 'updated' ? 'updated_at' : 'created_at';
      if (query.since) q = q.where(column, '>=', query.since);
      if (query.until) q = q.where(column, '<=', query.until);
      return q
        .orderBy(column, 'desc')
        .orderBy('reference')
        .limit(query.limit)
        .offset(query.offset ?? 0)
        .execute();
    },

    /** Every report for staff, newest first, with how many photos wait for approval. */
    async staffReports(query: StaffQuery): Promise<{ rows: (ReportRow & { pending_photos: string; followers: string })[]; total: number }> {
      let q = db.selectFrom('reports');
      if (query.categories?.length) q = q.where('category', 'in', [...query.categories]);
      if (query.statuses?.length) q = q.where('status', 'in', [...query.statuses]);
      if (query.wardCode) q = q.where('ward_code', '=', query.wardCode);
      if (query.hidden !== undefined) q = q.where('hidden', '=', query.hidden);
      if (query.open !== undefined) q = q.where('closed', '=', !query.open);
      const [rows, count] = await Promise.all([
        q
          .selectAll('reports')
          .select((eb) =>
            eb
              .selectFrom('report_photos')
              .select(eb.fn.countAll<string>().as('n'))
              .whereRef('report_photos.reference', '=', 'reports.reference')
              .where('report_photos.state', '=', 'pending')
              .as('pending_photos'),
          )
          .select((eb) =>
            eb
              .selectFrom('report_followers')
              .select(eb.fn.countAll<string>().as('n'))
              .whereRef('report_followers.reference', '=', 'reports.reference')
              .as('followers'),
          )
          .orderBy('created_at', 'desc')
          .orderBy('reference')
          .limit(query.limit)
          .offset(query.offset ?? 0)
          .execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return {
        rows: rows.map((row) => ({ ...row, pending_photos: String(row.pending_photos ?? 0), followers: String(row.followers ?? 0) })),
        total: Number(count.n),
      };
    },

    /** The newest public words on each report, for lists. */
    async latestNotes(references: readonly string[]): Promise<Map<string, string>> {
      if (references.length === 0) return new Map();
      const rows = await db
        .selectFrom('report_updates')
        .distinctOn('reference')
        .select(['reference', 'text'])
        .where('reference', 'in', [...references])
        .where('text', 'is not', null)
        .where('hidden', '=', false)
        .orderBy('reference')
        .orderBy('id', 'desc')
        .execute();
      return new Map(rows.map((row) => [row.reference, row.text ?? '']));
    },
    /** The first approved photo of each report, for lists. */
    async firstApprovedPhotos(references: readonly string[]): Promise<Map<string, string>> {
      if (references.length === 0) return new Map();
      const rows = await db
        .selectFrom('report_photos')
        .distinctOn('reference')
        .select(['reference', 'id'])
        .where('reference', 'in', [...references])
        .where('state', '=', 'approved')
        .orderBy('reference')
        .orderBy('position')
        .execute();
      return new Map(rows.map((row) => [row.reference, row.id]));
    },

    addUpdate(tx: ReportsDb, update: Insertable<ReportUpdatesTable>): Promise<ReportUpdateRow> {
      return tx.insertInto('report_updates').values(update).returningAll().executeTakeFirstOrThrow();
    },
    updates(reference: string): Promise<ReportUpdateRow[]> {
      return db.selectFrom('report_updates').selectAll().where('reference', '=', reference).orderBy('id').execute();
    },
    /** Public updates on public reports since a time, oldest first (Open311 servicerequestupdates). */
    publicUpdatesSince(since: Date, until: Date | undefined, limit: number): Promise<(ReportUpdateRow & { category: string })[]> {
      let q = db
        .selectFrom('report_updates as u')
        .innerJoin('reports as r', 'r.reference', 'u.reference')
        .selectAll('u')
        .select('r.category')
        .where('r.public', '=', true)
        .where('u.hidden', '=', false)
        .where('u.created_at', '>=', since);
      if (until) q = q.where('u.created_at', '<=', until);
      return q.orderBy('u.created_at').orderBy('u.id').limit(limit).execute();
    },

    async stash(tx: ReportsDb, id: string): Promise<void> {
      await tx.insertInto('report_photo_stash').values({ id }).execute();
    },
    /** Which of these photos are still kept for a report being written. */
    async stashed(ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0 || !ids.every((id) => /^[0-9a-f-]{36}$/i.test(id))) return [];
      const rows = await db
        .selectFrom('report_photo_stash')
        .select('id')
        .where('id', 'in', [...ids])
        .execute();
      return rows.map((row) => row.id);
    },
    async unstash(tx: ReportsDb, ids: readonly string[]): Promise<void> {
      if (ids.length > 0)
        await tx
          .deleteFrom('report_photo_stash')
          .where('id', 'in', [...ids])
          .execute();
    },
    /** Kept photos older than the cutoff: reports never sent. */
    staleStash(before: Date, limit: number): Promise<{ id: string }[]> {
      return db.selectFrom('report_photo_stash').select('id').where('created_at', '<', before).limit(limit).execute();
    },
    addPhoto(tx: ReportsDb, photo: { id: string; reference: string; position: number }): Promise<unknown> {
      return tx.insertInto('report_photos').values(photo).execute();
    },
    photos(reference: string) {
      return db.selectFrom('report_photos').selectAll().where('reference', '=', reference).orderBy('position').execute();
    },
    photo(id: string) {
      return db.selectFrom('report_photos').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async setPhotoState(tx: ReportsDb, id: string, state: 'pending' | 'approved' | 'hidden'): Promise<string | undefined> {
      const row = await tx.updateTable('report_photos').set({ state }).where('id', '=', id).returning('reference').executeTakeFirst();
      return row?.reference;
    },

    async addFollower(tx: ReportsDb, reference: string, email: string): Promise<string> {
      await tx
        .insertInto('report_followers')
        .values({ reference, email })
        .onConflict((oc) => oc.columns(['reference', 'email']).doNothing())
        .execute();
      const row = await tx.selectFrom('report_followers').select('id').where('reference', '=', reference).where('email', '=', email).executeTakeFirstOrThrow();
      return row.id;
    },
    followers(tx: ReportsDb, reference: string) {
      return tx.selectFrom('report_followers').select(['id', 'email']).where('reference', '=', reference).execute();
    },
    followerCount(reference: string): Promise<number> {
      return db
        .selectFrom('report_followers')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('reference', '=', reference)
        .executeTakeFirstOrThrow()
        .then((row) => Number(row.n));
    },
    async removeFollower(id: string): Promise<boolean> {
      const result = await db.deleteFrom('report_followers').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** A duplicate's followers follow the report it duplicates; anyone already following that one is kept once. */
    async moveFollowers(tx: ReportsDb, from: string, to: string): Promise<number> {
      const moved = await tx
        .insertInto('report_followers')
        .columns(['reference', 'email'])
        .expression((eb) =>
          eb
            .selectFrom('report_followers')
            .select([sql.val(to).as('reference'), 'email'])
            .where('reference', '=', from),
        )
        .onConflict((oc) => oc.columns(['reference', 'email']).doNothing())
        .executeTakeFirst();
      await tx.deleteFrom('report_followers').where('reference', '=', from).execute();
      return Number(moved.numInsertedOrUpdatedRows ?? 0);
    },

    async addAlert(tx: ReportsDb, alert: Insertable<ReportTables['report_alerts']>): Promise<string> {
      const existing = await tx
        .selectFrom('report_alerts')
        .select('id')
        .where('email', '=', alert.email)
        .where('kind', '=', alert.kind)
        .where((eb) =>
          alert.kind === 'ward'
            ? eb('ward_code', '=', alert.ward_code ?? '')
            : eb.and([eb('lat', '=', alert.lat ?? 0), eb('lng', '=', alert.lng ?? 0), eb('radius_m', '=', alert.radius_m ?? 0)]),
        )
        .executeTakeFirst();
      if (existing) return existing.id;
      const row = await tx.insertInto('report_alerts').values(alert).returning('id').executeTakeFirstOrThrow();
      return row.id;
    },
    async removeAlert(id: string): Promise<boolean> {
      const result = await db.deleteFrom('report_alerts').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Alerts that may cover a point: every alert for its ward and area alerts whose circle's box holds it (the caller measures the distance). */
    alertsFor(tx: ReportsDb, lat: number, lng: number, wardCode: string | null) {
      // 5 km, the largest radius, in degrees of latitude and (at British latitudes) longitude.
      const dLat = 0.046;
      const dLng = 0.08;
      return tx
        .selectFrom('report_alerts')
        .selectAll()
        .where((eb) =>
          eb.or([
            ...(wardCode ? [eb.and([eb('kind', '=', 'ward'), eb('ward_code', '=', wardCode)])] : []),
            eb.and([
              eb('kind', '=', 'area'),
              eb('lat', '>=', lat - dLat),
              eb('lat', '<=', lat + dLat),
              eb('lng', '>=', lng - dLng),
              eb('lng', '<=', lng + dLng),
            ]),
          ]),
        )
        .execute();
    },
  };
}

export type ReportsRepository = ReturnType<typeof createReportsRepository>;
