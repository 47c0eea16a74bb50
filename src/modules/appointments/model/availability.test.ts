import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { availableSlots, closedReason, localDayNumber, workingTime, type Taken } from './availability.js';
import { AppointmentTypeSchema, LocationSchema, PolicySchema, ResourceSchema, type AppointmentsConfig, type AppointmentType } from './config.js';
import { formatClock } from './when.js';

const at = (iso: string) => new Date(iso).getTime();

function makeConfig(overrides: { bankHolidays?: string[]; capacity?: number } = {}): AppointmentsConfig {
  const policy = PolicySchema.parse({
    code: 'weekdays',
    name: 'Weekdays',
    week: {
      monday: [{ from: '09:00', to: '17:00' }],
      tuesday: [{ from: '09:00', to: '17:00' }],
      wednesday: [{ from: '09:00', to: '17:00' }],
      thursday: [{ from: '09:00', to: '17:00' }],
      friday: [{ from: '09:00', to: '17:00' }],
      sunday: [{ from: '00:00', to: '04:00' }],
    },
    breaks: [{ from: '12:30', to: '13:30' }],
  });
  const office = LocationSchema.parse({
    code: 'office',
    name: 'Office',
    kind: 'in-person',
    closures: [{ from: '2026-12-24', to: '2026-12-24', reason: 'Christmas Eve' }],
  });
  const site = LocationSchema.parse({ code: 'site', name: 'Site', kind: 'in-person', openOnBankHolidays: true });
  const resources = [
    ResourceSchema.parse({ code: 'adviser', name: 'Adviser', kind: 'staff', location: 'office', policy: 'weekdays' }),
    ResourceSchema.parse({
      code: 'room',
      name: 'Room',
      kind: 'room',
      location: 'office',
      policy: 'weekdays',
      overrides: [{ date: '2026-12-31', hours: [{ from: '09:00', to: '10:00' }] }],
    }),
    ResourceSchema.parse({ code: 'bays', name: 'Bays', kind: 'site', location: 'site', policy: 'weekdays', capacity: overrides.capacity ?? 3 }),
  ];
  const meeting = AppointmentTypeSchema.parse({
    code: 'meeting',
    name: 'Meeting',
    description: 'A meeting with an adviser in a room.',
    lengthMinutes: 30,
    bufferAfterMinutes: 10,
    slotEveryMinutes: 30,
    horizonDays: 30,
    minimumNoticeMinutes: 60,
    changeUntilMinutes: 60,
    cancelUntilMinutes: 60,
    holdMinutes: 10,
    needs: [
      { label: 'Adviser', oneOf: ['adviser'] },
      { label: 'Room', oneOf: ['room'] },
    ],
    locations: ['office'],
  });
  const visit = AppointmentTypeSchema.parse({
    code: 'visit',
    name: 'Site visit',
    description: 'A slot at the site for one car.',
    lengthMinutes: 15,
    horizonDays: 30,
    minimumNoticeMinutes: 0,
    changeUntilMinutes: 0,
    cancelUntilMinutes: 0,
    holdMinutes: 10,
    capacityPerSlot: 3,
    needs: [{ label: 'Bay', oneOf: ['bays'] }],
    locations: ['site'],
  });
  const types = new Map<string, AppointmentType>(
    [meeting, visit].map((t) => [t.code, { ...t, slotEvery: t.slotEveryMinutes ?? t.lengthMinutes }] as [string, AppointmentType]),
  );
  return {
    locations: new Map([
      ['office', office],
      ['site', site],
    ]),
    policies: new Map([['weekdays', policy]]),
    resources: new Map(resources.map((r) => [r.code, r])),
    types,
    bankHolidays: new Set(overrides.bankHolidays ?? ['2026-12-25', '2026-12-28']),
  };
}

