import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ukDay } from '#platform/council/dates';
import { createTestApp, type TestApp, type TestClient } from '../../../test/support/app.js';
import { postMultipart } from '../../../test/support/multipart.js';
import { formatDate, shiftDate } from './model/dates.js';
import type { FormDefinitionInput } from './model/definition.js';

/** One page for each kind of answer, every question required, so each rule can be broken while the rest stay right. */
const rulesForm: FormDefinitionInput = {
  schemaVersion: 2,
  id: 'badInputRules',
  slug: 'bad-input-rules',
  title: 'Report a missed bin collection',
  pages: [
    {
      id: 'answers',
      slug: 'answers',
      title: 'About the collection',
      components: [
        { type: 'text', id: 'fullName', label: 'Full name' },
        { type: 'textarea', id: 'story', label: 'What happened' },
        { type: 'number', id: 'bins', label: 'Number of bins' },
        { type: 'email', id: 'email', label: 'Email address' },
        { type: 'ukPhone', id: 'phone', label: 'Phone number' },
        { type: 'postcode', id: 'postcode', label: 'Postcode' },
        { type: 'date', id: 'missedOn', label: 'Date of the collection', earliest: { today: { months: -3 } } },
        { type: 'time', id: 'putOut', label: 'Time the bins were put out' },
        {
          type: 'checkboxes',
          id: 'binTypes',
          label: 'Which bins were missed?',
          shortLabel: 'the bins that were missed',
          options: [
            { value: 'general', text: 'General waste' },
            { value: 'recycling', text: 'Recycling' },
            { value: 'garden', text: 'Garden waste' },
          ],
        },
        { type: 'name', id: 'occupier', label: 'Name of the occupier' },
      ],
    },
    {
      id: 'where',
      slug: 'where',
      title: 'Where',
      components: [
        { type: 'text', id: 'landmark', label: 'Nearest landmark' },
        { type: 'address', id: 'home', label: 'Home address' },
        { type: 'address', id: 'billing', label: 'Billing address', lookup: false },
        { type: 'location', id: 'spot', label: 'Where is the missed bin?', shortLabel: 'the missed bin', methods: ['postcode', 'street', 'description'] },
      ],
    },
    {
      id: 'bins',
      slug: 'bins',
      title: 'Your bins',
      components: [
        { type: 'text', id: 'householder', label: 'Householder' },
        {
          type: 'repeatingGroup',
          id: 'containers',
          label: 'Bins',
          itemName: 'bin',
          itemsName: 'wheelie bins',
          min: 2,
          max: 3,
          components: [{ type: 'text', id: 'serial', label: 'Serial number', optional: true }],
        },
      ],
    },
    {
      id: 'evidence',
      slug: 'evidence',
      title: 'Evidence',
      components: [
        { type: 'text', id: 'caption', label: 'What the photo shows' },
        { type: 'fileUpload', id: 'photo', label: 'Photo of the bins', accept: ['image/png'], maxBytes: 10_000 },
      ],
    },
  ],
};

const SLUG = 'bad-input-rules';
type Fields = Record<string, string | string[]>;

/** Ten days ago in UK time: inside the earliest bound. */
const [recentYear = '', recentMonth = '', recentDay = ''] = shiftDate(ukDay(), { days: -10 }).split('-');

/** Right answers for every page, as posted. */
const valid: Record<string, Fields> = {
  answers: {
    fullName: 'Robin Sentinel',
    story: 'The lorry passed our road without stopping',
    bins: '2',
    email: 'robin@example.com',
    phone: '01632 960 001',
    postcode: 'SW1A 2AA',
    'missedOn-day': String(Number(recentDay)),
    'missedOn-month': String(Number(recentMonth)),
    'missedOn-year': recentYear,
    putOut: '6:45am',
    binTypes: ['general', 'garden'],
    'occupier-firstName': 'Rowan',
    'occupier-lastName': 'Ashby',
  },
  where: {
    landmark: 'The post box',
    'home-mode': 'manual',
    'home-line1': '4 Mill Lane',
    'home-town': 'Kingsmere',
    'home-postcode': 'KM1 4AA',
    'billing-line1': '9 Quay Street',
    'billing-town': 'Portsford',
    'billing-postcode': 'PF2 9ZZ',
    'spot-method': 'description',
    'spot-description': 'By the gate of number 4',
  },
  bins: { householder: 'Sam Keeper', 'containers-items': '2', 'containers-0-serial': 'KM-001', 'containers-1-serial': 'KM-002' },
  evidence: { caption: 'Both bins full at the kerb' },
};

