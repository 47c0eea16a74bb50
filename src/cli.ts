import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '#platform/config/index';
import { loadCouncil } from '#platform/council/index';
import { migrateToLatest, openDatabase } from '#platform/db/index';
import { DataFolderLockedError, lockDataFolder } from '#platform/lock/index';
import { createLogger } from '#platform/logging/index';
import { hasErrors, lintForm, type Finding } from '#modules/forms/model/linter';
import type { Platform } from '#platform/platform';
import { searchAudit } from '#platform/audit/index';
import { COMMAND_LINE_ACTOR } from '#modules/account/index';
import { start, type Role } from './main.js';
import { allMigrations, buildServices, seedDemoCouncil, type Services } from './services.js';

const HELP = `Usage: borough <command> [options]

Running
  start                      web and worker in one process (the embedded database needs this)
  web                        the web role only (needs DATABASE_URL)
  worker                     the background jobs role only (needs DATABASE_URL)

Database
  migrate                    apply database migrations and exit
  seed                       load the demo council (development only)
  db backup <file>           back up the database to a file
  db restore <file>          restore the database from a backup (the platform must be stopped)

Data
  import gazetteer <file.csv>   load addresses (columns: uprn,house,street,usrn,locality,town,postcode,lat,lng)
  import assets <file.geojson|file.csv>
                             load or update located assets: Point features with properties id and kind,
                             or CSV with columns id,kind,lat,lng (optionally usrn,state; other columns are kept)
  export audit [--since YYYY-MM-DD]   the audit log as JSON lines
  export resident <email>    everything held about a resident, as JSON

Forms
  forms check [file.json ...]   check form definitions (every form in the council's forms folder unless files are named)

Record linkage (CSV with a header row; fields recognised by their usual column names)
  linkage dedupe <file.csv> [--id <column>] [--map <column>=<field> ...]
                             the same person's records in one file: CSV id,cluster on stdout
  linkage link <a.csv> <b.csv> [--id <column>] [--map <column>=<field> ...]
                             records of the same person in two files: CSV id_a,id_b,match_probability (0.5 and above)

Signposts (the multi-agency single view)
  signposts ingest --source <code> <file.csv|file.json>
                             load an agency extract: rows are checked, rejected rows listed, records linked
  signposts sources          the registered sources, with their last load
  signposts relink           link every record again with a freshly trained model
  signposts purge            remove records kept past their source's retention period

Staff users
  users create --email <e> --name <n> --roles <r,r> [--teams <t,t>]   invite a staff member
  users reset-mfa <email>    make a staff member set up their authenticator app again

API keys (for other systems calling Borough's APIs)
  api-keys create --name <n> --scopes <s,s> [--expires YYYY-MM-DD]   make a key; it is printed once, never stored
  api-keys list              every key with its id, prefix, scopes, status and last use
  api-keys revoke <id>       stop a key working at once (its id or its prefix)

Configuration is read from the environment: see README.md.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
      case 'web':
      case 'worker':
        return await run(command === 'start' ? 'all' : command);
      case 'migrate':
        return await withPlatform(async () => 0, { migrateOnly: true });
      case 'seed':
        return await withPlatform(async (platform, services) => {
          if (platform.config.production) throw new Error('The demo council is never loaded in production.');
          await seedDemoCouncil(platform, services);
          const people = await services.signposts.seedDemo({ people: platform.config.demoSignposts });
          console.log(`Demo council loaded${people ? `, with agency records for ${people} people in Signposts` : ''}.`);
          return 0;
        });
      case 'db':
        return await database(rest);
      case 'import':
        return await importData(rest);
      case 'export':
        return await exportData(rest);
      case 'users':
        return await users(rest);
      case 'api-keys':
        return await apiKeys(rest);
      case 'forms':
        return forms(rest);
      case 'linkage':
        return await linkage(rest);
      case 'signposts':
        return await signposts(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return command ? 0 : 1;
      default:
        console.error(`Unknown command "${command}".\n\n${HELP}`);
        return 1;
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DataFolderLockedError) {
      console.error(e.message);
      return 1;
    }
    console.error(e instanceof Error ? e.message : e);
    return 1;
  }
}

async function run(role: Role): Promise<number> {
  const running = await start(role);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.stop();
  return 0;
}

/** Opens the database for a one-off command, holding the data-folder lock in embedded mode. */
async function withPlatform(fn: (platform: Platform, services: Services) => Promise<number>, opts: { migrateOnly?: boolean } = {}): Promise<number> {
  const config = loadConfig(process.env, { persistSecret: true });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const lock = config.databaseUrl ? undefined : lockDataFolder(config.dataDir);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : path.join(config.dataDir, 'pgdata') });
  try {
    const applied = await migrateToLatest(database.db, allMigrations());
    if (opts.migrateOnly) {
      console.log(applied.length ? `Applied ${applied.length} migrations.` : 'The database is up to date.');
      return 0;
    }
    const platform: Platform = { config, council: loadCouncil(config.councilDir), database, logger };
    const services = await buildServices(platform);
    return await fn(platform, services);
  } finally {
    await database.close();
    lock?.release();
  }
}

async function database(args: string[]): Promise<number> {
  const [action, file] = args;
  if ((action !== 'backup' && action !== 'restore') || !file) {
    console.error('Usage: borough db backup <file> | borough db restore <file>');
    return 1;
  }
  const config = loadConfig(process.env, { persistSecret: true });
  const target = path.resolve(file);
  if (config.databaseUrl) {
    // PostgreSQL: the standard tools, custom format.
    const cmd =
      action === 'backup'
        ? ['pg_dump', ['--format=custom', `--file=${target}`, config.databaseUrl]]
        : ['pg_restore', ['--clean', '--if-exists', '--no-owner', `--dbname=${config.databaseUrl}`, target]];
    const r = spawnSync(cmd[0] as string, cmd[1] as string[], { stdio: 'inherit' });
    if (r.error) throw new Error(`${cmd[0] as string} is needed for PostgreSQL backups: ${r.error.message}`);
    return r.status ?? 1;
  }
  const lock = lockDataFolder(config.dataDir);
  const pgdata = path.join(config.dataDir, 'pgdata');
  try {
    if (action === 'backup') {
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create(pgdata);
      const dump = await db.dumpDataDir('gzip');
      await db.close();
      writeFileSync(target, Buffer.from(await dump.arrayBuffer()));
      console.log(`Backed up the embedded database to ${target}`);
    } else {
      if (!existsSync(target)) throw new Error(`No backup at ${target}`);
      const { PGlite } = await import('@electric-sql/pglite');
      const staging = `${pgdata}.restoring`;
      rmSync(staging, { recursive: true, force: true });
      const db = await PGlite.create(staging, { loadDataDir: new Blob([readFileSync(target)]) });
      await db.query('SELECT 1');
      await db.close();
      // Keep the previous data until the restored copy is complete.
      if (existsSync(pgdata)) renameSync(pgdata, `${pgdata}.before-restore-${Date.now()}`);
      renameSync(staging, pgdata);
      console.log(`Restored the embedded database from ${target}`);
    }
    return 0;
  } finally {
    lock.release();
  }
}

/** Asset files by extension: GeoJSON or CSV. */
const ASSET_FORMATS: Record<string, 'geojson' | 'csv'> = { '.geojson': 'geojson', '.json': 'geojson', '.csv': 'csv' };

async function importData(args: string[]): Promise<number> {
  const [kind, file] = args;
  const usage = 'Usage: borough import gazetteer <file.csv> | borough import assets <file.geojson|file.csv>';
  if ((kind !== 'gazetteer' && kind !== 'assets') || !file) {
    console.error(usage);
    return 1;
  }
  const format = ASSET_FORMATS[path.extname(file).toLowerCase()];
  if (kind === 'assets' && !format) {
    console.error(`Give assets as a .geojson or .csv file.
