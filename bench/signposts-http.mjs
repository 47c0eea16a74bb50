#!/usr/bin/env node
// Signposts search over HTTP: the whole request a safeguarding officer makes (session, purpose check, search,
// audit row and rendered page) against the demo borough's agency records, beside the matcher alone answering the
// same queries in the same run, so the cost of everything around the search shows.
//   node scripts/build.mjs && node bench/signposts-http.mjs [--people 50000] [--queries 300] [--postgres] [--load-minutes 10]
// The platform runs as a child process on 127.0.0.1 with a fresh data folder that is removed afterwards, on its
// embedded database or, with --postgres, on a throwaway PostgreSQL server (for a million records: --people 550000).
// With more than 100,000 residents the platform gets a larger heap, as a deployment of that size would; run this
// script with `node --max-old-space-size=12000` too, for the matcher it builds alongside.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOOPBACK, benchDir, killAllChildren, percentile, projectRoot, round, startPlatform, stopChild, table } from './lib/harness.mjs';
import { startPostgres } from './lib/postgres.mjs';

const load = (file) => import(pathToFileURL(path.join(projectRoot, 'dist/src', file)).href);
const { demoDataset } = await load('modules/signposts/demo-data.js');
const { loadSignpostsConfig, mapExtract, linkageRecord } = await load('modules/signposts/model/sources.js');
const linkage = await load('modules/signposts/linkage/index.js');
const { ROLES } = await load('modules/account/permissions.js');
const { generateTotp } = await load('platform/security/totp.js');

