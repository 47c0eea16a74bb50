import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { AppointmentBookingsTable, AppointmentTables, BookingStatus } from './migrations.js';
import { GRANULE_MINUTES, LONGEST_BOOKING_MS } from './model/config.js';

export type AppointmentsDb = Kysely<AppointmentTables>;
export type BookingRow = Selectable<AppointmentBookingsTable> & { resources: string[] };

/** Statuses whose booking still holds its places (a past booking keeps them: it happened). */
export const HOLDING_STATUSES: readonly BookingStatus[] = ['held', 'confirmed', 'arrived', 'seen', 'did-not-attend'];

/** Why a claim failed: every place was taken (null place) or another booking took it at the same moment (key). */
export function isPlaceTaken(error: unknown): boolean {
  const code = error !== null && typeof error === 'object' && 'code' in error ? (error as { code?: unknown }).code : undefined;
  return code === '23505' || code === '23502';
}

const granule = sql.raw(`interval '${GRANULE_MINUTES} minutes'`);

export function createAppointmentsRepository(db: AppointmentsDb) {
  const withResources = async (executor: AppointmentsDb, rows: Selectable<AppointmentBookingsTable>[]): Promise<BookingRow[]> => {
    if (rows.length === 0) return [];
    const links = await executor
      .selectFrom('appointment_booking_resources')
      .select(['booking_id', 'resource_code'])
      .where(
        'booking_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('resource_code')
      .execute();
    const byBooking = new Map<string, string[]>();
    for (const link of links) byBooking.set(link.booking_id, [...(byBooking.get(link.booking_id) ?? []), link.resource_code]);
    return rows.map((row) => ({ ...row, resources: byBooking.get(row.id) ?? [] }));
  };

  return {
    db,
    transaction<T>(work: (tx: AppointmentsDb) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },

    /**
     * The bookings and blocks holding places on a location's resources that overlap a period (holds
     * that have run out are free), as [start, end] pairs in epoch seconds grouped by resource, kind
     * and type. A long horizon has thousands of bookings: one text per group is far cheaper to read
     * than a row per booking.
     */
    async holding(executor: AppointmentsDb, location: string, resources: readonly string[], from: Date, to: Date) {
      if (resources.length === 0) return [];
      const rows = await executor
        .selectFrom('appointment_bookings as b')
        .innerJoin('appointment_booking_resources as r', 'r.booking_id', 'b.id')
        .select(['r.resource_code', 'b.kind', 'b.type_code'])
        .select(sql<string>`string_agg(extract(epoch from b.starts_at)::bigint || ' ' || extract(epoch from b.ends_at)::bigint, ' ')`.as('times'))
        .where('b.location_code', '=', location)
        .where('b.starts_at', '<', to)
        .where('b.starts_at', '>', new Date(from.getTime() - LONGEST_BOOKING_MS))
        .where('b.ends_at', '>', from)
        .where('b.status', 'in', [...HOLDING_STATUSES])
        .where((eb) => eb.or([eb('b.status', '<>', 'held'), eb('b.hold_expires_at', '>', sql<Date>`now()`)]))
        .where('r.resource_code', 'in', [...resources])
        .groupBy(['r.resource_code', 'b.kind', 'b.type_code'])
        .execute();
      return rows.map((row) => {
        const numbers = row.times.split(' ').map(Number);
        const spans: [number, number][] = [];
        for (let i = 0; i + 1 < numbers.length; i += 2) spans.push([(numbers[i] ?? 0) * 1000, (numbers[i + 1] ?? 0) * 1000]);
        return { resource_code: row.resource_code, kind: row.kind, type_code: row.type_code, spans };
      });
    },

    /** Lets go of holds that have run out, so their places can be taken. Returns the bookings let go. */
    async expireHolds(tx: AppointmentsDb): Promise<string[]> {
      const expired = await tx
        .updateTable('appointment_bookings')
        .set({ status: 'expired', updated_at: sql<Date>`now()` })
        .where('status', '=', 'held')
        .where('hold_expires_at', '<=', sql<Date>`now()`)
        .returning('id')
        .execute();
      const ids = expired.map((row) => row.id);
      if (ids.length > 0) await tx.deleteFrom('appointment_claims').where('booking_id', 'in', ids).execute();
      return ids;
    },

    async insertBooking(tx: AppointmentsDb, row: Insertable<AppointmentBookingsTable>, resources: readonly string[]): Promise<BookingRow> {
      const inserted = await tx.insertInto('appointment_bookings').values(row).returningAll().executeTakeFirstOrThrow();
      if (resources.length > 0)
        await tx
          .insertInto('appointment_booking_resources')
          .values(resources.map((resource_code) => ({ booking_id: inserted.id, resource_code })))
          .execute();
      return { ...inserted, resources: [...resources] };
    },

    /**
     * Locks the places of the resources a claim may use, always in the same order, so bookings for
     * the same resources queue one behind another rather than fail against each other.
     */
    async lockResources(tx: AppointmentsDb, resources: readonly string[]): Promise<void> {
      if (resources.length === 0) return;
      await tx
        .selectFrom('appointment_places')
        .select('place')
        .where('resource_code', 'in', [...resources])
        .orderBy('resource_code')
        .orderBy('place')
        .forUpdate()
        .execute();
    },

    /**
     * Claims one place on a resource for every granule of a window, the lowest free place each time
     * and none above `places`. No free place leaves a null (refused by NOT NULL); a place taken by
     * another transaction meanwhile is refused by the primary key. Either way the caller's
     * transaction fails and nothing is half-claimed.
     */
    async claim(tx: AppointmentsDb, bookingId: string, resource: string, from: Date, to: Date, places: number): Promise<void> {
      await sql`
        INSERT INTO appointment_claims (resource_code, granule, place, booking_id)
        SELECT ${resource}, g, (
          SELECT min(p.place) FROM appointment_places p
          WHERE p.resource_code = ${resource} AND p.place <= ${places}
            AND NOT EXISTS (SELECT 1 FROM appointment_claims c WHERE c.resource_code = p.resource_code AND c.granule = g AND c.place = p.place)
        ), ${bookingId}::uuid
        FROM generate_series(${from}::timestamptz, ${to}::timestamptz - ${granule}, ${granule}) AS g`.execute(tx);
    },

    /** Claims every place of a resource across a window (blocked-out time); refused if anything holds one. */
    async claimAll(tx: AppointmentsDb, bookingId: string, resource: string, from: Date, to: Date): Promise<void> {
      await sql`
        INSERT INTO appointment_claims (resource_code, granule, place, booking_id)
        SELECT ${resource}, g, p.place, ${bookingId}::uuid
        FROM generate_series(${from}::timestamptz, ${to}::timestamptz - ${granule}, ${granule}) AS g
        CROSS JOIN appointment_places p WHERE p.resource_code = ${resource}`.execute(tx);
    },

    async release(tx: AppointmentsDb, bookingId: string): Promise<void> {
      await tx.deleteFrom('appointment_claims').where('booking_id', '=', bookingId).execute();
    },

    async setResources(tx: AppointmentsDb, bookingId: string, resources: readonly string[]): Promise<void> {
      await tx.deleteFrom('appointment_booking_resources').where('booking_id', '=', bookingId).execute();
      await tx
        .insertInto('appointment_booking_resources')
        .values(resources.map((resource_code) => ({ booking_id: bookingId, resource_code })))
        .execute();
    },

    async updateBooking(tx: AppointmentsDb, id: string, changes: Updateable<AppointmentBookingsTable>): Promise<void> {
      await tx
        .updateTable('appointment_bookings')
        .set({ ...changes, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    async byId(executor: AppointmentsDb, id: string, opts: { lock?: boolean } = {}): Promise<BookingRow | undefined> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      let query = executor.selectFrom('appointment_bookings').selectAll().where('id', '=', id);
      if (opts.lock) query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? (await withResources(executor, [row]))[0] : undefined;
    },

    async byReference(executor: AppointmentsDb, reference: string): Promise<BookingRow | undefined> {
      const row = await executor.selectFrom('appointment_bookings').selectAll().where('reference', '=', reference).executeTakeFirst();
      return row ? (await withResources(executor, [row]))[0] : undefined;
    },

    /** Bookings and blocks at a location, or on given resources, that overlap a period. */
    async between(
      executor: AppointmentsDb,
      query: { location?: string; resources?: readonly string[]; from: Date; to: Date; statuses?: readonly BookingStatus[] },
    ) {
      let q = executor.selectFrom('appointment_bookings').selectAll().where('starts_at', '<', query.to).where('ends_at', '>', query.from);
      if (query.location) q = q.where('location_code', '=', query.location);
      if (query.resources)
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('appointment_booking_resources as r')
              .select('r.booking_id')
              .whereRef('r.booking_id', '=', 'appointment_bookings.id')
              .where('r.resource_code', 'in', query.resources && query.resources.length > 0 ? [...query.resources] : ['']),
          ),
        );
      q = q.where('status', 'in', [...(query.statuses ?? HOLDING_STATUSES)]);
      return withResources(executor, await q.orderBy('starts_at').orderBy('reference').execute());
    },

    async forResident(executor: AppointmentsDb, residentId: string): Promise<BookingRow[]> {
      const rows = await executor
        .selectFrom('appointment_bookings')
        .selectAll()
        .where('resident_id', '=', residentId)
        .where('status', '<>', 'held')
        .where('status', '<>', 'expired')
        .orderBy('starts_at', 'desc')
        .limit(200)
        .execute();
      return withResources(executor, rows);
    },

    /** Confirmed bookings starting within the next period, for reminders. */
    async upcoming(executor: AppointmentsDb, until: Date): Promise<Selectable<AppointmentBookingsTable>[]> {
      return executor
        .selectFrom('appointment_bookings')
        .selectAll()
        .where('status', '=', 'confirmed')
        .where('starts_at', '>', sql<Date>`now()`)
        .where('starts_at', '<=', until)
        .orderBy('starts_at')
        .limit(1000)
        .execute();
    },

    /** Makes a resource's places match its capacity; places still claimed are kept. */
    async syncPlaces(executor: AppointmentsDb, capacities: ReadonlyMap<string, number>): Promise<void> {
      const existing = await executor.selectFrom('appointment_places').select(['resource_code', 'place']).execute();
      const have = new Set(existing.map((row) => `${row.resource_code}|${row.place}`));
      const missing: { resource_code: string; place: number }[] = [];
      for (const [code, capacity] of capacities)
        for (let place = 1; place <= capacity; place++) if (!have.has(`${code}|${place}`)) missing.push({ resource_code: code, place });
      if (missing.length > 0)
        await executor
          .insertInto('appointment_places')
          .values(missing)
          .onConflict((oc) => oc.doNothing())
          .execute();
      for (const row of existing) {
        const capacity = capacities.get(row.resource_code) ?? 0;
        if (row.place > capacity)
          await executor
            .deleteFrom('appointment_places')
            .where('resource_code', '=', row.resource_code)
            .where('place', '=', row.place)
            .where((eb) =>
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('appointment_claims as c')
                    .select('c.place')
                    .whereRef('c.resource_code', '=', 'appointment_places.resource_code')
                    .whereRef('c.place', '=', 'appointment_places.place'),
                ),
              ),
            )
            .execute();
      }
    },

    async notes(executor: AppointmentsDb, bookingId: string) {
      return executor.selectFrom('appointment_notes').selectAll().where('booking_id', '=', bookingId).orderBy('created_at').execute();
    },
    async addNote(tx: AppointmentsDb, bookingId: string, staffId: string, text: string): Promise<void> {
      await tx.insertInto('appointment_notes').values({ booking_id: bookingId, staff_id: staffId, text }).execute();
    },

    /** Bookings of every location starting within a period, in the statuses asked for (for utilisation figures). */
    async startingBetween(executor: AppointmentsDb, from: Date, to: Date, statuses: readonly BookingStatus[]) {
      return executor
        .selectFrom('appointment_bookings')
        .select(['type_code', 'location_code', 'status'])
        .where('kind', '=', 'booking')
        .where('starts_at', '>=', from)
        .where('starts_at', '<', to)
        .where('status', 'in', [...statuses])
        .execute();
    },

    async insertFeed(tx: AppointmentsDb, feed: { resource_code: string; token_hash: string; created_by: string }) {
      return tx.insertInto('appointment_feeds').values(feed).returningAll().executeTakeFirstOrThrow();
    },
    /** Calendar feeds still working, newest first. */
    async activeFeeds(executor: AppointmentsDb) {
      return executor.selectFrom('appointment_feeds').selectAll().where('revoked_at', 'is', null).orderBy('created_at', 'desc').limit(500).execute();
    },
    async feedById(executor: AppointmentsDb, id: string) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      return executor.selectFrom('appointment_feeds').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async feedByTokenHash(executor: AppointmentsDb, tokenHash: string) {
      return executor.selectFrom('appointment_feeds').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
    },
    async revokeFeed(tx: AppointmentsDb, id: string): Promise<boolean> {
      const result = await tx
        .updateTable('appointment_feeds')
        .set({ revoked_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export type AppointmentsRepository = ReturnType<typeof createAppointmentsRepository>;
