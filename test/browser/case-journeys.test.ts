import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { staffSignsIn, useSite, type BoroughPage } from '../support/browser.js';

/**
 * Case management in Chromium, with an accessibility audit of every page: a resident follows their
 * case and adds information without JavaScript, and a case officer on a phone-sized screen finds
 * the case in their team's queue and moves it on with an update the resident then reads.
 */

const site = useSite();

async function residentId(email: string): Promise<string> {
  const r = await sql<{ id: string }>`SELECT id FROM residents WHERE email = ${email}`.execute(site.server.running.platform.database.db);
  const id = r.rows[0]?.id;
  assert.ok(id, `resident ${email}`);
  return id;
}

async function openCaseFor(email: string, title: string): Promise<string> {
  const { case: opened } = await site.server.running.services.cases.service.open(
    { type: 'system' },
    {
      type: 'pothole',
      title,
      subject: { kind: 'resident', residentId: await residentId(email) },
      location: { address: '1 Market Street, Kingsmere', postcode: 'KM1 1AA' },
      source: 'report',
      channel: 'online',
    },
  );
  return opened.reference;
}

async function residentSignsIn(page: BoroughPage, email: string): Promise<void> {
  const demo = site.server.running.platform.council.demoUsers?.residents;
  assert.ok(demo);
  await page.visit('/account/sign-in');
  await page.fillAndSubmit({ 'Email address': email, Password: demo.password }, 'Sign in');
}

describe('cases in the browser', () => {
  test('a resident follows their case and adds information, without JavaScript', async () => {
    const email = 'priya.shah@example.com';
    const reference = await openCaseFor(email, 'Pothole by the school gates');
    const page = await site.newPage({ javaScript: false });
    await residentSignsIn(page, email);
    await page.visit('/account');
    assert.ok((await page.text()).includes('Your cases'));
    await page.clickLink('Pothole', page.page.getByRole('row').filter({ hasText: reference }));
    assert.equal(page.path, `/account/cases/${reference}`);
    await page.expectHeading('Pothole');

    await page.submit('Send');
    await page.expectErrorSummary(['Enter the information you want to add']);
    await page.fillAndSubmit({ 'What do you want to tell us?': 'It has got deeper since the rain.' }, 'Send');
    await page.expectNoErrorSummary();
    assert.ok((await page.text()).includes('It has got deeper since the rain.'));
    await page.close();
  });

  test('an officer on a phone finds the case in the team queue and moves it on; the resident reads the update', async () => {
    const email = 'sam.taylor@example.com';
    const reference = await openCaseFor(email, 'Pothole on Hollin Road');
    const officer = await site.newPage({ javaScript: true });
    await officer.page.setViewportSize({ width: 320, height: 640 });
    await staffSignsIn(site, officer, 'case-officer');
    await officer.visit('/staff/cases?team=highways&sort=opened&order=desc');
    await officer.clickLink(reference);
    await officer.expectHeading(`Case ${reference}`);
    const scrolls = await officer.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(scrolls, false, 'the case page does not scroll sideways on a phone');

    await officer.page.getByText('Change status', { exact: true }).first().click();
    await officer.fillAndSubmit(
      { 'New status': 'Awaiting inspection', 'Update for the resident (optional)': 'An inspector will visit this week.' },
      'Change status',
    );
    await officer.expectNoErrorSummary();
    assert.ok((await officer.text()).includes('An inspector will visit this week.'));
    officer.expectNoScriptProblems();
    await officer.close();

    const resident = await site.newPage({ javaScript: true });
    await residentSignsIn(resident, email);
    await resident.visit(`/account/cases/${reference}`);
    const text = await resident.text();
    assert.ok(text.includes('An inspector will visit this week.'));
    assert.ok(text.includes('Being inspected'), 'the resident reads the resident-facing status');
    resident.expectNoScriptProblems();
    await resident.close();
  });
});
