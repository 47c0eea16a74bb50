#!/usr/bin/env node
// Signposts end to end on the synthetic borough: eight agencies' extracts for 50,000 residents are checked
// and mapped as the ingest does, every record is de-duplicated together, and the people found are scored
// against the generator's truth (pairs of records placed together against pairs that are the same person).
// Wrong joins are counted by kind (twins, family members at one postcode, others), and a reference run with m
// counted from the truth shows how much of the gap is training and how much the model itself.
//   node scripts/build.mjs && node bench/signposts-demo.mjs [--people 50000] [--seed 20261201] [--examples 10]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (file) => import(pathToFileURL(path.join(root, 'dist/src/modules', file)).href);
const { demoDataset } = await load('signposts/demo-data.js');
const { loadSignpostsConfig, mapExtract, linkageRecord } = await load('signposts/model/sources.js');
const linkage = await load('signposts/linkage/index.js');
const { ROLES } = await load('account/permissions.js');
const { comparisonVectors } = await load('signposts/linkage/model.js');
const matcher = await load('signposts/matcher.js');

const argument = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? Number(process.argv[at + 1]) : fallback;
};
const people = argument('people', 50_000);
const seed = argument('seed', 20261201);
const examples = argument('examples', 0);

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

const generated = await timed(() => demoDataset({ people, seed }));
const data = generated.value;
const config = loadSignpostsConfig(path.join(root, 'council'), new Set([...Object.keys(ROLES), 'safeguarding-lead']));
const sources = new Map(config.sources.map((s) => [s.code, s]));

let rows = 0;
let rejectedRows = 0;
let rejectedRecords = 0;
const records = [];
const bySource = [];
const mapping = await timed(() => {
  for (const extract of data.extracts) {
    const source = sources.get(extract.source);
    const { records: mapped, problems } = mapExtract(source, extract.rows);
    const generatedIds = new Set(extract.rows.map((r) => r[source.mapping.recordId]));
    rows += extract.rows.length;
    rejectedRows += problems.length;
    rejectedRecords += generatedIds.size - mapped.length;
    for (const record of mapped) records.push(linkageRecord(extract.source, record));
    bySource.push({ source: extract.source, rows: extract.rows.length, records: mapped.length, rejectedRows: problems.length });
  }
});

const prepared = linkage.prepare(records);
const linked = await timed(() => linkage.dedupe(prepared));
const { clusters, review } = linked.value;
const personOf = (id) => data.truth.get(id);
const pairs = (n) => (n * (n - 1)) / 2;

/** Pairwise scores from counts: in each cluster, pairs of records of the same person are true positives. */
function pairwise(found) {
  const inCluster = new Map();
  const perPerson = new Map();
  for (const { id, cluster } of found) {
    const person = personOf(id);
    perPerson.set(person, (perPerson.get(person) ?? 0) + 1);
    let counts = inCluster.get(cluster);
    if (!counts) inCluster.set(cluster, (counts = new Map()));
    counts.set(person, (counts.get(person) ?? 0) + 1);
  }
  let predicted = 0;
  let truePositives = 0;
  for (const counts of inCluster.values()) {
    let size = 0;
    for (const n of counts.values()) {
      size += n;
      truePositives += pairs(n);
    }
    predicted += pairs(size);
  }
  let truth = 0;
  for (const n of perPerson.values()) truth += pairs(n);
  const precision = predicted ? truePositives / predicted : 0;
  const recall = truth ? truePositives / truth : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  let largest = 0;
  for (const counts of inCluster.values()) {
    let size = 0;
    for (const n of counts.values()) size += n;
    largest = Math.max(largest, size);
  }
  return { predicted, truth, truePositives, precision, recall, f1, largestCluster: largest, inCluster };
}

const scored = pairwise(clusters);
const { predicted, truePositives, precision, recall, f1 } = scored;
const truthPairs = scored.truth;
const inCluster = scored.inCluster;
const clusterOf = new Map(clusters.map((c) => [c.id, c.cluster]));
const twinPairKey = new Set(data.twins.flatMap(([a, b]) => [`${a}|${b}`, `${b}|${a}`]));

// Which confident pairs joined different people: twins, others at the same postcode (family members), or
// people apart. A clustering that goes wrong in one of these ways shows where the linkage needs work.
function wrongJoins(result) {
  const byId = new Map(records.map((r) => [r.id, r]));
  const kinds = { twins: 0, samePostcode: 0, apart: 0 };
  for (const p of result.pairs) {
    if (p.probability < 0.9) continue;
    const a = personOf(p.leftId);
    const b = personOf(p.rightId);
    if (a === b) continue;
    if (linkage.likelySiblings(prepared[p.left], prepared[p.right])) continue;
    if (twinPairKey.has(`${a}|${b}`)) kinds.twins++;
    else if (byId.get(p.leftId).postcode && byId.get(p.leftId).postcode === byId.get(p.rightId).postcode) kinds.samePostcode++;
    else kinds.apart++;
  }
  return kinds;
}
const wrong = wrongJoins(linked.value);

