import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseFormDefinition, type FormDefinition } from '#modules/forms/model/definition';
import { sql } from '#platform/db/index';
import { useSite, type BoroughPage } from '../support/browser.js';
import { personas, type Persona, type Step } from '../support/form-walker.js';

/**
 * The shipped forms in Chromium: routes through every form walked field by field, with an
 * accessibility audit (axe, WCAG 2.2 AA) of every page on the way; one long route with JavaScript
 * off; and the error page a resident sees when they leave a question unanswered.
 */

const site = useSite();

const councilForms = path.resolve(import.meta.dirname, '../../council/forms');
const formFiles = readdirSync(councilForms)
  .filter((name) => name.endsWith('.json'))
  .sort();
const MAX_WALKS = 3;
const LONG_FORM = 'early-help-referral';
const ERROR_FORM = 'contact-us';

function parse(raw: unknown, name: string): FormDefinition {
  const parsed = parseFormDefinition(raw);
  if (!parsed.success) throw new Error(`${name} does not parse`);
  return parsed.data;
}

/**
 * The same definition with every list of options in reverse order. The walker keeps one choice
 * for each next page, the first it tries, so of two choices that lead to the same next page but to
 * different pages after it, only one is walked; with the options reversed, the other one is. The
 * values are unchanged, so its routes are routes through the real form.
 */
function reversedOptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedOptions);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === 'options' && Array.isArray(inner) ? inner.map(reversedOptions).reverse() : reversedOptions(inner),
    ]),
  );
}

const shipped = formFiles.map((name) => {
  const raw: unknown = JSON.parse(readFileSync(path.join(councilForms, name), 'utf8'));
  return { definition: parse(raw, name), reversed: parse(reversedOptions(raw), name) };
});

const pagesOf = (persona: Persona): Set<string> => new Set(persona.steps.map((step) => step.pageSlug));
const endsAt = (persona: Persona): string => ('exit' in persona.end ? 'exit' : 'checkAnswers' in persona.end ? 'check answers' : persona.end.page);

/** How unlike the walks already chosen a persona is: pages in one and not the other, and a different ending. */
function distance(persona: Persona, chosen: Persona[]): number {
  const pages = pagesOf(persona);
  const apart = chosen.map((other) => {
    const theirs = pagesOf(other);
    const differ = [...pages].filter((slug) => !theirs.has(slug)).length + [...theirs].filter((slug) => !pages.has(slug)).length;
    return differ + (endsAt(other) === endsAt(persona) ? 0 : 1);
  });
  return Math.min(...apart);
}

/** Compares two scores place by place, the first place deciding. */
function byScore(a: number[], b: number[]): number {
  const place = a.findIndex((value, i) => value !== b[i]);
  return place === -1 ? 0 : (a[place] ?? 0) - (b[place] ?? 0);
}

/**
 * Up to `max` walks: the longest route first, then whichever adds the most pages not yet walked or
 * an ending not yet reached (the least like those chosen, then the longer, when two add as much),
 * until every page has been walked and every way the form can end has been taken.
 */
function chooseWalks(pool: Persona[], max: number): Persona[] {
  const candidates = [...pool].sort((a, b) => b.steps.length - a.steps.length || a.name.localeCompare(b.name));
  const pages = new Set(pool.flatMap((persona) => [...pagesOf(persona)]));
  const endings = new Set(pool.map(endsAt));
  const chosen: Persona[] = [];
  const walked = new Set<string>();
  const ended = new Set<string>();
  const adds = (persona: Persona) => [...pagesOf(persona)].filter((slug) => !walked.has(slug)).length + (ended.has(endsAt(persona)) ? 0 : 1);
  while (chosen.length < max && (walked.size < pages.size || ended.size < endings.size)) {
    const [best] = candidates
      .filter((persona) => !chosen.includes(persona))
      .map((persona) => ({ persona, score: [adds(persona), chosen.length ? distance(persona, chosen) : 0, persona.steps.length] }))
      .sort((a, b) => byScore(b.score, a.score));
    if (!best) break;
    chosen.push(best.persona);
    for (const slug of pagesOf(best.persona)) walked.add(slug);
    ended.add(endsAt(best.persona));
  }
  return chosen;
}

interface Plan {
  /** Every route the walker finds through each form, by slug. */
  routes: Map<string, Persona[]>;
  /** The routes walked in the browser, by slug. */
  walks: Map<string, Persona[]>;
  /** The form with the fewest routes, all of which are walked. */
  smallest: string;
}

