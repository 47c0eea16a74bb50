import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { addressAnswerOf } from '#modules/forms/runner/fields';
import { sql } from '#platform/db/index';
import { useSite, type BoroughPage } from '../support/browser.js';

/**
 * A form's location question and repeating group in Chromium, with axe on every page: with
 * JavaScript, the place is chosen on the map (by keyboard and by mouse) and checked like any other
 * answer; without it, there is no map, and addresses in each item of a group are found by postcode.
 * (Beside form-journeys.test.ts, whose walks through the shipped forms fill a file's time.)
 */

const site = useSite();

const PLACES = 'a-place-and-homes';
const places = {
  schemaVersion: 2,
  id: 'place_and_homes',
  slug: PLACES,
  title: 'Tell us about a place',
  sections: [{ id: 'all', title: 'The place' }],
  pages: [
    {
      id: 'where',
      slug: 'where',
      title: 'Where is it?',
      section: 'all',
      components: [{ type: 'location', id: 'place', label: 'Where is it?', shortLabel: 'the place' }],
    },
    {
      id: 'homes',
      slug: 'homes',
      title: 'Homes nearby',
      section: 'all',
      components: [
        {
          type: 'repeatingGroup',
          id: 'homes',
          label: 'Homes nearby',
          itemName: 'home',
          max: 3,
          components: [{ type: 'address', id: 'homeAddress', label: 'Address' }],
        },
      ],
    },
  ],
};

