import { ukDay } from '#platform/council/dates';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { recordAudit, type Actor } from '#platform/audit/index';
import { HttpError } from '#platform/http/errors';
import type { Files } from '#platform/files/index';
import type { Geography } from '#platform/geo/index';
import type { Jobs } from '#platform/jobs/index';
import { queueEmail, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { randomReference, signToken, verifyToken } from '#platform/security/tokens';
import { assertCan, type StaffMember } from '#modules/account/index';
import {
  appointmentAnswer,
  appointmentQuestions,
  bookedAnswer,
  bookingContactIds,
  bookingLocation,
  TIME_TAKEN,
  type AppointmentAnswer,
  type BookingContact,
  type BookingProvider,
  type BookingTime,
} from './model/bookings.js';
import { isQuestion, type AppointmentQuestion, type Component, type FileAnswer, type QuestionComponent } from './model/components.js';
import { parseFormDefinition, type FormDefinition, type Page } from './model/definition.js';
import { hasErrors, lintForm, type Finding } from './model/linter.js';
import { journey, pruneAnswers, type RoutingContext } from './model/routing.js';
import { createDeliveryWorker, type DeliveryWorker } from './deliveries.js';
import { caseContactFromAnswers, deliverySettingsProblems } from './delivery/targets.js';
import type { DeliveryStatus } from './migrations.js';
import { renderAnswersPdf } from './pdf.js';
import { asDb, createFormsRepository, type DraftRow, type SubmissionFilters, type SubmissionRow } from './repository.js';
import { mergeAnswers, type FieldError } from './runner/fields.js';
import { summarise, summaryText, type SummarySection } from './runner/summary.js';

export type Channel = 'online' | 'phone' | 'face-to-face';

export interface FormsContext {
  platform: Platform;
  jobs: Jobs;
  notifier: Notifier;
  geo: Geography;
  files: Files;
}

/** Who is filling in a form. */
export interface Filler {
  residentId?: string | undefined;
  staffId?: string | undefined;
  channel: Channel;
  /** The signed-in resident's details, for prefill and for expressions that read the profile. */
  profile?: ResidentDetails | undefined;
}

/** What forms read from a resident's account. */
export interface ResidentDetails {
  email: string;
  name: string | null;
  phone: string | null;
  address: { uprn?: string; lines: string[]; town?: string; postcode?: string } | null;
}

export interface Draft {
  id: string;
  slug: string;
  version: number;
  definition: FormDefinition;
  answers: Record<string, unknown>;
  pagesDone: string[];
  residentId: string | null;
  staffId: string | null;
  channel: string;
  createdAt: Date;
  /** True once the draft has been sent: its pages then lead to the confirmation. */
  submitted: boolean;
}

export type PublishResult = { ok: true; slug: string; version: number; changed: boolean; findings: Finding[] } | { ok: false; findings: Finding[] };

export interface Submission {
  id: string;
  reference: string;
  slug: string;
  version: number;
  title: string;
  answers: Record<string, unknown>;
  summary: SummarySection[];
  submittedBy: SubmissionRow['submitted_by'];
  residentId: string | null;
  staffId: string | null;
  channel: string;
  contactEmail: string | null;
  startedAt: Date;
  submittedAt: Date;
}

export type SubmitResult =
  | { ok: true; submission: Submission; created: boolean }
  | { ok: false; page: Page | undefined; reason: 'incomplete' }
  /** The appointment time chosen was taken before it could be booked: the question's answer is dropped to be chosen again. */
  | { ok: false; page: Page; reason: 'time-taken'; questionId: string };

const RESUME_PURPOSE = 'form-resume';

/** What expressions may read from a resident's profile. */
export function profileFields(details: ResidentDetails | undefined): Record<string, unknown> {
  if (details === undefined) return {};
  const [firstName, ...rest] = (details.name ?? '').trim().split(/\s+/);
  return {
    email: details.email,
    name: details.name ?? undefined,
    firstName: firstName || undefined,
    lastName: rest.join(' ') || undefined,
    phone: details.phone ?? undefined,
    postcode: details.address?.postcode,
  };
}

function prefillAnswer(question: Exclude<QuestionComponent, AppointmentQuestion>, details: ResidentDetails): unknown {
  switch (question.prefill) {
    case 'email':
      return details.email;
    case 'phone':
      return details.phone ?? undefined;
    case 'name': {
      const fields = profileFields(details);
      if (question.type !== 'name') return details.name ?? undefined;
      return fields.firstName && fields.lastName ? { firstName: fields.firstName, lastName: fields.lastName } : undefined;
    }
    case 'address': {
      const address = details.address;
      if (!address?.postcode || !address.town || address.lines.length === 0) return undefined;
      return {
        line1: address.lines[0],
        ...(address.lines.length > 1 ? { line2: address.lines.slice(1).join(', ') } : {}),
        town: address.town,
        postcode: address.postcode,
        ...(address.uprn ? { uprn: address.uprn } : {}),
      };
    }
    default:
      return undefined;
  }
}

function prefill(components: readonly Component[], details: ResidentDetails, into: Record<string, unknown>): void {
  for (const component of components) {
    if (!isQuestion(component) || component.type === 'appointment') continue;
    if (component.prefill !== undefined) {
      const value = prefillAnswer(component, details);
      if (value !== undefined) into[component.id] = value;
    }
    if (component.type === 'radios' || component.type === 'checkboxes') for (const option of component.options) prefill(option.reveals ?? [], details, into);
  }
}

function toSubmission(row: SubmissionRow, title: string): Submission {
  return {
    id: row.id,
    reference: row.reference,
    slug: row.slug,
    version: row.version,
    title,
    answers: row.answers,
    summary: row.summary as SummarySection[],
    submittedBy: row.submitted_by,
    residentId: row.resident_id,
    staffId: row.staff_id,
    channel: row.channel,
    contactEmail: row.contact_email,
    startedAt: new Date(row.started_at),
    submittedAt: new Date(row.submitted_at),
  };
}

/** The first email address answer on the route taken: where the confirmation goes for someone not signed in. */
function contactEmail(definition: FormDefinition, answers: Readonly<Record<string, unknown>>): string | undefined {
  for (const page of definition.pages) {
    for (const component of page.components) {
      if (component.type === 'email' && typeof answers[component.id] === 'string') return answers[component.id] as string;
    }
  }
  return undefined;
}

/** The appointment type's own questions, answered by the form's questions of the same id or those the question maps them to. */
function typeAnswers(question: AppointmentQuestion, provider: BookingProvider, answers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const typeQuestion of provider.describe(question.appointmentType)?.questions ?? []) {
    const value = answers[question.answers?.[typeQuestion.id] ?? typeQuestion.id];
    if (value !== undefined) out[typeQuestion.id] = value;
  }
  return out;
}

