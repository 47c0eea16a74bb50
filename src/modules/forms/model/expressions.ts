import { z } from 'zod';
import { isIsoDate, shiftDate, type DateOffset } from './dates.js';

/**
 * The one expression language of forms: a JSON tree used for routes, showing and hiding questions,
 * required-if, filtering options and computed values.
 */

export type Literal = string | number | boolean;

export type Operand = Literal | { answer: string } | { profile: string } | { today: DateOffset } | { countOf: string; where?: Expression | undefined };

export type Expression =
  | { all: Expression[] }
  | { any: Expression[] }
  | { not: Expression }
  | { equals: [Operand, Operand] }
  | { notEquals: [Operand, Operand] }
  | { oneOf: [Operand, Literal[]] }
  | { contains: [Operand, Operand] }
  | { greater: [Operand, Operand] }
  | { less: [Operand, Operand] }
  | { isEmpty: Operand }
  | { dateBefore: [Operand, Operand] }
  | { dateAfter: [Operand, Operand] };

/** Dot paths: `email`, `applicant.lastName`, `address.postcode`, `children.dateOfBirth` (one value per item). */
export const answerPathSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.([A-Za-z][A-Za-z0-9_]*|\d+))*$/, 'Use a question id, optionally followed by .field');

export const literalSchema = z.union([z.string(), z.number(), z.boolean()]);

export const dateOffsetSchema = z.strictObject({
  days: z.number().int().optional(),
  weeks: z.number().int().optional(),
  months: z.number().int().optional(),
  years: z.number().int().optional(),
});

export const operandSchema: z.ZodType<Operand> = z.lazy(() =>
  z.union([
    literalSchema,
    z.strictObject({ answer: answerPathSchema }),
    z.strictObject({ profile: z.string().min(1) }),
    z.strictObject({ today: dateOffsetSchema }),
    z.strictObject({ countOf: answerPathSchema, where: expressionSchema.optional() }),
  ]),
);

const pair = z.lazy(() => z.tuple([operandSchema, operandSchema]));

export const expressionSchema: z.ZodType<Expression> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(expressionSchema).min(1) }),
    z.strictObject({ any: z.array(expressionSchema).min(1) }),
    z.strictObject({ not: expressionSchema }),
    z.strictObject({ equals: pair }),
    z.strictObject({ notEquals: pair }),
    z.strictObject({ oneOf: z.tuple([operandSchema, z.array(literalSchema).min(1)]) }),
    z.strictObject({ contains: pair }),
    z.strictObject({ greater: pair }),
    z.strictObject({ less: pair }),
    z.strictObject({ isEmpty: operandSchema }),
    z.strictObject({ dateBefore: pair }),
    z.strictObject({ dateAfter: pair }),
  ]),
);

export interface EvaluationContext {
  /** Answers by question id; repeating groups hold a list of items, name and address questions an object. */
  answers: Readonly<Record<string, unknown>>;
  /** The signed-in resident's profile, empty for someone not signed in. */
  profile: Readonly<Record<string, unknown>>;
  /** Today's date as YYYY-MM-DD, in the council's time zone. */
  today: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a dot path; a list met on the way (a repeating group) gives one value per item, unless the next step is an index. */
export function readPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const step of path.split('.')) {
    if (Array.isArray(current)) {
      current = /^\d+$/.test(step) ? current[Number(step)] : current.map((item) => (isRecord(item) ? item[step] : undefined));
    } else if (isRecord(current)) {
      current = current[step];
    } else {
      return undefined;
    }
  }
  return current;
}

export function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.values(value).every(isEmptyValue);
  return false;
}

function sameValue(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) && Array.isArray(right)) return left.length === right.length && left.every((item, index) => sameValue(item, right[index]));
  if (isRecord(left) && isRecord(right)) {
    const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
    return [...keys].every((key) => sameValue(left[key], right[key]));
  }
  return false;
}

export function evaluateOperand(operand: Operand, context: EvaluationContext): unknown {
  if (typeof operand !== 'object') return operand;
  if ('answer' in operand) return readPath(context.answers, operand.answer);
  if ('profile' in operand) return readPath(context.profile, operand.profile);
  if ('today' in operand) return shiftDate(context.today, operand.today);
  const items = readPath(context.answers, operand.countOf);
  if (!Array.isArray(items)) return 0;
  const where = operand.where;
  if (!where) return items.length;
  return items.filter((item) => evaluate(where, withItemScope(context, item))).length;
}

/** Inside a repeating group's item, `{ "answer": "x" }` reads the item's own answer first, then the form's. */
export function withItemScope(context: EvaluationContext, item: unknown): EvaluationContext {
  return isRecord(item) ? { ...context, answers: { ...context.answers, ...item } } : context;
}

