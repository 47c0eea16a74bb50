import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli.js';
import { parseFormDefinition } from './model/definition.js';
import { lintForm } from './model/linter.js';

const formsFolder = fileURLToPath(new URL('../../../council/forms/', import.meta.url));
const shipped = readdirSync(formsFolder)
  .filter((name) => name.endsWith('.json'))
  .sort();

const read = (name: string): unknown => JSON.parse(readFileSync(path.join(formsFolder, name), 'utf8'));

describe('the shipped forms', () => {
  test('there are shipped forms', () => {
    assert.ok(shipped.length >= 4, shipped.join(', '));
  });

  for (const name of shipped) {
    test(`${name} is a valid definition with no linter findings`, () => {
      const raw = read(name);
      const parsed = parseFormDefinition(raw);
      assert.ok(parsed.success, parsed.error?.message);
      assert.deepEqual(
        lintForm(raw).map((finding) => `${finding.severity} ${finding.path}: ${finding.message}`),
        [],
      );
      assert.equal(parsed.data.slug, path.basename(name, '.json'), 'the slug is the file name');
      assert.ok(parsed.data.deliveries.length > 0, 'submissions go somewhere');
      for (const page of parsed.data.pages) {
        const asksSomething = page.components.some((component) => !['heading', 'paragraph', 'inset', 'warning', 'details', 'list'].includes(component.type));
        if (asksSomething) assert.ok(page.section, `page ${page.id} names a section for check answers`);
      }
    });
  }

  test('no two forms share an id or a slug', () => {
    const definitions = shipped.map((name) => read(name) as { id: string; slug: string });
    for (const key of ['id', 'slug'] as const) {
      const values = definitions.map((definition) => definition[key]);
      assert.equal(new Set(values).size, values.length, `${key}s: ${values.join(', ')}`);
    }
  });
});

/** Runs the command line in-process, capturing what it prints. */
async function borough(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const capture = (...parts: unknown[]): void => {
    out += `${parts.join(' ')}\n`;
  };
  const log = mock.method(console, 'log', capture);
  const error = mock.method(console, 'error', capture);
  try {
    return { code: await main(args), out };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

describe('borough forms check', () => {
  let dir: string;
  const saved = { ...process.env };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'borough-forms-check-'));
    process.env.BOROUGH_DATA_DIR = path.join(dir, 'data');
    delete process.env.BOROUGH_COUNCIL_DIR;
    delete process.env.DATABASE_URL;
  });
  after(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  test('checks every shipped form without touching the database', async () => {
    const r = await borough('forms', 'check');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`^Checked ${shipped.length} forms: 0 errors, 0 warnings \\(\\d+ ms\\)$`, 'm'));
    assert.equal(existsSync(process.env.BOROUGH_DATA_DIR ?? ''), false, 'no data folder was created');
  });

  test('reports a broken definition with its file and path, and fails', async () => {
    const form = read('contact-us.json') as { pages: { routes?: unknown[] }[] };
    const first = form.pages[0];
    assert.ok(first);
    first.routes = [{ goTo: 'nowhere' }];
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify(form, null, 2));
    const r = await borough('forms', 'check', file);
    assert.equal(r.code, 1);
    assert.match(r.out, /broken\.json: error pages\[0\]\.routes\[0\]\.goTo: Goes to unknown page "nowhere"/);
    assert.match(r.out, /Checked 1 form: \d+ errors?, \d+ warnings? \(\d+ ms\)/);
  });

  test('reports a file that is not valid JSON, with where the problem is', async () => {
    const file = path.join(dir, 'not-json.json');
    writeFileSync(file, '{\n  "schemaVersion": 2,\n  "id": "oops",\n}\n');
    const r = await borough('forms', 'check', file);
    assert.equal(r.code, 1);
    assert.match(r.out, /not-json\.json: error: Not valid JSON at line 4, column 1/);
    assert.match(r.out, /Checked 1 form: 1 error, 0 warnings/);
  });

  test("reads the council's forms folder, and reports two forms with the same id", async () => {
    const council = path.join(dir, 'council');
    mkdirSync(path.join(council, 'forms'), { recursive: true });
    cpSync(path.join(formsFolder, 'contact-us.json'), path.join(council, 'forms', 'contact-us.json'));
    const copy = read('contact-us.json') as Record<string, unknown>;
    writeFileSync(path.join(council, 'forms', 'enquiries.json'), JSON.stringify({ ...copy, slug: 'enquiries' }));
    process.env.BOROUGH_COUNCIL_DIR = council;
    try {
      const r = await borough('forms', 'check');
      assert.equal(r.code, 1);
      assert.match(r.out, /enquiries\.json: error id: .*contact-us\.json already has the id "contact_us"/);
      assert.match(r.out, /Checked 2 forms: 1 error, 0 warnings/);
    } finally {
      delete process.env.BOROUGH_COUNCIL_DIR;
    }
  });

  test('explains how to use it', async () => {
    const r = await borough('forms');
    assert.equal(r.code, 1);
    assert.match(r.out, /Usage: borough forms check/);
    assert.match((await borough('help')).out, /forms check \[file\.json \.\.\.\]/);
  });
});
