import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The places a form submission can be delivered to, named in a form definition's `deliveries`:
 * a webhook (a signed HTTP POST), a team email inbox, or a case in case management.
 *
 * This module checks each type's settings, signs and sends webhooks, and describes what the case
 * target is given. Queueing, retries and backoff belong to the delivery worker, which acts on the
 * `retryable` flag of each outcome.
 */

// ---------------------------------------------------------------------------------------------
// Settings

/** Strict objects name the unknown setting, so a typo such as `subjetPrefix` is caught at publish time. */
function settingsObject<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `Remove the unknown setting${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}`;
      return 'Settings must be an object';
    },
  });
}

export const webhookSettingsSchema = settingsObject({
  url: z.url({ protocol: /^https?$/, error: 'Enter a URL starting with https:// or http://' }),
  /** The name of the environment variable that holds the shared secret; the secret itself never goes in a definition. */
  secretEnv: z
    .string({ error: 'Enter the name of the environment variable holding the secret' })
    // A fixed prefix keeps a definition from naming one of the platform's own secrets.
    .regex(/^WEBHOOK_SECRET_[A-Z0-9_]+$/, 'Enter an environment variable name starting WEBHOOK_SECRET_, in capitals, digits and underscores'),
  timeoutSeconds: z
    .int({ error: 'Enter the timeout as a whole number of seconds' })
    .min(1, 'Timeout must be between 1 and 60 seconds')
    .max(60, 'Timeout must be between 1 and 60 seconds')
    .default(10),
});

export const emailSettingsSchema = settingsObject({
  /** A team inbox. */
  to: z.email({ error: 'Enter an email address' }),
  subjectPrefix: z
    .string({ error: 'Subject prefix must be text' })
    .trim()
    .min(1, 'Enter a subject prefix or leave it out')
    .max(100, 'Subject prefix must be 100 characters or fewer')
    .optional(),
});

export const casePrioritySchema = z.enum(['low', 'normal', 'high', 'urgent'], { error: 'Priority must be low, normal, high or urgent' });

export const caseSettingsSchema = settingsObject({
  /** The code of the team the case is assigned to. */
  team: z.string({ error: 'Team must be a team code' }).trim().min(1, 'Enter a team code or leave it out').optional(),
  caseType: z.string({ error: 'Case type must be text' }).trim().min(1, 'Enter a case type or leave it out').optional(),
  priority: casePrioritySchema.optional(),
  /** Which questions say who the case is for: a signed-in resident's account is used when there is one. */
  contact: settingsObject({
    name: z.string({ error: 'Enter a question id' }).min(1).optional(),
    email: z.string({ error: 'Enter a question id' }).min(1).optional(),
    phone: z.string({ error: 'Enter a question id' }).min(1).optional(),
    address: z.string({ error: 'Enter a question id' }).min(1).optional(),
  }).optional(),
  /** The location or address question saying where the case is about. */
  location: z.string({ error: 'Enter a question id' }).min(1).optional(),
});

export type WebhookSettings = z.infer<typeof webhookSettingsSchema>;
export type EmailSettings = z.infer<typeof emailSettingsSchema>;
export type CaseSettings = z.infer<typeof caseSettingsSchema>;
export type CasePriority = z.infer<typeof casePrioritySchema>;
export type DeliveryType = 'webhook' | 'email' | 'case';

export const deliverySettingsSchemas = {
  webhook: webhookSettingsSchema,
  email: emailSettingsSchema,
  case: caseSettingsSchema,
} as const satisfies Record<DeliveryType, z.ZodType>;

/**
 * Checks a delivery's settings against its type, for publishing a form. Each problem reads like
 * `Delivery "teamInbox": settings.to: Enter an email address`; none means the settings are good.
 */
export function deliverySettingsProblems(delivery: { name: string; type: DeliveryType; settings: unknown }): string[] {
  const schema: z.ZodType | undefined = (deliverySettingsSchemas as Partial<Record<string, z.ZodType>>)[delivery.type];
  if (schema === undefined) return [`Delivery "${delivery.name}": type must be webhook, email or case`];
  const parsed = schema.safeParse(delivery.settings);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `Delivery "${delivery.name}": ${['settings', ...issue.path.map(String)].join('.')}: ${issue.message}`);
}

