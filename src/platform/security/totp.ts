import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Time-based one-time passwords (RFC 6238) as used by authenticator apps:
 * HMAC-SHA-1, 6 digits, 30-second steps. Secrets are exchanged in base32 (RFC 4648).
 */

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** 160 bits, the key length RFC 4226 recommends for HMAC-SHA-1. */
export const TOTP_SECRET_BYTES = 20;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Encodes bytes as base32 without padding, the form authenticator apps expect. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32, ignoring case, spaces, hyphens and padding (people copy secrets by hand).
 * Throws on any other character.
 */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = BASE32_ALPHABET.indexOf(ch);
    if (value === -1) throw new Error('Not a base32 string');
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >>> bits) & 0xff);
    }
    buffer &= (1 << bits) - 1;
  }
  return Buffer.from(out);
}

/** A new random secret, base32 encoded, to show to the user (as a QR code and as text). */
export function generateTotpSecret(bytes: number = TOTP_SECRET_BYTES): string {
  return base32Encode(randomBytes(bytes));
}

/** The `otpauth://` URI an authenticator app reads from a QR code. */
export function totpUri(opts: { issuer: string; account: string; secret: string }): string {
  const label = `${encodeURIComponent(opts.issuer)}:${encodeURIComponent(opts.account)}`;
  const params = new URLSearchParams({
    secret: opts.secret.replace(/[\s=]/g, '').toUpperCase(),
    issuer: opts.issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  // URLSearchParams writes spaces as '+', which some authenticator apps show literally.
  return `otpauth://totp/${label}?${params.toString().replace(/\+/g, '%20')}`;
}

/** HOTP (RFC 4226): the code for one counter value. */
export function hotp(key: Uint8Array, counter: number, digits: number = TOTP_DIGITS): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new Error('HOTP counter must be a non-negative integer');
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step (counter) a moment falls in. */
export function totpStep(now: Date | number = Date.now()): number {
  const ms = typeof now === 'number' ? now : now.getTime();
  return Math.floor(ms / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code an authenticator app shows at a given moment. */
export function generateTotp(secret: string, opts: { now?: Date | number; digits?: number } = {}): string {
  return hotp(base32Decode(secret), totpStep(opts.now), opts.digits ?? TOTP_DIGITS);
}

export interface VerifyTotpOptions {
  now?: Date | number;
  /** How many steps either side of now to accept, for clock drift and slow typing. */
  window?: number;
  /**
   * The step of the last code this user signed in with. Codes from that step or earlier are
   * refused, so a code seen over someone's shoulder cannot be used again.
   */
  lastUsedStep?: number | null;
}

/**
 * Checks a code a person typed. Returns the matched time step (store it and pass it back as
 * `lastUsedStep` next time), or null when the code does not match.
 */
export function verifyTotp(secret: string, code: string, opts: VerifyTotpOptions = {}): number | null {
  const typed = code.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(typed) || typed.length !== TOTP_DIGITS) return null;
  let key: Buffer;
  try {
    key = base32Decode(secret);
  } catch {
    return null;
  }
  if (key.length === 0) return null;
  const window = Math.max(0, Math.floor(opts.window ?? 1));
  const current = totpStep(opts.now);
  const typedBytes = Buffer.from(typed);
  let matched: number | null = null;
  // Check every step in the window, whatever matches, so timing does not reveal which one did.
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(key, step));
    const same = timingSafeEqual(expected, typedBytes);
    const fresh = opts.lastUsedStep == null || step > opts.lastUsedStep;
    if (same && fresh && matched === null) matched = step;
  }
  return matched;
}
