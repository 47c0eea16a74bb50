import { randomUUID } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { haversineMetres, type AssetKind } from '#platform/geo/index';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import { extraQuestionView } from '#modules/forms/index';
import {
  assetLabel,
  canOpen,
  capitalise,
  checkQuestions,
  distanceText,
  fieldAnchor,
  nextStep,
  previousStep,
  reportedText,
  resumePoint,
  roundCoordinate,
  STEP_PATHS,
  STEPS,
  stepForField,
  type ReportDraft,
  type Step,
} from './journey-draft.js';
import { registerReportMapRoutes } from './map-routes.js';
import { ASSET_KIND_NAMES, isUrgent, type ReportCategory } from './model/category.js';
import { ASSET_RADIUS_METRES, MAX_PHOTO_BYTES, MAX_PHOTOS, ReportProblems, type PublicReport, type ReportsService } from './service.js';

type Body = Record<string, unknown>;
type Resident = Awaited<ReturnType<Account['residents']['signedIn']>>;
type Query = Record<string, string | undefined>;

interface Upload {
  filename: string;
  bytes: Buffer;
  tooLarge: boolean;
}

interface State {
  draft: ReportDraft | undefined;
  category: ReportCategory | undefined;
  resident: Resident;
}

/** A photo's own position is offered instead of the chosen point when it is further away than this. */
const PHOTO_OFFER_METRES = 25;
const MAX_DESCRIPTION = 2000;
/** Every upload is stored until the report is sent or abandoned, so one report may upload only so many. */
const MAX_UPLOADS = 10;
const EMAIL = /^[^\s@<>,;"()[\]\\]+@[^\s@<>,;"()[\]\\]+\.[^\s@<>,;"()[\]\\]+$/;
const PHONE = /^\+?[\d\s().-]{7,24}$/;

const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const textOf = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
const queryOf = (request: FastifyRequest): Query => (request.query ?? {}) as Query;
const isChange = (request: FastifyRequest): boolean => queryOf(request).change === '1';

function isUpload(value: unknown): value is Upload {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as Upload).bytes);
}

function uploadsOf(value: unknown): Upload[] {
  return (Array.isArray(value) ? value : [value]).filter(isUpload).filter((upload) => upload.bytes.length > 0 || upload.tooLarge);
}

function stepUrl(step: Step, change: boolean, hash = ''): string {
  return `${STEP_PATHS[step]}${change && step !== 'check' ? '?change=1' : ''}${hash}`;
}

function pointQuery(lat: number, lng: number, change: boolean): string {
  return `lat=${roundCoordinate(lat)}&lng=${roundCoordinate(lng)}${change ? '&change=1' : ''}`;
}

/** The category's answers as posted: text, or lists of text for checkboxes. */
function postedAnswers(category: ReportCategory, body: Body): Record<string, string | string[]> {
  const answers: Record<string, string | string[]> = {};
  for (const question of category.questions) {
    const value = body[question.id];
    if (typeof value === 'string') answers[question.id] = value;
    else if (Array.isArray(value)) answers[question.id] = value.filter((item): item is string => typeof item === 'string');
  }
  return answers;
}

/** The asset step opens only for categories with an asset, so one without is a mistake in the journey. */
function assetKindOf(category: ReportCategory): AssetKind {
  if (!category.asset) throw new Error(`${category.code} has no asset to choose`);
  return category.asset.kind;
}

const errorList = (problems: { field: string; message: string }[]) => problems.map((p) => ({ text: p.message, href: fieldAnchor(p.field) }));
const errorFor = (problems: { field: string; message: string }[], field: string): string | undefined => problems.find((p) => p.field === field)?.message;

/**
 * The resident's "Report a problem" journey: where, what, which asset (or is it one of these), the
 * details and photos, about you, check your answers, sent. It keeps a draft in the session and
 * works without JavaScript; the map only adds another way to choose the place and the asset.
 */