${usage}`);
    return 1;
  }
  const text = readFileSync(path.resolve(file), 'utf8');
  return withPlatform(async (_platform, services) => {
    const { geo } = services;
    const count =
      kind === 'gazetteer' ? await geo.importAddressesCsv(text) : format === 'csv' ? await geo.importAssetsCsv(text) : await geo.importAssetsGeoJson(text);
    const what = kind === 'gazetteer' ? ['address', 'addresses'] : ['asset', 'assets'];
    console.log(`Imported ${count} ${count === 1 ? what[0] : what[1]}.`);
    return 0;
  });
}

async function exportData(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { since: { type: 'string' } } });
  const [kind, subject] = positionals;
  if (kind === 'audit') {
    return withPlatform(async (platform) => {
      let page = 1;
      for (;;) {
        const r = await searchAudit(platform.database.db, { from: values.since ? new Date(values.since) : undefined, page, pageSize: 200 });
        for (const row of r.rows) console.log(JSON.stringify(row));
        if (page * r.pageSize >= r.total) break;
        page++;
      }
      return 0;
    });
  }
  if (kind === 'resident' && subject) {
    return withPlatform(async (_platform, services) => {
      const data = await services.account.residents.exportByEmail(subject);
      if (!data) {
        console.error('No resident has that email address.');
        return 1;
      }
      console.log(JSON.stringify(data, null, 2));
      return 0;
    });
  }
  console.error('Usage: borough export audit [--since YYYY-MM-DD] | borough export resident <email>');
  return 1;
}

async function users(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, roles: { type: 'string' }, teams: { type: 'string' } },
  });
  const [action, email] = positionals;
  const list = (v: string | undefined) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  const { email: newEmail, name, roles, teams } = values;
  if (action === 'create' && newEmail && name && roles) {
    return withPlatform(async (_platform, services) => {
      const link = await services.account.staff.createStaffUser({ email: newEmail, name, roles: list(roles), teams: list(teams) });
      console.log(`Invited ${newEmail}. They can finish setting up their account at:\n${link}`);
      return 0;
    });
  }
  if (action === 'reset-mfa' && email) {
    return withPlatform(async (_platform, services) => {
      await services.account.staff.resetMfa(email);
      console.log(`${email} will set up their authenticator app again at their next sign-in.`);
      return 0;
    });
  }
  console.error('Usage: borough users create --email <e> --name <n> --roles <r,r> [--teams <t,t>] | borough users reset-mfa <email>');
  return 1;
}

async function apiKeys(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' } },
  });
  const [action, which] = positionals;
  if (action === 'create' && values.name !== undefined && values.scopes !== undefined) {
    const { name, scopes } = values;
    let expiresAt: Date | undefined;
    if (values.expires !== undefined) {
      expiresAt = new Date(`${values.expires}T00:00:00Z`);
      // A real calendar date only: Date would roll 30 February over into March.
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.toISOString().slice(0, 10) !== values.expires) {
        console.error('Give --expires as a date, like 2027-03-31.');
        return 1;
      }
    }
    return withPlatform(async (_platform, services) => {
      const list = scopes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const created = await services.account.apiKeys.create(COMMAND_LINE_ACTOR, { name, scopes: list, expiresAt });
      console.log(`Created the API key "${name.trim()}" (id ${created.id}, prefix ${created.prefix}). Copy it now: it will not be shown again.`);
      console.log(created.key);
      return 0;
    });
  }
  if (action === 'list') {
    return withPlatform(async (_platform, services) => {
      const keys = await services.account.apiKeys.list(COMMAND_LINE_ACTOR);
      if (keys.length === 0) console.log('There are no API keys.');
      for (const k of keys) {
        const used = k.lastUsedAt ? `last used ${k.lastUsedAt.toISOString()}` : 'never used';
        const expires = k.expiresAt && k.status === 'active' ? `, expires ${k.expiresAt.toISOString()}` : '';
        console.log(`${k.id}  ${k.prefix}  ${k.status}  ${k.name}  [${k.scopes.join(',')}]  ${used}${expires}`);
      }
      return 0;
    });
  }
  if (action === 'revoke' && which) {
    return withPlatform(async (_platform, services) => {
      const keys = await services.account.apiKeys.list(COMMAND_LINE_ACTOR);
      const key = keys.find((k) => k.id === which || k.prefix === which);
      if (!key) {
        console.error(`No API key has the id or prefix ${which}.`);
        return 1;
      }
      await services.account.apiKeys.revoke(COMMAND_LINE_ACTOR, key.id);
      console.log(key.status === 'revoked' ? `The API key "${key.name}" was already revoked.` : `Revoked the API key "${key.name}" (${key.prefix}).`);
      return 0;
    });
  }
  console.error('Usage: borough api-keys create --name <n> --scopes <s,s> [--expires YYYY-MM-DD] | borough api-keys list | borough api-keys revoke <id>');
  return 1;
}

const LINKAGE_USAGE = 'Usage: borough linkage dedupe <file.csv> | borough linkage link <a.csv> <b.csv>, each with [--id <column>] [--map <column>=<field> ...]';

/** Record linkage for evaluation: reads CSV files and writes CSV to stdout, touching no database. */
const SIGNPOSTS_USAGE = 'Usage: borough signposts ingest --source <code> <file.csv|file.json> | sources | relink | purge';

async function signposts(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { source: { type: 'string' } } });
  const [action, file, ...extra] = positionals;
  if (action === 'ingest' && (!values.source || !file || extra.length > 0)) {
    console.error(SIGNPOSTS_USAGE);
    return 1;
  }
  if (!['ingest', 'sources', 'relink', 'purge'].includes(action ?? '')) {
    console.error(SIGNPOSTS_USAGE);
    return 1;
  }
  return withPlatform(async (_platform, services) => {
    const service = services.signposts.service;
    if (action === 'sources') {
      const loads = await service.recentLoads(1000);
      for (const source of service.sources) {
        const last = loads.find((l) => l.source_code === source.code && l.status !== 'failed');
        console.log(
          `${source.code}\t${source.agency}\t${last ? `last load ${last.finished_at.toISOString()} (${last.rows} rows, ${last.rejected} rejected)` : 'never loaded'}`,
        );
      }
      return 0;
    }
    if (action === 'relink') {
      const result = await service.relink();
      console.log(`Re-linked ${result.records} records into ${result.people} people; ${result.review} pairs wait for review.`);
      return 0;
    }
    if (action === 'purge') {
      const purged = await service.purgeExpired();
      const total = Object.values(purged).reduce((a, b) => a + b, 0);
      console.log(total ? `Removed ${total} records past retention: ${JSON.stringify(purged)}` : 'No records are past their retention period.');
      return 0;
    }
    const path = file as string;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      console.error(`Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    const { UnknownSource } = await import('#modules/signposts/index');
    try {
      const summary = await service.ingest({
        source: values.source as string,
        text,
        format: path.toLowerCase().endsWith('.json') ? 'json' : 'csv',
        fileName: path.split('/').pop() ?? path,
        via: 'command line',
        loadedBy: process.env.USER ? `${process.env.USER} (command line)` : 'command line',
      });
      if (summary.status === 'failed') {
        console.error(summary.failure);
        return 1;
      }
      if (summary.status === 'unchanged') console.log(`${summary.source}: the same extract as the last load; nothing changed.`);
      else
        console.log(
          `${summary.source}: ${summary.rows} rows, ${summary.records} records: ${summary.added} new, ${summary.changed} changed, ${summary.records - summary.added - summary.changed} unchanged; ${summary.rejected} rows rejected.`,
        );
      for (const p of summary.problems.slice(0, 50)) console.error(`row ${p.row}${p.recordId ? ` (${p.recordId})` : ''}: ${p.column}: ${p.message}`);
      if (summary.problems.length > 50)
        console.error(`... and ${summary.problems.length - 50} more: download the full list from the Signposts sources page (load ${summary.loadId}).`);
      return summary.rejected > 0 ? 2 : 0;
    } catch (error) {
      if (error instanceof UnknownSource) {
        console.error(error.message);
        return 1;
      }
      throw error;
    }
  });
}

