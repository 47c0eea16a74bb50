import { createHash } from 'node:crypto';
import { recordAudit, searchAudit, type Actor, type AuditSearch } from '#platform/audit/index';
import { toCsv } from '#platform/http/csv';
import { HttpError } from '#platform/http/errors';
import { queueEmail, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { assertCan, type StaffMember } from '#modules/account/index';
import { explain, type Explanation, type FieldAgreement, type SearchQuery } from './linkage/index.js';
import {
  buildMatcher,
  keepPersonIds,
  linkIncoming,
  MIN_TRAINING_RECORDS,
  needsTraining,
  updateMatcher,
  type Decision,
  type Matcher,
  type ReviewOut,
  type StoredRecord,
} from './matcher.js';
import {
  linkageRecord,
  mapExtract,
  readExtract,
  type ExtractFormat,
  type RowProblem,
  type SignpostsConfig,
  type Source,
  type SourceRecord,
} from './model/sources.js';
import { relinkOffThread } from './relink-worker.js';
import {
  createSignpostsRepository,
  type EventRow,
  type ExistingRecord,
  type LinkageRow,
  type LoadRow,
  type RecordRow,
  type SignpostsDb,
} from './repository.js';

const DAY_MS = 24 * 60 * 60_000;
/** Break-glass access lasts for the working day it was asked for. */
const BREAK_GLASS_HOURS = 8;
const MAX_RESULTS = 25;
/** The comparisons that read a record's address. */
const ADDRESS_COMPARISONS: ReadonlySet<string> = new Set(['postcode', 'address', 'town']);
const NOTHING_HIDDEN: ReadonlySet<string> = new Set();

/** What the officer is working on; attached to everything they do in Signposts until they change it. */
export interface Purpose {
  reference: string;
  reason: string;
}

export class UnknownSource extends Error {}

export interface LoadSummary {
  loadId: number;
  source: string;
  status: LoadRow['status'];
  rows: number;
  records: number;
  added: number;
  changed: number;
  rejected: number;
  problems: RowProblem[];
  failure?: string;
}

export interface PersonSummary {
  personId: string;
  score: number;
  /** How the best record the officer may see compares with what they searched for, field by field. */
  agreement: FieldAgreement[];
  /** Names, dates of birth and addresses as each source the officer may see has them. */
  versions: { agency: string; name: string; dob: string; address: string }[];
}

export interface RecordView {
  id: string;
  source: string;
  agency: string;
  recordId: string;
  name: string;
  previousNames: string[];
  aliases: string[];
  dob: string;
  gender: string;
  address: string;
  identifiers: { label: string; value: string }[];
  /** Fields this officer's role may not see. */
  hidden: string[];
  viaBreakGlass: boolean;
}

export interface TimelineEvent {
  date: string | null;
  end: string | null;
  personId: string;
  name: string;
  agency: string;
  source: string;
  type: string;
  summary: string | null;
  status: 'open' | 'closed';
  professional: string;
  contact: string | null;
}

export interface PersonView {
  personId: string;
  name: string;
  dob: string;
  records: RecordView[];
  timeline: TimelineEvent[];
  contacts: { agency: string; professional: string; contact: string | null; open: boolean; latest: string | null }[];
  related: { personId: string; name: string; dob: string; relation: string; agency: string }[];
  pendingLinks: { recordId: string; otherRecordId: string; otherPersonId: string; probability: number; reason: string }[];
  /** Agencies holding records the officer may not see, with how many (break-glass opens them). */
  hiddenSources: { agency: string; count: number }[];
  breakGlass: boolean;
}

const IDENTIFIER_LABELS: Record<string, string> = { nhs_number: 'NHS number', upn: 'Unique pupil number', ni_number: 'National Insurance number' };

export interface SignpostsDeps {
  platform: Platform;
  config: SignpostsConfig;
  notifier: Pick<Notifier, 'nudge'>;
}

export function createSignpostsService(deps: SignpostsDeps) {
  const { platform, config } = deps;
  const db = platform.database.db as unknown as SignpostsDb;
  const repo = createSignpostsRepository(db);
  const sources = new Map(config.sources.map((s) => [s.code, s]));
  let matcher: { version: number; value: Matcher } | undefined;
  let building: Promise<Matcher | undefined> | undefined;

  const sourceOf = (code: string): Source => {
    const source = sources.get(code);
    if (!source) throw new UnknownSource(`There is no source "${code}". Sources: ${[...sources.keys()].join(', ')}`);
    return source;
  };
  const staffActor = (staff: StaffMember): Actor => ({ type: 'staff', id: staff.id, label: staff.name });
  const canSee = (staff: StaffMember, source: Source): boolean => staff.roles.some((r) => source.roles.includes(r));
  const hiddenFields = (staff: StaffMember, source: Source): string[] =>
    source.sensitive && !staff.roles.some((r) => source.sensitive?.roles.includes(r)) ? source.sensitive.fields : [];
  const purposeText = (purpose: Purpose): string => `${purpose.reference}: ${purpose.reason}`;

  function checkPurpose(purpose: Purpose | undefined): Purpose {
    if (!purpose || !purpose.reference.trim() || !purpose.reason.trim())
      throw new HttpError(400, 'Say what you are working on before you search: the referral or case reference and the reason.');
    return purpose;
  }

  // The database gives int8 ids back as numbers; the linkage compares and keys them as strings.
  const storedOf = (row: LinkageRow): StoredRecord => ({
    id: String(row.id),
    personId: String(row.person_id),
    sourceCode: row.source_code,
    person: linkageRecord(row.source_code, {
      recordId: row.record_id,
      person: {
        forenames: row.forenames,
        surname: row.surname,
        previousNames: row.previous_names,
        aliases: row.aliases,
        dob: row.dob,
        gender: row.gender,
        address: row.address,
        postcode: row.postcode,
        uprn: '',
        identifiers: row.identifiers,
      },
    }),
  });

  /** The in-memory matcher, rebuilt when another process (or a load) has changed what it holds. */
  async function currentMatcher(): Promise<Matcher | undefined> {
    const version = await repo.version();
    if (matcher && matcher.version === version) return matcher.value;
    if (building) return building;
    building = (async () => {
      const rows = await repo.allForLinkage();
      // Nothing loaded yet: there is no one to find.
      if (rows.length === 0) return undefined;
      const value = await buildMatcher(rows.map(storedOf), await repo.model());
      matcher = { version, value };
      return value;
    })();
    try {
      return await building;
    } finally {
      building = undefined;
    }
  }

  const decisionsOf = async (executor?: SignpostsDb): Promise<Decision[]> =>
    (await repo.decisions(executor)).map((d) => ({ a: String(d.record_a), b: String(d.record_b), status: d.status as Decision['status'] }));

  /** Whether two readings of a source's records agree on every id, content and person. */
  const sameRecords = (a: ReadonlyMap<string, ExistingRecord>, b: ReadonlyMap<string, ExistingRecord>): boolean =>
    a.size === b.size &&
    [...a].every(([recordId, x]) => {
      const y = b.get(recordId);
      return y !== undefined && y.id === x.id && y.hash === x.hash && y.personId === x.personId;
    });

  async function ingest(input: {
    source: string;
    text: string;
    format: ExtractFormat;
    fileName: string;
    via: 'command line' | 'api';
    loadedBy: string;
    /** Ends a re-link the load sets off when the platform stops; the load itself is already committed. */
    stopping?: AbortSignal;
  }): Promise<LoadSummary> {
    const source = sourceOf(input.source);
    const checksum = createHash('sha256').update(input.text).digest('hex');
    const startedAt = new Date();
    let parsed: { rows: Record<string, string>[]; firstRow: number };
    try {
      parsed = readExtract(input.text, input.format);
    } catch (error) {
      const failure = `The extract could not be read: ${error instanceof Error ? error.message : String(error)}`;
      const loadId = await repo.transaction((tx) =>
        repo.insertLoad(tx, {
          source_code: source.code,
          file_name: input.fileName,
          via: input.via,
          checksum,
          status: 'failed',
          rows: 0,
          records: 0,
          added: 0,
          changed: 0,
          rejected: 0,
          problems: [],
          failure,
          loaded_by: input.loadedBy,
          started_at: startedAt,
        }),
      );
      return { loadId, source: source.code, status: 'failed', rows: 0, records: 0, added: 0, changed: 0, rejected: 0, problems: [], failure };
    }
    const { records, problems } = mapExtract(source, parsed.rows, parsed.firstRow);
    const hashed = records.map((record) => ({ record, hash: createHash('sha256').update(JSON.stringify(record)).digest('hex') }));
    // The matcher is read before the transaction: the embedded database has one connection.
    const known = await currentMatcher();
    const versionBefore = matcher?.version;
    const decisions = await decisionsOf();
    const linker = known ?? (await buildMatcher([], undefined));
    const existingIn = (executor: SignpostsDb) =>
      repo.existing(
        executor,
        source.code,
        records.map((r) => r.recordId),
      );
    /** Which records arrive (new or changed) and whom each joins, given the source's stored records. */
    async function plan(existing: Map<string, ExistingRecord>) {
      const arriving: { record: SourceRecord; hash: string; existingId?: number; personId?: number }[] = [];
      const unchanged: number[] = [];
      for (const { record, hash } of hashed) {
        const found = existing.get(record.recordId);
        if (found && found.hash === hash) unchanged.push(found.id);
        else arriving.push(found ? { record, hash, existingId: found.id, personId: found.personId } : { record, hash });
      }
      // The matcher knows records by their id as text; arrivals not yet stored are `new:<n>`.
      const incoming = arriving.map((a) => ({ person: linkageRecord(source.code, a.record), ...(a.existingId ? { existingId: String(a.existingId) } : {}) }));
      const linked = arriving.length > 0 ? await linkIncoming(linker, incoming, decisions) : undefined;
      return { existing, arriving, unchanged, incoming, linked };
    }
    // Linking is most of a large load's work. It is done before the transaction, giving way to requests as it goes, and
    // done again inside only if the source's records changed meanwhile (another load of the same source).
    const previous = await repo.lastLoad(db, source.code);
    let planned = previous && previous.checksum === checksum ? undefined : await plan(await existingIn(db));
    let applied: { stored: StoredRecord[]; merges: Map<string, string> } | undefined;
    let outgrown = false;
    const summary = await repo.transaction(async (tx) => {
      const base = {
        source_code: source.code,
        file_name: input.fileName,
        via: input.via,
        checksum,
        rows: parsed.rows.length,
        records: records.length,
        rejected: new Set(problems.map((p) => p.row)).size,
        problems,
        failure: null,
        loaded_by: input.loadedBy,
        started_at: startedAt,
      };
      await repo.lockSource(tx, source.code);
      const last = await repo.lastLoad(tx, source.code);
      if (last && last.checksum === checksum) {
        const loadId = await repo.insertLoad(tx, { ...base, status: 'unchanged', added: 0, changed: 0 });
        await repo.touchLoad(tx, last.id, loadId);
        return { loadId, added: 0, changed: 0, status: 'unchanged' as const };
      }
      const loadId = await repo.insertLoad(tx, { ...base, status: 'loaded', added: 0, changed: 0 });
      const now = await existingIn(tx);
      if (!planned || !sameRecords(planned.existing, now)) planned = await plan(now);
      const { arriving, unchanged, incoming, linked } = planned;
      await repo.touch(tx, unchanged, loadId);
      if (!linked) return { loadId, added: 0, changed: 0, status: 'loaded' as const };

      // When the records have outgrown what the model learned from, the load is followed by a full re-link
      // with a model trained on them all: links made with the old model would otherwise stay.
      outgrown = needsTraining(linker.trainedOn, linker.records.size + arriving.length);
      const newIds = await repo.newPeople(tx, linked.newPeople);
      const personOf = linked.personOf.map((p) => (p.startsWith('new:') ? (newIds[Number(p.slice(4))] as number) : Number(p)));
      const review: ReviewOut[] = linked.review;
      const merges = new Map<number, number>();
      for (const [from, to] of linked.merges) merges.set(Number(from), Number(to));
      const idOfNew = new Map<string, number>();
      const ids = await repo.saveRecords(
        tx,
        source.code,
        loadId,
        arriving.map((a, i) => ({ record: a.record, hash: a.hash, personId: personOf[i] as number, existingId: a.existingId })),
      );
      const moved = new Map<number, number>();
      for (const [i, a] of arriving.entries()) {
        idOfNew.set(`new:${i}`, ids[i] as number);
        if (a.existingId && a.personId !== personOf[i]) moved.set(a.existingId, personOf[i] as number);
      }
      await repo.movePeople(tx, moved);
      const added = arriving.filter((a) => !a.existingId).length;
      for (const [from, to] of merges) await tx.updateTable('signposts_records').set({ person_id: to }).where('person_id', '=', from).execute();
      const resolve = (id: string): number => idOfNew.get(id) ?? Number(id);
      await repo.saveReview(
        tx,
        review.map((r) => ({ ...r, a: resolve(r.a), b: resolve(r.b) })),
      );
      await repo.finishLoad(tx, loadId, { added, changed: arriving.length - added });
      await repo.bump(tx);
      applied = {
        stored: arriving.map((a, i) => ({
          id: String(idOfNew.get(`new:${i}`)),
          personId: String(personOf[i]),
          sourceCode: source.code,
          person: incoming[i]?.person ?? { id: '' },
        })),
        merges: new Map([...merges].map(([from, to]) => [String(from), String(to)])),
      };
      await recordAudit(tx as never, {
        actor: { type: input.via === 'api' ? 'api' : 'system', label: input.loadedBy },
        action: 'signposts.loaded',
        subject: { type: 'signposts-source', id: source.code },
        details: {
          loadId,
          rows: parsed.rows.length,
          added,
          changed: arriving.length - added,
          rejected: base.rejected,
          merged: merges.size,
          review: review.length,
        },
      });
      return { loadId, added, changed: arriving.length - added, status: 'loaded' as const };
    });
    // The matcher takes the load in place rather than reading every record again, as long as nothing else
    // changed meanwhile (another process's load or decision): then the next use rebuilds it from the database.
    if (known && matcher?.value === known && versionBefore !== undefined) {
      if (applied) updateMatcher(known, applied.stored, applied.merges);
      const after = await repo.version();
      matcher = after === versionBefore + (applied ? 1 : 0) ? { version: after, value: known } : undefined;
    } else matcher = undefined;
    if (outgrown) await relink({ stopping: input.stopping });
    return {
      loadId: summary.loadId,
      source: source.code,
      status: summary.status,
      rows: parsed.rows.length,
      records: records.length,
      added: summary.added,
      changed: summary.changed,
      rejected: new Set(problems.map((p) => p.row)).size,
      problems,
    };
  }

  /** Re-links every record from scratch with a freshly trained model, keeping person ids where people survive. */
  async function relink(opts: { stopping?: AbortSignal } = {}): Promise<{ records: number; people: number; review: number }> {
    const rows = await repo.allForLinkage();
    if (rows.length === 0) return { records: 0, people: 0, review: 0 };
    const stored = rows.map(storedOf);
    const decisions = await decisionsOf();
    const relinked = await relinkOffThread(stored, decisions, opts.stopping);
    const { personOf, newPeople } = keepPersonIds(stored, relinked.clusterOf);
    await repo.transaction(async (tx) => {
      const ids = await repo.newPeople(tx, newPeople);
      const moves = new Map<number, number>();
      for (const r of stored) {
        const person = personOf.get(r.id) as string;
        const id = person.startsWith('new:') ? (ids[Number(person.slice(4))] as number) : Number(person);
        if (String(id) !== r.personId) moves.set(Number(r.id), id);
      }
      await repo.movePeople(tx, moves);
      await repo.clearReview(tx);
      await repo.bump(tx);
      await repo.saveReview(
        tx,
        relinked.review.map((r) => ({ ...r, a: Number(r.a), b: Number(r.b) })),
      );
      if (stored.length >= MIN_TRAINING_RECORDS) await repo.saveModel(tx, relinked.model, stored.length);
      await recordAudit(tx as never, {
        actor: { type: 'system' },
        action: 'signposts.relinked',
        details: { records: stored.length, moved: moves.size, review: relinked.review.length },
      });
    });
    return { records: stored.length, people: new Set(relinked.clusterOf.values()).size, review: relinked.review.length };
  }

  /** Deletes each source's records not seen in a load within its retention period. */
  async function purgeExpired(now = new Date()): Promise<Record<string, number>> {
    const purged: Record<string, number> = {};
    await repo.transaction(async (tx) => {
      for (const source of sources.values()) {
        const count = await repo.purgeExpired(tx, source.code, new Date(now.getTime() - source.retentionDays * DAY_MS));
        if (count > 0) {
          purged[source.code] = count;
          await repo.bump(tx);
          await recordAudit(tx as never, {
            actor: { type: 'system' },
            action: 'signposts.purged',
            subject: { type: 'signposts-source', id: source.code },
            details: { records: count, retentionDays: source.retentionDays },
          });
        }
      }
    });
    return purged;
  }

  function searchQuery(query: SearchQuery): SearchQuery {
    const cleaned: SearchQuery = {};
    for (const [key, value] of Object.entries(query) as [keyof SearchQuery, string | number | undefined][]) {
      if (value === undefined || value === '') continue;
      (cleaned as Record<string, unknown>)[key] = typeof value === 'string' ? value.trim().slice(0, 100) : value;
    }
    return cleaned;
  }

  async function search(staff: StaffMember, purpose: Purpose | undefined, query: SearchQuery): Promise<PersonSummary[]> {
    assertCan(staff, 'signposts:search');
    const why = checkPurpose(purpose);
    const q = searchQuery(query);
    const m = await currentMatcher();
    const hits = m ? m.index.search(q, { limit: MAX_RESULTS * 4 }) : [];
    const results: PersonSummary[] = [];
    for (const hit of hits) {
      const versions: PersonSummary['versions'] = [];
      let agreement: FieldAgreement[] | undefined;
      for (const r of hit.records) {
        const held = m?.records.get(r.id);
        if (!held) continue;
        const source = sourceOf(held.stored.sourceCode);
        if (!canSee(staff, source)) continue;
        // Whether a hidden address matched would tell the officer something about it.
        const hidden = hiddenFields(staff, source).includes('address') ? ADDRESS_COMPARISONS : NOTHING_HIDDEN;
        agreement ??= (m?.index.agreement(q, r.id) ?? []).filter((f) => !hidden.has(f.field));
        const p = held.stored.person;
        versions.push({
          agency: source.agency,
          name: [p.forenames, p.surname].filter(Boolean).join(' '),
          dob: p.dob ?? '',
          address: hiddenFields(staff, source).includes('address')
            ? 'Hidden'
            : [p.address?.streetNumber, p.address?.lines?.join(' '), p.postcode].filter(Boolean).join(' '),
        });
      }
      // People known only to sources the officer may not see are not found by their search.
      if (versions.length > 0) results.push({ personId: hit.personId, score: hit.score, agreement: agreement ?? [], versions });
      if (results.length >= MAX_RESULTS) break;
    }
    await recordAudit(platform.database.db, {
      actor: staffActor(staff),
      action: 'signposts.searched',
      reason: purposeText(why),
      details: { purpose: why, query: q, results: results.length },
    });
    return results;
  }

  const nameOf = (r: Pick<RecordRow, 'forenames' | 'surname'>): string => [r.forenames, r.surname].filter(Boolean).join(' ') || 'Name not recorded';

  async function person(staff: StaffMember, purpose: Purpose | undefined, personId: string): Promise<PersonView> {
    assertCan(staff, 'signposts:search');
    const why = checkPurpose(purpose);
    if (!/^\d{1,15}$/.test(personId)) throw new HttpError(404, 'There is no such person.');
    const rows = await repo.recordsOfPeople([Number(personId)]);
    if (rows.length === 0) throw new HttpError(404, 'There is no such person.');
    const breakGlass = await repo.hasBreakGlass(staff.id, Number(personId), new Date());
    const visible = rows.filter((r) => canSee(staff, sourceOf(r.source_code)) || breakGlass);
    if (visible.length === 0 && !breakGlass) throw new HttpError(403, 'This person is known only to sources you may not see.');
    const hiddenCounts = new Map<string, number>();
    for (const r of rows)
      if (!visible.includes(r)) hiddenCounts.set(sourceOf(r.source_code).agency, (hiddenCounts.get(sourceOf(r.source_code).agency) ?? 0) + 1);
    const events = await repo.eventsOf(visible.map((r) => r.id));
    const view = recordViews(staff, visible, breakGlass);
    const timeline = timelineOf(staff, visible, events, personId);
    const contactKey = new Map<string, PersonView['contacts'][number]>();
    for (const e of timeline) {
      if (!e.professional) continue;
      const key = `${e.agency}|${e.professional}`;
      const seen = contactKey.get(key);
      if (!seen) contactKey.set(key, { agency: e.agency, professional: e.professional, contact: e.contact, open: e.status === 'open', latest: e.date });
      else if (e.status === 'open') seen.open = true;
    }
    const contacts = [...contactKey.values()].sort((a, b) => Number(b.open) - Number(a.open) || (b.latest ?? '').localeCompare(a.latest ?? ''));
    const related: PersonView['related'] = [];
    const seenRelated = new Set<string>();
    for (const rel of await repo.relatedRecords(visible)) {
      if (String(rel.row.person_id) === personId || seenRelated.has(String(rel.row.person_id))) continue;
      seenRelated.add(String(rel.row.person_id));
      related.push({
        personId: String(rel.row.person_id),
        name: nameOf(rel.row),
        dob: rel.row.dob,
        relation: rel.relation === 'household' ? 'Same household' : rel.relation === 'parent' ? 'Parent or carer' : 'Child',
        agency: sourceOf(rel.row.source_code).agency,
      });
    }
    const links = await repo.linksOfRecords(visible.map((r) => r.id));
    const otherIds = links.filter((l) => l.status === 'review').flatMap((l) => [l.record_a, l.record_b]);
    const others = new Map((await repo.recordsByIds(otherIds)).map((r) => [r.id, r]));
    const own = new Set(rows.map((r) => r.id));
    const pendingLinks = links
      .filter((l) => l.status === 'review')
      .map((l) => {
        const mine = own.has(l.record_a) ? l.record_a : l.record_b;
        const other = mine === l.record_a ? l.record_b : l.record_a;
        return {
          recordId: String(mine),
          otherRecordId: String(other),
          otherPersonId: String(others.get(other)?.person_id ?? ''),
          probability: l.probability,
          reason: l.reason,
        };
      });
    const first = visible[0] ?? rows[0];
    await recordAudit(platform.database.db, {
      actor: staffActor(staff),
      action: 'signposts.person-viewed',
      subject: { type: 'signposts-person', id: personId },
      reason: purposeText(why),
      details: { purpose: why, records: visible.length, breakGlass },
    });
    return {
      personId,
      name: first ? nameOf(first) : '',
      dob: first?.dob ?? '',
      records: view,
      timeline,
      contacts,
      related,
      pendingLinks,
      hiddenSources: [...hiddenCounts.entries()].map(([agency, count]) => ({ agency, count })),
      breakGlass,
    };
  }

  function recordViews(staff: StaffMember, rows: readonly RecordRow[], breakGlass: boolean): RecordView[] {
    return rows.map((r) => {
      const source = sourceOf(r.source_code);
      const hidden = hiddenFields(staff, source);
      return {
        id: String(r.id),
        source: source.code,
        agency: source.agency,
        recordId: r.record_id,
        name: nameOf(r),
        previousNames: r.previous_names,
        aliases: r.aliases,
        dob: r.dob,
        gender: r.gender,
        address: hidden.includes('address') ? '' : [r.address, r.postcode].filter(Boolean).join(', '),
        identifiers: Object.entries(r.identifiers).map(([k, v]) => ({ label: IDENTIFIER_LABELS[k] ?? k, value: v })),
        hidden,
        viaBreakGlass: breakGlass && !canSee(staff, source),
      };
    });
  }

  function timelineOf(staff: StaffMember, rows: readonly RecordRow[], events: readonly EventRow[], personId: string): TimelineEvent[] {
    const byId = new Map(rows.map((r) => [r.id, r]));
    return events
      .map((e) => {
        const r = byId.get(e.record_pk) as RecordRow;
        const source = sourceOf(r.source_code);
        const hidden = hiddenFields(staff, source);
        return {
          date: e.starts_on ? String(e.starts_on).slice(0, 10) : null,
          end: e.ends_on ? String(e.ends_on).slice(0, 10) : null,
          personId: String(r.person_id ?? personId),
          name: nameOf(r),
          agency: source.agency,
          source: source.code,
          type: e.type,
          summary: hidden.includes('summary') ? null : e.summary,
          status: e.status,
          professional: e.professional,
          contact: hidden.includes('contact') ? null : e.contact,
        };
      })
      .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  }

  async function breakGlass(staff: StaffMember, purpose: Purpose | undefined, personId: string, reason: string): Promise<void> {
    assertCan(staff, 'signposts:search');
    const why = checkPurpose(purpose);
    if (reason.trim().length < 10) throw new HttpError(400, 'Explain why you need to see these records (at least 10 characters).');
    if (!/^\d{1,15}$/.test(personId)) throw new HttpError(404, 'There is no such person.');
    const rows = await repo.recordsOfPeople([Number(personId)]);
    if (rows.length === 0) throw new HttpError(404, 'There is no such person.');
    const hidden = [...new Set(rows.filter((r) => !canSee(staff, sourceOf(r.source_code))).map((r) => sourceOf(r.source_code).agency))];
    await repo.transaction(async (tx) => {
      await repo.grantBreakGlass(tx, {
        staffId: staff.id,
        personId: Number(personId),
        reason: reason.trim(),
        purpose: purposeText(why),
        expiresAt: new Date(Date.now() + BREAK_GLASS_HOURS * 60 * 60_000),
      });
      await recordAudit(tx as never, {
        actor: staffActor(staff),
        action: 'signposts.break-glass',
        subject: { type: 'signposts-person', id: personId },
        reason: reason.trim(),
        details: { purpose: why, sources: hidden },
      });
      const lead = config.informationGovernanceLead;
      await queueEmail(tx as never, {
        to: lead.email,
        subject: `Signposts break-glass access by ${staff.name}`,
        body: [
          `Dear ${lead.name},`,
          '',
          `${staff.name} (${staff.email}) used break-glass access in Signposts at ${new Date().toISOString()}.`,
          '',
          `Purpose: ${purposeText(why)}`,
          `Reason given: ${reason.trim()}`,
          `Sources opened: ${hidden.join(', ') || 'none'}`,
          `Person: ${personId}`,
          '',
          `The access lasts ${BREAK_GLASS_HOURS} hours. Review it in the Signposts audit report.`,
        ].join('\n'),
      });
    });
    deps.notifier.nudge();
  }

  async function reviewQueue(
    staff: StaffMember,
    page = 1,
  ): Promise<{ total: number; pairs: { a: RecordView; b: RecordView; probability: number; reason: string }[] }> {
    assertCan(staff, 'signposts:review');
    const size = 20;
    // Only pairs whose records the officer may both see are listed, and counted.
    const visible = [...sources.values()].filter((s) => canSee(staff, s)).map((s) => s.code);
    const links = await repo.reviewQueue(visible, size, (Math.max(page, 1) - 1) * size);
    const rows = new Map((await repo.recordsByIds(links.flatMap((l) => [l.record_a, l.record_b]))).map((r) => [r.id, r]));
    const pairs = [];
    for (const l of links) {
      const a = rows.get(l.record_a);
      const b = rows.get(l.record_b);
      if (!a || !b) continue;
      const [va, vb] = recordViews(staff, [a, b], false) as [RecordView, RecordView];
      pairs.push({ a: va, b: vb, probability: l.probability, reason: l.reason });
    }
    return { total: await repo.reviewCount(visible), pairs };
  }

  async function pairForReview(
    staff: StaffMember,
    a: string,
    b: string,
  ): Promise<{ a: RecordView; b: RecordView; explanation: Explanation; status: string; note: string | null }> {
    assertCan(staff, 'signposts:review');
    if (!/^\d{1,15}$/.test(a) || !/^\d{1,15}$/.test(b) || a === b) throw new HttpError(404, 'There is no such pair of records.');
    const rows = await repo.recordsByIds([Number(a), Number(b)]);
    const ra = rows.find((r) => String(r.id) === a);
    const rb = rows.find((r) => String(r.id) === b);
    if (!ra || !rb) throw new HttpError(404, 'There is no such pair of records.');
    if (!canSee(staff, sourceOf(ra.source_code)) || !canSee(staff, sourceOf(rb.source_code)))
      throw new HttpError(403, 'One of these records is in a source you may not see.');
    const m = await currentMatcher();
    const model = m?.model ?? (await repo.model())?.model;
    if (!model) throw new HttpError(404, 'There is no such pair of records.');
    const explanation = explain(model, storedOf(ra).person, storedOf(rb).person);
    const link = await repo.link(Number(a), Number(b));
    const [va, vb] = recordViews(staff, [ra, rb], false) as [RecordView, RecordView];
    return { a: va, b: vb, explanation, status: link?.status ?? 'not linked', note: link?.note ?? null };
  }

  async function decide(
    staff: StaffMember,
    purpose: Purpose | undefined,
    a: string,
    b: string,
    decision: 'confirmed' | 'rejected',
    note: string,
  ): Promise<void> {
    const pair = await pairForReview(staff, a, b);
    const why = checkPurpose(purpose);
    await repo.transaction(async (tx) => {
      await repo.decide(tx, Number(a), Number(b), decision, staff.id, note.trim().slice(0, 1000), pair.explanation.probability);
      await repo.bump(tx);
      const ra = await tx.selectFrom('signposts_records').select(['id', 'person_id']).where('id', '=', Number(a)).executeTakeFirstOrThrow();
      const rb = await tx.selectFrom('signposts_records').select(['id', 'person_id']).where('id', '=', Number(b)).executeTakeFirstOrThrow();
      if (decision === 'confirmed' && ra.person_id !== rb.person_id) {
        const [keep, drop] = ra.person_id < rb.person_id ? [ra.person_id, rb.person_id] : [rb.person_id, ra.person_id];
        await tx.updateTable('signposts_records').set({ person_id: keep }).where('person_id', '=', drop).execute();
      }
      if (decision === 'rejected' && ra.person_id === rb.person_id) {
        // Pulled apart: the second record becomes a person of its own until a re-link places it again.
        const [fresh] = await repo.newPeople(tx, 1);
        await tx
          .updateTable('signposts_records')
          .set({ person_id: fresh as number })
          .where('id', '=', Number(b))
          .execute();
      }
      await recordAudit(tx as never, {
        actor: staffActor(staff),
        action: decision === 'confirmed' ? 'signposts.link-confirmed' : 'signposts.link-rejected',
        subject: { type: 'signposts-link', id: `${a}-${b}` },
        reason: purposeText(why),
        details: { purpose: why, probability: pair.explanation.probability, note: note.trim().slice(0, 1000) },
      });
    });
  }

  /** The family timeline of a working set: every visible event of every locked person. */
  async function workingSet(
    staff: StaffMember,
    purpose: Purpose | undefined,
    personIds: readonly string[],
    audit: 'viewed' | 'exported',
  ): Promise<PersonView[]> {
    assertCan(staff, 'signposts:search');
    const why = checkPurpose(purpose);
    const people: PersonView[] = [];
    for (const id of personIds) {
      try {
        people.push(await person(staff, why, id));
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
      }
    }
    if (audit === 'exported')
      await recordAudit(platform.database.db, {
        actor: staffActor(staff),
        action: 'signposts.exported',
        subject: { type: 'signposts-working-set', id: personIds.join(',') },
        reason: purposeText(why),
        details: { purpose: why, people: personIds },
      });
    return people;
  }

  async function freshness(staff: StaffMember, now = new Date()) {
    if (!staff.permissions.includes('signposts:govern') && !staff.permissions.includes('signposts:search'))
      throw new HttpError(403, 'You do not have permission to do this.');
    const counts = await repo.sourceCounts();
    const loads = await repo.recentLoads(500);
    return [...sources.values()].map((source) => {
      const mine = loads.filter((l) => l.source_code === source.code);
      const last = mine.find((l) => l.status !== 'failed');
      const overdue = !last || now.getTime() - last.finished_at.getTime() > source.refreshHours * 60 * 60_000;
      return { source, records: counts.get(source.code) ?? 0, last, lastAttempt: mine[0], overdue };
    });
  }

  async function loadProblems(staff: StaffMember, loadId: string): Promise<{ load: LoadRow; csv: string }> {
    assertCan(staff, 'signposts:govern');
    if (!/^\d{1,15}$/.test(loadId)) throw new HttpError(404, 'There is no such load.');
    const load = await repo.load(Number(loadId));
    if (!load) throw new HttpError(404, 'There is no such load.');
    const csv = toCsv(
      ['row', 'record_id', 'column', 'problem'],
      load.problems.map((p) => [p.row, p.recordId, p.column, p.message]),
    );
    return { load, csv };
  }

  /** The Signposts part of the audit trail, for the information governance report. */
  async function auditTrail(staff: StaffMember, query: Omit<AuditSearch, 'action'>) {
    assertCan(staff, 'signposts:govern');
    return searchAudit(platform.database.db, { ...query, action: 'signposts.' });
  }

  return {
    auditTrail,
    sources: [...sources.values()],
    informationGovernanceLead: config.informationGovernanceLead,
    syncSources: () => repo.syncSources(config.sources),
    ingest,
    relink,
    purgeExpired,
    search,
    person,
    breakGlass,
    reviewQueue,
    pairForReview,
    decide,
    workingSet,
    freshness,
    loadProblems,
    canSee,
    recentLoads: (limit: number) => repo.recentLoads(limit),
    /** Builds the matcher ahead of the first search, so that the first officer to search after a start does not wait for it. */
    async warm(): Promise<void> {
      await currentMatcher();
    },
  };
}

export type SignpostsService = ReturnType<typeof createSignpostsService>;
