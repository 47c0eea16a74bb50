import type { Generated, Kysely } from 'kysely';
import type { FastifySessionObject, SessionStore } from '@fastify/session';

export interface SessionsTable {
  id: string;
  data: unknown;
  expires_at: Date;
  user_kind: string | null;
  user_id: string | null;
  created_at: Generated<Date>;
}

/** How far the rolling expiry may move before an unchanged session is written again. */
const ROLLING_WRITE_MS = 60_000;
const MAX_REMEMBERED = 10_000;

type SessionData = Record<string, unknown> & { cookie?: { expires?: string | Date | null }; residentId?: string; staffId?: string };

/** Sessions live in the database so any number of web processes share them and "sign out everywhere" works. */
export class DatabaseSessionStore implements SessionStore {
  private readonly db: Kysely<{ sessions: SessionsTable }>;
  constructor(
    db: Kysely<object>,
    private readonly idleMs: number,
  ) {
    this.db = db.withTables<{ sessions: SessionsTable }>();
  }

  /**
   * What this process last wrote for each session, so a request that changed nothing but the
   * rolling expiry does not write again within a minute: most page views change nothing.
   */
  private readonly written = new Map<string, { content: string; expires: number }>();

  set(id: string, session: FastifySessionObject, callback: (err?: unknown) => void): void {
    const plain = JSON.parse(JSON.stringify(session)) as SessionData;
    const expires = plain.cookie?.expires ? new Date(plain.cookie.expires) : new Date(Date.now() + this.idleMs);
    const { cookie: _cookie, ...rest } = plain;
    const content = JSON.stringify(rest);
    const last = this.written.get(id);
    if (last && last.content === content && expires.getTime() - last.expires < ROLLING_WRITE_MS) {
      callback();
      return;
    }
    this.remember(id, { content, expires: expires.getTime() });
    const userKind = plain.staffId ? 'staff' : plain.residentId ? 'resident' : null;
    const userId = plain.staffId ?? plain.residentId ?? null;
    this.db
      .insertInto('sessions')
      .values({ id, data: JSON.stringify(plain), expires_at: expires, user_kind: userKind, user_id: userId, created_at: new Date() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ data: JSON.stringify(plain), expires_at: expires, user_kind: userKind, user_id: userId }))
      .execute()
      .then(
        () => callback(),
        (error: unknown) => {
          this.written.delete(id);
          callback(error);
        },
      );
  }

  private remember(id: string, entry: { content: string; expires: number }): void {
    this.written.delete(id);
    this.written.set(id, entry);
    // Oldest first: a Map keeps insertion order, so the first key is the least recently written.
    if (this.written.size > MAX_REMEMBERED) for (const key of this.written.keys()) if (this.written.delete(key) && this.written.size <= MAX_REMEMBERED) break;
  }

  get(id: string, callback: (err: unknown, result?: FastifySessionObject | null) => void): void {
    this.db
      .selectFrom('sessions')
      .select(['data', 'expires_at'])
      .where('id', '=', id)
      .executeTakeFirst()
      .then(
        (row) => callback(null, row && row.expires_at > new Date() ? (row.data as FastifySessionObject) : null),
        (e) => callback(e),
      );
  }

  destroy(id: string, callback: (err?: unknown) => void): void {
    this.written.delete(id);
    this.db
      .deleteFrom('sessions')
      .where('id', '=', id)
      .execute()
      .then(() => callback(), callback);
  }
}

/** Ends every session a user has, on every device. */
export async function destroyUserSessions(db: Kysely<object>, kind: 'resident' | 'staff', userId: string, exceptId?: string): Promise<number> {
  let q = db.withTables<{ sessions: SessionsTable }>().deleteFrom('sessions').where('user_kind', '=', kind).where('user_id', '=', userId);
  if (exceptId) q = q.where('id', '!=', exceptId);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function purgeExpiredSessions(db: Kysely<object>): Promise<number> {
  const r = await db.withTables<{ sessions: SessionsTable }>().deleteFrom('sessions').where('expires_at', '<', new Date()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
