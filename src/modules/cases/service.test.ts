import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { StaffMember } from '#modules/account/index';
import type { CaseRequest } from '#modules/forms/index';
import { HttpError } from '#platform/http/errors';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { emailsTo } from '../account/residents/test-helpers.js';
import type { OpenCaseInput } from './service.js';

/** Case management's service layer over a fresh database with the demo council: opening, workflow, permissions, clocks and retention. */

let t: TestApp;
const staff: Record<string, StaffMember> = {};

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

async function refused(work: Promise<unknown>, status: number, what: string): Promise<void> {
  await assert.rejects(work, (error: unknown) => error instanceof HttpError && error.statusCode === status, what);
}

async function residentId(email: string): Promise<string> {
  const r = await sql<{ id: string }>`SELECT id FROM residents WHERE email = ${email}`.execute(t.platform.database.db);
  return present(r.rows[0], `resident ${email}`).id;
}

const service = () => t.services.cases.service;

function pothole(overrides: Partial<OpenCaseInput> = {}): OpenCaseInput {
  return {
    type: 'pothole',
    title: 'Pothole outside the library',
    subject: { kind: 'person', name: 'Alex Morgan', email: 'alex.morgan@example.com', phone: '07700 900777', postcode: 'km1 1aa' },
    location: { address: '1 Market Street', postcode: 'KM1 1AA' },
    source: 'staff',
    channel: 'phone',
    ...overrides,
  };
}

before(async () => {
  t = await createTestApp({ seedDemo: true });
  for (const role of ['case-officer', 'team-leader', 'safeguarding-officer', 'content-editor', 'administrator'])
    staff[role] = present(await t.services.account.staff.findMemberByEmail(`${role}@kingsmere.example`), role);
});
after(async () => t.close());

