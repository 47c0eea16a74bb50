import { checkConfigFolder, refuseProblems } from '#platform/council/config-folder';
import { CaseTypeSchema, toCaseType, type CaseType } from './case-type.js';

/** The folder, inside the council folder, that holds one `<code>.json` per case type. */
export const CASE_TYPES_FOLDER = 'case-types';

/**
 * Reads and checks every case type file, and that each names one of the council's teams. A council
 * without a case-types folder simply has no case types.
 */
function checkCaseTypes(councilDir: string, teamCodes: readonly string[]) {
  const teams = new Set(teamCodes);
  return checkConfigFolder(councilDir, CASE_TYPES_FOLDER, CaseTypeSchema, ({ raw, refused, problem }) => {
    const { team } = raw;
    if (typeof team === 'string' && !refused.has('team') && !teams.has(team)) {
      problem('team', `"${team}" is not a team in teams.json (the teams are ${teamCodes.join(', ') || 'none'})`);
    }
  });
}

/**
 * Every problem with the council's case types, one line each as `case-types/<file>: <path>: <message>`;
 * none means they load. For a command-line check that prints rather than throws.
 */
export function caseTypeProblems(councilDir: string, teamCodes: readonly string[]): string[] {
  return checkCaseTypes(councilDir, teamCodes).problems;
}

/**
 * Loads the council's case types, keyed by code, in file-name order. Throws one Error listing every
 * problem in every file, so a council fixing its configuration sees them all at once.
 */
export function loadCaseTypes(councilDir: string, teamCodes: readonly string[]): Map<string, CaseType> {
  const { definitions, problems } = checkCaseTypes(councilDir, teamCodes);
  refuseProblems(councilDir, CASE_TYPES_FOLDER, 'case types', problems);
  return new Map(definitions.map((definition) => [definition.code, toCaseType(definition)]));
}
