import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { tinyPng } from '../../../test/support/images.js';
import { signInDemoStaff, type SignedInStaff } from '../../../test/support/staff.js';
import type { ReportsService } from './service.js';

describe('staff pages for street reports', () => {
  let testApp: TestApp;
  let reports: ReportsService;
  let officer: SignedInStaff;
  let client: TestClient;
  let centre: { lat: number; lng: number };
  /** Each report a little further north, so none is offered as a duplicate of another unless a test wants it. */
  let step = 0;

  before(async () => {
    // Enough demo reports to need a second page.
    testApp = await createTestApp({ seedDemo: true, env: { BOROUGH_DEMO_REPORTS: '40' } });
    reports = testApp.services.reports.service;
    officer = await signInDemoStaff(testApp, 'case-officer');
    client = officer.client;
    const address = (await testApp.services.geo.searchAddresses('market street', 1))[0];
    assert.ok(address);
    centre = { lat: address.lat, lng: address.lng };
  });
  after(async () => {
    await testApp.close();
  });

  const pothole = async (overrides: Partial<Parameters<ReportsService['submit']>[0]> = {}) => {
    step += 1;
    const { report } = await reports.submit({
      category: 'pothole',
      lat: centre.lat + step * 0.001,
      lng: centre.lng,
      detail: 'A deep hole by the kerb',
      answers: { size: 'plate-to-tyre', depth: 'over-10cm', danger: 'no' },
      reporter: { name: 'Alex Reporter', email: 'alex@example.com', showName: false },
      source: 'web',
      ...overrides,
    });
    return report;
  };

  /** The references linked from the triage list, in the order shown. */
  const listed = (html: string) => [...html.matchAll(/href="\/staff\/reports\/([A-Z0-9]{4}-[A-Z0-9]{4})"/g)].map((m) => m[1]);

  test('the triage list shows every report, hidden ones too, newest first, and filters them', async () => {
    const first = await pothole();
    const pavement = await pothole({ category: 'damaged-pavement', answers: { problem: 'cracked', danger: 'no' } });
    const hidden = await pothole();
    await reports.moderate(officer.member, hidden.reference, { hidden: true }, 'Personal details in the description');

    const res = await client.get('/staff/reports');
    assert.equal(res.statusCode, 200);
    const all = listed(res.body);
    assert.deepEqual(all.slice(0, 3), [hidden.reference, pavement.reference, first.reference]);
    assert.match(res.body, /<div class="report-map" id="reports-map" data-report-map data-mode="browse"[^>]* hidden>/);
    const nonce = /<script type="module" src="\/assets\/js\/borough\.mjs" nonce="([^"]+)"/.exec(res.body)?.[1];
    assert.ok(nonce);
    assert.ok(res.body.includes(`<script src="/assets/leaflet/leaflet.js" nonce="${nonce}"></script>`));
    assert.ok(res.body.includes(`<script type="module" src="/assets/js/report-map.mjs" nonce="${nonce}"></script>`));
    assert.match(res.body, /href="\/assets\/leaflet\/leaflet\.css"/);

    const pavements = listed((await client.get('/staff/reports?category=damaged-pavement')).body);
    assert.ok(pavements.includes(pavement.reference));
    assert.ok(!pavements.includes(first.reference));
    const hiddenOnly = await client.get('/staff/reports?visibility=hidden');
    assert.ok(listed(hiddenOnly.body).includes(hidden.reference));
    assert.ok(!listed(hiddenOnly.body).includes(first.reference));
    assert.match(pageText(hiddenOnly.body), /Selected filters .*Hidden from the public/);
    const visible = listed((await client.get('/staff/reports?visibility=visible&category=pothole')).body);
    assert.ok(visible.includes(first.reference) && !visible.includes(hidden.reference));

    const ward = first.wardCode;
    assert.ok(ward);
    assert.ok(listed((await client.get(`/staff/reports?ward=${ward}&category=pothole`)).body).includes(first.reference));
    const otherWard = (await reports.wards()).find((w) => w.code !== ward);
    assert.ok(otherWard);
    assert.ok(!listed((await client.get(`/staff/reports?ward=${otherWard.code}&category=pothole`)).body).includes(first.reference));

    assert.ok(!listed((await client.get('/staff/reports?state=closed')).body).includes(first.reference));
    assert.ok(listed((await client.get('/staff/reports?state=all&status=open')).body).includes(first.reference));
    assert.ok(!listed((await client.get('/staff/reports?status=fixed')).body).includes(first.reference));

    const everything = await client.get('/staff/reports?state=all');
    assert.equal(listed(everything.body).length, 25);
    const total = Number(/Showing 1 to 25 of (\d+) reports/.exec(pageText(everything.body))?.[1]);
    assert.ok(total > 25);
    assert.match(everything.body, /href="\/staff\/reports\?state=all&amp;page=2"/);
    const second = await client.get('/staff/reports?state=all&page=2');
    assert.equal(listed(second.body).length, Math.min(25, total - 25));
    assert.ok(!listed(second.body).includes(hidden.reference));
    assert.match(pageText(second.body), new RegExp(`Showing 26 to ${Math.min(50, total)} of ${total} reports`));
  });

  test('staff without permission to moderate reports are refused on every page and action', async () => {
    const report = await pothole({ photos: [{ bytes: tinyPng(), filename: 'hole.png' }] });
    const photo = (await reports.staffReport(officer.member, report.reference)).photos[0];
    assert.ok(photo);
    for (const role of ['manager', 'content-editor'] as const) {
      const { client: other } = await signInDemoStaff(testApp, role);
      for (const url of ['/staff/reports', `/staff/reports/${report.reference}`, `/staff/reports/${report.reference}/photos/${photo.id}`])
        assert.equal((await other.get(url)).statusCode, 403, `${role} GET ${url}`);
      await other.get('/staff');
      const token = other.csrf();
      const posts: [string, Record<string, string>][] = [
        ['respond', { status: 'triage', update: 'Looking at it' }],
        ['duplicate', { duplicateOfOther: report.reference }],
        ['moderate', { visibility: 'hidden', reason: 'Testing' }],
        [`photos/${photo.id}`, { decision: 'approve' }],
      ];
      for (const [path, form] of posts)
        assert.equal((await other.post(`/staff/reports/${report.reference}/${path}`, form, { csrf: token })).statusCode, 403, `${role} POST ${path}`);
    }
    const after = await reports.staffReport(officer.member, report.reference);
    assert.equal(after.caseStatus.code, 'new');
    assert.equal(after.row.hidden, false);
    assert.equal(after.photos[0]?.state, 'pending');
  });

  test('a response from a template moves the case and appears on the public timeline', async () => {
    const report = await pothole();
    await reports.follow(report.reference, 'neighbour@example.com');
    const page = await client.get(`/staff/reports/${report.reference}`);
    assert.equal(page.statusCode, 200);
    const text = pageText(page.body);
    assert.match(text, /Inspection booked \(when moving to Awaiting inspection\)/);
    assert.match(text, /Not our road \(when moving to Passed to another organisation\)/);
    assert.doesNotMatch(text, /Repaired \(when moving/, 'a repair cannot follow a new report directly');
    assert.match(page.body, /name="status" type="radio" value="new" checked/);
    assert.doesNotMatch(page.body, /name="status" type="radio" value="duplicate"/, 'duplicates are marked with their own form');

    const potholes = reports.category('pothole');
    const index = potholes?.responses.findIndex((r) => r.title === 'Inspection booked') ?? -1;
    const filled = await client.get(`/staff/reports/${report.reference}?template=${index}`);
    assert.equal(filled.statusCode, 200);
    const words = `Thank you for reporting this. An inspector will look at the pothole and decide what repair it needs. We will update report ${report.reference} when they have.`;
    assert.ok(filled.body.includes(`>${words}</textarea>`), 'the template fills the update, with the reference and category');
    assert.match(filled.body, /value="triage" checked/);
    assert.equal((await client.get(`/staff/reports/${report.reference}?template=99`)).statusCode, 400);
    const repaired = potholes?.responses.findIndex((r) => r.title === 'Repaired') ?? -1;
    assert.equal((await client.get(`/staff/reports/${report.reference}?template=${repaired}`)).statusCode, 400, 'not offered for a new report');
    const unchosen = await client.get(`/staff/reports/${report.reference}?template=`);
    assert.equal(unchosen.statusCode, 400);
    assert.match(pageText(unchosen.body), /There is a problem Choose a response template/);

    const sent = await client.post(`/staff/reports/${report.reference}/respond`, { status: 'triage', update: words });
    assert.equal(sent.statusCode, 303);
    assert.match(pageText((await client.follow(sent)).body), /Report moved to Awaiting inspection/);
    const opened = await testApp.services.cases.service.repo.caseByReference(report.reference);
    assert.equal(opened?.status, 'triage');
    const shown = await reports.publicReport(report.reference);
    assert.deepEqual(shown?.updates.at(-1) && [shown.updates.at(-1)?.status, shown.updates.at(-1)?.text], ['investigating', words]);
    const mail = await testApp.services.notifier.listMessages({ recipient: 'neighbour@example.com' });
    assert.equal(mail.length, 1);
    const lower = await client.get(`/staff/reports/${report.reference.toLowerCase()}?template=${index}`);
    assert.equal(lower.statusCode, 301);
    assert.equal(lower.headers.location, `/staff/reports/${report.reference}?template=${index}`);
    assert.equal((await client.get('/staff/reports/ZZZZ-ZZZZ')).statusCode, 404);
  });

  test('an officer outside the case’s team can moderate the report but is told the team responds', async () => {
    const { report } = await reports.submit({
      category: 'graffiti',
      lat: centre.lat - 0.002,
      lng: centre.lng,
      detail: 'Tags on the wall',
      answers: { offensive: 'no', surface: 'wall' },
      reporter: { name: 'Alex Reporter', email: 'alex@example.com', showName: false },
      source: 'web',
    });
    const page = await client.get(`/staff/reports/${report.reference}`);
    assert.equal(page.statusCode, 200);
    assert.match(pageText(page.body), /Only the case’s team can change its status or post updates/);
    assert.doesNotMatch(page.body, /action="[^"]*\/respond"/);
    assert.match(page.body, /action="[^"]*\/moderate"/);
  });

  test('a template’s gaps must be filled, and a refused response keeps what was typed', async () => {
    const report = await pothole();
    const notOurs = reports.category('pothole')?.responses.find((r) => r.title === 'Not our road');
    assert.ok(notOurs);
    await client.get(`/staff/reports/${report.reference}`);
    const unfilled = notOurs.text.replace('((reference))', report.reference);
    const refused = await client.post(`/staff/reports/${report.reference}/respond`, { status: 'passed-to-another-organisation', update: unfilled });
    assert.equal(refused.statusCode, 400);
    assert.match(pageText(refused.body), /There is a problem Replace \[Name the organisation responsible\] and \[their website or phone number\]/);
    assert.match(refused.body, /href="#update"/);
    assert.ok(refused.body.includes('value="passed-to-another-organisation" checked'));
    assert.ok(refused.body.includes(`${unfilled.replace(/'/g, '&#39;')}</textarea>`));

    // The service refuses passing a report on without saying who is responsible.
    const silent = await client.post(`/staff/reports/${report.reference}/respond`, { status: 'passed-to-another-organisation', update: '' });
    assert.equal(silent.statusCode, 400);
    assert.match(pageText(silent.body), /Say in the public update which organisation is responsible/);

    const nothing = await client.post(`/staff/reports/${report.reference}/respond`, { status: 'new', update: ' ' });
    assert.equal(nothing.statusCode, 400);
    assert.match(pageText(nothing.body), /Choose a new status or write an update/);
    const wrong = await client.post(`/staff/reports/${report.reference}/respond`, { status: 'fixed', update: 'Done' });
    assert.equal(wrong.statusCode, 400);
    assert.match(pageText(wrong.body), /Choose the new status/);
    const duplicate = await client.post(`/staff/reports/${report.reference}/respond`, { status: 'duplicate', update: 'Reported already' });
    assert.match(pageText(duplicate.body), /Use “Mark as a duplicate”/);
    assert.equal((await reports.publicReport(report.reference))?.status, 'open');
  });

  test('marking a duplicate offers open reports nearby, closes it and moves its followers', async () => {
    const original = await pothole();
    const copy = await pothole({ lat: original.lat + 0.0002, lng: original.lng });
    step += 1;
    await reports.follow(copy.reference, 'watcher@example.com');
    const page = await client.get(`/staff/reports/${copy.reference}`);
    assert.ok(page.body.includes(`name="duplicateOf" type="radio" value="${original.reference}"`), 'the nearby report is offered');

    const unknown = await client.post(`/staff/reports/${copy.reference}/duplicate`, { duplicateOfOther: 'zzzz-zzzz' });
    assert.equal(unknown.statusCode, 400);
    assert.match(pageText(unknown.body), /There is a problem Enter the reference of a report/);
    assert.match(unknown.body, /href="#duplicateOfOther"/);
    assert.match(unknown.body, /id="duplicateOfOther" name="duplicateOfOther" type="text" spellcheck="false" value="zzzz-zzzz"/);
    const none = await client.post(`/staff/reports/${copy.reference}/duplicate`, {});
    assert.match(pageText(none.body), /Choose the report this one duplicates, or enter its reference/);

    const marked = await client.post(`/staff/reports/${copy.reference}/duplicate`, { duplicateOf: original.reference });
    assert.equal(marked.statusCode, 303);
    assert.match(pageText((await client.follow(marked)).body), new RegExp(`Marked as a duplicate of ${original.reference}`));
    const closed = await reports.publicReport(copy.reference);
    assert.equal(closed?.status, 'duplicate');
    assert.equal(closed?.duplicateOf, original.reference);
    assert.equal(closed?.followers, 0);
    assert.equal((await reports.publicReport(original.reference))?.followers, 1);
    // A closed duplicate cannot be marked again.
    assert.match(pageText((await client.get(`/staff/reports/${copy.reference}`)).body), /does not let a report that is duplicate be marked as a duplicate/);
  });

  test('moderation hides a report from the public and Open311, edits what they see, and is audited', async () => {
    const report = await pothole({
      detail: 'Outside number 12, where Mr Smith lives',
      reporter: { name: 'Jo Public', email: 'jo@example.com', showName: true },
    });
    assert.equal((await client.get(`/reports/${report.reference}`)).statusCode, 200);
    assert.equal((await client.get(`/open311/v2/requests/${report.reference}.json`)).statusCode, 200);

    await client.get(`/staff/reports/${report.reference}`);
    const noReason = await client.post(`/staff/reports/${report.reference}/moderate`, {
      visibility: 'visible',
      title: report.title,
      detail: 'Outside number 12',
      removeName: 'yes',
      reason: '',
    });
    assert.equal(noReason.statusCode, 400);
    assert.match(pageText(noReason.body), /There is a problem Say why, for the audit trail/);
    assert.ok(noReason.body.includes('>Outside number 12</textarea>'), 'the edited description is kept');
    assert.match(noReason.body, /name="removeName" type="checkbox" value="yes" checked/);
    const unchanged = await client.post(`/staff/reports/${report.reference}/moderate`, {
      visibility: 'visible',
      title: report.title,
      detail: report.detail,
      reason: 'Checking',
    });
    assert.equal(unchanged.statusCode, 400);
    assert.match(pageText(unchanged.body), /Make a change/);

    const redacted = await client.post(`/staff/reports/${report.reference}/moderate`, {
      visibility: 'visible',
      title: report.title,
      detail: 'Outside number 12',
      removeName: 'yes',
      reason: 'A neighbour was named',
    });
    assert.equal(redacted.statusCode, 303);
    const shown = await reports.publicReport(report.reference);
    assert.equal(shown?.detail, 'Outside number 12');
    assert.equal(shown?.name, null);

    const hidden = await client.post(`/staff/reports/${report.reference}/moderate`, {
      visibility: 'hidden',
      title: report.title,
      detail: 'Outside number 12',
      reason: 'Not a street problem',
    });
    assert.equal(hidden.statusCode, 303);
    assert.match(pageText((await client.follow(hidden)).body), /Report hidden from the public/);
    assert.equal(await reports.publicReport(report.reference), null);
    assert.equal((await testApp.client().get(`/reports/${report.reference}`)).statusCode, 404);
    assert.equal((await testApp.client().get(`/open311/v2/requests/${report.reference}.json`)).statusCode, 404);
    assert.equal((await client.get(`/staff/reports/${report.reference}`)).statusCode, 200, 'staff still see it');

    const audit = await testApp.platform.database.db
      .withTables<{ audit_events: { id: string; action: string; subject_id: string; actor_id: string | null; details: unknown } }>()
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'details'])
      .where('subject_id', '=', report.reference)
      .where('action', '=', 'report.moderated')
      .orderBy('id')
      .execute();
    assert.equal(audit.length, 2);
    assert.ok(audit.every((a) => a.actor_id === officer.member.id));
    assert.match(JSON.stringify(audit[1]?.details), /Not a street problem/);
  });

  test('photos wait for approval; approving one shows it publicly and hiding takes it away', async () => {
    const report = await pothole({
      photos: [
        { bytes: tinyPng(), filename: 'a.png' },
        { bytes: tinyPng({ width: 3 }), filename: 'b.png' },
      ],
    });
    const listedRow = await client.get('/staff/reports?category=pothole');
    assert.ok(listedRow.body.includes(`href="/staff/reports/${report.reference}#photos">2<`), 'the list says two photos wait');
    const page = await client.get(`/staff/reports/${report.reference}`);
    const ids = [...page.body.matchAll(new RegExp(`<img src="/staff/reports/${report.reference}/photos/([0-9a-f-]{36})"`, 'g'))].map((m) => m[1] ?? '');
    assert.equal(ids.length, 2);
    const [firstId, secondId] = ids as [string, string];
    const image = await client.get(`/staff/reports/${report.reference}/photos/${firstId}`);
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.equal(image.headers['cache-control'], 'private, no-store');
    assert.equal((await client.get(`/staff/reports/${report.reference}/photos/00000000-0000-0000-0000-000000000000`)).statusCode, 404);
    assert.deepEqual((await reports.publicReport(report.reference))?.photos, []);

    await client.get(`/staff/reports/${report.reference}`);
    const approved = await client.post(`/staff/reports/${report.reference}/photos/${firstId}`, { decision: 'approve' });
    assert.equal(approved.statusCode, 303);
    assert.deepEqual(
      (await reports.publicReport(report.reference))?.photos.map((p) => p.id),
      [firstId],
    );
    await client.get(`/staff/reports/${report.reference}`);
    assert.equal((await client.post(`/staff/reports/${report.reference}/photos/${secondId}`, { decision: 'hide' })).statusCode, 303);
    await client.get(`/staff/reports/${report.reference}`);
    assert.equal((await client.post(`/staff/reports/${report.reference}/photos/${firstId}`, { decision: 'hide' })).statusCode, 303);
    assert.deepEqual((await reports.publicReport(report.reference))?.photos, []);
    const actions = await testApp.platform.database.db
      .withTables<{ audit_events: { id: string; action: string; subject_id: string } }>()
      .selectFrom('audit_events')
      .select('action')
      .where('subject_id', '=', report.reference)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      actions.map((a) => a.action),
      ['report.photo-approved', 'report.photo-hidden', 'report.photo-hidden'],
    );
  });
});
