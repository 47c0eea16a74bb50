// Name groups: a name and its diminutives or spelling variants share a group id, so "bill" and "william"
// (or "billy" and "will") compare as the same forename. A name may belong to several groups ("al").
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '#platform/config/index';

export type NicknameIndex = ReadonlyMap<string, readonly number[]>;

function clean(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

/**
 * Builds the index from tables in either of two layouts: `name,has_nickname,nickname` rows, or
 * `name,variant variant ...` rows. Lines starting with # and header rows are skipped.
 */
export function buildNicknameIndex(tables: readonly string[]): NicknameIndex {
  const groupOf = new Map<string, number>();
  const members = new Map<string, Set<number>>();
  const add = (name: string, group: number): void => {
    if (!name) return;
    let set = members.get(name);
    if (!set) members.set(name, (set = new Set()));
    set.add(group);
  };
  const groupFor = (head: string): number => {
    let g = groupOf.get(head);
    if (g === undefined) {
      g = groupOf.size;
      groupOf.set(head, g);
      add(head, g);
    }
    return g;
  };
  for (const text of tables) {
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const cells = line.split(',').map((c) => c.trim());
      if (cells[0] === 'name1' || cells[0] === 'name') continue;
      const head = clean(cells[0] ?? '');
      if (!head) continue;
      const g = groupFor(head);
      const variants = cells.length >= 3 ? [cells[2] ?? ''] : (cells[1] ?? '').split(/\s+/);
      for (const v of variants) add(clean(v), g);
    }
  }
  const index = new Map<string, number[]>();
  for (const [name, set] of members)
    index.set(
      name,
      [...set].sort((a, b) => a - b),
    );
  return index;
}

/** The tables ship in the source tree, read from there like the templates, whether the code runs from src/ or dist/. */
const DATA_DIRECTORY = path.join(projectRoot, 'src/modules/signposts/linkage/data');

let defaultIndex: NicknameIndex | undefined;

/** The bundled tables (the shared nickname list plus UK diminutives), loaded once. */
export function defaultNicknames(): NicknameIndex {
  if (!defaultIndex) {
    const dir = DATA_DIRECTORY;
    defaultIndex = buildNicknameIndex([readFileSync(path.join(dir, 'names.csv'), 'utf8'), readFileSync(path.join(dir, 'uk-nicknames.csv'), 'utf8')]);
  }
  return defaultIndex;
}

/** True when the two sorted group lists share a group. */
export function shareGroup(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}
