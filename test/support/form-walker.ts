import type { Geography } from '#platform/geo/index';
import { isQuestion, type Component, type QuestionComponent } from '#modules/forms/model/components';
import { shiftDate } from '#modules/forms/model/dates';
import type { FormDefinition, Page } from '#modules/forms/model/definition';
import { expressionReferences, type EvaluationContext } from '#modules/forms/model/expressions';
import { nextPage, withComputed, type Destination, type RoutingContext } from '#modules/forms/model/routing';
import { visibleOptions } from '#modules/forms/model/validation';
import { mergeAnswers, readPage, type RawFields } from '#modules/forms/runner/fields';

/**
 * Enumerates the routes through a form as personas: each is the fields a resident posts on each
 * page, in order, and where the form ends. Every choice on every page is tried; one persona is
 * kept for each different page it leads to, so each route through the form is walked once.
 */

export type Fields = Record<string, string | string[]>;

export interface Step {
  pageSlug: string;
  title: string;
  fields: Fields;
  /** A page with only content that leaves the form: it shows a link instead of a button. */
  stop?: boolean;
}

export interface Persona {
  name: string;
  steps: Step[];
  end: Destination;
}

export interface WalkerOptions {
  geo: Geography;
  context: RoutingContext;
  /** A postcode with addresses in the gazetteer. */
  postcode: string;
  /** A street name in the gazetteer. */
  street: string;
  maxPersonas?: number;
}

function dateBounds(question: Extract<QuestionComponent, { type: 'date' }>, today: string): { lo?: string; hi?: string } {
  const bound = (b: typeof question.earliest): string | undefined => (b === undefined ? undefined : typeof b === 'string' ? b : shiftDate(today, b.today));
  let lo = bound(question.earliest);
  let hi = bound(question.latest);
  const tighten = (value: string, low: boolean) => {
    if (low) lo = lo === undefined || value > lo ? value : lo;
    else hi = hi === undefined || value < hi ? value : hi;
  };
  if (question.when === 'past') tighten(shiftDate(today, { days: -1 }), false);
  if (question.when === 'pastOrToday') tighten(today, false);
  if (question.when === 'future') tighten(shiftDate(today, { days: 1 }), true);
  if (question.when === 'futureOrToday') tighten(today, true);
  return { ...(lo ? { lo } : {}), ...(hi ? { hi } : {}) };
}

/** Two valid dates for a date question: one near the end of its range, one near the start. */
function sampleDates(question: Extract<QuestionComponent, { type: 'date' }>, today: string): string[] {
  const { lo, hi } = dateBounds(question, today);
  const clip = (value: string) => (lo !== undefined && value < lo ? lo : hi !== undefined && value > hi ? hi : value);
  const late = hi !== undefined ? clip(shiftDate(hi, { days: -10 })) : lo !== undefined ? clip(shiftDate(lo, { days: 10 })) : '2020-06-15';
  const early = lo !== undefined ? clip(shiftDate(lo, { days: 1 })) : clip(shiftDate(late, { days: -900 }));
  return late === early ? [late] : [late, early];
}

function dateFields(name: string, iso: string): Fields {
  const [year, month, day] = iso.split('-');
  return { [`${name}-day`]: String(Number(day)), [`${name}-month`]: String(Number(month)), [`${name}-year`]: year ?? '' };
}