// ---------------------------------------------------------------------------------------------
// Webhook signing

/**
 * The signature header is `Borough-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC
 * keyed by the shared secret over `<t>.<raw body>`. Binding the time into the signature lets a
 * receiver refuse a captured request replayed later.
 */
export const SIGNATURE_HEADER = 'Borough-Signature';
export const DELIVERY_HEADER = 'Borough-Delivery';
export const EVENT_HEADER = 'Borough-Event';
export const WEBHOOK_EVENT = 'form.submitted';
export const DEFAULT_TOLERANCE_SECONDS = 300;
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Longer than any honest header; refusing early keeps a hostile header from costing much work. */
const MAX_SIGNATURE_HEADER_LENGTH = 2000;
/** Unix seconds stay below this until the year 5138; anything larger is almost certainly milliseconds. */
const MAX_UNIX_SECONDS = 1e11;

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
// Sending

/** What one delivery attempt came to. The worker retries a `retryable` failure later and gives up on any other. */
export type DeliveryOutcome = { ok: true; detail: string } | { ok: false; retryable: boolean; error: string };

export type WebhookSecretResult = { ok: true; secret: string } | { ok: false; error: string };

/**
 * Reads a webhook's shared secret from the environment. A missing or short secret is a setup
 * problem that retrying will not fix, so the worker should treat the error as permanent. The error
 * names the variable, never its value.
 */
export function resolveWebhookSecret(settings: Pick<WebhookSettings, 'secretEnv'>, env: NodeJS.ProcessEnv): WebhookSecretResult {
  const secret = env[settings.secretEnv];
  if (secret === undefined || secret.length === 0)
    return { ok: false, error: `The webhook secret is not set: set the environment variable ${settings.secretEnv}` };
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    return { ok: false, error: `The webhook secret in ${settings.secretEnv} is too short: use at least ${MIN_WEBHOOK_SECRET_LENGTH} characters` };
  }
  return { ok: true, secret };
}

export interface SendWebhookInput {
  url: string;
  secret: string;
  /** The JSON body, sent and signed byte for byte; see `webhookPayload`. */
  body: string;
  deliveryId: string;
  timeoutMs: number;
  /** The signing time in milliseconds, as from `Date.now()`. */
  now?: number;
}

const ERROR_TEXT_CHARS = 200;

function permanent(error: string): DeliveryOutcome {
  return { ok: false, retryable: false, error };
}

