import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { z } from 'zod';
import { COMMAND_LINE_ACTOR } from '#modules/account/index';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { emailsTo } from '../account/residents/test-helpers.js';
import { API_BODY_LIMIT_BYTES, CaseDetailSchema, CaseListSchema, ErrorSchema, ListQuerySchema } from './api-schemas.js';
import type { OpenCaseInput } from './service.js';

/** The cases JSON API end to end through inject: keys and scopes, reading, changing, errors and the OpenAPI document. */

let t: TestApp;
const keys = { read: '', write: '', writeOnly: '' };
let writeKeyId = '';
const ref = { pothole: '', located: '', closed: '', graffiti: '', referral: '' };
let place: { lat: number; lng: number; ward: string; postcode: string; uprn: string } | undefined;

const RESIDENT_EMAIL = 'robin.api-test@example.com';
const RESIDENT_NAME = 'Robin Fairweather';

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

async function open(input: Partial<OpenCaseInput> & { type: string; title: string }): Promise<string> {
  const { case: opened } = await t.services.cases.service.open(
    { type: 'system' },
    { source: 'staff', channel: 'phone', subject: { kind: 'anonymous' }, ...input },
  );
  return opened.reference;
}

async function call(method: 'GET' | 'POST', url: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}), ...opts.headers };
  if (opts.body !== undefined && typeof opts.body !== 'string') return t.app.inject({ method, url, headers, payload: opts.body as object });
  return t.app.inject({ method, url, headers, ...(opts.body === undefined ? {} : { payload: opts.body }) });
}

/** The answer's JSON, checked against the API's own schema for it: undocumented fields fail too. */
function answer<S extends z.ZodType>(res: LightMyRequestResponse, status: number, schema: S): z.output<S> {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.equal(res.headers['set-cookie'], undefined, 'an API answer starts no session');
  const parsed = schema.safeParse(JSON.parse(res.body));
  assert.ok(parsed.success, `${res.body} does not match the schema: ${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`);
  return parsed.data;
}

const refusal = (res: LightMyRequestResponse, status: number, error: string) => {
  const body = answer(res, status, ErrorSchema);
  assert.equal(body.error, error);
  assert.ok(!/<html|\bat .*\.ts:\d+/i.test(res.body), 'never a page or a stack trace');
  return body;
};

before(async () => {
  t = await createTestApp({ seedDemo: true });
  const create = (name: string, scopes: string[]) => t.services.account.apiKeys.create(COMMAND_LINE_ACTOR, { name, scopes });
  keys.read = (await create('Reporting dashboard', ['cases:read'])).key;
  const write = await create('Highways asset system', ['cases:read', 'cases:write']);
  keys.write = write.key;
  writeKeyId = write.id;
  keys.writeOnly = (await create('Write only', ['cases:write'])).key;

  for (const ward of await t.services.geo.wards()) {
    const lat = (ward.bbox.south + ward.bbox.north) / 2;
    const lng = (ward.bbox.west + ward.bbox.east) / 2;
    const at = await t.services.geo.wardAt(lat, lng);
    const address = (await t.services.geo.searchAddresses('1', 1))[0];
    if (at && address) {
      place = { lat, lng, ward: at.code, postcode: address.postcode, uprn: address.uprn };
      break;
    }
  }
  const where = present(place, 'a place in the demo borough');
  ref.pothole = await open({
    type: 'pothole',
    title: 'Pothole on the high street',
    subject: { kind: 'person', name: RESIDENT_NAME, email: RESIDENT_EMAIL, phone: '07700 900444' },
  });
  ref.located = await open({
    type: 'pothole',
    title: 'Pothole by the bus stop',
    location: { lat: where.lat, lng: where.lng, postcode: where.postcode, uprn: where.uprn, usrn: '7654321' },
  });
  ref.closed = await open({ type: 'pothole', title: 'Pothole reported twice' });
  await t.services.cases.service.changeStatus({ type: 'system' }, ref.closed, 'duplicate');
  ref.graffiti = await open({ type: 'graffiti', title: 'Graffiti on the underpass' });
  ref.referral = await open({
    type: 'early-help-referral',
    title: 'Family needs support',
    subject: { kind: 'person', name: 'Kept Private', email: 'kept.private@example.com' },
  });
});
after(async () => t.close());

