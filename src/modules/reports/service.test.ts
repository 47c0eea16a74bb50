import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StaffMember } from '#modules/account/index';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { pngTakenAt, tinyPng } from '../../../test/support/images.js';
import { ReportProblems, type ReportsService } from './service.js';

describe('street reports', () => {
  let testApp: TestApp;
  let reports: ReportsService;
  let officer: StaffMember;
  let centre: { lat: number; lng: number };

  before(async () => {
    testApp = await createTestApp({ seedDemo: true });
    reports = testApp.services.reports.service;
    const found = await testApp.services.account.staff.findMemberByEmail('case-officer@kingsmere.example');
    assert.ok(found);
    officer = found;
    const address = (await testApp.services.geo.searchAddresses('market street', 1))[0];
    assert.ok(address);
    centre = { lat: address.lat, lng: address.lng };
  });
  after(async () => {
    await testApp.close();
  });

  const pothole = (overrides: Partial<Parameters<ReportsService['submit']>[0]> = {}) =>
    reports.submit({
      category: 'pothole',
      ...centre,
      detail: 'A deep hole by the kerb',
      answers: { size: 'plate-to-tyre', depth: 'over-10cm', danger: 'no' },
      reporter: { name: 'Alex Reporter', email: 'alex@example.com', showName: false },
      source: 'web',
      ...overrides,
    });

  test('a report opens a case of its category’s type, in the same transaction', async () => {
    const { report, created, urgentMessage } = await pothole();
    assert.equal(created, true);
    assert.equal(urgentMessage, undefined);
    assert.equal(report.status, 'open');
    assert.equal(report.name, null);
    const opened = await testApp.services.cases.service.repo.caseByReference(report.reference);
    assert.equal(opened?.type, 'pothole');
    assert.equal(opened?.source, 'report');
    assert.equal(opened?.priority, 'normal');
    const page = await reports.publicReport(report.reference);
    assert.equal(page?.updates.length, 1);
    assert.equal(page?.category.name, 'Pothole');
  });

  test('a dangerous pothole is urgent and the emergency number is given', async () => {
    const { report, urgentMessage } = await pothole({ answers: { size: 'larger-than-tyre', depth: 'over-10cm', danger: 'yes' } });
    assert.match(urgentMessage ?? '', /0161 496 0999/);
    const opened = await testApp.services.cases.service.repo.caseByReference(report.reference);
    assert.equal(opened?.priority, 'urgent');
  });

  test('refuses bad input field by field and stores nothing', async () => {
    const before = await reports.publicReports({ limit: 1000 });
    await assert.rejects(
      pothole({ lat: 51.5, lng: -0.12, detail: ' ', answers: { size: 'huge' }, reporter: { email: 'not-an-email', showName: true } }),
      (error: unknown) => {
        assert.ok(error instanceof ReportProblems);
        assert.deepEqual(
          error.problems.map((p) => p.field),
          ['location', 'size', 'depth', 'danger', 'detail', 'name', 'email'],
        );
        return true;
      },
    );
    assert.equal((await reports.publicReports({ limit: 1000 })).length, before.length);
  });

  test('the same submission key makes one report', async () => {
    const first = await pothole({ submissionKey: 'double-press-1' });
    const second = await pothole({ submissionKey: 'double-press-1' });
    assert.equal(second.created, false);
    assert.equal(second.report.reference, first.report.reference);
  });

  test('open reports of the same category within 50 metres are offered', async () => {
    const near = await reports.openNearby('pothole', centre.lat + 0.0002, centre.lng);
    assert.ok(near.length >= 1);
    assert.ok(near.every((r) => r.distanceMetres <= 50 && r.category.code === 'pothole'));
    assert.equal((await reports.openNearby('graffiti', centre.lat, centre.lng)).length, 0);
    assert.equal((await reports.openNearby('pothole', centre.lat + 0.01, centre.lng)).length, 0);
  });

  test('an asset-based report is placed at the asset, which shows the fault and its open report', async () => {
    const [light] = await reports.assetsNear('streetlight-fault', centre.lat, centre.lng, 500);
    assert.ok(light);
    await assert.rejects(
      reports.submit({
        category: 'streetlight-fault',
        ...centre,
        detail: 'Out',
        answers: {},
        reporter: { name: 'A', email: 'a@example.com', showName: false },
        source: 'web',
      }),
      (error: ReportProblems) => error.problems.some((p) => p.field === 'asset'),
    );
    const category = reports.category('streetlight-fault');
    const answers = Object.fromEntries((category?.questions ?? []).map((q) => [q.id, 'options' in q ? q.options[0]?.value : 'yes']));
    const { report } = await reports.submit({
      category: 'streetlight-fault',
      ...centre,
      assetId: light.id,
      detail: 'Out all week',
      answers,
      reporter: { name: 'A', email: 'a@example.com', showName: true },
      source: 'web',
    });
    assert.equal(report.lat, light.lat);
    assert.equal(report.assetId, light.id);
    assert.equal(report.name, 'A');
    const again = (await reports.assetsNear('streetlight-fault', light.lat, light.lng, 10)).find((a) => a.id === light.id);
    assert.equal(again?.openReport?.reference, report.reference);
    assert.equal(again?.state, 'fault-reported');
  });

  test('a status change writes the public timeline and emails followers; fixed and then not fixed reopens it', async () => {
    const { report, trackingToken } = await pothole({ lat: centre.lat + 0.003 });
    await reports.follow(report.reference, 'neighbour@example.com');
    const cases = testApp.services.cases.service;
    const member = { type: 'staff' as const, member: officer };
    await cases.changeStatus(member, report.reference, 'triage');
    await cases.changeStatus(member, report.reference, 'works-ordered', { update: 'Booked for Tuesday' });
    await cases.changeStatus(member, report.reference, 'fixed', { update: 'Filled and sealed' });
    const page = await reports.publicReport(report.reference);
    assert.deepEqual(
      page?.updates.map((u) => [u.status, u.text]),
      [
        ['open', null],
        ['investigating', null],
        ['action_scheduled', 'Booked for Tuesday'],
        ['fixed', 'Filled and sealed'],
      ],
    );
    assert.equal(page?.status, 'fixed');
    assert.ok(page?.fixedAt);
    const mail = await testApp.services.notifier.listMessages({ recipient: 'neighbour@example.com' });
    assert.equal(mail.length, 3);
    const links = await testApp.platform.database.db
      .withTables<{ notification_outbox: { recipient: string; body: string; unsubscribe_url: string | null } }>()
      .selectFrom('notification_outbox')
      .select(['body', 'unsubscribe_url'])
      .where('recipient', '=', 'neighbour@example.com')
      .execute();
    assert.ok(
      links.every((m) => m.unsubscribe_url && m.body.includes(m.unsubscribe_url)),
      'each update offers one-click unsubscribe, the same link as in the text',
    );
    assert.ok(reports.canSayNotFixed(page));

    await assert.rejects(reports.notFixed(report.reference, { token: 'forged' }, 'Still there'), { statusCode: 403 });
    await reports.notFixed(report.reference, { token: trackingToken }, 'Still there');
    const reopened = await reports.publicReport(report.reference);
    assert.equal(reopened?.status, 'investigating');
    assert.equal(reopened?.closed, false);
    assert.match(reopened?.updates.at(-1)?.text ?? '', /not fixed: Still there/);
  });

  test('marking a duplicate closes it and moves its followers to the original', async () => {
    const original = (await pothole({ lat: centre.lat - 0.003 })).report;
    const copy = (await pothole({ lat: centre.lat - 0.0031 })).report;
    await reports.follow(copy.reference, 'watcher@example.com');
    await assert.rejects(reports.markDuplicate(officer, copy.reference, copy.reference), ReportProblems);
    await reports.markDuplicate(officer, copy.reference, original.reference);
    const closed = await reports.publicReport(copy.reference);
    assert.equal(closed?.status, 'duplicate');
    assert.equal(closed?.duplicateOf, original.reference);
    assert.equal(closed?.followers, 0);
    assert.equal((await reports.publicReport(original.reference))?.followers, 1);
  });

  test('passing a report to another organisation needs a public word on who is responsible', async () => {
    const { report } = await pothole({ lat: centre.lat + 0.006 });
    const cases = testApp.services.cases.service;
    await assert.rejects(cases.changeStatus({ type: 'staff', member: officer }, report.reference, 'passed-to-another-organisation'), { statusCode: 400 });
    await cases.changeStatus({ type: 'staff', member: officer }, report.reference, 'passed-to-another-organisation', {
      update: 'This road belongs to National Highways: report it to them.',
    });
    assert.equal((await reports.publicReport(report.reference))?.status, 'not_councils_responsibility');
  });

  test('moderation hides a report from the public, needs a reason and the permission, and is audited', async () => {
    const { report } = await pothole({ lat: centre.lat + 0.009 });
    const manager = await testApp.services.account.staff.findMemberByEmail('manager@kingsmere.example');
    assert.ok(manager);
    await assert.rejects(reports.moderate(manager, report.reference, { hidden: true }, 'Abusive'), { statusCode: 403 });
    await assert.rejects(reports.moderate(officer, report.reference, { hidden: true }, ' '), ReportProblems);
    await reports.moderate(officer, report.reference, { hidden: true }, 'Abusive words');
    assert.equal(await reports.publicReport(report.reference), null);
    const audit = await testApp.platform.database.db
      .withTables<{ audit_events: { action: string; subject_id: string } }>()
      .selectFrom('audit_events')
      .select('action')
      .where('subject_id', '=', report.reference)
      .execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['report.moderated'],
    );
  });

  test('a photo is kept without its metadata, its position offered, and attached when the report is sent', async () => {
    const kept = await reports.stashPhoto(pngTakenAt(centre.lat, centre.lng), 'IMG_0001.png');
    assert.ok(kept.position);
    assert.ok(Math.abs(kept.position.lat - centre.lat) < 0.0001 && Math.abs(kept.position.lng - centre.lng) < 0.0001);
    const outside = await reports.stashPhoto(pngTakenAt(51.5, -0.12));
    assert.equal(outside.position, null, 'a position outside the borough is not offered');
    await assert.rejects(reports.stashPhoto(Buffer.from('%PDF-1.4 not a photo')), ReportProblems);

    const { report } = await pothole({ lat: centre.lat + 0.012, photoIds: [kept.id] });
    const stored = await testApp.services.files.read(testApp.platform.database.db, kept.id);
    assert.ok(stored);
    assert.ok(!stored.bytes.includes(Buffer.from('eXIf')), 'the position is not stored');
    const staff = await reports.staffReport(officer, report.reference);
    assert.deepEqual(
      staff.photos.map((p) => [p.id, p.state]),
      [[kept.id, 'pending']],
    );
    assert.equal((await reports.publicReport(report.reference))?.photos.length, 0, 'not public until approved');
    await reports.moderatePhoto(officer, report.reference, kept.id, 'approved');
    assert.equal((await reports.publicReport(report.reference))?.photos.length, 1);

    // A kept photo is used once; one never sent is removed after a day.
    await assert.rejects(pothole({ lat: centre.lat + 0.013, photoIds: [kept.id] }), ReportProblems);
    const abandoned = await reports.stashPhoto(tinyPng({ text: 'Taken by Alex' }));
    assert.equal(await reports.tidyPhotoStash(), 0);
    assert.equal(await reports.tidyPhotoStash(new Date(Date.now() + 2 * 86_400_000)), 2);
    assert.equal(await testApp.services.files.read(testApp.platform.database.db, abandoned.id), null);
  });
});
