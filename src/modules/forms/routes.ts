import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '#platform/http/errors';
import type { Account } from '#modules/account/index';
import { bookedAppointments, TIME_TAKEN } from './model/bookings.js';
import { isQuestion, type Component, type QuestionComponent } from './model/components.js';
import type { Page } from './model/definition.js';
import { journey, nextPage, type RoutingContext } from './model/routing.js';
import { addressSearchProblem, answersToRaw, questionNamed, rawText, readPage, type FieldError, type RawFields } from './runner/fields.js';
import { summarise } from './runner/summary.js';
import { pageViews, showsMap } from './runner/view.js';
import type { Draft, Filler, FormsService, ResidentDetails } from './service.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** Drafts this browser may open, by form slug. */
    formDrafts?: Record<string, string>;
    /** The last submission made from this browser, by form slug, for its confirmation page. */
    formSubmissions?: Record<string, string>;
    /** An appointment question whose time was taken as the form was sent, by form slug, to say so on its page. */
    formTimeTaken?: Record<string, string>;
  }
}

type Body = Record<string, unknown>;
const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

interface Upload {
  filename: string;
  bytes: Buffer;
}

function isUpload(value: unknown): value is Upload {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as Upload).bytes);
}

/** Posted fields as the runner reads them: text and lists of text; uploads are taken apart. */
function rawFieldsOf(body: Body): RawFields {
  const raw: RawFields = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') raw[key] = value;
    else if (Array.isArray(value)) raw[key] = value.filter((item): item is string => typeof item === 'string');
  }
  return raw;
}

function questionsOf(components: readonly Component[]): QuestionComponent[] {
  return components.filter(isQuestion);
}

function findQuestion(page: Page, id: string): QuestionComponent | undefined {
  return questionsOf(page.components).find((question) => question.id === id);
}

/** The page's one question is its heading when it asks the same thing as the page title. */
function questionIsHeading(page: Page): boolean {
  const questions = questionsOf(page.components);
  const only = questions[0];
  return questions.length === 1 && only !== undefined && only.label === page.title && only.type !== 'repeatingGroup' && only.type !== 'declaration';
}

/** What the map of a location question draws on: a base map's tiles, when the council has one (else its own streets). */
export interface FormMapSettings {
  tiles?: { url: string; attribution: string } | undefined;
}

export function registerFormRoutes(app: FastifyInstance, forms: FormsService, account: Account, map: FormMapSettings = {}): void {
  void app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 5, fields: 500 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        (part as unknown as { value: Upload | string }).value = bytes.length > 0 ? { filename: part.filename, bytes } : '';
      },
    });
    routes(scope, forms, account, map);
  });
}

