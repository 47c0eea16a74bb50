#!/usr/bin/env node
// Appointments benchmark, on the compiled platform (`npm run build` first):
//   1. a rush: 500 residents' browsers race over HTTP for 50 single-place slots through the whole
//      booking journey (no JavaScript). Exactly 50 bookings may result, no resource may be booked
//      twice at once, and the only refusal anyone may see is "that time has just been taken";
//   2. availability for a 90-day horizon over 20 resources, about half booked: the computation on
//      its own, and the service call that reads what is taken from the database first.
//
//   node bench/appointments.mjs                 embedded database (PGlite)
//   node bench/appointments.mjs --postgres      also the rush on a throwaway PostgreSQL server
//   node bench/appointments.mjs --no-rush       availability figures only
//
// Everything listens on 127.0.0.1 only, and every run is bounded in count and time.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Browser, csrfOf, errorSummary } from './lib/browser.mjs';
import { benchDir, killAllChildren, percentile, projectRoot, round, startPlatform, stopChild, table } from './lib/harness.mjs';
import { startPostgres } from './lib/postgres.mjs';

const args = process.argv.slice(2);
const CLIENTS = 500;
const SLOTS = 50;
const TYPE = 'council-tax-advice';
const LOCATION = 'civic-centre';
const AVAILABILITY_RUNS = 200;
const RESOURCES = 20;
const HORIZON_DAYS = 90;
const RUSH_MAX_SEC = 120;
const TARGETS = { availabilityP95Ms: 50 };

const progress = (message) => process.stderr.write(`  ${message}\n`);
const importDist = (relative) => import(pathToFileURL(path.join(projectRoot, 'dist/src', relative)).href);

// ---------------------------------------------------------------------------------------------
// 1. The rush

/** Start times offered on the times pages, earliest first, until there are enough. */
async function offeredStarts(port, count) {
  const browser = new Browser(port);
  try {
    const starts = [];
    const first = await browser.page(`/appointments/${TYPE}/${LOCATION}`);
    const dates = [...new Set([...first.matchAll(/\?date=(\d{4}-\d{2}-\d{2})/g)].map((m) => m[1]))].sort();
    for (const date of dates) {
      const html = await browser.page(`/appointments/${TYPE}/${LOCATION}?date=${date}`);
      for (const match of html.matchAll(/name="start"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="start"/g)) starts.push(match[1] ?? match[2]);
      if (new Set(starts).size >= count) break;
    }
    return [...new Set(starts)].sort().slice(0, count);
  } finally {
    browser.close();
  }
}

