#!/usr/bin/env node
// Forms benchmark: complete submissions of the contact-us form under concurrency, checked against
// the database afterwards; a rendered question page against a bare node:http baseline; and the
// form linter over every shipped form. Runs the compiled platform (`npm run build` first).
//
//   node bench/forms.mjs            measure, print, write bench/results/forms.json
//   node bench/forms.mjs --check    also exit 1 when a target is missed
//
// Load only ever goes to 127.0.0.1 and every run is bounded in time and count.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { Browser, csrfOf, WalkError } from './lib/browser.mjs';
import {
  benchDir,
  capture,
  killAllChildren,
  LOOPBACK,
  load,
  mb,
  median,
  percentile,
  projectRoot,
  round,
  sampleRss,
  startBareServer,
  startPlatform,
  stopChild,
  table,
  runRecord,
  summarise,
} from './lib/harness.mjs';

const FORM = 'contact-us';
const SUBMISSIONS = 1_000;
const CLIENTS = 50;
/** Every n-th client presses "Send" twice at once on every submission it makes. */
const DOUBLE_SUBMIT_EVERY = 10;
/** Walks that stop at check answers, to warm the platform up before the measured load. */
const WARMUP_WALKS = 20;
/** A bound on the load phase: no new submission is started after this long, whatever the count. */
const SUBMIT_DEADLINE_SEC = 240;

const CONNECTIONS = 50;
const DURATION_SEC = 10;
const WARMUP_SEC = 2;
const ROUNDS = 2;
const RATIO_TARGET = 0.4;

const LINT_WARMUPS = 3;
const LINT_REPETITIONS = 20;

/**
 * The shortest route through contact-us: a general enquiry, no files, email reply. Each step is a
 * question page and the fields a resident's browser posts on it (`n` makes each submission distinct).
 */
const ROUTE = [
  { slug: 'what-would-you-like-to-do', fields: () => [['contactType', 'enquiry']] },
  {
    slug: 'your-enquiry',
    fields: (n) => [
      ['enquirySubject', 'A missed bin collection'],
      ['enquiryMessage', `Our recycling bin was not emptied on collection day. Enquiry number ${n}.`],
      ['enquiryPostcode', ''],
    ],
  },
  // The upload page is a multipart form; with no file chosen a browser still sends the empty file part.
  { slug: 'upload-files', multipart: true, fields: () => [], emptyFile: 'evidence' },
  {
    slug: 'contact-details',
    fields: (n) => [
      ['contactName-firstName', 'Sam'],
      ['contactName-lastName', `Resident ${n}`],
      ['contactEmail', `resident${n}@example.com`],
      ['contactPhone', ''],
    ],
  },
  {
    slug: 'how-to-contact-you',
    fields: () => [
      ['contactMethod', 'email'],
      ['formats', 'none'],
    ],
  },
];

const progress = (message) => process.stderr.write(`  ${message}\n`);

// ---------------------------------------------------------------------------------------------
// A resident's journey

function referenceOf(html) {
  return /Your reference number<br><strong>([^<]+)<\/strong>/.exec(html)?.[1];
}

/**
 * One resident's journey: start page, start, every question page, check answers and, when
 * `submit`, the final POST (twice at once when `double`) and the confirmation page. With
 * `viewPages` each question page is fetched before it is answered; without, the answers are posted
 * straight to the page the last answer led to, with the session's token from the start page
 * (question page rendering has its own measurement).
 */
