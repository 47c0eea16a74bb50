#!/usr/bin/env node
// Cases benchmark: 200,000 cases seeded straight into the platform's database (with their people
// and a million timeline events), then a filtered team queue page, a case page and a search by
// postcode, timed one request at a time for a signed-in case officer, on embedded PGlite and on a
// throwaway PostgreSQL server. Each operation is timed twice: through the case service in this
// process (`services.cases.service`, no page rendering) and as the page over HTTP, once the
// platform serves it (a page that answers 404 is reported as not served yet). Runs the compiled
// platform (`npm run build` first).
//
//   node bench/cases.mjs                   measure, print, write bench/results/cases.json
//   node bench/cases.mjs --check           also exit 1 when a target is missed
//   node bench/cases.mjs --pglite-only     skip PostgreSQL (also: --postgres-only)
//   node bench/cases.mjs --cases=20000     a smaller data set for a quick look (people and events scale with it)
//   node bench/cases.mjs --explain         also print EXPLAIN (ANALYZE, BUFFERS) of every query behind each operation
//   node bench/cases.mjs --keep            keep the seeded PGlite data folder and print where it is
//
// Everything listens on 127.0.0.1 only, and every run is bounded in count and time.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, killAllChildren, percentile, projectRoot, request, round, runRecord, startPlatform, stopChild, table } from './lib/harness.mjs';
import { findPostgresBinaries, startPostgres } from './lib/postgres.mjs';

// ---------------------------------------------------------------------------------------------
// Settings

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const CASES = Number(option('cases') ?? 200_000);
if (!Number.isInteger(CASES) || CASES < 1_000 || CASES > 2_000_000) throw new Error('--cases must be a whole number from 1000 to 2000000');
/** People are ~60% of cases, so many people have more than one case. */
const PEOPLE = Math.round(CASES * 0.6);
const SEED = 20261201;
const YEARS = 3;
const DAY_MS = 86_400_000;
const SPAN_MS = Math.round(YEARS * 365.25 * DAY_MS);

const OFFICER_EMAIL = 'case-officer@kingsmere.example';
const PAGE_SIZE = 25;
/** The "deep" page of each queue (or its last page, when it has fewer). */
const DEEP_PAGE = 40;

/** Measured requests per operation, after the warm-up; each series also stops after SERIES_MAX_SEC. */
const REQUESTS = 300;
const WARMUP = 20;
const SERIES_MAX_SEC = 25;
const WARMUP_MAX_SEC = 8;
/** No new series starts once the whole run has taken this long; the rest are reported as skipped. */
const RUN_BUDGET_SEC = 560;

/** p95 targets in milliseconds, by back end. */
const TARGET_P95_MS = { pglite: 200, postgres: 100 };

/** How the demo council's case types share the cases: most in highways and environment. */
const TYPE_WEIGHTS = {
  pothole: 22,
  'streetlight-fault': 12,
  'blocked-drain': 8,
  'fly-tipping': 14,
  graffiti: 6,
  'dog-fouling': 5,
  'abandoned-vehicle': 4,
  'general-enquiry': 8,
  complaint: 4,
  'change-of-address': 8,
  'single-person-discount': 7,
  'early-help-referral': 2,
};
/** A case type added to council/case-types later still gets a few cases. */
const OTHER_TYPE_WEIGHT = 1;

const progress = (message) => process.stderr.write(`  ${message}\n`);
const started = performance.now();
const elapsedSec = () => (performance.now() - started) / 1000;
const fmt = (n) => n.toLocaleString('en-GB');

// ---------------------------------------------------------------------------------------------
// A seeded pseudo-random number generator, so every run seeds the same data

/** 32-bit state stepped by the golden ratio and mixed with a finaliser; returns floats in [0, 1). */
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

