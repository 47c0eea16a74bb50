import { ASSET_KIND_NAMES, REPORT_STATUSES, type ReportCategory, type ReportQuestion, type ReportStatus } from './model/category.js';
import type { ListedReport } from './service.js';

/**
 * What Open311 GeoReport v2 answers hold, built from categories and reports. Pure functions: the
 * routes in open311.ts fetch, these shape, and the same shape is written as JSON or XML.
 */

/** The attribute an asset-based category asks for: which asset (its id), as the report journey asks the resident to pick one. */
export const ASSET_ATTRIBUTE = 'asset_id';

export type Open311Service = {
  service_code: string;
  service_name: string;
  description: string;
  metadata: boolean;
  type: 'realtime';
  keywords: string;
  group: string;
};

export type Open311Attribute = {
  variable: boolean;
  code: string;
  datatype: 'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist';
  required: boolean;
  datatype_description: string;
  order: number;
  description: string;
  values?: { key: string; name: string }[];
};

export type Open311Request = {
  service_request_id: string;
  status: 'open' | 'closed';
  status_notes: string;
  service_name: string;
  service_code: string;
  description: string;
  agency_responsible: string;
  service_notice: string;
  requested_datetime: string;
  updated_datetime: string;
  expected_datetime: string;
  address: string;
  address_id: string;
  zipcode: string;
  lat: number;
  long: number;
  media_url: string;
  extended_status?: string;
  extended_attributes?: { title: string; status_name: string; asset_id: string; duplicate_of: string };
};

/** Times as W3C date-times in UTC, to the second, as FixMyStreet writes them: `2026-11-23T17:05:00Z`. */
export function w3cTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** FixMyStreet's extended statuses are sent in upper case: `IN_PROGRESS`. */
export function extendedStatus(status: ReportStatus): string {
  return status.toUpperCase();
}

/** An extended status in any case, with underscores or spaces (`in_progress`, `IN PROGRESS`); undefined for anything else. */
export function parseExtendedStatus(text: string): ReportStatus | undefined {
  const status = text
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return (REPORT_STATUSES as readonly string[]).includes(status) ? (status as ReportStatus) : undefined;
}

export function serviceOf(category: ReportCategory): Open311Service {
  return {
    service_code: category.code,
    service_name: category.name,
    description: category.description,
    // Clients must ask for the definition of a category that needs an asset, even without questions.
    metadata: category.open311.metadata || category.asset !== undefined,
    type: 'realtime',
    keywords: category.keywords.join(','),
    group: category.open311.group,
  };
}

/** Sentences joined into one line, each without its own full stop. */
function sentences(parts: (string | undefined)[]): string {
  return parts
    .map((part) => part?.trim().replace(/\.$/, ''))
    .filter((part): part is string => Boolean(part))
    .join('. ');
}

