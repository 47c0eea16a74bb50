import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { openDatabase, migrateToLatest, type Database } from '#platform/db/index';
import { createLogger } from '#platform/logging/index';
import { createJobs } from '#platform/jobs/index';
import { startTestSmtpServer } from '../../../test/support/smtp-server.js';
import { createNotifier, notifyMigrations, queueEmail, queueSms, InvalidMessageError } from './index.js';

const logger = createLogger({ level: 'silent' });
const FROM = 'Borough Council <noreply@borough.example>';
let database: Database;

before(async () => {
  database = await openDatabase({});
  await migrateToLatest(database.db, [notifyMigrations]);
});

after(async () => {
  await database.close();
  const pglite = (database.pool as { pglite?: { closed: boolean } }).pglite;
  if (pglite && !pglite.closed) await database.pool.end();
});

async function clearOutbox(): Promise<void> {
  await sql`DELETE FROM notification_outbox`.execute(database.db);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const invitation = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Borough//Appointments//EN',
  'BEGIN:VEVENT',
  'UID:booking-1@borough.example',
  'DTSTAMP:20260301T090000Z',
  'DTSTART:20260310T100000Z',
  'DTEND:20260310T103000Z',
  'SUMMARY:Register a birth',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

test('a queued message commits or rolls back with the caller’s transaction', async () => {
  await clearOutbox();
  await assert.rejects(
    database.db.transaction().execute(async (tx) => {
      await queueEmail(tx, { to: 'resident@example.org', subject: 'Report received', body: 'Thanks' });
      throw new Error('the change failed');
    }),
    /the change failed/,
  );
  const notifier = createNotifier({ db: database.db, config: { mail: { transport: 'database', from: FROM } }, logger });
  assert.equal((await notifier.listMessages()).length, 0);

  const id = await database.db
    .transaction()
    .execute((tx) => queueEmail(tx, { to: 'resident@example.org', subject: 'Report received', body: 'Thanks', related: { type: 'report', id: 'R-123' } }));
  const stored = await notifier.getMessage(id);
  assert.ok(stored);
  assert.equal(stored.status, 'pending');
  assert.equal(stored.attempts, 0);
  assert.deepEqual(stored.related, { type: 'report', id: 'R-123' });
});

test('the database transport marks messages as sent, readable afterwards', async () => {
  await clearOutbox();
  const notifier = createNotifier({ db: database.db, config: { mail: { transport: 'database', from: FROM } }, logger });
  const emailId = await queueEmail(database.db, {
    to: 'Resident@Example.org',
    subject: 'Your appointment',
    body: 'See you on 10 March.',
    attachments: [{ filename: 'appointment.ics', contentType: 'text/calendar; charset=utf-8; method=PUBLISH', content: invitation }],
  });
  const smsId = await queueSms(database.db, { to: '07700 900123', body: 'Your appointment is on 10 March.' });

  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 2, retrying: 0, failed: 0 });

  const email = await notifier.getMessage(emailId);
  assert.ok(email);
  assert.equal(email.status, 'sent');
  assert.equal(email.transport, 'database');
  assert.equal(email.attempts, 1);
  assert.ok(email.sentAt instanceof Date);
  assert.equal(email.body, 'See you on 10 March.');
  assert.equal(Buffer.from(email.attachments[0]?.content ?? '', 'base64').toString('utf8'), invitation);
  assert.deepEqual(email.attachmentNames, ['appointment.ics']);

  const sms = await notifier.getMessage(smsId);
  assert.equal(sms?.status, 'sent');
  assert.equal(sms?.channel, 'sms');

  const forResident = await notifier.listMessages({ recipient: 'resident@example.org', limit: 10 });
  assert.deepEqual(
    forResident.map((m) => m.id),
    [emailId],
  );
  assert.equal((await notifier.listMessages({ limit: 10 })).length, 2);
  assert.equal((await notifier.listMessages({ status: 'pending' })).length, 0);
  assert.equal(await notifier.getMessage('not-a-uuid'), undefined);
  assert.equal(await notifier.getMessage('00000000-0000-4000-8000-000000000000'), undefined);

  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 0, failed: 0 }, 'nothing is sent twice');
});