/** Valid fields for one question, with `choice` picking an option or date where there are several. */
function questionFields(question: QuestionComponent, name: string, evaluation: EvaluationContext, opts: WalkerOptions, choice: number): Fields {
  switch (question.type) {
    case 'text':
      return { [name]: question.minLength ? '1'.repeat(Math.min(question.minLength, question.maxLength)) : 'Sample answer'.slice(0, question.maxLength) };
    case 'textarea':
      return { [name]: 'Some details about this, in a sentence or two.' };
    case 'number': {
      const value = question.min ?? (question.max !== undefined ? Math.min(1, question.max) : 1);
      return { [name]: String(value) };
    }
    case 'email':
      return { [name]: 'resident@example.com' };
    case 'ukPhone':
      return { [name]: question.mobileOnly ? '07700 900 982' : '01632 960 001' };
    case 'postcode':
      return { [name]: opts.postcode };
    case 'date': {
      const dates = sampleDates(question, opts.context.today);
      return dateFields(name, dates[choice % dates.length] ?? '2020-06-15');
    }
    case 'time':
      return { [name]: '10:30' };
    case 'yesNo':
      return { [name]: choice % 2 === 0 ? 'no' : 'yes' };
    case 'declaration':
      return { [name]: 'true' };
    case 'name':
      return { [`${name}-firstName`]: 'Alex', [`${name}-lastName`]: 'Morgan' };
    case 'address':
      return { [`${name}-mode`]: 'manual', [`${name}-line1`]: '1 Sample Street', [`${name}-town`]: 'Kingsmere', [`${name}-postcode`]: opts.postcode };
    case 'location':
      return question.methods.includes('postcode')
        ? { [`${name}-method`]: 'postcode', [`${name}-postcode`]: opts.postcode }
        : question.methods.includes('street')
          ? { [`${name}-method`]: 'street', [`${name}-street`]: opts.street }
          : { [`${name}-method`]: 'description', [`${name}-description`]: 'Outside the library' };
    case 'fileUpload':
      return {};
    case 'select':
    case 'radios':
    case 'checkboxes': {
      const options = visibleOptions(question.options, evaluation);
      const values = [...options.map((option) => option.value), ...(question.type === 'checkboxes' && question.none ? [question.none.value] : [])];
      const value = values[choice % Math.max(values.length, 1)] ?? '';
      const fields: Fields = { [name]: question.type === 'checkboxes' ? [value] : value };
      const option = options.find((candidate) => candidate.value === value);
      const reveals: readonly QuestionComponent[] = option && 'reveals' in option && Array.isArray(option.reveals) ? option.reveals : [];
      if (reveals.length > 0) {
        const prefix = name.slice(0, name.length - question.id.length);
        for (const follow of reveals) Object.assign(fields, questionFields(follow, `${prefix}${follow.id}`, evaluation, opts, 0));
      }
      return fields;
    }
    case 'appointment':
      // Free times come from the booking provider, which a walk over the definition alone does not have.
      return {};
    case 'repeatingGroup': {
      const fields: Fields = { [`${name}-items`]: String(Math.max(question.min, 1)) };
      for (let index = 0; index < Math.max(question.min, 1); index += 1)
        Object.assign(fields, componentFields(question.components, `${name}-${index}-`, evaluation, opts, new Map()));
      return fields;
    }
  }
}

function choicesOf(question: QuestionComponent, evaluation: EvaluationContext, today: string): number {
  if (question.type === 'yesNo') return 2;
  if (question.type === 'date') return sampleDates(question, today).length;
  if (question.type === 'radios' || question.type === 'select' || question.type === 'checkboxes')
    return visibleOptions(question.options, evaluation).length + (question.type === 'checkboxes' && question.none ? 1 : 0);
  return 1;
}

function componentFields(
  components: readonly Component[],
  prefix: string,
  evaluation: EvaluationContext,
  opts: WalkerOptions,
  choices: Map<string, number>,
): Fields {
  const fields: Fields = {};
  for (const component of components) {
    if (isQuestion(component)) Object.assign(fields, questionFields(component, `${prefix}${component.id}`, evaluation, opts, choices.get(component.id) ?? 0));
  }
  return fields;
}

/** The page's fields with every question at its first choice, then with each question's other choices in turn. */
function pageVariants(page: Page, evaluation: EvaluationContext, opts: WalkerOptions): Fields[] {
  const variants = [componentFields(page.components, '', evaluation, opts, new Map())];
  for (const component of page.components) {
    if (!isQuestion(component)) continue;
    for (let choice = 1; choice < choicesOf(component, evaluation, opts.context.today); choice += 1) {
      variants.push(componentFields(page.components, '', evaluation, opts, new Map([[component.id, choice]])));
    }
  }
  return variants;
}

