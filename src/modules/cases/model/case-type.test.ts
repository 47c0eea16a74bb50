import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CaseTypeSchema, fillMessage, fillTemplate, toCaseType, type CaseType, type CaseTypeDefinition } from './case-type.js';
import { caseTypeProblems, loadCaseTypes } from './load.js';

const councilDir = fileURLToPath(new URL('../../../../council/', import.meta.url));
const teamCodes = (JSON.parse(readFileSync(path.join(councilDir, 'teams.json'), 'utf8')) as { code: string }[]).map((team) => team.code);

/** The smallest sound case type; each test breaks one thing in a fresh copy. */
function valid(): Record<string, unknown> & { statuses: Record<string, unknown>[] } {
  return {
    schemaVersion: 1,
    code: 'bin-repair',
    name: 'Bin repair',
    team: 'environment',
    initialStatus: 'new',
    retentionDays: 365,
    statuses: [
      { code: 'new', label: 'New', next: ['booked', 'cancelled'] },
      { code: 'booked', label: 'Booked', next: ['repaired'] },
      { code: 'repaired', label: 'Repaired', closed: true },
      { code: 'cancelled', label: 'Cancelled', closed: true },
    ],
  };
}

/** Each problem as `path: message`, or none when the input is accepted. */
function problems(input: unknown): string[] {
  const parsed = CaseTypeSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
}

function parse(input: unknown): CaseTypeDefinition {
  const parsed = CaseTypeSchema.safeParse(input);
  assert.ok(parsed.success, parsed.error?.message);
  return parsed.data;
}

