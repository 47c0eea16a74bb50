// The register of agency data sources and how each one's extract maps onto people and events. The register
// is the council's configuration (council/signposts/sources.json), checked at start like every other.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatPath } from '#platform/council/config-folder';
import { isValidNhsNumber, standardiseDate, standardisePostcode, type PersonRecord } from '../linkage/index.js';
import { parseCsv } from '../linkage/csv.js';

export const SIGNPOSTS_CONFIG = 'signposts/sources.json';

const code = z.string('must be a code').regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and hyphens');
const column = z.string().min(1);

export const PERSON_FIELDS = [
  'forenames',
  'surname',
  'previousNames',
  'aliases',
  'dob',
  'gender',
  'address',
  'postcode',
  'uprn',
  'nhsNumber',
  'upn',
  'niNumber',
] as const;
export type PersonField = (typeof PERSON_FIELDS)[number];
export const EVENT_FIELDS = ['id', 'type', 'start', 'end', 'summary', 'status', 'professional', 'contact'] as const;
export type EventField = (typeof EVENT_FIELDS)[number];
/** Fields a source may hide from roles without its sensitive access. */
export const SENSITIVE_FIELDS = ['summary', 'address', 'contact'] as const;

const SourceSchema = z.strictObject({
  code,
  agency: z.string().min(2),
  system: z.string().min(2),
  /** Who owns the data at the agency and answers for it. */
  owner: z.string().min(2),
  /** The data-sharing agreement's reference. */
  agreement: z.string().min(2),
  lawfulBasis: z.string().min(10),
  /** A load older than this is overdue. */
  refreshHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 366),
  /** Records not seen in a load for this long are purged. */
  retentionDays: z.number().int().min(1).max(36500),
  /** Roles its agreement lets see it. */
  roles: z.array(z.string()).min(1),
  sensitive: z.strictObject({ fields: z.array(z.enum(SENSITIVE_FIELDS)).min(1), roles: z.array(z.string()).min(1) }).optional(),
  mapping: z.strictObject({
    recordId: column,
    person: z.partialRecord(z.enum(PERSON_FIELDS, 'must be a person field'), column),
    event: z.partialRecord(z.enum(EVENT_FIELDS, 'must be an event field'), column).optional(),
    relationships: z.strictObject({ household: column.optional(), parent: column.optional() }).optional(),
  }),
});
export type Source = z.infer<typeof SourceSchema>;

const ConfigSchema = z.strictObject({
  informationGovernanceLead: z.strictObject({ name: z.string().min(2), email: z.email() }),
  sources: z.array(SourceSchema),
});
export type SignpostsConfig = z.infer<typeof ConfigSchema>;

/** Reads and checks the register; throws with every problem listed. A council without Signposts has no file. */
export function loadSignpostsConfig(councilDir: string, roles: ReadonlySet<string>): SignpostsConfig | undefined {
  const file = path.join(councilDir, SIGNPOSTS_CONFIG);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  const problems: string[] = [];
  const parsed = ConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push(`${formatPath(issue.path)}: ${issue.message}`);
  else {
    const seen = new Set<string>();
    parsed.data.sources.forEach((source, i) => {
      if (seen.has(source.code)) problems.push(`sources[${i}].code: "${source.code}" is used twice`);
      seen.add(source.code);
      for (const role of [...source.roles, ...(source.sensitive?.roles ?? [])])
        if (!roles.has(role)) problems.push(`sources[${i}]: "${role}" is not a staff role (${[...roles].join(', ')})`);
      if (!source.mapping.person.surname && !source.mapping.person.forenames)
        problems.push(`sources[${i}].mapping.person: needs a forenames or surname column`);
    });
  }
  if (problems.length > 0) throw new Error(`The Signposts sources in ${file} are not valid (${problems.length} problems):\n${problems.join('\n')}`);
  return parsed.success ? parsed.data : undefined;
}

export interface SourceEvent {
  eventId: string;
  type: string;
  start: string | null;
  end: string | null;
  summary: string;
  status: 'open' | 'closed';
  professional: string;
  contact: string;
}

/** One person as one agency holds them, with what the agency recorded about them. */
export interface SourceRecord {
  recordId: string;
  person: {
    forenames: string;
    surname: string;
    previousNames: string[];
    aliases: string[];
    /** YYYY-MM-DD, YYYY-MM or YYYY as the source gave it (partial dates kept partial). */
    dob: string;
    gender: string;
    address: string;
    postcode: string;
    uprn: string;
    identifiers: Record<string, string>;
  };
  events: SourceEvent[];
  household: string;
  parentRecordId: string;
}