describe('opening a case', () => {
  test('gives a reference, the first status, a due date in working time, a timeline entry and a message to the person', async () => {
    const { case: opened, created } = await service().open({ type: 'staff', member: present(staff['case-officer'], 'officer') }, pothole());
    assert.equal(created, true);
    assert.match(opened.reference, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    const type = service().typeOf('pothole');
    assert.equal(opened.status, type.initialStatus);
    assert.equal(opened.team, 'highways');
    assert.equal(opened.priority, type.defaultPriority);
    assert.ok(opened.dueAt && opened.dueAt > opened.openedAt, 'an SLA due date is set');
    assert.equal(opened.sla, 'on-track');
    const detail = await service().caseDetail(present(staff['case-officer'], 'officer'), opened.reference);
    assert.deepEqual(
      detail.events.map((e) => e.kind),
      ['message', 'opened'],
    );
    assert.equal(detail.person?.postcode, 'KM11AA', 'postcodes are kept without spaces for search');
    const emails = await emailsTo(t, 'alex.morgan@example.com');
    assert.ok(
      emails.some((e) => e.body.includes(opened.reference)),
      'the person is told their reference',
    );
  });

  test('an urgent case takes the type’s urgent target', async () => {
    const normal = await service().open({ type: 'system' }, pothole());
    const urgent = await service().open({ type: 'system' }, pothole({ priority: 'urgent' }));
    assert.ok(present(urgent.case.dueAt, 'urgent due') < present(normal.case.dueAt, 'normal due'));
  });

  test('a form delivery opens one case however often it is retried, with the contact and place the form gave', async () => {
    const request: CaseRequest = {
      deliveryId: '00000000-0000-4000-8000-000000000001',
      formSlug: 'contact-us',
      formTitle: 'Contact Kingsmere Council',
      formVersion: 1,
      submissionId: '00000000-0000-4000-8000-000000000002',
      reference: 'ABCD-EFGH',
      submittedAt: new Date(),
      submittedBy: { type: 'anonymous', channel: 'online' },
      answers: {},
      summary: [{ title: 'Your enquiry', rows: [{ question: 'What is it about?', answer: ['Bins'] }] }],
      settings: { caseType: 'general-enquiry' },
      contact: { name: 'Jo Bloggs', email: 'jo.bloggs@example.com', address: { text: '2 Mill Lane, Kingsmere, KM2 3BB', postcode: 'KM2 3BB' } },
      place: { text: 'Near the park gates' },
    };
    const first = await t.services.cases.caseCreator.createCase(request);
    const again = await t.services.cases.caseCreator.createCase(request);
    assert.equal(again.caseReference, first.caseReference);
    const detail = await service().caseDetail(present(staff['case-officer'], 'officer'), first.caseReference);
    assert.equal(detail.case.source, 'form');
    assert.equal(detail.case.sourceReference, 'ABCD-EFGH');
    assert.equal(detail.person?.name, 'Jo Bloggs');
    assert.equal(detail.location.address, 'Near the park gates');
    const count = await sql<{ n: string }>`SELECT count(*) AS n FROM cases WHERE delivery_id = ${request.deliveryId}`.execute(t.platform.database.db);
    assert.equal(Number(count.rows[0]?.n), 1);
  });

  test('a signed-in resident’s case belongs to their account and shows in it', async () => {
    const sam = await residentId('sam.taylor@example.com');
    const { case: opened } = await service().open({ type: 'system' }, pothole({ subject: { kind: 'resident', residentId: sam } }));
    const mine = await service().residentCases(sam);
    assert.ok(mine.some((c) => c.reference === opened.reference));
    const priya = await residentId('priya.shah@example.com');
    await refused(service().residentCase(priya, opened.reference), 404, 'another resident’s case is not found');
    const activity = await t.services.account.residents.activity(sam);
    assert.ok(
      activity.some((section) => section.heading === 'Your cases'),
      'My Account lists cases',
    );
    await t.services.cases.service.forgetResident(sam);
    assert.equal((await service().residentCases(sam)).length, 0, 'a deleted account no longer reaches its cases');
  });

  test('bad input is refused with a reason', async () => {
    await refused(service().open({ type: 'system' }, pothole({ type: 'no-such-type' })), 400, 'unknown type');
    await refused(service().open({ type: 'system' }, pothole({ team: 'no-such-team' })), 400, 'unknown team');
    await refused(service().open({ type: 'system' }, pothole({ title: '   ' })), 400, 'empty title');
    await refused(service().open({ type: 'system' }, pothole({ subject: { kind: 'person', name: ' ' } })), 400, 'nameless person');
  });
});

describe('the workflow', () => {
  test('moves only along the type’s transitions, closes, reopens with a fresh clock, and tells the resident', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const type = service().typeOf('pothole');
    const { case: opened } = await service().open({ type: 'system' }, pothole({ subject: { kind: 'person', name: 'Kim Lee', email: 'kim.lee@example.com' } }));
    const first = present(type.status(opened.status), 'status');
    const notAllowed = type.statuses.find((s) => s.code !== first.code && !first.next.includes(s.code));
    if (notAllowed)
      await refused(service().changeStatus({ type: 'staff', member: officer }, opened.reference, notAllowed.code), 409, 'a move the workflow does not allow');
    await refused(service().changeStatus({ type: 'staff', member: officer }, opened.reference, 'made-up'), 400, 'an unknown status');

    // Walk to a closed status by the shortest route.
    const route = pathTo(type, opened.status, (code) => type.isClosed(code));
    for (const code of route) await service().changeStatus({ type: 'staff', member: officer }, opened.reference, code, { update: `Now ${code}` });
    const closed = await service().caseDetail(officer, opened.reference);
    assert.equal(closed.case.closed, true);
    assert.ok(closed.case.closedAt);
    const statusEvents = closed.events.filter((e) => e.kind === 'status');
    assert.equal(statusEvents.length, route.length);
    assert.ok(statusEvents.every((e) => e.public));

    const closedCode = present(route.at(-1), 'closed status');
    const reopen = type.status(closedCode)?.next.find((code) => !type.isClosed(code));
    if (reopen) {
      const reopened = await service().changeStatus({ type: 'staff', member: officer }, opened.reference, reopen);
      assert.equal(reopened.closed, false);
    }
    const emails = await emailsTo(t, 'kim.lee@example.com');
    assert.ok(emails.length >= 2, 'the resident heard when the case opened and when it closed');
  });

  test('a resident who chose text messages gets a text, not an email', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const priya = await residentId('priya.shah@example.com');
    await sql`UPDATE residents SET contact_by_sms = true WHERE id = ${priya}`.execute(t.platform.database.db);
    try {
      const { case: opened } = await service().open({ type: 'system' }, pothole({ subject: { kind: 'resident', residentId: priya } }));
      await service().addNote({ type: 'staff', member: officer }, opened.reference, 'The crew is on its way', { public: true });
      const sent = await sql<{ channel: string; recipient: string; body: string }>`
        SELECT channel, recipient, body FROM notification_outbox WHERE related_id = ${opened.id} ORDER BY created_at, id`.execute(t.platform.database.db);
      assert.ok(sent.rows.length >= 2, 'one when it opened, one for the update');
      assert.ok(sent.rows.every((m) => m.channel === 'sms' && m.recipient === '07700 900456'));
      assert.ok(sent.rows.some((m) => m.body.includes('The crew is on its way')));
    } finally {
      await sql`UPDATE residents SET contact_by_sms = false WHERE id = ${priya}`.execute(t.platform.database.db);
    }
  });

  test('notes stay internal; public updates go on the resident’s timeline', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const sam = await residentId('sam.taylor@example.com');
    const { case: opened } = await service().open({ type: 'system' }, pothole({ subject: { kind: 'resident', residentId: sam } }));
    await service().addNote({ type: 'staff', member: officer }, opened.reference, 'Called the contractor');
    await service().addNote({ type: 'staff', member: officer }, opened.reference, 'A crew is booked for Tuesday', { public: true });
    const seen = await service().residentCase(sam, opened.reference);
    const bodies = seen.events.map((e) => e.body);
    assert.ok(bodies.includes('A crew is booked for Tuesday'));
    assert.ok(!bodies.includes('Called the contractor'));
    await service().residentAddInformation(sam, opened.reference, 'It is getting bigger');
    const staffView = await service().caseDetail(officer, opened.reference);
    assert.ok(staffView.events.some((e) => e.kind === 'resident-info' && e.body === 'It is getting bigger'));
    await refused(service().addNote({ type: 'staff', member: officer }, opened.reference, '  '), 400, 'an empty note');
  });

  test('tasks, tags, priority and links', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const a = (await service().open({ type: 'system' }, pothole())).case;
    const b = (await service().open({ type: 'system' }, pothole())).case;
    const task = await service().addTask(officer, a.reference, { title: 'Photograph the defect', dueOn: '2026-12-01' });
    await service().completeTask(officer, a.reference, task.id);
    await refused(service().completeTask(officer, a.reference, task.id), 404, 'a task is done once');
    await service().setTags(officer, a.reference, ['Near school', 'near school', '=bad']);
    await service().setPriority(officer, a.reference, 'urgent');
    await service().link(officer, b.reference, a.reference, 'duplicate-of');
    await refused(service().link(officer, b.reference, a.reference, 'duplicate-of'), 409, 'linked once');
    await refused(service().link(officer, a.reference, a.reference, 'related'), 400, 'not to itself');
    const detail = await service().caseDetail(officer, a.reference);
    assert.deepEqual(detail.case.tags, ['near school']);
    assert.equal(detail.case.priority, 'urgent');
    assert.ok(present(detail.case.dueAt, 'due') < present(b.dueAt, 'b due'), 'urgent work is due sooner');
    assert.equal(detail.links[0]?.other?.reference, b.reference);
    assert.deepEqual(
      detail.tasks.map((x) => x.done_at !== null),
      [true],
    );
  });
});

