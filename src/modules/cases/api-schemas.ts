import { z } from 'zod';
import { PRIORITIES } from './model/case-type.js';

/**
 * The cases JSON API's requests and responses, as zod schemas. The routes validate with them, the
 * tests parse real responses with them, and the OpenAPI document is generated from them, so the
 * three cannot drift apart.
 */

/** Messages for values that are not even the right kind, in plain words rather than zod's. */
const text = (what: string) => z.string({ error: `${what} must be text` });
const code = (what: string) => text(what).trim().min(1, `Enter ${what.toLowerCase()}`).max(60, `${what} must be 60 characters or fewer`);

// ---------------------------------------------------------------------------------------------
// Requests

export const ListQuerySchema = z.strictObject(
  {
    team: code('Team').optional().describe('Only cases in this team’s queue (a team code).'),
    type: code('Type').optional().describe('Only cases of this type (a case type code). Restricted types are not available.'),
    status: code('Status').optional().describe('Only cases at this status (a status code of the case type).'),
    open: z
      .enum(['true', 'false'], { error: 'open must be true or false' })
      .transform((value) => value === 'true')
      .optional()
      .describe('`true` for open cases only, `false` for closed cases only; both when left out.'),
    updatedSince: z.iso
      .datetime({ offset: true, error: 'updatedSince must be a date and time such as 2026-03-01T09:30:00Z' })
      .transform((value) => new Date(value))
      .optional()
      .describe('Only cases changed at or after this time (ISO 8601). Encode a `+` in a time zone offset as `%2B`, or use `Z`.'),
    page: z.coerce
      .number({ error: 'page must be a whole number' })
      .int('page must be a whole number')
      .min(1, 'page must be 1 or more')
      .max(100_000, 'page must be 100000 or less')
      .default(1)
      .describe('Which page, from 1.'),
    pageSize: z.coerce
      .number({ error: 'pageSize must be a whole number' })
      .int('pageSize must be a whole number')
      .min(1, 'pageSize must be between 1 and 100')
      .max(100, 'pageSize must be between 1 and 100')
      .default(25)
      .describe('Cases per page, 1 to 100.'),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `Unknown query parameter${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}` : undefined,
  },
);
export type ListQuery = z.output<typeof ListQuerySchema>;

const bodyObject = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `Unknown field${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}`;
      if (issue.code === 'invalid_type') return 'The body must be a JSON object';
      return undefined;
    },
  });

export const StatusChangeSchema = bodyObject({
  status: code('Status').describe('The status to move the case to: one of the case’s `nextStatuses`.'),
  update: text('update')
    .trim()
    .max(5000, 'update must be 5000 characters or fewer')
    .optional()
    .describe('Shown to the resident on the case’s timeline, and put in the message they are sent about the new status.'),
  note: text('note')
    .trim()
    .max(10_000, 'note must be 10000 characters or fewer')
    .optional()
    .describe('An internal note for staff; never shown to the resident.'),
}).describe('A move to another status of the case’s workflow.');
export type StatusChange = z.output<typeof StatusChangeSchema>;

export const PublicUpdateSchema = bodyObject({
  text: text('text')
    .trim()
    .min(1, 'Enter the update')
    .max(5000, 'text must be 5000 characters or fewer')
    .describe('The update, shown to the resident on the case’s timeline.'),
}).describe('A public update on a case.');
export type PublicUpdate = z.output<typeof PublicUpdateSchema>;

// ---------------------------------------------------------------------------------------------
// Responses

const time = () => z.iso.datetime();

export const SLA_STATES = ['on-track', 'due-soon', 'breached'] as const;
export const ACTOR_TYPES = ['staff', 'resident', 'system', 'api'] as const;

export const LocationSchema = z
  .strictObject({
    lat: z.number().nullable().describe('Latitude (WGS 84).'),
    lng: z.number().nullable().describe('Longitude (WGS 84).'),
    uprn: z.string().nullable().describe('Unique Property Reference Number of the address, when known.'),
    usrn: z.string().nullable().describe('Unique Street Reference Number of the street, when known.'),
    ward: z.string().nullable().describe('The code of the ward the location is in.'),
    postcode: z.string().nullable().describe('Upper case, without spaces.'),
  })
  .describe('Where the case is about. Every field is null when not known, and after the case is anonymised.');

