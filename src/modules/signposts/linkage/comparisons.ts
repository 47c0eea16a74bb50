// Comparison levels per field. Each comparison returns a level index: 0 when either side is missing
// (contributing nothing), then levels from the closest agreement down to "else"; a neutral level after
// "else" contributes nothing either, for evidence another comparison has already counted.
import { shareGroup } from './nicknames.js';
import type { StandardRecord } from './standardise.js';
import { hammingDistance, jaroWinkler, withinOneEdit } from './strings.js';

export interface LevelDefinition {
  key: string;
  /** Words for an explanation, completing "<field>: ...". */
  label: string;
  /** Evidence already counted by another comparison: weighs nothing either way, like a missing value. */
  neutral?: boolean;
}

export interface ComparisonDefinition {
  key: string;
  label: string;
  levels: readonly LevelDefinition[];
  /** Field whose value frequency adjusts the weight of the exact level. */
  termFrequency?: 'forename' | 'surname';
  compare(a: StandardRecord, b: StandardRecord): number;
}

const NULL_LEVEL: LevelDefinition = { key: 'null', label: 'missing on one or both records', neutral: true };

function levels(...defs: [string, string][]): LevelDefinition[] {
  return [NULL_LEVEL, ...defs.map(([key, label]) => ({ key, label }))];
}

function namesSwapped(a: StandardRecord, b: StandardRecord): boolean {
  return (
    a.forename !== '' &&
    a.surname !== '' &&
    b.forename !== '' &&
    b.surname !== '' &&
    a.forename !== b.forename &&
    // Cheap first-letter test before the string measures; swaps with a mistyped first letter are missed.
    a.forename.charCodeAt(0) === b.surname.charCodeAt(0) &&
    a.surname.charCodeAt(0) === b.forename.charCodeAt(0) &&
    jaroWinkler(a.forename, b.surname, 0.92) >= 0.92 &&
    jaroWinkler(a.surname, b.forename, 0.92) >= 0.92
  );
}

/** One name is the start of the other and at least three letters long: "ros" and "rosalind". */
function shortened(x: string, y: string): boolean {
  return x.length < y.length ? x.length >= 3 && y.startsWith(x) : y.length >= 3 && x.startsWith(y);
}

function otherForenameMatches(a: StandardRecord, b: StandardRecord): boolean {
  if (a.forenameTokens.length < 2 && b.forenameTokens.length < 2) return false;
  for (const x of a.forenameTokens) for (const y of b.forenameTokens) if (x === y && x.length > 1) return true;
  return false;
}

const forename: ComparisonDefinition = {
  key: 'forename',
  label: 'Forename',
  termFrequency: 'forename',
  levels: levels(
    ['exact', 'exact match'],
    ['nickname', 'nickname, spelling variant or shortened form'],
    ['swapped', "matches the other record's surname (names swapped)"],
    ['jw92', 'very similar spelling'],
    ['jw88', 'similar spelling'],
    ['other', 'a middle name matches'],
    ['phonetic', 'sounds the same'],
    ['else', 'different'],
  ),
  compare(a, b) {
    const x = a.forename;
    const y = b.forename;
    if (!x || !y) return 0;
    if (x === y) return 1;
    if (shareGroup(a.forenameGroups, b.forenameGroups) || shortened(x, y)) return 2;
    if (namesSwapped(a, b)) return 3;
    const jw = jaroWinkler(x, y, 0.88);
    if (jw >= 0.92) return 4;
    if (jw >= 0.88) return 5;
    if (otherForenameMatches(a, b)) return 6;
    if (a.forenamePhonetic !== '' && a.forenamePhonetic === b.forenamePhonetic) return 7;
    return 8;
  },
};