describe('the case type schema', () => {
  test('accepts a sound type and fills in the defaults', () => {
    const type = parse(valid());
    assert.equal(type.restricted, false);
    assert.equal(type.defaultPriority, 'normal');
    assert.deepEqual(type.sources, ['staff']);
    assert.deepEqual(type.notifications, {});
    assert.equal(type.sla, undefined);
    assert.equal(type.statuses[0]?.closed, false);
    assert.deepEqual(type.statuses[2]?.next, []);
  });

  test('refuses a status listed twice', () => {
    const input = valid();
    input.statuses.push({ code: 'booked', label: 'Booked again', closed: true });
    assert.deepEqual(problems(input), ['statuses.4.code: Status "booked" is listed twice']);
  });

  test('refuses a move to an unknown status, or to the same status', () => {
    const input = valid();
    input.statuses[1] = { code: 'booked', label: 'Booked', next: ['repaired', 'fixed', 'booked'] };
    assert.deepEqual(problems(input), ['statuses.1.next.1: "fixed" is not one of the statuses', 'statuses.1.next.2: A status cannot move to itself']);
  });

  test('refuses an initial status that is not listed', () => {
    assert.deepEqual(problems({ ...valid(), initialStatus: 'open' }), [
      'initialStatus: "open" is not one of the statuses',
      // Nothing can be reached from a status that does not exist.
      'statuses.0: Status "new" cannot be reached from "open"',
      'statuses.1: Status "booked" cannot be reached from "open"',
      'statuses.2: Status "repaired" cannot be reached from "open"',
      'statuses.3: Status "cancelled" cannot be reached from "open"',
    ]);
  });

  test('refuses a status nothing moves to', () => {
    const input = valid();
    input.statuses.push({ code: 'written-off', label: 'Written off', closed: true });
    assert.deepEqual(problems(input), ['statuses.4: Status "written-off" cannot be reached from "new"']);
  });

  test('refuses an open status with no way out', () => {
    const input = valid();
    input.statuses[1] = { code: 'booked', label: 'Booked' };
    assert.deepEqual(problems(input), ['statuses.1.next: Open status "booked" has no way out', 'statuses.2: Status "repaired" cannot be reached from "new"']);
  });

  test('refuses a workflow with no closed status', () => {
    const input = valid();
    input.statuses = [
      { code: 'new', label: 'New', next: ['booked'] },
      { code: 'booked', label: 'Booked', next: ['new'] },
    ];
    assert.deepEqual(problems(input), ['statuses: At least one status must be closed']);
  });

  test('needs at least two statuses', () => {
    const input = valid();
    input.statuses = [{ code: 'new', label: 'New', closed: true }];
    assert.ok(problems(input).includes('statuses: A case type needs at least two statuses'), problems(input).join('\n'));
  });

  test('accepts the known placeholders and refuses any other', () => {
    const known = '((reference)) ((caseType)) ((status)) ((name)) ((update)) ((expectedDate)) ((caseLink))';
    assert.deepEqual(problems({ ...valid(), notifications: { new: { subject: 'About ((reference))', body: known } } }), []);
    assert.deepEqual(problems({ ...valid(), notifications: { booked: { subject: 'Booked for ((date))', body: 'Dear ((Name)), ((name))' } } }), [
      'notifications.booked.subject: Unknown placeholder ((date))',
      'notifications.booked.body: Unknown placeholder ((Name))',
    ]);
  });

  test('refuses a notification for a status that is not listed', () => {
    assert.deepEqual(problems({ ...valid(), notifications: { closed: { subject: 'Closed', body: 'We have closed your case.' } } }), [
      'notifications.closed: "closed" is not one of the statuses',
    ]);
  });

  test('refuses a notification with an empty subject or body', () => {
    assert.deepEqual(problems({ ...valid(), notifications: { new: { subject: ' ', body: '' } } }), [
      'notifications.new.subject: Enter a subject',
      'notifications.new.body: Enter a body',
    ]);
  });

  test('refuses badly formed codes', () => {
    const rule = 'Use lower-case letters, digits and hyphens, starting with a letter (2 to 60 characters)';
    assert.deepEqual(problems({ ...valid(), code: 'Bin_Repair' }), [`code: ${rule}`]);
    assert.deepEqual(problems({ ...valid(), code: 'b' }), [`code: ${rule}`]);
    assert.deepEqual(problems({ ...valid(), code: `b${'x'.repeat(60)}` }), [`code: ${rule}`]);
    assert.deepEqual(problems({ ...valid(), code: '2-bins' }), [`code: ${rule}`]);
    assert.deepEqual(problems({ ...valid(), team: 'Environment' }), [`team: ${rule}`]);
    assert.deepEqual(problems({ ...valid(), code: undefined }), ['code: Enter a code']);
  });

  test('refuses the wrong schema version and unknown fields', () => {
    assert.deepEqual(problems({ ...valid(), schemaVersion: 2 }), ['schemaVersion: schemaVersion must be 1']);
    assert.equal(problems({ ...valid(), colour: 'red' }).length, 1);
  });

  test('takes an SLA with overrides by priority', () => {
    const type = parse({ ...valid(), sla: { amount: 10, unit: 'working-days', byPriority: { urgent: { amount: 2, unit: 'working-hours' } } } });
    assert.deepEqual(type.sla, { amount: 10, unit: 'working-days', byPriority: { urgent: { amount: 2, unit: 'working-hours' } } });
    assert.deepEqual(parse({ ...valid(), sla: { amount: 5, unit: 'working-days' } }).sla, { amount: 5, unit: 'working-days' });
  });

  test('refuses an override for an unknown priority or with a bad target', () => {
    const sla = (byPriority: unknown): unknown => ({ ...valid(), sla: { amount: 10, unit: 'working-days', byPriority } });
    assert.equal(problems(sla({ critical: { amount: 1, unit: 'working-hours' } })).length, 1);
    assert.deepEqual(
      problems(sla({ urgent: { amount: 0, unit: 'working-hours' } })).map((p) => p.split(':')[0]),
      ['sla.byPriority.urgent.amount'],
    );
    assert.deepEqual(
      problems(sla({ high: { amount: 2, unit: 'hours' } })).map((p) => p.split(':')[0]),
      ['sla.byPriority.high.unit'],
    );
  });

  test('refuses a retention period that is not a whole number of days from 1', () => {
    assert.equal(problems({ ...valid(), retentionDays: 0 }).length, 1);
    assert.equal(problems({ ...valid(), retentionDays: 1.5 }).length, 1);
  });
});

