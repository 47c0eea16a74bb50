import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { openDatabase, migrateToLatest } from '#platform/db/index';
import { createLogger } from '#platform/logging/index';
import { startNotifyServer, type TestNotifyServer } from '../../../test/support/notify-server.js';
import { createNotifier, notifyMigrations, queueEmail } from './index.js';
import { createNotifyTransport, transportFor, PermanentDeliveryError, type NotifyTransportOptions } from './transports.js';

const EMAIL_TEMPLATE = '11111111-1111-4111-8111-111111111111';
const SMS_TEMPLATE = '22222222-2222-4222-8222-222222222222';

let notify: TestNotifyServer;

before(async () => {
  notify = await startNotifyServer({
    serviceId: randomUUID(),
    secret: randomUUID(),
    templates: {
      [EMAIL_TEMPLATE]: { type: 'email', subject: '((subject))', body: '((body))' },
      [SMS_TEMPLATE]: { type: 'sms', body: '((body))' },
    },
  });
});

after(async () => {
  await notify.close();
});

function notifyTransport(overrides: Partial<NotifyTransportOptions> = {}) {
  return createNotifyTransport({
    apiKey: notify.apiKey,
    baseUrl: notify.baseUrl,
    emailTemplateId: EMAIL_TEMPLATE,
    smsTemplateId: SMS_TEMPLATE,
    ...overrides,
  });
}

function lastRequest() {
  const request = notify.requests.at(-1);
  assert.ok(request, 'the Notify server received a request');
  return request;
}

const email = { id: 'msg-1', to: 'resident@example.org', from: 'noreply@borough.example', subject: 'Subject line', body: 'Body text', attachments: [] };

/** No part of the message that identifies the resident or says what was sent. */
function withoutPersonalData(err: Error): boolean {
  return !err.message.includes('resident@') && !err.message.includes('Subject line') && !err.message.includes('Body text');
}

