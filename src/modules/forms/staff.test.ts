import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Role } from '#modules/account/index';
import { createTestApp, pageText, type TestApp } from '../../../test/support/app.js';
import { parseCsv } from '../../../test/support/csv.js';
import { postMultipart, type UploadedFile } from '../../../test/support/multipart.js';
import { signInDemoStaff, type SignedInStaff } from '../../../test/support/staff.js';
import type { FormDefinitionInput } from './model/definition.js';

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

/** A one-page form owned by these tests, so they do not depend on the shipped forms' content. */
function testForm(overrides: Partial<FormDefinitionInput> = {}): FormDefinitionInput {
  return {
    schemaVersion: 2,
    id: 'staffPagesTest',
    slug: 'staff-pages-test',
    title: 'Tell us about a noisy neighbour',
    pages: [
      {
        id: 'details',
        slug: 'details',
        title: 'Your details',
        components: [
          { type: 'text', id: 'fullName', label: 'Your name' },
          { type: 'email', id: 'email', label: 'Email address', hint: 'We will send a copy of your answers' },
        ],
        routes: [{ goTo: 'check-answers' }],
      },
    ],
    deliveries: [],
    ...overrides,
  };
}

/** The same form, delivered to a webhook whose secret is never set, so every delivery fails. */
const failingForm = (): FormDefinitionInput =>
  testForm({
    id: 'staffPagesHook',
    slug: 'staff-pages-hook',
    title: 'Report a broken streetlight',
    deliveries: [
      { name: 'streetlights', type: 'webhook', settings: { url: 'https://streetlights.example.invalid/hook', secretEnv: 'WEBHOOK_SECRET_MISSING' } },
    ],
  });

