import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp } from '../../../test/support/app.js';
import { signInDemoStaff, type SignedInStaff } from '../../../test/support/staff.js';
import type { SignpostsService } from './service.js';
import { dobText, percent, signedWeight } from './staff-routes.js';
import { nhsNumber } from '../../../test/support/identifiers.js';

const FORENAMES = ['Olivia', 'Noah', 'Amelia', 'George', 'Isla', 'Leo', 'Ava', 'Oscar', 'Mia', 'Arthur', 'Ivy', 'Theo', 'Freya', 'Harry', 'Lily', 'Jack'];
const SURNAMES = ['Patel', 'Nowak', 'Campbell', 'Ahmed', 'Murphy', 'Kowalski', 'Williams', 'Singh', 'Evans', 'Osei', 'Taylor', 'Brown', 'Khan', 'Walsh'];

const csv = (rows: string[][]): string => `${rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n')}\n`;

const CSC_HEADER = [
  'person_id',
  'forename',
  'surname',
  'date_of_birth',
  'gender',
  'postcode',
  'address',
  'nhs_number',
  'episode_id',
  'episode_type',
  'start_date',
  'end_date',
  'summary',
  'status',
  'social_worker',
  'social_worker_contact',
  'household_id',
];

/** Children's social care: a borough of children, one of them the child the officer is asked about. */
function childrensSocialCare(): string {
  const rows: string[][] = [CSC_HEADER];
  let n = 0;
  for (const surname of SURNAMES)
    for (const forename of FORENAMES.slice(0, 5)) {
      n++;
      const year = 2008 + (n % 10);
      const dob = `${year}-${String((n % 12) + 1).padStart(2, '0')}-${String((n % 27) + 1).padStart(2, '0')}`;
      const postcode = `KT${(n % 9) + 1} ${(n % 8) + 1}${String.fromCharCode(65 + (n % 26))}${String.fromCharCode(65 + ((n * 7) % 26))}`;
      rows.push([
        `TCSC${1000 + n}`,
        forename,
        surname,
        dob,
        n % 2 ? 'F' : 'M',
        postcode,
        `${n} ${['Mill Lane', 'High Street', 'Church Road', 'Station Road'][n % 4]}, Kingsmere`,
        nhsNumber(400000000 + n * 37),
        `EP${n}`,
        'Child in need',
        '2025-01-10',
        '2025-06-30',
        `Routine support ${n}`,
        'closed',
        'Sam Carter',
        'sam.carter@kingsmere.example',
        `H${n}`,
      ]);
    }
  // The child asked about: two episodes, and a mother in the same household.
  const jayden = ['TCSC9001', 'Jayden', 'Okafor', '2014-03-09', 'M', 'KT1 2AB', '12 Mill Lane, Kingsmere', nhsNumber(485777000)];
  rows.push([
    ...jayden,
    'EP9001',
    'Child protection plan',
    '2026-09-01',
    '',
    'Neglect concerns raised by school; plan agreed at conference',
    'open',
    'Priya Shah',
    '020 7946 0001',
    'H9001',
  ]);
  rows.push([
    ...jayden,
    'EP9000',
    'Child in need',
    '2025-02-14',
    '2025-08-01',
    'Early support after missed health appointments',
    'closed',
    'Tom Reid',
    '020 7946 0002',
    'H9001',
  ]);
  rows.push([
    'TCSC9002',
    'Grace',
    'Adeyemi',
    '1990-07-21',
    'F',
    'KT1 2AB',
    '12 Mill Lane, Kingsmere',
    nhsNumber(485777100),
    'EP9002',
    'Parent assessment',
    '2026-09-05',
    '',
    'Parenting assessment started',
    'open',
    'Priya Shah',
    '020 7946 0001',
    'H9001',
  ]);
  // Twins: the same birthday and address, names close enough to ask someone.
  const twin = (id: string, forename: string, nhs: number) => [
    id,
    forename,
    'Lindqvist',
    '2016-11-02',
    'F',
    'KT3 4CD',
    '7 Station Road, Kingsmere',
    nhsNumber(nhs),
  ];
  rows.push([
    ...twin('TCSC9101', 'Elise', 486000000),
    'EP9101',
    'Child in need',
    '2026-01-05',
    '',
    'Support with school attendance',
    'open',
    'Ruth Bell',
    '020 7946 0003',
    'H9101',
  ]);
  rows.push([
    ...twin('TCSC9102', 'Elsie', 486000200),
    'EP9102',
    'Child in need',
    '2026-01-05',
    '',
    'Support with school attendance',
    'open',
    'Ruth Bell',
    '020 7946 0003',
    'H9101',
  ]);
  return csv(rows);
}

