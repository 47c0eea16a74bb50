// Reads person records from CSV exports, recognising the usual column names of agency systems.
import type { PersonRecord } from './standardise.js';

export type CsvField = 'forenames' | 'surname' | 'previousNames' | 'dob' | 'gender' | 'postcode' | 'streetNumber' | 'address1' | 'address2' | 'town';

export interface CsvOptions {
  /** Column holding the record id; otherwise id, rec_id or record_id, else the row number. */
  idColumn?: string;
  /** Columns with other names: a field (or "identifier:<name>") to the column heading. */
  map?: Partial<Record<CsvField, string>> & Record<string, string>;
}

const KNOWN: Record<CsvField, string[]> = {
  forenames: ['given_name', 'given_names', 'first_name', 'firstname', 'forename', 'forenames'],
  surname: ['surname', 'last_name', 'lastname', 'family_name'],
  previousNames: ['previous_surname', 'previous_names', 'former_surname', 'maiden_name'],
  dob: ['date_of_birth', 'dob', 'birth_date'],
  gender: ['gender', 'sex'],
  postcode: ['postcode', 'post_code', 'postal_code'],
  streetNumber: ['street_number', 'house_number'],
  address1: ['address_1', 'address1', 'address_line_1', 'address'],
  address2: ['address_2', 'address2', 'address_line_2'],
  town: ['suburb', 'city', 'town'],
};
const IDENTIFIERS = ['soc_sec_id', 'nhs_number', 'ni_number', 'national_insurance_number', 'upn'];
const ID_COLUMNS = ['id', 'rec_id', 'record_id'];

/**
 * The person field a name on the command line means: a field (`forenames`, `dob`, …), one of the
 * column names recognised for it (`given_name`, `date_of_birth`, …), or an identifier (`nhs_number`,
 * `identifier:<name>`). Undefined for anything else.
 */
export function personField(name: string): string | undefined {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (key.startsWith('identifier:') && key.length > 'identifier:'.length) return key;
  if (IDENTIFIERS.includes(key)) return `identifier:${key}`;
  for (const field of Object.keys(KNOWN) as CsvField[]) if (field.toLowerCase() === key || KNOWN[field].includes(key)) return field;
  return undefined;
}

/** Splits CSV text into rows of trimmed cells; handles quoted cells with commas, quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === ',') {
      row.push(cell.trim());
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell.trim());
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  row.push(cell.trim());
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}

export function recordsFromCsv(text: string, options: CsvOptions = {}): PersonRecord[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  const names = header.map((h) => h.toLowerCase().replace(/[\s-]+/g, '_'));
  const column = (candidates: string[]): number => names.findIndex((n) => candidates.includes(n));
  const mapped = (field: string): number | undefined => {
    const heading = options.map?.[field];
    return heading === undefined ? undefined : names.indexOf(heading.toLowerCase().replace(/[\s-]+/g, '_'));
  };
  const at = {} as Record<CsvField, number>;
  for (const field of Object.keys(KNOWN) as CsvField[]) at[field] = mapped(field) ?? column(KNOWN[field]);
  const idAt = options.idColumn ? names.indexOf(options.idColumn.toLowerCase()) : column(ID_COLUMNS);
  const identifierColumns: [string, number][] = [];
  names.forEach((n, i) => {
    if (IDENTIFIERS.includes(n)) identifierColumns.push([n, i]);
  });
  for (const [key, heading] of Object.entries(options.map ?? {})) {
    if (key.startsWith('identifier:')) identifierColumns.push([key.slice('identifier:'.length), names.indexOf(heading.toLowerCase())]);
  }
  return rows.map((cells, r) => {
    const get = (i: number): string | undefined => (i >= 0 && cells[i] ? cells[i] : undefined);
    const record: PersonRecord = { id: get(idAt) ?? String(r + 1) };
    const set = <K extends keyof PersonRecord>(key: K, value: PersonRecord[K] | undefined): void => {
      if (value !== undefined) record[key] = value;
    };
    set('forenames', get(at.forenames));
    set('surname', get(at.surname));
    const previous = get(at.previousNames);
    if (previous) record.previousNames = previous.split(/[;|]/).map((s) => s.trim());
    set('dob', get(at.dob));
    set('gender', get(at.gender));
    set('postcode', get(at.postcode));
    const line1 = get(at.address1);
    const line2 = get(at.address2);
    const lines = line2 ? [line1 ?? '', line2] : line1 ? [line1] : [];
    const streetNumber = get(at.streetNumber);
    const town = get(at.town);
    if (lines.length || streetNumber || town) {
      record.address = {};
      if (streetNumber) record.address.streetNumber = streetNumber;
      if (lines.length) record.address.lines = lines;
      if (town) record.address.town = town;
    }
    for (const [key, i] of identifierColumns) {
      const v = get(i);
      if (v) (record.identifiers ??= {})[key] = v;
    }
    return record;
  });
}
