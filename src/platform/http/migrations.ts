import { sql } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

export const sessionMigrations: MigrationSet = {
  migrations: {
    '20261123-01-http-sessions': {
      async up(db) {
        await sql`
          CREATE TABLE sessions (
            id text PRIMARY KEY,
            data jsonb NOT NULL,
            expires_at timestamptz NOT NULL,
            user_kind text,
            user_id text,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE INDEX sessions_user ON sessions (user_kind, user_id);
          CREATE INDEX sessions_expires ON sessions (expires_at);
        `.execute(db);
      },
    },
    '20261202-05-http-rate-limits': {
      async up(db) {
        await sql`
          CREATE TABLE rate_limits (
            key text PRIMARY KEY,
            hits integer NOT NULL,
            resets_at timestamptz NOT NULL
          );
          CREATE INDEX rate_limits_resets ON rate_limits (resets_at);
        `.execute(db);
      },
      async down(db) {
        await sql`DROP TABLE IF EXISTS rate_limits`.execute(db);
      },
    },
  },
};