let planned: Promise<Plan> | undefined;

/** The routes through the shipped forms, worked out once from the running platform's gazetteer. */
function plan(): Promise<Plan> {
  planned ??= (async () => {
    const { services, platform } = site.server.running;
    const sample = await sql<{
      postcode: string;
      street: string;
    }>`SELECT a.postcode, s.name AS street FROM geo_addresses a JOIN geo_streets s ON s.usrn = a.usrn ORDER BY a.uprn LIMIT 1`.execute(platform.database.db);
    const row = sample.rows[0];
    assert.ok(row, 'the demo gazetteer has addresses');
    const options = { geo: services.geo, context: services.forms.service.routingContext(undefined), postcode: row.postcode, street: row.street };
    const routes = new Map<string, Persona[]>();
    for (const { definition, reversed } of shipped) {
      const byName = new Map<string, Persona>();
      for (const persona of [...(await personas(definition, options)), ...(await personas(reversed, options))])
        if (!byName.has(persona.name)) byName.set(persona.name, persona);
      routes.set(definition.slug, [...byName.values()]);
    }
    const sizes = shipped.map(({ definition }) => ({
      slug: definition.slug,
      routes: routes.get(definition.slug)?.length ?? 0,
      pages: definition.pages.length,
    }));
    sizes.sort((a, b) => a.routes - b.routes || a.pages - b.pages || a.slug.localeCompare(b.slug));
    const smallest = sizes[0]?.slug ?? '';
    const walks = new Map(sizes.map(({ slug }) => [slug, slug === smallest ? (routes.get(slug) ?? []) : chooseWalks(routes.get(slug) ?? [], MAX_WALKS)]));
    return { routes, walks, smallest };
  })();
  return planned;
}

async function walksOf(slug: string): Promise<Persona[]> {
  const chosen = (await plan()).walks.get(slug);
  assert.ok(chosen && chosen.length > 0, `no routes chosen through ${slug}`);
  return chosen;
}

function definitionOf(slug: string): FormDefinition {
  const found = shipped.find(({ definition }) => definition.slug === slug);
  assert.ok(found, `${slug} is not a shipped form`);
  return found.definition;
}

// ---------------------------------------------------------------------------------------------
// Filling in a page from a walker's step

const cssString = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Fails unless the page is at `expected`, naming any errors the page shows instead. */
async function expectAt(page: BoroughPage, expected: string, message: string): Promise<void> {
  const actual = expected.startsWith('/') ? page.path : page.page.url();
  if (actual === expected) return;
  const errors = (await page.page.locator('.govuk-error-summary__list a').allInnerTexts()).map((text) => text.trim());
  assert.fail(`${message}: expected ${expected}, but the browser is at ${actual}${errors.length ? `, which shows: ${errors.join('; ')}` : ''}`);
}

/**
 * Enters a step's fields the way a resident would: an address asked for by postcode is switched to
 * manual entry first (that button sends the page back with the other form), then options are
 * chosen (which shows any questions they reveal), then everything else is typed or selected.
 * Fields the page does not show (asked only after an answer on an earlier page) are left out,
 * as a browser would leave them out.
 */