describe('who may do what', () => {
  test('staff without cases:work are refused everything', async () => {
    const editor = present(staff['content-editor'], 'editor');
    const { case: opened } = await service().open({ type: 'system' }, pothole());
    await refused(service().open({ type: 'staff', member: editor }, pothole()), 403, 'open');
    await refused(service().caseDetail(editor, opened.reference), 403, 'view');
    await refused(service().queue(editor, {}), 403, 'queue');
    await refused(service().search(editor, opened.reference), 403, 'search');
    await refused(service().addNote({ type: 'staff', member: editor }, opened.reference, 'x'), 403, 'note');
    await refused(service().changeStatus({ type: 'staff', member: editor }, opened.reference, 'x'), 403, 'status');
    await refused(service().contactHistory(editor, present(opened.personId, 'person')), 403, 'contact history');
  });

  test('officers see only their own teams’ queues', async () => {
    const officer = present(staff['case-officer'], 'officer');
    await refused(service().queue(officer, { team: 'early-help' }), 403, 'another team’s queue');
    const { case: opened } = await service().open({ type: 'system' }, pothole());
    const queue = await service().queue(officer, { team: 'highways', pageSize: 100, sort: 'opened', descending: true });
    assert.ok(queue.cases.some((c) => c.reference === opened.reference));
  });

  test('a restricted case is refused outside its team (and the refusal audited); its team’s every view is audited', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const safeguarding = present(staff['safeguarding-officer'], 'safeguarding');
    const { case: referral } = await service().open(
      { type: 'system' },
      { type: 'early-help-referral', title: 'Referral', subject: { kind: 'anonymous' }, source: 'form', channel: 'online' },
    );
    assert.equal(referral.restricted, true);
    await refused(service().caseDetail(officer, referral.reference), 403, 'a highways officer');
    await refused(
      service().open(
        { type: 'staff', member: officer },
        { type: 'early-help-referral', title: 'x', subject: { kind: 'anonymous' }, source: 'staff', channel: 'phone' },
      ),
      403,
      'opening one',
    );
    const search = await service().search(officer, referral.reference);
    assert.equal(search.cases.length, 0, 'not even found by search');
    const detail = await service().caseDetail(safeguarding, referral.reference);
    assert.ok(detail.events.some((e) => e.kind === 'viewed' && e.actor_id === safeguarding.id));
    const audit = await sql<{
      action: string;
      actor_id: string;
    }>`SELECT action, actor_id FROM audit_events WHERE subject_id = ${referral.id} ORDER BY id`.execute(t.platform.database.db);
    assert.ok(audit.rows.some((r) => r.action === 'case.view-refused' && r.actor_id === officer.id));
    assert.ok(audit.rows.some((r) => r.action === 'case.viewed' && r.actor_id === safeguarding.id));
  });

  test('another team may look at an unrestricted case but not change it', async () => {
    const safeguarding = present(staff['safeguarding-officer'], 'safeguarding');
    const { case: opened } = await service().open({ type: 'system' }, pothole());
    const detail = await service().caseDetail(safeguarding, opened.reference);
    assert.equal(detail.canWork, false);
    assert.deepEqual(detail.nextStatuses, []);
    await refused(service().addNote({ type: 'staff', member: safeguarding }, opened.reference, 'x'), 403, 'a note from outside the team');
  });

  test('officers take work; only team leaders hand it to someone else', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const leader = present(staff['team-leader'], 'leader');
    const { case: opened } = await service().open({ type: 'system' }, pothole());
    await service().assign(officer, opened.reference, { assigneeId: officer.id });
    await refused(service().assign(officer, opened.reference, { assigneeId: leader.id }), 403, 'an officer giving work away');
    await refused(service().assign(officer, opened.reference, { team: 'environment' }), 403, 'an officer moving teams');
    await service().assign(leader, opened.reference, { assigneeId: leader.id });
    await refused(service().assign(leader, opened.reference, { assigneeId: present(staff['content-editor'], 'editor').id }), 400, 'someone outside the team');
    const mine = await service().queue(leader, { mine: true, pageSize: 100 });
    assert.ok(mine.cases.some((c) => c.reference === opened.reference));
  });
});

