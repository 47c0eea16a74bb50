import { sql, type ColumnType, type Generated } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

export const BOOKING_STATUSES = ['held', 'confirmed', 'arrived', 'seen', 'did-not-attend', 'cancelled', 'expired'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** A booking, or time a member of staff has blocked out (kind 'block'). */
export interface AppointmentBookingsTable {
  id: Generated<string>;
  reference: string;
  kind: 'booking' | 'block';
  type_code: string | null;
  location_code: string;
  status: BookingStatus;
  starts_at: Date;
  ends_at: Date;
  hold_expires_at: Date | null;
  /** Hash of the secret the browser that made the hold keeps: only it may finish the booking. */
  hold_key: string | null;
  resident_id: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  remind_by: Generated<'email' | 'sms'>;
  answers: ColumnType<Record<string, unknown>, string | undefined, string>;
  source: 'web' | 'staff' | 'form';
  booked_by: string | null;
  case_id: string | null;
  cancel_reason: string | null;
  /** Goes up on every change, so calendars holding the .ics update their copy. */
  sequence: Generated<number>;
  /** Reminders already sent, by hours before. */
  reminded: ColumnType<number[], string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
}

export interface AppointmentBookingResourcesTable {
  booking_id: string;
  resource_code: string;
}

/** One row per place a resource has: the claims below can only use places that exist. */
export interface AppointmentPlacesTable {
  resource_code: string;
  place: number;
}

/**
 * What stops double booking: a booking claims one place on each of its resources for every
 * five-minute granule it covers, and a place can be claimed once per granule (the primary key).
 */
export interface AppointmentClaimsTable {
  resource_code: string;
  granule: Date;
  place: number;
  booking_id: string;
}

export interface AppointmentNotesTable {
  id: Generated<string>;
  booking_id: string;
  staff_id: string;
  text: string;
  created_at: Generated<Date>;
}

export interface AppointmentWaitingTable {
  id: Generated<string>;
  type_code: string;
  location_code: string;
  name: string;
  email: string;
  resident_id: string | null;
  /** Local dates the resident can come between. */
  from_date: string;
  to_date: string;
  status: Generated<'waiting' | 'offered' | 'booked' | 'left'>;
  offered_at: Date | null;
  created_at: Generated<Date>;
}

/** A private calendar feed of one resource's bookings; the token in its address is kept only as a hash. */
export interface AppointmentFeedsTable {
  id: Generated<string>;
  resource_code: string;
  token_hash: string;
  created_by: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export type AppointmentTables = {
  appointment_bookings: AppointmentBookingsTable;
  appointment_booking_resources: AppointmentBookingResourcesTable;
  appointment_places: AppointmentPlacesTable;
  appointment_claims: AppointmentClaimsTable;
  appointment_notes: AppointmentNotesTable;
  appointment_waiting: AppointmentWaitingTable;
  appointment_feeds: AppointmentFeedsTable;
};

export const appointmentsMigrations: MigrationSet = {
  migrations: {
    '20261207-01-appointments': {
      async up(db) {
        const statements = [
          sql`CREATE TABLE appointment_bookings (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            reference text NOT NULL UNIQUE,
            kind text NOT NULL CHECK (kind IN ('booking', 'block')),
            type_code text,
            location_code text NOT NULL,
            status text NOT NULL CHECK (status IN ('held', 'confirmed', 'arrived', 'seen', 'did-not-attend', 'cancelled', 'expired')),
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
            hold_expires_at timestamptz,
            hold_key text,
            resident_id uuid,
            name text,
            email text,
            phone text,
            remind_by text NOT NULL DEFAULT 'email' CHECK (remind_by IN ('email', 'sms')),
            answers jsonb NOT NULL DEFAULT '{}'::jsonb,
            source text NOT NULL CHECK (source IN ('web', 'staff', 'form')),
            booked_by uuid,
            case_id uuid,
            cancel_reason text,
            sequence integer NOT NULL DEFAULT 0,
            reminded jsonb NOT NULL DEFAULT '[]'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            confirmed_at timestamptz,
            cancelled_at timestamptz,
            CHECK (kind = 'block' OR type_code IS NOT NULL),
            CHECK (status <> 'held' OR hold_expires_at IS NOT NULL)
          )`,
          sql`CREATE INDEX appointment_bookings_starts_idx ON appointment_bookings (location_code, starts_at)`,
          sql`CREATE INDEX appointment_bookings_resident_idx ON appointment_bookings (resident_id) WHERE resident_id IS NOT NULL`,
          sql`CREATE INDEX appointment_bookings_holds_idx ON appointment_bookings (hold_expires_at) WHERE status = 'held'`,
          sql`CREATE INDEX appointment_bookings_upcoming_idx ON appointment_bookings (starts_at) WHERE status = 'confirmed'`,
          sql`CREATE TABLE appointment_booking_resources (
            booking_id uuid NOT NULL REFERENCES appointment_bookings (id),
            resource_code text NOT NULL,
            PRIMARY KEY (booking_id, resource_code)
          )`,
          sql`CREATE INDEX appointment_booking_resources_code_idx ON appointment_booking_resources (resource_code)`,
          sql`CREATE TABLE appointment_places (
            resource_code text NOT NULL,
            place integer NOT NULL CHECK (place >= 1),
            PRIMARY KEY (resource_code, place)
          )`,
          sql`CREATE TABLE appointment_claims (
            resource_code text NOT NULL,
            granule timestamptz NOT NULL,
            place integer NOT NULL,
            booking_id uuid NOT NULL REFERENCES appointment_bookings (id),
            PRIMARY KEY (resource_code, granule, place),
            FOREIGN KEY (resource_code, place) REFERENCES appointment_places (resource_code, place)
          )`,
          sql`CREATE INDEX appointment_claims_booking_idx ON appointment_claims (booking_id)`,
          sql`CREATE TABLE appointment_notes (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            booking_id uuid NOT NULL REFERENCES appointment_bookings (id),
            staff_id uuid NOT NULL,
            text text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE INDEX appointment_notes_booking_idx ON appointment_notes (booking_id, created_at)`,
          sql`CREATE TABLE appointment_waiting (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            type_code text NOT NULL,
            location_code text NOT NULL,
            name text NOT NULL,
            email text NOT NULL,
            resident_id uuid,
            from_date date NOT NULL,
            to_date date NOT NULL CHECK (to_date >= from_date),
            status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'booked', 'left')),
            offered_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
          sql`CREATE INDEX appointment_waiting_queue_idx ON appointment_waiting (type_code, location_code, created_at) WHERE status = 'waiting'`,
          sql`CREATE TABLE appointment_feeds (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            resource_code text NOT NULL,
            token_hash text NOT NULL UNIQUE,
            created_by uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
          )`,
        ];
        for (const statement of statements) await statement.execute(db);
      },
      async down(db) {
        for (const table of [
          'appointment_feeds',
          'appointment_waiting',
          'appointment_notes',
          'appointment_claims',
          'appointment_places',
          'appointment_booking_resources',
          'appointment_bookings',
        ])
          await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
      },
    },
  },
};
