import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process stand-in for the GOV.UK Notify REST API (v2) on 127.0.0.1 and a random port, for
 * testing delivery over the real protocol with the real client library. It serves the two calls
 * Borough makes, sending an email and sending a text message:
 *
 * - `POST /v2/notifications/email` with `{ template_id, email_address, personalisation?, reference? }`
 * - `POST /v2/notifications/sms` with `{ template_id, phone_number, personalisation?, reference? }`
 *
 * Each request must carry `Authorization: Bearer <JWT>`, signed HS256 with the API key's secret,
 * whose `iss` is the service ID and whose `iat` is within 30 seconds of now. Failures answer in
 * Notify's error shape, `{ status_code, errors: [{ error, message }] }`.
 */

export interface NotifyTemplate {
  type: 'email' | 'sms';
  /** Email templates only. Placeholders are written `((name))`. */
  subject?: string;
  body: string;
}

export interface NotifyServerOptions {
  /** The service the API key belongs to (a UUID). A fresh one when left out. */
  serviceId?: string;
  /** The API key's secret (a UUID), which signs the client's tokens. A fresh one when left out. */
  secret?: string;
  /** The name part of the API key. */
  keyName?: string;
  /**
   * The service's templates, by ID. When given, other template IDs are refused and placeholders
   * must all be personalised, as Notify does; when left out, any template ID is accepted and the
   * personalisation is echoed back as the content.
   */
  templates?: Record<string, NotifyTemplate>;
}

export interface NotifyError {
  error: string;
  message: string;
}

export interface ReceivedNotifyRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: Record<string, unknown> | undefined;
  /** The status the server answered with. */
  status: number;
  /** The notification ID given out, for requests that were accepted. */
  notificationId?: string;
}

export interface TestNotifyServer {
  /** `http://127.0.0.1:<port>`, ready to give the Notify client as its base URL. */
  baseUrl: string;
  /** An API key in Notify's format, `<name>-<service ID>-<secret>`, that this server accepts. */
  apiKey: string;
  serviceId: string;
  /** Every request received so far, in order, whether it was accepted or not. */
  requests: ReceivedNotifyRequest[];
  /** The next authenticated request is answered with this status (and these errors) instead. */
  failNext(status: number, errors?: NotifyError[]): void;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLOCK_SKEW_SECONDS = 30;

/** What Notify says for the statuses tests ask for most. */
const DEFAULT_ERRORS: Record<number, NotifyError> = {
  400: { error: 'BadRequestError', message: 'Can’t send to this recipient using a team-only API key' },
  403: { error: 'AuthError', message: 'Invalid token: API key not found' },
  429: { error: 'RateLimitError', message: 'Exceeded rate limit for key type TEAM of 3000 requests per 60 seconds' },
  500: { error: 'Exception', message: 'Internal server error' },
};

class NotifyApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: NotifyError[],
  ) {
    super(errors[0]?.message ?? `HTTP ${status}`);
  }
}

const authError = (message: string) => new NotifyApiError(403, [{ error: 'AuthError', message }]);
const badRequest = (message: string) => new NotifyApiError(400, [{ error: 'BadRequestError', message }]);
const validationError = (message: string) => new NotifyApiError(400, [{ error: 'ValidationError', message }]);

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks the bearer token as Notify does, throwing a 403 when it will not do. */
function verifyToken(authorization: string | undefined, serviceId: string, secret: string): void {
  const match = /^Bearer (\S+)$/.exec(authorization ?? '');
  if (!match?.[1]) throw authError('Unauthorized: authentication token must be provided');
  const parts = match[1].split('.');
  if (parts.length !== 3) throw authError('Invalid token: signature, api token is not valid');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart);
  const payload = decodeSegment(payloadPart);
  if (!header || !payload) throw authError('Invalid token: signature, api token is not valid');
  if (header.alg !== 'HS256') throw authError('Invalid token: algorithm used is not HS256');
  if (typeof payload.iss !== 'string') throw authError('Invalid token: iss field not provided');
  if (payload.iss !== serviceId) throw authError('Invalid token: service not found');

  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw authError('Invalid token: API key not found');

  if (typeof payload.iat !== 'number') throw authError('Invalid token: iat field not provided');
  if (Math.abs(Date.now() / 1000 - payload.iat) > CLOCK_SKEW_SECONDS) throw authError('Error: Your system clock must be accurate to within 30 seconds');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function render(text: string, personalisation: Record<string, unknown>, missing: Set<string>): string {
  return text.replace(/\(\(([^()]+)\)\)/g, (_, name: string) => {
    const key = name.trim();
    const value = personalisation[key];
    if (value === undefined || value === null) {
      missing.add(key);
      return '';
    }
    return String(value);
  });
}

