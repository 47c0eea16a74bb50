// Cleans raw person records from different agencies into one comparable shape, with the features that
// comparisons need (tokens, phonetic keys, nickname groups, date and postcode parts) computed once.
import { defaultNicknames, type NicknameIndex } from './nicknames.js';
import { phoneticKey } from './strings.js';

export interface PersonAddress {
  streetNumber?: string;
  lines?: string[];
  town?: string;
}

export interface PersonRecord {
  id: string;
  forenames?: string;
  surname?: string;
  previousNames?: string[];
  /** Other whole names the person is known by ("Jay", "Jay Smith", "Smith, Jay"): found by search, not compared when linking. */
  aliases?: string[];
  dob?: string;
  gender?: string;
  postcode?: string;
  address?: PersonAddress;
  identifiers?: Record<string, string>;
}

export type DatePrecision = 'day' | 'month' | 'year' | 'none';

export interface StandardDate {
  /** YYYYMMDD for a full date, YYYYMM or YYYY for a partial one, '' when missing. */
  text: string;
  year: number;
  month: number;
  day: number;
  precision: DatePrecision;
}

export interface StandardPostcode {
  full: string;
  sector: string;
  district: string;
  area: string;
}

/** A name in the form comparisons read. */
export interface StandardName {
  /** First forename, '' when missing. */
  forename: string;
  forenameTokens: string[];
  forenamePhonetic: string;
  forenameGroups: readonly number[];
  /** Surname with its parts joined, so "smith-jones" and "smith jones" agree. */
  surname: string;
  surnameParts: string[];
  surnamePhonetic: string;
}

export interface StandardRecord extends StandardName {
  id: string;
  /** The other names the record gives for the person, each whole (an alias of one word keeps the surname). */
  aliases: StandardName[];
  /** Earlier surnames and their parts, joined the same way. */
  previousSurnames: string[];
  dob: StandardDate;
  gender: string;
  postcode: StandardPostcode;
  streetNumber: string;
  addressLine: string;
  town: string;
  identifiers: Record<string, string>;
  /** The identifiers again as parallel lists, which compare faster than object keys. */
  identifierKeys: string[];
  identifierValues: string[];
}

const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'rev', 'revd', 'lord', 'lady', 'master']);

/** Lower case, accents removed, apostrophes dropped, other punctuation to spaces, titles removed. */
export function nameTokens(raw: string | undefined): string[] {
  if (!raw) return [];
  const text = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2019`]/g, '')
    .replace(/[^a-z]+/g, ' ')
    .trim();
  if (!text) return [];
  return text.split(' ').filter((t) => !TITLES.has(t));
}

const MISSING_DATE: StandardDate = { text: '', year: 0, month: 0, day: 0, precision: 'none' };

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function makeDate(year: number, month: number, day: number): StandardDate {
  if (!(year >= 1850 && year <= 2150)) return MISSING_DATE;
  const y = String(year);
  if (!(month >= 1 && month <= 12)) return { text: y, year, month: 0, day: 0, precision: 'year' };
  const ym = y + String(month).padStart(2, '0');
  if (!(day >= 1 && day <= daysInMonth(year, month))) return { text: ym, year, month, day: 0, precision: 'month' };
  return { text: ym + String(day).padStart(2, '0'), year, month, day, precision: 'day' };
}

/**
 * Dates of birth as YYYYMMDD, YYYY-MM-DD, DD/MM/YYYY (or with dashes or dots), YYYY-MM or YYYY. An
 * impossible day keeps the year and month; an impossible month keeps the year; anything else is missing.
 */
export function standardiseDate(raw: string | undefined): StandardDate {
  if (!raw) return MISSING_DATE;
  const s = raw.trim();
  let m = /^(\d{4})(\d{2})(\d{2})$/.exec(s) ?? /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$/.exec(s);
  if (m) return makeDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(s);
  if (m) return makeDate(Number(m[3]), Number(m[2]), Number(m[1]));
  m = /^(\d{4})[-/.]?(\d{1,2})$/.exec(s) ?? /^(\d{4})$/.exec(s);
  if (m) return makeDate(Number(m[1]), m[2] === undefined ? 0 : Number(m[2]), 0);
  m = /^(\d{1,2})[-/.](\d{4})$/.exec(s);
  if (m) return makeDate(Number(m[2]), Number(m[1]), 0);
  return MISSING_DATE;
}

const UK_POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$/;
const NO_POSTCODE: StandardPostcode = { full: '', sector: '', district: '', area: '' };

/**
 * UK postcodes become "OUTWARD INWARD" with sector (outward + first inward digit), district (outward) and
 * area (leading letters). Anything else (such as a four-digit Australian code) is treated as an opaque
 * string whose shorter prefixes stand in for sector, district and area.
 */
export function standardisePostcode(raw: string | undefined): StandardPostcode {
  if (!raw) return NO_POSTCODE;
  const s = raw.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (!s) return NO_POSTCODE;
  const uk = UK_POSTCODE.exec(s);
  if (uk) {
    const outward = uk[1] as string;
    const inward = uk[2] as string;
    return { full: `${outward} ${inward}`, sector: `${outward} ${inward[0] as string}`, district: outward, area: outward.replace(/[0-9].*$/, '') };
  }
  const n = s.length;
  return { full: s, sector: n > 2 ? s.slice(0, n - 1) : '', district: n > 3 ? s.slice(0, n - 2) : '', area: n > 3 ? s.slice(0, 1) : '' };
}

/** Identifier values compared without spaces, dashes or case. */
export function standardiseIdentifier(raw: string | undefined): string {
  return raw ? raw.toUpperCase().replace(/[\s-]/g, '') : '';
}

/** The modulus 11 check digit of an NHS number's first nine digits; none when it would be 10 (such numbers are never issued). */
export function nhsCheckDigit(nine: string): number | undefined {
  let total = 0;
  for (let i = 0; i < 9; i++) total += Number(nine[i]) * (10 - i);
  const check = 11 - (total % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** NHS numbers: ten digits whose last is the modulus 11 check digit of the first nine. */
export function isValidNhsNumber(raw: string): boolean {
  const s = raw.replace(/\s/g, '');
  return /^\d{10}$/.test(s) && nhsCheckDigit(s) === Number(s[9]);
}

const STREET_WORDS: Record<string, string> = {
  st: 'street',
  rd: 'road',
  ave: 'avenue',
  av: 'avenue',
  ln: 'lane',
  dr: 'drive',
  cres: 'crescent',
  cl: 'close',
  ct: 'court',
  pl: 'place',
  sq: 'square',
  gdns: 'gardens',
  tce: 'terrace',
  pde: 'parade',
  hwy: 'highway',
};

function cleanText(raw: string | undefined): string {
  if (!raw) return '';
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2019`]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function cleanAddressLine(raw: string | undefined): string {
  const text = cleanText(raw);
  return text
    ? text
        .split(' ')
        .map((w) => STREET_WORDS[w] ?? w)
        .join(' ')
    : '';
}

