import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { CaseTypeSchema, toCaseType, type CaseType, type CaseTypeDefinition } from './case-type.js';

/** The folder, inside the council folder, that holds one `<code>.json` per case type. */
export const CASE_TYPES_FOLDER = 'case-types';

interface Checked {
  definitions: CaseTypeDefinition[];
  problems: string[];
}

/** `statuses[2].next[0]`, the way form paths are written elsewhere. */
function formatPath(segments: readonly PropertyKey[]): string {
  return segments.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`)).join('');
}

/** One line per zod issue; a bad record key says what is wrong with the key rather than zod's generic "Invalid key in record". */
function issueLines(issue: z.core.$ZodIssue): { path: string; message: string }[] {
  const where = formatPath(issue.path);
  if (issue.code === 'invalid_key' && issue.issues.length > 0) return issue.issues.map((inner) => ({ path: where, message: `key: ${inner.message}` }));
  return [{ path: where, message: issue.message }];
}

function readJson(file: string): { ok: true; value: unknown } | { ok: false; message: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, message: `Cannot read the file: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Reads and checks every case type file. A council without a case-types folder simply has no case
 * types. The file name, uniqueness and team checks also run on a file the schema refused (as long
 * as the field itself is sound), so one run shows everything there is to fix.
 */
function checkCaseTypes(councilDir: string, teamCodes: readonly string[]): Checked {
  const folder = path.join(councilDir, CASE_TYPES_FOLDER);
  let names: string[];
  try {
    // Plain code-unit order, so the result does not depend on the machine's locale.
    names = readdirSync(folder)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return { definitions: [], problems: [] };
    throw error;
  }

  const teams = new Set(teamCodes);
  const owners = new Map<string, string>();
  const definitions: CaseTypeDefinition[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const problem = (where: string, message: string): void => {
      problems.push(`${CASE_TYPES_FOLDER}/${name}: ${where ? `${where}: ` : ''}${message}`);
    };
    const read = readJson(path.join(folder, name));
    if (!read.ok) {
      problem('', read.message);
      continue;
    }
    const parsed = CaseTypeSchema.safeParse(read.value);
    const fieldsWithIssues = new Set<PropertyKey>();
    if (parsed.success) definitions.push(parsed.data);
    else
      for (const issue of parsed.error.issues) {
        if (issue.path[0] !== undefined) fieldsWithIssues.add(issue.path[0]);
        for (const line of issueLines(issue)) problem(line.path, line.message);
      }

    const raw: Record<string, unknown> = typeof read.value === 'object' && read.value !== null && !Array.isArray(read.value) ? { ...read.value } : {};
    const { code, team } = raw;
    if (typeof code === 'string' && !fieldsWithIssues.has('code')) {
      if (name !== `${code}.json`) problem('code', `The file must be named ${code}.json, after the code`);
      const owner = owners.get(code);
      if (owner === undefined) owners.set(code, name);
      else problem('code', `"${code}" is already the code of ${CASE_TYPES_FOLDER}/${owner}`);
    }
    if (typeof team === 'string' && !fieldsWithIssues.has('team') && !teams.has(team)) {
      problem('team', `"${team}" is not a team in teams.json (the teams are ${teamCodes.join(', ') || 'none'})`);
    }
  }
  return { definitions, problems };
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
  if (problems.length > 0) {
    const heading = `The case types in ${path.join(councilDir, CASE_TYPES_FOLDER)} are not valid (${problems.length} problem${problems.length === 1 ? '' : 's'})`;
    throw new Error(`${heading}:\n${problems.join('\n')}`);
  }
  return new Map(definitions.map((definition) => [definition.code, toCaseType(definition)]));
}
