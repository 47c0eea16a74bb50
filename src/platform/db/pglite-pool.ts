import { PGlite, types } from '@electric-sql/pglite';
import { citext } from '@electric-sql/pglite/contrib/citext';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import type { QueryResultLike, SqlPool, SqlClient } from './types.js';

/** How long a run of queries may keep the event loop before letting other work in. */
const MAX_TURN_MS = 100;

/**
 * Makes PGlite look like a node-postgres pool so Kysely's PostgresDialect and
 * pg-boss run on it unchanged. PGlite has a single connection, so checking out a
 * client is exclusive: a transaction holds the connection until it is released.
 */
export async function openPglitePool(dataDir: string | undefined, template?: Blob): Promise<SqlPool & { pglite: PGlite }> {
  const pglite = await PGlite.create(dataDir ?? 'memory://', {
    ...(template ? { loadDataDir: template } : {}),
    // PGlite's default 128MB buffer pool is most of its memory; the operating system caches the
    // data files as well, so a smaller pool keeps the embedded platform well under 500 MB.
    postgresqlconf: ['shared_buffers = 32MB'],
    extensions: { citext, pg_trgm, fuzzystrmatch, unaccent, btree_gist },
    // Match node-postgres as configured in pg-pool.ts: int8 as number, date as text.
    parsers: {
      [types.INT8]: (v: string) => Number(v),
      [types.DATE]: (v: string) => v,
      [types.NUMERIC]: (v: string) => v,
    },
  });

  /*
   * PGlite runs each query on this thread and its promises settle without a turn of the event loop,
   * so a long run of queries (a large load, a re-link) would otherwise hold back every request,
   * even those that need no database. After MAX_TURN_MS of such work the next query waits a turn.
   */
  let turnStarted = 0;
  let inTurn = false;
  async function fairTurn(): Promise<void> {
    if (!inTurn) {
      inTurn = true;
      turnStarted = performance.now();
      setImmediate(() => (inTurn = false));
      return;
    }
    if (performance.now() - turnStarted > MAX_TURN_MS) await new Promise((resolve) => setTimeout(resolve, 0));
  }

  let queue: Promise<void> = Promise.resolve();
  function acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = queue.then(() => release);
    queue = queue.then(() => held);
    return ready;
  }

  let lastAnswered = performance.now();
  async function run(sql: string, params?: readonly unknown[]): Promise<QueryResultLike> {
    await fairTurn();
    const res =
      params && params.length > 0
        ? await pglite.query(sql, params as unknown[])
        : // exec allows several statements in one string (migrations); return the last result.
          await pglite.exec(sql).then((r) => r[r.length - 1] ?? { rows: [], affectedRows: 0, fields: [] });
    lastAnswered = performance.now();
    const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
    return { rows: res.rows as Record<string, unknown>[], rowCount: res.affectedRows ?? res.rows.length, command };
  }

  const pool: SqlPool & { pglite: PGlite } = {
    pglite,
    kind: 'embedded',
    async connect(): Promise<SqlClient> {
      const release = await acquire();
      let released = false;
      return {
        query: (sql: string, params?: readonly unknown[]) => run(sql, params),
        release: () => {
          if (!released) {
            released = true;
            release();
          }
        },
      };
    },
    async query(sql: string, params?: readonly unknown[]) {
      const client = await pool.connect();
      try {
        return await client.query(sql, params);
      } finally {
        client.release();
      }
    },
    answeredWithin: (ms: number) => !pglite.closed && performance.now() - lastAnswered < ms,
    async end() {
      if (pglite.closed) return;
      const release = await acquire();
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        release();
      }
    },
  };
  return pool;
}
