import { sql, type ColumnType, type Generated } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

type Json<T> = ColumnType<T, string, string>;

export interface FormsTable {
  slug: string;
  form_id: string;
  title: string;
  /** The version residents are given; the newest published one. */
  live_version: number;
  created_at: Generated<Date>;
}

export interface FormVersionsTable {
  slug: string;
  version: number;
  definition: Json<unknown>;
  published_at: Generated<Date>;
  published_by: string | null;
  /** Why this version was published, for the history. */
  note: string | null;
}

export interface FormDraftsTable {
  id: Generated<string>;
  slug: string;
  version: number;
  resident_id: string | null;
  /** Set when staff fill the form in for a resident. */
  staff_id: string | null;
  channel: string;
  answers: Json<Record<string, unknown>>;
  /** Page ids answered and passed, in order. */
  pages_done: string[];
  /** The email address a resume link was last sent to. */
  resume_email: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  expires_at: Date;
}

export interface FormSubmissionsTable {
  id: Generated<string>;
  reference: string;
  slug: string;
  version: number;
  /** One submission per draft: a second press of "Submit" finds the first. */
  draft_id: string;
  answers: Json<Record<string, unknown>>;
  summary: Json<unknown>;
  submitted_by: 'resident' | 'anonymous' | 'staff';
  resident_id: string | null;
  staff_id: string | null;
  channel: string;
  contact_email: string | null;
  started_at: Date;
  submitted_at: Generated<Date>;
}

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface FormDeliveriesTable {
  id: Generated<string>;
  submission_id: string;
  name: string;
  type: 'webhook' | 'email' | 'case';
  settings: Json<Record<string, unknown>>;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  detail: string | null;
  created_at: Generated<Date>;
  next_attempt_at: Generated<Date>;
  delivered_at: Date | null;
}

/** One row per journey through a form, kept without answers or personal data for the funnel. */
export interface FormJourneysTable {
  draft_id: string;
  slug: string;
  version: number;
  started_at: Date;
  pages_reached: ColumnType<string[], string[] | undefined, string[]>;
  completed_at: Date | null;
}

export type FormTables = {
  forms: FormsTable;
  form_versions: FormVersionsTable;
  form_drafts: FormDraftsTable;
  form_submissions: FormSubmissionsTable;
  form_deliveries: FormDeliveriesTable;
  form_journeys: FormJourneysTable;
};

export const formsMigrations: MigrationSet = {
  migrations: {
    '20261124-01-forms-definitions-and-submissions': {
      async up(db) {
        await sql`
          CREATE TABLE forms (
            slug text PRIMARY KEY,
            form_id text NOT NULL UNIQUE,
            title text NOT NULL,
            live_version integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE TABLE form_versions (
            slug text NOT NULL REFERENCES forms(slug),
            version integer NOT NULL CHECK (version > 0),
            definition jsonb NOT NULL,
            published_at timestamptz NOT NULL DEFAULT now(),
            published_by uuid,
            note text,
            PRIMARY KEY (slug, version)
          );
          -- A published version never changes: submissions point at it.
          CREATE FUNCTION form_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'published form versions cannot be changed: % is not allowed', TG_OP;
          END $$;
          CREATE TRIGGER form_versions_no_change BEFORE UPDATE OR DELETE ON form_versions
            FOR EACH ROW EXECUTE FUNCTION form_versions_immutable();

          CREATE TABLE form_drafts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            slug text NOT NULL,
            version integer NOT NULL,
            resident_id uuid,
            staff_id uuid,
            channel text NOT NULL DEFAULT 'online',
            answers jsonb NOT NULL DEFAULT '{}'::jsonb,
            pages_done text[] NOT NULL DEFAULT '{}',
            resume_email text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            FOREIGN KEY (slug, version) REFERENCES form_versions(slug, version)
          );
          CREATE INDEX form_drafts_resident ON form_drafts (resident_id, updated_at DESC) WHERE resident_id IS NOT NULL;
          CREATE INDEX form_drafts_expiry ON form_drafts (expires_at);

          CREATE TABLE form_submissions (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            reference text NOT NULL UNIQUE,
            slug text NOT NULL,
            version integer NOT NULL,
            draft_id uuid NOT NULL UNIQUE,
            answers jsonb NOT NULL,
            summary jsonb NOT NULL,
            submitted_by text NOT NULL CHECK (submitted_by IN ('resident', 'anonymous', 'staff')),
            resident_id uuid,
            staff_id uuid,
            channel text NOT NULL CHECK (channel IN ('online', 'phone', 'face-to-face')),
            contact_email text,
            started_at timestamptz NOT NULL,
            submitted_at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (slug, version) REFERENCES form_versions(slug, version)
          );
          CREATE INDEX form_submissions_form ON form_submissions (slug, submitted_at DESC);
          CREATE INDEX form_submissions_resident ON form_submissions (resident_id, submitted_at DESC) WHERE resident_id IS NOT NULL;
          -- A submission is a record of what was sent: only the link to a deleted account may be removed.
          CREATE FUNCTION form_submissions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF TG_OP = 'UPDATE' AND NEW.resident_id IS NULL
              AND (to_jsonb(NEW) - 'resident_id' - 'contact_email') = (to_jsonb(OLD) - 'resident_id' - 'contact_email') THEN
              RETURN NEW;
            END IF;
            RAISE EXCEPTION 'form submissions cannot be changed: % is not allowed', TG_OP;
          END $$;
          CREATE TRIGGER form_submissions_no_change BEFORE UPDATE OR DELETE ON form_submissions
            FOR EACH ROW EXECUTE FUNCTION form_submissions_immutable();

          CREATE TABLE form_deliveries (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            submission_id uuid NOT NULL REFERENCES form_submissions(id),
            name text NOT NULL,
            type text NOT NULL CHECK (type IN ('webhook', 'email', 'case')),
            settings jsonb NOT NULL DEFAULT '{}'::jsonb,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            detail text,
            created_at timestamptz NOT NULL DEFAULT now(),
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            delivered_at timestamptz,
            UNIQUE (submission_id, name)
          );
          CREATE INDEX form_deliveries_due ON form_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
          CREATE INDEX form_deliveries_failed ON form_deliveries (created_at DESC) WHERE status = 'failed';

          CREATE TABLE form_journeys (
            draft_id uuid PRIMARY KEY,
            slug text NOT NULL,
            version integer NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            pages_reached text[] NOT NULL DEFAULT '{}',
            completed_at timestamptz
          );
          CREATE INDEX form_journeys_form ON form_journeys (slug, started_at);
        `.execute(db);
      },
    },
  },
};
