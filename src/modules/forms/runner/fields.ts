import type { Address, Geography } from '#platform/geo/index';
import {
  isQuestion,
  type AddressAnswer,
  type AppointmentQuestion,
  type Component,
  type FileAnswer,
  type GroupableQuestion,
  type LocationAnswer,
  type QuestionComponent,
  type RepeatingGroup,
} from '../model/components.js';
import { appointmentAnswer, type AppointmentAnswer } from '../model/bookings.js';
import { withItemScope, type EvaluationContext } from '../model/expressions.js';
import { isRequired, isShown, normalisePostcode, subjectOf, validate, visibleOptions } from '../model/validation.js';

/**
 * Form fields as posted, by name. A question `q` posts `q`; its parts post `q-day`, `q-firstName`,
 * `q-line1` and so on; item 2 of a repeating group `g` posts `g-1-<question>`. Pages are rendered
 * from these too, so a page with errors shows exactly what was typed.
 */
export type RawFields = Record<string, string | string[] | undefined>;

export interface FieldError {
  /** The field's name, for its message beside it. */
  name: string;
  /** The id the error summary links to. */
  href: string;
  text: string;
  /** The parts of a date or name that are wrong, when not all of them. */
  fields?: string[];
}

export interface ReadResult {
  answers: Record<string, unknown>;
  errors: FieldError[];
}

/** What reading a page needs besides the fields. */
export interface ReadContext {
  evaluation: EvaluationContext;
  geo: Geography;
  /** Answers already held (files live there, since a file input cannot be filled in again). */
  stored: Readonly<Record<string, unknown>>;
}

export function rawText(raw: RawFields, name: string): string {
  const value = raw[name];
  return (Array.isArray(value) ? (value[0] ?? '') : (value ?? '')).trim();
}

function rawList(raw: RawFields, name: string): string[] {
  const value = raw[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PARTS: Partial<Record<QuestionComponent['type'], string[]>> = {
  date: ['day', 'month', 'year'],
  name: ['firstName', 'lastName'],
};

/** The id of the first input of a question, for the error summary's link. */
export function firstInputId(question: QuestionComponent, name: string, fields?: string[]): string {
  const parts = PARTS[question.type];
  if (parts !== undefined) return `${name}-${fields?.[0] ?? parts[0] ?? ''}`;
  if (question.type === 'address') return `${name}-postcode`;
  if (question.type === 'location') return `${name}-method`;
  if (question.type === 'repeatingGroup') return `${name}-0`;
  return name;
}

/** A page's answers laid over the answers so far; an undefined answer removes the old one. */
export function mergeAnswers(answers: Readonly<Record<string, unknown>>, pageAnswers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ ...answers, ...pageAnswers }).filter(([, value]) => value !== undefined));
}

/* ---------------------------------------------------------------- answers to fields */

function dateParts(iso: unknown): Record<string, string> {
  if (typeof iso !== 'string') return {};
  const [year, month, day] = iso.split('-');
  return { day: String(Number(day)), month: String(Number(month)), year: year ?? '' };
}

