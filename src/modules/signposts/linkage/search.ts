// Finding a person from what an officer knows: any mix of name, date of birth, age, postcode, address and an
// identifier, each possibly mistyped. Candidate records come from inverted indexes over keys that tolerate
// errors (name sounds, nickname groups, names with a letter dropped, previous surnames, swapped day and
// month); the linkage model then scores each candidate over the fields the officer gave and nothing else, so
// a blank field neither helps nor hurts. Hits are grouped by the person each record is linked to.
import { COMPARISONS, compareInto } from './comparisons.js';
import { explainPair, type Explanation } from './explain.js';
import { compile, termFrequencyAdjustment, type LinkageModel } from './model.js';
import { standardise, standardiseIdentifier, type PersonRecord, type StandardRecord } from './standardise.js';
import { phoneticKey, withinOneEdit } from './strings.js';

export interface SearchQuery {
  /** Free text: "Jon Smith" or "Smith, John"; tried in both orders when there is no comma. */
  name?: string;
  forenames?: string;
  surname?: string;
  /** Full or partial: 2014-03-09, 09/03/2014, 2014-03 or 2014. */
  dob?: string;
  /** Age in whole years, inclusive at both ends. */
  ageFrom?: number;
  ageTo?: number;
  /** Full postcode, or only its district ("KT1") or sector ("KT1 2"). */
  postcode?: string;
  /** First address line, such as "12 High Street". */
  address?: string;
  /** NHS number, UPN, NI number or any other identifier, of whatever kind. */
  identifier?: string;
}

export interface SearchHit {
  personId: string;
  /** Probability (0 to 1) that the person is the one sought: that of their best matching record. */
  score: number;
  /** The person's matching records, best first. */
  records: { id: string; probability: number }[];
}

/** One field of a record compared with what was sought. */
export interface FieldAgreement {
  field: string;
  /** For example "Date of birth: exact match". */
  description: string;
  weight: number;
}

export interface SearchOptions {
  /** People returned, best first (25 by default). */
  limit?: number;
}

export interface SearchIndexOptions {
  /** The date ages are worked out at (now by default). */
  today?: Date;
  /** Most candidate records scored per search, those agreeing on more fields first. */
  maxCandidates?: number;
}

const FORENAME = 1;
const SURNAME = 2;
const DOB = 4;
const POSTCODE = 8;
const ADDRESS = 16;
const IDENTIFIER = 32;
/** Which reading of the name (forename first, or surname first) a name key came from. */
const READING = [64, 128];
const READING_BOTH = 192;

/** How much each kind of agreeing key says about a candidate, for choosing which to score first. */
const PRIORITY = new Uint8Array(256);
for (let bits = 0; bits < 256; bits++) {
  const mask = bits & 63;
  PRIORITY[bits] =
    (mask & FORENAME ? 2 : 0) +
    (mask & SURNAME ? 3 : 0) +
    (mask & DOB ? 3 : 0) +
    (mask & POSTCODE ? 2 : 0) +
    (mask & ADDRESS ? 2 : 0) +
    (mask & IDENTIFIER ? 8 : 0);
}

const FIELD = new Map(COMPARISONS.map((c, f) => [c.key, f]));
const field = (key: string): number => FIELD.get(key) ?? -1;
const F_FORENAME = field('forename');
const F_SURNAME = field('surname');
const F_POSTCODE = field('postcode');
const F_IDENTIFIERS = field('identifiers');
const POSTCODE_LEVELS = COMPARISONS[F_POSTCODE]?.levels.map((l) => l.key) ?? [];
const IDENTIFIER_LEVELS = COMPARISONS[F_IDENTIFIERS]?.levels.map((l) => l.key) ?? [];
const level = (keys: readonly string[], key: string): number => keys.indexOf(key);

/** The record ids under one key; a key held by one record keeps just its slot number. */
interface Posting {
  slots: Int32Array;
  length: number;
}

/** A name with each letter dropped in turn (and itself): two names one edit apart share one of these. */
function withOneLetterDropped(name: string, into: string[], prefix: string): string[] {
  into.push(prefix + name);
  if (name.length < 4) return into;
  for (let i = 0; i < name.length; i++) {
    // Doubled letters give the same result twice.
    if (i > 0 && name.charCodeAt(i) === name.charCodeAt(i - 1)) continue;
    into.push(prefix + name.slice(0, i) + name.slice(i + 1));
  }
  return into;
}

