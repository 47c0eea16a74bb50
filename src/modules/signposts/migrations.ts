import { sql, type ColumnType, type Generated } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

type Json<T> = ColumnType<T, string, string>;

/** The register as last loaded from configuration, so loads and records can refer to a source. */
export interface SignpostsSourcesTable {
  code: string;
  agency: string;
  system: string;
  owner: string;
  agreement: string;
  lawful_basis: string;
  refresh_hours: number;
  retention_days: number;
  roles: Json<string[]>;
  updated_at: Generated<Date>;
}

export interface RowProblemJson {
  row: number;
  recordId: string;
  column: string;
  message: string;
}

export interface SignpostsLoadsTable {
  id: Generated<number>;
  source_code: string;
  file_name: string;
  via: 'command line' | 'api';
  /** SHA-256 of the extract: the same extract again changes nothing. */
  checksum: string;
  status: 'loaded' | 'unchanged' | 'failed';
  rows: number;
  records: number;
  added: number;
  changed: number;
  rejected: number;
  problems: Json<RowProblemJson[]>;
  failure: string | null;
  loaded_by: string;
  started_at: Date;
  finished_at: Generated<Date>;
}

export interface SignpostsRecordsTable {
  id: Generated<number>;
  source_code: string;
  record_id: string;
  person_id: number;
  forenames: string;
  surname: string;
  previous_names: Json<string[]>;
  aliases: Json<string[]>;
  dob: string;
  gender: string;
  address: string;
  postcode: string;
  uprn: string;
  identifiers: Json<Record<string, string>>;
  household: string;
  parent_record_id: string;
  /** Hash of the mapped record and its events: an unchanged record is not rewritten. */
  content_hash: string;
  last_load_id: number;
  first_seen_at: Generated<Date>;
  last_seen_at: Generated<Date>;
}

export interface SignpostsEventsTable {
  id: Generated<number>;
  record_pk: number;
  event_id: string;
  type: string;
  starts_on: string | null;
  ends_on: string | null;
  summary: string;
  status: 'open' | 'closed';
  professional: string;
  contact: string;
}

/** A person: a cluster of records. Its id outlives re-linking wherever most of its records stay together. */
export interface SignpostsPeopleTable {
  id: Generated<number>;
  created_at: Generated<Date>;
}

/**
 * Pairs of records the model was unsure of (or that look like twins), and what staff decided. A decision
 * overrides the model from then on: a confirmed pair is always one person, a rejected pair never.
 */
export interface SignpostsLinksTable {
  record_a: number;
  record_b: number;
  probability: number;
  reason: 'uncertain' | 'possible twins or siblings';
  status: 'review' | 'confirmed' | 'rejected';
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
  created_at: Generated<Date>;
}

export interface SignpostsModelTable {
  id: number;
  model: Json<unknown>;
  records: number;
  trained_at: Generated<Date>;
}

/** Access to a person's records in a source the officer's role may not see, with the reason given. */
export interface SignpostsBreakGlassTable {
  id: Generated<number>;
  staff_id: string;
  person_id: number;
  reason: string;
  purpose: string;
  granted_at: Generated<Date>;
  expires_at: Date;
}

/** One row whose version goes up with every change to records, people, decisions or the model. */
export interface SignpostsStateTable {
  id: number;
  version: number;
}

export type SignpostsTables = {
  signposts_state: SignpostsStateTable;
  signposts_sources: SignpostsSourcesTable;
  signposts_loads: SignpostsLoadsTable;
  signposts_records: SignpostsRecordsTable;
  signposts_events: SignpostsEventsTable;
  signposts_people: SignpostsPeopleTable;
  signposts_links: SignpostsLinksTable;
  signposts_model: SignpostsModelTable;
  signposts_break_glass: SignpostsBreakGlassTable;
};

