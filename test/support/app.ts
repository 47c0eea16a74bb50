import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '#platform/config/index';
import { loadCouncil } from '#platform/council/index';
import { dumpEmbedded, migrateToLatest, openDatabase } from '#platform/db/index';
import { createLogger } from '#platform/logging/index';
import type { Platform } from '#platform/platform';
import { allMigrations, buildServices, seedDemoCouncil, webModules, type Services } from '../../src/services.js';

export interface TestApp {
  app: FastifyInstance;
  platform: Platform;
  services: Services;
  config: Config;
  client(): TestClient;
  close(): Promise<void>;
}

/**
 * The platform as main.ts builds it, over a fresh database: in-memory PGlite by default,
 * or a new database on the PostgreSQL server named by TEST_DATABASE_URL (the PostgreSQL test layer).
 */
export async function createTestApp(opts: { env?: Record<string, string>; seedDemo?: boolean; worker?: boolean } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'borough-test-'));
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `borough_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    BOROUGH_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BOROUGH_DEMO: 'true',
    // Tests make the reports and appointments they need; the demo's would only slow them down and get in the way.
    BOROUGH_DEMO_REPORTS: '0',
    BOROUGH_DEMO_APPOINTMENTS: '0',
    BOROUGH_DEMO_SIGNPOSTS: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...opts.env,
  });
  const logger = createLogger({ level: config.logLevel });
  const database = await openDatabase({ url: config.databaseUrl, template: config.databaseUrl ? undefined : await migratedTemplate() });
  await migrateToLatest(database.db, allMigrations());
  const platform: Platform = { config, council: loadCouncil(config.councilDir), database, logger };
  const services = await buildServices(platform);
  if (opts.seedDemo) await seedDemoCouncil(platform, services);
  if (opts.worker) await services.startWorker();
  const app = await buildApp(platform, webModules(platform, services));
  await app.ready();
  return {
    app,
    platform,
    services,
    config,
    client: () => new TestClient(app),
    async close() {
      await app.close();
      await services.stopWorker();
      await database.close();
      await dropDatabase?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let template: Promise<Blob> | undefined;

/**
 * Creating an embedded database runs initdb (seconds); starting from a migrated copy takes a fraction of that.
 * The copy is cached in the temp folder, keyed by the migrations' source, and shared by test processes.
 */
function migratedTemplate(): Promise<Blob> {
  return (template ??= (async () => {
    const hash = createHash('sha256');
    for (const set of allMigrations()) for (const [name, m] of Object.entries(set.migrations)) hash.update(name).update(String(m.up));
    const file = path.join(tmpdir(), `borough-template-${hash.digest('hex').slice(0, 16)}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const database = await openDatabase({});
    await migrateToLatest(database.db, allMigrations());
    const blob = await dumpEmbedded(database);
    await database.close();
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
    renameSync(partial, file);
    return blob;
  })());
}

/** A browser-like client for inject(): keeps cookies and fills in the CSRF token from the last page. */
export class TestClient {
  cookies = new Map<string, string>();
  lastHtml = '';
  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string | undefined {
    return this.cookies.size ? [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  private keep(res: LightMyRequestResponse): void {
    for (const c of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now()) || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    if (String(res.headers['content-type'] ?? '').includes('text/html')) this.lastHtml = res.body;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader();
    const res = await this.app.inject({ method: 'GET', url, headers: { ...(cookie ? { cookie } : {}), ...headers } });
    this.keep(res);
    return res;
  }

  /** Follows redirects (GET) up to 5 times. */
  async follow(res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    let r = res;
    for (let i = 0; i < 5 && r.statusCode >= 300 && r.statusCode < 400; i++) r = await this.get(String(r.headers.location));
    return r;
  }

  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.lastHtml);
    if (!m?.[1]) throw new Error('No CSRF token on the last page');
    return m[1];
  }

  /** Posts a form as a browser would, with the CSRF token from the last page unless one is given. */
  async post(url: string, form: Record<string, string | string[]>, opts: { csrf?: string | false } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
    if (opts.csrf !== false) body.set('_csrf', opts.csrf ?? this.csrf());
    const cookie = this.cookieHeader();
    const res = await this.app.inject({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    });
    this.keep(res);
    return res;
  }
}

/** Text of the page without tags, for readable assertions. */
export function pageText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
