// Fellegi-Sunter scoring. Each comparison level carries m (how often true matches land there) and u (how
// often unrelated people do); a pair's match weight is log2 of the prior odds plus log2(m/u) for each field.
// u comes from random pairs, m from expectation-maximisation over candidate pairs, so no labels are needed.
import { COMPARISONS, compareInto, type ComparisonDefinition } from './comparisons.js';
import type { StandardRecord } from './standardise.js';

export interface LevelParameters {
  key: string;
  label: string;
  m: number;
  u: number;
}

export interface ComparisonParameters {
  key: string;
  label: string;
  levels: LevelParameters[];
}

export interface LinkageModel {
  comparisons: ComparisonParameters[];
  /** Probability that two records drawn at random are the same person. */
  prior: number;
  /** Share of records carrying each forename and surname, for rarer names to weigh more. */
  termFrequencies: { forename: Record<string, number>; surname: Record<string, number>; records: number };
  training: { candidatePairs: number; randomPairs: number; iterations: number; matchShareOfCandidates: number };
}

/** Pairs of record indexes, left[k] with right[k]; in a dedupe both index the same list. */
export interface CandidatePairs {
  left: Int32Array;
  right: Int32Array;
}

export interface TrainingOptions {
  /** Random pairs sampled to estimate u. */
  randomPairs?: number;
  maxIterations?: number;
  /** Fixes the prior probability instead of estimating it. */
  prior?: number;
  /** Seed for the random pair sample, so training is repeatable. */
  seed?: number;
}

const LN2 = Math.log(2);
const M_FLOOR = 0.002;
export const log2 = (x: number): number => Math.log(x) / LN2;

/** Small deterministic generator so the same data always trains the same model. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Level indexes for every pair and comparison, pair-major. */
export function comparisonVectors(left: readonly StandardRecord[], right: readonly StandardRecord[], pairs: CandidatePairs): Uint8Array {
  const c = COMPARISONS.length;
  const n = pairs.left.length;
  const out = new Uint8Array(n * c);
  for (let k = 0; k < n; k++) compareInto(left[pairs.left[k] as number] as StandardRecord, right[pairs.right[k] as number] as StandardRecord, out, k * c);
  return out;
}

function randomPairs(nLeft: number, nRight: number, sameSet: boolean, wanted: number, seed: number): CandidatePairs {
  const total = sameSet ? (nLeft * (nLeft - 1)) / 2 : nLeft * nRight;
  if (total <= wanted) {
    const left: number[] = [];
    const right: number[] = [];
    for (let i = 0; i < nLeft; i++) {
      for (let j = sameSet ? i + 1 : 0; j < nRight; j++) {
        left.push(i);
        right.push(j);
      }
    }
    return { left: Int32Array.from(left), right: Int32Array.from(right) };
  }
  const random = seededRandom(seed);
  const left = new Int32Array(wanted);
  const right = new Int32Array(wanted);
  for (let k = 0; k < wanted; k++) {
    const i = Math.floor(random() * nLeft);
    let j = Math.floor(random() * nRight);
    if (sameSet && j === i) j = (j + 1) % nRight;
    left[k] = i;
    right[k] = j;
  }
  return { left, right };
}

function frequencies(records: readonly StandardRecord[], field: 'forename' | 'surname'): Record<string, number> {
  const counts = new Map<string, number>();
  let total = 0;
  for (const r of records) {
    const v = r[field];
    if (!v) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    total++;
  }
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [k, v] of counts) out[k] = v / Math.max(1, total);
  return out;
}

/** Starting m: most matches agree exactly, fewer at each looser level, a few disagree. */
function initialM(definition: ComparisonDefinition): number[] {
  const n = definition.levels.length - 1;
  const m = [0];
  for (let l = 1; l <= n; l++) m.push(l === 1 ? 0.8 : l === n ? 0.05 : 0.15 / Math.max(1, n - 2));
  return m;
}

/** A deterministic rule for the starting prior: exact names and date of birth, or an exact identifier. */
const RULE_FIELDS = ['forename', 'surname', 'dob', 'identifiers'].map((key) => COMPARISONS.findIndex((c) => c.key === key));

function surelySame(levels: Uint8Array, offset: number): boolean {
  const [forename, surname, dob, identifiers] = RULE_FIELDS as [number, number, number, number];
  return (levels[offset + forename] === 1 && levels[offset + surname] === 1 && levels[offset + dob] === 1) || levels[offset + identifiers] === 1;
}

