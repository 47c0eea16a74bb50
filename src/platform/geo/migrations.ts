import type { Kysely } from 'kysely';
import { sql, type MigrationSet } from '#platform/db/index';

/*
 * Geography tables: the council boundary, wards, the street gazetteer (USRN), the address
 * gazetteer (UPRN) and located street assets. Coordinates are WGS84 latitude/longitude in
 * double precision; bounding boxes are stored as plain columns so box queries use btree indexes.
 */

async function run(db: Kysely<unknown>, statements: ReturnType<typeof sql>[]): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export const geoMigrations: MigrationSet = {
  migrations: {
    '20261123-02-geo-gazetteer': {
      async up(db) {
        await run(db, [
          sql`CREATE TABLE geo_boundary (
            id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            name text NOT NULL,
            geojson jsonb NOT NULL,
            south double precision NOT NULL,
            west double precision NOT NULL,
            north double precision NOT NULL,
            east double precision NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE TABLE geo_wards (
            code text PRIMARY KEY,
            name text NOT NULL,
            locality text,
            geojson jsonb NOT NULL,
            south double precision NOT NULL,
            west double precision NOT NULL,
            north double precision NOT NULL,
            east double precision NOT NULL
          )`,
          sql`CREATE TABLE geo_streets (
            usrn text PRIMARY KEY CHECK (usrn ~ '^[0-9]{8}$'),
            name text NOT NULL,
            locality text NOT NULL,
            town text NOT NULL,
            ward_code text,
            length_m double precision NOT NULL,
            geojson jsonb NOT NULL,
            south double precision NOT NULL,
            west double precision NOT NULL,
            north double precision NOT NULL,
            east double precision NOT NULL
          )`,
          sql`CREATE INDEX geo_streets_bbox_idx ON geo_streets (south, north, west, east)`,
          sql`CREATE INDEX geo_streets_name_trgm_idx ON geo_streets USING gin (lower(name) gin_trgm_ops)`,
          sql`CREATE TABLE geo_addresses (
            uprn text PRIMARY KEY CHECK (uprn ~ '^[0-9]{1,12}$'),
            single_line text NOT NULL,
            house text NOT NULL,
            house_number integer,
            house_name text,
            street text NOT NULL,
            usrn text NOT NULL REFERENCES geo_streets (usrn),
            locality text NOT NULL,
            town text NOT NULL,
            postcode text NOT NULL,
            postcode_norm text NOT NULL,
            lat double precision NOT NULL,
            lng double precision NOT NULL,
            ward_code text,
            search_text text NOT NULL
          )`,
          sql`CREATE INDEX geo_addresses_postcode_idx ON geo_addresses (postcode_norm)`,
          sql`CREATE INDEX geo_addresses_usrn_idx ON geo_addresses (usrn)`,
          sql`CREATE INDEX geo_addresses_latlng_idx ON geo_addresses (lat, lng)`,
          sql`CREATE INDEX geo_addresses_search_trgm_idx ON geo_addresses USING gin (search_text gin_trgm_ops)`,
          sql`CREATE TABLE assets (
            id text PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('streetlight', 'gully')),
            usrn text,
            lat double precision NOT NULL,
            lng double precision NOT NULL,
            ward_code text,
            state text NOT NULL DEFAULT 'working',
            attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
            updated_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE INDEX assets_latlng_idx ON assets (lat, lng)`,
          sql`CREATE INDEX assets_kind_latlng_idx ON assets (kind, lat, lng)`,
          sql`CREATE INDEX assets_usrn_idx ON assets (usrn)`,
        ]);
      },
      async down(db) {
        await run(db, [
          sql`DROP TABLE IF EXISTS assets`,
          sql`DROP TABLE IF EXISTS geo_addresses`,
          sql`DROP TABLE IF EXISTS geo_streets`,
          sql`DROP TABLE IF EXISTS geo_wards`,
          sql`DROP TABLE IF EXISTS geo_boundary`,
        ]);
      },
    },
  },
};
