#!/usr/bin/env node
// Safeguarding single view at borough scale: de-duplicating a million synthetic records end to end, then
// searching an index of them the way officers do.
//   node scripts/build.mjs && node --max-old-space-size=6144 bench/signposts-scale.mjs [--records N] [--searches N]
// Synthetic record ids carry the truth ("p<person>-<copy>"), so quality is measured pair by pair.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'dist/src/modules/signposts/linkage');
const linkage = await import(pathToFileURL(path.join(dir, 'index.js')).href);
const synthetic = await import(pathToFileURL(path.join(dir, 'synthetic.js')).href);

const flag = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? Number(process.argv[at + 1].replace(/[_,]/g, '')) : fallback;
};
const wanted = flag('records', 1_000_000);
const searches = flag('searches', 2000);
const skipDedupe = process.argv.includes('--skip-dedupe');

// A forced collection either side of building the index, so its heap figure is what it holds.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const mb = (bytes) => Math.round(bytes / 1024 / 1024);
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const seconds = (from) => (performance.now() - from) / 1000;
const log = (text) => console.log(`[${(performance.now() / 1000).toFixed(1).padStart(6)} s, rss ${mb(process.memoryUsage().rss)} MB] ${text}`);

// About 1.45 records a person at the default duplicate share; a few thousand made-up names and more postcode
// districts give a large population the spread of a real one.
const scale = Math.max(1, wanted / 1_000_000);
let start = performance.now();
const raw = synthetic.syntheticResidents({
  people: Math.ceil(wanted / 1.4),
  extraNames: Math.round(6000 * Math.sqrt(scale)),
  districts: Math.round(150 * scale) || 20,
  seed: 11,
});
raw.length = Math.min(raw.length, wanted);
const generateSeconds = seconds(start);
log(`generated ${raw.length.toLocaleString('en-GB')} records in ${generateSeconds.toFixed(1)} s`);

start = performance.now();
const records = linkage.prepare(raw);
raw.length = 0;
const prepareSeconds = seconds(start);
log(`standardised in ${prepareSeconds.toFixed(1)} s`);

const personOf = (id) => synthetic.syntheticPerson(id);
const result = { date: new Date().toISOString(), node: process.version, records: records.length };

let model;
if (!skipDedupe) {
  const cpuBefore = process.cpuUsage();
  start = performance.now();
  const deduped = linkage.dedupe(records);
  const dedupeSeconds = seconds(start);
  const cpu = process.cpuUsage(cpuBefore);
  model = deduped.model;
  log(`de-duplicated in ${dedupeSeconds.toFixed(1)} s`);

  // Pairwise quality without listing pairs: within each found cluster, pairs of the same person are true.
  const clusterPeople = new Map();
  const personSizes = new Map();
  const clusterSizes = new Map();
  for (const c of deduped.clusters) {
    const p = personOf(c.id);
    personSizes.set(p, (personSizes.get(p) ?? 0) + 1);
    clusterSizes.set(c.cluster, (clusterSizes.get(c.cluster) ?? 0) + 1);
    const key = `${c.cluster}|${p}`;
    clusterPeople.set(key, (clusterPeople.get(key) ?? 0) + 1);
  }
  const choose2 = (n) => (n * (n - 1)) / 2;
  let truePositives = 0;
  let predicted = 0;
  let truth = 0;
  for (const n of clusterPeople.values()) truePositives += choose2(n);
  for (const n of clusterSizes.values()) predicted += choose2(n);
  for (const n of personSizes.values()) truth += choose2(n);
  const precision = predicted ? truePositives / predicted : 0;
  const recall = truth ? truePositives / truth : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  result.dedupe = {
    wallSeconds: dedupeSeconds + prepareSeconds,
    standardiseSeconds: prepareSeconds,
    dedupeSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    comparisonsScored: deduped.model.training.candidatePairs,
    pairsAtReviewThreshold: deduped.pairs.length,
    review: deduped.review.length,
    people: personSizes.size,
    clusters: clusterSizes.size,
    predictedPairs: predicted,
    truePairs: truth,
    truePositives,
    precision,
    recall,
    f1,
    peakRssMb: peakMb(),
  };
  const d = result.dedupe;
  const pct = (x) => `${(x * 100).toFixed(2)}%`;
  console.log(
    `dedupe ${records.length.toLocaleString('en-GB')} records: ${d.wallSeconds.toFixed(1)} s wall (standardise ${prepareSeconds.toFixed(1)} s, block, train, score and cluster ${dedupeSeconds.toFixed(1)} s), ${d.cpuSeconds.toFixed(1)} s CPU, ` +
      `peak RSS ${d.peakRssMb} MB, ${d.comparisonsScored.toLocaleString('en-GB')} comparisons scored`,
  );
  console.log(
    `  ${d.people.toLocaleString('en-GB')} people, ${d.clusters.toLocaleString('en-GB')} clusters, pairwise precision ${pct(precision)}, recall ${pct(recall)}, F1 ${pct(f1)} ` +
      `(${truePositives.toLocaleString('en-GB')} of ${predicted.toLocaleString('en-GB')} predicted pairs true, ${truth.toLocaleString('en-GB')} true pairs)`,
  );
}

