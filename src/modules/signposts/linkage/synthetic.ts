// Made-up residents with known duplicates, for tests and demonstrations of the linkage without real data.
import { seededRandom } from './model.js';
import type { PersonRecord } from './standardise.js';

const FORENAMES = [
  'william',
  'margaret',
  'john',
  'mary',
  'james',
  'catherine',
  'edward',
  'elizabeth',
  'thomas',
  'sarah',
  'henry',
  'alice',
  'george',
  'olivia',
  'oliver',
  'amelia',
  'jacob',
  'isla',
  'noah',
  'ava',
  'harry',
  'emily',
  'charlie',
  'sophia',
  'leo',
  'grace',
  'oscar',
  'freya',
  'arthur',
  'ella',
  'mohammed',
  'fatima',
  'yusuf',
  'aisha',
  'daniel',
  'chloe',
  'samuel',
  'lucy',
  'joseph',
  'hannah',
];
const SURNAMES = [
  'smith',
  'jones',
  'taylor',
  'brown',
  'williams',
  'wilson',
  'johnson',
  'davies',
  'robinson',
  'wright',
  'thompson',
  'evans',
  'walker',
  'white',
  'roberts',
  'green',
  'hall',
  'wood',
  'jackson',
  'clarke',
  'patel',
  'khan',
  'lewis',
  'james',
  'phillips',
  'mason',
  'mitchell',
  'rose',
  'davis',
  'rodriguez',
  'cox',
  'alexander',
  'morgan',
  'moore',
  'hughes',
  'harris',
  'ahmed',
  'begum',
  'hussain',
  'ali',
  'okafor',
  'nowak',
  'kowalski',
  'murphy',
  'kelly',
  'oconnor',
  'fitzgerald',
  'macdonald',
  'campbell',
  'stewart',
];
const SHORT_FORMS: Record<string, string> = {
  william: 'bill',
  margaret: 'peggy',
  john: 'jack',
  james: 'jim',
  catherine: 'kate',
  edward: 'ted',
  elizabeth: 'liz',
  thomas: 'tom',
  henry: 'harry',
  samuel: 'sam',
  daniel: 'dan',
  joseph: 'joe',
  mohammed: 'muhammad',
  yusuf: 'yousef',
};
const STREETS = [
  'high street',
  'church road',
  'station road',
  'victoria road',
  'park avenue',
  'mill lane',
  'queens road',
  'london road',
  'kings close',
  'the green',
];
const TOWNS = ['ashford', 'bexley', 'crawley', 'dartford', 'epsom', 'farnham', 'guildford', 'horsham'];

export interface SyntheticOptions {
  people?: number;
  /** Share of people with one or more further records. */
  duplicateShare?: number;
  seed?: number;
  /**
   * Made-up forenames and surnames added to the common ones, for populations of hundreds of thousands where
   * a few dozen names would put far more people in each name than any real borough has.
   */
  extraNames?: number;
  /** Postcode districts per area (20 by default); more spreads a large population over more streets. */
  districts?: number;
}

const ONSETS = 'b br c ch cl d dr f g gr h j k l m n p pr r s sh st t th tr v w y z'.split(' ');
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ou', 'ee', 'ay'];
const SURNAME_ENDINGS = ['n', 'r', 's', 'th', 'll', 'ck', 'rd', 'ton', 'ley', 'son', 'well', 'ford', 'by', 'ham', 'field', 'wood', 'er', 'man', 'worth', 'ing'];
const FORENAME_ENDINGS = ['a', 'ie', 'y', 'en', 'el', 'on', 'ah', 'ine', 'ia', 'o', 'an', 'er', 'is', 'ette', 'us'];

/** Distinct pronounceable names, always the same for the same count. */
function madeUpNames(count: number, endings: readonly string[], existing: readonly string[], seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const seen = new Set(existing);
  const names: string[] = [];
  for (let tries = 0; names.length < count && tries < count * 50; tries++) {
    const syllables = 1 + Math.floor(random() * 2);
    let name = '';
    for (let s = 0; s < syllables; s++) name += pick(ONSETS) + pick(VOWELS);
    name += pick(endings);
    if (seen.has(name)) continue;
    seen.add(name);
    names.push(name);
  }
  return names;
}

