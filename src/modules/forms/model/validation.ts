import type { ChoiceOption, GroupableQuestion, QuestionComponent, DateBound, NameAnswer } from './components.js';
import { formatDate, isRealDate, parseMonth, shiftDate, toIsoDate } from './dates.js';
import { evaluate, type EvaluationContext } from './expressions.js';

/** The outcome of checking one answer: the value to store, or a GOV.UK style error message. */
export type ValidationResult = { value: unknown } | { error: string; fields?: string[] };

type Of<T extends QuestionComponent['type']> = Extract<QuestionComponent, { type: T }>;

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How messages name the answer: "your email address" for a label "Your email address". */
export function subjectOf(question: QuestionComponent): string {
  const label = question.shortLabel ?? question.label.replace(/[?:.]$/, '');
  return /^[A-Z][a-z]/.test(label) ? label.charAt(0).toLowerCase() + label.slice(1) : label;
}

export function isShown(component: { showIf?: Parameters<typeof evaluate>[0] | undefined }, context: EvaluationContext): boolean {
  return component.showIf === undefined || evaluate(component.showIf, context);
}

export function isRequired(question: QuestionComponent, context: EvaluationContext): boolean {
  return question.requiredIf === undefined ? !question.optional : evaluate(question.requiredIf, context);
}

export function visibleOptions<T extends { showIf?: Parameters<typeof evaluate>[0] | undefined }>(options: readonly T[], context: EvaluationContext): T[] {
  return options.filter((option) => isShown(option, context));
}

function asText(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number') return String(raw);
  return '';
}

function field(raw: unknown, name: string): string {
  return typeof raw === 'object' && raw !== null ? asText((raw as Record<string, unknown>)[name]) : '';
}

const missing = (question: QuestionComponent, verb: 'Enter' | 'Select'): ValidationResult => ({
  error: question.requiredMessage ?? `${verb} ${subjectOf(question)}`,
});

