import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { postMultipart, type UploadedFile } from '../../../test/support/multipart.js';
import { browser, signIn } from '../account/residents/test-helpers.js';
import type { ReportsService } from './service.js';
import { pngTakenAt, tinyPng } from '../../../test/support/images.js';

const RESIDENT_PASSWORD = 'kingsmere-demo-resident';

interface Place {
  postcode: string;
  lat: number;
  lng: number;
}

/* ---------------------------------------------------------------- reading pages */

const decode = (href: string) => href.replace(/&amp;/g, '&');
const location = (res: LightMyRequestResponse) => String(res.headers.location ?? '');

function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(m, `no hidden field ${name}`);
  return decode(m[1] ?? '');
}

function errorSummary(html: string): string[] {
  const summary = /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => (m[1] ?? '').trim());
}

function backLink(html: string): string | undefined {
  return /<a href="([^"]*)" class="govuk-back-link">/.exec(html)?.[1];
}

function titleOf(html: string): string {
  return pageText(/<title>([\s\S]*?)<\/title>/.exec(html)?.[1] ?? '');
}

describe('report a problem, without JavaScript', () => {
  let t: TestApp;
  let reports: ReportsService;
  /**
   * Postcodes whose first place (where a search for the postcode leads) has no open pothole or graffiti
   * report near it, one for each journey that needs a quiet place; the demo council has reports already.
   */
  const quiet: Place[] = [];

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    reports = t.services.reports.service;
    const postcodes = await sql<{ postcode: string }>`SELECT DISTINCT postcode FROM geo_addresses ORDER BY postcode`.execute(t.platform.database.db);
    for (const { postcode } of postcodes.rows) {
      const [first] = await reports.findPlaces(postcode, 1);
      if (!first || quiet.some((q) => Math.abs(q.lat - first.lat) < 0.003 && Math.abs(q.lng - first.lng) < 0.003)) continue;
      const near = await Promise.all(['pothole', 'graffiti'].map((code) => reports.openNearby(code, first.lat, first.lng, 150)));
      if (near.every((list) => list.length === 0)) quiet.push({ postcode, lat: first.lat, lng: first.lng });
      if (quiet.length === 8) break;
    }
    assert.equal(quiet.length, 8, 'the demo area has quiet places to report in');
  });
  after(async () => t?.close());

  const nextQuiet = (): Place => {
    const address = quiet.shift();
    assert.ok(address, 'a quiet place is left');
    return address;
  };

  /** Searches for a postcode and opens the category page for the first place found. */
  async function placeByPostcode(client: TestClient, postcode: string): Promise<string> {
    const found = await client.get(`/report?q=${encodeURIComponent(postcode)}`);
    assert.equal(found.statusCode, 200);
    const link = /href="(\/report\/category\?lat=[^"]+)"/.exec(found.body)?.[1];
    assert.ok(link, `a place is listed for ${postcode}`);
    const page = await client.get(decode(link));
    assert.equal(page.statusCode, 200);
    return page.body;
  }

  /** Chooses the category on its page; returns where the journey goes next. */
  async function chooseCategory(client: TestClient, html: string, category: string): Promise<string> {
    const res = await client.post('/report/category', { lat: hidden(html, 'lat'), lng: hidden(html, 'lng'), category });
    assert.equal(res.statusCode, 303);
    return location(res);
  }

  async function details(client: TestClient, fields: Record<string, string>, opts: { file?: UploadedFile; path?: string } = {}) {
    const path = opts.path ?? '/report/details';
    await client.get(path);
    return postMultipart(t, client, path, fields, opts.file ? { file: opts.file } : {});
  }

  async function aboutYou(client: TestClient, fields: Record<string, string>) {
    await client.get('/report/about');
    return client.post('/report/about', fields);
  }

  async function send(client: TestClient): Promise<{ res: LightMyRequestResponse; key: string; csrf: string }> {
    const check = await client.get('/report/check');
    assert.equal(check.statusCode, 200);
    const key = hidden(check.body, 'key');
    const csrf = client.csrf();
    return { res: await client.post('/report/check', { key }), key, csrf };
  }

  const referenceOf = (res: LightMyRequestResponse) => {
    const m = /^\/report\/sent\/(.+)$/.exec(location(res));
    assert.ok(m?.[1], `sent to the confirmation, not ${location(res)}`);
    return m[1];
  };

  test('a pothole by postcode with a photo, from search to confirmation; a second press makes no second report', async () => {
    const client = browser(t);
    const place = nextQuiet();

    const start = await client.get('/report');
    assert.equal(start.statusCode, 200);
    assert.equal(titleOf(start.body), 'Where is the problem? - Report a problem - Kingsmere Council online services');
    assert.match(start.body, /data-report-map data-mode="pick-point"/);
    assert.match(start.body, /src="\/assets\/leaflet\/leaflet.js" nonce="/);

    const empty = await client.get('/report?q=');
    assert.deepEqual(errorSummary(empty.body), ['Enter a postcode, street name or address']);
    assert.match(titleOf(empty.body), /^Error: Where is the problem\?/);
    const nothing = await client.get('/report?q=zzqqxx');
    assert.deepEqual(errorSummary(nothing.body), ['No places in Kingsmere match ‘zzqqxx’. Check the spelling, or enter a postcode or street name']);
    assert.match(nothing.body, /value="zzqqxx"/, 'the search is kept');

    const categoryPage = await placeByPostcode(client, place.postcode);
    assert.match(pageText(categoryPage), /What is the problem\? Near [A-Z]/);
    assert.match(categoryPage, /<legend[^>]*>\s*Roads and pavements\s*<\/legend>/);
    assert.match(pageText(categoryPage), /A pothole or other hole in the surface of a road or cycle path/, 'descriptions are hints');

    const unchosen = await client.post('/report/category', { lat: hidden(categoryPage, 'lat'), lng: hidden(categoryPage, 'lng') });
    assert.equal(unchosen.statusCode, 400);
    assert.deepEqual(errorSummary(unchosen.body), ['Select the problem']);

    assert.equal(await chooseCategory(client, categoryPage, 'pothole'), '/report/details');
    const form = await client.get('/report/details');
    assert.match(form.body, /enctype="multipart\/form-data"/);
    assert.equal(backLink(form.body), '/report/category');

    // Half filled in: the errors name what is missing and what was given stays.
    const partial = await postMultipart(t, client, '/report/details', { size: 'plate-to-tyre', description: '', action: 'continue' });
    assert.equal(partial.statusCode, 400);
    assert.deepEqual(errorSummary(partial.body), ['Select how deep is it', 'Select yes or no', 'Describe the problem']);
    assert.match(partial.body, /value="plate-to-tyre" checked/);

    // A photo is kept at once, with what was typed.
    await client.get('/report/details');
    const uploaded = await postMultipart(
      t,
      client,
      '/report/details',
      { size: 'plate-to-tyre', description: 'Deep hole by the drain', action: 'upload' },
      { file: { name: 'photos', filename: 'hole.png', type: 'image/png', bytes: tinyPng() } },
    );
    assert.equal(uploaded.statusCode, 303);
    const withPhoto = await client.get(location(uploaded));
    assert.match(withPhoto.body, /hole\.png/);
    assert.match(withPhoto.body, /value="remove-photo:[^"]+"/);
    assert.match(withPhoto.body, /Deep hole by the drain/);
    const notAnImage = await postMultipart(
      t,
      client,
      '/report/details',
      { description: 'Deep hole by the drain', action: 'upload' },
      { file: { name: 'photos', filename: 'notes.txt', type: 'text/plain', bytes: 'not a photo' } },
    );
    assert.equal(notAnImage.statusCode, 400);
    assert.deepEqual(errorSummary(notAnImage.body), ['The selected file must be a JPG, PNG or WebP image']);

    // A second photo, removed again.
    const second = await postMultipart(
      t,
      client,
      '/report/details',
      { size: 'plate-to-tyre', description: 'Deep hole by the drain', action: 'upload' },
      { file: { name: 'photos', filename: 'second.png', type: 'image/png', bytes: tinyPng() } },
    );
    const twoPhotos = await client.get(location(second));
    const remove = [...twoPhotos.body.matchAll(/value="(remove-photo:[^"]+)"/g)].map((m) => m[1] ?? '');
    assert.equal(remove.length, 2);
    await postMultipart(t, client, '/report/details', { size: 'plate-to-tyre', description: 'Deep hole by the drain', action: remove[1] ?? '' });
    const onePhoto = await client.get('/report/details');
    assert.ok(onePhoto.body.includes('hole.png') && !onePhoto.body.includes('second.png'), 'the second photo is removed');

    const done = await details(client, { size: 'plate-to-tyre', depth: 'over-10cm', danger: 'no', description: 'Deep hole by the drain', action: 'continue' });
    assert.equal(done.statusCode, 303);
    assert.equal(location(done), '/report/about');

    const missing = await aboutYou(client, { name: '', email: 'not-an-email', phone: '' });
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(errorSummary(missing.body), ['Enter your name', 'Enter an email address in the correct format, like name@example.com']);
    assert.match(missing.body, /value="not-an-email"/);
    const about = await client.post('/report/about', { name: 'Alex Reporter', email: 'alex.reporter@example.com', phone: '01632 960 001' });
    assert.equal(location(about), '/report/check');

    const check = await client.get('/report/check');
    const text = pageText(check.body);
    for (const expected of [
      'Pothole',
      'Between a dinner plate and a car tyre',
      'More than 10cm',
      'Deep hole by the drain',
      'hole.png',
      'Alex Reporter',
      'alex.reporter@example.com',
    ])
      assert.ok(text.includes(expected), `check your answers shows ${expected}`);
    for (const href of ['/report?change=1', '/report/category?change=1', '/report/details?change=1#depth', '/report/about?change=1#email'])
      assert.ok(check.body.includes(`href="${href}"`), `a change link to ${href}`);

    const { res: sent, key, csrf } = await send(client);
    assert.equal(sent.statusCode, 303);
    const reference = referenceOf(sent);
    const confirmation = await client.get(location(sent));
    assert.equal(confirmation.statusCode, 200);
    assert.match(confirmation.body, /govuk-panel/);
    assert.ok(pageText(confirmation.body).includes(`Your reference ${reference}`));
    assert.ok(pageText(confirmation.body).includes('We have sent a confirmation to alex.reporter@example.com'));
    assert.ok(confirmation.body.includes(`href="/reports/${reference}"`));
    assert.ok(!pageText(confirmation.body).includes('You can follow it in your account'), 'no account to follow it in');

    const mail = await sql<{ body: string }>`SELECT body FROM notification_outbox WHERE recipient = 'alex.reporter@example.com'`.execute(
      t.platform.database.db,
    );
    assert.ok(
      mail.rows.some((m) => m.body.includes(reference)),
      'the confirmation is emailed',
    );

    const again = await client.post('/report/check', { key }, { csrf });
    assert.equal(location(again), `/report/sent/${reference}`);
    const made = await sql<{ n: number }>`SELECT count(*)::int AS n FROM reports WHERE submission_key = ${key}`.execute(t.platform.database.db);
    assert.equal(made.rows[0]?.n, 1);

    const report = await reports.publicReport(reference);
    assert.equal(report?.category.code, 'pothole');
    assert.equal(report?.detail, 'Deep hole by the drain');
    assert.equal(report?.name, null, 'the name is not shown unless asked');
    const photos = await sql<{ n: number }>`SELECT count(*)::int AS n FROM report_photos WHERE reference = ${reference}`.execute(t.platform.database.db);
    assert.equal(photos.rows[0]?.n, 1);
    assert.equal((await client.get('/report/details')).headers.location, '/report', 'the draft is gone once sent');
  });

  test('a street light picked from the list of nearby lights; one with an open report offers following it instead', async () => {
    const client = browser(t);
    const place = nextQuiet();
    const categoryPage = await placeByPostcode(client, place.postcode);
    assert.equal(await chooseCategory(client, categoryPage, 'streetlight-fault'), '/report/asset');
    const list = await client.get('/report/asset');
    assert.equal(list.statusCode, 200);
    assert.match(titleOf(list.body), /^Which street light is it\?/);
    assert.match(list.body, /data-mode="pick-asset"[^>]*data-asset-kind="streetlight"/);
    const first = /name="asset" type="radio" value="([^"]+)"/.exec(list.body)?.[1];
    assert.ok(first, 'nearby lights are listed');
    assert.match(pageText(list.body), new RegExp(`Street light ${first}, \\d+ metres? away`));

    const none = await client.post('/report/asset', {});
    assert.equal(none.statusCode, 400);
    assert.deepEqual(errorSummary(none.body), ['Select the street light']);
    const picked = await client.post('/report/asset', { asset: first });
    assert.equal(location(picked), '/report/details');
    assert.match(pageText((await client.get('/report/details')).body), new RegExp(`Street light ${first}`));
    assert.equal(location(await details(client, { fault: 'out', danger: 'no', description: 'Dark all week', action: 'continue' })), '/report/about');
    assert.equal(location(await aboutYou(client, { name: 'Lee Light', email: 'lee@example.com' })), '/report/check');
    const reference = referenceOf((await send(client)).res);
    assert.equal((await reports.publicReport(reference))?.assetId, first);

    // A light further away than the list goes can be picked on the map: the report moves to it.
    const mapper = browser(t);
    await chooseCategory(mapper, await placeByPostcode(mapper, place.postcode), 'streetlight-fault');
    await mapper.get('/report/asset');
    const [start] = await reports.findPlaces(place.postcode, 1);
    assert.ok(start);
    const far = (await t.services.geo.nearbyAssets(start.lat, start.lng, 400, 'streetlight', 200)).find((a) => a.distanceMetres > 200);
    assert.ok(far, 'a street light beyond the list');
    const moved = await mapper.post('/report/asset', { mapAsset: far.id, lat: String(far.lat), lng: String(far.lng) });
    assert.equal(location(moved), '/report/details');
    assert.match(pageText((await mapper.get('/report/details')).body), new RegExp(`Street light ${far.id}`));
    const wrong = await mapper.post('/report/asset?change=1', { mapAsset: far.id, lat: String(start.lat + 0.01), lng: String(start.lng) });
    assert.equal(wrong.statusCode, 400, 'a light is picked only where it is');

    // The next person at the same place sees the light is reported and can follow that report.
    const neighbour = browser(t);
    await chooseCategory(neighbour, await placeByPostcode(neighbour, place.postcode), 'streetlight-fault');
    const again = await neighbour.get('/report/asset');
    assert.match(pageText(again.body), /Already reported: Reported today, last updated today/);
    assert.ok(again.body.includes(`href="/reports/${reference}"`));
    assert.ok(again.body.includes(`formaction="/reports/${reference}/follow"`));
    assert.match(again.body, /name="email" type="email"/, 'someone not signed in gives an email address to follow');
  });

  test('an open report of the same category within 50 metres is offered before the details', async () => {
    const place = nextQuiet();
    const { report } = await reports.submit({
      category: 'graffiti',
      lat: place.lat,
      lng: place.lng,
      detail: 'Tags on the wall',
      answers: Object.fromEntries(
        (reports.category('graffiti')?.questions ?? []).map((q) => [q.id, 'options' in q ? (q.options[0]?.value ?? '') : q.type === 'yesNo' ? 'no' : 'x']),
      ),
      reporter: { name: 'First Reporter', email: 'first@example.com', showName: false },
      source: 'web',
    });
    const client = browser(t);
    const categoryPage = await placeByPostcode(client, place.postcode);
    assert.equal(await chooseCategory(client, categoryPage, 'graffiti'), '/report/duplicates');
    const offered = await client.get('/report/duplicates');
    assert.match(titleOf(offered.body), /^Is it one of these\?/);
    assert.ok(offered.body.includes(`href="/reports/${report.reference}"`));
    assert.ok(offered.body.includes(`formaction="/reports/${report.reference}/follow"`));
    assert.match(pageText(offered.body), /Reported today, last updated today/);
    const different = await client.post('/report/duplicates', {});
    assert.equal(location(different), '/report/details');
    assert.equal(backLink((await client.get('/report/details')).body), '/report/duplicates');

    // A pothole at the same place is a different problem: nothing is offered.
    const other = browser(t);
    assert.equal(await chooseCategory(other, await placeByPostcode(other, place.postcode), 'pothole'), '/report/details');
  });

  test('a place outside the area gets a clear message and no way on', async () => {
    const client = browser(t);
    const outside = await client.get('/report?lat=51.5074&lng=-0.1278');
    assert.equal(outside.statusCode, 200);
    assert.ok(pageText(outside.body).includes('This location is outside the area Kingsmere Council looks after'));
    assert.ok(!outside.body.includes('href="/report/category'), 'no way forward');
    const direct = await client.get('/report/category?lat=51.5074&lng=-0.1278');
    assert.equal(location(direct), '/report?lat=51.5074&lng=-0.1278');
  });

  test('later steps cannot be opened before the earlier ones are done', async () => {
    const client = browser(t);
    for (const path of ['/report/asset', '/report/duplicates', '/report/details', '/report/about', '/report/check'])
      assert.equal(location(await client.get(path)), '/report', `${path} goes back to the start`);
    assert.equal(location(await client.get('/report/category')), '/report');
    await chooseCategory(client, await placeByPostcode(client, nextQuiet().postcode), 'pothole');
    assert.equal(location(await client.get('/report/about')), '/report/details');
    assert.equal(location(await client.get('/report/check')), '/report/details');
    assert.equal(location(await client.get('/report/asset')), '/report/details', 'a pothole has no asset to pick');
    assert.equal(location(await client.get('/report/sent/ABCD-1234')), '/reports/ABCD-1234', 'only the browser that sent a report sees its confirmation');
  });

  test('a photo taken elsewhere in the area is offered as the location; a lost photo sends the resident back to add it again', async () => {
    const client = browser(t);
    const [place, elsewhere] = [nextQuiet(), nextQuiet()];
    await chooseCategory(client, await placeByPostcode(client, place.postcode), 'pothole');
    await client.get('/report/details');
    const uploaded = await postMultipart(
      t,
      client,
      '/report/details',
      { action: 'upload' },
      { file: { name: 'photos', filename: 'street.png', type: 'image/png', bytes: pngTakenAt(elsewhere.lat, elsewhere.lng) } },
    );
    const page = await client.get(location(uploaded));
    assert.match(pageText(page.body), /Your photo street\.png was taken near .+\. Use that location instead\?/);
    const offer = /value="(use-photo-location:[^"]+)"/.exec(page.body)?.[1];
    assert.ok(offer);
    const moved = await postMultipart(t, client, '/report/details', { action: offer });
    assert.equal(location(moved), '/report/details');
    const after = await client.get('/report/details');
    assert.ok(!after.body.includes('use-photo-location'), 'the report is now where the photo was taken');

    await details(client, { size: 'smaller-than-plate', depth: 'under-4cm', danger: 'yes', description: 'Small but sharp', action: 'continue' });
    const about = await client.get('/report/about');
    assert.match(about.body, /govuk-warning-text/);
    assert.ok(pageText(about.body).includes('0161 496 0999'), 'the urgent message gives the out-of-hours number');
    await client.post('/report/about', { name: 'Pat', email: 'pat@example.com' });

    // The photo kept for the report is gone by the time it is sent.
    await sql`DELETE FROM report_photo_stash`.execute(t.platform.database.db);
    const { res } = await send(client);
    assert.equal(location(res), '/report/details?change=1');
    const back = await client.get('/report/details?change=1');
    assert.deepEqual(errorSummary(back.body), ['Add your photos again']);
    assert.match(back.body, /Small but sharp/, 'the description is kept');
    assert.match(back.body, /value="under-4cm" checked/, 'the answers are kept');
    const fixed = await details(
      client,
      { size: 'smaller-than-plate', depth: 'under-4cm', danger: 'yes', description: 'Small but sharp', action: 'continue' },
      { path: '/report/details?change=1' },
    );
    assert.equal(location(fixed), '/report/check', 'back to check your answers');
    const { res: sent } = await send(client);
    const confirmation = await client.get(location(sent));
    assert.match(confirmation.body, /govuk-warning-text/);
    const report = await reports.publicReport(referenceOf(sent));
    assert.ok(report && Math.abs(report.lat - elsewhere.lat) < 1e-5 && Math.abs(report.lng - elsewhere.lng) < 1e-5, 'the report is where the photo was taken');
  });

  test('one report can upload only so many photos, removed ones included, since each is stored', async () => {
    const client = browser(t);
    await chooseCategory(client, await placeByPostcode(client, nextQuiet().postcode), 'pothole');
    await client.get('/report/details');
    const upload = () =>
      postMultipart(
        t,
        client,
        '/report/details',
        { action: 'upload' },
        { file: { name: 'photos', filename: 'again.png', type: 'image/png', bytes: tinyPng() } },
      );
    for (let i = 0; i < 10; i++) {
      const added = await upload();
      assert.equal(added.statusCode, 303, `upload ${i + 1}`);
      const page = await client.get(location(added));
      const remove = /value="(remove-photo:[^"]+)"/.exec(page.body)?.[1];
      assert.ok(remove);
      await postMultipart(t, client, '/report/details', { action: remove });
    }
    const refused = await upload();
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(errorSummary(refused.body), ['You have added and removed too many photos for one report: send it with the ones you have']);
  });

  test('a signed-in resident gives no contact details, and the report is in their council activity', async () => {
    const client = await signIn(t, 'sam.taylor@example.com', RESIDENT_PASSWORD);
    await chooseCategory(client, await placeByPostcode(client, nextQuiet().postcode), 'graffiti');
    const graffiti = reports.category('graffiti');
    assert.ok(graffiti);
    const answers = Object.fromEntries(
      graffiti.questions.map((q) => [q.id, 'options' in q ? (q.options[0]?.value ?? '') : q.type === 'yesNo' ? 'no' : 'Spray paint']),
    );
    assert.equal(location(await details(client, { ...answers, description: 'Paint on the bus shelter', action: 'continue' })), '/report/about');
    const about = await client.get('/report/about');
    assert.ok(pageText(about.body).includes('sam.taylor@example.com'));
    assert.ok(!about.body.includes('name="email"'), 'no email address to give');
    assert.equal(location(await client.post('/report/about', { showName: 'yes' })), '/report/check');
    const { res } = await send(client);
    const reference = referenceOf(res);
    const confirmation = await client.get(location(res));
    assert.ok(pageText(confirmation.body).includes('We have sent a confirmation to sam.taylor@example.com'));
    assert.ok(pageText(confirmation.body).includes('You can follow it in your account'));
    const account = await client.get('/account');
    assert.ok(pageText(account.body).includes(reference), 'the report is listed on the account');
  });
});