/** A generator of its own for each case, so a case's timeline does not depend on batch sizes. */
const caseGenerator = (index) => generator(Math.imul(SEED ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(index + 1, 0x165667b1));

const between = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const oneOf = (rand, list) => list[Math.floor(rand() * list.length)];
/** Standard normal variate (Box–Muller). */
const gaussian = (rand) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** Picks a key of `weights` in proportion to its weight. */
function weighted(weights) {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((n, [, w]) => n + w, 0);
  return (rand) => {
    let x = rand() * total;
    for (const [key, w] of entries) {
      x -= w;
      if (x < 0) return key;
    }
    return entries[entries.length - 1][0];
  };
}

function uuidFrom(rand) {
  const hex = [0, 1, 2, 3]
    .map(() =>
      Math.floor(rand() * 4294967296)
        .toString(16)
        .padStart(8, '0'),
    )
    .join('');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const REFERENCE_SYMBOLS = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
function referenceFrom(rand) {
  let out = '';
  for (let i = 0; i < 8; i++) out += REFERENCE_SYMBOLS[Math.floor(rand() * REFERENCE_SYMBOLS.length)];
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

// ---------------------------------------------------------------------------------------------
// Words for people, organisations, descriptions and notes (all fictional)

const words = (text) => text.trim().split(/\s+/);
const FIRST_NAMES = words(`
  Aisha Alex Amelia Arjun Ben Bethany Callum Chloe Daniel Deborah Eleanor Ethan Fatima Finn Grace Harry Hannah Imran Isla
  Jack Jasmine Kieran Leah Liam Maya Mohammed Nadia Noah Olivia Oscar Priya Rachel Rhys Ruth Sam Sophie Tariq Thomas Zara
  Yusuf
`);
const LAST_NAMES = words(`
  Ahmed Akhtar Bailey Barnes Begum Brown Clarke Cooper Davies Evans Fletcher Green Hall Harris Hughes Hussain Jackson
  Jones Kaur Khan Lewis Mahmood Martin Mitchell Morris Nowak Okafor Patel Price Roberts Robinson Shah Singh Smith Taylor
  Thompson Turner Walker Ward Williams Wilson Wood Wright Young
`);
const ORGANISATIONS = [
  'Kingsmere Housing Trust',
  'Daneside Residents Association',
  'Millbrook Primary School',
  'Fellgate Medical Practice',
  'Ashworth Moor Allotment Society',
  'Hollinbrook Community Centre',
  'Stonecliffe Traders Group',
  'Brackenfield Tenants Forum',
  'Thornley Parish Church',
  'Kingsmere Food Bank',
];
const DESCRIPTIONS = {
  highways: [
    'Deep hole in the carriageway near the junction, cars are swerving round it.',
    'The light has been flickering for a week and is now off all night.',
    'Water is pooling across the pavement after rain and the gully looks blocked.',
    'Broken kerb stone sticking out into the road by the bus stop.',
  ],
  environment: [
    'A pile of bags and an old mattress dumped by the back lane.',
    'Offensive graffiti on the wall of the underpass.',
    'Dog mess all along the path to the school every morning.',
    'Car with flat tyres and no tax has not moved for six weeks.',
  ],
  other: [
    'Asked for an update by phone; details are in the notes.',
    'Resident has moved and wants their account changed from the date of the move.',
    'Unhappy with how a previous request was handled.',
    'Lives alone since last month and asked about the discount.',
  ],
};
const NOTES = [
  'Called the resident back and explained the next steps.',
  'Checked on site; photos added to the file.',
  'Passed to the contractor with a priority flag.',
  'Waiting for the resident to send the evidence we asked for.',
  'Discussed with the team leader: keep open until the works are signed off.',
  'Left a voicemail, will try again tomorrow.',
  'Duplicate reports received from neighbours, linked here.',
  'Contractor says the job is booked for next week.',
];

// ---------------------------------------------------------------------------------------------
// The data set

/** Shortest route through a case type's workflow from its first status to each status. */
function workflowRoutes(type) {
  const routes = new Map([[type.initialStatus, [type.initialStatus]]]);
  const queue = [type.initialStatus];
  while (queue.length) {
    const at = queue.shift();
    for (const next of type.status(at)?.next ?? []) {
      if (!routes.has(next)) {
        routes.set(next, [...routes.get(at), next]);
        queue.push(next);
      }
    }
  }
  return routes;
}

/**
 * Generates the cases and people (not yet the timelines, which are made per case when inserted).
 * Deterministic for a given gazetteer, set of case types and demo staff; `now` anchors the dates
 * so open cases are recent and the SLA mix is the same whenever the benchmark runs.
 */
function generateDataset({ types, calendar, sla, addresses, workers, now }) {
  const rand = generator(SEED);
  const byUprn = new Map(addresses.map((a) => [a.uprn, a]));
  const typeCodes = [...types.keys()].sort();
  const pickType = weighted(Object.fromEntries(typeCodes.map((code) => [code, TYPE_WEIGHTS[code] ?? OTHER_TYPE_WEIGHT])));
  const pickPriorityWithUrgent = weighted({ low: 8, normal: 64, high: 20, urgent: 8 });
  const pickPriorityPlain = weighted({ low: 10, normal: 80, high: 10 });
  const pickChannelByStaff = weighted({ phone: 75, 'face-to-face': 10, email: 15 });
  const routes = new Map(typeCodes.map((code) => [code, workflowRoutes(types.get(code))]));

  // People, made when a case first needs one; later cases reuse them, a few people very often.
  const people = {
    id: [],
    kind: [],
    name: [],
    organisation: [],
    email: [],
    phone: [],
    phoneDigits: [],
    address: [],
    postcode: [],
    uprn: [],
    contactBy: [],
    createdAt: [],
    anonymisedAt: [],
    liveCases: [],
  };
  function newPerson(kind) {
    const n = people.id.length;
    const home = oneOf(rand, addresses);
    const first = oneOf(rand, FIRST_NAMES);
    const last = oneOf(rand, LAST_NAMES);
    const organisation = kind === 'organisation' ? oneOf(rand, ORGANISATIONS) : null;
    const mobile = rand() < 0.7;
    const phone = rand() < 0.85 ? (mobile ? `07700 900${String(n % 1000).padStart(3, '0')}` : `0161 496 0${String(n % 1000).padStart(3, '0')}`) : null;
    const email = rand() < 0.9 ? `${first}.${last}${n % 997}@example.com`.toLowerCase() : null;
    people.id.push(uuidFrom(rand));
    people.kind.push(kind);
    people.name.push(kind === 'organisation' ? `${first} ${last} (${organisation})` : `${first} ${last}`);
    people.organisation.push(organisation);
    people.email.push(email);
    people.phone.push(phone);
    people.phoneDigits.push(phone ? phone.replace(/\D/g, '') : null);
    people.address.push(home.single_line);
    people.postcode.push(home.postcode_norm);
    people.uprn.push(home.uprn);
    people.contactBy.push(email && rand() < 0.85 ? 'email' : phone && mobile ? 'sms' : email ? 'email' : 'none');
    people.createdAt.push(Number.POSITIVE_INFINITY);
    people.anonymisedAt.push(null);
    people.liveCases.push(0);
    return n;
  }
  function personFor(kind) {
    const made = people.id.length;
    if (made === 0 || (made < PEOPLE && rand() < 0.69)) return newPerson(kind);
    return Math.min(made - 1, Math.floor(made * rand() ** 1.5));
  }

  const c = {
    id: [],
    reference: [],
    type: [],
    status: [],
    priority: [],
    team: [],
    assignee: [],
    restricted: [],
    title: [],
    description: [],
    subjectKind: [],
    person: [],
    lat: [],
    lng: [],
    address: [],
    postcode: [],
    uprn: [],
    usrn: [],
    ward: [],
    source: [],
    channel: [],
    sourceReference: [],
    tags: [],
    openedAt: [],
    dueAt: [],
    dueSoonAt: [],
    breachedAt: [],
    closedAt: [],
    anonymisedAt: [],
  };
  const references = new Set();
  const targets = [];
  for (let i = 0; i < CASES; i++) {
    const code = pickType(rand);
    const type = types.get(code);
    const located = type.sources.includes('report');
    const priority = type.sla?.byPriority?.urgent ? pickPriorityWithUrgent(rand) : pickPriorityPlain(rand);
    // Slightly more cases recently than three years ago.
    const openedAt = now - Math.round(SPAN_MS * rand() ** 1.25) - 60_000;
    let reference;
    do reference = referenceFrom(rand);
    while (references.has(reference));
    references.add(reference);

    const roll = rand();
    const subjectKind = located
      ? roll < 0.12
        ? 'anonymous'
        : roll < 0.15
          ? 'organisation'
          : 'person'
      : roll < 0.04 && !type.restricted
        ? 'organisation'
        : 'person';
    const person = subjectKind === 'anonymous' ? -1 : personFor(subjectKind);
    if (person >= 0) people.createdAt[person] = Math.min(people.createdAt[person], openedAt);

    let place;
    if (located || person < 0) place = oneOf(rand, addresses);
    else place = byUprn.get(people.uprn[person]) ?? oneOf(rand, addresses);
    const jitter = () => (rand() - 0.5) * 0.0008;

    let source = 'staff';
    let channel = pickChannelByStaff(rand);
    const sourceRoll = rand();
    if (type.sources.includes('report')) {
      if (sourceRoll < 0.72) [source, channel] = ['report', 'online'];
      else if (sourceRoll < 0.8 && type.sources.includes('api')) [source, channel] = ['api', 'api'];
    } else if (type.sources.includes('form') && sourceRoll < 0.82) [source, channel] = ['form', 'online'];

    const workersOfTeam = workers.get(type.team) ?? [];
    c.id.push(uuidFrom(rand));
    c.reference.push(reference);
    c.type.push(code);
    c.priority.push(priority);
    c.team.push(type.team);
    c.restricted.push(type.restricted);
    c.title.push(located ? `${type.name}: ${place.street}` : type.name);
    const descriptions = DESCRIPTIONS[type.team] ?? DESCRIPTIONS.other;
    c.description.push(rand() < 0.85 ? oneOf(rand, descriptions) : null);
    c.subjectKind.push(subjectKind);
    c.person.push(person);
    c.lat.push(round(place.lat + (located ? jitter() : 0), 6));
    c.lng.push(round(place.lng + (located ? jitter() : 0), 6));
    c.address.push(located ? `${place.street}, ${place.locality}` : place.single_line);
    c.postcode.push(place.postcode_norm);
    c.uprn.push(located && rand() < 0.75 ? null : place.uprn);
    c.usrn.push(place.usrn);
    c.ward.push(place.ward_code);
    c.source.push(source);
    c.channel.push(channel);
    c.sourceReference.push(source === 'form' || source === 'report' ? referenceFrom(rand) : null);
    c.tags.push(rand() < 0.05 ? '{repeat}' : '{}');
    c.openedAt.push(openedAt);
    c.assignee.push(workersOfTeam.length ? workersOfTeam : null);
    c.status.push(null);
    targets.push(type.sla ? (type.sla.byPriority?.[priority] ?? { amount: type.sla.amount, unit: type.sla.unit }) : null);
  }

  // The SLA clock for every case, timed on its own: the due-date computation the service does at opening.
  const slaStart = performance.now();
  for (let i = 0; i < CASES; i++) c.dueAt.push(targets[i] ? sla.addWorkingTime(new Date(c.openedAt[i]), targets[i], calendar).getTime() : null);
  const slaMs = performance.now() - slaStart;

  const dueSoonBefore = sla.dueSoonBoundary(new Date(now), calendar).getTime();
  for (let i = 0; i < CASES; i++) {
    const type = types.get(c.type[i]);
    const opened = c.openedAt[i];
    const due = c.dueAt[i];
    const ageDays = (now - opened) / DAY_MS;
    // About 30% open: most of the last few months and a long tail of older cases.
    const open = rand() < 0.16 + 0.84 * Math.exp(-ageDays / 120);
    const statuses = type.statuses.filter((s) => Boolean(s.closed) !== open).map((s) => s.code);
    let status;
    if (open) status = ageDays < 2 && rand() < 0.7 ? type.initialStatus : oneOf(rand, statuses);
    else status = rand() < 0.7 ? statuses[0] : oneOf(rand, statuses);
    if (!routes.get(c.type[i]).has(status)) status = type.initialStatus;
    c.status[i] = status;

    let closedAt = null;
    if (!open) {
      const planned = due ? due - opened : 10 * DAY_MS;
      closedAt = opened + Math.max(600_000, Math.round(planned * Math.exp(-0.5 + 0.7 * gaussian(rand))));
      if (closedAt >= now) closedAt = opened + Math.round((now - opened) * (0.2 + 0.75 * rand()));
    }
    c.closedAt.push(closedAt);
    // The SLA job flags a case within its five-minute round after the due time passes.
    const end = closedAt ?? now;
    const breached = due !== null && due < end ? Math.min(due + between(rand, 30, 300) * 1000, end) : null;
    c.breachedAt.push(breached);
    c.dueSoonAt.push(open && !breached && due !== null && due <= dueSoonBefore ? now - between(rand, 0, 3600) * 1000 : null);

    const anonymisedAt = closedAt !== null && closedAt + type.retentionDays * DAY_MS < now ? closedAt + type.retentionDays * DAY_MS + 9 * 3_600_000 : null;
    c.anonymisedAt.push(anonymisedAt !== null ? Math.min(anonymisedAt, now - 1000) : null);

    // Open work is often unassigned; closed work was usually done by someone in the team.
    const team = c.assignee[i];
    c.assignee[i] = team && rand() < (open ? 0.45 : 0.85) ? (team.length > 1 && rand() < 0.4 ? team[1] : team[0]) : null;

    const person = c.person[i];
    if (person >= 0) {
      if (anonymisedAt === null) people.liveCases[person]++;
      else people.anonymisedAt[person] = Math.max(people.anonymisedAt[person] ?? 0, c.anonymisedAt[i]);
    }
  }
  // A person whose every case has been anonymised is anonymised too (as the retention job does).
  for (let p = 0; p < people.id.length; p++) {
    if (people.liveCases[p] > 0) people.anonymisedAt[p] = null;
    else if (people.anonymisedAt[p] !== null) {
      people.name[p] = 'Removed';
      for (const field of ['organisation', 'email', 'phone', 'phoneDigits', 'address', 'postcode', 'uprn']) people[field][p] = null;
    }
  }

  const openCount = c.closedAt.filter((x) => x === null).length;
  const summary = {
    cases: CASES,
    people: people.id.length,
    open: openCount,
    openShare: round(openCount / CASES, 3),
    restricted: c.restricted.filter(Boolean).length,
    anonymised: c.anonymisedAt.filter((x) => x !== null).length,
    breachedOpen: c.breachedAt.filter((x, i) => x !== null && c.closedAt[i] === null).length,
    assignedToOfficer: c.assignee.filter((x) => x === OFFICER_EMAIL).length,
    byTeam: countBy(c.team),
    byType: countBy(c.type),
    byPriority: countBy(c.priority),
  };
  return { cases: c, people, routes, summary, slaMs, now };
}

function countBy(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

/** One case's timeline, ~5 events: opened, messages, assignment, each status on its way, notes, SLA flags. */
function timelineOf(data, i, types, staff) {
  const { cases: c, people, routes } = data;
  const rand = caseGenerator(i);
  const type = types.get(c.type[i]);
  const opened = c.openedAt[i];
  const end = c.closedAt[i] ?? data.now - 60_000;
  const span = Math.max(60_000, end - opened);
  const person = c.person[i];
  const contactBy = person >= 0 ? people.contactBy[person] : 'none';
  const assignee = c.assignee[i] ? staff.get(c.assignee[i]) : undefined;
  const officer = assignee ? { type: 'staff', id: assignee.id, label: assignee.name } : { type: 'staff', id: null, label: 'Back-office officer' };
  const events = [];
  const add = (at, kind, actor, isPublic, body, details) => events.push({ at: Math.min(Math.round(at), end), kind, actor, public: isPublic, body, details });
  const message = (at, status) => {
    const template = type.notifications[status];
    if (template && contactBy !== 'none')
      add(at + 2000, 'message', { type: 'system', id: null, label: null }, false, template.subject, { status, channel: contactBy });
  };

  const openedBy = c.source[i] === 'staff' ? officer : { type: c.source[i] === 'api' ? 'api' : 'system', id: null, label: null };
  add(opened, 'opened', openedBy, true, `Opened from ${c.source[i] === 'staff' ? `contact by ${c.channel[i]}` : c.source[i]}`, {
    status: type.initialStatus,
    source: c.source[i],
    channel: c.channel[i],
    sourceReference: c.sourceReference[i],
  });
  message(opened, type.initialStatus);
  if (assignee)
    add(opened + span * 0.05 * rand(), 'assigned', officer, false, null, {
      fromTeam: c.team[i],
      toTeam: c.team[i],
      toAssignee: assignee.id,
      assigneeName: assignee.name,
    });

  const route = routes.get(c.type[i]).get(c.status[i]) ?? [type.initialStatus];
  for (let step = 1; step < route.length; step++) {
    const last = step === route.length - 1;
    const at = last && c.closedAt[i] !== null ? c.closedAt[i] : opened + span * (0.1 + (0.8 * step) / route.length);
    const from = route[step - 1];
    const to = route[step];
    add(at, 'status', officer, true, rand() < 0.3 ? 'We have looked at this and updated the case.' : null, {
      from,
      to,
      fromLabel: type.status(from)?.label,
      toLabel: type.status(to)?.label,
    });
    message(at, to);
  }
  const notes = Math.floor(rand() * 1.25);
  for (let n = 0; n < notes; n++) add(opened + span * rand(), 'note', officer, false, oneOf(rand, NOTES), {});
  if (c.dueSoonAt[i] !== null) add(c.dueSoonAt[i], 'sla', { type: 'system', id: null, label: null }, false, 'Due soon', { state: 'due-soon' });
  if (c.breachedAt[i] !== null) add(c.breachedAt[i], 'sla', { type: 'system', id: null, label: null }, false, 'Missed its target date', { state: 'breached' });
  events.sort((a, b) => a.at - b.at);
  if (c.anonymisedAt[i] !== null) {
    for (const e of events) {
      e.body = null;
      e.actor = { ...e.actor, label: null };
    }
    events.push({
      at: c.anonymisedAt[i],
      kind: 'anonymised',
      actor: { type: 'system', id: null, label: null },
      public: false,
      body: null,
      details: { retentionDays: type.retentionDays },
    });
  }
  // The case was last changed by its last status change, note or assignment.
  const updatedAt = events.filter((e) => e.kind !== 'sla' && e.kind !== 'anonymised' && e.kind !== 'message').at(-1)?.at ?? opened;
  return { events, updatedAt };
}

// ---------------------------------------------------------------------------------------------
// Seeding, through the platform's own pool

const iso = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

// Each batch travels as one JSON parameter (an array of rows, each an array of values): PGlite
// parses that several times faster than one array parameter per column, and as jsonb each row is
// parsed once however many fields are read from it.
const INSERT_PEOPLE = `
  INSERT INTO case_people (id, resident_id, kind, name, organisation, email, phone, phone_digits, address, postcode, uprn, contact_by, created_at, anonymised_at)
  SELECT (r->>0)::uuid, NULL, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9, r->>10, (r->>11)::timestamptz, (r->>12)::timestamptz
  FROM jsonb_array_elements($1::jsonb) AS r`;

const INSERT_CASES = `
  INSERT INTO cases (id, reference, type, status, priority, team, assignee_id, restricted, title, description, subject_kind, person_id, resident_id,
    lat, lng, address, postcode, uprn, usrn, ward, source, channel, source_reference, delivery_id, details, tags,
    opened_at, due_at, due_soon_at, breached_at, closed_at, updated_at, anonymised_at)
  SELECT (r->>0)::uuid, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::uuid, (r->>7)::boolean, r->>8, r->>9, r->>10, (r->>11)::uuid, NULL,
    (r->>12)::float8, (r->>13)::float8, r->>14, r->>15, r->>16, r->>17, r->>18, r->>19, r->>20, r->>21, NULL, '{}'::jsonb, (r->>22)::text[],
    (r->>23)::timestamptz, (r->>24)::timestamptz, (r->>25)::timestamptz, (r->>26)::timestamptz, (r->>27)::timestamptz, (r->>28)::timestamptz,
    (r->>29)::timestamptz
  FROM jsonb_array_elements($1::jsonb) AS r`;

const INSERT_EVENTS = `
  INSERT INTO case_events (case_id, at, kind, actor_type, actor_id, actor_label, public, body, details)
  SELECT (r->>0)::uuid, (r->>1)::timestamptz, r->>2, r->>3, r->>4, r->>5, (r->>6)::boolean, r->>7, r->8
  FROM jsonb_array_elements($1::jsonb) AS r`;

const CHUNK = 10_000;
const EVENT_CHUNK = 50_000;
const SEEDED_TABLES = ['case_people', 'cases', 'case_events'];

/** Indices 0..n-1 ordered by `key`, ties kept in order. */
function orderBy(n, key) {
  const order = Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => key(a) - key(b) || a - b);
}

/**
 * Inserts people, cases and their timelines in the order a live database would have received
 * them (people by first contact, cases by opening, events by time), so rows share pages as they
 * would. For the load only: foreign key triggers are off when the database role may turn them off
 * (the data is consistent by construction), and the tables' plain indexes are dropped and built
 * again afterwards from their own definitions. Returns the time each part took.
 */
async function seed(pool, data, types, staff) {
  const { people: p, cases: c } = data;
  const timing = { timelinesMs: 0, peopleMs: 0, casesMs: 0, eventsMs: 0, indexesMs: 0, analyseMs: 0 };

  let t0 = performance.now();
  const ev = [];
  const updatedAt = new Array(CASES);
  for (let i = 0; i < CASES; i++) {
    const timeline = timelineOf(data, i, types, staff);
    updatedAt[i] = timeline.updatedAt;
    for (const e of timeline.events) ev.push([c.id[i], e.at, e.kind, e.actor.type, e.actor.id, e.actor.label, e.public, e.body, e.details]);
  }
  const eventOrder = orderBy(ev.length, (k) => ev[k][1]);
  timing.timelinesMs = performance.now() - t0;

  const client = await pool.connect();
  let fkChecksOff = false;
  let indexes = [];
  try {
    await client.query('BEGIN');
    const { rows: su } = await client.query(`SELECT current_setting('is_superuser') = 'on' AS superuser`);
    if (su[0].superuser) {
      await client.query('SET LOCAL session_replication_role = replica');
      fkChecksOff = true;
    }
    ({ rows: indexes } = await client.query(
      `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       WHERE t.relname = ANY($1::text[]) AND NOT x.indisprimary AND NOT x.indisunique ORDER BY i.relname`,
      [SEEDED_TABLES],
    ));
    for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);

    t0 = performance.now();
    const peopleOrder = orderBy(p.id.length, (k) => p.createdAt[k]);
    for (let from = 0; from < peopleOrder.length; from += CHUNK) {
      const rows = peopleOrder
        .slice(from, from + CHUNK)
        .map((k) => [
          p.id[k],
          p.kind[k],
          p.name[k],
          p.organisation[k],
          p.email[k],
          p.phone[k],
          p.phoneDigits[k],
          p.address[k],
          p.postcode[k],
          p.uprn[k],
          p.contactBy[k],
          iso(p.createdAt[k]),
          iso(p.anonymisedAt[k]),
        ]);
      await client.query(INSERT_PEOPLE, [JSON.stringify(rows)]);
    }
    timing.peopleMs = performance.now() - t0;

    t0 = performance.now();
    const caseOrder = orderBy(CASES, (k) => c.openedAt[k]);
    for (let from = 0; from < CASES; from += CHUNK) {
      const rows = caseOrder.slice(from, from + CHUNK).map((i) => {
        // Anonymised cases keep no personal data, and only the outward part of the postcode.
        const gone = c.anonymisedAt[i] !== null;
        const keep = (v) => (gone ? null : v);
        const person = c.person[i] >= 0 && !gone ? p.id[c.person[i]] : null;
        return [
          c.id[i],
          c.reference[i],
          c.type[i],
          c.status[i],
          c.priority[i],
          c.team[i],
          c.assignee[i] ? staff.get(c.assignee[i]).id : null,
          c.restricted[i],
          c.title[i],
          keep(c.description[i]),
          c.subjectKind[i],
          person,
          keep(c.lat[i]),
          keep(c.lng[i]),
          keep(c.address[i]),
          gone && c.postcode[i] ? c.postcode[i].slice(0, -3) : c.postcode[i],
          keep(c.uprn[i]),
          c.usrn[i],
          c.ward[i],
          c.source[i],
          c.channel[i],
          c.sourceReference[i],
          gone ? '{}' : c.tags[i],
          iso(c.openedAt[i]),
          iso(c.dueAt[i]),
          iso(c.dueSoonAt[i]),
          iso(c.breachedAt[i]),
          iso(c.closedAt[i]),
          iso(updatedAt[i]),
          iso(c.anonymisedAt[i]),
        ];
      });
      await client.query(INSERT_CASES, [JSON.stringify(rows)]);
    }
    timing.casesMs = performance.now() - t0;

    t0 = performance.now();
    for (let from = 0; from < eventOrder.length; from += EVENT_CHUNK) {
      const rows = eventOrder.slice(from, from + EVENT_CHUNK).map((k) => {
        const e = ev[k];
        return [e[0], iso(e[1]), e[2], e[3], e[4], e[5], e[6], e[7], e[8]];
      });
      await client.query(INSERT_EVENTS, [JSON.stringify(rows)]);
      const done = Math.min(eventOrder.length, from + EVENT_CHUNK);
      if ((done / EVENT_CHUNK) % 5 === 0) progress(`  ${fmt(done)} of ${fmt(eventOrder.length)} events (${Math.round(elapsedSec())} s into the run)`);
    }
    timing.eventsMs = performance.now() - t0;

    t0 = performance.now();
    for (const index of indexes) await client.query(index.definition);
    timing.indexesMs = performance.now() - t0;
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }

  // Statistics for the planner, and the visibility map a long-lived database would have.
  t0 = performance.now();
  for (const tableName of SEEDED_TABLES) await pool.query(`VACUUM (ANALYZE) ${tableName}`);
  timing.analyseMs = performance.now() - t0;

  const rounded = Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v)]));
  return {
    ...rounded,
    totalMs: Object.values(rounded).reduce((n, v) => n + v, 0),
    events: ev.length,
    fkChecksOff,
    indexesRebuilt: indexes.map((x) => x.name),
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

/**
 * Calls `fn(i)` one at a time: `warmup` calls, then up to `count` measured ones or until
 * `maxSec` have passed. Returns the shape of a harness load run, so runRecord() applies.
 */
async function series(fn, { count = REQUESTS, warmup = WARMUP, maxSec = SERIES_MAX_SEC } = {}) {
  const warmDeadline = performance.now() + WARMUP_MAX_SEC * 1000;
  let warmed = 0;
  for (; warmed < warmup && performance.now() < warmDeadline; warmed++) await fn(warmed, true);
  // Measured calls continue the sequence, so they do not repeat the warm-up's references or postcodes.
  const times = [];
  let errors = 0;
  let non2xx = 0;
  let bytes = 0;
  const firstErrors = [];
  const deadline = performance.now() + maxSec * 1000;
  const t0 = performance.now();
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const start = performance.now();
    try {
      const outcome = await fn(warmup + i, false);
      times.push(performance.now() - start);
      if (outcome?.status !== undefined && outcome.status !== 200) {
        non2xx++;
        if (firstErrors.length < 3) firstErrors.push(`answered ${outcome.status} (${outcome.label ?? ''})`);
      }
      bytes += outcome?.bytes ?? 0;
    } catch (error) {
      errors++;
      if (firstErrors.length < 3) firstErrors.push(error instanceof Error ? error.message : String(error));
    }
  }
  const wallSec = (performance.now() - t0) / 1000;
  const sorted = [...times].sort((a, b) => a - b);
  return {
    rps: sorted.length / (wallSec || 1),
    requests: sorted.length,
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
    errors,
    timeouts: 0,
    non2xx,
    bytesPerResponse: sorted.length ? Math.round(bytes / sorted.length) : 0,
    cappedByTime: sorted.length < count,
    calls: warmed + sorted.length + errors,
    firstErrors,
    samples: sorted,
  };
}

