// The platform's side of record linkage: every stored record, standardised once and held in memory with the
// person it belongs to, so searches and incremental linking never re-read the whole table. No database here:
// the service loads the rows and writes back what this decides.
import {
  candidatePairs,
  clearlyDifferent,
  cluster,
  likelySiblings,
  dedupe,
  prepare,
  scorePairsInTurns,
  SearchIndex,
  standardise,
  trainModel,
  type LinkageModel,
  type PersonRecord,
  type StandardRecord,
} from './linkage/index.js';
import { syntheticResidents } from './linkage/synthetic.js';

export interface StoredRecord {
  /** The record's database id. */
  id: string;
  personId: string;
  sourceCode: string;
  person: PersonRecord;
}

export interface Decision {
  a: string;
  b: string;
  status: 'confirmed' | 'rejected';
}

export interface Matcher {
  model: LinkageModel;
  /** How many records the model was trained on. */
  trainedOn: number;
  records: Map<string, { stored: StoredRecord; standard: StandardRecord }>;
  index: SearchIndex;
}

/** Below this many records, unlabelled training has too few matches to learn from: a starter model is used. */
export const MIN_TRAINING_RECORDS = 5000;
let starter: LinkageModel | undefined;

/**
 * The model a council starts with before its own records are enough to train on: learned the same way from
 * made-up residents with typical errors. It is replaced as soon as the real records are numerous enough.
 */
export function starterModel(): LinkageModel {
  starter ??= trainModel(syntheticResidents({ people: 6000, seed: 2026 }));
  return starter;
}

/** Whether a model trained on `trainedOn` records should be trained again now there are `total`. */
export function needsTraining(trainedOn: number, total: number): boolean {
  if (total < MIN_TRAINING_RECORDS) return false;
  return trainedOn < MIN_TRAINING_RECORDS || total > 2 * trainedOn;
}

/** Records standardised and indexed per slice: a borough's million takes tens of seconds, and requests go between slices. */
const BUILD_SLICE = 5000;

