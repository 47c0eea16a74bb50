#!/usr/bin/env node
// Street reports benchmark, on the compiled platform (`npm run build` first) over its embedded
// database with the demo council and 50,000 more street assets imported:
//   1. the map's GeoJSON (assets and reports in a map view's box): p50 / p95, against /healthz in the same run;
//   2. report submissions per second through the whole resident journey (no JavaScript, every page)
//      and through Open311 `POST requests`, each acknowledged report looked up afterwards;
//   3. the weight of the journey's first page as a browser downloads it (HTML, CSS and JavaScript,
//      scripts' imports included), with the map and without JavaScript.
//
//   node bench/reports.mjs            measure, print, write bench/results/reports.json
//   node bench/reports.mjs --check    also exit 1 when a target is missed
//
// Everything listens on 127.0.0.1 only, and every run is bounded in count and time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Browser, csrfOf, multipartBody, WalkError } from './lib/browser.mjs';
import { benchDir, killAllChildren, percentile, projectRoot, request, round, spawnTracked, startPlatform, stopChild, table } from './lib/harness.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);

const ASSETS = 50_000;
const GEOJSON_REQUESTS = 300;
const WARMUP = 20;
/** A map view at street zoom: about 1.2 km by 0.8 km. */
const VIEW = { dLat: 0.0072, dLng: 0.018 };
/** Under the 120 a minute one address may send, so the run measures speed, not the rate limit. */
const OPEN311_REPORTS = 110;
const JOURNEY_REPORTS = 100;
const CLIENTS = 8;
const SERIES_MAX_SEC = 60;
const TARGETS = { geojsonP95Ms: 200, firstPageWithMapKb: 150, firstPageNoJsKb: 60 };

const progress = (message) => process.stderr.write(`  ${message}\n`);
const started = performance.now();
const elapsedSec = () => (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// Data

/** Deterministic numbers, so each run measures the same boxes and assets. */
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function inside(point, rings) {
  let isIn = false;
  for (const ring of rings)
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > point[1] !== yj > point[1] && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) isIn = !isIn;
    }
  return isIn;
}

/** The boundary's outer rings and box, from the map's own GeoJSON. */
async function boundaryOf(port) {
  const response = await request({ port, path: '/reports/map/boundary.geojson' });
  if (response.status !== 200) throw new Error(`/reports/map/boundary.geojson answered ${response.status}`);
  const collection = JSON.parse(response.body);
  const feature = collection.features.find((f) => f.properties?.kind === 'boundary') ?? collection.features[0];
  const geometry = feature.geometry;
  const rings = geometry.type === 'Polygon' ? [geometry.coordinates[0]] : geometry.coordinates.map((polygon) => polygon[0]);
  const all = rings.flat();
  const box = {
    west: Math.min(...all.map((p) => p[0])),
    east: Math.max(...all.map((p) => p[0])),
    south: Math.min(...all.map((p) => p[1])),
    north: Math.max(...all.map((p) => p[1])),
  };
  return { rings, box };
}

function assetsGeoJson({ rings, box }, random) {
  const features = [];
  while (features.length < ASSETS) {
    const lng = box.west + random() * (box.east - box.west);
    const lat = box.south + random() * (box.north - box.south);
    if (!inside([lng, lat], rings)) continue;
    const n = features.length;
    const kind = n % 3 === 0 ? 'gully' : 'streetlight';
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [round(lng, 6), round(lat, 6)] },
      properties: { id: `BENCH-${kind === 'gully' ? 'GY' : 'SL'}-${String(n).padStart(6, '0')}`, kind },
    });
  }
  return JSON.stringify({ type: 'FeatureCollection', features });
}

async function runCli(dataDir, cliArgs) {
  const child = spawnTracked(process.execPath, [path.join(projectRoot, 'bin/borough.js'), ...cliArgs], {
    cwd: projectRoot,
    env: { ...process.env, BOROUGH_DATA_DIR: dataDir, BOROUGH_DEMO: 'true', BOROUGH_DEMO_SIGNPOSTS: '0', NODE_ENV: 'development', LOG_LEVEL: 'warn' },
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`borough ${cliArgs.join(' ')} exited with ${code}:\n${child.output()}`);
  return child.output();
}

// ---------------------------------------------------------------------------------------------
// 1. GeoJSON for the map

async function timeSeries(port, paths) {
  for (const p of paths.slice(0, WARMUP)) await request({ port, path: p });
  const times = [];
  let features = 0;
  const stopAt = performance.now() + SERIES_MAX_SEC * 1000;
  for (const p of paths) {
    if (performance.now() > stopAt) break;
    const response = await request({ port, path: p });
    if (response.status !== 200) throw new Error(`${p} answered ${response.status}: ${response.body.slice(0, 200)}`);
    times.push(response.ms);
    if (p.includes('.geojson')) features += JSON.parse(response.body).features.length;
  }
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    p50Ms: round(percentile(times, 50), 2),
    p95Ms: round(percentile(times, 95), 2),
    featuresPerResponse: round(features / times.length),
  };
}

