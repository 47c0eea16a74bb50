import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tinyPng } from '../support/images.js';
import { staffSignsIn, useSite } from '../support/browser.js';

/**
 * Street report triage in Chromium, with an accessibility audit of every page: a case officer finds
 * a new report in the triage list, responds from a template, approves its photo, and then hides a
 * report from the public without JavaScript.
 */

const site = useSite();

async function newPothole(detail: string, northBy: number): Promise<string> {
  const { services } = site.server.running;
  const [address] = await services.geo.searchAddresses('market street', 1);
  assert.ok(address, 'the demo gazetteer has Market Street');
  const { report } = await services.reports.service.submit({
    category: 'pothole',
    lat: address.lat + northBy,
    lng: address.lng,
    detail,
    answers: { size: 'plate-to-tyre', depth: 'over-10cm', danger: 'no' },
    photos: [{ bytes: tinyPng({ width: 24, height: 24 }), filename: 'hole.png' }],
    reporter: { name: 'Alex Reporter', email: 'alex.reporter@example.com', showName: false },
    source: 'web',
  });
  return report.reference;
}

describe('street report triage in the browser', () => {
  test('an officer responds to a new report from a template and approves its photo, with JavaScript', async () => {
    const reference = await newPothole('A deep hole by the bus stop', 0.0301);
    const officer = await site.newPage({ javaScript: true });
    await staffSignsIn(site, officer, 'case-officer');
    await officer.clickLink('Street reports');
    await officer.expectHeading('Street reports');
    await officer.clickLink(reference);
    await officer.expectHeading(`Report ${reference}`);

    await officer.page
      .getByLabel('Start from a response template (optional)')
      .selectOption({ label: 'Inspection booked (when moving to Awaiting inspection)' });
    await officer.clickButton('Use template');
    const update = await officer.page.getByLabel('Public update').inputValue();
    assert.match(update, /inspect/i, 'the template fills in the update');
    await officer.clickButton('Send response');
    await officer.expectNoErrorSummary();
    const text = await officer.text();
    assert.ok(text.includes(update.split('\n')[0] ?? ''), 'the update is on the timeline');

    await officer.clickButton(/^Approve/);
    assert.ok((await officer.text()).includes('Approved'));
    officer.expectNoScriptProblems();
    await officer.close();

    const visitor = await site.newPage({ javaScript: false });
    await visitor.visit(`/reports/${reference}`);
    const page = await visitor.text();
    assert.ok(page.includes('Investigating'), 'the public see the report status the case status maps to');
    assert.equal(await visitor.page.locator(`img[src^="/reports/${reference}/photos/"]`).count(), 1, 'the approved photo is public');
    await visitor.close();
  });

  test('an officer hides a report from the public, giving a reason, without JavaScript', async () => {
    const reference = await newPothole('Rude words about a neighbour', 0.0302);
    const officer = await site.newPage({ javaScript: false });
    await staffSignsIn(site, officer, 'case-officer');
    await officer.visit(`/staff/reports/${reference}`);
    await officer.fillAndSubmit({ 'Hidden from the public': true }, 'Save changes');
    await officer.expectErrorSummary(['Say why, for the audit trail']);
    await officer.fillAndSubmit({ 'Hidden from the public': true, 'Why are you making this change?': 'Names a neighbour' }, 'Save changes');
    await officer.expectNoErrorSummary();
    assert.ok((await officer.text()).includes('This report is hidden from the public'));
    await officer.close();

    const visitor = await site.newPage({ javaScript: false });
    const response = await visitor.page.goto(`${site.server.url}/reports/${reference}`);
    assert.equal(response?.status(), 404);
    await visitor.close();
  });
});