/** Writes one question's stored answer into form fields (the inverse of reading it). */
function questionToRaw(question: QuestionComponent, name: string, answer: unknown, answers: Readonly<Record<string, unknown>>, raw: RawFields): void {
  switch (question.type) {
    case 'date':
      for (const [part, value] of Object.entries(dateParts(answer))) raw[`${name}-${part}`] = value;
      return;
    case 'name':
      if (isRecord(answer)) for (const part of ['firstName', 'lastName']) raw[`${name}-${part}`] = String(answer[part] ?? '');
      return;
    case 'yesNo':
      if (typeof answer === 'boolean') raw[name] = answer ? 'yes' : 'no';
      return;
    case 'declaration':
      if (answer === true) raw[name] = 'true';
      return;
    case 'checkboxes':
      if (Array.isArray(answer)) raw[name] = answer.map(String);
      break;
    case 'address':
      if (isRecord(answer)) {
        raw[`${name}-mode`] = 'manual';
        for (const part of ['line1', 'line2', 'town', 'county', 'postcode', 'uprn']) raw[`${name}-${part}`] = String(answer[part] ?? '');
      }
      return;
    case 'location':
      if (isRecord(answer)) {
        raw[`${name}-method`] = String(answer.givenBy ?? '');
        raw[`${name}-description`] = String(answer.description ?? '');
        if (answer.givenBy === 'postcode') raw[`${name}-postcode`] = String(answer.label ?? '');
        if (answer.givenBy === 'street') raw[`${name}-street`] = String(answer.label ?? '');
        if (typeof answer.lat === 'number' && typeof answer.lng === 'number') {
          raw[`${name}-lat`] = String(answer.lat);
          raw[`${name}-lng`] = String(answer.lng);
        }
      }
      return;
    case 'fileUpload':
      return;
    case 'appointment': {
      // Only the time: the hold stays on the draft.
      const held = appointmentAnswer(answer);
      if (held) raw[name] = held.start;
      return;
    }
    case 'repeatingGroup': {
      const items = Array.isArray(answer) ? answer : [];
      raw[`${name}-items`] = String(Math.max(items.length, question.min, 1));
      items.forEach((item, index) => {
        if (isRecord(item)) componentsToRaw(question.components, `${name}-${index}-`, item, raw);
      });
      return;
    }
    default:
      if (answer !== undefined && answer !== null) raw[name] = String(answer);
  }
  if (question.type === 'radios' || question.type === 'checkboxes') {
    for (const option of question.options) for (const follow of option.reveals ?? []) questionToRaw(follow, follow.id, answers[follow.id], answers, raw);
  }
}

function componentsToRaw(components: readonly Component[], prefix: string, answers: Readonly<Record<string, unknown>>, raw: RawFields): void {
  for (const component of components) {
    if (!isQuestion(component)) continue;
    questionToRaw(component, `${prefix}${component.id}`, answers[component.id], answers, raw);
    if ((component.type === 'radios' || component.type === 'checkboxes') && prefix !== '') {
      for (const option of component.options)
        for (const follow of option.reveals ?? []) questionToRaw(follow, `${prefix}${follow.id}`, answers[follow.id], answers, raw);
    }
  }
}

/** The form fields that show a page's stored answers. */
export function answersToRaw(components: readonly Component[], answers: Readonly<Record<string, unknown>>): RawFields {
  const raw: RawFields = {};
  componentsToRaw(components, '', answers, raw);
  return raw;
}

/* ---------------------------------------------------------------- fields to answers */

function partsOf(raw: RawFields, name: string, parts: string[]): Record<string, string> {
  return Object.fromEntries(parts.map((part) => [part, rawText(raw, `${name}-${part}`)]));
}

type Outcome = { value: unknown } | { error: string; href: string; fields?: string[] };

function simpleOutcome(question: GroupableQuestion, name: string, raw: RawFields, evaluation: EvaluationContext): Outcome {
  const parts = PARTS[question.type];
  const input = parts !== undefined ? partsOf(raw, name, parts) : question.type === 'checkboxes' ? rawList(raw, name) : rawText(raw, name);
  const result = validate(question, input, evaluation);
  if ('value' in result) return result;
  return { error: result.error, href: `#${firstInputId(question, name, result.fields)}`, ...(result.fields ? { fields: result.fields } : {}) };
}

/** The addresses for a postcode, in the order residents expect them. */
export async function addressesFor(geo: Geography, postcode: string): Promise<Address[]> {
  const normalised = normalisePostcode(postcode);
  return normalised === undefined ? [] : geo.lookupPostcode(normalised);
}

