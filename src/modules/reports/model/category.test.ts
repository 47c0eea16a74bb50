import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CaseType } from '#modules/cases/index';
import type { Platform } from '#platform/platform';
import { createTestApp, type TestApp } from '../../../../test/support/app.js';
import { createReports } from '../index.js';
import {
  fillContacts,
  fillResponse,
  isUrgent,
  ReportCategorySchema,
  responsesFor,
  toReportCategory,
  unfilledGaps,
  type CouncilContacts,
  type ReportCategoryDefinition,
} from './category.js';
import { loadReportCategories, reportCategoryProblems } from './load.js';

const councilDir = fileURLToPath(new URL('../../../../council/', import.meta.url));
const contacts: CouncilContacts = { outOfHoursPhone: '0100 000 0999', phone: '0100 000 0000', phoneHours: 'weekdays, 9am to 5pm' };

/** The smallest sound category; each test changes one thing in a fresh copy. */
function valid(): Record<string, unknown> & { questions: Record<string, unknown>[] } {
  return {
    schemaVersion: 1,
    code: 'pothole',
    name: 'Pothole',
    group: 'Roads and pavements',
    description: 'A hole in the road.',
    caseType: 'pothole',
    statuses: { new: 'open', fixed: 'fixed' },
    public: true,
    questions: [
      {
        type: 'radios',
        id: 'depth',
        label: 'How deep is it?',
        options: [
          { value: 'shallow', text: 'Shallow' },
          { value: 'deep', text: 'Deep' },
        ],
      },
      { type: 'yesNo', id: 'danger', label: 'Is it a danger to road users?' },
    ],
  };
}

/** Each problem as `path: message`, or none when the input is accepted. */
function problems(input: unknown): string[] {
  const parsed = ReportCategorySchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
}

function parse(input: unknown): ReportCategoryDefinition {
  const parsed = ReportCategorySchema.safeParse(input);
  assert.ok(parsed.success, parsed.error?.message);
  return parsed.data;
}

/** Just enough of a loaded case type for the category checks. */
function caseType(code: string, sources: CaseType['sources'], team = 'highways'): CaseType {
  const statuses = [{ code: 'new' }, { code: 'fixed' }];
  return { code, team, sources, statuses, sla: { amount: 5, unit: 'working-days' } } as CaseType;
}

const caseTypes: ReadonlyMap<string, CaseType> = new Map([
  ['pothole', caseType('pothole', ['report', 'staff'])],
  ['streetlight-fault', caseType('streetlight-fault', ['report'])],
  ['complaint', caseType('complaint', ['form', 'staff'], 'customer-services')],
]);