/** Police: the same child, spelt differently, with a notice only a safeguarding lead may see. */
function police(): string {
  return csv([
    [
      'nominal_id',
      'forenames',
      'surname',
      'alias',
      'dob',
      'gender',
      'address',
      'postcode',
      'ni_number',
      'occurrence',
      'category',
      'date',
      'summary',
      'status',
      'officer',
      'officer_contact',
    ],
    [
      'TPN77',
      'Jaden',
      'Okafor',
      '',
      '09/03/2014',
      'M',
      '12 Mill Lane, Kingsmere',
      'KT1 2AB',
      '',
      'OCC-5501',
      'Domestic abuse notification',
      '2026-10-12',
      'Police attended a domestic incident at the home',
      'open',
      'PC Dana Hughes',
      '101 ext 4455',
    ],
    // A row with a date that is not a date: rejected, and listed in the problems download.
    [
      'TPN78',
      'Kit',
      'Marlow',
      '',
      'not a date',
      'M',
      '3 Church Road, Kingsmere',
      'KT2 1ZZ',
      '',
      'OCC-5502',
      'Missing person',
      '2026-10-13',
      'Reported missing',
      'closed',
      'PC Dana Hughes',
      '101 ext 4455',
    ],
  ]);
}

describe('Signposts staff pages', () => {
  let testApp: TestApp;
  let service: SignpostsService;
  let officer: SignedInStaff;
  let lead: SignedInStaff;
  let governance: SignedInStaff;
  let caseOfficer: SignedInStaff;
  let policeLoadId = '';
  const purpose = { reference: 'MASH-2026-0142', reason: 'Strategy discussion after a referral from school' };

  before(async () => {
    testApp = await createTestApp({ seedDemo: true, env: { BOROUGH_DEMO_SIGNPOSTS: '0' } });
    service = testApp.services.signposts.service;
    // A few hundred made-up residents across every agency, so the linkage model has something to learn from.
    await testApp.services.signposts.seedDemo({ people: 400 });
    const csc = await service.ingest({
      source: 'childrens-social-care',
      text: childrensSocialCare(),
      format: 'csv',
      fileName: 'csc.csv',
      via: 'command line',
      loadedBy: 'Test',
    });
    assert.equal(csc.rejected, 0, JSON.stringify(csc.problems));
    const pn = await service.ingest({ source: 'police', text: police(), format: 'csv', fileName: 'police.csv', via: 'command line', loadedBy: 'Test' });
    assert.equal(pn.rejected, 1);
    policeLoadId = String(pn.loadId);
    // As the nightly upkeep does: every record linked again with a model trained on them all.
    await service.relink();
    [officer, lead, governance, caseOfficer] = await Promise.all([
      signInDemoStaff(testApp, 'safeguarding-officer'),
      signInDemoStaff(testApp, 'safeguarding-lead'),
      signInDemoStaff(testApp, 'information-governance'),
      signInDemoStaff(testApp, 'case-officer'),
    ]);
  });
  after(async () => {
    await testApp.close();
  });

  const givePurpose = async (who: SignedInStaff) => {
    await who.client.get('/staff/signposts');
    const res = await who.client.post('/staff/signposts/purpose', purpose);
    assert.equal(res.statusCode, 303);
  };
  /** The person id of the child asked about, found as an officer would. */
  const findJayden = async (who: SignedInStaff): Promise<string> => {
    const res = await who.client.get('/staff/signposts?name=Jaiden+Okafor&dob-day=9&dob-month=3&dob-year=2014&ageFrom=&ageTo=&place=&identifier=');
    assert.equal(res.statusCode, 200, pageText(res.body));
    const id = /href="\/staff\/signposts\/people\/(\d+)"/.exec(res.body)?.[1];
    assert.ok(id, 'a person is found');
    return id;
  };
  const auditRows = async (action: string) =>
    (
      await sql<{
        actor_label: string;
        subject_id: string | null;
        reason: string | null;
      }>`SELECT actor_label, subject_id, reason FROM audit_events WHERE action = ${action} ORDER BY id`.execute(testApp.platform.database.db)
    ).rows;

  test('dates, percentages and weights are shown in UK form', () => {
    assert.equal(dobText('2014-03-09'), '9 March 2014');
    assert.equal(dobText('20140309'), '9 March 2014');
    assert.equal(dobText('2014-03'), 'March 2014');
    assert.equal(dobText('2014'), '2014');
    assert.equal(percent(0.98765), '98%');
    assert.equal(percent(0.99999, 1), '99.9%');
    assert.equal(signedWeight(3.24), '+3.2');
    assert.equal(signedWeight(-1.46), '\u22121.5');
  });

  test('staff without Signposts are refused', async () => {
    for (const url of ['/staff/signposts', '/staff/signposts/working-set', '/staff/signposts/review', '/staff/signposts/audit', '/staff/signposts/sources']) {
      const res = await caseOfficer.client.get(url);
      assert.equal(res.statusCode, 403, url);
    }
    assert.equal((await officer.client.get('/staff/signposts/audit')).statusCode, 403, 'an officer cannot read the audit report');
    assert.equal((await officer.client.get(`/staff/signposts/loads/${policeLoadId}/problems.csv`)).statusCode, 403);
  });

  test('a purpose is asked for before anyone can search, and checked', async () => {
    // The lead has not said what they are working on yet: the tests that need it come later.
    const who = lead;
    const first = await who.client.get('/staff/signposts');
    assert.equal(first.statusCode, 200);
    assert.match(pageText(first.body), /What are you working on\?/);
    assert.doesNotMatch(first.body, /id="search-form"/);
    // A person page without a purpose goes to the purpose form and comes back.
    const person = await who.client.get('/staff/signposts/people/1');
    assert.equal(person.statusCode, 303);
    assert.match(String(person.headers.location), /^\/staff\/signposts\/purpose\?next=/);

    const bad = await who.client.post('/staff/signposts/purpose', { reference: '', reason: 'short' });
    assert.equal(bad.statusCode, 400);
    const text = pageText(bad.body);
    assert.match(text, /There is a problem/);
    assert.match(text, /Enter the referral or case reference/);
    assert.match(text, /The reason must be at least 10 characters/);
    assert.match(bad.body, /<textarea[^>]*name="reason"[^>]*>short<\/textarea>/, 'what was typed is kept');

    const ok = await who.client.post('/staff/signposts/purpose', purpose);
    assert.equal(ok.statusCode, 303);
    const page = await who.client.get('/staff/signposts');
    assert.equal(page.statusCode, 200);
    assert.match(pageText(page.body), /Working on: MASH-2026-0142/);
    assert.match(page.body, /id="search-form"/);
    assert.match(page.body, /href="\/staff\/signposts\/purpose\?next=/, 'a Change link');
  });

  test('a search needs more than an age range, and one with a typo finds the child', async () => {
    await givePurpose(officer);
    const empty = await officer.client.get('/staff/signposts?name=&dob-day=&dob-month=&dob-year=&ageFrom=&ageTo=&place=&identifier=');
    assert.equal(empty.statusCode, 400);
    assert.match(pageText(empty.body), /There is a problem Enter a name, date of birth, address or identifier/);
    const ageOnly = await officer.client.get('/staff/signposts?name=&ageFrom=5&ageTo=12&place=&identifier=');
    assert.equal(ageOnly.statusCode, 400);
    assert.match(pageText(ageOnly.body), /Enter a name, date of birth, address or identifier/);

    const res = await officer.client.get('/staff/signposts?name=Jaiden+Okafor&dob-day=9&dob-month=3&dob-year=2014&ageFrom=&ageTo=&place=KT1&identifier=');
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Jayden Okafor/);
    assert.match(text, /9 March 2014/);
    assert.match(text, /Children's social care/);
    assert.match(text, /\d+% match/);
    // How each detail given compares, so a low figure from a thin search reads as what it is.
    assert.match(text, /judged only on the details you gave/);
    assert.match(text, /\d+% match Forename: [a-z ,]+ Surname: exact match Date of birth: exact match/);
    assert.match(text, /Lock into working set/);
    assert.doesNotMatch(text, /Police/, 'an officer does not see the police version');

    const none = await officer.client.get('/staff/signposts?name=Zebedee+Quartermaine&place=&identifier=');
    assert.equal(none.statusCode, 200);
    assert.match(pageText(none.body), /No people found/);

    const searches = await auditRows('signposts.searched');
    assert.ok(searches.some((r) => r.actor_label === officer.member.name && r.reason?.includes('MASH-2026-0142')));
  });

  test('the person page shows the timeline and who to contact, hiding police records and sensitive summaries from an officer', async () => {
    await givePurpose(officer);
    const id = await findJayden(officer);
    const res = await officer.client.get(`/staff/signposts/people/${id}`);
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Jayden Okafor/);
    assert.match(text, /Born 9 March 2014/);
    assert.match(text, /Professional Agency Contact Involvement Latest Priya Shah Children's social care 020 7946 0001 Open/);
    assert.match(text, /Tom Reid/);
    assert.match(text, /Timeline/);
    assert.match(text, /1 September 2026 Children's social care Child protection plan/);
    assert.match(text, /Hidden: your role cannot see this/, 'the summary is sensitive');
    assert.doesNotMatch(text, /Neglect concerns/);
    assert.match(text, /1 record held by Police is in sources your role cannot see/);
    assert.doesNotMatch(text, /Domestic abuse notification/);
    assert.match(text, /Related people/);
    assert.match(text, /Grace Adeyemi/);

    // The timeline is filtered on the server.
    const filtered = await officer.client.get(`/staff/signposts/people/${id}?type=Child+in+need&from-day=&from-month=&from-year=&to-day=&to-month=&to-year=`);
    assert.equal(filtered.statusCode, 200);
    const filteredText = pageText(filtered.body);
    assert.match(filteredText, /Showing 1 of 2 events/);
    assert.doesNotMatch(filteredText, /1 September 2026 Children's social care Child protection plan/);

    const leadRes = await (async () => {
      await givePurpose(lead);
      return lead.client.get(`/staff/signposts/people/${id}`);
    })();
    assert.equal(leadRes.statusCode, 200);
    const leadText = pageText(leadRes.body);
    assert.match(leadText, /Neglect concerns raised by school/, 'a lead sees the summary');
    assert.match(leadText, /Domestic abuse notification/, 'a lead sees the police record');
    assert.doesNotMatch(leadText, /in sources your role cannot see/);
  });

  test('break-glass needs a reason, then opens the police record and tells the information governance lead', async () => {
    const who = officer;
    await givePurpose(who);
    const id = await findJayden(who);
    await who.client.get(`/staff/signposts/people/${id}`);
    const refused = await who.client.post(`/staff/signposts/people/${id}/break-glass`, { reason: 'urgent' });
    assert.equal(refused.statusCode, 400);
    assert.match(pageText(refused.body), /There is a problem The reason must be at least 10 characters/);

    const reason = 'Child disclosed violence at home to a teacher today';
    const done = await who.client.post(`/staff/signposts/people/${id}/break-glass`, { reason });
    assert.equal(done.statusCode, 303);
    const page = await who.client.follow(done);
    assert.equal(page.statusCode, 200);
    const text = pageText(page.body);
    assert.match(text, /Records opened\. The information governance lead has been told/);
    assert.match(text, /Police Seen by break-glass/);
    assert.match(text, /Domestic abuse notification/);
    assert.doesNotMatch(text, /in sources your role cannot see/);

    const mail = await sql<{
      recipient: string;
      subject: string;
      body: string;
    }>`SELECT recipient, subject, body FROM notification_outbox WHERE subject LIKE 'Signposts break-glass%'`.execute(testApp.platform.database.db);
    const sent = mail.rows.find((m) => m.body.includes(reason));
    assert.ok(sent, 'an email is queued');
    assert.equal(sent.recipient, service.informationGovernanceLead.email);
    assert.ok((await auditRows('signposts.break-glass')).some((r) => r.subject_id === id && r.reason === reason));
  });

  test('the working set shows a family timeline and downloads as an audited PDF', async () => {
    await givePurpose(officer);
    const id = await findJayden(officer);
    const added = await officer.client.post('/staff/signposts/working-set', { personId: id, back: `/staff/signposts/people/${id}` });
    assert.equal(added.statusCode, 303);
    assert.equal(added.headers.location, `/staff/signposts/people/${id}`);
    const person = await officer.client.follow(added);
    assert.match(pageText(person.body), /Locked into the working set/);
    assert.match(pageText(person.body), /Remove from working set/);
    const mother = /href="\/staff\/signposts\/people\/(\d+)">Grace Adeyemi/.exec(person.body)?.[1];
    assert.ok(mother, 'the mother is linked from the related people');
    await officer.client.post('/staff/signposts/working-set', { personId: mother });

    const page = await officer.client.get('/staff/signposts/working-set');
    assert.equal(page.statusCode, 200);
    const text = pageText(page.body);
    assert.match(text, /Family working set/);
    assert.match(text, /2 people locked together/);
    assert.match(text, /Family timeline/);
    assert.match(text, /5 September 2026 Grace Adeyemi Children's social care Parent assessment/);
    assert.match(text, /1 September 2026 Jayden Okafor Children's social care Child protection plan/);
    assert.match(page.body, /href="\/staff\/signposts\/working-set.pdf"/);

    const pdf = await officer.client.get('/staff/signposts/working-set.pdf');
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(pdf.headers['cache-control'], 'no-store');
    assert.equal(pdf.headers['content-disposition'], 'attachment; filename="working-set-MASH-2026-0142.pdf"');
    assert.equal(pdf.rawPayload.subarray(0, 4).toString('latin1'), '%PDF');
    const exported = await auditRows('signposts.exported');
    assert.ok(exported.some((r) => r.actor_label === officer.member.name && r.subject_id === `${id},${mother}`));

    const removed = await officer.client.post('/staff/signposts/working-set', { personId: mother, action: 'remove' });
    assert.equal(removed.statusCode, 303);
    assert.match(pageText((await officer.client.follow(removed)).body), /1 person locked together/);
    await officer.client.post('/staff/signposts/working-set', { action: 'clear' });
    assert.match(pageText((await officer.client.get('/staff/signposts/working-set')).body), /No one is in the working set/);
  });

  test('a possible link is reviewed with its match weights, and the decision is saved and audited', async () => {
    await givePurpose(officer);
    const queue = await officer.client.get('/staff/signposts/review');
    assert.equal(queue.statusCode, 200);
    const queueText = pageText(queue.body);
    assert.match(queueText, /Possible links to review/);
    assert.match(queueText, /\d+ pairs? awaiting review/);
    assert.match(queueText, /\d+\.\d% (Uncertain|Possible twins or siblings) Review/);
    const href = /href="(\/staff\/signposts\/review\/\d+\/\d+)"/.exec(queue.body)?.[1];
    assert.ok(href, 'a pair to review');

    const page = await officer.client.get(href);
    assert.equal(page.statusCode, 200);
    const text = pageText(page.body);
    assert.match(text, /Are these the same person\?/);
    assert.match(text, /Record A: [A-Z][\w' ]+ Name /);
    assert.match(text, /Record B: [A-Z][\w' ]+ Name /);
    assert.match(text, /Possible link: (\d+\.\d%|over 99\.9%) likely/);
    assert.match(page.body, /<svg[^>]*role="img"/, 'the chart');
    assert.match(text, /The match weights as a table/);
    assert.match(text, /Starting point/);
    assert.match(text, /Total Probability (\d+\.\d%|over 99\.9%|under 0\.1%) [+\u2212]?\d+\.\d/);
    assert.match(text, /Date of birth [\w ]+ vs [\w ]+ Date of birth: [\w ]+ (0\.0|[+\u2212]\d+\.\d)/, 'a row compares the values with a signed weight');

    const missing = await officer.client.post(href, { note: 'Checked' });
    assert.equal(missing.statusCode, 400);
    assert.match(pageText(missing.body), /There is a problem Select whether the records are the same person/);

    const saved = await officer.client.post(href, { decision: 'rejected', note: 'Twins: school confirms two children' });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/staff/signposts/review');
    assert.match(pageText((await officer.client.follow(saved)).body), /Decision saved/);
    const [, a, b] = /(\d+)\/(\d+)$/.exec(href) ?? [];
    assert.ok((await auditRows('signposts.link-rejected')).some((r) => r.subject_id === `${a}-${b}` && r.actor_label === officer.member.name));
  });

  test('sources show freshness, and rejected rows download as CSV', async () => {
    const res = await governance.client.get('/staff/signposts/sources');
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Sources and how fresh they are/);
    assert.match(text, /Children's social care/);
    assert.match(text, /KMS-DSA-001/);
    assert.doesNotMatch(text, /Overdue/, 'every source was loaded just now');
    assert.match(text, /Recent loads/);
    assert.match(text, /Download rejected rows \(CSV\)/);
    assert.match(res.body, new RegExp(`href="/staff/signposts/loads/${policeLoadId}/problems.csv"`));

    const officerView = await officer.client.get('/staff/signposts/sources');
    assert.equal(officerView.statusCode, 200, 'an officer may see the sources too');
    assert.doesNotMatch(pageText(officerView.body), /Download rejected rows/);

    const download = await governance.client.get(`/staff/signposts/loads/${policeLoadId}/problems.csv`);
    assert.equal(download.statusCode, 200);
    assert.match(String(download.headers['content-type']), /^text\/csv/);
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="police-load-\d+-rejected-rows\.csv"$/);
    assert.match(download.body, /^\uFEFFrow,record_id,column,problem\r\n/, 'UTF-8 with a byte order mark, so spreadsheets show accents');
    assert.match(download.body, /TPN78,dob,/);
  });

  test('the audit report lists searches with their purpose, filters by staff name, and downloads as CSV', async () => {
    await givePurpose(officer);
    await findJayden(officer);
    const res = await governance.client.get('/staff/signposts/audit');
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    assert.match(text, /Who looked at what, and why/);
    assert.match(text, new RegExp(`${officer.member.name} Searched Search: date of birth 2014-03-09, name Jaiden Okafor`));
    assert.match(text, /MASH-2026-0142: Strategy discussion after a referral from school/);
    assert.match(text, /Viewed a person/);
    assert.match(res.body, /<a class="govuk-link" href="\/staff\/signposts\/people\/\d+">Person \d+<\/a>/);

    const filtered = await governance.client.get(`/staff/signposts/audit?staff=${encodeURIComponent(lead.member.name)}`);
    assert.equal(filtered.statusCode, 200);
    assert.doesNotMatch(pageText(filtered.body), new RegExp(`${officer.member.name} Searched`));

    const badDate = await governance.client.get('/staff/signposts/audit?from-day=31&from-month=2&from-year=2026');
    assert.equal(badDate.statusCode, 400);
    assert.match(pageText(badDate.body), /The from date must be a real date/);

    const download = await governance.client.get('/staff/signposts/audit?format=csv');
    assert.equal(download.statusCode, 200);
    assert.match(String(download.headers['content-type']), /^text\/csv/);
    assert.match(download.body, /^\uFEFFwhen,who,what,whom,purpose,reason\r\n/, 'UTF-8 with a byte order mark, so spreadsheets show accents');
    assert.match(download.body, new RegExp(`${officer.member.name},Searched,`));
  });
});
