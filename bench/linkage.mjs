#!/usr/bin/env node
// Record linkage quality and speed against the FEBRL synthetic data sets, whose record ids carry the truth:
// rec-N-org and rec-N-dup-K with the same N are the same person.
//   node scripts/build.mjs && node bench/linkage.mjs
// The data sets are read from ../shared/data/febrl beside the project (FEBRL_DIR names another folder).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const linkage = await import(pathToFileURL(path.join(root, 'dist/src/modules/signposts/linkage/index.js')).href);
const dataDir = process.env.FEBRL_DIR ?? path.join(root, '../shared/data/febrl');

const load = (name) => linkage.recordsFromCsv(readFileSync(path.join(dataDir, name), 'utf8'));
const person = (id) => /^rec-(\d+)-/.exec(id)?.[1] ?? id;
const without = (records, fields) => records.map((r) => Object.fromEntries(Object.entries(r).filter(([key]) => !fields.includes(key))));

function score(predicted, truthCount, isTrue) {
  let tp = 0;
  for (const p of predicted) if (isTrue(p)) tp++;
  const precision = predicted.length ? tp / predicted.length : 0;
  const recall = truthCount ? tp / truthCount : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { predicted: predicted.length, truePositives: tp, truth: truthCount, precision, recall, f1 };
}

function timed(fn) {
  const start = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

const results = [];
const a = load('dataset4a.csv');
const b = load('dataset4b.csv');
const idsA = new Set(a.map((r) => person(r.id)));
const linkTruth = b.filter((r) => idsA.has(person(r.id))).length;

// FEBRL 4's lists are each free of duplicates, so each record links to at most one on the other side; the
// last row shows the same link without that constraint.
for (const [name, drop, oneToOne] of [
  ['FEBRL4 link, all fields', [], true],
  ['FEBRL4 link, no soc_sec_id', ['identifiers'], true],
  ['FEBRL4 link, no soc_sec_id or dob', ['identifiers', 'dob'], true],
  ['FEBRL4 link, all fields, many-to-many', [], false],
]) {
  const left = linkage.prepare(without(a, drop));
  const right = linkage.prepare(without(b, drop));
  const run = timed(() => linkage.link(left, right, { oneToOne }));
  results.push({ name, ...score(run.value, linkTruth, (p) => person(p.leftId) === person(p.rightId)), seconds: run.seconds });
}

// FEBRL 1 and 2: every pair of records within a found cluster, against every pair sharing a person.
for (const [name, file] of [
  ['FEBRL1 dedupe (clusters)', 'dataset1.csv'],
  ['FEBRL2 dedupe (clusters)', 'dataset2.csv'],
]) {
  const records = linkage.prepare(load(file));
  const run = timed(() => linkage.dedupe(records));
  const members = new Map();
  for (const c of run.value.clusters) members.set(c.cluster, [...(members.get(c.cluster) ?? []), c.id]);
  const predicted = [];
  for (const ids of members.values()) for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) predicted.push([ids[i], ids[j]]);
  const sizes = new Map();
  for (const r of records) sizes.set(person(r.id), (sizes.get(person(r.id)) ?? 0) + 1);
  let truth = 0;
  for (const n of sizes.values()) truth += (n * (n - 1)) / 2;
  results.push({ name, ...score(predicted, truth, ([x, y]) => person(x) === person(y)), seconds: run.seconds });
}

// Speed: one thread scoring a large fixed candidate set (records already standardised).
const left = linkage.prepare(a);
const right = linkage.prepare(b);
const model = linkage.trainModel(left, { linkWith: right });
const count = 2_000_000;
const candidates = { left: new Int32Array(count), right: new Int32Array(count) };
let seed = 12345;
const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
const blocked = linkage.candidatePairs(left, right);
for (let k = 0; k < count; k++) {
  // Half blocked candidates (closer pairs, costlier to compare), half random pairs.
  if (k % 2 === 0) {
    const t = k % blocked.left.length;
    candidates.left[k] = blocked.left[t];
    candidates.right[k] = blocked.right[t];
  } else {
    candidates.left[k] = Math.floor(next() * left.length);
    candidates.right[k] = Math.floor(next() * right.length);
  }
}
linkage.scorePairs(model, left, right, { left: candidates.left.subarray(0, 100_000), right: candidates.right.subarray(0, 100_000) });
// CPU time of this process as well as wall time, so other work on a shared machine does not count against it.
const cpuBefore = process.cpuUsage();
const speed = timed(() => linkage.scorePairs(model, left, right, candidates));
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const perSecond = Math.round(count / speed.seconds);
const perCpuSecond = Math.round(count / cpuSeconds);

const pct = (x) => (x * 100).toFixed(2).padStart(6);
console.log('scenario                                 predicted   truth  precision  recall      F1   seconds');
for (const r of results) {
  console.log(
    `${r.name.padEnd(39)} ${String(r.predicted).padStart(9)} ${String(r.truth).padStart(7)}   ${pct(r.precision)}%  ${pct(r.recall)}%  ${pct(r.f1)}%  ${r.seconds.toFixed(2).padStart(7)}`,
  );
}
console.log(
  `scoring speed, one thread: ${perCpuSecond.toLocaleString('en-GB')} comparisons per CPU second, ${perSecond.toLocaleString('en-GB')} per wall-clock second (${count.toLocaleString('en-GB')} pairs, ${cpuSeconds.toFixed(2)} s CPU, ${speed.seconds.toFixed(2)} s wall)`,
);

mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(root, 'bench/results/linkage.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      results,
      scoring: { pairs: count, wallSeconds: speed.seconds, cpuSeconds, comparisonsPerCpuSecond: perCpuSecond, comparisonsPerWallSecond: perSecond },
    },
    null,
    2,
  ) + '\n',
);
