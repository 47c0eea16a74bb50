import type { Geography } from '#platform/geo/index';
import { formatBytes } from '#platform/files/index';
import { appointmentAnswer, type BookingTime } from '../model/bookings.js';
import { isQuestion, type AppointmentQuestion, type Component, type FileAnswer, type QuestionComponent } from '../model/components.js';
import { withItemScope, type EvaluationContext } from '../model/expressions.js';
import { isRequired, isShown, visibleOptions } from '../model/validation.js';
import { addressesFor, itemCount, itemTitle, rawText, type FieldError, type RawFields } from './fields.js';

/**
 * What a page's template needs for each component: names, values as typed, errors, and the
 * choices to offer, all worked out here so the templates only lay things out.
 */
export interface ComponentView {
  type: Component['type'];
  component: Component;
  name: string;
  label?: string;
  /** Shown after the label when the question may be left out. */
  optionalText?: string;
  error?: string;
  value?: string;
  values?: string[];
  parts?: Record<string, string>;
  partErrors?: string[];
  options?: { value: string; text: string; hint?: string; checked: boolean; reveals: ComponentView[] }[];
  address?: { mode: string; addresses: { value: string; text: string; selected: boolean }[] };
  /** A location question's map (shown only with JavaScript): whether it comes before the other ways, and the point chosen. */
  map?: { first: boolean; lat?: number; lng?: number };
  files?: { index: number; filename: string; size: string }[];
  canUploadMore?: boolean;
  items?: { index: number; title: string; components: ComponentView[] }[];
  /** The repeating group item the question is in ("Home 2"), to tell its buttons from other items'. */
  item?: string;
  canAdd?: boolean;
  canRemove?: boolean;
  heading?: boolean;
  /** An appointment question: its hint with where the appointment is, or that booking is not possible now. */
  booking?: { hint?: string; unavailable: boolean };
}

/** The free times an appointment question offers, and where; undefined when nothing is taking bookings. */
export type BookingTimes = (question: AppointmentQuestion) => Promise<{ where: string; times: BookingTime[] } | undefined>;

export interface ViewContext {
  raw: RawFields;
  errors: readonly FieldError[];
  evaluation: EvaluationContext;
  geo: Geography;
  stored: Readonly<Record<string, unknown>>;
  /** The page's single question is the page heading (GOV.UK's one-question pattern). */
  questionIsHeading: boolean;
  /**
   * Inside a choice's revealed questions, which start hidden: a map drawn while hidden measures
   * itself as empty, so there a location is given the ways that work without JavaScript.
   */
  revealed?: boolean;
  /** The title of the repeating group item being shown, if any. */
  item?: string;
  bookingTimes?: BookingTimes | undefined;
}

function errorFor(errors: readonly FieldError[], name: string): string | undefined {
  return errors.find((error) => error.name === name)?.text;
}

function optionalText(question: QuestionComponent, evaluation: EvaluationContext): string | undefined {
  return isRequired(question, evaluation) ? undefined : ' (optional)';
}