test('refuses messages that could not be delivered', async () => {
  await assert.rejects(queueEmail(database.db, { to: 'not an address', subject: 'x', body: 'y' }), InvalidMessageError);
  await assert.rejects(queueEmail(database.db, { to: 'a@example.org', subject: 'Line\r\nBcc: b@example.org', body: 'y' }), InvalidMessageError);
  await assert.rejects(queueEmail(database.db, { to: 'a@example.org', subject: 'x', body: ' ' }), InvalidMessageError);
  await assert.rejects(
    queueEmail(database.db, {
      to: 'a@example.org',
      subject: 'x',
      body: 'y',
      attachments: [{ filename: '../../etc/passwd', contentType: 'text/plain', content: 'x' }],
    }),
    InvalidMessageError,
  );
  await assert.rejects(
    queueEmail(database.db, {
      to: 'a@example.org',
      subject: 'x',
      body: 'y',
      attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', content: Buffer.alloc(1024 * 1024 + 1) }],
    }),
    InvalidMessageError,
  );
  await assert.rejects(queueSms(database.db, { to: 'call me', body: 'y' }), InvalidMessageError);
  await assert.rejects(queueSms(database.db, { to: '07700900123', body: 'x'.repeat(919) }), InvalidMessageError);
});

test('an email someone asked for carries one-click unsubscribe headers over SMTP', async () => {
  await clearOutbox();
  await assert.rejects(
    queueEmail(database.db, { to: 'resident@example.org', subject: 'Alert', body: 'New report', unsubscribeUrl: 'javascript:alert(1)' }),
    InvalidMessageError,
  );
  const smtp = await startTestSmtpServer();
  const notifier = createNotifier({ db: database.db, config: { mail: { transport: 'smtp', from: FROM, url: smtp.url } }, logger });
  try {
    const link = 'https://council.example/reports/unsubscribe/abc.def';
    await queueEmail(database.db, { to: 'resident@example.org', subject: 'New report near you', body: 'A new report', unsubscribeUrl: link });
    await queueEmail(database.db, { to: 'resident@example.org', subject: 'Your reference', body: 'Thank you' });
    assert.deepEqual(await notifier.deliverPendingNow(), { sent: 2, retrying: 0, failed: 0 });
    const alert = await smtp.waitFor((m) => m.subject === 'New report near you');
    assert.match(String(alert.raw), new RegExp(`List-Unsubscribe: <${link.replace(/\./g, '\\.')}>`));
    assert.match(String(alert.raw), /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const plain = await smtp.waitFor((m) => m.subject === 'Your reference');
    assert.doesNotMatch(String(plain.raw), /^List-Unsubscribe/im);
  } finally {
    await notifier.stop();
    await smtp.close();
  }
});

test('the SMTP transport delivers subject, body and attachment to a real SMTP server', async () => {
  await clearOutbox();
  const smtp = await startTestSmtpServer();
  const notifier = createNotifier({ db: database.db, config: { mail: { transport: 'smtp', from: FROM, url: smtp.url } }, logger });
  try {
    const id = await queueEmail(database.db, {
      to: 'resident@example.org',
      subject: 'Your appointment is booked',
      body: 'Your appointment is on 10 March at 10am.\n\nReference: BK7Q2M',
      attachments: [{ filename: 'appointment.ics', contentType: 'text/calendar; charset=utf-8; method=PUBLISH', content: invitation }],
    });
    assert.deepEqual(await notifier.deliverPendingNow(), { sent: 1, retrying: 0, failed: 0 });

    const received = await smtp.waitFor((m) => m.subject === 'Your appointment is booked');
    assert.deepEqual(received.envelope.to, ['resident@example.org']);
    assert.equal(received.envelope.from, 'noreply@borough.example');
    assert.match(received.from, /Borough Council/);
    assert.equal(received.to, 'resident@example.org');
    assert.match(received.text, /Reference: BK7Q2M/);
    const [attachment, ...others] = received.attachments;
    assert.ok(attachment);
    assert.equal(others.length, 0);
    assert.equal(attachment.filename, 'appointment.ics');
    assert.equal(attachment.contentType, 'text/calendar');
    assert.match(attachment.content.toString('utf8'), /SUMMARY:Register a birth/);
    assert.equal(received.headers.get('x-borough-message-id'), id);

    const stored = await notifier.getMessage(id);
    assert.equal(stored?.status, 'sent');
    assert.equal(stored?.transport, 'smtp');
    assert.ok(stored?.providerReference);
  } finally {
    await notifier.stop();
    await smtp.close();
  }
});

test('a failing transport is retried with backoff, then marked failed after the limit', async () => {
  await clearOutbox();
  const port = await freePort();
  const notifier = createNotifier({
    db: database.db,
    config: { mail: { transport: 'smtp', from: FROM, url: `smtp://127.0.0.1:${port}` } },
    logger,
    retryBaseDelayMs: 60_000,
  });
  const id = await queueEmail(database.db, { to: 'resident@example.org', subject: 'Will not arrive', body: 'No server is listening.' });
  const timeUntilRetry = async () => {
    const { rows } = await sql<{
      ms: number;
    }>`SELECT extract(epoch FROM next_attempt_at - now()) * 1000 AS ms FROM notification_outbox WHERE id = ${id}`.execute(database.db);
    return Number(rows[0]?.ms);
  };
  const letTimePass = () => sql`UPDATE notification_outbox SET next_attempt_at = now() - interval '1 second' WHERE id = ${id}`.execute(database.db);

  for (const [attempt, waitMs] of [
    [1, 60_000],
    [2, 120_000],
    [3, 240_000],
    [4, 480_000],
  ] as const) {
    assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 1, failed: 0 }, `attempt ${attempt}`);
    const message = await notifier.getMessage(id);
    assert.equal(message?.status, 'pending');
    assert.equal(message?.attempts, attempt);
    assert.match(message?.lastError ?? '', /ECONNREFUSED/);
    const wait = await timeUntilRetry();
    assert.ok(wait > waitMs - 5000 && wait <= waitMs, `attempt ${attempt} waits ${wait} ms`);
    assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 0, failed: 0 }, 'not retried before the backoff has passed');
    await letTimePass();
  }

  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 0, failed: 1 });
  let message = await notifier.getMessage(id);
  assert.equal(message?.status, 'failed');
  assert.equal(message?.attempts, 5);
  assert.match(message?.lastError ?? '', /ECONNREFUSED/);
  assert.equal(message?.sentAt, null);
  await letTimePass();
  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 0, failed: 0 }, 'a failed message stays failed');

  assert.equal(await notifier.retryMessage(id), true);
  message = await notifier.getMessage(id);
  assert.equal(message?.status, 'pending');
  assert.equal(message?.attempts, 0);
  await sql`UPDATE notification_outbox SET status = 'failed' WHERE id = ${id}`.execute(database.db);
  await notifier.stop();
});

