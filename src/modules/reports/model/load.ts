import { checkConfigFolder, refuseProblems } from '#platform/council/config-folder';
import type { CaseType } from '#modules/cases/index';
import { ReportCategorySchema, toReportCategory, type CouncilContacts, type ReportCategory } from './category.js';

/** The folder, inside the council folder, that holds one `<code>.json` per report category. */
export const REPORT_CATEGORIES_FOLDER = 'report-categories';

/**
 * Reads and checks every category file against the schema and against the loaded case types. The
 * cross-checks (unique name, case type) also run on a file the schema refused, as long as the field
 * itself is sound, so one run shows everything there is to fix.
 */
function checkCategories(councilDir: string, caseTypes: ReadonlyMap<string, CaseType>) {
  const names = new Map<string, string>();
  const reportTypes = [...caseTypes.values()].filter((type) => type.sources.includes('report')).map((type) => type.code);
  return checkConfigFolder(councilDir, REPORT_CATEGORIES_FOLDER, ReportCategorySchema, ({ file, raw, refused, problem }) => {
    const { name, caseType, statuses, responses } = raw;
    if (typeof name === 'string' && !refused.has('name')) {
      const key = name.trim().toLowerCase();
      const owner = names.get(key);
      if (owner === undefined) names.set(key, file);
      else problem('name', `"${name.trim()}" is already the name of ${REPORT_CATEGORIES_FOLDER}/${owner}: residents could not tell them apart`);
    }
    if (typeof caseType === 'string' && !refused.has('caseType')) {
      const type = caseTypes.get(caseType);
      const choices = `the case types that take reports are ${reportTypes.join(', ') || 'none'}`;
      if (!type) problem('caseType', `"${caseType}" is not a case type in case-types/ (${choices})`);
      else if (!type.sources.includes('report'))
        problem('caseType', `Case type "${caseType}" does not take reports: add "report" to its sources, or use another (${choices})`);
      else {
        const known = type.statuses.map((status) => status.code);
        const unknown = (status: string) => `"${status}" is not a status of case type "${caseType}" (its statuses are ${known.join(', ')})`;
        if (statuses !== null && typeof statuses === 'object' && !refused.has('statuses')) {
          const missing = known.filter((status) => !Object.hasOwn(statuses, status));
          if (missing.length > 0) problem('statuses', `Say which report status each of ${missing.join(', ')} is shown as`);
          for (const status of Object.keys(statuses)) if (!known.includes(status)) problem(`statuses.${status}`, unknown(status));
        }
        // Each template's status is checked on its own, so one bad title does not hide a wrong status.
        if (Array.isArray(responses))
          responses.forEach((response: unknown, i) => {
            const status = response !== null && typeof response === 'object' && 'status' in response ? response.status : undefined;
            if (typeof status === 'string' && status.trim() && !known.includes(status.trim())) problem(`responses[${i}].status`, unknown(status.trim()));
          });
      }
    }
  });
}

/**
 * Every problem with the council's report categories, one line each as
 * `report-categories/<file>: <path>: <message>`; none means they load.
 */
export function reportCategoryProblems(councilDir: string, caseTypes: ReadonlyMap<string, CaseType>): string[] {
  return checkCategories(councilDir, caseTypes).problems;
}

/**
 * Loads the council's report categories, keyed by code, in file-name order. Throws one Error listing
 * every problem in every file, so a council fixing its configuration sees them all at once.
 */
export function loadReportCategories(councilDir: string, caseTypes: ReadonlyMap<string, CaseType>, contacts: CouncilContacts): Map<string, ReportCategory> {
  const { definitions, problems } = checkCategories(councilDir, caseTypes);
  refuseProblems(councilDir, REPORT_CATEGORIES_FOLDER, 'report categories', problems);
  const categories = new Map<string, ReportCategory>();
  for (const definition of definitions) {
    const type = caseTypes.get(definition.caseType);
    // Checked above; a miss here would be a bug in the checks.
    if (!type) throw new Error(`Report category ${definition.code}: no case type ${definition.caseType}`);
    categories.set(definition.code, toReportCategory(definition, type, contacts));
  }
  return categories;
}