// A reference: the same scoring and clustering with m and the prior counted from the truth instead of
// learnt without labels, which separates what training gets wrong from what the model cannot tell apart.
const reference = await timed(() => {
  const trained = linked.value.model;
  const candidates = linkage.candidatePairs(prepared, undefined);
  const levels = comparisonVectors(prepared, prepared, candidates);
  const c = trained.comparisons.length;
  const counts = trained.comparisons.map((comparison) => new Array(comparison.levels.length).fill(0.5));
  for (let k = 0; k < candidates.left.length; k++) {
    if (personOf(prepared[candidates.left[k]].id) !== personOf(prepared[candidates.right[k]].id)) continue;
    for (let f = 0; f < c; f++) counts[f][levels[k * c + f]]++;
  }
  const comparisons = trained.comparisons.map((comparison, f) => {
    let total = 0;
    for (let l = 1; l < counts[f].length; l++) total += counts[f][l];
    return { ...comparison, levels: comparison.levels.map((level, l) => (l === 0 ? level : { ...level, m: counts[f][l] / total })) };
  });
  const model = { ...trained, comparisons, prior: truthPairs / pairs(prepared.length) };
  const result = linkage.dedupe(prepared, { model });
  return { ...pairwise(result.clusters), wrong: wrongJoins(result) };
});

// Twins: joined automatically when any record of one shares a cluster with any record of the other.
const recordsOf = new Map();
for (const { id } of clusters) {
  const person = personOf(id);
  const list = recordsOf.get(person);
  if (list) list.push(id);
  else recordsOf.set(person, [id]);
}
let twinsMerged = 0;
let twinsReviewed = 0;
for (const [a, b] of data.twins) {
  const clustersOfA = new Set((recordsOf.get(a) ?? []).map((id) => clusterOf.get(id)));
  if ((recordsOf.get(b) ?? []).some((id) => clustersOfA.has(clusterOf.get(id)))) twinsMerged++;
}
const reviewedTwins = new Set();
for (const p of review) {
  const a = personOf(p.leftId);
  const b = personOf(p.rightId);
  if (twinPairKey.has(`${a}|${b}`)) reviewedTwins.add([a, b].sort().join('|'));
}
twinsReviewed = reviewedTwins.size;
const reviewSame = review.filter((p) => personOf(p.leftId) === personOf(p.rightId)).length;

const f = (x) => (x * 100).toFixed(2) + '%';
console.log(
  `people ${data.people.toLocaleString('en-GB')}, records ${records.length.toLocaleString('en-GB')} (${(records.length / data.people).toFixed(2)} per person)`,
);
console.log(`extract rows ${rows.toLocaleString('en-GB')}, rejected rows ${rejectedRows} (records left out: ${rejectedRecords})`);
for (const s of bySource)
  console.log(`  ${s.source.padEnd(22)} rows ${String(s.rows).padStart(7)}  records ${String(s.records).padStart(7)}  rejected rows ${s.rejectedRows}`);
console.log(`generation ${generated.seconds.toFixed(2)} s, mapping ${mapping.seconds.toFixed(2)} s, linkage ${linked.seconds.toFixed(2)} s`);
console.log(`pairs: predicted ${predicted}, true ${truthPairs}, correct ${truePositives}`);
console.log(`precision ${f(precision)}  recall ${f(recall)}  F1 ${f(f1)}  (largest cluster ${scored.largestCluster} records)`);
console.log(`confident joins of different people: twins ${wrong.twins}, others at one postcode ${wrong.samePostcode}, others ${wrong.apart}`);
const r = reference.value;
console.log(
  `reference, m counted from the truth: precision ${f(r.precision)}  recall ${f(r.recall)}  F1 ${f(r.f1)}  (largest cluster ${r.largestCluster}; wrong joins: twins ${r.wrong.twins}, one postcode ${r.wrong.samePostcode}, others ${r.wrong.apart}; ${reference.seconds.toFixed(2)} s)`,
);
console.log(`review list ${review.length} pairs (${reviewSame} of them the same person)`);
console.log(`twin pairs ${data.twins.length}: merged automatically ${twinsMerged}, sent to review ${twinsReviewed}`);

