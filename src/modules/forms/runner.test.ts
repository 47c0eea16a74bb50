import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { shiftDate } from './model/dates.js';
import type { FormDefinitionInput } from './model/definition.js';

/** A form with every kind of question, to check each rule's message where the resident sees it. */
const everything: FormDefinitionInput = {
  schemaVersion: 2,
  id: 'everything',
  slug: 'everything',
  title: 'Every kind of question',
  sections: [{ id: 'all', title: 'All of it' }],
  pages: [
    {
      id: 'details',
      slug: 'details',
      title: 'Your details',
      section: 'all',
      components: [
        { type: 'text', id: 'fullName', label: 'Full name', minLength: 2, maxLength: 20, prefill: 'name' },
        { type: 'textarea', id: 'story', label: 'Story', maxLength: 50 },
        { type: 'number', id: 'children', label: 'Number of children', min: 1, max: 12 },
        { type: 'email', id: 'email', label: 'Email address', prefill: 'email' },
        { type: 'ukPhone', id: 'phone', label: 'Phone number' },
        { type: 'ukPhone', id: 'mobile', label: 'Mobile number', mobileOnly: true },
        { type: 'postcode', id: 'postcode', label: 'Postcode' },
        { type: 'date', id: 'dob', label: 'Date of birth', when: 'past' },
        { type: 'date', id: 'moveDate', label: 'Move date', when: 'future', latest: { today: { months: 6 } } },
        { type: 'time', id: 'time', label: 'Time' },
        {
          type: 'radios',
          id: 'colour',
          label: 'Colour',
          options: [
            { value: 'red', text: 'Red', reveals: [{ type: 'text', id: 'shade', label: 'Shade' }] },
            { value: 'blue', text: 'Blue' },
          ],
        },
        {
          type: 'checkboxes',
          id: 'help',
          label: 'Help',
          options: [
            { value: 'a', text: 'A' },
            { value: 'b', text: 'B' },
          ],
          none: { value: 'none', text: 'None of these' },
        },
        {
          type: 'select',
          id: 'ward',
          label: 'Ward',
          options: [
            { value: 'x', text: 'X' },
            { value: 'y', text: 'Y' },
          ],
        },
        { type: 'yesNo', id: 'agree', label: 'Do you agree?' },
        { type: 'name', id: 'applicant', label: 'Your name' },
        { type: 'declaration', id: 'declare', label: 'I confirm this is true', statement: 'Everything I have said is true.' },
      ],
    },
    {
      id: 'where',
      slug: 'where',
      title: 'Where',
      section: 'all',
      components: [
        { type: 'address', id: 'home', label: 'Home address' },
        { type: 'location', id: 'spot', label: 'The problem', methods: ['postcode', 'street', 'description'] },
      ],
    },
    {
      id: 'people',
      slug: 'people',
      title: 'Children',
      section: 'all',
      components: [
        {
          type: 'repeatingGroup',
          id: 'kids',
          label: 'Children',
          itemName: 'child',
          min: 1,
          max: 3,
          components: [{ type: 'text', id: 'kidName', label: 'Name of child' }],
        },
      ],
    },
    {
      id: 'files',
      slug: 'files',
      title: 'Evidence',
      section: 'all',
      components: [{ type: 'fileUpload', id: 'evidence', label: 'Evidence', accept: ['image/png'], maxBytes: 1000, minFiles: 1, maxFiles: 2 }],
    },
  ],
};

/** A place chosen on the map, and homes in a repeating group whose addresses are found by postcode. */
const places: FormDefinitionInput = {
  schemaVersion: 2,
  id: 'places',
  slug: 'places',
  title: 'Places and homes',
  sections: [{ id: 'all', title: 'All of it' }],
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
      title: 'Homes',
      section: 'all',
      components: [
        {
          type: 'repeatingGroup',
          id: 'homes',
          label: 'Homes',
          itemName: 'home',
          min: 1,
          max: 3,
          components: [
            { type: 'text', id: 'owner', label: 'Owner' },
            { type: 'address', id: 'homeAddress', label: 'Address' },
          ],
        },
      ],
    },
  ],
};

