// Groups records into people: connected components over confident pairs, except that records which look
// like twins or siblings (same date of birth, surname and address, clearly different forenames) are never
// joined automatically, even through a third record, unless they share an identifier such as an NHS
// number (allowing one mistyped character); they go to staff for review instead.
import { comparisonNamed } from './comparisons.js';
import type { StandardRecord } from './standardise.js';

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
const address = comparisonNamed('address');
const identifiers = comparisonNamed('identifiers');
const FORENAME_DIFFERENT = forename.levels.findIndex((l) => l.key === 'else');

/** Same full date of birth, surname and address but clearly different forenames. */
export function likelySiblings(a: StandardRecord, b: StandardRecord): boolean {
  if (a.dob.precision !== 'day' || a.dob.text !== b.dob.text) return false;
  if (!a.surname || a.surname !== b.surname) return false;
  if (forename.compare(a, b) !== FORENAME_DIFFERENT) return false;
  // Twins never share an NHS number (or any other personal identifier); the same person does, give or take
  // a mistyped character. Check digits keep even consecutive numbers two or more characters apart.
  const identifier = identifiers.compare(a, b);
  if (identifier === 1 || identifier === 2) return false;
  const sameAddress = (a.postcode.full !== '' && a.postcode.full === b.postcode.full) || address.compare(a, b) === 1;
  return sameAddress;
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
  const review: ReviewPair[] = [];
  const confident: ClusterPair[] = [];
  for (const p of pairs) {
    if (p.probability < reviewThreshold) continue;
    if (likelySiblings(records[p.left] as StandardRecord, records[p.right] as StandardRecord)) {
      review.push({ ...p, reason: 'possible twins or siblings' });
      for (const [x, y] of [
        [p.left, p.right],
        [p.right, p.left],
      ] as const) {
        let set = cannot.get(x);
        if (!set) cannot.set(x, (set = new Set()));
        set.add(y);
      }
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
      review.push({ ...p, reason: 'possible twins or siblings' });
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
