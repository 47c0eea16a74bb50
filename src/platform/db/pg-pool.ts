import pg from 'pg';
import type { SqlPool } from './types.js';

// Same value shapes as the embedded database (see pglite-pool.ts).
const parsers: Record<number, (v: string) => unknown> = {
  20: (v) => Number(v), // int8
  1082: (v) => v, // date
};

export function openPostgresPool(connectionString: string, max = 10): SqlPool & { pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => parsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server closes (a restart, a failover, a dropped database) is reported on
  // the pool; without a listener that would end the process. The pool has already let the connection
  // go, and the next query opens a new one.
  pool.on('error', () => undefined);
  return {
    pool,
    kind: 'postgres',
    async connect() {
      const client = await pool.connect();
      return {
        query: async (sql, params) => {
          const r = await client.query(sql, params as unknown[] | undefined);
          return { rows: r.rows, rowCount: r.rowCount ?? 0, command: r.command };
        },
        release: () => client.release(),
      };
    },
    async query(sql, params) {
      const r = await pool.query(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.rowCount ?? 0, command: r.command };
    },
    end: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}