export const signpostsMigrations: MigrationSet = {
  migrations: {
    '20261208-01-signposts': {
      async up(db) {
        const statements = [
          sql`CREATE TABLE signposts_sources (
            code text PRIMARY KEY,
            agency text NOT NULL,
            system text NOT NULL,
            owner text NOT NULL,
            agreement text NOT NULL,
            lawful_basis text NOT NULL,
            refresh_hours integer NOT NULL,
            retention_days integer NOT NULL,
            roles jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE TABLE signposts_loads (
            id bigserial PRIMARY KEY,
            source_code text NOT NULL REFERENCES signposts_sources (code),
            file_name text NOT NULL,
            via text NOT NULL CHECK (via IN ('command line', 'api')),
            checksum text NOT NULL,
            status text NOT NULL CHECK (status IN ('loaded', 'unchanged', 'failed')),
            rows integer NOT NULL,
            records integer NOT NULL,
            added integer NOT NULL,
            changed integer NOT NULL,
            rejected integer NOT NULL,
            problems jsonb NOT NULL DEFAULT '[]'::jsonb,
            failure text,
            loaded_by text NOT NULL,
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE INDEX signposts_loads_source_idx ON signposts_loads (source_code, finished_at DESC)`,
          sql`CREATE TABLE signposts_people (
            id bigserial PRIMARY KEY,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE TABLE signposts_records (
            id bigserial PRIMARY KEY,
            source_code text NOT NULL REFERENCES signposts_sources (code),
            record_id text NOT NULL,
            person_id bigint NOT NULL REFERENCES signposts_people (id),
            forenames text NOT NULL,
            surname text NOT NULL,
            previous_names jsonb NOT NULL DEFAULT '[]'::jsonb,
            aliases jsonb NOT NULL DEFAULT '[]'::jsonb,
            dob text NOT NULL,
            gender text NOT NULL,
            address text NOT NULL,
            postcode text NOT NULL,
            uprn text NOT NULL,
            identifiers jsonb NOT NULL DEFAULT '{}'::jsonb,
            household text NOT NULL,
            parent_record_id text NOT NULL,
            content_hash text NOT NULL,
            last_load_id bigint NOT NULL REFERENCES signposts_loads (id),
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (source_code, record_id)
          )`,
          sql`CREATE INDEX signposts_records_person_idx ON signposts_records (person_id)`,
          sql`CREATE INDEX signposts_records_household_idx ON signposts_records (source_code, household) WHERE household <> ''`,
          sql`CREATE TABLE signposts_events (
            id bigserial PRIMARY KEY,
            record_pk bigint NOT NULL REFERENCES signposts_records (id) ON DELETE CASCADE,
            event_id text NOT NULL,
            type text NOT NULL,
            starts_on date,
            ends_on date,
            summary text NOT NULL,
            status text NOT NULL CHECK (status IN ('open', 'closed')),
            professional text NOT NULL,
            contact text NOT NULL,
            UNIQUE (record_pk, event_id)
          )`,
          sql`CREATE TABLE signposts_links (
            record_a bigint NOT NULL REFERENCES signposts_records (id) ON DELETE CASCADE,
            record_b bigint NOT NULL REFERENCES signposts_records (id) ON DELETE CASCADE,
            probability double precision NOT NULL,
            reason text NOT NULL CHECK (reason IN ('uncertain', 'possible twins or siblings')),
            status text NOT NULL CHECK (status IN ('review', 'confirmed', 'rejected')),
            decided_by uuid,
            decided_at timestamptz,
            note text,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (record_a, record_b),
            CHECK (record_a < record_b)
          )`,
          sql`CREATE INDEX signposts_links_b_idx ON signposts_links (record_b)`,
          sql`CREATE INDEX signposts_links_review_idx ON signposts_links (probability DESC) WHERE status = 'review'`,
          sql`CREATE TABLE signposts_model (
            id integer PRIMARY KEY CHECK (id = 1),
            model jsonb NOT NULL,
            records integer NOT NULL,
            trained_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE TABLE signposts_break_glass (
            id bigserial PRIMARY KEY,
            staff_id uuid NOT NULL,
            person_id bigint NOT NULL REFERENCES signposts_people (id),
            reason text NOT NULL,
            purpose text NOT NULL,
            granted_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL
          )`,
          sql`CREATE INDEX signposts_break_glass_idx ON signposts_break_glass (staff_id, person_id, expires_at)`,
          sql`CREATE TABLE signposts_state (
            id integer PRIMARY KEY CHECK (id = 1),
            version bigint NOT NULL
          )`,
          sql`INSERT INTO signposts_state (id, version) VALUES (1, 0)`,
        ];
        for (const statement of statements) await statement.execute(db);
      },
    },
  },
};