const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
const [ty, tm, td] = shiftDate(today, { days: 10 }).split('-');
const future = { 'moveDate-day': String(Number(td)), 'moveDate-month': String(Number(tm)), 'moveDate-year': ty ?? '' };

const valid: Record<string, string | string[]> = {
  fullName: 'Sam Taylor',
  story: 'A short story',
  children: '2',
  email: 'sam@example.com',
  phone: '01632 960 001',
  mobile: '07700 900 982',
  postcode: 'sw1a2aa',
  'dob-day': '4',
  'dob-month': '7',
  'dob-year': '1990',
  ...future,
  time: '2:30pm',
  colour: 'red',
  shade: 'Crimson',
  help: ['a', 'b'],
  ward: 'x',
  agree: 'yes',
  'applicant-firstName': 'Sam',
  'applicant-lastName': 'Taylor',
  declare: 'true',
};

/** Each rule: the fields to change, the message, and the id the error summary links to. */
const detailsRules: [string, Record<string, string | string[]>, string, string][] = [
  ['required text', { fullName: '' }, 'Enter full name', 'fullName'],
  ['text too long', { fullName: 'x'.repeat(21) }, 'Full name must be 20 characters or less', 'fullName'],
  ['text too short', { fullName: 'S' }, 'Full name must be 2 characters or more', 'fullName'],
  ['textarea too long', { story: 'y'.repeat(51) }, 'Story must be 50 characters or less', 'story'],
  ['not a number', { children: 'two' }, 'Number of children must be a number', 'children'],
  ['not whole', { children: '2.5' }, 'Number of children must be a whole number', 'children'],
  ['out of range', { children: '20' }, 'Number of children must be between 1 and 12', 'children'],
  ['email format', { email: 'sam.example.com' }, 'Enter an email address in the correct format, like name@example.com', 'email'],
  ['phone format', { phone: '12ab' }, 'Enter a UK phone number, like 01632 960 001 or 07700 900 982', 'phone'],
  ['mobile only', { mobile: '01632 960 001' }, 'Enter a UK mobile phone number, like 07700 900 982', 'mobile'],
  ['postcode format', { postcode: 'XYZ' }, 'Enter a full UK postcode, like AA1 1AA', 'postcode'],
  ['date missing a part', { 'dob-day': '' }, 'Date of birth must include a day', 'dob-day'],
  ['date not real', { 'dob-day': '31', 'dob-month': '2' }, 'Date of birth must be a real date', 'dob-day'],
  ['year digits', { 'dob-year': '90' }, 'Year must include 4 numbers', 'dob-year'],
  ['date in the past', { 'dob-year': String(Number(today.slice(0, 4)) + 1) }, 'Date of birth must be in the past', 'dob-day'],
  ['date in the future', { 'moveDate-year': '2001' }, 'Move date must be in the future', 'moveDate-day'],
  ['date too late', { 'moveDate-year': String(Number(today.slice(0, 4)) + 2) }, 'Move date must be the same as or before', 'moveDate-day'],
  ['time', { time: '25:00' }, 'Time must be a real time, like 9:30am or 14:30', 'time'],
  ['radios', { colour: '' }, 'Select colour', 'colour'],
  ['revealed follow-up', { shade: '' }, 'Enter shade', 'shade'],
  ['exclusive none', { help: ['a', 'none'] }, 'Select help, or select ‘None of these’', 'help'],
  ['select', { ward: '' }, 'Select ward', 'ward'],
  ['yes or no', { agree: '' }, 'Select yes or no', 'agree'],
  ['name part', { 'applicant-lastName': '' }, 'Enter last name', 'applicant-lastName'],
  ['declaration', { declare: '' }, 'Confirm you have read and agree to the declaration', 'declare'],
];

function errorLinks(html: string): { href: string; text: string }[] {
  const summary = /govuk-error-summary__list">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return [...summary.matchAll(/<a href="#([^"]+)">([^<]+)<\/a>/g)].map((m) => ({ href: m[1] ?? '', text: (m[2] ?? '').replace(/&#39;/g, "'") }));
}