export const CaseSummarySchema = z
  .strictObject({
    reference: z.string().describe('The case’s reference, as the resident was told it: `ABCD-EFGH`.'),
    type: z.string().describe('The case type’s code.'),
    typeName: z.string().describe('The case type’s name.'),
    status: z.string().describe('The status code.'),
    statusLabel: z.string().describe('The status as staff see it.'),
    closed: z.boolean().describe('Whether the status is a closed one.'),
    priority: z.enum(PRIORITIES),
    team: z.string().describe('The code of the team whose queue the case is in.'),
    assigneeId: z.string().nullable().describe('The ID of the member of staff the case is assigned to, if any.'),
    openedAt: time().describe('When the case was opened.'),
    updatedAt: time().describe('When the case last changed.'),
    dueAt: time().nullable().describe('When the case should be closed by, under its type’s service level; null when there is none.'),
    closedAt: time().nullable().describe('When the case was closed; null while it is open.'),
    slaState: z.enum(SLA_STATES).nullable().describe('Where the case stands against its due time; null when it has none.'),
    location: LocationSchema,
  })
  .describe('A case, without anything about the person it is for.');
export type ApiCaseSummary = z.output<typeof CaseSummarySchema>;

export const CaseListSchema = z
  .strictObject({
    cases: z.array(CaseSummarySchema).describe('Least recently changed first.'),
    page: z.int().min(1),
    pageSize: z.int().min(1).max(100),
    total: z.int().min(0).describe('How many cases match the filters, over all pages.'),
  })
  .describe('A page of cases.');
export type ApiCaseList = z.output<typeof CaseListSchema>;

export const TimelineEntrySchema = z
  .strictObject({
    at: time().describe('When it happened.'),
    kind: z
      .string()
      .describe('What happened: `opened`, `status`, `update` (a public update), `resident-info` (added by the resident), `attachment`, and possibly others.'),
    by: z.enum(ACTOR_TYPES).describe('Who did it: council staff, the resident, Borough itself, or a system through this API.'),
    text: z.string().nullable().describe('The words shown to the resident, if any.'),
    status: z
      .strictObject({ from: z.string(), to: z.string() })
      .nullable()
      .describe('For a status change, the status codes it moved between; null for anything else.'),
  })
  .describe('An entry of the case’s public timeline: what the resident sees.');

export const NextStatusSchema = z
  .strictObject({ code: z.string(), label: z.string(), closed: z.boolean().describe('Whether moving there closes the case.') })
  .describe('A status the case may move to now.');

export const CaseDetailSchema = CaseSummarySchema.extend({
  title: z.string().describe('What the case is about, in a few words.'),
  timeline: z.array(TimelineEntrySchema).describe('Newest first.'),
  nextStatuses: z.array(NextStatusSchema),
}).describe('A case with its public timeline and the statuses it may move to.');
export type ApiCaseDetail = z.output<typeof CaseDetailSchema>;

export const ERROR_CODES = [
  'bad-request',
  'unauthorised',
  'forbidden',
  'not-found',
  'conflict',
  'payload-too-large',
  'unsupported-media-type',
  'internal-error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const IssueSchema = z.strictObject({
  path: z.string().describe('The field, such as `status` or `pageSize`; dots separate nested fields. Empty for the request as a whole.'),
  message: z.string(),
});

export const ErrorSchema = z
  .strictObject({
    error: z.enum(ERROR_CODES).describe('What kind of error, for programs to act on.'),
    message: z.string().describe('What went wrong, for people to read.'),
    issues: z.array(IssueSchema).optional().describe('With `bad-request`: each problem with the request, by field.'),
    requestId: z.string().optional().describe('With `internal-error`: quote it when reporting the problem.'),
  })
  .describe('Every error answer has this form.');
export type ApiError = z.output<typeof ErrorSchema>;

// ---------------------------------------------------------------------------------------------
// OpenAPI

const components = z.registry<{ id: string }>();
components.add(LocationSchema, { id: 'Location' });
components.add(CaseSummarySchema, { id: 'CaseSummary' });
components.add(CaseListSchema, { id: 'CaseList' });
components.add(TimelineEntrySchema, { id: 'TimelineEntry' });
components.add(NextStatusSchema, { id: 'NextStatus' });
components.add(CaseDetailSchema, { id: 'CaseDetail' });
components.add(StatusChangeSchema, { id: 'StatusChange' });
components.add(PublicUpdateSchema, { id: 'PublicUpdate' });
components.add(IssueSchema, { id: 'Issue' });
components.add(ErrorSchema, { id: 'Error' });

/** Request bodies refuse unknown fields; responses may gain fields later, which clients should ignore. */
const closedSchemas = new Set<unknown>([StatusChangeSchema, PublicUpdateSchema]);

type JsonSchema = Record<string, unknown>;

function tidy(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(components, {
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      if (jsonSchema.additionalProperties === false && !closedSchemas.has(zodSchema)) delete jsonSchema.additionalProperties;
      // The format says it; zod's long pattern for it adds nothing a reader or generator needs.
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, tidy(schema as JsonSchema)]));
}