async function measureGeoJson(port, boundary, random) {
  const paths = [];
  const { box } = boundary;
  for (let i = 0; i < GEOJSON_REQUESTS + WARMUP; i++) {
    const south = box.south + random() * (box.north - box.south - VIEW.dLat);
    const west = box.west + random() * (box.east - box.west - VIEW.dLng);
    const kind = i % 2 === 0 ? 'streetlight' : 'gully';
    paths.push(
      `/reports/map/features.geojson?bbox=${round(west, 5)},${round(south, 5)},${round(west + VIEW.dLng, 5)},${round(south + VIEW.dLat, 5)}&asset_kind=${kind}`,
    );
  }
  const baseline = await timeSeries(
    port,
    paths.map(() => '/healthz'),
  );
  const geojson = await timeSeries(port, paths);
  return { geojson, baseline, ratioP95: round(geojson.p95Ms / baseline.p95Ms, 1) };
}

// ---------------------------------------------------------------------------------------------
// 2. Submissions

async function inParallel(count, clients, work) {
  let next = 0;
  const acknowledged = [];
  const failures = [];
  const t0 = performance.now();
  const stopAt = t0 + SERIES_MAX_SEC * 1000 * 2;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count && performance.now() < stopAt) {
        const n = next++;
        try {
          acknowledged.push(await work(n));
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { acknowledged, failures, seconds };
}

async function open311Submissions(port, boundary, random) {
  const points = [];
  while (points.length < OPEN311_REPORTS) {
    const lng = boundary.box.west + random() * (boundary.box.east - boundary.box.west);
    const lat = boundary.box.south + random() * (boundary.box.north - boundary.box.south);
    if (inside([lng, lat], boundary.rings)) points.push({ lat, lng });
  }
  const run = await inParallel(OPEN311_REPORTS, CLIENTS, async (n) => {
    const { lat, lng } = points[n];
    const body = new URLSearchParams({
      api_key: 'demo-open311-key',
      service_code: n % 2 ? 'graffiti' : 'fly-tipping',
      lat: String(lat),
      long: String(lng),
      description: `Benchmark report ${n}`,
      email: `bench${n}@example.com`,
      first_name: 'Bench',
      last_name: `Client ${n}`,
      ...(n % 2 ? { 'attribute[offensive]': 'no', 'attribute[surface]': 'wall' } : { 'attribute[what][]': 'household', 'attribute[amount]': 'car-boot' }),
    });
    const response = await request({
      port,
      method: 'POST',
      path: '/open311/v2/requests.json',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    if (response.status !== 200 && response.status !== 201) throw new Error(`POST requests answered ${response.status}: ${response.body.slice(0, 300)}`);
    const id = JSON.parse(response.body)[0]?.service_request_id;
    if (!id) throw new Error(`no service_request_id in ${response.body.slice(0, 200)}`);
    return id;
  });
  let found = 0;
  for (const id of run.acknowledged) if ((await request({ port, path: `/open311/v2/requests/${id}.json` })).status === 200) found++;
  return { ...summary(run), found, lost: run.acknowledged.length - found };
}

function summary(run) {
  return {
    attempted: run.acknowledged.length + run.failures.length,
    acknowledged: run.acknowledged.length,
    failed: run.failures.length,
    firstFailure: run.failures[0],
    seconds: round(run.seconds, 1),
    perSecond: round(run.acknowledged.length / run.seconds, 1),
  };
}

/** One resident's report, page by page without JavaScript: place by street search, category, details, about them, check, send. */
async function journey(port, n, streets) {
  const browser = new Browser(port);
  try {
    const street = streets[n % streets.length];
    const search = await browser.page(`/report?q=${encodeURIComponent(street)}`);
    const place = /href="(\/report\/category\?[^"]+)"/.exec(search)?.[1]?.replace(/&amp;/g, '&');
    if (!place) throw new WalkError(`no place listed for ${street}`);
    const categoryPage = await browser.page(place);
    let { location } = await browser.post('/report/category', [
      ['_csrf', csrfOf(categoryPage, 'category')],
      ...hiddenFields(categoryPage, ['lat', 'lng']),
      ['category', 'graffiti'],
    ]);
    if (location.startsWith('/report/duplicates')) {
      const page = await browser.page(location);
      ({ location } = await browser.post(location, [['_csrf', csrfOf(page, 'duplicates')]]));
    }
    const details = await browser.page(location);
    const body = multipartBody([
      ['_csrf', csrfOf(details, 'details')],
      ['offensive', 'no'],
      ['surface', 'wall'],
      ['description', `Benchmark journey ${n}`],
      ['action', 'continue'],
    ]);
    const sent = await browser.send('POST', location, body);
    if (sent.status !== 303) throw new WalkError(`POST ${location} answered ${sent.status}`);
    location = sent.headers.location;
    const about = await browser.page(location);
    ({ location } = await browser.post(location, [
      ['_csrf', csrfOf(about, 'about you')],
      ['name', `Journey ${n}`],
      ['email', `journey${n}@example.com`],
    ]));
    const check = await browser.page(location);
    ({ location } = await browser.post(location, hiddenFields(check, ['_csrf', 'key'])));
    const reference = /^\/report\/sent\/([A-Z0-9]{4}-[A-Z0-9]{4})$/.exec(location)?.[1];
    if (!reference) throw new WalkError(`sending led to ${location}`);
    await browser.page(location);
    return reference;
  } finally {
    browser.close();
  }
}

function hiddenFields(html, names) {
  return names.map((name) => {
    const match =
      new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html) ?? new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
    if (!match) throw new WalkError(`no ${name} field in the page`);
    return [name, match[1].replace(/&amp;/g, '&')];
  });
}

