import { hash, verify, parseOptions, Algorithm } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * Password policy following NCSC guidance: a minimum length, no composition rules, no expiry,
 * and a block on passwords that are known to be common or that contain the person's own details.
 */

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordProblemCode = 'missing' | 'too-short' | 'too-long' | 'common' | 'personal';

export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
}

export const PASSWORD_MESSAGES: Record<PasswordProblemCode, string> = {
  missing: 'Enter a password',
  'too-short': `Password must be ${PASSWORD_MIN_LENGTH} characters or more`,
  'too-long': `Password must be ${PASSWORD_MAX_LENGTH} characters or fewer`,
  common: 'Choose a password that is harder to guess',
  personal: 'Choose a password that is harder to guess',
};

let commonPasswords: Set<string> | undefined;

function common(): Set<string> {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return commonPasswords;
}

/** True when the password (ignoring case) is in the offline list of common passwords. */
export function isCommonPassword(password: string): boolean {
  return common().has(normalisePassword(password).toLowerCase());
}

/** Unicode normalisation so the same password typed on different devices hashes the same. */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

function characterCount(text: string): number {
  return [...text].length;
}

function isGuessable(lower: string): boolean {
  const set = common();
  if (set.has(lower)) return true;
  // A common password dressed up with digits or symbols at the end ("sunshine2024!").
  const stem = lower.replace(/[\d\W_]+$/u, '');
  if (stem.length >= 4 && stem !== lower && set.has(stem)) return true;
  // One character repeated, or a short pattern repeated ("abcabcabcabc").
  if (/^(.{1,3})\1+$/su.test(lower)) return true;
  // Runs along the alphabet, the number row or a keyboard row ("abcdefghij", "0987654321").
  if (isSequence(lower)) return true;
  return false;
}

const RUNS = ['abcdefghijklmnopqrstuvwxyz', '01234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

function isSequence(text: string): boolean {
  return RUNS.some((run) => run.includes(text) || [...run].reverse().join('').includes(text));
}

function personalFragments(details: { email?: string | undefined; name?: string | undefined }): string[] {
  const fragments: string[] = [];
  const email = details.email?.trim().toLowerCase();
  if (email) {
    fragments.push(email);
    const local = email.split('@')[0] ?? '';
    fragments.push(local);
    fragments.push(...local.split(/[^\p{L}\p{N}]+/u));
  }
  const name = details.name?.trim().toLowerCase();
  if (name) {
    const parts = name.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    fragments.push(parts.join(''), ...parts);
  }
  return [...new Set(fragments.filter((f) => characterCount(f) >= 4))];
}

/**
 * Checks a password someone is choosing. Returns the problems to show (an empty list means it is
 * acceptable). Show only the first message next to the field.
 */
export function checkNewPassword(password: string, details: { email?: string | undefined; name?: string | undefined } = {}): PasswordProblem[] {
  const problem = (code: PasswordProblemCode): PasswordProblem => ({ code, message: PASSWORD_MESSAGES[code] });
  if (password.length === 0) return [problem('missing')];
  const normalised = normalisePassword(password);
  const length = characterCount(normalised);
  const problems: PasswordProblem[] = [];
  if (length < PASSWORD_MIN_LENGTH) problems.push(problem('too-short'));
  if (length > PASSWORD_MAX_LENGTH) problems.push(problem('too-long'));
  if (length > PASSWORD_MAX_LENGTH) return problems;
  const lower = normalised.toLowerCase();
  if (isGuessable(lower)) problems.push(problem('common'));
  else if (personalFragments(details).some((f) => lower.includes(f))) problems.push(problem('personal'));
  return problems;
}

/** Argon2id with OWASP's minimum recommended parameters (19 MiB, 2 passes, 1 lane). */
export const PASSWORD_HASH_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

export async function hashPassword(password: string): Promise<string> {
  return hash(normalisePassword(password), PASSWORD_HASH_OPTIONS);
}

/** True when the password matches the stored hash. A malformed hash never matches. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  if (!storedHash || characterCount(password) > PASSWORD_MAX_LENGTH * 4) return false;
  try {
    return await verify(storedHash, normalisePassword(password));
  } catch {
    return false;
  }
}

/** True when a stored hash was made with weaker settings than today's and should be replaced at next sign-in. */
export function needsRehash(storedHash: string): boolean {
  try {
    const o = parseOptions(storedHash);
    return (
      o.algorithm !== PASSWORD_HASH_OPTIONS.algorithm ||
      o.memoryCost < PASSWORD_HASH_OPTIONS.memoryCost ||
      o.timeCost < PASSWORD_HASH_OPTIONS.timeCost ||
      o.parallelism !== PASSWORD_HASH_OPTIONS.parallelism
    );
  } catch {
    return true;
  }
}

let decoyHash: Promise<string> | undefined;

/**
 * Spends the same time as checking a real password, for sign-in attempts against accounts that do
 * not exist, so response times do not reveal which email addresses have accounts. Always false.
 */
export async function verifyPasswordForUnknownAccount(password: string): Promise<false> {
  decoyHash ??= hashPassword('decoy password that never matches anything');
  await verifyPassword(await decoyHash, password);
  return false;
}

/** Failed attempts allowed before any delay. */
export const SIGN_IN_FREE_ATTEMPTS = 3;
/** The first delay after the free attempts; it doubles with each further failure. */
export const SIGN_IN_BASE_DELAY_MS = 1000;
export const SIGN_IN_MAX_DELAY_MS = 8000;
/** Consecutive failures that lock the account for a while. */
export const SIGN_IN_LOCKOUT_THRESHOLD = 10;
export const SIGN_IN_LOCKOUT_MS = 15 * 60 * 1000;

export interface SignInDelay {
  /** How long to wait before the next attempt may be checked. */
  delayMs: number;
  /** Above zero when sign-in is locked: refuse attempts for this long after the last failure. */
  lockedForMs: number;
}

/**
 * The throttle after a number of consecutive failed sign-ins: no delay for the first few, then
 * 1, 2, 4, 8, 8... seconds, and a temporary lockout from the threshold on. A successful sign-in
 * resets the count.
 */
export function signInDelay(failedAttempts: number): SignInDelay {
  const failures = Math.max(0, Math.floor(failedAttempts));
  if (failures >= SIGN_IN_LOCKOUT_THRESHOLD) return { delayMs: 0, lockedForMs: SIGN_IN_LOCKOUT_MS };
  if (failures <= SIGN_IN_FREE_ATTEMPTS) return { delayMs: 0, lockedForMs: 0 };
  const doublings = failures - SIGN_IN_FREE_ATTEMPTS - 1;
  return { delayMs: Math.min(SIGN_IN_MAX_DELAY_MS, SIGN_IN_BASE_DELAY_MS * 2 ** doublings), lockedForMs: 0 };
}

/** When the next attempt may be checked, given the failure count and when the last failure happened. */
export function nextSignInAllowedAt(failedAttempts: number, lastFailureAt: Date): Date {
  const { delayMs, lockedForMs } = signInDelay(failedAttempts);
  return new Date(lastFailureAt.getTime() + Math.max(delayMs, lockedForMs));
}