function numberRule(question: Extract<ReportQuestion, { type: 'number' }>): string {
  const kind = question.whole ? 'A whole number' : 'A number';
  const { min, max } = question;
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of ${min} or more`
        : max !== undefined
          ? ` of ${max} or less`
          : '';
  return `${kind}${range}${question.suffix ? ` (${question.suffix.trim()})` : ''}`;
}

/** An attribute with its elements in the order the specification lists them. */
function attribute(
  code: string,
  datatype: Open311Attribute['datatype'],
  required: boolean,
  rule: string,
  hint: string | undefined,
  order: number,
  description: string,
  values?: { key: string; name: string }[],
): Open311Attribute {
  return { variable: true, code, datatype, required, datatype_description: sentences([rule, hint]), order, description, ...(values ? { values } : {}) };
}

function attributeOf(question: ReportQuestion, order: number): Open311Attribute {
  const { id, label, hint } = question;
  const required = !question.optional;
  const optionValues = (options: readonly { value: string; text: string }[]) => options.map((option) => ({ key: option.value, name: option.text }));
  switch (question.type) {
    case 'text': {
      const rule = `Text of up to ${question.maxLength} characters${question.minLength ? ` and at least ${question.minLength}` : ''}`;
      return attribute(id, 'string', required, rule, hint, order, label);
    }
    case 'textarea':
      return attribute(id, 'text', required, `Text of up to ${question.maxLength} characters, which may have line breaks`, hint, order, label);
    case 'number':
      return attribute(id, 'number', required, numberRule(question), hint, order, label);
    case 'yesNo':
      return attribute(id, 'singlevaluelist', required, 'The key of one value: yes or no', hint, order, label, [
        { key: 'yes', name: 'Yes' },
        { key: 'no', name: 'No' },
      ]);
    case 'radios':
    case 'select':
      return attribute(id, 'singlevaluelist', required, 'The key of one of the values', hint, order, label, optionValues(question.options));
    case 'checkboxes': {
      const { none } = question;
      const rule = sentences([
        `The keys of one or more of the values, each as attribute[${id}][]`,
        none ? `"${none.value}" cannot be given with any other` : undefined,
      ]);
      return attribute(id, 'multivaluelist', required, rule, hint, order, label, [...optionValues(question.options), ...(none ? optionValues([none]) : [])]);
    }
  }
}

/** The service definition: the asset to pick (for asset-based categories) and then the category's questions, in order. */
export function definitionOf(category: ReportCategory): { service_code: string; attributes: Open311Attribute[] } {
  const attributes: Open311Attribute[] = [];
  if (category.asset) {
    const kind = ASSET_KIND_NAMES[category.asset.kind];
    const rule = `The ID of one of the council's ${kind}s, as on its asset map. The report is placed at the ${kind}`;
    attributes.push(attribute(ASSET_ATTRIBUTE, 'string', true, rule, undefined, 1, `Which ${kind} is it?`));
  }
  for (const question of category.questions) attributes.push(attributeOf(question, attributes.length + 1));
  return { service_code: category.code, attributes };
}

/** One public report as a service request; FixMyStreet's extensions add the extended status and more. */
export function requestOf(page: ListedReport, opts: { agency: string; baseUrl: string; extensions: boolean }): Open311Request {
  const notes = page.latestNote ?? '';
  const photo = page.photoHref;
  return {
    service_request_id: page.reference,
    status: page.closed ? 'closed' : 'open',
    status_notes: notes,
    service_name: page.category.name,
    service_code: page.category.code,
    description: page.detail,
    agency_responsible: opts.agency,
    service_notice: '',
    requested_datetime: w3cTime(page.createdAt),
    updated_datetime: w3cTime(page.updatedAt),
    expected_datetime: '',
    address: page.place ?? '',
    address_id: '',
    zipcode: '',
    lat: page.lat,
    long: page.lng,
    media_url: photo ? `${opts.baseUrl}${photo}` : '',
    ...(opts.extensions
      ? {
          extended_status: extendedStatus(page.status),
          extended_attributes: { title: page.title, status_name: page.statusName, asset_id: page.assetId ?? '', duplicate_of: page.duplicateOf ?? '' },
        }
      : {}),
  };
}

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

const W3C_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * A W3C date-time (`2026-11-23T17:05:00Z`, `2026-11-23T17:05:00+01:00`) or a date (`2026-11-23`,
 * midnight UTC; `endOfDay` makes it the last moment of that day, so an end date includes its day).
 * A `+` sent unencoded in a query string arrives as a space, and is read as the `+` it was.
 * Undefined for anything else, including impossible dates such as 31 February.
 */
export function parseW3cTime(input: string, opts: { endOfDay?: boolean } = {}): Date | undefined {
  const text = input.trim().replace(/(T[\d:.]+) (\d{2}:?\d{2})$/, '$1+$2');
  const m = W3C_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const midnight = Date.UTC(year, month - 1, day);
  const check = new Date(midnight);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  if (m[4] === undefined) return new Date(opts.endOfDay ? midnight + DAY_MS - 1 : midnight);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? '0')];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8] ?? 'Z';
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const [zoneHours, zoneMinutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (zoneHours > 14 || zoneMinutes > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const millis = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  return new Date(midnight + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis);
}
