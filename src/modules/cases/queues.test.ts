import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Role } from '#modules/account/index';
import { startOfLocalDay } from '#platform/council/dates';
import { createTestApp, pageText, type TestApp } from '../../../test/support/app.js';
import { parseCsv } from '../../../test/support/csv.js';
import { signInDemoStaff, type SignedInStaff } from '../../../test/support/staff.js';
import { drawMap, parseQueueQuery, type QueueChoices } from './queues.js';
import type { OpenCaseInput } from './service.js';

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

/** The case references linked from a table on the page, in order. */
function referencesIn(html: string, tableId = 'cases'): string[] {
  const table = new RegExp(`<table[^>]*id="${tableId}"[\\s\\S]*?</table>`).exec(html)?.[0] ?? '';
  return [...table.matchAll(/href="\/staff\/cases\/([A-Z0-9]{4}-[A-Z0-9]{4})"/g)].map((m) => m[1] ?? '');
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('staff work queues', () => {
  let t: TestApp;
  const staff = new Map<Role, SignedInStaff>();
  const signedIn = (role: Role) => present(staff.get(role), role).client;
  const member = (role: Role) => present(staff.get(role), role).member;
  const cases = () => t.services.cases.service;

  /** The demo borough's addresses, for cases with a real location and ward. */
  const places: { lat: number; lng: number; ward: string }[] = [];
  let postcode = '';
  const ref = {} as Record<'pothole' | 'streetlight' | 'drain' | 'formula' | 'closed' | 'enquiry' | 'referral' | 'flytip', string>;
  let personId = '';

  async function open(input: Partial<OpenCaseInput> & { type: string; title: string }): Promise<string> {
    const { case: opened } = await cases().open({ type: 'system' }, { source: 'staff', channel: 'phone', subject: { kind: 'anonymous' }, ...input });
    return opened.reference;
  }

  async function setCase(reference: string, changes: { due_at?: Date | null; opened_at?: Date; updated_at?: Date }) {
    await cases().repo.db.updateTable('cases').set(changes).where('reference', '=', reference).execute();
  }

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    for (const role of ['case-officer', 'team-leader', 'safeguarding-officer', 'content-editor', 'administrator'] as Role[]) {
      staff.set(role, await signInDemoStaff(t, role));
    }

    // Two points in different wards of the demo borough, and a real address for its postcode.
    for (const ward of await t.services.geo.wards()) {
      const lat = (ward.bbox.south + ward.bbox.north) / 2;
      const lng = (ward.bbox.west + ward.bbox.east) / 2;
      const at = await t.services.geo.wardAt(lat, lng);
      if (at && !places.some((p) => p.ward === at.code)) places.push({ lat, lng, ward: at.code });
      if (places.length === 2) break;
    }
    const [first, second] = [present(places[0], 'a first place'), present(places[1], 'a second place')];
    const address = present((await t.services.geo.searchAddresses('1', 1))[0], 'an address');
    postcode = address.postcode;

    // Highways: an urgent pothole with a person and a location, a streetlight elsewhere, a drain with no location.
    ref.pothole = await open({
      type: 'pothole',
      title: 'Deep pothole outside the school',
      priority: 'urgent',
      location: { lat: first.lat, lng: first.lng, postcode, uprn: address.uprn },
      subject: { kind: 'person', name: 'Alice Kettering', email: 'alice.kettering@example.com', phone: '07700 900111', postcode },
    });
    personId = present((await cases().repo.caseByReference(ref.pothole))?.person_id, 'the pothole’s person');
    ref.streetlight = await open({ type: 'streetlight-fault', title: 'Streetlight flickering', location: { lat: second.lat, lng: second.lng } });
    ref.drain = await open({ type: 'blocked-drain', title: 'Drain blocked by leaves', priority: 'high' });
    ref.formula = await open({ type: 'pothole', title: '=HYPERLINK("http://evil.example","click")', priority: 'low' });
    ref.closed = await open({ type: 'pothole', title: 'Pothole already reported', priority: 'normal' });
    await cases().changeStatus({ type: 'system' }, ref.closed, 'duplicate');
    await cases().changeStatus({ type: 'system' }, ref.formula, 'triage');
    await cases().assign(member('team-leader'), ref.streetlight, { assigneeId: member('case-officer').id });

    // The same person has asked customer services something, and has been referred to early help (restricted).
    ref.enquiry = await open({ type: 'general-enquiry', title: 'Question about bin day', subject: { kind: 'person', personId, name: '' } });
    ref.referral = await open({ type: 'early-help-referral', title: 'Family needs support', subject: { kind: 'person', personId, name: '' } });
    // Another team's work the officer is not in.
    ref.flytip = await open({ type: 'fly-tipping', title: 'Mattress dumped in the lane' });

    // Service levels: the pothole breached, the streetlight due soon, the drain far off.
    const now = Date.now();
    await setCase(ref.pothole, { due_at: new Date(now - DAY), opened_at: new Date(now - 10 * DAY), updated_at: new Date(now - 2 * HOUR) });
    await setCase(ref.streetlight, { due_at: new Date(now + 30 * 60_000), opened_at: new Date(now - 5 * DAY), updated_at: new Date(now - 3 * HOUR) });
    await setCase(ref.drain, { due_at: new Date(now + 40 * DAY), opened_at: new Date('2025-01-15T12:00:00Z'), updated_at: new Date(now - HOUR) });
    await setCase(ref.formula, { due_at: new Date(now + 30 * DAY), opened_at: new Date(now - 2 * DAY), updated_at: new Date(now - 4 * HOUR) });
  });
  after(async () => t?.close());

  test('the staff navigation has Cases for those who work on cases', async () => {
    const page = await signedIn('case-officer').get('/staff');
    assert.match(page.body, /<a class="govuk-service-navigation__link" href="\/staff\/cases"/);
    const editor = await signedIn('content-editor').get('/staff');
    assert.doesNotMatch(editor.body, /href="\/staff\/cases"/);
  });

  test('my work lists cases assigned to me; a team queue lists the team’s; unassigned leaves out assigned ones', async () => {
    const officer = signedIn('case-officer');
    const mine = await officer.get('/staff/cases');
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(referencesIn(mine.body), [ref.streetlight]);
    assert.match(mine.body, /<title>My work – Cases - /);
    assert.equal((mine.body.match(/<h1[\s>]/g) ?? []).length, 1, 'one h1');
    assert.match(mine.body, /href="\/staff\/cases\?team=highways"/, 'a link to the highways queue');
    assert.match(mine.body, /href="\/staff\/cases\?team=customer-services&amp;assignee=unassigned"/, 'a link to unassigned customer services cases');

    const team = referencesIn((await officer.get('/staff/cases?team=highways')).body);
    for (const r of [ref.pothole, ref.streetlight, ref.drain, ref.formula]) assert.ok(team.includes(r), `${r} is in the highways queue`);
    for (const r of [ref.enquiry, ref.referral, ref.flytip, ref.closed]) assert.ok(!team.includes(r), `${r} is not in the open highways queue`);

    const unassigned = referencesIn((await officer.get('/staff/cases?team=highways&assignee=unassigned')).body);
    assert.ok(unassigned.includes(ref.pothole));
    assert.ok(!unassigned.includes(ref.streetlight), 'the assigned streetlight is not unassigned');

    const customer = referencesIn((await officer.get('/staff/cases?team=customer-services')).body);
    assert.ok(customer.includes(ref.enquiry));
    assert.ok(!customer.includes(ref.pothole));
  });

  test('another team’s queue is refused, in the page and in the service', async () => {
    for (const team of ['early-help', 'environment', 'no-such-team']) {
      const res = await signedIn('case-officer').get(`/staff/cases?team=${team}`);
      assert.equal(res.statusCode, 403, team);
      assert.match(pageText(res.body), /You can only see your own teams’ queues/);
    }
    assert.equal((await signedIn('safeguarding-officer').get('/staff/cases?team=highways')).statusCode, 403);
    assert.equal((await signedIn('case-officer').get('/staff/cases/export.csv?team=early-help')).statusCode, 403);
    assert.equal((await signedIn('case-officer').get('/staff/cases/map?team=environment')).statusCode, 403);
    assert.throws(
      () => cases().queueFilters(member('case-officer'), { team: 'early-help' }),
      (e: { statusCode?: number }) => e.statusCode === 403,
    );
  });

  test('each filter narrows the list', async () => {
    const officer = signedIn('case-officer');
    const list = async (query: string) => {
      const res = await officer.get(`/staff/cases?team=highways&${query}`);
      assert.equal(res.statusCode, 200, query);
      return referencesIn(res.body);
    };
    const same = (actual: string[], expected: string[], what: string) => assert.deepEqual([...actual].sort(), [...expected].sort(), what);

    same(await list('type=pothole'), [ref.pothole, ref.formula], 'by type');
    same(await list('type=pothole&type=blocked-drain'), [ref.pothole, ref.formula, ref.drain], 'by two types');
    same(await list('type=pothole&status=triage'), [ref.formula], 'by status');
    same(await list('type=pothole&type=streetlight-fault&status=new'), [ref.pothole, ref.streetlight], 'a status shared by two types');
    same(await list('priority=urgent&priority=high'), [ref.pothole, ref.drain], 'by priority');
    same(await list(`ward=${places[0]?.ward}`), [ref.pothole], 'by ward');
    same(await list('assignee=me'), [ref.streetlight], 'assigned to me');
    same(await list(`assignee=${member('case-officer').id}`), [ref.streetlight], 'assigned to a named member');
    same(await list('from=2025-01-15&to=2025-01-15'), [ref.drain], 'opened on a day');
    assert.ok(!(await list('from=2025-01-16')).includes(ref.drain), 'opened after the drain');
    same(await list('state=closed'), [ref.closed], 'closed cases');

    const filtered = await officer.get('/staff/cases?team=highways&type=pothole&priority=urgent');
    assert.match(filtered.body, /class="moj-filter__tag" href="\/staff\/cases\?team=highways&amp;priority=urgent/, 'a tag removes the type filter');
    assert.match(pageText(filtered.body), /Selected filters/);
    assert.match(filtered.body, /<input class="govuk-checkboxes__input" id="status"[^>]*value="new"/, 'the statuses of the chosen type are offered');
  });

  test('the service level filter picks breached, due soon and on track cases', async () => {
    const officer = signedIn('case-officer');
    const sla = async (state: string) => referencesIn((await officer.get(`/staff/cases?team=highways&sla=${state}`)).body);
    assert.deepEqual(await sla('breached'), [ref.pothole]);
    assert.deepEqual(await sla('due-soon'), [ref.streetlight]);
    const onTrack = await sla('on-track');
    assert.ok(onTrack.includes(ref.drain) && onTrack.includes(ref.formula));
    assert.ok(!onTrack.includes(ref.pothole) && !onTrack.includes(ref.streetlight));
    const page = await officer.get('/staff/cases?team=highways');
    const row = (r: string | undefined) =>
      present(new RegExp(`<tr class="govuk-table__row">(?:(?!</tr>)[\\s\\S])*?${r}[\\s\\S]*?</tr>`).exec(page.body)?.[0], `row ${r}`);
    assert.match(row(ref.pothole), /govuk-tag--red">\s*Breached/);
    assert.match(row(ref.pothole), /govuk-tag--red">\s*Urgent/);
    assert.match(row(ref.streetlight), /govuk-tag--yellow">\s*Due soon/);
    assert.match(row(ref.drain), /govuk-tag--green">\s*On track/);
    assert.match(row(ref.drain), /govuk-tag--orange">\s*High/);
  });

  test('columns sort the list and say how it is sorted', async () => {
    const officer = signedIn('case-officer');
    const mine = [ref.pothole, ref.streetlight, ref.drain, ref.formula];
    const order = async (query: string) => referencesIn((await officer.get(`/staff/cases?team=highways&${query}`)).body).filter((r) => mine.includes(r));
    assert.deepEqual(await order('sort=reference&order=asc'), [...mine].sort());
    assert.deepEqual(await order('sort=reference&order=desc'), [...mine].sort().reverse());
    assert.deepEqual(await order('sort=priority'), [ref.pothole, ref.drain, ref.streetlight, ref.formula]);
    assert.deepEqual(await order('sort=due'), [ref.pothole, ref.streetlight, ref.formula, ref.drain]);
    assert.deepEqual(await order('sort=opened'), [ref.formula, ref.streetlight, ref.pothole, ref.drain], 'newest first');
    assert.deepEqual(await order('sort=opened&order=asc'), [ref.drain, ref.pothole, ref.streetlight, ref.formula]);
    assert.deepEqual(await order('sort=updated'), [ref.drain, ref.pothole, ref.streetlight, ref.formula], 'most recently updated first');

    const page = await officer.get('/staff/cases?team=highways&sort=priority');
    assert.match(
      page.body,
      /<th scope="col" class="govuk-table__header" aria-sort="ascending"><a class="govuk-link govuk-link--no-visited-state" href="\/staff\/cases\?team=highways&amp;sort=priority&amp;order=desc">Priority/,
    );
    assert.match(page.body, /aria-sort="none"><a[^>]*href="\/staff\/cases\?team=highways&amp;sort=due&amp;order=asc">Due/);
  });

  test('long lists come in pages of 25', async () => {
    const opened: string[] = [];
    for (let i = 0; i < 27; i++) opened.push(await open({ type: 'general-enquiry', title: `Enquiry number ${i + 1}` }));
    const officer = signedIn('case-officer');
    const total = (await cases().queue(member('case-officer'), { team: 'customer-services' })).total;
    assert.ok(total >= 28);
    const first = await officer.get('/staff/cases?team=customer-services&sort=reference&order=asc');
    assert.equal(referencesIn(first.body).length, 25);
    assert.match(pageText(first.body), new RegExp(`Showing 1 to 25 of ${total} cases`));
    assert.match(first.body, /class="govuk-pagination"/);
    assert.match(first.body, /href="\/staff\/cases\?team=customer-services&amp;sort=reference&amp;order=asc&amp;page=2"/);
    const second = await officer.get('/staff/cases?team=customer-services&sort=reference&order=asc&page=2');
    const both = [...referencesIn(first.body), ...referencesIn(second.body)];
    assert.equal(new Set(both).size, both.length, 'no case on both pages');
    if (total <= 50) for (const r of opened) assert.ok(both.includes(r), `${r} is on one of the two pages`);
    const beyond = await officer.get('/staff/cases?team=customer-services&page=99');
    assert.equal(beyond.statusCode, 200);
    assert.match(pageText(beyond.body), /There are no cases on this page/);
  });

  test('bad filter values give an error summary and keep the other filters', async () => {
    const officer = signedIn('case-officer');
    const res = await officer.get('/staff/cases?team=highways&priority=urgent&type=nonsense&from=2026-02-30&to=soon&sla=late&colour=red&page=x&sort=size');
    assert.equal(res.statusCode, 400);
    const text = pageText(res.body);
    assert.match(res.body, /<title>Error: /);
    assert.match(text, /There is a problem/);
    assert.match(text, /there is no case type “nonsense” you can see/);
    assert.match(text, /Opened from must be a real date/);
    assert.match(text, /Opened to must be a real date/);
    assert.match(text, /Select on track, due soon or breached/);
    assert.match(text, /This page has no filter called “colour”/);
    assert.match(text, /The page number must be a whole number/);
    assert.match(text, /Sort by due date, opened, last updated, priority or reference/);
    assert.match(res.body, /<a href="#from">/);
    assert.match(
      res.body,
      /<input class="govuk-checkboxes__input" id="priority-4" name="priority" type="checkbox" value="urgent" checked>/,
      'the priority filter is kept',
    );
    assert.match(res.body, /name="from" type="date" value="2026-02-30"/, 'the bad date is shown again to correct');
    assert.equal(referencesIn(res.body).length, 0, 'no list for filters that could not be read');

    const backwards = await officer.get('/staff/cases?team=highways&from=2026-03-02&to=2026-03-01');
    assert.equal(backwards.statusCode, 400);
    assert.match(pageText(backwards.body), /Opened to must be the same as or after opened from/);
    const assignee = await officer.get('/staff/cases?assignee=unassigned');
    assert.equal(assignee.statusCode, 400, 'my work is always mine');
    const stranger = await officer.get('/staff/cases?team=highways&assignee=00000000-0000-0000-0000-000000000000');
    assert.match(pageText(stranger.body), /Select who the cases are assigned to from the list/);
    const restrictedType = await officer.get('/staff/cases?team=highways&type=early-help-referral');
    assert.equal(restrictedType.statusCode, 400, 'a restricted type of another team is not a choice');
    const badStatus = await officer.get('/staff/cases?team=highways&type=pothole&status=answered');
    assert.match(pageText(badStatus.body), /Select statuses of the chosen case types/);
    const exported = await officer.get('/staff/cases/export.csv?team=highways&from=yesterday');
    assert.equal(exported.statusCode, 303, 'a download with bad filters goes back to the list');
  });

  test('the query reader turns dates into the council’s days and refuses repeated single values', () => {
    const choices: QueueChoices = { teams: [{ code: 'highways', name: 'Highways' }], types: [], wards: [], members: [], colleagues: [] };
    const parsed = parseQueueQuery(new URLSearchParams('team=highways&from=2026-07-01&to=2026-07-01'), choices, member('case-officer'), 'Europe/London');
    assert.deepEqual(parsed.errors, {});
    assert.equal(parsed.query.openedFrom?.toISOString(), '2026-06-30T23:00:00.000Z', 'midnight in summer time');
    assert.equal(parsed.query.openedTo?.toISOString(), '2026-07-01T23:00:00.000Z', 'to the end of that day');
    assert.equal(startOfLocalDay('2026-01-10', 'Europe/London').toISOString(), '2026-01-10T00:00:00.000Z');
    const twice = parseQueueQuery(new URLSearchParams('sla=breached&sla=due-soon'), choices, member('case-officer'), 'Europe/London');
    assert.match(twice.errors.sla ?? '', /Choose only one/);
    assert.equal(parseQueueQuery(new URLSearchParams(''), choices, member('case-officer'), 'Europe/London').query.mine, true);
  });

  test('restricted cases never appear in search or contact history outside their team', async () => {
    const officer = signedIn('case-officer');
    const byEmail = await officer.get('/staff/cases/search?q=Alice.Kettering%40example.com');
    assert.equal(byEmail.statusCode, 200);
    assert.match(pageText(byEmail.body), /Cases for the email address Alice.Kettering@example.com/);
    const found = referencesIn(byEmail.body, 'search-results');
    assert.ok(found.includes(ref.pothole) && found.includes(ref.enquiry));
    assert.ok(!found.includes(ref.referral), 'the early help referral is not found by highways');
    assert.doesNotMatch(byEmail.body, /Family needs support/);
    assert.deepEqual(referencesIn((await officer.get(`/staff/cases/search?q=${ref.referral}`)).body, 'search-results'), []);
    for (const q of ['Kettering', '07700%20900111'])
      assert.ok(!referencesIn((await officer.get(`/staff/cases/search?q=${q}`)).body, 'search-results').includes(ref.referral), q);

    const history = await officer.get(`/staff/cases/people/${personId}`);
    assert.equal(history.statusCode, 200);
    const seen = referencesIn(history.body, 'person-cases');
    assert.ok(seen.includes(ref.pothole) && seen.includes(ref.enquiry));
    assert.ok(!seen.includes(ref.referral));
    assert.match(pageText(history.body), /1 restricted case is not shown because it belongs to a team you are not in/);
    assert.match(pageText(history.body), /alice.kettering@example.com/);

    const safeguarding = signedIn('safeguarding-officer');
    assert.ok(referencesIn((await safeguarding.get('/staff/cases/search?q=alice.kettering@example.com')).body, 'search-results').includes(ref.referral));
    const full = await safeguarding.get(`/staff/cases/people/${personId}`);
    assert.ok(referencesIn(full.body, 'person-cases').includes(ref.referral));
    assert.doesNotMatch(full.body, /id="hidden-cases"/);
    assert.ok(referencesIn((await safeguarding.get('/staff/cases?team=early-help')).body).includes(ref.referral));
    for (const team of ['highways', 'customer-services'])
      assert.ok(!referencesIn((await officer.get(`/staff/cases?team=${team}`)).body).includes(ref.referral), `not in ${team}`);

    assert.equal((await officer.get('/staff/cases/people/not-a-person')).statusCode, 404);
    assert.equal((await officer.get('/staff/cases/people/00000000-0000-0000-0000-000000000000')).statusCode, 404);
  });

  test('search says what it searched for and links each person to their contact history', async () => {
    const officer = signedIn('case-officer');
    const res = await officer.get(`/staff/cases/search?q=${encodeURIComponent(postcode.toLowerCase().replace(' ', ''))}`);
    assert.equal(res.statusCode, 200);
    assert.match(pageText(res.body), new RegExp(`Cases at postcode ${postcode}`));
    assert.ok(referencesIn(res.body, 'search-results').includes(ref.pothole));
    assert.match(res.body, new RegExp(`href="/staff/cases/people/${personId}">Alice Kettering`));
    const byReference = await officer.get(`/staff/cases/search?q=${ref.drain.replace('-', '').toLowerCase()}`);
    assert.match(pageText(byReference.body), new RegExp(`Case with reference ${ref.drain}`));
    assert.deepEqual(referencesIn(byReference.body, 'search-results'), [ref.drain]);
    const empty = await officer.get('/staff/cases/search');
    assert.equal(empty.statusCode, 200);
    assert.match(empty.body, /<title>Search cases - /);
    const tooLong = await officer.get(`/staff/cases/search?q=${'x'.repeat(201)}`);
    assert.equal(tooLong.statusCode, 400);
    assert.match(pageText(tooLong.body), /Search for 200 characters or fewer/);
  });

  test('an officer may take cases but not give them to someone else; a team leader may', async () => {
    const officer = signedIn('case-officer');
    const leader = member('team-leader');
    await officer.get('/staff/cases?team=highways');
    const refused = await officer.post('/staff/cases/bulk', { cases: [ref.pothole, ref.drain], action: 'assign', assignTo: leader.id, back: 'team=highways' });
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, '/staff/cases?team=highways');
    const shown = await officer.follow(refused);
    assert.match(pageText(shown.body), /Only team leaders can assign cases to someone else\. You can assign cases to yourself\. No cases were changed\./);
    assert.equal((await cases().repo.caseByReference(ref.pothole))?.assignee_id, null, 'nothing changed');
    await assert.rejects(cases().assign(member('case-officer'), ref.pothole, { assigneeId: leader.id }), (e: { statusCode?: number }) => e.statusCode === 403);

    const taken = await officer.follow(
      await officer.post('/staff/cases/bulk', { cases: [ref.drain], action: 'assign', assignTo: 'me', back: 'team=highways' }),
    );
    assert.match(pageText(taken.body), /1 case assigned to you/);
    assert.equal((await cases().repo.caseByReference(ref.drain))?.assignee_id, member('case-officer').id);

    const teamLeader = signedIn('team-leader');
    await teamLeader.get('/staff/cases?team=highways');
    const given = await teamLeader.follow(
      await teamLeader.post('/staff/cases/bulk', {
        cases: [ref.pothole, ref.drain, ref.referral],
        action: 'assign',
        assignTo: member('case-officer').id,
        back: 'team=highways&page=1',
      }),
    );
    const text = pageText(given.body);
    assert.ok(text.includes(`1 case assigned to ${member('case-officer').name}`), text);
    assert.match(text, new RegExp(`${ref.drain}\\s*: Already assigned to`));
    assert.match(text, new RegExp(`${ref.referral}\\s*: Case not found`), 'a restricted case of another team is not found');
    assert.match(given.body, /govuk-notification-banner--success/);
    assert.equal((await cases().repo.caseByReference(ref.pothole))?.assignee_id, member('case-officer').id);
    const events = await cases().repo.events(present((await cases().repo.caseByReference(ref.pothole))?.id, 'pothole id'));
    assert.ok(
      events.some((e) => e.kind === 'assigned'),
      'each case has its own timeline entry',
    );

    // Put them back for the other tests.
    await cases().assign(leader, ref.pothole, { assigneeId: null });
    await cases().assign(leader, ref.drain, { assigneeId: null });

    const tooMany = await teamLeader.post('/staff/cases/bulk', {
      cases: Array.from({ length: 101 }, (_, i) => `AAAA-${String(i).padStart(4, '0')}`),
      action: 'assign',
      assignTo: 'me',
      back: 'team=highways',
    });
    assert.match(pageText((await teamLeader.follow(tooMany)).body), /Select 100 cases or fewer at a time/);
  });

  test('a bulk status change moves the cases whose workflow allows it and says why the others were skipped', async () => {
    const officer = signedIn('case-officer');
    await officer.get('/staff/cases?team=highways&type=pothole');
    assert.match(officer.lastHtml, /<option value="works-ordered">Repair ordered<\/option>/, 'the statuses of the listed types are offered');
    const res = await officer.post('/staff/cases/bulk', {
      cases: [ref.formula, ref.pothole, ref.streetlight],
      action: 'status',
      status: 'works-ordered',
      back: 'team=highways&type=pothole',
    });
    const page = await officer.follow(res);
    const text = pageText(page.body);
    assert.match(text, /1 case moved to Repair ordered/);
    assert.match(text, new RegExp(`${ref.pothole}\\s*: A pothole case cannot move from New to Repair ordered`));
    assert.match(text, new RegExp(`${ref.streetlight}\\s*: Street light fault cases have no status “Repair ordered”`));
    assert.equal((await cases().repo.caseByReference(ref.formula))?.status, 'works-ordered');
    assert.equal((await cases().repo.caseByReference(ref.pothole))?.status, 'new');

    const none = await officer.follow(await officer.post('/staff/cases/bulk', { cases: [ref.formula], action: 'status', status: 'works-ordered', back: '' }));
    assert.match(pageText(none.body), /No cases were moved to Repair ordered/);
    assert.match(pageText(none.body), /Already Repair ordered/);
    const unknown = await officer.follow(await officer.post('/staff/cases/bulk', { cases: [ref.formula], action: 'status', status: 'vanished', back: '' }));
    assert.match(pageText(unknown.body), /Choose a status from the list/);
    const nothing = await officer.follow(await officer.post('/staff/cases/bulk', { action: 'status', status: 'triage', back: '' }));
    assert.match(pageText(nothing.body), /Select at least one case/);
    await cases().changeStatus({ type: 'system' }, ref.formula, 'triage');
  });

  test('the CSV download holds the list, makes formulas harmless and is audited', async () => {
    const officer = signedIn('case-officer');
    const res = await officer.get('/staff/cases/export.csv?team=highways&type=pothole&sort=reference');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="cases-highways-\d{4}-\d{2}-\d{2}\.csv"$/);
    const [header, ...rows] = parseCsv(res.body.replace(/^\uFEFF/, ''));
    assert.deepEqual(header, [
      'reference',
      'type',
      'title',
      'status',
      'priority',
      'team',
      'assignee_name',
      'ward',
      'postcode',
      'opened',
      'due',
      'sla_state',
      'closed',
    ]);
    const cell = (row: string[] | undefined, name: string) => row?.[present(header, 'header').indexOf(name)];
    const byRef = new Map(rows.map((r) => [r[0], r]));
    assert.deepEqual([...byRef.keys()], [ref.pothole, ref.formula].sort(), 'in the order the list was sorted');
    const byDue = parseCsv((await officer.get('/staff/cases/export.csv?team=highways&sort=due&order=desc')).body.replace(/^\uFEFF/, ''));
    const dueOrder = byDue.slice(1).map((r) => r[0] ?? '');
    assert.deepEqual(
      dueOrder.filter((r) => [ref.pothole, ref.streetlight, ref.drain, ref.formula].includes(r)),
      [ref.drain, ref.formula, ref.streetlight, ref.pothole],
    );
    const pothole = byRef.get(ref.pothole);
    assert.equal(cell(pothole, 'type'), 'Pothole');
    assert.equal(cell(pothole, 'title'), 'Deep pothole outside the school');
    assert.equal(cell(pothole, 'team'), 'Highways and street lighting');
    assert.equal(cell(pothole, 'sla_state'), 'breached');
    assert.equal(cell(pothole, 'priority'), 'urgent');
    assert.equal(cell(pothole, 'postcode'), postcode);
    assert.match(present(cell(pothole, 'ward'), 'ward'), /\w/);
    assert.match(present(cell(pothole, 'opened'), 'opened'), /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(cell(byRef.get(ref.formula), 'title'), `'=HYPERLINK("http://evil.example","click")`);
    assert.ok(res.body.includes(`"'=HYPERLINK(""http://evil.example"",""click"")"`), 'quoted per RFC 4180');

    const mine = parseCsv((await officer.get('/staff/cases/export.csv')).body.replace(/^\uFEFF/, ''));
    assert.equal(mine[1]?.[0], ref.streetlight);
    assert.equal(mine[1]?.[6], member('case-officer').name, 'the assignee is named');

    const audited = await t.platform.database.db
      .withTables<{ audit_events: { action: string; actor_id: string | null; details: unknown } }>()
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'cases.exported')
      .where('actor_id', '=', member('case-officer').id)
      .execute();
    assert.ok(audited.length >= 2, 'each download is audited');
    assert.ok(
      audited.some((a) => {
        const d = a.details as { filters?: string; rows?: number };
        return d.rows === 2 && d.filters === 'team=highways&type=pothole&sort=reference';
      }),
      'with the filters and the number of rows',
    );
  });

  test('saved views are listed, opened and deleted, and only by their owner', async () => {
    const officer = signedIn('case-officer');
    await officer.get('/staff/cases?team=highways&priority=urgent');
    const saved = await officer.post('/staff/cases/views', { name: '  Urgent   highways ', query: 'team=highways&priority=urgent&page=3&bogus=1' });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/staff/cases?team=highways&priority=urgent');
    const page = await officer.follow(saved);
    assert.match(pageText(page.body), /Saved view “Urgent highways” added/);
    assert.match(
      page.body,
      /<a class="govuk-link govuk-!-margin-left-2" href="\/staff\/cases\?team=highways&amp;priority=urgent" aria-current="page">Urgent highways<\/a>/,
    );
    const views = await cases().repo.savedViews(member('case-officer').id);
    const view = present(
      views.find((v) => v.name === 'Urgent highways'),
      'the saved view',
    );

    for (const [name, message] of [
      ['', 'Enter a name for the view'],
      ['x'.repeat(61), 'The name must be 60 characters or fewer'],
    ] as const) {
      const bad = await officer.post('/staff/cases/views', { name, query: 'team=highways' });
      assert.equal(bad.statusCode, 400);
      assert.match(pageText(bad.body), new RegExp(`There is a problem.*${message}`));
      assert.match(bad.body, /<a href="#viewName">/);
    }
    assert.equal((await officer.post('/staff/cases/views', { name: 'Someone else’s', query: 'team=early-help' })).statusCode, 403);

    const leader = signedIn('team-leader');
    await leader.get('/staff/cases');
    assert.doesNotMatch(leader.lastHtml, /Urgent highways/, 'views are per staff member');
    assert.equal((await leader.post(`/staff/cases/views/${view.id}/delete`, { back: '' })).statusCode, 404);
    assert.ok(
      (await cases().repo.savedViews(member('case-officer').id)).some((v) => v.id === view.id),
      'still there',
    );

    await officer.get('/staff/cases');
    const deleted = await officer.post(`/staff/cases/views/${view.id}/delete`, { back: 'team=highways' });
    assert.equal(deleted.headers.location, '/staff/cases?team=highways');
    assert.match(pageText((await officer.follow(deleted)).body), /Saved view “Urgent highways” deleted/);
    assert.ok(!(await cases().repo.savedViews(member('case-officer').id)).some((v) => v.id === view.id));
    assert.equal((await officer.post('/staff/cases/views/not-an-id/delete', {})).statusCode, 404);
  });

  test('the map draws the council’s area and its located open cases, and lists them too', async () => {
    const officer = signedIn('case-officer');
    const res = await officer.get('/staff/cases/map?team=highways');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<title>Map of open cases – Highways and street lighting - /);
    assert.equal((res.body.match(/<h1[\s>]/g) ?? []).length, 1);
    const listed = referencesIn(res.body, 'map-cases');
    assert.ok(listed.includes(ref.pothole) && listed.includes(ref.streetlight));
    assert.ok(!listed.includes(ref.drain), 'a case with no location is not on the map');
    const svg = present(/<svg[^>]*id="case-map"[\s\S]*?<\/svg>/.exec(res.body)?.[0], 'the map');
    assert.match(svg, /<path d="M[\d.]+ [\d.]+L/, 'the boundary and wards are drawn');
    assert.match(svg, new RegExp(`<a href="/staff/cases/${ref.pothole}" aria-label="${ref.pothole}: Deep pothole outside the school, Breached">`));
    assert.match(svg, /<title>/);
    assert.match(svg, /fill="#d4351c"/, 'the breached case is red');
    assert.doesNotMatch(res.body, /<script(?! type="module" src="\/assets\/js\/borough\.mjs")/, 'no script of its own');
    const closed = await officer.get('/staff/cases/map?team=highways&state=closed');
    assert.match(pageText(closed.body), /The map shows open cases only/);
    const bad = await officer.get('/staff/cases/map?team=highways&ward=nowhere');
    assert.equal(bad.statusCode, 400);
    assert.match(pageText(bad.body), /Select wards from the list/);
  });

  test('the map drawing keeps the area’s shape and places cases inside it', () => {
    const square = {
      type: 'Polygon' as const,
      coordinates: [
        [
          [-2, 53],
          [-1.9, 53],
          [-1.9, 53.1],
          [-2, 53.1],
          [-2, 53],
        ] as [number, number][],
      ],
    };
    const bbox = { south: 53, west: -2, north: 53.1, east: -1.9 };
    const drawn = present(drawMap({ geometry: square, bbox }, [], []), 'a drawing');
    // A tenth of a degree of longitude is about 0.6 of a tenth of latitude at 53°N.
    assert.ok(Math.abs(drawn.width - 20 * 2 - (drawn.height - 40) * Math.cos((53.05 * Math.PI) / 180)) < 2, 'the longitude is scaled');
    assert.match(present(drawn.boundary, 'boundary'), /^M20 /);
    assert.equal(drawMap(null, [], []), null, 'nothing to draw');
  });

  test('staff without cases:work are refused on every page and action', async () => {
    for (const role of ['content-editor', 'administrator'] as Role[]) {
      const client = signedIn(role);
      for (const url of [
        '/staff/cases',
        '/staff/cases?team=highways',
        '/staff/cases/search?q=pothole',
        '/staff/cases/map',
        '/staff/cases/export.csv',
        `/staff/cases/people/${personId}`,
      ]) {
        const res = await client.get(url);
        assert.equal(res.statusCode, 403, `${role} ${url}`);
        assert.doesNotMatch(res.body, /Deep pothole|Alice Kettering/);
      }
      await client.get('/staff');
      const token = client.csrf();
      const posts: [string, Record<string, string | string[]>][] = [
        ['/staff/cases/bulk', { cases: [ref.pothole], action: 'assign', assignTo: 'me' }],
        ['/staff/cases/views', { name: 'Mine', query: '' }],
        ['/staff/cases/views/00000000-0000-0000-0000-000000000000/delete', {}],
      ];
      for (const [url, form] of posts) assert.equal((await client.post(url, form, { csrf: token })).statusCode, 403, `${role} POST ${url}`);
    }
    // The same rules hold below the pages.
    const editor = member('content-editor');
    const forbidden = (e: { statusCode?: number }) => e.statusCode === 403;
    await assert.rejects(cases().queue(editor, {}), forbidden);
    await assert.rejects(cases().search(editor, 'pothole'), forbidden);
    await assert.rejects(cases().contactHistory(editor, personId), forbidden);
    assert.equal((await cases().repo.caseByReference(ref.pothole))?.assignee_id, null);
  });

  test('pages fit a phone: tables scroll inside their own pane, the map scales', async () => {
    const officer = signedIn('case-officer');
    const queue = await officer.get('/staff/cases?team=highways');
    assert.match(queue.body, /<meta name="viewport" content="width=device-width/);
    assert.match(queue.body, /<div class="moj-scrollable-pane" tabindex="0" role="region" aria-label="[^"]+">\s*<table class="govuk-table[^"]*" id="cases">/);
    const map = await officer.get('/staff/cases/map?team=highways');
    assert.match(map.body, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+" width="100%"/);
  });
});
