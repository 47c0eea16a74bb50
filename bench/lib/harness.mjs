// Shared pieces for Borough's benchmarks: child processes that are always cleaned up,
// free loopback ports, health polling, memory sampling and bounded load runs on 127.0.0.1.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, LOOPBACK } from '../../scripts/lib/postgres.mjs';

export { freePort, LOOPBACK };
export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const projectRoot = path.resolve(benchDir, '..');

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set();

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Kills every child still running, synchronously; safe to call more than once. */
export function killAllChildren(signal = 'SIGKILL') {
  for (const child of children) {
    if (alive(child)) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

let cleanupInstalled = false;
function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', () => killAllChildren());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Spawns a tracked child process; its last output is kept to explain a failure. */
export function spawnTracked(command, args, options = {}) {
  installCleanup();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.output = () => tail.trim();
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return child;
}

/** Sends SIGTERM and waits for the exit; after `graceMs` the child is killed outright. */
export async function stopChild(child, graceMs = 20_000) {
  if (!alive(child)) return { ...(await child.exited), ms: 0, forced: false };
  const t0 = performance.now();
  child.kill('SIGTERM');
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const first = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  if (first === 'timeout') {
    child.kill('SIGKILL');
    const exit = await child.exited;
    return { ...exit, ms: Math.round(performance.now() - t0), forced: true };
  }
  return { ...first, ms: Math.round(performance.now() - t0), forced: false };
}

// ---------------------------------------------------------------------------------------------
// Network

/**
 * One GET on loopback, without connection reuse. Resolves with status, headers and body bytes.
 * `headers` are sent as well (a session cookie, for example).
 */
export function get(port, urlPath, timeoutMs = 5_000, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: LOOPBACK, port, path: urlPath, agent: false, headers: { ...headers, connection: 'close' }, timeout: timeoutMs },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls GET `urlPath` until it answers 200; fails if the child exits first or time runs out. */
export async function waitFor200(child, port, urlPath, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  child.exited.then(() => {
    exited = true;
  });
  while (performance.now() < deadline) {
    if (exited) throw new Error(`the process exited before ${urlPath} answered (exit ${child.exitCode ?? child.signalCode}):\n${child.output()}`);
    try {
      const response = await get(port, urlPath, 1_000);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`${urlPath} did not answer 200 within ${timeoutMs / 1000} s:\n${child.output()}`);
}

/**
 * One request on loopback through `agent` (keep-alive, like a browser), for clients that walk
 * through pages. `body` is a string or Buffer. Resolves with status, headers, body text and the
 * time to the end of the response in milliseconds.
 */
export function request({ port, method = 'GET', path: urlPath, headers = {}, body, agent, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const outgoing = http.request(
      {
        host: LOOPBACK,
        port,
        method,
        path: urlPath,
        agent,
        timeout: timeoutMs,
        headers: payload ? { ...headers, 'content-length': payload.length } : headers,
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: response.statusCode, headers: response.headers, body: bytes.toString('utf8'), bytes: bytes.length, ms: performance.now() - t0 });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${urlPath} timed out after ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// Borough and the bare baseline

/**
 * Starts `node bin/borough.js start` on a free loopback port with the given data folder and
 * resolves once GET /healthz answers 200, with the time that took from the spawn. The platform
 * uses its embedded database unless `env.DATABASE_URL` names a server.
 */
export async function startPlatform({ dataDir, timeoutMs = 120_000, env = {}, args = [path.join(projectRoot, 'bin/borough.js'), 'start'] }) {
  const port = await freePort();
  const childEnv = {
    ...process.env,
    PORT: String(port),
    HOST: LOOPBACK,
    LOG_LEVEL: 'warn',
    BOROUGH_DEMO: 'true',
    NODE_ENV: 'development',
    BOROUGH_DATA_DIR: dataDir,
    ...env,
  };
  // A developer's own database is never used by accident: only one named in `env` is passed on.
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  if (!env.BOROUGH_BASE_URL) delete childEnv.BOROUGH_BASE_URL;
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, args, { cwd: projectRoot, env: childEnv });
  try {
    await waitFor200(child, port, '/healthz', timeoutMs);
  } catch (error) {
    await stopChild(child, 5_000);
    throw error;
  }
  return { child, port, startMs: Math.round(performance.now() - t0) };
}

/** Starts the bare node:http baseline serving the given captured responses. */
export async function startBareServer(routes) {
  const child = spawnTracked(process.execPath, [path.join(benchDir, 'lib/bare-server.mjs')], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bare server did not start:\n${child.output()}`)), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`the bare server exited:\n${child.output()}`));
    });
    child.send({ routes: routes.map((r) => ({ ...r, body: r.body.toString('base64') })) });
  });
  return { child, port };
}

/**
 * Captures one response to replay from the baseline: status, body and every header the platform
 * sent (security headers included), so both servers put the same bytes on the wire. Headers that
 * Node writes itself for each response (date, connection, keep-alive, content-length) are left out.
 */
export async function capture(port, urlPath, requestHeaders = {}) {
  const response = await get(port, urlPath, 5_000, requestHeaders);
  const perResponse = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !perResponse.has(name)));
  return { path: urlPath, status: response.status, contentType: response.headers['content-type'] ?? 'application/octet-stream', headers, body: response.body };
}

// ---------------------------------------------------------------------------------------------
// Memory

/** Resident set size of a process in bytes (VmRSS from /proc), or undefined once it has gone. */
export function rssBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `intervalMs`; `stop()` returns the peak seen. */
export function sampleRss(pid, intervalMs = 200) {
  let peak = rssBytes(pid) ?? 0;
  let samples = 1;
  const timer = setInterval(() => {
    const rss = rssBytes(pid);
    if (rss !== undefined) {
      samples++;
      if (rss > peak) peak = rss;
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { peakBytes: peak, samples };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load

/**
 * A bounded autocannon run against http://127.0.0.1:<port><path>. Every response's latency is
 * recorded so percentiles autocannon does not report (p95) are exact. `headers`, when given, are
 * sent with every request.
 */
export async function load({ port, path: urlPath, connections, durationSec, headers }) {
  const url = new URL(`http://${LOOPBACK}:${port}${urlPath}`);
  if (url.hostname !== LOOPBACK) throw new Error('load tests only target the loopback interface');
  if (!(durationSec > 0 && durationSec <= 60)) throw new Error('load runs are bounded to at most 60 s');
  const latencies = [];
  const instance = autocannon({ url: url.href, connections, duration: durationSec, timeout: 10, ...(headers ? { headers } : {}) });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  return {
    rps: result.requests.total / (result.duration || durationSec),
    requests: result.requests.total,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    bytesPerResponse: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (value, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export const mb = (bytes) => round(bytes / (1024 * 1024), 1);

/** A plain text table: columns right-aligned except the first `leftColumns`. */
export function table(header, rows, leftColumns = 1) {
  const all = [header, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** The median figures of several load runs. */
export function summarise(runs) {
  return {
    rps: round(median(runs.map((r) => r.rps))),
    p50Ms: round(median(runs.map((r) => r.latencyMs.p50)), 2),
    p95Ms: round(median(runs.map((r) => r.latencyMs.p95)), 2),
    p99Ms: round(median(runs.map((r) => r.latencyMs.p99)), 2),
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
  };
}

/** One load run's figures, rounded for the results file. */
export function runRecord(r) {
  return {
    rps: round(r.rps),
    requests: r.requests,
    p50Ms: round(r.latencyMs.p50, 2),
    p95Ms: round(r.latencyMs.p95, 2),
    p99Ms: round(r.latencyMs.p99, 2),
    maxMs: round(r.latencyMs.max, 2),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytesPerResponse: r.bytesPerResponse,
  };
}
