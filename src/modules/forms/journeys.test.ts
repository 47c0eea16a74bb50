import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { personas, type Persona } from '../../../test/support/form-walker.js';
import { parseFormDefinition, type FormDefinition } from './model/definition.js';

const councilForms = path.resolve(import.meta.dirname, '../../../council/forms');
const shipped: FormDefinition[] = readdirSync(councilForms)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => {
    const parsed = parseFormDefinition(JSON.parse(readFileSync(path.join(councilForms, name), 'utf8')));
    if (!parsed.success) throw new Error(`${name} does not parse`);
    return parsed.data;
  });

/** Every route through every shipped form, walked over HTTP by a resident who is not signed in. */
describe('journeys through the shipped forms', () => {
  let t: TestApp;
  const routes = new Map<string, Persona[]>();

  before(async () => {
    t = await createTestApp({ seedDemo: true });
    const sample = await sql<{
      postcode: string;
      street: string;
    }>`SELECT a.postcode, s.name AS street FROM geo_addresses a JOIN geo_streets s ON s.usrn = a.usrn ORDER BY a.uprn LIMIT 1`.execute(t.platform.database.db);
    const row = sample.rows[0];
    assert.ok(row, 'the demo gazetteer has addresses');
    for (const form of shipped) {
      routes.set(
        form.slug,
        await personas(form, { geo: t.services.geo, context: t.services.forms.service.routingContext(undefined), postcode: row.postcode, street: row.street }),
      );
    }
  });
  after(async () => t?.close());

  for (const form of shipped) {
    test(`${form.slug}: every route is walked and each submission stored once`, async () => {
      const walks = routes.get(form.slug) ?? [];
      assert.ok(walks.length >= 2, `${form.slug} has more than one route (found ${walks.length})`);
      const visited = new Set(walks.flatMap((persona) => persona.steps.map((step) => step.pageSlug)));
      assert.deepEqual(
        form.pages.map((page) => page.slug).filter((slug) => !visited.has(slug)),
        [],
        'every page of the form is on some route walked',
      );
      for (const persona of walks) await walk(form, persona);
    });
  }

  async function walk(form: FormDefinition, persona: Persona): Promise<void> {
    const client = t.client();
    const start = await client.get(`/forms/${form.slug}`);
    assert.equal(start.statusCode, 200, `${persona.name}: start page`);
    let res = await client.post(`/forms/${form.slug}/start`, {});
    for (const step of persona.steps) {
      assert.equal(res.statusCode, 303, `${persona.name}: moved on to ${step.pageSlug}`);
      assert.equal(res.headers.location, `/forms/${form.slug}/${step.pageSlug}`, `${persona.name}: arrives at ${step.pageSlug}`);
      const page = await client.get(`/forms/${form.slug}/${step.pageSlug}`);
      assert.equal(page.statusCode, 200, `${persona.name}: ${step.pageSlug} opens`);
      if (step.stop) {
        assert.ok('exit' in persona.end && page.body.includes(`href="${persona.end.exit}"`), `${persona.name}: the stop page links out`);
        assert.ok(!page.body.includes('name="action"'), `${persona.name}: a stop page has no way to carry on with the form`);
        return;
      }
      res = await client.post(`/forms/${form.slug}/${step.pageSlug}`, { ...step.fields, action: 'continue' });
      if (res.statusCode === 400) assert.fail(`${persona.name}: ${step.pageSlug} refused ${JSON.stringify(step.fields)}: ${errorsIn(res.body)}`);
    }
    assert.equal(res.statusCode, 303);
    if ('exit' in persona.end) {
      assert.equal(res.headers.location, persona.end.exit, `${persona.name}: leaves the form`);
      return;
    }
    assert.equal(res.headers.location, `/forms/${form.slug}/check-answers`, `${persona.name}: reaches check answers`);
    const check = await client.get(`/forms/${form.slug}/check-answers`);
    assert.equal(check.statusCode, 200);
    for (const step of persona.steps) {
      if (Object.keys(step.fields).length > 0)
        assert.ok(check.body.includes(`/forms/${form.slug}/${step.pageSlug}?change=1`), `${persona.name}: a change link for ${step.pageSlug}`);
    }
    const token = client.csrf();
    // Pressing "Accept and send" twice makes one submission.
    const [first, second] = await Promise.all([client.post(`/forms/${form.slug}/check-answers`, {}), client.post(`/forms/${form.slug}/check-answers`, {})]);
    assert.equal(first.headers.location, `/forms/${form.slug}/confirmation`, `${persona.name}: ${first.statusCode} ${first.body.slice(0, 300)}`);
    assert.equal(second.headers.location, `/forms/${form.slug}/confirmation`);
    const confirmation = await client.get(`/forms/${form.slug}/confirmation`);
    const reference = /Your reference number<br><strong>([A-Z0-9-]+)<\/strong>/.exec(confirmation.body)?.[1];
    assert.ok(reference, `${persona.name}: a reference is shown`);
    const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM form_submissions WHERE reference = ${reference}`.execute(t.platform.database.db);
    assert.equal(stored.rows[0]?.n, 1, `${persona.name}: stored once`);
    const again = await client.post(`/forms/${form.slug}/check-answers`, {}, { csrf: token });
    assert.equal(again.headers.location, `/forms/${form.slug}/confirmation`, 'back and send again finds the same submission');
  }
});

function errorsIn(html: string): string {
  return [...html.matchAll(/<a href="(#[^"]+)">([^<]+)<\/a>/g)].map((m) => `${m[1]} ${m[2]}`).join('; ');
}