export async function buildMatcher(records: readonly StoredRecord[], model: { model: LinkageModel; records: number } | undefined): Promise<Matcher> {
  const trained = model?.model ?? starterModel();
  const index = new SearchIndex(trained);
  const map = new Map<string, { stored: StoredRecord; standard: StandardRecord }>();
  for (let from = 0; from < records.length; from += BUILD_SLICE) {
    const slice = records.slice(from, from + BUILD_SLICE).map((stored) => ({ stored, standard: standardise({ ...stored.person, id: stored.id }) }));
    index.upsert(slice.map(({ stored, standard }) => ({ record: standard, personId: stored.personId })));
    for (const held of slice) map.set(held.stored.id, held);
    if (from + BUILD_SLICE < records.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return { model: trained, trainedOn: model?.records ?? 0, records: map, index };
}

/** Takes a committed load into the matcher: new and changed records, and people merged by it. */
export function updateMatcher(matcher: Matcher, stored: readonly StoredRecord[], merges: ReadonlyMap<string, string>): void {
  const moved: { record: StandardRecord; personId: string }[] = [];
  if (merges.size > 0)
    for (const held of matcher.records.values()) {
      const to = merges.get(held.stored.personId);
      if (to === undefined) continue;
      held.stored = { ...held.stored, personId: to };
      moved.push({ record: held.standard, personId: to });
    }
  for (const s of stored) {
    const standard = standardise({ ...s.person, id: s.id });
    matcher.records.set(s.id, { stored: s, standard });
    moved.push({ record: standard, personId: s.personId });
  }
  matcher.index.upsert(moved);
}

export interface ReviewOut {
  /** Record ids, or `new:<n>` for the n-th incoming record. */
  a: string;
  b: string;
  probability: number;
  reason: 'uncertain' | 'possible twins or siblings';
}

export interface IncomingLinks {
  /** For each incoming record: an existing person's id, or `new:<k>` for the k-th new person. */
  personOf: string[];
  newPeople: number;
  /** Existing people joined into another: from, to. */
  merges: Map<string, string>;
  review: ReviewOut[];
}

/**
 * Links arriving records (new, or changed since their last load) to the people already known and to each
 * other, with the current model. Only the records the arrivals could match take part, so a load of a few
 * hundred records against a million costs a few hundred blocks, not a re-link.
 */
export async function linkIncoming(
  matcher: Matcher,
  incoming: readonly { person: PersonRecord; existingId?: string }[],
  decisions: readonly Decision[],
  options: { threshold?: number; reviewThreshold?: number } = {},
): Promise<IncomingLinks> {
  const arriving = prepare(incoming.map((r, i) => ({ ...r.person, id: r.existingId ?? `new:${i}` })));
  const changing = new Set(incoming.flatMap((r) => (r.existingId ? [r.existingId] : [])));
  const others: StandardRecord[] = [];
  const otherPeople: string[] = [];
  for (const [id, { stored, standard }] of matcher.records) {
    if (changing.has(id)) continue;
    others.push(standard);
    otherPeople.push(stored.personId);
  }
  const within = await scorePairsInTurns(matcher.model, arriving, arriving, candidatePairs(arriving, undefined));
  const across = others.length > 0 ? await scorePairsInTurns(matcher.model, arriving, others, candidatePairs(arriving, others)) : undefined;

  // The records taking part: the arrivals, then each existing record they could match.
  const nodes: StandardRecord[] = [...arriving];
  const nodePerson: (string | undefined)[] = arriving.map(() => undefined);
  const nodeOfOther = new Map<number, number>();
  const pairs: { left: number; right: number; probability: number }[] = [];
  const floor = options.reviewThreshold ?? 0.5;
  for (let k = 0; k < within.probability.length; k++)
    if ((within.probability[k] as number) >= floor)
      pairs.push({ left: within.left[k] as number, right: within.right[k] as number, probability: within.probability[k] as number });
  if (across)
    for (let k = 0; k < across.probability.length; k++) {
      const probability = across.probability[k] as number;
      if (probability < floor) continue;
      const j = across.right[k] as number;
      let node = nodeOfOther.get(j);
      if (node === undefined) {
        node = nodes.length;
        nodeOfOther.set(j, node);
        nodes.push(others[j] as StandardRecord);
        nodePerson.push(otherPeople[j]);
      }
      pairs.push({ left: across.left[k] as number, right: node, probability });
    }

  // What staff decided holds: records already one person stay together, and decided pairs are not re-asked.
  const nodeOfId = new Map(nodes.map((n, i) => [n.id, i]));
  const confirmed: [number, number][] = [];
  const rejected: [number, number][] = [];
  const firstOfPerson = new Map<string, number>();
  nodePerson.forEach((person, i) => {
    if (person === undefined) return;
    const first = firstOfPerson.get(person);
    if (first === undefined) firstOfPerson.set(person, i);
    else confirmed.push([first, i]);
  });
  // People already kept apart stay apart: an arrival that resembles two people (twins, a parent and child)
  // joins at most one of them. Only the people each arrival could join are compared.
  const neighbours = new Map<number, number[]>();
  for (const p of pairs) {
    if (p.right < arriving.length) continue;
    const list = neighbours.get(p.left);
    if (list) list.push(p.right);
    else neighbours.set(p.left, [p.right]);
  }
  const apart = new Set<string>();
  for (const list of neighbours.values())
    for (let x = 0; x < list.length; x++)
      for (let y = x + 1; y < list.length; y++) {
        const i = list[x] as number;
        const j = list[y] as number;
        const key = i < j ? `${i}|${j}` : `${j}|${i}`;
        if (nodePerson[i] === nodePerson[j] || apart.has(key)) continue;
        const a = nodes[i] as StandardRecord;
        const b = nodes[j] as StandardRecord;
        if (likelySiblings(a, b) || clearlyDifferent(a, b)) {
          apart.add(key);
          rejected.push([i, j]);
        }
      }
  for (const d of decisions) {
    const x = nodeOfId.get(d.a);
    const y = nodeOfId.get(d.b);
    if (x === undefined || y === undefined) continue;
    (d.status === 'confirmed' ? confirmed : rejected).push([x, y]);
  }
  const grouped = cluster(nodes, pairs, { ...options, decisions: { confirmed, rejected } });

  const peopleInCluster = new Map<number, Set<string>>();
  nodePerson.forEach((person, i) => {
    if (person === undefined) return;
    const c = grouped.clusterOf[i] as number;
    let set = peopleInCluster.get(c);
    if (!set) peopleInCluster.set(c, (set = new Set()));
    set.add(person);
  });
  const merges = new Map<string, string>();
  const personOfCluster = new Map<number, string>();
  for (const [c, people] of peopleInCluster) {
    const sorted = [...people].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const keep = sorted[0] as string;
    personOfCluster.set(c, keep);
    for (const other of sorted.slice(1)) merges.set(other, keep);
  }
  // A changed record that joins nobody else stays the person it was, unless another record still is that person.
  const held = new Set(otherPeople);
  const taken = new Set(personOfCluster.values());
  let newPeople = 0;
  const personOf = arriving.map((_, i) => {
    const c = grouped.clusterOf[i] as number;
    let person = personOfCluster.get(c);
    if (person === undefined) {
      const existingId = incoming[i]?.existingId;
      const before = existingId === undefined ? undefined : matcher.records.get(existingId)?.stored.personId;
      person = before !== undefined && !held.has(before) && !taken.has(before) ? before : `new:${newPeople++}`;
      taken.add(person);
      personOfCluster.set(c, person);
    }
    return person;
  });
  const review = grouped.review
    // Pairs of records that were already one person are not a question.
    .filter((p) => p.left < arriving.length || p.right < arriving.length)
    .map((p) => ({ a: (nodes[p.left] as StandardRecord).id, b: (nodes[p.right] as StandardRecord).id, probability: p.probability, reason: p.reason }));
  return { personOf, newPeople, merges, review };
}

export interface Relinked {
  model: LinkageModel;
  /** Record id to its cluster number. */
  clusterOf: Map<string, number>;
  review: ReviewOut[];
}

/**
 * Every record from scratch: trains the model again and clusters everything, with staff decisions applied.
 * Too few records to learn from are linked with the starter model; `fixedModel`, when given, is used instead of training.
 */
export function relinkAll(records: readonly StoredRecord[], decisions: readonly Decision[], fixedModel?: LinkageModel): Relinked {
  const model = fixedModel ?? (records.length < MIN_TRAINING_RECORDS ? starterModel() : undefined);
  const list = prepare(records.map((r) => ({ ...r.person, id: r.id })));
  const position = new Map(list.map((r, i) => [r.id, i]));
  const confirmed: [number, number][] = [];
  const rejected: [number, number][] = [];
  for (const d of decisions) {
    const x = position.get(d.a);
    const y = position.get(d.b);
    if (x !== undefined && y !== undefined) (d.status === 'confirmed' ? confirmed : rejected).push([x, y]);
  }
  const result = dedupe(list, { decisions: { confirmed, rejected }, ...(model ? { model } : {}) });
  return {
    model: result.model,
    clusterOf: new Map(result.clusters.map((c) => [c.id, c.cluster])),
    review: result.review.map((p) => ({ a: p.leftId, b: p.rightId, probability: p.probability, reason: p.reason })),
  };
}

/**
 * Gives re-linked clusters person ids, keeping each existing id with the cluster that holds most of its
 * records, so a person's address in the single view survives a re-link whenever the person does.
 */
export function keepPersonIds(records: readonly StoredRecord[], clusterOf: ReadonlyMap<string, number>): { personOf: Map<string, string>; newPeople: number } {
  const votes = new Map<number, Map<string, number>>();
  for (const r of records) {
    const c = clusterOf.get(r.id) as number;
    let tally = votes.get(c);
    if (!tally) votes.set(c, (tally = new Map()));
    tally.set(r.personId, (tally.get(r.personId) ?? 0) + 1);
  }
  // Largest clusters choose first, so a big family record keeps its id over a stray one.
  const order = [...votes.entries()].sort((a, b) => sum(b[1]) - sum(a[1]));
  const taken = new Set<string>();
  const idOfCluster = new Map<number, string>();
  let newPeople = 0;
  for (const [c, tally] of order) {
    const best = [...tally.entries()].filter(([p]) => !taken.has(p)).sort((a, b) => b[1] - a[1])[0];
    if (best) {
      taken.add(best[0]);
      idOfCluster.set(c, best[0]);
    } else idOfCluster.set(c, `new:${newPeople++}`);
  }
  const personOf = new Map<string, string>();
  for (const r of records) personOf.set(r.id, idOfCluster.get(clusterOf.get(r.id) as number) as string);
  return { personOf, newPeople };
}

function sum(tally: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const n of tally.values()) total += n;
  return total;
}
