import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCalendarDate, startOfLocalDay, ukDay, UK_TIME_ZONE } from '#platform/council/dates';
import { HttpError } from '#platform/http/errors';
import { errorSummary, formatDateTime } from '#platform/views/index';
import type { Account, Permission, StaffMember } from '#modules/account/index';
import { isQuestion, type Component, type QuestionComponent } from './model/components.js';
import type { FormDefinition, Page, RouteTarget } from './model/definition.js';
import type { Expression, Operand } from './model/expressions.js';
import type { DateOffset } from './model/dates.js';
import type { Finding } from './model/linter.js';
import type { SummarySection } from './runner/summary.js';
import type { Channel, FormsService, Submission, SubmissionFilters } from './service.js';

const PAGE_SIZE = 50;
/** Definitions are small; anything near this size is a mistake, not a form. */
const MAX_DEFINITION_BYTES = 1024 * 1024;
const MAX_NOTE_LENGTH = 500;
const UUID = /^[0-9a-f-]{36}$/i;

const STATUS_LABELS = { delivered: 'Delivered', pending: 'Waiting', failed: 'Failed' } as const;
type ListStatus = keyof typeof STATUS_LABELS;
const STATUS_COLOURS: Record<string, string> = { delivered: 'green', pending: 'yellow', sending: 'yellow', failed: 'red' };
const CHANNEL_LABELS: Record<string, string> = { online: 'online', phone: 'by phone', 'face-to-face': 'face to face' };
const SUBMITTER_LABELS: Record<string, string> = { resident: 'Resident', anonymous: 'Not signed in', staff: 'Staff' };
const ASSISTED_CHANNELS: Record<Exclude<Channel, 'online'>, string> = { phone: 'Phone', 'face-to-face': 'Face to face' };
const DELIVERY_TYPES: Record<string, string> = { webhook: 'Webhook', email: 'Email', case: 'Case' };

type Query = Record<string, string>;
type Body = Record<string, unknown>;