function formatReference(raw: string): string {
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

export function createFormsService(ctx: FormsContext) {
  const { platform, notifier, files } = ctx;
  const { config, logger, database } = platform;
  const repo = createFormsRepository(database.db);
  const draftDays = config.formDraftDays;
  const definitions = new Map<string, FormDefinition>();
  const titles = new Map<string, string>();

  async function definition(slug: string, version: number): Promise<FormDefinition | undefined> {
    const key = `${slug}@${version}`;
    const cached = definitions.get(key);
    if (cached) return cached;
    const row = await repo.version(slug, version);
    if (!row) return undefined;
    const parsed = parseFormDefinition(row.definition);
    if (!parsed.success) throw new Error(`Published form ${key} no longer matches the schema`);
    definitions.set(key, parsed.data);
    return parsed.data;
  }

  const expiry = () => new Date(Date.now() + draftDays * 86_400_000);

  function routingContext(profile: ResidentDetails | undefined): RoutingContext {
    return { profile: profileFields(profile), today: ukDay() };
  }

  function toDraft(row: DraftRow & { submitted?: boolean }, def: FormDefinition): Draft {
    return {
      submitted: row.submitted ?? false,
      id: row.id,
      slug: row.slug,
      version: row.version,
      definition: def,
      answers: row.answers,
      pagesDone: row.pages_done,
      residentId: row.resident_id,
      staffId: row.staff_id,
      channel: row.channel,
      createdAt: new Date(row.created_at),
    };
  }

  const worker: DeliveryWorker = createDeliveryWorker({
    repo,
    jobs: ctx.jobs,
    notifier,
    logger,
    env: process.env,
    formTitle: async (slug, version) => (await definition(slug, version))?.title ?? slug,
  });

  let bookings: BookingProvider | undefined;
  const bookingsOrFail = (): BookingProvider => {
    if (bookings === undefined) throw new HttpError(503, 'Appointments cannot be booked online at the moment. Try again later.');
    return bookings;
  };
  /** Sends of the same draft one after another, so a time held again is never booked twice. */
  const sending = new Map<string, Promise<unknown>>();

  /** Holds the time an answer names; the answer with its hold, or undefined when the time is taken. */
  async function holdTime(question: AppointmentQuestion, answer: AppointmentAnswer): Promise<AppointmentAnswer | undefined> {
    const provider = bookingsOrFail();
    const description = provider.describe(question.appointmentType);
    // A type the council has since withdrawn cannot be booked.
    if (description === undefined) throw new HttpError(503, 'Appointments cannot be booked online at the moment. Try again later.');
    const location = answer.location || bookingLocation(question, description);
    if (!location) throw new Error(`Appointment question ${question.id} has no location`);
    const held = await provider.hold(question.appointmentType, location, new Date(answer.start));
    if ('taken' in held) return undefined;
    return { appointmentType: question.appointmentType, location, start: answer.start, when: held.when, where: held.where, holdId: held.id, key: held.key };
  }

  /** The booking's contact details from the answers, else from the signed-in resident's account. */
  function bookingContact(
    def: FormDefinition,
    question: AppointmentQuestion,
    answers: Record<string, unknown>,
    profile: ResidentDetails | undefined,
  ): BookingContact {
    const { contact } = caseContactFromAnswers({ contact: bookingContactIds(def, question) }, answers);
    const name = contact.name ?? profile?.name ?? undefined;
    const email = contact.email ?? profile?.email;
    if (!name || !email) throw new Error(`Form ${def.slug} has no name or email address for the booking in ${question.id}`);
    return { name, email, ...(contact.phone ? { phone: contact.phone } : {}) };
  }

  /**
   * Books every appointment the answers hold, before the submission is made: a hold that ran out is
   * held again and confirmed. The answers come back with each booking's reference in place of its
   * hold. Each new hold and each booking is kept on the draft at once, so sending again confirms the
   * same hold, and never books an appointment twice.
   */
  async function confirmBookings(
    draft: Draft,
    answers: Record<string, unknown>,
    profile: ResidentDetails | undefined,
  ): Promise<{ ok: true; answers: Record<string, unknown> } | { ok: false; question: AppointmentQuestion; page: Page; draftAnswers: Record<string, unknown> }> {
    const def = draft.definition;
    const out = { ...answers };
    let kept = { ...draft.answers };
    const keep = async (id: string, answer: AppointmentAnswer) => {
      kept = { ...kept, [id]: answer };
      await repo.saveDraft(draft.id, { answers: kept, pagesDone: draft.pagesDone, expiresAt: expiry() });
    };
    for (const { question, pageIndex } of appointmentQuestions(def)) {
      let answer = appointmentAnswer(out[question.id]);
      if (answer === undefined || answer.reference !== undefined) continue;
      const page = def.pages[pageIndex] as Page;
      const provider = bookingsOrFail();
      const details = {
        contact: bookingContact(def, question, out, profile),
        answers: typeAnswers(question, provider, out),
        residentId: draft.residentId ?? undefined,
      };
      for (let attempt = 0; ; attempt += 1) {
        if (answer.holdId === undefined || answer.key === undefined) {
          const held = await holdTime(question, answer);
          if (held === undefined) return { ok: false, question, page, draftAnswers: kept };
          answer = held;
          await keep(question.id, answer);
        }
        const outcome = await provider.confirm({ id: answer.holdId as string, key: answer.key as string }, details);
        if ('reference' in outcome) {
          out[question.id] = bookedAnswer(answer, outcome);
          await keep(question.id, bookedAnswer(answer, outcome));
          break;
        }
        if ('taken' in outcome || attempt > 0) return { ok: false, question, page, draftAnswers: kept };
        // The hold ran out: the same time, held again.
        answer = { appointmentType: answer.appointmentType, location: answer.location, start: answer.start };
      }
    }
    return { ok: true, answers: out };
  }

  /** One send of a draft (see submit): the appointments are booked first, then the submission is made. */
  async function send(draft: Draft, filler: Filler, meta: { requestId?: string }): Promise<SubmitResult> {
    const previous = await service.submissionForDraft(draft.id);
    if (previous) return { ok: true, submission: previous, created: false };
    const context = routingContext(filler.profile);
    const point = service.resumePoint(draft, context);
    if (point !== 'check-answers') return { ok: false, page: point, reason: 'incomplete' };
    const def = draft.definition;
    const booked = await confirmBookings(draft, pruneAnswers(def, draft.answers, context), filler.profile);
    if (!booked.ok) {
      // Chosen again on its page; every other answer stays.
      const rest = Object.fromEntries(Object.entries(booked.draftAnswers).filter(([id]) => id !== booked.question.id));
      await repo.saveDraft(draft.id, { answers: rest, pagesDone: draft.pagesDone.filter((id) => id !== booked.page.id), expiresAt: expiry() });
      return { ok: false, page: booked.page, reason: 'time-taken', questionId: booked.question.id };
    }
    const answers = booked.answers;
    const summary = summarise(def, answers, context);
    const email = filler.profile?.email ?? contactEmail(def, answers) ?? null;
    const submittedBy = draft.staffId ? 'staff' : draft.residentId ? 'resident' : 'anonymous';
    const actor: Actor = draft.staffId
      ? { type: 'staff', id: draft.staffId }
      : draft.residentId
        ? { type: 'resident', id: draft.residentId }
        : { type: 'anonymous' };
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const reference = formatReference(randomReference());
      // Drawn before the transaction: the embedded database has one connection, not to be held while a PDF renders.
      const pdf = email
        ? await renderAnswersPdf({ councilName: platform.council.profile.name, formTitle: def.title, reference, submittedAt: new Date(), sections: summary })
        : undefined;
      const outcome = await repo.transaction(async (tx) => {
        const inserted = await repo.insertSubmission(tx, {
          reference,
          slug: draft.slug,
          version: draft.version,
          draftId: draft.id,
          answers,
          summary,
          submittedBy,
          residentId: draft.residentId,
          staffId: draft.staffId,
          channel: draft.channel,
          contactEmail: email,
          startedAt: draft.createdAt,
        });
        if (inserted === 'reference-taken' || !inserted.created) return inserted;
        const row = inserted.row;
        await repo.addDeliveries(tx, row.id, def.deliveries);
        await repo.completeJourney(tx, draft.id);
        await recordAudit(asDb(tx), {
          actor,
          action: 'forms.submitted',
          subject: { type: 'form-submission', id: row.id },
          details: { form: draft.slug, version: draft.version, reference: row.reference, channel: draft.channel },
          ...(meta.requestId ? { requestId: meta.requestId } : {}),
        });
        if (email && pdf) {
          await queueEmail(asDb(tx), {
            to: email,
            subject: `${def.title}: we have your form (reference ${row.reference})`,
            body: `Thank you. We have received your form "${def.title}".\n\nYour reference is ${row.reference}. Keep it in case you need to contact us.\n\nA copy of your answers is below and attached as a PDF.\n\n${summaryText(summary)}\n`,
            attachments: [{ filename: `${row.reference}.pdf`, contentType: 'application/pdf', content: pdf }],
            related: { type: 'form-submission', id: row.id },
          });
        }
        return inserted;
      });
      if (outcome === 'reference-taken') continue;
      if (outcome.created) await worker.nudge();
      return { ok: true, submission: toSubmission(outcome.row, def.title), created: outcome.created };
    }
    throw new Error('Could not find a free submission reference');
  }

  const service = {
    deliveries: worker,
    geo: ctx.geo,
    draftDays,
    routingContext,

    /* ------------------------------------------------------------ definitions */

    /** Appointments register here to be booked from forms' appointment questions. */
    setBookingProvider(provider: BookingProvider): void {
      bookings = provider;
    },

    /** Checks a definition and, when it has no errors and differs from the live version, publishes it as a new version. */
    async publish(raw: unknown, by: { actor: Actor; staffId?: string; note?: string }): Promise<PublishResult> {
      const findings = lintForm(raw, { bookings: bookings ?? null });
      if (hasErrors(findings)) return { ok: false, findings };
      const parsed = parseFormDefinition(raw);
      if (!parsed.success) return { ok: false, findings };
      const def = parsed.data;
      const settingsProblems = def.deliveries.flatMap((delivery) => deliverySettingsProblems(delivery));
      if (settingsProblems.length > 0)
        return { ok: false, findings: [...findings, ...settingsProblems.map((message) => ({ severity: 'error' as const, path: 'deliveries', message }))] };
      const owner = await repo.formIdOwner(def.id);
      if (owner !== undefined && owner !== def.slug)
        return { ok: false, findings: [{ severity: 'error', path: 'id', message: `The id ${def.id} is already used by the form ${owner}` }] };
      const live = await repo.liveVersion(def.slug);
      if (live) {
        const current = await definition(def.slug, live.version);
        if (JSON.stringify(current) === JSON.stringify(def)) return { ok: true, slug: def.slug, version: live.version, changed: false, findings };
      }
      const version = await repo.transaction(async (tx) => {
        const number = await repo.publish(tx, {
          slug: def.slug,
          formId: def.id,
          title: def.title,
          definition: raw,
          by: by.staffId ?? null,
          note: by.note ?? null,
        });
        await recordAudit(asDb(tx), { actor: by.actor, action: 'forms.published', subject: { type: 'form', id: def.slug }, details: { version: number } });
        return number;
      });
      titles.set(def.slug, def.title);
      return { ok: true, slug: def.slug, version, changed: true, findings };
    },

    /** Publishes the council's shipped definitions that are new or changed. */
    async loadShipped(folder = path.join(config.councilDir, 'forms')): Promise<{ file: string; result: PublishResult }[]> {
      let names: string[] = [];
      try {
        names = readdirSync(folder).filter((name) => name.endsWith('.json'));
      } catch {
        return [];
      }
      const results = [];
      for (const name of names.sort()) {
        const raw: unknown = JSON.parse(readFileSync(path.join(folder, name), 'utf8'));
        const result = await service.publish(raw, { actor: { type: 'system', label: 'Shipped forms' }, note: `Loaded from ${name}` });
        if (!result.ok) logger.error({ file: name, findings: result.findings.length }, 'shipped form not published');
        results.push({ file: name, result });
      }
      return results;
    },

    async live(slug: string): Promise<{ version: number; definition: FormDefinition } | undefined> {
      const live = await repo.liveVersion(slug);
      if (!live) return undefined;
      const def = await definition(slug, live.version);
      return def ? { version: live.version, definition: def } : undefined;
    },
    definition,
    listForms: () => repo.listForms(),
    versions: (slug: string) => repo.versions(slug),

    /* ------------------------------------------------------------ drafts */

    async startDraft(slug: string, filler: Filler): Promise<Draft | undefined> {
      const live = await service.live(slug);
      if (!live) return undefined;
      const answers: Record<string, unknown> = {};
      if (filler.profile) for (const page of live.definition.pages) prefill(page.components, filler.profile, answers);
      const row = await repo.createDraft({
        slug,
        version: live.version,
        residentId: filler.residentId ?? null,
        staffId: filler.staffId ?? null,
        channel: filler.channel,
        answers,
        expiresAt: expiry(),
      });
      return toDraft(row, live.definition);
    },

    async draft(id: string | undefined): Promise<Draft | undefined> {
      if (!id || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const row = await repo.draft(id);
      if (!row) return undefined;
      const def = await definition(row.slug, row.version);
      return def ? toDraft(row, def) : undefined;
    },

    /** Saves a page's answers as the resident goes, keeping only what the route still needs. */
    async savePage(draft: Draft, pageId: string, pageAnswers: Record<string, unknown>): Promise<Draft> {
      const merged = mergeAnswers(draft.answers, pageAnswers);
      const pagesDone = draft.pagesDone.includes(pageId) ? draft.pagesDone : [...draft.pagesDone, pageId];
      await repo.saveDraft(draft.id, { answers: merged, pagesDone, expiresAt: expiry(), reached: pageId });
      return { ...draft, answers: merged, pagesDone };
    },

    /** Keeps answers without marking the page as done: for "save and come back later". */
    async keepAnswers(draft: Draft, answers: Record<string, unknown>): Promise<Draft> {
      const merged = { ...draft.answers, ...answers };
      await repo.saveDraft(draft.id, { answers: merged, pagesDone: draft.pagesDone, expiresAt: expiry() });
      return { ...draft, answers: merged };
    },

    /** Keeps uploaded files on the draft straight away: a file input cannot be filled in again. */
    async addFile(draft: Draft, question: Extract<QuestionComponent, { type: 'fileUpload' }>, upload: { bytes: Buffer; filename: string }) {
      const existing = (Array.isArray(draft.answers[question.id]) ? draft.answers[question.id] : []) as FileAnswer[];
      if (existing.length >= question.maxFiles) return { ok: false as const, message: `You can upload up to ${question.maxFiles} files` };
      const saved = await files.save(database.db, upload.bytes, { allowed: question.accept, maxBytes: question.maxBytes, originalName: upload.filename });
      if (!saved.ok) return saved;
      const answer: FileAnswer = {
        fileId: saved.file.id,
        filename: saved.file.originalName ?? 'file',
        contentType: saved.file.contentType,
        bytes: saved.file.size,
      };
      const answers = { ...draft.answers, [question.id]: [...existing, answer] };
      await repo.saveDraft(draft.id, { answers, pagesDone: draft.pagesDone, expiresAt: expiry() });
      return { ok: true as const, draft: { ...draft, answers } };
    },

    async removeFile(draft: Draft, questionId: string, index: number): Promise<Draft> {
      const existing = (Array.isArray(draft.answers[questionId]) ? draft.answers[questionId] : []) as FileAnswer[];
      const answers = { ...draft.answers, [questionId]: existing.filter((_, i) => i !== index) };
      await repo.saveDraft(draft.id, { answers, pagesDone: draft.pagesDone, expiresAt: expiry() });
      return { ...draft, answers };
    },

    /* ------------------------------------------------------------ appointments */

    /** The free times an appointment question offers, and where; undefined when nothing takes bookings. */
    async bookingTimes(question: AppointmentQuestion): Promise<{ where: string; times: BookingTime[] } | undefined> {
      if (bookings === undefined) return undefined;
      const description = bookings.describe(question.appointmentType);
      const location = bookingLocation(question, description);
      if (description === undefined || location === undefined) return undefined;
      const times = await bookings.times(question.appointmentType, location, { limit: question.timesShown });
      const place = description.locations.find((candidate) => candidate.code === location);
      return { where: place?.name ?? location, times };
    },

    /**
     * Holds the times newly chosen on a page, once its answers are valid. A time someone else has
     * taken meanwhile is an error on its question. The hold given up for a changed time is let go
     * when the provider can, and otherwise runs out.
     */
    async holdTimes(
      page: Page,
      pageAnswers: Record<string, unknown>,
      stored: Readonly<Record<string, unknown>> = {},
    ): Promise<{ answers: Record<string, unknown>; errors: FieldError[] }> {
      const answers = { ...pageAnswers };
      const errors: FieldError[] = [];
      for (const component of page.components) {
        if (component.type !== 'appointment') continue;
        const answer = appointmentAnswer(answers[component.id]);
        if (answer === undefined || answer.holdId !== undefined) continue;
        const held = await holdTime(component, answer);
        if (held === undefined) {
          errors.push({ name: component.id, href: `#${component.id}`, text: TIME_TAKEN });
          answers[component.id] = undefined;
          continue;
        }
        answers[component.id] = held;
        const previous = appointmentAnswer(stored[component.id]);
        if (previous?.holdId !== undefined && previous.key !== undefined && previous.reference === undefined && bookings?.release) {
          await bookings
            .release({ id: previous.holdId, key: previous.key })
            .catch((error: unknown) => logger.warn({ error: String(error) }, 'hold not let go'));
        }
      }
      return { answers, errors };
    },

    /** Where a resident picks up: the first page on their route not yet answered, or check answers. */
    resumePoint(draft: Draft, context: RoutingContext): Page | 'check-answers' {
      const route = journey(draft.definition, draft.answers, context);
      for (const id of route.pages) {
        if (!draft.pagesDone.includes(id)) return draft.definition.pages.find((page) => page.id === id) ?? 'check-answers';
      }
      return typeof route.end === 'object' && 'checkAnswers' in route.end
        ? 'check-answers'
        : (draft.definition.pages.find((p) => p.id === route.pages.at(-1)) ?? 'check-answers');
    },

    /** The pages a resident may open now: those on their route up to the first unanswered one. */
    reachablePages(draft: Draft, context: RoutingContext): string[] {
      const route = journey(draft.definition, draft.answers, context);
      const reachable: string[] = [];
      for (const id of route.pages) {
        reachable.push(id);
        if (!draft.pagesDone.includes(id)) break;
      }
      return reachable;
    },

    async claimDraft(draft: Draft, residentId: string): Promise<void> {
      await repo.claimDraft(draft.id, residentId);
    },

    /** Emails a signed link that opens the draft again until it expires. */
    async sendResumeLink(draft: Draft, email: string): Promise<void> {
      const expiresAt = expiry();
      const token = signToken(config.sessionSecret, { purpose: RESUME_PURPOSE, subject: draft.id, expiresAt });
      const link = `${config.baseUrl}/forms/${draft.slug}/resume?token=${encodeURIComponent(token)}`;
      // The draft is kept at least as long as the link works.
      await repo.saveDraft(draft.id, { answers: draft.answers, pagesDone: draft.pagesDone, expiresAt });
      await repo.transaction(async (tx) => {
        await queueEmail(asDb(tx), {
          to: email,
          subject: `Continue your form: ${draft.definition.title}`,
          body: `You saved your answers to "${draft.definition.title}".\n\nTo continue, open this link:\n${link}\n\nThe link works until ${expiresAt.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' })}. After that your answers are deleted.\n\nIf you did not ask for this, you can ignore this email.\n`,
          related: { type: 'form-draft', id: draft.id },
        });
      });
      await repo.setResumeEmail(draft.id, email);
      await notifier.nudge();
    },

    async draftFromResumeToken(token: string): Promise<Draft | 'invalid' | 'expired'> {
      const verified = verifyToken(config.sessionSecret, token, RESUME_PURPOSE);
      if (!verified.ok) return verified.reason === 'expired' ? 'expired' : 'invalid';
      const found = await service.draft(verified.payload.subject);
      if (!found) return 'expired';
      if (await repo.submissionForDraft(found.id)) return 'expired';
      return found;
    },

    purgeExpiredDrafts: () => repo.purgeDrafts(),

    /* ------------------------------------------------------------ submitting */

    async submissionForDraft(draftId: string): Promise<Submission | undefined> {
      const row = await repo.submissionForDraft(draftId);
      if (!row) return undefined;
      return toSubmission(row, (await definition(row.slug, row.version))?.title ?? row.slug);
    },

    /**
     * Turns a draft into a submission exactly once. The answers off the route taken are dropped,
     * the summary is fixed, deliveries and the confirmation email are queued, all in one
     * transaction; a second call for the same draft returns the first submission.
     */
    async submit(draft: Draft, filler: Filler, meta: { requestId?: string } = {}): Promise<SubmitResult> {
      const before = sending.get(draft.id) ?? Promise.resolve();
      const run = before.catch(() => undefined).then(() => send(draft, filler, meta));
      sending.set(draft.id, run);
      try {
        return await run;
      } finally {
        if (sending.get(draft.id) === run) sending.delete(draft.id);
      }
    },

    async answersPdf(submission: Submission): Promise<Buffer> {
      return renderAnswersPdf({
        councilName: platform.council.profile.name,
        formTitle: submission.title,
        reference: submission.reference,
        submittedAt: submission.submittedAt,
        sections: submission.summary,
      });
    },

    /* ------------------------------------------------------------ residents' activity */

    async residentActivity(residentId: string) {
      const [drafts, submissions] = await Promise.all([repo.draftsForResident(residentId), repo.submissionsForResident(residentId)]);
      return { drafts, submissions };
    },
    async forgetResident(residentId: string): Promise<void> {
      await repo.deleteDraftsOfResident(residentId);
      await repo.detachResident(residentId);
    },

    /* ------------------------------------------------------------ staff */

    async listSubmissions(staff: StaffMember, filters: SubmissionFilters) {
      assertCan(staff, 'forms:read');
      return repo.listSubmissions(filters);
    },
    async submissionForStaff(staff: StaffMember, id: string, meta: { requestId?: string } = {}) {
      assertCan(staff, 'forms:read');
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const row = await repo.submission(id);
      if (!row) return undefined;
      await repo.transaction((tx) =>
        recordAudit(asDb(tx), {
          actor: { type: 'staff', id: staff.id, label: staff.name },
          action: 'forms.submission-viewed',
          subject: { type: 'form-submission', id },
          ...(meta.requestId ? { requestId: meta.requestId } : {}),
        }),
      );
      const def = await definition(row.slug, row.version);
      return { submission: toSubmission(row, def?.title ?? row.slug), deliveries: await repo.deliveriesOf(id) };
    },
    async exportSubmissions(staff: StaffMember, filters: SubmissionFilters) {
      assertCan(staff, 'forms:read');
      const { rows } = await repo.listSubmissions({ ...filters, limit: 10_000, offset: 0 });
      await repo.transaction((tx) =>
        recordAudit(asDb(tx), {
          actor: { type: 'staff', id: staff.id, label: staff.name },
          action: 'forms.submissions-exported',
          subject: { type: 'form', id: filters.slug ?? 'all' },
          details: { count: rows.length },
        }),
      );
      return rows.map((row) => toSubmission(row, row.slug));
    },
    async failedDeliveries(staff: StaffMember) {
      assertCan(staff, 'forms:read');
      return repo.failedDeliveries();
    },
    async retryDelivery(staff: StaffMember, deliveryId: string): Promise<boolean> {
      assertCan(staff, 'forms:retry');
      if (!/^[0-9a-f-]{36}$/i.test(deliveryId)) return false;
      const row = await repo.delivery(deliveryId);
      if (!row) return false;
      const retried = await repo.retryDelivery(deliveryId);
      if (retried) {
        await repo.transaction((tx) =>
          recordAudit(asDb(tx), {
            actor: { type: 'staff', id: staff.id, label: staff.name },
            action: 'forms.delivery-retried',
            subject: { type: 'form-submission', id: row.submission_id },
            details: { delivery: row.name },
          }),
        );
        await worker.nudge();
      }
      return retried;
    },
    async funnel(staff: StaffMember, slug: string) {
      assertCan(staff, 'forms:read');
      return repo.funnel(slug);
    },
    async publishAsStaff(staff: StaffMember, raw: unknown, note: string | undefined): Promise<PublishResult> {
      assertCan(staff, 'forms:publish');
      return service.publish(raw, { actor: { type: 'staff', id: staff.id, label: staff.name }, staffId: staff.id, ...(note ? { note } : {}) });
    },
    async startAssisted(staff: StaffMember, slug: string, channel: Exclude<Channel, 'online'>): Promise<Draft | undefined> {
      assertCan(staff, 'forms:assist');
      return service.startDraft(slug, { staffId: staff.id, channel });
    },
  };
  return service;
}

export type FormsService = ReturnType<typeof createFormsService>;
export type { DeliveryStatus, SubmissionFilters };
