import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ConfigError, loadConfig } from '#platform/config/index';
import { DataFolderLockedError, lockDataFolder } from '#platform/lock/index';
import { createLogger } from '#platform/logging/index';
import { recordAudit } from '#platform/audit/index';
import { createTestApp, pageText, type TestApp } from './support/app.js';

describe('the platform over HTTP', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('answers /healthz with the database kind', async () => {
    const res = await t.app.inject('/healthz');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok', database: t.platform.database.kind });
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
    assert.equal(res.headers['x-content-type-options'], 'nosniff', 'health checks carry the fixed security headers too');
  });

  it('renders the home page in the council branding with a skip link and footer links', async () => {
    const res = await t.app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /class="govuk-skip-link"/);
    assert.match(res.body, /Kingsmere Council/);
    for (const href of ['/accessibility', '/privacy', '/cookies']) assert.match(res.body, new RegExp(`href="${href}"`));
    assert.doesNotMatch(res.body, /GDS Transport|govuk-logo|govuk-footer__crown|govuk-footer__licence/);
  });

  it('sends security headers with a per-request script nonce and no inline script', async () => {
    const a = await t.app.inject('/');
    const b = await t.app.inject('/');
    const csp = String(a.headers['content-security-policy']);
    const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.notEqual(nonce, /'nonce-([^']+)'/.exec(String(b.headers['content-security-policy']))?.[1]);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(a.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(a.headers['referrer-policy'], 'same-origin');
    assert.equal(a.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(a.headers['strict-transport-security'], undefined, 'no HSTS outside production');
    for (const tag of a.body.match(/<script[^>]*>/g) ?? []) {
      assert.match(tag, /src="\/assets\//, `only external scripts: ${tag}`);
      assert.ok(tag.includes(`nonce="${nonce}"`), `script tag carries this response's nonce: ${tag}`);
    }
  });

  it('shows the GOV.UK-style 404 page, never a stack trace', async () => {
    const res = await t.app.inject('/no-such-page');
    assert.equal(res.statusCode, 404);
    assert.match(pageText(res.body), /Page not found If you typed the web address, check it is correct/);
  });

  it('shows the 404 page for a missing asset too, with its own nonce', async () => {
    const res = await t.app.inject({ url: '/assets/missing.css', headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 404);
    assert.match(pageText(res.body), /Page not found/);
    assert.match(String(res.headers['content-security-policy']), /'nonce-/);
  });

  it('answers JSON 404s on API paths', async () => {
    const res = await t.app.inject('/api/nothing');
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'Not found');
  });

  it('refuses a form post without its CSRF token with the 403 page', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/account/sign-in',
      payload: 'email=a%40b.com&password=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.statusCode, 403);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(pageText(res.body), /You cannot do that/);
  });

  it('refuses a body over the size limit', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/account/sign-in',
      payload: `email=${'a'.repeat(1_100_000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.statusCode, 413);
    assert.doesNotMatch(res.body, /at .*\.ts:\d+/);
  });

  it('serves the stylesheets without the GOV.UK typeface, and the council colours', async () => {
    const council = await t.app.inject('/assets/council.css');
    assert.match(council.body, new RegExp(t.platform.council.profile.colours.brand));
    const js = await t.app.inject('/assets/js/borough.mjs');
    assert.equal(js.statusCode, 200);
  });

  it('sends stylesheets, scripts and the map library compressed to browsers that accept it, and plain to others', async () => {
    for (const url of [
      '/assets/resident.css',
      '/assets/leaflet/leaflet.js',
      '/assets/leaflet/leaflet.css',
      '/assets/js/report-map.mjs',
      '/assets/govuk/govuk-frontend.min.js',
    ]) {
      const plain = await t.app.inject({ url, headers: { 'accept-encoding': 'identity' } });
      const brotli = await t.app.inject({ url, headers: { 'accept-encoding': 'br, gzip' } });
      const gzip = await t.app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
      assert.equal(plain.statusCode, 200, url);
      assert.equal(plain.headers['content-encoding'], undefined, url);
      assert.equal(brotli.headers['content-encoding'], 'br', url);
      assert.equal(gzip.headers['content-encoding'], 'gzip', url);
      assert.equal(brotliDecompressSync(brotli.rawPayload).toString(), plain.body, url);
      assert.equal(gunzipSync(gzip.rawPayload).toString(), plain.body, url);
      assert.ok(brotli.rawPayload.length < plain.rawPayload.length / 3, url);
    }
  });

  it('keeps audit events append-only: the database refuses UPDATE and DELETE', async () => {
    await recordAudit(t.platform.database.db, { actor: { type: 'system' }, action: 'test.recorded' });
    await assert.rejects(sql`UPDATE audit_events SET action = 'changed'`.execute(t.platform.database.db), /append-only/);
    await assert.rejects(sql`DELETE FROM audit_events`.execute(t.platform.database.db), /append-only/);
    const rows = await sql<{ action: string }>`SELECT action FROM audit_events WHERE action = 'test.recorded'`.execute(t.platform.database.db);
    assert.equal(rows.rows.length, 1);
  });
});

describe('health when the database does not answer', () => {
  it('answers 503', async () => {
    const t = await createTestApp();
    try {
      await t.platform.database.pool.end();
      const res = await t.app.inject('/healthz');
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, 'unavailable');
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});

describe('configuration', () => {
  it('reports every bad value at once with a clear message', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', BOROUGH_BASE_URL: 'not a url', BOROUGH_DEMO: 'maybe' });
      assert.fail('expected a configuration error');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      const text = e.problems.join('\n');
      assert.match(text, /PORT must be a number/);
      assert.match(text, /DATABASE_URL must start with postgres/);
      assert.match(text, /BOROUGH_BASE_URL must be a full URL/);
      assert.match(text, /BOROUGH_DEMO must be true or false/);
    }
  });

  it('requires a session secret, real mail and no demo data in production', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', BOROUGH_DEMO: 'true' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.startsWith('SESSION_SECRET is required')) &&
        e.problems.some((p) => p.startsWith('BOROUGH_DEMO must not be on in production')) &&
        e.problems.some((p) => p.startsWith('BOROUGH_MAIL must be smtp or notify')),
    );
    const ok = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRET: 'x'.repeat(40),
      SMTP_URL: 'smtp://mail.example:25',
      BOROUGH_BASE_URL: 'https://www.example.gov.uk',
    });
    assert.equal(ok.demo, false);
    assert.equal(ok.mail.transport, 'smtp');
  });

  it('takes a base map tile server only over https with {z}, {x} and {y}, and lets its images through the content policy', async () => {
    assert.throws(
      () => loadConfig({ BOROUGH_MAP_TILE_URL: 'http://tiles.example/{z}/{x}/{y}.png', BOROUGH_DEMO_REPORTS: '-1' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.startsWith('BOROUGH_MAP_TILE_URL must be an https tile URL')) &&
        e.problems.some((p) => p.startsWith('BOROUGH_DEMO_REPORTS')),
    );
    assert.equal(loadConfig({}).mapTiles, undefined);
    const tiled = await createTestApp({
      env: { BOROUGH_MAP_TILE_URL: 'https://tiles.example.org/base/{z}/{x}/{y}.png', BOROUGH_MAP_TILE_ATTRIBUTION: '© Example' },
    });
    try {
      assert.deepEqual(tiled.config.mapTiles, {
        url: 'https://tiles.example.org/base/{z}/{x}/{y}.png',
        origin: 'https://tiles.example.org',
        attribution: '© Example',
      });
      const page = await tiled.app.inject('/');
      assert.match(String(page.headers['content-security-policy']), /img-src 'self' data: https:\/\/tiles\.example\.org;/);
    } finally {
      await tiled.close();
    }
  });

  it('keeps a generated session secret in the data folder in development', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'borough-config-'));
    try {
      const a = loadConfig({ BOROUGH_DATA_DIR: dir }, { persistSecret: true });
      const b = loadConfig({ BOROUGH_DATA_DIR: dir }, { persistSecret: true });
      assert.equal(a.sessionSecret, b.sessionSecret);
      assert.ok(a.sessionSecret.length >= 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the data folder lock', () => {
  it('refuses a second holder while the first is alive, and takes over a dead one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'borough-lock-'));
    try {
      const first = lockDataFolder(dir);
      const child = spawn(
        process.execPath,
        [
          '--conditions=borough-source',
          '--import',
          'tsx',
          '-e',
          `import('#platform/lock/index').then(m => { try { m.lockDataFolder(${JSON.stringify(dir)}); console.log('locked'); } catch (e) { console.log(e.message); } })`,
        ],
        {
          cwd: process.cwd(),
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => child.on('exit', r));
      assert.match(out, /in use by another Borough process/);
      first.release();
      // A lock file left by a process that no longer exists is taken over.
      writeFileSync(path.join(dir, 'borough.lock'), '999999');
      const again = lockDataFolder(dir);
      again.release();
      assert.throws(() => {
        const a = lockDataFolder(dir);
        try {
          writeFileSync(path.join(dir, 'borough.lock'), String(process.ppid));
          lockDataFolder(dir);
        } finally {
          a.release();
        }
      }, DataFolderLockedError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds one exit listener however many folders a process locks, and releases every lock it still holds on exit', async () => {
    const dirs = Array.from({ length: 15 }, () => mkdtempSync(path.join(tmpdir(), 'borough-lock-')));
    try {
      const script = `import('#platform/lock/index').then(m => {
        const before = process.listenerCount('exit');
        const locks = ${JSON.stringify(dirs)}.map((d) => m.lockDataFolder(d));
        locks[0].release();
        console.log('listeners', process.listenerCount('exit') - before);
      })`;
      const child = spawn(process.execPath, ['--conditions=borough-source', '--import', 'tsx', '-e', script], { cwd: process.cwd() });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise((r) => child.on('exit', r));
      assert.match(out, /listeners 1/);
      assert.doesNotMatch(err, /MaxListenersExceededWarning/);
      for (const dir of dirs) assert.equal(existsSync(path.join(dir, 'borough.lock')), false, dir);
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('logging', () => {
  it('redacts personal data and tokens', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    logger.info({ email: 'sam@example.com', resident: { name: 'Sam Taylor', phone: '07700900000' } }, 'signed in');
    logger.info('link sent to sam@example.com with /account/reset?token=abc.def');
    logger.info({ req: { method: 'GET', url: '/account/sign-in/link?token=secret123' } }, 'request');
    logger.warn({ headers: { cookie: 'borough_session=cookie-value' }, deep: { er: { still: { email: 'deep@example.com' } } } }, 'nested');
    logger.error({ err: new Error('could not send to err@example.com') }, 'failed');
    const text = lines.join('');
    assert.doesNotMatch(text, /sam@example\.com|Sam Taylor|07700900000|abc\.def|secret123|cookie-value|deep@example\.com|err@example\.com/);
    assert.match(text, /\[redacted\]/);
  });
});

describe('errors inside a capability', () => {
  it('show the GOV.UK-style 500 page with a reference, never a stack trace', async () => {
    const { buildApp } = await import('../src/app.js');
    const t = await createTestApp();
    try {
      const failing = await buildApp(t.platform, [
        {
          name: 'failing',
          register(app) {
            app.get('/broken', () => {
              throw new Error('database exploded at secret.ts:12');
            });
          },
        },
      ]);
      const res = await failing.inject('/broken');
      assert.equal(res.statusCode, 500);
      const text = pageText(res.body);
      assert.match(text, /Sorry, there is a problem with the service/);
      assert.match(text, /Reference for this problem: [0-9a-f-]{36}/);
      assert.doesNotMatch(res.body, /exploded|secret\.ts/);
      await failing.close();
    } finally {
      await t.close();
    }
  });
});

describe('in production', () => {
  it('sends HSTS and marks the session cookie Secure', async () => {
    const t = await createTestApp({
      env: {
        NODE_ENV: 'production',
        BOROUGH_DEMO: 'false',
        SESSION_SECRET: 'p'.repeat(40),
        BOROUGH_BASE_URL: 'https://www.kingsmere.example',
        SMTP_URL: 'smtp://127.0.0.1:9',
      },
    });
    try {
      const home = await t.app.inject('/');
      assert.match(String(home.headers['strict-transport-security']), /max-age=31536000; includeSubDomains/);
      assert.match(String(home.headers['content-security-policy']), /upgrade-insecure-requests/);
      const signIn = await t.app.inject({ url: '/account/sign-in', headers: { 'x-forwarded-proto': 'https' } });
      assert.match(String(signIn.headers['set-cookie']), /borough_session=[^;]+;.*Secure/i);
    } finally {
      await t.close();
    }
  });
});
