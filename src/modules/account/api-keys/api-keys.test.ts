import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../app.js';
import { borough } from '../../../../test/support/cli.js';
import { allMigrations, buildServices, type Services } from '../../../services.js';
import { loadConfig } from '#platform/config/index';
import { loadCouncil } from '#platform/council/index';
import { migrateToLatest, openDatabase } from '#platform/db/index';
import { lockDataFolder } from '#platform/lock/index';
import { createLogger } from '#platform/logging/index';
import { generateTotp, TOTP_PERIOD_SECONDS } from '#platform/security/totp';
import { createTestApp, pageText, TestClient, type TestApp } from '../../../../test/support/app.js';
import { can, ROLE_PERMISSIONS, ROLES, type Role } from '../permissions.js';
import type { StaffMember } from '../staff/service.js';
import { DEMO_PASSWORD, DEMO_TOTP_SECRET } from '../staff/demo.test-support.js';
import { ApiKeyInputError, COMMAND_LINE_ACTOR, LAST_USED_INTERVAL_MS, parseApiKey, type ApiKeyService } from './service.js';

type AuditRow = {
  id: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  subject_type: string | null;
  subject_id: string | null;
  details: Record<string, unknown>;
};
type KeyRow = {
  id: string;
  prefix: string;
  secret_hash: string;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_by: string | null;
  created_by: string | null;
};

function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

const forbidden = (e: { statusCode?: number }) => e.statusCode === 403;
const KEY_FORMAT = /^bk_[a-z2-7]{8}_[a-z2-7]{40}$/;

let nextIp = 1;
/** A browser on its own address, so sign-in rate limits do not add up across tests. */
function browser(t: TestApp): TestClient {
  const ip = `10.7.0.${nextIp++}`;
  return new TestClient({ inject: (opts: Record<string, unknown>) => t.app.inject({ ...opts, remoteAddress: ip }) } as unknown as FastifyInstance);
}

async function signIn(t: TestApp, role: Role): Promise<TestClient> {
  const client = browser(t);
  await client.get('/staff/sign-in');
  const res = await client.post('/staff/sign-in', { email: `${role}@kingsmere.example`, password: DEMO_PASSWORD });
  assert.equal(res.headers.location, '/staff/sign-in/code', `${role} password accepted`);
  await client.get('/staff/sign-in/code');
  const done = await client.post('/staff/sign-in/code', { code: generateTotp(DEMO_TOTP_SECRET, { now: Date.now() - TOTP_PERIOD_SECONDS * 1000 }) });
  assert.equal(done.headers.location, '/staff', `${role} signed in`);
  return client;
}

