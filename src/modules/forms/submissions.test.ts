import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { browser, emailsTo, lastEmailTo, linkIn, signIn } from '../account/residents/test-helpers.js';
import { verifyWebhookSignature, type CaseRequest } from './delivery/targets.js';
import type { FormDefinitionInput } from './model/definition.js';

const SECRET = 'a-webhook-secret-long-enough-for-tests';

function feedbackForm(webhookUrl: string): FormDefinitionInput {
  return {
    schemaVersion: 2,
    id: 'feedback',
    slug: 'feedback',
    title: 'Give feedback',
    pages: [
      {
        id: 'about',
        slug: 'about',
        title: 'About you',
        components: [
          { type: 'text', id: 'fullName', label: 'Full name', prefill: 'name' },
          { type: 'email', id: 'email', label: 'Email address', prefill: 'email' },
          { type: 'yesNo', id: 'moreToSay', label: 'Do you have more to say?' },
        ],
        routes: [{ when: { equals: [{ answer: 'moreToSay' }, true] }, goTo: 'more' }, { goTo: 'check-answers' }],
      },
      { id: 'more', slug: 'more', title: 'Tell us more', components: [{ type: 'textarea', id: 'details', label: 'Tell us more' }] },
    ],
    deliveries: [
      { name: 'crm', type: 'webhook', settings: { url: webhookUrl, secretEnv: 'WEBHOOK_SECRET_FEEDBACK' } },
      { name: 'teamInbox', type: 'email', settings: { to: 'feedback-team@kingsmere.example' } },
      { name: 'newCase', type: 'case', settings: { team: 'customer-services' } },
    ],
  };
}

