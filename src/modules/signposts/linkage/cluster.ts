// Groups records into people: connected components over confident pairs, except that records which look
// like twins or siblings (same date of birth, surname and address, clearly different forenames) are never
// joined automatically, even through a third record, unless they share an identifier such as an NHS
// number (allowing one mistyped character); they go to staff for review instead. Records whose full dates
// of birth differ by more than a keying error are never joined at all, and a pair with clearly different
// forenames is not by itself a reason to join.
import { comparisonNamed } from './comparisons.js';
import type { StandardRecord } from './standardise.js';
import { withinOneEdit } from './strings.js';

export interface ClusterPair {
  left: number;
  right: number;
  probability: number;
}

export interface ClusterOptions {
  /** Pairs at or above this probability are joined. */
  threshold?: number;
  /** Pairs from this probability up to the threshold, and guarded pairs, are listed for review. */
  reviewThreshold?: number;
  /** Pairs staff have decided, which override the model: confirmed pairs are always joined, rejected ones never. */
  decisions?: { confirmed: readonly (readonly [number, number])[]; rejected: readonly (readonly [number, number])[] };
}

export interface ReviewPair extends ClusterPair {
  reason: 'uncertain' | 'possible twins or siblings';
}

export interface Clustering {
  /** Cluster number of each record, 0.. in order of first record. */
  clusterOf: Int32Array;
  review: ReviewPair[];
}

const forename = comparisonNamed('forename');
const dateOfBirth = comparisonNamed('dob');
const address = comparisonNamed('address');
const identifiers = comparisonNamed('identifiers');
const FORENAME_DIFFERENT = forename.levels.findIndex((l) => l.key === 'else');
/** Date of birth levels a keying error explains: beyond these, two full dates are two people. */
const DOB_ERRORS = new Set(['exact', 'typo', 'swapped', 'typo2'].map((key) => dateOfBirth.levels.findIndex((l) => l.key === key)));

/** Twins never share an NHS number (or any other personal identifier); the same person does, give or take a mistyped character. */
function shareIdentifier(a: StandardRecord, b: StandardRecord): boolean {
  const level = identifiers.compare(a, b);
  return level === 1 || level === 2;
}

/** Same full date of birth, surname and address but clearly different forenames. */
export function likelySiblings(a: StandardRecord, b: StandardRecord): boolean {
  if (a.dob.precision !== 'day' || a.dob.text !== b.dob.text) return false;
  if (!a.surname || a.surname !== b.surname) return false;
  if (forename.compare(a, b) !== FORENAME_DIFFERENT) return false;
  if (shareIdentifier(a, b)) return false;
  return (a.postcode.full !== '' && a.postcode.full === b.postcode.full) || address.compare(a, b) === 1;
}

/**
 * Records of two people however much else agrees (a parent and child, two people of one name, twins): NHS
 * numbers that differ, or full dates of birth further apart than a keying error and no shared identifier. They are never joined, even through a
 * third record, and are not offered for review.
 */
export function clearlyDifferent(a: StandardRecord, b: StandardRecord): boolean {
  if (differentNhsNumbers(a, b)) return true;
  if (a.dob.precision !== 'day' || b.dob.precision !== 'day') return false;
  return !DOB_ERRORS.has(dateOfBirth.compare(a, b)) && !shareIdentifier(a, b);
}

/** NHS numbers carry a check digit, so two that differ by more than a slip are two people (twins included). */
function differentNhsNumbers(a: StandardRecord, b: StandardRecord): boolean {
  const x = a.identifiers.nhs_number;
  const y = b.identifiers.nhs_number;
  return x !== undefined && y !== undefined && x !== y && !withinOneEdit(x, y);
}

/**
 * Clearly different forenames (not a nickname, a misspelling or swapped names) and no shared identifier. The
 * model scores fields as independent, which they are not within a household: surname, address and postcode
 * agree together. Such a pair is no evidence on its own; its records may still meet through others.
 */
export function differentForenames(a: StandardRecord, b: StandardRecord): boolean {
  return forename.compare(a, b) === FORENAME_DIFFERENT && !shareIdentifier(a, b);
}

export function cluster(records: readonly StandardRecord[], pairs: readonly ClusterPair[], options: ClusterOptions = {}): Clustering {
  const threshold = options.threshold ?? 0.9;
  const reviewThreshold = options.reviewThreshold ?? 0.5;
  const n = records.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x] as number] as number;
      x = parent[x] as number;
    }
    return x;
  };
  const cannot = new Map<number, Set<number>>();
  const keepApart = (x: number, y: number): void => {
    let set = cannot.get(x);
    if (!set) cannot.set(x, (set = new Set()));
    set.add(y);
  };
  const decided = new Set<string>();
  for (const [x, y] of options.decisions?.confirmed ?? []) {
    decided.add(`${Math.min(x, y)}|${Math.max(x, y)}`);
    const rx = find(x);
    const ry = find(y);
    if (rx !== ry) parent[ry] = rx;
  }
  for (const [x, y] of options.decisions?.rejected ?? []) {
    decided.add(`${Math.min(x, y)}|${Math.max(x, y)}`);
    keepApart(find(x), y);
    keepApart(find(y), x);
  }
  const review: ReviewPair[] = [];
  const confident: ClusterPair[] = [];
  for (const p of pairs) {
    if (p.probability < reviewThreshold || decided.has(`${Math.min(p.left, p.right)}|${Math.max(p.left, p.right)}`)) continue;
    const left = records[p.left] as StandardRecord;
    const right = records[p.right] as StandardRecord;
    if (likelySiblings(left, right)) {
      review.push({ ...p, reason: 'possible twins or siblings' });
      keepApart(find(p.left), p.right);
      keepApart(find(p.right), p.left);
    } else if (clearlyDifferent(left, right)) {
      keepApart(find(p.left), p.right);
      keepApart(find(p.right), p.left);
    } else if (differentForenames(left, right)) {
      continue;
    } else if (p.probability >= threshold) confident.push(p);
    else review.push({ ...p, reason: 'uncertain' });
  }
  confident.sort((a, b) => b.probability - a.probability);
  for (const p of confident) {
    const ra = find(p.left);
    const rb = find(p.right);
    if (ra === rb) continue;
    const ca = cannot.get(ra);
    const cb = cannot.get(rb);
    let blocked = false;
    if (ca) for (const x of ca) if (find(x) === rb) blocked = true;
    if (blocked) {
      // Joining would put together people kept apart (twins, a parent and child): which one this record
      // belongs to is a question for staff.
      review.push({ ...p, reason: 'uncertain' });
      continue;
    }
    parent[rb] = ra;
    if (cb) {
      if (ca) for (const x of cb) ca.add(x);
      else cannot.set(ra, cb);
      cannot.delete(rb);
    }
  }
  const clusterOf = new Int32Array(n);
  const numbers = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let k = numbers.get(root);
    if (k === undefined) numbers.set(root, (k = numbers.size));
    clusterOf[i] = k;
  }
  return { clusterOf, review };
}
