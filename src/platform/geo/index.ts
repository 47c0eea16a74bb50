import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import { sql } from '#platform/db/index';
import { generateBorough, type AssetKind, type DemoBorough } from './demo-generator.js';
import {
  bboxContains,
  bboxOf,
  boxAround,
  haversineMetres,
  isPostcodeOutward,
  normalisePostcode,
  pointInPolygon,
  pointToLineMetres,
  type AreaGeometry,
  type BBox,
  type LatLng,
  type LineStringGeometry,
  type MultiLineStringGeometry,
} from './geometry.js';

export * from './geometry.js';
export { geoMigrations } from './migrations.js';
export { generateBorough, DemoBoroughParamsSchema, mulberry32 } from './demo-generator.js';
export type { AssetKind, DemoBorough, DemoBoroughParams, DemoAddress, DemoAsset, DemoStreet, DemoWard } from './demo-generator.js';

type Json<T> = ColumnType<T, string, string>;

interface BoxColumns {
  south: number;
  west: number;
  north: number;
  east: number;
}

export type GeoTables = {
  geo_boundary: BoxColumns & { id: Generated<number>; name: string; geojson: Json<AreaGeometry>; created_at: Generated<Date> };
  geo_wards: BoxColumns & { code: string; name: string; locality: string | null; geojson: Json<AreaGeometry> };
  geo_streets: BoxColumns & {
    usrn: string;
    name: string;
    locality: string;
    town: string;
    ward_code: string | null;
    length_m: number;
    geojson: Json<LineStringGeometry | MultiLineStringGeometry>;
  };
  geo_addresses: {
    uprn: string;
    single_line: string;
    house: string;
    house_number: number | null;
    house_name: string | null;
    street: string;
    usrn: string;
    locality: string;
    town: string;
    postcode: string;
    postcode_norm: string;
    lat: number;
    lng: number;
    ward_code: string | null;
    search_text: string;
  };
  assets: {
    id: string;
    kind: AssetKind;
    usrn: string | null;
    lat: number;
    lng: number;
    ward_code: string | null;
    state: Generated<string>;
    attributes: Json<Record<string, unknown>>;
    updated_at: Generated<Date>;
  };
};

export interface Boundary {
  name: string;
  geometry: AreaGeometry;
  bbox: BBox;
}

export interface Ward {
  code: string;
  name: string;
  locality: string | null;
  geometry: AreaGeometry;
  bbox: BBox;
}

export interface Street {
  usrn: string;
  name: string;
  locality: string;
  town: string;
  wardCode: string | null;
  lengthMetres: number;
  geometry: LineStringGeometry | MultiLineStringGeometry;
  bbox: BBox;
}

export interface Address {
  uprn: string;
  singleLine: string;
  house: string;
  houseNumber: number | null;
  houseName: string | null;
  street: string;
  usrn: string;
  locality: string;
  town: string;
  postcode: string;
  lat: number;
  lng: number;
  wardCode: string | null;
}

export interface Asset {
  id: string;
  kind: AssetKind;
  usrn: string | null;
  lat: number;
  lng: number;
  wardCode: string | null;
  state: string;
  attributes: Record<string, unknown>;
}

export interface NearbyAsset extends Asset {
  distanceMetres: number;
}

export interface NearestStreet {
  street: Street;
  distanceMetres: number;
}

export interface SeedResult {
  /** False when a boundary was already present, so nothing was written. */
  seeded: boolean;
  wards: number;
  streets: number;
  addresses: number;
  assets: number;
  generateMs: number;
  insertMs: number;
}

export interface Geography {
  /** Generates the demo borough and writes it in one transaction; does nothing if a boundary exists. */
  seedDemo(params: unknown): Promise<SeedResult>;
  boundary(): Promise<Boundary | null>;
  wards(): Promise<Ward[]>;
  isInsideBoundary(lat: number, lng: number): Promise<boolean>;
  wardAt(lat: number, lng: number): Promise<Ward | null>;
  /** Addresses on a postcode in natural house-number order; [] for an unknown or malformed postcode. */
  lookupPostcode(postcode: string): Promise<Address[]>;
  /** Free-text address search: '12 market st', 'hollin', 'KM3 2' and so on. */
  searchAddresses(text: string, limit?: number): Promise<Address[]>;
  addressByUprn(uprn: string | number): Promise<Address | null>;
  streetByUsrn(usrn: string | number): Promise<Street | null>;
  streetsByName(text: string, limit?: number): Promise<Street[]>;
  streetsInBox(box: BBox, limit?: number): Promise<Street[]>;
  /** The closest street centreline within `maxMetres` (default 2 km), or null. */
  nearestStreet(lat: number, lng: number, opts?: { maxMetres?: number }): Promise<NearestStreet | null>;
  assetsInBox(box: BBox, kind?: AssetKind, limit?: number): Promise<Asset[]>;
  nearbyAssets(lat: number, lng: number, radiusMetres: number, kind?: AssetKind, limit?: number): Promise<NearbyAsset[]>;
  assetById(id: string): Promise<Asset | null>;
  /** Sets an asset's state (working, fault-reported, under-maintenance); pass a transaction to change it with what caused it. */
  setAssetState(id: string, state: string, executor?: Kysely<object>): Promise<boolean>;
  /** Loads addresses from CSV (uprn,house,street,usrn,locality,town,postcode,lat,lng); all or nothing. Returns the count. */
  importAddressesCsv(csv: string): Promise<number>;
  /**
   * Loads located assets from a GeoJSON FeatureCollection of Points with properties id and kind (and
   * optionally usrn and state; other properties are kept as attributes); all or nothing. An asset
   * already held is updated, keeping its state unless the file gives one. Returns the count.
   */
  importAssetsGeoJson(geojson: string): Promise<number>;
  /**
   * Loads located assets from CSV with a header row: id,kind,lat,lng, optionally usrn and state, and
   * any other columns kept as attributes. Otherwise as importAssetsGeoJson.
   */
  importAssetsCsv(csv: string): Promise<number>;
}

