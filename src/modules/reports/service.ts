import { ukDay } from '#platform/council/dates';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordAudit } from '#platform/audit/index';
import type { Files } from '#platform/files/index';
import { PHOTO_TYPES, PhotoError, readPhotoPosition, stripPhotoMetadata } from '#platform/files/images';
import { boxAround, haversineMetres, normalisePostcode, type Asset, type AssetKind, type BBox, type Geography } from '#platform/geo/index';
import { HttpError } from '#platform/http/errors';
import { queueEmail, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { signToken, verifyToken } from '#platform/security/tokens';
import { assertCan, type Account, type StaffMember } from '#modules/account/index';
import { normaliseReference, type CaseActor, type CaseChange, type Cases, type Subject } from '#modules/cases/index';
import { validateAnswer } from '#modules/forms/index';
import { ASSET_KIND_NAMES, isUrgent, REPORT_STATUS_NAMES, type ReportCategory, type ReportStatus } from './model/category.js';
import { createReportsRepository, reportsDb, type PublicQuery, type ReportRow, type ReportsDb, type StaffQuery } from './repository.js';

/** Open reports of the same category this close are offered to the resident before they report again. */
export const DUPLICATE_RADIUS_METRES = 50;
/** How far around a point the journey lists assets to pick from. */
export const ASSET_RADIUS_METRES = 150;
export const MAX_PHOTOS = 3;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
/** The reporter may say a fixed report is not fixed for this long. */
export const NOT_FIXED_DAYS = 28;
const MAX_DETAIL = 2000;
const TRACKING_DAYS = 400;
/** Approximate locations are rounded to about 100 metres. */
const APPROXIMATE_DECIMALS = 3;
const EMAIL = /^[^\s@<>,;"()[\]\\]+@[^\s@<>,;"()[\]\\]+\.[^\s@<>,;"()[\]\\]+$/;

/** A field-by-field refusal, shown as a GOV.UK error summary (or Open311 400 errors). */
export class ReportProblems extends Error {
  override readonly name = 'ReportProblems';
  constructor(readonly problems: { field: string; message: string }[]) {
    super(problems.map((p) => p.message).join('; '));
  }
}

export interface ReportPhotoInput {
  bytes: Buffer;
  filename?: string | undefined;
}

export interface ReportInput {
  category: string;
  lat: number;
  lng: number;
  /** Required for asset-based categories; the report is placed at the asset. */
  assetId?: string | undefined;
  /** The resident's words for where it is, e.g. "by the bus stop". */
  place?: string | undefined;
  detail: string;
  /** Answers to the category's questions as posted: strings, or lists for checkboxes. */
  answers: Readonly<Record<string, unknown>>;
  photos?: ReportPhotoInput[] | undefined;
  /** Photos kept earlier with stashPhoto. */
  photoIds?: string[] | undefined;
  reporter: { residentId?: string | undefined; name?: string | undefined; email?: string | undefined; phone?: string | undefined; showName: boolean };
  source: 'web' | 'open311' | 'staff';
  apiKeyId?: string | undefined;
  /** The same key twice makes one report. */
  submissionKey?: string | undefined;
  /** When it was reported, for reports brought over from another system; now by default. */
  reportedAt?: Date | undefined;
}

/** What anyone may see of a report. */
export interface PublicReport {
  reference: string;
  category: { code: string; name: string; group: string };
  title: string;
  detail: string;
  status: ReportStatus;
  statusName: string;
  closed: boolean;
  lat: number;
  lng: number;
  approximate: boolean;
  place: string | null;
  wardCode: string | null;
  assetId: string | null;
  name: string | null;
  createdAt: Date;
  updatedAt: Date;
  fixedAt: Date | null;
  duplicateOf: string | null;
}

export interface PublicReportPage extends PublicReport {
  updates: { id: string; status: ReportStatus; statusName: string; text: string | null; kind: string; at: Date }[];
  photos: { id: string; href: string }[];
  followers: number;
}

/** A public report in a list (Open311 requests): with its newest public words and first approved photo. */
export interface ListedReport extends PublicReport {
  latestNote: string | null;
  photoHref: string | null;
}

export interface AssetWithReport extends Asset {
  kindName: string;
  distanceMetres: number;
  openReport: PublicReport | null;
}

export interface Location {
  lat: number;
  lng: number;
  inside: boolean;
  wardCode: string | null;
  wardName: string | null;
  street: string | null;
  usrn: string | null;
  /** "Market Street, Kingsmere", for the public and the case. */
  description: string | null;
}

export interface ReportsContext {
  platform: Platform;
  cases: Pick<Cases, 'service'>;
  geo: Geography;
  files: Files;
  notifier: Pick<Notifier, 'nudge'>;
  account: Pick<Account, 'residents'>;
  categories: ReadonlyMap<string, ReportCategory>;
}

function clean(text: unknown, max: number): string | undefined {
  if (typeof text !== 'string') return undefined;
  const value = text.replace(/\r\n/g, '\n').trim();
  return value ? value.slice(0, max) : undefined;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** The asset's state while it has reports: the map shows it. */
function assetStateFor(status: ReportStatus, closed: boolean): string {
  if (closed) return 'working';
  return status === 'action_scheduled' || status === 'in_progress' ? 'under-maintenance' : 'fault-reported';
}

export function createReportsService(ctx: ReportsContext) {
  const { platform, cases, geo, files, notifier, categories, account } = ctx;
  /** Duplicates being marked in this process: the case change that closes one moves its followers in the same transaction. */
  const markingDuplicate = new Map<string, string>();
  const { config } = platform;
  const db = reportsDb(platform.database.db as unknown as Kysely<object>);
  const repo = createReportsRepository(db);
  const secret = config.sessionSecret;

  function categoryOf(code: string): ReportCategory {
    const category = categories.get(code);
    if (!category) throw new HttpError(404, 'Category not found');
    return category;
  }

  function toPublic(row: ReportRow): PublicReport {
    const category = categoryOf(row.category);
    return {
      reference: row.reference,
      category: { code: category.code, name: category.name, group: category.group },
      title: row.title,
      detail: row.detail,
      status: row.status,
      statusName: REPORT_STATUS_NAMES[row.status],
      closed: row.closed,
      lat: row.public_lat,
      lng: row.public_lng,
      approximate: category.approximateLocation,
      place: category.approximateLocation ? null : row.place,
      wardCode: row.ward_code,
      assetId: category.approximateLocation ? null : row.asset_id,
      name: row.public_name,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
      fixedAt: row.fixed_at ? new Date(row.fixed_at) : null,
      duplicateOf: row.duplicate_of,
    };
  }

  /* ------------------------------------------------------------ links */

  const link = (path: string) => `${config.baseUrl}${path}`;
  const trackingToken = (reference: string) =>
    signToken(secret, { purpose: 'report-reporter', subject: reference, expiresAt: Date.now() + TRACKING_DAYS * 86_400_000 });
  const unfollowLink = (followerId: string) =>
    link(`/reports/unsubscribe/${signToken(secret, { purpose: 'report-unfollow', subject: followerId, expiresAt: Date.now() + TRACKING_DAYS * 86_400_000 })}`);
  const alertOffLink = (alertId: string) =>
    link(`/reports/unsubscribe/${signToken(secret, { purpose: 'report-alert-off', subject: alertId, expiresAt: Date.now() + TRACKING_DAYS * 86_400_000 })}`);

  /** Whether a token from a reporter's link is for this report. */
  function isReporterToken(reference: string, token: string | undefined): boolean {
    if (!token) return false;
    const result = verifyToken(secret, token, 'report-reporter');
    return result.ok && result.payload.subject === normaliseReference(reference);
  }

  /* ------------------------------------------------------------ where and what */

  async function locate(lat: number, lng: number): Promise<Location> {
    if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180)
      throw new ReportProblems([{ field: 'location', message: 'Choose a place on the map, or search for a postcode or street' }]);
    const inside = await geo.isInsideBoundary(lat, lng);
    if (!inside) return { lat, lng, inside, wardCode: null, wardName: null, street: null, usrn: null, description: null };
    const [ward, nearest] = await Promise.all([geo.wardAt(lat, lng), geo.nearestStreet(lat, lng, { maxMetres: 300 })]);
    const street = nearest?.street ?? null;
    return {
      lat,
      lng,
      inside,
      wardCode: ward?.code ?? null,
      wardName: ward?.name ?? null,
      street: street?.name ?? null,
      usrn: street?.usrn ?? null,
      description: street ? `${street.name}, ${street.locality}` : (ward?.name ?? null),
    };
  }

  /**
   * Places for a postcode, street or address typed by someone without the map: a postcode gives its
   * addresses, anything else matching streets and then addresses. Each place has a point to report at.
   */
  async function findPlaces(text: string, limit = 20): Promise<{ label: string; lat: number; lng: number; usrn: string | null }[]> {
    const query = clean(text, 100);
    if (!query) return [];
    if (normalisePostcode(query)) {
      const addresses = await geo.lookupPostcode(query);
      return addresses.slice(0, limit).map((a) => ({ label: a.singleLine, lat: a.lat, lng: a.lng, usrn: a.usrn }));
    }
    const streets = await geo.streetsByName(query, limit);
    const places = streets.map((street) => {
      // The middle of the street's box is near the street; the resident can move the point on the next page.
      const lat = (street.bbox.south + street.bbox.north) / 2;
      const lng = (street.bbox.west + street.bbox.east) / 2;
      return { label: `${street.name}, ${street.locality}`, lat, lng, usrn: street.usrn };
    });
    if (places.length >= limit) return places;
    const addresses = await geo.searchAddresses(query, limit - places.length);
    return [...places, ...addresses.map((a) => ({ label: a.singleLine, lat: a.lat, lng: a.lng, usrn: a.usrn }))];
  }

  /** Assets of the category's kind near a point, nearest first, each with its open report if it has one. */
  async function assetsNear(categoryCode: string, lat: number, lng: number, radius = ASSET_RADIUS_METRES, limit = 20): Promise<AssetWithReport[]> {
    const category = categoryOf(categoryCode);
    if (!category.asset) return [];
    const assets = await geo.nearbyAssets(lat, lng, radius, category.asset.kind, limit);
    const reports = await repo.openForAssets(assets.map((a) => a.id));
    return assets.map((asset) => {
      const open = reports.get(asset.id);
      return { ...asset, kindName: ASSET_KIND_NAMES[asset.kind], openReport: open && open.public ? toPublic(open) : null };
    });
  }

  /** Open public reports of the same category within 50 metres, nearest first: offered before reporting again. */
  async function openNearby(
    categoryCode: string,
    lat: number,
    lng: number,
    radius = DUPLICATE_RADIUS_METRES,
  ): Promise<(PublicReport & { distanceMetres: number })[]> {
    categoryOf(categoryCode);
    const rows = await repo.openInBox(boxAround({ lat, lng }, radius), { category: categoryCode, limit: 50 });
    return rows
      .filter((row) => row.public)
      .map((row) => ({ ...toPublic(row), distanceMetres: haversineMetres({ lat, lng }, { lat: row.lat, lng: row.lng }) }))
      .filter((r) => r.distanceMetres <= radius)
      .sort((a, b) => a.distanceMetres - b.distanceMetres);
  }

  /* ------------------------------------------------------------ making a report */

  /**
   * Keeps a photo while the resident finishes their report: its metadata is removed before it is
   * stored, and its position (if the camera recorded one inside the borough) is offered as the location.
   */
  async function stashPhoto(bytes: Buffer, filename?: string): Promise<{ id: string; position: { lat: number; lng: number } | null }> {
    if (bytes.length > MAX_PHOTO_BYTES) throw new ReportProblems([{ field: 'photos', message: 'The selected photo must be smaller than 10 MB' }]);
    const position = readPhotoPosition(bytes);
    let stripped: Buffer;
    try {
      stripped = stripPhotoMetadata(bytes);
    } catch (error) {
      if (!(error instanceof PhotoError)) throw error;
      throw new ReportProblems([{ field: 'photos', message: 'The selected file must be a JPG, PNG or WebP image' }]);
    }
    const saved = await repo.transaction(async (tx) => {
      const result = await files.save(tx as unknown as Kysely<object>, stripped, {
        allowed: PHOTO_TYPES,
        maxBytes: MAX_PHOTO_BYTES,
        ...(filename ? { originalName: filename } : {}),
      });
      if (result.ok) await repo.stash(tx, result.file.id);
      return result;
    });
    if (!saved.ok) throw new ReportProblems([{ field: 'photos', message: saved.message }]);
    const inside = position !== null && (await geo.isInsideBoundary(position.lat, position.lng));
    return { id: saved.file.id, position: inside ? position : null };
  }

  function checkAnswers(category: ReportCategory, raw: Readonly<Record<string, unknown>>, problems: { field: string; message: string }[]) {
    const answers: Record<string, unknown> = {};
    const context = { answers, profile: {}, today: ukDay() };
    for (const question of category.questions) {
      const result = validateAnswer(question, raw[question.id], context);
      if ('error' in result) problems.push({ field: question.id, message: result.error });
      else if (result.value !== undefined) answers[question.id] = result.value;
    }
    return answers;
  }

  /** The answers as question and answer text, for the case page and Open311. */
  function answerLines(category: ReportCategory, answers: Readonly<Record<string, unknown>>): { question: string; answer: string }[] {
    return category.questions.flatMap((question) => {
      const value = answers[question.id];
      if (value === undefined || value === null || value === '') return [];
      let text: string;
      if (typeof value === 'boolean') text = value ? 'Yes' : 'No';
      else if ('options' in question) {
        const values = Array.isArray(value) ? value : [value];
        text = values.map((v) => question.options.find((o) => o.value === v)?.text ?? String(v)).join(', ');
      } else text = String(value);
      return [{ question: question.label, answer: text }];
    });
  }

  async function submit(
    input: ReportInput,
  ): Promise<{ report: PublicReport; created: boolean; urgentMessage: string | undefined; trackingToken: string; token: string }> {
    const problems: { field: string; message: string }[] = [];
    const category = categories.get(input.category);
    if (!category) throw new ReportProblems([{ field: 'category', message: 'Choose what the problem is' }]);

    if (input.submissionKey) {
      const existing = await db.selectFrom('reports').selectAll().where('submission_key', '=', input.submissionKey).executeTakeFirst();
      if (existing)
        return {
          report: toPublic(existing),
          created: false,
          urgentMessage: undefined,
          trackingToken: trackingToken(existing.reference),
          token: existing.token,
        };
    }

    let { lat, lng } = input;
    let asset: Asset | null = null;
    if (category.asset) {
      asset = input.assetId ? await geo.assetById(input.assetId) : null;
      if (!asset || asset.kind !== category.asset.kind)
        problems.push({ field: 'asset', message: `Choose the ${ASSET_KIND_NAMES[category.asset.kind]} from the map or the list` });
      else ({ lat, lng } = asset);
    }
    const where = await locate(lat, lng);
    if (!where.inside)
      problems.push({
        field: 'location',
        message: `The location is outside the area ${platform.council.profile.shortName} looks after: report it to the council for that area`,
      });

    const answers = checkAnswers(category, input.answers, problems);
    const detail = clean(input.detail, MAX_DETAIL + 1);
    if (!detail) problems.push({ field: 'detail', message: 'Describe the problem' });
    else if (detail.length > MAX_DETAIL) problems.push({ field: 'detail', message: `The description must be ${MAX_DETAIL} characters or fewer` });
    const place = clean(input.place, 200);

    const photos = input.photos ?? [];
    const photoIds = [...new Set(input.photoIds ?? [])];
    if (photoIds.length > 0) {
      const known = await repo.stashed(photoIds);
      if (known.length !== photoIds.length) problems.push({ field: 'photos', message: 'Add your photos again' });
    }
    if (photos.length + photoIds.length > MAX_PHOTOS) problems.push({ field: 'photos', message: `Add up to ${MAX_PHOTOS} photos` });
    const cleaned: ReportPhotoInput[] = [];
    for (const [i, photo] of photos.slice(0, MAX_PHOTOS).entries()) {
      if (photo.bytes.length > MAX_PHOTO_BYTES) {
        problems.push({ field: 'photos', message: `Photo ${i + 1} must be smaller than 10 MB` });
        continue;
      }
      try {
        cleaned.push({ bytes: stripPhotoMetadata(photo.bytes), filename: photo.filename });
      } catch (error) {
        if (!(error instanceof PhotoError)) throw error;
        problems.push({ field: 'photos', message: `Photo ${i + 1} must be a JPG, PNG or WebP image` });
      }
    }

    const { reporter } = input;
    let subject: Subject;
    let publicName: string | null = null;
    if (reporter.residentId) {
      subject = { kind: 'resident', residentId: reporter.residentId };
      const profile = await account.residents.profile(reporter.residentId);
      if (!profile) throw new HttpError(400, 'That resident account no longer exists');
      publicName = reporter.showName ? (profile.name ?? null) : null;
    } else {
      const name = clean(reporter.name, 200);
      const email = clean(reporter.email, 254)?.toLowerCase();
      const phone = clean(reporter.phone, 30);
      if (!name) problems.push({ field: 'name', message: 'Enter your name' });
      if (!email) problems.push({ field: 'email', message: 'Enter your email address' });
      else if (!EMAIL.test(email)) problems.push({ field: 'email', message: 'Enter an email address in the correct format, like name@example.com' });
      if (phone && !/^\+?[\d\s().-]{7,24}$/.test(phone))
        problems.push({ field: 'phone', message: 'Enter a telephone number, like 01632 960 001 or 07700 900 982' });
      subject = { kind: 'person', name: name ?? '', email, phone };
      publicName = reporter.showName ? (name ?? null) : null;
    }
    if (problems.length > 0) throw new ReportProblems(problems);

    const urgent = isUrgent(category, answers);
    const street = where.description ?? where.wardName ?? platform.council.profile.area;
    const title = `${category.name}${asset ? ` (${ASSET_KIND_NAMES[asset.kind]} ${asset.id})` : ''}, ${street}`;
    const lines = answerLines(category, answers);
    const description = [detail, ...lines.map((l) => `${l.question} ${l.answer}`), place ? `Where: ${place}` : ''].filter(Boolean).join('\n');
    const reportTag = `report:${category.code}`;
    const token = randomBytes(12).toString('base64url');
    let stored: ReportRow | undefined;

    const { case: opened, created } = await cases.service.open(
      { type: 'system' },
      {
        type: category.caseType,
        title,
        description,
        priority: urgent ? 'urgent' : undefined,
        subject,
        location: { lat, lng, usrn: where.usrn ?? undefined, address: [place, where.description].filter(Boolean).join(', ') || undefined },
        source: 'report',
        channel: input.source === 'open311' ? 'api' : 'online',
        deliveryId: input.submissionKey ? `report:${input.submissionKey}` : undefined,
        openedAt: input.reportedAt,
        details: { summary: [{ heading: 'Report', rows: lines }], report: { category: category.code, asset: asset?.id ?? null, answers } },
        tags: [reportTag],
        trackingLink: (reference) => link(`/reports/${reference}?t=${trackingToken(reference)}`),
      },
      async (executor, summary) => {
        const tx = reportsDb(executor);
        const initial = category.statuses[summary.status] ?? 'open';
        stored = await repo.insertReport(tx, {
          reference: summary.reference,
          case_id: summary.id,
          category: category.code,
          title,
          detail: detail ?? '',
          answers: JSON.stringify(answers),
          lat,
          lng,
          public_lat: category.approximateLocation ? round(lat, APPROXIMATE_DECIMALS) : lat,
          public_lng: category.approximateLocation ? round(lng, APPROXIMATE_DECIMALS) : lng,
          place: place ?? where.description,
          usrn: where.usrn,
          ward_code: where.wardCode,
          asset_id: asset?.id ?? null,
          status: initial,
          closed: false,
          urgent,
          public: category.public,
          public_name: publicName,
          source: input.source,
          api_key_id: input.apiKeyId ?? null,
          token,
          submission_key: input.submissionKey ?? null,
          created_at: summary.openedAt,
          updated_at: summary.openedAt,
        });
        await repo.addUpdate(tx, { reference: summary.reference, status: initial, text: null, kind: 'status', created_at: summary.openedAt });
        for (const [position, photo] of cleaned.entries()) {
          const saved = await files.save(executor, photo.bytes, {
            allowed: PHOTO_TYPES,
            maxBytes: MAX_PHOTO_BYTES,
            ...(photo.filename ? { originalName: photo.filename } : {}),
          });
          if (!saved.ok) throw new ReportProblems([{ field: 'photos', message: `Photo ${position + 1}: ${saved.message}` }]);
          await repo.addPhoto(tx, { id: saved.file.id, reference: summary.reference, position });
        }
        for (const [i, id] of photoIds.entries()) await repo.addPhoto(tx, { id, reference: summary.reference, position: cleaned.length + i });
        await repo.unstash(tx, photoIds);
        if (asset) await geo.setAssetState(asset.id, 'fault-reported', executor);
        if (category.public) await alertSubscribers(tx, stored);
      },
    );
    if (created && category.public) await notifier.nudge();
    const row = stored ?? (await repo.byCaseId(db, opened.id));
    if (!row) throw new Error(`Case ${opened.reference} has no report`);
    return {
      report: toPublic(row),
      created,
      urgentMessage: urgent ? category.urgentWhen?.emergencyMessage : undefined,
      trackingToken: trackingToken(row.reference),
      token: row.token,
    };
  }

  /** Emails everyone whose alert covers a new public report. */
  async function alertSubscribers(tx: ReportsDb, report: ReportRow): Promise<void> {
    const alerts = await repo.alertsFor(tx, report.public_lat, report.public_lng, report.ward_code);
    const category = categoryOf(report.category);
    const seen = new Set<string>();
    for (const alert of alerts) {
      if (
        alert.kind === 'area' &&
        haversineMetres({ lat: alert.lat ?? 0, lng: alert.lng ?? 0 }, { lat: report.public_lat, lng: report.public_lng }) > (alert.radius_m ?? 0)
      )
        continue;
      if (seen.has(alert.email)) continue;
      seen.add(alert.email);
      const stop = alertOffLink(alert.id);
      await queueEmail(tx, {
        to: alert.email,
        subject: `New report near you: ${category.name}`,
        body: [
          `A new problem has been reported in the area you asked about.`,
          `${category.name}: ${report.place ?? ''}`.trim(),
          `See it at ${link(`/reports/${report.reference}`)}`,
          `To stop these emails, go to ${stop}`,
        ].join('\n\n'),
        related: { type: 'report', id: report.reference },
        unsubscribeUrl: stop,
      });
    }
  }

  /* ------------------------------------------------------------ following the case */

  /** Mirrors a report's case changes onto its public timeline, the asset's state and its followers, in the same transaction. */
  async function onCaseChange(executor: Kysely<object>, change: CaseChange): Promise<void> {
    const tx = reportsDb(executor);
    const report = await repo.byCaseId(tx, change.caseId);
    if (!report) return;
    const category = categoryOf(report.category);
    const status = category.statuses[change.to] ?? report.status;
    if (change.kind === 'status' && status === 'not_councils_responsibility' && !change.update)
      throw new HttpError(400, 'Say in the public update which organisation is responsible, so the public and the reporter know who to contact');
    const fixedNow = status === 'fixed' && report.status !== 'fixed';
    await repo.updateReport(tx, report.reference, {
      status,
      closed: change.closed,
      fixed_at: fixedNow ? new Date() : status === 'fixed' ? report.fixed_at : null,
    });
    await repo.addUpdate(tx, { reference: report.reference, status, text: change.update ?? null, kind: change.kind });
    const original = status === 'duplicate' ? markingDuplicate.get(report.reference) : undefined;
    if (original) {
      await repo.updateReport(tx, report.reference, { duplicate_of: original });
      await repo.moveFollowers(tx, report.reference, original);
    } else if (report.duplicate_of && status !== 'duplicate') await repo.updateReport(tx, report.reference, { duplicate_of: null });
    if (report.asset_id && change.kind === 'status') {
      const other = change.closed && (await repo.otherOpenOnAsset(tx, report.asset_id, report.reference));
      if (!other) await geo.setAssetState(report.asset_id, assetStateFor(status, change.closed), executor);
    }
    if (!report.public || report.hidden) return;
    const followers = await repo.followers(tx, report.reference);
    for (const follower of followers) {
      const stop = unfollowLink(follower.id);
      await queueEmail(tx, {
        to: follower.email,
        subject: `Update on ${category.name.toLowerCase()} report ${report.reference}: ${REPORT_STATUS_NAMES[status]}`,
        body: [
          `There is an update on a report you follow: ${report.title}.`,
          `Status: ${REPORT_STATUS_NAMES[status]}`,
          ...(change.update ? [change.update] : []),
          `See the report at ${link(`/reports/${report.reference}`)}`,
          `To stop getting updates on this report, go to ${stop}`,
        ].join('\n\n'),
        related: { type: 'report', id: report.reference },
        unsubscribeUrl: stop,
      });
    }
  }
  cases.service.onChange(onCaseChange);

  /* ------------------------------------------------------------ public */

  async function publicReport(reference: string): Promise<PublicReportPage | null> {
    const row = await repo.byReference(db, normaliseReference(reference));
    if (!row || !row.public) return null;
    const [updates, photos, followers] = await Promise.all([repo.updates(row.reference), repo.photos(row.reference), repo.followerCount(row.reference)]);
    return {
      ...toPublic(row),
      updates: updates
        .filter((u) => !u.hidden)
        .map((u) => ({
          id: String(u.id),
          status: u.status,
          statusName: REPORT_STATUS_NAMES[u.status],
          text: u.text,
          kind: u.kind,
          at: new Date(u.created_at),
        })),
      photos: photos.filter((p) => p.state === 'approved').map((p) => ({ id: p.id, href: `/reports/${row.reference}/photos/${p.id}` })),
      followers,
    };
  }

  async function publicReports(query: PublicQuery): Promise<PublicReport[]> {
    return (await repo.publicReports(query)).map(toPublic);
  }

  /** Public reports with their newest public words and first approved photo, read together for the whole list. */
  async function listReports(query: PublicQuery): Promise<ListedReport[]> {
    const rows = await repo.publicReports(query);
    const references = rows.map((row) => row.reference);
    const [notes, photos] = await Promise.all([repo.latestNotes(references), repo.firstApprovedPhotos(references)]);
    return rows.map((row) => {
      const photo = photos.get(row.reference);
      return { ...toPublic(row), latestNote: notes.get(row.reference) ?? null, photoHref: photo ? `/reports/${row.reference}/photos/${photo}` : null };
    });
  }

  /** An approved photo of a public report, for anyone; staff see every photo through the case. */
  async function publicPhoto(reference: string, photoId: string): Promise<{ contentType: string; bytes: Buffer } | null> {
    const photo = await repo.photo(photoId);
    if (!photo || photo.reference !== normaliseReference(reference) || photo.state !== 'approved') return null;
    const report = await repo.byReference(db, photo.reference);
    if (!report?.public) return null;
    const file = await files.read(db as unknown as Kysely<object>, photo.id);
    return file ? { contentType: file.file.contentType, bytes: file.bytes } : null;
  }

  /* ------------------------------------------------------------ follow, alerts, not fixed */

  function confirmToken(purpose: 'report-follow' | 'report-alert', subject: string, data: Record<string, unknown>): string {
    return signToken(secret, { purpose, subject, expiresAt: Date.now() + 7 * 86_400_000, data });
  }

  function checkEmail(email: string | undefined): string {
    const value = clean(email, 254)?.toLowerCase();
    if (!value) throw new ReportProblems([{ field: 'email', message: 'Enter your email address' }]);
    if (!EMAIL.test(value)) throw new ReportProblems([{ field: 'email', message: 'Enter an email address in the correct format, like name@example.com' }]);
    return value;
  }

  /** Sends a link to confirm following a report; following starts when it is opened. */
  async function askToFollow(reference: string, emailInput: string | undefined): Promise<void> {
    const report = await publicReport(reference);
    if (!report) throw new HttpError(404, 'Report not found');
    const email = checkEmail(emailInput);
    await queueEmail(db, {
      to: email,
      subject: `Confirm you want updates on report ${report.reference}`,
      body: [
        `Someone asked for email updates on ${report.title} (report ${report.reference}). If that was you, confirm by going to:`,
        link(`/reports/confirm/${confirmToken('report-follow', report.reference, { email })}`),
        'The link works for 7 days. If you did not ask for this, you can ignore this email.',
      ].join('\n\n'),
      related: { type: 'report', id: report.reference },
    });
    await notifier.nudge();
  }

  /** Follows at once: for a signed-in resident, whose email is already confirmed. */
  async function follow(reference: string, email: string): Promise<void> {
    const report = await publicReport(reference);
    if (!report) throw new HttpError(404, 'Report not found');
    await repo.addFollower(db, report.reference, email.toLowerCase());
  }

  async function askForAlert(input: {
    email: string | undefined;
    ward?: string | undefined;
    lat?: number | undefined;
    lng?: number | undefined;
    radius?: number | undefined;
  }) {
    const email = checkEmail(input.email);
    let data: Record<string, unknown>;
    let where: string;
    if (input.ward) {
      const ward = (await geo.wards()).find((w) => w.code === input.ward);
      if (!ward) throw new ReportProblems([{ field: 'ward', message: 'Choose a ward' }]);
      data = { email, kind: 'ward', ward: ward.code };
      where = `in ${ward.name} ward`;
    } else {
      const { lat, lng, radius } = input;
      if (lat === undefined || lng === undefined || !(await geo.isInsideBoundary(lat, lng)))
        throw new ReportProblems([{ field: 'location', message: 'Choose a place inside the borough' }]);
      if (radius === undefined || !Number.isInteger(radius) || radius < 100 || radius > 5000)
        throw new ReportProblems([{ field: 'radius', message: 'Choose a distance between 100 metres and 5 kilometres' }]);
      data = { email, kind: 'area', lat, lng, radius };
      where = `within ${radius >= 1000 ? `${radius / 1000} km` : `${radius} metres`} of the place you chose`;
    }
    await queueEmail(db, {
      to: email,
      subject: 'Confirm your alert for new reports',
      body: [
        `Someone asked for an email whenever a problem is reported ${where}. If that was you, confirm by going to:`,
        link(`/reports/confirm/${confirmToken('report-alert', email, data)}`),
        'The link works for 7 days. If you did not ask for this, you can ignore this email.',
      ].join('\n\n'),
    });
    await notifier.nudge();
  }

  /** What a confirmation link is for, without acting on it: the page that opens it asks the person to press a button. */
  async function readConfirmation(token: string): Promise<{ kind: 'follow'; reference: string } | { kind: 'alert' } | null> {
    for (const purpose of ['report-follow', 'report-alert'] as const) {
      const result = verifyToken(secret, token, purpose);
      if (!result.ok || typeof result.payload.data?.email !== 'string') continue;
      if (purpose === 'report-alert') return { kind: 'alert' };
      const report = await repo.byReference(db, result.payload.subject);
      return report?.public ? { kind: 'follow', reference: report.reference } : null;
    }
    return null;
  }

  /** Acts on a confirmation link: starts following or starts the alert. */
  async function confirm(token: string): Promise<{ kind: 'follow'; reference: string } | { kind: 'alert' } | null> {
    const confirmation = await readConfirmation(token);
    if (!confirmation) return null;
    const purpose = confirmation.kind === 'follow' ? 'report-follow' : 'report-alert';
    const result = verifyToken(secret, token, purpose);
    if (!result.ok) return null;
    const data = (result.payload.data ?? {}) as Record<string, unknown>;
    const email = String(data.email);
    if (confirmation.kind === 'follow') await repo.addFollower(db, confirmation.reference, email);
    else
      await repo.addAlert(
        db,
        data.kind === 'ward'
          ? { email, kind: 'ward', ward_code: String(data.ward) }
          : { email, kind: 'area', lat: Number(data.lat), lng: Number(data.lng), radius_m: Number(data.radius) },
      );
    return confirmation;
  }

  /** One-click unsubscribe from a link in any report email. */
  async function unsubscribe(token: string): Promise<'follow' | 'alert' | null> {
    const follow = verifyToken(secret, token, 'report-unfollow');
    if (follow.ok) {
      await repo.removeFollower(follow.payload.subject);
      return 'follow';
    }
    const alert = verifyToken(secret, token, 'report-alert-off');
    if (alert.ok) {
      await repo.removeAlert(alert.payload.subject);
      return 'alert';
    }
    return null;
  }

  /** Whether a signed-in resident made this report. */
  async function isReporter(reference: string, residentId: string): Promise<boolean> {
    const reported = await cases.service.repo.caseByReference(normaliseReference(reference));
    return reported?.source === 'report' && reported.resident_id === residentId;
  }

  /** Whether the reporter may still say it is not fixed. */
  function canSayNotFixed(report: Pick<PublicReport, 'status' | 'fixedAt'>, now = new Date()): boolean {
    return report.status === 'fixed' && report.fixedAt !== null && now.getTime() - report.fixedAt.getTime() <= NOT_FIXED_DAYS * 86_400_000;
  }

  /** The reporter says a fixed report is not fixed: the case goes back to the status its workflow reopens to. */
  async function notFixed(reference: string, proof: { token?: string | undefined; residentId?: string | undefined }, text: string | undefined): Promise<void> {
    const row = await repo.byReference(db, normaliseReference(reference));
    if (!row) throw new HttpError(404, 'Report not found');
    const reported = await cases.service.repo.caseByReference(row.reference);
    const isReporter = isReporterToken(row.reference, proof.token) || (proof.residentId !== undefined && reported?.resident_id === proof.residentId);
    if (!reported || !isReporter) throw new HttpError(403, 'Only the person who reported it can say it is not fixed.');
    if (!canSayNotFixed(toPublic(row))) throw new HttpError(409, `A report can be reopened only within ${NOT_FIXED_DAYS} days of being fixed.`);
    const type = cases.service.typeOf(reported.type);
    const reopenTo = type.status(reported.status)?.next.find((next) => !type.isClosed(next));
    if (!reopenTo) throw new HttpError(409, 'This report cannot be reopened.');
    const words = clean(text, 1000);
    const actor: CaseActor = { type: 'system' };
    await cases.service.changeStatus(actor, row.reference, reopenTo, {
      update: words ? `The person who reported this says it is not fixed: ${words}` : 'The person who reported this says it is not fixed.',
    });
  }

  /* ------------------------------------------------------------ updates from staff and back offices */

  /**
   * The case status to move to for a report status: the current one when it already shows as that,
   * else the first status the workflow allows next that does. Undefined when none can.
   */
  function caseStatusFor(category: ReportCategory, caseType: string, current: string, wanted: ReportStatus): string | undefined {
    if (category.statuses[current] === wanted) return current;
    const type = cases.service.typeOf(caseType);
    return type.status(current)?.next.find((next) => category.statuses[next] === wanted);
  }

  /**
   * An update from a back-office system (Open311 servicerequestupdates): a new report status moves the
   * case along its workflow; the same status with words is a public update.
   */
  async function backOfficeUpdate(client: { id: string; label: string }, reference: string, status: ReportStatus, text: string | undefined) {
    const row = await repo.byReference(db, normaliseReference(reference));
    if (!row) throw new HttpError(404, 'Report not found');
    const reported = await cases.service.repo.caseByReference(row.reference);
    if (!reported) throw new HttpError(404, 'Report not found');
    const category = categoryOf(row.category);
    const words = clean(text, 2000);
    const actor: CaseActor = { type: 'api', id: client.id, label: client.label };
    const to = caseStatusFor(category, reported.type, reported.status, status);
    if (!to)
      throw new ReportProblems([{ field: 'status', message: `A report that is ${REPORT_STATUS_NAMES[row.status].toLowerCase()} cannot become ${status}` }]);
    if (to !== reported.status) await cases.service.changeStatus(actor, row.reference, to, { update: words });
    else if (words) await cases.service.addNote(actor, row.reference, words, { public: true });
    const updated = await repo.updates(row.reference);
    return updated.at(-1);
  }

  /** Staff respond to a report: move its case to a next status (or keep it) with public words, often from a template. */
  async function respond(member: StaffMember, reference: string, caseStatus: string, text: string | undefined) {
    const row = await repo.byReference(db, normaliseReference(reference));
    if (!row) throw new HttpError(404, 'Report not found');
    const reported = await cases.service.repo.caseByReference(row.reference);
    if (!reported) throw new HttpError(404, 'Report not found');
    const words = clean(text, 2000);
    const actor: CaseActor = { type: 'staff', member };
    if (caseStatus !== reported.status) await cases.service.changeStatus(actor, row.reference, caseStatus, { update: words });
    else if (words) await cases.service.addNote(actor, row.reference, words, { public: true });
    else throw new ReportProblems([{ field: 'update', message: 'Choose a new status or write an update' }]);
  }

  /* ------------------------------------------------------------ staff */

  async function staffReport(member: StaffMember, reference: string) {
    assertCan(member, 'reports:moderate');
    const row = await repo.byReference(db, normaliseReference(reference));
    if (!row) throw new HttpError(404, 'Report not found');
    const [updates, photos, followers, reported] = await Promise.all([
      repo.updates(row.reference),
      repo.photos(row.reference),
      repo.followerCount(row.reference),
      cases.service.repo.caseByReference(row.reference),
    ]);
    if (!reported) throw new HttpError(404, 'Report not found');
    const category = categoryOf(row.category);
    const type = cases.service.typeOf(reported.type);
    const current = type.status(reported.status);
    let canWork = true;
    try {
      cases.service.assertCanWork(member, reported);
    } catch {
      canWork = false;
    }
    const nextStatuses = (current?.next ?? []).map((code) => ({
      code,
      label: type.status(code)?.label ?? code,
      reportStatus: category.statuses[code] ?? row.status,
    }));
    return {
      row,
      report: toPublic(row),
      category,
      updates,
      photos,
      followers,
      caseStatus: { code: reported.status, label: current?.label ?? reported.status },
      /** Only the case's team (or its assignee) can move it; anyone who moderates can see it. */
      canWork,
      teamName: reported.team,
      nextStatuses,
      caseHref: `/staff/cases/${row.reference}`,
      nearbyOpen: (await openNearby(row.category, row.lat, row.lng, 200)).filter((r) => r.reference !== row.reference),
    };
  }

  async function moderate(
    member: StaffMember,
    reference: string,
    changes: { hidden?: boolean; title?: string; detail?: string; showName?: boolean },
    why: string | undefined,
  ) {
    assertCan(member, 'reports:moderate');
    const reason = clean(why, 500);
    if (!reason) throw new ReportProblems([{ field: 'reason', message: 'Say why, for the audit trail' }]);
    await repo.transaction(async (tx) => {
      const row = await repo.byReference(tx, normaliseReference(reference));
      if (!row) throw new HttpError(404, 'Report not found');
      const title = changes.title === undefined ? undefined : clean(changes.title, 200);
      const detail = changes.detail === undefined ? undefined : clean(changes.detail, MAX_DETAIL);
      if (changes.title !== undefined && !title) throw new ReportProblems([{ field: 'title', message: 'Enter the title' }]);
      if (changes.detail !== undefined && !detail) throw new ReportProblems([{ field: 'detail', message: 'Enter the description' }]);
      const hidden = changes.hidden ?? row.hidden;
      await repo.updateReport(tx, row.reference, {
        hidden,
        public: categoryOf(row.category).public && !hidden,
        ...(title ? { title } : {}),
        ...(detail ? { detail } : {}),
        ...(changes.showName === false ? { public_name: null } : {}),
      });
      await recordAudit(tx as unknown as Kysely<object>, {
        actor: { type: 'staff', id: member.id, label: member.name },
        action: 'report.moderated',
        subject: { type: 'report', id: row.reference },
        details: {
          reason,
          hidden: changes.hidden,
          titleChanged: title !== undefined && title !== row.title,
          detailChanged: detail !== undefined && detail !== row.detail,
          nameRemoved: changes.showName === false && row.public_name !== null,
        },
      });
    });
  }

  async function moderatePhoto(member: StaffMember, reference: string, photoId: string, state: 'approved' | 'hidden') {
    assertCan(member, 'reports:moderate');
    await repo.transaction(async (tx) => {
      const photo = await tx.selectFrom('report_photos').selectAll().where('id', '=', photoId).executeTakeFirst();
      if (!photo || photo.reference !== normaliseReference(reference)) throw new HttpError(404, 'Photo not found');
      await repo.setPhotoState(tx, photoId, state);
      await recordAudit(tx as unknown as Kysely<object>, {
        actor: { type: 'staff', id: member.id, label: member.name },
        action: state === 'approved' ? 'report.photo-approved' : 'report.photo-hidden',
        subject: { type: 'report', id: photo.reference },
        details: { photoId },
      });
    });
  }

  async function staffPhoto(member: StaffMember, reference: string, photoId: string) {
    assertCan(member, 'reports:moderate');
    const photo = await repo.photo(photoId);
    if (!photo || photo.reference !== normaliseReference(reference)) return null;
    const file = await files.read(db as unknown as Kysely<object>, photo.id);
    return file ? { contentType: file.file.contentType, bytes: file.bytes } : null;
  }

  /** Marks a report as a duplicate of another: its case closes as a duplicate and its followers follow the other one. */
  async function markDuplicate(member: StaffMember, reference: string, ofReference: string) {
    const from = await repo.byReference(db, normaliseReference(reference));
    const to = await repo.byReference(db, normaliseReference(ofReference));
    if (!from) throw new HttpError(404, 'Report not found');
    if (!to) throw new ReportProblems([{ field: 'duplicateOf', message: 'Enter the reference of a report' }]);
    if (to.reference === from.reference) throw new ReportProblems([{ field: 'duplicateOf', message: 'A report cannot be a duplicate of itself' }]);
    if (to.duplicate_of)
      throw new ReportProblems([{ field: 'duplicateOf', message: `${to.reference} is itself a duplicate of ${to.duplicate_of}: use that one` }]);
    const category = categoryOf(from.category);
    const duplicateStatus = Object.entries(category.statuses).find(([, status]) => status === 'duplicate')?.[0];
    if (!duplicateStatus) throw new HttpError(409, 'This category has no duplicate status.');
    markingDuplicate.set(from.reference, to.reference);
    try {
      await cases.service.changeStatus({ type: 'staff', member }, from.reference, duplicateStatus, {
        update: `This problem had already been reported: see report ${to.reference} (${link(`/reports/${to.reference}`)}).`,
      });
    } finally {
      markingDuplicate.delete(from.reference);
    }
  }

  /**
   * What the map shows in a box: assets (with their state) when asked for a kind, and public reports.
   * Capped so a zoomed-out view stays small; `truncated` tells the map to ask the resident to zoom in.
   */
  async function mapFeatures(box: BBox, opts: { assetKind?: AssetKind | undefined; categories?: string[] | undefined; limit?: number } = {}) {
    const limit = Math.min(opts.limit ?? 2000, 5000);
    const [assets, reported] = await Promise.all([
      opts.assetKind ? geo.assetsInBox(box, opts.assetKind, limit + 1) : Promise.resolve([]),
      repo.publicReports({ box, categories: opts.categories, limit: limit + 1, order: 'updated' }),
    ]);
    return {
      assets: assets.slice(0, limit),
      reports: reported.slice(0, limit).map(toPublic),
      truncated: assets.length > limit || reported.length > limit,
    };
  }

  /** Removes photos kept for reports that were never sent (after a day), with their files. */
  async function tidyPhotoStash(now = new Date()): Promise<number> {
    const stale = await repo.staleStash(new Date(now.getTime() - 86_400_000), 500);
    for (const { id } of stale) {
      await repo.unstash(db, [id]);
      await files.remove(db as unknown as Kysely<object>, id);
    }
    return stale.length;
  }

  /** The borough's boundary and wards, drawn on the map when there is no base map. */
  async function mapBoundary() {
    const [boundary, wards] = await Promise.all([geo.boundary(), geo.wards()]);
    return { boundary, wards: wards.map((w) => ({ code: w.code, name: w.name, geometry: w.geometry })) };
  }

  async function streetsInBox(box: BBox, limit = 500) {
    const streets = await geo.streetsInBox(box, limit);
    return streets.map((s) => ({ usrn: s.usrn, name: s.name, geometry: s.geometry }));
  }

  async function wards(): Promise<{ code: string; name: string }[]> {
    return (await geo.wards()).map((w) => ({ code: w.code, name: w.name }));
  }

  /** Every report, hidden ones too, for the staff triage list. */
  async function staffReports(
    member: StaffMember,
    query: StaffQuery,
  ): Promise<{ rows: (PublicReport & { hidden: boolean; pendingPhotos: number; followers: number })[]; total: number }> {
    assertCan(member, 'reports:moderate');
    const { rows, total } = await repo.staffReports(query);
    return {
      rows: rows.map((row) => ({ ...toPublic(row), hidden: row.hidden, pendingPhotos: Number(row.pending_photos), followers: Number(row.followers) })),
      total,
    };
  }

  return {
    categories: () => [...categories.values()],
    mapBoundary,
    tidyPhotoStash,
    streetsInBox,
    wards,
    staffReports,
    findPlaces,
    stashPhoto,
    backOfficeUpdate,
    respond,
    mapFeatures,
    category: (code: string) => categories.get(code),
    locate,
    assetsNear,
    openNearby,
    submit,
    answerLines,
    publicReport,
    publicReports,
    listReports,
    publicPhoto,
    isReporterToken,
    isReporter,
    canSayNotFixed,
    notFixed,
    askToFollow,
    follow,
    askForAlert,
    readConfirmation,
    confirm,
    unsubscribe,
    staffReport,
    moderate,
    moderatePhoto,
    staffPhoto,
    markDuplicate,
    byToken: (token: string) => repo.byToken(token).then((row) => (row ? toPublic(row) : null)),
    updatesSince: (since: Date, until: Date | undefined, limit: number) => repo.publicUpdatesSince(since, until, limit),
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