/** Why a postcode search for addresses found nothing to choose from, if it did not. */
export async function addressSearchProblem(geo: Geography, postcode: string): Promise<string | undefined> {
  if (postcode.trim() === '') return 'Enter a postcode';
  if (normalisePostcode(postcode) === undefined) return 'Enter a full UK postcode, like AA1 1AA';
  if ((await addressesFor(geo, postcode)).length === 0)
    return 'We could not find an address with that postcode. Check the postcode or enter the address manually';
  return undefined;
}

export function addressAnswerOf(address: Address): AddressAnswer {
  const first = address.houseName && address.houseNumber !== null ? address.houseName : `${address.house} ${address.street}`;
  const second = address.houseName && address.houseNumber !== null ? `${address.houseNumber} ${address.street}` : undefined;
  const line2 = [second, address.locality && address.locality !== address.town ? address.locality : undefined].filter(Boolean).join(', ');
  return { line1: first, ...(line2 ? { line2 } : {}), town: address.town, postcode: address.postcode, uprn: address.uprn };
}

async function addressOutcome(question: Extract<QuestionComponent, { type: 'address' }>, name: string, raw: RawFields, ctx: ReadContext): Promise<Outcome> {
  const required = isRequired(question, ctx.evaluation);
  const subject = subjectOf(question);
  const mode = question.lookup ? rawText(raw, `${name}-mode`) || 'lookup' : 'manual';
  if (mode === 'manual') {
    const fields = partsOf(raw, name, ['line1', 'line2', 'town', 'county', 'postcode']);
    if (Object.values(fields).every((value) => value === '')) return required ? { error: `Enter ${subject}`, href: `#${name}-line1` } : { value: undefined };
    if (fields.line1 === '') return { error: 'Enter address line 1, typically the building and street', href: `#${name}-line1` };
    if ((fields.line1 ?? '').length > 200 || (fields.line2 ?? '').length > 200)
      return { error: 'Address lines must be 200 characters or less', href: `#${name}-line1` };
    if (fields.town === '') return { error: 'Enter town or city', href: `#${name}-town` };
    const postcode = normalisePostcode(fields.postcode ?? '');
    if (postcode === undefined) return { error: 'Enter a full UK postcode, like AA1 1AA', href: `#${name}-postcode` };
    const uprn = rawText(raw, `${name}-uprn`);
    if (question.insideBoundary && (await addressesFor(ctx.geo, postcode)).length === 0)
      return { error: 'Enter an address in the council’s area', href: `#${name}-postcode` };
    const answer: AddressAnswer = {
      line1: fields.line1 ?? '',
      ...(fields.line2 ? { line2: fields.line2 } : {}),
      town: fields.town ?? '',
      ...(fields.county ? { county: fields.county } : {}),
      postcode,
      ...(uprn ? { uprn } : {}),
    };
    return { value: answer };
  }
  const postcodeText = rawText(raw, `${name}-postcode`);
  if (mode === 'choose') {
    const uprn = rawText(raw, `${name}-uprn`);
    const chosen = (await addressesFor(ctx.geo, postcodeText)).find((address) => address.uprn === uprn);
    if (chosen === undefined) return { error: 'Select an address', href: `#${name}-uprn` };
    return { value: addressAnswerOf(chosen) };
  }
  if (postcodeText === '') return required ? { error: `Enter ${subject}`, href: `#${name}-postcode` } : { value: undefined };
  return { error: 'Select ‘Find address’ and choose an address from the list', href: `#${name}-postcode` };
}