describe('submissions, save and return, and delivery', () => {
  let t: TestApp;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  let failNext = 0;
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.statusCode = failNext-- > 0 ? 503 : 202;
      response.end();
    });
  });

  before(async () => {
    process.env.WEBHOOK_SECRET_FEEDBACK = SECRET;
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    t = await createTestApp({ seedDemo: true });
    const published = await t.services.forms.service.publish(feedbackForm(`http://127.0.0.1:${port}/hooks/forms`), { actor: { type: 'system' } });
    assert.ok(published.ok, JSON.stringify(published));
  });
  after(async () => {
    await t?.close();
    receiver.close();
    delete process.env.WEBHOOK_SECRET_FEEDBACK;
  });

  async function answerAbout(client: TestClient, fields: Record<string, string>) {
    await client.get('/forms/feedback');
    const start = await client.post('/forms/feedback/start', {});
    assert.equal(start.headers.location, '/forms/feedback/about');
    await client.get('/forms/feedback/about');
    return client.post('/forms/feedback/about', { ...fields, action: 'continue' });
  }

  test('answers off the route finally taken are dropped before submission', async () => {
    const client = browser(t);
    await answerAbout(client, { fullName: 'Jo Bloggs', email: 'jo@example.com', moreToSay: 'yes' });
    await client.get('/forms/feedback/more');
    assert.equal(
      (await client.post('/forms/feedback/more', { details: 'The park was lovely', action: 'continue' })).headers.location,
      '/forms/feedback/check-answers',
    );
    // Change "more to say" to no from check answers: the details page leaves the route.
    await client.get('/forms/feedback/check-answers');
    await client.get('/forms/feedback/about?change=1');
    const changed = await client.post('/forms/feedback/about?change=1', {
      fullName: 'Jo Bloggs',
      email: 'jo@example.com',
      moreToSay: 'no',
      action: 'continue',
    });
    assert.equal(changed.headers.location, '/forms/feedback/check-answers');
    const check = await client.get('/forms/feedback/check-answers');
    assert.doesNotMatch(pageText(check.body), /The park was lovely/);
    await client.post('/forms/feedback/check-answers', {});
    const row = (
      await sql<{ answers: Record<string, unknown> }>`SELECT answers FROM form_submissions WHERE contact_email = 'jo@example.com'`.execute(
        t.platform.database.db,
      )
    ).rows[0];
    assert.deepEqual(row?.answers, { fullName: 'Jo Bloggs', email: 'jo@example.com', moreToSay: false });
  });

  test('a confirmation email carries the reference and a PDF copy, which the confirmation page also offers', async () => {
    const client = browser(t);
    await answerAbout(client, { fullName: 'Kim Lee', email: 'kim@example.com', moreToSay: 'no' });
    await client.get('/forms/feedback/check-answers');
    await client.post('/forms/feedback/check-answers', {});
    const page = await client.get('/forms/feedback/confirmation');
    const reference = /<strong>([A-Z0-9]{4}-[A-Z0-9]{4})<\/strong>/.exec(page.body)?.[1];
    assert.ok(reference);
    const email = await lastEmailTo(t, 'kim@example.com');
    assert.match(email.subject, new RegExp(reference));
    assert.match(email.body, /Kim Lee/);
    const stored = (
      await sql<{
        attachments: { filename: string; contentType: string }[];
      }>`SELECT attachments FROM notification_outbox WHERE recipient = 'kim@example.com'`.execute(t.platform.database.db)
    ).rows[0];
    assert.equal(stored?.attachments[0]?.filename, `${reference}.pdf`);
    const pdf = await client.get('/forms/feedback/confirmation/answers.pdf');
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.ok(pdf.rawPayload.subarray(0, 5).equals(Buffer.from('%PDF-')));
    assert.equal((await t.client().get('/forms/feedback/confirmation/answers.pdf')).statusCode, 404, 'another browser cannot download it');
  });

  test('save and come back later by email: a signed link opens the draft, and a bad link is refused', async () => {
    const client = browser(t);
    await client.get('/forms/feedback');
    await client.post('/forms/feedback/start', {});
    await client.get('/forms/feedback/about');
    const saved = await client.post('/forms/feedback/about', { fullName: 'Ray Patel', email: 'not-an-email', moreToSay: '', action: 'save' });
    assert.equal(saved.headers.location, '/forms/feedback/save');
    await client.get('/forms/feedback/save');
    const refused = await client.post('/forms/feedback/save', { email: 'ray' });
    assert.equal(refused.statusCode, 400);
    assert.match(pageText(refused.body), /Enter an email address in the correct format/);
    const sent = await client.post('/forms/feedback/save', { email: 'ray@example.com' });
    assert.match(pageText(sent.body), /Check your email/);
    const link = linkIn(await lastEmailTo(t, 'ray@example.com'), '/forms/feedback/resume');

    // A different browser, later: the link brings back what was typed.
    const later = browser(t);
    const resumed = await later.get(link.replace(/^https?:\/\/[^/]+/, ''));
    assert.equal(resumed.headers.location, '/forms/feedback/about');
    const page = await later.get('/forms/feedback/about');
    assert.ok(page.body.includes('value="Ray Patel"'), 'the valid answer was kept');
    assert.ok(!page.body.includes('not-an-email'), 'an answer with an error was not');
    const tampered = await t.client().get(`${link.replace(/^https?:\/\/[^/]+/, '')}x`);
    assert.equal(tampered.statusCode, 400);
  });

  test('a signed-in resident is prefilled, and resumes from their account', async () => {
    const client = await signIn(t, 'sam.taylor@example.com', 'kingsmere-demo-resident');
    await client.get('/forms/feedback');
    await client.post('/forms/feedback/start', {});
    const page = await client.get('/forms/feedback/about');
    assert.ok(page.body.includes('value="sam.taylor@example.com"'), 'email prefilled from the account');
    const account = await client.get('/account');
    assert.equal(account.statusCode, 200);
    const resume = /href="(\/forms\/feedback\/resume\/[0-9a-f-]{36})"/.exec(account.body)?.[1];
    assert.ok(resume, 'the account lists the form in progress');
    assert.equal((await client.get(resume)).headers.location, '/forms/feedback/about');
    assert.equal((await browser(t).get(resume)).statusCode, 302, 'someone else is sent to sign in');
  });

  test('deliveries: a signed webhook with retries, the team inbox, and a case through the case target', async () => {
    const cases: CaseRequest[] = [];
    t.services.forms.service.deliveries.setCaseCreator({
      async createCase(request) {
        cases.push(request);
        return { caseReference: `CASE-${cases.length}` };
      },
    });
    // Earlier submissions' deliveries go first, so the failure below is this submission's.
    await t.services.forms.service.deliveries.deliverDueNow();
    failNext = 1;
    received.length = 0;
    const client = browser(t);
    await answerAbout(client, { fullName: 'Lee Chan', email: 'lee@example.com', moreToSay: 'no' });
    await client.get('/forms/feedback/check-answers');
    await client.post('/forms/feedback/check-answers', {});
    const submission = (
      await sql<{ id: string; reference: string }>`SELECT id, reference FROM form_submissions WHERE contact_email = 'lee@example.com'`.execute(
        t.platform.database.db,
      )
    ).rows[0];
    assert.ok(submission);
    await t.services.forms.service.deliveries.deliverDueNow();
    const status = async () =>
      Object.fromEntries(
        (
          await sql<{
            name: string;
            status: string;
            attempts: number;
          }>`SELECT name, status, attempts FROM form_deliveries WHERE submission_id = ${submission.id}`.execute(t.platform.database.db)
        ).rows.map((r) => [r.name, `${r.status}/${r.attempts}`]),
      );
    assert.deepEqual(await status(), { crm: 'pending/1', newCase: 'delivered/1', teamInbox: 'delivered/1' }, 'the webhook failed once and waits to retry');
    await sql`UPDATE form_deliveries SET next_attempt_at = now() WHERE submission_id = ${submission.id}`.execute(t.platform.database.db);
    await t.services.forms.service.deliveries.deliverDueNow();
    assert.deepEqual(await status(), { crm: 'delivered/2', newCase: 'delivered/1', teamInbox: 'delivered/1' });

    const delivered = received.at(-1);
    assert.ok(delivered);
    assert.deepEqual(verifyWebhookSignature(SECRET, delivered.body, String(delivered.headers['borough-signature'])), { ok: true });
    const payload = JSON.parse(delivered.body) as { submission: { reference: string; answers: Record<string, unknown> } };
    assert.equal(payload.submission.reference, submission.reference);
    assert.equal(payload.submission.answers.fullName, 'Lee Chan');
    const created = cases.find((request) => request.reference === submission.reference);
    assert.equal(created?.settings.team, 'customer-services');
    assert.equal(created.submittedBy.type, 'anonymous');
    const team = await emailsTo(t, 'feedback-team@kingsmere.example');
    assert.ok(team.some((email) => email.subject.includes(submission.reference)));
  });

  test('expired drafts and drafts already sent are removed by housekeeping', async () => {
    const draft = await t.services.forms.service.startDraft('feedback', { channel: 'online' });
    assert.ok(draft);
    await sql`UPDATE form_drafts SET expires_at = now() - interval '1 minute' WHERE id = ${draft.id}`.execute(t.platform.database.db);
    const removed = await t.services.forms.service.purgeExpiredDrafts();
    assert.ok(removed >= 1);
    assert.equal(await t.services.forms.service.draft(draft.id), undefined);
    const submitted = (
      await sql<{ n: number }>`SELECT count(*)::int AS n FROM form_drafts d WHERE EXISTS (SELECT 1 FROM form_submissions s WHERE s.draft_id = d.id)`.execute(
        t.platform.database.db,
      )
    ).rows[0];
    assert.equal(submitted?.n, 0);
  });

  test('published versions and submissions cannot be changed', async () => {
    await assert.rejects(sql`UPDATE form_versions SET note = 'x'`.execute(t.platform.database.db), /cannot be changed/);
    await assert.rejects(sql`UPDATE form_submissions SET answers = '{}'::jsonb`.execute(t.platform.database.db), /cannot be changed/);
    await assert.rejects(sql`DELETE FROM form_submissions`.execute(t.platform.database.db), /cannot be changed/);
  });
});
