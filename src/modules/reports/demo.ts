import { sql, type Kysely } from 'kysely';
import { mulberry32, type Geography } from '#platform/geo/index';
import type { CasesService } from '#modules/cases/index';
import type { ReportCategory } from './model/category.js';
import { reportsDb } from './repository.js';
import type { ReportsService } from './service.js';

/**
 * The demo council's street reports: a few hundred, spread over the borough, its categories, statuses
 * and the last six months, so the public map, the list and the staff queues look like a real council's.
 * Deterministic for a seed, and written through the same service a resident uses, so every report is
 * a real case with a real timeline.
 */

const FIRST_NAMES = ['Sam', 'Priya', 'Tom', 'Aisha', 'Gareth', 'Mei', 'Olu', 'Hannah', 'Dev', 'Nina', 'Rhys', 'Zainab'];
const LAST_NAMES = ['Taylor', 'Shah', 'Evans', 'Khan', 'Jones', 'Chen', 'Adeyemi', 'Walsh', 'Patel', 'Novak', 'Price', 'Hussain'];
const DETAILS: Record<string, string[]> = {
  'streetlight-fault': [
    'Not working for about a week.',
    'Flickers on and off all night.',
    'Stays on during the day.',
    'The door at the bottom of the column is open.',
  ],
  'blocked-drain': ['Water pools right across the road when it rains.', 'Full of leaves and silt.', 'Smells bad and the water does not drain away.'],
  pothole: ['Deep hole in the middle of the lane.', 'Several potholes together by the junction.', 'Hole by the kerb, cyclists swerve round it.'],
  'damaged-pavement': ['Raised paving slab, a trip hazard.', 'Cracked flags outside the shops.', 'Kerb stone broken and loose.'],
  'fly-tipping': ['Mattress and black bags dumped by the gate.', 'Builders rubble left on the verge.', 'Fridge left on the pavement.'],
  graffiti: ['Tags sprayed on the bus shelter.', 'Large painted words on the wall of the underpass.', 'Graffiti on the bridge.'],
  'abandoned-vehicle': ['Car has not moved for weeks, flat tyres.', 'Van with no number plates parked on the verge.'],
  'dog-fouling': ['Lots of dog mess along the footpath.', 'Dog mess outside the school gates every morning.'],
  'overgrown-vegetation': ['Hedge blocks half the pavement.', 'Tree branches hang low over the footpath.', 'Brambles growing across the path.'],
};
const UPDATES = ['An inspector has looked at this.', 'We have asked our contractor to deal with this.', 'Work is under way.', 'Thank you for reporting this.'];

/** Answers for a category's questions, as a resident would post them. */
function answersFor(category: ReportCategory, random: () => number): Record<string, string | string[]> {
  const answers: Record<string, string | string[]> = {};
  for (const question of category.questions) {
    if (question.type === 'yesNo') answers[question.id] = random() < 0.15 ? 'yes' : 'no';
    else if (question.type === 'checkboxes') answers[question.id] = [question.options[Math.floor(random() * question.options.length)]?.value ?? ''];
    else if ('options' in question) answers[question.id] = question.options[Math.floor(random() * question.options.length)]?.value ?? '';
    else if (question.type === 'number') answers[question.id] = String(1 + Math.floor(random() * 5));
    else if (!question.optional) answers[question.id] = 'Seen on my way to work.';
  }
  return answers;
}

export interface DemoReportsDeps {
  service: ReportsService;
  cases: CasesService;
  geo: Geography;
  db: Kysely<object>;
}

/** Adds the demo reports unless there are reports already. Returns how many were made. */
export async function seedDemoReports(deps: DemoReportsDeps, opts: { count: number; seed: number; now?: Date }): Promise<number> {
  const { service, cases, geo } = deps;
  const db = reportsDb(deps.db);
  const existing = await db.selectFrom('reports').select('reference').limit(1).executeTakeFirst();
  if (existing || opts.count <= 0) return 0;
  const random = mulberry32(opts.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const now = opts.now ?? new Date();
  const categories = service.categories();
  const boundary = await geo.boundary();
  if (!boundary) return 0;
  const { south, west, north, east } = boundary.bbox;
  let made = 0;
  for (let attempt = 0; made < opts.count && attempt < opts.count * 4; attempt++) {
    const category = pick(categories);
    let lat = south + random() * (north - south);
    let lng = west + random() * (east - west);
    if (!(await geo.isInsideBoundary(lat, lng))) continue;
    let assetId: string | undefined;
    if (category.asset) {
      const [asset] = await geo.nearbyAssets(lat, lng, 400, category.asset.kind, 1);
      if (!asset) continue;
      ({ lat, lng } = asset);
      assetId = asset.id;
    } else {
      // Reports are made where people walk: snap to a nearby street when there is one.
      const street = await geo.nearestStreet(lat, lng, { maxMetres: 150 });
      if (!street) continue;
    }
    // Ages skew recent, as real reports do: most in the last few weeks, some months old.
    const ageDays = Math.floor(180 * random() ** 2.2);
    const reportedAt = new Date(now.getTime() - ageDays * 86_400_000 - Math.floor(random() * 10) * 3_600_000);
    const name = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
    const { report } = await service.submit({
      category: category.code,
      lat,
      lng,
      assetId,
      detail: pick(DETAILS[category.code] ?? ['Please have a look at this.']),
      answers: answersFor(category, random),
      reporter: { name, email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.com`, showName: random() < 0.3 },
      source: 'web',
      reportedAt,
    });
    made++;

    // Older reports have moved further along their workflow.
    const type = cases.typeOf(category.caseType);
    const steps = ageDays < 2 ? 0 : Math.min(4, Math.floor(random() * (1 + ageDays / 10)));
    let status = type.initialStatus;
    for (let step = 0; step < steps; step++) {
      const next = type.status(status)?.next ?? [];
      // Prefer the way forward; duplicates and passing on are rarer.
      const forward = next.filter((code) => !['duplicate', 'passed-to-another-organisation', 'no-fault-found'].includes(code));
      const choice = random() < 0.9 && forward.length > 0 ? forward[0] : pick(next);
      if (!choice) break;
      const passing = choice === 'passed-to-another-organisation';
      await cases.changeStatus({ type: 'system' }, report.reference, choice, {
        update: passing
          ? 'This is on private land that the housing association looks after: we have passed it to them.'
          : random() < 0.5
            ? pick(UPDATES)
            : undefined,
      });
      status = choice;
      if (type.isClosed(choice)) break;
    }

    // Spread the timeline between the report and now, so ages and "last updated" look real.
    const span = now.getTime() - reportedAt.getTime();
    const updates = await db.selectFrom('report_updates').select('id').where('reference', '=', report.reference).orderBy('id').execute();
    let last = reportedAt;
    for (const [i, update] of updates.entries()) {
      if (i === 0) continue;
      last = new Date(reportedAt.getTime() + (span * i) / (updates.length + random()));
      await db.updateTable('report_updates').set({ created_at: last }).where('id', '=', update.id).execute();
    }
    await db
      .updateTable('reports')
      .set({ updated_at: last, fixed_at: sql<Date | null>`CASE WHEN status = 'fixed' THEN ${last}::timestamptz ELSE NULL END` })
      .where('reference', '=', report.reference)
      .execute();
  }
  return made;
}