describe('staff pages for forms', () => {
  let t: TestApp;
  const staff = new Map<Role, SignedInStaff>();
  let submissionId = '';
  let reference = '';
  let failedSubmissionId = '';

  const signedIn = (role: Role) => present(staff.get(role), role).client;
  const member = (role: Role) => present(staff.get(role), role).member;
  const forms = () => t.services.forms.service;

  async function submit(slug: string, answers: Record<string, unknown>) {
    const draft = present(await forms().startDraft(slug, { channel: 'online' }), `a draft of ${slug}`);
    const saved = await forms().savePage(draft, 'details', answers);
    const result = await forms().submit(saved, { channel: 'online' });
    assert.ok(result.ok, `${slug} submitted`);
    return result.submission;
  }

  type DeliveryState = { status: string; attempts: number; next_attempt_at: Date; delivered_at: Date | null; last_error: string | null };
  const deliveryState = (id: string): Promise<DeliveryState | undefined> =>
    t.platform.database.db
      .withTables<{ form_deliveries: DeliveryState & { id: string } }>()
      .selectFrom('form_deliveries')
      .select(['status', 'attempts', 'next_attempt_at', 'delivered_at', 'last_error'])
      .where('id', '=', id)
      .executeTakeFirst();
  const auditCount = async (action: string) =>
    Number(
      (
        await t.platform.database.db
          .withTables<{ audit_events: { action: string } }>()
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('action', '=', action)
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** The hidden fields of the retry button for a delivery on the last page, as the browser would post them. */
  const retryFields = (html: string, deliveryId: string): Record<string, string> => {
    const form = present(new RegExp(`<form[^>]*action="/staff/forms/deliveries/${deliveryId}/retry"[\\s\\S]*?</form>`).exec(html)?.[0], 'a retry button');
    return Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  };

  /** Posts a multipart form as a browser does for a page with a file upload. */
  async function postMultipartAs(role: Role, url: string, fields: Record<string, string>, file?: UploadedFile) {
    const { client, ip } = present(staff.get(role), role);
    return postMultipart(t, client, url, fields, { file, remoteAddress: ip });
  }

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    // Each role signs in on its own browser and address (sign-in is rate limited per address).
    for (const role of ['administrator', 'case-officer', 'team-leader', 'content-editor'] as Role[]) staff.set(role, await signInDemoStaff(t, role));
    for (const definition of [testForm(), failingForm()]) {
      const published = await forms().publish(definition, { actor: { type: 'system' } });
      assert.ok(published.ok, `${definition.slug} published`);
    }
    const submission = await submit('staff-pages-test', { fullName: '=HYPERLINK("x")', email: 'resident@example.com' });
    submissionId = submission.id;
    reference = submission.reference;
    failedSubmissionId = (await submit('staff-pages-hook', { fullName: 'Sam Lamp', email: 'sam@example.com' })).id;
    const outcome = await forms().deliveries.deliverDueNow();
    assert.equal(outcome.failed, 1, 'the webhook without a secret fails for good');
  });
  after(async () => t?.close());

  test('a case officer sees the forms, finds a submission and reads it, and each reading is audited', async () => {
    const officer = signedIn('case-officer');
    const overview = await officer.get('/staff/forms');
    assert.equal(overview.statusCode, 200);
    const overviewText = pageText(overview.body);
    assert.match(overviewText, /Tell us about a noisy neighbour/);
    assert.match(overviewText, /Report a broken streetlight/);
    assert.match(overview.body, /<a class="govuk-service-navigation__link" href="\/staff\/forms"/, 'Forms is in the staff navigation');
    assert.doesNotMatch(overview.body, /\/staff\/forms\/deliveries\/[^"]+\/retry/, 'no retry buttons without forms:retry');
    assert.doesNotMatch(overviewText, /Publish a new definition/);

    const list = await officer.get('/staff/forms/submissions?form=staff-pages-test');
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.includes(`href="/staff/forms/submissions/${submissionId}">${reference}</a>`), 'the reference links to the submission');
    const table = present(/<table class="govuk-table" id="submissions">[\s\S]*?<\/table>/.exec(list.body)?.[0], 'the submissions table');
    assert.match(pageText(table), /Not signed in, online/);
    assert.doesNotMatch(pageText(table), /Report a broken streetlight/, 'filtered to one form');

    const byReference = await officer.get(`/staff/forms/submissions?reference=${reference.replace('-', '').toLowerCase()}`);
    assert.ok(byReference.body.includes(reference), 'a reference typed without its hyphen still finds it');

    const failedOnly = await officer.get('/staff/forms/submissions?status=failed');
    assert.match(failedOnly.body, /govuk-tag--red/);
    assert.ok(!failedOnly.body.includes(reference), 'the delivered-nowhere submission is not among the failed ones');

    const page = await officer.get(`/staff/forms/submissions/${submissionId}`);
    assert.equal(page.statusCode, 200);
    const text = pageText(page.body);
    assert.match(text, new RegExp(`Submission ${reference}`));
    assert.match(text, /Your name =HYPERLINK\("x"\)/);
    assert.match(text, /version 1/);
    assert.doesNotMatch(page.body, /Change/);

    const audited = await t.platform.database.db
      .withTables<{ audit_events: { action: string; subject_id: string | null; actor_id: string | null } }>()
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'forms.submission-viewed')
      .where('subject_id', '=', submissionId)
      .execute();
    assert.ok(
      audited.some((row) => row.actor_id === member('case-officer').id),
      'the view is audited',
    );

    assert.equal((await officer.get('/staff/forms/submissions/00000000-0000-0000-0000-000000000000')).statusCode, 404);
  });

  test('bad filters give an error summary, keep the other filters and never fail', async () => {
    const officer = signedIn('case-officer');
    const res = await officer.get('/staff/forms/submissions?form=staff-pages-test&reference=ABCD&from=2026-02-30&to=yesterday&status=lost&page=x');
    assert.equal(res.statusCode, 400);
    const text = pageText(res.body);
    assert.match(text, /There is a problem/);
    assert.match(text, /Enter the start date as a real date/);
    assert.match(text, /Enter the end date as a real date/);
    assert.match(text, /Select a delivery status from the list/);
    assert.match(res.body, /<option value="staff-pages-test" selected>/, 'the form filter is kept');
    assert.match(res.body, /<input[^>]*name="reference"[^>]*value="ABCD"/, 'the reference is kept');
    const backwards = await officer.get('/staff/forms/submissions?from=2026-03-02&to=2026-03-01');
    assert.equal(backwards.statusCode, 400);
    assert.match(pageText(backwards.body), /The end date must be the same as or after the start date/);
    const unknownForm = await officer.get('/staff/forms/submissions?form=no-such-form');
    assert.equal(unknownForm.statusCode, 400);
  });

  test('the CSV export neutralises formulas, quotes cells and is named after the form', async () => {
    const res = await signedIn('case-officer').get('/staff/forms/submissions.csv?form=staff-pages-test');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="submissions-staff-pages-test-\d{4}-\d{2}-\d{2}\.csv"$/);
    const [header, row, ...rest] = parseCsv(res.body.replace(/^\uFEFF/, ''));
    assert.equal(rest.length, 0, 'one submission');
    assert.deepEqual(header?.slice(0, 7), ['reference', 'form', 'version', 'submitted_at', 'submitted_by', 'channel', 'answers']);
    const cell = (name: string) => row?.[present(header, 'header').indexOf(name)];
    assert.equal(cell('reference'), reference);
    assert.equal(cell('form'), 'Tell us about a noisy neighbour');
    assert.equal(cell('fullName'), `'=HYPERLINK("x")`);
    assert.equal(cell('answers'), 'Your name: =HYPERLINK("x"); Email address: resident@example.com');
    assert.ok(res.body.includes(`"'=HYPERLINK(""x"")"`), 'quoted per RFC 4180');
    assert.match(present(cell('submitted_at'), 'submitted_at'), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const all = await signedIn('case-officer').get('/staff/forms/submissions.csv');
    assert.match(String(all.headers['content-disposition']), /filename="submissions-all-/);
    const exported = await t.platform.database.db
      .withTables<{ audit_events: { action: string; actor_id: string | null } }>()
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'forms.submissions-exported')
      .execute();
    assert.ok(exported.length >= 2, 'each export is audited');
  });

  test('a team leader retries a failed delivery; a case officer may not', async () => {
    const leader = signedIn('team-leader');
    const overview = await leader.get('/staff/forms');
    assert.match(pageText(overview.body), /1 delivery has failed/);
    const page = await leader.get(`/staff/forms/submissions/${failedSubmissionId}`);
    const match = /action="\/staff\/forms\/deliveries\/([0-9a-f-]{36})\/retry"/.exec(page.body);
    const deliveryId = present(match?.[1], 'a retry button');
    assert.match(pageText(page.body), /The webhook secret is not set/);

    const officer = signedIn('case-officer');
    await officer.get(`/staff/forms/submissions/${failedSubmissionId}`);
    assert.doesNotMatch(officer.lastHtml, /\/retry"/, 'a case officer sees no retry button');
    const refused = await officer.post(`/staff/forms/deliveries/${deliveryId}/retry`, { submission: failedSubmissionId });
    assert.equal(refused.statusCode, 403);
    await assert.rejects(forms().retryDelivery(member('case-officer'), deliveryId), (e: { statusCode?: number }) => e.statusCode === 403);

    await leader.get(`/staff/forms/submissions/${failedSubmissionId}`);
    const retried = await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, { submission: failedSubmissionId });
    assert.equal(retried.statusCode, 303);
    assert.equal(retried.headers.location, `/staff/forms/submissions/${failedSubmissionId}?retried=1`);
    const after = await leader.follow(retried);
    assert.match(pageText(after.body), /The delivery will be tried again shortly/);
    assert.match(pageText(after.body), /Waiting/);
    const found = present(await forms().submissionForStaff(member('team-leader'), failedSubmissionId), 'the submission');
    assert.equal(found.deliveries[0]?.status, 'pending');

    // Already back in the queue: the retry from the page loaded before is refused, says why, and changes nothing.
    const unchanged = present(await deliveryState(deliveryId), 'the delivery');
    const retriesAudited = await auditCount('forms.delivery-retried');
    const csrf = leader.csrf();
    const again = await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, { submission: failedSubmissionId }, { csrf });
    assert.equal(again.statusCode, 409);
    const againText = pageText(again.body);
    assert.match(againText, /There is a problem The delivery “streetlights” is not waiting for a retry: it is already being retried/);
    assert.match(again.body, /<title>Error: Submission /);
    assert.ok(again.body.includes(`href="#delivery-${deliveryId}"`), 'the error links to the delivery');
    assert.ok(again.body.includes(`id="delivery-${deliveryId}"`), 'which is on the page');
    assert.doesNotMatch(againText, /will be tried again shortly/);
    assert.deepEqual(await deliveryState(deliveryId), unchanged, 'the delivery is as it was');
    assert.equal(await auditCount('forms.delivery-retried'), retriesAudited, 'no retry is recorded');

    assert.equal(
      (await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, { submission: submissionId }, { csrf })).statusCode,
      404,
      'not a delivery of that submission',
    );
    assert.equal((await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, {}, { csrf })).statusCode, 404, 'no submission to show it on');
    assert.equal((await leader.post('/staff/forms/deliveries/not-a-delivery/retry', { submission: failedSubmissionId }, { csrf })).statusCode, 404);
  });

  test('a retry from the list of failed deliveries goes back to the list; pressed again, it shows the delivery already being retried', async () => {
    const submission = await submit('staff-pages-hook', { fullName: 'Robin Lantern', email: 'robin@example.com' });
    await forms().deliveries.deliverDueNow();
    const deliveryId = present((await forms().submissionForStaff(member('team-leader'), submission.id))?.deliveries[0]?.id, 'the delivery');
    assert.equal((await deliveryState(deliveryId))?.status, 'failed');
    const leader = signedIn('team-leader');
    const overview = await leader.get('/staff/forms');
    const fields = retryFields(overview.body, deliveryId);
    assert.equal(fields.submission, submission.id);

    const retried = await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, fields);
    assert.equal(retried.statusCode, 303);
    assert.equal(retried.headers.location, '/staff/forms?retried=1');
    assert.match(pageText((await leader.follow(retried)).body), /The delivery will be tried again shortly/);

    const again = await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, fields);
    assert.equal(again.statusCode, 409);
    assert.match(
      pageText(again.body),
      new RegExp(`Submission ${submission.reference}.*The delivery “streetlights” is not waiting for a retry: it is already being retried`),
    );
    assert.equal((await deliveryState(deliveryId))?.status, 'pending');
  });

  test('retrying a delivery that was sent says when it was sent and changes nothing', async () => {
    const emailed = testForm({
      id: 'staffPagesEmailed',
      slug: 'staff-pages-emailed',
      title: 'Report a blocked drain',
      deliveries: [{ name: 'drainsInbox', type: 'email', settings: { to: 'drains@kingsmere.example' } }],
    });
    assert.ok((await forms().publish(emailed, { actor: { type: 'system' } })).ok);
    const submission = await submit('staff-pages-emailed', { fullName: 'Ali Gully', email: 'ali@example.com' });
    await forms().deliveries.deliverDueNow();
    const deliveryId = present((await forms().submissionForStaff(member('team-leader'), submission.id))?.deliveries[0]?.id, 'the delivery');
    const sentAt = new Date('2026-06-01T09:05:00Z');
    await t.platform.database.db
      .withTables<{ form_deliveries: { id: string; delivered_at: Date | null } }>()
      .updateTable('form_deliveries')
      .set({ delivered_at: sentAt })
      .where('id', '=', deliveryId)
      .execute();
    const unchanged = present(await deliveryState(deliveryId), 'the delivery');
    assert.equal(unchanged.status, 'delivered');

    const leader = signedIn('team-leader');
    const page = await leader.get(`/staff/forms/submissions/${submission.id}`);
    assert.doesNotMatch(page.body, /\/retry"/, 'no retry button for a sent delivery');
    const res = await leader.post(`/staff/forms/deliveries/${deliveryId}/retry`, { submission: submission.id });
    assert.equal(res.statusCode, 409);
    assert.match(pageText(res.body), /The delivery “drainsInbox” is not waiting for a retry: it was sent on 1 June 2026 at 10:05am/);
    assert.deepEqual(await deliveryState(deliveryId), unchanged, 'the delivery is as it was');
  });

  test('the date filters count UK days, in summer and winter time and on the days the clocks change', async () => {
    const dated = testForm({ id: 'staffPagesDated', slug: 'staff-pages-dated', title: 'Apply to close a road for a street party' });
    assert.ok((await forms().publish(dated, { actor: { type: 'system' } })).ok);
    // Each submission by the UK time it was sent.
    const sentAt: Record<string, string> = {
      '23:59 BST on 31 May': '2026-05-31T22:59:00Z',
      '00:30 BST on 1 June': '2026-05-31T23:30:00Z',
      '23:30 BST on 1 June': '2026-06-01T22:30:00Z',
      '00:00 BST on 2 June': '2026-06-01T23:00:00Z',
      '23:59 GMT on 14 January': '2026-01-14T23:59:00Z',
      '00:00 GMT on 15 January': '2026-01-15T00:00:00Z',
      '23:59 GMT on 15 January': '2026-01-15T23:59:59Z',
      '00:00 GMT on 16 January': '2026-01-16T00:00:00Z',
      '00:30 GMT on 29 March, before the clocks go forward': '2026-03-29T00:30:00Z',
      '23:30 BST on 29 March': '2026-03-29T22:30:00Z',
      '00:30 BST on 30 March': '2026-03-29T23:30:00Z',
      '23:30 BST on 24 October': '2026-10-24T22:30:00Z',
      '00:30 BST on 25 October, before the clocks go back': '2026-10-24T23:30:00Z',
      '23:30 GMT on 25 October': '2026-10-25T23:30:00Z',
      '00:00 GMT on 26 October': '2026-10-26T00:00:00Z',
    };
    // Made here rather than sent, as a submission's time is fixed when it is sent.
    const byReference = new Map<string, string>();
    for (const [index, [when, at]] of Object.entries(sentAt).entries()) {
      const reference = `DATED-${index}`;
      await t.platform.database.db
        .withTables<{
          form_submissions: {
            reference: string;
            slug: string;
            version: number;
            draft_id: string;
            answers: string;
            summary: string;
            submitted_by: string;
            channel: string;
            started_at: Date;
            submitted_at: Date;
          };
        }>()
        .insertInto('form_submissions')
        .values({
          reference,
          slug: 'staff-pages-dated',
          version: 1,
          draft_id: randomUUID(),
          answers: JSON.stringify({ fullName: when }),
          summary: '[]',
          submitted_by: 'anonymous',
          channel: 'online',
          started_at: new Date(at),
          submitted_at: new Date(at),
        })
        .execute();
      byReference.set(reference, when);
    }
    const officer = signedIn('case-officer');
    const found = async (dates: string) => {
      const res = await officer.get(`/staff/forms/submissions?form=staff-pages-dated&${dates}`);
      assert.equal(res.statusCode, 200, dates);
      return [...res.body.matchAll(/href="\/staff\/forms\/submissions\/[0-9a-f-]{36}">([A-Z0-9-]+)<\/a>/g)].map((m) => byReference.get(m[1] ?? '')).sort();
    };
    assert.deepEqual(await found('from=2026-06-01&to=2026-06-01'), ['00:30 BST on 1 June', '23:30 BST on 1 June']);
    assert.deepEqual(await found('from=2026-01-15&to=2026-01-15'), ['00:00 GMT on 15 January', '23:59 GMT on 15 January']);
    assert.deepEqual(await found('from=2026-03-29&to=2026-03-29'), ['00:30 GMT on 29 March, before the clocks go forward', '23:30 BST on 29 March']);
    assert.deepEqual(await found('from=2026-10-25&to=2026-10-25'), ['00:30 BST on 25 October, before the clocks go back', '23:30 GMT on 25 October']);
    assert.deepEqual(await found('from=2026-10-25'), [
      '00:00 GMT on 26 October',
      '00:30 BST on 25 October, before the clocks go back',
      '23:30 GMT on 25 October',
    ]);
    assert.deepEqual(await found('to=2026-01-14'), ['23:59 GMT on 14 January']);
    assert.deepEqual(await found('from=2026-05-31&to=2026-06-01'), ['00:30 BST on 1 June', '23:30 BST on 1 June', '23:59 BST on 31 May']);

    const csv = await officer.get('/staff/forms/submissions.csv?form=staff-pages-dated&from=2026-06-01&to=2026-06-01');
    const [header, ...rows] = parseCsv(csv.body.replace(/^\uFEFF/, ''));
    const name = present(header, 'the header').indexOf('fullName');
    assert.deepEqual(rows.map((row) => row[name]).sort(), ['00:30 BST on 1 June', '23:30 BST on 1 June'], 'the download counts the same days');
  });

  test('completion figures list each version and its pages in order', async () => {
    const res = await signedIn('case-officer').get('/staff/forms/staff-pages-test/funnel');
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Version 1 Live/);
    assert.match(text, /Started 1 Completed 1 Completion rate 100%/);
    assert.match(text, /Your details 1 100%/);
    assert.equal((await signedIn('case-officer').get('/staff/forms/no-such-form/funnel')).statusCode, 404);
  });

  test('an administrator publishes a definition by pasting or uploading it, and is told what is wrong with a broken one', async () => {
    const admin = signedIn('administrator');
    const overview = await admin.get('/staff/forms');
    assert.match(pageText(overview.body), /Publish a new definition/);
    const form = await admin.get('/staff/forms/publish');
    assert.equal(form.statusCode, 200);

    const changed = testForm({ title: 'Tell us about noise from a neighbour' });
    const published = await admin.post('/staff/forms/publish', { definition: JSON.stringify(changed, null, 2), note: 'Clearer title' });
    assert.equal(published.statusCode, 200);
    assert.match(pageText(published.body), /Version 2 published/);
    assert.match(published.body, /href="\/staff\/forms\/staff-pages-test\/preview\/2"/);
    assert.match(published.body, /href="\/forms\/staff-pages-test"/);
    assert.equal((await forms().live('staff-pages-test'))?.version, 2);
    const versions = await forms().versions('staff-pages-test');
    assert.equal(versions[0]?.published_by, member('administrator').id);
    assert.equal(versions[0]?.note, 'Clearer title');

    const again = await admin.post('/staff/forms/publish', { definition: JSON.stringify(changed) });
    assert.match(pageText(again.body), /No changes: version 2 is already live/);

    const uploaded = await postMultipartAs(
      'administrator',
      '/staff/forms/publish',
      { definition: '', note: 'From a file' },
      { name: 'definitionFile', filename: 'form.json', type: 'application/json', bytes: JSON.stringify(testForm({ title: 'Report noise from a neighbour' })) },
    );
    assert.equal(uploaded.statusCode, 200);
    assert.match(pageText(uploaded.body), /Version 3 published/);

    const broken = testForm();
    const brokenPage = present(broken.pages[0], 'page');
    brokenPage.routes = [{ goTo: 'nowhere' }];
    await admin.get('/staff/forms/publish');
    const refused = await admin.post('/staff/forms/publish', { definition: JSON.stringify(broken) });
    assert.equal(refused.statusCode, 400);
    const refusedText = pageText(refused.body);
    assert.match(refusedText, /There is a problem/);
    assert.match(refusedText, /problems? to fix/);
    assert.match(refused.body, /<code>pages\[0\]\.routes\[0\]\.goTo<\/code>/, 'the finding names where');
    assert.equal((await forms().live('staff-pages-test'))?.version, 3, 'nothing published');

    const badJson = await admin.post('/staff/forms/publish', { definition: '{\n  "schemaVersion": 2,\n  "id": }' });
    assert.equal(badJson.statusCode, 400);
    assert.match(pageText(badJson.body), /not valid JSON.*at line 3, column 9/);
    assert.match(badJson.body, /&quot;id&quot;: }/, 'the pasted text is kept');

    const empty = await admin.post('/staff/forms/publish', { definition: '  ' });
    assert.equal(empty.statusCode, 400);
    assert.match(pageText(empty.body), /Choose a definition file or paste the definition/);

    const tooBig = await postMultipartAs(
      'administrator',
      '/staff/forms/publish',
      {},
      { name: 'definitionFile', filename: 'big.json', type: 'application/json', bytes: 'x'.repeat(1024 * 1024 + 10) },
    );
    assert.equal(tooBig.statusCode, 400);
    assert.match(pageText(tooBig.body), /The selected file must be smaller than 1 MB/);
  });

  test('a definition reads back as pages, questions and routes without starting a form', async () => {
    const routed = testForm({
      id: 'staffPagesRouted',
      slug: 'staff-pages-routed',
      title: 'Apply for a parking permit',
      pages: [
        {
          id: 'vehicle',
          slug: 'vehicle',
          title: 'Your vehicle',
          components: [
            { type: 'yesNo', id: 'ownsCar', label: 'Do you own a car?' },
            { type: 'text', id: 'registration', label: 'Registration number', hint: 'For example, AB12 CDE', optional: true },
          ],
          routes: [{ when: { equals: [{ answer: 'ownsCar' }, false] }, goTo: { exit: 'https://example.org/no-car' } }, { goTo: 'contact' }],
        },
        { id: 'contact', slug: 'contact', title: 'Contact details', components: [{ type: 'email', id: 'email', label: 'Email address' }] },
      ],
    });
    assert.ok((await forms().publish(routed, { actor: { type: 'system' } })).ok);
    const countDrafts = async () =>
      Number(
        (
          await t.platform.database.db
            .withTables<{ form_drafts: { id: string } }>()
            .selectFrom('form_drafts')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const drafts = await countDrafts();
    const res = await signedIn('case-officer').get('/staff/forms/staff-pages-routed/preview/1');
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Do you own a car\? ownsCar Yes or no Required/);
    assert.match(text, /Registration number registration Hint: For example, AB12 CDE Short text Optional/);
    assert.match(text, /If the answer to “Do you own a car\?” is no, go to https:\/\/example.org\/no-car \(leaves the form\)/);
    assert.match(text, /Otherwise, go to “Contact details”/);
    assert.match(text, /Go to check answers/);
    assert.equal(await countDrafts(), drafts, 'no draft was made');
    assert.equal((await signedIn('case-officer').get('/staff/forms/staff-pages-routed/preview/9')).statusCode, 404);
    assert.equal((await signedIn('case-officer').get('/staff/forms/staff-pages-routed/preview/x')).statusCode, 404);
  });

  test('a case officer fills in a form for a resident on the phone, and it is recorded as sent by staff', async () => {
    const officer = signedIn('case-officer');
    const start = await officer.get('/staff/forms/staff-pages-test/assist');
    assert.equal(start.statusCode, 200);
    const missing = await officer.post('/staff/forms/staff-pages-test/assist', {});
    assert.equal(missing.statusCode, 400);
    assert.match(pageText(missing.body), /Select how the resident is contacting the council/);

    const started = await officer.post('/staff/forms/staff-pages-test/assist', { channel: 'phone' });
    assert.equal(started.statusCode, 303);
    assert.equal(started.headers.location, '/forms/staff-pages-test/details');
    await officer.get('/forms/staff-pages-test/details');
    const answered = await officer.post('/forms/staff-pages-test/details', { fullName: 'Pat Caller', email: 'pat@example.com' });
    assert.equal(answered.statusCode, 303);
    assert.equal(answered.headers.location, '/forms/staff-pages-test/check-answers');
    await officer.get('/forms/staff-pages-test/check-answers');
    const sent = await officer.post('/forms/staff-pages-test/check-answers', {});
    assert.equal(sent.headers.location, '/forms/staff-pages-test/confirmation');

    const { rows } = await forms().listSubmissions(member('case-officer'), { slug: 'staff-pages-test' });
    const made = present(
      rows.find((row) => row.answers.fullName === 'Pat Caller'),
      'the assisted submission',
    );
    assert.equal(made.submitted_by, 'staff');
    assert.equal(made.channel, 'phone');
    assert.equal(made.staff_id, member('case-officer').id);
    const page = await officer.get(`/staff/forms/submissions/${made.id}`);
    assert.match(pageText(page.body), /Staff, by phone/);
  });

  test('staff without the permission are refused by every page and by the service', async () => {
    const editor = signedIn('content-editor');
    await editor.get('/staff');
    const pages = [
      '/staff/forms',
      '/staff/forms/submissions',
      '/staff/forms/submissions.csv',
      `/staff/forms/submissions/${submissionId}`,
      '/staff/forms/staff-pages-test/funnel',
      '/staff/forms/staff-pages-test/preview/1',
      '/staff/forms/publish',
      '/staff/forms/staff-pages-test/assist',
    ];
    for (const url of pages) assert.equal((await editor.get(url)).statusCode, 403, `content editor on ${url}`);
    await editor.get('/staff');
    const csrf = editor.csrf();
    const posts: [string, Record<string, string>][] = [
      ['/staff/forms/deliveries/00000000-0000-0000-0000-000000000000/retry', {}],
      ['/staff/forms/publish', { definition: JSON.stringify(testForm()) }],
      ['/staff/forms/staff-pages-test/assist', { channel: 'phone' }],
    ];
    for (const [url, form] of posts) assert.equal((await editor.post(url, form, { csrf })).statusCode, 403, `content editor posting to ${url}`);
    assert.doesNotMatch((await editor.get('/staff')).body, /href="\/staff\/forms"/, 'no Forms link in the navigation');

    // Publishing is for administrators, and filling in for residents is not for administrators.
    const officer = signedIn('case-officer');
    assert.equal((await officer.get('/staff/forms/publish')).statusCode, 403);
    await officer.get('/staff/forms');
    assert.equal((await officer.post('/staff/forms/publish', { definition: JSON.stringify(testForm()) })).statusCode, 403);
    assert.equal((await signedIn('administrator').get('/staff/forms/staff-pages-test/assist')).statusCode, 403);

    const forbidden = (e: { statusCode?: number }) => e.statusCode === 403;
    const editorMember = member('content-editor');
    await assert.rejects(forms().listSubmissions(editorMember, {}), forbidden);
    await assert.rejects(forms().submissionForStaff(editorMember, submissionId), forbidden);
    await assert.rejects(forms().exportSubmissions(editorMember, {}), forbidden);
    await assert.rejects(forms().failedDeliveries(editorMember), forbidden);
    await assert.rejects(forms().retryDelivery(editorMember, submissionId), forbidden);
    await assert.rejects(forms().funnel(editorMember, 'staff-pages-test'), forbidden);
    await assert.rejects(forms().publishAsStaff(member('case-officer'), testForm(), undefined), forbidden);
    await assert.rejects(forms().startAssisted(editorMember, 'staff-pages-test', 'phone'), forbidden);
  });

  test('signed-out visitors are sent to sign in', async () => {
    const res: LightMyRequestResponse = await t.client().get('/staff/forms/submissions');
    assert.equal(res.statusCode, 302);
    assert.match(String(res.headers.location), /^\/staff\/sign-in/);
  });
});
