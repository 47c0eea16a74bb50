import { sql, type ColumnType, type Generated } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

type Json<T> = ColumnType<T, string, string>;

/** Someone a case is about or for: a resident with an account, a person without one, or an organisation. */
export interface CasePeopleTable {
  id: Generated<string>;
  /** Set when the person has a resident account. */
  resident_id: string | null;
  kind: 'person' | 'organisation';
  name: string;
  organisation: string | null;
  email: string | null;
  phone: string | null;
  /** Digits only, for search. */
  phone_digits: string | null;
  address: string | null;
  /** Upper case without spaces, for search. */
  postcode: string | null;
  uprn: string | null;
  /** Email or SMS, for status messages. */
  contact_by: 'email' | 'sms' | 'none';
  created_at: Generated<Date>;
  anonymised_at: Date | null;
}

export interface CasesTable {
  id: Generated<string>;
  reference: string;
  type: string;
  status: string;
  priority: string;
  team: string;
  assignee_id: string | null;
  /** Copied from the type when opened, so queue filters need no lookup. */
  restricted: boolean;
  title: string;
  description: string | null;
  subject_kind: 'resident' | 'person' | 'organisation' | 'anonymous';
  person_id: string | null;
  resident_id: string | null;
  lat: number | null;
  lng: number | null;
  address: string | null;
  postcode: string | null;
  uprn: string | null;
  usrn: string | null;
  ward: string | null;
  source: 'form' | 'report' | 'booking' | 'staff' | 'api';
  channel: 'online' | 'phone' | 'face-to-face' | 'email' | 'api';
  /** The form submission, report or booking reference the case came from. */
  source_reference: string | null;
  /** A form delivery opens one case however often it is retried. */
  delivery_id: string | null;
  /** Answers and the like from the source, shown on the case page. */
  details: Json<unknown>;
  tags: string[];
  opened_at: Generated<Date>;
  due_at: Date | null;
  due_soon_at: Date | null;
  breached_at: Date | null;
  closed_at: Date | null;
  updated_at: Generated<Date>;
  anonymised_at: Date | null;
}

export type CaseEventKind =
  | 'opened'
  | 'status'
  | 'note'
  | 'update'
  | 'resident-info'
  | 'message'
  | 'viewed'
  | 'assigned'
  | 'priority'
  | 'task'
  | 'attachment'
  | 'link'
  | 'tags'
  | 'sla'
  | 'anonymised';

/** The case timeline. Append-only: history is never rewritten (anonymising clears text, not rows). */
export interface CaseEventsTable {
  id: Generated<string>;
  case_id: string;
  at: Generated<Date>;
  kind: CaseEventKind;
  actor_type: 'staff' | 'resident' | 'system' | 'api';
  actor_id: string | null;
  actor_label: string | null;
  /** Public events are shown to the resident. */
  public: boolean;
  body: string | null;
  details: Json<Record<string, unknown>>;
}

export interface CaseTasksTable {
  id: Generated<string>;
  case_id: string;
  title: string;
  due_on: string | null;
  assignee_id: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  done_at: Date | null;
  done_by: string | null;
}

export interface CaseAttachmentsTable {
  id: Generated<string>;
  case_id: string;
  file_id: string;
  filename: string;
  content_type: string;
  size: number;
  added_by_type: 'staff' | 'resident' | 'system' | 'api';
  added_by_id: string | null;
  public: boolean;
  created_at: Generated<Date>;
}

/** `duplicate-of` and `parent-of` read from case_id to other_id; `related` is stored once each way. */
export interface CaseLinksTable {
  case_id: string;
  other_id: string;
  kind: 'duplicate-of' | 'parent-of' | 'related';
  created_at: Generated<Date>;
  created_by: string | null;
}

export interface CaseSavedViewsTable {
  id: Generated<string>;
  staff_id: string;
  name: string;
  /** The queue's query string. */
  query: string;
  created_at: Generated<Date>;
}

/** Signed webhooks to back-office systems on each status change, sent by the outbox worker. */
export interface CaseWebhooksTable {
  id: Generated<string>;
  case_id: string;
  url: string;
  secret_env: string;
  payload: string;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
}

export type CaseTables = {
  case_people: CasePeopleTable;
  cases: CasesTable;
  case_events: CaseEventsTable;
  case_tasks: CaseTasksTable;
  case_attachments: CaseAttachmentsTable;
  case_links: CaseLinksTable;
  case_saved_views: CaseSavedViewsTable;
  case_webhooks: CaseWebhooksTable;
};