describe('API keys', () => {
  let t: TestApp;
  let apiKeys: ApiKeyService;
  let admin: TestClient;
  let officer: TestClient;
  let adminMember: StaffMember;
  let officerMember: StaffMember;
  const db = () => t.platform.database.db.withTables<{ audit_events: AuditRow; api_keys: KeyRow }>();
  const auditFor = (id: string) =>
    db().selectFrom('audit_events').selectAll().where('subject_type', '=', 'api-key').where('subject_id', '=', id).orderBy('id').execute();
  const keyRow = async (id: string) => present(await db().selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst(), `key ${id}`);

  before(async () => {
    t = await createTestApp();
    apiKeys = t.services.account.apiKeys;
    apiKeys.declareScope({ scope: 'test:read', description: 'Read test things' });
    apiKeys.declareScope({ scope: 'test:write', description: 'Change test things' });
    await t.services.account.staff.seedDemo();
    admin = await signIn(t, 'administrator');
    officer = await signIn(t, 'case-officer');
    adminMember = present(await t.services.account.staff.findMemberByEmail('administrator@kingsmere.example'), 'administrator');
    officerMember = present(await t.services.account.staff.findMemberByEmail('case-officer@kingsmere.example'), 'case officer');
  });
  after(async () => t?.close());

  describe('permissions', () => {
    test('api-keys:manage is granted to administrators only', () => {
      for (const role of Object.keys(ROLES) as Role[]) assert.equal(ROLE_PERMISSIONS[role].includes('api-keys:manage'), role === 'administrator', role);
      assert.ok(can(adminMember, 'api-keys:manage'));
      assert.ok(!can(officerMember, 'api-keys:manage'));
      assert.ok(!can({ ...adminMember, status: 'disabled' }, 'api-keys:manage'), 'a disabled administrator has no permissions');
    });

    test('a case officer is refused by every service method', async () => {
      const { id } = await apiKeys.create(adminMember, { name: 'Refusal target', scopes: ['test:read'] });
      await assert.rejects(apiKeys.create(officerMember, { name: 'Sneaky', scopes: ['test:read'] }), forbidden);
      await assert.rejects(apiKeys.list(officerMember), forbidden);
      await assert.rejects(apiKeys.get(officerMember, id), forbidden);
      await assert.rejects(apiKeys.revoke(officerMember, id), forbidden);
      await assert.rejects(apiKeys.list({ ...adminMember, status: 'disabled' }), forbidden);
      // An object shaped like the command line is not the command line.
      await assert.rejects(apiKeys.list({ ...COMMAND_LINE_ACTOR } as unknown as StaffMember), forbidden);
      assert.equal((await apiKeys.get(adminMember, id)).status, 'active', 'nothing was revoked');
    });

    test('a case officer is refused on every page', async () => {
      const { id } = await apiKeys.create(adminMember, { name: 'Page refusal target', scopes: ['test:read'] });
      for (const page of ['/staff/api-keys', '/staff/api-keys/new', `/staff/api-keys/${id}/revoke`]) {
        assert.equal((await officer.get(page)).statusCode, 403, `GET ${page}`);
      }
      await officer.get('/staff');
      assert.equal((await officer.post('/staff/api-keys/new', { name: 'Sneaky', scopes: 'test:read' })).statusCode, 403);
      await officer.get('/staff');
      assert.equal((await officer.post(`/staff/api-keys/${id}/revoke`, {})).statusCode, 403);
      assert.equal((await apiKeys.get(adminMember, id)).status, 'active', 'nothing was revoked');
      assert.ok(!(await apiKeys.list(adminMember)).some((k) => k.name === 'Sneaky'), 'nothing was created');
    });

    test('someone not signed in is sent to sign in', async () => {
      const res = await t.client().get('/staff/api-keys');
      assert.equal(res.statusCode, 302);
      assert.match(String(res.headers.location), /^\/staff\/sign-in\?returnTo=%2Fstaff%2Fapi-keys/);
    });

    test('the staff navigation offers API keys to administrators only', async () => {
      assert.match((await admin.get('/staff')).body, /href="\/staff\/api-keys"/);
      assert.doesNotMatch((await officer.get('/staff')).body, /href="\/staff\/api-keys"/);
    });
  });

  describe('through the service', () => {
    test('an administrator creates, lists and revokes a key, and each change is audited', async () => {
      const created = await apiKeys.create(adminMember, { name: '  Highways CRM ', scopes: ['test:write', 'test:read', 'test:read'] });
      assert.match(created.key, KEY_FORMAT);
      assert.ok(created.key.startsWith(`bk_${created.prefix}_`));
      const row = await keyRow(created.id);
      assert.ok(!JSON.stringify(row).includes(created.key.slice(12)), 'the secret is not stored');
      assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
      assert.equal(row.created_by, adminMember.id);

      const listed = present(
        (await apiKeys.list(adminMember)).find((k) => k.id === created.id),
        'listed key',
      );
      assert.equal(listed.name, 'Highways CRM');
      assert.equal(listed.prefix, created.prefix);
      assert.deepEqual(listed.scopes, ['test:read', 'test:write']);
      assert.equal(listed.status, 'active');
      assert.equal(listed.lastUsedAt, null);

      await apiKeys.revoke(adminMember, created.id);
      assert.equal((await apiKeys.get(adminMember, created.id)).status, 'revoked');
      assert.equal((await keyRow(created.id)).revoked_by, adminMember.id);
      await apiKeys.revoke(adminMember, created.id);

      const events = await auditFor(created.id);
      assert.deepEqual(
        events.map((e) => [e.action, e.actor_type, e.actor_id]),
        [
          ['api-key.created', 'staff', adminMember.id],
          ['api-key.revoked', 'staff', adminMember.id],
        ],
        'one event each; revoking twice records nothing more',
      );
      assert.deepEqual(events[0]?.details, { name: 'Highways CRM', prefix: created.prefix, scopes: ['test:read', 'test:write'] });
      assert.ok(!JSON.stringify(events).includes(created.key.slice(12)), 'the secret is not in the audit log');
    });

    test('bad input is refused with a message per field', async () => {
      const refused = (fields: Record<string, RegExp>) => (e: unknown) => {
        assert.ok(e instanceof ApiKeyInputError);
        assert.equal(e.statusCode, 400);
        assert.deepEqual(Object.keys(e.errors).sort(), Object.keys(fields).sort());
        for (const [f, re] of Object.entries(fields)) assert.match(e.errors[f as keyof typeof e.errors] ?? '', re);
        return true;
      };
      await assert.rejects(apiKeys.create(adminMember, { name: ' ', scopes: [] }), refused({ name: /Enter a name/, scopes: /Select at least one scope/ }));
      await assert.rejects(apiKeys.create(adminMember, { name: 'x'.repeat(101), scopes: ['test:read'] }), refused({ name: /100 characters or fewer/ }));
      await assert.rejects(
        apiKeys.create(adminMember, { name: 'x'.repeat(100), scopes: ['test:read'], expiresAt: new Date(Date.now() - 1000) }),
        refused({ expiresAt: /future/ }),
      );
      assert.ok(await apiKeys.create(adminMember, { name: 'x'.repeat(100), scopes: ['test:read'] }), 'exactly 100 characters is allowed');
    });

    test('a key with an undeclared scope is refused, naming the scopes that exist', async () => {
      const before = (await apiKeys.list(adminMember)).length;
      await assert.rejects(apiKeys.create(adminMember, { name: 'Typo', scopes: ['test:read', 'test:raed'] }), (e: unknown) => {
        assert.ok(e instanceof ApiKeyInputError);
        assert.equal(
          e.errors.scopes,
          '"test:raed" is not a known scope. Choose from: cases:read, cases:write, reports:open311, signposts:load, test:read, test:write.',
        );
        return true;
      });
      assert.equal((await apiKeys.list(adminMember)).length, before, 'nothing was created');
    });

    test('scopes are declared once, in capability:verb form', () => {
      assert.deepEqual(
        apiKeys.scopes().map((s) => s.scope),
        ['cases:read', 'cases:write', 'reports:open311', 'signposts:load', 'test:read', 'test:write'],
      );
      assert.doesNotThrow(() => apiKeys.declareScope({ scope: 'test:read', description: 'Read test things' }), 'the same declaration again is harmless');
      assert.throws(() => apiKeys.declareScope({ scope: 'test:read', description: 'Something else' }), /already declared/);
      assert.throws(() => apiKeys.declareScope({ scope: 'Cases Read', description: 'x' }), /capability:verb/);
      assert.throws(() => apiKeys.guard('test:nothing'), /not declared/);
    });

    test('an unknown key is not found', async () => {
      await assert.rejects(apiKeys.get(adminMember, '00000000-0000-4000-8000-000000000000'), (e: { statusCode?: number }) => e.statusCode === 404);
      await assert.rejects(apiKeys.revoke(adminMember, 'not-a-uuid'), (e: { statusCode?: number }) => e.statusCode === 404);
    });
  });

  describe('authenticate', () => {
    test('accepts a good key, bare or as a bearer token', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Good', scopes: ['test:read'] });
      assert.deepEqual(await apiKeys.authenticate(key), { id, name: 'Good', scopes: ['test:read'] });
      assert.deepEqual(await apiKeys.authenticate(`Bearer ${key}`), { id, name: 'Good', scopes: ['test:read'] });
      assert.equal((await apiKeys.authenticate(`bearer  ${key} `))?.id, id, 'the scheme is case-insensitive');
    });

    test('refuses a wrong secret, an unknown prefix and malformed values', async () => {
      const { key } = await apiKeys.create(adminMember, { name: 'Target', scopes: ['test:read'] });
      const prefix = key.slice(3, 11);
      const secret = key.slice(12);
      const otherSecret = secret.slice(0, -1) + (secret.endsWith('a') ? 'b' : 'a');
      assert.equal(await apiKeys.authenticate(`Bearer bk_${prefix}_${otherSecret}`), null, 'wrong secret');
      assert.equal(await apiKeys.authenticate(`Bearer bk_${prefix === 'aaaaaaaa' ? 'bbbbbbbb' : 'aaaaaaaa'}_${secret}`), null, 'unknown prefix');
      for (const bad of [
        undefined,
        '',
        'Bearer',
        'Bearer ',
        `Basic ${key}`,
        `Bearer ${key} extra`,
        `Bearer ${key.toUpperCase()}`,
        `bk_${prefix}_${secret.slice(1)}`,
        `bk_${prefix}_${secret}a`,
        `xk_${prefix}_${secret}`,
        `bk_${prefix}${secret}`,
        `Bearer ${key}`.padEnd(300, ' '),
      ]) {
        assert.equal(await apiKeys.authenticate(bad), null, `refused: ${String(bad)}`);
      }
      assert.equal(parseApiKey(`Bearer ${'x'.repeat(500)}`), null);
    });

    test('refuses a revoked key', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Soon revoked', scopes: ['test:read'] });
      assert.ok(await apiKeys.authenticate(key));
      await apiKeys.revoke(adminMember, id);
      assert.equal(await apiKeys.authenticate(key), null);
    });

    test('refuses an expired key, and accepts one not yet expired', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Expiring', scopes: ['test:read'], expiresAt: new Date(Date.now() + 86400_000) });
      assert.ok(await apiKeys.authenticate(key));
      await db()
        .updateTable('api_keys')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', id)
        .execute();
      assert.equal(await apiKeys.authenticate(key), null);
      assert.equal((await apiKeys.get(adminMember, id)).status, 'expired');
    });

    test('records use at most once a minute', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Busy', scopes: ['test:read'] });
      await apiKeys.authenticate(key);
      const first = present((await keyRow(id)).last_used_at, 'first use');
      await apiKeys.authenticate(key);
      assert.equal((await keyRow(id)).last_used_at?.getTime(), first.getTime(), 'a second use within the minute writes nothing');
      const earlier = new Date(Date.now() - LAST_USED_INTERVAL_MS - 1000);
      await db().updateTable('api_keys').set({ last_used_at: earlier }).where('id', '=', id).execute();
      await apiKeys.authenticate(key);
      assert.ok(present((await keyRow(id)).last_used_at, 'later use') > earlier, 'a use after a minute is recorded');
    });
  });

  describe('the guard on JSON APIs', () => {
    let api: FastifyInstance;
    before(async () => {
      // The real request pipeline (sessions, CSRF, error pages) with three small API routes.
      api = await buildApp(t.platform, [
        {
          name: 'guard-test',
          register(app) {
            app.get('/api/test/things', { preHandler: apiKeys.guard('test:read') }, async (request) => ({
              client: request.apiKey?.name,
              actor: apiKeys.actorOf(request),
            }));
            app.post('/api/test/things', apiKeys.routeOptions('test:write'), async (request) => ({ saved: request.body, client: request.apiKey?.id }));
            // Without `csrf: false` the site-wide CSRF check runs first and refuses the request.
            app.post('/api/test/unexempt', { preHandler: apiKeys.guard('test:write') }, async () => ({ saved: true }));
          },
        },
      ]);
      await api.ready();
    });
    after(async () => api?.close());

    const call = (method: 'GET' | 'POST', url: string, key?: string) =>
      api.inject({ method, url, headers: key ? { authorization: key } : {}, ...(method === 'POST' ? { payload: { title: 'Pothole' } } : {}) });

    test('no key: 401 JSON with a Bearer challenge', async () => {
      const res = await call('GET', '/api/test/things');
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = res.json<{ error: string; message: string }>();
      assert.equal(body.error, 'unauthorised');
      assert.match(body.message, /Authorization: Bearer/);
      assert.equal(res.headers['set-cookie'], undefined, 'no session is started');
    });

    test('a bad, revoked or expired key: 401 JSON', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Guard revoked', scopes: ['test:read'] });
      await apiKeys.revoke(adminMember, id);
      for (const bad of ['Bearer nonsense', `Bearer ${key}`, 'Basic dXNlcjpwYXNz']) {
        const res = await call('GET', '/api/test/things', bad);
        assert.equal(res.statusCode, 401, bad);
        assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/);
        assert.equal(res.json<{ error: string }>().error, 'unauthorised');
      }
    });

    test('a key without the scope: 403 JSON', async () => {
      const { key } = await apiKeys.create(adminMember, { name: 'Reader', scopes: ['test:read'] });
      const res = await call('POST', '/api/test/things', `Bearer ${key}`);
      assert.equal(res.statusCode, 403);
      assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
      const body = res.json<{ error: string; message: string }>();
      assert.equal(body.error, 'forbidden');
      assert.match(body.message, /test:write/);
    });

    test('a key with the scope reaches the handler, which knows the client', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Writer', scopes: ['test:read', 'test:write'] });
      const read = await call('GET', '/api/test/things', `Bearer ${key}`);
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), { client: 'Writer', actor: { type: 'api', id, label: 'Writer' } });
      const write = await call('POST', '/api/test/things', `Bearer ${key}`);
      assert.equal(write.statusCode, 200, 'no CSRF token or session is needed');
      assert.deepEqual(write.json(), { saved: { title: 'Pothole' }, client: id });
      const unexempt = await call('POST', '/api/test/unexempt', `Bearer ${key}`);
      assert.equal(unexempt.statusCode, 403, 'a state-changing API route without csrf: false is refused by the CSRF check');
    });
  });

  describe('through the pages', () => {
    test('an administrator creates a key, sees it once, and it works', async () => {
      const form = await admin.get('/staff/api-keys/new');
      assert.equal(form.statusCode, 200);
      assert.match(form.body, /value="test:read"/);
      assert.match(pageText(form.body), /Read test things/);

      const empty = await admin.post('/staff/api-keys/new', { name: '' });
      assert.equal(empty.statusCode, 400);
      assert.match(empty.body, /govuk-error-summary/);
      assert.match(empty.body, /href="#name">Enter a name for the API key/);
      assert.match(empty.body, /href="#scopes">Select at least one scope/);

      const noScope = await admin.post('/staff/api-keys/new', { name: 'Kept name' });
      assert.equal(noScope.statusCode, 400);
      assert.match(noScope.body, /value="Kept name"/, 'the name is kept');
      const tampered = await admin.post('/staff/api-keys/new', { name: 'Kept name', scopes: ['test:write', 'test:nope'] });
      assert.equal(tampered.statusCode, 400);
      assert.match(pageText(tampered.body), /"test:nope" is not a known scope/);
      assert.match(tampered.body, /value="test:write" checked/, 'the chosen scopes are kept');

      const done = await admin.post('/staff/api-keys/new', { name: 'Waste system', scopes: ['test:read'] });
      assert.equal(done.statusCode, 200);
      assert.equal(done.headers['cache-control'], 'no-store');
      const key = present(/bk_[a-z2-7]{8}_[a-z2-7]{40}/.exec(done.body)?.[0], 'the key on the page');
      assert.match(pageText(done.body), /It will not be shown again/);
      const client = present(await apiKeys.authenticate(`Bearer ${key}`), 'the new key works');
      assert.equal(client.name, 'Waste system');

      const listPage = await admin.get('/staff/api-keys');
      assert.equal(listPage.statusCode, 200);
      const text = pageText(listPage.body);
      assert.match(text, new RegExp(`Waste system bk_${key.slice(3, 11)} test:read`));
      assert.ok(!listPage.body.includes(key.slice(12)), 'the secret is never shown again');
    });

    test('an administrator revokes a key after confirming', async () => {
      const { id, key } = await apiKeys.create(adminMember, { name: 'Old CRM', scopes: ['test:read'] });
      const confirm = await admin.get(`/staff/api-keys/${id}/revoke`);
      assert.equal(confirm.statusCode, 200);
      assert.match(pageText(confirm.body), /Are you sure you want to revoke Old CRM\?/);
      assert.equal((await admin.post(`/staff/api-keys/${id}/revoke`, {}, { csrf: false })).statusCode, 403, 'the CSRF token is required');
      assert.ok(await apiKeys.authenticate(key), 'still works after the refused request');
      await admin.get(`/staff/api-keys/${id}/revoke`);
      const res = await admin.post(`/staff/api-keys/${id}/revoke`, {});
      assert.equal(res.statusCode, 302);
      const after = await admin.follow(res);
      assert.match(pageText(after.body), /The API key Old CRM has been revoked/);
      assert.equal(await apiKeys.authenticate(key), null);
      const events = await auditFor(id);
      assert.deepEqual(
        events.map((e) => [e.action, e.actor_type, e.actor_id]),
        [
          ['api-key.created', 'staff', adminMember.id],
          ['api-key.revoked', 'staff', adminMember.id],
        ],
      );
      assert.equal((await admin.get(`/staff/api-keys/${id}/revoke`)).statusCode, 302, 'a revoked key has nothing to confirm');
      assert.equal((await admin.get('/staff/api-keys/00000000-0000-4000-8000-000000000000/revoke')).statusCode, 404);
    });
  });
});

