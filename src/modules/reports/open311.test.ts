import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { COMMAND_LINE_ACTOR, type StaffMember } from '#modules/account/index';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { parseW3cTime } from './open311-documents.js';
import { DEMO_OPEN311_KEY } from './open311.js';
import { xmlDocument } from './open311-xml.js';
import type { ReportsService } from './service.js';

/** An element of a parsed XML answer. */
interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Reads the XML the API writes (elements and text only, no attributes), failing on anything
 * that is not well-formed: a stray `<` or `&`, a tag closed out of order, text outside the root.
 */
function parseXml(xml: string): XmlNode {
  const declaration = '<?xml version="1.0" encoding="utf-8"?>\n';
  assert.ok(xml.startsWith(declaration), 'starts with the XML declaration');
  const body = xml.slice(declaration.length).replace(/\n$/, '');
  const document: XmlNode = { name: '#document', children: [], text: '' };
  const stack = [document];
  let read = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z_][\w.-]*)>|([^<]+)/g)) {
    assert.equal(m.index, read, `well-formed at character ${read}: ${body.slice(read, read + 40)}`);
    read += m[0].length;
    const top = stack.at(-1);
    assert.ok(top);
    if (m[3] !== undefined) {
      assert.notEqual(top, document, 'no text outside the root element');
      assert.doesNotMatch(m[3], /&(?!(amp|lt|gt|quot|apos);)/, 'every & starts an entity');
      top.text += m[3].replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITY[name] ?? '');
    } else if (m[1]) {
      assert.equal(m[2], top.name, 'tags close in order');
      stack.pop();
    } else {
      const node: XmlNode = { name: m[2] ?? '', children: [], text: '' };
      top.children.push(node);
      stack.push(node);
    }
  }
  assert.equal(read, body.length, 'nothing left unread');
  assert.equal(stack.length, 1, 'every element is closed');
  assert.equal(document.children.length, 1, 'one root element');
  const [root] = document.children;
  assert.ok(root);
  return root;
}

const childrenOf = (node: XmlNode, name: string) => node.children.filter((c) => c.name === name);
function childOf(node: XmlNode, name: string): XmlNode {
  const found = node.children.find((c) => c.name === name);
  assert.ok(found, `<${node.name}> has <${name}>`);
  return found;
}
const textOf = (node: XmlNode, name: string) => childOf(node, name).text;

type Json = Record<string, unknown>;
type Errors = { code: number; description: string }[];