function fieldMessages(html: string): string[] {
  return [...html.matchAll(/govuk-error-message">\s*<span class="govuk-visually-hidden">Error:<\/span>([^<]+)</g)].map((m) => (m[1] ?? '').trim());
}

describe('the form runner', () => {
  let t: TestApp;
  let postcode = '';
  let street = '';

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    for (const form of [everything, places]) {
      const published = await t.services.forms.service.publish(form, { actor: { type: 'system' } });
      assert.ok(published.ok, JSON.stringify(published));
    }
    const row = (
      await sql<{
        postcode: string;
        street: string;
      }>`SELECT a.postcode, s.name AS street FROM geo_addresses a JOIN geo_streets s ON s.usrn = a.usrn ORDER BY a.uprn LIMIT 1`.execute(t.platform.database.db)
    ).rows[0];
    assert.ok(row);
    postcode = row.postcode;
    street = row.street;
  });
  after(async () => t?.close());

  async function started(client: TestClient = t.client()): Promise<TestClient> {
    await client.get('/forms/everything');
    const res = await client.post('/forms/everything/start', {});
    assert.equal(res.headers.location, '/forms/everything/details');
    await client.get('/forms/everything/details');
    return client;
  }

  describe('every rule shows its message in the error summary and beside the field, and keeps the other answers', () => {
    for (const [rule, change, message, field] of detailsRules) {
      test(rule, async () => {
        const client = await started();
        const res = await client.post('/forms/everything/details', { ...valid, ...change, action: 'continue' });
        assert.equal(res.statusCode, 400);
        const links = errorLinks(res.body);
        assert.ok(
          links.some((link) => link.text.startsWith(message) && link.href === field),
          `summary has "${message}" linking to #${field}: ${JSON.stringify(links)}`,
        );
        assert.ok(
          fieldMessages(res.body).some((text) => text.startsWith(message)),
          `the field shows "${message}": ${JSON.stringify(fieldMessages(res.body))}`,
        );
        assert.ok(res.body.includes(`id="${field}"`), `#${field} exists for the summary link`);
        const others: Record<string, string> = { email: 'sam@example.com', mobile: '07700 900 982', shade: 'Crimson', story: 'A short story' };
        for (const [name, kept] of Object.entries(others)) if (!(name in change)) assert.ok(res.body.includes(kept), `${kept} is kept`);
        assert.match(res.body, /<title>Error: /, 'the title says there is an error');
      });
    }
  });

  test('valid answers are saved, dropped when hidden, and the runner moves on; prefill fills from the profile', async () => {
    const client = await started();
    const res = await client.post('/forms/everything/details', { ...valid, colour: 'blue', action: 'continue' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/forms/everything/where');
    const draftId = [
      ...(
        await sql<{ id: string; answers: Record<string, unknown> }>`SELECT id, answers FROM form_drafts ORDER BY updated_at DESC LIMIT 1`.execute(
          t.platform.database.db,
        )
      ).rows,
    ][0];
    assert.ok(draftId);
    assert.equal(draftId.answers.postcode, 'SW1A 2AA', 'postcodes are normalised');
    assert.equal(draftId.answers.time, '14:30');
    assert.equal(draftId.answers.dob, '1990-07-04');
    assert.equal(draftId.answers.shade, undefined, 'the follow-up of an option not chosen is dropped');
    assert.deepEqual(draftId.answers.help, ['a', 'b']);
  });

  describe('addresses, locations, repeating groups and files', () => {
    async function atWhere(): Promise<TestClient> {
      const client = await started();
      await client.post('/forms/everything/details', { ...valid, action: 'continue' });
      await client.get('/forms/everything/where');
      return client;
    }

    test('an address found by postcode, and the manual fallback with its rules', async () => {
      const client = await atWhere();
      let res = await client.post('/forms/everything/where', { 'home-mode': 'lookup', 'home-postcode': 'ZZ9 9ZZ', action: 'find:home' });
      assert.equal(res.statusCode, 400);
      assert.match(errorLinks(res.body)[0]?.text ?? '', /could not find an address/);
      res = await client.post('/forms/everything/where', { 'home-mode': 'lookup', 'home-postcode': postcode, action: 'find:home' });
      assert.equal(res.statusCode, 200);
      assert.match(pageText(res.body), /addresses? found/);
      res = await client.post('/forms/everything/where', {
        'home-mode': 'choose',
        'home-postcode': postcode,
        'home-uprn': '',
        'spot-method': 'street',
        'spot-street': street,
        action: 'continue',
      });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(
        errorLinks(res.body).map((e) => e.text),
        ['Select an address'],
      );
      assert.ok(res.body.includes(`value="${street}"`), 'the location answer is kept');
      const manual = { 'home-mode': 'manual', 'home-line1': '2 Mill Lane', 'home-town': 'Kingsmere', 'home-postcode': postcode };
      const rules: [Record<string, string>, string[]][] = [
        [
          { 'home-mode': 'manual', 'home-line1': '', 'home-town': '', 'home-postcode': 'nope', 'spot-method': '' },
          ['Enter address line 1, typically the building and street', 'Select how you will tell us where the problem is'],
        ],
        [
          { ...manual, 'home-town': '', 'spot-method': 'postcode', 'spot-postcode': 'ZZ9 9ZZ' },
          ['Enter town or city', 'Enter a postcode in the council’s area'],
        ],
        [
          { ...manual, 'home-postcode': 'bad', 'spot-method': 'street', 'spot-street': 'Qqxzv' },
          ['Enter a full UK postcode, like AA1 1AA', 'Enter the name of a street in the council’s area'],
        ],
        [{ ...manual, 'spot-method': 'description', 'spot-description': '' }, ['Describe the location']],
      ];
      for (const [fields, messages] of rules) {
        res = await client.post('/forms/everything/where', { ...fields, action: 'continue' });
        assert.equal(res.statusCode, 400);
        assert.deepEqual(
          errorLinks(res.body).map((e) => e.text),
          messages,
        );
      }
      res = await client.post('/forms/everything/where', {
        'home-mode': 'manual',
        'home-line1': '2 Mill Lane',
        'home-town': 'Kingsmere',
        'home-postcode': postcode,
        'spot-method': 'street',
        'spot-street': street,
        action: 'continue',
      });
      assert.equal(res.headers.location, '/forms/everything/people');
      const answers = (
        await sql<{ answers: Record<string, Record<string, unknown>> }>`SELECT answers FROM form_drafts ORDER BY updated_at DESC LIMIT 1`.execute(
          t.platform.database.db,
        )
      ).rows[0]?.answers;
      assert.equal(answers?.spot?.label, street);
      assert.equal(typeof answers?.spot?.lat, 'number', 'a street gives a point');
      assert.ok(answers?.spot?.usrn);
    });

    test('add another and remove keep what was typed; each item is checked', async () => {
      const client = await atWhere();
      await client.post('/forms/everything/where', {
        'home-mode': 'manual',
        'home-line1': '2 Mill Lane',
        'home-town': 'Kingsmere',
        'home-postcode': postcode,
        'spot-method': 'description',
        'spot-description': 'By the bridge',
        action: 'continue',
      });
      await client.get('/forms/everything/people');
      let res = await client.post('/forms/everything/people', { 'kids-items': '1', 'kids-0-kidName': 'Ada', action: 'add:kids' });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes('value="Ada"') && res.body.includes('name="kids-1-kidName"'), 'a second child is added, the first kept');
      res = await client.post('/forms/everything/people', { 'kids-items': '2', 'kids-0-kidName': 'Ada', 'kids-1-kidName': '', action: 'continue' });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(errorLinks(res.body), [{ href: 'kids-1-kidName', text: 'Child 2: Enter name of child' }]);
      res = await client.post('/forms/everything/people', { 'kids-items': '2', 'kids-0-kidName': 'Ada', 'kids-1-kidName': 'Bo', action: 'remove:kids:0' });
      assert.ok(res.body.includes('value="Bo"') && !res.body.includes('value="Ada"'), 'removing the first moves the second up');
      res = await client.post('/forms/everything/people', { 'kids-items': '1', 'kids-0-kidName': 'Bo', action: 'continue' });
      assert.equal(res.headers.location, '/forms/everything/files');
    });

    test('files are checked by content and size, kept on the draft, and can be removed', async () => {
      const client = await atWhere();
      await client.post('/forms/everything/where', {
        'home-mode': 'manual',
        'home-line1': '2 Mill Lane',
        'home-town': 'Kingsmere',
        'home-postcode': postcode,
        'spot-method': 'description',
        'spot-description': 'By the bridge',
        action: 'continue',
      });
      await client.get('/forms/everything/people');
      await client.post('/forms/everything/people', { 'kids-items': '1', 'kids-0-kidName': 'Bo', action: 'continue' });
      const page = await client.get('/forms/everything/files');
      assert.ok(page.body.includes('enctype="multipart/form-data"'));
      const token = client.csrf();
      const upload = (filename: string, bytes: Buffer, action: string) =>
        multipart(t, client, '/forms/everything/files', { _csrf: token, action }, { name: 'evidence', filename, bytes });
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100)]);
      let res = await upload('notes.png', Buffer.from('%PDF-1.4 pretending'), 'upload:evidence');
      assert.equal(res.statusCode, 400);
      assert.deepEqual(
        errorLinks(res.body).map((e) => e.text),
        ['The selected file must be a PNG'],
      );
      res = await upload('big.png', Buffer.concat([png, Buffer.alloc(2000)]), 'upload:evidence');
      assert.deepEqual(
        errorLinks(res.body).map((e) => e.text),
        ['The selected file must be smaller than 1000 bytes'],
      );
      res = await multipart(t, client, '/forms/everything/files', { _csrf: token, action: 'continue' });
      assert.deepEqual(
        errorLinks(res.body).map((e) => e.text),
        ['Select evidence'],
      );
      res = await upload('photo.png', png, 'upload:evidence');
      assert.equal(res.statusCode, 200);
      assert.match(pageText(res.body), /photo\.png/);
      res = await multipart(t, client, '/forms/everything/files', { _csrf: token, action: 'continue' });
      assert.equal(res.headers.location, '/forms/everything/check-answers');
      const check = await client.get('/forms/everything/check-answers');
      assert.match(pageText(check.body), /photo\.png/);
      assert.match(pageText(check.body), /Child 1 Name of child: Bo/);
    });
  });

  describe('a place chosen on the map', () => {
    const latest = async () =>
      (await sql<{ answers: Record<string, unknown> }>`SELECT answers FROM form_drafts ORDER BY updated_at DESC LIMIT 1`.execute(t.platform.database.db))
        .rows[0]?.answers ?? {};

    async function atPlace(): Promise<TestClient> {
      const client = t.client();
      await client.get('/forms/places');
      const res = await client.post('/forms/places/start', {});
      assert.equal(res.headers.location, '/forms/places/where');
      await client.get('/forms/places/where');
      return client;
    }

    /** A point in the council's area by a street, from the gazetteer, and one outside the area. */
    async function points() {
      const { rows } = await sql<{ lat: number; lng: number }>`SELECT lat, lng FROM geo_addresses ORDER BY uprn LIMIT 1`.execute(t.platform.database.db);
      const inside = rows[0];
      assert.ok(inside);
      const boundary = await t.services.geo.boundary();
      assert.ok(boundary);
      const outside = { lat: boundary.bbox.north + 0.05, lng: (boundary.bbox.west + boundary.bbox.east) / 2 };
      assert.equal(await t.services.geo.isInsideBoundary(outside.lat, outside.lng), false);
      return { inside: { lat: Number(inside.lat), lng: Number(inside.lng) }, outside };
    }

    test('the map is there for JavaScript to show, and without it the question is as before', async () => {
      const client = await atPlace();
      const page = await client.get('/forms/places/where');
      assert.match(page.body, /<div id="place-map-option" hidden>/, 'the map and its radio are hidden until the script shows them');
      assert.match(page.body, /data-report-map data-mode="pick-point"/);
      for (const attribute of ['data-lat-input="place-lat"', 'data-lng-input="place-lng"', 'data-form="place-map-option"', 'id="place-method-map"'])
        assert.ok(page.body.includes(attribute), attribute);
      assert.match(page.body, /<script type="module" src="\/assets\/js\/report-map.mjs" nonce="[^"]+"><\/script>/);
      assert.ok(page.body.includes('href="/assets/js/report-map.css"'));
      for (const method of ['postcode', 'street', 'description'])
        assert.match(page.body, new RegExp(`<input class="govuk-radios__input" id="place-method[^"]*" name="place-method" type="radio" value="${method}"`));
      assert.doesNotMatch(page.body, /data-lat="/, 'nothing chosen yet: the map shows the whole area');

      const noMap = await started();
      await noMap.post('/forms/everything/details', { ...valid, action: 'continue' });
      const where = await noMap.get('/forms/everything/where');
      assert.ok(!where.body.includes('report-map'), 'a location question without the map loads no map');
    });

    test('a point on the map is checked like the other ways: inside the area, named by the nearest street', async () => {
      const { inside, outside } = await points();
      const client = await atPlace();
      let res = await client.post('/forms/places/where', { 'place-method': 'map', 'place-lat': '', 'place-lng': '', action: 'continue' });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(errorLinks(res.body), [{ href: 'place-method-map', text: 'Select a point on the map' }]);

      res = await client.post('/forms/places/where', {
        'place-method': 'map',
        'place-lat': String(outside.lat),
        'place-lng': String(outside.lng),
        action: 'continue',
      });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(errorLinks(res.body), [{ href: 'place-method-map', text: 'The location must be in the council’s area' }]);
      assert.ok(fieldMessages(res.body).includes('The location must be in the council’s area'), 'the message is beside the question');
      assert.match(res.body, /id="place-method-map" name="place-method" type="radio" value="map" checked/, 'the map stays chosen');
      assert.match(res.body, /id="place-lat" name="place-lat" value=""/, 'the refused point is chosen again');
      assert.doesNotMatch(res.body, /data-lat="/);

      res = await client.post('/forms/places/where', {
        'place-method': 'map',
        'place-lat': inside.lat.toFixed(6),
        'place-lng': inside.lng.toFixed(6),
        'place-description': 'By the gate',
        action: 'continue',
      });
      assert.equal(res.headers.location, '/forms/places/homes');
      const answer = (await latest()).place as Record<string, unknown>;
      assert.equal(answer.givenBy, 'map');
      assert.equal(answer.lat, Number(inside.lat.toFixed(6)));
      assert.equal(answer.lng, Number(inside.lng.toFixed(6)));
      assert.equal(answer.description, 'By the gate');
      assert.equal(typeof answer.usrn, 'string', 'the nearest street is kept');
      const nearest = await t.services.geo.streetByUsrn(String(answer.usrn));
      assert.equal(answer.label, `Near ${nearest?.name}`);

      const again = await client.get('/forms/places/where');
      assert.match(again.body, /value="map" checked/, 'coming back, the map is the way chosen');
      assert.ok(again.body.includes(`data-lat="${Number(inside.lat.toFixed(6))}"`), 'and the map shows the point');
    });

    test('a point chosen without selecting the map’s radio is the map’s; the other ways are unchanged', async () => {
      const { inside } = await points();
      const client = await atPlace();
      let res = await client.post('/forms/places/where', { 'place-lat': String(inside.lat), 'place-lng': String(inside.lng), action: 'continue' });
      assert.equal(res.headers.location, '/forms/places/homes');
      assert.equal(((await latest()).place as Record<string, unknown>).givenBy, 'map');

      await client.get('/forms/places/where');
      res = await client.post('/forms/places/where', { 'place-method': '', 'place-lat': '', 'place-lng': '', action: 'continue' });
      assert.deepEqual(
        errorLinks(res.body).map((e) => e.text),
        ['Select how you will tell us where the place is'],
      );
      // A point left in the page by the map does not change an answer given another way.
      res = await client.post('/forms/places/where', {
        'place-method': 'postcode',
        'place-postcode': 'ZZ9 9ZZ',
        'place-lat': String(inside.lat),
        'place-lng': String(inside.lng),
        action: 'continue',
      });
      assert.deepEqual(
        errorLinks(res.body).map((e) => e.text),
        ['Enter a postcode in the council’s area'],
      );
      assert.match(res.body, /id="place-lat" name="place-lat" value=""/);
      res = await client.post('/forms/places/where', { 'place-method': 'street', 'place-street': street, 'place-lat': String(inside.lat), action: 'continue' });
      assert.equal(res.headers.location, '/forms/places/homes');
      const answer = (await latest()).place as Record<string, unknown>;
      assert.equal(answer.givenBy, 'street');
      assert.equal(answer.label, street);
      const again = await client.get('/forms/places/where');
      assert.match(again.body, /value="street" checked/);
      assert.doesNotMatch(again.body, /value="map" checked/);
      assert.doesNotMatch(again.body, /data-lat="/, 'the map does not pin a street as if it were a chosen point');
    });
  });

  describe('an address found by postcode in an item of a repeating group', () => {
    async function atHomes(): Promise<TestClient> {
      const client = t.client();
      await client.get('/forms/places');
      await client.post('/forms/places/start', {});
      await client.get('/forms/places/where');
      const res = await client.post('/forms/places/where', { 'place-method': 'description', 'place-description': 'The old mill', action: 'continue' });
      assert.equal(res.headers.location, '/forms/places/homes');
      await client.get('/forms/places/homes');
      return client;
    }
    const first = {
      'homes-items': '2',
      'homes-0-owner': 'Ada Lovelace',
      'homes-0-homeAddress-mode': 'manual',
      'homes-0-homeAddress-line1': '2 Mill Lane',
      'homes-0-homeAddress-town': 'Kingsmere',
      'homes-1-owner': 'Bo Peep',
    };

    test('a postcode that finds nothing gives its message on that item’s field, and keeps the other answers', async () => {
      const client = await atHomes();
      for (const [typed, message] of [
        ['', 'Enter a postcode'],
        ['not a postcode', 'Enter a full UK postcode, like AA1 1AA'],
        ['ZZ9 9ZZ', 'We could not find an address with that postcode. Check the postcode or enter the address manually'],
      ] as const) {
        const res = await client.post('/forms/places/homes', {
          ...first,
          'homes-0-homeAddress-postcode': postcode,
          'homes-1-homeAddress-mode': 'lookup',
          'homes-1-homeAddress-postcode': typed,
          action: 'find:homes-1-homeAddress',
        });
        assert.equal(res.statusCode, 400);
        assert.deepEqual(errorLinks(res.body), [{ href: 'homes-1-homeAddress-postcode', text: `Home 2: ${message}` }]);
        const item = res.body.slice(res.body.indexOf('id="homes-1"'));
        assert.ok(fieldMessages(item).includes(`Home 2: ${message}`), 'the message is beside the second home’s address');
        assert.ok(!fieldMessages(res.body.slice(0, res.body.indexOf('id="homes-1"'))).length, 'and not beside the first home’s');
        for (const kept of ['value="Ada Lovelace"', 'value="2 Mill Lane"', 'value="Bo Peep"', `value="${typed}"`]) assert.ok(res.body.includes(kept), kept);
      }
    });

    test('postcode, then the list, then the address chosen becomes the second item’s answer; the first item is kept', async () => {
      const client = await atHomes();
      let res = await client.post('/forms/places/homes', {
        ...first,
        'homes-0-homeAddress-postcode': postcode,
        'homes-1-homeAddress-mode': 'lookup',
        'homes-1-homeAddress-postcode': postcode.toLowerCase(),
        action: 'find:homes-1-homeAddress',
      });
      assert.equal(res.statusCode, 200);
      const addresses = await t.services.geo.lookupPostcode(postcode);
      const chosen = addresses[addresses.length - 1];
      assert.ok(chosen);
      assert.match(res.body, /<select class="govuk-select" id="homes-1-homeAddress-uprn" name="homes-1-homeAddress-uprn">/);
      assert.ok(res.body.includes(`<option value="${chosen.uprn}">`), 'the second home offers the addresses on the postcode');
      assert.ok(res.body.includes('name="homes-1-homeAddress-mode" value="choose"'));
      assert.ok(res.body.includes('name="homes-0-homeAddress-mode" value="manual"'), 'the first home is still entered by hand');
      for (const kept of ['value="Ada Lovelace"', 'value="2 Mill Lane"', 'value="Bo Peep"']) assert.ok(res.body.includes(kept), kept);

      // Continuing without choosing one asks for it, on the second home.
      const choosing = { ...first, 'homes-0-homeAddress-postcode': postcode, 'homes-1-homeAddress-mode': 'choose', 'homes-1-homeAddress-postcode': postcode };
      res = await client.post('/forms/places/homes', { ...choosing, 'homes-1-homeAddress-uprn': '', action: 'continue' });
      assert.deepEqual(errorLinks(res.body), [{ href: 'homes-1-homeAddress-uprn', text: 'Home 2: Select an address' }]);

      res = await client.post('/forms/places/homes', { ...choosing, 'homes-1-homeAddress-uprn': chosen.uprn, action: 'continue' });
      assert.equal(res.headers.location, '/forms/places/check-answers');
      const answers = (
        await sql<{ answers: { homes: Record<string, Record<string, string>>[] } }>`SELECT answers FROM form_drafts ORDER BY updated_at DESC LIMIT 1`.execute(
          t.platform.database.db,
        )
      ).rows[0]?.answers;
      assert.equal(answers?.homes.length, 2);
      assert.equal(answers?.homes[0]?.owner, 'Ada Lovelace');
      assert.deepEqual(answers?.homes[0]?.homeAddress, { line1: '2 Mill Lane', town: 'Kingsmere', postcode });
      assert.equal(answers?.homes[1]?.owner, 'Bo Peep');
      assert.equal(answers?.homes[1]?.homeAddress?.uprn, chosen.uprn);
      assert.equal(answers?.homes[1]?.homeAddress?.postcode, chosen.postcode);
    });

    test('the list can be left for manual entry and the postcode changed, in one item only', async () => {
      const client = await atHomes();
      const looking = {
        ...first,
        'homes-0-homeAddress-postcode': postcode,
        'homes-1-homeAddress-mode': 'choose',
        'homes-1-homeAddress-postcode': postcode,
        'homes-1-homeAddress-uprn': '',
      };
      let res = await client.post('/forms/places/homes', { ...looking, action: 'manual:homes-1-homeAddress' });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes('name="homes-1-homeAddress-mode" value="manual"') && res.body.includes('id="homes-1-homeAddress-line1"'));
      res = await client.post('/forms/places/homes', { ...looking, action: 'lookup:homes-1-homeAddress' });
      assert.ok(res.body.includes('name="homes-1-homeAddress-mode" value="lookup"'));
      assert.match(
        res.body,
        /value="find:homes-1-homeAddress"[^>]*>\s*Find address<span class="govuk-visually-hidden"> for home 2<\/span>/,
        'the second home can look its address up again, by a button whose name says whose it is',
      );
      assert.ok(res.body.includes('name="homes-0-homeAddress-mode" value="manual"'), 'the first home is unchanged');
    });
  });

  test('pages cannot be skipped by typing their address, and unknown forms are not found', async () => {
    const client = await started();
    const res = await client.get('/forms/everything/files');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/forms/everything/details');
    assert.equal((await client.get('/forms/no-such-form')).statusCode, 404);
    assert.equal((await t.client().get('/forms/everything/details')).headers.location, '/forms/everything', 'without a draft, back to the start');
  });

  test('the definition schema is published as JSON Schema', async () => {
    const res = await t.client().get('/api/forms/schema.json');
    assert.equal(res.statusCode, 200);
    const schema = JSON.parse(res.body) as { properties?: Record<string, unknown> };
    assert.ok(schema.properties?.pages && schema.properties.schemaVersion);
  });
});

/** Posts multipart form data as a browser does for a page with a file input. */
async function multipart(
  t: TestApp,
  client: TestClient,
  url: string,
  fields: Record<string, string>,
  file?: { name: string; filename: string; bytes: Buffer },
) {
  const boundary = '----borough-test-boundary';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    parts.push(file.bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return t.app.inject({ method: 'POST', url, payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie } });
}
