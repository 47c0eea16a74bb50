import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordAudit } from '#platform/audit/index';
import { createTestApp, pageText, type TestApp } from '../../../../test/support/app.js';
import { signInDemoStaff, type SignedInStaff } from '../../../../test/support/staff.js';
import { assertCan, can, PERMISSIONS, ROLES, type Permission, type Role } from '../permissions.js';

/** The value, after asserting it is there. */
function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

/** The pages guarded by each permission this capability owns. */
const GUARDED_PAGES: Partial<Record<Permission, string>> = {
  'staff:manage': '/staff/users',
  'audit:read': '/staff/audit',
  'messages:read': '/staff/messages',
};

type AuditRow = {
  id: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  details: Record<string, unknown>;
};

describe('staff administration, audit log and messages', () => {
  let t: TestApp;
  const staff = new Map<Role, SignedInStaff>();
  const audit = () => t.platform.database.db.withTables<{ audit_events: AuditRow }>().selectFrom('audit_events').selectAll();

  before(async () => {
    t = await createTestApp();
    await t.services.account.staff.seedDemo();
    // Every demo role signs in over HTTP, each on its own browser.
    for (const role of Object.keys(ROLES) as Role[]) staff.set(role, await signInDemoStaff(t, role));
  });
  after(async () => t?.close());

  const signedIn = (role: Role) => present(staff.get(role), role).client;
  const member = (role: Role) => present(staff.get(role), role).member;

  describe('every permission is refused to staff without it and allowed to staff with it', () => {
    for (const permission of PERMISSIONS) {
      test(permission, async () => {
        const roles = Object.keys(ROLES) as Role[];
        const holder = roles.find((r) => can(member(r), permission));
        const lacker = roles.find((r) => !can(member(r), permission));
        assert.ok(holder && lacker, `some role has ${permission} and some role lacks it`);
        assert.doesNotThrow(() => assertCan(member(holder), permission));
        assert.throws(
          () => assertCan(member(lacker), permission),
          (e: { statusCode?: number }) => e.statusCode === 403,
        );
        assert.throws(() => assertCan({ ...member(holder), status: 'disabled' }, permission), 'a disabled account has no permissions');
        const page = GUARDED_PAGES[permission];
        if (page) {
          for (const role of roles) {
            const res = await signedIn(role).get(page);
            assert.equal(res.statusCode, can(member(role), permission) ? 200 : 403, `${role} on ${page}`);
          }
        }
      });
    }
  });

  test('the services refuse callers without the permission, whatever the route does', async () => {
    const staff = t.services.account.staff;
    const officer = member('case-officer');
    const forbidden = (e: { statusCode?: number }) => e.statusCode === 403;
    await assert.rejects(staff.listStaff(officer), forbidden);
    await assert.rejects(staff.invite(officer, { email: 'x@kingsmere.example', name: 'X', roles: ['administrator'], teams: [] }), forbidden);
    await assert.rejects(staff.updateAccess(officer, officer.id, { roles: ['administrator'], teams: [] }), forbidden);
    await assert.rejects(staff.setStatus(officer, member('manager').id, 'disabled'), forbidden);
    await assert.rejects(staff.resetMfaFor(officer, member('manager').id), forbidden);
    await assert.rejects(staff.resendInvitation(officer, member('manager').id), forbidden);
    await assert.rejects(staff.searchAudit(officer, {}), forbidden);
    await assert.rejects(staff.listMessages(officer), forbidden);
    await signedIn('case-officer').get('/staff');
    const posted = await signedIn('case-officer').post('/staff/users/invite', { name: 'Sneaky', email: 'sneaky@kingsmere.example', roles: 'administrator' });
    assert.equal(posted.statusCode, 403);
  });

  test('the staff navigation shows only what the member may use', async () => {
    const nav = (html: string) => [...html.matchAll(/<a class="govuk-service-navigation__link" href="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(nav((await signedIn('administrator').get('/staff')).body), [
      '/staff',
      '/staff/users',
      '/staff/audit',
      '/staff/messages',
      '/staff/api-keys',
      '/staff/forms',
      '/staff/appointments/utilisation',
    ]);
    assert.deepEqual(nav((await signedIn('case-officer').get('/staff')).body), [
      '/staff',
      '/staff/forms',
      '/staff/cases',
      '/staff/reports',
      '/staff/appointments',
    ]);
  });

  test('the staff home lists the areas in the navigation, so the two always agree', async () => {
    const areas = (html: string) =>
      [...(/<ul[^>]*id="staff-areas"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '').matchAll(/<a class="govuk-link[^"]*" href="([^"]+)">([^<]+)<\/a>/g)].map(
        (m) => `${m[2] ?? ''} ${m[1] ?? ''}`,
      );
    const navigation = (html: string) => [...html.matchAll(/<a class="govuk-service-navigation__link" href="([^"]+)"/g)].map((m) => m[1]);
    const hrefs = (items: string[]) => items.map((item) => item.split(' ').at(-1));

    const officer = (await signedIn('case-officer').get('/staff')).body;
    assert.deepEqual(areas(officer), ['Forms /staff/forms', 'Cases /staff/cases', 'Street reports /staff/reports', 'Appointments /staff/appointments']);
    assert.deepEqual(hrefs(areas(officer)), navigation(officer).slice(1), 'the navigation less Home');

    const admin = (await signedIn('administrator').get('/staff')).body;
    assert.deepEqual(areas(admin), [
      'Users /staff/users',
      'Audit log /staff/audit',
      'Messages /staff/messages',
      'API keys /staff/api-keys',
      'Forms /staff/forms',
      'Appointment figures /staff/appointments/utilisation',
    ]);
    assert.deepEqual(hrefs(areas(admin)), navigation(admin).slice(1), 'the navigation less Home');

    const editor = pageText((await signedIn('content-editor').get('/staff')).body);
    assert.match(editor, /You do not have access to any staff tools yet/);
  });

  test('an administrator invites a member of staff, changes their access and disables them, and each change is audited', async () => {
    const admin = signedIn('administrator');
    await admin.get('/staff/users/invite');
    const missing = await admin.post('/staff/users/invite', { name: '', email: 'not-an-email', teams: 'highways' });
    assert.equal(missing.statusCode, 400);
    assert.match(pageText(missing.body), /Enter the staff member’s name.*Enter an email address in the correct format.*Select at least one role/);

    const res = await admin.post('/staff/users/invite', {
      name: 'Priya Patel',
      email: 'priya.patel@kingsmere.example',
      roles: ['case-officer', 'team-leader'],
      teams: ['highways', 'environment'],
    });
    assert.equal(res.statusCode, 302, pageText(res.body));
    const id = /^\/staff\/users\/([0-9a-f-]{36})\?invited=1$/.exec(String(res.headers.location))?.[1];
    assert.ok(id);
    const page = await admin.get(String(res.headers.location));
    assert.match(pageText(page.body), /Invitation sent to priya.patel@kingsmere.example/);

    const [invited] = await audit().where('action', '=', 'staff.invited').where('subject_id', '=', id).execute();
    assert.ok(invited);
    assert.equal(invited.actor_type, 'staff');
    assert.equal(invited.actor_id, member('administrator').id);
    assert.equal(invited.subject_type, 'staff-user');
    assert.deepEqual(invited.details, { roles: ['case-officer', 'team-leader'], teams: ['highways', 'environment'] });
    const [email] = await t.services.notifier.listMessages({ recipient: 'priya.patel@kingsmere.example' });
    assert.ok(email, 'the invitation email is in the outbox');

    // A lost invitation is sent again while the account is not set up, and not after.
    const invitedPage = await admin.get(`/staff/users/${id}`);
    assert.match(pageText(invitedPage.body), /Send the invitation again/);
    assert.equal((await admin.post(`/staff/users/${id}/resend-invitation`, {})).headers.location, `/staff/users/${id}?invited=1`);
    assert.equal((await t.services.notifier.listMessages({ recipient: 'priya.patel@kingsmere.example' })).length, 2);
    await assert.rejects(t.services.account.staff.resendInvitation(member('administrator'), member('manager').id), { statusCode: 409 });

    await admin.get('/staff/users/invite');
    const duplicate = await admin.post('/staff/users/invite', { name: 'Priya Again', email: 'Priya.Patel@kingsmere.example', roles: 'manager' });
    assert.equal(duplicate.statusCode, 409);
    assert.match(pageText(duplicate.body), /already a staff user with that email/);

    await admin.get(`/staff/users/${id}`);
    const edited = await admin.post(`/staff/users/${id}`, { roles: ['case-officer'], teams: ['highways'] });
    assert.equal(edited.headers.location, `/staff/users/${id}?saved=1`);
    const [changed] = await audit().where('action', '=', 'staff.access-changed').where('subject_id', '=', id).execute();
    assert.deepEqual(changed?.details, {
      roles: { from: ['case-officer', 'team-leader'], to: ['case-officer'] },
      teams: { from: ['highways', 'environment'], to: ['highways'] },
    });

    await admin.get(`/staff/users/${id}`);
    assert.equal((await admin.post(`/staff/users/${id}/disable`, {})).headers.location, `/staff/users/${id}?disabled=1`);
    await admin.get(`/staff/users/${id}`);
    assert.equal((await admin.post(`/staff/users/${id}/enable`, {})).headers.location, `/staff/users/${id}?enabled=1`);
    const actions = (await audit().where('subject_id', '=', id).orderBy('id').execute()).map((r) => r.action);
    assert.deepEqual(actions, ['staff.invited', 'staff.invitation-resent', 'staff.access-changed', 'staff.disabled', 'staff.enabled']);

    // No personal data in the audit details: only ids, roles, teams and statuses.
    for (const row of await audit().where('subject_id', '=', id).execute()) assert.doesNotMatch(JSON.stringify(row.details), /priya|patel/i);
  });

  test('an administrator cannot disable themselves or drop their own administrator role', async () => {
    const admin = signedIn('administrator');
    const self = member('administrator').id;
    await admin.get(`/staff/users/${self}`);
    assert.equal((await admin.post(`/staff/users/${self}/disable`, {})).statusCode, 409);
    await admin.get(`/staff/users/${self}`);
    assert.equal((await admin.post(`/staff/users/${self}`, { roles: 'manager' })).statusCode, 409);
  });

  test('an administrator resets a member of staff’s authenticator', async () => {
    const admin = signedIn('administrator');
    const target = member('manager');
    await admin.get(`/staff/users/${target.id}`);
    assert.equal((await admin.post(`/staff/users/${target.id}/reset-mfa`, {})).headers.location, `/staff/users/${target.id}?mfa=1`);
    const [reset] = await audit().where('action', '=', 'staff.mfa-reset').where('subject_id', '=', target.id).execute();
    assert.equal(reset?.actor_id, member('administrator').id);
    assert.equal((await signedIn('manager').get('/staff')).statusCode, 302, 'their sessions end');
  });

  test('the staff list filters by role, team and status', async () => {
    const admin = signedIn('administrator');
    const names = (html: string) => [...html.matchAll(/<a class="govuk-link" href="\/staff\/users\/[0-9a-f-]{36}">([^<]+)<\/a>/g)].map((m) => m[1]);
    assert.deepEqual(names((await admin.get('/staff/users?role=manager')).body), ['Demo manager']);
    assert.deepEqual(names((await admin.get('/staff/users?team=early-help')).body), ['Demo safeguarding lead', 'Demo safeguarding officer']);
    const invited = names((await admin.get('/staff/users?status=invited')).body);
    assert.ok(invited.includes('Priya Patel'));
    assert.ok(!invited.includes('Demo manager'));
    assert.ok(names((await admin.get('/staff/users')).body).length >= 7);
  });

  test('the audit log is searched by actor, action, subject and date, a page at a time', async () => {
    const admin = signedIn('administrator');
    const subjectId = '3f1e6f0e-0000-4000-8000-000000000001';
    await t.platform.database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 30; i++)
        await recordAudit(tx, {
          actor: { type: 'system', label: 'Nightly import' },
          action: 'test.imported',
          subject: { type: 'case', id: subjectId },
          details: { n: i },
        });
    });
    const rows = (html: string) => (html.match(/<tr class="govuk-table__row">/g) ?? []).length - 1;

    const first = await admin.get(`/staff/audit?action=test.imported&subjectType=case&subjectId=${subjectId}`);
    assert.equal(first.statusCode, 200);
    assert.equal(rows(first.body), 25);
    assert.match(pageText(first.body), /Showing 1 to 25 of 30 entries/);
    assert.match(first.body, /govuk-pagination/);
    const second = await admin.get(`/staff/audit?action=test.imported&subjectType=case&subjectId=${subjectId}&page=2`);
    assert.equal(rows(second.body), 5);

    const byActor = await admin.get('/staff/audit?actor=Nightly');
    assert.match(pageText(byActor.body), /of 30 entries/);
    const byAdmin = await admin.get(`/staff/audit?actor=${member('administrator').id}&action=staff.`);
    assert.doesNotMatch(pageText(byAdmin.body), /test\.imported/);
    assert.match(pageText(byAdmin.body), /staff\.invited/);

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
    assert.match(pageText((await admin.get(`/staff/audit?action=test.imported&from=${today}&to=${today}`)).body), /of 30 entries/);
    assert.match(pageText((await admin.get(`/staff/audit?action=test.imported&from=${tomorrow}`)).body), /No audit entries match/);
    const bad = await admin.get('/staff/audit?from=2026-02-31');
    assert.equal(bad.statusCode, 400);
    assert.match(pageText(bad.body), /Enter the start date as a real date/);
  });

  test('the messages page lists what the platform queued, with a page per message', async () => {
    const admin = signedIn('administrator');
    const list = await admin.get('/staff/messages');
    assert.equal(list.statusCode, 200);
    assert.match(pageText(list.body), /You have been invited to .* staff services/);
    const [message] = await t.services.notifier.listMessages({ recipient: 'priya.patel@kingsmere.example' });
    const page = await admin.get(`/staff/messages/${present(message, 'message').id}`);
    assert.equal(page.statusCode, 200);
    assert.match(pageText(page.body), /\/staff\/invitation\?token=/);
    assert.equal((await admin.get('/staff/messages/00000000-0000-4000-8000-000000000000')).statusCode, 404);
    assert.equal((await signedIn('case-officer').get(`/staff/messages/${present(message, 'message').id}`)).statusCode, 403);
  });
});