describe('fillTemplate', () => {
  test('fills the placeholders it is given, as often as they appear', () => {
    assert.equal(
      fillTemplate('Dear ((name)), your case ((reference)) is ((status)). Quote ((reference)).', { name: 'Sam Patel', reference: 'KM-123', status: 'Fixed' }),
      'Dear Sam Patel, your case KM-123 is Fixed. Quote KM-123.',
    );
  });

  test('leaves text without placeholders alone', () => {
    assert.equal(fillTemplate('We have (briefly) looked at it.', { name: 'Sam' }), 'We have (briefly) looked at it.');
  });

  test('empties a placeholder with no value, and never fills one from the object prototype', () => {
    assert.equal(fillTemplate('[((update))] [((expectedDate))]', { update: '' }), '[] []');
    assert.equal(fillTemplate('[((constructor))] [((toString))] [((__proto__))]', {}), '[] [] []');
  });
});

describe('toCaseType', () => {
  const type = toCaseType(parse(valid()));

  test('keeps the definition', () => {
    assert.equal(type.code, 'bin-repair');
    assert.equal(type.statuses.length, 4);
  });

  test('finds a status by code', () => {
    assert.equal(type.status('booked')?.label, 'Booked');
    assert.equal(type.status('lost'), undefined);
  });

  test('says which statuses are closed', () => {
    assert.equal(type.isClosed('repaired'), true);
    assert.equal(type.isClosed('new'), false);
    assert.equal(type.isClosed('lost'), false);
  });

  test('allows only the listed moves', () => {
    assert.equal(type.canMove('new', 'booked'), true);
    assert.equal(type.canMove('booked', 'new'), false);
    assert.equal(type.canMove('new', 'repaired'), false);
    assert.equal(type.canMove('lost', 'booked'), false);
    assert.equal(type.canMove('new', 'lost'), false);
  });
});