export const casesMigrations: MigrationSet = {
  migrations: {
    '20261201-01-cases': {
      async up(db) {
        await sql`
          CREATE TABLE case_people (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            resident_id uuid,
            kind text NOT NULL CHECK (kind IN ('person', 'organisation')),
            name text NOT NULL,
            organisation text,
            email text,
            phone text,
            phone_digits text,
            address text,
            postcode text,
            uprn text,
            contact_by text NOT NULL DEFAULT 'email' CHECK (contact_by IN ('email', 'sms', 'none')),
            created_at timestamptz NOT NULL DEFAULT now(),
            anonymised_at timestamptz
          );
          CREATE UNIQUE INDEX case_people_resident ON case_people (resident_id) WHERE resident_id IS NOT NULL;
          CREATE INDEX case_people_email ON case_people (lower(email));
          CREATE INDEX case_people_phone ON case_people (phone_digits);
          CREATE INDEX case_people_postcode ON case_people (postcode);
          CREATE INDEX case_people_name ON case_people USING gin (lower(name) gin_trgm_ops);

          CREATE TABLE cases (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            reference text NOT NULL UNIQUE,
            type text NOT NULL,
            status text NOT NULL,
            priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
            team text NOT NULL,
            assignee_id uuid,
            restricted boolean NOT NULL DEFAULT false,
            title text NOT NULL,
            description text,
            subject_kind text NOT NULL CHECK (subject_kind IN ('resident', 'person', 'organisation', 'anonymous')),
            person_id uuid REFERENCES case_people (id),
            resident_id uuid,
            lat double precision,
            lng double precision,
            address text,
            postcode text,
            uprn text,
            usrn text,
            ward text,
            source text NOT NULL CHECK (source IN ('form', 'report', 'booking', 'staff', 'api')),
            channel text NOT NULL CHECK (channel IN ('online', 'phone', 'face-to-face', 'email', 'api')),
            source_reference text,
            delivery_id text UNIQUE,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            tags text[] NOT NULL DEFAULT '{}',
            opened_at timestamptz NOT NULL DEFAULT now(),
            due_at timestamptz,
            due_soon_at timestamptz,
            breached_at timestamptz,
            closed_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            anonymised_at timestamptz
          );
          -- Queues read open cases of a team, most urgent first; closed cases are the long tail.
          CREATE INDEX cases_open_team ON cases (team, due_at, opened_at) WHERE closed_at IS NULL;
          CREATE INDEX cases_open_assignee ON cases (assignee_id, due_at) WHERE closed_at IS NULL;
          CREATE INDEX cases_team_opened ON cases (team, opened_at DESC);
          CREATE INDEX cases_postcode ON cases (postcode);
          CREATE INDEX cases_uprn ON cases (uprn);
          CREATE INDEX cases_person ON cases (person_id, opened_at DESC);
          CREATE INDEX cases_resident ON cases (resident_id, opened_at DESC);
          CREATE INDEX cases_closed ON cases (closed_at) WHERE closed_at IS NOT NULL AND anonymised_at IS NULL;
          CREATE INDEX cases_sla ON cases (due_at) WHERE closed_at IS NULL AND breached_at IS NULL;

          CREATE TABLE case_events (
            id bigserial PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES cases (id),
            at timestamptz NOT NULL DEFAULT now(),
            kind text NOT NULL,
            actor_type text NOT NULL,
            actor_id text,
            actor_label text,
            public boolean NOT NULL DEFAULT false,
            body text,
            details jsonb NOT NULL DEFAULT '{}'::jsonb
          );
          CREATE INDEX case_events_case ON case_events (case_id, at, id);

          CREATE TABLE case_tasks (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            case_id uuid NOT NULL REFERENCES cases (id),
            title text NOT NULL,
            due_on date,
            assignee_id uuid,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            done_at timestamptz,
            done_by uuid
          );
          CREATE INDEX case_tasks_case ON case_tasks (case_id, created_at);
          CREATE INDEX case_tasks_open ON case_tasks (assignee_id, due_on) WHERE done_at IS NULL;

          CREATE TABLE case_attachments (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            case_id uuid NOT NULL REFERENCES cases (id),
            file_id uuid NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            size integer NOT NULL,
            added_by_type text NOT NULL,
            added_by_id text,
            public boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE INDEX case_attachments_case ON case_attachments (case_id, created_at);

          CREATE TABLE case_links (
            case_id uuid NOT NULL REFERENCES cases (id),
            other_id uuid NOT NULL REFERENCES cases (id),
            kind text NOT NULL CHECK (kind IN ('duplicate-of', 'parent-of', 'related')),
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by uuid,
            PRIMARY KEY (case_id, other_id),
            CHECK (case_id <> other_id)
          );
          CREATE INDEX case_links_other ON case_links (other_id);

          CREATE TABLE case_saved_views (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            staff_id uuid NOT NULL,
            name text NOT NULL,
            query text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (staff_id, name)
          );

          CREATE TABLE case_webhooks (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            case_id uuid NOT NULL REFERENCES cases (id),
            url text NOT NULL,
            secret_env text NOT NULL,
            payload text NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz
          );
          CREATE INDEX case_webhooks_due ON case_webhooks (next_attempt_at) WHERE status IN ('pending', 'sending');

          CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            -- Anonymising may clear text; nothing else may change or remove the history.
            IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.case_id = OLD.case_id AND NEW.kind = OLD.kind AND NEW.at = OLD.at
               AND NEW.body IS NULL AND current_setting('borough.anonymising', true) = 'on' THEN
              RETURN NEW;
            END IF;
            RAISE EXCEPTION 'case_events is append-only: % is not allowed', TG_OP;
          END $$;
          CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events
            FOR EACH ROW EXECUTE FUNCTION case_events_append_only();
        `.execute(db);
      },
    },
    '20261201-02-cases-covering-indexes': {
      async up(db) {
        // Queue pages count a team's open cases under the chosen filters; with the filter columns in
        // the index the count reads only the index, not every open case's row.
        await sql`
          DROP INDEX cases_open_team;
          CREATE INDEX cases_open_team ON cases (team, due_at, opened_at)
            INCLUDE (id, type, status, priority, ward, assignee_id, breached_at, restricted) WHERE closed_at IS NULL;
          DROP INDEX cases_open_assignee;
          CREATE INDEX cases_open_assignee ON cases (assignee_id, due_at)
            INCLUDE (team, type, status, priority, ward, breached_at, restricted) WHERE closed_at IS NULL;
          CREATE INDEX case_people_uprn ON case_people (uprn);
        `.execute(db);
      },
    },
  },
};