async function locationOutcome(question: Extract<QuestionComponent, { type: 'location' }>, name: string, raw: RawFields, ctx: ReadContext): Promise<Outcome> {
  const method = rawText(raw, `${name}-method`);
  const description = rawText(raw, `${name}-description`);
  const latText = rawText(raw, `${name}-lat`);
  const lngText = rawText(raw, `${name}-lng`);
  const lat = round(Number(latText));
  const lng = round(Number(lngText));
  const withDescription = (answer: LocationAnswer): LocationAnswer => (description ? { ...answer, description } : answer);
  if (description.length > 500) return { error: 'Description must be 500 characters or less', href: `#${name}-description` };
  const hasPoint = latText !== '' && lngText !== '' && Number.isFinite(lat) && Number.isFinite(lng);
  // The map fills in the point; a point with no way chosen is the map's too (picked without selecting its radio).
  if ((method === 'map' || (method === '' && hasPoint)) && question.methods.includes('map')) {
    const href = `#${name}-method-map`;
    if (!hasPoint) return { error: 'Select a point on the map', href };
    if (!(await ctx.geo.isInsideBoundary(lat, lng))) return { error: 'The location must be in the council’s area', href };
    const street = await ctx.geo.nearestStreet(lat, lng, { maxMetres: 100 });
    return {
      value: withDescription({ lat, lng, givenBy: 'map', ...(street ? { usrn: street.street.usrn, label: `Near ${street.street.name}` } : {}) }),
    };
  }
  if (method === '') {
    if (!isRequired(question, ctx.evaluation)) return { value: undefined };
    return { error: question.requiredMessage ?? `Select how you will tell us where ${subjectOf(question)} is`, href: `#${name}-method` };
  }
  if (method === 'postcode') {
    const text = rawText(raw, `${name}-postcode`);
    if (text === '') return { error: 'Enter a postcode', href: `#${name}-postcode` };
    const postcode = normalisePostcode(text);
    if (postcode === undefined) return { error: 'Enter a full UK postcode, like AA1 1AA', href: `#${name}-postcode` };
    const addresses = await ctx.geo.lookupPostcode(postcode);
    const first = addresses[0];
    if (first === undefined) return { error: 'Enter a postcode in the council’s area', href: `#${name}-postcode` };
    const centre = { lat: mean(addresses.map((a) => a.lat)), lng: mean(addresses.map((a) => a.lng)) };
    return { value: withDescription({ ...centre, givenBy: 'postcode', label: postcode, usrn: first.usrn }) };
  }
  if (method === 'street') {
    const text = rawText(raw, `${name}-street`);
    if (text === '') return { error: 'Enter a street name', href: `#${name}-street` };
    const street = (await ctx.geo.streetsByName(text, 1))[0];
    if (street === undefined) return { error: 'Enter the name of a street in the council’s area', href: `#${name}-street` };
    const { west, south, east, north } = street.bbox;
    return {
      value: withDescription({ lat: round((south + north) / 2), lng: round((west + east) / 2), givenBy: 'street', label: street.name, usrn: street.usrn }),
    };
  }
  if (method === 'description') {
    if (description === '') return { error: 'Describe the location', href: `#${name}-description` };
    return { value: { givenBy: 'description', description } };
  }
  return { error: `Select how you will tell us where ${subjectOf(question)} is`, href: `#${name}-method` };
}

const mean = (values: number[]): number => round(values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1));
const round = (value: number): number => Math.round(value * 1e6) / 1e6;

function fileOutcome(question: Extract<QuestionComponent, { type: 'fileUpload' }>, name: string, ctx: ReadContext): Outcome {
  const files = (Array.isArray(ctx.stored[question.id]) ? ctx.stored[question.id] : []) as FileAnswer[];
  const required = isRequired(question, ctx.evaluation);
  if (files.length === 0) return required && question.minFiles > 0 ? { error: `Select ${subjectOf(question)}`, href: `#${name}` } : { value: undefined };
  if (files.length < question.minFiles) return { error: `Select at least ${question.minFiles} files`, href: `#${name}` };
  if (files.length > question.maxFiles) return { error: `Remove files so there are no more than ${question.maxFiles}`, href: `#${name}` };
  return { value: files };
}

/** The message when no time is chosen. */
export function timeMissing(question: AppointmentQuestion): string {
  return question.requiredMessage ?? (question.shortLabel ? `Select ${question.shortLabel}` : 'Select a time');
}