function compareDates(pairOf: [Operand, Operand], context: EvaluationContext, before: boolean): boolean {
  const left = evaluateOperand(pairOf[0], context);
  const right = evaluateOperand(pairOf[1], context);
  if (!isIsoDate(left) || !isIsoDate(right)) return false;
  return before ? left < right : left > right;
}

function compareNumbers(pairOf: [Operand, Operand], context: EvaluationContext, greater: boolean): boolean {
  const left = evaluateOperand(pairOf[0], context);
  const right = evaluateOperand(pairOf[1], context);
  if (typeof left !== 'number' || typeof right !== 'number') return false;
  return greater ? left > right : left < right;
}

/** Evaluates an expression. Missing answers never throw: comparisons with them are false. */
export function evaluate(expression: Expression, context: EvaluationContext): boolean {
  if ('all' in expression) return expression.all.every((part) => evaluate(part, context));
  if ('any' in expression) return expression.any.some((part) => evaluate(part, context));
  if ('not' in expression) return !evaluate(expression.not, context);
  if ('equals' in expression) return sameValue(evaluateOperand(expression.equals[0], context), evaluateOperand(expression.equals[1], context));
  if ('notEquals' in expression) return !sameValue(evaluateOperand(expression.notEquals[0], context), evaluateOperand(expression.notEquals[1], context));
  if ('oneOf' in expression) {
    const value = evaluateOperand(expression.oneOf[0], context);
    return expression.oneOf[1].some((option) => sameValue(value, option));
  }
  if ('contains' in expression) {
    const haystack = evaluateOperand(expression.contains[0], context);
    const needle = evaluateOperand(expression.contains[1], context);
    if (Array.isArray(haystack)) return haystack.some((item) => sameValue(item, needle));
    if (typeof haystack === 'string' && typeof needle === 'string') return haystack.toLowerCase().includes(needle.toLowerCase());
    return false;
  }
  if ('greater' in expression) return compareNumbers(expression.greater, context, true);
  if ('less' in expression) return compareNumbers(expression.less, context, false);
  if ('isEmpty' in expression) return isEmptyValue(evaluateOperand(expression.isEmpty, context));
  if ('dateBefore' in expression) return compareDates(expression.dateBefore, context, true);
  return compareDates(expression.dateAfter, context, false);
}

/* ---------- static analysis, for the linter ---------- */

export type ValueType = 'string' | 'number' | 'boolean' | 'date' | 'list' | 'object' | 'unknown';

export interface Reference {
  kind: 'answer' | 'profile';
  path: string;
  /** Where in the expression the reference is, as property names and indexes. */
  at: (string | number)[];
  /** True for references inside a countOf's `where`, which may name a repeating group's own questions. */
  inItem?: string | undefined;
}

export interface TypeProblem {
  at: (string | number)[];
  message: string;
}

/** Tells the type of the answer at a path, or undefined when no question has that path. */
export type TypeResolver = (path: string, inItem?: string) => ValueType | undefined;

function operandReferences(operand: Operand, at: (string | number)[], inItem: string | undefined, out: Reference[]): void {
  if (typeof operand !== 'object') return;
  if ('answer' in operand) out.push({ kind: 'answer', path: operand.answer, at: [...at, 'answer'], inItem });
  else if ('profile' in operand) out.push({ kind: 'profile', path: operand.profile, at: [...at, 'profile'], inItem });
  else if ('countOf' in operand) {
    out.push({ kind: 'answer', path: operand.countOf, at: [...at, 'countOf'], inItem });
    if (operand.where) collectReferences(operand.where, [...at, 'where'], operand.countOf, out);
  }
}

function collectReferences(expression: Expression, at: (string | number)[], inItem: string | undefined, out: Reference[]): void {
  for (const [operator, argument] of Object.entries(expression) as [string, unknown][]) {
    const here = [...at, operator];
    if (operator === 'all' || operator === 'any') (argument as Expression[]).forEach((part, index) => collectReferences(part, [...here, index], inItem, out));
    else if (operator === 'not') collectReferences(argument as Expression, here, inItem, out);
    else if (operator === 'isEmpty') operandReferences(argument as Operand, here, inItem, out);
    else if (operator === 'oneOf') operandReferences((argument as [Operand, Literal[]])[0], [...here, 0], inItem, out);
    else (argument as Operand[]).forEach((operand, index) => operandReferences(operand, [...here, index], inItem, out));
  }
}