describe('search', () => {
  test('by reference, postcode, email, phone and name', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const { case: opened } = await service().open(
      { type: 'system' },
      pothole({ subject: { kind: 'person', name: 'Rowan Oakley', email: 'Rowan.Oakley@example.com', phone: '07700 900321', postcode: 'KM9 9ZZ' } }),
    );
    for (const [query, kind] of [
      [opened.reference.toLowerCase().replace('-', ' '), 'reference'],
      ['km9 9zz', 'postcode'],
      ['rowan.oakley@example.com', 'email'],
      ['+44 7700 900321', 'phone'],
      ['oakley', 'name'],
    ] as const) {
      const found = await service().search(officer, query);
      assert.equal(found.kind, kind, query);
      assert.ok(
        found.cases.some((c) => c.reference === opened.reference),
        `found by ${kind}`,
      );
    }
    const history = await service().contactHistory(officer, present(opened.personId, 'person'));
    assert.equal(history.person.name, 'Rowan Oakley');
  });
});

describe('clocks and retention', () => {
  test('breaches are flagged, due-soon cases warn their officer, and team leaders get a summary', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const late = (await service().open({ type: 'system' }, pothole())).case;
    const soon = (await service().open({ type: 'system' }, pothole())).case;
    await service().assign(officer, soon.reference, { assigneeId: officer.id });
    const db = service().repo.db;
    await db
      .updateTable('cases')
      .set({ due_at: new Date(Date.now() - 60_000) })
      .where('id', '=', late.id)
      .execute();
    await db
      .updateTable('cases')
      .set({ due_at: new Date(Date.now() + 60_000) })
      .where('id', '=', soon.id)
      .execute();
    const result = await t.services.cases.jobs.checkSla();
    assert.ok(result.breached >= 1 && result.dueSoon >= 1);
    const lateNow = await service().caseDetail(officer, late.reference);
    assert.equal(lateNow.case.sla, 'breached');
    assert.ok(lateNow.events.some((e) => e.kind === 'sla'));
    const warned = await emailsTo(t, officer.email);
    assert.ok(warned.some((e) => e.subject.includes(soon.reference)));
    const again = await t.services.cases.jobs.checkSla();
    assert.deepEqual(again, { breached: 0, dueSoon: 0 }, 'each case is flagged once');
    const breachedQueue = await service().queue(officer, { team: 'highways', sla: 'breached', pageSize: 100 });
    assert.ok(breachedQueue.cases.some((c) => c.reference === late.reference));
    assert.ok(!breachedQueue.cases.some((c) => c.reference === soon.reference));

    const sent = await t.services.cases.jobs.sendDailySummaries();
    assert.ok(sent >= 1);
    const summaries = await emailsTo(t, 'team-leader@kingsmere.example');
    assert.ok(summaries.some((e) => /past target/.test(e.subject)));
  });

  test('closed cases past their retention period lose their personal data but keep their statistics', async () => {
    const officer = present(staff['case-officer'], 'officer');
    const type = service().typeOf('pothole');
    const { case: opened } = await service().open(
      { type: 'system' },
      pothole({ description: 'Deep hole', subject: { kind: 'person', name: 'Dana Whitfield', email: 'dana@example.com' } }),
    );
    const route = pathTo(type, opened.status, (code) => type.isClosed(code));
    for (const code of route) await service().changeStatus({ type: 'staff', member: officer }, opened.reference, code, { note: 'Dana rang again' });
    const db = service().repo.db;
    await db
      .updateTable('cases')
      .set({ closed_at: new Date(Date.now() - (type.retentionDays + 1) * 86_400_000) })
      .where('id', '=', opened.id)
      .execute();
    assert.ok((await t.services.cases.jobs.applyRetention()) >= 1);
    const row = present(await db.selectFrom('cases').selectAll().where('id', '=', opened.id).executeTakeFirst(), 'case');
    assert.ok(row.anonymised_at);
    assert.equal(row.description, null);
    assert.equal(row.person_id, null);
    assert.equal(row.type, 'pothole', 'statistics keep the type');
    const person = present(await db.selectFrom('case_people').selectAll().where('id', '=', present(opened.personId, 'person')).executeTakeFirst(), 'person');
    assert.equal(person.email, null);
    assert.notEqual(person.name, 'Dana Whitfield');
    const events = await db.selectFrom('case_events').select(['kind', 'body']).where('case_id', '=', opened.id).execute();
    assert.ok(events.every((e) => e.body === null));
    assert.ok(events.some((e) => e.kind === 'anonymised'));
    await refused(service().addNote({ type: 'staff', member: officer }, opened.reference, 'x'), 409, 'an anonymised case cannot change');
    await assert.rejects(sql`DELETE FROM case_events WHERE case_id = ${opened.id}`.execute(t.platform.database.db), /append-only/);
    // The nightly run ends by vacuuming, which must work outside a transaction on both databases.
    await service().repo.tidy();
  });
});

/** The shortest list of statuses from `from` to one meeting `goal`. */
function pathTo(type: { statuses: { code: string; next: string[] }[] }, from: string, goal: (code: string) => boolean): string[] {
  const previous = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length) {
    const code = queue.shift() ?? '';
    if (code !== from && goal(code)) {
      const route = [code];
      for (let at = previous.get(code); at !== undefined && at !== from; at = previous.get(at)) route.unshift(at);
      return route;
    }
    for (const next of type.statuses.find((s) => s.code === code)?.next ?? [])
      if (!seen.has(next)) {
        seen.add(next);
        previous.set(next, code);
        queue.push(next);
      }
  }
  throw new Error(`no route from ${from}`);
}
