import { sql, type ColumnType, type Generated } from 'kysely';
import type { MigrationSet } from '#platform/db/index';
import type { ReportStatus } from './model/category.js';

type Json<T> = ColumnType<T, string, string>;

/**
 * A street report: the public face of a case. The case holds the work (status, team, SLA, notes);
 * this row holds what the public may see and what the map and Open311 query: the category, the
 * point, the asset, the answers and the report status the case's status maps to.
 */
export interface ReportsTable {
  /** The case's reference, which is also the Open311 service_request_id. */
  reference: string;
  case_id: string;
  category: string;
  title: string;
  detail: string;
  answers: Json<Record<string, unknown>>;
  lat: number;
  lng: number;
  /** Where the public sees it: the point itself, or rounded for a category with approximate locations. */
  public_lat: number;
  public_lng: number;
  place: string | null;
  usrn: string | null;
  ward_code: string | null;
  asset_id: string | null;
  status: ReportStatus;
  /** Whether the case is closed; Open311's plain status. */
  closed: boolean;
  urgent: boolean;
  /** Shown on the public map, pages, feed and Open311: the category is public and staff have not hidden it. */
  public: boolean;
  hidden: Generated<boolean>;
  /** The name shown publicly, or null when the reporter kept it off. */
  public_name: string | null;
  source: 'web' | 'open311' | 'staff';
  /** The API key an Open311 client used. */
  api_key_id: string | null;
  /** Open311 `tokens/{token}`. */
  token: string;
  /** A retried submission (double press, client retry) finds the report it made instead of making another. */
  submission_key: string | null;
  duplicate_of: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  fixed_at: Date | null;
}

/** The public timeline of a report, written in the same transaction as the case change it mirrors. Open311 `servicerequestupdates` reads it. */
export interface ReportUpdatesTable {
  id: Generated<string>;
  reference: string;
  status: ReportStatus;
  /** The public words, if any. */
  text: string | null;
  kind: 'status' | 'update' | 'not-fixed';
  hidden: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface ReportPhotosTable {
  /** The stored file. */
  id: string;
  reference: string;
  position: number;
  /** Photos are shown publicly once staff approve them. */
  state: Generated<'pending' | 'approved' | 'hidden'>;
  created_at: Generated<Date>;
}

export interface ReportFollowersTable {
  id: Generated<string>;
  reference: string;
  email: string;
  created_at: Generated<Date>;
}

/** An email alert for new reports near a point or in a ward. */
export interface ReportAlertsTable {
  id: Generated<string>;
  email: string;
  kind: 'area' | 'ward';
  lat: number | null;
  lng: number | null;
  radius_m: number | null;
  ward_code: string | null;
  created_at: Generated<Date>;
}

/** Photos kept while a resident writes a report; removed, with their files, if the report is never sent. */
export interface ReportPhotoStashTable {
  id: string;
  created_at: Generated<Date>;
}

export type ReportTables = {
  report_photo_stash: ReportPhotoStashTable;
  reports: ReportsTable;
  report_updates: ReportUpdatesTable;
  report_photos: ReportPhotosTable;
  report_followers: ReportFollowersTable;
  report_alerts: ReportAlertsTable;
};

export const reportsMigrations: MigrationSet = {
  migrations: {
    '20261202-01-reports': {
      async up(db) {
        const statements = [
          sql`CREATE TABLE reports (
            reference text PRIMARY KEY,
            case_id uuid NOT NULL UNIQUE REFERENCES cases (id),
            category text NOT NULL,
            title text NOT NULL,
            detail text NOT NULL,
            answers jsonb NOT NULL DEFAULT '{}'::jsonb,
            lat double precision NOT NULL,
            lng double precision NOT NULL,
            public_lat double precision NOT NULL,
            public_lng double precision NOT NULL,
            place text,
            usrn text,
            ward_code text,
            asset_id text,
            status text NOT NULL,
            closed boolean NOT NULL DEFAULT false,
            urgent boolean NOT NULL DEFAULT false,
            public boolean NOT NULL,
            hidden boolean NOT NULL DEFAULT false,
            public_name text,
            source text NOT NULL CHECK (source IN ('web', 'open311', 'staff')),
            api_key_id text,
            token text NOT NULL UNIQUE,
            submission_key text UNIQUE,
            duplicate_of text REFERENCES reports (reference),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            fixed_at timestamptz
          )`,
          // The map and the nearby-duplicates check read public and open reports by box.
          sql`CREATE INDEX reports_public_latlng_idx ON reports (public_lat, public_lng) WHERE public`,
          sql`CREATE INDEX reports_open_latlng_idx ON reports (lat, lng) WHERE NOT closed`,
          sql`CREATE INDEX reports_asset_open_idx ON reports (asset_id) WHERE NOT closed AND asset_id IS NOT NULL`,
          sql`CREATE INDEX reports_created_idx ON reports (created_at)`,
          sql`CREATE INDEX reports_updated_idx ON reports (updated_at)`,
          sql`CREATE TABLE report_updates (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            reference text NOT NULL REFERENCES reports (reference),
            status text NOT NULL,
            text text,
            kind text NOT NULL CHECK (kind IN ('status', 'update', 'not-fixed')),
            hidden boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE INDEX report_updates_reference_idx ON report_updates (reference, id)`,
          sql`CREATE INDEX report_updates_created_idx ON report_updates (created_at)`,
          sql`CREATE TABLE report_photos (
            id uuid PRIMARY KEY,
            reference text NOT NULL REFERENCES reports (reference),
            position smallint NOT NULL,
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'hidden')),
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (reference, position)
          )`,
          sql`CREATE TABLE report_followers (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            reference text NOT NULL REFERENCES reports (reference),
            email text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (reference, email)
          )`,
          sql`CREATE TABLE report_alerts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            email text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('area', 'ward')),
            lat double precision,
            lng double precision,
            radius_m integer CHECK (radius_m BETWEEN 100 AND 5000),
            ward_code text,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((kind = 'area' AND lat IS NOT NULL AND lng IS NOT NULL AND radius_m IS NOT NULL) OR (kind = 'ward' AND ward_code IS NOT NULL))
          )`,
          sql`CREATE UNIQUE INDEX report_alerts_unique_idx ON report_alerts (email, kind, coalesce(ward_code, ''), coalesce(lat, 0), coalesce(lng, 0), coalesce(radius_m, 0))`,
        ];
        for (const statement of statements) await statement.execute(db);
      },
      async down(db) {
        for (const table of ['report_alerts', 'report_followers', 'report_photos', 'report_updates', 'reports'])
          await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
      },
    },
    '20261202-02-report-photo-stash': {
      async up(db) {
        await sql`CREATE TABLE report_photo_stash (
          id uuid PRIMARY KEY,
          created_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
        await sql`CREATE INDEX report_photo_stash_created_idx ON report_photo_stash (created_at)`.execute(db);
      },
      async down(db) {
        await sql`DROP TABLE IF EXISTS report_photo_stash`.execute(db);
      },
    },
  },
};