function standardiseGender(raw: string | undefined): string {
  const s = cleanText(raw);
  if (!s) return '';
  if (s === 'm' || s === 'male' || s === 'man') return 'm';
  if (s === 'f' || s === 'female' || s === 'woman') return 'f';
  return s;
}

function standardName(forenames: string | undefined, surname: string | undefined, nicknames: NicknameIndex): StandardName {
  const forenameTokens = nameTokens(forenames);
  const forename = forenameTokens[0] ?? '';
  const surnameParts = nameTokens(surname);
  return {
    forename,
    forenameTokens,
    forenamePhonetic: phoneticKey(forename),
    forenameGroups: nicknames.get(forename) ?? [],
    surname: surnameParts.join(''),
    surnameParts,
    surnamePhonetic: phoneticKey(surnameParts.join('')),
  };
}

/** "Smith, Jay" is surname first; "Jay Smith" ends with the surname; "Jay" alone is a forename. */
function aliasName(alias: string, surname: string | undefined, nicknames: NicknameIndex): StandardName | undefined {
  const comma = alias.indexOf(',');
  if (comma >= 0) return standardName(alias.slice(comma + 1), alias.slice(0, comma), nicknames);
  const words = nameTokens(alias);
  if (words.length === 0) return undefined;
  if (words.length === 1) return standardName(words[0], surname, nicknames);
  return standardName(words.slice(0, -1).join(' '), words[words.length - 1], nicknames);
}

export function standardise(record: PersonRecord, nicknames: NicknameIndex = defaultNicknames()): StandardRecord {
  const name = standardName(record.forenames, record.surname, nicknames);
  const aliases: StandardName[] = [];
  for (const alias of record.aliases ?? []) {
    const other = aliasName(alias, record.surname, nicknames);
    if (other && (other.forename !== name.forename || other.surname !== name.surname)) aliases.push(other);
  }
  const previousSurnames: string[] = [];
  for (const previous of record.previousNames ?? []) {
    const parts = nameTokens(previous);
    if (parts.length === 0) continue;
    previousSurnames.push(parts.join(''));
    if (parts.length > 1) previousSurnames.push(...parts);
  }
  const address = record.address ?? {};
  let streetNumber = cleanText(address.streetNumber).replace(/\s/g, '');
  let addressLine = cleanAddressLine(address.lines?.[0]);
  if (!streetNumber && addressLine) {
    // "12a high street": the leading number is the street number.
    const lead = /^(\d+[a-z]?)\s+(.*)$/.exec(addressLine);
    if (lead) {
      streetNumber = lead[1] as string;
      addressLine = lead[2] as string;
    }
  }
  const identifiers: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.identifiers ?? {})) {
    const v = standardiseIdentifier(value);
    if (v) identifiers[key.toLowerCase()] = v;
  }
  return {
    id: record.id,
    ...name,
    aliases,
    previousSurnames,
    dob: standardiseDate(record.dob),
    gender: standardiseGender(record.gender),
    postcode: standardisePostcode(record.postcode),
    streetNumber,
    addressLine,
    town: cleanText(address.town),
    identifiers,
    identifierKeys: Object.keys(identifiers),
    identifierValues: Object.values(identifiers),
  };
}
