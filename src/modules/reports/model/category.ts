import { z } from 'zod';
import type { AssetKind } from '#platform/geo/index';
import type { CaseType } from '#modules/cases/index';
import { checkboxesSchema, numberSchema, radiosSchema, selectSchema, textareaSchema, textSchema, yesNoSchema } from '#modules/forms/index';

/**
 * A street report category is configuration, kept in `council/report-categories/<code>.json`: what
 * residents pick ("Pothole"), the extra questions it asks, the case type its reports become (which
 * brings the team and the SLA), whether the resident picks an asset, what makes a report urgent and
 * whether reports are shown publicly. The code is also the Open311 `service_code`.
 */

export const REPORT_CATEGORY_SCHEMA_VERSION = 1;

/** Every kind of located asset the geography holds, with what residents call it. Typed so a new kind must be named here. */
export const ASSET_KIND_NAMES: Readonly<Record<AssetKind, string>> = { streetlight: 'street light', gully: 'drain (gully)' };
export const ASSET_KINDS = Object.keys(ASSET_KIND_NAMES) as [AssetKind, ...AssetKind[]];

/** The question types a category may ask: all of them map onto Open311 attribute datatypes. */
export const REPORT_QUESTION_TYPES = ['text', 'textarea', 'number', 'radios', 'checkboxes', 'yesNo', 'select'] as const;

/** Answers the report journey asks for itself, so a category's own questions cannot take these ids. */
export const RESERVED_QUESTION_IDS: readonly string[] = ['category', 'asset', 'location', 'description', 'photos', 'name', 'email', 'phone', 'showName'];

/**
 * What the public, the reporter and Open311 clients are told about a report: FixMyStreet's extended
 * Open311 statuses, which UK back offices already speak. Each category maps its case type's
 * statuses onto these.
 */
export const REPORT_STATUSES = [
  'open',
  'investigating',
  'action_scheduled',
  'in_progress',
  'fixed',
  'closed',
  'duplicate',
  'not_councils_responsibility',
  'no_further_action',
  'internal_referral',
  'unable_to_fix',
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];
export const REPORT_STATUS_NAMES: Readonly<Record<ReportStatus, string>> = {
  open: 'Open',
  investigating: 'Investigating',
  action_scheduled: 'Action scheduled',
  in_progress: 'In progress',
  fixed: 'Fixed',
  closed: 'Closed',
  duplicate: 'Duplicate',
  not_councils_responsibility: "Not the council's responsibility",
  no_further_action: 'No further action',
  internal_referral: 'Passed to another team',
  unable_to_fix: 'Unable to fix',
};

/** Placeholders an emergency message may use, filled from the council profile so no number is written twice. */
export const CONTACT_PLACEHOLDERS = ['outOfHoursPhone', 'phone', 'phoneHours'] as const;
export type CouncilContacts = Record<(typeof CONTACT_PLACEHOLDERS)[number], string>;

/** Placeholders a response template may use, filled from the report when an officer picks the template. */
export const RESPONSE_PLACEHOLDERS = ['reference', 'category'] as const;
export type ResponseValues = Record<(typeof RESPONSE_PLACEHOLDERS)[number], string>;
/** The most templates a category may offer: more would be a list nobody reads. */
export const MAX_RESPONSES = 20;

/** `((name))` placeholders in a text, in order; `(((x)))` reads as `(x`, so it is refused rather than half filled. */
const PLACEHOLDER = /\(\(([^)]*)\)\)/g;

const code = z
  .string({ error: 'Enter a code' })
  .regex(/^[a-z][a-z0-9-]{1,59}$/, 'Use lower-case letters, digits and hyphens, starting with a letter (2 to 60 characters)');

/**
 * One extra question, written exactly as in a form definition. Report questions are asked together
 * on one page and sent over Open311 as a flat list of attributes, so nothing may show, hide or
 * reveal another question.
 */