export async function startNotifyServer(options: NotifyServerOptions = {}): Promise<TestNotifyServer> {
  const serviceId = options.serviceId ?? randomUUID();
  const secret = options.secret ?? randomUUID();
  if (!UUID.test(serviceId)) throw new Error('The Notify service ID must be a UUID');
  if (!UUID.test(secret)) throw new Error('The Notify API key secret must be a UUID');
  const keyName = options.keyName ?? 'borough_test';

  const requests: ReceivedNotifyRequest[] = [];
  const failures: NotifyApiError[] = [];
  let baseUrl = '';

  function send(type: 'email' | 'sms', body: Record<string, unknown> | undefined) {
    if (!body) throw badRequest('Invalid JSON supplied in POST data');
    const recipientField = type === 'email' ? 'email_address' : 'phone_number';
    const templateId = body.template_id;
    const recipient = body[recipientField];
    if (typeof templateId !== 'string' || !templateId) throw validationError('template_id is a required property');
    if (!UUID.test(templateId)) throw validationError('template_id is not a valid UUID');
    if (typeof recipient !== 'string' || !recipient) throw validationError(`${recipientField} is a required property`);
    const personalisation = body.personalisation ?? {};
    if (typeof personalisation !== 'object' || personalisation === null || Array.isArray(personalisation)) {
      throw validationError('personalisation is not of type object');
    }
    const values = personalisation as Record<string, unknown>;
    const reference = body.reference;
    if (reference !== undefined && typeof reference !== 'string') throw validationError('reference is not of type string');
    const unsubscribe = body.one_click_unsubscribe_url;
    if (unsubscribe !== undefined && (type !== 'email' || typeof unsubscribe !== 'string'))
      throw validationError('one_click_unsubscribe_url is only for emails, as a string');

    let subject: string | undefined;
    let content: string;
    const template = options.templates?.[templateId];
    if (options.templates) {
      if (!template) throw badRequest('Template not found');
      if (template.type !== type) throw badRequest(`${template.type} template is not suitable for ${type} notification`);
      const missing = new Set<string>();
      subject = type === 'email' ? render(template.subject ?? '', values, missing) : undefined;
      content = render(template.body, values, missing);
      if (missing.size > 0) throw badRequest(`Missing personalisation: ${[...missing].join(', ')}`);
    } else {
      subject = type === 'email' ? String(values.subject ?? '') : undefined;
      content = String(values.body ?? '');
    }

    const id = randomUUID();
    return {
      id,
      reference: reference ?? null,
      content:
        type === 'email'
          ? { subject, body: content, from_email: 'borough.test@notifications.service.gov.uk', one_click_unsubscribe_url: unsubscribe ?? null }
          : { body: content, from_number: 'GOVUK' },
      uri: `${baseUrl}/v2/notifications/${id}`,
      template: { id: templateId, version: 1, uri: `${baseUrl}/services/${serviceId}/templates/${templateId}` },
      scheduled_for: null,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: ReceivedNotifyRequest): Promise<void> {
    const text = await readBody(req);
    record.body = parseJson(text);
    const path = record.path;
    const route = req.method === 'POST' && (path === '/v2/notifications/email' || path === '/v2/notifications/sms');
    if (!route) throw new NotifyApiError(404, [{ error: 'NotFound', message: 'The requested URL was not found on the server.' }]);

    verifyToken(req.headers.authorization, serviceId, secret);
    const failure = failures.shift();
    if (failure) throw failure;

    const result = send(path.endsWith('/email') ? 'email' : 'sms', record.body);
    record.notificationId = result.id;
    reply(res, record, 201, result);
  }

  function reply(res: ServerResponse, record: ReceivedNotifyRequest, status: number, body: unknown): void {
    record.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  const server = createServer((req, res) => {
    const record: ReceivedNotifyRequest = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://127.0.0.1').pathname,
      headers: req.headers,
      body: undefined,
      status: 0,
    };
    requests.push(record);
    handle(req, res, record).catch((err: unknown) => {
      if (err instanceof NotifyApiError) {
        reply(res, record, err.status, { status_code: err.status, errors: err.errors });
      } else {
        reply(res, record, 500, { status_code: 500, errors: [DEFAULT_ERRORS[500]] });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    apiKey: `${keyName}-${serviceId}-${secret}`,
    serviceId,
    requests,
    failNext(status, errors) {
      const fallback = DEFAULT_ERRORS[status] ?? { error: 'Error', message: `Request failed with status ${status}` };
      failures.push(new NotifyApiError(status, errors ?? [fallback]));
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
