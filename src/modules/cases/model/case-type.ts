import { z } from 'zod';
import { SlaTargetSchema } from '../sla.js';

/**
 * A case type is configuration, kept in `council/case-types/<code>.json`: its workflow (statuses and
 * the moves allowed between them), its SLA, the team whose queue it lands in, whether it is
 * restricted to that team, what the resident is told at each status, and how long it is kept.
 */

export const CASE_TYPE_SCHEMA_VERSION = 1;

const code = z
  .string({ error: 'Enter a code' })
  .regex(/^[a-z][a-z0-9-]{1,59}$/, 'Use lower-case letters, digits and hyphens, starting with a letter (2 to 60 characters)');

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const StatusSchema = z.strictObject({
  code,
  /** What staff see. */
  label: z.string().trim().min(1, 'Enter a label').max(60, 'Labels must be 60 characters or fewer'),
  /** What the resident sees, when it should differ from the staff label (say "Being looked at" for "Triage"). */
  residentLabel: z.string().trim().min(1).max(60).optional(),
  /** A closed status stops the SLA clock and starts the retention period. */
  closed: z.boolean().default(false),
  /** The statuses a case may move to from this one. */
  next: z.array(code).default([]),
});

/**
 * A message to the resident when a case reaches a status. Placeholders are written `((name))`, as
 * in GOV.UK Notify: reference, caseType, status, name, update, expectedDate, caseLink.
 */
export const MessageTemplateSchema = z.strictObject({
  subject: z.string().trim().min(1, 'Enter a subject').max(150),
  body: z.string().trim().min(1, 'Enter a body').max(5000),
});
export type MessageTemplate = z.infer<typeof MessageTemplateSchema>;

export const TEMPLATE_PLACEHOLDERS = ['reference', 'caseType', 'status', 'name', 'update', 'expectedDate', 'caseLink'] as const;

export const CaseTypeSchema = z
  .strictObject({
    schemaVersion: z.literal(CASE_TYPE_SCHEMA_VERSION, { error: `schemaVersion must be ${CASE_TYPE_SCHEMA_VERSION}` }),
    code,
    name: z.string().trim().min(2, 'Enter a name').max(80),
    description: z.string().trim().max(500).optional(),
    /** The team whose queue new cases land in. */
    team: code,
    /** Only members of `team` may see a restricted case, and every view of one is audited. */
    restricted: z.boolean().default(false),
    statuses: z.array(StatusSchema).min(2, 'A case type needs at least two statuses'),
    initialStatus: code,
    defaultPriority: z.enum(PRIORITIES).default('normal'),
    /** The target from opening to closing; `byPriority` overrides it for urgent work. Leave out for no SLA. */
    sla: SlaTargetSchema.extend({ byPriority: z.partialRecord(z.enum(PRIORITIES), SlaTargetSchema).optional() }).optional(),
    /** Keyed by status code; the resident is emailed (or texted, where they chose it) on reaching that status. */
    notifications: z.record(code, MessageTemplateSchema).default({}),
    /** Sent with each public update a member of staff posts; ((update)) is the update's text. */
    updateMessage: MessageTemplateSchema.default({
      subject: 'News about your case ((reference))',
      body: 'Dear ((name)),\n\nThere is news about your case ((reference)):\n\n((update))\n\nYou can see everything about it at ((caseLink))',
    }),
    /** How long a closed case keeps its personal data before it is anonymised. */
    retentionDays: z.int().min(1).max(36500),
    /** Where the type's cases come from, shown to staff creating one and used to match deliveries. */
    sources: z.array(z.enum(['form', 'report', 'booking', 'staff', 'api'])).default(['staff']),
    /** Back-office systems told of every status change by a signed POST. */
    webhooks: z
      .array(
        z.strictObject({
          url: z.url({ protocol: /^https?$/, error: 'Enter a URL starting with https:// or http://' }),
          /** The environment variable holding the shared secret; the secret never goes in configuration files. */
          secretEnv: z.string().regex(/^WEBHOOK_SECRET_[A-Z0-9_]+$/, 'Enter an environment variable name starting WEBHOOK_SECRET_'),
        }),
      )
      .default([]),
  })
  .superRefine((type, ctx) => {
    const codes = new Set<string>();
    type.statuses.forEach((status, i) => {
      if (codes.has(status.code)) ctx.addIssue({ code: 'custom', path: ['statuses', i, 'code'], message: `Status "${status.code}" is listed twice` });
      codes.add(status.code);
    });
    if (!codes.has(type.initialStatus))
      ctx.addIssue({ code: 'custom', path: ['initialStatus'], message: `"${type.initialStatus}" is not one of the statuses` });
    type.statuses.forEach((status, i) =>
      status.next.forEach((to, j) => {
        if (!codes.has(to)) ctx.addIssue({ code: 'custom', path: ['statuses', i, 'next', j], message: `"${to}" is not one of the statuses` });
        if (to === status.code) ctx.addIssue({ code: 'custom', path: ['statuses', i, 'next', j], message: 'A status cannot move to itself' });
      }),
    );
    if (!type.statuses.some((s) => s.closed)) ctx.addIssue({ code: 'custom', path: ['statuses'], message: 'At least one status must be closed' });
    // Every status must be reachable, or cases could never get there.
    const reached = new Set([type.initialStatus]);
    for (let grew = true; grew;) {
      grew = false;
      for (const s of type.statuses)
        if (reached.has(s.code))
          for (const to of s.next)
            if (!reached.has(to)) {
              reached.add(to);
              grew = true;
            }
    }
    type.statuses.forEach((s, i) => {
      if (!reached.has(s.code))
        ctx.addIssue({ code: 'custom', path: ['statuses', i], message: `Status "${s.code}" cannot be reached from "${type.initialStatus}"` });
      if (!s.closed && s.next.length === 0) ctx.addIssue({ code: 'custom', path: ['statuses', i, 'next'], message: `Open status "${s.code}" has no way out` });
    });
    for (const [status, template] of Object.entries(type.notifications)) {
      if (!codes.has(status)) ctx.addIssue({ code: 'custom', path: ['notifications', status], message: `"${status}" is not one of the statuses` });
      checkPlaceholders(template, ['notifications', status]);
    }
    checkPlaceholders(type.updateMessage, ['updateMessage']);

    function checkPlaceholders(template: MessageTemplate, path: string[]): void {
      for (const [field, text] of Object.entries(template))
        for (const m of text.matchAll(/\(\(([^)]*)\)\)/g)) {
          const name = m[1] ?? '';
          if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name))
            ctx.addIssue({ code: 'custom', path: [...path, field], message: `Unknown placeholder ((${name}))` });
        }
    }
  });

