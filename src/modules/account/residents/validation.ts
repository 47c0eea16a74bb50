import { normalisePostcode } from '#platform/geo/index';

export type FieldErrors = Record<string, string>;

export const EMAIL_MAX_LENGTH = 254;
const EMAIL_PATTERN = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

export function text(value: unknown): string {
  if (Array.isArray(value)) return text(value[0]);
  return typeof value === 'string' ? value : '';
}

export function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** The email address as it will be stored: trimmed, with the domain in lower case. */
export function normaliseEmail(value: string): string {
  const trimmed = value.trim();
  const at = trimmed.lastIndexOf('@');
  return at < 0 ? trimmed : `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

export function emailProblem(email: string, missing = 'Enter your email address'): string | undefined {
  if (!email) return missing;
  if (email.length > EMAIL_MAX_LENGTH) return `Email address must be ${EMAIL_MAX_LENGTH} characters or fewer`;
  if (!EMAIL_PATTERN.test(email)) return 'Enter an email address in the correct format, like name@example.com';
  return undefined;
}

export interface UkPhone {
  /** Digits in national format, like 07700900982. */
  national: string;
  mobile: boolean;
}

/** Accepts UK numbers as people write them: spaces, dashes, brackets, +44, 0044 or a leading 0. */
export function parseUkPhone(value: string): UkPhone | undefined {
  const compact = value.replace(/[\s\-().]/g, '');
  const m = /^(?:\+44|0044|0)(\d{9,10})$/.exec(compact);
  if (!m?.[1]) return undefined;
  const national = `0${m[1]}`;
  // Geographic (01, 02), non-geographic (03, 05, 08, 09) and mobile (07) numbers.
  if (!/^0[1235789]/.test(national)) return undefined;
  if (national.length === 10 && !/^01/.test(national)) return undefined;
  const mobile = /^07[1-57-9]/.test(national) && national.length === 11;
  return { national, mobile };
}

export function postcodeProblem(postcode: string): string | undefined {
  if (!postcode.trim()) return 'Enter a postcode';
  if (!normalisePostcode(postcode)) return 'Enter a real postcode';
  return undefined;
}
