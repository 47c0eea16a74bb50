import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '#platform/http/errors';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import { normaliseReference } from '#modules/cases/index';
import { REPORT_STATUSES, type ReportCategory } from './model/category.js';
import {
  ASSET_ATTRIBUTE,
  DAY_MS,
  definitionOf,
  extendedStatus,
  parseExtendedStatus,
  parseW3cTime,
  requestOf,
  serviceOf,
  w3cTime,
} from './open311-documents.js';
import { xmlDocument, type XmlValue } from './open311-xml.js';
import { ReportProblems, type ReportsService } from './service.js';

/**
 * Open311 GeoReport v2 at `/open311/v2/`, with FixMyStreet's extensions (extended statuses and
 * `servicerequestupdates`), for apps that make reports and for back-office systems that send
 * updates (see docs/open311.md). Every answer is JSON or XML as the path's extension says, errors
 * included. Reading is open to anyone; making reports and reading or sending updates needs an API
 * key with the `reports:open311` scope, sent as `api_key` as the specification says.
 */

const OPEN311_SCOPE = 'reports:open311';
/** Accepted only while the platform runs as a demo, which the configuration refuses in production. */
export const DEMO_OPEN311_KEY = 'demo-open311-key';
const DEMO_CLIENT: Open311Client = { id: 'demo-open311', label: 'Demo Open311 client' };
const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2';
/** When this API last changed, for discovery. */
const CHANGESET = '2026-11-23T00:00:00Z';
/** The specification's limits: a query covers at most 90 days and returns at most 1000 requests. */
const MAX_SPAN_DAYS = 90;
const MAX_RESULTS = 1000;
const POST_RATE_LIMIT = { max: 120, timeWindow: '1 minute' };

type Format = 'json' | 'xml';
type Fields = Record<string, unknown>;
type Open311Client = { id: string; label: string };
type FormatParams = { Params: { format: string } };

/** A refusal in the specification's shape: a list of errors, each with a code and a description. */
class Open311Error extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    readonly descriptions: string[],
  ) {
    super(descriptions.join('; '));
  }
}

const badRequest = (...descriptions: string[]) => new Open311Error(400, descriptions);
const notFound = (description: string) => new Open311Error(404, [description]);

function formatOf(value: string): Format {
  if (value === 'json' || value === 'xml') return value;
  throw notFound(`There is no "${value}" format: use .json or .xml`);
}

/** The format asked for by the path's extension; JSON when it names none we write. */
function formatOfPath(url: string): Format {
  const extension = /\.([A-Za-z]+)$/.exec(url.split('?')[0] ?? '')?.[1]?.toLowerCase();
  return extension === 'xml' ? 'xml' : 'json';
}

function send(reply: FastifyReply, format: Format, root: string, value: XmlValue, status = 200): FastifyReply {
  return format === 'xml'
    ? reply.code(status).type('text/xml; charset=utf-8').send(xmlDocument(root, value))
    : reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(value));
}

/** One text value of a field: the first if it was sent more than once; numbers as typed. */
function one(fields: Fields, name: string): string | undefined {
  const raw = fields[name];
  const value = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return undefined;
  return value.trim() === '' ? undefined : value;
}

function asAnswer(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.flatMap((item: unknown) => (typeof item === 'string' || typeof item === 'number' ? [String(item)] : []));
  return undefined;
}

/**
 * Attribute values as posted: `attribute[code]=value`, `attribute[code][]=a&attribute[code][]=b`
 * for a multivaluelist, or in a JSON body `"attribute": { "code": "value" }`.
 */
function attributesOf(fields: Fields): Record<string, string | string[]> {
  const attributes: Record<string, string | string[]> = {};
  const nested = fields.attribute;
  if (nested !== null && typeof nested === 'object' && !Array.isArray(nested))
    for (const [code, value] of Object.entries(nested as Record<string, unknown>)) {
      const answer = asAnswer(value);
      if (answer !== undefined) attributes[code] = answer;
    }
  for (const [name, value] of Object.entries(fields)) {
    const m = /^attribute\[([^\]]+)\](\[\])?$/.exec(name);
    const answer = asAnswer(value);
    if (!m?.[1] || answer === undefined) continue;
    attributes[m[1]] = m[2] && typeof answer === 'string' ? [answer] : answer;
  }
  return attributes;
}