/** Each page's questions in order, by the id of each one's first input: a message belongs between the one before and its own. */
const firstInputs: Record<string, string[]> = {
  answers: ['fullName', 'story', 'bins', 'email', 'phone', 'postcode', 'missedOn-day', 'putOut', 'binTypes', 'occupier-firstName'],
  where: ['landmark', 'home-postcode', 'billing-line1', 'spot-method'],
  bins: ['householder', 'containers-0'],
  evidence: ['caption', 'photo'],
};

function errorLinks(html: string): { href: string; text: string }[] {
  const summary = /govuk-error-summary__list">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return [...summary.matchAll(/<a href="#([^"]+)">([^<]+)<\/a>/g)].map((m) => ({ href: m[1] ?? '', text: (m[2] ?? '').trim() }));
}

/** Messages shown beside fields, with where each is on the page. */
function fieldMessages(html: string): { text: string; at: number }[] {
  return [...html.matchAll(/govuk-error-message">\s*<span class="govuk-visually-hidden">Error:<\/span>([^<]+)</g)].map((m) => ({
    text: (m[1] ?? '').trim(),
    at: m.index,
  }));
}

/** What a page shows in a field: an input's value, a text area's text, or the boxes ticked. */
function shown(html: string, name: string): string | string[] | undefined {
  const area = new RegExp(`<textarea[^>]*\\sname="${name}"[^>]*>([\\s\\S]*?)</textarea>`).exec(html);
  if (area) return (area[1] ?? '').trim();
  const inputs = [...html.matchAll(new RegExp(`<input[^>]*\\sname="${name}"[^>]*>`, 'g'))].map((m) => m[0]);
  const ticked = inputs.filter((tag) => /\schecked/.test(tag)).map((tag) => /\svalue="([^"]*)"/.exec(tag)?.[1] ?? '');
  if (inputs.some((tag) => tag.includes('type="checkbox"'))) return ticked;
  if (inputs.some((tag) => tag.includes('type="radio"'))) return ticked[0] ?? '';
  const single = inputs[0];
  return single === undefined ? undefined : (/\svalue="([^"]*)"/.exec(single)?.[1] ?? '');
}

