import { sql, type Kysely, type Selectable } from 'kysely';
import type { LinkageModel } from './linkage/index.js';
import type { RowProblemJson, SignpostsLinksTable, SignpostsLoadsTable, SignpostsRecordsTable, SignpostsTables } from './migrations.js';
import type { Source, SourceRecord } from './model/sources.js';

export type SignpostsDb = Kysely<SignpostsTables>;
export type RecordRow = Selectable<SignpostsRecordsTable>;
export type LoadRow = Selectable<SignpostsLoadsTable>;
export type LinkRow = Selectable<SignpostsLinksTable>;
/** A stored record of a source as a load compares it: its id, content hash and person. */
export interface ExistingRecord {
  id: number;
  hash: string;
  personId: number;
}
export type EventRow = Selectable<SignpostsTables['signposts_events']>;

/** Rows written per statement. */
const ROWS_PER_STATEMENT = 2000;
/**
 * Inserts rows sent as one JSON parameter and unpacked by the database: far quicker than binding every value of
 * thousands of rows, and inside any parameter limit. The rows' keys are the columns.
 */
function insertJson(table: 'signposts_records' | 'signposts_events', rows: readonly Record<string, unknown>[]) {
  const columns = sql.join(Object.keys(rows[0] ?? {}).map((c) => sql.ref(c)));
  return sql`INSERT INTO ${sql.table(table)} (${columns}) SELECT ${columns} FROM jsonb_populate_recordset(NULL::${sql.table(table)}, ${JSON.stringify(rows)}::jsonb)`;
}

const LINKAGE_COLUMNS = [
  'id',
  'source_code',
  'record_id',
  'person_id',
  'forenames',
  'surname',
  'previous_names',
  'aliases',
  'dob',
  'gender',
  'address',
  'postcode',
  'identifiers',
] as const;
/** The columns the matcher needs, for every record at once. */
export type LinkageRow = Pick<RecordRow, (typeof LINKAGE_COLUMNS)[number]>;

/** A pair's key with the smaller record first, as the table keeps it. */
export const pairKey = (a: number, b: number): [number, number] => (a < b ? [a, b] : [b, a]);