describe('the report category schema', () => {
  test('accepts a sound category and fills in the defaults', () => {
    const category = parse(valid());
    assert.deepEqual(category.keywords, []);
    assert.equal(category.approximateLocation, false);
    assert.equal(category.asset, undefined);
    assert.equal(category.urgentWhen, undefined);
    assert.equal(category.questions[0]?.optional, false, 'the forms defaults apply to the questions');
  });

  test('refuses unknown fields and says what is missing', () => {
    const input: Record<string, unknown> = { ...valid(), colour: 'red' };
    delete input.public;
    delete input.group;
    assert.deepEqual(problems(input), [
      'group: Enter a group',
      'public: Say whether reports are shown publicly: true or false',
      ': Unrecognized key: "colour"',
    ]);
  });

  test('refuses another schema version and a badly formed code', () => {
    assert.deepEqual(problems({ ...valid(), schemaVersion: 2, code: 'Pot Hole' }), [
      'schemaVersion: schemaVersion must be 1',
      'code: Use lower-case letters, digits and hyphens, starting with a letter (2 to 60 characters)',
    ]);
  });

  test('takes an asset kind the geography holds, and no other', () => {
    assert.deepEqual(parse({ ...valid(), asset: { kind: 'gully' } }).asset, { kind: 'gully' });
    assert.deepEqual(problems({ ...valid(), asset: { kind: 'bench' } }), ['asset.kind: Use a kind of asset the platform holds: streetlight, gully']);
  });

  test('checks questions with the forms component schemas', () => {
    const input = valid();
    input.questions.push({ type: 'radios', id: 'size', label: 'How big?', options: [{ value: 'big', text: 'Big' }] });
    input.questions.push({ type: 'number', id: 'width', label: 'How wide?', min: 10, max: 1 });
    assert.deepEqual(problems(input), ['questions.2.options: Too small: expected array to have >=2 items', 'questions.3.min: min must not be more than max']);
  });

  test('refuses question types a report cannot ask', () => {
    const input = valid();
    input.questions.push({ type: 'fileUpload', id: 'photo', label: 'Photo', accept: ['image/jpeg'] });
    assert.deepEqual(problems(input), ['questions.2.type: Use a question type a report can ask: text, textarea, number, radios, checkboxes, yesNo, select']);
  });

  test('refuses conditions and reveals, since Open311 attributes are a flat list', () => {
    const input = valid();
    input.questions[1] = { type: 'yesNo', id: 'danger', label: 'Dangerous?', showIf: { equals: [{ answer: 'depth' }, 'deep'] } };
    input.questions.push({
      type: 'radios',
      id: 'where',
      label: 'Where?',
      options: [
        { value: 'road', text: 'Road', reveals: [{ type: 'text', id: 'lane', label: 'Which lane?' }] },
        { value: 'path', text: 'Path' },
      ],
    });
    assert.deepEqual(
      problems(input).map((line) => line.split(' cannot')[0]),
      ['questions.1.showIf: showIf', 'questions.2.options.0.reveals: reveals'],
    );
  });

  test('refuses question ids listed twice or taken by the report journey', () => {
    const input = valid();
    input.questions.push({ type: 'text', id: 'depth', label: 'Depth again' }, { type: 'text', id: 'description', label: 'Describe it' });
    assert.deepEqual(problems(input), [
      'questions.2.id: Question "depth" is listed twice',
      'questions.3.id: "description" is asked by every report already; the ids category, asset, location, description, photos, name, email, phone, showName are taken',
    ]);
  });

  test('refuses a keyword listed twice, whatever its case', () => {
    assert.deepEqual(problems({ ...valid(), keywords: ['hole', 'Hole'] }), ['keywords.1: Keyword "Hole" is listed twice']);
  });

  test('urgentWhen must name one of the questions', () => {
    assert.deepEqual(problems({ ...valid(), urgentWhen: { question: 'hazard', answer: true } }), [
      'urgentWhen.question: "hazard" is not one of the category\'s questions (depth, danger)',
    ]);
  });

  test('urgentWhen takes true or false for a yes or no question and an option value otherwise', () => {
    assert.deepEqual(problems({ ...valid(), urgentWhen: { question: 'danger', answer: 'yes' } }), [
      'urgentWhen.answer: "danger" is a yes or no question: give the answer as true or false',
    ]);
    assert.deepEqual(problems({ ...valid(), urgentWhen: { question: 'depth', answer: 'very-deep' } }), [
      'urgentWhen.answer: "very-deep" is not an option of "depth" (the options are shallow, deep)',
    ]);
    assert.deepEqual(problems({ ...valid(), urgentWhen: { question: 'depth', answer: 'deep' } }), []);
  });

  test('urgentWhen cannot use a free-text question', () => {
    const input = { ...valid(), urgentWhen: { question: 'notes', answer: 'yes' } };
    input.questions.push({ type: 'text', id: 'notes', label: 'Anything else?' });
    assert.deepEqual(problems(input), [
      'urgentWhen.question: "notes" is a text question: only a yes or no question or one with options can mark a report urgent',
    ]);
  });

  test('an emergency message names the out-of-hours number by placeholder, never written out', () => {
    const urgent = (emergencyMessage: string) => ({ ...valid(), urgentWhen: { question: 'danger', answer: true, emergencyMessage } });
    assert.deepEqual(problems(urgent('Call us on ((outOfHoursPhone)) or ((phone)).')), []);
    assert.deepEqual(problems(urgent('Call us on 0161 496 0999.')), [
      'urgentWhen.emergencyMessage: Name the out-of-hours number with ((outOfHoursPhone))',
      'urgentWhen.emergencyMessage: Use a placeholder rather than writing a phone number, so it comes from the council profile',
    ]);
    assert.deepEqual(problems(urgent('Call ((outOfHoursPhone)) or ((mobile)).')), [
      'urgentWhen.emergencyMessage: Unknown placeholder ((mobile)): use ((outOfHoursPhone)), ((phone)), ((phoneHours))',
    ]);
  });

  test('takes response templates, with or without a status', () => {
    assert.deepEqual(parse(valid()).responses, []);
    const responses = [
      { title: 'Repaired', status: 'fixed', text: 'Report ((reference)) is fixed: the ((category)) has been filled.' },
      { title: 'Thanks', text: 'Thank you for reporting it.' },
    ];
    assert.deepEqual(parse({ ...valid(), responses }).responses, responses);
  });

  test('refuses response templates with unknown placeholders, long or missing text, or a title listed twice', () => {
    const responses = [
      { title: 'Repaired', text: 'Fixed for ((name)) at ((reference)).' },
      { title: 'repaired', text: 'x'.repeat(1001) },
      { title: 'Nested', text: 'See (((reference))).' },
      { title: 'Empty', text: ' ' },
      { title: 'Odd', text: 'Fine', colour: 'red' },
    ];
    assert.deepEqual(problems({ ...valid(), responses }), [
      'responses.1.text: Response texts must be 1000 characters or fewer',
      'responses.3.text: Enter the text',
      'responses.4: Unrecognized key: "colour"',
      'responses.0.text: Unknown placeholder ((name)): use ((reference)) or ((category))',
      'responses.1.title: Response "repaired" is listed twice',
      'responses.2.text: Unknown placeholder (((reference)): use ((reference)) or ((category))',
    ]);
  });

  test('Open311 metadata cannot be turned off while a question is required', () => {
    assert.deepEqual(problems({ ...valid(), open311: { metadata: false } }), [
      'open311.metadata: Open311 clients must be told about required questions: set metadata to true, or make every question optional',
    ]);
    assert.deepEqual(problems({ ...valid(), questions: [], open311: { metadata: false, group: 'Highways' } }), []);
  });
});

