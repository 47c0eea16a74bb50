import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HttpError } from '#platform/http/errors';
import type { Account } from '#modules/account/index';
import {
  API_BODY_LIMIT_BYTES,
  ListQuerySchema,
  openApiDocument,
  PublicUpdateSchema,
  StatusChangeSchema,
  type ApiCaseDetail,
  type ApiCaseList,
  type ApiCaseSummary,
  type ApiError,
  type ErrorCode,
} from './api-schemas.js';
import type { CaseActor, CasesService } from './service.js';

/**
 * The cases JSON API for the council's back-office systems, under `/api/cases` (see
 * docs/cases-api.md). Clients authenticate with API keys; what they change goes through the same
 * service calls as staff, recorded as made by the key's system. Restricted cases are never served:
 * an API client belongs to no team.
 */

type ApiCase = Awaited<ReturnType<CasesService['apiCases']>>['cases'][number];
type ApiCaseWithTimeline = Awaited<ReturnType<CasesService['apiCase']>>;
type Issue = { path: string; message: string };

/** A request the API refuses before doing anything, with a message per field. */
class BadRequest extends Error {
  constructor(readonly issues: Issue[]) {
    super(issues.length === 1 && issues[0] ? issues[0].message : 'The request is not valid: see issues');
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequest(result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));
  return result.data;
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

function summaryOf(c: ApiCase): ApiCaseSummary {
  return {
    reference: c.reference,
    type: c.type,
    typeName: c.typeName,
    status: c.status,
    statusLabel: c.statusLabel,
    closed: c.closed,
    priority: c.priority as ApiCaseSummary['priority'],
    team: c.team,
    assigneeId: c.assigneeId,
    openedAt: c.openedAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    dueAt: iso(c.dueAt),
    closedAt: iso(c.closedAt),
    slaState: c.sla,
    location: { lat: c.lat, lng: c.lng, uprn: c.uprn, usrn: c.usrn, ward: c.ward, postcode: c.postcode },
  };
}

function detailOf(found: ApiCaseWithTimeline): ApiCaseDetail {
  return {
    ...summaryOf(found.case),
    title: found.case.title,
    timeline: found.events.map((event) => {
      const { from, to } = event.details;
      return {
        at: new Date(event.at).toISOString(),
        kind: event.kind,
        by: event.actor_type,
        text: event.body,
        status: event.kind === 'status' && typeof from === 'string' && typeof to === 'string' ? { from, to } : null,
      };
    }),
    nextStatuses: found.nextStatuses,
  };
}

const CODES: Record<number, ErrorCode> = {
  400: 'bad-request',
  401: 'unauthorised',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/** The JSON error answer for anything a route threw: never a page, never a stack trace. */
function errorAnswer(error: FastifyError | Error, request: FastifyRequest): { status: number; body: ApiError } {
  if (error instanceof BadRequest) return { status: 400, body: { error: 'bad-request', message: error.message, issues: error.issues } };
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 413, body: { error: 'payload-too-large', message: `The body must be ${API_BODY_LIMIT_BYTES / 1024} KiB or smaller.` } };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return { status: 415, body: { error: 'unsupported-media-type', message: 'Send the body as JSON, with "Content-Type: application/json".' } };
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return {
      status: 400,
      body: { error: 'bad-request', message: 'The body is empty: send a JSON object.', issues: [{ path: '', message: 'Send a JSON object' }] },
    };
  const status = error instanceof HttpError ? error.statusCode : 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 400 && !(error instanceof HttpError)) {
    // Prototype poisoning is reported as a plain 400 too: to the client it is just JSON Borough will not take.
    const message = code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' ? 'The body did not match its Content-Length.' : 'The body is not valid JSON.';
    return { status, body: { error: 'bad-request', message, issues: [{ path: '', message: 'Send a JSON object' }] } };
  }
  const kind = CODES[status];
  if (kind === undefined || status >= 500) {
    request.log.error({ err: error }, 'cases API request failed');
    return { status: 500, body: { error: 'internal-error', message: 'Something went wrong in Borough. Try again later.', requestId: String(request.id) } };
  }
  // Errors from the service are written for people, and say nothing they should not.
  return { status, body: { error: kind, message: error.message, ...(kind === 'bad-request' ? { issues: [] } : {}) } };
}

