// A throwaway PostgreSQL server, shared by the test command (scripts/test.mjs) and the benchmarks
// (bench/lib/postgres.mjs): Debian's binaries or PG_BIN, a fresh cluster with trust authentication in
// a temporary folder, listening on 127.0.0.1 only, run as the "postgres" user when this process is
// root, and removed when stopped or when this process exits.
import { spawn as spawnChild, spawnSync } from 'node:child_process';
import { accessSync, chownSync, closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const LOOPBACK = '127.0.0.1';

export function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The folder holding initdb and postgres, or undefined when PostgreSQL is not installed. Looked for in
 * PG_BIN, then /usr/lib/postgresql/<version>/bin (newest first), then `pg_config --bindir`, then PATH.
 */
export function findPostgresBinaries() {
  const has = (dir) => dir && isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'));
  const candidates = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v));
    versions.sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(path.join(debian, version, 'bin'));
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) candidates.push(dir);
  return candidates.find(has);
}

/** `{ name, uid, gid }` of a user of this system, or undefined when there is none of that name. */
export function systemUser(name) {
  const id = (flag) => spawnSync('id', [flag, name], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The user to run PostgreSQL as: none when this process is not root, or undefined when root has no "postgres" user. */
export function postgresOwner() {
  return process.getuid?.() === 0 ? systemUser('postgres') : null;
}

/** A port that was free on the loopback interface a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a fresh cluster. Resolves with `{ url, version, port, owner, ms, description, dir, stop(), kill() }`,
 * or with `{ unavailable: reason }` when PostgreSQL cannot be run here.
 *
 * - `settings`: extra server settings (`-c name=value`), over listen_addresses, port, unix_socket_directories
 *   and log_min_messages, which are set here.
 * - `bin`, `owner`: the binaries' folder and the user to run as (null: this user), found here when not given.
 * - `spawn`: starts the server process, with child_process.spawn's arguments (the default).
 * - `prefix`: the start of the temporary folder's name.
 *
 * `stop()` shuts the server down (fast shutdown, then SIGKILL after 10 s) and removes its folder;
 * `kill()` is the synchronous last resort (immediate shutdown), which also runs when this process exits.
 */
export async function startPostgres({
  settings = {},
  timeoutMs = 30_000,
  bin = findPostgresBinaries(),
  owner = postgresOwner(),
  spawn = spawnChild,
  prefix = 'borough-pg-',
} = {}) {
  const t0 = performance.now();
  if (!bin) return { unavailable: 'no PostgreSQL binaries found (install postgresql, or set PG_BIN)' };
  if (owner === undefined) return { unavailable: 'running as root and there is no "postgres" user to run PostgreSQL as' };
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', HOME: dir, TZ: 'UTC' };

  const init = spawnSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    env,
    cwd: dir,
    encoding: 'utf8',
    ...asOwner,
  });
  if (init.status !== 0) {
    removeDir();
    process.removeListener('exit', removeDir);
    return { unavailable: `initdb failed (exit ${init.status ?? init.error?.message}): ${(init.stderr || init.stdout || '').trim().slice(-500)}` };
  }

  const port = await freePort();
  const log = openSync(logFile, 'a');
  if (owner) chownSync(logFile, owner.uid, owner.gid);
  const serverSettings = {
    listen_addresses: LOOPBACK,
    port: String(port),
    unix_socket_directories: dir,
    log_min_messages: 'warning',
    ...settings,
  };
  const args = ['-D', dataDir, ...Object.entries(serverSettings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const server = spawn(path.join(bin, 'postgres'), args, { env, cwd: dir, stdio: ['ignore', log, log], ...asOwner });
  closeSync(log);
  let exited = false;
  const exit = new Promise((resolve) => server.once('exit', resolve)).then(() => (exited = true));

  const kill = () => {
    if (!exited) server.kill('SIGQUIT'); // immediate shutdown
    removeDir();
  };
  process.once('exit', kill);
  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      if (!exited) {
        server.kill('SIGINT'); // fast shutdown
        const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      removeDir();
      process.removeListener('exit', kill);
      process.removeListener('exit', removeDir);
    })());

  const url = `postgres://postgres@${LOOPBACK}:${port}/postgres`;
  const { default: pg } = await import('pg');
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (exited) {
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
      await stop();
      return { unavailable: `PostgreSQL stopped while starting:\n${text.trim()}` };
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      const { rows } = await client.query('SHOW server_version');
      await client.end();
      const version = String(rows[0].server_version).split(' ')[0];
      return {
        url,
        version,
        port,
        owner: owner?.name,
        ms: performance.now() - t0,
        dir,
        description: `PostgreSQL ${version} on ${LOOPBACK}:${port} (throwaway cluster${owner ? ` run as ${owner.name}` : ''})`,
        stop,
        kill,
      };
    } catch (error) {
      await client.end().catch(() => undefined);
      if (performance.now() > deadline) {
        await stop();
        return { unavailable: `PostgreSQL did not accept connections within ${timeoutMs / 1000} s: ${error.message}` };
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
}