export interface RowProblem {
  /** The row's number in the extract, counting the header as row 1 in a CSV and from 1 in JSON. */
  row: number;
  recordId: string;
  column: string;
  message: string;
}

export type ExtractFormat = 'csv' | 'json';

/** The extract's rows as column to value; a JSON extract is an array of flat objects (or `{ "rows": [...] }`). */
export function readExtract(text: string, format: ExtractFormat): { rows: Record<string, string>[]; firstRow: number } {
  if (format === 'json') {
    const value = JSON.parse(text) as unknown;
    const list = Array.isArray(value)
      ? value
      : typeof value === 'object' && value !== null && Array.isArray((value as { rows?: unknown }).rows)
        ? (value as { rows: unknown[] }).rows
        : undefined;
    if (!list) throw new Error('A JSON extract must be an array of rows, or an object with a "rows" array');
    const rows = list.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`Row ${i + 1} is not an object of column values`);
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v).trim()]));
    });
    return { rows, firstRow: 1 };
  }
  const [header, ...cells] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!header) return { rows: [], firstRow: 2 };
  return { rows: cells.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i] ?? '']))), firstRow: 2 };
}

const UK_POSTCODE = /^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$/;
const UPN = /^[A-Z]\d{11}[0-9A-Z]$/;
const NI_NUMBER = /^[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]$/;

/** A date as YYYY-MM-DD from the forms agencies use (ISO, YYYYMMDD, DD/MM/YYYY), or undefined. */
export function eventDate(raw: string): string | undefined {
  const date = standardiseDate(raw);
  if (date.precision !== 'day') return undefined;
  return `${date.text.slice(0, 4)}-${date.text.slice(4, 6)}-${date.text.slice(6, 8)}`;
}

