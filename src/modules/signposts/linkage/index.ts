// Record linkage for the safeguarding single view: finds the same resident across agency records despite
// typos, nicknames, swapped names, changed surnames, moves and partial dates of birth, and explains each link.
// Pure computation: callers load records and store results.
//
//   const people = recordsFromCsv(csvText);
//   const { clusters, review, model } = dedupe(people);     // one list
//   const pairs = link(schoolRecords, healthRecords);       // two lists
//   const why = explain(model, people[0], people[1]);       // chart and table data
import { candidatePairs, DEFAULT_BLOCKING_RULES, type BlockingOptions, type BlockingRule } from './blocking.js';
import { clearlyDifferent, cluster, likelySiblings, type ClusterOptions, type ReviewPair } from './cluster.js';
import { explainPair, type Explanation, type FieldContribution } from './explain.js';
import { comparisonVectors, probabilityFromWeight, scoreWeights, train, type CandidatePairs, type LinkageModel, type TrainingOptions } from './model.js';
import { standardise, type PersonRecord, type StandardRecord } from './standardise.js';

export { isValidNhsNumber, nhsCheckDigit, standardise, standardiseDate, standardisePostcode } from './standardise.js';
export { boundedEditDistance, jaroWinkler, phoneticKey } from './strings.js';
export { buildNicknameIndex, defaultNicknames } from './nicknames.js';
export { candidatePairs, clearlyDifferent, cluster, DEFAULT_BLOCKING_RULES, likelySiblings };
export type {
  BlockingOptions,
  BlockingRule,
  CandidatePairs,
  ClusterOptions,
  Explanation,
  FieldContribution,
  LinkageModel,
  PersonRecord,
  ReviewPair,
  StandardRecord,
};

export type Records = readonly PersonRecord[] | readonly StandardRecord[];

function isPrepared(records: Records): records is readonly StandardRecord[] {
  const first = records[0];
  return first !== undefined && 'surnameParts' in first;
}

/** Standardised records, computed once and reusable across training, scoring and explaining. */
export function prepare(records: Records): readonly StandardRecord[] {
  return isPrepared(records) ? records : (records as readonly PersonRecord[]).map((r) => standardise(r));
}

export interface TrainOptions extends TrainingOptions, BlockingOptions {
  /** The second list when the model is for linking two lists rather than deduplicating one. */
  linkWith?: Records;
}

/** Learns m and u for every comparison level from the records themselves (no labelled pairs needed). */
export function trainModel(records: Records, options: TrainOptions = {}): LinkageModel {
  const left = prepare(records);
  const right = options.linkWith ? prepare(options.linkWith) : undefined;
  return train(left, right ?? left, candidatePairs(left, right, options), options);
}

export interface ScoredPairs extends CandidatePairs {
  weight: Float64Array;
  probability: Float64Array;
}

/** Scores candidate pairs (blocked ones by default). Pass the same list twice to score within one list. */
export function scorePairs(model: LinkageModel, left: Records, right: Records, candidates?: CandidatePairs, options: BlockingOptions = {}): ScoredPairs {
  const a = prepare(left);
  const b = right === left ? a : prepare(right);
  const pairs = candidates ?? candidatePairs(a, b === a ? undefined : b, options);
  const weight = scoreWeights(model, a, b, pairs);
  const probability = new Float64Array(weight.length);
  for (let k = 0; k < weight.length; k++) probability[k] = probabilityFromWeight(weight[k] as number);
  return { left: pairs.left, right: pairs.right, weight, probability };
}

/**
 * scorePairs a slice at a time, letting other work on the thread run between slices: for a caller that shares
 * its thread with requests, such as a large load linked inside the platform.
 */
export async function scorePairsInTurns(model: LinkageModel, left: Records, right: Records, candidates: CandidatePairs, slice = 50_000): Promise<ScoredPairs> {
  const n = candidates.left.length;
  const weight = new Float64Array(n);
  const probability = new Float64Array(n);
  for (let from = 0; from < n; from += slice) {
    const to = Math.min(n, from + slice);
    const part = scorePairs(model, left, right, { left: candidates.left.subarray(from, to), right: candidates.right.subarray(from, to) });
    weight.set(part.weight, from);
    probability.set(part.probability, from);
    if (to < n) await new Promise((resolve) => setImmediate(resolve));
  }
  return { left: candidates.left, right: candidates.right, weight, probability };
}