async function walk(browser, n, { submit, double = false, viewPages = false }) {
  const start = await browser.page(`/forms/${FORM}`);
  const token = csrfOf(start, 'start page');
  let { location } = await browser.post(`/forms/${FORM}/start`, [['_csrf', token]]);
  for (const step of ROUTE) {
    const expected = `/forms/${FORM}/${step.slug}`;
    if (location !== expected) throw new WalkError(`expected to be sent to ${expected}, was sent to ${location}`);
    const pageToken = viewPages ? csrfOf(await browser.page(location), step.slug) : token;
    ({ location } = await browser.post(location, [['_csrf', pageToken], ...step.fields(n), ['action', 'continue']], step));
  }
  const checkAnswers = `/forms/${FORM}/check-answers`;
  if (location !== checkAnswers) throw new WalkError(`expected to be sent to ${checkAnswers}, was sent to ${location}`);
  const summary = await browser.page(checkAnswers);
  if (!submit) return undefined;
  const send = [['_csrf', csrfOf(summary, 'check answers')]];
  const t0 = performance.now();
  const presses = await Promise.all(Array.from({ length: double ? 2 : 1 }, () => browser.post(checkAnswers, send)));
  const submitMs = performance.now() - t0;
  for (const press of presses) {
    if (press.location !== `/forms/${FORM}/confirmation`) throw new WalkError(`sending was redirected to ${press.location}, not the confirmation page`);
  }
  const confirmation = await browser.page(`/forms/${FORM}/confirmation`);
  const reference = referenceOf(confirmation);
  if (!reference) throw new WalkError('the confirmation page shows no reference');
  return { reference, submitMs, presses: presses.length };
}

// ---------------------------------------------------------------------------------------------
// A mail sink on loopback, so the platform's outgoing email goes somewhere, as it would deployed