export function registerReportJourney(app: FastifyInstance, service: ReportsService, account: Account, platform: Platform): void {
  registerReportMapRoutes(app, service, platform);
  void app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_PHOTO_BYTES, files: MAX_PHOTOS, fields: 100 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        (part as unknown as { value: Upload | string }).value =
          bytes.length > 0 || part.file.truncated ? { filename: part.filename, bytes, tooLarge: part.file.truncated } : '';
      },
    });
    journeyRoutes(scope, service, account, platform);
  });
}

function journeyRoutes(app: FastifyInstance, service: ReportsService, account: Account, platform: Platform): void {
  const { profile } = platform.council;
  const tiles = platform.config.mapTiles ? { url: platform.config.mapTiles.url, attribution: platform.config.mapTiles.attribution } : undefined;

  async function stateOf(request: FastifyRequest): Promise<State> {
    const resident = await account.residents.signedIn(request);
    const draft = request.session.reportDraft;
    const category = draft?.category ? service.category(draft.category) : undefined;
    return { draft, category, resident };
  }

  function save(request: FastifyRequest, draft: ReportDraft): void {
    request.session.reportDraft = { ...draft };
  }

  /** The draft and its category when the step can be opened; otherwise sends the resident to the step they are on. */
  async function open(
    request: FastifyRequest,
    reply: FastifyReply,
    step: Step,
  ): Promise<(State & { draft: ReportDraft; category: ReportCategory }) | undefined> {
    const state = await stateOf(request);
    const { draft, category, resident } = state;
    // Every step after "what" needs the category, so canOpen refuses them until there is one.
    if (!draft || !category || !canOpen(step, draft, category, resident?.id)) {
      await reply.redirect(stepUrl(resumePoint(draft, category, resident?.id), false), request.method === 'GET' ? 302 : 303);
      return undefined;
    }
    return { ...state, draft, category };
  }

  /** Problems found when the report was sent, shown once on the step that puts them right. */
  function takeProblems(request: FastifyRequest, draft: ReportDraft, step: Step, category: ReportCategory | undefined) {
    const problems = (draft.problems ?? []).filter((p) => stepForField(p.field, category) === step);
    if (draft.problems) {
      const rest = draft.problems.filter((p) => stepForField(p.field, category) !== step);
      save(request, { ...draft, problems: rest.length > 0 ? rest : undefined });
    }
    return problems;
  }

  function backFor(step: Step, draft: ReportDraft | undefined, category: ReportCategory | undefined, change: boolean): string {
    if (change) return STEP_PATHS.check;
    const previous = previousStep(step, draft, category);
    return previous ? STEP_PATHS[previous] : '/';
  }

  function page(reply: FastifyReply, template: string, title: string, values: Record<string, unknown>, status = 200) {
    const errors = (values.errors as unknown[] | undefined) ?? [];
    return reply.code(status).view(`reports-journey/${template}.njk`, { pageTitle: `${title} - Report a problem`, tiles, ...values, errors });
  }

  /**
   * After a step: on to the next one, or (after a change) to the first step still to do. A page of
   * nearby reports with none to show is passed over.
   */
  async function advance(request: FastifyRequest, reply: FastifyReply, from: Step | 'resume', change: boolean) {
    const { draft, category, resident } = await stateOf(request);
    const after = (step: Step | 'resume', current: ReportDraft | undefined) =>
      step === 'resume' || change ? resumePoint(current, category, resident?.id) : nextStep(step, category);
    let target = after(from, draft);
    if (target === 'duplicates' && draft && category) {
      const nearby = await service.openNearby(category.code, draft.lat, draft.lng);
      if (nearby.length === 0) {
        const checked = { ...draft, duplicatesChecked: true, duplicatesShown: false };
        save(request, checked);
        target = after(from === 'resume' ? 'resume' : 'duplicates', checked);
      }
    }
    return reply.redirect(stepUrl(target, change), 303);
  }

  function urgentMessage(category: ReportCategory, draft: ReportDraft): string | undefined {
    if (!category.urgentWhen?.emergencyMessage) return undefined;
    return isUrgent(category, checkQuestions(category, draft.answers).values) ? category.urgentWhen.emergencyMessage : undefined;
  }

  function reportView(report: PublicReport & { distanceMetres?: number }) {
    return {
      reference: report.reference,
      title: report.title,
      category: report.category.name,
      statusName: report.statusName,
      place: report.place,
      reported: reportedText(report),
      distance: report.distanceMetres === undefined ? undefined : distanceText(report.distanceMetres),
    };
  }

  /* ---------------------------------------------------------------- 1. where */

  app.get('/report', async (request, reply) => {
    const query = queryOf(request);
    const change = isChange(request);
    const { draft, category } = await stateOf(request);
    const problems = draft ? takeProblems(request, draft, 'where', category) : [];
    const values: Record<string, unknown> = {
      change,
      back: change ? STEP_PATHS.check : '/',
      current: draft ? (draft.where ?? 'the place you chose') : undefined,
      point: draft ? { lat: draft.lat, lng: draft.lng } : undefined,
      errors: errorList(problems),
      qError: errorFor(problems, 'location'),
    };
    if (query.lat !== undefined || query.lng !== undefined) {
      const lat = Number(query.lat);
      const lng = Number(query.lng);
      try {
        const where = await service.locate(lat, lng);
        if (where.inside) return reply.redirect(`${STEP_PATHS.category}?${pointQuery(lat, lng, change)}`);
        return page(reply, 'where', 'Where is the problem?', { ...values, outside: true, point: { lat, lng } });
      } catch (error) {
        if (!(error instanceof ReportProblems)) throw error;
        return page(reply, 'where', 'Where is the problem?', { ...values, errors: errorList(error.problems), qError: error.problems[0]?.message });
      }
    }
    if (query.q !== undefined) {
      const q = query.q.trim();
      if (!q)
        return page(reply, 'where', 'Where is the problem?', {
          ...values,
          q,
          errors: [{ text: 'Enter a postcode, street name or address', href: '#q' }],
          qError: 'Enter a postcode, street name or address',
        });
      const places = await service.findPlaces(q);
      if (places.length === 0) {
        const message = `No places in ${profile.area} match ‘${q.slice(0, 100)}’. Check the spelling, or enter a postcode or street name`;
        return page(reply, 'where', 'Where is the problem?', { ...values, q, errors: [{ text: message, href: '#q' }], qError: message });
      }
      return page(reply, 'where', 'Where is the problem?', {
        ...values,
        q,
        places: places.map((place) => ({ label: place.label, href: `${STEP_PATHS.category}?${pointQuery(place.lat, place.lng, change)}` })),
      });
    }
    return page(reply, 'where', 'Where is the problem?', values);
  });

  /* ---------------------------------------------------------------- 2. what */

  function categoryGroups(chosen: string | undefined) {
    const groups = new Map<string, { value: string; text: string; hint: { text: string }; checked: boolean }[]>();
    for (const category of service.categories()) {
      const items = groups.get(category.group) ?? [];
      items.push({ value: category.code, text: category.name, hint: { text: category.description }, checked: category.code === chosen });
      groups.set(category.group, items);
    }
    return [...groups].map(([name, items]) => ({ name, items }));
  }

  /** The point the category page is for: the one in the address, else the draft's. Undefined sends the resident back to choose one. */
  async function chosenPoint(raw: { lat?: unknown; lng?: unknown }, draft: ReportDraft | undefined) {
    if (raw.lat === undefined && raw.lng === undefined) return draft ? { lat: draft.lat, lng: draft.lng, where: draft.where } : undefined;
    const lat = Number(raw.lat);
    const lng = Number(raw.lng);
    try {
      const where = await service.locate(lat, lng);
      return where.inside ? { lat, lng, where: where.description } : undefined;
    } catch (error) {
      if (error instanceof ReportProblems) return undefined;
      throw error;
    }
  }

  function renderCategory(
    reply: FastifyReply,
    change: boolean,
    point: { lat: number; lng: number; where: string | null },
    chosen: string | undefined,
    error?: string,
  ) {
    return page(
      reply,
      'category',
      'What is the problem?',
      {
        change,
        back: change ? STEP_PATHS.check : STEP_PATHS.where,
        point: { lat: roundCoordinate(point.lat), lng: roundCoordinate(point.lng) },
        where: point.where,
        groups: categoryGroups(chosen),
        categoryError: error,
        errors: error ? [{ text: error, href: '#category' }] : [],
      },
      error ? 400 : 200,
    );
  }

  app.get('/report/category', async (request, reply) => {
    const query = queryOf(request);
    const change = isChange(request);
    const { draft, category } = await stateOf(request);
    const point = await chosenPoint(query, draft);
    if (!point)
      return reply.redirect(query.lat !== undefined ? `${STEP_PATHS.where}?${pointQuery(Number(query.lat), Number(query.lng), change)}` : STEP_PATHS.where);
    const problems = draft ? takeProblems(request, draft, 'category', category) : [];
    return renderCategory(reply, change, point, draft?.category, errorFor(problems, 'category'));
  });

  app.post('/report/category', async (request, reply) => {
    const body = bodyOf(request);
    const change = isChange(request);
    const { draft: existing } = await stateOf(request);
    const point = await chosenPoint({ lat: body.lat, lng: body.lng }, existing);
    if (!point) return reply.redirect(STEP_PATHS.where, 303);
    const code = textOf(body.category);
    const category = code ? service.category(code) : undefined;
    if (!category) return renderCategory(reply, change, point, undefined, 'Select the problem');

    const draft: ReportDraft = existing ?? {
      key: randomUUID(),
      lat: point.lat,
      lng: point.lng,
      where: point.where,
      answers: {},
      photos: [],
      about: { showName: false },
    };
    // The same place posted back (perhaps rounded) is not a move: the chosen asset stays.
    if (haversineMetres(draft, point) > 1) {
      Object.assign(draft, {
        lat: point.lat,
        lng: point.lng,
        where: point.where,
        assetId: undefined,
        duplicatesChecked: undefined,
        duplicatesShown: undefined,
      });
    }
    if (draft.category !== category.code) {
      Object.assign(draft, {
        category: category.code,
        answers: {},
        detailsDone: undefined,
        assetId: undefined,
        duplicatesChecked: undefined,
        duplicatesShown: undefined,
      });
    }
    save(request, draft);
    return advance(request, reply, 'category', change);
  });

  /* ---------------------------------------------------------------- 2b. which asset */

  async function renderAsset(request: FastifyRequest, reply: FastifyReply, state: State & { draft: ReportDraft; category: ReportCategory }, error?: string) {
    const { draft, category, resident } = state;
    const change = isChange(request);
    const kind = assetKindOf(category);
    const kindName = ASSET_KIND_NAMES[kind];
    const assets = await service.assetsNear(category.code, draft.lat, draft.lng);
    const items = assets.map((asset) => ({
      value: asset.id,
      text: `${assetLabel(kindName, asset.id)}, ${distanceText(asset.distanceMetres)}`,
      hint: asset.openReport ? { text: `Already reported: ${reportedText(asset.openReport)}` } : undefined,
      checked: asset.id === draft.assetId,
    }));
    const reported = assets.flatMap((asset) => (asset.openReport ? [{ ...reportView(asset.openReport), asset: assetLabel(kindName, asset.id) }] : []));
    return page(
      reply,
      'asset',
      `Which ${kindName} is it?`,
      {
        change,
        back: backFor('asset', draft, category, change),
        kindName,
        kind,
        category,
        where: draft.where,
        point: { lat: draft.lat, lng: draft.lng },
        items,
        reported,
        radius: ASSET_RADIUS_METRES,
        signedIn: resident !== undefined,
        assetError: error,
        errors: error ? [{ text: error, href: '#asset' }] : [],
      },
      error ? 400 : 200,
    );
  }

  app.get('/report/asset', async (request, reply) => {
    const state = await open(request, reply, 'asset');
    if (!state) return reply;
    const problems = takeProblems(request, state.draft, 'asset', state.category);
    return renderAsset(request, reply, state, errorFor(problems, 'asset'));
  });

  app.post('/report/asset', async (request, reply) => {
    const state = await open(request, reply, 'asset');
    if (!state) return reply;
    const { draft, category } = state;
    const body = bodyOf(request);
    const change = isChange(request);
    const kindName = ASSET_KIND_NAMES[assetKindOf(category)];
    const fromMap = textOf(body.mapAsset);
    const [lat, lng] = [Number(body.lat), Number(body.lng)];
    let chosen: { id: string; lat: number; lng: number } | undefined;
    if (fromMap && Number.isFinite(lat) && Number.isFinite(lng)) {
      // Picked on the map, perhaps further away than the list goes: the report moves to the asset.
      const near = await service.assetsNear(category.code, lat, lng, 30);
      const asset = near.find((a) => a.id === fromMap);
      const where = asset ? await service.locate(asset.lat, asset.lng) : undefined;
      if (asset && where?.inside) {
        chosen = asset;
        Object.assign(draft, { lat: asset.lat, lng: asset.lng, where: where.description });
      }
    } else {
      const id = textOf(body.asset);
      chosen = id ? (await service.assetsNear(category.code, draft.lat, draft.lng)).find((a) => a.id === id) : undefined;
    }
    if (!chosen) return renderAsset(request, reply, state, `Select the ${kindName}`);
    save(request, { ...draft, assetId: chosen.id });
    return advance(request, reply, 'asset', change);
  });

  /* ---------------------------------------------------------------- 3. is it one of these? */

  app.get('/report/duplicates', async (request, reply) => {
    const state = await open(request, reply, 'duplicates');
    if (!state) return reply;
    const { draft, category, resident } = state;
    const change = isChange(request);
    const nearby = await service.openNearby(category.code, draft.lat, draft.lng);
    if (nearby.length === 0) {
      save(request, { ...draft, duplicatesChecked: true, duplicatesShown: false });
      return reply.redirect(stepUrl(change ? resumePoint({ ...draft, duplicatesChecked: true }, category, resident?.id) : 'details', change));
    }
    save(request, { ...draft, duplicatesShown: true });
    return page(reply, 'duplicates', 'Is it one of these?', {
      change,
      back: backFor('duplicates', draft, category, change),
      category,
      where: draft.where,
      reported: nearby.map(reportView),
      signedIn: resident !== undefined,
    });
  });

  app.post('/report/duplicates', async (request, reply) => {
    const state = await open(request, reply, 'duplicates');
    if (!state) return reply;
    save(request, { ...state.draft, duplicatesChecked: true });
    return advance(request, reply, 'duplicates', isChange(request));
  });

  /* ---------------------------------------------------------------- 4. details and photos */

  function renderDetails(
    request: FastifyRequest,
    reply: FastifyReply,
    state: State & { draft: ReportDraft; category: ReportCategory },
    problems: { field: string; message: string }[],
  ) {
    const { draft, category } = state;
    const change = isChange(request);
    const photos = draft.photos.map((photo) => ({
      id: photo.id,
      name: photo.name,
      offer: photo.offer && haversineMetres(photo.offer, draft) > PHOTO_OFFER_METRES ? { where: photo.offer.where ?? 'another place in the area' } : undefined,
    }));
    return page(
      reply,
      'details',
      'Tell us about the problem',
      {
        change,
        action: stepUrl('details', change),
        back: backFor('details', draft, category, change),
        category,
        where: draft.where,
        asset: draft.assetId && category.asset ? assetLabel(ASSET_KIND_NAMES[category.asset.kind], draft.assetId) : undefined,
        questions: category.questions.map((question) => extraQuestionView(question, draft.answers[question.id], errorFor(problems, question.id))),
        description: draft.description ?? '',
        descriptionError: errorFor(problems, 'detail'),
        maxDescription: MAX_DESCRIPTION,
        photos,
        canAddPhoto: draft.photos.length < MAX_PHOTOS,
        maxPhotos: MAX_PHOTOS,
        photosError: errorFor(problems, 'photos'),
        errors: errorList(problems),
      },
      problems.length > 0 && request.method === 'POST' ? 400 : 200,
    );
  }

  app.get('/report/details', async (request, reply) => {
    const state = await open(request, reply, 'details');
    if (!state) return reply;
    return renderDetails(request, reply, state, takeProblems(request, state.draft, 'details', state.category));
  });

  app.post('/report/details', async (request, reply) => {
    const state = await open(request, reply, 'details');
    if (!state) return reply;
    const { category } = state;
    const draft: ReportDraft = { ...state.draft, photos: [...state.draft.photos] };
    const body = bodyOf(request);
    const change = isChange(request);
    const action = textOf(body.action) || 'continue';
    // Whatever was pressed, keep what was typed so nothing is lost.
    draft.answers = postedAnswers(category, body);
    draft.description = typeof body.description === 'string' ? body.description.replace(/\r\n/g, '\n') : '';

    const problems: { field: string; message: string }[] = [];
    const uploads = uploadsOf(body.photos);
    for (const upload of uploads) {
      if (upload.tooLarge) problems.push({ field: 'photos', message: 'The selected photo must be smaller than 10MB' });
      else if (draft.photos.length >= MAX_PHOTOS) problems.push({ field: 'photos', message: `You can add up to ${MAX_PHOTOS} photos` });
      else if ((draft.uploads ?? 0) >= MAX_UPLOADS)
        problems.push({ field: 'photos', message: `You have added and removed too many photos for one report: send it with the ones you have` });
      else {
        try {
          draft.uploads = (draft.uploads ?? 0) + 1;
          const kept = await service.stashPhoto(upload.bytes, upload.filename);
          const at = kept.position ? await service.locate(kept.position.lat, kept.position.lng) : undefined;
          draft.photos.push({
            id: kept.id,
            name: upload.filename || `Photo ${draft.photos.length + 1}`,
            ...(at?.inside ? { offer: { lat: at.lat, lng: at.lng, where: at.description } } : {}),
          });
        } catch (error) {
          if (!(error instanceof ReportProblems)) throw error;
          problems.push(...error.problems.map((p) => ({ field: 'photos', message: p.message })));
        }
      }
    }
    if (action === 'upload' && uploads.length === 0) problems.push({ field: 'photos', message: 'Select a photo' });
    const [verb, photoId] = action.split(':');
    if (verb === 'remove-photo') draft.photos = draft.photos.filter((photo) => photo.id !== photoId);
    if (verb === 'use-photo-location') {
      const offer = draft.photos.find((photo) => photo.id === photoId)?.offer;
      if (offer) {
        Object.assign(draft, {
          lat: offer.lat,
          lng: offer.lng,
          where: offer.where,
          assetId: undefined,
          duplicatesChecked: undefined,
          duplicatesShown: undefined,
        });
        save(request, draft);
        return advance(request, reply, 'resume', change);
      }
    }
    save(request, draft);
    if (problems.length > 0) return renderDetails(request, reply, { ...state, draft }, problems);
    if (action !== 'continue') return reply.redirect(stepUrl('details', change, '#photos'), 303);

    const checked = checkQuestions(category, draft.answers);
    problems.push(...checked.errors);
    const description = draft.description.trim();
    if (!description) problems.push({ field: 'detail', message: 'Describe the problem' });
    else if (description.length > MAX_DESCRIPTION)
      problems.push({ field: 'detail', message: `The description must be ${MAX_DESCRIPTION} characters or fewer` });
    if (problems.length > 0) return renderDetails(request, reply, { ...state, draft }, problems);
    save(request, { ...draft, detailsDone: true });
    return advance(request, reply, 'details', change);
  });

  /* ---------------------------------------------------------------- 5. about you */

  function renderAbout(
    request: FastifyRequest,
    reply: FastifyReply,
    state: State & { draft: ReportDraft; category: ReportCategory },
    values: ReportDraft['about'],
    problems: { field: string; message: string }[],
  ) {
    const { draft, category, resident } = state;
    const change = isChange(request);
    return page(
      reply,
      'about',
      resident ? 'Your details' : 'About you',
      {
        change,
        action: stepUrl('about', change),
        back: backFor('about', draft, category, change),
        resident: resident ? { name: resident.name, email: resident.email } : undefined,
        values,
        fieldErrors: Object.fromEntries(problems.map((p) => [p.field, p.message])),
        urgentMessage: urgentMessage(category, draft),
        errors: errorList(problems),
      },
      problems.length > 0 && request.method === 'POST' ? 400 : 200,
    );
  }

  app.get('/report/about', async (request, reply) => {
    const state = await open(request, reply, 'about');
    if (!state) return reply;
    return renderAbout(request, reply, state, state.draft.about, takeProblems(request, state.draft, 'about', state.category));
  });

  app.post('/report/about', async (request, reply) => {
    const state = await open(request, reply, 'about');
    if (!state) return reply;
    const { draft, resident } = state;
    const body = bodyOf(request);
    const showName = body.showName === 'yes';
    if (resident) {
      save(request, { ...draft, about: { ...draft.about, showName: showName && resident.name !== null }, aboutFor: resident.id });
      return advance(request, reply, 'about', isChange(request));
    }
    const values = { name: textOf(body.name).slice(0, 200), email: textOf(body.email).slice(0, 254), phone: textOf(body.phone).slice(0, 30), showName };
    const problems: { field: string; message: string }[] = [];
    if (!values.name) problems.push({ field: 'name', message: 'Enter your name' });
    if (!values.email) problems.push({ field: 'email', message: 'Enter your email address' });
    else if (!EMAIL.test(values.email)) problems.push({ field: 'email', message: 'Enter an email address in the correct format, like name@example.com' });
    if (values.phone && !PHONE.test(values.phone)) problems.push({ field: 'phone', message: 'Enter a telephone number, like 01632 960 001 or 07700 900 982' });
    save(request, { ...draft, about: values, aboutFor: problems.length > 0 ? undefined : '' });
    if (problems.length > 0) return renderAbout(request, reply, { ...state, draft: { ...draft, about: values } }, values, problems);
    return advance(request, reply, 'about', isChange(request));
  });

  /* ---------------------------------------------------------------- 6. check and send */

  function summary(draft: ReportDraft, category: ReportCategory, resident: Resident) {
    const change = (step: Step, hash = '') => `${STEP_PATHS[step]}?change=1${hash}`;
    const answers = service.answerLines(category, checkQuestions(category, draft.answers).values);
    const report = [
      { key: 'Location', value: draft.where ? `Near ${draft.where}` : 'The place you chose on the map', href: change('where'), hidden: 'the location' },
      { key: 'Problem', value: category.name, href: change('category'), hidden: 'the problem' },
      ...(category.asset && draft.assetId
        ? [
            {
              key: capitalise(ASSET_KIND_NAMES[category.asset.kind]),
              value: draft.assetId,
              href: change('asset'),
              hidden: `the ${ASSET_KIND_NAMES[category.asset.kind]}`,
            },
          ]
        : []),
      ...answers.map((line) => {
        const question = category.questions.find((q) => q.label === line.question);
        return { key: line.question, value: line.answer, href: change('details', `#${question?.id ?? 'description'}`), hidden: line.question.toLowerCase() };
      }),
      { key: 'Description', value: (draft.description ?? '').trim(), href: change('details', '#description'), hidden: 'the description' },
      {
        key: 'Photos',
        value: draft.photos.length > 0 ? draft.photos.map((p) => p.name).join('\n') : 'None',
        href: change('details', '#photos'),
        hidden: 'the photos',
      },
    ];
    const you = resident
      ? [
          // From the account: changed there, not here.
          { key: 'Name', value: resident.name ?? 'Not given' },
          { key: 'Email address', value: resident.email },
          { key: 'Show your name publicly', value: draft.about.showName ? 'Yes' : 'No', href: change('about'), hidden: 'whether your name is shown' },
        ]
      : [
          { key: 'Name', value: draft.about.name ?? '', href: change('about', '#name'), hidden: 'your name' },
          { key: 'Email address', value: draft.about.email ?? '', href: change('about', '#email'), hidden: 'your email address' },
          { key: 'Phone number', value: draft.about.phone || 'Not given', href: change('about', '#phone'), hidden: 'your phone number' },
          {
            key: 'Show your name publicly',
            value: draft.about.showName ? 'Yes' : 'No',
            href: change('about', '#showName'),
            hidden: 'whether your name is shown',
          },
        ];
    return { report, you };
  }

  app.get('/report/check', async (request, reply) => {
    const state = await open(request, reply, 'check');
    if (!state) return reply;
    const { draft, category, resident } = state;
    const problems = takeProblems(request, draft, 'check', category);
    return page(reply, 'check', 'Check your answers before sending your report', {
      errors: problems.map((p) => ({ text: p.message, href: '#send' })),
      back: backFor('check', draft, category, false),
      sections: summary(draft, category, resident),
      urgentMessage: urgentMessage(category, draft),
      publicReport: category.public,
      key: draft.key,
    });
  });

  app.post('/report/check', async (request, reply) => {
    const key = textOf(bodyOf(request).key);
    const sent = request.session.reportSent;
    // A second press after the first has finished: the report is already made.
    if (sent && sent.key === key) return reply.redirect(`/report/sent/${sent.reference}`, 303);
    const state = await open(request, reply, 'check');
    if (!state) return reply;
    const { draft, category, resident } = state;
    if (draft.key !== key) return reply.redirect(STEP_PATHS.check, 303);
    try {
      const result = await service.submit({
        category: category.code,
        lat: draft.lat,
        lng: draft.lng,
        assetId: draft.assetId,
        detail: draft.description ?? '',
        answers: draft.answers,
        photoIds: draft.photos.map((photo) => photo.id),
        reporter: resident
          ? { residentId: resident.id, showName: draft.about.showName }
          : { name: draft.about.name, email: draft.about.email, phone: draft.about.phone || undefined, showName: draft.about.showName },
        source: 'web',
        submissionKey: draft.key,
      });
      request.session.reportSent = {
        reference: result.report.reference,
        key: draft.key,
        email: resident?.email ?? draft.about.email ?? null,
        urgentMessage: result.urgentMessage ?? urgentMessage(category, draft) ?? null,
        signedIn: resident !== undefined,
        public: category.public,
      };
      request.session.reportDraft = undefined;
      return reply.redirect(`/report/sent/${result.report.reference}`, 303);
    } catch (error) {
      if (!(error instanceof ReportProblems)) throw error;
      const steps = new Set(error.problems.map((p) => stepForField(p.field, category)));
      const first = STEPS.find((step) => steps.has(step)) ?? 'check';
      save(request, {
        ...draft,
        problems: error.problems,
        ...(steps.has('asset') ? { assetId: undefined } : {}),
        ...(steps.has('details') ? { detailsDone: undefined } : {}),
        ...(steps.has('about') ? { aboutFor: undefined } : {}),
        // Kept photos that are no longer there cannot be sent: the resident adds them again.
        ...(error.problems.some((p) => p.field === 'photos') ? { photos: [] } : {}),
      });
      return reply.redirect(stepUrl(first, true), 303);
    }
  });

  app.get<{ Params: { reference: string } }>('/report/sent/:reference', async (request, reply) => {
    const sent = request.session.reportSent;
    if (!sent || sent.reference !== request.params.reference) return reply.redirect(`/reports/${encodeURIComponent(request.params.reference)}`);
    return page(reply, 'sent', 'Report sent', { sent });
  });
}
