import { appointmentAnswer } from '../model/bookings.js';
import { isQuestion, type Component, type QuestionComponent } from '../model/components.js';
import { formatDate } from '../model/dates.js';
import type { FormDefinition } from '../model/definition.js';
import type { EvaluationContext } from '../model/expressions.js';
import { pathTaken, type RoutingContext } from '../model/routing.js';
import { isShown } from '../model/validation.js';

export interface SummaryRow {
  question: string;
  /** The answer as lines of text. */
  answer: string[];
  /** Where to change it: the page's slug and the field's id. */
  pageSlug?: string;
  fieldId?: string;
}

export interface SummarySection {
  title?: string;
  rows: SummaryRow[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionText(question: QuestionComponent, value: unknown): string {
  if (question.type !== 'radios' && question.type !== 'checkboxes' && question.type !== 'select') return String(value);
  if (question.type === 'checkboxes' && question.none !== undefined && question.none.value === value) return question.none.text;
  return question.options.find((option) => option.value === value)?.text ?? String(value);
}

/** An answer as the resident would read it back. */
export function answerLines(question: QuestionComponent, answer: unknown): string[] {
  if (answer === undefined || answer === null || answer === '') return ['Not given'];
  switch (question.type) {
    case 'number':
      return [`${question.prefix ?? ''}${String(answer)}${question.suffix ? ` ${question.suffix}` : ''}`];
    case 'date':
      return [typeof answer === 'string' ? formatDate(answer) : String(answer)];
    case 'yesNo':
      return [answer === true ? 'Yes' : 'No'];
    case 'declaration':
      return [answer === true ? 'Confirmed' : 'Not confirmed'];
    case 'radios':
    case 'select':
      return [optionText(question, answer)];
    case 'checkboxes':
      return Array.isArray(answer) ? answer.map((value) => optionText(question, value)) : [String(answer)];
    case 'name':
      return isRecord(answer) ? [`${String(answer.firstName ?? '')} ${String(answer.lastName ?? '')}`.trim()] : [String(answer)];
    case 'address':
      return isRecord(answer)
        ? [answer.line1, answer.line2, answer.town, answer.county, answer.postcode].filter((line) => typeof line === 'string' && line !== '').map(String)
        : [];
    case 'location': {
      if (!isRecord(answer)) return [String(answer)];
      const lines: string[] = [];
      if (typeof answer.label === 'string') lines.push(answer.label);
      if (typeof answer.description === 'string') lines.push(answer.description);
      if (answer.givenBy === 'map' && typeof answer.lat === 'number' && typeof answer.lng === 'number')
        lines.push(`Map point ${answer.lat.toFixed(5)}, ${answer.lng.toFixed(5)}`);
      return lines;
    }
    case 'fileUpload':
      return Array.isArray(answer) ? answer.map((file) => (isRecord(file) ? String(file.filename) : String(file))) : [];
    case 'repeatingGroup':
      return Array.isArray(answer) ? [`${answer.length} added`] : [];
    case 'appointment': {
      const booking = appointmentAnswer(answer);
      if (!booking) return [String(answer)];
      const when = [booking.when ?? booking.start, booking.where].filter(Boolean).join(', ');
      return booking.reference ? [when, `Booking reference ${booking.reference}`] : [when];
    }
    default:
      return String(answer).split('\n');
  }
}

function rowsFor(components: readonly Component[], answers: Readonly<Record<string, unknown>>, evaluation: EvaluationContext, pageSlug: string): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const component of components) {
    if (!isQuestion(component) || !isShown(component, { ...evaluation, answers })) continue;
    const answer = answers[component.id];
    if (component.type === 'repeatingGroup') {
      const items = Array.isArray(answer) ? answer : [];
      const itemName = component.itemName.charAt(0).toUpperCase() + component.itemName.slice(1);
      items.forEach((item, index) => {
        const values = isRecord(item) ? item : {};
        const lines = rowsFor(component.components, { ...answers, ...values }, evaluation, pageSlug).map((row) => `${row.question}: ${row.answer.join(', ')}`);
        rows.push({ question: `${itemName} ${index + 1}`, answer: lines, pageSlug, fieldId: `${component.id}-${index}` });
      });
      continue;
    }
    rows.push({ question: component.label, answer: answerLines(component, answer), pageSlug, fieldId: component.id });
    if (component.type === 'radios' || component.type === 'checkboxes') {
      const chosen = Array.isArray(answer) ? answer : [answer];
      for (const option of component.options) {
        if (!chosen.includes(option.value)) continue;
        for (const follow of option.reveals ?? []) {
          if (answers[follow.id] === undefined) continue;
          rows.push({ question: follow.label, answer: answerLines(follow, answers[follow.id]), pageSlug, fieldId: follow.id });
        }
      }
    }
  }
  return rows;
}

/**
 * The answers on the route taken, grouped by section in page order: what the check answers page,
 * the confirmation email, the PDF copy and staff all read.
 */
export function summarise(definition: FormDefinition, answers: Readonly<Record<string, unknown>>, context: RoutingContext): SummarySection[] {
  const sections: SummarySection[] = [];
  const evaluation: EvaluationContext = { ...context, answers };
  for (const id of pathTaken(definition, answers, context)) {
    const page = definition.pages.find((candidate) => candidate.id === id);
    if (page === undefined) continue;
    const rows = rowsFor(page.components, answers, evaluation, page.slug);
    if (rows.length === 0) continue;
    const title = definition.sections.find((section) => section.id === page.section)?.title;
    const last = sections.at(-1);
    if (last !== undefined && last.title === title) last.rows.push(...rows);
    else sections.push({ ...(title ? { title } : {}), rows });
  }
  return sections;
}

/** The summary as plain text, for emails. */
export function summaryText(sections: readonly SummarySection[]): string {
  return sections
    .map((section) => {
      const rows = section.rows.map((row) => `${row.question}\n${row.answer.map((line) => `  ${line}`).join('\n')}`).join('\n\n');
      return section.title ? `${section.title.toUpperCase()}\n\n${rows}` : rows;
    })
    .join('\n\n');
}
