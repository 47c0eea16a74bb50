// Candidate pairs: only records sharing at least one blocking key are compared, so linkage scales past
// the all-pairs square. Several loose keys together keep recall high when any one field is wrong.
import type { CandidatePairs } from './model.js';
import type { StandardRecord } from './standardise.js';

export interface BlockingRule {
  name: string;
  /** Keys for a record; records sharing a key become candidates. Empty means the rule does not apply. */
  keys(record: StandardRecord): string[];
}

const one = (value: string): string[] => (value ? [value] : []);
const both = (a: string, b: string): string[] => (a && b ? [`${a}|${b}`] : []);
const year = (r: StandardRecord): string => (r.dob.year ? String(r.dob.year) : '');

export const DEFAULT_BLOCKING_RULES: readonly BlockingRule[] = [
  { name: 'date of birth', keys: (r) => (r.dob.precision === 'day' ? [r.dob.text] : []) },
  { name: 'surname sound and birth year', keys: (r) => both(r.surnamePhonetic, year(r)) },
  { name: 'forename sound and postcode', keys: (r) => both(r.forenamePhonetic, r.postcode.full) },
  { name: 'surname sound and postcode', keys: (r) => both(r.surnamePhonetic, r.postcode.full) },
  { name: 'postcode and birth year', keys: (r) => both(r.postcode.full, year(r)) },
  {
    // Sorted, so swapped forename and surname still meet.
    name: 'forename and surname sounds',
    keys: (r) => (r.forenamePhonetic && r.surnamePhonetic ? [[r.forenamePhonetic, r.surnamePhonetic].sort().join('|')] : []),
  },
  { name: 'street number and street', keys: (r) => both(r.streetNumber, r.addressLine) },
  { name: 'postcode and street number', keys: (r) => both(r.postcode.full, r.streetNumber) },
  { name: 'street and town', keys: (r) => both(r.addressLine, r.town) },
  { name: 'surname sound and town', keys: (r) => both(r.surnamePhonetic, r.town) },
  { name: 'forename sound and town', keys: (r) => both(r.forenamePhonetic, r.town) },
  { name: 'identifier', keys: (r) => Object.entries(r.identifiers).map(([k, v]) => `${k}:${v}`) },
  {
    name: 'previous surname',
    keys: (r) => r.previousSurnames.map((s) => `${s}|${r.forename}`).concat(one(r.surname && r.forename ? `${r.surname}|${r.forename}` : '')),
  },
];

export interface BlockingOptions {
  rules?: readonly BlockingRule[];
  /** Blocks that would produce more pairs than this are skipped; other rules still catch their matches. */
  maxBlockPairs?: number;
}

function index(records: readonly StandardRecord[], rule: BlockingRule, prefix: string, into: Map<string, number[]>): void {
  for (let i = 0; i < records.length; i++) {
    for (const key of rule.keys(records[i] as StandardRecord)) {
      const k = prefix + key;
      const list = into.get(k);
      if (list) list.push(i);
      else into.set(k, [i]);
    }
  }
}

/** Candidate pairs within one list (i < j) or between two lists, deduplicated across rules. */
export function candidatePairs(left: readonly StandardRecord[], right: readonly StandardRecord[] | undefined, options: BlockingOptions = {}): CandidatePairs {
  const rules = options.rules ?? DEFAULT_BLOCKING_RULES;
  const cap = options.maxBlockPairs ?? 5000;
  const width = right ? right.length : left.length;
  // Pairs are gathered as numbers (left * width + right), then sorted and deduplicated at the end: a Set
  // would stop at about 16 million entries, and typed arrays keep memory at 8 bytes per pair.
  let keys = new Float64Array(1024);
  let count = 0;
  const add = (i: number, j: number): void => {
    if (count === keys.length) {
      const grown = new Float64Array(keys.length * 2);
      grown.set(keys);
      keys = grown;
    }
    keys[count++] = i * width + j;
  };
  rules.forEach((rule, r) => {
    const leftBlocks = new Map<string, number[]>();
    index(left, rule, `${r}:`, leftBlocks);
    if (!right) {
      for (const members of leftBlocks.values()) {
        if (members.length < 2 || (members.length * (members.length - 1)) / 2 > cap) continue;
        for (let x = 0; x < members.length; x++) {
          for (let y = x + 1; y < members.length; y++) {
            const i = members[x] as number;
            const j = members[y] as number;
            if (i < j) add(i, j);
            else if (j < i) add(j, i);
          }
        }
      }
      return;
    }
    const rightBlocks = new Map<string, number[]>();
    index(right, rule, `${r}:`, rightBlocks);
    for (const [key, members] of leftBlocks) {
      const others = rightBlocks.get(key);
      if (!others || members.length * others.length > cap) continue;
      for (const i of members) for (const j of others) add(i, j);
    }
  });
  const sorted = keys.subarray(0, count).sort();
  let unique = 0;
  for (let k = 0; k < count; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[unique++] = sorted[k] as number;
  const outLeft = new Int32Array(unique);
  const outRight = new Int32Array(unique);
  for (let k = 0; k < unique; k++) {
    const key = sorted[k] as number;
    const i = Math.floor(key / width);
    outLeft[k] = i;
    outRight[k] = key - i * width;
  }
  return { left: outLeft, right: outRight };
}
