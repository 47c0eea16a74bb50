import { sql, type Kysely } from 'kysely';

/**
 * Rate limit counts kept in the database, so every web process behind a load balancer counts the
 * same requests: a limit of 10 a minute stays 10 however many processes there are. Used when the
 * platform runs on a PostgreSQL server; the embedded database has one process, which counts in
 * memory. Each window is one row, counted and reset in a single statement.
 */

interface RateLimitResult {
  current: number;
  ttl: number;
}

type Callback = (error: Error | null, result?: RateLimitResult) => void;

export function databaseRateLimitStore(db: Kysely<object>) {
  return class DatabaseRateLimitStore {
    readonly prefix: string;

    /** The plugin makes the first store with its settings, then one child per route. */
    constructor(prefix?: unknown) {
      this.prefix = typeof prefix === 'string' ? prefix : '';
    }

    incr(key: string, callback: Callback, timeWindow: number, _max: number): void {
      const id = `${this.prefix}${key}`;
      sql<{ hits: number; ttl: number }>`
        INSERT INTO rate_limits (key, hits, resets_at)
        VALUES (${id}, 1, now() + ${timeWindow}::double precision * interval '1 millisecond')
        ON CONFLICT (key) DO UPDATE SET
          hits = CASE WHEN rate_limits.resets_at <= now() THEN 1 ELSE rate_limits.hits + 1 END,
          resets_at = CASE WHEN rate_limits.resets_at <= now() THEN EXCLUDED.resets_at ELSE rate_limits.resets_at END
        RETURNING hits, (extract(epoch FROM resets_at - now()) * 1000)::double precision AS ttl`
        .execute(db)
        .then(
          (result) => {
            const row = result.rows[0];
            callback(null, { current: Number(row?.hits ?? 1), ttl: Math.max(0, Math.round(Number(row?.ttl ?? timeWindow))) });
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
    }

    child(routeOptions: { routeInfo: { method: string; url: string } }): DatabaseRateLimitStore {
      return new DatabaseRateLimitStore(`${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}-`);
    }
  };
}

/** Removes windows that have ended; run by housekeeping. Returns how many went. */
export async function purgeEndedRateLimits(db: Kysely<object>): Promise<number> {
  const result = await sql`DELETE FROM rate_limits WHERE resets_at < now() - interval '1 minute'`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
