#!/usr/bin/env node
// Foundation benchmark: cold start, throughput and latency against a bare node:http baseline,
// and memory, for the compiled platform (`npm run build` first) in embedded mode.
//
//   node bench/foundation.mjs            measure, print, write bench/results/foundation.json
//   node bench/foundation.mjs --check    also exit 1 when a target is missed
//
// Load only ever goes to 127.0.0.1 and every run is bounded in time.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  benchDir,
  capture,
  killAllChildren,
  load,
  mb,
  median,
  rssBytes,
  round,
  sampleRss,
  startBareServer,
  startPlatform,
  stopChild,
  table,
  runRecord,
  summarise,
} from './lib/harness.mjs';

const CONNECTIONS = 50;
const DURATION_SEC = 10;
const WARMUP_SEC = 2;
const ROUNDS = 2;
const EXISTING_STARTS = 3;
const IDLE_SETTLE_MS = 2_000;
const PATHS = [
  { path: '/', label: 'rendered page', ratioTarget: 0.5, p95TargetMs: 50 },
  { path: '/healthz', label: 'JSON', ratioTarget: 0.7 },
];
const RSS_TARGET_MB = 500;

const progress = (message) => process.stderr.write(`  ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function coldStarts(dataDir) {
  progress('cold start on a fresh data folder (creates the database, loads the demo council)');
  const fresh = await startPlatform({ dataDir });
  const freshStop = await stopChild(fresh.child);
  assertCleanExit(freshStop, 'first start');
  progress(`  ${fresh.startMs} ms (stopped in ${freshStop.ms} ms)`);

  const existing = [];
  for (let i = 1; i <= EXISTING_STARTS; i++) {
    progress(`cold start on the existing data folder, run ${i} of ${EXISTING_STARTS}`);
    const run = await startPlatform({ dataDir });
    const stopped = await stopChild(run.child);
    assertCleanExit(stopped, `start ${i} on the existing folder`);
    existing.push({ startMs: run.startMs, stopMs: stopped.ms });
    progress(`  ${run.startMs} ms (stopped in ${stopped.ms} ms)`);
  }
  return {
    freshMs: fresh.startMs,
    freshStopMs: freshStop.ms,
    existingMs: existing.map((r) => r.startMs),
    existingMedianMs: median(existing.map((r) => r.startMs)),
    stopMedianMs: median(existing.map((r) => r.stopMs)),
  };
}

function assertCleanExit(exit, what) {
  if (exit.forced) throw new Error(`${what}: the platform did not stop within the grace period after SIGTERM`);
  if (exit.code !== 0) throw new Error(`${what}: the platform exited with ${exit.code ?? exit.signal} after SIGTERM`);
}

async function measure(port, urlPath) {
  await load({ port, path: urlPath, connections: CONNECTIONS, durationSec: WARMUP_SEC });
  return load({ port, path: urlPath, connections: CONNECTIONS, durationSec: DURATION_SEC });
}

async function throughputAndMemory(dataDir) {
  progress('starting the platform on the existing data folder for the load runs');
  // Load runs use the production configuration, as deployed: compiled templates cached, no demo loading.
  const platform = await startPlatform({
    dataDir,
    env: {
      NODE_ENV: 'production',
      BOROUGH_DEMO: 'false',
      SESSION_SECRET: randomBytes(32).toString('hex'),
      BOROUGH_BASE_URL: 'http://127.0.0.1',
      SMTP_URL: 'smtp://127.0.0.1:9',
    },
  });
  let bare;
  try {
    await sleep(IDLE_SETTLE_MS);
    const idleBytes = rssBytes(platform.child.pid);

    const captured = [];
    for (const { path: urlPath } of PATHS) {
      const response = await capture(platform.port, urlPath);
      if (response.status < 200 || response.status > 299) progress(`warning: ${urlPath} answered ${response.status}; the baseline replays the same status`);
      captured.push(response);
    }
    bare = await startBareServer(captured);
    for (const expected of captured) {
      const replayed = await capture(bare.port, expected.path);
      if (replayed.status !== expected.status || !replayed.body.equals(expected.body) || replayed.contentType !== expected.contentType) {
        throw new Error(`the baseline does not replay ${expected.path} faithfully`);
      }
    }

    const sampler = sampleRss(platform.child.pid, 200);
    const load = {};
    let peak;
    try {
      for (const target of PATHS) {
        const runs = { platform: [], bare: [] };
        for (let n = 1; n <= ROUNDS; n++) {
          for (const [name, server] of [
            ['platform', platform],
            ['bare', bare],
          ]) {
            progress(`${target.path}  ${name.padEnd(8)} run ${n} of ${ROUNDS}: ${WARMUP_SEC} s warm-up + ${DURATION_SEC} s at ${CONNECTIONS} connections`);
            const result = await measure(server.port, target.path);
            runs[name].push(result);
            progress(`  ${Math.round(result.rps)} req/s, p95 ${result.latencyMs.p95.toFixed(2)} ms`);
          }
        }
        const platformSummary = summarise(runs.platform);
        const bareSummary = summarise(runs.bare);
        load[target.path] = {
          label: target.label,
          responseBytes: captured.find((c) => c.path === target.path).body.length,
          contentType: captured.find((c) => c.path === target.path).contentType,
          platform: { ...platformSummary, runs: runs.platform.map(runRecord) },
          bare: { ...bareSummary, runs: runs.bare.map(runRecord) },
          ratio: round(bareSummary.rps ? platformSummary.rps / bareSummary.rps : 0, 3),
        };
      }
    } finally {
      peak = sampler.stop();
    }
    if (platform.child.exitCode !== null) throw new Error(`the platform exited during the load runs:\n${platform.child.output()}`);
    return { load, memory: { idleMb: mb(idleBytes ?? 0), peakMb: mb(peak.peakBytes), samples: peak.samples } };
  } finally {
    if (bare) await stopChild(bare.child, 5_000);
    await stopChild(platform.child);
  }
}

function targetsOf(load, memory) {
  const targets = [];
  for (const t of PATHS) {
    const figures = load[t.path];
    targets.push({ name: `${t.path} rps ratio platform/bare`, value: figures.ratio, target: `>= ${t.ratioTarget}`, pass: figures.ratio >= t.ratioTarget });
    if (t.p95TargetMs !== undefined) {
      targets.push({
        name: `${t.path} p95 latency (ms)`,
        value: figures.platform.p95Ms,
        target: `< ${t.p95TargetMs}`,
        pass: figures.platform.p95Ms < t.p95TargetMs,
      });
    }
    const failures = figures.platform.errors + figures.platform.non2xx;
    targets.push({ name: `${t.path} errors + non-2xx`, value: failures, target: '= 0', pass: failures === 0 });
  }
  targets.push({ name: 'peak RSS under load (MB)', value: memory.peakMb, target: `< ${RSS_TARGET_MB}`, pass: memory.peakMb < RSS_TARGET_MB });
  return targets;
}

function report(result) {
  const { coldStart, load, memory, targets } = result;
  const out = [];
  out.push('');
  out.push(`Borough foundation benchmark  (Node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model?.trim() ?? 'unknown CPU'})`);
  out.push('');
  out.push('Cold start: spawn of `node bin/borough.js start` until GET /healthz answers 200');
  out.push(
    table(
      ['data folder', 'runs (ms)', 'median (ms)'],
      [
        ['fresh (creates database, loads demo)', String(coldStart.freshMs), String(coldStart.freshMs)],
        ['existing', coldStart.existingMs.join(' / '), String(coldStart.existingMedianMs)],
      ],
    ),
  );
  out.push(`Graceful stop after SIGTERM: ${coldStart.stopMedianMs} ms median on the existing folder.`);
  out.push('');
  out.push(
    `Throughput and latency: ${CONNECTIONS} connections, ${DURATION_SEC} s per run after a ${WARMUP_SEC} s warm-up, runs alternated, median of ${ROUNDS}`,
  );
  const rows = [];
  for (const t of PATHS) {
    const figures = load[t.path];
    for (const name of ['platform', 'bare']) {
      const s = figures[name];
      s.runs.forEach((r, i) =>
        rows.push([t.path, name, `run ${i + 1}`, r.rps, r.p50Ms.toFixed(2), r.p95Ms.toFixed(2), r.p99Ms.toFixed(2), r.errors, r.non2xx]),
      );
      rows.push([t.path, name, 'median', s.rps, s.p50Ms.toFixed(2), s.p95Ms.toFixed(2), s.p99Ms.toFixed(2), s.errors, s.non2xx]);
    }
  }
  out.push(table(['path', 'server', 'run', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'non-2xx'], rows, 3));
  for (const t of PATHS) {
    const f = load[t.path];
    out.push(`${t.path} (${f.label}, ${f.responseBytes} bytes, ${f.contentType}): platform/bare = ${f.ratio.toFixed(3)}`);
  }
  out.push('');
  out.push(`Memory (platform RSS): idle after start ${memory.idleMb} MB, peak under load ${memory.peakMb} MB (${memory.samples} samples every 200 ms)`);
  out.push('');
  out.push('Targets');
  out.push(
    table(
      ['measure', 'value', 'target', 'result'],
      targets.map((t) => [t.name, t.value, t.target, t.pass ? 'met' : 'MISSED']),
      1,
    ),
  );
  out.push('');
  console.log(out.join('\n'));
  console.log(JSON.stringify(result));
}

async function main() {
  const check = process.argv.includes('--check');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-'));
  const dataDir = path.join(tmp, 'data');
  const started = performance.now();
  try {
    process.stderr.write(`Borough foundation benchmark (data folder ${dataDir})\n`);
    const coldStart = await coldStarts(dataDir);
    const { load, memory } = await throughputAndMemory(dataDir);
    const targets = targetsOf(load, memory);
    const result = {
      benchmark: 'foundation',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.trim(),
      settings: { connections: CONNECTIONS, durationSec: DURATION_SEC, warmupSec: WARMUP_SEC, rounds: ROUNDS, existingStarts: EXISTING_STARTS },
      coldStart,
      load,
      memory,
      targets,
      allTargetsMet: targets.every((t) => t.pass),
      elapsedSec: round((performance.now() - started) / 1000, 1),
    };
    const resultsDir = path.join(benchDir, 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, 'foundation.json'), `${JSON.stringify(result, null, 2)}\n`);
    report(result);
    process.stderr.write(`Wrote ${path.relative(process.cwd(), path.join(resultsDir, 'foundation.json'))} in ${result.elapsedSec} s\n`);
    return check && !result.allTargetsMet ? 1 : 0;
  } finally {
    killAllChildren();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    killAllChildren();
    console.error(`Foundation benchmark failed: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  },
);