/** A series' figures for the results file, with its ratio to the baseline series. */
function figures(result, baseline) {
  const record = runRecord(result);
  return {
    ...record,
    cappedByTime: result.cappedByTime,
    ...(result.firstErrors.length ? { firstErrors: result.firstErrors } : {}),
    ...(baseline
      ? {
          ratioP50: round(record.p50Ms / Math.max(baseline.latencyMs.p50, 0.001), 1),
          ratioP95: round(record.p95Ms / Math.max(baseline.latencyMs.p95, 0.001), 1),
        }
      : {}),
  };
}

/** Splits a rotation's samples by variant, for the per-variant breakdown. */
function byVariant(samplesWithVariant, labels) {
  return labels.map((label, v) => {
    const sorted = samplesWithVariant
      .filter((s) => s.variant === v)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    return {
      label,
      requests: sorted.length,
      p50Ms: round(percentile(sorted, 50), 2),
      p95Ms: round(percentile(sorted, 95), 2),
      maxMs: round(sorted.at(-1) ?? 0, 2),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// What is measured

/** The queue views timed, as the service's query and as the page's query string. */
function queueViews(wardCode) {
  return [
    {
      name: 'highways potholes past target, by due date',
      query: { team: 'highways', types: ['pothole'], sla: 'breached', sort: 'due', descending: false },
      search: `team=highways&type=pothole&sla=breached&sort=due&order=asc`,
    },
    {
      name: 'highways high priority in one ward, newest first',
      query: { team: 'highways', wards: [wardCode], priorities: ['high'], sort: 'opened', descending: true },
      search: `team=highways&ward=${wardCode}&priority=high&sort=opened&order=desc`,
    },
    { name: 'my work, by due date', query: { mine: true, sort: 'due', descending: false }, search: `sort=due&order=asc` },
    {
      name: 'customer services unassigned, by priority',
      query: { team: 'customer-services', assignee: 'unassigned', sort: 'priority', descending: false },
      search: `team=customer-services&assignee=unassigned&sort=priority&order=asc`,
    },
  ];
}

/** Records every statement the platform's pool runs while `capturing` is on. */
function instrumentPool(pool) {
  let captured;
  const wrap = (query) => async (sql, params) => {
    const t0 = performance.now();
    try {
      return await query(sql, params);
    } finally {
      captured?.push({ sql, params, ms: performance.now() - t0 });
    }
  };
  const connect = pool.connect.bind(pool);
  pool.connect = async () => {
    const client = await connect();
    return { ...client, query: wrap(client.query.bind(client)) };
  };
  return {
    async capture(work) {
      captured = [];
      try {
        await work();
        return captured;
      } finally {
        captured = undefined;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One back end: database work in this process, then the pages over HTTP

async function importDist(relative) {
  return import(pathToFileURL(path.join(projectRoot, 'dist/src', relative)).href);
}

/**
 * Opens the database with the platform's own code, migrates it, loads the demo council and seeds
 * the cases. `shared.dataset` is generated on first use and reused for the next back end. The
 * caller closes `database` and releases `lock`.
 */
export async function openSeeded(backend, { dataDir, url }, shared) {
  const [{ openDatabase, migrateToLatest }, { loadConfig }, { loadCouncil }, { createLogger }, composition, { lockDataFolder }] = await Promise.all([
    importDist('platform/db/index.js'),
    importDist('platform/config/index.js'),
    importDist('platform/council/index.js'),
    importDist('platform/logging/index.js'),
    importDist('services.js'),
    importDist('platform/lock/index.js'),
  ]);
  const env = {
    NODE_ENV: 'test',
    BOROUGH_DEMO: 'true',
    BOROUGH_DEMO_SIGNPOSTS: '0',
    BOROUGH_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...(url ? { DATABASE_URL: url } : {}),
  };
  const config = loadConfig(env);
  const lock = url ? undefined : lockDataFolder(dataDir);
  const database = await openDatabase({ url, dataDir: url ? undefined : path.join(dataDir, 'pgdata') });
  const recorder = instrumentPool(database.pool);
  try {
    progress(`${backend}: migrating and loading the demo council`);
    let t0 = performance.now();
    await migrateToLatest(database.db, composition.allMigrations());
    const platform = { config, council: loadCouncil(config.councilDir), database, logger: createLogger({ level: 'warn' }) };
    const services = await composition.buildServices(platform);
    await composition.seedDemoCouncil(platform, services);
    const setupMs = Math.round(performance.now() - t0);

    const pool = database.pool;
    const { rows: addresses } = await pool.query(
      'SELECT uprn, single_line, street, usrn, locality, postcode, postcode_norm, lat, lng, ward_code FROM geo_addresses ORDER BY uprn',
    );
    if (addresses.length === 0) throw new Error('the demo gazetteer is empty: the demo council did not load');
    const { rows: staffRows } = await pool.query('SELECT id, email, name, roles, teams FROM staff_users ORDER BY email');
    const { permissionsFor } = await importDist('modules/account/permissions.js');
    const staff = new Map(staffRows.map((r) => [String(r.email), { id: r.id, name: r.name }]));
    const workers = new Map();
    for (const row of staffRows) {
      if (!permissionsFor(row.roles).has('cases:work')) continue;
      for (const team of row.teams) workers.set(team, [...(workers.get(team) ?? []), String(row.email)]);
    }
    // The case officer is the first choice in their teams, so "my work" is a real queue.
    for (const [team, list] of workers)
      workers.set(
        team,
        [...list].sort((a, b) => (a === OFFICER_EMAIL ? -1 : b === OFFICER_EMAIL ? 1 : a.localeCompare(b))),
      );
    const fingerprint = `${addresses.length}:${addresses[0].uprn}:${addresses.at(-1).uprn}:${[...workers].map(([t, l]) => `${t}=${l.join(',')}`).join(';')}`;

    const types = services.cases.service.types;
    const calendar = services.cases.service.calendar;
    if (!shared.dataset) {
      progress(`generating ${fmt(CASES)} cases and ${fmt(PEOPLE)} people (seed ${SEED})`);
      t0 = performance.now();
      const sla = await importDist('modules/cases/sla.js');
      shared.dataset = generateDataset({ types, calendar, sla, addresses, workers, now: Math.floor(Date.now() / 1000) * 1000 });
      shared.generateMs = Math.round(performance.now() - t0);
      shared.fingerprint = fingerprint;
      progress(`  ${shared.generateMs} ms (SLA due dates for ${fmt(CASES)} cases: ${Math.round(shared.dataset.slaMs)} ms)`);
    } else if (shared.fingerprint !== fingerprint) {
      throw new Error(`the demo council differs between back ends (${shared.fingerprint} vs ${fingerprint}); the same cases cannot be seeded`);
    }
    const data = shared.dataset;

    const { rows: existing } = await pool.query('SELECT count(*)::int AS n FROM cases');
    if (existing[0].n !== 0) throw new Error(`the cases table already holds ${existing[0].n} rows`);
    progress(`${backend}: seeding ${fmt(CASES)} cases, ${fmt(data.people.id.length)} people and their timelines`);
    const seeded = await seed(pool, data, types, staff);
    progress(`  ${(seeded.totalMs / 1000).toFixed(1)} s (${fmt(seeded.events)} events)`);
    const { rows: sizes } = await pool.query(
      `SELECT relname AS table, pg_total_relation_size(oid)::bigint AS bytes FROM pg_class WHERE relname IN ('cases', 'case_people', 'case_events') ORDER BY relname`,
    );

    return { database, lock, recorder, services, data, setupMs, seeded, sizes };
  } catch (error) {
    await database.close();
    lock?.release();
    throw error;
  }
}

/** Seeds one back end and times the three operations through the case service in this process. */
async function databasePhase(backend, where, shared) {
  const { database, lock, recorder, services, data, setupMs, seeded, sizes } = await openSeeded(backend, where, shared);
  const pool = database.pool;
  try {
    // ---- The operations through the case service
    const service = services.cases.service;
    const member = await services.account.staff.findMemberByEmail(OFFICER_EMAIL);
    if (!member) throw new Error(`${OFFICER_EMAIL} is not a staff member`);
    const plan = shared.plan ?? (shared.plan = await planRequests(service, member, data));
    const runs = {};
    const remember = (name, result) => {
      runs[name] = result;
      progress(
        `  ${backend} service ${name.padEnd(8)} ${result.requests} calls, p50 ${result.latencyMs.p50.toFixed(2)} ms, p95 ${result.latencyMs.p95.toFixed(2)} ms`,
      );
    };
    progress(`${backend}: timing the case service (${REQUESTS} calls each after ${WARMUP} warm-up calls)`);
    if (elapsedSec() < RUN_BUDGET_SEC) remember('baseline', await series(async () => pool.query('SELECT 1 AS ok')));
    const queueSamples = [];
    const ops = {
      queue: async (i, warm) => {
        const item = plan.queue[i % plan.queue.length];
        const t = performance.now();
        await service.queue(member, { ...item.query, page: item.page, pageSize: PAGE_SIZE });
        if (!warm) queueSamples.push({ variant: i % plan.queue.length, ms: performance.now() - t });
      },
      case: async (i) => {
        await service.caseDetail(member, plan.references[i % plan.references.length]);
      },
      search: async (i) => {
        await service.search(member, plan.postcodes[i % plan.postcodes.length]);
      },
    };
    for (const [name, fn] of Object.entries(ops)) {
      if (elapsedSec() > RUN_BUDGET_SEC) {
        progress(`  skipped service ${name}: the run's time budget is used up`);
        continue;
      }
      remember(name, await series(fn));
    }

    // The statements behind one call of each operation, and their plans when asked for.
    const statements = {};
    const plans = [];
    for (const [name, work] of [
      ['queue', () => ops.queue(0, true)],
      ['queue (deep page)', () => ops.queue(1, true)],
      ['case', () => ops.case(0)],
      ['search', () => ops.search(0)],
    ]) {
      const captured = await recorder.capture(work);
      statements[name] = {
        count: captured.length,
        dbMs: round(
          captured.reduce((n, s) => n + s.ms, 0),
          2,
        ),
      };
      if (flag('explain')) {
        for (const s of captured) {
          if (!/^\s*select/i.test(s.sql)) continue;
          const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params);
          plans.push({ operation: name, sql: s.sql, params: s.params, plan: rows.map((r) => r['QUERY PLAN']).join('\n') });
        }
      }
    }

    return {
      setupMs,
      seed: seeded,
      sizesMb: Object.fromEntries(sizes.map((r) => [r.table, round(Number(r.bytes) / 1048576, 1)])),
      service: runs,
      queueVariants: byVariant(
        queueSamples,
        plan.queue.map((q) => q.label),
      ),
      statements,
      plans,
    };
  } finally {
    await database.close();
    lock?.release();
  }
}

/**
 * What to ask for, decided once from the seeded data so both back ends get the same requests:
 * each queue view at page 1 and a deep page, a sample of case references the officer may open,
 * a sample of the gazetteer's postcodes written as people type them. The first reference each
 * page should show is kept, to check the pages show what the service returns.
 */
async function planRequests(service, member, data) {
  const rand = generator(SEED ^ 0x00c0ffee);
  const wardCounts = countBy(data.cases.ward.filter((w, i) => data.cases.team[i] === 'highways' && w));
  const views = queueViews(Object.keys(wardCounts)[0]);
  const queue = [];
  for (const view of views) {
    const first = await service.queue(member, { ...view.query, page: 1, pageSize: PAGE_SIZE });
    const lastPage = Math.max(1, Math.ceil(first.total / PAGE_SIZE));
    const deep = Math.min(DEEP_PAGE, lastPage);
    const deepResult = await service.queue(member, { ...view.query, page: deep, pageSize: PAGE_SIZE });
    queue.push({
      label: `${view.name}, page 1 of ${lastPage}`,
      query: view.query,
      page: 1,
      path: `/staff/cases?${view.search}`,
      expect: first.cases[0]?.reference,
      total: first.total,
    });
    queue.push({
      label: `${view.name}, page ${deep} of ${lastPage}`,
      query: view.query,
      page: deep,
      path: `/staff/cases?${view.search}&page=${deep}`,
      expect: deepResult.cases[0]?.reference,
      total: first.total,
    });
  }
  const visible = [];
  for (let i = 0; i < CASES; i++) if (!data.cases.restricted[i]) visible.push(data.cases.reference[i]);
  const references = Array.from({ length: REQUESTS + WARMUP }, () => oneOf(rand, visible));
  const gazetteerPostcodes = [...new Set(data.people.postcode.filter(Boolean))].sort();
  const spaced = (pc) => `${pc.slice(0, -3)} ${pc.slice(-3)}`;
  const postcodes = Array.from({ length: REQUESTS + WARMUP }, () => spaced(oneOf(rand, gazetteerPostcodes)));
  const expectSearch = new Map();
  for (const pc of postcodes.slice(0, 40)) expectSearch.set(pc, (await service.search(member, pc)).cases[0]?.reference);
  return { queue, references, postcodes, expectSearch };
}

// ---------------------------------------------------------------------------------------------
// Pages over HTTP, as a signed-in case officer

/** The code an authenticator app shows now (RFC 6238: HMAC-SHA-1 over 30-second steps, 6 digits). */
function totp(secret, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

class StaffBrowser {
  constructor(port) {
    this.port = port;
    // One connection, kept alive, like a browser talking to one server.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.cookies = new Map();
  }

  async send(method, urlPath, form) {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers = {
      accept: 'text/html',
      ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    };
    const response = await request({ port: this.port, method, path: urlPath, headers, body, agent: this.agent });
    for (const line of response.headers['set-cookie'] ?? []) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value) this.cookies.set(pair.slice(0, eq).trim(), value);
      else this.cookies.delete(pair.slice(0, eq).trim());
    }
    return response;
  }

  async signIn(email, password, secret) {
    const csrf = (html, where) => {
      const match = /name="_csrf" value="([^"]+)"/.exec(html);
      if (!match) throw new Error(`no CSRF token on ${where}`);
      return match[1];
    };
    const page = await this.send('GET', '/staff/sign-in');
    const first = await this.send('POST', '/staff/sign-in', { _csrf: csrf(page.body, 'the sign-in page'), email, password, returnTo: '/staff' });
    if (first.status !== 302 || first.headers.location !== '/staff/sign-in/code')
      throw new Error(`signing in answered ${first.status} -> ${first.headers.location ?? ''}`);
    const codePage = await this.send('GET', '/staff/sign-in/code');
    const done = await this.send('POST', '/staff/sign-in/code', { _csrf: csrf(codePage.body, 'the code page'), code: totp(secret) });
    if (done.status !== 302) throw new Error(`the authenticator code was refused (${done.status})`);
    const home = await this.send('GET', '/staff');
    if (home.status !== 200) throw new Error(`GET /staff answered ${home.status} after signing in`);
  }

  close() {
    this.agent.destroy();
  }
}

/**
 * On PostgreSQL with pg_stat_statements loaded: the statements the platform ran for each page,
 * from a reset before a series to its end (pg-boss's own polling left out).
 */
async function statementStats(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  } catch (error) {
    await client.end();
    progress(`  no statement statistics: ${error.message}`);
    return undefined;
  }
  return {
    reset: () => client.query('SELECT pg_stat_statements_reset()'),
    async read(calls) {
      const { rows } = await client.query(
        `SELECT query, calls::int AS calls, total_exec_time AS ms FROM pg_stat_statements
         WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%pgboss%' ORDER BY total_exec_time DESC`,
      );
      const statements = rows.reduce((n, r) => n + r.calls, 0);
      const dbMs = rows.reduce((n, r) => n + r.ms, 0);
      return {
        statementsPerRequest: round(statements / calls, 1),
        dbMsPerRequest: round(dbMs / calls, 2),
        top: rows
          .slice(0, 3)
          .map((r) => ({ query: r.query.replace(/\s+/g, ' ').slice(0, 160), callsPerRequest: round(r.calls / calls, 2), meanMs: round(r.ms / r.calls, 2) })),
      };
    },
    close: () => client.end(),
  };
}

async function pagePhase(backend, { dataDir, url, pgStatStatements }, plan) {
  progress(`${backend}: starting the platform on the seeded database`);
  const platform = await startPlatform({
    dataDir,
    timeoutMs: 180_000,
    // Templates compiled once as in production; the test configuration lets demo staff sign in.
    env: {
      NODE_ENV: 'test',
      BOROUGH_DEMO: 'true',
      BOROUGH_DEMO_SIGNPOSTS: '0',
      LOG_LEVEL: 'warn',
      SESSION_SECRET: randomBytes(32).toString('hex'),
      ...(url ? { DATABASE_URL: url } : {}),
    },
  });
  progress(`  ${platform.startMs} ms`);
  const browser = new StaffBrowser(platform.port);
  let stats;
  try {
    const demo = JSON.parse(readFileSync(path.join(projectRoot, 'council/demo-users.json'), 'utf8')).staff;
    await browser.signIn(OFFICER_EMAIL, demo.password, demo.totpSecret);
    const get = async (urlPath, label) => {
      const response = await browser.send('GET', urlPath);
      return { status: response.status, bytes: Buffer.byteLength(response.body), body: response.body, label };
    };

    // Which pages are served yet, and whether they show what the service returned.
    const probes = {
      queue: plan.queue.map((q) => ({ path: q.path, expect: q.expect })),
      case: plan.references.slice(0, 10).map((ref) => ({ path: `/staff/cases/${ref}`, expect: ref })),
      search: [...plan.expectSearch].slice(0, 10).map(([pc, ref]) => ({ path: `/staff/cases/search?q=${encodeURIComponent(pc)}`, expect: ref })),
    };
    const served = {};
    for (const [name, list] of Object.entries(probes)) {
      const outcomes = [];
      for (const probe of list) {
        const r = await get(probe.path);
        outcomes.push({ status: r.status, shows: probe.expect ? r.body.includes(probe.expect) : null });
      }
      const statuses = countBy(outcomes.map((o) => String(o.status)));
      const ok = outcomes.filter((o) => o.status === 200);
      served[name] = {
        served: ok.length > 0,
        statuses,
        showsExpected: `${ok.filter((o) => o.shows).length}/${ok.filter((o) => o.shows !== null).length}`,
      };
      if (!served[name].served)
        progress(
          `  ${name} page not served yet (${Object.entries(statuses)
            .map(([s, n]) => `${n}x ${s}`)
            .join(', ')})`,
        );
    }

    const runs = {};
    const remember = (name, result) => {
      runs[name] = result;
      progress(
        `  ${backend} page    ${name.padEnd(8)} ${result.requests} requests, p50 ${result.latencyMs.p50.toFixed(2)} ms, p95 ${result.latencyMs.p95.toFixed(2)} ms`,
      );
    };
    progress(`${backend}: timing the pages (${REQUESTS} requests each after ${WARMUP} warm-up requests)`);
    stats = url && pgStatStatements ? await statementStats(url) : undefined;
    const database = {};
    const timed = async (name, fn) => {
      await stats?.reset();
      const result = await series(fn);
      remember(name, result);
      if (stats) database[name] = await stats.read(result.calls);
    };
    await timed('baseline', () => get('/healthz', 'healthz'));
    await timed('staff-home', () => get('/staff', 'staff home'));
    const queueSamples = [];
    const ops = {
      queue: async (i, warm) => {
        const item = plan.queue[i % plan.queue.length];
        const t = performance.now();
        const r = await get(item.path, item.path);
        if (!warm) queueSamples.push({ variant: i % plan.queue.length, ms: performance.now() - t });
        return r;
      },
      case: (i) => get(`/staff/cases/${plan.references[i % plan.references.length]}`, 'case page'),
      search: (i) => get(`/staff/cases/search?q=${encodeURIComponent(plan.postcodes[i % plan.postcodes.length])}`, 'search'),
    };
    for (const [name, fn] of Object.entries(ops)) {
      if (!served[name].served) continue;
      if (elapsedSec() > RUN_BUDGET_SEC) {
        progress(`  skipped page ${name}: the run's time budget is used up`);
        continue;
      }
      await timed(name, fn);
    }
    if (platform.child.exitCode !== null) throw new Error(`the platform exited during the run:\n${platform.child.output()}`);
    return {
      startMs: platform.startMs,
      served,
      page: runs,
      database: stats ? database : undefined,
      queueVariants: served.queue.served
        ? byVariant(
            queueSamples,
            plan.queue.map((q) => q.label),
          )
        : [],
    };
  } finally {
    browser.close();
    await stats?.close();
    const stopped = await stopChild(platform.child);
    if (stopped.forced) progress('warning: the platform did not stop within the grace period and was killed');
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const OPERATIONS = [
  { key: 'queue', label: 'filtered team queue' },
  { key: 'case', label: 'case page' },
  { key: 'search', label: 'search by postcode' },
];

function targetsOf(backends) {
  const targets = [];
  for (const b of backends) {
    if (!b.measured) continue;
    const limit = TARGET_P95_MS[b.kind];
    for (const op of OPERATIONS) {
      const fromPage = b.page?.[op.key];
      const figure = fromPage ?? b.service?.[op.key];
      if (!figure) continue;
      targets.push({
        name: `${b.label} ${op.label} p95 (${fromPage ? 'page' : 'service; page not served yet'})`,
        value: figure.p95Ms,
        target: `< ${limit} ms`,
        pass: figure.p95Ms < limit && figure.errors + figure.non2xx === 0,
      });
    }
  }
  return targets;
}

function report(result) {
  const out = [];
  const d = result.data;
  out.push('');
  out.push(`Borough cases benchmark  (Node ${process.version}, ${result.cpus} CPUs, ${result.cpuModel ?? 'unknown CPU'})`);
  out.push(`Machine load average (1 min) at the start ${result.loadAverage.start}, at the end ${result.loadAverage.end}.`);
  out.push('');
  out.push(
    `Data (seed ${SEED}): ${fmt(d.cases)} cases (${round(d.openShare * 100, 1)}% open, ${fmt(d.restricted)} restricted early help, ${fmt(d.anonymised)} anonymised after retention), ` +
      `${fmt(d.people)} people, ${fmt(d.events)} timeline events (${round(d.events / d.cases, 1)} a case), opened over ${YEARS} years; ${fmt(d.assignedToOfficer)} assigned to the demo case officer.`,
  );
  out.push(
    `By team: ${Object.entries(d.byTeam)
      .map(([k, v]) => `${k} ${round((100 * v) / d.cases, 1)}%`)
      .join(', ')}.`,
  );
  out.push(
    `Generated in ${result.generateMs} ms. SLA due dates (addWorkingTime) for all ${fmt(d.cases)} cases: ${result.sla.totalMs} ms, ${result.sla.perCaseUs} µs a case.`,
  );
  out.push('');
  const measured = result.backends.filter((b) => b.measured);
  for (const b of result.backends.filter((x) => !x.measured)) out.push(`${b.label}: NOT MEASURED - ${b.reason}`);
  if (measured.length) {
    out.push(
      `Seeding through the platform's pool: JSON batches in one transaction${measured.every((b) => b.seed.fkChecksOff) ? ' with foreign key triggers off' : ''}, plain indexes built after the load, then VACUUM (ANALYZE)`,
    );
    const rows = [
      ['migrate + demo council', ...measured.map((b) => `${(b.setupMs / 1000).toFixed(1)} s`)],
      ['timelines built in JS', ...measured.map((b) => `${(b.seed.timelinesMs / 1000).toFixed(1)} s`)],
      ['people', ...measured.map((b) => `${(b.seed.peopleMs / 1000).toFixed(1)} s`)],
      ['cases', ...measured.map((b) => `${(b.seed.casesMs / 1000).toFixed(1)} s`)],
      ['case events', ...measured.map((b) => `${(b.seed.eventsMs / 1000).toFixed(1)} s`)],
      [`indexes built (${measured[0].seed.indexesRebuilt.length})`, ...measured.map((b) => `${(b.seed.indexesMs / 1000).toFixed(1)} s`)],
      ['VACUUM (ANALYZE)', ...measured.map((b) => `${(b.seed.analyseMs / 1000).toFixed(1)} s`)],
      ['seed total', ...measured.map((b) => `${(b.seed.totalMs / 1000).toFixed(1)} s`)],
      ['size cases / people / events', ...measured.map((b) => `${b.sizesMb.cases} / ${b.sizesMb.case_people} / ${b.sizesMb.case_events} MB`)],
      ['platform start on seeded data', ...measured.map((b) => (b.startMs ? `${(b.startMs / 1000).toFixed(1)} s` : '-'))],
    ];
    out.push(table(['', ...measured.map((b) => b.label)], rows));
    out.push('');
    out.push(
      `Latency, one request at a time as the demo case officer (${REQUESTS} after ${WARMUP} warm-up, at most ${SERIES_MAX_SEC} s each). ` +
        `x baseline = median / baseline median and p95 / baseline p95 in the same run (service: SELECT 1 through the pool; page: GET /healthz). ` +
        `n below ${REQUESTS}: the series reached its time bound.`,
    );
    const rowsOut = [];
    for (const b of measured) {
      for (const level of ['service', 'page']) {
        const runs = b[level];
        if (!runs) continue;
        const names = [
          ['baseline', level === 'service' ? 'baseline: SELECT 1' : 'baseline: /healthz'],
          ...(level === 'page' ? [['staff-home', 'GET /staff (signed in)']] : []),
          ...OPERATIONS.map((o) => [o.key, o.label]),
        ];
        for (const [key, label] of names) {
          const f = runs[key];
          if (!f) {
            if (level === 'page' && OPERATIONS.some((o) => o.key === key)) rowsOut.push([b.label, level, label, 'not served', '', '', '', '', '', '']);
            continue;
          }
          const isOp = OPERATIONS.some((o) => o.key === key);
          rowsOut.push([
            b.label,
            level,
            label,
            f.requests,
            f.p50Ms.toFixed(2),
            f.p95Ms.toFixed(2),
            f.maxMs.toFixed(1),
            f.ratioP50 !== undefined && key !== 'baseline' ? `${f.ratioP50} / ${f.ratioP95}` : '',
            f.errors + f.non2xx,
            isOp ? `< ${TARGET_P95_MS[b.kind]}` : '',
          ]);
        }
      }
    }
    out.push(table(['back end', 'level', 'operation', 'n', 'p50 ms', 'p95 ms', 'max ms', 'x baseline', 'errors', 'p95 target'], rowsOut, 3));
    out.push('');
    out.push('Queue views (requests rotate through them; per-view figures from the same samples)');
    const qRows = [];
    for (const b of measured) {
      for (const [level, list] of [
        ['service', b.queueVariantsService],
        ['page', b.queueVariantsPage],
      ]) {
        for (const v of list ?? []) qRows.push([b.label, level, v.label, v.requests, v.p50Ms.toFixed(2), v.p95Ms.toFixed(2), v.maxMs.toFixed(1)]);
      }
    }
    out.push(table(['back end', 'level', 'view', 'n', 'p50 ms', 'p95 ms', 'max ms'], qRows, 3));
    out.push('');
    out.push('Statements behind one call (count, time in the database):');
    for (const b of measured) {
      out.push(
        `  ${b.label}: ${Object.entries(b.statements)
          .map(([k, v]) => `${k} ${v.count} (${v.dbMs} ms)`)
          .join(', ')}`,
      );
    }
    for (const b of measured) {
      if (!b.pageDatabase) continue;
      out.push(`  ${b.label}, per page request (pg_stat_statements over each series, pg-boss left out):`);
      for (const [name, d] of Object.entries(b.pageDatabase)) {
        out.push(`    ${name.padEnd(10)} ${String(d.statementsPerRequest).padStart(5)} statements, ${String(d.dbMsPerRequest).padStart(6)} ms in the database`);
        if (OPERATIONS.some((o) => o.key === name))
          for (const t of d.top) out.push(`      ${String(t.meanMs).padStart(7)} ms x ${t.callsPerRequest}  ${t.query.slice(0, 110)}`);
      }
    }
    for (const b of measured) {
      if (!b.served) continue;
      out.push(
        `  ${b.label} pages served: ${Object.entries(b.served)
          .map(
            ([k, v]) =>
              `${k} ${
                v.served
                  ? `yes, shows the service's first result ${v.showsExpected}`
                  : `no (${Object.entries(v.statuses)
                      .map(([s, n]) => `${n}x ${s}`)
                      .join(', ')})`
              }`,
          )
          .join('; ')}`,
      );
    }
  }
  out.push('');
  out.push('Targets');
  out.push(
    table(
      ['measure', 'value', 'target', 'result'],
      result.targets.map((t) => [t.name, t.value, t.target, t.pass ? 'met' : 'MISSED']),
    ),
  );
  out.push('');
  console.log(out.join('\n'));
  for (const b of result.backends) {
    for (const p of b.plans ?? []) {
      console.log(`\nEXPLAIN ANALYZE on ${b.label}, ${p.operation}:\n${p.sql.trim()}\nparameters: ${JSON.stringify(p.params)}\n${p.plan}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function measureBackend(kind, shared, tmp) {
  const label = kind === 'pglite' ? 'PGlite' : 'PostgreSQL';
  const dataDir = path.join(tmp, `${kind}-data`);
  mkdirSync(dataDir, { recursive: true });
  let server;
  let pgStatStatements = false;
  if (kind === 'postgres') {
    progress('starting a throwaway PostgreSQL server on 127.0.0.1');
    const bin = findPostgresBinaries();
    // Debian keeps the server's modules beside its binaries; the statistics are read per page.
    pgStatStatements = Boolean(bin && existsSync(path.join(bin, '..', 'lib', 'pg_stat_statements.so')));
    server = await startPostgres({
      // Reads are what is measured: durability is off only to seed faster.
      settings: {
        shared_buffers: '256MB',
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        ...(pgStatStatements ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top' } : {}),
      },
    });
    if ('unavailable' in server) {
      console.log(`PostgreSQL is not available, so only PGlite is measured: ${server.unavailable}`);
      return { kind, label, measured: false, reason: server.unavailable };
    }
    progress(`  ${server.description}`);
  }
  try {
    const where = { dataDir, url: server?.url, pgStatStatements };
    const db = await databasePhase(label, where, shared);
    let pages = {};
    if (elapsedSec() < RUN_BUDGET_SEC) pages = await pagePhase(label, where, shared.plan);
    else progress(`${label}: pages skipped, the run's time budget is used up`);
    const baselineService = db.service.baseline;
    const baselinePage = pages.page?.baseline;
    const pick = (runs, baseline) => Object.fromEntries(Object.entries(runs ?? {}).map(([k, v]) => [k, figures(v, k === 'baseline' ? undefined : baseline)]));
    return {
      kind,
      label: server ? `PostgreSQL ${server.version}` : label,
      measured: true,
      setupMs: db.setupMs,
      seed: db.seed,
      sizesMb: db.sizesMb,
      startMs: pages.startMs,
      statements: db.statements,
      service: pick(db.service, baselineService),
      page: pages.page ? pick(pages.page, baselinePage) : undefined,
      served: pages.served,
      pageDatabase: pages.database,
      queueVariantsService: db.queueVariants,
      queueVariantsPage: pages.queueVariants,
      plans: db.plans,
    };
  } finally {
    await server?.stop();
    if (flag('keep') && kind === 'pglite') console.log(`Kept the seeded PGlite data folder: ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const check = flag('check');
  const kinds = flag('pglite-only') ? ['pglite'] : flag('postgres-only') ? ['postgres'] : ['pglite', 'postgres'];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'borough-bench-cases-'));
  const loadAtStart = round(os.loadavg()[0], 2);
  const shared = {};
  try {
    process.stderr.write(`Borough cases benchmark (working folder ${tmp})\n`);
    const backends = [];
    for (const kind of kinds) backends.push(await measureBackend(kind, shared, tmp));
    if (!shared.dataset) throw new Error('no back end could be measured');
    const targets = targetsOf(backends);
    const d = shared.dataset.summary;
    const result = {
      benchmark: 'cases',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.trim(),
      settings: {
        cases: CASES,
        people: PEOPLE,
        seed: SEED,
        years: YEARS,
        requests: REQUESTS,
        warmup: WARMUP,
        seriesMaxSec: SERIES_MAX_SEC,
        pageSize: PAGE_SIZE,
        deepPage: DEEP_PAGE,
        targetP95Ms: TARGET_P95_MS,
      },
      loadAverage: { start: loadAtStart, end: round(os.loadavg()[0], 2) },
      data: { ...d, events: backends.find((b) => b.measured)?.seed.events ?? 0 },
      generateMs: shared.generateMs,
      sla: { cases: CASES, totalMs: Math.round(shared.dataset.slaMs), perCaseUs: round((shared.dataset.slaMs * 1000) / CASES, 2) },
      requests: {
        queue: shared.plan.queue.map((q) => ({ label: q.label, path: q.path, total: q.total })),
        caseSample: shared.plan.references.length,
        postcodeSample: shared.plan.postcodes.length,
      },
      backends,
      targets,
      allTargetsMet: targets.length > 0 && targets.every((t) => t.pass),
      elapsedSec: round(elapsedSec(), 1),
    };
    const resultsDir = path.join(benchDir, 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, 'cases.json'), `${JSON.stringify(result, null, 2)}\n`);
    report(result);
    process.stderr.write(`Wrote ${path.relative(process.cwd(), path.join(resultsDir, 'cases.json'))} in ${result.elapsedSec} s\n`);
    return check && !result.allTargetsMet ? 1 : 0;
  } finally {
    killAllChildren();
    if (!flag('keep')) rmSync(tmp, { recursive: true, force: true });
  }
}

// Other scripts may import the data generator and the seeding without running the benchmark.
export { generateDataset, seed, timelineOf };

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      killAllChildren();
      console.error(`Cases benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      process.exitCode = 1;
    },
  );
}