/** Blocks once, compares once, and uses the same comparisons to train (unless a model is given) and score. */
function trainAndScore(
  left: readonly StandardRecord[],
  right: readonly StandardRecord[],
  options: TrainOptions & { model?: LinkageModel },
): { model: LinkageModel; scored: ScoredPairs } {
  const pairs = candidatePairs(left, left === right ? undefined : right, options);
  const levels = comparisonVectors(left, right, pairs);
  const model = options.model ?? train(left, right, pairs, options, levels);
  const weight = scoreWeights(model, left, right, pairs, levels);
  const probability = new Float64Array(weight.length);
  for (let k = 0; k < weight.length; k++) probability[k] = probabilityFromWeight(weight[k] as number);
  return { model, scored: { left: pairs.left, right: pairs.right, weight, probability } };
}

export interface LinkedPair {
  leftId: string;
  rightId: string;
  left: number;
  right: number;
  weight: number;
  probability: number;
}

export interface LinkOptions extends TrainOptions {
  /** A model trained earlier; otherwise one is trained on these records. */
  model?: LinkageModel;
  /** Lowest probability returned (0.5 by default). */
  threshold?: number;
  /** Each record links to at most one on the other side, best first: for lists that are each already deduplicated. */
  oneToOne?: boolean;
}

/** The scored pairs at or above a probability, with their records' ids, best first. */
function pairsAtLeast(scored: ScoredPairs, left: readonly StandardRecord[], right: readonly StandardRecord[], floor: number): LinkedPair[] {
  const pairs: LinkedPair[] = [];
  for (let k = 0; k < scored.weight.length; k++) {
    if ((scored.probability[k] as number) < floor) continue;
    const i = scored.left[k] as number;
    const j = scored.right[k] as number;
    pairs.push({
      leftId: (left[i] as StandardRecord).id,
      rightId: (right[j] as StandardRecord).id,
      left: i,
      right: j,
      weight: scored.weight[k] as number,
      probability: scored.probability[k] as number,
    });
  }
  return pairs.sort((x, y) => y.weight - x.weight);
}

/** Pairs of records, one from each list, that are probably the same person, best first. */
export function link(a: Records, b: Records, options: LinkOptions = {}): LinkedPair[] {
  const left = prepare(a);
  const right = prepare(b);
  const { scored } = trainAndScore(left, right, options);
  let pairs = pairsAtLeast(scored, left, right, options.threshold ?? 0.5);
  if (options.oneToOne) {
    const usedLeft = new Set<number>();
    const usedRight = new Set<number>();
    pairs = pairs.filter((p) => {
      if (usedLeft.has(p.left) || usedRight.has(p.right)) return false;
      usedLeft.add(p.left);
      usedRight.add(p.right);
      return true;
    });
  }
  return pairs;
}

export interface DedupeOptions extends TrainOptions, ClusterOptions {
  model?: LinkageModel;
}

export interface DedupeResult {
  /** Each record's id with the number of the person cluster it belongs to. */
  clusters: { id: string; cluster: number }[];
  /** Pairs at or above the review threshold, best first. */
  pairs: LinkedPair[];
  /** Pairs for staff to decide: uncertain, or looking like twins or siblings. */
  review: (ReviewPair & { leftId: string; rightId: string })[];
  model: LinkageModel;
}

/** Finds records of the same person within one list and groups them. */
export function dedupe(records: Records, options: DedupeOptions = {}): DedupeResult {
  const list = prepare(records);
  const { model, scored } = trainAndScore(list, list, options);
  const pairs = pairsAtLeast(scored, list, list, options.reviewThreshold ?? 0.5);
  const grouped = cluster(list, pairs, options);
  return {
    clusters: list.map((r, i) => ({ id: r.id, cluster: grouped.clusterOf[i] as number })),
    pairs,
    review: grouped.review.map((p) => ({ ...p, leftId: (list[p.left] as StandardRecord).id, rightId: (list[p.right] as StandardRecord).id })),
    model,
  };
}

/** Field by field reasons for the score of one pair of records. */
export function explain(model: LinkageModel, a: PersonRecord | StandardRecord, b: PersonRecord | StandardRecord): Explanation {
  const one = (r: PersonRecord | StandardRecord): StandardRecord => ('surnameParts' in r ? r : standardise(r));
  return explainPair(model, one(a), one(b));
}

export { personField, recordsFromCsv, type CsvOptions } from './csv.js';
export { isSearchable, SearchIndex, type FieldAgreement, type SearchHit, type SearchIndexOptions, type SearchOptions, type SearchQuery } from './search.js';
