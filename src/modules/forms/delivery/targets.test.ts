import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  caseContactFromAnswers,
  caseSettingsSchema,
  deliverySettingsProblems,
  emailSettingsSchema,
  resolveWebhookSecret,
  sendWebhook,
  signWebhook,
  verifyWebhookSignature,
  webhookPayload,
  webhookSettingsSchema,
  type CaseCreator,
  type CaseRequest,
  type WebhookPayload,
} from './targets.js';

const SECRET = 'a-shared-webhook-secret-for-tests';
const NOW = Date.parse('2026-03-01T12:00:00Z');
const NOW_SECONDS = NOW / 1000;

function messages(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
}

// ---------------------------------------------------------------------------------------------
// Settings

test('webhook settings accept an https URL and a secret name, defaulting the timeout', () => {
  const parsed = webhookSettingsSchema.parse({ url: 'https://receiver.example.org/hooks/forms', secretEnv: 'WEBHOOK_SECRET_FORMS' });
  assert.deepEqual(parsed, { url: 'https://receiver.example.org/hooks/forms', secretEnv: 'WEBHOOK_SECRET_FORMS', timeoutSeconds: 10 });
  assert.equal(webhookSettingsSchema.parse({ url: 'http://10.0.0.5:8080/in', secretEnv: 'WEBHOOK_SECRET_A', timeoutSeconds: 60 }).timeoutSeconds, 60);
});

test('webhook settings refuse other schemes, bad secret names, out of range timeouts and unknown keys', () => {
  assert.deepEqual(messages(webhookSettingsSchema.safeParse({ url: 'ftp://files.example.org/', secretEnv: 'forms_secret', timeoutSeconds: 0 })), [
    'url: Enter a URL starting with https:// or http://',
    'secretEnv: Enter an environment variable name starting WEBHOOK_SECRET_, in capitals, digits and underscores',
    'timeoutSeconds: Timeout must be between 1 and 60 seconds',
  ]);
  assert.deepEqual(messages(webhookSettingsSchema.safeParse({ url: 'https://a.example', secretEnv: '1SECRET', timeoutSeconds: 2.5 })), [
    'secretEnv: Enter an environment variable name starting WEBHOOK_SECRET_, in capitals, digits and underscores',
    'timeoutSeconds: Enter the timeout as a whole number of seconds',
  ]);
  assert.deepEqual(messages(webhookSettingsSchema.safeParse({ url: 'https://a.example', secretEnv: 'WEBHOOK_SECRET_S', secret: 'hunter2' })), [
    ': Remove the unknown setting secret',
  ]);
  assert.deepEqual(messages(webhookSettingsSchema.safeParse({})), [
    'url: Enter a URL starting with https:// or http://',
    'secretEnv: Enter the name of the environment variable holding the secret',
  ]);
  assert.equal(webhookSettingsSchema.safeParse({ url: 'https://a.example', secretEnv: 'WEBHOOK_SECRET_S', timeoutSeconds: 61 }).success, false);
  assert.deepEqual(messages(webhookSettingsSchema.safeParse('https://a.example')), [': Settings must be an object']);
});

test('email settings need a team inbox and take an optional subject prefix', () => {
  assert.deepEqual(emailSettingsSchema.parse({ to: 'planning@council.example.gov.uk', subjectPrefix: '[Planning]' }), {
    to: 'planning@council.example.gov.uk',
    subjectPrefix: '[Planning]',
  });
  assert.deepEqual(messages(emailSettingsSchema.safeParse({})), ['to: Enter an email address']);
  assert.deepEqual(messages(emailSettingsSchema.safeParse({ to: 'not an address' })), ['to: Enter an email address']);
  assert.deepEqual(messages(emailSettingsSchema.safeParse({ to: 'a@b.example', subjectPrefix: 7, cc: 'x@b.example', bcc: 'y@b.example' })), [
    'subjectPrefix: Subject prefix must be text',
    ': Remove the unknown settings cc, bcc',
  ]);
});