async function linkage(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { id: { type: 'string' }, map: { type: 'string', multiple: true } } });
  const [action, ...files] = positionals;
  const wanted = action === 'dedupe' ? 1 : action === 'link' ? 2 : 0;
  if (!wanted || files.length !== wanted) {
    console.error(LINKAGE_USAGE);
    return 1;
  }
  const { dedupe, link, personField, recordsFromCsv } = await import('#modules/signposts/linkage/index');
  const map: Record<string, string> = {};
  for (const pair of values.map ?? []) {
    const [column, field] = pair.split('=');
    const known = field ? personField(field) : undefined;
    if (!column || !known) {
      console.error(`--map ${pair}: give a column and a person field, like --map fname=given_name`);
      return 1;
    }
    map[known] = column.trim();
  }
  const options = { ...(values.id ? { idColumn: values.id } : {}), map };
  const lists = files.map((file) => recordsFromCsv(readFileSync(file, 'utf8'), options));
  const cell = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  const lines: string[] = [];
  if (action === 'dedupe') {
    lines.push('id,cluster');
    for (const { id, cluster } of dedupe(lists[0] ?? []).clusters) lines.push(`${cell(id)},${cluster}`);
  } else {
    lines.push('id_a,id_b,match_probability');
    for (const pair of link(lists[0] ?? [], lists[1] ?? [])) lines.push(`${cell(pair.leftId)},${cell(pair.rightId)},${pair.probability.toFixed(6)}`);
  }
  console.log(lines.join('\n'));
  return 0;
}