function queryOf(request: FastifyRequest): Query {
  const raw = (request.query ?? {}) as Record<string, unknown>;
  const out: Query = {};
  for (const [key, value] of Object.entries(raw)) {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const text = (body: Body, name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');

/** A real calendar date written YYYY-MM-DD (what a date input sends), or null when it is not one. */
function parseDay(value: string): string | null {
  return parseCalendarDate(value) === undefined ? null : value;
}

/** The calendar date after a real YYYY-MM-DD date. */
function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/* ------------------------------------------------------------ submission filters */

interface FilterValues {
  form: string;
  reference: string;
  from: string;
  to: string;
  status: string;
}

interface ReadFilters {
  values: FilterValues;
  filters: SubmissionFilters;
  errors: Record<string, string>;
  page: number;
}

/** References are shown as ABCD-EFGH; people type them with spaces, in lower case or without the hyphen. */
function normaliseReference(input: string): string {
  const compact = input.replace(/\s+/g, '').toUpperCase();
  return /^[A-Z0-9]{8}$/.test(compact) ? `${compact.slice(0, 4)}-${compact.slice(4)}` : compact;
}

function readFilters(q: Query, slugs: ReadonlySet<string>): ReadFilters {
  const values: FilterValues = {
    form: (q.form ?? '').trim(),
    reference: (q.reference ?? '').trim(),
    from: (q.from ?? '').trim(),
    to: (q.to ?? '').trim(),
    status: (q.status ?? '').trim(),
  };
  const errors: Record<string, string> = {};
  if (values.form && !slugs.has(values.form)) errors.form = 'Select a form from the list';
  const reference = normaliseReference(values.reference);
  if (reference && !/^[A-Z0-9-]{1,20}$/.test(reference)) errors.reference = 'Enter a reference using letters, numbers and a hyphen, like ABCD-2345';
  const from = values.from ? parseDay(values.from) : undefined;
  const to = values.to ? parseDay(values.to) : undefined;
  if (from === null) errors.from = 'Enter the start date as a real date, like 2026-11-23';
  if (to === null) errors.to = 'Enter the end date as a real date, like 2026-11-30';
  if (from && to && from > to) errors.to = 'The end date must be the same as or after the start date';
  if (values.status && !Object.hasOwn(STATUS_LABELS, values.status)) errors.status = 'Select a delivery status from the list';
  const pageNumber = /^\d{1,6}$/.test(q.page ?? '') ? Number(q.page) : 1;
  const page = Math.max(1, pageNumber);
  return {
    values,
    errors,
    page,
    filters: {
      slug: values.form || undefined,
      reference: reference || undefined,
      // Staff mean UK days: a form sent at 00:30 summer time on 1 June was sent on 1 June, not 31 May.
      submittedFrom: from ? startOfLocalDay(from, UK_TIME_ZONE) : undefined,
      // The end date includes the whole of that day, 23 or 25 hours long when the clocks change.
      submittedBefore: to ? startOfLocalDay(nextDay(to), UK_TIME_ZONE) : undefined,
      deliveryStatus: values.status ? (values.status as ListStatus) : undefined,
    },
  };
}

function filterParams(values: FilterValues): URLSearchParams {
  return new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== ''));
}

function submittedByText(submittedBy: string, channel: string): string {
  return `${SUBMITTER_LABELS[submittedBy] ?? submittedBy}, ${CHANNEL_LABELS[channel] ?? channel}`;
}

/* ------------------------------------------------------------ CSV */

/** Spreadsheets run cells that start like a formula; a leading apostrophe makes them plain text. */
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function answerCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function flattenSummary(summary: readonly SummarySection[]): string {
  return summary.flatMap((section) => section.rows.map((row) => `${row.question}: ${row.answer.join(', ')}`)).join('; ');
}

function submissionsCsv(submissions: readonly Submission[], titles: ReadonlyMap<string, string>): string {
  // One column per answer id met in any row, in the order first met.
  const answerIds: string[] = [];
  const seen = new Set<string>();
  for (const submission of submissions) {
    for (const id of Object.keys(submission.answers)) {
      if (seen.has(id)) continue;
      seen.add(id);
      answerIds.push(id);
    }
  }
  const header = ['reference', 'form', 'version', 'submitted_at', 'submitted_by', 'channel', 'answers', ...answerIds];
  const lines = [header];
  for (const s of submissions) {
    lines.push([
      s.reference,
      titles.get(s.slug) ?? s.slug,
      String(s.version),
      s.submittedAt.toISOString(),
      s.submittedBy,
      s.channel,
      flattenSummary(s.summary),
      ...answerIds.map((id) => answerCell(s.answers[id])),
    ]);
  }
  // RFC 4180 line breaks; the byte order mark lets spreadsheet programs read the file as UTF-8.
  return `\uFEFF${lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/* ------------------------------------------------------------ JSON problems */

class JsonSyntaxAt extends Error {
  constructor(readonly offset: number) {
    super('JSON syntax error');
  }
}

/**
 * Where a JSON text first goes wrong. The runtime's own message does not always say where, and
 * an author with a long definition needs the line and column.
 */
function jsonErrorOffset(source: string): number {
  let i = 0;
  function fail(): never {
    throw new JsonSyntaxAt(i);
  }
  const space = () => {
    while (i < source.length && ' \t\n\r'.includes(source.charAt(i))) i += 1;
  };
  const expect = (char: string) => {
    if (source.charAt(i) !== char) fail();
    i += 1;
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= source.length) fail();
      const c = source.charAt(i);
      if (c === '"') return void (i += 1);
      if (c < ' ') fail();
      if (c === '\\') {
        i += 1;
        const escape = source.charAt(i);
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(source.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if ('"\\/bfnrt'.includes(escape) && escape !== '') i += 1;
        else fail();
      } else i += 1;
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i));
    if (!match) fail();
    i += match[0].length;
  };
  const value = (): void => {
    space();
    const c = source.charAt(i);
    if (c === '{') {
      i += 1;
      space();
      if (source.charAt(i) === '}') return void (i += 1);
      for (;;) {
        space();
        string();
        space();
        expect(':');
        value();
        space();
        if (source.charAt(i) === ',') i += 1;
        else return expect('}');
      }
    }
    if (c === '[') {
      i += 1;
      space();
      if (source.charAt(i) === ']') return void (i += 1);
      for (;;) {
        value();
        space();
        if (source.charAt(i) === ',') i += 1;
        else return expect(']');
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (source.startsWith(word, i)) return void (i += word.length);
    }
    fail();
  };
  try {
    value();
    space();
    if (i < source.length) fail();
  } catch (error) {
    if (error instanceof JsonSyntaxAt) return error.offset;
    throw error;
  }
  return source.length;
}

function lineAndColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string };

function parseJson(source: string): ParsedJson {
  try {
    return { ok: true, value: JSON.parse(source) as unknown };
  } catch (error) {
    const { line, column } = lineAndColumn(source, jsonErrorOffset(source));
    // The runtime's wording, without its quote of the whole text, which can be very long.
    const reason = (error instanceof Error ? error.message : 'Not valid JSON')
      .replace(/,\s*".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    return { ok: false, message: `The definition is not valid JSON: ${reason} at line ${line}, column ${column}` };
  }
}

/* ------------------------------------------------------------ reading a definition aloud */

const QUESTION_TYPES: Record<QuestionComponent['type'], string> = {
  text: 'Short text',
  textarea: 'Long text',
  number: 'Number',
  email: 'Email address',
  ukPhone: 'UK phone number',
  postcode: 'Postcode',
  date: 'Date',
  time: 'Time',
  select: 'Select from a list',
  yesNo: 'Yes or no',
  name: 'Name',
  address: 'Address',
  location: 'Location',
  fileUpload: 'File upload',
  declaration: 'Declaration',
  radios: 'Radios (one choice)',
  checkboxes: 'Checkboxes (any number of choices)',
  repeatingGroup: 'Repeating group',
  appointment: 'Appointment booking',
};

/** Plain words for expressions, naming questions by their labels. */
function describer(definition: FormDefinition) {
  const labels = new Map<string, string>();
  // Option values name choices in expressions; the option text is what an author recognises.
  const options = new Map<string, Map<string, string>>();
  const collect = (components: readonly Component[]) => {
    for (const component of components) {
      if (!isQuestion(component)) continue;
      labels.set(component.id, component.label);
      if (component.type === 'radios' || component.type === 'checkboxes' || component.type === 'select')
        options.set(component.id, new Map(component.options.map((option) => [option.value, option.text])));
      if (component.type === 'radios' || component.type === 'checkboxes') for (const option of component.options) collect(option.reveals ?? []);
      if (component.type === 'repeatingGroup') collect(component.components);
    }
  };
  for (const page of definition.pages) collect(page.components);
  const computed = new Set(definition.computed.map((value) => value.id));

  const answer = (path: string): string => {
    const [head = path, ...rest] = path.split('.');
    const label = labels.get(head);
    const field = rest.length ? ` (${rest.join('.')})` : '';
    if (label) return `the answer to “${label}”${field}`;
    if (computed.has(head)) return `the worked-out value ${head}${field}`;
    return `“${path}”`;
  };

  const today = (offset: DateOffset): string => {
    const parts = (['years', 'months', 'weeks', 'days'] as const)
      .filter((unit) => offset[unit] !== undefined && offset[unit] !== 0)
      .map((unit) => {
        const n = offset[unit] ?? 0;
        return `${n < 0 ? 'minus' : 'plus'} ${Math.abs(n)} ${Math.abs(n) === 1 ? unit.slice(0, -1) : unit}`;
      });
    return parts.length ? `today ${parts.join(' ')}` : 'today';
  };

  const operand = (value: Operand): string => {
    if (typeof value === 'string') return `“${value}”`;
    if (typeof value === 'number') return String(value);
    if (typeof value === 'boolean') return value ? 'yes' : 'no';
    if ('answer' in value) return answer(value.answer);
    if ('profile' in value) return `the resident’s ${value.profile}`;
    if ('today' in value) return today(value.today);
    return `the number of ${answer(value.countOf)}${value.where ? ` where ${expression(value.where)}` : ''}`;
  };

  /** A value compared with a choice question's answer, as the option's text when it is one. */
  const choice = (subject: Operand, value: Operand): string => {
    if (typeof subject === 'object' && 'answer' in subject && typeof value === 'string') {
      const text = options.get(subject.answer)?.get(value);
      if (text !== undefined) return `“${text}”`;
    }
    return operand(value);
  };

  const nested = (e: Expression): string => ('all' in e || 'any' in e ? `(${expression(e)})` : expression(e));

  const expression = (e: Expression): string => {
    if ('all' in e) return e.all.map(nested).join(' and ');
    if ('any' in e) return e.any.map(nested).join(' or ');
    if ('not' in e) return `it is not the case that ${nested(e.not)}`;
    if ('equals' in e) return `${operand(e.equals[0])} is ${choice(e.equals[0], e.equals[1])}`;
    if ('notEquals' in e) return `${operand(e.notEquals[0])} is not ${choice(e.notEquals[0], e.notEquals[1])}`;
    if ('oneOf' in e) return `${operand(e.oneOf[0])} is one of ${e.oneOf[1].map((value) => choice(e.oneOf[0], value)).join(', ')}`;
    if ('contains' in e) return `${operand(e.contains[0])} includes ${choice(e.contains[0], e.contains[1])}`;
    if ('greater' in e) return `${operand(e.greater[0])} is more than ${operand(e.greater[1])}`;
    if ('less' in e) return `${operand(e.less[0])} is less than ${operand(e.less[1])}`;
    if ('isEmpty' in e) return `${operand(e.isEmpty)} is not given`;
    if ('dateBefore' in e) return `${operand(e.dateBefore[0])} is before ${operand(e.dateBefore[1])}`;
    return `${operand(e.dateAfter[0])} is after ${operand(e.dateAfter[1])}`;
  };

  return expression;
}

interface PreviewQuestion {
  id: string;
  label: string;
  type: string;
  hint: string | undefined;
  required: string;
  notes: string[];
  depth: number;
}

function previewQuestions(components: readonly Component[], describe: (e: Expression) => string, depth = 0, revealedBy?: string): PreviewQuestion[] {
  const out: PreviewQuestion[] = [];
  for (const component of components) {
    if (!isQuestion(component)) continue;
    const notes: string[] = [];
    if (revealedBy) notes.push(`Shown when “${revealedBy}” is chosen`);
    if (component.showIf) notes.push(`Shown only if ${describe(component.showIf)}`);
    if (component.type === 'radios' || component.type === 'checkboxes' || component.type === 'select') {
      notes.push(`Options: ${component.options.map((option) => option.text).join('; ')}`);
    }
    if (component.type === 'checkboxes' && component.none) notes.push(`Or: ${component.none.text}`);
    if (component.type === 'repeatingGroup') notes.push(`Between ${component.min} and ${component.max} of “${component.itemName}”`);
    if (component.type === 'appointment')
      notes.push(
        `Books “${component.appointmentType}”${component.location ? ` at “${component.location}”` : ''}, offering the next ${component.timesShown} free times`,
      );
    const required = component.requiredIf ? `Required if ${describe(component.requiredIf)}` : component.optional ? 'Optional' : 'Required';
    out.push({ id: component.id, label: component.label, type: QUESTION_TYPES[component.type], hint: component.hint, required, notes, depth });
    if (component.type === 'radios' || component.type === 'checkboxes') {
      for (const option of component.options) out.push(...previewQuestions(option.reveals ?? [], describe, depth + 1, option.text));
    }
    if (component.type === 'repeatingGroup') out.push(...previewQuestions(component.components, describe, depth + 1));
  }
  return out;
}

function previewRoutes(definition: FormDefinition, index: number, describe: (e: Expression) => string): string[] {
  const page = definition.pages[index];
  if (!page) return [];
  const target = (goTo: RouteTarget): string => {
    if (typeof goTo !== 'string') return `${goTo.exit} (leaves the form)`;
    if (goTo === 'check-answers') return 'check answers';
    const found = definition.pages.find((candidate) => candidate.id === goTo);
    return found ? `“${found.title}”` : `“${goTo}” (no such page)`;
  };
  if (page.routes === undefined) {
    const following = definition.pages[index + 1];
    return [`Go to ${following ? target(following.id) : 'check answers'}`];
  }
  return page.routes.map((route, i) => {
    if (route.when) return `If ${describe(route.when)}, go to ${target(route.goTo)}`;
    return `${i === 0 ? 'Go' : 'Otherwise, go'} to ${target(route.goTo)}`;
  });
}

function previewOf(definition: FormDefinition) {
  const describe = describer(definition);
  const sections = new Map(definition.sections.map((section) => [section.id, section.title]));
  return {
    title: definition.title,
    slug: definition.slug,
    id: definition.id,
    deliveries: definition.deliveries.map((delivery) => ({ name: delivery.name, type: DELIVERY_TYPES[delivery.type] ?? delivery.type })),
    pages: definition.pages.map((page: Page, index) => ({
      number: index + 1,
      id: page.id,
      slug: page.slug,
      title: page.title,
      section: page.section ? (sections.get(page.section) ?? page.section) : undefined,
      questions: previewQuestions(page.components, describe),
      routes: previewRoutes(definition, index, describe),
    })),
  };
}

/* ------------------------------------------------------------ funnel */

function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  return `${Math.round((part / whole) * 1000) / 10}%`;
}

function duration(seconds: number | null): string {
  if (seconds === null) return 'No completed forms yet';
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return minutes === 0 ? unit(rest, 'second') : `${unit(minutes, 'minute')} ${unit(rest, 'second')}`;
}

/* ------------------------------------------------------------ routes */

/** A file field's value after the multipart hook below has read it. */
type UploadedText = { text: string; filename: string } | { tooLarge: true };

function isUploadedText(value: unknown): value is UploadedText {
  return typeof value === 'object' && value !== null && ('text' in value || 'tooLarge' in value);
}

/** Staff pages for forms: submissions, deliveries, funnels, publishing and filling in forms for residents. */
export function registerFormStaffRoutes(app: FastifyInstance, forms: FormsService, account: Account): void {
  account.staff.addNavigation({ href: '/staff/forms', text: 'Forms', permission: 'forms:read' });
  void app.register(async (scope) => {
    // Only this scope reads multipart bodies: the publish page's file upload.
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_DEFINITION_BYTES, fieldSize: MAX_DEFINITION_BYTES, files: 1, fields: 10 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        const value: UploadedText | '' = part.file.truncated
          ? { tooLarge: true }
          : bytes.length === 0
            ? ''
            : { text: bytes.toString('utf8'), filename: part.filename };
        (part as unknown as { value: UploadedText | '' }).value = value;
      },
    });
    staffRoutes(scope, forms, account);
  });
}

function staffRoutes(app: FastifyInstance, forms: FormsService, account: Account): void {
  const guard = (permission: Permission) => ({ preHandler: account.requireStaff(permission) });

  async function memberOf(request: FastifyRequest): Promise<StaffMember> {
    const member = await account.staff.current(request);
    if (!member) throw new HttpError(403, 'Sign in to continue.');
    return member;
  }

  async function formTitles(): Promise<Map<string, string>> {
    return new Map((await forms.listForms()).map((form) => [form.slug, form.title]));
  }

  // ---------------------------------------------------------------- overview
  app.get('/staff/forms', guard('forms:read'), async (request, reply) => {
    const member = await memberOf(request);
    const [list, failed] = await Promise.all([forms.listForms(), forms.failedDeliveries(member)]);
    const titles = new Map(list.map((form) => [form.slug, form.title]));
    return reply.view('forms/staff/overview.njk', {
      forms: list,
      failed: failed.map((row) => ({ ...row, formTitle: titles.get(row.slug) ?? row.slug, typeLabel: DELIVERY_TYPES[row.type] ?? row.type })),
      canRetry: account.staff.can(member, 'forms:retry'),
      canAssist: account.staff.can(member, 'forms:assist'),
      canPublish: account.staff.can(member, 'forms:publish'),
      retried: queryOf(request).retried === '1',
    });
  });

  // ---------------------------------------------------------------- submissions
  app.get('/staff/forms/submissions', guard('forms:read'), async (request, reply) => {
    const member = await memberOf(request);
    const list = await forms.listForms();
    const titles = new Map(list.map((form) => [form.slug, form.title]));
    const { values, filters, errors, page } = readFilters(queryOf(request), new Set(titles.keys()));
    const failed = Object.keys(errors).length > 0;
    const result = failed ? { rows: [], total: 0 } : await forms.listSubmissions(member, { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
    const params = filterParams(values);
    const pageHref = (n: number) => {
      const p = new URLSearchParams(params);
      if (n > 1) p.set('page', String(n));
      const qs = p.toString();
      return `/staff/forms/submissions${qs ? `?${qs}` : ''}`;
    };
    const exportQuery = params.toString();
    return reply.code(failed ? 400 : 200).view('forms/staff/submissions.njk', {
      values,
      formItems: [{ value: '', text: 'All forms' }, ...list.map((form) => ({ value: form.slug, text: form.title }))].map((item) => ({
        ...item,
        selected: item.value === values.form,
      })),
      statusItems: [{ value: '', text: 'Any status' }, ...Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, text: label }))].map((item) => ({
        ...item,
        selected: item.value === values.status,
      })),
      rows: result.rows.map((row) => ({
        id: row.id,
        reference: row.reference,
        formTitle: titles.get(row.slug) ?? row.slug,
        version: row.version,
        submittedAt: row.submitted_at,
        submittedBy: submittedByText(row.submitted_by, row.channel),
        status: row.delivery_status,
        statusLabel: row.delivery_status ? (STATUS_LABELS[row.delivery_status as ListStatus] ?? row.delivery_status) : 'No deliveries',
        statusColour: row.delivery_status ? (STATUS_COLOURS[row.delivery_status] ?? 'grey') : 'grey',
      })),
      total: result.total,
      firstShown: result.total ? (page - 1) * PAGE_SIZE + 1 : 0,
      lastShown: Math.min(result.total, page * PAGE_SIZE),
      pagination:
        pages > 1
          ? { previous: page > 1 ? { href: pageHref(page - 1) } : undefined, next: page < pages ? { href: pageHref(page + 1) } : undefined }
          : undefined,
      exportHref: `/staff/forms/submissions.csv${exportQuery ? `?${exportQuery}` : ''}`,
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  });

  app.get('/staff/forms/submissions.csv', guard('forms:read'), async (request, reply) => {
    const member = await memberOf(request);
    const titles = await formTitles();
    const { values, filters, errors } = readFilters(queryOf(request), new Set(titles.keys()));
    if (Object.keys(errors).length > 0) {
      // Back to the list, where the same filters show what to correct.
      return reply.redirect(`/staff/forms/submissions?${filterParams(values).toString()}`, 303);
    }
    const submissions = await forms.exportSubmissions(member, filters);
    const filename = `submissions-${filters.slug ?? 'all'}-${ukDay()}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'private, no-store')
      .send(submissionsCsv(submissions, titles));
  });

  type StaffSubmission = NonNullable<Awaited<ReturnType<FormsService['submissionForStaff']>>>;

  const renderSubmission = async (
    reply: FastifyReply,
    member: StaffMember,
    found: StaffSubmission,
    view: { retried?: boolean; errors?: Record<string, string> },
  ) => {
    const { submission, deliveries } = found;
    const staffName = submission.staffId ? (await account.staff.findMember(submission.staffId))?.name : undefined;
    const errors = view.errors ?? {};
    return reply.code(Object.keys(errors).length > 0 ? 409 : 200).view('forms/staff/submission.njk', {
      submission,
      submittedBy: submittedByText(submission.submittedBy, submission.channel),
      staffName,
      deliveries: deliveries.map((delivery) => ({
        ...delivery,
        typeLabel: DELIVERY_TYPES[delivery.type] ?? delivery.type,
        statusLabel: delivery.status === 'sending' ? 'Sending' : (STATUS_LABELS[delivery.status as ListStatus] ?? delivery.status),
        statusColour: STATUS_COLOURS[delivery.status] ?? 'grey',
      })),
      canRetry: account.staff.can(member, 'forms:retry'),
      retried: view.retried ?? false,
      errors: errorSummary(errors),
    });
  };

  app.get<{ Params: { id: string } }>('/staff/forms/submissions/:id', guard('forms:read'), async (request, reply) => {
    const member = await memberOf(request);
    const found = await forms.submissionForStaff(member, request.params.id, { requestId: request.id });
    if (!found) throw new HttpError(404, 'Page not found');
    return renderSubmission(reply, member, found, { retried: queryOf(request).retried === '1' });
  });

  app.post<{ Params: { id: string } }>('/staff/forms/deliveries/:id/retry', guard('forms:retry'), async (request, reply) => {
    const member = await memberOf(request);
    const body = bodyOf(request);
    const submissionId = text(body, 'submission');
    if (await forms.retryDelivery(member, request.params.id)) {
      const back = text(body, 'returnTo') !== 'overview' && UUID.test(submissionId) ? `/staff/forms/submissions/${submissionId}` : '/staff/forms';
      return reply.redirect(`${back}?retried=1`, 303);
    }
    // Only a failed delivery goes back in the queue. One that someone retried, or that was sent, since
    // the page was loaded is left as it is, and its submission's page says which.
    const found = await forms.submissionForStaff(member, submissionId, { requestId: request.id });
    const delivery = found?.deliveries.find((row) => row.id === request.params.id);
    if (!found || !delivery) throw new HttpError(404, 'Page not found');
    const why = delivery.status === 'delivered' ? `it was sent on ${formatDateTime(delivery.delivered_at)}` : 'it is already being retried';
    return renderSubmission(reply, member, found, {
      errors: { [`delivery-${delivery.id}`]: `The delivery “${delivery.name}” is not waiting for a retry: ${why}` },
    });
  });

  // ---------------------------------------------------------------- funnel
  app.get<{ Params: { slug: string } }>('/staff/forms/:slug/funnel', guard('forms:read'), async (request, reply) => {
    const member = await memberOf(request);
    const { slug } = request.params;
    const [live, versions, funnel] = await Promise.all([forms.live(slug), forms.versions(slug), forms.funnel(member, slug)]);
    if (!live) throw new HttpError(404, 'Page not found');
    const byVersion = new Map(funnel.map((row) => [row.version, row]));
    const rows = [];
    for (const { version, published_at } of versions) {
      const figures = byVersion.get(version) ?? { version, started: 0, completed: 0, medianSeconds: null, pages: {} };
      const definition = await forms.definition(slug, version);
      rows.push({
        version,
        live: version === live.version,
        publishedAt: published_at,
        started: figures.started,
        completed: figures.completed,
        rate: percent(figures.completed, figures.started),
        median: duration(figures.medianSeconds),
        pages: (definition?.pages ?? []).map((page) => {
          const reached = figures.pages[page.id] ?? 0;
          return { title: page.title, slug: page.slug, reached, share: percent(reached, figures.started) };
        }),
      });
    }
    return reply.view('forms/staff/funnel.njk', { form: { slug, title: live.definition.title }, versions: rows });
  });

  // ---------------------------------------------------------------- publish
  interface PublishView {
    values?: { definition: string; note: string };
    errors?: Record<string, string>;
    findings?: Finding[];
    extraErrors?: { text: string; href: string }[];
    published?: { slug: string; version: number; changed: boolean };
  }

  const renderPublish = (reply: FastifyReply, view: PublishView, status = 200) => {
    const findings = view.findings ?? [];
    return reply.code(status).view('forms/staff/publish.njk', {
      values: view.values ?? { definition: '', note: '' },
      fieldErrors: view.errors ?? {},
      errors: [...errorSummary(view.errors ?? {}), ...(view.extraErrors ?? [])],
      findings: findings.map((finding) => ({ ...finding, path: finding.path || '(whole definition)' })),
      errorCount: findings.filter((finding) => finding.severity === 'error').length,
      warningCount: findings.filter((finding) => finding.severity === 'warning').length,
      published: view.published,
      maxBytes: MAX_DEFINITION_BYTES,
    });
  };

  app.get('/staff/forms/publish', guard('forms:publish'), async (_request, reply) => renderPublish(reply, {}));

  app.post('/staff/forms/publish', guard('forms:publish'), async (request, reply) => {
    const member = await memberOf(request);
    const body = bodyOf(request);
    const file = isUploadedText(body.definitionFile) ? body.definitionFile : undefined;
    const values = { definition: text(body, 'definition'), note: text(body, 'note').trim() };
    const errors: Record<string, string> = {};
    if (values.note.length > MAX_NOTE_LENGTH) errors.note = `The note must be ${MAX_NOTE_LENGTH} characters or fewer`;
    let source: { text: string; field: string } | undefined;
    if (file && 'tooLarge' in file) errors.definitionFile = 'The selected file must be smaller than 1 MB';
    else if (file) source = { text: file.text, field: 'definitionFile' };
    else if (values.definition.trim() !== '') source = { text: values.definition, field: 'definition' };
    else errors.definition = 'Choose a definition file or paste the definition';
    if (source && Object.keys(errors).length === 0) {
      const parsed = parseJson(source.text.replace(/^\uFEFF/, ''));
      if (!parsed.ok) errors[source.field] = parsed.message;
      else {
        const result = await forms.publishAsStaff(member, parsed.value, values.note || undefined);
        if (!result.ok) {
          const count = result.findings.filter((finding) => finding.severity === 'error').length;
          return renderPublish(
            reply,
            {
              values,
              findings: result.findings,
              extraErrors: [{ text: `The definition has ${count} ${count === 1 ? 'problem' : 'problems'} to fix`, href: '#findings' }],
            },
            400,
          );
        }
        return renderPublish(reply, {
          findings: result.findings,
          published: { slug: result.slug, version: result.version, changed: result.changed },
        });
      }
    }
    return renderPublish(reply, { values, errors }, 400);
  });

  app.get<{ Params: { slug: string; version: string } }>('/staff/forms/:slug/preview/:version', guard('forms:read'), async (request, reply) => {
    const { slug, version } = request.params;
    if (!/^\d{1,9}$/.test(version)) throw new HttpError(404, 'Page not found');
    const [definition, live] = await Promise.all([forms.definition(slug, Number(version)), forms.live(slug)]);
    if (!definition) throw new HttpError(404, 'Page not found');
    return reply.view('forms/staff/preview.njk', { preview: previewOf(definition), version: Number(version), liveVersion: live?.version });
  });

  // ---------------------------------------------------------------- filling in a form for a resident
  const renderAssist = (reply: FastifyReply, title: string, slug: string, errors: Record<string, string> = {}, status = 200) =>
    reply.code(status).view('forms/staff/assist.njk', {
      form: { slug, title },
      channelItems: Object.entries(ASSISTED_CHANNELS).map(([value, label]) => ({ value, text: label })),
      fieldErrors: errors,
      errors: errorSummary(errors),
    });

  app.get<{ Params: { slug: string } }>('/staff/forms/:slug/assist', guard('forms:assist'), async (request, reply) => {
    const live = await forms.live(request.params.slug);
    if (!live) throw new HttpError(404, 'Page not found');
    return renderAssist(reply, live.definition.title, request.params.slug);
  });

  app.post<{ Params: { slug: string } }>('/staff/forms/:slug/assist', guard('forms:assist'), async (request, reply) => {
    const member = await memberOf(request);
    const { slug } = request.params;
    const live = await forms.live(slug);
    if (!live) throw new HttpError(404, 'Page not found');
    const channel = text(bodyOf(request), 'channel');
    if (!Object.hasOwn(ASSISTED_CHANNELS, channel)) {
      return renderAssist(reply, live.definition.title, slug, { channel: 'Select how the resident is contacting the council' }, 400);
    }
    const draft = await forms.startAssisted(member, slug, channel as Exclude<Channel, 'online'>);
    if (!draft) throw new HttpError(404, 'Page not found');
    request.session.formDrafts = { ...request.session.formDrafts, [slug]: draft.id };
    const first = forms.resumePoint(draft, forms.routingContext(undefined));
    return reply.redirect(`/forms/${slug}/${first === 'check-answers' ? 'check-answers' : first.slug}`, 303);
  });
}