export type CaseTypeDefinition = z.infer<typeof CaseTypeSchema>;
export type StatusDefinition = z.infer<typeof StatusSchema>;

/** A loaded case type with lookups the service needs often. */
export interface CaseType extends CaseTypeDefinition {
  status(code: string): StatusDefinition | undefined;
  isClosed(code: string): boolean;
  canMove(from: string, to: string): boolean;
}

export function toCaseType(definition: CaseTypeDefinition): CaseType {
  const byCode = new Map(definition.statuses.map((s) => [s.code, s]));
  return {
    ...definition,
    status: (c) => byCode.get(c),
    isClosed: (c) => byCode.get(c)?.closed ?? false,
    canMove: (from, to) => byCode.get(from)?.next.includes(to) ?? false,
  };
}

/** Fills `((placeholder))`s; unknown ones were refused when the type was loaded. */
export function fillTemplate(text: string, values: Partial<Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string>>): string {
  // Own keys only: a name such as ((constructor)) must not pick up Object.prototype's members.
  return text.replace(/\(\(([^)]*)\)\)/g, (_m, name: string) => (Object.hasOwn(values, name) ? (values[name as keyof typeof values] ?? '') : ''));
}

/**
 * Fills a message body paragraph by paragraph, leaving out any paragraph whose placeholders are all
 * empty (no update given, no account to link to), so the resident never reads "Check progress at ".
 */
export function fillMessage(body: string, values: Partial<Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string>>): string {
  return body
    .split(/\n{2,}/)
    .filter((paragraph) => {
      const names = [...paragraph.matchAll(/\(\(([^)]*)\)\)/g)].map((m) => m[1] ?? '');
      return names.length === 0 || names.some((name) => Object.hasOwn(values, name) && (values[name as keyof typeof values] ?? '') !== '');
    })
    .map((paragraph) => fillTemplate(paragraph, values))
    .join('\n\n');
}