function surnamePartOrPrevious(a: StandardRecord, b: StandardRecord): boolean {
  if (a.previousSurnames.length === 0 && b.previousSurnames.length === 0 && a.surnameParts.length < 2 && b.surnameParts.length < 2) return false;
  if (a.previousSurnames.includes(b.surname) || b.previousSurnames.includes(a.surname)) return true;
  for (const p of a.previousSurnames) if (b.previousSurnames.includes(p)) return true;
  if (a.surnameParts.length > 1 || b.surnameParts.length > 1) {
    for (const x of a.surnameParts) for (const y of b.surnameParts) if (x === y && x.length > 1) return true;
  }
  return false;
}

const surname: ComparisonDefinition = {
  key: 'surname',
  label: 'Surname',
  termFrequency: 'surname',
  // Swapped names are one fact, weighed under forename: counting it here too would count it twice.
  levels: levels(
    ['exact', 'exact match'],
    ['swapped', "matches the other record's forename (names swapped, counted under forename)"],
    ['jw92', 'very similar spelling'],
    ['jw88', 'similar spelling'],
    ['previous', 'matches a previous surname or part of a double-barrelled surname'],
    ['phonetic', 'sounds the same'],
    ['else', 'different'],
  ).map((level) => (level.key === 'swapped' ? { ...level, neutral: true } : level)),
  compare(a, b) {
    const x = a.surname;
    const y = b.surname;
    if (!x || !y) {
      if ((x && b.previousSurnames.includes(x)) || (y && a.previousSurnames.includes(y))) return 5;
      return 0;
    }
    if (x === y) return 1;
    if (namesSwapped(a, b)) return 2;
    const jw = jaroWinkler(x, y, 0.88);
    if (jw >= 0.92) return 3;
    if (jw >= 0.88) return 4;
    if (surnamePartOrPrevious(a, b)) return 5;
    if (a.surnamePhonetic !== '' && a.surnamePhonetic === b.surnamePhonetic) return 6;
    return 7;
  },
};

const dateOfBirth: ComparisonDefinition = {
  key: 'dob',
  label: 'Date of birth',
  levels: levels(
    ['exact', 'exact match'],
    ['typo', 'one character different'],
    ['swapped', 'day and month swapped'],
    ['typo2', 'two characters different'],
    ['month', 'same year and month'],
    ['year', 'same year'],
    ['year1', 'within a year'],
    ['else', 'different'],
  ),
  compare(a, b) {
    const x = a.dob;
    const y = b.dob;
    if (x.precision === 'none' || y.precision === 'none') return 0;
    if (x.precision === 'day' && y.precision === 'day') {
      if (x.text === y.text) return 1;
      if (withinOneEdit(x.text, y.text)) return 2;
      if (x.year === y.year && x.day === y.month && x.month === y.day) return 3;
      if (hammingDistance(x.text, y.text) === 2) return 4;
    }
    // Partial dates agree at most to the precision both sides have.
    if (x.year === y.year) return x.month !== 0 && x.month === y.month ? 5 : 6;
    if (Math.abs(x.year - y.year) <= 1) return 7;
    return 8;
  },
};

const postcode: ComparisonDefinition = {
  key: 'postcode',
  label: 'Postcode',
  levels: levels(
    ['exact', 'exact match'],
    ['sector', 'same sector'],
    ['typo', 'one character different'],
    ['district', 'same district'],
    ['area', 'same area'],
    ['else', 'different'],
  ),
  compare(a, b) {
    const x = a.postcode;
    const y = b.postcode;
    if (!x.full || !y.full) return 0;
    if (x.full === y.full) return 1;
    if (x.sector !== '' && x.sector === y.sector) return 2;
    if (withinOneEdit(x.full, y.full)) return 3;
    if (x.district !== '' && x.district === y.district) return 4;
    if (x.area !== '' && x.area === y.area) return 5;
    return 6;
  },
};