/** Every answer and profile field an expression reads. */
export function expressionReferences(expression: Expression): Reference[] {
  const out: Reference[] = [];
  collectReferences(expression, [], undefined, out);
  return out;
}

export function typeOfOperand(operand: Operand, resolve: TypeResolver, inItem?: string): ValueType {
  if (typeof operand === 'string') return isIsoDate(operand) ? 'date' : 'string';
  if (typeof operand === 'number') return 'number';
  if (typeof operand === 'boolean') return 'boolean';
  if ('answer' in operand) return resolve(operand.answer, inItem) ?? 'unknown';
  if ('profile' in operand) return 'unknown';
  if ('today' in operand) return 'date';
  return 'number';
}

function describe(operand: Operand, type: ValueType): string {
  if (typeof operand === 'object' && 'answer' in operand) return `"${operand.answer}" (${type})`;
  return `${JSON.stringify(operand)} (${type})`;
}

function compatible(left: ValueType, right: ValueType): boolean {
  if (left === 'unknown' || right === 'unknown' || left === right) return true;
  return (left === 'date' && right === 'string') || (left === 'string' && right === 'date');
}

function checkTypes(expression: Expression, at: (string | number)[], resolve: TypeResolver, inItem: string | undefined, out: TypeProblem[]): void {
  const typeOf = (operand: Operand): ValueType => typeOfOperand(operand, resolve, inItem);
  const checkCountOf = (operand: Operand, here: (string | number)[]): void => {
    if (typeof operand !== 'object' || !('countOf' in operand)) return;
    const type = resolve(operand.countOf, inItem) ?? 'unknown';
    if (type !== 'list' && type !== 'unknown')
      out.push({ at: [...here, 'countOf'], message: `countOf needs repeated items or a list of choices, but "${operand.countOf}" is ${type}` });
    if (operand.where) checkTypes(operand.where, [...here, 'where'], resolve, operand.countOf, out);
  };
  for (const [operator, argument] of Object.entries(expression) as [string, unknown][]) {
    const here = [...at, operator];
    if (operator === 'all' || operator === 'any') {
      (argument as Expression[]).forEach((part, index) => checkTypes(part, [...here, index], resolve, inItem, out));
      continue;
    }
    if (operator === 'not') {
      checkTypes(argument as Expression, here, resolve, inItem, out);
      continue;
    }
    if (operator === 'isEmpty') {
      checkCountOf(argument as Operand, here);
      continue;
    }
    if (operator === 'oneOf') {
      const [operand, options] = argument as [Operand, Literal[]];
      checkCountOf(operand, [...here, 0]);
      const type = typeOf(operand);
      options.forEach((option, index) => {
        const optionType = typeOfOperand(option, resolve);
        if (!compatible(type, optionType))
          out.push({ at: [...here, 1, index], message: `oneOf compares ${describe(operand, type)} with ${describe(option, optionType)}` });
      });
      continue;
    }
    const [left, right] = argument as [Operand, Operand];
    checkCountOf(left, [...here, 0]);
    checkCountOf(right, [...here, 1]);
    const leftType = typeOf(left);
    const rightType = typeOf(right);
    const wrong = (message: string): void => {
      out.push({ at: here, message });
    };
    if (operator === 'equals' || operator === 'notEquals') {
      if (!compatible(leftType, rightType)) wrong(`${operator} compares ${describe(left, leftType)} with ${describe(right, rightType)}`);
    } else if (operator === 'greater' || operator === 'less') {
      for (const [operand, type] of [
        [left, leftType],
        [right, rightType],
      ] as const) {
        if (type !== 'number' && type !== 'unknown') wrong(`${operator} needs numbers, but ${describe(operand, type)} is not a number`);
      }
    } else if (operator === 'dateBefore' || operator === 'dateAfter') {
      for (const [operand, type] of [
        [left, leftType],
        [right, rightType],
      ] as const) {
        if (type !== 'date' && type !== 'unknown') wrong(`${operator} needs dates, but ${describe(operand, type)} is not a date`);
      }
    } else if (operator === 'contains') {
      if (leftType === 'string' && rightType !== 'string' && rightType !== 'unknown') wrong(`contains looks for ${describe(right, rightType)} in text`);
      else if (leftType !== 'string' && leftType !== 'list' && leftType !== 'unknown')
        wrong(`contains needs a list of choices or text, but ${describe(left, leftType)} is neither`);
    }
  }
}

/** Comparisons of incompatible types: a number compared with text, a date rule on something that is not a date. */
export function expressionTypeProblems(expression: Expression, resolve: TypeResolver): TypeProblem[] {
  const out: TypeProblem[] = [];
  checkTypes(expression, [], resolve, undefined, out);
  return out;
}