/** Levels that weigh nothing (a missing value, or evidence counted elsewhere): m and u are both 1. */
const NEUTRAL = COMPARISONS.map((c) => c.levels.map((l) => l.neutral === true));
const neutral = (f: number, l: number): boolean => (NEUTRAL[f] as boolean[])[l] === true;

const DOB = COMPARISONS.findIndex((c) => c.key === 'dob');
const FORENAME = COMPARISONS.findIndex((c) => c.key === 'forename');
const SURNAME = COMPARISONS.findIndex((c) => c.key === 'surname');
/** A training session with fewer candidates than this falls back to learning from all of them at once. */
const MIN_SESSION_PAIRS = 200;

interface Patterns {
  list: { levels: Uint8Array; count: number }[];
  n: number;
  ruleMatches: number;
}

/** Identical level patterns grouped, so each EM pass is cheap. */
function groupPatterns(levels: Uint8Array, n: number, keep: (offset: number) => boolean): Patterns {
  const c = COMPARISONS.length;
  const patterns = new Map<number, { levels: Uint8Array; count: number }>();
  let kept = 0;
  let ruleMatches = 0;
  for (let k = 0; k < n; k++) {
    const at = k * c;
    if (!keep(at)) continue;
    kept++;
    // Levels are below 16, so the pattern packs into one number (exact up to 13 comparisons).
    let key = 0;
    for (let f = 0; f < c; f++) key = key * 16 + (levels[at + f] as number);
    const found = patterns.get(key);
    if (found) found.count++;
    else patterns.set(key, { levels: levels.subarray(at, at + c), count: 1 });
    if (surelySame(levels, at)) ruleMatches++;
  }
  return { list: [...patterns.values()], n: kept, ruleMatches };
}

/**
 * Expectation-maximisation over one set of candidates. It fits both distributions over them: non-matching
 * candidates agree far more often than random pairs (they were chosen for agreeing), so holding u at its
 * random-pair value here would let m absorb them. The random-pair u is still the one used for scoring.
 * Fields in `ignore` are the ones the candidates were selected on: they take no part.
 */
function em(
  patterns: Patterns,
  u: readonly number[][],
  maxIterations: number,
  ignore: readonly number[],
): { m: number[][]; lambda: number; iterations: number } {
  const c = COMPARISONS.length;
  const m = COMPARISONS.map(initialM);
  const uc = u.map((row) => row.slice());
  const skip = COMPARISONS.map((_, f) => ignore.includes(f));
  let lambda = Math.min(0.9, Math.max(0.01, patterns.ruleMatches / Math.max(1, patterns.n)));
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const sums = COMPARISONS.map((d) => new Array<number>(d.levels.length).fill(0));
    const otherSums = COMPARISONS.map((d) => new Array<number>(d.levels.length).fill(0));
    let matchTotal = 0;
    for (const p of patterns.list) {
      let ratio = lambda / (1 - lambda);
      for (let f = 0; f < c; f++) {
        const l = p.levels[f] as number;
        if (!neutral(f, l) && !skip[f]) ratio *= ((m[f] as number[])[l] as number) / ((uc[f] as number[])[l] as number);
      }
      const posterior = ratio === Infinity ? 1 : ratio / (1 + ratio);
      const weight = posterior * p.count;
      const other = p.count - weight;
      matchTotal += weight;
      for (let f = 0; f < c; f++) {
        const l = p.levels[f] as number;
        const rowM = sums[f] as number[];
        const rowU = otherSums[f] as number[];
        rowM[l] = (rowM[l] as number) + weight;
        rowU[l] = (rowU[l] as number) + other;
      }
    }
    let change = 0;
    for (let f = 0; f < c; f++) {
      if (skip[f]) continue;
      const row = sums[f] as number[];
      let total = 0;
      let k = 0;
      for (let l = 1; l < row.length; l++)
        if (!neutral(f, l)) {
          total += row[l] as number;
          k++;
        }
      for (let l = 1; l < row.length; l++) {
        if (neutral(f, l)) continue;
        // A light pull towards an even split keeps rarely seen levels possible,
        // and a floor stops EM from ruling a level out for true matches altogether.
        const next = Math.max(M_FLOOR, ((row[l] as number) + 0.5 / k) / (total + 0.5));
        change = Math.max(change, Math.abs(next - ((m[f] as number[])[l] as number)));
        (m[f] as number[])[l] = next;
      }
      const rowU = otherSums[f] as number[];
      let totalU = 0;
      for (let l = 1; l < rowU.length; l++) if (!neutral(f, l)) totalU += rowU[l] as number;
      for (let l = 1; l < rowU.length; l++) if (!neutral(f, l)) (uc[f] as number[])[l] = ((rowU[l] as number) + 0.5 / k) / (totalU + 0.5);
    }
    const nextLambda = Math.min(0.999, Math.max(1e-6, matchTotal / Math.max(1, patterns.n)));
    change = Math.max(change, Math.abs(nextLambda - lambda));
    lambda = nextLambda;
    if (change < 1e-5) {
      iterations++;
      break;
    }
  }
  return { m, lambda, iterations };
}