/** One resident: open the times page, choose the start, and if it is held answer and confirm. */
async function resident(port, start, i, gate) {
  // Each resident has their own address, passed on by the reverse proxy the platform trusts.
  const browser = new Browser(port, { forwardedFor: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
  const timesPath = `/appointments/${TYPE}/${LOCATION}`;
  try {
    const html = await browser.page(timesPath);
    const csrf = csrfOf(html, timesPath);
    await gate;
    const t0 = performance.now();
    const chosen = await browser.send('POST', timesPath, {
      body: new URLSearchParams({ _csrf: csrf, start }).toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    if (chosen.status !== 303) {
      const summary = errorSummary(chosen.body);
      if (/just been taken/i.test(summary)) return { outcome: 'taken', ms: performance.now() - t0 };
      return { outcome: 'error', detail: `choose: ${chosen.status} ${summary}` };
    }
    const detailsPath = chosen.headers.location;
    const details = await browser.page(detailsPath);
    const next = await browser.post(detailsPath, {
      _csrf: csrfOf(details, detailsPath),
      name: `Rush Resident ${i}`,
      email: `rush${i}@example.com`,
      remindBy: 'email',
      topic: 'A question about my bill',
    });
    const check = await browser.page(next.location);
    const done = await browser.post(next.location, { _csrf: csrfOf(check, next.location) });
    const confirmation = await browser.page(done.location);
    const reference = /([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})/.exec(confirmation)?.[1];
    return { outcome: 'booked', reference, ms: performance.now() - t0 };
  } catch (error) {
    return { outcome: 'error', detail: error instanceof Error ? error.message : String(error) };
  } finally {
    browser.close();
  }
}

async function rush(label, env) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-appointments-'));
  let platform;
  try {
    progress(`${label}: starting the platform`);
    platform = await startPlatform({ dataDir, env: { BOROUGH_DEMO_REPORTS: '0', BOROUGH_DEMO_SIGNPOSTS: '0', BOROUGH_TRUSTED_PROXIES: '127.0.0.1', ...env } });
    const starts = await offeredStarts(platform.port, SLOTS);
    if (starts.length < SLOTS) throw new Error(`only ${starts.length} start times offered`);
    progress(`${label}: ${CLIENTS} browsers racing for ${SLOTS} slots`);
    let open;
    const gate = new Promise((resolve) => (open = resolve));
    const clients = Array.from({ length: CLIENTS }, (_, i) => resident(platform.port, starts[i % SLOTS], i, gate));
    // Every browser has its page and token before the race starts.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const t0 = performance.now();
    open();
    const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error(`the rush took over ${RUSH_MAX_SEC}s`)), RUSH_MAX_SEC * 1000).unref());
    const results = await Promise.race([Promise.all(clients), deadline]);
    const seconds = (performance.now() - t0) / 1000;
    const booked = results.filter((r) => r.outcome === 'booked');
    const taken = results.filter((r) => r.outcome === 'taken');
    const errors = results.filter((r) => r.outcome === 'error');
    await stopChild(platform.child);
    platform = undefined;
    const stored = env.DATABASE_URL ? await countOnServer(env.DATABASE_URL) : await countEmbedded(dataDir);
    const bookedMs = booked.map((r) => r.ms).sort((a, b) => a - b);
    return {
      label,
      clients: CLIENTS,
      slots: SLOTS,
      bookedByClients: booked.length,
      distinctReferences: new Set(booked.map((r) => r.reference)).size,
      takenByClients: taken.length,
      errors: errors.length,
      errorSamples: [...new Set(errors.map((e) => e.detail))].slice(0, 5),
      ...stored,
      seconds: round(seconds, 2),
      bookingsPerSecond: round(booked.length / seconds, 1),
      attemptsPerSecond: round(CLIENTS / seconds, 1),
      bookingJourneyP50Ms: round(percentile(bookedMs, 50)),
      bookingJourneyP95Ms: round(percentile(bookedMs, 95)),
    };
  } finally {
    if (platform) await stopChild(platform.child, 5_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const COUNT_SQL = `SELECT count(*)::int AS n FROM appointment_bookings WHERE status = 'confirmed' AND type_code = '${TYPE}'`;
// Two bookings holding the same resource at overlapping times: the thing that must never happen.
const DOUBLE_SQL = `
  SELECT count(*)::int AS n FROM appointment_bookings a
  JOIN appointment_booking_resources ra ON ra.booking_id = a.id
  JOIN appointment_booking_resources rb ON rb.resource_code = ra.resource_code
  JOIN appointment_bookings b ON b.id = rb.booking_id AND b.id > a.id
  WHERE a.status = 'confirmed' AND b.status = 'confirmed' AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at`;

async function countEmbedded(dataDir) {
  const { PGlite } = await import('@electric-sql/pglite');
  const extensions = {};
  for (const name of ['citext', 'pg_trgm', 'fuzzystrmatch', 'unaccent']) extensions[name] = (await import(`@electric-sql/pglite/contrib/${name}`))[name];
  const db = await PGlite.create(path.join(dataDir, 'pgdata'), { extensions });
  try {
    return { storedBookings: (await db.query(COUNT_SQL)).rows[0].n, doubleBookings: (await db.query(DOUBLE_SQL)).rows[0].n };
  } finally {
    await db.close();
  }
}

async function countOnServer(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return { storedBookings: (await client.query(COUNT_SQL)).rows[0].n, doubleBookings: (await client.query(DOUBLE_SQL)).rows[0].n };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Availability over 90 days and 20 resources

/** A council folder like the demo one, with a centre of 20 advisers and a type that can use any of them. */
function benchCouncil() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-council-'));
  cpSync(path.join(projectRoot, 'council'), dir, { recursive: true });
  const locations = JSON.parse(readFileSync(path.join(dir, 'appointments/locations.json'), 'utf8'));
  locations.push({ code: 'advice-centre', name: 'Advice centre', kind: 'in-person', address: '1 Bench Street' });
  writeFileSync(path.join(dir, 'appointments/locations.json'), JSON.stringify(locations));
  const resources = JSON.parse(readFileSync(path.join(dir, 'appointments/resources.json'), 'utf8'));
  const advisers = Array.from({ length: RESOURCES }, (_, i) => `adviser-${String(i + 1).padStart(2, '0')}`);
  for (const code of advisers) resources.push({ code, name: `Adviser ${code}`, kind: 'staff', location: 'advice-centre', policy: 'office-hours' });
  writeFileSync(path.join(dir, 'appointments/resources.json'), JSON.stringify(resources));
  writeFileSync(
    path.join(dir, 'appointment-types/advice-session.json'),
    JSON.stringify({
      code: 'advice-session',
      name: 'Advice session',
      description: 'A half-hour advice session with any adviser.',
      lengthMinutes: 30,
      horizonDays: HORIZON_DAYS,
      minimumNoticeMinutes: 0,
      changeUntilMinutes: 0,
      cancelUntilMinutes: 0,
      holdMinutes: 10,
      needs: [{ label: 'Adviser', oneOf: advisers }],
      locations: ['advice-centre'],
    }),
  );
  return dir;
}

async function availabilityFigures() {
  const councilDir = benchCouncil();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-availability-'));
  const [{ openDatabase, migrateToLatest }, { loadConfig }, { loadCouncil }, { createLogger }, composition, { availableSlots }] = await Promise.all([
    importDist('platform/db/index.js'),
    importDist('platform/config/index.js'),
    importDist('platform/council/index.js'),
    importDist('platform/logging/index.js'),
    importDist('services.js'),
    importDist('modules/appointments/model/availability.js'),
  ]);
  const config = loadConfig({
    NODE_ENV: 'test',
    BOROUGH_DEMO: 'true',
    BOROUGH_DATA_DIR: dataDir,
    BOROUGH_COUNCIL_DIR: councilDir,
    BOROUGH_DEMO_REPORTS: '0',
    BOROUGH_DEMO_SIGNPOSTS: '0',
    LOG_LEVEL: 'warn',
  });
  const database = await openDatabase({ dataDir: path.join(dataDir, 'pgdata') });
  try {
    await migrateToLatest(database.db, composition.allMigrations());
    const platform = { config, council: loadCouncil(councilDir), database, logger: createLogger({ level: 'warn' }) };
    const services = await composition.buildServices(platform);
    await composition.seedDemoCouncil(platform, services);
    const appointments = services.appointments.service;
    const officer = await services.account.staff.findMemberByEmail('case-officer@kingsmere.example');

    // Book about half the horizon: every other slot, through the service (each claim as a resident's would be).
    progress(`availability: booking half of ${HORIZON_DAYS} days for ${RESOURCES} advisers`);
    const t0 = performance.now();
    const all = await appointments.availability('advice-session', 'advice-centre');
    let booked = 0;
    for (let i = 0; i < all.length; i++) {
      if (i % 2 === 1) continue;
      for (let r = 0; r < RESOURCES; r += 2) {
        try {
          await appointments.bookFor(officer, {
            type: 'advice-session',
            location: 'advice-centre',
            start: all[i].start,
            details: { name: 'Bench Resident', email: 'bench@example.com', remindBy: 'email' },
          });
          booked++;
        } catch {
          break;
        }
      }
    }
    progress(`availability: ${booked} bookings made in ${round((performance.now() - t0) / 1000)} s`);

    const type = appointments.config.types.get('advice-session');
    const now = Date.now();
    const { taken } = await appointments.takenFor(type, 'advice-centre', { now });
    const computeMs = [];
    const serviceMs = [];
    const readMs = [];
    let slots = 0;
    for (let i = 0; i < AVAILABILITY_RUNS; i++) {
      let t = performance.now();
      slots = availableSlots(appointments.config, { type, location: 'advice-centre', from: now, to: now + HORIZON_DAYS * 86_400_000, taken }).length;
      computeMs.push(performance.now() - t);
      t = performance.now();
      await appointments.availability('advice-session', 'advice-centre');
      serviceMs.push(performance.now() - t);
      t = performance.now();
      await appointments.takenFor(type, 'advice-centre', { now });
      readMs.push(performance.now() - t);
    }
    readMs.sort((a, b) => a - b);
    computeMs.sort((a, b) => a - b);
    serviceMs.sort((a, b) => a - b);
    const claims = (await database.pool.query('SELECT count(*)::int AS n FROM appointment_claims')).rows[0].n;
    return {
      resources: RESOURCES,
      horizonDays: HORIZON_DAYS,
      bookings: booked,
      claims,
      freeSlots: slots,
      computeMedianMs: round(percentile(computeMs, 50), 2),
      computeP95Ms: round(percentile(computeMs, 95), 2),
      readMedianMs: round(percentile(readMs, 50), 1),
      readP95Ms: round(percentile(readMs, 95), 1),
      serviceMedianMs: round(percentile(serviceMs, 50), 1),
      serviceP95Ms: round(percentile(serviceMs, 95), 1),
    };
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(councilDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const results = { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length };
  results.availability = await availabilityFigures();
  results.rush = args.includes('--no-rush') ? [] : [await rush('embedded (PGlite)', {})];
  if (args.includes('--postgres')) {
    const server = await startPostgres();
    try {
      results.rush.push(await rush(`PostgreSQL ${server.version ?? ''}`.trim(), { DATABASE_URL: server.url }));
    } finally {
      await server.stop();
    }
  }

  const a = results.availability;
  console.log(
    `\nAvailability: ${a.horizonDays}-day horizon, ${a.resources} resources, ${a.bookings} bookings (${a.claims} claimed granules), ${a.freeSlots} free slots`,
  );
  console.log(
    table(
      ['measure', 'median ms', 'p95 ms', 'target p95'],
      [
        ['computation only', a.computeMedianMs, a.computeP95Ms, `< ${TARGETS.availabilityP95Ms}`],
        ['database read of what is taken', a.readMedianMs, a.readP95Ms, ''],
        ['service (database read + computation)', a.serviceMedianMs, a.serviceP95Ms, `< ${TARGETS.availabilityP95Ms}`],
      ],
    ),
  );
  console.log(`\nRush: ${CLIENTS} browsers for ${SLOTS} slots through the booking journey`);
  console.log(
    table(
      ['back end', 'booked (clients)', 'stored', 'double bookings', 'taken', 'other errors', 'seconds', 'bookings/s', 'attempts/s', 'journey p50/p95 ms'],
      results.rush.map((r) => [
        r.label,
        r.bookedByClients,
        r.storedBookings,
        r.doubleBookings,
        r.takenByClients,
        r.errors,
        r.seconds,
        r.bookingsPerSecond,
        r.attemptsPerSecond,
        `${r.bookingJourneyP50Ms}/${r.bookingJourneyP95Ms}`,
      ]),
    ),
  );
  for (const r of results.rush) if (r.errors > 0) console.log(`${r.label} errors: ${r.errorSamples.join(' | ')}`);
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  writeFileSync(path.join(benchDir, 'results/appointments.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error) => {
  console.error(error);
  killAllChildren();
  process.exit(1);
});
