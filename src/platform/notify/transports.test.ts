import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNotifyTransport, transportFor, PermanentDeliveryError, type NotifyClientLike } from './transports.js';

const EMAIL_TEMPLATE = '11111111-1111-4111-8111-111111111111';
const SMS_TEMPLATE = '22222222-2222-4222-8222-222222222222';

function fakeNotify(fail?: { status?: number; message?: string }) {
  const calls: { kind: 'email' | 'sms'; templateId: string; to: string; options: unknown }[] = [];
  const respond = () => {
    if (!fail) return Promise.resolve({ data: { id: 'notify-id-1' } });
    const err = Object.assign(
      new Error(fail.message ?? 'Request failed'),
      fail.status
        ? {
            response: {
              status: fail.status,
              data: { errors: [{ error: 'BadRequestError', message: 'Can’t send to this recipient using a team-only API key' }] },
            },
          }
        : {},
    );
    return Promise.reject(err);
  };
  const client: NotifyClientLike = {
    sendEmail: (templateId, to, options) => {
      calls.push({ kind: 'email', templateId, to, options });
      return respond();
    },
    sendSms: (templateId, to, options) => {
      calls.push({ kind: 'sms', templateId, to, options });
      return respond();
    },
  };
  return { client, calls };
}

const email = { id: 'msg-1', to: 'resident@example.org', from: 'noreply@borough.example', subject: 'Subject line', body: 'Body text', attachments: [] };

test('Notify email: subject and body go in as personalisation, the outbox ID as reference', async () => {
  const { client, calls } = fakeNotify();
  const transport = createNotifyTransport({ apiKey: 'x'.repeat(30), emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: SMS_TEMPLATE, client });
  const receipt = await transport.sendEmail(email);
  assert.equal(receipt.providerReference, 'notify-id-1');
  assert.deepEqual(calls, [
    {
      kind: 'email',
      templateId: EMAIL_TEMPLATE,
      to: 'resident@example.org',
      options: { personalisation: { subject: 'Subject line', body: 'Body text' }, reference: 'msg-1' },
    },
  ]);
  assert.equal(transport.name, 'notify');
});

test('Notify text message uses the SMS template, and needs one', async () => {
  const { client, calls } = fakeNotify();
  const transport = createNotifyTransport({ apiKey: 'x'.repeat(30), emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: SMS_TEMPLATE, client });
  await transport.sendSms({ id: 'msg-2', to: '07700900123', body: 'Hello' });
  assert.deepEqual(calls[0], { kind: 'sms', templateId: SMS_TEMPLATE, to: '07700900123', options: { personalisation: { body: 'Hello' }, reference: 'msg-2' } });

  const withoutSms = createNotifyTransport({ apiKey: 'x'.repeat(30), emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: undefined, client });
  await assert.rejects(withoutSms.sendSms({ id: 'msg-3', to: '07700900123', body: 'Hello' }), PermanentDeliveryError);
});

test('Notify errors: bad requests are permanent, rate limits and outages are retried', async () => {
  const bad = createNotifyTransport({
    apiKey: 'x'.repeat(30),
    emailTemplateId: EMAIL_TEMPLATE,
    smsTemplateId: undefined,
    client: fakeNotify({ status: 400 }).client,
  });
  await assert.rejects(
    bad.sendEmail(email),
    (err: Error) => err instanceof PermanentDeliveryError && /400/.test(err.message) && !err.message.includes('resident@'),
  );

  const limited = createNotifyTransport({
    apiKey: 'x'.repeat(30),
    emailTemplateId: EMAIL_TEMPLATE,
    smsTemplateId: undefined,
    client: fakeNotify({ status: 429 }).client,
  });
  await assert.rejects(limited.sendEmail(email), (err: Error) => !(err instanceof PermanentDeliveryError) && /429/.test(err.message));

  const down = createNotifyTransport({
    apiKey: 'x'.repeat(30),
    emailTemplateId: EMAIL_TEMPLATE,
    smsTemplateId: undefined,
    client: fakeNotify({ message: 'socket hang up' }).client,
  });
  await assert.rejects(down.sendEmail(email), (err: Error) => !(err instanceof PermanentDeliveryError) && /could not be reached/.test(err.message));
});

test('Notify has no place for attachments, and says it left them out', async () => {
  const { client } = fakeNotify();
  const transport = createNotifyTransport({ apiKey: 'x'.repeat(30), emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: undefined, client });
  const receipt = await transport.sendEmail({ ...email, attachments: [{ filename: 'a.ics', contentType: 'text/calendar', content: 'QUJD' }] });
  assert.equal(receipt.droppedAttachments, 1);
});

test('the configuration chooses the transport', async () => {
  assert.equal(transportFor({ transport: 'database', from: 'a@b.example' }).name, 'database');
  const smtp = transportFor({ transport: 'smtp', from: 'a@b.example', url: 'smtp://127.0.0.1:2525' });
  assert.equal(smtp.name, 'smtp');
  await smtp.close();
  const notify = transportFor(
    { transport: 'notify', from: 'a@b.example', apiKey: 'x'.repeat(30), emailTemplateId: EMAIL_TEMPLATE, smsTemplateId: undefined },
    { notifyClient: fakeNotify().client },
  );
  assert.equal(notify.name, 'notify');
});
