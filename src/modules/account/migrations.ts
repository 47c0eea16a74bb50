import { sql } from 'kysely';
import type { Generated } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

export const accountMigrations: MigrationSet = {
  migrations: {
    '20261123-10-account-people': {
      async up(db) {
        await sql`
          CREATE TABLE residents (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            email citext NOT NULL UNIQUE,
            email_verified_at timestamptz,
            password_hash text,
            name text,
            phone text,
            address jsonb,
            contact_by_email boolean NOT NULL DEFAULT true,
            contact_by_sms boolean NOT NULL DEFAULT false,
            failed_sign_ins integer NOT NULL DEFAULT 0,
            locked_until timestamptz,
            last_failed_sign_in_at timestamptz,
            is_demo boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            last_sign_in_at timestamptz
          );
          CREATE TABLE teams (
            code text PRIMARY KEY,
            name text NOT NULL
          );
          CREATE TABLE staff_users (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            email citext NOT NULL UNIQUE,
            name text NOT NULL,
            roles text[] NOT NULL DEFAULT '{}',
            teams text[] NOT NULL DEFAULT '{}',
            status text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'disabled')),
            password_hash text,
            totp_secret text,
            totp_last_step bigint,
            totp_enrolled_at timestamptz,
            oidc_subject text UNIQUE,
            failed_sign_ins integer NOT NULL DEFAULT 0,
            locked_until timestamptz,
            last_failed_sign_in_at timestamptz,
            is_demo boolean NOT NULL DEFAULT false,
            invited_by uuid REFERENCES staff_users(id),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            last_sign_in_at timestamptz
          );
          -- One-time links (sign-in, verify, reset, invitation) can be used once: their hashes are kept until expiry.
          CREATE TABLE used_link_tokens (
            token_hash text PRIMARY KEY,
            used_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL
          );
        `.execute(db);
      },
    },
    '20261125-10-account-api-keys': {
      async up(db) {
        // Only a hash of each key's secret part is kept; the prefix is public and finds the row.
        await sql`
          CREATE TABLE api_keys (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
            prefix text NOT NULL UNIQUE,
            secret_hash text NOT NULL,
            scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
            created_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            revoked_at timestamptz,
            revoked_by text,
            expires_at timestamptz
          );
        `.execute(db);
      },
    },
  },
};

export interface ResidentsTable {
  id: Generated<string>;
  email: string;
  email_verified_at: Date | null;
  password_hash: string | null;
  name: string | null;
  phone: string | null;
  address: ResidentAddress | null;
  contact_by_email: Generated<boolean>;
  contact_by_sms: Generated<boolean>;
  failed_sign_ins: Generated<number>;
  locked_until: Date | null;
  last_failed_sign_in_at: Date | null;
  is_demo: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_sign_in_at: Date | null;
}

export interface ResidentAddress {
  uprn?: string;
  lines: string[];
  town?: string;
  postcode: string;
}

export interface StaffUsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  roles: Generated<string[]>;
  teams: Generated<string[]>;
  status: Generated<'invited' | 'active' | 'disabled'>;
  password_hash: string | null;
  totp_secret: string | null;
  totp_last_step: number | null;
  totp_enrolled_at: Date | null;
  oidc_subject: string | null;
  failed_sign_ins: Generated<number>;
  locked_until: Date | null;
  last_failed_sign_in_at: Date | null;
  is_demo: Generated<boolean>;
  invited_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_sign_in_at: Date | null;
}

export interface TeamsTable {
  code: string;
  name: string;
}

export interface UsedLinkTokensTable {
  token_hash: string;
  used_at: Generated<Date>;
  expires_at: Date;
}

export interface ApiKeysTable {
  id: Generated<string>;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string[];
  created_by: string | null;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  expires_at: Date | null;
}

export type AccountTables = {
  residents: ResidentsTable;
  staff_users: StaffUsersTable;
  teams: TeamsTable;
  used_link_tokens: UsedLinkTokensTable;
  api_keys: ApiKeysTable;
};
