import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed webhooks: an HTTP POST of a JSON body to another system, signed with a secret shared with
 * it. Every capability that tells other systems about something (form submissions, case status
 * changes) sends them through here, so receivers verify them all the same way.
 *
 * Headers:
 * - `Borough-Event`: what happened, such as `form.submitted` or `case.status-changed`.
 * - `Borough-Delivery`: the same on every attempt of one delivery, for receivers to de-duplicate on.
 * - `Borough-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC keyed by the shared secret
 *   over `<t>.<raw body>`. Binding the time into the signature lets a receiver refuse a captured
 *   request replayed later.
 *
 * Queueing, retries and backoff belong to each capability's outbox worker, which acts on the
 * `retryable` flag of each outcome.
 */

export const SIGNATURE_HEADER = 'Borough-Signature';
export const DELIVERY_HEADER = 'Borough-Delivery';
export const EVENT_HEADER = 'Borough-Event';
export const DEFAULT_TOLERANCE_SECONDS = 300;
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Longer than any honest header; refusing early keeps a hostile header from costing much work. */
const MAX_SIGNATURE_HEADER_LENGTH = 2000;
/** Unix seconds stay below this until the year 5138; anything larger is almost certainly milliseconds. */
const MAX_UNIX_SECONDS = 1e11;
/** `capability.something-happened`, lower case: safe in a header and easy to route on. */
const EVENT_PATTERN = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;

// ---------------------------------------------------------------------------------------------
// Signing

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The `Borough-Signature` header value for a body sent at `timestamp`, in whole Unix seconds. */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  if (secret.length === 0) throw new Error('Webhook secret must not be empty');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp >= MAX_UNIX_SECONDS) {
    throw new RangeError('Webhook timestamp must be whole Unix seconds, not milliseconds');
  }
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export type SignatureFailure = 'malformed' | 'bad-signature' | 'too-old';
export type SignatureResult = { ok: true } | { ok: false; reason: SignatureFailure };

export interface VerifyOptions {
  /** The current time in milliseconds, as from `Date.now()`. */
  now?: number;
  /** How far the signed time may be from now, either way. */
  toleranceSeconds?: number;
}

/**
 * Checks a `Borough-Signature` header against the raw body exactly as received. Several `v1`
 * values are accepted (any may match) so that a secret can be rotated without a gap. A signature
 * that matches but was made more than the tolerance from now, in either direction, is `too-old`.
 */
export function verifyWebhookSignature(secret: string, body: string, header: string | null | undefined, options: VerifyOptions = {}): SignatureResult {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_SIGNATURE_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const equals = part.indexOf('=');
    if (equals < 1) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, equals).trim();
    const value = part.slice(equals + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,11}$/.test(value)) return { ok: false, reason: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return { ok: false, reason: 'malformed' };
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other keys are ignored, leaving room for later signature versions.
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };

  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Compare against every candidate, so the time taken does not reveal which one matched.
  let matched = false;
  for (const signature of signatures) matched = timingSafeEqual(signature, expected) || matched;
  if (!matched) return { ok: false, reason: 'bad-signature' };

  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - timestamp) > tolerance) return { ok: false, reason: 'too-old' };
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// Secrets

export type WebhookSecretResult = { ok: true; secret: string } | { ok: false; error: string };

/**
 * Reads a webhook's shared secret from the environment variable its configuration names. A missing
 * or short secret is a setup problem that retrying will not fix, so a worker should treat the error
 * as permanent. The error names the variable, never its value.
 */
export function resolveWebhookSecret(settings: { secretEnv: string }, env: NodeJS.ProcessEnv): WebhookSecretResult {
  const secret = env[settings.secretEnv];
  if (secret === undefined || secret.length === 0)
    return { ok: false, error: `The webhook secret is not set: set the environment variable ${settings.secretEnv}` };
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    return { ok: false, error: `The webhook secret in ${settings.secretEnv} is too short: use at least ${MIN_WEBHOOK_SECRET_LENGTH} characters` };
  }
  return { ok: true, secret };
}

// ---------------------------------------------------------------------------------------------
// Sending

/** What one attempt came to. A worker retries a `retryable` failure later and gives up on any other. */
export type WebhookOutcome = { ok: true; detail: string } | { ok: false; retryable: boolean; error: string };

export interface SendWebhookInput {
  url: string;
  secret: string;
  /** The JSON body, sent and signed byte for byte. Build it once and keep it, so every retry sends the same bytes. */
  body: string;
  /** The `Borough-Event` header, such as `case.status-changed`. */
  event: string;
  /** The same on every attempt of one delivery. */
  deliveryId: string;
  timeoutMs: number;
  /** The signing time in milliseconds, as from `Date.now()`. */
  now?: number;
}

const ERROR_TEXT_CHARS = 200;

function permanent(error: string): WebhookOutcome {
  return { ok: false, retryable: false, error };
}

function retryable(error: string): WebhookOutcome {
  return { ok: false, retryable: true, error };
}

/**
 * Text from outside (a response body, a header, a system error) made fit for an error message:
 * the secret taken out before anything is cut, so no part of it can survive at the cut, then
 * whitespace collapsed and the length limited.
 */
function clip(text: string, secret: string): string {
  const redacted = secret.length > 0 ? text.split(secret).join('[secret]') : text;
  return Array.from(redacted.replace(/\s+/g, ' ').trim()).slice(0, ERROR_TEXT_CHARS).join('');
}

/** The start of a response body, for the error message; reads no more than it needs, then lets the rest go. */
async function bodyStart(response: Response, secret: string): Promise<string> {
  if (response.body === null) return '';
  // Every character may take four bytes; the secret's length on top means one starting within the kept text is read whole.
  const wanted = ERROR_TEXT_CHARS * 4 + Buffer.byteLength(secret, 'utf8');
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes < wanted) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
    }
  } catch {
    // A body that breaks off part way still tells us the status; keep what arrived.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return clip(Buffer.concat(chunks).subarray(0, wanted).toString('utf8'), secret);
}

function discardBody(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/** 408 Request Timeout, 425 Too Early and 429 Too Many Requests say "try again later"; so does any 5xx. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

function networkError(error: unknown, timeoutMs: number, secret: string): WebhookOutcome {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return retryable(`No response within ${timeoutMs} ms`);
  }
  // Node's fetch reports connection problems as "fetch failed" with the system error as the cause.
  const cause = error instanceof Error ? error.cause : undefined;
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  if (code !== undefined) return retryable(`Could not reach the receiver (${clip(code, secret)})`);
  const message = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return retryable(`Could not reach the receiver: ${clip(message, secret)}`);
}

/**
 * POSTs a signed webhook once, signed afresh at the time of sending. Redirects are not followed:
 * a receiver that moved should be updated in configuration, and following would send the signed
 * body somewhere unchecked.
 */
export async function sendWebhook(input: SendWebhookInput): Promise<WebhookOutcome> {
  const { url, secret, body, event, deliveryId, timeoutMs } = input;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return permanent('The webhook URL is not a valid URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return permanent('The webhook URL must start with https:// or http://');
  if (secret.length === 0) return permanent('The webhook secret is empty');
  // Header values cannot hold control characters; such an ID or event is a bug upstream, not a passing fault.
  if (!/^[\x21-\x7e]{1,200}$/.test(deliveryId)) return permanent('The delivery ID cannot be sent in a header');
  if (!EVENT_PATTERN.test(event) || event.length > 100) return permanent('The event name cannot be sent in a header');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return permanent('The webhook timeout must be a positive number of milliseconds');

  const timestamp = Math.floor((input.now ?? Date.now()) / 1000);
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Borough',
        [DELIVERY_HEADER]: deliveryId,
        [EVENT_HEADER]: event,
        [SIGNATURE_HEADER]: signWebhook(secret, body, timestamp),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.ceil(timeoutMs)),
    });
  } catch (error) {
    return networkError(error, timeoutMs, secret);
  }

  const { status } = response;
  if (status >= 200 && status <= 299) {
    discardBody(response);
    return { ok: true, detail: `HTTP ${status}` };
  }
  // Where the platform's fetch hides a redirect behind an opaque response, the status reads 0.
  if (response.type === 'opaqueredirect' || status === 0) {
    discardBody(response);
    return permanent('The receiver answered with a redirect, which is not followed');
  }
  if (status >= 300 && status <= 399) {
    const location = response.headers.get('location');
    discardBody(response);
    const where = location === null ? '' : ` to ${clip(location, secret)}`;
    return permanent(`HTTP ${status}: the receiver redirected${where}, which is not followed; update the webhook URL`);
  }
  const start = await bodyStart(response, secret);
  const error = start.length > 0 ? `HTTP ${status}: ${start}` : `HTTP ${status}`;
  return isRetryableStatus(status) ? retryable(error) : permanent(error);
}