test('a text message over SMTP fails at once rather than being retried', async () => {
  await clearOutbox();
  const notifier = createNotifier({ db: database.db, config: { mail: { transport: 'smtp', from: FROM, url: 'smtp://127.0.0.1:1' } }, logger });
  const id = await queueSms(database.db, { to: '+44 7700 900123', body: 'Hello' });
  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 0, failed: 1 });
  const message = await notifier.getMessage(id);
  assert.equal(message?.status, 'failed');
  assert.equal(message?.attempts, 1);
  assert.match(message?.lastError ?? '', /Notify/);
});

test('a message left "sending" by a vanished process is picked up when its lease runs out', async () => {
  await clearOutbox();
  const notifier = createNotifier({ db: database.db, config: { mail: { transport: 'database', from: FROM } }, logger });
  const id = await queueEmail(database.db, { to: 'resident@example.org', subject: 'Interrupted', body: 'Body' });
  await sql`UPDATE notification_outbox SET status = 'sending', attempts = 1, next_attempt_at = now() + interval '5 minutes' WHERE id = ${id}`.execute(
    database.db,
  );
  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 0, retrying: 0, failed: 0 });
  await sql`UPDATE notification_outbox SET next_attempt_at = now() - interval '1 second' WHERE id = ${id}`.execute(database.db);
  assert.deepEqual(await notifier.deliverPendingNow(), { sent: 1, retrying: 0, failed: 0 });
  const message = await notifier.getMessage(id);
  assert.equal(message?.status, 'sent');
  assert.equal(message?.attempts, 2);
});

test('a started notifier sends after a nudge, through the job worker', async () => {
  await clearOutbox();
  const jobs = createJobs({ pool: database.pool, logger, pollingIntervalSeconds: 0.5 });
  const notifier = createNotifier({
    db: database.db,
    jobs,
    config: { mail: { transport: 'database', from: FROM } },
    logger,
    sweepIntervalMs: 60_000,
    pollingIntervalSeconds: 0.5,
  });
  await notifier.start();
  try {
    const id = await database.db.transaction().execute((tx) => queueEmail(tx, { to: 'resident@example.org', subject: 'Nudged', body: 'Body' }));
    await notifier.nudge();
    const deadline = Date.now() + 5000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      status = (await notifier.getMessage(id))?.status;
      if (status === 'sent') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, 'sent');
    const queue = await jobs.boss.getQueue('notify-deliver');
    assert.equal(queue?.policy, 'stately');
  } finally {
    await notifier.stop();
    await jobs.stop();
  }
});
