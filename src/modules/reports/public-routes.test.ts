import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { StaffMember } from '#modules/account/index';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import { tinyPng } from '../../../test/support/images.js';
import { browser, signIn } from '../account/residents/test-helpers.js';
import type { ReportsService } from './service.js';

const RESIDENT_PASSWORD = 'kingsmere-demo-resident';

/**
 * A strict enough check that a document is well-formed XML: one root element, every element
 * closed in order, attributes quoted, and `&` only in the five predefined or numeric references.
 */
function assertWellFormedXml(xml: string): void {
  assert.match(xml, /^<\?xml version="1\.0" encoding="utf-8"\?>\n/);
  const body = xml.slice(xml.indexOf('?>') + 2);
  const badReference = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const token = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: string[] = [];
  let roots = 0;
  let at = 0;
  while (at < body.length) {
    token.lastIndex = at;
    const m = token.exec(body);
    assert.ok(m, `not well-formed at: ${body.slice(at, at + 60)}`);
    at = token.lastIndex;
    const [, closing, name, attributes, selfClosing, text] = m;
    if (text !== undefined) {
      assert.doesNotMatch(text, badReference, `a bare & in: ${text}`);
      if (stack.length === 0) assert.equal(text.trim(), '', 'text outside the root element');
    } else if (closing) assert.equal(stack.pop(), name, `</${name}> closes another element`);
    else {
      assert.doesNotMatch(attributes ?? '', badReference, `a bare & in <${name}${attributes}>`);
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name ?? '');
    }
  }
  assert.deepEqual(stack, [], 'every element is closed');
  assert.equal(roots, 1, 'one root element');
}

const entriesOf = (xml: string): string[] => [...xml.matchAll(/<entry>[\s\S]*?<\/entry>/g)].map((m) => m[0]);

