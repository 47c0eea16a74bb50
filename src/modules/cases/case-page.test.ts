import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Role } from '#modules/account/index';
import { createTestApp, pageText, type TestApp } from '../../../test/support/app.js';
import { postMultipart, type UploadedFile } from '../../../test/support/multipart.js';
import { signInDemoStaff, type SignedInStaff } from '../../../test/support/staff.js';
import type { OpenCaseInput } from './service.js';

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

/** The smallest file each checker recognises by its first bytes. */
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
const PDF = Buffer.from('%PDF-1.4\n% a pothole photo report\n%%EOF\n');

describe('the staff case page', () => {
  let t: TestApp;
  const staff = new Map<Role, SignedInStaff>();

  const as = (role: Role) => present(staff.get(role), role).client;
  const member = (role: Role) => present(staff.get(role), role).member;
  const cases = () => t.services.cases.service;

  let serial = 0;
  async function openCase(overrides: Partial<OpenCaseInput> = {}) {
    serial += 1;
    const { case: opened } = await cases().open(
      { type: 'system' },
      {
        type: 'pothole',
        title: `Pothole outside ${serial} Mill Lane`,
        subject: { kind: 'person', name: 'Jo Bloggs', email: `jo.bloggs.${serial}@example.com`, phone: '07700 900982' },
        location: { address: `${serial} Mill Lane, Kingsmere`, postcode: 'KM1 2AB', uprn: '100012345678', usrn: '20001234' },
        source: 'report',
        channel: 'online',
        sourceReference: 'RPT-1234',
        ...overrides,
      },
    );
    return opened;
  }

  /** Reads a page and checks it loaded, so the next post carries its CSRF token. */
  async function page(role: Role, url: string): Promise<string> {
    const res = await as(role).get(url);
    assert.equal(res.statusCode, 200, `${role} can open ${url}`);
    return pageText(res.body);
  }

  /** Posts an action from the case page and follows it back, as a browser would. */
  async function act(role: Role, reference: string, path: string, form: Record<string, string>): Promise<string> {
    await page(role, `/staff/cases/${reference}`);
    const res = await as(role).post(`/staff/cases/${reference}/${path}`, form);
    assert.equal(res.statusCode, 303, `${path}: ${pageText(res.body).slice(0, 600)}`);
    assert.equal(res.headers.location, `/staff/cases/${reference}`);
    return pageText((await as(role).follow(res)).body);
  }

  /** The timeline's text: everything after its heading. */
  const timelineOf = (text: string) => text.slice(text.lastIndexOf('Timeline'));

  /** Posts the case page's "Add a file" form as a browser does: multipart, with an optional file. */
  async function attach(role: Role, reference: string, file?: Omit<UploadedFile, 'name'>, fields: Record<string, string> = {}) {
    const { client, ip } = present(staff.get(role), role);
    return postMultipart(t, client, `/staff/cases/${reference}/attachments`, fields, { file: file && { name: 'attachment', ...file }, remoteAddress: ip });
  }

  async function auditRows(action: string, caseId: string) {
    return t.platform.database.db
      .withTables<{ audit_events: { action: string; subject_id: string | null; actor_id: string | null } }>()
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', action)
      .where('subject_id', '=', caseId)
      .execute();
  }

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    // Each role signs in on its own browser and address (sign-in is rate limited per address).
    for (const role of ['case-officer', 'team-leader', 'safeguarding-officer', 'content-editor'] as Role[]) staff.set(role, await signInDemoStaff(t, role));
  });
  after(async () => t?.close());

  test('shows the summary, who it is for, where, what they told us and the timeline', async () => {
    const opened = await openCase({
      source: 'form',
      sourceReference: 'FRM-2345',
      tags: ['school route'],
      details: {
        form: { slug: 'report-a-pothole', title: 'Report a pothole', version: 3 },
        summary: [{ title: 'The pothole', rows: [{ question: 'How deep is it?', answer: ['Deeper than a brick'] }] }],
      },
    });
    const text = await page('case-officer', `/staff/cases/${opened.reference}`);
    assert.match(text, new RegExp(`Case ${opened.reference}`));
    assert.match(text, /Reference [A-Z0-9]{4}-[A-Z0-9]{4} Type Pothole Status New Priority Normal Team Highways and street lighting Assigned to Nobody/);
    assert.match(
      text,
      /Target On track Due by (\d{1,2}(:\d{2})?(am|pm)|midday|midnight) on (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} [A-Z][a-z]+ \d{4}/,
    );
    assert.match(text, /Opened \d{1,2} [A-Z][a-z]+ \d{4} at \d{1,2}:\d{2}(am|pm)/);
    assert.match(text, /Source Form submission FRM-2345 \(Report a pothole\), online/);
    assert.match(text, /Tags school route/);
    assert.match(text, /Who Person without an account Name Jo Bloggs/);
    assert.match(text, /Phone 07700 900982/);
    assert.match(text, /Postcode KM1 2AB UPRN 100012345678 USRN 20001234/);
    assert.match(text, /What they told us The pothole How deep is it\? Deeper than a brick/);
    const detail = await cases().caseDetail(member('case-officer'), opened.reference);
    const personId = present(detail.person, 'the person').id;
    assert.ok(
      (await as('case-officer').get(`/staff/cases/${opened.reference}`)).body.includes(`href="/staff/cases/people/${personId}"`),
      'links to contact history',
    );
    const timeline = timelineOf(text);
    assert.match(timeline, /Case opened by System/);
    assert.match(timeline, /Email sent to the resident by System .* Sent to resident Subject: We have received your pothole report/);

    const lower = await as('case-officer').get(`/staff/cases/${opened.reference.replace('-', '').toLowerCase()}`);
    assert.equal(lower.statusCode, 301, 'a reference typed another way goes to the case’s own address');
    assert.equal(lower.headers.location, `/staff/cases/${opened.reference}`);
    assert.equal((await as('case-officer').get('/staff/cases/ZZZZ-ZZZZ')).statusCode, 404);
  });

  test('every action works, says so, and appears on the timeline', async () => {
    const opened = await openCase();
    const ref = opened.reference;
    const other = await openCase();
    const officer = member('case-officer');

    let text = await act('case-officer', ref, 'status', {
      status: 'triage',
      statusUpdate: 'An inspector will visit this week.',
      statusNote: 'Near the school gates.',
    });
    assert.match(text, /Success Status changed to Awaiting inspection/);
    assert.match(timelineOf(text), /Status changed from New to Awaiting inspection by .* Visible to resident An inspector will visit this week\./);
    assert.match(timelineOf(text), /Internal note by .* Internal Near the school gates\./);

    text = await act('case-officer', ref, 'notes', { note: 'Called the resident back.\n\nNo answer.' });
    assert.match(text, /Internal note added/);
    assert.match(timelineOf(text), new RegExp(`Internal note by ${officer.name} .* Internal Called the resident back\\. No answer\\.`));

    text = await act('case-officer', ref, 'updates', { update: 'We have booked the repair.' });
    assert.match(text, /Update for the resident added/);
    assert.match(timelineOf(text), /Update for the resident by .* (Visible to|Sent to) resident We have booked the repair\./);

    text = await act('case-officer', ref, 'assign', { assignee: 'me' });
    assert.match(text, /Case assigned to you/);
    assert.match(text, new RegExp(`Assigned to ${officer.name} \\(you\\)`));
    assert.match(timelineOf(text), new RegExp(`Assigned to ${officer.name} by ${officer.name}`));

    text = await act('case-officer', ref, 'priority', { priority: 'high' });
    assert.match(text, /Priority changed to High/);
    assert.match(timelineOf(text), /Priority changed from Normal to High/);

    text = await act('case-officer', ref, 'tags', { tags: 'School route, repeat ' });
    assert.match(text, /Tags school route repeat/);
    assert.match(timelineOf(text), /Tags set to school route, repeat/);

    text = await act('case-officer', ref, 'tasks', { taskTitle: 'Mark out the repair', 'taskDue-day': '5', 'taskDue-month': '1', 'taskDue-year': '2027' });
    assert.match(text, /Task added/);
    assert.match(text, /To do Mark out the repair Due 5 January 2027/);
    assert.match(timelineOf(text), /Task added by .* Mark out the repair \(due 5 January 2027\)/);
    const task = present((await cases().caseDetail(officer, ref)).tasks[0], 'the task');
    text = await act('case-officer', ref, `tasks/${task.id}/done`, {});
    assert.match(text, /Task marked as done/);
    assert.match(text, /Done Mark out the repair Done on/);
    assert.match(timelineOf(text), /Task done by .* Mark out the repair/);

    text = await act('case-officer', ref, 'links', { linkReference: other.reference.toLowerCase(), linkKind: 'duplicate-of' });
    assert.match(text, new RegExp(`Case linked to ${other.reference}`));
    assert.match(text, new RegExp(`Linked cases Duplicate of ${other.reference}`));
    assert.match(timelineOf(text), new RegExp(`Marked as a duplicate of ${other.reference}`));
    const otherText = await page('case-officer', `/staff/cases/${other.reference}`);
    assert.match(otherText, new RegExp(`Has a duplicate: ${ref}`));

    await page('team-leader', `/staff/cases/${ref}`);
    const moved = await as('team-leader').post(`/staff/cases/${ref}/team`, { team: 'environment' });
    assert.equal(moved.statusCode, 303);
    const movedText = pageText((await as('team-leader').follow(moved)).body);
    assert.match(movedText, /Case moved to Environmental services/);
    assert.match(timelineOf(movedText), /Moved from Highways and street lighting to Environmental services/);
  });

  test('bad input is refused with an error summary, keeping what was typed', async () => {
    const { reference } = await openCase();
    await page('case-officer', `/staff/cases/${reference}`);
    const empty = await as('case-officer').post(`/staff/cases/${reference}/notes`, { note: '   ' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /href="#note">Enter the note</);
    assert.match(empty.body, /<details id="action-note" class="govuk-details" open>/, 'the form with the problem is open');

    const badDate = await as('case-officer').post(`/staff/cases/${reference}/tasks`, {
      taskTitle: 'Order cones',
      'taskDue-day': '31',
      'taskDue-month': '2',
      'taskDue-year': '2027',
    });
    assert.equal(badDate.statusCode, 400);
    assert.match(badDate.body, /href="#taskDue-day">The due date must be a real date/);
    assert.match(badDate.body, /name="taskTitle" type="text" value="Order cones"/);
    assert.match(badDate.body, /name="taskDue-day" type="text" value="31"/);

    const badTags = await as('case-officer').post(`/staff/cases/${reference}/tags`, { tags: 'ok, bad/tag' });
    assert.equal(badTags.statusCode, 400);
    assert.match(pageText(badTags.body), /“bad\/tag” is not a tag/);
    assert.match(badTags.body, /value="ok, bad\/tag"/);

    const noStatus = await as('case-officer').post(`/staff/cases/${reference}/status`, { statusUpdate: 'Kept' });
    assert.equal(noStatus.statusCode, 400);
    assert.match(noStatus.body, /href="#status">Select the new status/);
    assert.match(noStatus.body, />Kept<\/textarea>/);

    const unknown = await as('case-officer').post(`/staff/cases/${reference}/links`, { linkReference: 'ZZZZ-ZZZZ', linkKind: 'related' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /href="#linkReference">There is no case ZZZZ-ZZZZ/);
  });

  test('a status move the workflow does not allow is refused with a message', async () => {
    const { reference } = await openCase();
    const text = await page('case-officer', `/staff/cases/${reference}`);
    assert.doesNotMatch(text.slice(text.indexOf('Change status')), /Repaired/, 'only the moves the workflow allows are offered');
    const res = await as('case-officer').post(`/staff/cases/${reference}/status`, { status: 'fixed', statusUpdate: 'All done' });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /There is a problem/);
    assert.match(pageText(res.body), /A case cannot move from New to Repaired\./);
    assert.match(res.body, />All done<\/textarea>/);
    assert.equal((await cases().caseDetail(member('case-officer'), reference)).case.status, 'new');
  });

  test('an officer outside the case’s team can read it but has no actions, and a direct post is refused', async () => {
    const { reference } = await openCase({ type: 'fly-tipping', title: 'Mattress in the alley' });
    const res = await as('case-officer').get(`/staff/cases/${reference}`);
    assert.equal(res.statusCode, 200);
    assert.match(pageText(res.body), /You can read this case\. Only the Environmental services team, or the officer the case is assigned to, can change it\./);
    assert.doesNotMatch(res.body, new RegExp(`action="/staff/cases/${reference}/`), 'no action forms');
    const token = as('case-officer').csrf();
    for (const [path, form] of [
      ['notes', { note: 'Sneaking in' }],
      ['status', { status: 'investigating' }],
      ['assign', { assignee: 'me' }],
    ] as const) {
      const refused = await as('case-officer').post(`/staff/cases/${reference}/${path}`, form, { csrf: token });
      assert.equal(refused.statusCode, 403, path);
    }
    const events = (await cases().caseDetail(member('case-officer'), reference)).events;
    assert.ok(!events.some((e) => e.kind === 'note'), 'nothing was added');
  });

  test('a restricted early help case: refused and audited for a highways officer, seen and audited for its own team', async () => {
    const { reference, id } = await openCase({
      type: 'early-help-referral',
      title: 'Family needs support',
      subject: { kind: 'person', name: 'Alex Example' },
      location: undefined,
      source: 'form',
    });
    const refused = await as('case-officer').get(`/staff/cases/${reference}`);
    assert.equal(refused.statusCode, 403);
    assert.doesNotMatch(refused.body, /Alex Example/);
    const refusals = await auditRows('case.view-refused', id);
    assert.ok(
      refusals.some((r) => r.actor_id === member('case-officer').id),
      'the refusal is audited',
    );

    const seen = await as('safeguarding-officer').get(`/staff/cases/${reference}`);
    assert.equal(seen.statusCode, 200);
    const text = pageText(seen.body);
    assert.match(text, /This case is restricted to the Early help team/);
    assert.match(text, /Alex Example/);
    const views = await auditRows('case.viewed', id);
    assert.ok(
      views.some((r) => r.actor_id === member('safeguarding-officer').id),
      'the view is audited',
    );
    assert.match(timelineOf(text), new RegExp(`Viewed by ${member('safeguarding-officer').name}`));

    const notOffered = await as('case-officer').get(`/staff/cases/${reference}/attachments/00000000-0000-0000-0000-000000000000`);
    assert.equal(notOffered.statusCode, 403, 'its files are refused too');
  });

  test('cases:reassign is needed to assign a case to someone else (case officer refused, team leader allowed)', async () => {
    const { reference } = await openCase();
    const text = await page('case-officer', `/staff/cases/${reference}`);
    assert.match(text, /Assign to me/);
    assert.doesNotMatch(text, /Assign to someone in/, 'no choice of officer without cases:reassign');
    const token = as('case-officer').csrf();
    const refused = await as('case-officer').post(`/staff/cases/${reference}/assign`, { assignee: member('team-leader').id }, { csrf: token });
    assert.equal(refused.statusCode, 403);
    const noMove = await as('case-officer').post(`/staff/cases/${reference}/team`, { team: 'environment' }, { csrf: token });
    assert.equal(noMove.statusCode, 403);

    const leaderPage = await page('team-leader', `/staff/cases/${reference}`);
    assert.match(leaderPage, /Assign to someone in Highways and street lighting/);
    assert.match(leaderPage, /Move to another team/);
    const allowed = await act('team-leader', reference, 'assign', { assignee: member('case-officer').id });
    assert.match(allowed, new RegExp(`Case assigned to ${member('case-officer').name}`));
    assert.match(timelineOf(allowed), new RegExp(`Assigned to ${member('case-officer').name} by ${member('team-leader').name}`));

    // Taking over someone else's case is reassigning it too.
    const takeOver = await as('case-officer').get(`/staff/cases/${reference}`);
    assert.equal(takeOver.statusCode, 200);
    await page('team-leader', `/staff/cases/${reference}`);
    const leaderTakes = await as('team-leader').post(`/staff/cases/${reference}/assign`, { assignee: 'me' });
    assert.equal(leaderTakes.statusCode, 303);
  });

  test('cases:work is needed for the case page, every action, files and opening a case (content editor refused)', async () => {
    const { reference } = await openCase();
    const editor = as('content-editor');
    assert.equal((await editor.get(`/staff/cases/${reference}`)).statusCode, 403);
    assert.equal((await editor.get('/staff/cases/new')).statusCode, 403);
    assert.equal((await editor.get(`/staff/cases/${reference}/attachments/00000000-0000-0000-0000-000000000000`)).statusCode, 403);
    await editor.get('/staff');
    const token = editor.csrf();
    const task = '00000000-0000-0000-0000-000000000000';
    for (const [path, form] of [
      ['status', { status: 'triage' }],
      ['notes', { note: 'x' }],
      ['updates', { update: 'x' }],
      ['assign', { assignee: 'me' }],
      ['team', { team: 'environment' }],
      ['priority', { priority: 'high' }],
      ['tags', { tags: 'x' }],
      ['tasks', { taskTitle: 'x' }],
      [`tasks/${task}/done`, {}],
      ['links', { linkReference: reference, linkKind: 'related' }],
    ] as const) {
      const res = await editor.post(`/staff/cases/${reference}/${path}`, form, { csrf: token });
      assert.equal(res.statusCode, 403, path);
    }
    await editor.get('/staff');
    const upload = await attach('content-editor', reference, { filename: 'a.png', type: 'image/png', bytes: PNG });
    assert.equal(upload.statusCode, 403, 'attachments');
    const create = await editor.post('/staff/cases/new', { type: 'pothole', channel: 'phone', subject: 'anonymous', title: 'x' }, { csrf: token });
    assert.equal(create.statusCode, 403, 'opening a case');
    assert.equal((await cases().caseDetail(member('case-officer'), reference)).events.length, 2, 'nothing changed (opened and its message only)');
  });

  test('files: a JPG, PNG or PDF is added and downloaded; other types and large files are refused', async () => {
    const { reference } = await openCase();
    await page('case-officer', `/staff/cases/${reference}`);
    const added = await attach('case-officer', reference, { filename: 'pothole photo.png', type: 'image/png', bytes: PNG }, { attachmentPublic: 'yes' });
    assert.equal(added.statusCode, 303, pageText(added.body).slice(0, 400));
    const res = await as('case-officer').follow(added);
    const text = pageText(res.body);
    assert.match(text, /pothole photo\.png added/);
    assert.match(text, /Files pothole photo\.png \d+ bytes, added .* visible to the resident/);
    assert.match(timelineOf(text), /File added by .* Visible to resident Download pothole photo\.png/);
    const href = present(new RegExp(`href="(/staff/cases/${reference}/attachments/[0-9a-f-]+)"`).exec(res.body)?.[1], 'the download link');
    const download = await as('case-officer').get(href);
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'image/png');
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="pothole photo\.png"/);
    assert.deepEqual(download.rawPayload, PNG);

    await page('case-officer', `/staff/cases/${reference}`);
    const pdf = await attach('case-officer', reference, { filename: 'report.pdf', type: 'application/pdf', bytes: PDF });
    assert.equal(pdf.statusCode, 303);

    await page('case-officer', `/staff/cases/${reference}`);
    const wrong = await attach('case-officer', reference, { filename: 'notes.txt', type: 'text/plain', bytes: Buffer.from('just some text') });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /href="#attachment">The selected file must be a JPG, PNG or PDF/);

    const large = await attach('case-officer', reference, {
      filename: 'huge.png',
      type: 'image/png',
      bytes: Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]),
    });
    assert.equal(large.statusCode, 400);
    assert.match(large.body, /The selected file must be smaller than 10MB/);

    const none = await attach('case-officer', reference);
    assert.equal(none.statusCode, 400);
    assert.match(none.body, /href="#attachment">Select a file/);

    assert.equal((await as('case-officer').get(`/staff/cases/${reference}/attachments/not-a-file`)).statusCode, 404);
    assert.equal((await cases().caseDetail(member('case-officer'), reference)).attachments.length, 2);
  });

  test('a public update queues an email to the person', async () => {
    const opened = await openCase();
    const email = present((await cases().caseDetail(member('case-officer'), opened.reference)).person?.email, 'the person’s email');
    const before = await t.services.notifier.listMessages({ recipient: email });
    assert.equal(before.length, 1, 'the acknowledgement when it was opened');
    const text = await act('case-officer', opened.reference, 'updates', { update: 'Our inspector has been out.' });
    const afterwards = await t.services.notifier.listMessages({ recipient: email });
    assert.equal(afterwards.length, 2, 'the update is sent');
    assert.match(timelineOf(text), /Update for the resident by .* Sent to resident Our inspector has been out\./);

    const internal = await act('case-officer', opened.reference, 'notes', { note: 'Not for the resident' });
    assert.equal((await t.services.notifier.listMessages({ recipient: email })).length, 2, 'an internal note is never sent');
    assert.match(internal, /Internal note added/);
  });

  describe('opening a case for someone', () => {
    test('offers only the types the officer may open, and a forced restricted type is refused', async () => {
      const res = await as('case-officer').get('/staff/cases/new');
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /<option value="pothole"/);
      assert.doesNotMatch(res.body, /early-help-referral/, 'the restricted type is not offered to a highways officer');
      assert.match(res.body, /href="\/staff\/forms#forms">Fill in a form for them instead</);
      const forced = await as('case-officer').post('/staff/cases/new', {
        type: 'early-help-referral',
        channel: 'phone',
        subject: 'anonymous',
        title: 'Trying it on',
        action: 'open',
      });
      assert.equal(forced.statusCode, 403);

      const safeguarding = await as('safeguarding-officer').get('/staff/cases/new');
      assert.match(safeguarding.body, /<option value="early-help-referral"/, 'offered to its own team');
    });

    test('validation errors keep every answer', async () => {
      await as('case-officer').get('/staff/cases/new');
      const res = await as('case-officer').post('/staff/cases/new', {
        type: '',
        channel: 'phone',
        subject: 'new',
        name: 'Sam Example',
        email: 'not-an-email',
        phone: '07700 900123',
        postcode: 'KM1 2AB',
        title: '',
        description: 'The bin was missed again.',
        priority: 'high',
        locationPostcode: 'nonsense',
        uprn: '12ab',
        action: 'open',
      });
      assert.equal(res.statusCode, 400);
      const text = pageText(res.body);
      for (const message of [
        'Select the type of case',
        'Enter an email address in the correct format',
        'Enter a title for the case',
        'Enter a real postcode',
        'Enter the UPRN using numbers only',
      ])
        assert.ok(text.includes(message), message);
      assert.match(res.body, /name="name" type="text" spellcheck="false" value="Sam Example"/);
      assert.match(res.body, /value="not-an-email"/);
      assert.match(res.body, /value="07700 900123"/);
      assert.match(res.body, />The bin was missed again\.<\/textarea>/);
      assert.match(res.body, /value="phone" checked/);
      assert.match(res.body, /value="new" checked/);
      assert.match(res.body, /value="high" checked/);
      assert.match(res.body, /value="nonsense"/);
    });

    test('for a new person, then for the same person found again', async () => {
      const geo = t.services.geo;
      const place = present((await geo.searchAddresses('a', 1))[0], 'an address in the gazetteer');
      const ward = present(
        (await geo.wards()).find((w) => w.code === place.wardCode),
        'the address’s ward',
      );
      await as('case-officer').get('/staff/cases/new');
      const created = await as('case-officer').post('/staff/cases/new', {
        type: 'general-enquiry',
        channel: 'phone',
        subject: 'new',
        name: 'Morgan Caller',
        email: 'morgan.caller@example.com',
        phone: '07700 900555',
        address: '4 Station Road',
        postcode: 'km1 2ab',
        title: 'Question about bin collections',
        description: 'Asked when the garden waste collections restart.',
        priority: '',
        uprn: place.uprn,
        action: 'open',
      });
      assert.equal(created.statusCode, 303, pageText(created.body).slice(0, 500));
      const location = String(created.headers.location);
      assert.match(location, /^\/staff\/cases\/[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      const text = pageText((await as('case-officer').follow(created)).body);
      assert.match(text, /Case [A-Z0-9]{4}-[A-Z0-9]{4} opened/);
      assert.match(text, /Type General enquiry/);
      assert.match(text, /Source Opened by staff, contact by phone/);
      assert.match(text, /Name Morgan Caller Email morgan\.caller@example\.com Phone 07700 900555 Address 4 Station Road, KM1 2AB/);
      assert.match(text, /Asked when the garden waste collections restart\./);
      assert.ok(text.includes(`Address ${place.singleLine}`), 'the place is found from its UPRN');
      assert.ok(text.includes(`UPRN ${place.uprn} USRN ${place.usrn} Ward ${ward.name} Latitude and longitude`), 'and put on the map, in its ward');
      const first = await cases().caseDetail(member('case-officer'), location.split('/').at(-1) ?? '');
      const personId = present(first.person, 'the new contact').id;

      await as('case-officer').get('/staff/cases/new');
      const found = await as('case-officer').post('/staff/cases/new', {
        type: 'general-enquiry',
        channel: 'email',
        find: 'Morgan.Caller@example.com',
        title: 'Follow-up question',
        action: 'find',
      });
      assert.equal(found.statusCode, 200);
      assert.ok(found.body.includes(`value="${personId}"`), 'the contact is found by email');
      assert.match(pageText(found.body), /Morgan Caller morgan\.caller@example\.com · 07700 900555/);
      assert.match(found.body, /value="Follow-up question"/, 'other answers are kept while searching');

      const second = await as('case-officer').post('/staff/cases/new', {
        type: 'general-enquiry',
        channel: 'email',
        subject: 'existing',
        find: 'Morgan.Caller@example.com',
        personId,
        title: 'Follow-up question',
        action: 'open',
      });
      assert.equal(second.statusCode, 303, pageText(second.body).slice(0, 500));
      const again = await cases().caseDetail(member('case-officer'), String(second.headers.location).split('/').at(-1) ?? '');
      assert.equal(again.person?.id, personId, 'the same contact');
      assert.equal(again.case.channel, 'email');

      await as('case-officer').get('/staff/cases/new');
      const unchosen = await as('case-officer').post('/staff/cases/new', {
        type: 'general-enquiry',
        channel: 'email',
        subject: 'existing',
        find: 'Morgan',
        title: 'Follow-up question',
        action: 'open',
      });
      assert.equal(unchosen.statusCode, 400);
      assert.match(unchosen.body, /Search for the person and select them/);
      assert.ok(unchosen.body.includes(`value="${personId}"`), 'the search results are shown again');
    });
  });

  // Last, as it marks every open case in this database overdue.
  test('a missed target shows on the summary and the timeline', async () => {
    const { reference } = await openCase();
    const result = await t.services.cases.jobs.checkSla(new Date(Date.now() + 400 * 24 * 60 * 60 * 1000));
    assert.ok(result.breached >= 1);
    const text = await page('case-officer', `/staff/cases/${reference}`);
    assert.match(text, /Target Overdue Due by/);
    assert.match(timelineOf(text), /Target missed by System .* Overdue/);
  });
});
