import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from '#platform/db/index';
import { useSite, type BoroughPage } from '../support/browser.js';

/**
 * "Report a problem" in Chromium, with an accessibility audit of every page: with JavaScript, the
 * place and the street light are chosen on the map (with the mouse and with the keyboard); without
 * it, the place is found by postcode. Both end at the confirmation with a reference.
 */

const site = useSite();

/** A 1×1 grey PNG. */
const PHOTO = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==', 'base64');

let folder = '';
let photo = '';
before(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'borough-report-photo-'));
  photo = path.join(folder, 'pothole.png');
  writeFileSync(photo, PHOTO);
});
after(() => rmSync(folder, { recursive: true, force: true }));

/** Passes the page of reports already made nearby, if the place has any. */
async function pastNearbyReports(page: BoroughPage): Promise<void> {
  if (page.path.startsWith('/report/duplicates')) await page.clickButton('No, my problem is different');
}

/** About you, check your answers and send; returns the reference on the confirmation. */
async function finish(page: BoroughPage, email: string): Promise<string> {
  assert.equal(page.path, '/report/about');
  await page.expectHeading('About you');
  await page.submit('Continue');
  await page.expectErrorSummary(['Enter your name', 'Enter your email address']);
  await page.fillAndSubmit({ 'Full name': 'Robin Reporter', 'Email address': email }, 'Continue');
  assert.equal(page.path, '/report/check');
  await page.expectHeading('Check your answers before sending your report');
  assert.ok((await page.text()).includes(email));
  await page.clickButton('Send report');
  assert.match(page.path, /^\/report\/sent\//);
  await page.expectHeading(/Report sent/);
  const reference = (await page.page.locator('.govuk-panel__body strong').innerText()).trim();
  assert.ok((await page.text()).includes(`We have sent a confirmation to ${email}`));
  page.expectNoScriptProblems();
  return reference;
}

describe('report a problem in the browser, with axe on every page', () => {
  test('JavaScript on: the place and the street light are chosen on the map', async () => {
    const page = await site.newPage({ javaScript: true });
    await page.visit('/report');
    await page.expectHeading('Where is the problem?');
    const map = page.page.locator('#report-map .report-map__canvas');
    await page.page.locator('#report-map path.report-map__boundary').waitFor();
    assert.equal(await page.page.getByRole('button', { name: 'Use this place' }).isVisible(), false, 'nothing to use until a place is chosen');

    // With the keyboard: Enter chooses the middle of the map.
    await map.focus();
    await page.page.keyboard.press('Enter');
    const byKeyboard = await page.page.locator('#point-lat').inputValue();
    assert.match(byKeyboard, /^\d+\.\d{6}$/);
    // With the mouse: the place clicked.
    const box = await map.boundingBox();
    assert.ok(box);
    await map.click({ position: { x: box.width / 2 + 10, y: box.height / 2 + 10 } });
    assert.notEqual(await page.page.locator('#point-lat').inputValue(), byKeyboard, 'the click moved the place');
    await page.page.locator('#report-map .report-map__marker--pin').waitFor();
    await page.checkAccessibility();

    await page.clickButton('Use this place');
    assert.match(page.path, /^\/report\/category\?lat=/);
    await page.fillAndSubmit({ 'Street light not working or damaged': true }, 'Continue');
    assert.equal(page.path, '/report/asset');

    const lights = page.page.locator('#asset-map .report-map__marker[role="button"]');
    await lights.first().waitFor();
    await page.checkAccessibility();
    const skip = page.page.getByRole('link', { name: 'Skip the map' });
    await skip.focus();
    await page.page.keyboard.press('Enter');
    assert.equal(`#${await page.page.evaluate(() => document.activeElement?.id ?? '')}`, await skip.getAttribute('href'), 'the skip link goes past the lights');
    const first = lights.first();
    const name = (await first.innerText()).trim();
    const id = /^Street light (\S+),/.exec(name)?.[1];
    assert.ok(id, `the light is named: ${name}`);
    await first.focus();
    await page.page.keyboard.press('Enter');
    const chosen = (await page.page.locator('#map-asset').inputValue()) || (await page.page.locator('input[name="asset"]:checked').inputValue());
    assert.equal(chosen, id, 'Enter on a light on the map chooses it');
    await page.clickButton('Continue');
    assert.equal(page.path, '/report/details');
    assert.ok((await page.text()).includes(`Street light ${id}`));

    await page.fill('Add a photo', photo);
    await page.clickButton('Add photo');
    assert.ok((await page.text()).includes('pothole.png'), 'the photo is listed');
    await page.fillAndSubmit(
      {
        'What is wrong with the street light?': 'It does not come on at night',
        'Is it dangerous?': 'No',
        'Describe the problem': 'Dark every night this week.',
      },
      'Continue',
    );
    const reference = await finish(page, 'robin.map@example.com');
    const made = await site.server.running.services.reports.service.publicReport(reference);
    assert.equal(made?.assetId, id);
    await page.close();
  });

  test('JavaScript on: “Use my location” goes on with where the device is', async () => {
    const boundary = await site.server.running.services.geo.boundary();
    assert.ok(boundary);
    const latitude = (boundary.bbox.south + boundary.bbox.north) / 2;
    const longitude = (boundary.bbox.west + boundary.bbox.east) / 2;
    const page = await site.newPage({ javaScript: true });
    await page.context.grantPermissions(['geolocation']);
    await page.context.setGeolocation({ latitude, longitude });
    await page.visit('/report');
    await Promise.all([page.page.waitForURL(/\/report\/category\?lat=/), page.page.getByRole('button', { name: 'Use my location' }).click()]);
    await page.expectHeading('What is the problem?');
    assert.match(await page.text(), /Near \S/);
    page.expectNoScriptProblems();
    await page.close();
  });

  test('JavaScript off: the place is found by postcode', async () => {
    const { rows } = await sql<{ postcode: string }>`SELECT postcode FROM geo_addresses ORDER BY uprn LIMIT 1`.execute(
      site.server.running.platform.database.db,
    );
    const postcode = rows[0]?.postcode;
    assert.ok(postcode);
    const page = await site.newPage({ javaScript: false });
    await page.visit('/report');
    assert.equal(await page.page.locator('#report-map').isVisible(), false, 'no map without JavaScript');
    await page.submit('Search');
    await page.expectErrorSummary(['Enter a postcode, street name or address']);
    await page.fillAndSubmit({ 'Postcode, street name or address': postcode }, 'Search');
    await page.clickLink(new RegExp(postcode), page.page.locator('#places'));
    await page.expectHeading('What is the problem?');
    await page.submit('Continue');
    await page.expectErrorSummary(['Select the problem']);
    await page.fillAndSubmit({ Pothole: true }, 'Continue');
    await pastNearbyReports(page);
    assert.equal(page.path, '/report/details');
    await page.fillAndSubmit(
      {
        'How wide is it?': 'Larger than a car tyre',
        'How deep is it?': 'More than 10cm',
        'Is it a danger to road users?': 'Yes',
        'Describe the problem': 'A deep hole across the cycle lane.',
      },
      'Continue',
    );
    assert.ok(await page.page.locator('.govuk-warning-text').isVisible(), 'a dangerous pothole gets the emergency message');
    const reference = await finish(page, 'robin.postcode@example.com');
    assert.ok(await page.page.locator('.govuk-warning-text').isVisible(), 'and again on the confirmation');
    assert.equal((await site.server.running.services.reports.service.publicReport(reference))?.category.code, 'pothole');
    await page.close();
  });
});