function queryParameters(): JsonSchema[] {
  return Object.entries(ListQuerySchema.shape).map(([name, field]) => {
    const schema = tidy(z.toJSONSchema(field, { io: 'input', override: ({ jsonSchema }) => void delete jsonSchema.pattern }) as JsonSchema);
    const { description, ...rest } = schema;
    return { name, in: 'query', required: false, description, schema: rest };
  });
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string, description: string) => ({ description, content: { 'application/json': { schema: ref(id) } } });

const ERROR_ANSWERS = {
  400: 'The request is not valid: see `issues`.',
  401: 'No API key, or one that is wrong, revoked or expired.',
  403: 'The API key does not have the scope this needs.',
  404: 'No such case (restricted cases are never available through the API).',
  409: 'The case cannot make this change now: the workflow does not allow the move, or the case has been anonymised.',
  413: 'The body is too large.',
  415: 'The body is not JSON.',
  500: 'Something went wrong in Borough.',
} as const;

function errors(...statuses: (keyof typeof ERROR_ANSWERS)[]) {
  return Object.fromEntries(statuses.map((status) => [String(status), json('Error', ERROR_ANSWERS[status])]));
}

const referenceParameter = {
  name: 'reference',
  in: 'path',
  required: true,
  description: 'The case reference, `ABCD-EFGH`. Lower case and a missing hyphen are accepted.',
  schema: { type: 'string' },
};

/** Body size limit for the API's POSTs: far more than any honest update needs. */
export const API_BODY_LIMIT_BYTES = 32 * 1024;

/**
 * The OpenAPI 3.1 document for the cases API. `scopes` are the declared scope descriptions, so the
 * document says what each one allows in the same words administrators see.
 */
export function openApiDocument(scopes: readonly { scope: string; description: string }[]): JsonSchema {
  const scopeText = scopes.map((s) => `- \`${s.scope}\`: ${s.description}`).join('\n');
  const secured = (scope: string) => [{ apiKey: [scope] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Borough cases API',
      version: '1.0.0',
      description:
        'Case management for the council’s back-office systems: read cases and their public timelines, move cases through their workflows and post public updates. ' +
        'Restricted case types are never available through the API. Nothing about the person a case is for is given.\n\n' +
        'Every change is recorded in the audit log and on the case’s timeline as made by the API key’s system, and the resident is told as if staff had made it.',
    },
    tags: [{ name: 'cases', description: 'Case management' }],
    paths: {
      '/api/cases': {
        get: {
          tags: ['cases'],
          operationId: 'listCases',
          summary: 'List cases',
          description:
            'A page of cases, least recently changed first. To keep in step, ask for `updatedSince` a little before the latest `updatedAt` already seen.',
          security: secured('cases:read'),
          parameters: queryParameters(),
          responses: { 200: json('CaseList', 'A page of cases.'), ...errors(400, 401, 403, 500) },
        },
      },
      '/api/cases/{reference}': {
        get: {
          tags: ['cases'],
          operationId: 'getCase',
          summary: 'Get a case',
          security: secured('cases:read'),
          parameters: [referenceParameter],
          responses: { 200: json('CaseDetail', 'The case.'), ...errors(401, 403, 404, 500) },
        },
      },
      '/api/cases/{reference}/status': {
        post: {
          tags: ['cases'],
          operationId: 'changeCaseStatus',
          summary: 'Move a case to another status',
          description:
            'Moves the case as its workflow allows, exactly as a member of staff would: the timeline, the audit log, the resident’s message and any webhooks follow.',
          security: secured('cases:write'),
          parameters: [referenceParameter],
          requestBody: { required: true, content: { 'application/json': { schema: ref('StatusChange') } } },
          responses: { 200: json('CaseDetail', 'The case after the move.'), ...errors(400, 401, 403, 404, 409, 413, 415, 500) },
        },
      },
      '/api/cases/{reference}/updates': {
        post: {
          tags: ['cases'],
          operationId: 'addCaseUpdate',
          summary: 'Post a public update on a case',
          description: 'Adds an update the resident sees on the case’s timeline; they are sent it when the case’s status has a message.',
          security: secured('cases:write'),
          parameters: [referenceParameter],
          requestBody: { required: true, content: { 'application/json': { schema: ref('PublicUpdate') } } },
          responses: { 201: json('CaseDetail', 'The case with the update.'), ...errors(400, 401, 403, 404, 409, 413, 415, 500) },
        },
      },
      '/api/cases/openapi.json': {
        get: {
          tags: ['cases'],
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          security: [],
          responses: { 200: { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: `An API key from Borough's administrators, sent as \`Authorization: Bearer bk_...\`. Each key holds scopes:\n\n${scopeText}`,
        },
      },
    },
  };
}