function dobText(raw: string): string | undefined {
  const date = standardiseDate(raw);
  if (date.precision === 'none') return undefined;
  // A day that does not exist (31/02/2015) is a mistake in the extract, not a partial date.
  const fullDate = /^\d{8}$/.test(raw.trim()) || raw.trim().split(/[-/.]/).length === 3;
  if (fullDate && date.precision !== 'day') return undefined;
  const t = date.text;
  return date.precision === 'day' ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}` : date.precision === 'month' ? `${t.slice(0, 4)}-${t.slice(4, 6)}` : t;
}

const list = (raw: string): string[] =>
  raw
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Maps an extract's rows onto records: rows sharing a record id are one person with several events.
 * Every row either contributes or is reported with the column and the reason; none is silently dropped.
 * A record with any bad row is left out whole, so a person is never loaded half-checked.
 */
export function mapExtract(source: Source, rows: readonly Record<string, string>[], firstRow = 2): { records: SourceRecord[]; problems: RowProblem[] } {
  const { mapping } = source;
  const problems: RowProblem[] = [];
  const byId = new Map<string, SourceRecord>();
  const refused = new Set<string>();
  const columns = new Set(rows.length > 0 ? Object.keys(rows[0] as object) : []);
  if (rows.length > 0 && !columns.has(mapping.recordId))
    return { records: [], problems: [{ row: firstRow, recordId: '', column: mapping.recordId, message: `The extract has no "${mapping.recordId}" column` }] };
  rows.forEach((row, i) => {
    const rowNumber = firstRow + i;
    const value = (col: string | undefined): string => (col === undefined ? '' : (row[col] ?? '').trim());
    const recordId = value(mapping.recordId);
    const problem = (col: string, message: string): void => {
      problems.push({ row: rowNumber, recordId, column: col, message });
      if (recordId) refused.add(recordId);
    };
    if (!recordId) return problem(mapping.recordId, 'Enter the record id: every row needs one');
    const p = mapping.person;
    const forenames = value(p.forenames);
    const surname = value(p.surname);
    if (!forenames && !surname) problem(p.surname ?? p.forenames ?? '', 'Enter a forename or surname');
    const rawDob = value(p.dob);
    const dob = rawDob ? dobText(rawDob) : '';
    if (dob === undefined) problem(p.dob ?? '', `"${rawDob}" is not a date of birth (use YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or YYYY)`);
    else if (dob && dob.slice(0, 4) > String(new Date().getUTCFullYear())) problem(p.dob ?? '', 'A date of birth cannot be in the future');
    const rawPostcode = value(p.postcode);
    const postcode = rawPostcode ? standardisePostcode(rawPostcode).full : '';
    if (rawPostcode && !UK_POSTCODE.test(postcode)) problem(p.postcode ?? '', `"${rawPostcode}" is not a UK postcode`);
    const identifiers: Record<string, string> = {};
    const nhs = value(p.nhsNumber).replace(/[\s-]/g, '');
    if (nhs) {
      if (!isValidNhsNumber(nhs)) problem(p.nhsNumber ?? '', `"${value(p.nhsNumber)}" is not a valid NHS number (10 digits with a correct check digit)`);
      else identifiers.nhs_number = nhs;
    }
    const upn = value(p.upn).toUpperCase().replace(/\s/g, '');
    if (upn) {
      if (!UPN.test(upn)) problem(p.upn ?? '', `"${value(p.upn)}" is not a unique pupil number (a letter, 11 digits and a digit or letter)`);
      else identifiers.upn = upn;
    }
    const ni = value(p.niNumber).toUpperCase().replace(/\s/g, '');
    if (ni) {
      if (!NI_NUMBER.test(ni)) problem(p.niNumber ?? '', `"${value(p.niNumber)}" is not a National Insurance number`);
      else identifiers.ni_number = ni;
    }
    const uprn = value(p.uprn);
    if (uprn && !/^\d{1,12}$/.test(uprn)) problem(p.uprn ?? '', `"${uprn}" is not a UPRN (up to 12 digits)`);

    const e = mapping.event;
    let event: SourceEvent | undefined;
    if (e && (value(e.id) || value(e.type))) {
      const start = value(e.start);
      const end = value(e.end);
      const startDate = start ? eventDate(start) : null;
      const endDate = end ? eventDate(end) : null;
      if (startDate === undefined) problem(e.start ?? '', `"${start}" is not a date`);
      if (endDate === undefined) problem(e.end ?? '', `"${end}" is not a date`);
      if (startDate && endDate && endDate < startDate) problem(e.end ?? '', 'The end date is before the start date');
      const status = value(e.status).toLowerCase();
      if (status && status !== 'open' && status !== 'closed') problem(e.status ?? '', `"${value(e.status)}" is not a status (open or closed)`);
      if (!value(e.type)) problem(e.type ?? '', 'Enter the type of event');
      event = {
        eventId: value(e.id) || `${recordId}:${rowNumber}`,
        type: value(e.type),
        start: startDate ?? null,
        end: endDate ?? null,
        summary: value(e.summary),
        status: status === 'open' || (!status && !endDate) ? 'open' : 'closed',
        professional: value(e.professional),
        contact: value(e.contact),
      };
    }
    if (refused.has(recordId)) return;
    const existing = byId.get(recordId);
    if (existing) {
      if (event && !existing.events.some((x) => x.eventId === event.eventId)) existing.events.push(event);
      return;
    }
    byId.set(recordId, {
      recordId,
      person: {
        forenames,
        surname,
        previousNames: list(value(p.previousNames)),
        aliases: list(value(p.aliases)),
        dob: dob ?? '',
        gender: value(p.gender),
        address: value(p.address),
        postcode,
        uprn,
        identifiers,
      },
      events: event ? [event] : [],
      household: value(mapping.relationships?.household),
      parentRecordId: value(mapping.relationships?.parent),
    });
  });
  for (const id of refused) byId.delete(id);
  // Events in a fixed order, so the same data in another row order is the same record.
  for (const record of byId.values()) record.events.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return { records: [...byId.values()], problems };
}

/** The record's person in the linkage's terms; its id is `<source>/<record id>` so ids are unique across sources. */
export function linkageRecord(sourceCode: string, record: Pick<SourceRecord, 'recordId' | 'person'>): PersonRecord {
  const { person } = record;
  const out: PersonRecord = { id: `${sourceCode}/${record.recordId}` };
  if (person.forenames) out.forenames = person.forenames;
  if (person.surname) out.surname = person.surname;
  if (person.previousNames.length > 0) out.previousNames = person.previousNames;
  if (person.aliases.length > 0) out.aliases = person.aliases;
  if (person.dob) out.dob = person.dob.replace(/-/g, '');
  if (person.gender) out.gender = person.gender;
  if (person.postcode) out.postcode = person.postcode;
  if (person.address) {
    // "12a Mill Lane, Kingsmere": the house number, the street, and the last part as the town.
    const parts = person.address
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const first = parts[0] ?? '';
    const numbered = /^(\d+[a-z]?)\s+(.*)$/i.exec(first);
    out.address = { lines: [numbered ? (numbered[2] as string) : first] };
    if (numbered) out.address.streetNumber = numbered[1] as string;
    if (parts.length > 1) out.address.town = parts[parts.length - 1] as string;
  }
  if (Object.keys(person.identifiers).length > 0) out.identifiers = { ...person.identifiers };
  return out;
}
