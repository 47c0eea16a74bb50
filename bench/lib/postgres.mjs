// A throwaway PostgreSQL server for benchmarks, started by the same code as the test command's
// (scripts/lib/postgres.mjs); the server process is tracked by the harness, so it is killed on exit.
import { findPostgresBinaries, startPostgres as startCluster } from '../../scripts/lib/postgres.mjs';
import { spawnTracked } from './harness.mjs';

export { findPostgresBinaries };

/**
 * Starts a fresh cluster. Resolves with `{ url, version, description, dir, stop() }`, or with
 * `{ unavailable: reason }` when PostgreSQL cannot be run here. `settings` are extra server settings.
 */
export function startPostgres({ settings = {}, timeoutMs = 30_000 } = {}) {
  return startCluster({ settings: { max_connections: '50', ...settings }, timeoutMs, spawn: spawnTracked, prefix: 'borough-bench-pg-' });
}