describe('keys and scopes', () => {
  test('no key, or a wrong one, is 401 with a Bearer challenge, on reads and on changes', async () => {
    for (const [method, url] of [
      ['GET', '/api/cases'],
      ['GET', `/api/cases/${ref.pothole}`],
      ['POST', `/api/cases/${ref.pothole}/status`],
      ['POST', `/api/cases/${ref.pothole}/updates`],
    ] as const) {
      const body = method === 'POST' ? { status: 'triage' } : undefined;
      const none = await call(method, url, { body });
      refusal(none, 401, 'unauthorised');
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      const wrong = await call(method, url, { body, key: `bk_aaaaaaaa_${'b'.repeat(40)}` });
      refusal(wrong, 401, 'unauthorised');
      assert.match(String(wrong.headers['www-authenticate']), /invalid_token/);
    }
  });

  test('a read-only key may read but not change; a write-only key may not read', async () => {
    answer(await call('GET', '/api/cases', { key: keys.read }), 200, CaseListSchema);
    const status = await call('POST', `/api/cases/${ref.pothole}/status`, { key: keys.read, body: { status: 'triage' } });
    assert.match(refusal(status, 403, 'forbidden').message, /cases:write/);
    refusal(await call('POST', `/api/cases/${ref.pothole}/updates`, { key: keys.read, body: { text: 'Hello' } }), 403, 'forbidden');
    refusal(await call('GET', `/api/cases/${ref.pothole}`, { key: keys.writeOnly }), 403, 'forbidden');
    const detail = answer(await call('GET', `/api/cases/${ref.pothole}`, { key: keys.read }), 200, CaseDetailSchema);
    assert.equal(detail.status, 'new', 'refused changes changed nothing');
  });
});