/**
 * The time chosen, posted as the start's ISO instant. Choosing the time already held keeps the
 * hold; another time is a new answer without one, held by the service once the page is valid.
 */
function appointmentOutcome(question: AppointmentQuestion, name: string, raw: RawFields, ctx: ReadContext): Outcome {
  const posted = rawText(raw, name);
  if (posted === '') return isRequired(question, ctx.evaluation) ? { error: timeMissing(question), href: `#${name}` } : { value: undefined };
  const start = new Date(posted);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(posted) || Number.isNaN(start.getTime())) return { error: timeMissing(question), href: `#${name}` };
  const stored = appointmentAnswer(ctx.stored[question.id]);
  const same = stored?.appointmentType === question.appointmentType && (question.location === undefined || stored.location === question.location);
  if (stored && same && stored.start === start.toISOString()) return { value: stored };
  // The location is settled when the time is held: a question without one books at the type's only place.
  const answer: AppointmentAnswer = { appointmentType: question.appointmentType, location: question.location ?? '', start: start.toISOString() };
  return { value: answer };
}

/** How many items a repeating group's fields hold. */
/** More items than any group allows are read, so the page can refuse them and show them to remove; past this, a post is not believed. */
const MOST_ITEMS_READ = 100;

export function itemCount(group: RepeatingGroup, name: string, raw: RawFields): number {
  const posted = Number(rawText(raw, `${name}-items`));
  return Number.isInteger(posted) && posted >= 0 && posted <= Math.max(group.max, MOST_ITEMS_READ) ? posted : Math.max(group.min, 1);
}

/** What item `index` of a repeating group is called on the page and in its messages: "Child 2". */
export function itemTitle(group: RepeatingGroup, index: number): string {
  return `${group.itemName.charAt(0).toUpperCase()}${group.itemName.slice(1)} ${index + 1}`;
}

/**
 * The question whose fields are named `name` on a page: a question on the page, one a choice
 * reveals, or one in an item of a repeating group (`group-1-question`), with that item's title.
 */
export function questionNamed(components: readonly Component[], name: string, raw: RawFields): { question: QuestionComponent; item?: string } | undefined {
  for (const component of components) {
    if (!isQuestion(component)) continue;
    if (component.id === name) return { question: component };
    if (component.type === 'radios' || component.type === 'checkboxes') {
      const follow = component.options.flatMap((option) => option.reveals ?? []).find((revealed) => revealed.id === name);
      if (follow) return { question: follow };
    }
    if (component.type === 'repeatingGroup' && name.startsWith(`${component.id}-`)) {
      const [, index, inner] = /^(\d+)-(.+)$/.exec(name.slice(component.id.length + 1)) ?? [];
      if (index === undefined || inner === undefined || Number(index) >= itemCount(component, component.id, raw)) continue;
      const found = questionNamed(component.components, inner, raw);
      if (found) return { question: found.question, item: itemTitle(component, Number(index)) };
    }
  }
  return undefined;
}

async function groupOutcome(group: RepeatingGroup, name: string, raw: RawFields, ctx: ReadContext, errors: FieldError[]): Promise<Outcome> {
  const count = itemCount(group, name, raw);
  const items: Record<string, unknown>[] = [];
  for (let index = 0; index < count; index += 1) {
    const scratch: Record<string, unknown> = {};
    const prefix = `${name}-${index}-`;
    // Item questions can refer to each other, so read the item once to know its own answers.
    await readComponents(group.components, prefix, raw, { ...ctx, evaluation: withItemScope(ctx.evaluation, {}) }, scratch, []);
    const itemErrors: FieldError[] = [];
    const values: Record<string, unknown> = {};
    await readComponents(group.components, prefix, raw, { ...ctx, evaluation: withItemScope(ctx.evaluation, scratch) }, values, itemErrors);
    for (const error of itemErrors) errors.push({ ...error, text: `${itemTitle(group, index)}: ${error.text}` });
    items.push(values);
  }
  const filled = items.filter((values) => Object.values(values).some((value) => value !== undefined));
  const called = (n: number) => (n === 1 ? group.itemName : (group.itemsName ?? `${group.itemName}s`));
  if (filled.length < group.min) return { error: `Add at least ${group.min} ${called(group.min)}`, href: `#${name}-0` };
  if (filled.length > group.max) return { error: `You can add up to ${group.max} ${called(group.max)}`, href: `#${name}-0` };
  return { value: filled.length === 0 ? undefined : filled };
}

