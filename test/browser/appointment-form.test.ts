import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ADVICE_FORM, ADVICE_FORM_SLUG } from '../../src/modules/appointments/form-bookings.test-support.js';
import { useSite } from '../support/browser.js';

/**
 * A form with an appointment question, in Chromium with an accessibility audit of every page: the
 * resident chooses a time among the form's questions, checks the answers and sends the form, and
 * the confirmation gives the booking's reference. With JavaScript on and off.
 */

const site = useSite();

describe('booking an appointment inside a form', () => {
  before(async () => {
    const published = await site.server.running.services.forms.service.publish(ADVICE_FORM, { actor: { type: 'system' } });
    assert.ok(published.ok, JSON.stringify(published));
  });

  for (const javaScript of [false, true]) {
    test(`choose a time, check answers and send, JavaScript ${javaScript ? 'on' : 'off'}`, async () => {
      const page = await site.newPage({ javaScript });
      try {
        await page.visit(`/forms/${ADVICE_FORM_SLUG}`);
        await page.clickButton('Start now');
        await page.fillAndSubmit(
          { 'First name': 'Alex', 'Last name': javaScript ? 'Script' : 'Plain', 'Email address': `alex.${javaScript ? 'on' : 'off'}@example.com` },
          'Continue',
        );
        await page.fillAndSubmit({ 'What would you like advice about?': 'Paying my bill in instalments' }, 'Continue');
        await page.expectHeading('Choose a time to see an adviser');
        await page.submit('Continue');
        await page.expectErrorSummary(['Select a time']);
        // The first free time when JavaScript is off, the second when on, so the two runs do not meet.
        const choice = page.page.locator('input[name="visit"]').nth(javaScript ? 1 : 0);
        const when = (await page.page.locator(`label[for="${await choice.getAttribute('id')}"]`).innerText()).trim();
        await choice.check();
        await page.submit('Continue');
        await page.expectHeading('Check your answers before sending');
        assert.ok((await page.text()).includes(when), 'the time chosen is on check your answers');
        await page.submit('Accept and send');
        const text = await page.text();
        assert.match(text, /Booking reference [2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}/);
        assert.ok(text.includes(when));
      } finally {
        await page.close();
      }
    });
  }
});
