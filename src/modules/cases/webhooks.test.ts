import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import { verifyWebhookSignature, type SignatureResult } from '#platform/http/webhooks';
import { projectRoot } from '#platform/config/index';
import { COMMAND_LINE_ACTOR } from '#modules/account/index';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { createCaseWebhookWorker, MAX_WEBHOOK_ATTEMPTS, type CaseWebhookWorker } from './webhooks.js';

/**
 * Case status webhooks, sent to a receiver on the loopback interface: signed like form deliveries,
 * the stored payload byte for byte, retried with backoff, and given up on when retrying cannot help.
 */

const SECRET = 'a-case-webhook-secret-for-tests';
const SECRET_ENV = 'WEBHOOK_SECRET_CASES_TEST';
const UNSET_ENV = 'WEBHOOK_SECRET_CASES_NOT_SET';
const RETRY_BASE_MS = 60_000;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  signature: SignatureResult;
}

let t: TestApp;
let server: Server;
let councilDir: string;
const received: Received[] = [];
/** Status codes the receiver answers with, in turn; 204 once they run out. */
const answers: number[] = [];
let worker: CaseWebhookWorker;

interface WebhookRow {
  id: string;
  status: string;
  attempts: number;
  payload: string;
  last_error: string | null;
  retry_in_s: number;
}

async function webhooksFor(reference: string): Promise<WebhookRow[]> {
  const r = await sql<WebhookRow>`
    SELECT w.id, w.status, w.attempts, w.payload, w.last_error, EXTRACT(EPOCH FROM w.next_attempt_at - now())::float AS retry_in_s
    FROM case_webhooks w JOIN cases c ON c.id = w.case_id WHERE c.reference = ${reference} ORDER BY w.created_at, w.id`.execute(t.platform.database.db);
  return r.rows;
}

/** Brings a case's waiting webhooks due now, as if their backoff had passed. */
async function makeDue(reference: string): Promise<void> {
  await sql`UPDATE case_webhooks SET next_attempt_at = now() WHERE status = 'pending' AND case_id = (SELECT id FROM cases WHERE reference = ${reference})`.execute(
    t.platform.database.db,
  );
}

async function open(type: string, title: string): Promise<string> {
  const { case: opened } = await t.services.cases.service.open(
    { type: 'system' },
    { type, title, source: 'staff', channel: 'phone', subject: { kind: 'anonymous' } },
  );
  return opened.reference;
}

function only<T>(rows: T[]): T {
  assert.equal(rows.length, 1, `expected one, got ${rows.length}`);
  const [row] = rows;
  assert.ok(row !== undefined);
  return row;
}