// As the platform loads them: each extract in turn linked incrementally against the people already known;
// when the records outgrow what the model learned from, the load is followed by a full re-link with a model
// trained on them all, as an ingest does.
const incremental = await timed(async () => {
  let known = await matcher.buildMatcher([], undefined);
  let nextPerson = 0;
  let relinks = 0;
  for (const extract of data.extracts) {
    const arriving = records.filter((r) => r.id.startsWith(`${extract.source}/`)).map((person) => ({ person }));
    const outgrown = matcher.needsTraining(known.trainedOn, known.records.size + arriving.length);
    const linked = await matcher.linkIncoming(known, arriving, []);
    const base = nextPerson;
    nextPerson += linked.newPeople;
    const stored = arriving.map((a, i) => {
      const p = linked.personOf[i];
      return { id: a.person.id, personId: p.startsWith('new:') ? String(base + Number(p.slice(4))) : p, sourceCode: extract.source, person: a.person };
    });
    matcher.updateMatcher(known, stored, linked.merges);
    if (outgrown) {
      relinks++;
      const all = [...known.records.values()].map((r) => r.stored);
      const relinked = matcher.relinkAll(all, []);
      const { personOf: kept } = matcher.keepPersonIds(all, relinked.clusterOf);
      const renamed = all.map((r) => {
        const p = kept.get(r.id);
        return { ...r, personId: p.startsWith('new:') ? String(nextPerson + Number(p.slice(4))) : p };
      });
      nextPerson += renamed.length;
      known = await matcher.buildMatcher(renamed, all.length >= matcher.MIN_TRAINING_RECORDS ? { model: relinked.model, records: all.length } : undefined);
    }
  }
  return { clusters: [...known.records.values()].map((r) => ({ id: r.stored.id, cluster: Number(r.stored.personId) })), relinks };
});
const inc = pairwise(incremental.value.clusters);
const incClusterOf = new Map(incremental.value.clusters.map((c) => [c.id, c.cluster]));
let incTwinsMerged = 0;
for (const [a, b] of data.twins) {
  const clustersOfA = new Set((recordsOf.get(a) ?? []).map((id) => incClusterOf.get(id)));
  if ((recordsOf.get(b) ?? []).some((id) => clustersOfA.has(incClusterOf.get(id)))) incTwinsMerged++;
}
console.log(
  `as the platform loads them, one extract at a time: precision ${f(inc.precision)}  recall ${f(inc.recall)}  F1 ${f(inc.f1)}  twins merged ${incTwinsMerged}  (largest cluster ${inc.largestCluster}; ${incremental.value.relinks} full re-links on the way, ${incremental.seconds.toFixed(2)} s)`,
);

if (examples > 0) {
  // Missed and wrong links, with each record's fields, to see whether the data or the linkage is at fault.
  const byId = new Map(records.map((r) => [r.id, r]));
  const show = (id) => {
    const r = byId.get(id);
    return `${id} ${r.forenames ?? ''} | ${r.surname ?? ''}${r.previousNames ? ` (was ${r.previousNames.join('/')})` : ''} | ${r.dob ?? ''} | ${r.postcode ?? ''} | ${r.address?.streetNumber ?? ''} ${r.address?.lines?.[0] ?? ''} | ${JSON.stringify(r.identifiers ?? {})}`;
  };
  console.log('\nmissed (same person, different clusters):');
  let shown = 0;
  for (const ids of recordsOf.values()) {
    if (shown >= examples) break;
    const split = new Set(ids.map((id) => clusterOf.get(id)));
    if (split.size < 2) continue;
    shown++;
    for (const id of ids) console.log(`  [${clusterOf.get(id)}] ${show(id)}`);
    console.log('');
  }
  console.log('wrongly joined (different people, one cluster):');
  shown = 0;
  for (const counts of inCluster.values()) {
    if (shown >= examples) break;
    if (counts.size < 2) continue;
    shown++;
    for (const person of counts.keys())
      for (const id of recordsOf.get(person)) if (counts.has(person)) console.log(`  ${person} [${clusterOf.get(id)}] ${show(id)}`);
    console.log('');
  }
}

mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(root, 'bench/results/signposts-demo.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      seed,
      people: data.people,
      records: records.length,
      rows,
      rejectedRows,
      rejectedRecords,
      sources: bySource,
      seconds: { generation: generated.seconds, mapping: mapping.seconds, linkage: linked.seconds },
      pairs: { predicted, truth: truthPairs, truePositives },
      precision,
      recall,
      f1,
      largestCluster: scored.largestCluster,
      wrongConfidentPairs: wrong,
      referenceWithTruthM: { precision: r.precision, recall: r.recall, f1: r.f1, largestCluster: r.largestCluster, wrongConfidentPairs: r.wrong },
      review: { pairs: review.length, samePerson: reviewSame },
      twins: { pairs: data.twins.length, mergedAutomatically: twinsMerged, sentToReview: twinsReviewed },
      incremental: { precision: inc.precision, recall: inc.recall, f1: inc.f1, twinsMerged: incTwinsMerged, seconds: incremental.seconds },
    },
    null,
    2,
  ) + '\n',
);