describe('bad input on a form page: each rule’s message in the error summary and beside its field, and the other answers kept', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp();
    const published = await t.services.forms.service.publish(rulesForm, { actor: { type: 'system' } });
    assert.ok(published.ok, JSON.stringify(published));
  });
  after(async () => t?.close());

  /** A resident part way through the form, on the page given, having answered the ones before it. */
  async function on(pageSlug: string): Promise<TestClient> {
    const client = t.client();
    await client.get(`/forms/${SLUG}`);
    let res = await client.post(`/forms/${SLUG}/start`, {});
    for (const page of rulesForm.pages) {
      assert.equal(res.headers.location, `/forms/${SLUG}/${page.slug}`);
      await client.get(`/forms/${SLUG}/${page.slug}`);
      if (page.slug === pageSlug) return client;
      res = await client.post(`/forms/${SLUG}/${page.slug}`, { ...(valid[page.slug] ?? {}), action: 'continue' });
    }
    throw new Error(`No page ${pageSlug}`);
  }

  /** The page refused the answers with this one message, linked to this field and shown beside it, and kept everything else. */
  function assertRefused(res: LightMyRequestResponse, page: string, message: string, field: string, changed: Fields): void {
    const html = res.body;
    assert.equal(res.statusCode, 400);
    assert.match(html, /<title>Error: /, 'the title says there is an error');
    assert.deepEqual(errorLinks(html), [{ href: field, text: message }], 'the error summary');
    const at = html.indexOf(` id="${field}"`);
    assert.ok(at > 0, `#${field} is on the page for the summary to link to`);
    const messages = fieldMessages(html);
    assert.deepEqual(
      messages.map((m) => m.text),
      [message],
      'one message beside a field',
    );
    const order = firstInputs[page] ?? [];
    const before = order[order.indexOf(field) - 1];
    const from = before === undefined ? html.indexOf('<form') : html.indexOf(` id="${before}"`);
    const beside = messages[0]?.at ?? -1;
    assert.ok(from < beside && beside < at, `the message is with its question, after ${before ?? 'the start of the form'} and before #${field}`);
    const group = html.lastIndexOf('govuk-form-group--error', beside);
    assert.ok(from < group, `the question with the message is marked as in error (a red bar beside it)`);
    for (const [name, value] of Object.entries(valid[page] ?? {})) {
      if (name in changed || name.endsWith('-mode') || name.endsWith('-items')) continue;
      assert.deepEqual(shown(html, name), value, `${name} is kept`);
    }
  }

  describe('a required answer left out', () => {
    const rules: [string, Fields, string, string][] = [
      ['long text', { story: '' }, 'Enter what happened', 'story'],
      ['number', { bins: '' }, 'Enter number of bins', 'bins'],
      ['email address', { email: '' }, 'Enter email address', 'email'],
      ['UK phone number', { phone: '' }, 'Enter phone number', 'phone'],
      ['postcode', { postcode: '  ' }, 'Enter postcode', 'postcode'],
      ['date', { 'missedOn-day': '', 'missedOn-month': '', 'missedOn-year': '' }, 'Enter date of the collection', 'missedOn-day'],
      ['time', { putOut: '' }, 'Enter time the bins were put out', 'putOut'],
      ['checkboxes', { binTypes: [] }, 'Select the bins that were missed', 'binTypes'],
      ['name', { 'occupier-firstName': '', 'occupier-lastName': '' }, 'Enter name of the occupier', 'occupier-firstName'],
    ];
    for (const [kind, change, message, field] of rules) {
      test(kind, async () => {
        const client = await on('answers');
        const res = await client.post(`/forms/${SLUG}/answers`, { ...valid.answers, ...change, action: 'continue' });
        assertRefused(res, 'answers', message, field, change);
      });
    }

    test('address found by postcode', async () => {
      const client = await on('where');
      const change = { 'home-mode': 'lookup', 'home-line1': '', 'home-town': '', 'home-postcode': '' };
      const res = await client.post(`/forms/${SLUG}/where`, { ...valid.where, ...change, action: 'continue' });
      // Looked up by postcode, the question's first input is the postcode.
      assertRefused(res, 'where', 'Enter home address', 'home-postcode', change);
    });

    test('address entered by hand', async () => {
      const client = await on('where');
      const change = { 'billing-line1': '', 'billing-town': '', 'billing-postcode': '' };
      const res = await client.post(`/forms/${SLUG}/where`, { ...valid.where, ...change, action: 'continue' });
      assertRefused(res, 'where', 'Enter billing address', 'billing-line1', change);
    });

    test('location', async () => {
      const client = await on('where');
      const change = { 'spot-method': '', 'spot-description': '' };
      const res = await client.post(`/forms/${SLUG}/where`, { ...valid.where, ...change, action: 'continue' });
      assertRefused(res, 'where', 'Select how you will tell us where the missed bin is', 'spot-method', change);
    });

    test('file', async () => {
      const client = await on('evidence');
      const res = await postMultipart(t, client, `/forms/${SLUG}/evidence`, { ...(valid.evidence as Record<string, string>), action: 'continue' });
      assertRefused(res, 'evidence', 'Select photo of the bins', 'photo', {});
    });

    test('fewer items than an add-another question’s minimum', async () => {
      const client = await on('bins');
      const change = { 'containers-1-serial': '' };
      const res = await client.post(`/forms/${SLUG}/bins`, { ...valid.bins, ...change, action: 'continue' });
      assertRefused(res, 'bins', 'Add at least 2 wheelie bins', 'containers-0', change);
    });
  });

  test('a date before a question’s earliest date, and the earliest date itself', async () => {
    const earliest = shiftDate(ukDay(), { months: -3 });
    const dayBefore = shiftDate(earliest, { days: -1 });
    const [year = '', month = '', day = ''] = dayBefore.split('-');
    const change = { 'missedOn-day': String(Number(day)), 'missedOn-month': String(Number(month)), 'missedOn-year': year };
    const client = await on('answers');
    const res = await client.post(`/forms/${SLUG}/answers`, { ...valid.answers, ...change, action: 'continue' });
    assertRefused(res, 'answers', `Date of the collection must be the same as or after ${formatDate(earliest)}`, 'missedOn-day', change);

    const [firstYear = '', firstMonth = '', firstDay = ''] = earliest.split('-');
    const accepted = await client.post(`/forms/${SLUG}/answers`, {
      ...valid.answers,
      'missedOn-day': firstDay,
      'missedOn-month': firstMonth,
      'missedOn-year': firstYear,
      action: 'continue',
    });
    assert.equal(accepted.statusCode, 303, 'the earliest date is allowed');
    assert.equal(accepted.headers.location, `/forms/${SLUG}/where`);
  });

  test('more items than an add-another question’s maximum', async () => {
    const client = await on('bins');
    const change = { 'containers-items': '4', 'containers-2-serial': 'KM-003', 'containers-3-serial': 'KM-004' };
    const res = await client.post(`/forms/${SLUG}/bins`, { ...valid.bins, ...change, action: 'continue' });
    assertRefused(res, 'bins', 'You can add up to 3 wheelie bins', 'containers-0', change);
    for (const serial of ['KM-003', 'KM-004']) assert.ok(res.body.includes(`value="${serial}"`), `${serial} is kept to be removed`);
  });
});