test('case settings are all optional, and priority is one of four', () => {
  assert.deepEqual(caseSettingsSchema.parse({}), {});
  assert.deepEqual(caseSettingsSchema.parse({ team: 'HOUSING', caseType: 'repair', priority: 'urgent' }), {
    team: 'HOUSING',
    caseType: 'repair',
    priority: 'urgent',
  });
  assert.deepEqual(messages(caseSettingsSchema.safeParse({ priority: 'asap', team: '' })), [
    'team: Enter a team code or leave it out',
    'priority: Priority must be low, normal, high or urgent',
  ]);
});

test('delivery settings problems name the delivery and the setting', () => {
  assert.deepEqual(deliverySettingsProblems({ name: 'teamInbox', type: 'email', settings: { to: 'housing' } }), [
    'Delivery "teamInbox": settings.to: Enter an email address',
  ]);
  assert.deepEqual(
    deliverySettingsProblems({ name: 'crm', type: 'webhook', settings: { url: 'https://crm.example.org/in', secretEnv: 'WEBHOOK_SECRET_CRM', extra: true } }),
    ['Delivery "crm": settings: Remove the unknown setting extra'],
  );
  assert.deepEqual(deliverySettingsProblems({ name: 'crm', type: 'webhook', settings: null }), ['Delivery "crm": settings: Settings must be an object']);
  assert.deepEqual(deliverySettingsProblems({ name: 'caseWork', type: 'case', settings: { priority: 'high' } }), []);
  assert.deepEqual(deliverySettingsProblems({ name: 'odd', type: 'fax' as 'case', settings: {} }), ['Delivery "odd": type must be webhook, email or case']);
});

// ---------------------------------------------------------------------------------------------
// Signing

test('a signature has the documented form and verifies', () => {
  const body = '{"event":"form.submitted"}';
  const header = signWebhook(SECRET, body, NOW_SECONDS);
  const expected = createHmac('sha256', SECRET).update(`${NOW_SECONDS}.${body}`).digest('hex');
  assert.equal(header, `t=${NOW_SECONDS},v1=${expected}`);
  assert.deepEqual(verifyWebhookSignature(SECRET, body, header, { now: NOW }), { ok: true });
  assert.deepEqual(verifyWebhookSignature(SECRET, body, header, { now: NOW + 299_000 }), { ok: true });
});