export const ReportQuestionSchema = z
  .discriminatedUnion('type', [textSchema, textareaSchema, numberSchema, radiosSchema, checkboxesSchema, yesNoSchema, selectSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? `Use a question type a report can ask: ${REPORT_QUESTION_TYPES.join(', ')}` : undefined),
  })
  .superRefine((question, ctx) => {
    const flat = 'cannot be used in a report question: the questions are asked together and sent over Open311 as a flat list';
    for (const field of ['showIf', 'requiredIf', 'prefill'] as const)
      if (question[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} ${flat}` });
    if ('options' in question)
      question.options.forEach((option, i) => {
        if (option.showIf !== undefined) ctx.addIssue({ code: 'custom', path: ['options', i, 'showIf'], message: `showIf ${flat}` });
        if ('reveals' in option && option.reveals !== undefined) ctx.addIssue({ code: 'custom', path: ['options', i, 'reveals'], message: `reveals ${flat}` });
      });
  });
export type ReportQuestion = z.infer<typeof ReportQuestionSchema>;

export const UrgentWhenSchema = z.strictObject({
  /** The id of one of the category's questions: a yes or no question, or one with options. */
  question: z.string({ error: 'Enter the id of the question that marks a report urgent' }).min(1, 'Enter the id of the question that marks a report urgent'),
  /** true or false for a yes or no question; an option's value otherwise (for checkboxes: when that option is among those ticked). */
  answer: z.union([z.boolean(), z.string().min(1)], { error: 'Give the answer as true or false for a yes or no question, or as an option value' }),
  /** Shown to the resident when their answers make the report urgent; ((outOfHoursPhone)) comes from the council profile. */
  emergencyMessage: z
    .string()
    .trim()
    .min(1, 'Enter an emergency message, or leave it out')
    .max(500, 'Emergency messages must be 500 characters or fewer')
    .optional(),
});

/**
 * Words an officer can start a public update from. With a status (one of the case type's), it is
 * offered when moving the report to that status; without one, for any update. Text in square
 * brackets, such as "[name the organisation]", is for the officer to replace before it is sent.
 */
export const ResponseTemplateSchema = z.strictObject({
  title: z.string({ error: 'Enter a title' }).trim().min(2, 'Enter a title').max(80, 'Titles must be 80 characters or fewer'),
  text: z.string({ error: 'Enter the text' }).trim().min(1, 'Enter the text').max(1000, 'Response texts must be 1000 characters or fewer'),
  status: z.string().trim().min(1, 'Enter a status of the case type, or leave it out').optional(),
});

export const ReportCategorySchema = z
  .strictObject({
    schemaVersion: z.literal(REPORT_CATEGORY_SCHEMA_VERSION, { error: `schemaVersion must be ${REPORT_CATEGORY_SCHEMA_VERSION}` }),
    code,
    /** What residents pick, e.g. "Pothole". */
    name: z.string({ error: 'Enter a name' }).trim().min(2, 'Enter a name').max(80, 'Names must be 80 characters or fewer'),
    /** Categories are listed under their group, e.g. "Roads and pavements"; also the Open311 group unless open311.group says otherwise. */
    group: z.string({ error: 'Enter a group' }).trim().min(2, 'Enter a group').max(60, 'Groups must be 60 characters or fewer'),
    /** Other words residents use for it, for search and the Open311 keywords. */
    keywords: z.array(z.string().trim().min(1, 'A keyword cannot be empty').max(40, 'Keywords must be 40 characters or fewer')).default([]),
    description: z.string({ error: 'Enter a description' }).trim().min(1, 'Enter a description').max(500, 'Descriptions must be 500 characters or fewer'),
    /** The case type each report becomes: its team, SLA, statuses and messages apply. */
    caseType: code,
    /** Every status of the case type, and the report status the public sees for it. */
    statuses: z.record(z.string(), z.enum(REPORT_STATUSES, { error: `Use a report status: ${REPORT_STATUSES.join(', ')}` }), {
      error: 'Map each status of the case type to a report status',
    }),
    /** Present for asset-based categories: the resident must pick an asset of this kind. */
    asset: z.strictObject({ kind: z.enum(ASSET_KINDS, { error: `Use a kind of asset the platform holds: ${ASSET_KINDS.join(', ')}` }) }).optional(),
    /** Extra questions, asked after the location, in this order. */
    questions: z.array(ReportQuestionSchema).max(10, 'A category may ask at most 10 extra questions').default([]),
    /** The answer that makes a report urgent (the case opens with urgent priority). */
    urgentWhen: UrgentWhenSchema.optional(),
    /** Whether reports appear on the public map, pages, feeds and Open311 requests. */
    public: z.boolean({ error: 'Say whether reports are shown publicly: true or false' }),
    /** Sensitive categories show the location to the public only approximately. */
    approximateLocation: z.boolean().default(false),
    /** Response templates offered to staff updating a report. */
    responses: z.array(ResponseTemplateSchema).max(MAX_RESPONSES, `A category may offer at most ${MAX_RESPONSES} response templates`).default([]),
    /** How the category appears over Open311; by default in its group, with metadata when it asks questions. */
    open311: z
      .strictObject({
        group: z.string().trim().min(2, 'Enter a group').max(60, 'Groups must be 60 characters or fewer').optional(),
        metadata: z.boolean().optional(),
      })
      .optional(),
  })
  .superRefine((category, ctx) => {
    const seenKeywords = new Set<string>();
    category.keywords.forEach((keyword, i) => {
      const key = keyword.toLowerCase();
      if (seenKeywords.has(key)) ctx.addIssue({ code: 'custom', path: ['keywords', i], message: `Keyword "${keyword}" is listed twice` });
      seenKeywords.add(key);
    });

    const ids = new Map<string, ReportQuestion>();
    category.questions.forEach((question, i) => {
      if (ids.has(question.id)) ctx.addIssue({ code: 'custom', path: ['questions', i, 'id'], message: `Question "${question.id}" is listed twice` });
      else ids.set(question.id, question);
      if (RESERVED_QUESTION_IDS.includes(question.id))
        ctx.addIssue({
          code: 'custom',
          path: ['questions', i, 'id'],
          message: `"${question.id}" is asked by every report already; the ids ${RESERVED_QUESTION_IDS.join(', ')} are taken`,
        });
    });

    const titles = new Set<string>();
    category.responses.forEach((response, i) => {
      const key = response.title.toLowerCase();
      if (titles.has(key)) ctx.addIssue({ code: 'custom', path: ['responses', i, 'title'], message: `Response "${response.title}" is listed twice` });
      titles.add(key);
      for (const m of response.text.matchAll(PLACEHOLDER)) {
        const name = m[1] ?? '';
        if (!(RESPONSE_PLACEHOLDERS as readonly string[]).includes(name))
          ctx.addIssue({
            code: 'custom',
            path: ['responses', i, 'text'],
            message: `Unknown placeholder ((${name})): use ${RESPONSE_PLACEHOLDERS.map((p) => `((${p}))`).join(' or ')}`,
          });
      }
    });

    if (category.open311?.metadata === false && category.questions.some((question) => !question.optional))
      ctx.addIssue({
        code: 'custom',
        path: ['open311', 'metadata'],
        message: 'Open311 clients must be told about required questions: set metadata to true, or make every question optional',
      });

    const urgent = category.urgentWhen;
    if (!urgent) return;
    const question = ids.get(urgent.question);
    if (!question) {
      const known = [...ids.keys()];
      ctx.addIssue({
        code: 'custom',
        path: ['urgentWhen', 'question'],
        message: `"${urgent.question}" is not one of the category's questions (${known.length > 0 ? known.join(', ') : 'it has none'})`,
      });
    } else if (question.type === 'yesNo') {
      if (typeof urgent.answer !== 'boolean')
        ctx.addIssue({ code: 'custom', path: ['urgentWhen', 'answer'], message: `"${question.id}" is a yes or no question: give the answer as true or false` });
    } else if (question.type === 'radios' || question.type === 'checkboxes' || question.type === 'select') {
      const values = question.options.map((option) => option.value);
      if (typeof urgent.answer !== 'string' || !values.includes(urgent.answer))
        ctx.addIssue({
          code: 'custom',
          path: ['urgentWhen', 'answer'],
          message: `${JSON.stringify(urgent.answer)} is not an option of "${question.id}" (the options are ${values.join(', ')})`,
        });
    } else {
      ctx.addIssue({
        code: 'custom',
        path: ['urgentWhen', 'question'],
        message: `"${question.id}" is a ${question.type} question: only a yes or no question or one with options can mark a report urgent`,
      });
    }

    if (urgent.emergencyMessage !== undefined) {
      const message = urgent.emergencyMessage;
      const where = ['urgentWhen', 'emergencyMessage'];
      for (const m of message.matchAll(PLACEHOLDER)) {
        const name = m[1] ?? '';
        if (!(CONTACT_PLACEHOLDERS as readonly string[]).includes(name))
          ctx.addIssue({
            code: 'custom',
            path: where,
            message: `Unknown placeholder ((${name})): use ${CONTACT_PLACEHOLDERS.map((p) => `((${p}))`).join(', ')}`,
          });
      }
      if (!message.includes('((outOfHoursPhone))'))
        ctx.addIssue({ code: 'custom', path: where, message: 'Name the out-of-hours number with ((outOfHoursPhone))' });
      if (/\d[\d ]{5,}\d/.test(message))
        ctx.addIssue({ code: 'custom', path: where, message: 'Use a placeholder rather than writing a phone number, so it comes from the council profile' });
    }
  });