const address: ComparisonDefinition = {
  key: 'address',
  label: 'Address',
  levels: levels(
    ['exact', 'same street number and street'],
    ['similar', 'same street number, similar street'],
    ['street', 'same street, different or missing number'],
    ['number', 'same street number only'],
    ['else', 'different'],
  ).concat({ key: 'moved', label: 'different, in another postcode (counted under postcode)', neutral: true }),
  compare(a, b) {
    const lineA = a.addressLine;
    const lineB = b.addressLine;
    const numberA = a.streetNumber;
    const numberB = b.streetNumber;
    const haveLines = lineA !== '' && lineB !== '';
    const haveNumbers = numberA !== '' && numberB !== '';
    if (!haveLines && !haveNumbers) return 0;
    const sameNumber = haveNumbers && numberA === numberB;
    const jw = haveLines ? jaroWinkler(lineA, lineB, sameNumber ? 0.85 : 0.92) : 0;
    if (sameNumber && jw >= 0.95) return 1;
    if (sameNumber && jw >= 0.85) return 2;
    if (jw >= 0.92) return 3;
    if (sameNumber) return 4;
    // A different address in a different postcode is one fact, a move, which the postcode has weighed.
    const postcodeA = a.postcode.district;
    const postcodeB = b.postcode.district;
    return postcodeA !== '' && postcodeB !== '' && postcodeA !== postcodeB ? 6 : 5;
  },
};

const town: ComparisonDefinition = {
  key: 'town',
  label: 'Town',
  levels: levels(['exact', 'exact match'], ['similar', 'similar spelling'], ['else', 'different']),
  compare(a, b) {
    if (!a.town || !b.town) return 0;
    if (a.town === b.town) return 1;
    return jaroWinkler(a.town, b.town, 0.9) >= 0.9 ? 2 : 3;
  },
};

const identifiers: ComparisonDefinition = {
  key: 'identifiers',
  label: 'Identifier',
  levels: levels(['exact', 'exact match'], ['typo', 'one character different'], ['else', 'different']),
  compare(a, b) {
    let best = 0;
    const keysA = a.identifierKeys;
    const keysB = b.identifierKeys;
    if (keysA.length === 0 || keysB.length === 0) return 0;
    for (let i = 0; i < keysA.length; i++) {
      const j = keysB.indexOf(keysA[i] as string);
      if (j < 0) continue;
      const x = a.identifierValues[i] as string;
      const y = b.identifierValues[j] as string;
      if (x === y) return 1;
      const level = withinOneEdit(x, y) ? 2 : 3;
      if (best === 0 || level < best) best = level;
    }
    return best;
  },
};

const gender: ComparisonDefinition = {
  key: 'gender',
  label: 'Gender',
  levels: levels(['exact', 'same'], ['else', 'different']),
  compare(a, b) {
    if (!a.gender || !b.gender) return 0;
    return a.gender === b.gender ? 1 : 2;
  },
};

export const COMPARISONS: readonly ComparisonDefinition[] = [forename, surname, dateOfBirth, postcode, address, town, identifiers, gender];

export const comparisonByKey = new Map(COMPARISONS.map((c) => [c.key, c]));

export function comparisonNamed(key: string): ComparisonDefinition {
  const found = comparisonByKey.get(key);
  if (!found) throw new Error(`No comparison named ${key}`);
  return found;
}

/**
 * Writes every comparison's level for one pair into `out` at `offset`. Calling each comparison directly
 * keeps the call sites monomorphic, which matters when scoring millions of pairs.
 */
export function compareInto(a: StandardRecord, b: StandardRecord, out: Uint8Array, offset: number): void {
  out[offset] = forename.compare(a, b);
  out[offset + 1] = surname.compare(a, b);
  out[offset + 2] = dateOfBirth.compare(a, b);
  out[offset + 3] = postcode.compare(a, b);
  out[offset + 4] = address.compare(a, b);
  out[offset + 5] = town.compare(a, b);
  out[offset + 6] = identifiers.compare(a, b);
  out[offset + 7] = gender.compare(a, b);
}