describe('Open311 GeoReport v2', () => {
  let testApp: TestApp;
  let reports: ReportsService;
  let officer: StaffMember;
  let centre: { lat: number; lng: number };
  let openKey: string;
  let readOnlyKey: string;

  before(async () => {
    testApp = await createTestApp({ seedDemo: true });
    reports = testApp.services.reports.service;
    const found = await testApp.services.account.staff.findMemberByEmail('case-officer@kingsmere.example');
    assert.ok(found);
    officer = found;
    const address = (await testApp.services.geo.searchAddresses('market street', 1))[0];
    assert.ok(address);
    centre = { lat: address.lat, lng: address.lng };
    const keys = testApp.services.account.apiKeys;
    openKey = (await keys.create(COMMAND_LINE_ACTOR, { name: 'Highways back office', scopes: ['reports:open311'] })).key;
    readOnlyKey = (await keys.create(COMMAND_LINE_ACTOR, { name: 'Case reader', scopes: ['cases:read'] })).key;
  });
  after(async () => {
    await testApp.close();
  });

  const get = (url: string) => testApp.app.inject({ method: 'GET', url });
  const getJson = async (url: string, status = 200) => {
    const res = await get(url);
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    return res.json<unknown>();
  };
  const getXml = async (url: string, status = 200) => {
    const res = await get(url);
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^text\/xml/);
    return parseXml(res.body);
  };
  const postForm = (url: string, fields: Record<string, string | string[]>) => {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
    return testApp.app.inject({ method: 'POST', url, payload: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  };

  let nudge = 0;
  /** A pothole request at a new point near the centre, so duplicates never matter. */
  const potholeFields = (overrides: Record<string, string | string[]> = {}) => {
    nudge += 1;
    return {
      api_key: openKey,
      service_code: 'pothole',
      lat: String(centre.lat + nudge * 0.0004),
      long: String(centre.lng),
      'attribute[size]': 'plate-to-tyre',
      'attribute[depth]': 'over-10cm',
      'attribute[danger]': 'no',
      description: 'A deep hole by the kerb',
      email: 'driver@example.com',
      first_name: 'Sam',
      last_name: 'Driver',
      ...overrides,
    };
  };
  const createRequest = async (overrides: Record<string, string | string[]> = {}) => {
    const res = await postForm('/open311/v2/requests.json', potholeFields(overrides));
    assert.equal(res.statusCode, 200, res.body);
    const [made] = res.json<Json[]>();
    assert.ok(made);
    return made as { service_request_id: string; token: string; service_notice: string; account_id: string };
  };
  const errorsOf = (res: { statusCode: number; json: <T>() => T }, status: number): Errors => {
    assert.equal(res.statusCode, status);
    const errors = res.json<Errors>();
    assert.ok(Array.isArray(errors) && errors.length > 0);
    for (const error of errors) assert.equal(error.code, status);
    return errors;
  };
  const update = (reference: string, status: string, description?: string) =>
    postForm('/open311/v2/servicerequestupdates.json', {
      api_key: openKey,
      service_request_id: reference,
      status,
      ...(description ? { description } : {}),
      updated_datetime: new Date().toISOString(),
    });

  describe('discovery and services', () => {
    test('discovery names the specification, this endpoint and both formats', async () => {
      const discovery = (await getJson('/open311/v2/discovery.json')) as Json;
      assert.match(String(discovery.contact), /contact@kingsmere\.example/);
      assert.match(String(discovery.key_service), /reports:open311/);
      const [endpoint] = discovery.endpoints as Json[];
      assert.deepEqual(endpoint, {
        specification: 'http://wiki.open311.org/GeoReport_v2',
        url: `${testApp.config.baseUrl}/open311/v2`,
        changeset: discovery.changeset,
        type: 'production',
        formats: ['text/xml', 'application/json'],
      });

      const xml = await getXml('/open311/v2/discovery.xml');
      assert.equal(xml.name, 'discovery');
      const xmlEndpoint = childOf(childOf(xml, 'endpoints'), 'endpoint');
      assert.equal(textOf(xmlEndpoint, 'url'), `${testApp.config.baseUrl}/open311/v2`);
      assert.deepEqual(
        childrenOf(childOf(xmlEndpoint, 'formats'), 'format').map((f) => f.text),
        ['text/xml', 'application/json'],
      );
    });

    test('services lists every public category, in JSON and XML', async () => {
      const services = (await getJson('/open311/v2/services.json')) as Json[];
      const publicCodes = reports
        .categories()
        .filter((c) => c.public)
        .map((c) => c.code);
      assert.deepEqual(
        services.map((s) => s.service_code),
        publicCodes,
      );
      assert.deepEqual(
        services.find((s) => s.service_code === 'pothole'),
        {
          service_code: 'pothole',
          service_name: 'Pothole',
          description: 'A pothole or other hole in the surface of a road or cycle path.',
          metadata: true,
          type: 'realtime',
          keywords: 'pothole,hole in the road,road surface,crater',
          group: 'Roads and pavements',
        },
      );

      const xml = await getXml('/open311/v2/services.xml');
      assert.equal(xml.name, 'services');
      const items = childrenOf(xml, 'service');
      assert.equal(items.length, services.length);
      const pothole = items.find((s) => textOf(s, 'service_code') === 'pothole');
      assert.ok(pothole);
      assert.equal(textOf(pothole, 'metadata'), 'true');
      assert.equal(textOf(pothole, 'group'), 'Roads and pavements');
    });

    test('a service definition turns the questions into attributes', async () => {
      const definition = (await getJson('/open311/v2/services/pothole.json')) as { service_code: string; attributes: Json[] };
      assert.equal(definition.service_code, 'pothole');
      assert.deepEqual(
        definition.attributes.map((a) => [a.code, a.datatype, a.required, a.order, a.variable]),
        [
          ['size', 'singlevaluelist', true, 1, true],
          ['depth', 'singlevaluelist', true, 2, true],
          ['danger', 'singlevaluelist', true, 3, true],
        ],
      );
      const [size, , danger] = definition.attributes;
      assert.equal(size?.description, 'How wide is it?');
      assert.deepEqual(size?.values, [
        { key: 'smaller-than-plate', name: 'Smaller than a dinner plate' },
        { key: 'plate-to-tyre', name: 'Between a dinner plate and a car tyre' },
        { key: 'larger-than-tyre', name: 'Larger than a car tyre' },
      ]);
      assert.deepEqual(danger?.values, [
        { key: 'yes', name: 'Yes' },
        { key: 'no', name: 'No' },
      ]);
      assert.match(String(danger?.datatype_description), /deep enough to damage a car/);

      const xml = await getXml('/open311/v2/services/pothole.xml');
      assert.equal(xml.name, 'service_definition');
      const attributes = childrenOf(childOf(xml, 'attributes'), 'attribute');
      assert.equal(attributes.length, 3);
      const values = childrenOf(childOf(attributes[0] as XmlNode, 'values'), 'value');
      assert.deepEqual(
        values.map((v) => [textOf(v, 'key'), textOf(v, 'name')]),
        [
          ['smaller-than-plate', 'Smaller than a dinner plate'],
          ['plate-to-tyre', 'Between a dinner plate and a car tyre'],
          ['larger-than-tyre', 'Larger than a car tyre'],
        ],
      );
    });

    test('other question types and the asset become attributes of their own kinds', async () => {
      const light = (await getJson('/open311/v2/services/streetlight-fault.json')) as { attributes: Json[] };
      assert.deepEqual(
        light.attributes.map((a) => [a.code, a.datatype, a.required, a.order]),
        [
          ['asset_id', 'string', true, 1],
          ['fault', 'singlevaluelist', true, 2],
          ['danger', 'singlevaluelist', true, 3],
        ],
      );
      assert.match(String(light.attributes[0]?.description), /street light/);
      const flyTipping = (await getJson('/open311/v2/services/fly-tipping.json')) as { attributes: Json[] };
      assert.equal(flyTipping.attributes[0]?.datatype, 'multivaluelist');
      const vehicle = (await getJson('/open311/v2/services/abandoned-vehicle.json')) as { attributes: Json[] };
      const registration = vehicle.attributes.find((a) => a.code === 'registration');
      assert.equal(registration?.datatype, 'string');
      assert.equal(registration?.required, false);
      assert.match(String(registration?.datatype_description), /up to 10 characters/);
    });

    test('an unknown service is a 404 error list, in the format asked for', async () => {
      const errors = (await getJson('/open311/v2/services/no-such-thing.json', 404)) as Errors;
      assert.equal(errors[0]?.code, 404);
      assert.match(String(errors[0]?.description), /no-such-thing/);
      const xml = await getXml('/open311/v2/services/no-such-thing.xml', 404);
      assert.equal(xml.name, 'errors');
      const error = childOf(xml, 'error');
      assert.equal(textOf(error, 'code'), '404');
      assert.match(textOf(error, 'description'), /not a service/);
    });

    test('unknown addresses and formats are 404 error lists', async () => {
      assert.equal(((await getJson('/open311/v2/nothing-here.json', 404)) as Errors)[0]?.code, 404);
      assert.equal(textOf(childOf(await getXml('/open311/v2/nothing/here.xml', 404), 'error'), 'code'), '404');
      assert.match(String(((await getJson('/open311/v2/services.html', 404)) as Errors)[0]?.description), /use \.json or \.xml/);
    });
  });

  describe('making requests', () => {
    test('without a key, or with a bad one, is refused with 403', async () => {
      const { api_key: _, ...keyless } = potholeFields();
      assert.match(errorsOf(await postForm('/open311/v2/requests.json', keyless), 403)[0]?.description ?? '', /api_key is required/);
      assert.match(
        errorsOf(await postForm('/open311/v2/requests.json', potholeFields({ api_key: 'bk_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' })), 403)[0]
          ?.description ?? '',
        /not valid/,
      );
      const xml = await postForm('/open311/v2/requests.xml', potholeFields({ api_key: 'wrong' }));
      assert.equal(xml.statusCode, 403);
      assert.equal(textOf(childOf(parseXml(xml.body), 'error'), 'code'), '403');
    });

    test('a key without the reports:open311 scope is refused', async () => {
      const errors = errorsOf(await postForm('/open311/v2/requests.json', potholeFields({ api_key: readOnlyKey })), 403);
      assert.match(errors[0]?.description ?? '', /scope reports:open311/);
    });

    test('the demo key makes a report whose case exists, and its token finds it', async () => {
      const made = await createRequest({ api_key: DEMO_OPEN311_KEY });
      assert.match(made.service_request_id, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      assert.equal(made.service_notice, '');
      const opened = await testApp.services.cases.service.repo.caseByReference(made.service_request_id);
      assert.equal(opened?.type, 'pothole');
      assert.equal(opened?.channel, 'api');
      assert.deepEqual((opened?.details as { report: { answers: Json } }).report.answers, { size: 'plate-to-tyre', depth: 'over-10cm', danger: false });

      assert.deepEqual(await getJson(`/open311/v2/tokens/${made.token}.json`), [{ token: made.token, service_request_id: made.service_request_id }]);
      const xml = await getXml(`/open311/v2/tokens/${made.token}.xml`);
      assert.equal(textOf(childOf(xml, 'request'), 'service_request_id'), made.service_request_id);
      await getJson('/open311/v2/tokens/no-such-token.json', 404);
    });

    test('a key with the scope makes a report, answered in XML too', async () => {
      const res = await postForm('/open311/v2/requests.xml', potholeFields());
      assert.equal(res.statusCode, 200, res.body);
      const request = childOf(parseXml(res.body), 'request');
      const reference = textOf(request, 'service_request_id');
      assert.ok(await testApp.services.cases.service.repo.caseByReference(reference));
      assert.ok(textOf(request, 'token'));
    });

    test('a JSON body works as a form does', async () => {
      nudge += 1;
      const res = await testApp.app.inject({
        method: 'POST',
        url: '/open311/v2/requests.json',
        payload: {
          api_key: openKey,
          service_code: 'fly-tipping',
          lat: centre.lat - nudge * 0.0004,
          long: centre.lng,
          attribute: { what: ['household', 'tyres'], amount: 'van' },
          description: 'Bags and tyres',
          email: 'walker@example.com',
          first_name: 'Kim',
        },
      });
      assert.equal(res.statusCode, 200, res.body);
      const [made] = res.json<Json[]>();
      const opened = await testApp.services.cases.service.repo.caseByReference(String(made?.service_request_id));
      assert.deepEqual((opened?.details as { report: { answers: Json } }).report.answers, { what: ['household', 'tyres'], amount: 'van' });
    });

    test('a multivaluelist is posted as attribute[code][], and an urgent answer gives the emergency notice', async () => {
      nudge += 1;
      const res = await postForm('/open311/v2/requests.json', {
        api_key: openKey,
        service_code: 'fly-tipping',
        lat: String(centre.lat - nudge * 0.0004),
        long: String(centre.lng),
        'attribute[what][]': ['household', 'hazardous'],
        'attribute[amount]': 'car-boot',
        description: 'Drums leaking by the path',
        email: 'walker@example.com',
        first_name: 'Kim',
        last_name: 'Walker',
      });
      assert.equal(res.statusCode, 200, res.body);
      const [made] = res.json<Json[]>();
      assert.match(String(made?.service_notice), /0161 496 0999/);
      const opened = await testApp.services.cases.service.repo.caseByReference(String(made?.service_request_id));
      assert.equal(opened?.priority, 'urgent');
      assert.deepEqual((opened?.details as { report: { answers: Json } }).report.answers.what, ['household', 'hazardous']);
    });

    test('address_string is looked up when there is no lat and long', async () => {
      const { lat: _lat, long: _long, ...fields } = potholeFields({ address_string: 'Market Street' });
      const res = await postForm('/open311/v2/requests.json', fields);
      assert.equal(res.statusCode, 200, res.body);
      const [made] = res.json<Json[]>();
      const report = await reports.publicReport(String(made?.service_request_id));
      const [place] = await reports.findPlaces('Market Street', 1);
      assert.ok(report && place);
      assert.equal(report.lat, place.lat);
      assert.equal(report.lng, place.lng);

      const { lat: _a, long: _b, ...nowhere } = potholeFields({ address_string: 'Qwertyuiop Zzzz' });
      assert.match(errorsOf(await postForm('/open311/v2/requests.json', nowhere), 400)[0]?.description ?? '', /^address_string: no street/);
      const { lat: _c, long: _d, ...placeless } = potholeFields();
      assert.match(errorsOf(await postForm('/open311/v2/requests.json', placeless), 400)[0]?.description ?? '', /lat and long, or address_string/);
    });

    test('bad input is a 400 list with an error per field, naming the attributes', async () => {
      const res = await postForm(
        '/open311/v2/requests.json',
        potholeFields({ 'attribute[size]': 'enormous', 'attribute[depth]': '', 'attribute[danger]': 'perhaps', description: ' ', email: 'not-an-email' }),
      );
      const descriptions = errorsOf(res, 400).map((e) => e.description);
      assert.deepEqual(
        descriptions.map((d) => d.split(':')[0]),
        ['attribute[size]', 'attribute[depth]', 'attribute[danger]', 'description', 'email'],
      );
      assert.match(descriptions[2] ?? '', /yes or no/);

      const early = errorsOf(
        await postForm('/open311/v2/requests.json', potholeFields({ service_code: 'moon-crater', lat: '91', media_url: 'file:///etc' })),
        400,
      );
      assert.deepEqual(
        early.map((e) => e.description.split(':')[0]),
        ['service_code', 'lat and long', 'media_url'],
      );

      const light = errorsOf(
        await postForm('/open311/v2/requests.json', potholeFields({ service_code: 'streetlight-fault', 'attribute[asset_id]': 'nope' })),
        400,
      );
      assert.ok(light.some((e) => e.description.startsWith('attribute[asset_id]: Choose the street light')));
      assert.ok(light.some((e) => e.description.startsWith('attribute[fault]: ')));
    });

    test('a media_url is kept in the description as a link and never fetched', async () => {
      const made = await createRequest({ media_url: 'https://photos.example.com/hole.jpg' });
      const report = await reports.publicReport(made.service_request_id);
      assert.equal(report?.detail, 'A deep hole by the kerb\n\nPhoto: https://photos.example.com/hole.jpg');
    });

    test('the same client_request_id from the same client makes one report', async () => {
      const fields = potholeFields({ client_request_id: 'crm-4411' });
      const first = await postForm('/open311/v2/requests.json', fields);
      const second = await postForm('/open311/v2/requests.json', fields);
      assert.equal(first.json<Json[]>()[0]?.service_request_id, second.json<Json[]>()[0]?.service_request_id);
      const other = await postForm('/open311/v2/requests.json', { ...fields, api_key: DEMO_OPEN311_KEY });
      assert.notEqual(other.json<Json[]>()[0]?.service_request_id, first.json<Json[]>()[0]?.service_request_id);
    });
  });

  test('posts are rate limited per address, with the refusal as an error list', async () => {
    const from = (remoteAddress: string) =>
      testApp.app.inject({
        method: 'POST',
        url: '/open311/v2/requests.xml',
        payload: 'service_code=pothole',
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 120; i++) statuses.push((await from('10.31.1.1')).statusCode);
    assert.deepEqual(new Set(statuses), new Set([403]));
    const limited = await from('10.31.1.1');
    assert.equal(limited.statusCode, 429);
    assert.equal(textOf(childOf(parseXml(limited.body), 'error'), 'code'), '429');
    assert.equal((await from('10.31.1.2')).statusCode, 403);
  });

  test('the demo key is refused when the platform is not a demo', async () => {
    const live = await createTestApp({ env: { BOROUGH_DEMO: 'false' } });
    try {
      const res = await live.app.inject({
        method: 'POST',
        url: '/open311/v2/requests.json',
        payload: new URLSearchParams(potholeFields({ api_key: DEMO_OPEN311_KEY })).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(res.statusCode, 403);
      assert.match(res.json<Errors>()[0]?.description ?? '', /not valid/);
    } finally {
      await live.close();
    }
  });

  describe('reading requests', () => {
    let pothole: string;
    let closedPothole: string;
    let graffiti: string;
    let vehicle: string;

    before(async () => {
      pothole = (await createRequest({ description: 'Kerb <broken> & "sharp" edges' })).service_request_id;
      closedPothole = (await createRequest()).service_request_id;
      assert.equal((await update(closedPothole, 'INVESTIGATING')).statusCode, 200);
      assert.equal((await update(closedPothole, 'FIXED', 'Filled and sealed')).statusCode, 200);
      nudge += 1;
      const madeGraffiti = await reports.submit({
        category: 'graffiti',
        lat: centre.lat,
        lng: centre.lng + nudge * 0.0004,
        detail: 'Tags on the bus shelter',
        answers: { offensive: 'no', surface: 'street-furniture' },
        reporter: { name: 'A', email: 'a@example.com', showName: false },
        source: 'web',
      });
      graffiti = madeGraffiti.report.reference;
      const madeVehicle = await reports.submit({
        category: 'abandoned-vehicle',
        lat: centre.lat + 0.00012345,
        lng: centre.lng + 0.00054321,
        detail: 'Not moved for weeks',
        answers: { makeAndModel: 'Ford Focus', colour: 'Blue', howLong: 'over-month', dangerous: 'no' },
        reporter: { name: 'B', email: 'b@example.com', showName: false },
        source: 'web',
      });
      vehicle = madeVehicle.report.reference;
    });

    const idsOf = (list: unknown) => (list as Json[]).map((r) => String(r.service_request_id));

    test('by default, public requests of the last 90 days, newest first, with the fields the specification lists', async () => {
      const list = (await getJson('/open311/v2/requests.json')) as Json[];
      const ids = idsOf(list);
      for (const id of [pothole, closedPothole, graffiti, vehicle]) assert.ok(ids.includes(id), id);
      assert.ok(ids.indexOf(vehicle) < ids.indexOf(pothole), 'newest first');
      const fixed = list.find((r) => r.service_request_id === closedPothole);
      assert.ok(fixed);
      assert.deepEqual(Object.keys(fixed).sort(), [
        'address',
        'address_id',
        'agency_responsible',
        'description',
        'expected_datetime',
        'lat',
        'long',
        'media_url',
        'requested_datetime',
        'service_code',
        'service_name',
        'service_notice',
        'service_request_id',
        'status',
        'status_notes',
        'updated_datetime',
        'zipcode',
      ]);
      assert.equal(fixed.status, 'closed');
      assert.equal(fixed.status_notes, 'Filled and sealed');
      assert.equal(fixed.service_name, 'Pothole');
      assert.equal(fixed.agency_responsible, 'Kingsmere Metropolitan Borough Council');
      assert.match(String(fixed.requested_datetime), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.equal(typeof fixed.lat, 'number');
    });

    test('filters by service_code, status and dates; bad ones are 400', async () => {
      const graffitiOnly = (await getJson('/open311/v2/requests.json?service_code=graffiti')) as Json[];
      assert.ok(graffitiOnly.length >= 1 && graffitiOnly.every((r) => r.service_code === 'graffiti'));
      assert.ok(idsOf(await getJson('/open311/v2/requests.json?service_code=graffiti,pothole')).includes(pothole));

      const closed = idsOf(await getJson('/open311/v2/requests.json?status=closed'));
      assert.ok(closed.includes(closedPothole) && !closed.includes(pothole));
      const open = idsOf(await getJson('/open311/v2/requests.json?status=open&service_code=pothole'));
      assert.ok(open.includes(pothole) && !open.includes(closedPothole));
      assert.equal(idsOf(await getJson('/open311/v2/requests.json?status=open,closed')).includes(closedPothole), true);

      const hour = 3_600_000;
      const future = new Date(Date.now() + hour).toISOString();
      assert.deepEqual(await getJson(`/open311/v2/requests.json?start_date=${future}`), []);
      const past = new Date(Date.now() - hour).toISOString().replace('Z', '+00:00');
      // An unencoded + arrives as a space, and still counts as the offset it was.
      assert.ok(idsOf(await getJson(`/open311/v2/requests.json?start_date=${past}`)).includes(pothole));
      assert.ok(idsOf(await getJson(`/open311/v2/requests.json?start_date=${encodeURIComponent(past)}&end_date=${future}`)).includes(pothole));
      // Given only an end date, the 90 days before it.
      const longAgo = new Date(Date.now() - 100 * 86_400_000).toISOString();
      assert.deepEqual(await getJson(`/open311/v2/requests.json?end_date=${longAgo}`), []);

      const wrong = (await getJson('/open311/v2/requests.json?start_date=yesterday&status=pending&service_code=moon-crater', 400)) as Errors;
      assert.deepEqual(
        wrong.map((e) => e.description.split(':')[0]),
        ['service_code', 'status', 'start_date'],
      );
      const tooLong = (await getJson(`/open311/v2/requests.json?start_date=${longAgo}&end_date=${future}`, 400)) as Errors;
      assert.match(tooLong[0]?.description ?? '', /at most 90 days apart/);
      await getJson('/open311/v2/requests.json?start_date=2026-02-30', 400);
    });

    test('service_request_id lists the requests asked for and overrides the other filters', async () => {
      const list = await getJson(`/open311/v2/requests.json?service_request_id=${pothole},${graffiti.toLowerCase()}&status=closed&service_code=dog-fouling`);
      assert.deepEqual(idsOf(list).sort(), [pothole, graffiti].sort());
    });

    test('page_size and page go through the list', async () => {
      const all = idsOf(await getJson('/open311/v2/requests.json'));
      assert.deepEqual(idsOf(await getJson('/open311/v2/requests.json?page_size=1')), all.slice(0, 1));
      assert.deepEqual(idsOf(await getJson('/open311/v2/requests.json?page_size=2&page=2')), all.slice(2, 4));
      const closedAll = idsOf(await getJson('/open311/v2/requests.json?status=open'));
      assert.deepEqual(idsOf(await getJson('/open311/v2/requests.json?status=open&page_size=1&page=2')), closedAll.slice(1, 2));
      await getJson('/open311/v2/requests.json?page_size=1001', 400);
    });

    test('XML escapes what residents wrote, and the extensions add the extended status', async () => {
      const xml = await getXml(`/open311/v2/requests/${pothole}.xml?extensions=true`);
      assert.equal(xml.name, 'service_requests');
      const request = childOf(xml, 'request');
      assert.equal(textOf(request, 'description'), 'Kerb <broken> & "sharp" edges');
      assert.equal(textOf(request, 'status'), 'open');
      assert.equal(textOf(request, 'extended_status'), 'OPEN');
      assert.match(textOf(childOf(request, 'extended_attributes'), 'title'), /^Pothole, /);

      const [fixed] = (await getJson(`/open311/v2/requests/${closedPothole}.json?extensions=true`)) as Json[];
      assert.equal(fixed?.status, 'closed');
      assert.equal(fixed?.extended_status, 'FIXED');
      assert.equal((fixed?.extended_attributes as Json).status_name, 'Fixed');
      const [plain] = (await getJson(`/open311/v2/requests/${closedPothole}.json`)) as Json[];
      assert.equal(plain?.extended_status, undefined);
    });

    test('an approximate-location category gives the rounded position and no address', async () => {
      const [request] = (await getJson(`/open311/v2/requests/${vehicle}.json`)) as Json[];
      assert.equal(request?.lat, Math.round((centre.lat + 0.00012345) * 1000) / 1000);
      assert.equal(request?.address, '');
    });

    test('a hidden report and an unknown one are 404', async () => {
      const hidden = (await createRequest()).service_request_id;
      await getJson(`/open311/v2/requests/${hidden}.json`);
      await reports.moderate(officer, hidden, { hidden: true }, 'Personal details in the description');
      const errors = (await getJson(`/open311/v2/requests/${hidden}.json`, 404)) as Errors;
      assert.equal(errors[0]?.code, 404);
      assert.equal(idsOf(await getJson('/open311/v2/requests.json')).includes(hidden), false);
      assert.deepEqual(await getJson(`/open311/v2/requests.json?service_request_id=${hidden}`), []);
      await getJson('/open311/v2/requests/ZZZZ-9999.json', 404);
    });
  });

  describe('service request updates', () => {
    test('an update moves the case along its workflow and shows on the public timeline', async () => {
      const made = await createRequest();
      const reference = made.service_request_id;
      const first = await update(reference, 'INVESTIGATING');
      assert.equal(first.statusCode, 200, first.body);
      assert.equal((await update(reference, 'action_scheduled', 'Booked for Tuesday')).statusCode, 200);
      const res = await update(reference, 'in_progress', 'The crew is on site');
      assert.equal(res.statusCode, 200, res.body);
      const [answer] = res.json<Json[]>();
      assert.match(String(answer?.update_id), /^\d+$/);

      const opened = await testApp.services.cases.service.repo.caseByReference(reference);
      assert.equal(opened?.status, 'in-progress');
      const page = await reports.publicReport(reference);
      assert.deepEqual(
        page?.updates.map((u) => [u.status, u.text]),
        [
          ['open', null],
          ['investigating', null],
          ['action_scheduled', 'Booked for Tuesday'],
          ['in_progress', 'The crew is on site'],
        ],
      );
      assert.equal(String(page?.updates.at(-1)?.id), answer?.update_id);

      const xml = await postForm('/open311/v2/servicerequestupdates.xml', {
        api_key: openKey,
        service_request_id: reference,
        status: 'FIXED',
        description: 'Done',
      });
      assert.equal(xml.statusCode, 200, xml.body);
      assert.match(textOf(childOf(parseXml(xml.body), 'request_update'), 'update_id'), /^\d+$/);
      const fixed = await reports.publicReport(reference);
      assert.equal(fixed?.status, 'fixed');
      assert.equal(fixed?.closed, true);
      assert.equal((await testApp.services.cases.service.repo.caseByReference(reference))?.status, 'fixed');
    });

    test('a status the workflow cannot reach, an unknown status and an unknown report are refused', async () => {
      const made = await createRequest();
      const unreachable = errorsOf(await update(made.service_request_id, 'FIXED'), 400);
      assert.match(unreachable[0]?.description ?? '', /^status: A report that is open cannot become fixed/);
      const unknown = errorsOf(await update(made.service_request_id, 'BANANA'), 400);
      assert.match(unknown[0]?.description ?? '', /IN_PROGRESS/);
      errorsOf(await update('ZZZZ-9999', 'INVESTIGATING'), 404);
      errorsOf(await postForm('/open311/v2/servicerequestupdates.json', { service_request_id: made.service_request_id, status: 'OPEN' }), 403);
      errorsOf(
        await postForm('/open311/v2/servicerequestupdates.json', { api_key: readOnlyKey, service_request_id: made.service_request_id, status: 'OPEN' }),
        403,
      );
      assert.equal((await testApp.services.cases.service.repo.caseByReference(made.service_request_id))?.status, 'new');
    });

    test('updates since a date, with the extended status in upper case, need a key', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const made = await createRequest();
      assert.equal((await update(made.service_request_id, 'investigating', 'Inspector booked')).statusCode, 200);
      await getJson(`/open311/v2/servicerequestupdates.json?start_date=${since}`, 403);

      const list = (await getJson(`/open311/v2/servicerequestupdates.json?api_key=${openKey}&start_date=${since}`)) as Json[];
      const mine = list.filter((u) => u.service_request_id === made.service_request_id);
      assert.deepEqual(
        mine.map((u) => [u.status, u.description, u.media_url]),
        [
          ['OPEN', '', ''],
          ['INVESTIGATING', 'Inspector booked', ''],
        ],
      );
      assert.match(String(mine[1]?.updated_datetime), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.ok(list.every((u) => Date.parse(String(u.updated_datetime)) >= Date.parse(since) - 1000));

      const xml = await getXml(`/open311/v2/servicerequestupdates.xml?api_key=${DEMO_OPEN311_KEY}&start_date=${since}`);
      assert.equal(xml.name, 'service_request_updates');
      assert.ok(childrenOf(xml, 'request_update').some((u) => textOf(u, 'status') === 'INVESTIGATING'));
      const before = new Date(Date.now() - 86_400_000).toISOString();
      assert.deepEqual(await getJson(`/open311/v2/servicerequestupdates.json?api_key=${openKey}&start_date=${before}&end_date=${before}`), []);
      await getJson(`/open311/v2/servicerequestupdates.json?api_key=${openKey}&start_date=soon`, 400);
    });
  });

  describe('formats', () => {
    test('the XML writer escapes markup and drops characters XML cannot hold', () => {
      const xml = xmlDocument('errors', [{ code: 400, description: 'a <b> & "c" \'d\'\u0001 e' }]);
      assert.equal(
        xml,
        '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>400</code><description>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; e</description></error></errors>\n',
      );
      assert.equal(textOf(childOf(parseXml(xml), 'error'), 'description'), 'a <b> & "c" \'d\' e');
    });

    test('W3C date-times are read with their offsets, and impossible ones refused', () => {
      assert.equal(parseW3cTime('2026-11-23T17:05:00+01:00')?.toISOString(), '2026-11-23T16:05:00.000Z');
      assert.equal(parseW3cTime('2026-11-23T17:05:00 01:00')?.toISOString(), '2026-11-23T16:05:00.000Z');
      assert.equal(parseW3cTime('2026-11-23T17:05-0530')?.toISOString(), '2026-11-23T22:35:00.000Z');
      assert.equal(parseW3cTime('2026-11-23T17:05:00.250Z')?.toISOString(), '2026-11-23T17:05:00.250Z');
      assert.equal(parseW3cTime('2026-11-23')?.toISOString(), '2026-11-23T00:00:00.000Z');
      assert.equal(parseW3cTime('2026-11-23', { endOfDay: true })?.toISOString(), '2026-11-23T23:59:59.999Z');
      for (const bad of ['2026-02-30', '2026-11-23T25:00:00Z', '2026-11-23T17:05:00', '23/11/2026', '']) assert.equal(parseW3cTime(bad), undefined, bad);
    });
  });
});