test('a tampered body or the wrong secret fails', () => {
  const body = '{"answers":{"amount":10}}';
  const header = signWebhook(SECRET, body, NOW_SECONDS);
  assert.deepEqual(verifyWebhookSignature(SECRET, '{"answers":{"amount":99}}', header, { now: NOW }), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(verifyWebhookSignature(SECRET, `${body} `, header, { now: NOW }), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(verifyWebhookSignature('another-secret-of-some-length', body, header, { now: NOW }), { ok: false, reason: 'bad-signature' });
  // Moving the time breaks the signature too, so a replay cannot be freshened.
  const moved = header.replace(`t=${NOW_SECONDS}`, `t=${NOW_SECONDS + 600}`);
  assert.deepEqual(verifyWebhookSignature(SECRET, body, moved, { now: NOW + 600_000 }), { ok: false, reason: 'bad-signature' });
});

test('an old or far-future timestamp fails, within a tolerance that can be set', () => {
  const body = '{}';
  const old = signWebhook(SECRET, body, NOW_SECONDS - 301);
  assert.deepEqual(verifyWebhookSignature(SECRET, body, old, { now: NOW }), { ok: false, reason: 'too-old' });
  assert.deepEqual(verifyWebhookSignature(SECRET, body, old, { now: NOW, toleranceSeconds: 600 }), { ok: true });
  const future = signWebhook(SECRET, body, NOW_SECONDS + 400);
  assert.deepEqual(verifyWebhookSignature(SECRET, body, future, { now: NOW }), { ok: false, reason: 'too-old' });
});

test('any of several v1 signatures may match, for rotating a secret', () => {
  const body = '{}';
  const current = signWebhook(SECRET, body, NOW_SECONDS);
  const previous = signWebhook('the-previous-secret-value', body, NOW_SECONDS).split(',')[1] ?? '';
  assert.deepEqual(verifyWebhookSignature(SECRET, body, `${current},${previous}`, { now: NOW }), { ok: true });
  assert.deepEqual(verifyWebhookSignature('the-previous-secret-value', body, `${current},${previous}`, { now: NOW }), { ok: true });
});

test('malformed headers are told apart from bad signatures', () => {
  const good = signWebhook(SECRET, '{}', NOW_SECONDS);
  const v1 = good.split(',')[1] ?? '';
  for (const header of [
    undefined,
    null,
    '',
    'nonsense',
    `t=${NOW_SECONDS}`,
    v1,
    `t=abc,${v1}`,
    `t=1,t=2,${v1}`,
    `t=${NOW_SECONDS},v1=abc`,
    `${good},=x`,
    'x'.repeat(5000),
  ]) {
    assert.deepEqual(verifyWebhookSignature(SECRET, '{}', header, { now: NOW }), { ok: false, reason: 'malformed' }, String(header));
  }
  assert.deepEqual(verifyWebhookSignature(SECRET, '{}', ` t=${NOW_SECONDS}, ${v1} `, { now: NOW }), { ok: true });
  assert.deepEqual(verifyWebhookSignature(SECRET, '{}', `${good},v0=old`, { now: NOW }), { ok: true });
});

test('signing wants whole seconds and a secret', () => {
  assert.throws(() => signWebhook(SECRET, '{}', NOW), RangeError);
  assert.throws(() => signWebhook(SECRET, '{}', 1.5), RangeError);
  assert.throws(() => signWebhook('', '{}', NOW_SECONDS));
});

// ---------------------------------------------------------------------------------------------
// Secrets

test('the secret comes from the named environment variable, and a missing or short one is reported by name only', () => {
  assert.deepEqual(resolveWebhookSecret({ secretEnv: 'WEBHOOK_SECRET_CRM' }, { WEBHOOK_SECRET_CRM: SECRET }), { ok: true, secret: SECRET });
  const missing = resolveWebhookSecret({ secretEnv: 'WEBHOOK_SECRET_CRM' }, {});
  assert.ok(!missing.ok);
  assert.match(missing.error, /WEBHOOK_SECRET_CRM/);
  assert.match(missing.error, /not set/);
  const empty = resolveWebhookSecret({ secretEnv: 'WEBHOOK_SECRET_CRM' }, { WEBHOOK_SECRET_CRM: '' });
  assert.ok(!empty.ok && /not set/.test(empty.error));
  const short = resolveWebhookSecret({ secretEnv: 'WEBHOOK_SECRET_CRM' }, { WEBHOOK_SECRET_CRM: 'short-value-15c' });
  assert.ok(!short.ok);
  assert.match(short.error, /WEBHOOK_SECRET_CRM/);
  assert.match(short.error, /16 characters/);
  assert.ok(!short.error.includes('short-value-15c'));
});

// ---------------------------------------------------------------------------------------------
// Sending

interface Received {
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on a free local port; `handle` answers each request after its body has arrived. */
async function withReceiver(
  handle: (request: IncomingMessage, response: ServerResponse, body: string) => void,
  run: (url: string, received: Received[]) => Promise<void>,
): Promise<void> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: request.method, headers: request.headers, body });
      handle(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await run(`http://127.0.0.1:${port}/hooks/forms`, received);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function reply(status: number, body = '', headers: Record<string, string> = {}) {
  return (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    response.end(body);
  };
}

const request: CaseRequest = {
  deliveryId: 'dlv_01HX3Q7',
  formSlug: 'report-a-missed-bin',
  formTitle: 'Report a missed bin',
  formVersion: 3,
  submissionId: 'sub_42',
  reference: 'MB-7K3Q-9XPD',
  submittedAt: new Date('2026-03-01T11:59:30Z'),
  submittedBy: { type: 'staff', staffId: 'staff-9', channel: 'phone' },
  answers: { binType: 'recycling', address: { line1: '1 High Street', town: 'Borough', postcode: 'AB1 2CD' } },
  summary: [{ title: 'Your bin', rows: [{ question: 'Which bin was missed?', answer: ['Recycling'] }] }],
  settings: { team: 'WASTE' },
  contact: {},
};

test('the case settings pick the contact and place out of the answers', () => {
  const answers = {
    who: { firstName: 'Ada', lastName: 'Lovelace' },
    mail: 'ada@example.com',
    tel: '07700 900123',
    home: { line1: '1 High Street', town: 'Borough', postcode: 'AB1 2CD', uprn: '100' },
    where: { lat: 53.5, lng: -2.1, label: 'Near 3 Mill Lane', description: 'By the bus stop', givenBy: 'map', usrn: '42' },
  };
  const settings = caseSettingsSchema.parse({ contact: { name: 'who', email: 'mail', phone: 'tel', address: 'home' }, location: 'where' });
  assert.deepEqual(caseContactFromAnswers(settings, answers), {
    contact: {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '07700 900123',
      address: { text: '1 High Street, Borough, AB1 2CD', postcode: 'AB1 2CD', uprn: '100' },
    },
    place: { lat: 53.5, lng: -2.1, usrn: '42', text: 'Near 3 Mill Lane: By the bus stop' },
  });
  assert.deepEqual(caseContactFromAnswers(caseSettingsSchema.parse({ location: 'home' }), answers), {
    contact: {},
    place: { text: '1 High Street, Borough, AB1 2CD', postcode: 'AB1 2CD', uprn: '100' },
  });
  assert.deepEqual(
    caseContactFromAnswers(caseSettingsSchema.parse({ contact: { name: 'missing' } }), answers),
    { contact: {} },
    'an unanswered question gives nothing',
  );
  assert.deepEqual(messages(caseSettingsSchema.safeParse({ contact: { nmae: 'who' } })), ['contact: Remove the unknown setting nmae']);
});

test('webhookPayload builds the documented body', () => {
  const { settings: _settings, ...input } = request;
  const body = webhookPayload(input);
  const parsed = JSON.parse(body) as WebhookPayload;
  assert.deepEqual(parsed, {
    event: 'form.submitted',
    deliveryId: 'dlv_01HX3Q7',
    form: { slug: 'report-a-missed-bin', title: 'Report a missed bin', version: 3 },
    submission: {
      id: 'sub_42',
      reference: 'MB-7K3Q-9XPD',
      submittedAt: '2026-03-01T11:59:30.000Z',
      submittedBy: { type: 'staff', staffId: 'staff-9', channel: 'phone' },
      answers: request.answers,
      summary: request.summary,
    },
  });
  assert.equal(webhookPayload(input), body, 'the same input gives the same bytes');
});

test('a 2xx answer is a success, and the receiver can verify the signature and sees the headers', async () => {
  const { settings: _settings, ...input } = request;
  const body = webhookPayload(input);
  await withReceiver(reply(202, 'queued'), async (url, received) => {
    const outcome = await sendWebhook({ url, secret: SECRET, body, deliveryId: 'dlv_01HX3Q7', timeoutMs: 5000, now: NOW });
    assert.deepEqual(outcome, { ok: true, detail: 'HTTP 202' });
    assert.equal(received.length, 1);
    const [seen] = received;
    assert.ok(seen);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, body);
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['borough-delivery'], 'dlv_01HX3Q7');
    assert.equal(seen.headers['borough-event'], 'form.submitted');
    assert.equal(seen.headers['user-agent'], 'Borough');
    const signature = seen.headers['borough-signature'];
    assert.equal(typeof signature, 'string');
    assert.match(String(signature), new RegExp(`^t=${NOW_SECONDS},v1=[0-9a-f]{64}$`));
    assert.deepEqual(verifyWebhookSignature(SECRET, seen.body, String(signature), { now: NOW + 2000 }), { ok: true });
    assert.deepEqual(verifyWebhookSignature('not-the-shared-secret', seen.body, String(signature), { now: NOW }), { ok: false, reason: 'bad-signature' });
  });
});