async function fillStep(page: BoroughPage, slug: string, step: Step, label: string): Promise<void> {
  const where = `${label}: ${step.pageSlug}`;
  const entries = Object.entries(step.fields);
  /** The kind and value of each named field in the page's form, in one look. */
  const inventory = () =>
    page.page
      .locator('main form')
      .first()
      .evaluate((form) => {
        const found: Record<string, { kind: string; value: string }> = {};
        for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input[name], select[name], textarea[name]'))
          found[el.name] ??= { kind: el instanceof HTMLInputElement ? el.type : el.tagName.toLowerCase(), value: el.value };
        return found;
      });
  let fields = await inventory();

  for (const [name, value] of entries) {
    const current = fields[name];
    if (!name.endsWith('-mode') || typeof value !== 'string' || current === undefined || current.value === value) continue;
    const base = name.slice(0, -'-mode'.length);
    const button = page.page.locator(`main form button[name="action"][value=${cssString(`${value}:${base}`)}]`);
    assert.equal(await button.count(), 1, `${where} has a button to change ${base} to ${value}`);
    await page.clickButton((await button.innerText()).trim());
    await expectAt(page, `/forms/${slug}/${step.pageSlug}`, `${where} is shown again when ${base} changes to ${value}`);
    fields = await inventory();
    assert.equal(fields[name]?.value, value, `${where}: ${base} changed to ${value}`);
  }

  for (const [name, value] of entries) {
    const kind = fields[name]?.kind;
    if (kind !== 'radio' && kind !== 'checkbox') continue;
    for (const choice of Array.isArray(value) ? value : [value]) {
      const option = page.page.locator(`main form input[name=${cssString(name)}][value=${cssString(choice)}]`);
      assert.equal(await option.count(), 1, `${where} offers ${name} = ${choice}`);
      await option.check();
    }
  }

  for (const [name, value] of entries) {
    const current = fields[name];
    if (current === undefined || current.kind === 'radio' || current.kind === 'checkbox' || name.endsWith('-mode')) continue;
    const text = Array.isArray(value) ? (value[0] ?? '') : value;
    const field = page.page.locator(`main form [name=${cssString(name)}]`);
    assert.equal(await field.count(), 1, `${where} has one field named ${name}`);
    if (current.kind === 'hidden') {
      if (current.value === text) continue;
      assert.ok(page.javaScript, `${where}: the hidden field ${name} holds "${current.value}", not "${text}"`);
      await field.evaluate((el, next) => el.setAttribute('value', next), text);
    } else if (current.kind === 'select') await field.selectOption(text);
    else {
      assert.ok(await field.isVisible(), `${where}: ${name} is not shown, so it cannot be filled in`);
      await field.fill(text);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A walk from the start page to the confirmation (or out of the form)

/** Walks one route; returns the reference shown on the confirmation page, if it ends there. */
async function walk(page: BoroughPage, slug: string, persona: Persona): Promise<string | undefined> {
  const label = `${slug} (${persona.name}, JavaScript ${page.javaScript ? 'on' : 'off'})`;
  const exit = 'exit' in persona.end ? persona.end.exit : undefined;
  const lastStep = persona.steps[persona.steps.length - 1];
  if (exit && !lastStep?.stop && /^https?:/.test(exit)) {
    // The form sends the resident elsewhere after a question: stand in for that site.
    const body = '<!doctype html><html lang="en"><head><title>Elsewhere</title></head><body><main><h1>Elsewhere</h1></main></body></html>';
    await page.context.route(exit, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body }));
  }

  await page.visit(`/forms/${slug}`);
  await page.clickButton('Start now');
  for (const step of persona.steps) {
    await expectAt(page, `/forms/${slug}/${step.pageSlug}`, `${label}: arrives at ${step.pageSlug}`);
    if (step.stop) {
      assert.ok(exit, `${label}: ${step.pageSlug} leaves the form`);
      assert.equal(await page.page.locator(`main a[href=${cssString(exit)}]`).count(), 1, `${label}: ${step.pageSlug} links to ${exit}`);
      assert.equal(await page.page.locator('main button[name="action"]').count(), 0, `${label}: ${step.pageSlug} has no way to carry on with the form`);
      return undefined;
    }
    await fillStep(page, slug, step, label);
    await page.clickButton('Continue');
  }

  if (exit) {
    await expectAt(page, exit, `${label}: leaves the form`);
    return undefined;
  }
  await expectAt(page, `/forms/${slug}/check-answers`, `${label}: reaches check answers`);
  await page.expectHeading('Check your answers before sending');
  for (const step of persona.steps) {
    if (Object.keys(step.fields).length === 0) continue;
    const change = page.page.locator(`main a[href^=${cssString(`/forms/${slug}/${step.pageSlug}?change=1`)}]`);
    assert.ok((await change.count()) > 0, `${label}: a change link for ${step.pageSlug}`);
  }
  await page.clickButton('Accept and send');
  assert.equal(page.path, `/forms/${slug}/confirmation`, `${label}: the form is sent`);
  await page.expectHeading('Form sent');
  const reference = (await page.page.locator('.govuk-panel__body strong').innerText()).trim();
  assert.match(reference, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/, `${label}: a reference is shown`);
  page.expectNoScriptProblems();
  return reference;
}

// ---------------------------------------------------------------------------------------------

/**
 * Two walks at a time: while Chromium audits one page, the platform can serve the other walk's
 * next page, which keeps the file's time down on a two-core machine.
 */
describe('the shipped forms in Chromium, with axe on every page', { concurrency: 2 }, () => {
  test('the routes chosen for the browser visit every page of every shipped form', async () => {
    const { smallest } = await plan();
    for (const { definition } of shipped) {
      const chosen = await walksOf(definition.slug);
      const visited = new Set(chosen.flatMap((persona) => [...pagesOf(persona)]));
      const missing = definition.pages.map((page) => page.slug).filter((slug) => !visited.has(slug));
      assert.deepEqual(missing, [], `${definition.slug}: pages no chosen route visits`);
      assert.ok(
        chosen.some((persona) => 'checkAnswers' in persona.end),
        `${definition.slug}: a chosen route ends at check answers`,
      );
      if (definition.slug !== smallest) assert.ok(chosen.length <= MAX_WALKS, `${definition.slug}: at most ${MAX_WALKS} routes`);
    }
  });

  for (const { definition } of shipped) {
    test(`${definition.slug}, JavaScript on: each chosen route, field by field, to the confirmation or out of the form`, async () => {
      for (const persona of await walksOf(definition.slug)) {
        const page = await site.newPage({ javaScript: true });
        await walk(page, definition.slug, persona);
        await page.close();
      }
    });
  }

  test(`${LONG_FORM}, JavaScript off: the longest route, with its repeating groups, revealed questions and address, to the confirmation`, async () => {
    const pool = (await plan()).routes.get(LONG_FORM) ?? [];
    const [longest] = pool.filter((persona) => 'checkAnswers' in persona.end).sort((a, b) => b.steps.length - a.steps.length);
    assert.ok(longest, `${LONG_FORM} has a route to check answers`);
    const kinds = new Set<string>(definitionOf(LONG_FORM).pages.flatMap((p) => p.components.map((component) => component.type)));
    for (const kind of ['repeatingGroup', 'address', 'radios']) assert.ok(kinds.has(kind), `${LONG_FORM} still asks a question of type ${kind}`);

    const page = await site.newPage({ javaScript: false });
    const sentAt = new Date();
    const reference = await walk(page, LONG_FORM, longest);
    assert.ok(reference, 'the form is sent');
    assert.ok(page.audited.length >= longest.steps.length + 3, 'every page on the way was audited');
    const emailed = /We have sent a confirmation email/.test(await page.text());
    await page.close();
    if (emailed) {
      const recipient = longest.steps
        .flatMap((step) => Object.values(step.fields))
        .find((value): value is string => typeof value === 'string' && value.includes('@'));
      assert.ok(recipient, 'the route gives an email address');
      const message = await site.server.waitForEmail(recipient, { since: sentAt, subject: new RegExp(reference) });
      assert.match(message.body, new RegExp(reference));
    }
  });

  test(`${ERROR_FORM}, a question left unanswered: the error summary leads to the question, and the error page passes axe`, async () => {
    const page = await site.newPage({ javaScript: true });
    await page.visit(`/forms/${ERROR_FORM}`);
    await page.clickButton('Start now');
    const first = definitionOf(ERROR_FORM).pages[0];
    assert.ok(first);
    assert.equal(page.path, `/forms/${ERROR_FORM}/${first.slug}`);
    const audited = page.audited.length;
    await page.clickButton('Continue');
    assert.equal(page.path, `/forms/${ERROR_FORM}/${first.slug}`, 'the page is shown again');
    assert.equal(page.lastResponse?.status(), 400);
    assert.equal(page.audited.length, audited + 1, 'the page with errors was audited');

    const summary = page.page.locator('.govuk-error-summary');
    const links = summary.locator('.govuk-error-summary__list a');
    const messages = (await links.allInnerTexts()).map((text) => text.trim());
    assert.ok(messages.length > 0, 'the summary lists what to put right');
    await page.expectErrorSummary(messages);
    const comesFirst = await summary.evaluate((el) => {
      const heading = document.querySelector('main h1, main legend');
      return heading !== null && (el.compareDocumentPosition(heading) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    });
    assert.ok(comesFirst, 'the error summary comes before the question');

    const href = (await links.first().getAttribute('href')) ?? '';
    await page.clickLink(messages[0] ?? '', summary);
    const focused = await page.page.evaluate(() => document.activeElement?.id ?? '');
    assert.equal(`#${focused}`, href, 'the first error link moves focus to its field');
    page.expectNoScriptProblems();
    await page.close();
  });
});