function forms(args: string[]): number {
  const [action, ...files] = args;
  if (action !== 'check') {
    console.error('Usage: borough forms check [file.json ...]');
    return 1;
  }
  return checkForms(files);
}

/** A JSON syntax error as a finding, with the line and column when the parser gives a position. */
function syntaxFinding(text: string, error: unknown): Finding {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  if (!position) return { severity: 'error', path: '', message: `Not valid JSON: ${message}` };
  const before = text.slice(0, Number(position[1])).split('\n');
  const where = `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  return { severity: 'error', path: '', message: `Not valid JSON at ${where}: ${message.replace(/ in JSON at position \d+.*$/s, '')}` };
}

/** Reads and lints one definition file. */
function lintFile(file: string): { findings: Finding[]; raw?: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { findings: [{ severity: 'error', path: '', message: `Cannot read the file: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { findings: [syntaxFinding(text, e)] };
  }
  const findings = lintForm(raw);
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { findings, raw: raw as Record<string, unknown> } : { findings };
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * Checks form definitions with the form linter, without opening the database: the files named, or
 * every definition in the council's forms folder. Also reports two forms sharing an id or a slug,
 * which could not both be published. Returns 1 when any definition has an error.
 */
function checkForms(names: string[]): number {
  const started = performance.now();
  let files = names.map((name) => path.resolve(name));
  if (files.length === 0) {
    const folder = path.join(loadConfig(process.env).councilDir, 'forms');
    if (!existsSync(folder)) {
      console.error(`There is no forms folder at ${folder}.`);
      return 1;
    }
    files = readdirSync(folder)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(folder, name));
  }
  const shown = (file: string): string => {
    const relative = path.relative(process.cwd(), file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  };
  const owners = { id: new Map<string, string>(), slug: new Map<string, string>() };
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    const { findings, raw } = lintFile(file);
    if (raw && !hasErrors(findings)) {
      for (const key of ['id', 'slug'] as const) {
        const value = raw[key];
        if (typeof value !== 'string') continue;
        const owner = owners[key].get(value);
        if (owner === undefined) owners[key].set(value, file);
        else findings.push({ severity: 'error', path: key, message: `${shown(owner)} already has the ${key} "${value}"` });
      }
    }
    for (const finding of findings) {
      if (finding.severity === 'error') errors += 1;
      else warnings += 1;
      console.log(`${shown(file)}: ${finding.severity}${finding.path ? ` ${finding.path}` : ''}: ${finding.message}`);
    }
  }
  const ms = Math.round(performance.now() - started);
  console.log(`Checked ${plural(files.length, 'form')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')} (${ms} ms)`);
  return errors > 0 ? 1 : 0;
}