async function questionView(question: QuestionComponent, name: string, ctx: ViewContext, evaluation: EvaluationContext): Promise<ComponentView> {
  const error = errorFor(ctx.errors, name);
  const optional = optionalText(question, evaluation);
  const view: ComponentView = {
    type: question.type,
    component: question,
    name,
    label: question.label,
    ...(optional ? { optionalText: optional } : {}),
    ...(error ? { error } : {}),
    ...(ctx.item ? { item: ctx.item } : {}),
    heading: ctx.questionIsHeading,
  };
  const raw = ctx.raw;
  switch (question.type) {
    case 'date':
    case 'name': {
      const parts = question.type === 'date' ? ['day', 'month', 'year'] : ['firstName', 'lastName'];
      view.parts = Object.fromEntries(parts.map((part) => [part, rawText(raw, `${name}-${part}`)]));
      const fieldError = ctx.errors.find((e) => e.name === name);
      view.partErrors = fieldError ? (fieldError.fields ?? parts) : [];
      return view;
    }
    case 'checkboxes':
    case 'radios': {
      const chosen = new Set(question.type === 'checkboxes' ? [raw[name] ?? []].flat() : [rawText(raw, name)]);
      view.options = [];
      for (const option of visibleOptions(question.options, evaluation)) {
        const reveals: ComponentView[] = [];
        for (const follow of option.reveals ?? [])
          reveals.push(await questionView(follow, nameBeside(name, question.id, follow.id), { ...ctx, questionIsHeading: false, revealed: true }, evaluation));
        view.options.push({
          value: option.value,
          text: option.text,
          ...(option.hint ? { hint: option.hint } : {}),
          checked: chosen.has(option.value),
          reveals,
        });
      }
      if (question.type === 'checkboxes' && question.none) view.values = chosen.has(question.none.value) ? [question.none.value] : [];
      return view;
    }
    case 'select':
      view.value = rawText(raw, name);
      view.options = visibleOptions(question.options, evaluation).map((option) => ({
        value: option.value,
        text: option.text,
        checked: option.value === view.value,
        reveals: [],
      }));
      return view;
    case 'yesNo':
    case 'declaration':
      view.value = rawText(raw, name);
      return view;
    case 'address': {
      const mode = question.lookup ? rawText(raw, `${name}-mode`) || 'lookup' : 'manual';
      view.parts = Object.fromEntries(['postcode', 'uprn', 'line1', 'line2', 'town', 'county'].map((part) => [part, rawText(raw, `${name}-${part}`)]));
      const addresses = mode === 'choose' ? await addressesFor(ctx.geo, view.parts.postcode ?? '') : [];
      view.address = {
        mode,
        addresses: addresses.map((address) => ({ value: address.uprn, text: address.singleLine, selected: address.uprn === view.parts?.uprn })),
      };
      return view;
    }
    case 'location': {
      view.value = rawText(raw, `${name}-method`);
      view.parts = Object.fromEntries(['postcode', 'street', 'description'].map((part) => [part, rawText(raw, `${name}-${part}`)]));
      view.values = question.methods.filter((method) => method !== 'map');
      if (!question.methods.includes('map') || ctx.revealed) return view;
      // Only the map gives a point (the other ways find their own), and a point refused is chosen afresh.
      const keep = (view.value === 'map' || view.value === '') && !error;
      view.parts.lat = keep ? rawText(raw, `${name}-lat`) : '';
      view.parts.lng = keep ? rawText(raw, `${name}-lng`) : '';
      const lat = Number.parseFloat(view.parts.lat);
      const lng = Number.parseFloat(view.parts.lng);
      view.map = { first: question.methods[0] === 'map', ...(Number.isFinite(lat) && Number.isFinite(lng) ? { lat, lng } : {}) };
      return view;
    }
    case 'fileUpload': {
      const files = (Array.isArray(ctx.stored[question.id]) ? ctx.stored[question.id] : []) as FileAnswer[];
      view.files = files.map((file, index) => ({ index, filename: file.filename, size: formatBytes(file.bytes) }));
      view.canUploadMore = files.length < question.maxFiles;
      return view;
    }
    case 'appointment': {
      view.value = rawText(raw, name);
      const offered = ctx.bookingTimes ? await ctx.bookingTimes(question) : undefined;
      if (offered === undefined) {
        view.booking = { unavailable: true };
        view.options = [];
        return view;
      }
      const options = offered.times.map((time) => ({ value: time.start.toISOString(), text: time.text, ...(time.hint ? { hint: time.hint } : {}) }));
      // The time already held is no longer free to others, and so may be missing from the free times.
      const held = appointmentAnswer(ctx.stored[question.id]);
      if (held?.when && held.appointmentType === question.appointmentType && !options.some((option) => option.value === held.start)) {
        options.push({ value: held.start, text: held.when });
        options.sort((a, b) => a.value.localeCompare(b.value));
      }
      view.options = options.map((option) => ({ ...option, checked: option.value === view.value, reveals: [] }));
      const where = offered.where.charAt(0).toUpperCase() + offered.where.slice(1);
      view.booking = { hint: [question.hint, `Where: ${where}`].filter(Boolean).join(' '), unavailable: false };
      return view;
    }
    case 'repeatingGroup': {
      const count = itemCount(question, name, raw);
      view.items = [];
      for (let index = 0; index < count; index += 1) {
        const scope = withItemScope(evaluation, {});
        const title = itemTitle(question, index);
        view.items.push({
          index,
          title,
          components: await componentViews(question.components, `${name}-${index}-`, { ...ctx, questionIsHeading: false, item: title }, scope),
        });
      }
      view.canAdd = count < question.max;
      view.canRemove = count > Math.max(question.min, 1);
      view.value = String(count);
      return view;
    }
    default:
      view.value = rawText(raw, name);
      return view;
  }
}

/** Follow-up questions sit beside their question: inside a group item they share its prefix. */
function nameBeside(name: string, questionId: string, followId: string): string {
  return name.slice(0, name.length - questionId.length) + followId;
}

async function componentViews(components: readonly Component[], prefix: string, ctx: ViewContext, evaluation: EvaluationContext): Promise<ComponentView[]> {
  const views: ComponentView[] = [];
  for (const component of components) {
    if (!isShown(component, evaluation)) continue;
    if (!isQuestion(component)) {
      views.push({ type: component.type, component, name: component.id ?? '' });
      continue;
    }
    views.push(await questionView(component, `${prefix}${component.id}`, ctx, evaluation));
  }
  return views;
}

/** Whether a page shows a map anywhere, so it needs the map's script and styles. */
export function showsMap(views: readonly ComponentView[]): boolean {
  return views.some(
    (view) =>
      view.map !== undefined ||
      showsMap(view.options?.flatMap((option) => option.reveals) ?? []) ||
      showsMap(view.items?.flatMap((item) => item.components) ?? []),
  );
}

export function pageViews(components: readonly Component[], ctx: ViewContext): Promise<ComponentView[]> {
  return componentViews(components, '', ctx, ctx.evaluation);
}