function describe(end: Destination): string {
  return 'page' in end ? end.page : 'exit' in end ? `exit ${end.exit}` : 'check answers';
}

/** The answers any route reads: choices that lead to the same next page can still part later. */
function routingAnswers(definition: FormDefinition): string[] {
  const ids = new Set<string>();
  for (const page of definition.pages) {
    for (const route of page.routes ?? []) {
      if (route.when) for (const reference of expressionReferences(route.when)) if (reference.kind === 'answer') ids.add(reference.path.split('.')[0] ?? '');
    }
  }
  for (const computed of definition.computed) ids.add(computed.id);
  return [...ids];
}

/**
 * One persona per different next page from each page; then, for pages that only a combination of
 * earlier answers reaches, personas that also tell apart the answers routes read.
 */
export async function personas(definition: FormDefinition, opts: WalkerOptions): Promise<Persona[]> {
  const first = await walk(definition, opts, []);
  const visited = new Set(first.flatMap((persona) => persona.steps.map((step) => step.pageSlug)));
  if (definition.pages.every((page) => visited.has(page.slug))) return first;
  const extra: Persona[] = [];
  for (const persona of await walk(definition, { ...opts, maxPersonas: 200 }, routingAnswers(definition))) {
    const unseen = persona.steps.filter((step) => !visited.has(step.pageSlug));
    if (unseen.length === 0) continue;
    for (const step of unseen) visited.add(step.pageSlug);
    extra.push(persona);
  }
  return [...first, ...extra];
}

async function walk(definition: FormDefinition, opts: WalkerOptions, deciding: string[]): Promise<Persona[]> {
  const found: Persona[] = [];
  const max = opts.maxPersonas ?? 30;

  async function explore(page: Page, answers: Record<string, unknown>, steps: Step[]): Promise<void> {
    if (found.length >= max) return;
    const evaluation = { ...opts.context, answers };
    const routes = new Map<string, { fields: Fields; answers: Record<string, unknown>; destination: Destination }>();
    for (const fields of pageVariants(page, evaluation, opts)) {
      const result = await readPage(page.components, fields as RawFields, { evaluation, geo: opts.geo, stored: answers });
      if (result.errors.length > 0)
        throw new Error(`The walker's answers for ${definition.slug}/${page.slug} are refused: ${result.errors.map((e) => `${e.href} ${e.text}`).join('; ')}`);
      const merged = mergeAnswers(answers, result.answers);
      const destination = nextPage(definition, page.id, merged, opts.context);
      if (destination === undefined) throw new Error(`${definition.slug}/${page.slug} has no way forward`);
      const key = JSON.stringify([destination, deciding.map((id) => withComputed(definition, merged, opts.context)[id] ?? null)]);
      if (!routes.has(key)) routes.set(key, { fields, answers: merged, destination });
    }
    const questionless = !page.components.some(isQuestion);
    for (const { fields, answers: next, destination } of routes.values()) {
      const stop = questionless && 'exit' in destination;
      const path = [...steps, { pageSlug: page.slug, title: page.title, fields, ...(stop ? { stop: true } : {}) }];
      if ('page' in destination) {
        const following = definition.pages.find((candidate) => candidate.id === destination.page);
        if (!following || steps.some((step) => step.pageSlug === following.slug)) throw new Error(`${definition.slug}: route loops at ${destination.page}`);
        await explore(following, next, path);
      } else if (found.length < max) {
        found.push({ name: `${path.map((step) => step.pageSlug).join(' > ')} > ${describe(destination)}`, steps: path, end: destination });
      }
    }
  }

  const start = definition.pages[0];
  if (start) await explore(start, {}, []);
  return found;
}
