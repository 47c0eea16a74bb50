import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { useSite, type BoroughPage } from '../support/browser.js';

/**
 * The public side of street reports in Chromium, with an accessibility audit of every page: the
 * list of reported problems with a filter, a report's page, following a report by email, and
 * setting up an alert; once with JavaScript on and once with it off.
 */

const site = useSite();

interface Made {
  reference: string;
  title: string;
}

let centre: { lat: number; lng: number; postcode: string };

/** A new pothole report near the middle of the borough, made as the journey would make it. */
async function reportPothole(place: string): Promise<Made> {
  const { report } = await site.server.running.services.reports.service.submit({
    category: 'pothole',
    lat: centre.lat,
    lng: centre.lng,
    place,
    detail: 'A deep hole where the buses stop',
    answers: { size: 'plate-to-tyre', depth: 'over-10cm', danger: 'no' },
    reporter: { name: 'Robin Reporter', email: 'robin.reporter@example.com', showName: false },
    source: 'web',
  });
  return { reference: report.reference, title: report.title };
}

/** Follows the link to a report from the list, found by its address (titles repeat). */
async function openFromList(page: BoroughPage, made: Made): Promise<void> {
  await page.clickLink(made.title, page.page.locator(`main li:has(a[href="/reports/${made.reference}"])`));
  assert.equal(page.path, `/reports/${made.reference}`);
  await page.expectHeading(made.title);
}

/** Asks for updates on the report shown, and opens the link in the email. */
async function followByEmail(page: BoroughPage, made: Made, email: string): Promise<void> {
  const since = new Date();
  await page.fillAndSubmit({ 'Email address': email }, 'Get updates');
  await page.expectHeading('Check your email');
  const message = await site.server.waitForEmail(email, { since, subject: `Confirm you want updates on report ${made.reference}` });
  await page.visit(site.server.linkIn(message, /^\/reports\/confirm\//));
  await page.expectHeading(`Get updates on report ${made.reference}`);
  await page.fillAndSubmit({}, 'Confirm');
  await page.expectHeading('You will get updates on this report');
}

describe('reported problems in the browser', () => {
  before(async () => {
    const [address] = await site.server.running.services.geo.searchAddresses('market street', 1);
    assert.ok(address?.postcode, 'the demo gazetteer has Market Street');
    centre = { lat: address.lat, lng: address.lng, postcode: address.postcode };
  });

  test('JavaScript on: the whole borough’s list, with its map of every report', async () => {
    const page = await site.newPage({ javaScript: true });
    await page.visit('/reports');
    await page.expectHeading(`Problems reported in ${site.server.council.area}`);
    await page.page.locator('[data-report-map]').waitFor({ state: 'visible' });
    page.expectNoScriptProblems();
    await page.close();
  });

  test('JavaScript on: a resident looks near a postcode, narrows it to one problem, reads a report with its map, and follows it by email', async () => {
    const made = await reportPothole('Opposite the library');
    const page = await site.newPage({ javaScript: true });
    await page.visit(`/reports?q=${encodeURIComponent(centre.postcode)}`);
    await page.expectHeading(/^Problems reported near /);
    await page.fillAndSubmit({ Problem: ['Pothole'] }, 'Show problems');
    await page.expectHeading(/^Problems reported near /);
    assert.match(page.path, /[?&]category=pothole\b/);
    assert.ok((await page.text()).includes('Opposite the library'));

    await openFromList(page, made);
    await page.page.locator('[data-report-map]').waitFor({ state: 'visible' });
    const text = await page.text();
    assert.ok(text.includes('Open') && text.includes('Opposite the library'));
    assert.ok(!text.includes('Robin Reporter') && !text.includes('robin.reporter@example.com'), 'nothing personal about the reporter');

    await followByEmail(page, made, 'js.follower@example.com');
    page.expectNoScriptProblems();
    await page.close();
  });

  test('JavaScript on: the alerts form lists what is missing, then sets up an alert near a postcode', async () => {
    const page = await site.newPage({ javaScript: true });
    await page.visit('/reports/alerts');
    await page.expectHeading('Get an email when a problem is reported');
    await page.submit('Set up alert');
    await page.expectErrorSummary(['Choose whether you want alerts near a place or for a ward', 'Enter your email address']);

    const email = 'area.alerts@example.com';
    const since = new Date();
    await page.fillAndSubmit(
      {
        'Where do you want alerts for?': 'Near a postcode or street',
        'Postcode or street': centre.postcode,
        'How far from there?': '500 metres',
        'Email address': email,
      },
      'Set up alert',
    );
    await page.expectHeading('Check your email');
    const message = await site.server.waitForEmail(email, { since, subject: 'Confirm your alert for new reports' });
    await page.visit(site.server.linkIn(message, /^\/reports\/confirm\//));
    await page.fillAndSubmit({}, 'Confirm');
    await page.expectHeading('Your alert is set up');
    page.expectNoScriptProblems();
    await page.close();
  });

  test('JavaScript off: the list with a filter, a report, following it by email, and an alert for a ward', async () => {
    const made = await reportPothole('Beside the bus shelter');
    const page = await site.newPage({ javaScript: false });
    await page.visit('/reports');
    await page.fillAndSubmit({ Problem: ['Pothole'], Status: ['Open'], Reported: 'In the last 7 days' }, 'Show problems');
    assert.match(page.path, /category=pothole/);
    assert.match(page.path, /status=open/);
    assert.match(page.path, /age=7/);
    await openFromList(page, made);
    assert.equal(await page.page.locator('[data-report-map]').isVisible(), false, 'the map is only for browsers that run it');

    await followByEmail(page, made, 'no.js.follower@example.com');

    const where = await site.server.running.services.reports.service.locate(centre.lat, centre.lng);
    assert.ok(where.wardName);
    await page.visit('/reports/alerts');
    const email = 'ward.alerts@example.com';
    const since = new Date();
    await page.fillAndSubmit({ 'Where do you want alerts for?': 'A whole ward', Ward: where.wardName, 'Email address': email }, 'Set up alert');
    await page.expectHeading('Check your email');
    await site.server.waitForEmail(email, { since, subject: 'Confirm your alert for new reports' });
    await page.close();
  });
});