describe('loading case types from a council folder', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'borough-case-types-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let counter = 0;

  /** A council folder holding these case type files (objects are written as JSON, strings as they are). */
  function council(files: Record<string, unknown>): string {
    counter += 1;
    const dir = path.join(scratch, `council-${counter}`);
    mkdirSync(path.join(dir, 'case-types'), { recursive: true });
    for (const [name, content] of Object.entries(files))
      writeFileSync(path.join(dir, 'case-types', name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return dir;
  }

  const teams = ['environment', 'highways'];
  const typeWith = (fields: Record<string, unknown>): Record<string, unknown> => ({ ...valid(), ...fields });

  test('loads every file, keyed by code, in file-name order, ignoring other files', () => {
    const dir = council({
      'pothole.json': typeWith({ code: 'pothole', name: 'Pothole', team: 'highways' }),
      'bin-repair.json': valid(),
      'README.md': 'Case types live here.',
    });
    const types = loadCaseTypes(dir, teams);
    assert.deepEqual([...types.keys()], ['bin-repair', 'pothole']);
    const pothole = types.get('pothole');
    assert.ok(pothole);
    assert.equal(pothole.team, 'highways');
    assert.equal(pothole.canMove('new', 'booked'), true, 'loaded through toCaseType');
    assert.deepEqual(caseTypeProblems(dir, teams), []);
  });

  test('a council with no case-types folder has no case types', () => {
    const dir = path.join(scratch, 'no-case-types');
    mkdirSync(dir, { recursive: true });
    assert.equal(loadCaseTypes(dir, teams).size, 0);
    assert.deepEqual(caseTypeProblems(dir, teams), []);
  });

  test('refuses a file not named after its code', () => {
    const dir = council({ 'bins.json': valid() });
    assert.deepEqual(caseTypeProblems(dir, teams), ['case-types/bins.json: code: The file must be named bin-repair.json, after the code']);
    assert.throws(() => loadCaseTypes(dir, teams), /case-types\/bins\.json: code: The file must be named bin-repair\.json/);
  });

  test('refuses a team that is not in teams.json', () => {
    const dir = council({ 'bin-repair.json': typeWith({ team: 'waste' }) });
    assert.deepEqual(caseTypeProblems(dir, teams), [
      'case-types/bin-repair.json: team: "waste" is not a team in teams.json (the teams are environment, highways)',
    ]);
  });

  test('refuses two files with the same code', () => {
    const dir = council({ 'bin-repair.json': valid(), 'bins-again.json': valid() });
    assert.deepEqual(caseTypeProblems(dir, teams), [
      'case-types/bins-again.json: code: The file must be named bin-repair.json, after the code',
      'case-types/bins-again.json: code: "bin-repair" is already the code of case-types/bin-repair.json',
    ]);
  });

  test('reports schema problems with their path, and a file that is not JSON', () => {
    const badKey = typeWith({ notifications: { New: { subject: 'Hello', body: 'Hello' } } });
    const dir = council({
      'bin-repair.json': typeWith({ initialStatus: 'open', statuses: valid().statuses.slice(0, 3) }),
      'broken.json': '{ "code": ',
      'key.json': badKey,
    });
    const found = caseTypeProblems(dir, teams);
    assert.ok(found.includes('case-types/bin-repair.json: initialStatus: "open" is not one of the statuses'), found.join('\n'));
    assert.ok(found.includes('case-types/bin-repair.json: statuses[1]: Status "booked" cannot be reached from "open"'), found.join('\n'));
    assert.ok(
      found.some((line) => line.startsWith('case-types/broken.json: Not valid JSON: ')),
      found.join('\n'),
    );
    assert.ok(
      found.includes('case-types/key.json: notifications.New: key: Use lower-case letters, digits and hyphens, starting with a letter (2 to 60 characters)'),
      found.join('\n'),
    );
  });

  test('collects every problem in every file before throwing one error', () => {
    const dir = council({
      'a-bad-file.json': typeWith({ code: 'bin-repair', team: 'waste', notifications: { new: { subject: 'Hello ((person))', body: 'Hello' } } }),
      'bin-repair.json': typeWith({ team: 'parks' }),
      'pothole.json': typeWith({ code: 'pothole', team: 'highways' }),
    });
    const expected = [
      'case-types/a-bad-file.json: notifications.new.subject: Unknown placeholder ((person))',
      'case-types/a-bad-file.json: code: The file must be named bin-repair.json, after the code',
      'case-types/a-bad-file.json: team: "waste" is not a team in teams.json (the teams are environment, highways)',
      'case-types/bin-repair.json: code: "bin-repair" is already the code of case-types/a-bad-file.json',
      'case-types/bin-repair.json: team: "parks" is not a team in teams.json (the teams are environment, highways)',
    ];
    assert.deepEqual(caseTypeProblems(dir, teams), expected);
    assert.throws(
      () => loadCaseTypes(dir, teams),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        const [heading, ...lines] = error.message.split('\n');
        assert.match(heading ?? '', /case-types are not valid \(5 problems\):$/);
        assert.deepEqual(lines, expected);
        return true;
      },
    );
  });

  test('a field the schema refused is not checked again', () => {
    const dir = council({ 'bin-repair.json': typeWith({ team: 'Parks' }) });
    assert.deepEqual(caseTypeProblems(dir, teams), [
      'case-types/bin-repair.json: team: Use lower-case letters, digits and hyphens, starting with a letter (2 to 60 characters)',
    ]);
  });
});