test('a 200 answer is a success too', async () => {
  await withReceiver(reply(200, 'ok'), async (url) => {
    assert.deepEqual(await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 }), { ok: true, detail: 'HTTP 200' });
  });
});

test('5xx and 429 answers are retryable, with the start of the body and never the secret', async () => {
  const long = `Upstream broke while handling ${SECRET}. ${'x'.repeat(1000)}`;
  await withReceiver(reply(500, long), async (url) => {
    const outcome = await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 });
    assert.ok(!outcome.ok);
    assert.equal(outcome.retryable, true);
    assert.match(outcome.error, /^HTTP 500: Upstream broke while handling \[secret\]\. x+$/);
    assert.ok(!outcome.error.includes(SECRET));
    assert.ok(outcome.error.length <= 'HTTP 500: '.length + 200, `error is ${outcome.error.length} characters`);
  });
  // A secret that starts just before the cut is taken out whole, not cut to a revealing prefix.
  await withReceiver(reply(502, `${'y'.repeat(195)}${SECRET}${'z'.repeat(500)}`), async (url) => {
    const outcome = await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 });
    assert.ok(!outcome.ok && outcome.retryable);
    assert.equal(outcome.error, `HTTP 502: ${'y'.repeat(195)}[secr`);
  });
  await withReceiver(reply(429, 'slow down', { 'Retry-After': '30' }), async (url) => {
    assert.deepEqual(await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 }), {
      ok: false,
      retryable: true,
      error: 'HTTP 429: slow down',
    });
  });
  await withReceiver(reply(503), async (url) => {
    assert.deepEqual(await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 }), {
      ok: false,
      retryable: true,
      error: 'HTTP 503',
    });
  });
});

