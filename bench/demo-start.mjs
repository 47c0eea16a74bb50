#!/usr/bin/env node
// The quick start as a resident or officer meets it: the compiled platform starts on a fresh embedded database
// with the demo council, whose Signposts extracts then load in the background. Meanwhile three pages are asked
// for in turn, one at a time: the home page (no database), /healthz (a database check) and a form's start page
// (a session in the database). How long each waits while the demo loads, against the same pages once it is in,
// is the figure: how far the load holds the platform up.
//
//   node scripts/build.mjs && node bench/demo-start.mjs [--people 50000]
//
// Requests only ever go to 127.0.0.1; the run ends when the load does, or after 20 minutes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir, get, mb, percentile, round, sampleRss, startPlatform, stopChild, table } from './lib/harness.mjs';

const argument = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? Number(process.argv[at + 1]) : fallback;
};
const PEOPLE = argument('people', 50_000);
const PAGES = ['/', '/healthz', '/forms/contact-us'];
const DEADLINE_MS = 20 * 60_000;
const AFTER_MS = 15_000;
const PAUSE_MS = 100;
const LOADED = 'signposts demo extracts loaded';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'borough-demo-start-'));
const platform = await startPlatform({ dataDir, env: { LOG_LEVEL: 'info', BOROUGH_DEMO_SIGNPOSTS: String(PEOPLE) }, timeoutMs: 300_000 });
const ready = performance.now();
let loadedAt;
let log = '';
platform.child.stdout.on('data', (chunk) => {
  log = (log + chunk.toString()).slice(-2000);
  if (loadedAt === undefined && log.includes(LOADED)) loadedAt = performance.now();
});
const rss = sampleRss(platform.child.pid);

/** Asks for each page in turn until `until()` says stop; returns each page's waits in milliseconds. */
async function probe(until) {
  const waits = Object.fromEntries(PAGES.map((p) => [p, []]));
  const failures = [];
  while (!until()) {
    for (const page of PAGES) {
      const started = performance.now();
      try {
        const response = await get(platform.port, page, 120_000, { 'x-forwarded-proto': 'https', accept: 'text/html' });
        if (response.status !== 200) failures.push(`${page} answered ${response.status}`);
      } catch (error) {
        failures.push(`${page}: ${error.message}`);
      }
      waits[page].push(performance.now() - started);
    }
    await sleep(PAUSE_MS);
  }
  return { waits, failures };
}

const summary = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { requests: sorted.length, p50Ms: round(percentile(sorted, 50), 1), p95Ms: round(percentile(sorted, 95), 1), maxMs: round(sorted.at(-1) ?? 0, 1) };
};

let during;
let after;
try {
  during = await probe(() => loadedAt !== undefined || performance.now() - ready > DEADLINE_MS);
  if (loadedAt === undefined) throw new Error(`the demo extracts did not load within ${DEADLINE_MS / 60_000} minutes:\n${log}`);
  const quietFrom = performance.now();
  after = await probe(() => performance.now() - quietFrom > AFTER_MS);
} finally {
  await stopChild(platform.child, 30_000);
  rmSync(dataDir, { recursive: true, force: true });
}
const peak = rss.stop();

const result = {
  benchmark: 'demo-start',
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  people: PEOPLE,
  startMs: platform.startMs,
  loadSec: round((loadedAt - ready) / 1000, 1),
  peakRssMb: mb(peak.peakBytes),
  pages: Object.fromEntries(PAGES.map((p) => [p, { whileLoading: summary(during.waits[p]), afterwards: summary(after.waits[p]) }])),
  failures: [...during.failures, ...after.failures].slice(0, 20),
};
mkdirSync(path.join(benchDir, 'results'), { recursive: true });
writeFileSync(path.join(benchDir, 'results/demo-start.json'), `${JSON.stringify(result, null, 2)}\n`);

console.log(`Demo start with ${PEOPLE.toLocaleString('en-GB')} Signposts people: platform answered after ${(result.startMs / 1000).toFixed(1)} s;`);
console.log(`the extracts were in ${result.loadSec} s after that; peak RSS ${result.peakRssMb} MB.\n`);
const rows = [];
for (const page of PAGES)
  for (const [when, s] of Object.entries(result.pages[page]))
    rows.push([page, when === 'whileLoading' ? 'while loading' : 'afterwards', s.requests, s.p50Ms, s.p95Ms, s.maxMs]);
console.log(table(['page', 'when', 'requests', 'p50 ms', 'p95 ms', 'max ms'], rows, 2));
if (result.failures.length) console.log(`\nFailures: ${result.failures.join('; ')}`);