describe('the shipped case types', () => {
  const types = loadCaseTypes(councilDir, teamCodes);
  const all = (): CaseType[] => [...types.values()];

  test('load without problems', () => {
    assert.deepEqual(caseTypeProblems(councilDir, teamCodes), []);
  });

  test('are the expected ones', () => {
    assert.deepEqual([...types.keys()].sort(), [
      'abandoned-vehicle',
      'blocked-drain',
      'change-of-address',
      'complaint',
      'dog-fouling',
      'early-help-referral',
      'fly-tipping',
      'general-enquiry',
      'graffiti',
      'overgrown-vegetation',
      'pothole',
      'single-person-discount',
      'streetlight-fault',
    ]);
  });

  test('only early help referrals are restricted', () => {
    assert.deepEqual(
      all()
        .filter((type) => type.restricted)
        .map((type) => type.code),
      ['early-help-referral'],
    );
  });

  test('street faults come from reports and land with highways or environmental services', () => {
    const highways = ['blocked-drain', 'pothole', 'streetlight-fault'];
    const environment = ['abandoned-vehicle', 'dog-fouling', 'fly-tipping', 'graffiti'];
    for (const code of [...highways, ...environment]) {
      const type = types.get(code);
      assert.ok(type, code);
      assert.equal(type.team, highways.includes(code) ? 'highways' : 'environment', code);
      assert.ok(type.sources.includes('report'), code);
    }
    assert.deepEqual(
      types.get('pothole')?.sla?.byPriority?.urgent,
      { amount: 2, unit: 'working-hours' },
      'dangerous potholes are made safe within 2 working hours',
    );
  });

  test('tell the resident when a case opens and when it closes', () => {
    for (const type of all()) {
      assert.ok(type.notifications[type.initialStatus], `${type.code}: no message for ${type.initialStatus}`);
      for (const status of type.statuses.filter((s) => s.closed)) assert.ok(type.notifications[status.code], `${type.code}: no message for ${status.code}`);
    }
  });

  test('never leave a case stuck: every status can reach a closed one', () => {
    for (const type of all()) {
      for (const start of type.statuses) {
        const seen = new Set([start.code]);
        const queue = [start.code];
        let closes = false;
        for (let code = queue.shift(); code !== undefined && !closes; code = queue.shift()) {
          if (type.isClosed(code)) closes = true;
          for (const to of type.status(code)?.next ?? [])
            if (!seen.has(to)) {
              seen.add(to);
              queue.push(to);
            }
        }
        assert.ok(closes, `${type.code}: "${start.code}" can never close`);
      }
    }
  });

  test('early help messages never give the outcome of a referral', () => {
    const type = types.get('early-help-referral');
    assert.ok(type);
    const messages = Object.entries(type.notifications);
    assert.deepEqual(messages.map(([status]) => status).sort(), [type.initialStatus, ...type.statuses.filter((s) => s.closed).map((s) => s.code)].sort());
    const closing = messages.filter(([status]) => type.isClosed(status)).map(([, template]) => JSON.stringify(template));
    assert.equal(new Set(closing).size, 1, 'every closing message is the same, so none reveals the decision');
    for (const [status, template] of messages) {
      const text = `${template.subject}\n${template.body}`;
      assert.doesNotMatch(text, /\(\((status|update|caseType)\)\)/, status);
      assert.doesNotMatch(text, /social care|accepted|signpost/i, status);
    }
  });

  test('every case type a shipped form delivers to exists, with the same team', () => {
    const formsDir = path.join(councilDir, 'forms');
    let caseDeliveries = 0;
    for (const file of readdirSync(formsDir).filter((name) => name.endsWith('.json'))) {
      const form = JSON.parse(readFileSync(path.join(formsDir, file), 'utf8')) as {
        deliveries?: { type: string; settings?: { team?: string; caseType?: string } }[];
      };
      for (const delivery of form.deliveries ?? []) {
        if (delivery.type !== 'case') continue;
        caseDeliveries += 1;
        const code = delivery.settings?.caseType;
        assert.ok(code, `${file}: the case delivery names a case type`);
        const type = types.get(code);
        assert.ok(type, `${file}: no case type "${code}"`);
        assert.ok(type.sources.includes('form'), `${file}: ${code} takes cases from forms`);
        assert.equal(delivery.settings?.team, type.team, `${file}: the delivery's team is the case type's`);
      }
    }
    assert.ok(caseDeliveries >= 4, `${caseDeliveries} case deliveries`);
  });
});

test('fillMessage leaves out a paragraph whose placeholders have no value', () => {
  const body = 'Dear ((name)),\n\nWe have fixed it.\n\n((update))\n\nCheck progress at ((caseLink))\n\nKingsmere Council';
  assert.equal(fillMessage(body, { name: 'Sam', update: '', caseLink: '' }), 'Dear Sam,\n\nWe have fixed it.\n\nKingsmere Council');
  assert.equal(
    fillMessage(body, { name: 'Sam', update: 'New tarmac laid.', caseLink: 'https://example.com/c' }),
    'Dear Sam,\n\nWe have fixed it.\n\nNew tarmac laid.\n\nCheck progress at https://example.com/c\n\nKingsmere Council',
  );
});