describe('map GeoJSON', () => {
  let t: TestApp;
  let box = '';

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    const boundary = await t.services.geo.boundary();
    assert.ok(boundary);
    const middle = { lat: (boundary.bbox.south + boundary.bbox.north) / 2, lng: (boundary.bbox.west + boundary.bbox.east) / 2 };
    box = [middle.lng - 0.01, middle.lat - 0.01, middle.lng + 0.01, middle.lat + 0.01].join(',');
  });
  after(async () => t?.close());

  const json = (res: LightMyRequestResponse) =>
    JSON.parse(res.body) as {
      type: string;
      features: { geometry: { type: string }; properties: Record<string, unknown> }[];
      truncated?: boolean;
      bbox?: number[];
    };

  test('the boundary and wards', async () => {
    const res = await t.app.inject('/reports/map/boundary.geojson');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/geo\+json/);
    assert.match(String(res.headers['cache-control']), /^public, max-age=\d+$/);
    const body = json(res);
    assert.equal(body.type, 'FeatureCollection');
    assert.equal(body.bbox?.length, 4);
    assert.equal(body.features.filter((f) => f.properties.kind === 'boundary').length, 1);
    assert.equal(body.features.filter((f) => f.properties.kind === 'ward').length, 9);
    assert.ok(body.features.every((f) => f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon'));
  });

  test('streets and features in a box', async () => {
    const streets = json(await t.app.inject(`/reports/map/streets.geojson?bbox=${box}`));
    assert.ok(streets.features.length > 0);
    assert.ok(streets.features.every((f) => /LineString$/.test(f.geometry.type) && typeof f.properties.name === 'string'));
    assert.equal(streets.truncated, false);

    const res = await t.app.inject(`/reports/map/features.geojson?bbox=${box}&asset_kind=streetlight`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/geo\+json/);
    const features = json(res);
    assert.equal(typeof features.truncated, 'boolean');
    const assets = features.features.filter((f) => f.properties.type === 'asset');
    assert.ok(assets.length > 0);
    assert.ok(assets.every((f) => f.geometry.type === 'Point' && f.properties.kind === 'streetlight' && typeof f.properties.state === 'string'));
    const reported = features.features.filter((f) => f.properties.type === 'report');
    for (const f of reported) {
      assert.equal(f.properties.url, `/reports/${String(f.properties.reference)}`);
      assert.equal(typeof f.properties.statusName, 'string');
      assert.equal(typeof f.properties.ageDays, 'number');
    }
    const potholes = json(await t.app.inject(`/reports/map/features.geojson?bbox=${box}&category=pothole`));
    assert.ok(potholes.features.every((f) => f.properties.type === 'report' && f.properties.categoryCode === 'pothole'));
  });

  test('a missing, malformed or too large box, or an unknown kind or category, is refused', async () => {
    for (const query of [
      '',
      'bbox=1,2,3',
      'bbox=a,b,c,d',
      'bbox=-2.1,53.5,-2.2,53.6',
      `bbox=-2.3,53.4,-2.0,53.5`,
      `bbox=${box}&asset_kind=bench`,
      `bbox=${box}&category=nope`,
    ]) {
      const res = await t.app.inject(`/reports/map/features.geojson?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(typeof (JSON.parse(res.body) as { error: unknown }).error, 'string');
    }
    assert.equal((await t.app.inject('/reports/map/streets.geojson?bbox=-3,53,-2,54')).statusCode, 400);
  });
});