/** Reads the demo borough parameters from the council folder. */
export function readDemoBoroughParams(councilDir: string): unknown {
  return JSON.parse(readFileSync(path.join(councilDir, 'demo-borough.json'), 'utf8'));
}

const INSERT_BATCH = 500;
const FUZZY_WORD_SIMILARITY = '0.45';
const MAX_QUERY_LENGTH = 200;

type GeoDb = Kysely<GeoTables>;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(1, Math.min(max, Math.floor(limit)));
}

function assertPoint(lat: number, lng: number): void {
  if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
    throw new RangeError(`Not a latitude/longitude: ${lat}, ${lng}`);
  }
}

function assertBox(box: BBox): void {
  const { south, west, north, east } = box;
  if (![south, west, north, east].every(Number.isFinite) || south > north || west > east) {
    throw new RangeError('A box needs finite south <= north and west <= east');
  }
}

function searchTextOf(a: { singleLine: string; postcode: string }): string {
  return `${a.singleLine} ${a.postcode.replace(/\s+/g, '')}`.toLowerCase();
}

const addressColumns = [
  'uprn',
  'single_line',
  'house',
  'house_number',
  'house_name',
  'street',
  'usrn',
  'locality',
  'town',
  'postcode',
  'lat',
  'lng',
  'ward_code',
] as const;

type AddressRow = Pick<GeoTables['geo_addresses'], (typeof addressColumns)[number]>;

function toAddress(r: AddressRow): Address {
  return {
    uprn: r.uprn,
    singleLine: r.single_line,
    house: r.house,
    houseNumber: r.house_number,
    houseName: r.house_name,
    street: r.street,
    usrn: r.usrn,
    locality: r.locality,
    town: r.town,
    postcode: r.postcode,
    lat: r.lat,
    lng: r.lng,
    wardCode: r.ward_code,
  };
}

const streetColumns = ['usrn', 'name', 'locality', 'town', 'ward_code', 'length_m', 'geojson', 'south', 'west', 'north', 'east'] as const;

function toStreet(r: {
  usrn: string;
  name: string;
  locality: string;
  town: string;
  ward_code: string | null;
  length_m: number;
  geojson: LineStringGeometry | MultiLineStringGeometry;
  south: number;
  west: number;
  north: number;
  east: number;
}): Street {
  return {
    usrn: r.usrn,
    name: r.name,
    locality: r.locality,
    town: r.town,
    wardCode: r.ward_code,
    lengthMetres: r.length_m,
    geometry: r.geojson,
    bbox: { south: r.south, west: r.west, north: r.north, east: r.east },
  };
}

const assetColumns = ['id', 'kind', 'usrn', 'lat', 'lng', 'ward_code', 'state', 'attributes'] as const;

function toAsset(r: {
  id: string;
  kind: AssetKind;
  usrn: string | null;
  lat: number;
  lng: number;
  ward_code: string | null;
  state: string;
  attributes: Record<string, unknown>;
}): Asset {
  return { id: r.id, kind: r.kind, usrn: r.usrn, lat: r.lat, lng: r.lng, wardCode: r.ward_code, state: r.state, attributes: r.attributes };
}

/** Every kind of asset the table takes; typed so a new kind must be added here. */
const ASSET_KIND_FLAGS = { streetlight: true, gully: true } satisfies Record<AssetKind, true>;
const ASSET_KIND_LIST = Object.keys(ASSET_KIND_FLAGS) as AssetKind[];
const isAssetKind = (value: unknown): value is AssetKind => typeof value === 'string' && Object.hasOwn(ASSET_KIND_FLAGS, value);

/** An asset as an import file gives it; a null state leaves an existing asset's state as it is. */
interface AssetImportRow {
  id: string;
  kind: AssetKind;
  usrn: string | null;
  lat: number;
  lng: number;
  ward_code: string | null;
  state: string | null;
  attributes: Record<string, unknown>;
}