describe('a loaded category', () => {
  const pothole = caseTypes.get('pothole');
  assert.ok(pothole);

  test('takes its team and SLA from the case type and works out its Open311 settings', () => {
    const category = toReportCategory(parse(valid()), pothole, contacts);
    assert.equal(category.team, 'highways');
    assert.deepEqual(category.sla, { amount: 5, unit: 'working-days' });
    assert.deepEqual(category.open311, { group: 'Roads and pavements', metadata: true });
    const bare = toReportCategory(parse({ ...valid(), questions: [], open311: { group: 'Highways' } }), pothole, contacts);
    assert.deepEqual(bare.open311, { group: 'Highways', metadata: false });
  });

  test('fills the emergency message from the council contacts', () => {
    const input = { ...valid(), urgentWhen: { question: 'danger', answer: true, emergencyMessage: 'Call ((phone)) (((phoneHours))) or ((outOfHoursPhone)).' } };
    // "(((phoneHours)))" is read as the placeholder "(phoneHours", so it is refused rather than shown half-filled.
    assert.equal(problems(input).length, 1);
    input.urgentWhen.emergencyMessage = 'Call ((phone)), ((phoneHours)), or ((outOfHoursPhone)) at other times.';
    const category = toReportCategory(parse(input), pothole, contacts);
    assert.equal(category.urgentWhen?.emergencyMessage, 'Call 0100 000 0000, weekdays, 9am to 5pm, or 0100 000 0999 at other times.');
    assert.equal(fillContacts('((constructor))', contacts), '((constructor))');
  });

  test('offers its response templates for the statuses they are for, filled from the report', () => {
    const responses = [
      { title: 'Inspection booked', status: 'new', text: 'An inspector will look at the ((category)).' },
      { title: 'Repaired', status: 'fixed', text: 'Report ((reference)) is fixed.' },
      { title: 'Not ours', text: 'This belongs to [name the organisation]: contact them at [their website].' },
    ];
    const category = toReportCategory(parse({ ...valid(), responses }), pothole, contacts);
    assert.deepEqual(category.responses[1], { title: 'Repaired', status: 'fixed', text: 'Report ((reference)) is fixed.' });
    assert.equal(category.responses[2]?.status, undefined);
    assert.deepEqual(
      responsesFor(category, ['fixed']).map((r) => r.title),
      ['Repaired', 'Not ours'],
    );
    assert.deepEqual(
      responsesFor(category, ['new', 'fixed']).map((r) => r.title),
      ['Inspection booked', 'Repaired', 'Not ours'],
    );
    assert.equal(
      fillResponse('Report ((reference)): the ((category)) ((other))', { reference: 'AB12-CD34', category: 'pothole' }),
      'Report AB12-CD34: the pothole ((other))',
    );
    assert.deepEqual(unfilledGaps('This belongs to [name the organisation]: contact them at www.example.org.', category), ['[name the organisation]']);
    assert.deepEqual(unfilledGaps('This belongs to National Highways [see their website].', category), []);
  });

  test('is urgent only for the answer named', () => {
    const byYesNo = toReportCategory(parse({ ...valid(), urgentWhen: { question: 'danger', answer: true } }), pothole, contacts);
    assert.equal(isUrgent(byYesNo, { danger: true }), true);
    assert.equal(isUrgent(byYesNo, { danger: false }), false);
    assert.equal(isUrgent(byYesNo, {}), false);
    const input = valid();
    input.questions.push({
      type: 'checkboxes',
      id: 'what',
      label: 'What is there?',
      options: [
        { value: 'bags', text: 'Bags' },
        { value: 'needles', text: 'Needles' },
      ],
    });
    const byCheckbox = toReportCategory(parse({ ...input, urgentWhen: { question: 'what', answer: 'needles' } }), pothole, contacts);
    assert.equal(isUrgent(byCheckbox, { what: ['bags', 'needles'] }), true);
    assert.equal(isUrgent(byCheckbox, { what: ['bags'] }), false);
    assert.equal(isUrgent(toReportCategory(parse(valid()), pothole, contacts), { danger: true }), false);
  });
});