test('other 4xx answers are permanent', async () => {
  await withReceiver(reply(400, 'missing field reference'), async (url) => {
    assert.deepEqual(await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 }), {
      ok: false,
      retryable: false,
      error: 'HTTP 400: missing field reference',
    });
  });
});

test('a redirect is not followed and is permanent', async () => {
  await withReceiver(reply(302, '', { Location: 'https://elsewhere.example/in' }), async (url, received) => {
    const outcome = await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 5000 });
    assert.ok(!outcome.ok);
    assert.equal(outcome.retryable, false);
    assert.match(outcome.error, /^HTTP 302: .*redirect/);
    assert.equal(received.length, 1);
  });
});

test('a receiver that never answers times out, retryably', async () => {
  await withReceiver(
    () => undefined,
    async (url) => {
      const started = Date.now();
      const outcome = await sendWebhook({ url, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 200 });
      assert.deepEqual(outcome, { ok: false, retryable: true, error: 'No response within 200 ms' });
      assert.ok(Date.now() - started < 3000);
    },
  );
});

test('a refused connection is retryable', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const outcome = await sendWebhook({ url: `http://127.0.0.1:${port}/`, secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 2000 });
  assert.deepEqual(outcome, { ok: false, retryable: true, error: 'Could not reach the receiver (ECONNREFUSED)' });
});

test('a request that could never be sent is permanent, without trying', async () => {
  const send = (overrides: Partial<Parameters<typeof sendWebhook>[0]>) =>
    sendWebhook({ url: 'http://127.0.0.1:9/', secret: SECRET, body: '{}', deliveryId: 'd1', timeoutMs: 1000, ...overrides });
  assert.deepEqual(await send({ url: 'not a url' }), { ok: false, retryable: false, error: 'The webhook URL is not a valid URL' });
  assert.deepEqual(await send({ url: 'file:///etc/passwd' }), { ok: false, retryable: false, error: 'The webhook URL must start with https:// or http://' });
  assert.deepEqual(await send({ secret: '' }), { ok: false, retryable: false, error: 'The webhook secret is empty' });
  assert.deepEqual(await send({ deliveryId: 'd1\r\nX-Injected: yes' }), { ok: false, retryable: false, error: 'The delivery ID cannot be sent in a header' });
  assert.deepEqual(await send({ timeoutMs: 0 }), { ok: false, retryable: false, error: 'The webhook timeout must be a positive number of milliseconds' });
});

// ---------------------------------------------------------------------------------------------
// The case target

test('a case creator can be written against the interface and de-duplicate on deliveryId', async () => {
  const made = new Map<string, string>();
  const creator: CaseCreator = {
    async createCase(caseRequest) {
      const existing = made.get(caseRequest.deliveryId);
      if (existing !== undefined) return { caseReference: existing };
      const caseReference = `CASE-${made.size + 1}`;
      made.set(caseRequest.deliveryId, caseReference);
      return { caseReference };
    },
  };
  assert.deepEqual(await creator.createCase(request), { caseReference: 'CASE-1' });
  assert.deepEqual(await creator.createCase(request), { caseReference: 'CASE-1' });
  assert.equal(made.size, 1);
});