type InsertRow<T> = { [K in keyof T]?: unknown };

/**
 * Bulk insert in batches of INSERT_BATCH rows. Each batch travels as one JSON parameter and is
 * expanded by jsonb_populate_recordset, which is several times faster than thousands of bind
 * parameters on the embedded database and equally fast on a PostgreSQL server. Values are typed
 * by the table's own columns; jsonb columns take the nested JSON value as it is.
 */
async function insertInBatches<T extends keyof GeoTables>(trx: Transaction<GeoTables>, table: T, rows: InsertRow<GeoTables[T]>[]): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const columns = sql.join(Object.keys(first).map((c) => sql.ref(c)));
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const batch = JSON.stringify(rows.slice(i, i + INSERT_BATCH));
    await sql`INSERT INTO ${sql.table(table)} (${columns})
      SELECT ${columns} FROM jsonb_populate_recordset(NULL::${sql.table(table)}, ${batch}::jsonb)`.execute(trx);
  }
}

/**
 * Adds or updates assets by id, in batches as insertInBatches does. A re-import moves an asset and
 * replaces its attributes; its state (a fault reported on it, say) changes only when the file gives one.
 */
async function upsertAssets(trx: Transaction<GeoTables>, rows: readonly AssetImportRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const batch = JSON.stringify(rows.slice(i, i + INSERT_BATCH));
    const records = sql`jsonb_to_recordset(${batch}::jsonb)
      AS r(id text, kind text, usrn text, lat double precision, lng double precision, ward_code text, state text, attributes jsonb)`;
    await sql`INSERT INTO assets (id, kind, usrn, lat, lng, ward_code, state, attributes)
      SELECT id, kind, usrn, lat, lng, ward_code, COALESCE(state, 'working'), attributes FROM ${records}
      ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, usrn = EXCLUDED.usrn, lat = EXCLUDED.lat, lng = EXCLUDED.lng,
        ward_code = EXCLUDED.ward_code, attributes = EXCLUDED.attributes, updated_at = now()`.execute(trx);
    await sql`UPDATE assets SET state = r.state FROM ${records} WHERE assets.id = r.id AND r.state IS NOT NULL`.execute(trx);
  }
}

async function writeBorough(trx: Transaction<GeoTables>, borough: DemoBorough): Promise<boolean> {
  const box = bboxOf(borough.boundary);
  const inserted = await trx
    .insertInto('geo_boundary')
    .values({ id: 1, name: borough.name, geojson: JSON.stringify(borough.boundary), ...box })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return false;

  await insertInBatches(
    trx,
    'geo_wards',
    borough.wards.map((w) => ({ code: w.code, name: w.name, locality: w.locality, geojson: w.geometry, ...bboxOf(w.geometry) })),
  );

  await insertInBatches(
    trx,
    'geo_streets',
    borough.streets.map((s) => ({
      usrn: s.usrn,
      name: s.name,
      locality: s.locality,
      town: s.town,
      ward_code: s.wardCode,
      length_m: s.lengthMetres,
      geojson: s.geometry,
      ...bboxOf(s.geometry),
    })),
  );

  await insertInBatches(
    trx,
    'geo_addresses',
    borough.addresses.map((a) => ({
      uprn: a.uprn,
      single_line: a.singleLine,
      house: a.house,
      house_number: a.houseNumber,
      house_name: a.houseName,
      street: a.street,
      usrn: a.usrn,
      locality: a.locality,
      town: a.town,
      postcode: a.postcode,
      postcode_norm: a.postcode.replace(/\s+/g, ''),
      lat: a.lat,
      lng: a.lng,
      ward_code: a.wardCode,
      search_text: searchTextOf(a),
    })),
  );

  await insertInBatches(
    trx,
    'assets',
    borough.assets.map((a) => ({
      id: a.id,
      kind: a.kind,
      usrn: a.usrn,
      lat: a.lat,
      lng: a.lng,
      ward_code: a.wardCode,
      attributes: a.attributes,
    })),
  );
  return true;
}