describe('loading report categories', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A council folder holding the given category files (objects are written as JSON, strings as they are). */
  function council(files: Record<string, unknown>): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'borough-categories-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'report-categories'));
    for (const [name, content] of Object.entries(files))
      writeFileSync(path.join(dir, 'report-categories', name), typeof content === 'string' ? content : JSON.stringify(content));
    return dir;
  }

  test('loads sound files keyed by code, in file-name order', () => {
    const dir = council({
      'streetlight.json': { ...valid(), code: 'streetlight', name: 'Street light', caseType: 'streetlight-fault', asset: { kind: 'streetlight' } },
      'pothole.json': valid(),
      'notes.txt': 'not a category',
    });
    const categories = loadReportCategories(dir, caseTypes, contacts);
    assert.deepEqual([...categories.keys()], ['pothole', 'streetlight']);
    assert.deepEqual(categories.get('streetlight')?.asset, { kind: 'streetlight' });
  });

  test('a council without the folder has no categories', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'borough-categories-'));
    dirs.push(dir);
    assert.equal(loadReportCategories(dir, caseTypes, contacts).size, 0);
  });

  test('reports every problem in every file at once', () => {
    const dir = council({
      'broken.json': '{ "code": ',
      'pot-hole.json': valid(),
      'complaint.json': { ...valid(), code: 'complaint', name: 'Complaint', caseType: 'complaint' },
      'lamp.json': { ...valid(), code: 'lamp', name: 'pothole', caseType: 'lamp-fault', public: 'yes' },
      'zz-pothole.json': { ...valid(), code: 'pothole', name: 'Another pothole' },
    });
    const found = reportCategoryProblems(dir, caseTypes);
    assert.deepEqual(
      found.map((line) => line.replace(/Not valid JSON: .*/, 'Not valid JSON: …')),
      [
        'report-categories/broken.json: Not valid JSON: …',
        'report-categories/complaint.json: caseType: Case type "complaint" does not take reports: add "report" to its sources, or use another (the case types that take reports are pothole, streetlight-fault)',
        'report-categories/lamp.json: public: Say whether reports are shown publicly: true or false',
        'report-categories/lamp.json: caseType: "lamp-fault" is not a case type in case-types/ (the case types that take reports are pothole, streetlight-fault)',
        'report-categories/pot-hole.json: code: The file must be named pothole.json, after the code',
        'report-categories/pot-hole.json: name: "Pothole" is already the name of report-categories/lamp.json: residents could not tell them apart',
        'report-categories/zz-pothole.json: code: The file must be named pothole.json, after the code',
        'report-categories/zz-pothole.json: code: "pothole" is already the code of report-categories/pot-hole.json',
      ],
    );
    assert.throws(
      () => loadReportCategories(dir, caseTypes, contacts),
      (error: Error) => error.message.startsWith(`The report categories in ${path.join(dir, 'report-categories')} are not valid (8 problems):\n`),
    );
  });

  test('a bad category stops the reports capability from starting', () => {
    const dir = council({ 'pothole.json': { ...valid(), caseType: 'complaint' } });
    const platform = { council: { dir, profile: { emergency: { outOfHours: '1' }, contact: { phone: '2', phoneHours: '3' } } } } as unknown as Platform;
    assert.throws(
      () => createReports({ platform, cases: { service: { types: caseTypes } as never } } as unknown as Parameters<typeof createReports>[0]),
      /not valid \(1 problem\):\nreport-categories\/pothole\.json: caseType: /,
    );
  });

  test('every status of the case type is shown as a report status, and no other', () => {
    const dir = council({ 'pothole.json': { ...valid(), statuses: { new: 'open', closed: 'fixed', fixed: 'mended' } } });
    assert.deepEqual(reportCategoryProblems(dir, caseTypes), [
      'report-categories/pothole.json: statuses.fixed: Use a report status: open, investigating, action_scheduled, in_progress, fixed, closed, duplicate, not_councils_responsibility, no_further_action, internal_referral, unable_to_fix',
    ]);
    const missing = council({ 'pothole.json': { ...valid(), statuses: { new: 'open', closed: 'fixed' } } });
    assert.deepEqual(reportCategoryProblems(missing, caseTypes), [
      'report-categories/pothole.json: statuses: Say which report status each of fixed is shown as',
      'report-categories/pothole.json: statuses.closed: "closed" is not a status of case type "pothole" (its statuses are new, fixed)',
    ]);
  });

  test('each response template is for a status of the case type, or for any update', () => {
    const responses = [
      { title: 'Fixed', status: 'fixed', text: 'Fixed.' },
      { title: 'Any', text: 'Thank you.' },
      { title: 'Ordered', status: 'works-ordered', text: 'Ordered.' },
      { title: 'x', status: 'closed', text: 'Closed.' },
    ];
    const dir = council({ 'pothole.json': { ...valid(), responses } });
    assert.deepEqual(reportCategoryProblems(dir, caseTypes), [
      'report-categories/pothole.json: responses[3].title: Enter a title',
      'report-categories/pothole.json: responses[2].status: "works-ordered" is not a status of case type "pothole" (its statuses are new, fixed)',
      'report-categories/pothole.json: responses[3].status: "closed" is not a status of case type "pothole" (its statuses are new, fixed)',
    ]);
  });

  test('paths inside a file are written the way form paths are', () => {
    const input = valid();
    input.questions[0] = { type: 'radios', id: 'depth', label: 'How deep?', options: [{ value: 'a', text: 'A' }, { text: 'B' }] };
    const dir = council({ 'pothole.json': input });
    assert.deepEqual(reportCategoryProblems(dir, caseTypes), [
      'report-categories/pothole.json: questions[0].options[1].value: Invalid input: expected string, received undefined',
    ]);
  });
});

