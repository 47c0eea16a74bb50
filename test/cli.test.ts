import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { borough } from './support/cli.js';

describe('the borough command line (embedded database)', () => {
  let dir: string;
  const saved = { ...process.env };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'borough-cli-'));
    Object.assign(process.env, { BOROUGH_DATA_DIR: dir, NODE_ENV: 'development', LOG_LEVEL: 'silent', BOROUGH_DEMO: 'true' });
    delete process.env.DATABASE_URL;
  });
  after(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('explains itself and refuses unknown commands', async () => {
    assert.match((await borough('help')).out, /Usage: borough <command>/);
    const r = await borough('frobnicate');
    assert.equal(r.code, 1);
    assert.match(r.err, /Unknown command "frobnicate"/);
  });

  it('migrates, then says the database is up to date', async () => {
    assert.match((await borough('migrate')).out, /Applied \d+ migrations/);
    assert.match((await borough('migrate')).out, /up to date/);
  });

  it('refuses the web or worker role alone on the embedded database', async () => {
    const r = await borough('web');
    assert.equal(r.code, 1);
    assert.match(r.err, /needs DATABASE_URL/);
  });

  it('invites a staff member and resets their authenticator', async () => {
    const r = await borough(
      'users',
      'create',
      '--email',
      'new.officer@kingsmere.example',
      '--name',
      'New Officer',
      '--roles',
      'case-officer',
      '--teams',
      'highways',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Invited new\.officer@kingsmere\.example[\s\S]*\/staff\/invitation\?token=/);
    const reset = await borough('users', 'reset-mfa', 'new.officer@kingsmere.example');
    assert.equal(reset.code, 0, reset.err);
    const bad = await borough('users', 'create', '--email', 'x@kingsmere.example');
    assert.equal(bad.code, 1);
  });

  it('imports a gazetteer, all or nothing', async () => {
    const good = path.join(dir, 'addresses.csv');
    writeFileSync(
      good,
      'uprn,house,street,usrn,locality,town,postcode,lat,lng\n100000000001,1,Mill Lane,12345678,Kingsmere,Kingsmere,KM1 2AB,53.47,-2.05\n100000000002,"Rose Cottage",Mill Lane,12345678,Kingsmere,Kingsmere,KM1 2AB,53.4701,-2.0501\n',
    );
    const r = await borough('import', 'gazetteer', good);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Imported 2 addresses/);
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, 'uprn,house,street,usrn,locality,town,postcode,lat,lng\nabc,1,Mill Lane,12345678,Kingsmere,Kingsmere,NOT A POSTCODE,53.47,-2.05\n');
    const refused = await borough('import', 'gazetteer', bad);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /line 2: uprn must be up to 12 digits/);
    assert.match(refused.err, /line 2: postcode is not a valid UK postcode/);
  });

  it('imports assets from CSV or GeoJSON, chosen by the file’s extension, all or nothing', async () => {
    const csv = path.join(dir, 'lights.csv');
    writeFileSync(csv, 'id,kind,lat,lng,usrn,height\nCLI-SL-1,streetlight,53.47,-2.05,12345678,8m\nCLI-GY-1,gully,53.4701,-2.0501,,\n');
    const r = await borough('import', 'assets', csv);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Imported 2 assets/);
    const geojson = path.join(dir, 'gullies.geojson');
    const feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [-2.05, 53.47] }, properties: { id: 'CLI-GY-2', kind: 'gully' } };
    writeFileSync(geojson, JSON.stringify({ type: 'FeatureCollection', features: [feature] }));
    const g = await borough('import', 'assets', geojson);
    assert.equal(g.code, 0, g.err);
    assert.match(g.out, /Imported 1 asset\./);
    const bad = path.join(dir, 'bad-assets.csv');
    writeFileSync(bad, 'id,kind,lat,lng\nCLI-SL-2,lamp,53.47,-2.05\n');
    const refused = await borough('import', 'assets', bad);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /line 2: kind must be streetlight or gully/);
    const other = await borough('import', 'assets', path.join(dir, 'assets.xlsx'));
    assert.equal(other.code, 1);
    assert.match(other.err, /Give assets as a \.geojson or \.csv file/);
  });

  it('exports the audit log as JSON lines', async () => {
    const r = await borough('export', 'audit');
    assert.equal(r.code, 0, r.err);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string });
    assert.ok(events.some((e) => e.action === 'staff.invited'));
  });

  it('backs up and restores the embedded database', async () => {
    const backup = path.join(dir, 'backup.tar.gz');
    const b = await borough('db', 'backup', backup);
    assert.equal(b.code, 0, b.err);
    assert.ok(existsSync(backup));
    const r = await borough('db', 'restore', backup);
    assert.equal(r.code, 0, r.err);
    assert.ok(
      readdirSync(dir).some((f) => f.startsWith('pgdata.before-restore-')),
      'the previous folder is kept',
    );
    // The restored database still has what was there at backup time.
    const exported = await borough('export', 'audit');
    assert.match(exported.out, /staff\.invited/);
  });
});