function typo(text: string | undefined, random: () => number): string | undefined {
  if (text === undefined || text.length < 3) return text;
  const i = 1 + Math.floor(random() * (text.length - 2));
  const kind = Math.floor(random() * 3);
  if (kind === 0) return text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
  if (kind === 1) return text.slice(0, i) + text.slice(i + 1);
  return text.slice(0, i) + 'aeiou'[Math.floor(random() * 5)] + text.slice(i + 1);
}

/** People as records whose id is "p<person>-<copy>"; copies after the first carry realistic errors. */
export function syntheticResidents(options: SyntheticOptions = {}): PersonRecord[] {
  const random = seededRandom(options.seed ?? 7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const records: PersonRecord[] = [];
  const people = options.people ?? 400;
  const extra = options.extraNames ?? 0;
  const forenameList = extra > 0 ? FORENAMES.concat(madeUpNames(extra, FORENAME_ENDINGS, FORENAMES, 101)) : FORENAMES;
  const surnameList = extra > 0 ? SURNAMES.concat(madeUpNames(extra, SURNAME_ENDINGS, SURNAMES, 202)) : SURNAMES;
  const districts = options.districts ?? 20;
  for (let p = 0; p < people; p++) {
    const year = 1940 + Math.floor(random() * 70);
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    const dob = `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
    const district = `${pick(['AB', 'CD', 'EF', 'GH', 'KT', 'SM'])}${1 + Math.floor(random() * districts)}`;
    const postcode = `${district} ${1 + Math.floor(random() * 9)}${pick(['AA', 'BD', 'EF', 'HJ', 'LN', 'PQ', 'RT', 'WX'])}`;
    const base: PersonRecord = {
      id: `p${p}-0`,
      forenames: pick(forenameList),
      surname: pick(surnameList),
      dob,
      postcode,
      address: { streetNumber: String(1 + Math.floor(random() * 120)), lines: [pick(STREETS)], town: pick(TOWNS) },
      identifiers: { nhs_number: String(4000000000 + Math.floor(random() * 999999999)) },
    };
    records.push(base);
    if (random() >= (options.duplicateShare ?? 0.3)) continue;
    const copies = 1 + Math.floor(random() * 2);
    for (let c = 1; c <= copies; c++) {
      const copy: PersonRecord = structuredClone(base);
      copy.id = `p${p}-${c}`;
      const errors = 1 + Math.floor(random() * 2);
      for (let e = 0; e < errors; e++) {
        switch (Math.floor(random() * 11)) {
          case 8:
            copy.forenames = SHORT_FORMS[copy.forenames ?? ''] ?? copy.forenames;
            break;
          case 9:
            // Married or otherwise changed surname, with the old one recorded.
            if (copy.surname) copy.previousNames = [copy.surname];
            copy.surname = pick(surnameList);
            break;
          case 10:
            // Moved: a new postcode and address entirely.
            copy.postcode = `${pick(['KT', 'SM', 'CR'])}${1 + Math.floor(random() * 9)} ${1 + Math.floor(random() * 9)}YY`;
            copy.address = { streetNumber: String(1 + Math.floor(random() * 120)), lines: [pick(STREETS)], town: pick(TOWNS) };
            break;
          case 0:
            copy.forenames = typo(copy.forenames, random);
            break;
          case 1:
            copy.surname = typo(copy.surname, random);
            break;
          case 2:
            copy.dob = `${dob.slice(0, 4)}${dob.slice(6, 8)}${dob.slice(4, 6)}`;
            break;
          case 3:
            copy.dob = typo(copy.dob, random);
            break;
          case 4:
            delete copy.identifiers;
            break;
          case 5:
            copy.postcode = `${district} ${1 + Math.floor(random() * 9)}ZZ`;
            copy.address = { streetNumber: String(1 + Math.floor(random() * 120)), lines: [pick(STREETS)], town: copy.address?.town ?? '' };
            break;
          case 6:
            [copy.forenames, copy.surname] = [copy.surname, copy.forenames];
            break;
          default:
            delete copy.dob;
        }
      }
      records.push(copy);
    }
  }
  return records;
}

/** The person a synthetic record belongs to. */
export const syntheticPerson = (id: string): string => id.slice(0, id.indexOf('-'));