describe('the api-keys command line', () => {
  let dir: string;
  const saved = { ...process.env };

  /** The services over the command line's own database, as the command line builds them. */
  async function withServices<T>(fn: (services: Services) => Promise<T>): Promise<T> {
    const config = loadConfig(process.env, { persistSecret: true });
    const lock = lockDataFolder(config.dataDir);
    const database = await openDatabase({ dataDir: path.join(config.dataDir, 'pgdata') });
    try {
      await migrateToLatest(database.db, allMigrations());
      const services = await buildServices({ config, council: loadCouncil(config.councilDir), database, logger: createLogger({ level: 'silent' }) });
      return await fn(services);
    } finally {
      await database.close();
      lock.release();
    }
  }

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'borough-api-keys-cli-'));
    Object.assign(process.env, { BOROUGH_DATA_DIR: dir, NODE_ENV: 'development', LOG_LEVEL: 'silent', BOROUGH_DEMO: 'true' });
    delete process.env.DATABASE_URL;
  });
  after(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  test('explains itself', async () => {
    assert.match((await borough('help')).out, /api-keys create --name <n> --scopes <s,s>/);
    const usage = await borough('api-keys');
    assert.equal(usage.code, 1);
    assert.match(usage.err, /Usage: borough api-keys create/);
    const badDate = await borough('api-keys', 'create', '--name', 'X', '--scopes', 'test:read', '--expires', '2027-02-30');
    assert.equal(badDate.code, 1);
    assert.match(badDate.err, /--expires as a date/);
  });

  test('refuses a key with an undeclared scope', async () => {
    const r = await borough('api-keys', 'create', '--name', 'Typo', '--scopes', 'nothing:read');
    assert.equal(r.code, 1);
    assert.match(r.err, /"nothing:read" is not a known scope/);
  });

  test('lists and revokes keys, audited as the command line', async () => {
    const created = await withServices(async (services) => {
      services.account.apiKeys.declareScope({ scope: 'test:read', description: 'Read test things' });
      return services.account.apiKeys.create(COMMAND_LINE_ACTOR, { name: 'Housing system', scopes: ['test:read'] });
    });
    const listed = await borough('api-keys', 'list');
    assert.equal(listed.code, 0, listed.err);
    assert.equal(listed.out.trim().split('\n').length, 1, 'the refused key was never made');
    assert.match(listed.out, new RegExp(`${created.id}  ${created.prefix}  active  Housing system  \\[test:read\\]  never used`));
    const revoked = await borough('api-keys', 'revoke', created.prefix);
    assert.equal(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /Revoked the API key "Housing system"/);
    assert.match((await borough('api-keys', 'list')).out, / revoked {2}Housing system/);
    assert.match((await borough('api-keys', 'revoke', created.id)).out, /already revoked/);
    const unknown = await borough('api-keys', 'revoke', 'zzzzzzzz');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /No API key has the id or prefix zzzzzzzz/);
    const audit = (await borough('export', 'audit')).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRow)
      .filter((e) => e.subject_id === created.id);
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor_type, e.actor_label]),
      [
        ['api-key.revoked', 'system', 'Command line'],
        ['api-key.created', 'system', 'Command line'],
      ],
    );
  });

  test('creates a key for a scope the platform declares, printing it once', async () => {
    const r = await borough('api-keys', 'create', '--name', 'Back office', '--scopes', 'cases:read');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Copy it now: it will not be shown again/);
    const key = present(r.out.trim().split('\n').at(-1), 'the key');
    assert.match(key, KEY_FORMAT);
    assert.ok(await withServices(async (services) => services.account.apiKeys.authenticate(key)));
  });
});