async function startMailSink() {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 500,
    size: 25 * 1024 * 1024,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        received++;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  // A connection cut when the platform stops mid-send is not the sink's failure.
  let connectionErrors = 0;
  server.on('error', () => connectionErrors++);
  return {
    url: `smtp://${LOOPBACK}:${server.server.address().port}`,
    received: () => received,
    connectionErrors: () => connectionErrors,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Submissions under concurrency

async function submissions(port, pid) {
  progress(`warming up: ${WARMUP_WALKS} walks to check answers, not sent`);
  await Promise.all(
    Array.from({ length: WARMUP_WALKS }, async (_, i) => {
      const browser = new Browser(port);
      try {
        await walk(browser, -1 - i, { submit: false, viewPages: true });
      } finally {
        browser.close();
      }
    }),
  );

  progress(`${SUBMISSIONS} submissions from ${CLIENTS} concurrent clients (every ${DOUBLE_SUBMIT_EVERY}th client presses Send twice at once)`);
  let claimed = 0;
  const seen = [];
  const failures = [];
  const submitMs = [];
  let doublePresses = 0;
  const deadline = performance.now() + SUBMIT_DEADLINE_SEC * 1000;
  const sampler = sampleRss(pid, 200);
  const t0 = performance.now();
  const requestsBefore = Browser.requests;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const browser = new Browser(port);
      const double = client % DOUBLE_SUBMIT_EVERY === 0;
      try {
        while (claimed < SUBMISSIONS && performance.now() < deadline) {
          const n = claimed++;
          try {
            const outcome = await walk(browser, n, { submit: true, double });
            seen.push({ n, client, reference: outcome.reference, double });
            submitMs.push(outcome.submitMs);
            if (outcome.presses === 2) doublePresses++;
          } catch (error) {
            failures.push({ n, client, message: error instanceof Error ? error.message : String(error) });
          }
        }
      } finally {
        browser.close();
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const peak = sampler.stop();
  submitMs.sort((a, b) => a - b);
  const requests = Browser.requests - requestsBefore;
  return {
    attempted: claimed,
    completed: seen.length,
    failed: failures.length,
    failures: failures.slice(0, 10),
    wallSec: round(wallMs / 1000, 2),
    perSecond: round(seen.length / (wallMs / 1000), 1),
    requests,
    requestsPerSecond: round(requests / (wallMs / 1000)),
    requestsPerSubmission: 2 + ROUTE.length + 3,
    submitLatencyMs: {
      p50: round(percentile(submitMs, 50), 1),
      p95: round(percentile(submitMs, 95), 1),
      p99: round(percentile(submitMs, 99), 1),
      max: round(submitMs.at(-1) ?? 0, 1),
    },
    doubleSubmits: doublePresses,
    peakRssMb: mb(peak.peakBytes),
    seen,
  };
}

/** Reads the stopped platform's database directly and checks every submission the clients saw. */
async function verify(dataDir, load) {
  const { PGlite } = await import('@electric-sql/pglite');
  const extensions = {};
  for (const name of ['citext', 'pg_trgm', 'fuzzystrmatch', 'unaccent', 'btree_gist']) {
    extensions[name] = (await import(`@electric-sql/pglite/contrib/${name}`))[name];
  }
  const db = await PGlite.create(path.join(dataDir, 'pgdata'), { extensions });
  try {
    const counts = (
      await db.query(
        `SELECT count(*)::int AS rows, count(DISTINCT reference)::int AS refs, count(DISTINCT draft_id)::int AS drafts FROM form_submissions WHERE slug = $1`,
        [FORM],
      )
    ).rows[0];
    const stored = new Set((await db.query(`SELECT reference FROM form_submissions WHERE slug = $1`, [FORM])).rows.map((r) => r.reference));
    const deliveries = (
      await db.query(
        `SELECT count(*)::int AS rows, count(DISTINCT d.submission_id)::int AS submissions FROM form_deliveries d JOIN form_submissions s ON s.id = d.submission_id WHERE s.slug = $1`,
        [FORM],
      )
    ).rows[0];
    const mailRows = (await db.query(`SELECT status, count(*)::int AS n FROM notification_outbox GROUP BY status ORDER BY status`)).rows;
    const seenRefs = load.seen.map((s) => s.reference);
    const seenUnique = new Set(seenRefs);
    const missing = seenRefs.filter((ref) => !stored.has(ref));
    const doubles = load.seen.filter((s) => s.double);
    const doublesStoredOnce = doubles.filter((s) => stored.has(s.reference)).length;
    return {
      storedRows: counts.rows,
      storedDistinctReferences: counts.refs,
      storedDistinctDrafts: counts.drafts,
      seenByClients: seenRefs.length,
      seenDistinct: seenUnique.size,
      seenMissingFromDatabase: missing.length,
      storedNotSeenByClients: [...stored].filter((ref) => !seenUnique.has(ref)).length,
      deliveries,
      outbox: Object.fromEntries(mailRows.map((r) => [r.status, r.n])),
      doubleSubmits: { pressedTwice: load.doubleSubmits, confirmed: doubles.length, storedOnce: doublesStoredOnce },
      allStoredOnce:
        counts.rows === SUBMISSIONS &&
        counts.refs === counts.rows &&
        counts.drafts === counts.rows &&
        seenUnique.size === seenRefs.length &&
        missing.length === 0 &&
        counts.rows === seenRefs.length,
    };
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. A rendered question page against the bare baseline

async function pageThroughput(platform) {
  const browser = new Browser(platform.port);
  let pagePath;
  try {
    const start = await browser.page(`/forms/${FORM}`);
    ({ location: pagePath } = await browser.post(`/forms/${FORM}/start`, [['_csrf', csrfOf(start, 'start page')]]));
  } finally {
    browser.close();
  }
  const headers = { cookie: browser.cookieHeader, 'x-forwarded-proto': 'https', accept: 'text/html' };
  const captured = await capture(platform.port, pagePath, headers);
  if (captured.status !== 200 || !captured.body.includes('What would you like to do?')) {
    throw new Error(`${pagePath} answered ${captured.status} with the session cookie, not the question page`);
  }
  const bare = await startBareServer([captured]);
  try {
    const replayed = await capture(bare.port, pagePath, headers);
    if (replayed.status !== captured.status || !replayed.body.equals(captured.body) || replayed.contentType !== captured.contentType) {
      throw new Error(`the baseline does not replay ${pagePath} faithfully`);
    }
    const runs = { platform: [], bare: [] };
    for (let n = 1; n <= ROUNDS; n++) {
      for (const [name, server] of [
        ['platform', platform],
        ['bare', bare],
      ]) {
        progress(`${pagePath}  ${name.padEnd(8)} run ${n} of ${ROUNDS}: ${WARMUP_SEC} s warm-up + ${DURATION_SEC} s at ${CONNECTIONS} connections`);
        await load({ port: server.port, path: pagePath, connections: CONNECTIONS, durationSec: WARMUP_SEC, headers });
        const result = await load({ port: server.port, path: pagePath, connections: CONNECTIONS, durationSec: DURATION_SEC, headers });
        runs[name].push(result);
        progress(`  ${Math.round(result.rps)} req/s, p95 ${result.latencyMs.p95.toFixed(2)} ms, non-2xx ${result.non2xx}`);
      }
    }
    const platformSummary = summarise(runs.platform);
    const bareSummary = summarise(runs.bare);
    return {
      path: pagePath,
      responseBytes: captured.body.length,
      contentType: captured.contentType,
      platform: { ...platformSummary, runs: runs.platform.map(runRecord) },
      bare: { ...bareSummary, runs: runs.bare.map(runRecord) },
      ratio: round(bareSummary.rps ? platformSummary.rps / bareSummary.rps : 0, 3),
    };
  } finally {
    await stopChild(bare.child, 5_000);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. The form linter over every shipped form

async function linterTimes() {
  const { lintForm } = await import(pathToFileURL(path.join(projectRoot, 'dist/src/modules/forms/model/linter.js')).href);
  const folder = path.join(projectRoot, 'council/forms');
  const forms = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, raw: JSON.parse(readFileSync(path.join(folder, file), 'utf8')) }));
  progress(`linting ${forms.length} forms: ${LINT_WARMUPS} warm-ups and ${LINT_REPETITIONS} measured repetitions`);
  const totals = [];
  const perForm = new Map(forms.map((f) => [f.file, []]));
  const findings = new Map();
  for (let rep = 0; rep < LINT_WARMUPS + LINT_REPETITIONS; rep++) {
    const t0 = performance.now();
    for (const form of forms) {
      const ta = performance.now();
      const result = lintForm(form.raw);
      const tb = performance.now();
      if (rep >= LINT_WARMUPS) perForm.get(form.file).push(tb - ta);
      findings.set(form.file, result);
    }
    if (rep >= LINT_WARMUPS) totals.push(performance.now() - t0);
  }
  return {
    forms: forms.length,
    repetitions: LINT_REPETITIONS,
    warmups: LINT_WARMUPS,
    medianMs: round(median(totals), 3),
    minMs: round(Math.min(...totals), 3),
    maxMs: round(Math.max(...totals), 3),
    perForm: forms.map((f) => {
      const list = findings.get(f.file);
      return {
        file: f.file,
        pages: Array.isArray(f.raw.pages) ? f.raw.pages.length : 0,
        medianMs: round(median(perForm.get(f.file)), 3),
        errors: list.filter((x) => x.severity === 'error').length,
        warnings: list.filter((x) => x.severity !== 'error').length,
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function targetsOf({ load, verification, page }) {
  const failures = page.platform.errors + page.platform.non2xx;
  return [
    { name: 'submissions confirmed to clients', value: load.completed, target: `= ${SUBMISSIONS}`, pass: load.completed === SUBMISSIONS },
    { name: 'submissions stored (rows)', value: verification.storedRows, target: `= ${SUBMISSIONS}`, pass: verification.storedRows === SUBMISSIONS },
    {
      name: 'distinct references stored',
      value: verification.storedDistinctReferences,
      target: `= ${SUBMISSIONS}`,
      pass: verification.storedDistinctReferences === SUBMISSIONS,
    },
    {
      name: 'seen references missing from database',
      value: verification.seenMissingFromDatabase,
      target: '= 0',
      pass: verification.seenMissingFromDatabase === 0,
    },
    { name: 'stored but never confirmed', value: verification.storedNotSeenByClients, target: '= 0', pass: verification.storedNotSeenByClients === 0 },
    {
      name: 'double presses stored once',
      value: `${verification.doubleSubmits.storedOnce}/${verification.doubleSubmits.pressedTwice}`,
      target: 'all',
      // Every walk stored one row: as many rows, distinct drafts and distinct references as confirmations.
      pass:
        verification.doubleSubmits.pressedTwice > 0 &&
        verification.doubleSubmits.storedOnce === verification.doubleSubmits.pressedTwice &&
        verification.storedRows === verification.seenByClients &&
        verification.storedDistinctDrafts === verification.storedRows &&
        verification.storedDistinctReferences === verification.storedRows,
    },
    { name: 'question page rps ratio platform/bare', value: page.ratio, target: `>= ${RATIO_TARGET}`, pass: page.ratio >= RATIO_TARGET },
    { name: 'question page errors + non-2xx', value: failures, target: '= 0', pass: failures === 0 },
  ];
}

function report(result) {
  const { load, verification, mail, page, linter, targets } = result;
  const out = [];
  out.push('');
  out.push(`Borough forms benchmark  (Node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model?.trim() ?? 'unknown CPU'})`);
  out.push(`Platform as deployed (NODE_ENV=production, embedded database), started on a fresh data folder in ${result.platformStartMs} ms.`);
  out.push(`Machine load average (1 min) at the start ${result.loadAverage.start}, at the end ${result.loadAverage.end}.`);
  out.push('');
  out.push(
    `1. Submissions of ${FORM}: ${CLIENTS} concurrent clients, each with its own cookies, start page -> start -> ${ROUTE.length} question pages answered -> check answers -> send -> confirmation (${load.requestsPerSubmission} requests)`,
  );
  out.push(
    table(
      ['measure', 'value'],
      [
        ['submissions confirmed', `${load.completed} of ${load.attempted} attempted (${load.failed} failed)`],
        ['wall time of the load phase', `${load.wallSec} s`],
        ['submissions per second', load.perSecond],
        ['requests per second (all pages)', load.requestsPerSecond],
        [
          'final POST latency p50 / p95 / p99 / max',
          `${load.submitLatencyMs.p50} / ${load.submitLatencyMs.p95} / ${load.submitLatencyMs.p99} / ${load.submitLatencyMs.max} ms`,
        ],
        ['submissions pressed twice at once', load.doubleSubmits],
        ['platform peak RSS during the load', `${load.peakRssMb} MB`],
      ],
    ),
  );
  if (load.failures.length) {
    out.push('First failures:');
    for (const f of load.failures) out.push(`  #${f.n} (client ${f.client}): ${f.message}`);
  }
  out.push('');
  out.push('   Database after stopping the platform (form_submissions read with PGlite directly)');
  out.push(
    table(
      ['check', 'value'],
      [
        [
          'rows / distinct references / distinct drafts',
          `${verification.storedRows} / ${verification.storedDistinctReferences} / ${verification.storedDistinctDrafts}`,
        ],
        ['references seen by clients / distinct', `${verification.seenByClients} / ${verification.seenDistinct}`],
        ['seen but not stored', verification.seenMissingFromDatabase],
        ['stored but not seen', verification.storedNotSeenByClients],
        [
          'double presses: pressed / confirmed / stored once',
          `${verification.doubleSubmits.pressedTwice} / ${verification.doubleSubmits.confirmed} / ${verification.doubleSubmits.storedOnce}`,
        ],
        ['deliveries queued (rows / submissions)', `${verification.deliveries.rows} / ${verification.deliveries.submissions}`],
        [
          'outbox by status',
          Object.entries(verification.outbox)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'empty',
        ],
        ['emails received by the loopback sink by the stop', `${mail.received} (the rest stay queued; graceful stop took ${mail.stopMs} ms)`],
        ['all stored exactly once', verification.allStoredOnce ? 'yes' : 'NO'],
      ],
    ),
  );
  out.push('');
  out.push(
    `2. Rendered question page ${page.path} with a session cookie: ${CONNECTIONS} connections, ${DURATION_SEC} s per run after a ${WARMUP_SEC} s warm-up, runs alternated, median of ${ROUNDS}`,
  );
  const rows = [];
  for (const name of ['platform', 'bare']) {
    const s = page[name];
    s.runs.forEach((r, i) => rows.push([name, `run ${i + 1}`, r.rps, r.p50Ms.toFixed(2), r.p95Ms.toFixed(2), r.p99Ms.toFixed(2), r.errors, r.non2xx]));
    rows.push([name, 'median', s.rps, s.p50Ms.toFixed(2), s.p95Ms.toFixed(2), s.p99Ms.toFixed(2), s.errors, s.non2xx]);
  }
  out.push(table(['server', 'run', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'non-2xx'], rows, 2));
  out.push(`${page.path} (${page.responseBytes} bytes, ${page.contentType}): platform/bare = ${page.ratio.toFixed(3)}`);
  out.push('');
  out.push(`3. Form linter over council/forms/*.json: ${linter.forms} forms, median of ${linter.repetitions} repetitions after ${linter.warmups} warm-ups`);
  out.push(
    table(
      ['form', 'pages', 'median ms', 'errors', 'warnings'],
      [
        ...linter.perForm.map((f) => [f.file, f.pages, f.medianMs.toFixed(3), f.errors, f.warnings]),
        ['all forms', linter.perForm.reduce((n, f) => n + f.pages, 0), linter.medianMs.toFixed(3), '', ''],
      ],
    ),
  );
  out.push('');
  out.push('Targets');
  out.push(
    table(
      ['measure', 'value', 'target', 'result'],
      targets.map((t) => [t.name, t.value, t.target, t.pass ? 'met' : 'MISSED']),
    ),
  );
  out.push('');
  console.log(out.join('\n'));
  console.log(JSON.stringify({ ...result, load: { ...result.load, seen: undefined } }));
}

async function main() {
  const check = process.argv.includes('--check');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-forms-'));
  const dataDir = path.join(tmp, 'data');
  const started = performance.now();
  const loadAtStart = round(os.loadavg()[0], 2);
  let mail;
  try {
    process.stderr.write(`Borough forms benchmark (data folder ${dataDir})\n`);
    mail = await startMailSink();
    progress('starting the platform on a fresh data folder');
    const platform = await startPlatform({
      dataDir,
      env: {
        NODE_ENV: 'production',
        BOROUGH_DEMO: 'false',
        SESSION_SECRET: randomBytes(32).toString('hex'),
        BOROUGH_BASE_URL: 'https://127.0.0.1',
        SMTP_URL: mail.url,
      },
    });
    progress(`  ${platform.startMs} ms`);
    let load;
    let page;
    let stopped;
    try {
      // The page runs first, on a platform with no submissions or outgoing mail under way.
      page = await pageThroughput(platform);
      load = await submissions(platform.port, platform.child.pid);
      progress(
        `  ${load.completed} confirmed in ${load.wallSec} s (${load.perSecond}/s), final POST p50 ${load.submitLatencyMs.p50} ms p95 ${load.submitLatencyMs.p95} ms, ${load.failed} failed`,
      );
      if (load.failures.length) progress(`  first failure: ${load.failures[0].message}`);
      if (platform.child.exitCode !== null) throw new Error(`the platform exited during the load runs:\n${platform.child.output()}`);
    } finally {
      // Stopping first: the embedded database is locked by the running platform.
      stopped = await stopChild(platform.child);
      if (stopped.forced) progress('warning: the platform did not stop within the grace period and was killed');
    }
    const mailReceived = { received: mail.received(), stopMs: stopped.ms };
    progress("reading the submissions from the stopped platform's database");
    const verification = await verify(dataDir, load);
    const linter = await linterTimes();
    const targets = targetsOf({ load, verification, page });
    const result = {
      benchmark: 'forms',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.trim(),
      settings: {
        form: FORM,
        route: ROUTE.map((s) => s.slug),
        submissions: SUBMISSIONS,
        clients: CLIENTS,
        doubleSubmitEvery: DOUBLE_SUBMIT_EVERY,
        connections: CONNECTIONS,
        durationSec: DURATION_SEC,
        warmupSec: WARMUP_SEC,
        rounds: ROUNDS,
        lintWarmups: LINT_WARMUPS,
        lintRepetitions: LINT_REPETITIONS,
      },
      loadAverage: { start: loadAtStart, end: round(os.loadavg()[0], 2) },
      platformStartMs: platform.startMs,
      load,
      verification,
      mail: mailReceived,
      page,
      linter,
      targets,
      allTargetsMet: targets.every((t) => t.pass),
      elapsedSec: round((performance.now() - started) / 1000, 1),
    };
    const resultsDir = path.join(benchDir, 'results');
    mkdirSync(resultsDir, { recursive: true });
    const { seen, ...loadWithoutSeen } = load;
    writeFileSync(
      path.join(resultsDir, 'forms.json'),
      `${JSON.stringify({ ...result, load: { ...loadWithoutSeen, references: seen.map((s) => s.reference) } }, null, 2)}\n`,
    );
    report(result);
    process.stderr.write(`Wrote ${path.relative(process.cwd(), path.join(resultsDir, 'forms.json'))} in ${result.elapsedSec} s\n`);
    return check && !result.allTargetsMet ? 1 : 0;
  } finally {
    killAllChildren();
    await mail?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    killAllChildren();
    console.error(`Forms benchmark failed: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  },
);