describe('borough linkage (no database)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'borough-linkage-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Made-up residents as CSV with the given column headings, some people with several records. */
  async function residentsCsv(file: string, headings: { forename: string; id: string }, filter: (id: string) => boolean = () => true) {
    const { syntheticResidents } = await import('#modules/signposts/linkage/synthetic');
    const rows = syntheticResidents({ people: 300, seed: 11 })
      .filter((r) => filter(r.id))
      .map((r) => [r.id, r.forenames ?? '', r.surname ?? '', r.dob ?? '', r.postcode ?? ''].join(', '));
    writeFileSync(path.join(dir, file), [`${headings.id}, ${headings.forename}, surname, date_of_birth, postcode`, ...rows].join('\n'));
    return path.join(dir, file);
  }
  const person = (id: string) => id.slice(0, id.indexOf('-'));

  it('dedupe prints id,cluster for every record, putting one person’s records together', async () => {
    const file = await residentsCsv('one.csv', { id: 'rec_id', forename: 'given_name' });
    const { code, out, err } = await borough('linkage', 'dedupe', file);
    assert.equal(code, 0, err);
    const [header, ...rows] = out.trim().split('\n');
    assert.equal(header, 'id,cluster');
    const clusters = new Map(rows.map((row) => row.split(',') as [string, string]));
    assert.equal(clusters.size, rows.length);
    const byPerson = new Map<string, Set<string>>();
    for (const [id, cluster] of clusters) byPerson.set(person(id), (byPerson.get(person(id)) ?? new Set()).add(cluster));
    const split = [...byPerson.values()].filter((set) => set.size > 1).length;
    assert.ok(split / byPerson.size < 0.05, `${split} of ${byPerson.size} people split across clusters`);
  });

  it('link prints pairs with their probability, reading columns named with --id and --map', async () => {
    const a = await residentsCsv('a.csv', { id: 'ref', forename: 'fname' }, (id) => id.endsWith('-0'));
    const b = await residentsCsv('b.csv', { id: 'ref', forename: 'fname' }, (id) => id.endsWith('-1'));
    const { code, out, err } = await borough('linkage', 'link', a, b, '--id', 'ref', '--map', 'fname=given_name');
    assert.equal(code, 0, err);
    const [header, ...rows] = out.trim().split('\n');
    assert.equal(header, 'id_a,id_b,match_probability');
    assert.ok(rows.length > 20);
    const right = rows.filter((row) => {
      const [idA, idB, p] = row.split(',');
      assert.ok(Number(p) >= 0.5 && Number(p) <= 1);
      return person(idA ?? '') === person(idB ?? '');
    });
    assert.ok(right.length / rows.length > 0.95, `${right.length} of ${rows.length} pairs are the same person`);
  });

  it('refuses a missing file argument or an unknown field, saying how to use it', async () => {
    assert.match((await borough('linkage', 'link', 'only-one.csv')).err, /Usage: borough linkage/);
    const file = await residentsCsv('c.csv', { id: 'rec_id', forename: 'given_name' });
    const bad = await borough('linkage', 'dedupe', file, '--map', 'x=shoe_size');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--map x=shoe_size: give a column and a person field/);
  });
});
