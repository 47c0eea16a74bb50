import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { borough } from './support/cli.js';

/**
 * The command line against a PostgreSQL server: this file runs only in the PostgreSQL test layer,
 * which names a server in TEST_DATABASE_URL.
 */

const server = process.env.TEST_DATABASE_URL;

describe('the borough command line on PostgreSQL', { skip: server ? false : 'needs TEST_DATABASE_URL (the PostgreSQL test layer sets it)' }, () => {
  const name = `borough_cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const saved = { ...process.env };
  let dir: string;
  let url: string;

  async function admin<T>(work: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
    const target = new URL(server as string);
    if (database) target.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: target.toString() });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
  const staffEmails = () =>
    admin(async (c) => (await c.query<{ email: string }>('SELECT email FROM staff_users ORDER BY email')).rows.map((r) => r.email), name);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'borough-cli-pg-'));
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    const target = new URL(server as string);
    target.pathname = `/${name}`;
    url = target.toString();
    Object.assign(process.env, { DATABASE_URL: url, BOROUGH_DATA_DIR: dir, NODE_ENV: 'development', LOG_LEVEL: 'silent', BOROUGH_DEMO: 'false' });
  });
  after(async () => {
    process.env = saved;
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs up with pg_dump and restores with pg_restore, putting back what was there', async () => {
    assert.match((await borough('migrate')).out, /Applied \d+ migrations/);
    const invite = (email: string) => borough('users', 'create', '--email', email, '--name', 'Backed Up', '--roles', 'case-officer', '--teams', 'highways');
    assert.equal((await invite('kept@kingsmere.example')).code, 0);

    const backup = path.join(dir, 'borough.dump');
    const b = await borough('db', 'backup', backup);
    assert.equal(b.code, 0, b.err);
    assert.ok(existsSync(backup));

    assert.equal((await invite('after.backup@kingsmere.example')).code, 0);
    assert.deepEqual(await staffEmails(), ['after.backup@kingsmere.example', 'kept@kingsmere.example']);

    const r = await borough('db', 'restore', backup);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await staffEmails(), ['kept@kingsmere.example'], 'the database is as it was at the backup');
    assert.match((await borough('migrate')).out, /up to date/, 'the restored database knows its migrations');
  });
});
