import { isQuestion, type Component, type GroupableQuestion } from './components.js';
import type { FormDefinition, Page, RouteTarget } from './definition.js';
import { evaluate, evaluateOperand, withItemScope, type EvaluationContext } from './expressions.js';
import { isShown } from './validation.js';

export type Answers = Readonly<Record<string, unknown>>;
/** Everything an expression needs besides the answers. */
export type RoutingContext = Omit<EvaluationContext, 'answers'>;

export const CHECK_ANSWERS = 'check-answers';

export type Destination = { page: string } | { exit: string } | { checkAnswers: true };

export interface Journey {
  /** Page ids in the order the resident sees them. */
  pages: string[];
  /** Where the last page leads; `stuck` when no route applies, `loop` when the routes lead back to a page already seen. */
  end: Destination | 'stuck' | 'loop';
}

/** Answers with the definition's computed values added, each able to use those before it. */
export function withComputed(definition: FormDefinition, answers: Answers, context: RoutingContext): Record<string, unknown> {
  const all: Record<string, unknown> = { ...answers };
  for (const computed of definition.computed) {
    const evaluation = { ...context, answers: all };
    const chosen = computed.cases.find((option) => option.when === undefined || evaluate(option.when, evaluation));
    all[computed.id] = chosen === undefined ? undefined : evaluateOperand(chosen.value, evaluation);
  }
  return all;
}

function destinationOf(target: RouteTarget): Destination {
  if (typeof target !== 'string') return { exit: target.exit };
  return target === CHECK_ANSWERS ? { checkAnswers: true } : { page: target };
}

/** Where the resident goes after a page, given the answers so far; undefined for an unknown page or when no route applies. */
export function nextPage(definition: FormDefinition, currentPageId: string, answers: Answers, context: RoutingContext): Destination | undefined {
  const index = definition.pages.findIndex((page) => page.id === currentPageId);
  const page = definition.pages[index];
  if (page === undefined) return undefined;
  if (page.routes === undefined) {
    const following = definition.pages[index + 1];
    return following === undefined ? { checkAnswers: true } : { page: following.id };
  }
  const evaluation = { ...context, answers: withComputed(definition, answers, context) };
  const route = page.routes.find((candidate) => candidate.when === undefined || evaluate(candidate.when, evaluation));
  return route === undefined ? undefined : destinationOf(route.goTo);
}

/** Follows the routes from the first page with the given answers. */
export function journey(definition: FormDefinition, answers: Answers, context: RoutingContext): Journey {
  const pages: string[] = [];
  let current = definition.pages[0]?.id;
  while (current !== undefined) {
    pages.push(current);
    const destination = nextPage(definition, current, answers, context);
    if (destination === undefined) return { pages, end: 'stuck' };
    if (!('page' in destination)) return { pages, end: destination };
    if (pages.includes(destination.page)) return { pages, end: 'loop' };
    current = destination.page;
  }
  return { pages, end: 'stuck' };
}

/** The pages actually visited from the first page, following the routes. */
export function pathTaken(definition: FormDefinition, answers: Answers, context: RoutingContext): string[] {
  return journey(definition, answers, context).pages;
}

function isChosen(question: GroupableQuestion, answer: unknown, value: string): boolean {
  return question.type === 'checkboxes' ? Array.isArray(answer) && answer.includes(value) : answer === value;
}

/** Copies the answers to shown questions (and to follow-ups of chosen options) from `from` into `into`. */
function keepAnswers(components: readonly Component[], from: Answers, evaluation: EvaluationContext, into: Record<string, unknown>): void {
  for (const component of components) {
    if (!isQuestion(component) || !isShown(component, evaluation)) continue;
    const answer = from[component.id];
    if (answer === undefined) continue;
    if (component.type === 'repeatingGroup') {
      if (!Array.isArray(answer)) continue;
      into[component.id] = answer.map((item: unknown) => {
        const kept: Record<string, unknown> = {};
        if (typeof item === 'object' && item !== null) keepAnswers(component.components, item as Answers, withItemScope(evaluation, item), kept);
        return kept;
      });
      continue;
    }
    into[component.id] = answer;
    if (component.type === 'radios' || component.type === 'checkboxes') {
      for (const option of component.options) {
        if (option.reveals !== undefined && isChosen(component, answer, option.value)) keepAnswers(option.reveals, from, evaluation, into);
      }
    }
  }
}

function pageById(definition: FormDefinition, id: string): Page | undefined {
  return definition.pages.find((page) => page.id === id);
}

/**
 * Keeps only the answers to questions on the route taken that are shown, dropping answers to pages
 * left behind by a changed answer, hidden questions, follow-ups of options not chosen, and anything
 * that is not a question. Repeats until nothing changes, since dropping one answer can hide another.
 */
export function pruneAnswers(definition: FormDefinition, answers: Answers, context: RoutingContext): Record<string, unknown> {
  let current: Record<string, unknown> = { ...answers };
  for (let round = 0; round <= definition.pages.length + 50; round += 1) {
    const evaluation = { ...context, answers: withComputed(definition, current, context) };
    const kept: Record<string, unknown> = {};
    for (const id of pathTaken(definition, current, context)) {
      const page = pageById(definition, id);
      if (page !== undefined) keepAnswers(page.components, current, evaluation, kept);
    }
    if (JSON.stringify(kept) === JSON.stringify(current)) return kept;
    current = kept;
  }
  return current;
}