before(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, body, signature: verifyWebhookSignature(SECRET, body, request.headers['borough-signature']?.toString()) });
      const status = answers.shift() ?? 204;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? 'Receiver is having a bad day' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/cases`;

  // A council like the demo one whose potholes tell a receiver, and whose graffiti names a secret nobody set.
  councilDir = mkdtempSync(path.join(tmpdir(), 'borough-council-'));
  cpSync(path.join(projectRoot, 'council'), councilDir, { recursive: true });
  for (const [type, secretEnv] of [
    ['pothole', SECRET_ENV],
    ['graffiti', UNSET_ENV],
  ] as const) {
    const file = path.join(councilDir, 'case-types', `${type}.json`);
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), webhooks: [{ url, secretEnv }] }, null, 2));
  }
  t = await createTestApp({ env: { BOROUGH_COUNCIL_DIR: councilDir } });
  worker = createCaseWebhookWorker({
    service: t.services.cases.service,
    jobs: t.services.jobs,
    logger: t.platform.logger,
    env: { [SECRET_ENV]: SECRET },
    retryBaseDelayMs: RETRY_BASE_MS,
    timeoutMs: 5000,
    // Only a nudge sends anything in these tests, not the sweep.
    sweepIntervalMs: 600_000,
  });
});

after(async () => {
  await worker.stop();
  await t.services.jobs.stop();
  await t.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(councilDir, { recursive: true, force: true });
});

beforeEach(() => {
  received.length = 0;
  answers.length = 0;
});

describe('case status webhooks', () => {
  test('a status change sends one signed POST with the payload stored in its transaction', async () => {
    const reference = await open('pothole', 'Pothole on Mill Lane');
    assert.deepEqual(await webhooksFor(reference), [], 'opening a case is not a status change');
    await t.services.cases.service.changeStatus({ type: 'system' }, reference, 'triage');
    const queued = only(await webhooksFor(reference));
    assert.equal(queued.status, 'pending');

    assert.deepEqual(await worker.deliverDueNow(), { sent: 1, retrying: 0, failed: 0 });
    const request = only(received);
    assert.equal(request.body, queued.payload, 'the stored bytes, exactly');
    assert.deepEqual(request.signature, { ok: true });
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['borough-event'], 'case.status-changed');
    assert.equal(request.headers['borough-delivery'], queued.id);
    assert.match(String(request.headers['borough-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    const payload = JSON.parse(request.body) as { event: string; case: Record<string, unknown> };
    assert.equal(payload.event, 'case.status-changed');
    assert.deepEqual({ ...payload.case, at: undefined }, { reference, type: 'pothole', from: 'new', to: 'triage', closed: false, at: undefined });
    assert.ok(Math.abs(Date.parse(String(payload.case.at)) - Date.now()) < 60_000);

    const sent = only(await webhooksFor(reference));
    assert.equal(sent.status, 'sent');
    assert.equal(sent.attempts, 1);
    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 0, failed: 0 }, 'nothing is sent twice');
    assert.equal(received.length, 1);
  });

  test('a receiver error is retried with growing waits, sending the same bytes each time, until it is accepted', async () => {
    const reference = await open('pothole', 'Pothole by the school');
    await t.services.cases.service.changeStatus({ type: 'system' }, reference, 'triage');
    answers.push(500, 503);

    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 1, failed: 0 });
    let row = only(await webhooksFor(reference));
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, 'HTTP 500: Receiver is having a bad day');
    assert.ok(Math.abs(row.retry_in_s - RETRY_BASE_MS / 1000) < 5, `first wait ${row.retry_in_s} s`);
    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 0, failed: 0 }, 'not tried again before its time');

    await makeDue(reference);
    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 1, failed: 0 });
    row = only(await webhooksFor(reference));
    assert.equal(row.attempts, 2);
    assert.ok(Math.abs(row.retry_in_s - (2 * RETRY_BASE_MS) / 1000) < 5, `second wait ${row.retry_in_s} s, double the first`);

    await makeDue(reference);
    assert.deepEqual(await worker.deliverDueNow(), { sent: 1, retrying: 0, failed: 0 });
    row = only(await webhooksFor(reference));
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 3);
    assert.equal(received.length, 3);
    for (const attempt of received) {
      assert.equal(attempt.body, row.payload);
      assert.equal(attempt.headers['borough-delivery'], row.id);
      assert.deepEqual(attempt.signature, { ok: true });
    }
  });

  test(`after ${MAX_WEBHOOK_ATTEMPTS} failed attempts a webhook is failed`, async () => {
    const reference = await open('pothole', 'Pothole that nobody hears about');
    await t.services.cases.service.changeStatus({ type: 'system' }, reference, 'triage');
    answers.push(...Array.from({ length: MAX_WEBHOOK_ATTEMPTS }, () => 502));
    for (let n = 1; n < MAX_WEBHOOK_ATTEMPTS; n++) {
      assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 1, failed: 0 }, `attempt ${n}`);
      await makeDue(reference);
    }
    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 0, failed: 1 });
    const row = only(await webhooksFor(reference));
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, MAX_WEBHOOK_ATTEMPTS);
    assert.match(String(row.last_error), /^HTTP 502/);
    assert.equal(received.length, MAX_WEBHOOK_ATTEMPTS);
  });

  test('a missing secret fails at once, naming the variable, without sending or retrying', async () => {
    const reference = await open('graffiti', 'Tag on the bridge');
    await t.services.cases.service.changeStatus({ type: 'system' }, reference, 'triage');
    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 0, failed: 1 });
    const row = only(await webhooksFor(reference));
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 1);
    assert.match(String(row.last_error), new RegExp(UNSET_ENV));
    assert.equal(received.length, 0);
  });

  test('a receiver hears of one case’s changes in order: a later one waits while an earlier one is retried', async () => {
    const reference = await open('pothole', 'Pothole on the ring road');
    await t.services.cases.service.changeStatus({ type: 'system' }, reference, 'triage');
    await t.services.cases.service.changeStatus({ type: 'system' }, reference, 'works-ordered');
    answers.push(500);
    assert.deepEqual(await worker.deliverDueNow(), { sent: 0, retrying: 1, failed: 0 });
    assert.deepEqual(
      (await webhooksFor(reference)).map((r) => `${r.status}/${r.attempts}`),
      ['pending/1', 'pending/0'],
    );
    await makeDue(reference);
    assert.deepEqual(await worker.deliverDueNow(), { sent: 2, retrying: 0, failed: 0 });
    assert.deepEqual(
      received.map((r) => (JSON.parse(r.body) as { case: { to: string } }).case.to),
      ['triage', 'triage', 'works-ordered'],
    );
  });

  test('once started, a status change through the API is sent straight away, and the worker stops cleanly', async () => {
    await t.services.jobs.start();
    await worker.start();
    const reference = await open('pothole', 'Pothole on Station Road');
    const { key } = await t.services.account.apiKeys.create(COMMAND_LINE_ACTOR, { name: 'Asset system', scopes: ['cases:read', 'cases:write'] });
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/cases/${reference}/status`,
      headers: { authorization: `Bearer ${key}` },
      payload: { status: 'triage' },
    });
    assert.equal(res.statusCode, 200, res.body);
    for (let waited = 0; received.length === 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    const request = only(received);
    assert.deepEqual(request.signature, { ok: true });
    assert.equal((JSON.parse(request.body) as { case: { reference: string } }).case.reference, reference);
    // The receiver answers before the worker records the outcome, so wait for that too.
    let status = '';
    for (let waited = 0; status !== 'sent' && waited < 10_000; waited += 50) {
      status = only(await webhooksFor(reference)).status;
      if (status !== 'sent') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 'sent');
    await worker.stop();
    await t.services.jobs.stop();
  });
});
