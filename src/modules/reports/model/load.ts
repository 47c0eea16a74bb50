import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CaseType } from '#modules/cases/index';
import { formatPath } from '#modules/forms/index';
import { ReportCategorySchema, toReportCategory, type CouncilContacts, type ReportCategory, type ReportCategoryDefinition } from './category.js';

/** The folder, inside the council folder, that holds one `<code>.json` per report category. */
export const REPORT_CATEGORIES_FOLDER = 'report-categories';

interface Checked {
  definitions: ReportCategoryDefinition[];
  problems: string[];
}

type Read = { ok: true; value: unknown } | { ok: false; message: string };

function readCategoryFile(file: string): Read {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, message: `Cannot read the file: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function fileNames(folder: string): string[] {
  try {
    // Plain code-unit order, so the result does not depend on the machine's locale.
    return readdirSync(folder)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Reads and checks every category file against the schema and against the loaded case types. The
 * cross-checks (file name, unique code and name, case type) also run on a file the schema refused,
 * as long as the field itself is sound, so one run shows everything there is to fix.
 */
function checkCategories(councilDir: string, caseTypes: ReadonlyMap<string, CaseType>): Checked {
  const folder = path.join(councilDir, REPORT_CATEGORIES_FOLDER);
  const codes = new Map<string, string>();
  const names = new Map<string, string>();
  const definitions: ReportCategoryDefinition[] = [];
  const problems: string[] = [];
  const reportTypes = [...caseTypes.values()].filter((type) => type.sources.includes('report')).map((type) => type.code);

  for (const file of fileNames(folder)) {
    const problem = (where: string, message: string): void => {
      problems.push(`${REPORT_CATEGORIES_FOLDER}/${file}: ${where ? `${where}: ` : ''}${message}`);
    };
    const read = readCategoryFile(path.join(folder, file));
    if (!read.ok) {
      problem('', read.message);
      continue;
    }
    const parsed = ReportCategorySchema.safeParse(read.value);
    const refused = new Set<PropertyKey>();
    if (parsed.success) definitions.push(parsed.data);
    else
      for (const issue of parsed.error.issues) {
        if (issue.path[0] !== undefined) refused.add(issue.path[0]);
        problem(formatPath(issue.path), issue.message);
      }

    const raw: Record<string, unknown> = typeof read.value === 'object' && read.value !== null && !Array.isArray(read.value) ? { ...read.value } : {};
    const { code, name, caseType } = raw;
    if (typeof code === 'string' && !refused.has('code')) {
      if (file !== `${code}.json`) problem('code', `The file must be named ${code}.json, after the code`);
      const owner = codes.get(code);
      if (owner === undefined) codes.set(code, file);
      else problem('code', `"${code}" is already the code of ${REPORT_CATEGORIES_FOLDER}/${owner}`);
    }
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
    }
  }
  return { definitions, problems };
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
  if (problems.length > 0) {
    const heading = `The report categories in ${path.join(councilDir, REPORT_CATEGORIES_FOLDER)} are not valid (${problems.length} problem${problems.length === 1 ? '' : 's'})`;
    throw new Error(`${heading}:\n${problems.join('\n')}`);
  }
  const categories = new Map<string, ReportCategory>();
  for (const definition of definitions) {
    const type = caseTypes.get(definition.caseType);
    // Checked above; a miss here would be a bug in the checks.
    if (!type) throw new Error(`Report category ${definition.code}: no case type ${definition.caseType}`);
    categories.set(definition.code, toReportCategory(definition, type, contacts));
  }
  return categories;
}