const dayOf = (iso: string) => localDayNumber(at(`${iso}T12:00:00Z`));
const slotsOn = (config: AppointmentsConfig, type: string, location: string, date: string, taken: Taken = new Map()) => {
  const t = config.types.get(type);
  assert.ok(t);
  return availableSlots(config, { type: t, location, from: at(`${date}T00:00:00Z`) - 3_600_000, to: at(`${date}T23:59:00Z`), taken }).filter(
    (s) => localDayNumber(s.start.getTime()) === dayOf(date),
  );
};

describe('appointment availability', () => {
  test('opening hours less breaks, in local time, stepping by the slot interval', () => {
    const config = makeConfig();
    const slots = slotsOn(config, 'meeting', 'office', '2026-12-08');
    const times = slots.map((s) => formatClock(s.start));
    assert.equal(times[0], '09:00');
    assert.equal(times.at(-1), '16:30');
    // 12:00 would run into the break with its buffer only after the meeting; 12:30 and 13:00 are in the break.
    assert.ok(times.includes('12:00'));
    assert.ok(!times.includes('12:30'));
    assert.ok(!times.includes('13:00'));
    assert.ok(times.includes('13:30'));
    assert.deepEqual(slots[0]?.resources, ['adviser', 'room']);
  });

  test('winter and summer: 9am is 09:00 UTC in December and 08:00 UTC in June', () => {
    const config = makeConfig();
    assert.equal(slotsOn(config, 'meeting', 'office', '2026-12-08')[0]?.start.toISOString(), '2026-12-08T09:00:00.000Z');
    assert.equal(slotsOn(config, 'meeting', 'office', '2027-06-08')[0]?.start.toISOString(), '2027-06-08T08:00:00.000Z');
  });

  test('across the clocks going forward: the Monday after opens at 9am summer time', () => {
    const config = makeConfig();
    const type = config.types.get('meeting');
    assert.ok(type);
    // A horizon that spans Sunday 28 March 2027, when the clocks go forward.
    const slots = availableSlots(config, { type, location: 'office', from: at('2027-03-26T00:00:00Z'), to: at('2027-03-30T00:00:00Z'), taken: new Map() });
    const firstOn = (date: string) => slots.find((s) => localDayNumber(s.start.getTime()) === dayOf(date))?.start.toISOString();
    assert.equal(firstOn('2027-03-26'), '2027-03-26T09:00:00.000Z');
    assert.equal(firstOn('2027-03-29'), '2027-03-29T08:00:00.000Z');
    assert.equal(slots.filter((s) => localDayNumber(s.start.getTime()) === dayOf('2027-03-29')).length, 14);
  });

  test('across the clocks going back: the Monday after opens at 9am winter time', () => {
    const config = makeConfig();
    const type = config.types.get('meeting');
    assert.ok(type);
    // A horizon that spans Sunday 31 October 2027, when the clocks go back.
    const slots = availableSlots(config, { type, location: 'office', from: at('2027-10-29T00:00:00Z'), to: at('2027-11-02T00:00:00Z'), taken: new Map() });
    const firstOn = (date: string) => slots.find((s) => localDayNumber(s.start.getTime()) === dayOf(date))?.start.toISOString();
    assert.equal(firstOn('2027-10-29'), '2027-10-29T08:00:00.000Z');
    assert.equal(firstOn('2027-11-01'), '2027-11-01T09:00:00.000Z');
    assert.equal(slots.filter((s) => localDayNumber(s.start.getTime()) === dayOf('2027-11-01')).length, 14);
  });

  test('the night the clocks change: hours are wall-clock hours on the day', () => {
    const config = makeConfig();
    // Sunday opening 00:00-04:00 local. Going forward (28 March 2027) 01:00-02:00 does not exist: three real hours.
    const forward = workingTime(config, 'adviser', dayOf('2027-03-28'));
    assert.deepEqual(
      forward.map(([a, b]) => [new Date(a).toISOString(), new Date(b).toISOString()]),
      [['2027-03-28T00:00:00.000Z', '2027-03-28T03:00:00.000Z']],
    );
    // Going back (25 October 2026) 01:00-02:00 happens twice: five real hours.
    const back = workingTime(config, 'adviser', dayOf('2026-10-25'));
    assert.deepEqual(
      back.map(([a, b]) => [new Date(a).toISOString(), new Date(b).toISOString()]),
      [['2026-10-24T23:00:00.000Z', '2026-10-25T04:00:00.000Z']],
    );
    const visitDay = slotsOn(makeConfig(), 'visit', 'site', '2026-10-25');
    assert.equal(visitDay.length, 20, 'five real hours of 15-minute slots');
    assert.equal(new Set(visitDay.map((s) => s.start.getTime())).size, 20, 'no start time repeated');
  });

  test('bank holidays close a location unless it opens on them; closures and overrides apply', () => {
    const config = makeConfig();
    assert.equal(closedReason(config, 'office', '2026-12-28'), 'Bank holiday');
    assert.equal(slotsOn(config, 'meeting', 'office', '2026-12-28').length, 0);
    assert.equal(closedReason(config, 'office', '2026-12-24'), 'Christmas Eve');
    assert.equal(slotsOn(config, 'meeting', 'office', '2026-12-24').length, 0);
    assert.equal(closedReason(config, 'site', '2026-12-28'), undefined);
    assert.ok(slotsOn(config, 'visit', 'site', '2026-12-28').length > 0);
    // The room only works 09:00-10:00 on New Year's Eve, so the meeting is offered at 09:00 and 09:30 only.
    assert.deepEqual(
      slotsOn(config, 'meeting', 'office', '2026-12-31').map((s) => formatClock(s.start)),
      ['09:00', '09:30'],
    );
  });

  test('a taken place is not offered, buffers included; a site slot counts its places', () => {
    const config = makeConfig();
    const start = at('2026-12-08T10:00:00Z');
    // The adviser is taken 10:00-10:40 (a meeting with its buffer): 10:00 and 10:30 go.
    const taken = new Map([['adviser', new Map(Array.from({ length: 8 }, (_, i) => [start + i * 300_000, 1]))]]);
    const times = slotsOn(config, 'meeting', 'office', '2026-12-08', taken).map((s) => formatClock(s.start));
    assert.ok(times.includes('09:00'));
    // 09:30 would hold the adviser until 10:10 with its buffer.
    assert.ok(!times.includes('09:30'));
    assert.ok(!times.includes('10:00'));
    assert.ok(!times.includes('10:30'));
    assert.ok(times.includes('11:00'));
    const visits = slotsOn(config, 'visit', 'site', '2026-12-08', new Map([['bays', new Map([[start, 2]])]]));
    assert.equal(visits.find((s) => s.start.getTime() === start)?.placesLeft, 1);
    assert.equal(visits.find((s) => s.start.getTime() === start + 900_000)?.placesLeft, 3);
    const full = slotsOn(config, 'visit', 'site', '2026-12-08', new Map([['bays', new Map([[start, 3]])]]));
    assert.ok(!full.some((s) => s.start.getTime() === start));
  });

  test('nothing before the earliest start or after the horizon, and the limit stops early', () => {
    const config = makeConfig();
    const type = config.types.get('meeting');
    assert.ok(type);
    const from = at('2026-12-08T11:10:00Z');
    const slots = availableSlots(config, { type, location: 'office', from, to: at('2026-12-09T10:00:00Z'), taken: new Map() });
    assert.ok(slots.every((s) => s.start.getTime() >= from && s.start.getTime() <= at('2026-12-09T10:00:00Z')));
    assert.equal(formatClock(slots[0]?.start ?? new Date(0)), '11:30');
    assert.equal(availableSlots(config, { type, location: 'office', from, to: at('2027-01-08T00:00:00Z'), taken: new Map(), limit: 6 }).length, 6);
  });
});
