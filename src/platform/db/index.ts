import { Kysely, PostgresDialect, type Migration, Migrator, sql } from 'kysely';
import { openPglitePool } from './pglite-pool.js';
import { openPostgresPool } from './pg-pool.js';
import type { SqlPool } from './types.js';

export type { SqlPool } from './types.js';
export { sql };

const EXTENSIONS = ['citext', 'pg_trgm', 'fuzzystrmatch', 'unaccent', 'btree_gist'];

/** A named set of migrations owned by one capability or platform service. */
export interface MigrationSet {
  /** Migration names must sort globally: `YYYYMMDD-NN-owner-what`. */
  migrations: Record<string, Migration>;
}

export interface Database {
  /** Kysely over whichever back end is configured. Repositories narrow it with `withTables<T>()`. */
  db: Kysely<object>;
  pool: SqlPool;
  kind: 'embedded' | 'postgres';
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL when `url` is given, otherwise embedded PGlite in `dataDir` (in memory when absent).
 * `template` starts an embedded database from a dump (tests use a migrated template to skip initdb).
 */
export async function openDatabase(opts: { url?: string | undefined; dataDir?: string | undefined; template?: Blob }): Promise<Database> {
  const pool: SqlPool = opts.url ? openPostgresPool(opts.url) : await openPglitePool(opts.dataDir, opts.template);
  const db = new Kysely<object>({
    dialect: new PostgresDialect({ pool: pool as never }),
  });
  // The extensions the platform uses, on both back ends (PGlite bundles them; PostgreSQL ships them in contrib).
  await pool.query(EXTENSIONS.map((ext) => `CREATE EXTENSION IF NOT EXISTS ${ext};`).join('\n'));
  return {
    db,
    pool,
    kind: pool.kind,
    async close() {
      // Kysely ends the pool only if it used it; pg-boss and raw queries use the pool directly.
      await db.destroy();
      await pool.end();
    },
  };
}

export async function migrateToLatest(db: Kysely<object>, sets: MigrationSet[]): Promise<string[]> {
  const all: Record<string, Migration> = {};
  for (const set of sets) {
    for (const [name, m] of Object.entries(set.migrations)) {
      if (all[name]) throw new Error(`Duplicate migration name ${name}`);
      all[name] = m;
    }
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => all },
    migrationTableName: 'borough_migration',
    migrationLockTableName: 'borough_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Answers true when the database responds to a trivial query within the timeout, or is plainly busy answering others. */
export async function databaseAnswers(pool: SqlPool, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // Not answered in time, but busy answering others (a large load on the embedded database's one connection): up, not down.
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(pool.answeredWithin?.(timeoutMs) ?? false), timeoutMs)));
    const ok = pool.query('SELECT 1 AS ok').then((r) => r.rows.length === 1);
    return await Promise.race([ok, timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** A copy of an embedded database, e.g. a migrated template for tests. */
export async function dumpEmbedded(database: Database): Promise<Blob> {
  const pool = database.pool as SqlPool & { pglite?: { dumpDataDir(c: 'none'): Promise<Blob> } };
  if (!pool.pglite) throw new Error('Only the embedded database can be dumped this way');
  return pool.pglite.dumpDataDir('none');
}