const flag = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? Number(process.argv[at + 1].replace(/[_,]/g, '')) : fallback;
};
const people = flag('people', 50_000);
const queryCount = flag('queries', 300);
const onPostgres = process.argv.includes('--postgres');
const WARMUP = 20;
const CONCURRENCY = 4;
const FORM_REQUESTS = 50;
const LOAD_TIMEOUT_MS = flag('load-minutes', 10) * 60_000;
const LARGE = people > 100_000;
// The service's own limit: 25 people shown, four times as many hits asked of the index.
const HIT_LIMIT = 100;
const OFFICER = { email: 'safeguarding-officer@kingsmere.example', password: 'kingsmere-demo-staff', totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' };
const HOME = '/staff/signposts';

const progress = (message) => process.stderr.write(`  [${(performance.now() / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The records the platform loads: the same deterministic extracts, mapped as the ingest maps them.

/** Every mapped record, and those from sources a safeguarding officer may see. */
function demoRecords() {
  const data = demoDataset({ people });
  const config = loadSignpostsConfig(path.join(projectRoot, 'council'), new Set([...Object.keys(ROLES), 'safeguarding-lead']));
  const sources = new Map(config.sources.map((s) => [s.code, s]));
  const records = [];
  // Officers look for people they can find: queries are drawn from the sources their role may see.
  const visible = [];
  for (const extract of data.extracts) {
    const source = sources.get(extract.source);
    const { records: mapped } = mapExtract(source, extract.rows);
    for (const record of mapped) {
      const person = linkageRecord(extract.source, record);
      records.push(person);
      if (source.roles.includes('safeguarding-officer')) visible.push(person);
    }
  }
  return { records, visible };
}

// ---------------------------------------------------------------------------------------------
// Queries as officers type them, each kept both as search form parameters and as the query the route builds.

function buildQueries(pool) {
  let seed = 20261207;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const typo = (text) => {
    if (text.length < 4) return text;
    const i = 1 + Math.floor(random() * (text.length - 2));
    return random() < 0.5 ? text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2) : text.slice(0, i) + text.slice(i + 1);
  };
  const firstName = (forenames) => forenames.split(/\s+/)[0];
  const today = new Date();
  const kinds = ['misspelt name and date of birth', 'surname and postcode', 'forename and age range', 'NHS number'];
  const queries = [];
  let attempts = 0;
  while (queries.length < queryCount && attempts++ < queryCount * 200) {
    const r = pool[Math.floor(random() * pool.length)];
    const kind = kinds[queries.length % kinds.length];
    const dob = /^(\d{4})(\d{2})(\d{2})$/.exec(r.dob ?? '');
    let params;
    let query;
    if (kind === kinds[0] && r.forenames && r.surname && dob) {
      const name = `${firstName(r.forenames)} ${typo(r.surname)}`;
      params = { name, 'dob-day': String(Number(dob[3])), 'dob-month': String(Number(dob[2])), 'dob-year': dob[1] };
      query = { name, dob: `${dob[1]}-${dob[2]}-${dob[3]}` };
    } else if (kind === kinds[1] && r.surname && r.postcode) {
      params = { name: r.surname, place: r.postcode };
      query = { name: r.surname, postcode: r.postcode };
    } else if (kind === kinds[2] && r.forenames && r.surname && dob) {
      const age = today.getUTCFullYear() - Number(dob[1]);
      const name = `${firstName(r.forenames)} ${r.surname}`;
      const [ageFrom, ageTo] = [Math.max(0, age - 2), Math.min(120, age + 1)];
      params = { name, ageFrom: String(ageFrom), ageTo: String(ageTo) };
      query = { name, ageFrom, ageTo };
    } else if (kind === kinds[3] && r.identifiers?.nhs_number) {
      params = { identifier: r.identifiers.nhs_number };
      query = { identifier: r.identifiers.nhs_number };
    } else continue;
    queries.push({ kind, url: `${HOME}?${new URLSearchParams(params)}`, query });
  }
  return { kinds, queries };
}

// ---------------------------------------------------------------------------------------------
// A browser of our own: cookies kept by hand, redirects not followed, the CSRF token from the last form.

class Officer {
  cookies = new Map();
  lastHtml = '';
  constructor(port) {
    this.base = `http://${LOOPBACK}:${port}`;
  }

  async send(method, urlPath, form) {
    const headers = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      const csrf = /name="_csrf" value="([^"]+)"/.exec(this.lastHtml)?.[1];
      if (!csrf) throw new Error(`no CSRF token on the page before ${method} ${urlPath}`);
      body = new URLSearchParams({ ...form, _csrf: csrf }).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(this.base + urlPath, { method, headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
      if (!value || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    if ((response.headers.get('content-type') ?? '').includes('text/html')) this.lastHtml = text;
    return { status: response.status, location: response.headers.get('location'), text };
  }

  async signIn() {
    await this.send('GET', '/staff/sign-in');
    const password = await this.send('POST', '/staff/sign-in', { email: OFFICER.email, password: OFFICER.password, returnTo: '' });
    if (password.location !== '/staff/sign-in/code') throw new Error(`the password was not accepted (${password.status} ${password.location})`);
    // A code from a time step already used is refused: try the current step, then wait for the next one.
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.send('GET', '/staff/sign-in/code');
      const done = await this.send('POST', '/staff/sign-in/code', { code: generateTotp(OFFICER.totpSecret) });
      if (done.location === '/staff') return;
      if (done.location === '/staff/sign-in') throw new Error('the sign-in code was refused outright');
      await sleep(30_000 - (Date.now() % 30_000) + 500);
    }
    throw new Error('the sign-in code was not accepted');
  }

  async givePurpose() {
    await this.send('GET', `${HOME}/purpose`);
    const given = await this.send('POST', `${HOME}/purpose`, {
      reference: 'MASH-2026-0412',
      reason: 'Multi-agency check on a referral received today',
      next: '',
    });
    if (given.status !== 303 || given.location !== HOME) throw new Error(`the purpose was not accepted (${given.status} ${given.location})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Timing

function summary(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50), 2),
    p95: round(percentile(sorted, 95), 2),
    p99: round(percentile(sorted, 99), 2),
    max: round(sorted.at(-1) ?? 0, 2),
  };
}

async function httpRun(officer, queries, concurrency) {
  const times = new Array(queries.length);
  const outcome = { results: 0, none: 0, bad: 0, badExamples: [] };
  let next = 0;
  const worker = async () => {
    while (next < queries.length) {
      const q = next++;
      const start = performance.now();
      const response = await officer.send('GET', queries[q].url);
      times[q] = performance.now() - start;
      if (response.status === 200 && response.text.includes('id="results"')) outcome.results++;
      else if (response.status === 200 && response.text.includes('No people found')) outcome.none++;
      else {
        outcome.bad++;
        if (outcome.badExamples.length < 3) outcome.badExamples.push(`${response.status} ${queries[q].url}`);
      }
    }
  };
  const wall = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallSeconds = (performance.now() - wall) / 1000;
  return { latencyMs: summary(times), byKind: byKind(queries, times), ...outcome, requestsPerSecond: round(queries.length / wallSeconds, 1) };
}

function byKind(queries, times) {
  const groups = new Map();
  queries.forEach((q, i) => {
    const list = groups.get(q.kind) ?? [];
    list.push(times[i]);
    groups.set(q.kind, list);
  });
  return Object.fromEntries([...groups].map(([kind, list]) => [kind, summary(list)]));
}

/** Resolves when the platform logs that the demo extracts are in; rejects if it exits or time runs out. */
function demoLoaded(child) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => finish(new Error(`the demo extracts did not load within ${LOAD_TIMEOUT_MS / 60_000} minutes:\n${child.output()}`)),
      LOAD_TIMEOUT_MS,
    );
    const onData = (chunk) => {
      buffered = (buffered + chunk.toString()).slice(-100_000);
      if (buffered.includes('signposts demo extracts loaded')) finish();
    };
    const onExit = () => finish(new Error(`the platform exited while loading the demo extracts:\n${child.output()}`));
    function finish(error) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    }
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    if (child.output().includes('signposts demo extracts loaded')) finish();
  });
}

// ---------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'borough-signposts-http-'));
let platform;
let server;
try {
  progress(`starting the platform with ${people.toLocaleString('en-GB')} demo residents in ${dataDir}`);
  if (onPostgres) {
    server = await startPostgres();
    if (server.unavailable) throw new Error(`PostgreSQL cannot run here: ${server.unavailable}`);
    progress(`PostgreSQL ${server.version ?? ''} at ${server.url}`);
  }
  platform = await startPlatform({
    dataDir,
    env: {
      BOROUGH_DEMO: 'true',
      BOROUGH_DEMO_SIGNPOSTS: String(people),
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      ...(server ? { DATABASE_URL: server.url } : {}),
      ...(LARGE ? { NODE_OPTIONS: '--max-old-space-size=12000' } : {}),
    },
  });
  const loaded = demoLoaded(platform.child);
  const { startMs } = platform;
  const loadStart = performance.now();
  progress(`answering on 127.0.0.1:${platform.port} after ${platform.startMs} ms; the demo extracts load in the background`);

  // Meanwhile, the matcher on its own: the same records, linked into people, in an index like the platform's.
  const { records, visible } = demoRecords();
  const prepared = linkage.prepare(records);
  const linked = linkage.dedupe(prepared);
  const personOf = new Map(linked.clusters.map((c) => [c.id, `p${c.cluster}`]));
  const index = new linkage.SearchIndex(linked.model);
  index.upsert(prepared.map((record) => ({ record, personId: personOf.get(record.id) ?? record.id })));
  const { kinds, queries } = buildQueries(visible);
  progress(
    `${records.length.toLocaleString('en-GB')} records in ${new Set(personOf.values()).size.toLocaleString('en-GB')} people indexed; ${queries.length} queries`,
  );

  await loaded;
  const loadSeconds = (performance.now() - loadStart) / 1000;
  progress(`demo extracts loaded ${loadSeconds.toFixed(0)} s after start`);

  const officer = new Officer(platform.port);
  await officer.signIn();
  await officer.givePurpose();
  progress('signed in as the safeguarding officer with a purpose given');

  // The first search after the load may build the platform's matcher; warming up takes that out of the figures.
  const warm = await httpRun(officer, queries.slice(0, WARMUP), 1);
  if (warm.bad > 0) throw new Error(`warm-up requests failed: ${warm.badExamples.join(', ')}`);
  progress(`warmed up with ${WARMUP} requests (slowest ${warm.latencyMs.max} ms)`);

  const sequential = await httpRun(officer, queries, 1);
  progress('sequential pass done');
  const concurrent = await httpRun(officer, queries, CONCURRENCY);
  progress(`${CONCURRENCY}-concurrent pass done`);

  // The same page with no search: session, purpose and rendering without the matcher or the audit row.
  const formTimes = [];
  for (let i = 0; i < FORM_REQUESTS; i++) {
    const start = performance.now();
    const response = await officer.send('GET', HOME);
    formTimes.push(performance.now() - start);
    if (response.status !== 200 || !response.text.includes('Find a person')) throw new Error(`the search form answered ${response.status}`);
  }
  const form = { latencyMs: summary(formTimes) };

  for (let i = 0; i < WARMUP; i++) index.search(queries[i].query, { limit: HIT_LIMIT });
  const matcherTimes = [];
  let matcherHits = 0;
  for (const { query } of queries) {
    const start = performance.now();
    const hits = index.search(query, { limit: HIT_LIMIT });
    matcherTimes.push(performance.now() - start);
    if (hits.length > 0) matcherHits++;
  }
  const matcher = { latencyMs: summary(matcherTimes), byKind: byKind(queries, matcherTimes), queriesWithHits: matcherHits };

  const row = (label, s) => [label, s.count, s.p50.toFixed(2), s.p95.toFixed(2), s.p99.toFixed(2), s.max.toFixed(2)];
  console.log(
    `Signposts search over HTTP: ${people.toLocaleString('en-GB')} demo residents, ${records.length.toLocaleString('en-GB')} agency records, ${onPostgres ? `PostgreSQL ${server?.version ?? ''}` : 'embedded database'}`,
  );
  console.log(`platform answered after ${startMs} ms; demo extracts loaded ${loadSeconds.toFixed(0)} s after that`);
  console.log('');
  console.log(
    table(
      ['latency (ms)', 'requests', 'p50', 'p95', 'p99', 'max'],
      [
        row('HTTP, one at a time', sequential.latencyMs),
        row(`HTTP, ${CONCURRENCY} at once`, concurrent.latencyMs),
        row('matcher only', matcher.latencyMs),
        row('HTTP, form without a search', form.latencyMs),
      ],
    ),
  );
  console.log('');
  console.log(
    table(
      ['p50 by kind (ms)', 'HTTP 1', `HTTP ${CONCURRENCY}`, 'matcher'],
      kinds.map((k) => [k, sequential.byKind[k]?.p50 ?? '-', concurrent.byKind[k]?.p50 ?? '-', matcher.byKind[k]?.p50 ?? '-']),
    ),
  );
  console.log('');
  for (const [label, run] of [
    ['one at a time', sequential],
    [`${CONCURRENCY} at once`, concurrent],
  ])
    console.log(
      `HTTP ${label}: ${run.requestsPerSecond} requests/s; ${run.results} with a results table, ${run.none} "No people found", ${run.bad} other${run.badExamples.length ? ` (${run.badExamples.join(', ')})` : ''}`,
    );
  console.log(`matcher only: ${matcher.queriesWithHits} of ${queries.length} queries found someone`);

  const stopped = await stopChild(platform.child);
  platform = undefined;
  console.log(`platform stopped in ${stopped.ms} ms (exit ${stopped.code ?? stopped.signal}${stopped.forced ? ', killed after the grace period' : ''})`);

  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  writeFileSync(
    path.join(benchDir, 'results/signposts-http.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        people,
        database: onPostgres ? `PostgreSQL ${server?.version ?? ''}`.trim() : 'embedded',
        records: records.length,
        startMs,
        demoLoadSeconds: round(loadSeconds, 1),
        queries: queries.length,
        warmup: WARMUP,
        httpSequential: sequential,
        httpConcurrent: { concurrency: CONCURRENCY, ...concurrent },
        matcherOnly: matcher,
        searchFormWithoutSearch: form,
        stop: stopped,
      },
      null,
      2,
    ) + '\n',
  );
  if (sequential.bad + concurrent.bad > 0) process.exitCode = 1;
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  if (platform) await stopChild(platform.child, 5_000).catch(() => killAllChildren());
  await server?.stop?.();
  rmSync(dataDir, { recursive: true, force: true });
}
