import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { StaffMember } from '#modules/account/index';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { postMultipart } from '../../../test/support/multipart.js';
import { signInDemoStaff } from '../../../test/support/staff.js';
import { signIn } from '../account/residents/test-helpers.js';

const RESIDENT_PASSWORD = 'kingsmere-demo-resident';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 7)]);

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

describe('a resident’s cases in My Account', () => {
  let t: TestApp;
  let sam: TestClient;
  let priya: TestClient;
  let officer: TestClient;
  let officerMember: StaffMember;
  let samId = '';

  const cases = () => t.services.cases.service;

  async function residentId(email: string): Promise<string> {
    const r = await sql<{ id: string }>`SELECT id FROM residents WHERE email = ${email}`.execute(t.platform.database.db);
    return present(r.rows[0], email).id;
  }

  async function openFor(residentId: string, title = 'Pothole outside the school') {
    const { case: opened } = await cases().open(
      { type: 'system' },
      { type: 'pothole', title, subject: { kind: 'resident', residentId }, source: 'form', channel: 'online', sourceReference: 'FRM-0001' },
    );
    return opened;
  }

  /** Posts the "Add information" form as a browser does: multipart, with an optional file. */
  async function addInformation(client: TestClient, reference: string, information: string, file?: { filename: string; type: string; bytes: Buffer }) {
    // The form's page gives the CSRF token; for someone else's case, their own account page does.
    if ((await client.get(`/account/cases/${reference}`)).statusCode !== 200) await client.get('/account');
    return postMultipart(t, client, `/account/cases/${reference}/information`, { information }, { file: file && { name: 'evidence', ...file } });
  }

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    sam = await signIn(t, 'sam.taylor@example.com', RESIDENT_PASSWORD);
    priya = await signIn(t, 'priya.shah@example.com', RESIDENT_PASSWORD);
    samId = await residentId('sam.taylor@example.com');

    ({ client: officer, member: officerMember } = await signInDemoStaff(t, 'case-officer'));
  });
  after(async () => t?.close());

  test('sees their case and its public timeline, but never internal notes or staff-only files', async () => {
    const opened = await openFor(samId);
    const ref = opened.reference;
    const staff = { type: 'staff' as const, member: officerMember };
    await cases().changeStatus(staff, ref, 'triage', { update: 'An inspector will visit this week.', note: 'Neighbour dispute, be careful.' });
    await cases().addNote(staff, ref, 'Secret internal note');
    await cases().addNote(staff, ref, 'We have booked a repair crew.', { public: true });
    await cases().addAttachment(staff, ref, { bytes: PNG, filename: 'repair-plan.png' }, { public: true });
    const hidden = await cases().addAttachment(staff, ref, { bytes: PNG, filename: 'internal-photo.png' });

    const home = await sam.get('/account');
    assert.match(pageText(home.body), new RegExp(`Your cases .*Pothole ${ref} Being inspected`));
    assert.ok(home.body.includes(`href="/account/cases/${ref}"`), 'the account home links to the case');

    const res = await sam.get(`/account/cases/${ref}`);
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, new RegExp(`Reference ${ref} What it is about Pothole Status Being inspected Opened \\w+day \\d{1,2} \\w+ \\d{4}`));
    assert.match(text, /Expected We aim to finish by \w+day \d{1,2} \w+ \d{4}/);
    assert.match(text, /Status: Being inspected .* An inspector will visit this week\./);
    assert.match(text, /Update from us .* We have booked a repair crew\./);
    assert.match(text, /We received it/);
    assert.match(text, /We added a file .* repair-plan\.png/);
    for (const secret of ['Secret internal note', 'Neighbour dispute', 'internal-photo.png', 'Awaiting inspection', officerMember.name])
      assert.ok(!text.includes(secret), `"${secret}" is not shown to the resident`);
    assert.match(text, /Add information/);

    const href = present(new RegExp(`href="(/account/cases/${ref}/attachments/[0-9a-f-]+)"`).exec(res.body)?.[1], 'the file link');
    const download = await sam.get(href);
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'image/png');
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="repair-plan\.png"/);
    assert.equal((await sam.get(`/account/cases/${ref}/attachments/${hidden.id}`)).statusCode, 404, 'a staff-only file cannot be fetched by its address');

    const typed = await sam.get(`/account/cases/${ref.replace('-', '').toLowerCase()}`);
    assert.equal(typed.statusCode, 301);
    assert.equal(typed.headers.location, `/account/cases/${ref}`);
  });

  test('another resident’s reference is not found, and signed-out visitors are asked to sign in', async () => {
    const opened = await openFor(samId);
    const ref = opened.reference;
    const [file] = (await cases().caseDetail(officerMember, ref)).attachments;
    assert.equal(file, undefined);
    assert.equal((await priya.get(`/account/cases/${ref}`)).statusCode, 404);
    const posted = await addInformation(priya, ref, 'Not my case');
    assert.equal(posted.statusCode, 404);
    assert.equal((await priya.get(`/account/cases/${ref}/attachments/00000000-0000-0000-0000-000000000000`)).statusCode, 404);
    assert.equal((await priya.get('/account/cases/ZZZZ-ZZZZ')).statusCode, 404);
    assert.equal((await priya.get('/account/cases/not-a-reference')).statusCode, 404);
    assert.ok(!(await cases().caseDetail(officerMember, ref)).events.some((e) => e.kind === 'resident-info'), 'nothing was added');

    const stranger = t.client();
    const res = await stranger.get(`/account/cases/${ref}`);
    assert.equal(res.statusCode, 302);
    assert.match(String(res.headers.location), /^\/account\/sign-in/);
  });

  test('information a resident adds appears on the staff timeline; empty text is refused', async () => {
    const { reference } = await openFor(samId);
    const empty = await addInformation(sam, reference, '   ');
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /href="#information">Enter the information you want to add/);

    const res = await addInformation(sam, reference, 'It is getting bigger.\r\n\r\nA car hit it this morning.');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/account/cases/${reference}`);
    const text = pageText((await sam.get(`/account/cases/${reference}`)).body);
    assert.match(text, /We have added your information to your case\./);
    assert.match(text, /You added information .* It is getting bigger\. A car hit it this morning\./);

    const staffPage = await officer.get(`/staff/cases/${reference}`);
    assert.equal(staffPage.statusCode, 200);
    const staffText = pageText(staffPage.body);
    assert.match(
      staffText.slice(staffText.lastIndexOf('Timeline')),
      /Information from the resident by Resident .* From resident It is getting bigger\. A car hit it this morning\./,
    );
  });

  test('a closed case says so, gives the council’s contact details and refuses more information', async () => {
    const { reference } = await openFor(samId);
    await cases().changeStatus({ type: 'system' }, reference, 'duplicate');
    const page = await sam.get(`/account/cases/${reference}`);
    const text = pageText(page.body);
    assert.match(text, /Status Already reported/);
    assert.match(text, /Closed \w+day \d{1,2} \w+ \d{4}/);
    assert.doesNotMatch(text, /We aim to finish by/);
    assert.match(text, /This case is closed/);
    assert.match(text, /0161 496 0000/);
    assert.doesNotMatch(page.body, /action="\/account\/cases\/[^"]+\/information"/, 'no form to add information');

    const res = await addInformation(sam, reference, 'Please look again');
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /href="#information">This case is closed, so you cannot add information to it/);
    assert.ok(!(await cases().caseDetail(officerMember, reference)).events.some((e) => e.kind === 'resident-info'), 'nothing was added');
  });

  test('a resident can add a photo with their information; other files are refused and the text kept', async () => {
    const { reference } = await openFor(samId);
    const wrong = await addInformation(sam, reference, 'Here is a list', { filename: 'list.txt', type: 'text/plain', bytes: Buffer.from('not a photo') });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /href="#evidence">The selected file must be a JPG, PNG or PDF/);
    assert.match(wrong.body, />Here is a list<\/textarea>/);
    assert.equal((await cases().caseDetail(officerMember, reference)).events.filter((e) => e.kind === 'resident-info').length, 0, 'nothing half-added');

    const res = await addInformation(sam, reference, 'A photo of the pothole', { filename: 'pothole.png', type: 'image/png', bytes: PNG });
    assert.equal(res.statusCode, 303);
    const page = await sam.get(`/account/cases/${reference}`);
    const text = pageText(page.body);
    assert.match(text, /We have added your information and file to your case\./);
    assert.match(text, /You added a file .* pothole\.png/);
    const href = present(new RegExp(`href="(/account/cases/${reference}/attachments/[0-9a-f-]+)"`).exec(page.body)?.[1], 'the file link');
    assert.deepEqual((await sam.get(href)).rawPayload, PNG);

    const detail = await cases().caseDetail(officerMember, reference);
    const attachment = present(detail.attachments[0], 'the attachment');
    assert.equal(attachment.filename, 'pothole.png');
    assert.equal(attachment.added_by_type, 'resident');
    const staffText = pageText((await officer.get(`/staff/cases/${reference}`)).body);
    assert.match(staffText, /pothole\.png \d+ bytes, added .* by the resident, visible to the resident/);
  });
});