function forenameKeys(record: StandardRecord): string[] {
  const keys: string[] = [];
  if (!record.forename) return keys;
  withOneLetterDropped(record.forename, keys, 'F');
  if (record.forenamePhonetic) keys.push('f' + record.forenamePhonetic);
  for (const g of record.forenameGroups) keys.push('g' + String(g));
  return keys;
}

function surnameKeys(record: StandardRecord): string[] {
  const keys: string[] = [];
  if (record.surname) {
    withOneLetterDropped(record.surname, keys, 'S');
    if (record.surnamePhonetic) keys.push('s' + record.surnamePhonetic);
    // Either part of a double-barrelled surname finds it.
    if (record.surnameParts.length > 1) for (const part of record.surnameParts) if (part.length > 1) keys.push('S' + part, 's' + phoneticKey(part));
  }
  for (const previous of record.previousSurnames) {
    keys.push('S' + previous);
    const sound = phoneticKey(previous);
    if (sound) keys.push('s' + sound);
  }
  return keys;
}

function swappedDate(text: string): string {
  return text.slice(0, 4) + text.slice(6, 8) + text.slice(4, 6);
}

/** Every key a record is indexed under, each starting with a letter naming its kind. */
function recordKeys(record: StandardRecord, names: Map<string, string[]>): string[] {
  const keys: string[] = [];
  const cached = (tag: string, value: string, make: () => string[]): void => {
    if (!value) return;
    const k = tag + value;
    let list = names.get(k);
    if (!list) names.set(k, (list = make()));
    for (const x of list) keys.push(x);
  };
  cached('f', record.forename + '|' + record.forenameGroups.join(','), () => forenameKeys(record));
  if (record.previousSurnames.length === 0) cached('s', record.surnameParts.join(' '), () => surnameKeys(record));
  else for (const k of surnameKeys(record)) keys.push(k);
  const dob = record.dob;
  if (dob.precision === 'day') keys.push('d' + dob.text);
  if (dob.month) keys.push('m' + dob.text.slice(0, 6));
  if (dob.year) keys.push('y' + String(dob.year));
  if (record.postcode.full) keys.push('p' + record.postcode.full);
  if (record.postcode.sector) keys.push('q' + record.postcode.sector);
  if (record.postcode.district) keys.push('o' + record.postcode.district);
  if (record.addressLine) keys.push(record.streetNumber ? 'n' + record.streetNumber + '|' + record.addressLine : 'a' + record.addressLine);
  for (const value of record.identifierValues) keys.push('i' + value);
  // A key produced twice is indexed twice, which searching and removal both allow for.
  return keys;
}

const OUTWARD = /^([A-Z]{1,2}[0-9][A-Z0-9]?)$/;
// "KT1 2" is a sector but "KT12" a district, so a sector needs its space.
const SECTOR = /^([A-Z]{1,2}[0-9][A-Z0-9]?)\s+([0-9])[A-Z]?$/;
const IDENTIFIER_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Identifiers one insertion, deletion, substitution or adjacent transposition away. */
function identifierNeighbours(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= value.length; i++) {
    const head = value.slice(0, i);
    for (const c of IDENTIFIER_ALPHABET) out.push(head + c + value.slice(i));
    if (i === value.length) break;
    const tail = value.slice(i + 1);
    out.push(head + tail);
    for (const c of IDENTIFIER_ALPHABET) if (c !== value[i]) out.push(head + c + tail);
    if (i + 1 < value.length) out.push(head + (value[i + 1] as string) + (value[i] as string) + value.slice(i + 2));
  }
  return out;
}

interface PreparedQuery {
  /** One partial record per reading of the name (forename first, surname first). */
  readings: StandardRecord[];
  identifier: string;
  /** A postcode given only as far as its district or sector. */
  district: string;
  sector: string;
  ageFrom: number;
  ageTo: number;
}