function retryable(error: string): DeliveryOutcome {
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

function networkError(error: unknown, timeoutMs: number, secret: string): DeliveryOutcome {
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
 * POSTs a signed webhook once. Redirects are not followed: a receiver that moved should be
 * updated in the form definition, and following would send the signed body somewhere unchecked.
 */
export async function sendWebhook(input: SendWebhookInput): Promise<DeliveryOutcome> {
  const { url, secret, body, deliveryId, timeoutMs } = input;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return permanent('The webhook URL is not a valid URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return permanent('The webhook URL must start with https:// or http://');
  if (secret.length === 0) return permanent('The webhook secret is empty');
  // Header values cannot hold control characters; such an ID is a bug upstream, not a passing fault.
  if (!/^[\x21-\x7e]{1,200}$/.test(deliveryId)) return permanent('The delivery ID cannot be sent in a header');
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
        [EVENT_HEADER]: WEBHOOK_EVENT,
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

// ---------------------------------------------------------------------------------------------
// What targets are given

export interface SubmittedBy {
  type: 'resident' | 'anonymous' | 'staff';
  residentId?: string;
  staffId?: string;
  /** How a submission made by staff on someone's behalf came in. */
  channel?: 'online' | 'phone' | 'face-to-face';
}

/** The answers as shown on the check answers page, in order, by section. */
export type SubmissionSummary = { title?: string; rows: { question: string; answer: string[] }[] }[];

/** What the case target is given for one submission. */
export interface CaseRequest {
  deliveryId: string;
  formSlug: string;
  formTitle: string;
  formVersion: number;
  submissionId: string;
  /** The reference the resident was shown. */
  reference: string;
  submittedAt: Date;
  submittedBy: SubmittedBy;
  answers: Record<string, unknown>;
  summary: SubmissionSummary;
  settings: CaseSettings;
  /** The contact details the settings point at, read from the answers. */
  contact: CaseContact;
  place?: CasePlace;
}

export interface CaseContact {
  name?: string;
  email?: string;
  phone?: string;
  address?: { text: string; postcode?: string; uprn?: string };
}

export interface CasePlace {
  lat?: number;
  lng?: number;
  uprn?: string;
  usrn?: string;
  /** The place as the resident gave it: an address, a street, a postcode or their description. */
  text?: string;
  postcode?: string;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

function addressOf(value: unknown): { text: string; postcode?: string; uprn?: string } | undefined {
  const a = record(value);
  if (!a) return undefined;
  const text = [a.line1, a.line2, a.town, a.postcode].map(str).filter(Boolean).join(', ');
  if (!text) return undefined;
  const postcode = str(a.postcode);
  const uprn = str(a.uprn);
  return { text, ...(postcode ? { postcode } : {}), ...(uprn ? { uprn } : {}) };
}

/** Reads the case's contact and place from the answers, by the question ids the case settings name. */
export function caseContactFromAnswers(settings: CaseSettings, answers: Record<string, unknown>): { contact: CaseContact; place?: CasePlace } {
  const contact: CaseContact = {};
  const ids = settings.contact ?? {};
  const name = ids.name === undefined ? undefined : answers[ids.name];
  const nameRecord = record(name);
  const fullName = nameRecord ? [str(nameRecord.firstName), str(nameRecord.lastName)].filter(Boolean).join(' ') : str(name);
  if (fullName) contact.name = fullName;
  const email = ids.email === undefined ? undefined : str(answers[ids.email]);
  if (email) contact.email = email;
  const phone = ids.phone === undefined ? undefined : str(answers[ids.phone]);
  if (phone) contact.phone = phone;
  const address = ids.address === undefined ? undefined : addressOf(answers[ids.address]);
  if (address) contact.address = address;
  if (settings.location === undefined) return { contact };
  const given = answers[settings.location];
  const asAddress = addressOf(given);
  const loc = record(given);
  if (asAddress)
    return {
      contact,
      place: { text: asAddress.text, ...(asAddress.postcode ? { postcode: asAddress.postcode } : {}), ...(asAddress.uprn ? { uprn: asAddress.uprn } : {}) },
    };
  if (!loc) return { contact };
  const place: CasePlace = {};
  if (typeof loc.lat === 'number' && typeof loc.lng === 'number') Object.assign(place, { lat: loc.lat, lng: loc.lng });
  for (const key of ['uprn', 'usrn'] as const) {
    const v = str(loc[key]);
    if (v) place[key] = v;
  }
  const text = [str(loc.label), str(loc.description)].filter(Boolean).join(': ');
  if (text) place.text = text;
  return { contact, place };
}

/**
 * Implemented by case management. `createCase` must be idempotent on `deliveryId`: a delivery is
 * retried when an attempt fails or its outcome is lost (say the process stops after the case was
 * created), and a retry must return the case already made for that delivery, not open a second one.
 * Throwing marks the attempt as failed, to be retried.
 */
export interface CaseCreator {
  createCase(request: CaseRequest): Promise<{ caseReference: string }>;
}

export type WebhookPayloadInput = Omit<CaseRequest, 'settings' | 'contact' | 'place'>;

export interface WebhookPayload {
  event: typeof WEBHOOK_EVENT;
  deliveryId: string;
  form: { slug: string; title: string; version: number };
  submission: {
    id: string;
    reference: string;
    /** ISO 8601, UTC. */
    submittedAt: string;
    submittedBy: SubmittedBy;
    answers: Record<string, unknown>;
    summary: SubmissionSummary;
  };
}

/**
 * The JSON body of a webhook. Build it once per delivery and keep it, so that every retry sends
 * (and signs) the very same bytes.
 */
export function webhookPayload(input: WebhookPayloadInput): string {
  const payload: WebhookPayload = {
    event: WEBHOOK_EVENT,
    deliveryId: input.deliveryId,
    form: { slug: input.formSlug, title: input.formTitle, version: input.formVersion },
    submission: {
      id: input.submissionId,
      reference: input.reference,
      submittedAt: input.submittedAt.toISOString(),
      submittedBy: input.submittedBy,
      answers: input.answers,
      summary: input.summary,
    },
  };
  return JSON.stringify(payload);
}
