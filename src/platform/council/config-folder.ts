import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';

/**
 * Reading a council configuration folder (`case-types/`, `report-categories/`, ...): one
 * `<code>.json` per item, each checked against its schema, named after its code, with codes unique
 * across the folder. Every problem in every file is collected, so a council fixing its
 * configuration sees them all at once, each as `<folder>/<file>: <path>: <message>`.
 */

/** One file of the folder, for the capability's own cross-checks. */
export interface ConfigFile {
  file: string;
  /** The file's top-level object (empty when it is not one), to check fields even when the schema refused the file. */
  raw: Record<string, unknown>;
  /** Top-level fields the schema refused: cross-checks skip them, as their problem is already reported. */
  refused: ReadonlySet<PropertyKey>;
  problem(where: string, message: string): void;
}

/** `statuses[2].next[0]`: the path of a value inside a file. */
export function formatPath(segments: readonly PropertyKey[]): string {
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
    // A council without the folder simply has none of these items.
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Reads and checks every file in `<councilDir>/<folder>`: the schema, the file name against the
 * `code`, unique codes, then `crossCheck` for what only the capability knows (its teams, its case
 * types). The cross-checks also run on a file the schema refused, as long as the field is sound.
 */
export function checkConfigFolder<T>(
  councilDir: string,
  folder: string,
  schema: z.ZodType<T>,
  crossCheck: (file: ConfigFile) => void = () => undefined,
): { definitions: T[]; problems: string[] } {
  const definitions: T[] = [];
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const file of fileNames(path.join(councilDir, folder))) {
    const problem = (where: string, message: string): void => {
      problems.push(`${folder}/${file}: ${where ? `${where}: ` : ''}${message}`);
    };
    const read = readJson(path.join(councilDir, folder, file));
    if (!read.ok) {
      problem('', read.message);
      continue;
    }
    const parsed = schema.safeParse(read.value);
    const refused = new Set<PropertyKey>();
    if (parsed.success) definitions.push(parsed.data);
    else
      for (const issue of parsed.error.issues) {
        if (issue.path[0] !== undefined) refused.add(issue.path[0]);
        for (const line of issueLines(issue)) problem(line.path, line.message);
      }
    const raw: Record<string, unknown> = typeof read.value === 'object' && read.value !== null && !Array.isArray(read.value) ? { ...read.value } : {};
    const { code } = raw;
    if (typeof code === 'string' && !refused.has('code')) {
      if (file !== `${code}.json`) problem('code', `The file must be named ${code}.json, after the code`);
      const owner = owners.get(code);
      if (owner === undefined) owners.set(code, file);
      else problem('code', `"${code}" is already the code of ${folder}/${owner}`);
    }
    crossCheck({ file, raw, refused, problem });
  }
  return { definitions, problems };
}

/** Throws one Error listing every problem, headed by what the folder holds; does nothing when there are none. */
export function refuseProblems(councilDir: string, folder: string, what: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  const heading = `The ${what} in ${path.join(councilDir, folder)} are not valid (${problems.length} problem${problems.length === 1 ? '' : 's'})`;
  throw new Error(`${heading}:\n${problems.join('\n')}`);
}