function validateText(question: Of<'text'> | Of<'textarea'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const value = typeof raw === 'string' ? (question.type === 'textarea' ? raw.replace(/\r\n/g, '\n').trim() : raw.trim()) : '';
  if (value === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  const subject = capitalise(subjectOf(question));
  if (value.length > question.maxLength) return { error: `${subject} must be ${question.maxLength} characters or less` };
  if (question.type === 'text' && question.minLength !== undefined && value.length < question.minLength)
    return { error: `${subject} must be ${question.minLength} characters or more` };
  return { value };
}

function validateNumber(question: Of<'number'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const text = asText(raw).replace(/,/g, '');
  if (text === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  const subject = capitalise(subjectOf(question));
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) return { error: `${subject} must be a number` };
  const value = Number(text);
  if (question.whole && !Number.isInteger(value)) return { error: `${subject} must be a whole number` };
  const { min, max } = question;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    if (min !== undefined && max !== undefined) return { error: `${subject} must be between ${min} and ${max}` };
    if (min !== undefined) return { error: `${subject} must be ${min} or more` };
    return { error: `${subject} must be ${max} or less` };
  }
  return { value };
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

function validateEmail(question: Of<'email'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const value = asText(raw);
  if (value === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  if (!EMAIL.test(value) || value.length > 254) return { error: 'Enter an email address in the correct format, like name@example.com' };
  return { value };
}

function validateUkPhone(question: Of<'ukPhone'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const value = asText(raw);
  if (value === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  if (!/^[\d\s()+-]+$/.test(value)) return { error: 'Enter a UK phone number, like 01632 960 001 or 07700 900 982' };
  const digits = value.replace(/\D/g, '');
  const national = digits.startsWith('44') && value.trim().startsWith('+') ? `0${digits.slice(2)}` : digits;
  if (!/^0[1-37-9]\d{8,9}$/.test(national)) return { error: 'Enter a UK phone number, like 01632 960 001 or 07700 900 982' };
  if (question.mobileOnly && !/^07\d{9}$/.test(national)) return { error: 'Enter a UK mobile phone number, like 07700 900 982' };
  return { value };
}

const POSTCODE = /^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$/;

/** "sw1a2aa" becomes "SW1A 2AA"; anything that is not a full UK postcode gives undefined. */
export function normalisePostcode(input: string): string | undefined {
  const match = POSTCODE.exec(input.trim().toUpperCase().replace(/\s+/g, ' '));
  return match ? `${match[1] ?? ''} ${match[2] ?? ''}` : undefined;
}

function validatePostcode(question: Of<'postcode'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const text = asText(raw);
  if (text === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  const value = normalisePostcode(text);
  return value === undefined ? { error: 'Enter a full UK postcode, like AA1 1AA' } : { value };
}

function resolveBound(bound: DateBound, context: EvaluationContext): string {
  return typeof bound === 'string' ? bound : shiftDate(context.today, bound.today);
}

function validateDate(question: Of<'date'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const parts = { day: field(raw, 'day'), month: field(raw, 'month'), year: field(raw, 'year') };
  const subject = capitalise(subjectOf(question));
  const absent = (['day', 'month', 'year'] as const).filter((name) => parts[name] === '');
  if (absent.length === 3) return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  if (absent.length > 0) return { error: `${subject} must include a ${absent.join(' and ')}`, fields: absent };
  const month = parseMonth(parts.month);
  if (!/^\d{1,2}$/.test(parts.day) || month === undefined || !/^\d+$/.test(parts.year))
    return { error: `${subject} must be a real date`, fields: ['day', 'month', 'year'] };
  if (parts.year.length !== 4) return { error: 'Year must include 4 numbers', fields: ['year'] };
  const [day, year] = [Number(parts.day), Number(parts.year)];
  if (!isRealDate(year, month, day)) return { error: `${subject} must be a real date`, fields: ['day', 'month', 'year'] };
  const value = toIsoDate(year, month, day);
  const today = context.today;
  const rules: Record<typeof question.when, [boolean, string]> = {
    any: [true, ''],
    past: [value < today, 'must be in the past'],
    pastOrToday: [value <= today, 'must be today or in the past'],
    future: [value > today, 'must be in the future'],
    futureOrToday: [value >= today, 'must be today or in the future'],
  };
  const [ok, rule] = rules[question.when];
  if (!ok) return { error: `${subject} ${rule}` };
  if (question.earliest !== undefined) {
    const earliest = resolveBound(question.earliest, context);
    if (value < earliest) return { error: `${subject} must be the same as or after ${formatDate(earliest)}` };
  }
  if (question.latest !== undefined) {
    const latest = resolveBound(question.latest, context);
    if (value > latest) return { error: `${subject} must be the same as or before ${formatDate(latest)}` };
  }
  return { value };
}

function validateTime(question: Of<'time'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const text = asText(raw).toLowerCase().replace(/\s+/g, '').replace(/\./g, ':');
  if (text === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  const match = /^(\d{1,2})(?::(\d{2}))?(am|pm)?$/.exec(text);
  const wrong = { error: `${capitalise(subjectOf(question))} must be a real time, like 9:30am or 14:30` };
  if (!match) return wrong;
  let hour = Number(match[1]);
  const minute = Number(match[2] ?? '0');
  const half = match[3];
  if (half === undefined && match[2] === undefined) return wrong;
  if (half !== undefined) {
    if (hour < 1 || hour > 12) return wrong;
    hour = (hour % 12) + (half === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return wrong;
  return { value: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}` };
}

function validateSingleChoice(question: Of<'radios'> | Of<'select'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const value = asText(raw);
  if (value === '') return isRequired(question, context) ? missing(question, 'Select') : { value: undefined };
  const options: readonly ChoiceOption[] = question.options;
  if (!visibleOptions(options, context).some((option) => option.value === value)) return missing(question, 'Select');
  return { value };
}

function validateCheckboxes(question: Of<'checkboxes'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const chosen = [...new Set((Array.isArray(raw) ? raw : [raw]).map(asText).filter((value) => value !== ''))];
  if (chosen.length === 0) return isRequired(question, context) ? missing(question, 'Select') : { value: undefined };
  const allowed = new Set(visibleOptions(question.options, context).map((option) => option.value));
  const none = question.none;
  if (none !== undefined) {
    allowed.add(none.value);
    if (chosen.includes(none.value) && chosen.length > 1) return { error: `Select ${subjectOf(question)}, or select ‘${none.text}’` };
  }
  if (!chosen.every((value) => allowed.has(value))) return missing(question, 'Select');
  return { value: chosen };
}

function validateYesNo(question: Of<'yesNo'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const value = asText(raw).toLowerCase();
  if (value === 'yes' || value === 'true') return { value: true };
  if (value === 'no' || value === 'false') return { value: false };
  if (value === '' && !isRequired(question, context)) return { value: undefined };
  return { error: question.requiredMessage ?? 'Select yes or no' };
}

function validateName(question: Of<'name'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const value: NameAnswer = { firstName: field(raw, 'firstName'), lastName: field(raw, 'lastName') };
  if (value.firstName === '' && value.lastName === '') return isRequired(question, context) ? missing(question, 'Enter') : { value: undefined };
  for (const [name, label] of [
    ['firstName', question.firstNameLabel],
    ['lastName', question.lastNameLabel],
  ] as const) {
    const lower = label.charAt(0).toLowerCase() + label.slice(1);
    if (value[name] === '') return { error: `Enter ${lower}`, fields: [name] };
    if (value[name].length > 100) return { error: `${label} must be 100 characters or less`, fields: [name] };
  }
  return { value };
}

function validateDeclaration(question: Of<'declaration'>, raw: unknown, context: EvaluationContext): ValidationResult {
  const given = asText(raw) !== '' && asText(raw) !== 'false';
  if (given) return { value: true };
  return isRequired(question, context) ? { error: question.requiredMessage ?? 'Confirm you have read and agree to the declaration' } : { value: undefined };
}

type Validator = (question: QuestionComponent, raw: unknown, context: EvaluationContext) => ValidationResult;

function typed<T extends QuestionComponent['type']>(validator: (question: Of<T>, raw: unknown, context: EvaluationContext) => ValidationResult): Validator {
  return validator as Validator;
}

/** Validators by question type. Address, location, file upload and repeating group answers are assembled by their own steps. */
export const validators: Partial<Record<QuestionComponent['type'], Validator>> = {
  text: typed<'text'>(validateText),
  textarea: typed<'textarea'>(validateText),
  number: typed<'number'>(validateNumber),
  email: typed<'email'>(validateEmail),
  ukPhone: typed<'ukPhone'>(validateUkPhone),
  postcode: typed<'postcode'>(validatePostcode),
  date: typed<'date'>(validateDate),
  time: typed<'time'>(validateTime),
  radios: typed<'radios'>(validateSingleChoice),
  select: typed<'select'>(validateSingleChoice),
  checkboxes: typed<'checkboxes'>(validateCheckboxes),
  yesNo: typed<'yesNo'>(validateYesNo),
  name: typed<'name'>(validateName),
  declaration: typed<'declaration'>(validateDeclaration),
};

/**
 * Checks what a resident entered for one question: form fields as posted (strings; a date as
 * `{ day, month, year }`, a name as `{ firstName, lastName }`, checkboxes as a string or a list).
 * A hidden question has no value.
 */
export function validate(question: GroupableQuestion | QuestionComponent, raw: unknown, context: EvaluationContext): ValidationResult {
  if (!isShown(question, context)) return { value: undefined };
  const validator = validators[question.type];
  if (validator === undefined) throw new Error(`Questions of type ${question.type} are not validated from form fields`);
  return validator(question, raw, context);
}