async function readComponents(
  components: readonly Component[],
  prefix: string,
  raw: RawFields,
  ctx: ReadContext,
  answers: Record<string, unknown>,
  errors: FieldError[],
): Promise<void> {
  for (const component of components) {
    if (!isQuestion(component)) continue;
    const name = `${prefix}${component.id}`;
    if (!isShown(component, ctx.evaluation)) {
      answers[component.id] = undefined;
      continue;
    }
    const nestedErrors: FieldError[] = [];
    let outcome: Outcome;
    if (component.type === 'address') outcome = await addressOutcome(component, name, raw, ctx);
    else if (component.type === 'location') outcome = await locationOutcome(component, name, raw, ctx);
    else if (component.type === 'fileUpload') outcome = fileOutcome(component, name, ctx);
    else if (component.type === 'repeatingGroup') outcome = await groupOutcome(component, name, raw, ctx, nestedErrors);
    else if (component.type === 'appointment') outcome = appointmentOutcome(component, name, raw, ctx);
    else outcome = simpleOutcome(component, name, raw, ctx.evaluation);
    errors.push(...nestedErrors);
    if ('error' in outcome) {
      errors.push({ name, href: outcome.href, text: outcome.error, ...(outcome.fields ? { fields: outcome.fields } : {}) });
      answers[component.id] = undefined;
      continue;
    }
    answers[component.id] = outcome.value;
    if (component.type === 'radios' || component.type === 'checkboxes') {
      const chosen = Array.isArray(outcome.value) ? (outcome.value as string[]) : [outcome.value];
      const evaluation = { ...ctx.evaluation, answers: { ...ctx.evaluation.answers, ...answers } };
      for (const option of visibleOptions(component.options, evaluation)) {
        for (const follow of option.reveals ?? []) {
          if (!chosen.includes(option.value)) {
            answers[follow.id] = undefined;
            continue;
          }
          const followName = `${prefix}${follow.id}`;
          const result =
            follow.type === 'address'
              ? await addressOutcome(follow, followName, raw, ctx)
              : follow.type === 'location'
                ? await locationOutcome(follow, followName, raw, ctx)
                : follow.type === 'fileUpload'
                  ? fileOutcome(follow, followName, ctx)
                  : simpleOutcome(follow, followName, raw, evaluation);
          if ('error' in result) {
            errors.push({ name: followName, href: result.href, text: result.error, ...(result.fields ? { fields: result.fields } : {}) });
            answers[follow.id] = undefined;
          } else answers[follow.id] = result.value;
        }
      }
    }
  }
}

/**
 * Reads and checks a page's fields. Every question on the page gets an entry in `answers`
 * (undefined when hidden, unanswered or wrong), so a changed answer replaces the old one.
 */
export async function readPage(components: readonly Component[], raw: RawFields, ctx: ReadContext): Promise<ReadResult> {
  const answers: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  // Questions later on a page can depend on earlier ones: read once for the answers, then check with them.
  await readComponents(components, '', raw, ctx, answers, []);
  const evaluation = { ...ctx.evaluation, answers: { ...ctx.evaluation.answers, ...answers } };
  const final: Record<string, unknown> = {};
  await readComponents(components, '', raw, { ...ctx, evaluation }, final, errors);
  return { answers: final, errors };
}