export function registerCaseApi(app: FastifyInstance, service: CasesService, account: Account): void {
  const read = account.apiKeys.routeOptions('cases:read');
  const write = { ...account.apiKeys.routeOptions('cases:write'), bodyLimit: API_BODY_LIMIT_BYTES };
  let document: string | undefined;

  /** Who is acting: the system the request's API key belongs to, as the guard established. */
  function clientOf(request: FastifyRequest): CaseActor {
    const client = account.apiKeys.actorOf(request);
    if (client.type !== 'api' || !client.id) throw new Error('The API key guard did not run for this route');
    return { type: 'api', id: client.id, label: client.label ?? client.id };
  }

  void app.register(
    async (api) => {
      // JSON only: the site's form parser would otherwise let a urlencoded body through.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: API_BODY_LIMIT_BYTES }, api.getDefaultJsonParser('error', 'error'));

      api.addHook('onSend', async (_request, reply, payload) => {
        if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
        return payload;
      });
      api.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const { status, body } = errorAnswer(error, request);
        if (status < 500) request.log.info({ status, error: body.error }, 'cases API request refused');
        return reply.code(status).type('application/json; charset=utf-8').send(body);
      });
      api.setNotFoundHandler((_request, reply) => {
        const body: ApiError = { error: 'not-found', message: 'There is no such address in the cases API: see /api/cases/openapi.json.' };
        return reply.code(404).send(body);
      });

      api.get('/openapi.json', async (_request, reply) => {
        // Built on first use: by then every scope has been declared.
        document ??= JSON.stringify(openApiDocument(account.apiKeys.scopes().filter((s) => s.scope.startsWith('cases:'))));
        return reply.type('application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(document);
      });

      api.get('', read, async (request) => {
        const query = parse(ListQuerySchema, request.query);
        const issues: Issue[] = [];
        if (query.team !== undefined && !service.isTeam(query.team)) issues.push({ path: 'team', message: `There is no team "${query.team}"` });
        const type = query.type === undefined ? undefined : service.types.get(query.type);
        if (query.type !== undefined && !type) issues.push({ path: 'type', message: `There is no case type "${query.type}"` });
        if (type?.restricted) issues.push({ path: 'type', message: `${type.name} cases are restricted, and not available through the API` });
        if (issues.length) throw new BadRequest(issues);
        const result = await service.apiCases(query);
        const list: ApiCaseList = { cases: result.cases.map(summaryOf), page: result.page, pageSize: result.pageSize, total: result.total };
        return list;
      });

      api.get<{ Params: { reference: string } }>('/:reference', read, async (request) => detailOf(await service.apiCase(request.params.reference)));

      api.post<{ Params: { reference: string } }>('/:reference/status', write, async (request) => {
        const body = parse(StatusChangeSchema, request.body);
        const current = await service.apiCase(request.params.reference);
        const type = service.types.get(current.case.type);
        if (!type?.status(body.status))
          throw new BadRequest([{ path: 'status', message: `"${body.status}" is not a status of ${type?.name ?? 'this kind of'} cases` }]);
        await service.changeStatus(clientOf(request), current.case.reference, body.status, { update: body.update, note: body.note });
        return detailOf(await service.apiCase(current.case.reference));
      });

      api.post<{ Params: { reference: string } }>('/:reference/updates', write, async (request, reply) => {
        const body = parse(PublicUpdateSchema, request.body);
        const current = await service.apiCase(request.params.reference);
        await service.addNote(clientOf(request), current.case.reference, body.text, { public: true });
        return reply.code(201).send(detailOf(await service.apiCase(current.case.reference)));
      });
    },
    { prefix: '/api/cases' },
  );
}