function splitName(text: string): { forenames?: string; surname?: string }[] {
  const comma = text.indexOf(',');
  if (comma >= 0) return [{ surname: text.slice(0, comma), forenames: text.slice(comma + 1) }];
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  if (words.length === 1) return [{ surname: words[0] }, { forenames: words[0] }];
  return [
    { forenames: words.slice(0, -1).join(' '), surname: words[words.length - 1] },
    { surname: words[0], forenames: words.slice(1).join(' ') },
  ];
}

/** True when the query names something specific enough to search on: an age range alone is not. */
export function isSearchable(query: SearchQuery): boolean {
  return [query.name, query.forenames, query.surname, query.dob, query.postcode, query.address, query.identifier].some(
    (v) => v !== undefined && v.trim() !== '',
  );
}

function addressParts(text: string): PersonRecord['address'] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return { lines: parts.slice(0, 1), town: parts.length > 1 ? parts[parts.length - 1] : undefined };
}

function prepareQuery(query: SearchQuery): PreparedQuery {
  const names = query.forenames || query.surname ? [{ forenames: query.forenames, surname: query.surname }] : query.name ? splitName(query.name) : [];
  const postcodeText = (query.postcode ?? '').toUpperCase().trim();
  const sector = SECTOR.exec(postcodeText);
  const outward = OUTWARD.exec(postcodeText.replace(/[^A-Z0-9]/g, ''));
  const partialPostcode = sector !== null || outward !== null;
  const base: PersonRecord = {
    id: '',
    dob: query.dob,
    postcode: partialPostcode ? undefined : query.postcode,
    // "14 Acacia Avenue, Kingston": the first line, and the last part as the town.
    address: query.address ? addressParts(query.address) : undefined,
  };
  const readings = (names.length > 0 ? names : [{}]).map((n) => standardise({ ...base, ...n }));
  return {
    readings,
    identifier: standardiseIdentifier(query.identifier),
    district: (sector?.[1] ?? outward?.[1]) || '',
    sector: sector ? `${sector[1] as string} ${sector[2] as string}` : '',
    ageFrom: query.ageFrom ?? -Infinity,
    ageTo: query.ageTo ?? Infinity,
  };
}

/**
 * An in-memory index of standardised records, each with the person it is linked to, kept up to date as
 * records arrive or are re-linked.
 */
