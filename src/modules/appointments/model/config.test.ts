import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '#platform/config/index';
import { appointmentProblems, loadAppointmentsConfig } from './config.js';

const caseTypes = new Set(['general-enquiry']);

describe('appointments configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'borough-appointments-config-'));
    cpSync(path.join(projectRoot, 'council'), dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (file: string, change: (value: unknown) => unknown) => {
    const full = path.join(dir, file);
    writeFileSync(full, JSON.stringify(change(JSON.parse(readFileSync(full, 'utf8')))));
  };

  test('the shipped council loads: four types, bank holidays passed in', () => {
    const config = loadAppointmentsConfig(path.join(projectRoot, 'council'), caseTypes, new Set(['2026-12-25']));
    assert.deepEqual([...config.types.keys()].sort(), ['birth-registration', 'council-tax-advice', 'housing-options-interview', 'recycling-centre-visit']);
    assert.equal(config.types.get('recycling-centre-visit')?.capacityPerSlot, 12);
    assert.equal(config.types.get('housing-options-interview')?.slotEvery, 60);
    assert.ok(config.bankHolidays.has('2026-12-25'));
  });

  test('every problem in every file is listed at once, naming the file and the field', () => {
    edit('appointment-types/birth-registration.json', (t) => ({ ...(t as object), lengthMinutes: 32, locations: ['nowhere'], caseType: 'no-such-type' }));
    edit('appointment-types/recycling-centre-visit.json', (t) => ({ ...(t as object), capacityPerSlot: 20 }));
    edit('appointments/resources.json', (list) => [
      ...(list as object[]),
      { code: 'stray', name: 'Stray room', kind: 'room', location: 'moon-base', policy: 'never' },
    ]);
    edit('appointments/policies.json', (list) =>
      (list as { code: string; week: Record<string, unknown> }[]).map((p) =>
        p.code === 'office-hours' ? { ...p, week: { ...p.week, monday: [{ from: '17:00', to: '09:00' }] } } : p,
      ),
    );
    const problems = appointmentProblems(dir, caseTypes);
    const expect = (pattern: RegExp) =>
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `expected a problem like ${pattern}, got:\n${problems.join('\n')}`,
      );
    expect(/appointment-types\/birth-registration\.json: lengthMinutes: lengthMinutes must be a multiple of 5 minutes/);
    expect(/appointment-types\/recycling-centre-visit\.json: needs\[0\]\.oneOf: "ashford-lane-bays" takes 12 at once, fewer than capacityPerSlot \(20\)/);
    expect(/appointments\/resources\.json: stray: "moon-base" is not a location/);
    expect(/appointments\/resources\.json: stray: "never" is not a policy/);
    expect(/appointments\/policies\.json: \[\d+\]\.week\.monday\[0\]\.to: to must be later than from/);
    assert.throws(() => loadAppointmentsConfig(dir, caseTypes, new Set()), /appointment settings .* are not valid \(\d+ problems\)/);
  });
});