export function createSignpostsRepository(db: SignpostsDb) {
  const reviewable = (sources: readonly string[]) =>
    db
      .selectFrom('signposts_links as l')
      .innerJoin('signposts_records as a', 'a.id', 'l.record_a')
      .innerJoin('signposts_records as b', 'b.id', 'l.record_b')
      .where('l.status', '=', 'review')
      .where('a.source_code', 'in', sources)
      .where('b.source_code', 'in', sources);
  return {
    db,
    transaction<T>(work: (tx: SignpostsDb) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },

    async syncSources(sources: readonly Source[]): Promise<void> {
      for (const s of sources) {
        const values = {
          agency: s.agency,
          system: s.system,
          owner: s.owner,
          agreement: s.agreement,
          lawful_basis: s.lawfulBasis,
          refresh_hours: s.refreshHours,
          retention_days: s.retentionDays,
          roles: JSON.stringify(s.roles),
        };
        await db
          .insertInto('signposts_sources')
          .values({ code: s.code, ...values })
          .onConflict((oc) => oc.column('code').doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
          .execute();
      }
    },

    /** Holds the source until the transaction ends, so that two loads of one source write one after the other. */
    async lockSource(tx: SignpostsDb, source: string): Promise<void> {
      await tx.selectFrom('signposts_sources').select('code').where('code', '=', source).forUpdate().execute();
    },

    lastLoad(tx: SignpostsDb, source: string): Promise<LoadRow | undefined> {
      return tx
        .selectFrom('signposts_loads')
        .selectAll()
        .where('source_code', '=', source)
        .where('status', 'in', ['loaded', 'unchanged'])
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    async insertLoad(tx: SignpostsDb, load: Omit<LoadRow, 'id' | 'finished_at' | 'problems'> & { problems: RowProblemJson[] }): Promise<number> {
      const row = await tx
        .insertInto('signposts_loads')
        .values({ ...load, problems: JSON.stringify(load.problems) })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async finishLoad(tx: SignpostsDb, id: number, counts: { added: number; changed: number }): Promise<void> {
      await tx
        .updateTable('signposts_loads')
        .set({ ...counts, finished_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    load(id: number): Promise<LoadRow | undefined> {
      return db.selectFrom('signposts_loads').selectAll().where('id', '=', id).executeTakeFirst();
    },

    recentLoads(limit: number): Promise<LoadRow[]> {
      return db.selectFrom('signposts_loads').selectAll().orderBy('id', 'desc').limit(limit).execute();
    },

    /** Records of a source by their source ids, with their content hash to spot the unchanged. */
    async existing(tx: SignpostsDb, source: string, recordIds: readonly string[]): Promise<Map<string, ExistingRecord>> {
      const found = new Map<string, ExistingRecord>();
      for (let i = 0; i < recordIds.length; i += 5000) {
        const rows = await tx
          .selectFrom('signposts_records')
          .select(['id', 'record_id', 'content_hash', 'person_id'])
          .where('source_code', '=', source)
          .where('record_id', 'in', recordIds.slice(i, i + 5000))
          .execute();
        for (const r of rows) found.set(r.record_id, { id: r.id, hash: r.content_hash, personId: r.person_id });
      }
      return found;
    },

    async newPeople(tx: SignpostsDb, count: number): Promise<number[]> {
      if (count === 0) return [];
      const rows = await sql<{
        id: number | string;
      }>`INSERT INTO signposts_people (created_at) SELECT now() FROM generate_series(1, ${count}) RETURNING id`.execute(tx);
      return rows.rows.map((r) => Number(r.id));
    },

    /** Writes a load's new and changed records and replaces their events; returns each record's id, in order. */
    async saveRecords(
      tx: SignpostsDb,
      source: string,
      loadId: number,
      items: readonly { record: SourceRecord; hash: string; personId: number; existingId?: number }[],
    ): Promise<number[]> {
      const valuesOf = (record: SourceRecord, hash: string) => {
        const p = record.person;
        return {
          forenames: p.forenames,
          surname: p.surname,
          previous_names: p.previousNames,
          aliases: p.aliases,
          dob: p.dob,
          gender: p.gender,
          address: p.address,
          postcode: p.postcode,
          uprn: p.uprn,
          identifiers: p.identifiers,
          household: record.household,
          parent_record_id: record.parentRecordId,
          content_hash: hash,
          last_load_id: loadId,
        };
      };
      const ids: number[] = items.map((item) => item.existingId ?? 0);
      const changed = items.flatMap((item) => (item.existingId ? [item.existingId] : []));
      for (const item of items) {
        if (!item.existingId) continue;
        const values = valuesOf(item.record, item.hash);
        // Bound one at a time, the JSON columns go as JSON text.
        await tx
          .updateTable('signposts_records')
          .set({
            ...values,
            previous_names: JSON.stringify(values.previous_names),
            aliases: JSON.stringify(values.aliases),
            identifiers: JSON.stringify(values.identifiers),
            last_seen_at: sql<Date>`now()`,
          })
          .where('id', '=', item.existingId)
          .execute();
      }
      for (let i = 0; i < changed.length; i += ROWS_PER_STATEMENT)
        await tx
          .deleteFrom('signposts_events')
          .where('record_pk', 'in', changed.slice(i, i + ROWS_PER_STATEMENT))
          .execute();
      const added = items.flatMap((item, at) => (item.existingId ? [] : [at]));
      for (let i = 0; i < added.length; i += ROWS_PER_STATEMENT) {
        const batch = added.slice(i, i + ROWS_PER_STATEMENT);
        const rows = batch.map((at) => {
          const item = items[at] as (typeof items)[number];
          return { ...valuesOf(item.record, item.hash), source_code: source, record_id: item.record.recordId, person_id: item.personId };
        });
        const inserted = await sql<{ id: number | string; record_id: string }>`${insertJson('signposts_records', rows)} RETURNING id, record_id`.execute(tx);
        // A source's record ids are unique, so each returned row finds its place by its record id.
        const idOf = new Map(inserted.rows.map((r) => [r.record_id, Number(r.id)]));
        for (const at of batch) ids[at] = idOf.get((items[at] as (typeof items)[number]).record.recordId) as number;
      }
      const events = items.flatMap((item, at) =>
        item.record.events.map((e) => ({
          record_pk: ids[at] as number,
          event_id: e.eventId,
          type: e.type,
          starts_on: e.start,
          ends_on: e.end,
          summary: e.summary,
          status: e.status,
          professional: e.professional,
          contact: e.contact,
        })),
      );
      for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) await insertJson('signposts_events', events.slice(i, i + ROWS_PER_STATEMENT)).execute(tx);
      return ids;
    },

    /** Marks records as present in a load without rewriting them. */
    async touch(tx: SignpostsDb, ids: readonly number[], loadId: number): Promise<void> {
      for (let i = 0; i < ids.length; i += 5000)
        await tx
          .updateTable('signposts_records')
          .set({ last_load_id: loadId, last_seen_at: sql<Date>`now()` })
          .where('id', 'in', ids.slice(i, i + 5000))
          .execute();
    },

    async touchLoad(tx: SignpostsDb, previousLoad: number, loadId: number): Promise<void> {
      await tx
        .updateTable('signposts_records')
        .set({ last_load_id: loadId, last_seen_at: sql<Date>`now()` })
        .where('last_load_id', '=', previousLoad)
        .execute();
    },

    async movePeople(tx: SignpostsDb, moves: ReadonlyMap<number, number>): Promise<void> {
      const byPerson = new Map<number, number[]>();
      for (const [record, person] of moves) byPerson.set(person, [...(byPerson.get(person) ?? []), record]);
      for (const [person, records] of byPerson)
        for (let i = 0; i < records.length; i += 5000)
          await tx
            .updateTable('signposts_records')
            .set({ person_id: person })
            .where('id', 'in', records.slice(i, i + 5000))
            .execute();
    },

    allForLinkage(executor: SignpostsDb = db): Promise<LinkageRow[]> {
      return executor.selectFrom('signposts_records').select(LINKAGE_COLUMNS).orderBy('id').execute();
    },

    recordsOfPeople(personIds: readonly number[]): Promise<RecordRow[]> {
      if (personIds.length === 0) return Promise.resolve([]);
      return db.selectFrom('signposts_records').selectAll().where('person_id', 'in', personIds).orderBy('source_code').orderBy('id').execute();
    },

    recordsByIds(ids: readonly number[]): Promise<RecordRow[]> {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('signposts_records').selectAll().where('id', 'in', ids).execute();
    },

    eventsOf(recordIds: readonly number[]): Promise<EventRow[]> {
      if (recordIds.length === 0) return Promise.resolve([]);
      return db.selectFrom('signposts_events').selectAll().where('record_pk', 'in', recordIds).orderBy('starts_on', 'desc').execute();
    },

    /** Records sharing a household with, or named as parent of or by, the given records (in the same source). */
    async relatedRecords(records: readonly RecordRow[]): Promise<{ row: RecordRow; relation: 'household' | 'parent' | 'child'; via: number }[]> {
      const out: { row: RecordRow; relation: 'household' | 'parent' | 'child'; via: number }[] = [];
      const own = new Set(records.map((r) => r.id));
      for (const r of records) {
        const found = await db
          .selectFrom('signposts_records')
          .selectAll()
          .where('source_code', '=', r.source_code)
          .where((eb) =>
            eb.or([
              ...(r.household ? [eb('household', '=', r.household)] : []),
              ...(r.parent_record_id ? [eb('record_id', '=', r.parent_record_id)] : []),
              eb('parent_record_id', '=', r.record_id),
            ]),
          )
          .execute();
        for (const row of found) {
          if (own.has(row.id)) continue;
          const relation = row.record_id === r.parent_record_id ? 'parent' : row.parent_record_id === r.record_id ? 'child' : 'household';
          out.push({ row, relation, via: r.id });
        }
      }
      return out;
    },

    async saveReview(tx: SignpostsDb, pairs: readonly { a: number; b: number; probability: number; reason: LinkRow['reason'] }[]): Promise<void> {
      for (const p of pairs) {
        const [a, b] = pairKey(p.a, p.b);
        await tx
          .insertInto('signposts_links')
          .values({ record_a: a, record_b: b, probability: p.probability, reason: p.reason, status: 'review' })
          .onConflict((oc) =>
            oc.columns(['record_a', 'record_b']).doUpdateSet({ probability: p.probability, reason: p.reason }).where('signposts_links.status', '=', 'review'),
          )
          .execute();
      }
    },

    /** Review pairs no longer asked about: their records are now decided by a re-link. */
    async clearReview(tx: SignpostsDb): Promise<void> {
      await tx.deleteFrom('signposts_links').where('status', '=', 'review').execute();
    },

    decisions(executor: SignpostsDb = db): Promise<LinkRow[]> {
      return executor.selectFrom('signposts_links').selectAll().where('status', 'in', ['confirmed', 'rejected']).execute();
    },

    link(a: number, b: number): Promise<LinkRow | undefined> {
      const [x, y] = pairKey(a, b);
      return db.selectFrom('signposts_links').selectAll().where('record_a', '=', x).where('record_b', '=', y).executeTakeFirst();
    },

    async decide(tx: SignpostsDb, a: number, b: number, status: 'confirmed' | 'rejected', staffId: string, note: string, probability: number): Promise<void> {
      const [x, y] = pairKey(a, b);
      await tx
        .insertInto('signposts_links')
        .values({ record_a: x, record_b: y, probability, reason: 'uncertain', status, decided_by: staffId, decided_at: new Date(), note })
        .onConflict((oc) => oc.columns(['record_a', 'record_b']).doUpdateSet({ status, decided_by: staffId, decided_at: new Date(), note }))
        .execute();
    },

    /** Pairs waiting for review whose records are both in the given sources, most likely first. */
    reviewQueue(sources: readonly string[], limit: number, offset: number): Promise<LinkRow[]> {
      if (sources.length === 0) return Promise.resolve([]);
      return reviewable(sources).selectAll('l').orderBy('l.probability', 'desc').limit(limit).offset(offset).execute();
    },

    async reviewCount(sources: readonly string[]): Promise<number> {
      if (sources.length === 0) return 0;
      const row = await reviewable(sources)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    linksOfRecords(ids: readonly number[]): Promise<LinkRow[]> {
      if (ids.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('signposts_links')
        .selectAll()
        .where((eb) => eb.or([eb('record_a', 'in', ids), eb('record_b', 'in', ids)]))
        .execute();
    },

    async saveModel(tx: SignpostsDb, model: LinkageModel, records: number): Promise<void> {
      const values = { model: JSON.stringify(model), records };
      await tx
        .insertInto('signposts_model')
        .values({ id: 1, ...values })
        .onConflict((oc) => oc.column('id').doUpdateSet({ ...values, trained_at: sql<Date>`now()` }))
        .execute();
    },

    async model(executor: SignpostsDb = db): Promise<{ model: LinkageModel; records: number } | undefined> {
      const row = await executor.selectFrom('signposts_model').select(['model', 'records']).where('id', '=', 1).executeTakeFirst();
      return row ? { model: row.model as LinkageModel, records: row.records } : undefined;
    },

    /** Changes whenever records, people, decisions or the model change, so each process knows when its matcher is stale. */
    async version(): Promise<number> {
      const row = await db.selectFrom('signposts_state').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
      return Number(row.version);
    },

    /** Marks a change to what the matchers hold; called in the changing transaction. */
    async bump(tx: SignpostsDb): Promise<void> {
      await tx
        .updateTable('signposts_state')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', 1)
        .execute();
    },

    async grantBreakGlass(tx: SignpostsDb, grant: { staffId: string; personId: number; reason: string; purpose: string; expiresAt: Date }): Promise<void> {
      await tx
        .insertInto('signposts_break_glass')
        .values({ staff_id: grant.staffId, person_id: grant.personId, reason: grant.reason, purpose: grant.purpose, expires_at: grant.expiresAt })
        .execute();
    },

    async hasBreakGlass(staffId: string, personId: number, now: Date): Promise<boolean> {
      const row = await db
        .selectFrom('signposts_break_glass')
        .select('id')
        .where('staff_id', '=', staffId)
        .where('person_id', '=', personId)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Removes records not seen in a load within their source's retention period; events and links go with them. */
    async purgeExpired(tx: SignpostsDb, source: string, before: Date): Promise<number> {
      const rows = await tx.deleteFrom('signposts_records').where('source_code', '=', source).where('last_seen_at', '<', before).returning('id').execute();
      return rows.length;
    },

    async sourceCounts(): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('signposts_records')
        .select(['source_code', (eb) => eb.fn.countAll<string>().as('n')])
        .groupBy('source_code')
        .execute();
      return new Map(rows.map((r) => [r.source_code, Number(r.n)]));
    },
  };
}

export type SignpostsRepository = ReturnType<typeof createSignpostsRepository>;
