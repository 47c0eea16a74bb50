import { sql, type Generated, type Kysely, type Selectable } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

export interface AuditEventsTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  reason: string | null;
  details: unknown;
  request_id: string | null;
}

export interface Actor {
  type: 'resident' | 'staff' | 'system' | 'api' | 'anonymous';
  id?: string | null;
  /** What staff see in the audit log, e.g. a staff member's name; never a resident's personal data. */
  label?: string | null;
}

export interface AuditEvent {
  actor: Actor;
  /** Dotted verb such as `account.signed-in` or `staff.role-changed`. */
  action: string;
  subject?: { type: string; id: string };
  reason?: string;
  details?: Record<string, unknown>;
  requestId?: string;
}

export const auditMigrations: MigrationSet = {
  migrations: {
    '20261123-01-audit-events': {
      async up(db) {
        await sql`
          CREATE TABLE audit_events (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            actor_type text NOT NULL,
            actor_id text,
            actor_label text,
            action text NOT NULL,
            subject_type text,
            subject_id text,
            reason text,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            request_id text
          );
          CREATE INDEX audit_events_at ON audit_events (at DESC);
          CREATE INDEX audit_events_actor ON audit_events (actor_type, actor_id, at DESC);
          CREATE INDEX audit_events_subject ON audit_events (subject_type, subject_id, at DESC);
          CREATE INDEX audit_events_action ON audit_events (action, at DESC);
          CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
          END $$;
          CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
          CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
        `.execute(db);
      },
    },
  },
};

export interface AuditSearch {
  actor?: string;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  from?: Date;
  to?: Date;
  page?: number;
  pageSize?: number;
}

/** The one way to record who did what to what, and why. Pass the caller's transaction so the event commits with the change. */
export async function recordAudit(executor: Kysely<object>, event: AuditEvent): Promise<void> {
  await executor
    .withTables<{ audit_events: AuditEventsTable }>()
    .insertInto('audit_events')
    .values({
      actor_type: event.actor.type,
      actor_id: event.actor.id ?? null,
      actor_label: event.actor.label ?? null,
      action: event.action,
      subject_type: event.subject?.type ?? null,
      subject_id: event.subject?.id ?? null,
      reason: event.reason ?? null,
      details: JSON.stringify(event.details ?? {}),
      request_id: event.requestId ?? null,
    })
    .execute();
}

export async function searchAudit(
  db: Kysely<object>,
  q: AuditSearch,
): Promise<{ rows: Selectable<AuditEventsTable>[]; total: number; page: number; pageSize: number }> {
  const k = db.withTables<{ audit_events: AuditEventsTable }>();
  const pageSize = Math.min(q.pageSize ?? 50, 200);
  const page = Math.max(q.page ?? 1, 1);
  let base = k.selectFrom('audit_events');
  const actor = q.actor;
  if (actor) base = base.where((eb) => eb.or([eb('actor_id', '=', actor), eb('actor_label', 'ilike', `%${actor}%`)]));
  if (q.action) base = base.where('action', 'like', `${q.action}%`);
  if (q.subjectType) base = base.where('subject_type', '=', q.subjectType);
  if (q.subjectId) base = base.where('subject_id', '=', q.subjectId);
  if (q.from) base = base.where('at', '>=', q.from);
  if (q.to) base = base.where('at', '<', q.to);
  const [rows, count] = await Promise.all([
    base
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(pageSize)
      .offset((page - 1) * pageSize)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n), page, pageSize };
}