describe('the shipped report categories', () => {
  let testApp: TestApp;
  before(async () => {
    testApp = await createTestApp();
  });
  after(async () => {
    await testApp.close();
  });

  test('load without problems when the platform starts', () => {
    assert.deepEqual(reportCategoryProblems(councilDir, testApp.services.cases.service.types), []);
    assert.equal(testApp.services.reports.service.categories().length, 9);
  });

  test('are the expected ones, with their case types, assets and urgent answers', () => {
    const summary = testApp.services.reports.service.categories().map((c) => [c.code, c.caseType, c.asset?.kind ?? null, c.urgentWhen?.question ?? null]);
    assert.deepEqual(summary, [
      ['abandoned-vehicle', 'abandoned-vehicle', null, 'dangerous'],
      ['blocked-drain', 'blocked-drain', 'gully', 'flooding'],
      ['damaged-pavement', 'pothole', null, 'danger'],
      ['dog-fouling', 'dog-fouling', null, null],
      ['fly-tipping', 'fly-tipping', null, 'what'],
      ['graffiti', 'graffiti', null, 'offensive'],
      ['overgrown-vegetation', 'overgrown-vegetation', null, 'blocking'],
      ['pothole', 'pothole', null, 'danger'],
      ['streetlight-fault', 'streetlight-fault', 'streetlight', 'danger'],
    ]);
  });

  test('a dangerous pothole is urgent and the resident is given the out-of-hours number from the council profile', () => {
    const pothole = testApp.services.reports.service.category('pothole');
    assert.ok(pothole);
    assert.deepEqual(
      pothole.questions.map((q) => q.id),
      ['size', 'depth', 'danger'],
    );
    assert.equal(isUrgent(pothole, { size: 'plate-to-tyre', depth: 'over-10cm', danger: true }), true);
    assert.equal(isUrgent(pothole, { size: 'plate-to-tyre', depth: 'over-10cm', danger: false }), false);
    const { outOfHours } = testApp.platform.council.profile.emergency;
    assert.ok(pothole.urgentWhen?.emergencyMessage?.includes(outOfHours), pothole.urgentWhen?.emergencyMessage);
    assert.equal(pothole.team, 'highways');
    assert.deepEqual(pothole.sla?.byPriority?.urgent, { amount: 2, unit: 'working-hours' });
  });

  test('offensive graffiti is urgent', () => {
    const graffiti = testApp.services.reports.service.category('graffiti');
    assert.ok(graffiti);
    assert.equal(isUrgent(graffiti, { offensive: true, surface: 'wall' }), true);
    assert.equal(isUrgent(graffiti, { offensive: false, surface: 'wall' }), false);
  });

  test('each offer two to five response templates, for statuses their case type has', () => {
    for (const category of testApp.services.reports.service.categories()) {
      assert.ok(category.responses.length >= 2 && category.responses.length <= 5, category.code);
      const type = testApp.services.cases.service.types.get(category.caseType);
      for (const response of category.responses) if (response.status) assert.ok(type?.status(response.status), `${category.code}: ${response.title}`);
    }
    const pothole = testApp.services.reports.service.category('pothole');
    assert.ok(pothole);
    assert.deepEqual(
      responsesFor(pothole, ['passed-to-another-organisation']).map((r) => r.title),
      ['Not our road'],
    );
    // Passing a report on needs the public told who is responsible, so the template leaves that gap to fill.
    const notOurs = pothole.responses.find((r) => r.title === 'Not our road');
    assert.ok(notOurs && unfilledGaps(notOurs.text, pothole).length > 0);
    const light = testApp.services.reports.service.category('streetlight-fault');
    assert.deepEqual(
      light?.responses.filter((r) => r.status === 'awaiting-electricity-company').map((r) => r.title),
      ['Electricity company'],
    );
  });

  test('are all public, and every case type they use takes reports', () => {
    for (const category of testApp.services.reports.service.categories()) {
      assert.equal(category.public, true, category.code);
      assert.ok(testApp.services.cases.service.types.get(category.caseType)?.sources.includes('report'), category.code);
    }
    assert.equal(testApp.services.reports.service.category('no-such-category'), undefined);
  });
});
