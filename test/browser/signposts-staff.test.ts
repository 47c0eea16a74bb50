import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import { staffSignsIn, useSite } from '../support/browser.js';
import { nhsNumber } from '../support/identifiers.js';

/**
 * Signposts in Chromium, with an accessibility audit of every page: a safeguarding officer gives
 * a purpose, finds a child from a misspelt name, reads the timeline and who to contact, builds a
 * family working set and downloads it; reviews a possible link; a safeguarding lead searches
 * without JavaScript; and the information governance lead reads the sources and the audit report.
 */

// The demo borough's people would load in the background (and a shared starting copy of the
// data may already have that load queued), so this file starts afresh and loads a few hundred instead.
const site = useSite({ env: { BOROUGH_DEMO_SIGNPOSTS: '0' }, fresh: true });

const PURPOSE = { reference: 'MASH-2026-0142', reason: 'Strategy discussion after a referral from school' };

/** Children's social care: the child the officer is asked about, his mother, and twins to tell apart. */
function childrensSocialCare(): Record<string, string>[] {
  const jayden = {
    person_id: 'BCSC9001',
    forename: 'Jayden',
    surname: 'Okafor',
    date_of_birth: '2014-03-09',
    gender: 'M',
    postcode: 'KT1 2AB',
    address: '12 Mill Lane, Kingsmere',
    nhs_number: nhsNumber(485777000),
    household_id: 'BH9001',
  };
  const twin = (person_id: string, forename: string, nhs: number) => ({
    person_id,
    forename,
    surname: 'Lindqvist',
    date_of_birth: '2016-11-02',
    gender: 'F',
    postcode: 'KT3 4CD',
    address: '7 Station Road, Kingsmere',
    nhs_number: nhsNumber(nhs),
    household_id: 'BH9101',
  });
  const support = { episode_type: 'Child in need', start_date: '2026-01-05', end_date: '', summary: 'Support with school attendance', status: 'open' };
  return [
    {
      ...jayden,
      episode_id: 'BEP9001',
      episode_type: 'Child protection plan',
      start_date: '2026-09-01',
      end_date: '',
      summary: 'Neglect concerns raised by school; plan agreed at conference',
      status: 'open',
      social_worker: 'Priya Shah',
      social_worker_contact: '020 7946 0001',
    },
    {
      ...jayden,
      episode_id: 'BEP9000',
      episode_type: 'Child in need',
      start_date: '2025-02-14',
      end_date: '2025-08-01',
      summary: 'Early support after missed health appointments',
      status: 'closed',
      social_worker: 'Tom Reid',
      social_worker_contact: '020 7946 0002',
    },
    {
      person_id: 'BCSC9002',
      forename: 'Grace',
      surname: 'Adeyemi',
      date_of_birth: '1990-07-21',
      gender: 'F',
      postcode: 'KT1 2AB',
      address: '12 Mill Lane, Kingsmere',
      nhs_number: nhsNumber(485777100),
      household_id: 'BH9001',
      episode_id: 'BEP9002',
      episode_type: 'Parent assessment',
      start_date: '2026-09-05',
      end_date: '',
      summary: 'Parenting assessment started',
      status: 'open',
      social_worker: 'Priya Shah',
      social_worker_contact: '020 7946 0001',
    },
    { ...twin('BCSC9101', 'Elise', 486000000), episode_id: 'BEP9101', ...support, social_worker: 'Ruth Bell', social_worker_contact: '020 7946 0003' },
    { ...twin('BCSC9102', 'Elsie', 486000200), episode_id: 'BEP9102', ...support, social_worker: 'Ruth Bell', social_worker_contact: '020 7946 0003' },
  ];
}

/** Early help: the same child, so his timeline has more than one agency to filter by. */
function earlyHelp(): Record<string, string>[] {
  return [
    {
      client_ref: 'BEH501',
      first_name: 'Jayden',
      last_name: 'Okafor',
      dob: '2014-03-09',
      sex: 'M',
      address_1: '12 Mill Lane, Kingsmere',
      postcode: 'KT1 2AB',
      plan_ref: 'BEHP501',
      support: 'Family support plan',
      opened: '2024-10-01',
      closed: '2025-01-31',
      notes: 'Family support worker helped with routines at home',
      plan_status: 'closed',
      key_worker: 'Alex Morgan',
      key_worker_phone: '020 7946 0100',
      family_ref: 'BEF501',
    },
  ];
}

/** Loads the officer's agency records on top of a few hundred made-up residents. */
async function loadRecords(): Promise<void> {
  const { signposts } = site.server.running.services;
  // A few hundred made-up residents across every agency, so the linkage model has something to learn from.
  await signposts.seedDemo({ people: 400 });
  for (const [source, rows] of [
    ['childrens-social-care', childrensSocialCare()],
    ['early-help', earlyHelp()],
  ] as const) {
    const load = await signposts.service.ingest({
      source,
      text: JSON.stringify(rows),
      format: 'json',
      fileName: `${source}.json`,
      via: 'command line',
      loadedBy: 'Test',
    });
    assert.equal(load.rejected, 0, JSON.stringify(load.problems));
  }
  // As the nightly upkeep does: every record linked again with a model trained on them all.
  await signposts.service.relink();
}