function routes(app: FastifyInstance, forms: FormsService, account: Account, map: FormMapSettings): void {
  async function fillerFor(request: FastifyRequest, draft?: Draft): Promise<Filler> {
    const resident = await account.residents.signedIn(request);
    const profile: ResidentDetails | undefined = resident
      ? { email: resident.email, name: resident.name, phone: resident.phone, address: resident.address as ResidentDetails['address'] }
      : undefined;
    return {
      residentId: resident?.id,
      staffId: draft?.staffId ?? undefined,
      channel: (draft?.channel as Filler['channel'] | undefined) ?? 'online',
      profile: draft?.staffId ? undefined : profile,
    };
  }

  function remember(request: FastifyRequest, draft: Draft): void {
    request.session.formDrafts = { ...request.session.formDrafts, [draft.slug]: draft.id };
  }

  /** The draft this browser holds for the form, if it may still open it. */
  async function currentDraft(request: FastifyRequest, slug: string): Promise<Draft | undefined> {
    const id = request.session.formDrafts?.[slug];
    const draft = await forms.draft(id);
    if (!draft || draft.slug !== slug) return undefined;
    if (draft.residentId !== null && request.session.residentId !== draft.residentId) return undefined;
    if (draft.staffId !== null && request.session.staffId !== draft.staffId) return undefined;
    return draft;
  }

  function pageUrl(slug: string, page: Page | 'check-answers', change = false): string {
    const target = page === 'check-answers' ? 'check-answers' : page.slug;
    return `/forms/${slug}/${target}${change && page !== 'check-answers' ? '?change=1' : ''}`;
  }

  /** Back goes to the page before on the route, or the start page. */
  function backLink(draft: Draft, pageId: string | undefined, context: RoutingContext): string {
    const route = journey(draft.definition, draft.answers, context).pages;
    const index = pageId === undefined ? route.length : route.indexOf(pageId);
    const previous = index > 0 ? draft.definition.pages.find((page) => page.id === route[index - 1]) : undefined;
    return previous ? pageUrl(draft.slug, previous) : `/forms/${draft.slug}`;
  }

  async function renderPage(
    request: FastifyRequest,
    reply: FastifyReply,
    draft: Draft,
    page: Page,
    raw: RawFields,
    errors: FieldError[],
    context: RoutingContext,
    extra: Record<string, unknown> = {},
    status = errors.length ? 400 : 200,
  ) {
    const evaluation = { ...context, answers: { ...draft.answers } };
    const components = await pageViews(page.components, {
      raw,
      errors,
      evaluation,
      geo: forms.geo,
      stored: draft.answers,
      questionIsHeading: questionIsHeading(page),
      bookingTimes: (question) => forms.bookingTimes(question),
    });
    const hasUpload = questionsOf(page.components).some((q) => q.type === 'fileUpload');
    const change = (request.query as Record<string, string | undefined>).change === '1';
    const questionless = questionsOf(page.components).length === 0;
    const exit = questionless ? nextPage(draft.definition, page.id, draft.answers, context) : undefined;
    return reply.code(status).view('forms/page.njk', {
      form: draft.definition,
      page,
      pageTitle: page.title,
      components,
      headingIsQuestion: questionIsHeading(page),
      errors: dedupe(errors).map((error) => ({ text: error.text, href: error.href })),
      action: `/forms/${draft.slug}/${page.slug}${change ? '?change=1' : ''}`,
      back: change ? `/forms/${draft.slug}/check-answers` : backLink(draft, page.id, context),
      hasUpload,
      hasMap: showsMap(components),
      tiles: map.tiles,
      exit: exit && 'exit' in exit ? exit.exit : undefined,
      signedIn: draft.residentId !== null,
      assisted: draft.staffId !== null,
      ...extra,
    });
  }

  function dedupe(errors: FieldError[]): FieldError[] {
    const seen = new Set<string>();
    return errors.filter((error) => (seen.has(error.href + error.text) ? false : (seen.add(error.href + error.text), true)));
  }

  async function liveOr404(slug: string) {
    const live = await forms.live(slug);
    if (!live) throw new HttpError(404, 'Page not found');
    return live;
  }

  // ---------------------------------------------------------------- list and start
  app.get('/forms', async (_request, reply) => {
    const list = await forms.listForms();
    return reply.view('forms/index.njk', { pageTitle: 'Forms', forms: list });
  });

  app.get<{ Params: { slug: string } }>('/forms/:slug', async (request, reply) => {
    const live = await liveOr404(request.params.slug);
    const draft = await currentDraft(request, request.params.slug);
    return reply.view('forms/start.njk', { pageTitle: live.definition.title, form: live.definition, hasDraft: draft !== undefined });
  });

  app.post<{ Params: { slug: string } }>('/forms/:slug/start', async (request, reply) => {
    const slug = request.params.slug;
    await liveOr404(slug);
    const existing = await currentDraft(request, slug);
    const fresh = bodyOf(request).action === 'restart';
    const filler = await fillerFor(request, existing);
    const draft = existing && !fresh && !existing.submitted ? existing : await forms.startDraft(slug, { ...filler, staffId: undefined, channel: 'online' });
    if (!draft) throw new HttpError(404, 'Page not found');
    remember(request, draft);
    return reply.redirect(pageUrl(slug, forms.resumePoint(draft, forms.routingContext(filler.profile))), 303);
  });

  // ---------------------------------------------------------------- check answers, submit, confirmation
  app.get<{ Params: { slug: string } }>('/forms/:slug/check-answers', async (request, reply) => {
    const slug = request.params.slug;
    const draft = await currentDraft(request, slug);
    if (!draft) return reply.redirect(`/forms/${slug}`);
    if (draft.submitted) return reply.redirect(`/forms/${slug}/confirmation`);
    const filler = await fillerFor(request, draft);
    const context = forms.routingContext(filler.profile);
    const point = forms.resumePoint(draft, context);
    if (point !== 'check-answers') return reply.redirect(pageUrl(slug, point));
    const sections = summarise(draft.definition, draft.answers, context);
    return reply.view('forms/check-answers.njk', {
      pageTitle: 'Check your answers before sending',
      form: draft.definition,
      sections,
      back: backLink(draft, undefined, context),
      assisted: draft.staffId !== null,
    });
  });

  app.post<{ Params: { slug: string } }>('/forms/:slug/check-answers', async (request, reply) => {
    const slug = request.params.slug;
    const draft = await currentDraft(request, slug);
    if (!draft) {
      // Pressed twice after the first press finished: the confirmation is already there.
      if (request.session.formSubmissions?.[slug]) return reply.redirect(`/forms/${slug}/confirmation`, 303);
      return reply.redirect(`/forms/${slug}`, 303);
    }
    const result = await forms.submit(draft, await fillerFor(request, draft), { requestId: request.id });
    if (!result.ok && result.reason === 'time-taken') {
      request.session.formTimeTaken = { ...request.session.formTimeTaken, [slug]: result.questionId };
      return reply.redirect(pageUrl(slug, result.page, true), 303);
    }
    if (!result.ok) return reply.redirect(result.page ? pageUrl(slug, result.page) : `/forms/${slug}`, 303);
    request.session.formSubmissions = { ...request.session.formSubmissions, [slug]: draft.id };
    return reply.redirect(`/forms/${slug}/confirmation`, 303);
  });

  async function lastSubmission(request: FastifyRequest, slug: string) {
    const draftId = request.session.formSubmissions?.[slug];
    return draftId ? forms.submissionForDraft(draftId) : undefined;
  }

  app.get<{ Params: { slug: string } }>('/forms/:slug/confirmation', async (request, reply) => {
    const submission = await lastSubmission(request, request.params.slug);
    if (!submission) return reply.redirect(`/forms/${request.params.slug}`);
    const definition = await forms.definition(submission.slug, submission.version);
    const bookings = (definition ? bookedAppointments(definition, submission.answers) : []).map((booking) => ({
      ...booking,
      where: booking.where.charAt(0).toUpperCase() + booking.where.slice(1),
    }));
    return reply.view('forms/confirmation.njk', { pageTitle: `${submission.title}: form sent`, submission, bookings });
  });

  app.get<{ Params: { slug: string } }>('/forms/:slug/confirmation/answers.pdf', async (request, reply) => {
    const submission = await lastSubmission(request, request.params.slug);
    if (!submission) throw new HttpError(404, 'Page not found');
    const pdf = await forms.answersPdf(submission);
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${submission.reference}.pdf"`)
      .header('cache-control', 'private, no-store')
      .send(pdf);
  });

  // ---------------------------------------------------------------- save and return
  app.get<{ Params: { slug: string } }>('/forms/:slug/save', async (request, reply) => {
    const draft = await currentDraft(request, request.params.slug);
    if (!draft) return reply.redirect(`/forms/${request.params.slug}`);
    return reply.view('forms/save.njk', {
      pageTitle: 'Your answers have been saved',
      form: draft.definition,
      signedIn: draft.residentId !== null,
      values: {},
      draftDays: forms.draftDays,
    });
  });

  app.post<{ Params: { slug: string } }>('/forms/:slug/save', { config: { rateLimit: { max: 5, timeWindow: '1 minute' } } }, async (request, reply) => {
    const draft = await currentDraft(request, request.params.slug);
    if (!draft) return reply.redirect(`/forms/${request.params.slug}`, 303);
    const email = String(bodyOf(request).email ?? '').trim();
    if (!/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(email) || email.length > 254) {
      const text = email === '' ? 'Enter your email address' : 'Enter an email address in the correct format, like name@example.com';
      return reply.code(400).view('forms/save.njk', {
        pageTitle: 'Your answers have been saved',
        form: draft.definition,
        signedIn: false,
        draftDays: forms.draftDays,
        values: { email },
        fieldErrors: { email: text },
        errors: [{ text, href: '#email' }],
      });
    }
    await forms.sendResumeLink(draft, email);
    return reply.view('forms/save-sent.njk', { pageTitle: 'Check your email', form: draft.definition, email });
  });

  app.get<{ Params: { slug: string }; Querystring: { token?: string } }>('/forms/:slug/resume', async (request, reply) => {
    const found = await forms.draftFromResumeToken(String(request.query.token ?? ''));
    if (typeof found === 'string' || found.slug !== request.params.slug) {
      return reply.code(found === 'invalid' ? 400 : 410).view('forms/resume-problem.njk', {
        pageTitle: 'This link cannot be used',
        slug: request.params.slug,
        reason: found === 'invalid' ? 'invalid' : 'expired',
      });
    }
    if (found.residentId !== null && request.session.residentId !== found.residentId) {
      return reply.redirect(`/account/sign-in?returnTo=${encodeURIComponent(`/forms/${found.slug}/resume/${found.id}`)}`);
    }
    remember(request, found);
    const filler = await fillerFor(request, found);
    return reply.redirect(pageUrl(found.slug, forms.resumePoint(found, forms.routingContext(filler.profile))));
  });

  app.get<{ Params: { slug: string; draftId: string } }>('/forms/:slug/resume/:draftId', { preHandler: account.requireResident }, async (request, reply) => {
    const draft = await forms.draft(request.params.draftId);
    const resident = account.residents.current(request);
    if (!draft || draft.slug !== request.params.slug || draft.residentId !== resident.id) throw new HttpError(404, 'Page not found');
    remember(request, draft);
    const filler = await fillerFor(request, draft);
    return reply.redirect(pageUrl(draft.slug, forms.resumePoint(draft, forms.routingContext(filler.profile))));
  });

  // ---------------------------------------------------------------- question pages
  async function pageFor(request: FastifyRequest<{ Params: { slug: string; page: string } }>, reply: FastifyReply) {
    const { slug } = request.params;
    const draft = await currentDraft(request, slug);
    if (!draft) {
      await liveOr404(slug);
      reply.redirect(`/forms/${slug}`);
      return undefined;
    }
    if (draft.submitted) {
      reply.redirect(`/forms/${slug}/confirmation`);
      return undefined;
    }
    const page = draft.definition.pages.find((candidate) => candidate.slug === request.params.page);
    if (!page) throw new HttpError(404, 'Page not found');
    const filler = await fillerFor(request, draft);
    const context = forms.routingContext(filler.profile);
    // Pages off the route, or beyond the first unanswered one, cannot be opened by typing their address.
    if (!forms.reachablePages(draft, context).includes(page.id)) {
      reply.redirect(pageUrl(slug, forms.resumePoint(draft, context)));
      return undefined;
    }
    return { draft, page, context };
  }

  app.get<{ Params: { slug: string; page: string } }>('/forms/:slug/:page', async (request, reply) => {
    const found = await pageFor(request, reply);
    if (!found) return reply;
    const { draft, page, context } = found;
    // A time taken as the form was sent: said once, on the page where it is chosen again.
    const taken = request.session.formTimeTaken?.[draft.slug];
    const errors = taken !== undefined && findQuestion(page, taken) ? [{ name: taken, href: `#${taken}`, text: TIME_TAKEN }] : [];
    if (taken !== undefined) {
      const { [draft.slug]: _shown, ...rest } = request.session.formTimeTaken ?? {};
      request.session.formTimeTaken = rest;
    }
    return renderPage(request, reply, draft, page, answersToRaw(page.components, draft.answers), errors, context, {}, 200);
  });

  app.post<{ Params: { slug: string; page: string } }>('/forms/:slug/:page', async (request, reply) => {
    const found = await pageFor(request, reply);
    if (!found) return reply;
    let { draft } = found;
    const { page, context } = found;
    const body = bodyOf(request);
    const raw = rawFieldsOf(body);
    const action = typeof body.action === 'string' ? body.action : 'continue';
    const [verb, target, index] = action.split(':');
    const change = (request.query as Record<string, string | undefined>).change === '1';

    // Uploads are kept at once, whatever button was pressed.
    const uploadErrors: FieldError[] = [];
    for (const [name, value] of Object.entries(body)) {
      if (!isUpload(value)) continue;
      const question = findQuestion(page, name);
      if (question?.type !== 'fileUpload') continue;
      const added = await forms.addFile(draft, question, value);
      if (added.ok) draft = added.draft;
      else uploadErrors.push({ name, href: `#${name}`, text: added.message });
    }
    if (uploadErrors.length > 0) return renderPage(request, reply, draft, page, raw, uploadErrors, context);

    // Buttons that change the page itself: add or remove an item, find an address, remove a file.
    if (verb === 'add' || verb === 'remove') {
      const group = target ? findQuestion(page, target) : undefined;
      if (group?.type === 'repeatingGroup') {
        const count = Number(raw[`${group.id}-items`] ?? group.min) || Math.max(group.min, 1);
        if (verb === 'add' && count < group.max) raw[`${group.id}-items`] = String(count + 1);
        if (verb === 'remove' && count > Math.max(group.min, 1)) removeItem(raw, group.id, Number(index), count);
        return renderPage(request, reply, draft, page, raw, [], context, { focus: group.id });
      }
    }
    if ((verb === 'find' || verb === 'manual' || verb === 'lookup') && target) {
      // The address may be on the page, revealed by a choice, or in an item of a repeating group: its fields are named by `target`.
      const field = questionNamed(page.components, target, raw);
      if (field?.question.type === 'address') {
        if (verb === 'manual') raw[`${target}-mode`] = 'manual';
        if (verb === 'lookup') raw[`${target}-mode`] = 'lookup';
        if (verb === 'find') {
          const problem = await addressSearchProblem(forms.geo, rawText(raw, `${target}-postcode`));
          if (problem) {
            const text = field.item ? `${field.item}: ${problem}` : problem;
            return renderPage(request, reply, draft, page, raw, [{ name: target, href: `#${target}-postcode`, text }], context);
          }
          raw[`${target}-mode`] = 'choose';
          raw[`${target}-uprn`] = '';
        }
        return renderPage(request, reply, draft, page, raw, [], context);
      }
    }
    if (verb === 'remove-file' && target) {
      draft = await forms.removeFile(draft, target, Number(index));
      return renderPage(request, reply, draft, page, raw, [], context);
    }
    if (verb === 'upload') return renderPage(request, reply, draft, page, raw, [], context);

    const result = await readPage(page.components, raw, { evaluation: { ...context, answers: draft.answers }, geo: forms.geo, stored: draft.answers });
    if (verb === 'save') {
      // Saving keeps what is right so far and does not hold the resident up with errors.
      const valid = Object.fromEntries(Object.entries(result.answers).filter(([, value]) => value !== undefined));
      await forms.keepAnswers(draft, valid);
      return reply.redirect(`/forms/${draft.slug}/save`, 303);
    }
    if (result.errors.length > 0) return renderPage(request, reply, draft, page, raw, result.errors, context);
    // Times chosen are held once everything else on the page is right.
    const held = await forms.holdTimes(page, result.answers, draft.answers);
    if (held.errors.length > 0) return renderPage(request, reply, draft, page, { ...raw, ...clearedFields(held.errors) }, held.errors, context);
    draft = await forms.savePage(draft, page.id, held.answers);

    const destination = nextPage(draft.definition, page.id, draft.answers, context);
    if (destination === undefined) throw new Error(`Form ${draft.slug} has no way forward from page ${page.id}`);
    if ('exit' in destination) return reply.redirect(destination.exit, 303);
    if (change) {
      // After a change, ask any new questions the changed answer leads to, then return to the summary.
      const point = forms.resumePoint(draft, context);
      return reply.redirect(point === 'check-answers' ? `/forms/${draft.slug}/check-answers` : pageUrl(draft.slug, point, true), 303);
    }
    if ('checkAnswers' in destination) return reply.redirect(`/forms/${draft.slug}/check-answers`, 303);
    const next = draft.definition.pages.find((candidate) => candidate.id === destination.page);
    return reply.redirect(next ? pageUrl(draft.slug, next) : `/forms/${draft.slug}/check-answers`, 303);
  });
}

/** A time that could not be held is not chosen when the page is shown again. */
function clearedFields(errors: readonly FieldError[]): RawFields {
  return Object.fromEntries(errors.map((error) => [error.name, undefined]));
}

/** Removes item `index` of a repeating group from posted fields, moving later items up. */
function removeItem(raw: RawFields, groupId: string, index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) return;
  for (let i = index; i < count; i += 1) {
    const from = `${groupId}-${i + 1}-`;
    const to = `${groupId}-${i}-`;
    for (const key of Object.keys(raw)) if (key.startsWith(to)) raw[key] = undefined;
    for (const key of Object.keys(raw)) if (key.startsWith(from)) raw[to + key.slice(from.length)] = raw[key];
  }
  for (const key of Object.keys(raw)) if (key.startsWith(`${groupId}-${count - 1}-`)) raw[key] = undefined;
  raw[`${groupId}-items`] = String(count - 1);
}