/** The geography service: boundary, wards, street and address gazetteers, located assets. */
export function createGeography(database: Kysely<object>): Geography {
  const db: GeoDb = database.withTables<GeoTables>() as unknown as GeoDb;
  let boundaryCache: Promise<Boundary | null> | undefined;
  let wardsCache: Promise<Ward[]> | undefined;

  const forget = () => {
    boundaryCache = undefined;
    wardsCache = undefined;
  };

  const loadBoundary = (): Promise<Boundary | null> => {
    boundaryCache ??= db
      .selectFrom('geo_boundary')
      .select(['name', 'geojson', 'south', 'west', 'north', 'east'])
      .where('id', '=', 1)
      .executeTakeFirst()
      .then((r) => {
        if (!r) {
          boundaryCache = undefined;
          return null;
        }
        return { name: r.name, geometry: r.geojson, bbox: { south: r.south, west: r.west, north: r.north, east: r.east } };
      })
      .catch((err: unknown) => {
        boundaryCache = undefined;
        throw err;
      });
    return boundaryCache;
  };

  const loadWards = (): Promise<Ward[]> => {
    wardsCache ??= db
      .selectFrom('geo_wards')
      .select(['code', 'name', 'locality', 'geojson', 'south', 'west', 'north', 'east'])
      .orderBy('code')
      .execute()
      .then((rows) => {
        if (rows.length === 0) wardsCache = undefined;
        return rows.map((r) => ({
          code: r.code,
          name: r.name,
          locality: r.locality,
          geometry: r.geojson,
          bbox: { south: r.south, west: r.west, north: r.north, east: r.east },
        }));
      })
      .catch((err: unknown) => {
        wardsCache = undefined;
        throw err;
      });
    return wardsCache;
  };

  async function byPostcodePrefix(compact: string, wholeOutward: string | null, limit: number): Promise<Address[]> {
    let q = db.selectFrom('geo_addresses').select(addressColumns);
    q = wholeOutward ? q.where('postcode', 'like', `${escapeLike(wholeOutward)} %`) : q.where('postcode_norm', 'like', `${escapeLike(compact)}%`);
    const rows = await q
      .orderBy('postcode')
      .orderBy(sql`house_number NULLS LAST`)
      .orderBy('house')
      .orderBy('uprn')
      .limit(limit)
      .execute();
    return rows.map(toAddress);
  }

  /** Assets inside a bounding box (indexed on lat, lng), optionally of one kind. */
  const assetsWithin = (box: BBox, kind?: AssetKind) => {
    const q = db
      .selectFrom('assets')
      .select(assetColumns)
      .where('lat', '>=', box.south)
      .where('lat', '<=', box.north)
      .where('lng', '>=', box.west)
      .where('lng', '<=', box.east);
    return kind ? q.where('kind', '=', kind) : q;
  };

  const service: Omit<Geography, 'importAddressesCsv' | 'importAssetsGeoJson' | 'importAssetsCsv'> = {
    async seedDemo(params) {
      const empty = { wards: 0, streets: 0, addresses: 0, assets: 0, generateMs: 0, insertMs: 0 };
      const existing = await db.selectFrom('geo_boundary').select('id').executeTakeFirst();
      if (existing) return { seeded: false, ...empty };
      const t0 = performance.now();
      const borough = generateBorough(params);
      const t1 = performance.now();
      const seeded = await db.transaction().execute((trx) => writeBorough(trx, borough));
      forget();
      if (seeded) {
        // Merge the trigram indexes' pending lists and refresh statistics, so the planner
        // uses the indexes straight after a bulk load rather than after the next autovacuum.
        for (const index of ['geo_addresses_search_trgm_idx', 'geo_streets_name_trgm_idx']) {
          await sql`SELECT gin_clean_pending_list(${index}::regclass)`.execute(db).catch(() => undefined);
        }
        for (const table of ['geo_wards', 'geo_streets', 'geo_addresses', 'assets'] as const) {
          await sql`ANALYZE ${sql.table(table)}`.execute(db);
        }
      }
      const t2 = performance.now();
      if (!seeded) return { seeded: false, ...empty, generateMs: t1 - t0 };
      return {
        seeded: true,
        wards: borough.wards.length,
        streets: borough.streets.length,
        addresses: borough.addresses.length,
        assets: borough.assets.length,
        generateMs: t1 - t0,
        insertMs: t2 - t1,
      };
    },

    boundary: loadBoundary,
    wards: loadWards,

    async isInsideBoundary(lat, lng) {
      assertPoint(lat, lng);
      const b = await loadBoundary();
      if (!b) return false;
      return bboxContains(b.bbox, { lat, lng }) && pointInPolygon({ lat, lng }, b.geometry);
    },

    async wardAt(lat, lng) {
      assertPoint(lat, lng);
      const point = { lat, lng };
      for (const ward of await loadWards()) {
        if (bboxContains(ward.bbox, point) && pointInPolygon(point, ward.geometry, { boundary: 'exclude' })) return ward;
      }
      // A point exactly on a shared edge belongs to the first ward (by code) that touches it.
      for (const ward of await loadWards()) {
        if (bboxContains(ward.bbox, point) && pointInPolygon(point, ward.geometry)) return ward;
      }
      return null;
    },

    async lookupPostcode(postcode) {
      const normal = normalisePostcode(postcode);
      if (!normal) return [];
      const rows = await db
        .selectFrom('geo_addresses')
        .select(addressColumns)
        .where('postcode_norm', '=', normal.replace(' ', ''))
        .orderBy(sql`house_number NULLS LAST`)
        .orderBy('house')
        .orderBy('uprn')
        .execute();
      return rows.map(toAddress);
    },

    async searchAddresses(text, limit) {
      const max = clampLimit(limit, 10, 100);
      const cleaned = (text ?? '').normalize('NFKC').replace(/\s+/g, ' ').trim().slice(0, MAX_QUERY_LENGTH);
      if (!cleaned) return [];

      const postcode = normalisePostcode(cleaned);
      if (postcode) return (await service.lookupPostcode(postcode)).slice(0, max);
      const compact = cleaned.replace(/\s+/g, '').toUpperCase();
      if (isPostcodeOutward(cleaned) && !cleaned.includes(' ')) {
        const found = await byPostcodePrefix(compact, compact, max);
        if (found.length > 0) return found;
      } else if (/^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]?$/i.test(cleaned)) {
        const found = await byPostcodePrefix(compact, null, max);
        if (found.length > 0) return found;
      }

      const tokens = cleaned
        .toLowerCase()
        .split(/[\s,]+/)
        .map((t) => t.replace(/[^\p{L}\p{N}'-]/gu, ''))
        .filter(Boolean);
      const numberAt = tokens.findIndex((t) => /^\d+[a-z]?$/.test(t));
      const houseToken = tokens[numberAt] ?? null;
      const houseNumber = houseToken ? Number.parseInt(houseToken, 10) : null;
      const words = tokens.filter((_, i) => i !== numberAt);
      const phrase = words.join(' ');

      if (words.length === 0) {
        if (houseNumber === null) return [];
        const rows = await db
          .selectFrom('geo_addresses')
          .select(addressColumns)
          .where('house_number', '=', houseNumber)
          .orderBy('street')
          .orderBy('uprn')
          .limit(max)
          .execute();
        return rows.map(toAddress);
      }

      const numberRank = sql`(house_number IS NOT DISTINCT FROM ${houseNumber})::int DESC`;
      const houseRank = sql`(lower(house) = ${houseToken ?? ''})::int DESC`;

      const exact = await db
        .selectFrom('geo_addresses')
        .select(addressColumns)
        .where((eb) => eb.and(words.map((w) => eb('search_text', 'like', `%${escapeLike(w)}%`))))
        .$if(houseNumber !== null, (q) => q.orderBy(numberRank).orderBy(houseRank))
        .orderBy(sql`(lower(street) LIKE ${`${escapeLike(phrase)}%`})::int DESC`)
        .orderBy(sql`similarity(lower(street), ${phrase}) DESC`)
        .orderBy('street')
        .orderBy(sql`house_number NULLS LAST`)
        .orderBy('house')
        .orderBy('uprn')
        .limit(max)
        .execute();
      if (exact.length > 0) return exact.map(toAddress);

      const fuzzy = await db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('pg_trgm.word_similarity_threshold', ${FUZZY_WORD_SIMILARITY}, true)`.execute(trx);
        return trx
          .selectFrom('geo_addresses')
          .select(addressColumns)
          .where(sql<boolean>`${phrase} <% search_text`)
          .orderBy(sql`round(word_similarity(${phrase}, lower(street))::numeric, 2) DESC`)
          .$if(houseNumber !== null, (q) => q.orderBy(numberRank))
          .orderBy(sql`word_similarity(${phrase}, search_text) DESC`)
          .orderBy('street')
          .orderBy(sql`house_number NULLS LAST`)
          .orderBy('house')
          .orderBy('uprn')
          .limit(max)
          .execute();
      });
      return fuzzy.map(toAddress);
    },

    async addressByUprn(uprn) {
      const key = String(uprn).trim();
      if (!/^\d{1,12}$/.test(key)) return null;
      const row = await db.selectFrom('geo_addresses').select(addressColumns).where('uprn', '=', key).executeTakeFirst();
      return row ? toAddress(row) : null;
    },

    async streetByUsrn(usrn) {
      const key = String(usrn).trim();
      if (!/^\d{8}$/.test(key)) return null;
      const row = await db.selectFrom('geo_streets').select(streetColumns).where('usrn', '=', key).executeTakeFirst();
      return row ? toStreet(row) : null;
    },

    async streetsByName(text, limit) {
      const max = clampLimit(limit, 20, 200);
      const q = (text ?? '').normalize('NFKC').replace(/\s+/g, ' ').trim().slice(0, MAX_QUERY_LENGTH).toLowerCase();
      if (!q) return [];
      const rows = await db
        .selectFrom('geo_streets')
        .select(streetColumns)
        .where((eb) => eb.or([eb(sql`lower(name)`, 'like', `%${escapeLike(q)}%`), sql<boolean>`lower(name) % ${q}`]))
        .orderBy(sql`(lower(name) = ${q})::int DESC`)
        .orderBy(sql`(lower(name) LIKE ${`${escapeLike(q)}%`})::int DESC`)
        .orderBy(sql`similarity(lower(name), ${q}) DESC`)
        .orderBy('name')
        .orderBy('usrn')
        .limit(max)
        .execute();
      return rows.map(toStreet);
    },

    async streetsInBox(box, limit) {
      assertBox(box);
      const rows = await db
        .selectFrom('geo_streets')
        .select(streetColumns)
        .where('south', '<=', box.north)
        .where('north', '>=', box.south)
        .where('west', '<=', box.east)
        .where('east', '>=', box.west)
        .orderBy('usrn')
        .limit(clampLimit(limit, 2000, 20000))
        .execute();
      return rows.map(toStreet);
    },

    async nearestStreet(lat, lng, opts = {}) {
      assertPoint(lat, lng);
      const point: LatLng = { lat, lng };
      const maxMetres = Math.max(1, opts.maxMetres ?? 2000);
      let radius = Math.min(150, maxMetres);
      for (;;) {
        const box = boxAround(point, radius);
        const candidates = await db
          .selectFrom('geo_streets')
          .select(streetColumns)
          .where('south', '<=', box.north)
          .where('north', '>=', box.south)
          .where('west', '<=', box.east)
          .where('east', '>=', box.west)
          .execute();
        let best: NearestStreet | null = null;
        for (const row of candidates) {
          const street = toStreet(row);
          const d = pointToLineMetres(point, street.geometry);
          if (!best || d < best.distanceMetres || (d === best.distanceMetres && street.usrn < best.street.usrn)) {
            best = { street, distanceMetres: d };
          }
        }
        // Any street outside the box is further than `radius`, so a hit within it is the answer.
        if (best && best.distanceMetres <= radius) return best;
        if (radius >= maxMetres) return null;
        radius = Math.min(radius * 3, maxMetres);
      }
    },

    async assetsInBox(box, kind, limit) {
      assertBox(box);
      const rows = await assetsWithin(box, kind)
        .orderBy('id')
        .limit(clampLimit(limit, 5000, 50000))
        .execute();
      return rows.map(toAsset);
    },

    async nearbyAssets(lat, lng, radiusMetres, kind, limit) {
      assertPoint(lat, lng);
      if (!Number.isFinite(radiusMetres) || radiusMetres < 0) throw new RangeError('radiusMetres must be zero or more');
      const point: LatLng = { lat, lng };
      const rows = await assetsWithin(boxAround(point, radiusMetres), kind).execute();
      return rows
        .map((r) => ({ ...toAsset(r), distanceMetres: haversineMetres(point, r) }))
        .filter((a) => a.distanceMetres <= radiusMetres)
        .sort((a, b) => a.distanceMetres - b.distanceMetres || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, clampLimit(limit, 200, 5000));
    },

    async assetById(id) {
      const row = await db.selectFrom('assets').select(assetColumns).where('id', '=', id).executeTakeFirst();
      return row ? toAsset(row) : null;
    },

    async setAssetState(id, state, executor) {
      const value = state.trim();
      if (!value) throw new RangeError('An asset state cannot be blank');
      const result = await (executor ? executor.withTables<GeoTables>() : db)
        .updateTable('assets')
        .set({ state: value, updated_at: sql`now()` })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
  const importAddressesCsv = async (csv: string): Promise<number> => {
    const rows = parseAddressCsv(csv);
    // Wards first: the embedded database has one connection, which the transaction holds.
    for (const r of rows) r.ward_code = (await service.wardAt(r.lat, r.lng))?.code ?? null;
    const known = new Set(
      (
        await db
          .selectFrom('geo_streets')
          .select('usrn')
          .where('usrn', 'in', [...new Set(rows.map((r) => r.usrn))])
          .execute()
      ).map((r) => r.usrn),
    );
    const newStreets = streetsFromAddresses(rows.filter((r) => !known.has(r.usrn)));
    await db.transaction().execute(async (trx) => {
      await insertInBatches(trx, 'geo_streets', newStreets);
      await sql`DELETE FROM geo_addresses WHERE uprn IN (SELECT jsonb_array_elements_text(${JSON.stringify(rows.map((r) => r.uprn))}::jsonb))`.execute(trx);
      await insertInBatches(trx, 'geo_addresses', rows);
    });
    return rows.length;
  };
  const importAssets = async (assets: AssetImportRow[]): Promise<number> => {
    // Wards first: the embedded database has one connection, which the transaction holds.
    for (const a of assets) a.ward_code = (await service.wardAt(a.lat, a.lng))?.code ?? null;
    await db.transaction().execute((trx) => upsertAssets(trx, assets));
    return assets.length;
  };
  const importAssetsGeoJson = async (text: string) => importAssets(parseAssetsGeoJson(text));
  const importAssetsCsv = async (csv: string) => importAssets(parseAssetsCsv(csv));
  return { ...service, importAddressesCsv, importAssetsGeoJson, importAssetsCsv };
}

/** Thrown when an import file has bad rows; nothing is loaded. */
export class ImportError extends Error {
  constructor(public readonly problems: string[]) {
    super(
      `The file was not loaded:\n${problems
        .slice(0, 20)
        .map((p) => `  - ${p}`)
        .join('\n')}${problems.length > 20 ? `\n  ...and ${problems.length - 20} more` : ''}`,
    );
  }
}

const ADDRESS_COLUMNS = ['uprn', 'house', 'street', 'usrn', 'locality', 'town', 'postcode', 'lat', 'lng'] as const;

/** One record of a CSV file, with the line it starts on for messages. */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/**
 * Reads RFC 4180 CSV: commas between fields, CRLF or LF between records, and fields in double quotes
 * holding commas, line breaks and doubled quotes. A byte order mark (spreadsheets write one) and blank
 * lines are skipped. Cells are given as written; callers trim them.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = () => {
    cells.push(cell);
    if (cells.length > 1 || cell.trim() !== '') records.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === '') {
      // A quote opens a quoted field only at its start (spaces before it are dropped); elsewhere it is text.
      cell = '';
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else cell += ch;
  }
  if (quoted) throw new ImportError([`line ${start}: a quoted field has no closing quote`]);
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

export function parseAddressCsv(csv: string) {
  const [head, ...records] = parseCsv(csv);
  const header = (head?.cells ?? []).map((h) => h.trim().toLowerCase());
  const missing = ADDRESS_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length) throw new ImportError([`the header row is missing ${missing.join(', ')}`]);
  const problems: string[] = [];
  const rows = records.map(({ line: lineNo, cells }) => {
    const get = (c: (typeof ADDRESS_COLUMNS)[number]) => (cells[header.indexOf(c)] ?? '').trim();
    const postcode = normalisePostcode(get('postcode'));
    const lat = Number(get('lat'));
    const lng = Number(get('lng'));
    if (!/^\d{1,12}$/.test(get('uprn'))) problems.push(`line ${lineNo}: uprn must be up to 12 digits`);
    if (!/^\d{1,8}$/.test(get('usrn'))) problems.push(`line ${lineNo}: usrn must be up to 8 digits`);
    if (!postcode) problems.push(`line ${lineNo}: postcode is not a valid UK postcode`);
    if (!Number.isFinite(lat) || lat < -90 || lat > 90 || !Number.isFinite(lng) || lng < -180 || lng > 180)
      problems.push(`line ${lineNo}: lat and lng must be coordinates`);
    if (!get('house') || !get('street')) problems.push(`line ${lineNo}: house and street are needed`);
    const house = get('house');
    const houseNumber = /^\d+/.test(house) ? Number(/^\d+/.exec(house)?.[0]) : null;
    const singleLine = `${house} ${get('street')}, ${get('town') || get('locality')}`;
    return {
      uprn: get('uprn'),
      single_line: singleLine,
      house,
      house_number: houseNumber,
      house_name: houseNumber === null ? house : null,
      street: get('street'),
      usrn: get('usrn'),
      locality: get('locality'),
      town: get('town'),
      postcode: postcode ?? '',
      postcode_norm: (postcode ?? '').replace(/\s+/g, ''),
      lat,
      lng,
      ward_code: null as string | null,
      search_text: searchTextOf({ singleLine, postcode: postcode ?? '' }),
    };
  });
  if (problems.length) throw new ImportError(problems);
  return rows;
}

/** A latitude (limit 90) or longitude (limit 180) written in a file, or null when it is not one. */
function coordinate(text: string, limit: number): number | null {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  return Number.isFinite(value) && Math.abs(value) <= limit ? value : null;
}

const ASSET_ID_MAX = 100;
const ASSET_STATE_MAX = 40;

/**
 * Problems with the id, usrn and state, which both asset file formats share; `field` names a field as
 * the format does. Notes each id in `seen`, as an id given twice would update the same asset twice.
 */
function assetProblems(
  at: string,
  asset: { id: string; usrn: string | null; state: string | null },
  seen: Map<string, string>,
  field: (name: string) => string = (name) => name,
): string[] {
  const problems: string[] = [];
  if (!asset.id) problems.push(`${at}: ${field('id')} is needed`);
  else if (asset.id.length > ASSET_ID_MAX) problems.push(`${at}: ${field('id')} must be ${ASSET_ID_MAX} characters or fewer`);
  else {
    const first = seen.get(asset.id);
    if (first) problems.push(`${at}: ${field('id')} ${asset.id} is also on ${first}`);
    else seen.set(asset.id, at);
  }
  if (asset.usrn !== null && !/^\d{1,8}$/.test(asset.usrn)) problems.push(`${at}: ${field('usrn')} must be up to 8 digits`);
  if (asset.state !== null && asset.state.length > ASSET_STATE_MAX) problems.push(`${at}: ${field('state')} must be ${ASSET_STATE_MAX} characters or fewer`);
  return problems;
}

const ASSET_CSV_REQUIRED = ['id', 'kind', 'lat', 'lng'] as const;
const ASSET_CSV_COLUMNS: readonly string[] = [...ASSET_CSV_REQUIRED, 'usrn', 'state'];

export function parseAssetsCsv(csv: string): AssetImportRow[] {
  const [head, ...records] = parseCsv(csv);
  const names = (head?.cells ?? []).map((h) => h.trim());
  const keys = names.map((n) => n.toLowerCase());
  const missing = ASSET_CSV_REQUIRED.filter((c) => !keys.includes(c));
  if (missing.length) throw new ImportError([`the header row is missing ${missing.join(', ')}`]);
  const problems: string[] = [];
  keys.forEach((key, i) => {
    if (!key) problems.push(`line ${head?.line ?? 1}: column ${i + 1} of the header row has no name`);
    else if (keys.indexOf(key) !== i) problems.push(`line ${head?.line ?? 1}: the header row names ${names[i] ?? key} twice`);
  });
  if (problems.length) throw new ImportError(problems);
  const seen = new Map<string, string>();
  const assets = records.map(({ line, cells }) => {
    const at = `line ${line}`;
    const get = (column: string) => (cells[keys.indexOf(column)] ?? '').trim();
    if (cells.length !== keys.length) problems.push(`${at}: there are ${cells.length} cells but the header row has ${keys.length}`);
    const kind = get('kind');
    if (!isAssetKind(kind)) problems.push(`${at}: kind must be ${ASSET_KIND_LIST.join(' or ')}`);
    const lat = coordinate(get('lat'), 90);
    const lng = coordinate(get('lng'), 180);
    if (lat === null || lng === null) problems.push(`${at}: lat and lng must be coordinates`);
    const attributes: Record<string, string> = {};
    keys.forEach((key, i) => {
      const value = (cells[i] ?? '').trim();
      if (!ASSET_CSV_COLUMNS.includes(key) && value) attributes[names[i] ?? key] = value;
    });
    const asset = {
      id: get('id'),
      kind: kind as AssetKind,
      usrn: get('usrn') || null,
      lat: lat ?? 0,
      lng: lng ?? 0,
      ward_code: null,
      state: get('state') || null,
      attributes,
    };
    problems.push(...assetProblems(at, asset, seen));
    return asset;
  });
  if (problems.length) throw new ImportError(problems);
  return assets;
}

export function parseAssetsGeoJson(text: string): AssetImportRow[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ImportError(['the file is not JSON']);
  }
  const features = (doc as { type?: string; features?: unknown[] }).features;
  if ((doc as { type?: string }).type !== 'FeatureCollection' || !Array.isArray(features))
    throw new ImportError(['the file must be a GeoJSON FeatureCollection']);
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const assets = features.map((f, i) => {
    const feature = f as { geometry?: { type?: string; coordinates?: unknown }; properties?: Record<string, unknown> };
    const props = feature.properties ?? {};
    const coords = feature.geometry?.coordinates;
    const at = `feature ${i + 1}`;
    if (feature.geometry?.type !== 'Point' || !Array.isArray(coords) || coords.length < 2 || !coords.every((c) => typeof c === 'number'))
      problems.push(`${at}: geometry must be a Point`);
    const { id, kind, usrn, state, ...attributes } = props;
    if (!isAssetKind(kind)) problems.push(`${at}: properties.kind must be ${ASSET_KIND_LIST.join(' or ')}`);
    if (state !== undefined && (typeof state !== 'string' || !state.trim())) problems.push(`${at}: properties.state must be text`);
    const [lng, lat] = (Array.isArray(coords) ? coords : [0, 0]) as number[];
    const asset = {
      id: typeof id === 'string' || typeof id === 'number' ? String(id).trim() : '',
      kind: kind as AssetKind,
      usrn: typeof usrn === 'string' || typeof usrn === 'number' ? String(usrn) : null,
      lat: lat ?? 0,
      lng: lng ?? 0,
      ward_code: null,
      state: typeof state === 'string' && state.trim() ? state.trim() : null,
      attributes,
    };
    problems.push(...assetProblems(at, asset, seen, (name) => `properties.${name}`));
    return asset;
  });
  if (problems.length) throw new ImportError(problems);
  return assets;
}

/** Streets the gazetteer names but the street table lacks: a line through their addresses, west to east. */
function streetsFromAddresses(rows: ReturnType<typeof parseAddressCsv>) {
  const byUsrn = new Map<string, typeof rows>();
  for (const r of rows) byUsrn.set(r.usrn, [...(byUsrn.get(r.usrn) ?? []), r]);
  return [...byUsrn.values()].map((addresses) => {
    const first = addresses[0] as (typeof rows)[number];
    const points = addresses.map((a) => [a.lng, a.lat] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const coordinates = points.length > 1 ? points : [points[0] as [number, number], points[0] as [number, number]];
    const geometry = { type: 'LineString' as const, coordinates };
    let length = 0;
    for (let i = 1; i < coordinates.length; i++) {
      const [aLng, aLat] = coordinates[i - 1] as [number, number];
      const [bLng, bLat] = coordinates[i] as [number, number];
      length += haversineMetres({ lat: aLat, lng: aLng }, { lat: bLat, lng: bLng });
    }
    return {
      usrn: first.usrn,
      name: first.street,
      locality: first.locality,
      town: first.town,
      ward_code: first.ward_code,
      length_m: length,
      geojson: geometry,
      ...bboxOf(geometry),
    };
  });
}
