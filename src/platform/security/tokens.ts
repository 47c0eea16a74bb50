import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring tokens for links that grant something: verifying an email address, a one-time
 * sign-in, resetting a password, resuming a saved form, tracking or cancelling a booking.
 *
 * A token is `<payload>.<signature>`, both base64url: the payload is JSON, the signature is
 * HMAC-SHA256 over a version tag and the payload. Tokens are not encrypted: never put anything in
 * `subject` or `data` that should not be seen by whoever holds the link.
 */

const VERSION = 'borough-token-v1';
const MIN_SECRET_BYTES = 16;

export interface TokenClaims {
  /** What the link is for, e.g. `verify-email`; a token for one purpose never works for another. */
  purpose: string;
  /** Who or what the token is about, e.g. an account ID or a booking reference. */
  subject: string;
  expiresAt: Date | number;
  /** Makes each token unique; store it to make a token single-use. Random when not given. */
  nonce?: string;
  data?: Record<string, unknown>;
}

export interface TokenPayload {
  purpose: string;
  subject: string;
  expiresAt: Date;
  nonce: string;
  data: Record<string, unknown> | undefined;
}

export type TokenFailure = 'malformed' | 'bad-signature' | 'expired' | 'wrong-purpose';

export type TokenResult = { ok: true; payload: TokenPayload } | { ok: false; reason: TokenFailure };

interface WirePayload {
  p: string;
  s: string;
  e: number;
  n: string;
  d?: Record<string, unknown>;
}

function keyBytes(secret: string | Uint8Array): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < MIN_SECRET_BYTES) throw new Error(`Token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

function sign(key: Buffer, encodedPayload: string): Buffer {
  return createHmac('sha256', key).update(`${VERSION}.${encodedPayload}`).digest();
}

/** Makes a URL-safe token. */
export function signToken(secret: string | Uint8Array, claims: TokenClaims): string {
  const key = keyBytes(secret);
  const expiresMs = typeof claims.expiresAt === 'number' ? claims.expiresAt : claims.expiresAt.getTime();
  if (!Number.isFinite(expiresMs)) throw new Error('Token expiry must be a valid time');
  if (!claims.purpose || !claims.subject) throw new Error('Token purpose and subject are required');
  const wire: WirePayload = {
    p: claims.purpose,
    s: claims.subject,
    e: Math.floor(expiresMs / 1000),
    n: claims.nonce ?? randomBytes(12).toString('base64url'),
  };
  if (claims.data !== undefined) wire.d = claims.data;
  const encoded = Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
  return `${encoded}.${sign(key, encoded).toString('base64url')}`;
}

function parseWire(encoded: string): WirePayload | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const w = value as Record<string, unknown>;
    if (typeof w.p !== 'string' || typeof w.s !== 'string' || typeof w.n !== 'string') return undefined;
    if (typeof w.e !== 'number' || !Number.isSafeInteger(w.e)) return undefined;
    if (w.d !== undefined && (typeof w.d !== 'object' || w.d === null || Array.isArray(w.d))) return undefined;
    return w as unknown as WirePayload;
  } catch {
    return undefined;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a token from a link. The signature is checked before anything in the payload is trusted;
 * then the purpose; then the expiry.
 */
export function verifyToken(secret: string | Uint8Array, token: string, purpose: string, now: Date | number = Date.now()): TokenResult {
  const key = keyBytes(secret);
  if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' };
  const parts = token.trim().split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [encoded, signature] = parts as [string, string];
  if (!BASE64URL.test(encoded) || !BASE64URL.test(signature)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(signature, 'base64url');
  const expected = sign(key, encoded);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  const wire = parseWire(encoded);
  if (!wire) return { ok: false, reason: 'malformed' };
  if (wire.p !== purpose) return { ok: false, reason: 'wrong-purpose' };
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (nowMs >= wire.e * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, payload: { purpose: wire.p, subject: wire.s, expiresAt: new Date(wire.e * 1000), nonce: wire.n, data: wire.d } };
}

/** Letters and digits that cannot be mistaken for each other when read aloud or handwritten (no 0, O, 1, I, L). */
export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** A short random reference for people to read and type, e.g. `randomReference(REFERENCE_ALPHABET, 8)`. */
export function randomReference(alphabet: string = REFERENCE_ALPHABET, length: number = 8): string {
  const symbols = [...alphabet];
  if (symbols.length < 2 || new Set(symbols).size !== symbols.length) throw new Error('Reference alphabet needs at least two distinct characters');
  if (!Number.isInteger(length) || length < 1) throw new Error('Reference length must be a positive whole number');
  let out = '';
  for (let i = 0; i < length; i++) out += symbols[randomInt(symbols.length)];
  return out;
}

export function sha256Hex(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex');
}

/** Compares two strings without leaking, through timing, where they first differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a === b;
}