async function staffName(role: string): Promise<string> {
  const { running } = site.server;
  const domain = running.platform.council.demoUsers?.staff.emailDomain;
  assert.ok(domain, 'the demo council has staff users');
  const member = await running.services.account.staff.findMemberByEmail(`${role}@${domain}`);
  assert.ok(member, `the demo council has a ${role}`);
  return member.name;
}

describe('Signposts in the browser', () => {
  before(loadRecords);

  test('a safeguarding officer finds a child, reads the timeline, builds a working set and downloads it', async () => {
    const officer = await site.newPage({ javaScript: true });
    await staffSignsIn(site, officer, 'safeguarding-officer');
    await officer.clickLink('Signposts');
    await officer.expectHeading('What are you working on?');
    await officer.submit('Continue');
    await officer.expectErrorSummary(['Enter the referral or case reference', 'Enter the reason you need to search']);
    await officer.fillAndSubmit({ 'Referral or case reference': PURPOSE.reference, Reason: PURPOSE.reason }, 'Continue');
    await officer.expectHeading('Find a person');
    assert.match(await officer.text(), /Working on: MASH-2026-0142/);

    await officer.fillAndSubmit({ Name: 'Jaiden Okafor', 'Date of birth': '9/3/2014' }, 'Search');
    await officer.expectNoErrorSummary();
    const results = await officer.page.locator('#results').innerText();
    assert.match(results, /Jayden Okafor/);
    assert.match(results, /9 March 2014/);
    assert.match(results, /\d+% match/);

    await officer.clickLink(/^Jayden Okafor\b.*view this person/, officer.page.locator('#results'));
    await officer.expectHeading('Jayden Okafor');
    const contacts = await officer.page.locator('#contacts').innerText();
    assert.match(contacts, /Priya Shah/, 'the social worker with the open plan');
    assert.match(contacts, /Alex Morgan/, 'the early help key worker');
    const timeline = officer.page.locator('#timeline tbody tr');
    assert.equal(await timeline.count(), 3);
    const events = await officer.page.locator('#timeline').innerText();
    assert.match(events, /1 September 2026\s+Children's social care\s+Child protection plan/);
    assert.doesNotMatch(events, /Neglect concerns/, 'an officer does not see a sensitive summary');

    // The filter is folded away until asked for.
    await officer.page.getByText('Filter the timeline').click();
    await officer.fillAndSubmit({ Agency: ['Early help'] }, 'Filter timeline');
    assert.match(await officer.text(), /Showing 1 of 3 events/);
    assert.equal(await timeline.count(), 1);
    assert.match(await officer.page.locator('#timeline').innerText(), /Early help\s+Family support plan/);

    await officer.clickButton(/^Lock into working set\W+Jayden Okafor$/);
    assert.match(await officer.text(), /Locked into the working set/);
    await officer.clickLink('Grace Adeyemi', officer.page.locator('#related'));
    await officer.expectHeading('Grace Adeyemi');
    await officer.clickButton(/^Lock into working set\W+Grace Adeyemi$/);
    await officer.clickLink('Back to search');
    await officer.clickLink('Working set (2 people)');
    await officer.expectHeading('Family working set');
    assert.match(await officer.text(), /2 people locked together/);
    const family = await officer.page.locator('#family-timeline').innerText();
    assert.match(family, /5 September 2026\s+Grace Adeyemi\s+Children's social care\s+Parent assessment/);
    assert.match(family, /1 September 2026\s+Jayden Okafor\s+Children's social care\s+Child protection plan/);

    const [download] = await Promise.all([officer.page.waitForEvent('download'), officer.page.getByRole('button', { name: 'Download as PDF' }).click()]);
    assert.equal(download.suggestedFilename(), 'working-set-MASH-2026-0142.pdf');
    const saved = await download.path();
    assert.equal((await readFile(saved)).subarray(0, 5).toString('latin1'), '%PDF-');
    // The same download as the browser sees it, with this session's cookies.
    const pdf = await officer.context.request.get('/staff/signposts/working-set.pdf');
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    officer.expectNoScriptProblems();
    await officer.close();
  });

  test('a safeguarding officer reviews a possible link and decides the records are two people', async () => {
    const officer = await site.newPage({ javaScript: true });
    await staffSignsIn(site, officer, 'safeguarding-officer');
    await officer.clickLink('Possible links');
    await officer.expectHeading('Possible links to review');
    const queue = officer.page.locator('#review-queue');
    assert.match(await queue.locator('caption').innerText(), /^\d+ pairs? awaiting review$/);
    const reviewed = await queue
      .getByRole('link', { name: /^Review / })
      .first()
      .getAttribute('href');
    assert.ok(reviewed, 'a pair to review');

    await officer.clickLink(/^Review /, queue);
    // Reading a pair needs a purpose too: the officer is asked for one and brought back.
    await officer.expectHeading('What are you working on?');
    await officer.fillAndSubmit({ 'Referral or case reference': PURPOSE.reference, Reason: PURPOSE.reason }, 'Continue');
    await officer.expectHeading('Are these the same person?');
    assert.equal(officer.path, reviewed);
    const chart = officer.page.locator('#match-weight-chart svg[role="img"]');
    assert.equal(await chart.count(), 1, 'the match weight chart');
    assert.ok(((await chart.getAttribute('aria-labelledby')) ?? (await chart.getAttribute('aria-label')) ?? '').length > 0, 'the chart is named');
    const table = officer.page.locator('#explanation');
    assert.match(await table.locator('caption').innerText(), /The match weights as a table/);
    assert.match(await table.innerText(), /Starting point/);
    assert.match(await table.innerText(), /Total\s+Probability/);

    await officer.clickButton('Save decision');
    await officer.expectErrorSummary(['Select whether the records are the same person']);
    await officer.fillAndSubmit(
      { 'Are these records the same person?': 'Not the same person', 'Note (optional)': 'School confirms two children' },
      'Save decision',
    );
    await officer.expectHeading('Possible links to review');
    assert.match(await officer.text(), /Success Decision saved/);
    assert.equal(await officer.page.locator(`main a[href="${reviewed}"]`).count(), 0, 'the pair has left the queue');
    officer.expectNoScriptProblems();
    await officer.close();
  });

  test('a safeguarding lead gives a purpose and searches without JavaScript', async () => {
    const lead = await site.newPage({ javaScript: false });
    await staffSignsIn(site, lead, 'safeguarding-lead');
    await lead.visit('/staff/signposts');
    await lead.expectHeading('What are you working on?');
    await lead.fillAndSubmit({ 'Referral or case reference': 'MASH-2026-0150', Reason: 'short' }, 'Continue');
    await lead.expectErrorSummary(['The reason must be at least 10 characters']);
    await lead.fillAndSubmit({ Reason: 'Checking who else is involved with the family' }, 'Continue');
    await lead.expectHeading('Find a person');

    await lead.fillAndSubmit({ Name: '', 'Postcode or address': '' }, 'Search');
    await lead.expectErrorSummary(['Enter a name, date of birth, address or identifier']);
    await lead.fillAndSubmit({ Name: 'Grace Adeyemmi', 'Date of birth': '//1990' }, 'Search');
    await lead.expectNoErrorSummary();
    const results = await lead.page.locator('#results').innerText();
    assert.match(results, /Grace Adeyemi/);
    assert.match(results, /21 July 1990/);
    await lead.clickLink(/^Grace Adeyemi\b.*view this person/, lead.page.locator('#results'));
    await lead.expectHeading('Grace Adeyemi');
    assert.match(await lead.page.locator('#timeline').innerText(), /Parenting assessment started/, 'a lead sees the summary');
    await lead.close();
  });

  test('the information governance lead reads the sources and sees the officer’s search with its purpose', async () => {
    const officerName = await staffName('safeguarding-officer');
    const governance = await site.newPage({ javaScript: true });
    await staffSignsIn(site, governance, 'information-governance');
    await governance.clickLink('Signposts sources');
    await governance.expectHeading('Sources and how fresh they are');
    const sources = await governance.text();
    assert.match(sources, /Children's social care/);
    assert.match(sources, /Early help/);
    assert.match(sources, /Recent loads/);
    assert.doesNotMatch(sources, /Overdue/, 'every source was loaded just now');

    await governance.clickLink('Signposts audit');
    await governance.expectHeading('Who looked at what, and why');
    const audit = await governance.page.locator('#audit').innerText();
    const search = audit.split('\n').find((line) => line.includes('Search: date of birth 2014-03-09, name Jaiden Okafor'));
    assert.ok(search, `the officer's search is listed:\n${audit}`);
    assert.ok(search.includes(officerName), 'with who searched');
    assert.match(search, /Searched/);
    assert.ok(search.includes(`${PURPOSE.reference}: ${PURPOSE.reason}`), 'with the purpose they gave');
    assert.match(audit, /Exported/);

    await governance.fillAndSubmit({ 'Staff name': officerName }, 'Show events');
    await governance.expectNoErrorSummary();
    const filtered = await governance.page.locator('#audit').innerText();
    assert.ok(!filtered.includes('MASH-2026-0150'), 'the lead’s search is left out');
    governance.expectNoScriptProblems();
    await governance.close();
  });
});