test('Notify email: subject and body go in as personalisation, the outbox ID as reference', async () => {
  const transport = notifyTransport();
  assert.equal(transport.name, 'notify');
  const receipt = await transport.sendEmail(email);

  const request = lastRequest();
  assert.equal(request.method, 'POST');
  assert.equal(request.path, '/v2/notifications/email');
  assert.equal(request.status, 201);
  assert.deepEqual(request.body, {
    template_id: EMAIL_TEMPLATE,
    email_address: 'resident@example.org',
    personalisation: { subject: 'Subject line', body: 'Body text' },
    reference: 'msg-1',
  });
  assert.match(request.headers.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  assert.match(request.headers['user-agent'] ?? '', /^NOTIFY-API-NODE-CLIENT\//);
  assert.ok(request.notificationId);
  assert.equal(receipt.providerReference, request.notificationId, 'the receipt carries the ID Notify gave the notification');
  assert.equal(receipt.droppedAttachments, 0);
});

test('Notify text message uses the SMS template, and needs one', async () => {
  const transport = notifyTransport();
  const receipt = await transport.sendSms({ id: 'msg-2', to: '07700900123', body: 'Hello' });
  const request = lastRequest();
  assert.equal(request.path, '/v2/notifications/sms');
  assert.equal(request.status, 201);
  assert.deepEqual(request.body, { template_id: SMS_TEMPLATE, phone_number: '07700900123', personalisation: { body: 'Hello' }, reference: 'msg-2' });
  assert.equal(receipt.providerReference, request.notificationId);

  const received = notify.requests.length;
  const withoutSms = notifyTransport({ smsTemplateId: undefined });
  await assert.rejects(
    withoutSms.sendSms({ id: 'msg-3', to: '07700900123', body: 'Hello' }),
    (err: Error) => err instanceof PermanentDeliveryError && /NOTIFY_SMS_TEMPLATE_ID/.test(err.message),
  );
  assert.equal(notify.requests.length, received, 'nothing was sent to Notify');
});

test('Notify bad requests are permanent failures, and the error names no one', async () => {
  const transport = notifyTransport();
  notify.failNext(400);
  await assert.rejects(
    transport.sendEmail(email),
    (err: Error) =>
      err instanceof PermanentDeliveryError &&
      /GOV\.UK Notify responded 400: BadRequestError: Can’t send to this recipient/.test(err.message) &&
      withoutPersonalData(err),
  );
  assert.equal(lastRequest().status, 400);

  // A template of the wrong kind is refused by Notify itself, and will be refused every time.
  const misconfigured = notifyTransport({ smsTemplateId: EMAIL_TEMPLATE });
  await assert.rejects(
    misconfigured.sendSms({ id: 'msg-4', to: '07700900123', body: 'Your code is 123456' }),
    (err: Error) =>
      err instanceof PermanentDeliveryError &&
      /400: BadRequestError: email template is not suitable for sms notification/.test(err.message) &&
      !err.message.includes('07700900123') &&
      !err.message.includes('123456'),
  );
});

test('Notify rate limits and server errors are worth retrying', async () => {
  const transport = notifyTransport();

  notify.failNext(429);
  await assert.rejects(
    transport.sendEmail(email),
    (err: Error) => !(err instanceof PermanentDeliveryError) && /responded 429: RateLimitError/.test(err.message) && withoutPersonalData(err),
  );
  assert.equal(lastRequest().status, 429);

  notify.failNext(500);
  await assert.rejects(
    transport.sendSms({ id: 'msg-5', to: '07700900123', body: 'Hello' }),
    (err: Error) => !(err instanceof PermanentDeliveryError) && /responded 500/.test(err.message),
  );
  assert.equal(lastRequest().status, 500);

  const receipt = await transport.sendEmail(email);
  assert.equal(lastRequest().status, 201, 'the next attempt goes through');
  assert.equal(receipt.providerReference, lastRequest().notificationId);
});

test('Notify email: a one-click unsubscribe link goes to Notify, which adds the headers', async () => {
  await notifyTransport().sendEmail({ ...email, unsubscribeUrl: 'https://council.example/reports/unsubscribe/abc' });
  assert.equal(lastRequest().status, 201);
  assert.equal(lastRequest().body?.one_click_unsubscribe_url, 'https://council.example/reports/unsubscribe/abc');
  await notifyTransport().sendEmail(email);
  assert.equal(lastRequest().body?.one_click_unsubscribe_url, undefined);
});

test('Notify out of reach is worth retrying', async () => {
  const gone = await startNotifyServer();
  const transport = createNotifyTransport({ apiKey: gone.apiKey, baseUrl: gone.baseUrl, emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: SMS_TEMPLATE });
  await gone.close();
  await assert.rejects(
    transport.sendEmail(email),
    (err: Error) => !(err instanceof PermanentDeliveryError) && /could not be reached/.test(err.message) && withoutPersonalData(err),
  );
});

test('Notify refuses a key it does not know, and that is not retried', async () => {
  const [name] = notify.apiKey.split('-');
  const wrongSecret = createNotifyTransport({
    apiKey: `${name}-${notify.serviceId}-${randomUUID()}`,
    baseUrl: notify.baseUrl,
    emailTemplateId: EMAIL_TEMPLATE,
    smsTemplateId: SMS_TEMPLATE,
  });
  await assert.rejects(
    wrongSecret.sendEmail(email),
    (err: Error) => err instanceof PermanentDeliveryError && /responded 403: AuthError: Invalid token: API key not found/.test(err.message),
  );
  assert.equal(lastRequest().status, 403);

  const wrongService = createNotifyTransport({
    apiKey: `${name}-${randomUUID()}-${notify.apiKey.slice(-36)}`,
    baseUrl: notify.baseUrl,
    emailTemplateId: EMAIL_TEMPLATE,
    smsTemplateId: SMS_TEMPLATE,
  });
  await assert.rejects(
    wrongService.sendSms({ id: 'msg-6', to: '07700900123', body: 'Hello' }),
    (err: Error) => err instanceof PermanentDeliveryError && /403: AuthError: Invalid token: service not found/.test(err.message),
  );
});

test('the Notify server checks the token on every request', async () => {
  const url = `${notify.baseUrl}/v2/notifications/email`;
  const body = JSON.stringify({ template_id: EMAIL_TEMPLATE, email_address: 'resident@example.org', personalisation: { subject: 'S', body: 'B' } });
  const token = (claims: Record<string, unknown>, secret = notify.apiKey.slice(-36)) => {
    const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${segment({ typ: 'JWT', alg: 'HS256' })}.${segment(claims)}`;
    return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
  };
  const post = async (authorization?: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
      body,
    });
    return { status: res.status, body: (await res.json()) as { status_code?: number; errors?: { error: string; message: string }[] } };
  };
  const now = Math.round(Date.now() / 1000);

  const missing = await post();
  assert.equal(missing.status, 403);
  assert.deepEqual(missing.body, { status_code: 403, errors: [{ error: 'AuthError', message: 'Unauthorized: authentication token must be provided' }] });

  const stale = await post(`Bearer ${token({ iss: notify.serviceId, iat: now - 60 })}`);
  assert.equal(stale.status, 403);
  assert.match(stale.body.errors?.[0]?.message ?? '', /within 30 seconds/);

  const [header, payload] = token({ iss: notify.serviceId, iat: now }).split('.');
  const unsigned = await post(`Bearer ${header}.${payload}.`);
  assert.equal(unsigned.status, 403);

  const good = await post(`Bearer ${token({ iss: notify.serviceId, iat: now })}`);
  assert.equal(good.status, 201);
  assert.equal((good.body as { content?: { subject?: string } }).content?.subject, 'S');
});

test('Notify has no place for attachments: they are left out, and the notifier warns', async () => {
  const transport = notifyTransport();
  const receipt = await transport.sendEmail({ ...email, attachments: [{ filename: 'a.ics', contentType: 'text/calendar', content: 'QUJD' }] });
  assert.equal(receipt.droppedAttachments, 1);
  assert.deepEqual(Object.keys(lastRequest().body ?? {}).sort(), ['email_address', 'personalisation', 'reference', 'template_id']);

  const database = await openDatabase({});
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  try {
    await migrateToLatest(database.db, [notifyMigrations]);
    const notifier = createNotifier({
      db: database.db,
      config: {
        mail: { transport: 'notify', from: 'noreply@borough.example', apiKey: notify.apiKey, emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: SMS_TEMPLATE },
      },
      transport,
      logger,
    });
    const id = await queueEmail(database.db, {
      to: 'resident@example.org',
      subject: 'Your appointment',
      body: 'See you then',
      attachments: [{ filename: 'appointment.ics', contentType: 'text/calendar', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' }],
    });
    assert.deepEqual(await notifier.deliverPendingNow(), { sent: 1, retrying: 0, failed: 0 });
    await notifier.stop();
    assert.equal(lastRequest().body?.reference, id);
    const warning = lines.find((l) => l.msg === 'message sent without its attachments');
    assert.ok(warning, 'a warning says the attachments were left out');
    assert.equal(warning.dropped, 1);
    assert.equal(warning.messageId, id);
  } finally {
    await database.close();
    const pglite = (database.pool as { pglite?: { closed: boolean } }).pglite;
    if (pglite && !pglite.closed) await database.pool.end();
  }
});

test('the configuration chooses the transport', async () => {
  assert.equal(transportFor({ transport: 'database', from: 'a@b.example' }).name, 'database');
  const smtp = transportFor({ transport: 'smtp', from: 'a@b.example', url: 'smtp://127.0.0.1:2525' });
  assert.equal(smtp.name, 'smtp');
  await smtp.close();
  const chosen = transportFor(
    { transport: 'notify', from: 'a@b.example', apiKey: notify.apiKey, emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: undefined },
    { notifyBaseUrl: notify.baseUrl },
  );
  assert.equal(chosen.name, 'notify');
  await chosen.sendEmail(email);
  assert.equal(lastRequest().status, 201);
  assert.equal(lastRequest().body?.template_id, EMAIL_TEMPLATE);
});