export type ReportCategoryDefinition = z.infer<typeof ReportCategorySchema>;

/** A loaded category: its definition with the case type's team and SLA, the Open311 settings worked out and the emergency message filled in. */
export interface ReportCategory {
  code: string;
  name: string;
  group: string;
  keywords: string[];
  description: string;
  caseType: string;
  /** From the case type. */
  team: string;
  /** From the case type; undefined when it has no SLA. */
  sla: CaseType['sla'];
  /** The report status for each of the case type's statuses. */
  statuses: Readonly<Record<string, ReportStatus>>;
  asset: { kind: AssetKind } | undefined;
  questions: ReportQuestion[];
  urgentWhen: { question: string; answer: string | boolean; emergencyMessage: string | undefined } | undefined;
  public: boolean;
  approximateLocation: boolean;
  open311: { group: string; metadata: boolean };
  /** Response templates, in the order the file lists them. */
  responses: ResponseTemplate[];
}

export interface ResponseTemplate {
  title: string;
  text: string;
  /** The case status it is offered for; undefined when it suits any update. */
  status: string | undefined;
}

/** Fills `((placeholder))`s from the council's contact details; unknown ones were refused at load. */
export function fillContacts(text: string, contacts: CouncilContacts): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(contacts, name) ? contacts[name as keyof CouncilContacts] : whole));
}