/** Names of streets in the middle of the borough, for residents to search for. */
async function streetNames(port, { box }) {
  const midLat = (box.south + box.north) / 2;
  const midLng = (box.west + box.east) / 2;
  const bbox = [midLng - 0.04, midLat - 0.02, midLng + 0.04, midLat + 0.02].map((v) => round(v, 5)).join(',');
  const response = await request({ port, path: `/reports/map/streets.geojson?bbox=${bbox}` });
  if (response.status !== 200) throw new Error(`streets.geojson answered ${response.status}`);
  const names = [...new Set(JSON.parse(response.body).features.map((f) => f.properties.name))];
  if (names.length === 0) throw new Error('no streets in the middle of the borough');
  return names;
}

async function journeySubmissions(port, streets) {
  Browser.requests = 0;
  const run = await inParallel(JOURNEY_REPORTS, CLIENTS, (n) => journey(port, n, streets));
  let found = 0;
  for (const reference of run.acknowledged) if ((await request({ port, path: `/reports/${reference}` })).status === 200) found++;
  return {
    ...summary(run),
    requestsPerReport: round(Browser.requests / Math.max(1, run.acknowledged.length + run.failures.length), 1),
    found,
    lost: run.acknowledged.length - found,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Page weight

async function pageWeight(port) {
  const page = await request({ port, path: '/report', headers: { accept: 'text/html', 'accept-encoding': 'br, gzip' } });
  if (page.status !== 200) throw new Error(`/report answered ${page.status}`);
  const html = page.body;
  const styles = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].map((m) => m[1]);
  const queue = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]);
  const resources = [];
  const seen = new Set();
  const fetchOne = async (href, kind) => {
    if (seen.has(href)) return;
    seen.add(href);
    // As a browser asks: what is sent is what it downloads.
    const sent = await request({ port, path: href, headers: { 'accept-encoding': 'br, gzip' } });
    const plain = await request({ port, path: href, headers: { 'accept-encoding': 'identity' } });
    if (sent.status !== 200 || plain.status !== 200) throw new Error(`${href} answered ${sent.status}`);
    resources.push({ href, kind, raw: plain.bytes, sent: sent.bytes, encoding: sent.headers['content-encoding'] ?? 'none' });
    // Module scripts load others with import; those are part of the page too.
    if (kind === 'js') for (const m of plain.body.matchAll(/\bimport\s[^'"]*['"](\/[^'"]+)['"]/g)) queue.push(m[1]);
  };
  for (const href of styles) await fetchOne(href, 'css');
  while (queue.length > 0) await fetchOne(queue.shift(), 'js');
  const htmlSize = { href: '/report', kind: 'html', raw: Buffer.byteLength(html), sent: page.bytes, encoding: page.headers['content-encoding'] ?? 'none' };
  const sum = (list) => list.reduce((n, r) => n + r.sent, 0);
  const noJs = [htmlSize, ...resources.filter((r) => r.kind === 'css')];
  const withMap = [htmlSize, ...resources];
  return {
    resources: [htmlSize, ...resources],
    noJs: { sentKb: round(sum(noJs) / 1024, 1) },
    withMap: { sentKb: round(sum(withMap) / 1024, 1) },
  };
}

// ---------------------------------------------------------------------------------------------

function report(result) {
  const g = result.geojson;
  console.log(`\nStreet reports benchmark (${result.cpus} CPUs, Node ${result.node}, ${result.assets.toLocaleString('en-GB')} assets imported)\n`);
  console.log('1. Map GeoJSON for a street-level view (one request at a time)');
  console.log(
    table(
      ['series', 'requests', 'p50 ms', 'p95 ms', 'features'],
      [
        ['/healthz (baseline)', g.baseline.requests, g.baseline.p50Ms, g.baseline.p95Ms, '-'],
        ['features.geojson', g.geojson.requests, g.geojson.p50Ms, g.geojson.p95Ms, g.geojson.featuresPerResponse],
      ],
    ),
  );
  console.log(`   p95 ${g.geojson.p95Ms} ms (target under ${TARGETS.geojsonP95Ms} ms), ${g.ratioP95}x the baseline's p95\n`);
  console.log(`2. Report submissions (${CLIENTS} clients at once)`);
  console.log(
    table(
      ['path', 'acknowledged', 'failed', 'per second', 'found after', 'lost'],
      [
        ['Open311 POST requests', result.open311.acknowledged, result.open311.failed, result.open311.perSecond, result.open311.found, result.open311.lost],
        [
          `journey (${result.journey.requestsPerReport ?? '-'} requests each)`,
          result.journey.acknowledged,
          result.journey.failed,
          result.journey.perSecond,
          result.journey.found,
          result.journey.lost,
        ],
      ],
    ),
  );
  for (const [name, run] of [
    ['Open311', result.open311],
    ['journey', result.journey],
  ])
    if (run.firstFailure) console.log(`   first ${name} failure: ${run.firstFailure}`);
  console.log('\n3. First page of the journey');
  console.log(
    table(
      ['resource', 'kind', 'raw KB', 'sent KB', 'encoding'],
      result.weight.resources.map((r) => [r.href, r.kind, round(r.raw / 1024, 1), round(r.sent / 1024, 1), r.encoding]),
    ),
  );
  console.log(`   without JavaScript: ${result.weight.noJs.sentKb} KB sent (target under ${TARGETS.firstPageNoJsKb} KB)`);
  console.log(`   with the map:       ${result.weight.withMap.sentKb} KB sent (target under ${TARGETS.firstPageWithMapKb} KB)\n`);
}

async function main() {
  const check = flag('check');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-reports-'));
  const random = generator(20261202);
  try {
    const dataDir = path.join(tmp, 'data');
    progress('starting the platform with the demo council (and its demo reports)');
    let platform = await startPlatform({ dataDir, timeoutMs: 300_000, env: { BOROUGH_DEMO_SIGNPOSTS: '0' } });
    const boundary = await boundaryOf(platform.port);
    await stopChild(platform.child);
    progress(`importing ${ASSETS.toLocaleString('en-GB')} street assets`);
    const file = path.join(tmp, 'assets.geojson');
    writeFileSync(file, assetsGeoJson(boundary, random));
    const t0 = performance.now();
    await runCli(dataDir, ['import', 'assets', file]);
    const importMs = Math.round(performance.now() - t0);
    platform = await startPlatform({ dataDir, timeoutMs: 300_000, env: { BOROUGH_DEMO_SIGNPOSTS: '0' } });
    const { port } = platform;

    progress('timing the map GeoJSON');
    const geojson = await measureGeoJson(port, boundary, random);
    progress('sending reports over Open311');
    const open311 = await open311Submissions(port, boundary, random);
    progress('sending reports through the journey');
    const streets = await streetNames(port, boundary);
    const journeyRun = await journeySubmissions(port, streets);
    progress('weighing the first page');
    const weight = await pageWeight(port);
    await stopChild(platform.child);

    const result = {
      benchmark: 'reports',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.trim(),
      loadAverage: round(os.loadavg()[0], 2),
      assets: ASSETS,
      importMs,
      geojson,
      open311,
      journey: journeyRun,
      weight,
      targets: TARGETS,
      elapsedSec: round(elapsedSec(), 1),
    };
    result.allTargetsMet =
      geojson.geojson.p95Ms < TARGETS.geojsonP95Ms &&
      weight.withMap.sentKb < TARGETS.firstPageWithMapKb &&
      weight.noJs.sentKb < TARGETS.firstPageNoJsKb &&
      open311.lost === 0 &&
      journeyRun.lost === 0;
    const resultsDir = path.join(benchDir, 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, 'reports.json'), `${JSON.stringify(result, null, 2)}\n`);
    report(result);
    return check && !result.allTargetsMet ? 1 : 0;
  } finally {
    killAllChildren();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      killAllChildren();
      console.error(`Reports benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      process.exitCode = 1;
    },
  );
}