describe('reading cases', () => {
  test('lists case summaries with their location, and nothing about the person', async () => {
    const res = await call('GET', '/api/cases?pageSize=100', { key: keys.read });
    const list = answer(res, 200, CaseListSchema);
    const mine = list.cases.filter((c) => Object.values(ref).includes(c.reference));
    assert.deepEqual(mine.map((c) => c.reference).sort(), [ref.pothole, ref.located, ref.closed, ref.graffiti].sort());
    const located = present(
      list.cases.find((c) => c.reference === ref.located),
      'the located case',
    );
    const where = present(place, 'place');
    assert.deepEqual(located.location, {
      lat: where.lat,
      lng: where.lng,
      uprn: where.uprn,
      usrn: '7654321',
      ward: where.ward,
      postcode: where.postcode.replace(/\s+/g, ''),
    });
    assert.equal(located.type, 'pothole');
    assert.equal(located.team, 'highways');
    assert.equal(located.slaState, 'on-track');
    assert.ok(!res.body.includes(RESIDENT_NAME) && !res.body.includes(RESIDENT_EMAIL) && !res.body.includes('07700'), 'no personal data in the list');
    const times = list.cases.map((c) => Date.parse(c.updatedAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'least recently changed first',
    );
  });

  test('filters by team, type, status, open or closed and time changed', async () => {
    const list = async (query: string) => answer(await call('GET', `/api/cases?pageSize=100&${query}`, { key: keys.read }), 200, CaseListSchema).cases;
    assert.ok((await list('type=pothole')).every((c) => c.type === 'pothole'));
    assert.deepEqual(
      (await list('team=environment')).map((c) => c.reference),
      [ref.graffiti],
    );
    const closed = await list('open=false');
    assert.ok(closed.some((c) => c.reference === ref.closed));
    assert.ok(closed.every((c) => c.closed && c.closedAt !== null));
    assert.ok((await list('open=true')).every((c) => !c.closed));
    assert.deepEqual(
      (await list('status=duplicate')).map((c) => c.reference),
      [ref.closed],
    );
    assert.deepEqual(await list(`updatedSince=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), []);
    assert.ok((await list('updatedSince=2000-01-01T00:00:00Z')).length >= 4);
  });

  test('pages through the cases without repeats', async () => {
    const all = answer(await call('GET', '/api/cases?pageSize=100', { key: keys.read }), 200, CaseListSchema);
    const seen: string[] = [];
    for (let page = 1; page <= Math.ceil(all.total / 2); page++) {
      const got = answer(await call('GET', `/api/cases?pageSize=2&page=${page}`, { key: keys.read }), 200, CaseListSchema);
      assert.equal(got.total, all.total);
      assert.equal(got.page, page);
      assert.equal(got.pageSize, 2);
      seen.push(...got.cases.map((c) => c.reference));
    }
    assert.deepEqual(
      seen,
      all.cases.map((c) => c.reference),
    );
    const beyond = answer(await call('GET', `/api/cases?pageSize=2&page=${all.total + 1}`, { key: keys.read }), 200, CaseListSchema);
    assert.deepEqual(beyond.cases, []);
  });

  test('gives a case with its public timeline and the statuses it may move to', async () => {
    const detail = answer(await call('GET', `/api/cases/${ref.pothole.toLowerCase().replace('-', '')}`, { key: keys.read }), 200, CaseDetailSchema);
    assert.equal(detail.reference, ref.pothole, 'a reference typed without the hyphen, in lower case, is found');
    assert.equal(detail.title, 'Pothole on the high street');
    assert.deepEqual(
      detail.nextStatuses.map((s) => s.code),
      present(t.services.cases.service.typeOf('pothole').status('new'), 'new').next,
    );
    assert.deepEqual(
      detail.timeline.map((e) => e.kind),
      ['opened'],
    );
  });

  test('restricted cases are never served: not listed, not found, not changed', async () => {
    const list = answer(await call('GET', '/api/cases?pageSize=100', { key: keys.write }), 200, CaseListSchema);
    assert.ok(!list.cases.some((c) => c.reference === ref.referral || c.type === 'early-help-referral'));
    assert.ok(!list.cases.some((c) => c.team === 'early-help'));
    const byType = refusal(await call('GET', '/api/cases?type=early-help-referral', { key: keys.write }), 400, 'bad-request');
    assert.equal(byType.issues?.[0]?.path, 'type');
    refusal(await call('GET', `/api/cases/${ref.referral}`, { key: keys.write }), 404, 'not-found');
    refusal(await call('POST', `/api/cases/${ref.referral}/status`, { key: keys.write, body: { status: 'screening' } }), 404, 'not-found');
    refusal(await call('POST', `/api/cases/${ref.referral}/updates`, { key: keys.write, body: { text: 'Hello' } }), 404, 'not-found');
    const row = await t.services.cases.service.repo.caseByReference(ref.referral);
    assert.equal(row?.status, 'received', 'the restricted case is untouched');
  });
});

describe('changing cases', () => {
  test('a status change is recorded as the API client, on the timeline and in the audit log, and the resident is told', async () => {
    const moved = answer(
      await call('POST', `/api/cases/${ref.pothole}/status`, {
        key: keys.write,
        body: { status: 'triage', update: 'An inspector is on the way.', note: 'Raised from the asset system' },
      }),
      200,
      CaseDetailSchema,
    );
    assert.equal(moved.status, 'triage');
    const [latest] = moved.timeline;
    assert.deepEqual(latest && { kind: latest.kind, by: latest.by, text: latest.text, status: latest.status }, {
      kind: 'status',
      by: 'api',
      text: 'An inspector is on the way.',
      status: { from: 'new', to: 'triage' },
    });
    assert.ok(!JSON.stringify(moved).includes('Raised from the asset system'), 'the internal note is not on the public timeline');

    const id = present(await t.services.cases.service.repo.caseByReference(ref.pothole), 'case').id;
    const audit = await sql<{
      actor_type: string;
      actor_id: string;
      actor_label: string;
      details: { from: string; to: string };
    }>`SELECT actor_type, actor_id, actor_label, details FROM audit_events WHERE action = 'case.status-changed' AND subject_id = ${id}`.execute(
      t.platform.database.db,
    );
    assert.deepEqual(
      audit.rows.map((r) => ({ ...r })),
      [{ actor_type: 'api', actor_id: writeKeyId, actor_label: 'Highways asset system', details: { from: 'new', to: 'triage' } }],
    );
    const staffView = await t.services.cases.service.repo.events(id);
    assert.ok(staffView.some((e) => e.kind === 'note' && e.body === 'Raised from the asset system' && e.actor_type === 'api'));

    // Works ordered has a message for the resident in the pothole type.
    assert.ok(t.services.cases.service.typeOf('pothole').notifications['works-ordered']);
    const before = (await emailsTo(t, RESIDENT_EMAIL)).length;
    answer(
      await call('POST', `/api/cases/${ref.pothole}/status`, { key: keys.write, body: { status: 'works-ordered', update: 'Repairs are booked.' } }),
      200,
      CaseDetailSchema,
    );
    const emails = await emailsTo(t, RESIDENT_EMAIL);
    assert.equal(emails.length, before + 1, 'one message to the resident');
    assert.ok(emails.at(-1)?.body.includes(ref.pothole));
  });

  test('a move the workflow does not allow is 409, and changes nothing', async () => {
    const res = await call('POST', `/api/cases/${ref.graffiti}/status`, { key: keys.write, body: { status: 'removed' } });
    assert.match(refusal(res, 409, 'conflict').message, /cannot move/);
    const same = await call('POST', `/api/cases/${ref.graffiti}/status`, { key: keys.write, body: { status: 'new' } });
    refusal(same, 409, 'conflict');
    const detail = answer(await call('GET', `/api/cases/${ref.graffiti}`, { key: keys.read }), 200, CaseDetailSchema);
    assert.equal(detail.status, 'new');
  });

  test('a public update goes on the timeline, as the API client', async () => {
    const res = await call('POST', `/api/cases/${ref.graffiti}/updates`, { key: keys.write, body: { text: '  Cleaning is booked for Tuesday.  ' } });
    const detail = answer(res, 201, CaseDetailSchema);
    assert.deepEqual(
      detail.timeline.map((e) => [e.kind, e.by, e.text]),
      [
        ['update', 'api', 'Cleaning is booked for Tuesday.'],
        ['opened', 'system', detail.timeline[1]?.text ?? null],
      ],
    );
    const id = present(await t.services.cases.service.repo.caseByReference(ref.graffiti), 'case').id;
    const audit = await sql<{ actor_type: string }>`SELECT actor_type FROM audit_events WHERE action = 'case.public-update' AND subject_id = ${id}`.execute(
      t.platform.database.db,
    );
    assert.deepEqual(
      audit.rows.map((r) => r.actor_type),
      ['api'],
    );
  });
});

describe('errors', () => {
  test('bad bodies are 400 with an issue per field', async () => {
    const post = (body: unknown, url = `/api/cases/${ref.located}/status`) => call('POST', url, { key: keys.write, body });
    const unknownStatus = refusal(await post({ status: 'nonsense' }), 400, 'bad-request');
    assert.deepEqual(unknownStatus.issues, [{ path: 'status', message: '"nonsense" is not a status of Pothole cases' }]);
    const missing = refusal(await post({ update: 7, colour: 'red' }), 400, 'bad-request');
    assert.deepEqual(missing.issues?.map((i) => i.path).sort(), ['', 'status', 'update']);
    assert.ok(missing.issues?.some((i) => i.message === 'Unknown field: colour'));
    const notObject = refusal(await post([1, 2]), 400, 'bad-request');
    assert.deepEqual(notObject.issues, [{ path: '', message: 'The body must be a JSON object' }]);
    const empty = refusal(await post({ text: '   ' }, `/api/cases/${ref.located}/updates`), 400, 'bad-request');
    assert.deepEqual(empty.issues, [{ path: 'text', message: 'Enter the update' }]);
    refusal(await post('{"status":', `/api/cases/${ref.located}/status`), 415, 'unsupported-media-type');
    const broken = await call('POST', `/api/cases/${ref.located}/status`, {
      key: keys.write,
      body: '{"status":',
      headers: { 'content-type': 'application/json' },
    });
    refusal(broken, 400, 'bad-request');
    const poisoned = await call('POST', `/api/cases/${ref.located}/status`, {
      key: keys.write,
      body: '{"status":"triage","__proto__":{"admin":true}}',
      headers: { 'content-type': 'application/json' },
    });
    refusal(poisoned, 400, 'bad-request');
    const form = await call('POST', `/api/cases/${ref.located}/status`, {
      key: keys.write,
      body: 'status=triage',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    refusal(form, 415, 'unsupported-media-type');
    const detail = answer(await call('GET', `/api/cases/${ref.located}`, { key: keys.read }), 200, CaseDetailSchema);
    assert.equal(detail.status, 'new', 'nothing was changed by a refused request');
  });

  test('bad query parameters are 400 with an issue per parameter', async () => {
    const bad = refusal(await call('GET', '/api/cases?pageSize=1000&page=0&open=yes&colour=red&team=nowhere', { key: keys.read }), 400, 'bad-request');
    assert.deepEqual(bad.issues?.map((i) => i.path).sort(), ['', 'open', 'page', 'pageSize']);
    const team = refusal(await call('GET', '/api/cases?team=nowhere', { key: keys.read }), 400, 'bad-request');
    assert.deepEqual(team.issues, [{ path: 'team', message: 'There is no team "nowhere"' }]);
    const time = refusal(await call('GET', '/api/cases?updatedSince=yesterday', { key: keys.read }), 400, 'bad-request');
    assert.equal(time.issues?.[0]?.path, 'updatedSince');
  });

  test('a body over the limit is 413', async () => {
    const res = await call('POST', `/api/cases/${ref.located}/updates`, { key: keys.write, body: { text: 'x'.repeat(API_BODY_LIMIT_BYTES) } });
    refusal(res, 413, 'payload-too-large');
  });

  test('unknown cases and addresses are 404 JSON', async () => {
    refusal(await call('GET', '/api/cases/ZZZZ-ZZZZ', { key: keys.read }), 404, 'not-found');
    refusal(await call('POST', '/api/cases/ZZZZ-ZZZZ/status', { key: keys.write, body: { status: 'triage' } }), 404, 'not-found');
    refusal(await call('POST', '/api/cases/ZZZZ-ZZZZ/updates', { key: keys.write, body: { text: 'Hello' } }), 404, 'not-found');
    refusal(await call('GET', `/api/cases/${ref.located}/tasks`, { key: keys.read }), 404, 'not-found');
  });
});

describe('the OpenAPI document', () => {
  test('is public JSON describing every path, answer and scope, with references that resolve', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/cases/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['set-cookie'], undefined);
    const doc = JSON.parse(res.body) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { security: Record<string, string[]>[]; responses: Record<string, { description: string }>; parameters?: { name: string }[] }>
      >;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme: string; description: string }> };
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/api/cases',
      '/api/cases/openapi.json',
      '/api/cases/{reference}',
      '/api/cases/{reference}/status',
      '/api/cases/{reference}/updates',
    ]);
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    assert.deepEqual(operations.map((o) => `${o.method} ${o.path}`).sort(), [
      'get /api/cases',
      'get /api/cases/openapi.json',
      'get /api/cases/{reference}',
      'post /api/cases/{reference}/status',
      'post /api/cases/{reference}/updates',
    ]);
    for (const { path, op } of operations) {
      assert.ok(Object.keys(op.responses).length > 0, `${path} has answers`);
      for (const [status, response] of Object.entries(op.responses)) assert.ok(response.description, `${path} ${status} is described`);
      if (path !== '/api/cases/openapi.json') assert.ok(op.responses['401'] && op.responses['403'], `${path} documents key refusals`);
    }
    const scopes = (path: string, method: string) => doc.paths[path]?.[method]?.security[0]?.apiKey;
    assert.deepEqual(scopes('/api/cases', 'get'), ['cases:read']);
    assert.deepEqual(scopes('/api/cases/{reference}/status', 'post'), ['cases:write']);
    assert.ok(doc.paths['/api/cases/{reference}/status']?.post?.responses['409']);
    assert.deepEqual(
      doc.paths['/api/cases']?.get?.parameters?.map((p) => p.name),
      Object.keys(ListQuerySchema.shape),
    );
    const scheme = present(doc.components.securitySchemes.apiKey, 'security scheme');
    assert.equal(scheme.type, 'http');
    assert.equal(scheme.scheme, 'bearer');
    assert.match(scheme.description, /cases:read/);
    assert.match(scheme.description, /cases:write/);
    for (const [, target] of res.body.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g))
      assert.ok(target && doc.components.schemas[target], `#/components/schemas/${target} exists`);
    assert.ok(!res.body.includes('"$schema"'), 'schemas carry no stray $schema');
  });
});