/** A response template's text with `((reference))` and `((category))` filled from the report. */
export function fillResponse(text: string, values: ResponseValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as keyof ResponseValues] : whole));
}

/**
 * The templates to offer when moving a report's case to one of `toStatuses` (its next statuses, and
 * its current one for an update without a move): those for any update and those for one of them.
 */
export function responsesFor(category: Pick<ReportCategory, 'responses'>, toStatuses: readonly string[]): ResponseTemplate[] {
  return category.responses.filter((response) => response.status === undefined || toStatuses.includes(response.status));
}

/** The `[…]` gaps of the category's templates still left in a text, so an update is not sent with "[name the organisation]" in it. */
export function unfilledGaps(text: string, category: Pick<ReportCategory, 'responses'>): string[] {
  const gaps = new Set(category.responses.flatMap((response) => response.text.match(/\[[^\]]+\]/g) ?? []));
  return [...gaps].filter((gap) => text.includes(gap));
}

export function toReportCategory(definition: ReportCategoryDefinition, caseType: CaseType, contacts: CouncilContacts): ReportCategory {
  const { urgentWhen, open311 } = definition;
  return {
    code: definition.code,
    name: definition.name,
    group: definition.group,
    keywords: definition.keywords,
    description: definition.description,
    caseType: caseType.code,
    team: caseType.team,
    sla: caseType.sla,
    statuses: definition.statuses,
    asset: definition.asset,
    questions: definition.questions,
    urgentWhen: urgentWhen && {
      question: urgentWhen.question,
      answer: urgentWhen.answer,
      emergencyMessage: urgentWhen.emergencyMessage === undefined ? undefined : fillContacts(urgentWhen.emergencyMessage, contacts),
    },
    public: definition.public,
    approximateLocation: definition.approximateLocation,
    open311: { group: open311?.group ?? definition.group, metadata: open311?.metadata ?? definition.questions.length > 0 },
    responses: definition.responses.map((response) => ({ title: response.title, text: response.text, status: response.status })),
  };
}

/**
 * Whether answers to the category's questions (as the forms runner validates them: a boolean for yes
 * or no, an option value, a list of values for checkboxes) make the report urgent.
 */
export function isUrgent(category: Pick<ReportCategory, 'urgentWhen'>, answers: Readonly<Record<string, unknown>>): boolean {
  const rule = category.urgentWhen;
  if (!rule || !Object.hasOwn(answers, rule.question)) return false;
  const given = answers[rule.question];
  return Array.isArray(given) ? given.includes(rule.answer) : given === rule.answer;
}
