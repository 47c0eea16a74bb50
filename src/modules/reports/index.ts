import type { Platform } from '#platform/platform';
import type { Cases } from '#modules/cases/index';
import type { CouncilContacts, ReportCategory } from './model/category.js';
import { loadReportCategories } from './model/load.js';

export { ASSET_KIND_NAMES, ASSET_KINDS, isUrgent, REPORT_QUESTION_TYPES } from './model/category.js';
export type { ReportCategory, ReportQuestion } from './model/category.js';
export { REPORT_CATEGORIES_FOLDER, reportCategoryProblems } from './model/load.js';

export interface ReportsDeps {
  platform: Platform;
  cases: Pick<Cases, 'service'>;
}

export interface Reports {
  /** Every category, in file-name order. */
  categories(): ReportCategory[];
  category(code: string): ReportCategory | undefined;
}

/**
 * Street reports. The council's categories are loaded and checked against its case types at start:
 * a bad category file stops the start with every problem listed.
 */
export function createReports(deps: ReportsDeps): Reports {
  const { platform, cases } = deps;
  const { profile } = platform.council;
  const contacts: CouncilContacts = { outOfHoursPhone: profile.emergency.outOfHours, phone: profile.contact.phone, phoneHours: profile.contact.phoneHours };
  const byCode = loadReportCategories(platform.council.dir, cases.service.types, contacts);
  const all = [...byCode.values()];
  return {
    categories: () => [...all],
    category: (code) => byCode.get(code),
  };
}
