import { z } from 'zod';
import { sendWebhook as sendSignedWebhook, type SendWebhookInput as SendSignedWebhookInput, type WebhookOutcome } from '#platform/http/webhooks';

/**
 * The places a form submission can be delivered to, named in a form definition's `deliveries`:
 * a webhook (a signed HTTP POST), a team email inbox, or a case in case management.
 *
 * This module checks each type's settings, sends webhooks (signed by the platform's webhook code),
 * and describes what the case target is given. Queueing, retries and backoff belong to the delivery worker, which acts on the
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
// Webhooks

/**
 * Signing, verifying and sending are the platform's (`#platform/http/webhooks`), shared with every
 * capability that sends webhooks; they are re-exported here so forms code has one place to import from.
 */
export {
  DEFAULT_TOLERANCE_SECONDS,
  DELIVERY_HEADER,
  EVENT_HEADER,
  MIN_WEBHOOK_SECRET_LENGTH,
  SIGNATURE_HEADER,
  resolveWebhookSecret,
  signWebhook,
  verifyWebhookSignature,
  type SignatureFailure,
  type SignatureResult,
  type VerifyOptions,
  type WebhookSecretResult,
} from '#platform/http/webhooks';

export const WEBHOOK_EVENT = 'form.submitted';

/** What one delivery attempt came to. The worker retries a `retryable` failure later and gives up on any other. */
export type DeliveryOutcome = WebhookOutcome;

export type SendWebhookInput = Omit<SendSignedWebhookInput, 'event'>;

/** POSTs a submission's signed webhook once, as the `form.submitted` event. */
export function sendWebhook(input: SendWebhookInput): Promise<DeliveryOutcome> {
  return sendSignedWebhook({ ...input, event: WEBHOOK_EVENT });
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