/**
 * Trains a model on the records to be linked. `right` is the second list in a link, or the same list as
 * `left` in a dedupe; `candidates` are the blocked pairs EM learns m from.
 */
export function train(
  left: readonly StandardRecord[],
  right: readonly StandardRecord[],
  candidates: CandidatePairs,
  options: TrainingOptions = {},
  /** The candidates' comparison levels, when the caller has them already. */
  candidateLevels?: Uint8Array,
): LinkageModel {
  const sameSet = left === right;
  const c = COMPARISONS.length;
  const seed = options.seed ?? 20260101;

  // u from random pairs, with one pseudo-count per level so no level is impossible.
  const random = randomPairs(left.length, right.length, sameSet, options.randomPairs ?? 300_000, seed);
  const randomLevels = comparisonVectors(left, right, random);
  const u: number[][] = COMPARISONS.map((d) => new Array<number>(d.levels.length).fill(0));
  for (let k = 0; k < random.left.length; k++) {
    for (let f = 0; f < c; f++) {
      const row = u[f] as number[];
      const l = randomLevels[k * c + f] as number;
      row[l] = (row[l] as number) + 1;
    }
  }
  for (let f = 0; f < c; f++) {
    const row = u[f] as number[];
    let total = 0;
    for (let l = 1; l < row.length; l++) if (!neutral(f, l)) total += (row[l] as number) + 1;
    for (let l = 0; l < row.length; l++) row[l] = neutral(f, l) ? 1 : ((row[l] as number) + 1) / total;
  }

  const levels = candidateLevels ?? comparisonVectors(left, right, candidates);
  const n = candidates.left.length;
  const everything = groupPatterns(levels, n, () => true);
  // Sessions, as Splink trains: among candidates sharing a date of birth (mostly the same person, as few
  // others share one; a household does not) EM learns every other field, and among candidates with the same
  // forename and surname it learns the date of birth. A field a session selects on teaches it nothing.
  const byBirth = groupPatterns(levels, n, (at) => levels[at + DOB] === 1);
  const byName = groupPatterns(levels, n, (at) => levels[at + FORENAME] === 1 && levels[at + SURNAME] === 1);
  const maxIterations = options.maxIterations ?? 40;
  const overall = em(everything, u, maxIterations, []);
  let m = overall.m;
  let iterations = overall.iterations;
  let matches = overall.lambda * everything.n;
  if (byBirth.n >= MIN_SESSION_PAIRS && byName.n >= MIN_SESSION_PAIRS) {
    const birth = em(byBirth, u, maxIterations, [DOB]);
    const name = em(byName, u, maxIterations, [FORENAME, SURNAME]);
    m = birth.m.map((row, f) => (f === DOB ? (name.m[f] as number[]) : row));
    iterations = Math.max(birth.iterations, name.iterations);
    // Matches sharing a date of birth, scaled up by how often the same person's dates of birth agree.
    matches = (birth.lambda * byBirth.n) / Math.max(0.05, (m[DOB] as number[])[1] as number);
  }
  const lambda = n > 0 ? Math.min(1, matches / n) : 0;

  const totalPairs = sameSet ? (left.length * (left.length - 1)) / 2 : left.length * right.length;
  // With no candidates to learn from, assume each record has about one match on the other side.
  const estimated = n > 0 ? matches / Math.max(1, totalPairs) : Math.max(left.length, right.length) / Math.max(1, totalPairs);
  const prior = options.prior ?? Math.min(0.5, Math.max(1e-12, estimated));
  const all = sameSet ? left : [...left, ...right];
  return {
    comparisons: COMPARISONS.map((d, f) => ({
      key: d.key,
      label: d.label,
      levels: d.levels.map((level, l) => ({
        key: level.key,
        label: level.label,
        m: neutral(f, l) ? 1 : ((m[f] as number[])[l] as number),
        u: neutral(f, l) ? 1 : ((u[f] as number[])[l] as number),
      })),
    })),
    prior,
    termFrequencies: { forename: frequencies(all, 'forename'), surname: frequencies(all, 'surname'), records: all.length },
    training: { candidatePairs: n, randomPairs: random.left.length, iterations, matchShareOfCandidates: lambda },
  };
}