describe('public report pages, the list, the feed, following and alerts', () => {
  let t: TestApp;
  let reports: ReportsService;
  let officer: StaffMember;
  let centre: { lat: number; lng: number; postcode: string };
  let anyone: TestClient;

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    reports = t.services.reports.service;
    const found = await t.services.account.staff.findMemberByEmail('case-officer@kingsmere.example');
    assert.ok(found);
    officer = found;
    const address = (await t.services.geo.searchAddresses('market street', 1))[0];
    assert.ok(address?.postcode);
    centre = { lat: address.lat, lng: address.lng, postcode: address.postcode };
    anyone = browser(t);
  });
  after(async () => {
    await t.close();
  });

  /** Answers every question of a category with its first option, "no" or a few words. */
  function answersFor(code: string): Record<string, unknown> {
    const category = reports.category(code);
    assert.ok(category, code);
    return Object.fromEntries(
      category.questions.map((q) => {
        if ('options' in q) return [q.id, q.type === 'checkboxes' ? [q.options[0]?.value] : q.options[0]?.value];
        if (q.type === 'yesNo') return [q.id, 'no'];
        if (q.type === 'number') return [q.id, '1'];
        return [q.id, 'Blue'];
      }),
    );
  }

  const report = (category: string, overrides: Partial<Parameters<ReportsService['submit']>[0]> = {}) =>
    reports.submit({
      category,
      lat: centre.lat,
      lng: centre.lng,
      detail: 'Seen this morning',
      answers: answersFor(category),
      reporter: { name: 'Alex Reporter', email: 'alex.private@example.com', phone: '07700 900111', showName: false },
      source: 'web',
      ...overrides,
    });

  const changeStatus = (reference: string, to: string, update?: string) =>
    t.services.cases.service.changeStatus({ type: 'staff', member: officer }, reference, to, { update });

  async function emailBodies(recipient: string): Promise<{ subject: string; body: string }[]> {
    const messages = await t.services.notifier.listMessages({ recipient });
    return Promise.all(
      messages.map(async (m) => {
        const full = await t.services.notifier.getMessage(m.id);
        return { subject: m.subject ?? '', body: full?.body ?? '' };
      }),
    );
  }

  /** The path of the first link in the newest email to someone whose subject matches. */
  async function linkFromEmail(recipient: string, subject: RegExp, path: RegExp): Promise<string> {
    const message = (await emailBodies(recipient)).find((m) => subject.test(m.subject));
    assert.ok(message, `an email to ${recipient} about ${String(subject)}`);
    const link = [...message.body.matchAll(/https?:\/\/\S+/g)].map((m) => new URL(m[0])).find((u) => path.test(u.pathname));
    assert.ok(link, `a link matching ${String(path)} in: ${message.body}`);
    return link.pathname + link.search;
  }

  const followers = async (reference: string) => (await reports.publicReport(reference))?.followers;

  test('a report’s page shows its category, status and timeline, and nothing personal about the reporter', async () => {
    const { report: made } = await report('pothole', { lat: centre.lat + 0.0011, place: 'By the bus stop' });
    await changeStatus(made.reference, 'triage', 'An inspector will visit this week.');
    const res = await anyone.get(`/reports/${made.reference}`);
    assert.equal(res.statusCode, 200);
    const text = pageText(res.body);
    for (const expected of ['Pothole', made.reference, 'Investigating', 'By the bus stop', 'Seen this morning', 'An inspector will visit this week.'])
      assert.ok(text.includes(expected), `the page says ${expected}`);
    assert.ok(text.indexOf('Reported') < text.indexOf('An inspector will visit'), 'the timeline runs oldest first');
    for (const personal of ['Alex Reporter', 'alex.private@example.com', '07700 900111']) assert.ok(!res.body.includes(personal), `${personal} is not shown`);
    assert.match(res.body, /data-report-map data-mode="browse"[^>]* data-lat="[-\d.]+" data-lng="[-\d.]+"/);
    assert.match(res.body, new RegExp(`<script src="/assets/leaflet/leaflet.js" nonce="[^"]+">`));

    const named = (
      await report('pothole', { lat: centre.lat + 0.0012, reporter: { name: 'Alex Reporter', email: 'alex.private@example.com', showName: true } })
    ).report;
    const shown = await anyone.get(`/reports/${named.reference}`);
    assert.ok(pageText(shown.body).includes('Reported by Alex Reporter'));
    assert.ok(!shown.body.includes('alex.private@example.com'));
  });

  test('a duplicate’s page links to the report it duplicates', async () => {
    const original = (await report('pothole', { lat: centre.lat + 0.007 })).report;
    const copy = (await report('pothole', { lat: centre.lat + 0.00701 })).report;
    await reports.markDuplicate(officer, copy.reference, original.reference);
    const res = await anyone.get(`/reports/${copy.reference}`);
    assert.ok(pageText(res.body).includes(`Duplicate of Report ${original.reference}`));
    assert.ok(res.body.includes(`<a class="govuk-link" href="/reports/${original.reference}">Report ${original.reference}</a>`));
  });

  test('a reference typed in lower case or without its hyphen goes to the report; unknown ones are not found', async () => {
    const { report: made } = await report('graffiti', { lat: centre.lat + 0.0013 });
    const typed = made.reference.replace('-', '').toLowerCase();
    const res = await anyone.get(`/reports/${typed}?t=abc`);
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, `/reports/${made.reference}?t=abc`);
    assert.equal((await anyone.get('/reports/ZZZZ-9999')).statusCode, 404);
    assert.equal((await anyone.get('/reports/not-a-reference')).statusCode, 404);
  });

  test('an abandoned vehicle’s page gives its location only approximately', async () => {
    const lat = centre.lat + 0.00123456;
    const lng = centre.lng + 0.00123456;
    const { report: made } = await report('abandoned-vehicle', { lat, lng, place: 'Outside number 12 Acacia Avenue' });
    const res = await anyone.get(`/reports/${made.reference}`);
    assert.equal(res.statusCode, 200);
    assert.ok(pageText(res.body).includes('Shown approximately'));
    assert.ok(!res.body.includes('Acacia'), 'the resident’s words for the place are not shown');
    assert.ok(!res.body.includes(String(lat)) && !res.body.includes(String(lng)), 'the exact point is not in the page');
    assert.match(res.body, new RegExp(`data-lat="${made.lat}" data-lng="${made.lng}"`));
    assert.ok(Math.abs(made.lat - lat) < 0.001 && made.lat !== lat);
    const list = await anyone.get('/reports?category=abandoned-vehicle');
    assert.ok(list.body.includes(made.reference) && !list.body.includes('Acacia'));
    const feed = await anyone.get('/reports/feed.atom?category=abandoned-vehicle');
    assert.ok(feed.body.includes(made.reference) && !feed.body.includes('Acacia'));
  });

  test('hidden reports are not found, nor their photos', async () => {
    const { report: made } = await report('graffiti', { lat: centre.lat + 0.0014, photos: [{ bytes: tinyPng(), filename: 'wall.png' }] });
    const [photo] = (await reports.staffReport(officer, made.reference)).photos;
    assert.ok(photo);
    await reports.moderatePhoto(officer, made.reference, photo.id, 'approved');
    assert.equal((await anyone.get(`/reports/${made.reference}/photos/${photo.id}`)).statusCode, 200);
    await reports.moderate(officer, made.reference, { hidden: true }, 'Offensive words');
    assert.equal((await anyone.get(`/reports/${made.reference}`)).statusCode, 404);
    assert.equal((await anyone.get(`/reports/${made.reference}/photos/${photo.id}`)).statusCode, 404);
    assert.ok(!(await anyone.get('/reports?category=graffiti')).body.includes(made.reference));
  });

  test('photos are shown once a moderator approves them, and served as images', async () => {
    const { report: made } = await report('fly-tipping', {
      lat: centre.lat + 0.0015,
      photos: [{ bytes: tinyPng({ text: 'Taken by Alex' }), filename: 'heap.png' }],
    });
    const [photo] = (await reports.staffReport(officer, made.reference)).photos;
    assert.ok(photo);
    const path = `/reports/${made.reference}/photos/${photo.id}`;
    assert.ok(!(await anyone.get(`/reports/${made.reference}`)).body.includes('<img'));
    assert.equal((await anyone.get(path)).statusCode, 404);

    await reports.moderatePhoto(officer, made.reference, photo.id, 'approved');
    const page = await anyone.get(`/reports/${made.reference}`);
    assert.ok(page.body.includes(`<img class="govuk-!-width-full" src="${path}" alt="Photo 1 of the reported problem">`));
    const image = await anyone.get(path);
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.equal(image.headers['cache-control'], 'public, max-age=3600');
    assert.equal(image.headers['x-content-type-options'], 'nosniff');
    assert.ok(image.rawPayload.subarray(1, 4).equals(Buffer.from('PNG')));
    assert.ok(!image.rawPayload.includes(Buffer.from('Taken by Alex')), 'the metadata was removed');
    assert.equal((await anyone.get(`/reports/${made.reference}/photos/not-a-photo`)).statusCode, 404);
    assert.equal((await anyone.get(`/reports/${made.reference}/photos/00000000-0000-4000-8000-000000000000`)).statusCode, 404);
  });

  test('the list shows reports near a place, by category, status and age, a page at a time', async () => {
    const near = (await report('damaged-pavement', { lat: centre.lat + 0.002 })).report;
    const fixed = (await report('damaged-pavement', { lat: centre.lat + 0.0021 })).report;
    for (const to of ['triage', 'fixed']) await changeStatus(fixed.reference, to, 'Relaid');
    const old = (await report('damaged-pavement', { lat: centre.lat + 0.0022, reportedAt: new Date(Date.now() - 40 * 86_400_000) })).report;
    const far = (await report('damaged-pavement', { lat: centre.lat - 0.03 })).report;

    const around = await anyone.get(`/reports?q=${encodeURIComponent(centre.postcode)}&category=damaged-pavement`);
    assert.equal(around.statusCode, 200);
    const text = pageText(around.body);
    assert.ok(text.includes('Problems reported near'), 'the heading names the place');
    for (const r of [near, fixed, old]) assert.ok(around.body.includes(r.reference), `${r.reference} is near`);
    assert.ok(!around.body.includes(far.reference), 'a report 3 km away is not near');
    assert.match(text, /Reported today ?, \d+ metres away/);
    assert.ok(!around.body.includes('/reports/' + (await report('graffiti', { lat: centre.lat + 0.0023 })).report.reference), 'other categories are left out');
    assert.match(around.body, /<input class="govuk-checkboxes__input" id="category-\d+" name="category" type="checkbox" value="damaged-pavement" checked>/);

    const open = await anyone.get('/reports?category=damaged-pavement&status=open');
    assert.ok(open.body.includes(near.reference) && !open.body.includes(fixed.reference));
    const onlyFixed = await anyone.get('/reports?category=damaged-pavement&status=fixed');
    assert.ok(onlyFixed.body.includes(fixed.reference) && !onlyFixed.body.includes(near.reference));
    const recent = await anyone.get('/reports?category=damaged-pavement&age=30');
    assert.ok(recent.body.includes(near.reference) && !recent.body.includes(old.reference));
    assert.ok((await anyone.get('/reports?category=damaged-pavement&age=90')).body.includes(old.reference));

    const odd = await anyone.get('/reports?category=damaged-pavement&age=toString&status=constructor&page=0');
    assert.equal(odd.statusCode, 200, 'filters that are not offered are ignored');
    assert.ok(odd.body.includes(old.reference));

    const lost = await anyone.get('/reports?q=Qwxzv+Jkqy');
    assert.equal(lost.statusCode, 400);
    assert.match(lost.body, /govuk-error-summary/);
    assert.ok(pageText(lost.body).includes('We cannot find ‘Qwxzv Jkqy’'));
    assert.match(lost.body, /value="Qwxzv Jkqy"/);
  });

  test('the list pages twenty at a time, newest first', async () => {
    const made: string[] = [];
    for (let i = 0; i < 21; i++) made.push((await report('dog-fouling', { lat: centre.lat + 0.003 + i * 0.0001 })).report.reference);
    const first = await anyone.get('/reports?category=dog-fouling');
    const onFirst = made.filter((ref) => first.body.includes(`/reports/${ref}"`));
    assert.equal(onFirst.length, 20);
    assert.ok(!first.body.includes(`/reports/${made[0]}"`), 'the oldest is on the next page');
    assert.match(first.body, /class="govuk-pagination/);
    assert.ok(first.body.includes('href="/reports?category=dog-fouling&amp;page=2"'));
    const second = await anyone.get('/reports?category=dog-fouling&page=2');
    assert.ok(second.body.includes(`/reports/${made[0]}"`));
    assert.ok(second.body.includes('href="/reports?category=dog-fouling"'), 'a link back to page 1');
    assert.ok(pageText(second.body).includes('Showing 21 to 21'));
  });

  test('the Atom feed is well-formed and has an entry for each report the filters find', async () => {
    const odd = (await report('overgrown-vegetation', { lat: centre.lat + 0.004, place: 'Behind the "Crown & Anchor" <pub>' })).report;
    const other = (await report('overgrown-vegetation', { lat: centre.lat + 0.0041 })).report;
    const res = await anyone.get('/reports/feed.atom?category=overgrown-vegetation');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/atom+xml; charset=utf-8');
    assertWellFormedXml(res.body);
    assert.match(res.body, /<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom">/);
    for (const part of ['<id>', '<title>', '<updated>', '<link rel="self"', '<link rel="alternate"', '<author>']) assert.ok(res.body.includes(part), part);
    const entries = entriesOf(res.body);
    assert.equal(entries.length, 2);
    const entry = entries.find((e) => e.includes(odd.reference));
    assert.ok(entry);
    assert.match(entry, new RegExp(`<id>${t.config.baseUrl}/reports/${odd.reference}</id>`));
    assert.ok(entry.includes('Behind the &quot;Crown &amp; Anchor&quot; &lt;pub&gt;'), 'the place is escaped');
    assert.ok(entry.includes('Overgrown') && entry.includes('Status: Open'));
    for (const part of ['<title>', '<updated>', '<link rel="alternate"', '<summary type="text">']) assert.ok(entry.includes(part), part);
    assert.ok(entries.some((e) => e.includes(other.reference)));
    assert.ok(!res.body.includes('alex.private@example.com') && !res.body.includes('Alex Reporter'));

    const list = await anyone.get('/reports?category=overgrown-vegetation');
    assert.ok(list.body.includes('<link rel="alternate" type="application/atom+xml"'));
    assert.ok(list.body.includes('href="/reports/feed.atom?category=overgrown-vegetation"'));
    const none = await anyone.get('/reports/feed.atom?category=overgrown-vegetation&status=fixed');
    assertWellFormedXml(none.body);
    assert.equal(entriesOf(none.body).length, 0);
  });

  test('following by email: a confirmation link, then an email for each change, each with a way to stop them', async () => {
    const { report: made } = await report('pothole', { lat: centre.lat + 0.005 });
    const email = 'neighbour.one@example.com';
    const visitor = browser(t);
    await visitor.get(`/reports/${made.reference}`);
    const bad = await visitor.post(`/reports/${made.reference}/follow`, { email: 'not an email' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /govuk-error-summary/);
    assert.ok(pageText(bad.body).includes('Enter an email address in the correct format'));
    assert.match(bad.body, /value="not an email"/);

    const asked = await visitor.post(`/reports/${made.reference}/follow`, { email });
    assert.equal(asked.statusCode, 200);
    assert.ok(pageText(asked.body).includes('Check your email'));
    assert.equal(await followers(made.reference), 0, 'nothing happens until the link is opened');

    const link = await linkFromEmail(email, /Confirm you want updates/, /^\/reports\/confirm\//);
    const opened = await visitor.get(link);
    assert.equal(opened.statusCode, 200);
    assert.match(opened.body, /<button[^>]*>\s*Confirm\s*<\/button>/);
    assert.equal(await followers(made.reference), 0, 'opening the link (as a mail scanner would) confirms nothing');
    const confirmed = await visitor.post(link, {});
    assert.equal(confirmed.statusCode, 200);
    assert.ok(pageText(confirmed.body).includes('You will get updates on this report'));
    assert.equal(await followers(made.reference), 1);

    await changeStatus(made.reference, 'triage', 'Inspecting');
    const stop = await linkFromEmail(email, /Update on/, /^\/reports\/unsubscribe\//);
    const page = await visitor.get(stop);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<button[^>]*>\s*Stop these emails\s*<\/button>/);
    const stopped = await visitor.post(stop, {}, { csrf: false });
    assert.equal(stopped.statusCode, 200);
    assert.ok(pageText(stopped.body).includes('You will not get these emails any more'));
    assert.equal(await followers(made.reference), 0);

    const expired = await visitor.get('/reports/confirm/not-a-real-token');
    assert.equal(expired.statusCode, 400);
    assert.ok(pageText(expired.body).includes('This link has expired or is not valid'));
  });

  test('a signed-in resident follows with one button, with their account’s email address', async () => {
    const { report: made } = await report('pothole', { lat: centre.lat + 0.0051 });
    const sam = await signIn(t, 'sam.taylor@example.com', RESIDENT_PASSWORD);
    const page = await sam.get(`/reports/${made.reference}`);
    assert.ok(pageText(page.body).includes('We will email sam.taylor@example.com when this report is updated'));
    assert.ok(!page.body.includes('name="email"'));
    const res = await sam.post(`/reports/${made.reference}/follow`, {});
    assert.equal(res.statusCode, 303);
    const after = await sam.follow(res);
    assert.ok(pageText(after.body).includes('You are following this report'));
    assert.equal(await followers(made.reference), 1);
  });

  test('one-click unsubscribe (RFC 8058) works from a mail program, with no session or CSRF token', async () => {
    const { report: made } = await report('pothole', { lat: centre.lat + 0.0052 });
    await reports.follow(made.reference, 'mail.program@example.com');
    await reports.follow(made.reference, 'multipart.program@example.com');
    await changeStatus(made.reference, 'triage', 'Inspecting');
    const plain = await t.app.inject({
      method: 'POST',
      url: await linkFromEmail('mail.program@example.com', /Update on/, /^\/reports\/unsubscribe\//),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(plain.statusCode, 200);
    assert.equal(await followers(made.reference), 1);
    const boundary = 'one-click-boundary';
    const multipart = await t.app.inject({
      method: 'POST',
      url: await linkFromEmail('multipart.program@example.com', /Update on/, /^\/reports\/unsubscribe\//),
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    assert.equal(multipart.statusCode, 200);
    assert.equal(await followers(made.reference), 0);
    const forged = await t.app.inject({
      method: 'POST',
      url: '/reports/unsubscribe/forged',
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(forged.statusCode, 400);
  });

  test('alerts by ward and by area: confirmed by email, then each new report nearby is emailed with a link that stops them', async () => {
    const visitor = browser(t);
    const form = await visitor.get('/reports/alerts');
    assert.equal(form.statusCode, 200);
    const empty = await visitor.post('/reports/alerts', {});
    assert.equal(empty.statusCode, 400);
    const summary = pageText(empty.body);
    assert.ok(summary.indexOf('Choose whether you want alerts near a place or for a ward') < summary.indexOf('Enter your email address'));
    const noPlace = await visitor.post('/reports/alerts', { area: 'place', q: '', email: 'x@example.com' });
    assert.ok(pageText(noPlace.body).includes('Enter a postcode or street') && pageText(noPlace.body).includes('Choose how far from there'));
    assert.match(noPlace.body, /value="x@example.com"/);

    const ward = (await reports.locate(centre.lat, centre.lng)).wardCode;
    assert.ok(ward);
    assert.match(form.body, new RegExp(`<option value="${ward}"`));
    const byWard = 'ward.watcher@example.com';
    const asked = await visitor.post('/reports/alerts', { area: 'ward', ward, email: byWard });
    assert.equal(asked.statusCode, 200);
    assert.ok(pageText(asked.body).includes('Check your email'));
    const wardLink = await linkFromEmail(byWard, /Confirm your alert/, /^\/reports\/confirm\//);
    await visitor.get(wardLink);
    const wardSetUp = await visitor.post(wardLink, {});
    assert.ok(pageText(wardSetUp.body).includes('Your alert is set up'));

    const byArea = 'area.watcher@example.com';
    await visitor.get(`/reports/alerts?q=${encodeURIComponent(centre.postcode)}`);
    assert.match(visitor.lastHtml, new RegExp(`value="${centre.postcode}"`));
    assert.equal((await visitor.post('/reports/alerts', { area: 'place', q: centre.postcode, radius: '500', email: byArea })).statusCode, 200);
    const areaLink = await linkFromEmail(byArea, /Confirm your alert/, /^\/reports\/confirm\//);
    await visitor.get(areaLink);
    await visitor.post(areaLink, {});

    const before = (await emailBodies(byArea)).length;
    const { report: made } = await report('graffiti', { lat: centre.lat + 0.0005 });
    const wardMail = (await emailBodies(byWard)).find((m) => m.body.includes(made.reference));
    assert.ok(wardMail, 'the ward alert tells of the new report');
    const areaMails = await emailBodies(byArea);
    assert.equal(areaMails.length, before + 1);
    assert.match(areaMails[0]?.subject ?? '', /New report near you: Graffiti/);

    const stop = await linkFromEmail(byArea, /New report near you/, /^\/reports\/unsubscribe\//);
    await visitor.get(stop);
    assert.ok(pageText((await visitor.post(stop, {}, { csrf: false })).body).includes('You will not get these emails any more'));
    await report('graffiti', { lat: centre.lat + 0.0006 });
    assert.equal((await emailBodies(byArea)).length, before + 1, 'no more alerts after stopping them');
  });

  test('follow and alert requests are limited per address, as each sends an email', async () => {
    const { report: made } = await report('pothole', { lat: centre.lat + 0.0053 });
    const visitor = browser(t);
    await visitor.get(`/reports/${made.reference}`);
    const token = visitor.csrf();
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await visitor.post(`/reports/${made.reference}/follow`, { email: 'not an email' }, { csrf: token })).statusCode);
    assert.deepEqual(codes, [...Array(10).fill(400), 429]);
  });

  test('the reporter may say a fixed report is not fixed, with their link or signed in; nobody else is offered it', async () => {
    const { report: made, trackingToken } = await report('pothole', { lat: centre.lat + 0.006 });
    const visitor = browser(t);
    const openPage = await visitor.get(`/reports/${made.reference}?t=${trackingToken}`);
    assert.ok(!pageText(openPage.body).includes('This is not fixed'), 'not offered while it is open');
    const early = await visitor.post(`/reports/${made.reference}/not-fixed`, { t: trackingToken, details: '' });
    assert.equal(early.statusCode, 409);
    assert.ok(pageText(early.body).includes('A report can be reopened only within 28 days of being fixed'));

    for (const to of ['triage', 'fixed']) await changeStatus(made.reference, to, 'Filled');
    assert.ok(!pageText((await visitor.get(`/reports/${made.reference}`)).body).includes('This is not fixed'), 'not offered without the link');
    assert.ok(!pageText((await visitor.get(`/reports/${made.reference}?t=forged`)).body).includes('This is not fixed'), 'not offered with a forged link');
    const forged = await visitor.post(`/reports/${made.reference}/not-fixed`, { t: 'forged', details: 'Still there' });
    assert.equal(forged.statusCode, 403);
    assert.ok(pageText(forged.body).includes('Only the person who reported it can say it is not fixed.'));
    assert.equal((await reports.publicReport(made.reference))?.status, 'fixed');

    const page = await visitor.get(`/reports/${made.reference}?t=${encodeURIComponent(trackingToken)}`);
    assert.ok(pageText(page.body).includes('This is not fixed'));
    assert.ok(page.body.includes(`name="t" value="${trackingToken}"`));
    const res = await visitor.post(`/reports/${made.reference}/not-fixed`, { t: trackingToken, details: 'Still a hole' });
    assert.equal(res.statusCode, 303);
    const after = await visitor.follow(res);
    assert.ok(pageText(after.body).includes('The report is open again'));
    const reopened = await reports.publicReport(made.reference);
    assert.equal(reopened?.status, 'investigating');
    assert.match(reopened?.updates.at(-1)?.text ?? '', /not fixed: Still a hole/);
  });

  test('a signed-in resident who made the report is offered "not fixed"; another resident is not', async () => {
    const r = await sql<{ id: string }>`SELECT id FROM residents WHERE email = 'priya.shah@example.com'`.execute(t.platform.database.db);
    const priyaId = r.rows[0]?.id;
    assert.ok(priyaId);
    const { report: made } = await report('pothole', { lat: centre.lat + 0.0061, reporter: { residentId: priyaId, showName: false } });
    for (const to of ['triage', 'fixed']) await changeStatus(made.reference, to, 'Filled');
    const sam = await signIn(t, 'sam.taylor@example.com', RESIDENT_PASSWORD);
    assert.ok(!pageText((await sam.get(`/reports/${made.reference}`)).body).includes('This is not fixed'));
    const priya = await signIn(t, 'priya.shah@example.com', RESIDENT_PASSWORD);
    assert.ok(pageText((await priya.get(`/reports/${made.reference}`)).body).includes('This is not fixed'));
    const res = await priya.post(`/reports/${made.reference}/not-fixed`, { details: '' });
    assert.equal(res.statusCode, 303);
    assert.equal((await reports.publicReport(made.reference))?.status, 'investigating');
  });
});