describe('a place on the map and addresses in a repeating group, with axe on every page', () => {
  let postcode = '';

  before(async () => {
    const { services, platform } = site.server.running;
    const published = await services.forms.service.publish(places, { actor: { type: 'system' } });
    assert.ok(published.ok, JSON.stringify(published));
    const row = (await sql<{ postcode: string }>`SELECT postcode FROM geo_addresses ORDER BY uprn LIMIT 1`.execute(platform.database.db)).rows[0];
    assert.ok(row, 'the demo gazetteer has addresses');
    postcode = row.postcode;
  });

  async function started(javaScript: boolean): Promise<BoroughPage> {
    const page = await site.newPage({ javaScript });
    await page.visit(`/forms/${PLACES}`);
    await page.clickButton('Start now');
    assert.equal(page.path, `/forms/${PLACES}/where`);
    return page;
  }

  /** The point the map has put in the page's hidden fields. */
  async function chosenPoint(page: BoroughPage): Promise<{ lat: number; lng: number }> {
    const lat = await page.page.locator('#place-lat').inputValue();
    const lng = await page.page.locator('#place-lng').inputValue();
    assert.match(lat, /^-?\d+\.\d{6}$/, 'the map filled in a latitude');
    assert.match(lng, /^-?\d+\.\d{6}$/, 'the map filled in a longitude');
    return { lat: Number(lat), lng: Number(lng) };
  }

  test('JavaScript on: a place outside the area is refused (keyboard), then one inside is chosen (mouse) and sent', async () => {
    const { geo } = site.server.running.services;
    const page = await started(true);
    const canvas = page.page.locator('#place-map .report-map__canvas');
    const boundary = page.page.locator('#place-map path.report-map__boundary');
    await boundary.waitFor();
    await page.checkAccessibility();
    await page.page.getByLabel('By choosing the place on a map', { exact: true }).check();

    // With the keyboard: move the map past the edge of the area, and Enter chooses its middle.
    await canvas.focus();
    let outside: { lat: number; lng: number } | undefined;
    for (let moves = 0; moves < 12 && !outside; moves += 1) {
      await page.page.keyboard.press('Shift+ArrowLeft');
      await page.page.waitForTimeout(350);
      await page.page.keyboard.press('Enter');
      const point = await chosenPoint(page);
      if (!(await geo.isInsideBoundary(point.lat, point.lng))) outside = point;
    }
    assert.ok(outside, 'the map can be moved outside the area with the keyboard');
    await page.page.locator('#place-map .report-map__marker--pin').waitFor();
    assert.match(await page.page.locator('#place-map .report-map__status').innerText(), /You chose a place on the map/);
    await page.clickButton('Continue');
    assert.equal(page.path, `/forms/${PLACES}/where`);
    await page.expectErrorSummary(['The location must be in the council’s area']);
    assert.equal(await page.page.getByLabel('By choosing the place on a map', { exact: true }).isChecked(), true, 'the map is still the way chosen');

    // With the mouse: the middle of the whole area, which the map shows again.
    await boundary.waitFor();
    assert.equal(await page.page.locator('#place-lat').inputValue(), '', 'the refused place is not kept');
    await canvas.click();
    const inside = await chosenPoint(page);
    assert.ok(await geo.isInsideBoundary(inside.lat, inside.lng), 'the middle of the map is in the area');
    await page.page.locator('#place-map .report-map__marker--pin').waitFor();
    await page.checkAccessibility();
    await page.clickButton('Continue');
    assert.equal(page.path, `/forms/${PLACES}/homes`);

    await page.fill('Postcode', postcode);
    await page.clickButton('Find address for home 1');
    await page.fillAndSubmit({ 'Select an address': (await geo.lookupPostcode(postcode))[0]?.singleLine ?? '' }, 'Continue');
    assert.equal(page.path, `/forms/${PLACES}/check-answers`);
    assert.ok((await page.text()).includes(`Map point ${inside.lat.toFixed(5)}, ${inside.lng.toFixed(5)}`), 'check answers shows the point');
    await page.clickButton('Accept and send');
    assert.equal(page.path, `/forms/${PLACES}/confirmation`);
    const reference = (await page.page.locator('.govuk-panel__body strong').innerText()).trim();
    const stored = await sql<{ answers: { place: Record<string, unknown> } }>`SELECT answers FROM form_submissions WHERE reference = ${reference}`.execute(
      site.server.running.platform.database.db,
    );
    const place = stored.rows[0]?.answers.place;
    assert.equal(place?.givenBy, 'map');
    assert.deepEqual([place?.lat, place?.lng], [inside.lat, inside.lng], 'the point chosen is the point sent');
    page.expectNoScriptProblems();
    await page.close();
  });

  test('JavaScript off: no map; the place by postcode, and the second home’s address found by postcode and chosen', async () => {
    const { geo } = site.server.running.services;
    const page = await started(false);
    assert.equal(await page.page.getByLabel('By choosing the place on a map', { exact: true }).isVisible(), false, 'no map without JavaScript');
    await page.fillAndSubmit({ 'Where is it?': 'By postcode', Postcode: postcode }, 'Continue');
    assert.equal(page.path, `/forms/${PLACES}/homes`);

    const [first, second] = [page.page.locator('#homes-0'), page.page.locator('#homes-1')];
    await first.getByLabel('Postcode', { exact: true }).fill(postcode);
    await page.clickButton('Add another home');
    assert.equal(await first.getByLabel('Postcode', { exact: true }).inputValue(), postcode, 'the first home’s postcode is kept');
    await second.getByLabel('Postcode', { exact: true }).fill('KM');
    await page.clickButton('Find address for home 2');
    await page.expectErrorSummary(['Home 2: Enter a full UK postcode, like AA1 1AA']);
    assert.equal(await first.getByLabel('Postcode', { exact: true }).inputValue(), postcode, 'the first home’s postcode is still kept');

    await second.getByLabel('Postcode', { exact: true }).fill(postcode);
    await page.clickButton('Find address for home 2');
    await page.expectNoErrorSummary();
    const addresses = await geo.lookupPostcode(postcode);
    const [firstAddress, chosen] = [addresses[0], addresses[addresses.length - 1]];
    assert.ok(firstAddress && chosen && addresses.length > 1, 'the postcode has more than one address');
    await second.getByLabel('Select an address', { exact: true }).selectOption({ label: chosen.singleLine });
    await page.clickButton('Find address for home 1');
    await first.getByLabel('Select an address', { exact: true }).selectOption({ index: 1 });
    assert.equal(await second.getByLabel('Select an address', { exact: true }).inputValue(), chosen.uprn, 'the second home’s choice is kept');
    await page.clickButton('Continue');
    assert.equal(page.path, `/forms/${PLACES}/check-answers`);
    const text = await page.text();
    assert.ok(text.includes(`Home 1 Address: ${addressAnswerOf(firstAddress).line1},`), 'check answers shows the address chosen for the first home');
    assert.ok(text.includes(`Home 2 Address: ${addressAnswerOf(chosen).line1},`), 'and the one chosen for the second');
    page.expectNoScriptProblems();
    await page.close();
  });
});
