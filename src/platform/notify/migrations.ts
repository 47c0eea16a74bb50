import { sql } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

export const notifyMigrations: MigrationSet = {
  migrations: {
    '20261123-03-notify-outbox': {
      async up(db) {
        await sql`
          CREATE TABLE notification_outbox (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            channel text NOT NULL CHECK (channel IN ('email', 'sms')),
            recipient text NOT NULL,
            subject text,
            body text NOT NULL,
            attachments jsonb NOT NULL DEFAULT '[]'::jsonb,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            transport text,
            provider_reference text,
            related_type text,
            related_id text,
            created_at timestamptz NOT NULL DEFAULT now(),
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz,
            CONSTRAINT notification_outbox_email_subject CHECK (channel <> 'email' OR subject IS NOT NULL)
          );
          CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
          CREATE INDEX notification_outbox_recipient ON notification_outbox (lower(recipient), created_at DESC);
          CREATE INDEX notification_outbox_created ON notification_outbox (created_at DESC);
          CREATE INDEX notification_outbox_related ON notification_outbox (related_type, related_id) WHERE related_type IS NOT NULL;
        `.execute(db);
      },
      async down(db) {
        await sql`DROP TABLE notification_outbox`.execute(db);
      },
    },
    '20261202-03-notify-unsubscribe': {
      async up(db) {
        await sql`ALTER TABLE notification_outbox ADD COLUMN unsubscribe_url text`.execute(db);
      },
      async down(db) {
        await sql`ALTER TABLE notification_outbox DROP COLUMN IF EXISTS unsubscribe_url`.execute(db);
      },
    },
  },
};