/** The weight tables a scoring pass uses, derived once per model. */
export interface CompiledModel {
  priorWeight: number;
  weights: Float64Array[];
  exactU: Float64Array;
  tf: (Map<string, number> | undefined)[];
  minFrequency: number;
}

const compiled = new WeakMap<LinkageModel, CompiledModel>();

export function compile(model: LinkageModel): CompiledModel {
  let found = compiled.get(model);
  if (found) return found;
  if (
    model.comparisons.length !== COMPARISONS.length ||
    model.comparisons.some(
      (c, f) => c.key !== (COMPARISONS[f] as ComparisonDefinition).key || c.levels.length !== (COMPARISONS[f] as ComparisonDefinition).levels.length,
    )
  ) {
    throw new Error('The linkage model does not match the comparisons of this version.');
  }
  found = {
    priorWeight: log2(model.prior / (1 - model.prior)),
    weights: model.comparisons.map((c) => Float64Array.from(c.levels.map((l, i) => (i === 0 ? 0 : log2(l.m / l.u))))),
    exactU: Float64Array.from(model.comparisons.map((c) => c.levels[1]?.u ?? 1)),
    tf: COMPARISONS.map((d) => (d.termFrequency ? new Map(Object.entries(model.termFrequencies[d.termFrequency])) : undefined)),
    minFrequency: 1 / Math.max(1, model.termFrequencies.records),
  };
  compiled.set(model, found);
  return found;
}

/** Extra weight for an exact match on a name: positive for a rare name, negative for a common one. */
export function termFrequencyAdjustment(model: CompiledModel, f: number, value: string): number {
  const table = model.tf[f];
  if (!table) return 0;
  const frequency = Math.max(table.get(value) ?? model.minFrequency, model.minFrequency);
  return log2((model.exactU[f] as number) / frequency);
}

/** Match weight of each candidate pair, comparing the records unless their levels are given. */
export function scoreWeights(
  model: LinkageModel,
  left: readonly StandardRecord[],
  right: readonly StandardRecord[],
  pairs: CandidatePairs,
  pairLevels?: Uint8Array,
): Float64Array {
  const cm = compile(model);
  const n = pairs.left.length;
  const out = new Float64Array(n);
  const c = COMPARISONS.length;
  const forenameIndex = COMPARISONS.findIndex((d) => d.key === 'forename');
  const surnameIndex = COMPARISONS.findIndex((d) => d.key === 'surname');
  const scratch = new Uint8Array(c);
  for (let k = 0; k < n; k++) {
    const a = left[pairs.left[k] as number] as StandardRecord;
    const b = right[pairs.right[k] as number] as StandardRecord;
    let levels: Uint8Array = scratch;
    let base = 0;
    if (pairLevels) {
      levels = pairLevels;
      base = k * c;
    } else compareInto(a, b, scratch, 0);
    let w = cm.priorWeight;
    for (let f = 0; f < c; f++) {
      const level = levels[base + f] as number;
      w += (cm.weights[f] as Float64Array)[level] as number;
      if (level === 1) {
        if (f === forenameIndex) w += termFrequencyAdjustment(cm, f, a.forename);
        else if (f === surnameIndex) w += termFrequencyAdjustment(cm, f, a.surname);
      }
    }
    out[k] = w;
  }
  return out;
}

export function probabilityFromWeight(weight: number): number {
  const odds = Math.pow(2, weight);
  return odds === Infinity ? 1 : odds / (1 + odds);
}