function bodyOf(request: FastifyRequest): Fields {
  const body = request.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Fields) : {};
}

function queryOf(request: FastifyRequest): Fields {
  return (request.query ?? {}) as Fields;
}

/** Where a new report is: lat and long, or the first place that matches address_string. */
type Where = { lat: number; lng: number; field: string; place: string | undefined };

const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

export function registerOpen311(app: FastifyInstance, service: ReportsService, account: Account, platform: Platform): void {
  const { config } = platform;
  const { profile } = platform.council;

  const publicCategory = (code: string): ReportCategory | undefined => {
    const category = service.category(code);
    return category?.public ? category : undefined;
  };

  /** The client for an api_key: a live key with the scope, or the demo key while the platform is a demo. */
  async function clientOf(key: string | undefined): Promise<Open311Client> {
    if (!key) throw new Open311Error(403, [`api_key is required: ask ${profile.shortName} for an API key with the scope ${OPEN311_SCOPE}`]);
    if (config.demo && key === DEMO_OPEN311_KEY) return DEMO_CLIENT;
    const client = await account.apiKeys.authenticate(key);
    if (!client) throw new Open311Error(403, ['api_key is not valid: it may be mistyped, revoked or expired']);
    if (!client.scopes.includes(OPEN311_SCOPE)) throw new Open311Error(403, [`api_key does not have the scope ${OPEN311_SCOPE}`]);
    return { id: client.id, label: client.name };
  }

  async function whereOf(fields: Fields): Promise<Where | string> {
    const lat = one(fields, 'lat');
    const long = one(fields, 'long');
    const address = one(fields, 'address_string')?.trim().slice(0, 200);
    if (lat !== undefined || long !== undefined) {
      const [y, x] = [Number(lat), Number(long)];
      if (!lat || !long || !DECIMAL.test(lat.trim()) || !DECIMAL.test(long.trim()) || Math.abs(y) > 90 || Math.abs(x) > 180)
        return 'lat and long: give both, in decimal degrees (WGS84)';
      return { lat: y, lng: x, field: 'lat and long', place: address };
    }
    if (address) {
      const [found] = await service.findPlaces(address, 1);
      if (!found) return `address_string: no street, postcode or address in ${profile.area} matches "${address.slice(0, 100)}"; give lat and long instead`;
      return { lat: found.lat, lng: found.lng, field: 'address_string', place: address };
    }
    if (one(fields, 'address_id')) return 'address_id is not supported: give lat and long, or address_string';
    return 'lat and long, or address_string, is required: say where the problem is';
  }

  /** Names a service refusal's field as the Open311 client sent it. */
  function fieldName(field: string, category: ReportCategory, where: Where): string {
    const names: Record<string, string> = {
      category: 'service_code',
      location: where.field,
      asset: `attribute[${ASSET_ATTRIBUTE}]`,
      detail: 'description',
      name: 'first_name and last_name',
      photos: 'media_url',
    };
    if (category.questions.some((question) => question.id === field)) return `attribute[${field}]`;
    return names[field] ?? field;
  }

  function timeOf(fields: Fields, name: string, opts: { endOfDay?: boolean } = {}): Date | undefined {
    const text = one(fields, name);
    if (text === undefined) return undefined;
    const time = parseW3cTime(text, opts);
    if (!time) throw badRequest(`${name}: "${text.slice(0, 40)}" is not a W3C date-time, like 2026-11-23T17:05:00Z or 2026-11-23T17:05:00+01:00`);
    return time;
  }

  function listOf(fields: Fields, name: string): string[] {
    const raw = fields[name];
    const texts = (Array.isArray(raw) ? (raw as unknown[]) : [raw]).filter((v): v is string => typeof v === 'string');
    return [
      ...new Set(
        texts
          .flatMap((text) => text.split(','))
          .map((item) => item.trim())
          .filter(Boolean),
      ),
    ];
  }

  function wholeNumber(fields: Fields, name: string, max: number, fallback: number): number {
    const text = one(fields, name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < 1 || value > max) throw badRequest(`${name} must be a whole number from 1 to ${max}`);
    return value;
  }

  void app.register(
    async (api) => {
      api.addHook('onSend', async (request, reply, payload) => {
        if (request.method !== 'GET' || request.url.includes('servicerequestupdates')) reply.header('cache-control', 'no-store');
        return payload;
      });

      api.setNotFoundHandler((request, reply) =>
        send(reply, formatOfPath(request.url), 'errors', [{ code: 404, description: 'There is no such Open311 address: see discovery.json' }], 404),
      );

      api.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
        const format = formatOfPath(request.url);
        const list = (status: number, descriptions: string[]) =>
          send(
            reply,
            format,
            'errors',
            descriptions.map((description) => ({ code: status, description })),
            status,
          );
        if (error instanceof Open311Error) return list(error.status, error.descriptions);
        const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
        if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return list(400, ['Send the body form-encoded (application/x-www-form-urlencoded) or as JSON']);
        if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return list(400, ['The body is too large']);
        const status = error instanceof HttpError ? error.statusCode : 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
        if (status === 429) return list(429, ['Too many requests: wait a minute and try again']);
        if (status === 400 && !(error instanceof HttpError)) return list(400, ['The body could not be read: send it form-encoded or as valid JSON']);
        if (status >= 400 && status < 500) return list(status === 403 || status === 404 ? status : 400, [error.message]);
        request.log.error({ err: error }, 'Open311 request failed');
        return list(500, [`Something went wrong. Try again later; if it keeps happening, quote ${String(request.id)} to ${profile.contact.email}`]);
      });

      const get = { config: { csrf: false } };
      const post = { config: { csrf: false, rateLimit: POST_RATE_LIMIT } };

      api.get<FormatParams>('/discovery.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const { contact } = profile;
        return send(reply, format, 'discovery', {
          changeset: CHANGESET,
          contact: `Email ${contact.email} or call ${contact.phone} (${contact.phoneHours}).`,
          key_service: `Reading needs no key. To make reports or send updates, ask ${profile.shortName} (${contact.email}) for an API key with the scope ${OPEN311_SCOPE}.`,
          endpoints: [
            {
              specification: SPECIFICATION,
              url: `${config.baseUrl}/open311/v2`,
              changeset: CHANGESET,
              type: 'production',
              formats: ['text/xml', 'application/json'],
            },
          ],
        });
      });

      api.get<FormatParams>('/services.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const services = service
          .categories()
          .filter((category) => category.public)
          .map(serviceOf);
        return send(reply, format, 'services', services);
      });

      api.get<{ Params: { code: string; format: string } }>('/services/:code.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const category = publicCategory(request.params.code);
        if (!category) throw notFound(`service_code "${request.params.code.slice(0, 60)}" is not a service: see services.${format}`);
        return send(reply, format, 'service_definition', definitionOf(category));
      });

      api.post<FormatParams>('/requests.:format', post, async (request, reply) => {
        const format = formatOf(request.params.format);
        const fields = bodyOf(request);
        const client = await clientOf(one(fields, 'api_key') ?? one(queryOf(request), 'api_key'));

        const problems: string[] = [];
        const code = one(fields, 'service_code');
        const category = code === undefined ? undefined : publicCategory(code);
        if (code === undefined) problems.push(`service_code is required: see services.${format}`);
        else if (!category) problems.push(`service_code: "${code.slice(0, 60)}" is not a service; see services.${format}`);
        const where = await whereOf(fields);
        if (typeof where === 'string') problems.push(where);
        const mediaUrl = one(fields, 'media_url')?.trim();
        if (mediaUrl !== undefined && !/^https?:\/\/[^\s]+$/i.test(mediaUrl))
          problems.push('media_url: give the address of the photo, starting http:// or https://');
        if (problems.length > 0 || !category || typeof where === 'string') throw badRequest(...problems);

        const attributes = attributesOf(fields);
        const description = one(fields, 'description');
        const asset = attributes[ASSET_ATTRIBUTE];
        // A client's own id for the request makes a retry find the report it made: FixMyStreet sends its report id as this attribute.
        const clientReference = one(fields, 'client_request_id') ?? (typeof attributes.fixmystreet_id === 'string' ? attributes.fixmystreet_id : undefined);
        let result: Awaited<ReturnType<ReportsService['submit']>>;
        try {
          result = await service.submit({
            category: category.code,
            lat: where.lat,
            lng: where.lng,
            place: where.place,
            assetId: typeof asset === 'string' ? asset.trim() : undefined,
            // The photo is never fetched: its address is kept with the words, for staff to open.
            detail: description === undefined ? '' : [description, mediaUrl ? `Photo: ${mediaUrl}` : ''].filter(Boolean).join('\n\n'),
            answers: attributes,
            reporter: {
              name: [one(fields, 'first_name'), one(fields, 'last_name')].filter(Boolean).join(' '),
              email: one(fields, 'email'),
              phone: one(fields, 'phone'),
              showName: false,
            },
            source: 'open311',
            apiKeyId: client.id,
            submissionKey: clientReference ? `${client.id}:${clientReference.trim().slice(0, 200)}` : undefined,
          });
        } catch (error) {
          if (error instanceof ReportProblems) throw badRequest(...error.problems.map((p) => `${fieldName(p.field, category, where)}: ${p.message}`));
          throw error;
        }
        return send(reply, format, 'service_requests', [
          { service_request_id: result.report.reference, token: result.token, service_notice: result.urgentMessage ?? '', account_id: '' },
        ]);
      });

      api.get<FormatParams>('/requests.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const query = queryOf(request);
        const extensions = /^(true|1)$/i.test(one(query, 'extensions') ?? '');
        const ids = listOf(query, 'service_request_id');
        if (ids.length > 0) {
          // Asking by id overrides every other filter, as the specification says.
          const reports = await service.listReports({ reference: ids.slice(0, MAX_RESULTS).map(normaliseReference), limit: MAX_RESULTS });
          return send(
            reply,
            format,
            'service_requests',
            reports.map((report) => requestOf(report, { agency: profile.name, baseUrl: config.baseUrl, extensions })),
          );
        }

        const problems: string[] = [];
        const codes = listOf(query, 'service_code');
        const unknown = codes.filter((c) => !publicCategory(c));
        if (unknown.length > 0)
          problems.push(
            `service_code: ${unknown.map((c) => `"${c.slice(0, 60)}"`).join(', ')} ${unknown.length === 1 ? 'is not a service' : 'are not services'}`,
          );
        const statuses = new Set(listOf(query, 'status').map((s) => s.toLowerCase()));
        const strange = [...statuses].filter((s) => s !== 'open' && s !== 'closed');
        if (strange.length > 0) problems.push('status: give open, closed or open,closed');
        let start: Date | undefined;
        let end: Date | undefined;
        try {
          start = timeOf(query, 'start_date');
          end = timeOf(query, 'end_date', { endOfDay: true });
        } catch (error) {
          if (!(error instanceof Open311Error)) throw error;
          problems.push(...error.descriptions);
        }
        let pageSize = MAX_RESULTS;
        let page = 1;
        try {
          pageSize = wholeNumber(query, 'page_size', MAX_RESULTS, MAX_RESULTS);
          page = wholeNumber(query, 'page', 100_000, 1);
        } catch (error) {
          if (!(error instanceof Open311Error)) throw error;
          problems.push(...error.descriptions);
        }
        // Without dates, the last 90 days; with one, the 90 days after or before it.
        const span = MAX_SPAN_DAYS * DAY_MS;
        const until = end ?? (start ? new Date(start.getTime() + span) : new Date());
        const since = start ?? new Date(until.getTime() - span);
        if (since > until) problems.push('start_date must be before end_date');
        else if (until.getTime() - since.getTime() > span) problems.push(`start_date and end_date may be at most ${MAX_SPAN_DAYS} days apart`);
        if (problems.length > 0) throw badRequest(...problems);

        const closed = statuses.size === 1 ? statuses.has('closed') : undefined;
        const reports = await service.listReports({
          categories: codes.length > 0 ? codes : undefined,
          closed,
          since,
          until,
          order: 'newest',
          limit: pageSize,
          offset: (page - 1) * pageSize,
        });
        const opts = { agency: profile.name, baseUrl: config.baseUrl, extensions };
        return send(
          reply,
          format,
          'service_requests',
          reports.map((report) => requestOf(report, opts)),
        );
      });

      api.get<{ Params: { id: string; format: string } }>('/requests/:id.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const [listed] = await service.listReports({ reference: [normaliseReference(request.params.id)], limit: 1 });
        if (!listed) throw notFound(`service_request_id "${request.params.id.slice(0, 40)}" is not a public report`);
        const extensions = /^(true|1)$/i.test(one(queryOf(request), 'extensions') ?? '');
        return send(reply, format, 'service_requests', [requestOf(listed, { agency: profile.name, baseUrl: config.baseUrl, extensions })]);
      });

      api.get<{ Params: { token: string; format: string } }>('/tokens/:token.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const report = await service.byToken(request.params.token);
        if (!report) throw notFound('token: no request was made with this token');
        return send(reply, format, 'service_requests', [{ token: request.params.token, service_request_id: report.reference }]);
      });

      api.get<FormatParams>('/servicerequestupdates.:format', get, async (request, reply) => {
        const format = formatOf(request.params.format);
        const query = queryOf(request);
        await clientOf(one(query, 'api_key'));
        const until = timeOf(query, 'end_date', { endOfDay: true });
        // Without a start, the day before the end (or now).
        const since = timeOf(query, 'start_date') ?? new Date((until ?? new Date()).getTime() - DAY_MS);
        if (until && since > until) throw badRequest('start_date must be before end_date');
        const updates = await service.updatesSince(since, until, MAX_RESULTS);
        return send(
          reply,
          format,
          'service_request_updates',
          updates.map((update) => ({
            update_id: String(update.id),
            service_request_id: update.reference,
            status: extendedStatus(update.status),
            description: update.text ?? '',
            updated_datetime: w3cTime(new Date(update.created_at)),
            media_url: '',
          })),
        );
      });

      api.post<FormatParams>('/servicerequestupdates.:format', post, async (request, reply) => {
        const format = formatOf(request.params.format);
        const fields = bodyOf(request);
        const client = await clientOf(one(fields, 'api_key') ?? one(queryOf(request), 'api_key'));
        const problems: string[] = [];
        const reference = one(fields, 'service_request_id')?.trim();
        if (!reference) problems.push('service_request_id is required');
        const statusText = one(fields, 'status');
        const status = statusText === undefined ? undefined : parseExtendedStatus(statusText);
        if (statusText === undefined) problems.push('status is required');
        else if (!status) problems.push(`status: "${statusText.slice(0, 40)}" is not a status; use one of ${REPORT_STATUSES.map(extendedStatus).join(', ')}`);
        try {
          timeOf(fields, 'updated_datetime');
        } catch (error) {
          if (!(error instanceof Open311Error)) throw error;
          problems.push(...error.descriptions);
        }
        if (problems.length > 0 || !reference || !status) throw badRequest(...problems);
        let update: Awaited<ReturnType<ReportsService['backOfficeUpdate']>>;
        try {
          update = await service.backOfficeUpdate(client, reference, status, one(fields, 'description'));
        } catch (error) {
          if (error instanceof ReportProblems) throw badRequest(...error.problems.map((p) => `${p.field}: ${p.message}`));
          if (error instanceof HttpError && error.statusCode === 404) throw notFound(`service_request_id "${reference.slice(0, 40)}" is not a report`);
          throw error;
        }
        return send(reply, format, 'service_request_updates', [{ update_id: update ? String(update.id) : '' }]);
      });
    },
    { prefix: '/open311/v2' },
  );
}
