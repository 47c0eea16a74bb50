import type { z } from 'zod';
import { answerType, isQuestion, type Component, type GroupableQuestion, type QuestionComponent, type RepeatingGroup } from './components.js';
import { bookingFindings, type BookingCatalogue } from './bookings.js';
import { parseFormDefinition, type FormDefinition } from './definition.js';
import { expressionReferences, expressionTypeProblems, readPath, type Expression, type Operand, type ValueType } from './expressions.js';
import { CHECK_ANSWERS } from './routing.js';

export interface Finding {
  severity: 'error' | 'warning';
  /** Where in the definition, like `pages[2].routes[0].goTo`. */
  path: string;
  message: string;
}

type Segments = readonly PropertyKey[];

export function formatPath(segments: Segments): string {
  return segments.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`)).join('');
}

/* ---------- schema errors ---------- */

function rootIssues(issues: readonly z.core.$ZodIssue[]): number {
  return issues.filter((issue) => issue.path.length === 0).length;
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

/** Turns zod issues into findings, following into the branch of a union that the author evidently meant. */
function schemaFindings(issues: readonly z.core.$ZodIssue[], base: Segments, raw: unknown, out: Finding[]): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = [...issue.errors].sort((a, b) => rootIssues(a) - rootIssues(b) || depth(b) - depth(a));
      const best = branches[0];
      const clear = best !== undefined && rootIssues(best) === 0 && (branches[1] === undefined || rootIssues(branches[1]) > 0);
      if (clear) schemaFindings(best, path, raw, out);
      else out.push({ severity: 'error', path: formatPath(path), message: 'Not a valid value here: check the operator or property names' });
    } else if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      const value = readPath(raw, path.map(String).join('.'));
      out.push({ severity: 'error', path: formatPath(path), message: `Unknown ${String(issue.discriminator)} ${JSON.stringify(value)}` });
    } else {
      out.push({ severity: 'error', path: formatPath(path), message: issue.message });
    }
  }
}

/* ---------- what the definition holds ---------- */

interface QuestionEntry {
  question: QuestionComponent;
  path: Segments;
}

interface ExpressionEntry {
  expression: Expression;
  path: Segments;
  /** The repeating group whose item the expression is evaluated in. */
  group?: RepeatingGroup | undefined;
}

interface Inventory {
  questions: QuestionEntry[];
  groupQuestions: Map<RepeatingGroup, QuestionEntry[]>;
  componentIds: { id: string; path: Segments }[];
  expressions: ExpressionEntry[];
  operands: { operand: Operand; path: Segments }[];
}

function collect(components: readonly Component[], base: Segments, group: RepeatingGroup | undefined, inventory: Inventory): void {
  components.forEach((component, index) => {
    const path = [...base, index];
    if (component.showIf) inventory.expressions.push({ expression: component.showIf, path: [...path, 'showIf'], group });
    if (!isQuestion(component)) {
      if (component.id !== undefined) inventory.componentIds.push({ id: component.id, path: [...path, 'id'] });
      return;
    }
    inventory.componentIds.push({ id: component.id, path: [...path, 'id'] });
    const entries = group === undefined ? inventory.questions : (inventory.groupQuestions.get(group) ?? []);
    entries.push({ question: component, path });
    if (group !== undefined) inventory.groupQuestions.set(group, entries);
    if (component.requiredIf) inventory.expressions.push({ expression: component.requiredIf, path: [...path, 'requiredIf'], group });
    if (component.type === 'repeatingGroup') {
      inventory.groupQuestions.set(component, []);
      collect(component.components, [...path, 'components'], component, inventory);
      return;
    }
    if (component.type === 'radios' || component.type === 'checkboxes' || component.type === 'select') {
      component.options.forEach((option, optionIndex) => {
        const optionPath = [...path, 'options', optionIndex];
        if (option.showIf) inventory.expressions.push({ expression: option.showIf, path: [...optionPath, 'showIf'], group });
        const reveals = component.type === 'select' ? undefined : component.options[optionIndex]?.reveals;
        if (reveals) collect(reveals, [...optionPath, 'reveals'], group, inventory);
      });
    }
  });
}

function inventoryOf(definition: FormDefinition): Inventory {
  const inventory: Inventory = { questions: [], groupQuestions: new Map(), componentIds: [], expressions: [], operands: [] };
  definition.pages.forEach((page, pageIndex) => {
    collect(page.components, ['pages', pageIndex, 'components'], undefined, inventory);
    page.routes?.forEach((route, routeIndex) => {
      if (route.when) inventory.expressions.push({ expression: route.when, path: ['pages', pageIndex, 'routes', routeIndex, 'when'] });
    });
  });
  definition.computed.forEach((computed, computedIndex) => {
    computed.cases.forEach((option, caseIndex) => {
      const path = ['computed', computedIndex, 'cases', caseIndex];
      if (option.when) inventory.expressions.push({ expression: option.when, path: [...path, 'when'] });
      inventory.operands.push({ operand: option.value, path: [...path, 'value'] });
    });
  });
  return inventory;
}

function duplicates<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const value = key(item);
    if (seen.has(value)) return true;
    seen.add(value);
    return false;
  });
}

/* ---------- rules ---------- */

function checkDuplicates(definition: FormDefinition, inventory: Inventory, out: Finding[]): void {
  const pages = definition.pages.map((page, index) => ({ page, index }));
  for (const { page, index } of duplicates(pages, ({ page }) => page.id)) {
    out.push({ severity: 'error', path: formatPath(['pages', index, 'id']), message: `Duplicate page id "${page.id}"` });
  }
  for (const { page, index } of duplicates(pages, ({ page }) => page.slug)) {
    out.push({ severity: 'error', path: formatPath(['pages', index, 'slug']), message: `Duplicate page slug "${page.slug}"` });
  }
  const topLevel = inventory.componentIds.filter(({ path }) => !isInsideGroup(path));
  const ids = [...topLevel, ...definition.computed.map((computed, index) => ({ id: computed.id, path: ['computed', index, 'id'] }))];
  for (const { id, path } of duplicates(ids, ({ id }) => id)) out.push({ severity: 'error', path: formatPath(path), message: `Duplicate id "${id}"` });
  for (const entries of inventory.groupQuestions.values()) {
    for (const { question, path } of duplicates(entries, ({ question }) => question.id)) {
      out.push({ severity: 'error', path: formatPath([...path, 'id']), message: `Duplicate id "${question.id}" in the repeating group` });
    }
  }
  for (const { section, index } of duplicates(
    definition.sections.map((section, index) => ({ section, index })),
    ({ section }) => section.id,
  )) {
    out.push({ severity: 'error', path: formatPath(['sections', index, 'id']), message: `Duplicate section id "${section.id}"` });
  }
  const sections = new Set(definition.sections.map((section) => section.id));
  definition.pages.forEach((page, index) => {
    if (page.section !== undefined && !sections.has(page.section)) {
      out.push({ severity: 'error', path: formatPath(['pages', index, 'section']), message: `Unknown section "${page.section}"` });
    }
  });
}

function isInsideGroup(path: Segments): boolean {
  return path.filter((segment) => segment === 'components').length > 1;
}

/** Resolves `{ "answer": path }` to a type: a question's answer, a field of it, a repeating group's nested answers, or a computed value. */
function resolverFor(definition: FormDefinition, inventory: Inventory) {
  const byId = new Map<string, QuestionComponent>(inventory.questions.map(({ question }) => [question.id, question]));
  const computed = new Set(definition.computed.map((value) => value.id));
  const groupsById = new Map<string, RepeatingGroup>([...inventory.groupQuestions.keys()].map((group) => [group.id, group]));
  const nested = (group: RepeatingGroup, id: string): QuestionComponent | undefined =>
    inventory.groupQuestions.get(group)?.find((entry) => entry.question.id === id)?.question;

  const typeOfQuestion = (question: QuestionComponent, rest: string[]): ValueType | undefined => {
    const [field, ...more] = rest;
    if (field === undefined) return answerType(question);
    if (question.type === 'repeatingGroup') {
      if (/^\d+$/.test(field)) {
        const [inner, ...deeper] = more;
        if (inner === undefined) return 'object';
        const item = nested(question, inner);
        return item === undefined ? undefined : typeOfQuestion(item, deeper);
      }
      const item = nested(question, field);
      return item === undefined || typeOfQuestion(item, more) === undefined ? undefined : 'list';
    }
    return more.length === 0 ? answerType(question, field) : undefined;
  };

  return (path: string, inItem?: string): ValueType | undefined => {
    const [first = '', ...rest] = path.split('.');
    const group = inItem === undefined ? undefined : groupsById.get(inItem);
    const own = group === undefined ? undefined : nested(group, first);
    if (own !== undefined) return typeOfQuestion(own, rest);
    const question = byId.get(first);
    if (question !== undefined) return typeOfQuestion(question, rest);
    if (computed.has(first)) return rest.length === 0 ? 'unknown' : undefined;
    return undefined;
  };
}

function checkExpressions(definition: FormDefinition, inventory: Inventory, out: Finding[]): void {
  const resolve = resolverFor(definition, inventory);
  const within = (group: RepeatingGroup | undefined, inItem: string | undefined): string | undefined => inItem ?? group?.id;
  for (const { expression, path, group } of inventory.expressions) {
    for (const reference of expressionReferences(expression)) {
      if (reference.kind === 'answer' && resolve(reference.path, within(group, reference.inItem)) === undefined) {
        out.push({ severity: 'error', path: formatPath([...path, ...reference.at]), message: `Refers to unknown question "${reference.path}"` });
      }
    }
    const groupResolve = (answerPath: string, inItem?: string): ValueType | undefined => resolve(answerPath, within(group, inItem));
    for (const problem of expressionTypeProblems(expression, groupResolve)) {
      out.push({ severity: 'error', path: formatPath([...path, ...problem.at]), message: problem.message });
    }
  }
  for (const { operand, path } of inventory.operands) {
    if (typeof operand !== 'object') continue;
    const wrapped: Expression = { isEmpty: operand };
    for (const reference of expressionReferences(wrapped)) {
      if (reference.kind === 'answer' && resolve(reference.path, reference.inItem) === undefined) {
        out.push({ severity: 'error', path: formatPath([...path, ...reference.at.slice(1)]), message: `Refers to unknown question "${reference.path}"` });
      }
    }
  }
  checkOptionValues(inventory, out);
}

/** An equals or oneOf against a choice question with a value none of its options has can never hold. */
function checkOptionValues(inventory: Inventory, out: Finding[]): void {
  const choices = new Map<string, GroupableQuestion>();
  for (const { question } of inventory.questions) {
    if (question.type === 'radios' || question.type === 'select' || question.type === 'checkboxes') choices.set(question.id, question);
  }
  const valuesOf = (question: GroupableQuestion): Set<string> => {
    if (question.type !== 'radios' && question.type !== 'select' && question.type !== 'checkboxes') return new Set();
    const values = new Set(question.options.map((option) => option.value));
    if (question.type === 'checkboxes' && question.none) values.add(question.none.value);
    return values;
  };
  const visit = (expression: Expression, path: Segments): void => {
    if ('all' in expression) expression.all.forEach((part, index) => visit(part, [...path, 'all', index]));
    else if ('any' in expression) expression.any.forEach((part, index) => visit(part, [...path, 'any', index]));
    else if ('not' in expression) visit(expression.not, [...path, 'not']);
    else {
      const [operator, argument] = Object.entries(expression)[0] as [string, unknown];
      if (!['equals', 'notEquals', 'oneOf', 'contains'].includes(operator)) return;
      const [left, right] = argument as [Operand, Operand | Operand[]];
      if (typeof left !== 'object' || !('answer' in left)) return;
      const question = choices.get(left.answer);
      if (question === undefined) return;
      const allowed = valuesOf(question);
      const compared = Array.isArray(right) ? right : [right];
      for (const value of compared) {
        if (typeof value === 'string' && !allowed.has(value)) {
          out.push({ severity: 'error', path: formatPath([...path, operator]), message: `"${left.answer}" has no option "${value}"` });
        }
      }
    }
  };
  for (const { expression, path, group } of inventory.expressions) if (group === undefined) visit(expression, path);
}

const END = '#end';

function checkRoutes(definition: FormDefinition, out: Finding[]): void {
  const pageIds = new Set(definition.pages.map((page) => page.id));
  const edges = new Map<string, Set<string>>();
  definition.pages.forEach((page, index) => {
    const targets = new Set<string>();
    edges.set(page.id, targets);
    if (page.routes === undefined) {
      targets.add(definition.pages[index + 1]?.id ?? END);
      return;
    }
    const fallback = page.routes.findIndex((route) => route.when === undefined);
    page.routes.forEach((route, routeIndex) => {
      const path = ['pages', index, 'routes', routeIndex];
      if (fallback !== -1 && routeIndex > fallback) {
        out.push({ severity: 'warning', path: formatPath(path), message: 'This route is never taken: an earlier route has no condition' });
      }
      if (typeof route.goTo !== 'string' || route.goTo === CHECK_ANSWERS) targets.add(END);
      else if (pageIds.has(route.goTo)) targets.add(route.goTo);
      else out.push({ severity: 'error', path: formatPath([...path, 'goTo']), message: `Goes to unknown page "${route.goTo}"` });
    });
    if (fallback === -1) {
      out.push({
        severity: 'error',
        path: formatPath(['pages', index, 'routes']),
        message: 'No way forward when no condition holds: end the routes with one that has no condition',
      });
    }
  });

  const reach = new Map<string, Set<string>>();
  const reachable = (from: string): Set<string> => {
    const known = reach.get(from);
    if (known) return known;
    const seen = new Set<string>();
    const queue = [...(edges.get(from) ?? [])];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(edges.get(next) ?? []));
    }
    reach.set(from, seen);
    return seen;
  };

  const first = definition.pages[0];
  const fromStart = first === undefined ? new Set<string>() : new Set([first.id, ...reachable(first.id)]);
  definition.pages.forEach((page, index) => {
    if (!fromStart.has(page.id))
      out.push({ severity: 'error', path: formatPath(['pages', index]), message: `Page "${page.id}" cannot be reached from the first page` });
  });

  const reported = new Set<string>();
  definition.pages.forEach((page, index) => {
    if (reported.has(page.id) || !reachable(page.id).has(page.id)) return;
    const loop = definition.pages.filter((other) => reachable(page.id).has(other.id) && reachable(other.id).has(page.id)).map((other) => other.id);
    loop.forEach((id) => reported.add(id));
    const way = loop.some((id) => [...(edges.get(id) ?? [])].some((target) => target === END || !loop.includes(target)));
    const escapes = loop.some((id) => reachable(id).has(END));
    out.push(
      way && escapes
        ? { severity: 'warning', path: formatPath(['pages', index]), message: `Routes can lead back to an earlier page: ${loop.join(' → ')}` }
        : { severity: 'error', path: formatPath(['pages', index]), message: `Routing loop with no way out: ${loop.join(' → ')}` },
    );
  });
}

export interface LintOptions {
  /**
   * What appointment questions are checked against: the registered booking provider, or null when
   * none is (the form cannot then be published). Left out, as when checking files offline, the
   * appointment types and locations are not checked.
   */
  bookings?: BookingCatalogue | null;
}

/** Checks a form definition (of any schema version): schema errors first, then the rules that need a valid definition. */
export function lintForm(raw: unknown, options: LintOptions = {}): Finding[] {
  const parsed = parseFormDefinition(raw);
  const out: Finding[] = [];
  if (!parsed.success) {
    schemaFindings(parsed.error.issues, [], raw, out);
    return out;
  }
  const definition = parsed.data;
  const inventory = inventoryOf(definition);
  checkDuplicates(definition, inventory, out);
  checkExpressions(definition, inventory, out);
  checkRoutes(definition, out);
  for (const finding of bookingFindings(definition, options.bookings)) out.push({ ...finding, path: formatPath(finding.path) });
  return out;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}
