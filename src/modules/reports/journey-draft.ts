import { ukDay } from '#platform/council/dates';
import { validateAnswer } from '#modules/forms/index';
import type { ReportCategory } from './model/category.js';

/**
 * A report being written, kept in the resident's session until it is sent. Answers are kept as
 * posted (strings, or lists for checkboxes) so every page shows exactly what was entered, and so
 * the service validates them once more when the report is sent.
 */
export interface ReportDraft {
  /** Sent with the report: pressing "Send report" twice makes one report. */
  key: string;
  lat: number;
  lng: number;
  /** "Market Street, Kingsmere", from the gazetteer. */
  where: string | null;
  category?: string;
  assetId?: string;
  /** The resident has seen any open reports of the category nearby and chose to go on. */
  duplicatesChecked?: boolean;
  /** Whether there were any to see, so Back can skip the page when there were none. */
  duplicatesShown?: boolean;
  answers: Record<string, string | string[]>;
  description?: string;
  detailsDone?: boolean;
  photos: DraftPhoto[];
  /** Photos uploaded for this report so far, removed ones too: each is stored, so there is a limit. */
  uploads?: number;
  about: { name?: string; email?: string; phone?: string; showName: boolean };
  /** Who "About you" was completed for: a resident's id, or '' for someone not signed in. */
  aboutFor?: string;
  /** Problems found when the report was sent, shown once on the step that can put them right. */
  problems?: { field: string; message: string }[];
}

export interface DraftPhoto {
  id: string;
  name: string;
  /** Where the camera says it was taken, when that is inside the area and away from the chosen point. */
  offer?: { lat: number; lng: number; where: string | null };
}

/** What the confirmation page shows, for the browser that sent the report. */
export interface SentReport {
  reference: string;
  key: string;
  email: string | null;
  urgentMessage: string | null;
  signedIn: boolean;
  public: boolean;
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    reportDraft?: ReportDraft;
    reportSent?: SentReport;
  }
}

export const STEPS = ['where', 'category', 'asset', 'duplicates', 'details', 'about', 'check'] as const;
export type Step = (typeof STEPS)[number];

export const STEP_PATHS: Readonly<Record<Step, string>> = {
  where: '/report',
  category: '/report/category',
  asset: '/report/asset',
  duplicates: '/report/duplicates',
  details: '/report/details',
  about: '/report/about',
  check: '/report/check',
};

/**
 * Asset-based categories ask for the asset instead of offering nearby reports: each asset in the
 * list already shows its open report, and a report about another asset nearby is a different fault.
 */
function appliesTo(step: Step, category: ReportCategory | undefined): boolean {
  if (step === 'asset') return category?.asset !== undefined;
  if (step === 'duplicates') return category !== undefined && category.asset === undefined;
  return true;
}

function isDone(step: Step, draft: ReportDraft, category: ReportCategory | undefined, residentId: string | undefined): boolean {
  switch (step) {
    case 'where':
      return Number.isFinite(draft.lat) && Number.isFinite(draft.lng);
    case 'category':
      return category !== undefined;
    case 'asset':
      return draft.assetId !== undefined;
    case 'duplicates':
      return draft.duplicatesChecked === true;
    case 'details':
      return draft.detailsDone === true;
    case 'about':
      return draft.aboutFor === (residentId ?? '');
    case 'check':
      return false;
  }
}

/** The first step still to do. */
export function resumePoint(draft: ReportDraft | undefined, category: ReportCategory | undefined, residentId: string | undefined): Step {
  if (!draft) return 'where';
  return STEPS.find((step) => appliesTo(step, category) && !isDone(step, draft, category, residentId)) ?? 'check';
}

/** Whether a step can be opened: it applies and every step before it is done. */
export function canOpen(step: Step, draft: ReportDraft | undefined, category: ReportCategory | undefined, residentId: string | undefined): boolean {
  return appliesTo(step, category) && STEPS.indexOf(step) <= STEPS.indexOf(resumePoint(draft, category, residentId));
}

export function nextStep(step: Step, category: ReportCategory | undefined): Step {
  return STEPS.slice(STEPS.indexOf(step) + 1).find((s) => appliesTo(s, category)) ?? 'check';
}

/** The page Back goes to: the step before, leaving out a page of nearby reports that had none to show. */
export function previousStep(step: Step, draft: ReportDraft | undefined, category: ReportCategory | undefined): Step | undefined {
  return STEPS.slice(0, STEPS.indexOf(step))
    .reverse()
    .find((s) => appliesTo(s, category) && (s !== 'duplicates' || draft?.duplicatesShown === true));
}

/** Which step puts right a problem the service found with a field. */
export function stepForField(field: string, category: ReportCategory | undefined): Step {
  if (field === 'location') return 'where';
  if (field === 'category') return 'category';
  if (field === 'asset') return 'asset';
  if (['name', 'email', 'phone'].includes(field)) return 'about';
  if (field === 'detail' || field === 'photos' || category?.questions.some((q) => q.id === field)) return 'details';
  return 'check';
}

/** The element an error for a field links to. */
export function fieldAnchor(field: string): string {
  if (field === 'detail') return '#description';
  if (field === 'location') return '#q';
  return `#${field}`;
}

/** The category's answers checked as the service will check them: values, and errors by question id. */
export function checkQuestions(category: ReportCategory, raw: Readonly<Record<string, unknown>>) {
  const values: Record<string, unknown> = {};
  const errors: { field: string; message: string }[] = [];
  const context = { answers: values, profile: {}, today: ukDay() };
  for (const question of category.questions) {
    const result = validateAnswer(question, raw[question.id], context);
    if ('error' in result) errors.push({ field: question.id, message: result.error });
    else if (result.value !== undefined) values[question.id] = result.value;
  }
  return { values, errors };
}

const DAY_MS = 86_400_000;

export function daysSince(date: Date, now = new Date()): number {
  return Math.max(0, Math.floor((now.getTime() - date.getTime()) / DAY_MS));
}

/** "today", "1 day ago", "12 days ago". */
export function daysAgo(date: Date, now = new Date()): string {
  const days = daysSince(date, now);
  return days === 0 ? 'today' : `${days} ${days === 1 ? 'day' : 'days'} ago`;
}

/** "Reported 3 days ago, last updated today". */
export function reportedText(report: { createdAt: Date; updatedAt: Date }, now = new Date()): string {
  return `Reported ${daysAgo(report.createdAt, now)}, last updated ${daysAgo(report.updatedAt, now)}`;
}

export function distanceText(metres: number): string {
  const rounded = Math.max(1, Math.round(metres));
  return `${rounded} ${rounded === 1 ? 'metre' : 'metres'} away`;
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "Street light SL-00123". */
export function assetLabel(kindName: string, id: string): string {
  return `${capitalise(kindName)} ${id}`;
}

/** Six decimal places is about 10 centimetres: enough for a place in the street. */
export function roundCoordinate(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