// Search: an index of every record with its person, and queries written the way officers type them.
if (searches > 0) {
  if (!model) model = linkage.trainModel(records);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  start = performance.now();
  const today = new Date(Date.UTC(2026, 11, 1));
  const index = new linkage.SearchIndex(model, { today });
  const batch = 50_000;
  for (let i = 0; i < records.length; i += batch) {
    index.upsert(records.slice(i, i + batch).map((record) => ({ record, personId: personOf(record.id) })));
  }
  const buildSeconds = seconds(start);
  gc();
  const indexMb = mb(process.memoryUsage().heapUsed - heapBefore);
  log(`search index of ${index.size.toLocaleString('en-GB')} records built in ${buildSeconds.toFixed(1)} s (heap +${indexMb} MB)`);

  let seed = 4242;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const pick = () => records[Math.floor(random() * records.length)];
  const typo = (text) => {
    if (text.length < 4) return text;
    const i = 1 + Math.floor(random() * (text.length - 2));
    return random() < 0.5 ? text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2) : text.slice(0, i) + text.slice(i + 1);
  };
  const iso = (d) => `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
  const nicknames = { william: 'bill', margaret: 'peggy', john: 'jack', james: 'jim', catherine: 'kate', edward: 'ted', elizabeth: 'liz', thomas: 'tom' };
  const kinds = ['name with a typo and date of birth', 'surname and postcode', 'nickname and age range', 'identifier'];
  const queries = [];
  while (queries.length < searches) {
    const r = pick();
    const kind = kinds[queries.length % kinds.length];
    if (kind === kinds[0] && r.forename && r.surname && r.dob.precision === 'day') {
      queries.push({ kind, person: personOf(r.id), query: { name: `${r.forename} ${typo(r.surname)}`, dob: iso(r.dob) } });
    } else if (kind === kinds[1] && r.surname && r.postcode.full) {
      queries.push({ kind, person: personOf(r.id), query: { surname: r.surname, postcode: r.postcode.full } });
    } else if (kind === kinds[2] && r.forename && r.surname && r.dob.year) {
      const age = today.getUTCFullYear() - r.dob.year;
      const forename = random() < 0.5 ? (nicknames[r.forename] ?? r.forename) : r.forename;
      queries.push({ kind, person: personOf(r.id), query: { name: `${forename} ${r.surname}`, ageFrom: age - 2, ageTo: age + 1 } });
    } else if (kind === kinds[3] && r.identifierValues.length > 0) {
      queries.push({ kind, person: personOf(r.id), query: { identifier: r.identifierValues[0] } });
    }
  }
  for (let i = 0; i < 50; i++) index.search(queries[i].query);

  const times = new Float64Array(queries.length);
  const found = new Map(kinds.map((k) => [k, { total: 0, first: 0, top10: 0, ms: [] }]));
  let hitsTotal = 0;
  for (let q = 0; q < queries.length; q++) {
    const { kind, person, query } = queries[q];
    const t = performance.now();
    const hits = index.search(query);
    times[q] = performance.now() - t;
    hitsTotal += hits.length;
    const rank = hits.findIndex((h) => h.personId === person);
    const f = found.get(kind);
    f.total++;
    f.ms.push(times[q]);
    if (rank === 0) f.first++;
    if (rank >= 0 && rank < 10) f.top10++;
  }
  const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const summary = (list) => {
    const s = Float64Array.from(list).sort();
    return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s[s.length - 1] };
  };
  const all = summary(times);
  result.search = {
    indexedRecords: index.size,
    buildSeconds,
    indexHeapMb: indexMb,
    searches: queries.length,
    averageHits: hitsTotal / queries.length,
    latencyMs: all,
    byKind: Object.fromEntries(
      [...found].map(([k, f]) => [k, { searches: f.total, personFirst: f.first / f.total, personInTop10: f.top10 / f.total, latencyMs: summary(f.ms) }]),
    ),
    peakRssMb: peakMb(),
  };
  const ms = (x) => `${x.toFixed(2)} ms`;
  console.log(
    `search over ${index.size.toLocaleString('en-GB')} records: index built in ${buildSeconds.toFixed(1)} s, heap +${indexMb} MB; ${queries.length} searches ` +
      `p50 ${ms(all.p50)}, p95 ${ms(all.p95)}, p99 ${ms(all.p99)}, max ${ms(all.max)}`,
  );
  for (const [k, f] of Object.entries(result.search.byKind)) {
    console.log(
      `  ${k.padEnd(36)} person first ${(f.personFirst * 100).toFixed(1)}%, in top 10 ${(f.personInTop10 * 100).toFixed(1)}%, p50 ${ms(f.latencyMs.p50)}, p95 ${ms(f.latencyMs.p95)}`,
    );
  }
}

result.peakRssMb = peakMb();
console.log(`peak RSS ${result.peakRssMb} MB`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/signposts-scale.json'), JSON.stringify(result, null, 2) + '\n');