export class SearchIndex {
  private model: LinkageModel;
  private readonly today: Date;
  private readonly maxCandidates: number;
  private records: (StandardRecord | undefined)[] = [];
  private people: string[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  /** Extra slots holding a record under each of its aliases, by record id: the same record, known by another name. */
  private readonly aliasSlots = new Map<string, number[]>();
  private readonly postings = new Map<string, number | Posting>();
  /** Keys derived from a name, shared by every record with that name. */
  private readonly nameKeys = new Map<string, string[]>();
  // Per-search scratch, reused: a search stamp per slot instead of clearing arrays between searches.
  private stamp = new Uint32Array(0);
  private mask = new Uint8Array(0);
  private touched = new Int32Array(1024);
  private searches = 0;
  private readonly levels = new Uint8Array(COMPARISONS.length);

  constructor(model: LinkageModel, options: SearchIndexOptions = {}) {
    this.model = model;
    this.today = options.today ?? new Date();
    this.maxCandidates = options.maxCandidates ?? 1000;
  }

  /** Scores later searches with another model, such as one retrained on more records. */
  setModel(model: LinkageModel): void {
    compile(model);
    this.model = model;
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Adds records, or replaces those already held with the same id (with a new person, say). */
  upsert(records: readonly { record: StandardRecord | PersonRecord; personId: string }[]): void {
    for (const { record, personId } of records) {
      const standard = 'surnameParts' in record ? record : standardise(record);
      this.removeAliases(standard.id);
      let slot = this.slotOf.get(standard.id);
      if (slot !== undefined) this.unindex(slot);
      else {
        slot = this.freeSlots.pop() ?? this.records.length;
        this.slotOf.set(standard.id, slot);
      }
      this.fill(slot, standard, personId);
      if (standard.aliases.length === 0) continue;
      const extra: number[] = [];
      for (const alias of standard.aliases) {
        const aliasSlot = this.freeSlots.pop() ?? this.records.length;
        this.fill(aliasSlot, { ...standard, ...alias }, personId);
        extra.push(aliasSlot);
      }
      this.aliasSlots.set(standard.id, extra);
    }
  }

  private fill(slot: number, record: StandardRecord, personId: string): void {
    this.records[slot] = record;
    this.people[slot] = personId;
    for (const key of recordKeys(record, this.nameKeys)) this.addPosting(key, slot);
  }

  private free(slot: number): void {
    this.unindex(slot);
    this.records[slot] = undefined;
    this.people[slot] = '';
    this.freeSlots.push(slot);
  }

  private removeAliases(id: string): void {
    for (const slot of this.aliasSlots.get(id) ?? []) this.free(slot);
    this.aliasSlots.delete(id);
  }

  remove(recordIds: readonly string[]): void {
    for (const id of recordIds) {
      const slot = this.slotOf.get(id);
      if (slot === undefined) continue;
      this.removeAliases(id);
      this.free(slot);
      this.slotOf.delete(id);
    }
  }

  private addPosting(key: string, slot: number): void {
    const found = this.postings.get(key);
    if (found === undefined) this.postings.set(key, slot);
    else if (typeof found === 'number') {
      const slots = new Int32Array(4);
      slots[0] = found;
      slots[1] = slot;
      this.postings.set(key, { slots, length: 2 });
    } else {
      if (found.length === found.slots.length) {
        const grown = new Int32Array(found.slots.length * 2);
        grown.set(found.slots);
        found.slots = grown;
      }
      found.slots[found.length++] = slot;
    }
  }

  private unindex(slot: number): void {
    const record = this.records[slot];
    if (!record) return;
    for (const key of recordKeys(record, this.nameKeys)) {
      const found = this.postings.get(key);
      if (found === undefined) continue;
      if (typeof found === 'number') {
        if (found === slot) this.postings.delete(key);
        continue;
      }
      const at = found.slots.subarray(0, found.length).indexOf(slot);
      if (at < 0) continue;
      found.slots[at] = found.slots[--found.length] as number;
      if (found.length === 1) this.postings.set(key, found.slots[0] as number);
    }
  }

  /** People who may be the one described, best first; nothing when the query names nothing specific. */
  search(query: SearchQuery, options: SearchOptions = {}): SearchHit[] {
    if (!isSearchable(query)) return [];
    const q = prepareQuery(query);
    const lookups = new Map<string, number>();
    const add = (key: string, bit: number): void => {
      lookups.set(key, (lookups.get(key) ?? 0) | bit);
    };
    q.readings.forEach((r, i) => {
      const reading = READING[i] ?? 0;
      for (const k of forenameKeys(r)) add(k, FORENAME | reading);
      for (const k of surnameKeys(r)) add(k, SURNAME | reading);
      if (q.readings.length === 1) {
        // Records with forename and surname the other way round.
        if (r.forename) for (const k of withOneLetterDropped(r.forename, [], 'S')) add(k, SURNAME);
        if (r.forenamePhonetic) add('s' + r.forenamePhonetic, SURNAME);
        if (r.surname) for (const k of withOneLetterDropped(r.surname, [], 'F')) add(k, FORENAME);
        if (r.surnamePhonetic) add('f' + r.surnamePhonetic, FORENAME);
      }
      if (r.dob.precision === 'day') {
        add('d' + r.dob.text, DOB);
        add('d' + swappedDate(r.dob.text), DOB);
      } else if (r.dob.precision === 'month') add('m' + r.dob.text, DOB);
      else if (r.dob.precision === 'year') add('y' + r.dob.text, DOB);
      if (r.postcode.full) {
        add('p' + r.postcode.full, POSTCODE);
        if (r.postcode.sector) add('q' + r.postcode.sector, POSTCODE);
      }
      if (r.addressLine) add(r.streetNumber ? 'n' + r.streetNumber + '|' + r.addressLine : 'a' + r.addressLine, ADDRESS);
    });
    if (q.sector) add('q' + q.sector, POSTCODE);
    else if (q.district) add('o' + q.district, POSTCODE);
    if (q.identifier) {
      add('i' + q.identifier, IDENTIFIER);
      // A mistyped identifier on its own still finds its record.
      if (!this.postings.has('i' + q.identifier)) for (const k of identifierNeighbours(q.identifier)) add('i' + k, IDENTIFIER);
    }
    const candidates = this.gather(lookups);
    const scored = this.score(candidates, q);
    return this.group(scored, options.limit ?? 25);
  }

  /**
   * How a record compares with what was sought, field by field, under whichever of its names and
   * readings of the query agree best; fields missing from either side are left out.
   */
  agreement(query: SearchQuery, recordId: string): FieldAgreement[] {
    const slot = this.slotOf.get(recordId);
    if (slot === undefined) return [];
    const q = prepareQuery(query);
    let best: Explanation | undefined;
    for (const s of [slot, ...(this.aliasSlots.get(recordId) ?? [])]) {
      const record = this.records[s];
      if (!record) continue;
      for (const reading of q.readings) {
        const explained = explainPair(this.model, reading, record);
        if (!best || explained.totalWeight > best.totalWeight) best = explained;
      }
    }
    return (best?.fields ?? []).filter((f) => f.level !== 'null').map((f) => ({ field: f.field, description: f.description, weight: f.weight }));
  }

  /** Slots hit by the lookups, those agreeing on more (and weightier) fields first, up to the cap. */
  private gather(lookups: ReadonlyMap<string, number>): Int32Array {
    const capacity = this.records.length;
    if (this.stamp.length < capacity) {
      this.stamp = new Uint32Array(Math.max(1024, capacity * 1.5));
      this.mask = new Uint8Array(this.stamp.length);
      this.searches = 0;
    }
    if (this.searches === 0xffffffff) {
      this.stamp.fill(0);
      this.searches = 0;
    }
    const searchNo = ++this.searches;
    const stamp = this.stamp;
    const mask = this.mask;
    let count = 0;
    // Narrow keys first, so that once enough candidates are in hand a very broad key adds nothing new.
    const sized = [...lookups]
      .map(([key, bit]) => {
        const found = this.postings.get(key);
        return { bit, found, length: found === undefined ? 0 : typeof found === 'number' ? 1 : found.length };
      })
      .filter((l) => l.length > 0)
      .sort((a, b) => a.length - b.length);
    const broad = this.maxCandidates * 8;
    for (const { bit, found, length } of sized) {
      if (found === undefined) continue;
      const slots = typeof found === 'number' ? undefined : found.slots;
      if (length > broad && count >= this.maxCandidates) {
        // Only mark candidates already found, rather than adding the whole of a common key.
        for (let k = 0; k < length; k++) {
          const s = slots ? (slots[k] as number) : (found as number);
          if (stamp[s] === searchNo) mask[s] = (mask[s] as number) | bit;
        }
        continue;
      }
      if (count + length > this.touched.length) {
        const grown = new Int32Array(Math.max(this.touched.length * 2, count + length));
        grown.set(this.touched.subarray(0, count));
        this.touched = grown;
      }
      for (let k = 0; k < length; k++) {
        const s = slots ? (slots[k] as number) : (found as number);
        if (stamp[s] !== searchNo) {
          stamp[s] = searchNo;
          mask[s] = bit;
          this.touched[count++] = s;
        } else mask[s] = (mask[s] as number) | bit;
      }
    }
    if (count <= this.maxCandidates) return this.touched.subarray(0, count);
    // Counting sort by priority, highest first, keeping the first maxCandidates.
    const buckets = new Int32Array(32);
    for (let k = 0; k < count; k++) (buckets[PRIORITY[mask[this.touched[k] as number] as number] as number] as number)++;
    let remaining = this.maxCandidates;
    let floor = 31;
    for (; floor > 0 && remaining > (buckets[floor] as number); floor--) remaining -= buckets[floor] as number;
    const out = new Int32Array(this.maxCandidates);
    let n = 0;
    for (let k = 0; k < count && n < this.maxCandidates; k++) {
      const s = this.touched[k] as number;
      const p = PRIORITY[mask[s] as number] as number;
      if (p > floor) out[n++] = s;
    }
    for (let k = 0; k < count && n < this.maxCandidates; k++) {
      const s = this.touched[k] as number;
      if (PRIORITY[mask[s] as number] === floor) out[n++] = s;
    }
    return out.subarray(0, n);
  }

  /** Whether the record's date of birth allows an age in the query's range (none does when it has no date). */
  private withinAge(record: StandardRecord, q: PreparedQuery): boolean {
    if (q.ageFrom === -Infinity && q.ageTo === Infinity) return true;
    const dob = record.dob;
    if (!dob.year) return false;
    const years = this.today.getUTCFullYear() - dob.year;
    const month = this.today.getUTCMonth() + 1;
    let youngest = years - 1;
    let oldest = years;
    // A known month (and day) settles whether this year's birthday has passed.
    if (dob.month && month !== dob.month) youngest = oldest = month > dob.month ? years : years - 1;
    else if (dob.month && dob.day) youngest = oldest = this.today.getUTCDate() >= dob.day ? years : years - 1;
    return oldest >= q.ageFrom && youngest <= q.ageTo;
  }

  /** Each candidate's probability over the fields the query gives, taking its best reading of the name. */
  private score(candidates: Int32Array, q: PreparedQuery): { slot: number; probability: number }[] {
    const cm = compile(this.model);
    const levels = this.levels;
    const c = COMPARISONS.length;
    const postcodeWeights = cm.weights[F_POSTCODE] as Float64Array;
    const identifierWeights = cm.weights[F_IDENTIFIERS] as Float64Array;
    const out: { slot: number; probability: number }[] = [];
    for (let k = 0; k < candidates.length; k++) {
      const slot = candidates[k] as number;
      const record = this.records[slot];
      if (!record || !this.withinAge(record, q)) continue;
      let extra = 0;
      if (q.district && record.postcode.full) {
        // Only part of a postcode: agreement to the sector or district it names.
        const l = q.sector && record.postcode.sector === q.sector ? 'sector' : record.postcode.district === q.district ? 'district' : 'else';
        extra += postcodeWeights[level(POSTCODE_LEVELS, l)] ?? 0;
      }
      if (q.identifier && record.identifierValues.length > 0) {
        let l = 'else';
        for (const v of record.identifierValues) {
          if (v === q.identifier) {
            l = 'exact';
            break;
          }
          if (withinOneEdit(v, q.identifier)) l = 'typo';
        }
        extra += identifierWeights[level(IDENTIFIER_LEVELS, l)] ?? 0;
      }
      let best = -Infinity;
      // Each reading of the name that found the record by name (the first when none did).
      const bits = (this.mask[slot] as number) & READING_BOTH;
      for (let i = 0; i < q.readings.length; i++) {
        if (bits === 0 ? i > 0 : (bits & (READING[i] as number)) === 0) continue;
        const reading = q.readings[i] as StandardRecord;
        compareInto(reading, record, levels, 0);
        let w = cm.priorWeight + extra;
        for (let f = 0; f < c; f++) {
          const l = levels[f] as number;
          if (l === 0) continue;
          w += (cm.weights[f] as Float64Array)[l] as number;
          if (l === 1) {
            if (f === F_FORENAME) w += termFrequencyAdjustment(cm, f, reading.forename);
            else if (f === F_SURNAME) w += termFrequencyAdjustment(cm, f, reading.surname);
          }
        }
        if (w > best) best = w;
      }
      const odds = Math.pow(2, best);
      out.push({ slot, probability: odds === Infinity ? 1 : odds / (1 + odds) });
    }
    return out;
  }

  private group(scored: { slot: number; probability: number }[], limit: number): SearchHit[] {
    scored.sort((a, b) => b.probability - a.probability);
    const byPerson = new Map<string, SearchHit>();
    for (const { slot, probability } of scored) {
      const personId = this.people[slot] as string;
      const record = this.records[slot] as StandardRecord;
      const hit = byPerson.get(personId);
      // A record found by its own name and by an alias counts once, at its better score (met first).
      if (hit) {
        if (!hit.records.some((r) => r.id === record.id)) hit.records.push({ id: record.id, probability });
      } else {
        if (byPerson.size >= limit) continue;
        byPerson.set(personId, { personId, score: probability, records: [{ id: record.id, probability }] });
      }
    }
    return [...byPerson.values()];
  }
}
