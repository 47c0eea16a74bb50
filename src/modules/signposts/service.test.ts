import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import type { StaffMember } from '#modules/account/index';
import type { Purpose, SignpostsService } from './service.js';
import { nhsNumber } from '../../../test/support/identifiers.js';

const SOCIAL_CARE_HEADER =
  'person_id,forename,surname,former_surname,known_as,date_of_birth,gender,address,postcode,uprn,nhs_number,episode_id,episode_type,start_date,end_date,summary,status,social_worker,social_worker_contact,household_id,parent_person_id';
const socialCare = (rows: string[]) => [SOCIAL_CARE_HEADER, ...rows].join('\n');
const SCHOOLS_HEADER =
  'pupil_id,legal_forename,preferred_forename,legal_surname,dob,gender,address,postcode,upn,event_id,event,from,to,detail,state,designated_safeguarding_lead,school_phone';
const POLICE_HEADER =
  'nominal_id,forenames,surname,alias,dob,gender,address,postcode,ni_number,occurrence,category,date,summary,status,officer,officer_contact';

const purpose: Purpose = { reference: 'REF-1001', reason: 'Strategy discussion for a referral received today' };

describe('Signposts', () => {
  let t: TestApp;
  let service: SignpostsService;
  const staff: Record<string, StaffMember> = {};
  const ELLIE_NHS = nhsNumber(943476591);
  let cscText = '';

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    service = t.services.signposts.service;
    for (const role of ['safeguarding-officer', 'safeguarding-lead', 'information-governance', 'case-officer']) {
      const member = await t.services.account.staff.findMemberByEmail(`${role}@kingsmere.example`);
      assert.ok(member, role);
      staff[role] = member;
    }
    cscText = socialCare([
      `CSC-1,Ellie,Hartley,,,2015-03-04,F,"14 Mill Lane, Kingsmere",KM1 2AB,100012345678,${ELLIE_NHS},EP-1,Child in need plan,2025-01-10,,Plan agreed with family,open,Sam Okoro,0161 496 0101,H-1,CSC-3`,
      `CSC-1,Ellie,Hartley,,,2015-03-04,F,"14 Mill Lane, Kingsmere",KM1 2AB,100012345678,${ELLIE_NHS},EP-2,Section 47 enquiry,2024-06-01,2024-07-01,Enquiry closed,closed,Sam Okoro,0161 496 0101,H-1,CSC-3`,
      `CSC-2,Max,Hartley,,,2015-03-04,M,"14 Mill Lane, Kingsmere",KM1 2AB,100012345678,,EP-3,Child in need plan,2025-01-10,,Plan agreed,open,Sam Okoro,0161 496 0101,H-1,CSC-3`,
      `CSC-3,Karen,Hartley,Doyle,,1988-11-20,F,"14 Mill Lane, Kingsmere",KM1 2AB,,,,,,,,,,,H-1,`,
      `CSC-4,Broken,Row,,,31/02/2015,F,,KM99,,1234567890,EP-9,Child in need plan,2025-01-10,,x,open,,,,`,
    ]);
    const first = await service.ingest({
      source: 'childrens-social-care',
      format: 'csv',
      fileName: 'csc.csv',
      via: 'command line',
      loadedBy: 'test',
      text: cscText,
    });
    assert.equal(first.status, 'loaded');
    assert.equal(first.added, 3);
  });
  after(async () => t.close());

  const db = () => t.platform.database.db as never as import('kysely').Kysely<import('./migrations.js').SignpostsTables>;
  const personOf = async (source: string, recordId: string) =>
    String(
      (
        await db()
          .selectFrom('signposts_records')
          .select('person_id')
          .where('source_code', '=', source)
          .where('record_id', '=', recordId)
          .executeTakeFirstOrThrow()
      ).person_id,
    );

  test('a bad row is reported with its row, column and reason, and the rest of the extract loads', async () => {
    const loads = await service.recentLoads(10);
    const load = loads.find((l) => l.file_name === 'csc.csv');
    assert.ok(load, 'the load is listed');
    assert.equal(load.rejected, 1);
    const messages = load.problems.map((p) => `${p.row} ${p.column}: ${p.message}`);
    assert.ok(
      messages.some((m) => /^6 date_of_birth: "31\/02\/2015" is not a date of birth/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /postcode: "KM99" is not a UK postcode/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /nhs_number: .*not a valid NHS number/.test(m)),
      messages.join('\n'),
    );
    const { csv } = await service.loadProblems(staff['information-governance'] as StaffMember, String(load.id));
    assert.match(csv, /^\uFEFFrow,record_id,column,problem\r\n6,CSC-4,date_of_birth,/);
  });

  test('twins at the same address are not merged: the pair waits for review', async () => {
    assert.notEqual(await personOf('childrens-social-care', 'CSC-1'), await personOf('childrens-social-care', 'CSC-2'));
  });

  test('loading the same extract again changes nothing', async () => {
    const before = await db().selectFrom('signposts_records').select(['id', 'person_id', 'content_hash']).orderBy('id').execute();
    const again = await service.ingest({
      source: 'childrens-social-care',
      format: 'csv',
      fileName: 'csc.csv',
      via: 'command line',
      loadedBy: 'test',
      text: cscText,
    });
    assert.equal(again.status, 'unchanged');
    assert.equal(again.added + again.changed, 0);
    // The same records in another order are a different file, but still change nothing.
    const reordered = cscText.split('\n');
    const shuffled = await service.ingest({
      source: 'childrens-social-care',
      format: 'csv',
      fileName: 'csc-2.csv',
      via: 'command line',
      loadedBy: 'test',
      text: [reordered[0], ...reordered.slice(1).reverse()].join('\n'),
    });
    assert.equal(shuffled.status, 'loaded');
    assert.equal(shuffled.records, 3);
    const afterRows = await db().selectFrom('signposts_records').select(['id', 'person_id', 'content_hash']).orderBy('id').execute();
    assert.deepEqual(afterRows, before);
  });

  test('a misspelt record from another agency joins the same person, and an unreadable extract leaves everything as it was', async () => {
    const schools = [
      SCHOOLS_HEADER,
      'P-77,Elly,,Hartly,04/03/2015,Female,"14 Mill Lane, Kingsmere",KM1 2AB,A123456789012,E-1,Attendance below 90%,2025-09-01,,Attendance 84% this term,open,Ms Rahman,0161 496 0222',
    ].join('\n');
    const loaded = await service.ingest({ source: 'schools', text: schools, format: 'csv', fileName: 'schools.csv', via: 'api', loadedBy: 'School census' });
    assert.equal(loaded.added, 1);
    assert.equal(await personOf('schools', 'P-77'), await personOf('childrens-social-care', 'CSC-1'));
    const again = await service.ingest({ source: 'schools', text: schools, format: 'csv', fileName: 'schools.csv', via: 'api', loadedBy: 'School census' });
    assert.equal(again.status, 'unchanged');
    const count = async () =>
      (
        await db()
          .selectFrom('signposts_records')
          .select(sql<number>`count(*)::int`.as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    const broken = await service.ingest({
      source: 'schools',
      text: '[{"pupil_id": ',
      format: 'json',
      fileName: 'bad.json',
      via: 'api',
      loadedBy: 'School census',
    });
    assert.equal(broken.status, 'failed');
    assert.match(broken.failure ?? '', /could not be read/);
    assert.equal(await count(), before);
  });

  test('searching needs a purpose, finds people despite a misspelling, and is audited with the purpose', async () => {
    const officer = staff['safeguarding-officer'] as StaffMember;
    await assert.rejects(service.search(officer, undefined, { name: 'Ellie Hartley' }), /Say what you are working on/);
    const results = await service.search(officer, purpose, { name: 'Elie Hartley', dob: '2015-03-04' });
    const ellie = await personOf('childrens-social-care', 'CSC-1');
    assert.equal(results[0]?.personId, ellie);
    assert.ok((results[0]?.versions.length ?? 0) >= 2, 'the name as each agency has it');
    const audit = await sql<{
      action: string;
      reason: string;
    }>`SELECT action, reason FROM audit_events WHERE action = 'signposts.searched' ORDER BY id DESC LIMIT 1`.execute(t.platform.database.db);
    assert.equal(audit.rows[0]?.reason, `${purpose.reference}: ${purpose.reason}`);
  });

  test('only safeguarding roles reach Signposts', async () => {
    await assert.rejects(service.search(staff['case-officer'] as StaffMember, purpose, { name: 'Ellie Hartley' }), { statusCode: 403 });
    await assert.rejects(service.person(staff['information-governance'] as StaffMember, purpose, '1'), { statusCode: 403 });
    await assert.rejects(service.reviewQueue(staff['case-officer'] as StaffMember), { statusCode: 403 });
    await assert.rejects(service.loadProblems(staff['safeguarding-officer'] as StaffMember, '1'), { statusCode: 403 });
  });

  test('a person view brings every visible record, the timeline, who to contact and the household together', async () => {
    const ellie = await personOf('childrens-social-care', 'CSC-1');
    const view = await service.person(staff['safeguarding-lead'] as StaffMember, purpose, ellie);
    assert.deepEqual(view.records.map((r) => r.agency).sort(), ["Children's social care", 'Education']);
    assert.deepEqual(
      view.timeline.map((e) => e.type),
      ['Attendance below 90%', 'Child in need plan', 'Section 47 enquiry'],
    );
    assert.equal(view.contacts[0]?.professional, 'Ms Rahman', 'open involvement, most recent first');
    const related = view.related.map((r) => `${r.name} (${r.relation})`).sort();
    assert.deepEqual(related, ['Karen Hartley (Parent or carer)', 'Max Hartley (Same household)']);
    assert.ok(
      view.pendingLinks.some((l) => l.reason === 'possible twins or siblings'),
      JSON.stringify(view.pendingLinks),
    );
  });

  test('sensitive fields are hidden from roles without them, and a restricted source needs break-glass, which tells information governance', async () => {
    await service.ingest({
      source: 'police',
      format: 'csv',
      fileName: 'police.csv',
      via: 'command line',
      loadedBy: 'test',
      text: [
        POLICE_HEADER,
        'N-5,Karen,Doyle,Karen Hartley,20/11/1988,F,"14 Mill Lane, Kingsmere",KM1 2AB,,OC-1,Domestic abuse incident,2025-10-02,Neighbour called police,open,PC Adams,0161 496 0333',
      ].join('\n'),
    });
    const karen = await personOf('childrens-social-care', 'CSC-3');
    assert.equal(await personOf('police', 'N-5'), karen, 'maiden name and date of birth link the police record');
    const officer = staff['safeguarding-officer'] as StaffMember;
    const seen = await service.person(officer, purpose, karen);
    assert.deepEqual(seen.hiddenSources, [{ agency: 'Police', count: 1 }]);
    assert.ok(!seen.timeline.some((e) => e.agency === 'Police'), 'no police events');
    const ellie = await service.person(officer, purpose, await personOf('childrens-social-care', 'CSC-1'));
    assert.ok(
      ellie.timeline.filter((e) => e.agency === "Children's social care").every((e) => e.summary === null),
      'summaries are sensitive',
    );
    await assert.rejects(service.breakGlass(officer, purpose, karen, 'short'), { statusCode: 400 });
    await service.breakGlass(officer, purpose, karen, 'Police information needed for the strategy meeting today');
    const opened = await service.person(officer, purpose, karen);
    assert.ok(opened.breakGlass, 'break-glass is on');
    assert.ok(
      opened.records.some((r) => r.agency === 'Police' && r.viaBreakGlass),
      JSON.stringify(opened.records),
    );
    const mail = (await t.services.notifier.listMessages({ limit: 50 })).find((m) => m.recipient === 'information.governance@kingsmere.example');
    assert.ok(mail, 'the information governance lead is told');
  });

  test('a decision on a pair overrides the model, is audited, and survives a full re-link', async () => {
    const officer = staff['safeguarding-officer'] as StaffMember;
    const [a, b] = await Promise.all(
      ['CSC-1', 'CSC-2'].map(async (id) =>
        String((await db().selectFrom('signposts_records').select('id').where('record_id', '=', id).executeTakeFirstOrThrow()).id),
      ),
    );
    const queue = await service.reviewQueue(officer);
    assert.equal(queue.total, queue.pairs.length, 'the count is of the pairs the officer may see');
    assert.ok(
      queue.pairs.some((p) => p.reason === 'possible twins or siblings'),
      JSON.stringify(queue),
    );
    const pair = await service.pairForReview(officer, a as string, b as string);
    const total = pair.explanation.priorWeight + pair.explanation.fields.reduce((s, f) => s + f.weight, 0);
    assert.ok(Math.abs(total - pair.explanation.totalWeight) < 1e-9, 'the weights add up');
    await service.decide(officer, purpose, a as string, b as string, 'rejected', 'Twins: different NHS numbers');
    await service.relink();
    assert.notEqual(await personOf('childrens-social-care', 'CSC-1'), await personOf('childrens-social-care', 'CSC-2'));
    assert.equal(await personOf('schools', 'P-77'), await personOf('childrens-social-care', 'CSC-1'), 'the re-link keeps real links');
    const audit = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE action = 'signposts.link-rejected'`.execute(
      t.platform.database.db,
    );
    assert.equal(audit.rows[0]?.n, 1);
  });

  test('finds a person by the name an agency says they are known by', async () => {
    const loaded = await service.ingest({
      source: 'childrens-social-care',
      format: 'csv',
      fileName: 'csc-known-as.csv',
      via: 'command line',
      loadedBy: 'test',
      text: socialCare([
        `CSC-5,Tyrone,Baptiste-Lowe,,Marcus Reid,2013-08-19,M,"3 Canal Street, Kingsmere",KM1 4CD,,,EP-5,Early help assessment,2025-02-01,,Family support,open,Sam Okoro,0161 496 0101,,`,
      ]),
    });
    assert.equal(loaded.added, 1, JSON.stringify(loaded));
    const results = await service.search(staff['safeguarding-officer'] as StaffMember, purpose, { name: 'Marcus Reid' });
    assert.equal(results[0]?.personId, await personOf('childrens-social-care', 'CSC-5'));
  });

  test('records past their source retention are purged', async () => {
    await sql`UPDATE signposts_records SET last_seen_at = now() - interval '3000 days' WHERE source_code = 'schools'`.execute(t.platform.database.db);
    const purged = await service.purgeExpired();
    assert.deepEqual(purged, { schools: 1 });
  });

  test('a later extract updates a changed record in place, replaces its events, and adds the new ones', async () => {
    const idOf = async (recordId: string) =>
      (await db().selectFrom('signposts_records').select('id').where('record_id', '=', recordId).executeTakeFirstOrThrow()).id;
    const eventsOf = async (recordId: string) =>
      (
        await db()
          .selectFrom('signposts_events')
          .innerJoin('signposts_records', 'signposts_records.id', 'signposts_events.record_pk')
          .select('signposts_events.summary')
          .where('signposts_records.record_id', '=', recordId)
          .execute()
      ).map((e) => e.summary);
    const load = (fileName: string, rows: string[]) =>
      service.ingest({ source: 'schools', text: [SCHOOLS_HEADER, ...rows].join('\n'), format: 'csv', fileName, via: 'api', loadedBy: 'School census' });
    const first = await load('schools-1.csv', [
      'P-90,Maisie,,Brook,21/06/2016,Female,"8 Quarry Close, Kingsmere",KM3 1EF,C123456789012,E-9,Attendance below 90%,2025-09-01,,Attendance 86% this term,open,Ms Rahman,0161 496 0222',
    ]);
    assert.equal(first.added, 1);
    const p90 = await idOf('P-90');
    const maisie = await personOf('schools', 'P-90');
    const loaded = await load('schools-2.csv', [
      'P-90,Maisie,Mai,Brook,21/06/2016,Female,"8 Quarry Close, Kingsmere",KM3 1EF,C123456789012,E-10,Fixed-term exclusion,2025-11-03,2025-11-05,Excluded for three days,closed,Ms Rahman,0161 496 0222',
      'P-91,Zoë,,O\'Kafor-Ní Bhriain,12/07/2013,Female,"3 Weir Road, Kingsmere",KM2 4CD,B123456789012,E-3,Attendance below 90%,2025-09-01,,Attendance 88% this term,open,Mr Singh,0161 496 0223',
    ]);
    assert.equal(loaded.status, 'loaded');
    assert.equal(loaded.changed, 1, 'P-90 changed');
    assert.equal(loaded.added, 1, 'P-91 is new');
    assert.equal(await idOf('P-90'), p90, 'the changed record keeps its id');
    assert.equal(await personOf('schools', 'P-90'), maisie, 'and its person');
    const updated = await db().selectFrom('signposts_records').select('aliases').where('record_id', '=', 'P-90').executeTakeFirstOrThrow();
    assert.ok(
      Array.isArray(updated.aliases) && JSON.stringify(updated.aliases).includes('Mai'),
      `the new preferred name is stored: ${JSON.stringify(updated.aliases)}`,
    );
    assert.deepEqual(await eventsOf('P-90'), ['Excluded for three days']);
    assert.deepEqual(await eventsOf('P-91'), ['Attendance 88% this term']);
    const zoe = await db().selectFrom('signposts_records').select(['forenames', 'surname']).where('record_id', '=', 'P-91').executeTakeFirstOrThrow();
    assert.deepEqual(zoe, { forenames: 'Zoë', surname: "O'Kafor-Ní Bhriain" }, 'names are stored exactly as sent');
    assert.notEqual(await personOf('schools', 'P-91'), maisie);
  });
  test('two loads of one source at the same time both land: the later is linked again against what the first wrote', async () => {
    const load = (fileName: string, rows: string[]) =>
      service.ingest({ source: 'schools', text: [SCHOOLS_HEADER, ...rows].join('\n'), format: 'csv', fileName, via: 'api', loadedBy: 'School census' });
    const ava =
      'P-95,Ava,,Lindqvist,02/02/2014,Female,"5 Orchard Row, Kingsmere",KM4 2GH,D123456789012,E-20,Attendance below 90%,2025-09-01,,Attendance 82% this term,open,Ms Rahman,0161 496 0222';
    const [first, second] = await Promise.all([
      load('schools-a.csv', [ava]),
      load('schools-b.csv', [
        ava,
        'P-96,Jacob,,Lindqvist,30/11/2011,Male,"5 Orchard Row, Kingsmere",KM4 2GH,K907654321098,E-21,Attendance below 90%,2025-09-01,,Attendance 85% this term,open,Ms Rahman,0161 496 0222',
      ]),
    ]);
    assert.deepEqual([first.status, second.status], ['loaded', 'loaded']);
    assert.equal(first.added + second.added, 2, 'Ava once, Jacob once');
    const stored = await db().selectFrom('signposts_records').select(['record_id', 'person_id']).where('record_id', 'in', ['P-95', 'P-96']).execute();
    assert.deepEqual(stored.map((r) => r.record_id).sort(), ['P-95', 'P-96']);
    assert.notEqual(stored[0]?.person_id, stored[1]?.person_id, 'brother and sister are two people');
  });
});
