import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOfLocalDay } from '#platform/council/dates';
import {
  isCalendarDate,
  addWorkingTime,
  dueSoonBoundary,
  isWorkingDay,
  loadWorkingCalendar,
  slaState,
  SlaTargetSchema,
  workingCalendar,
  workingDaysLabel,
  workingMillisBetween,
  WorkingTimeSchema,
  type SlaTarget,
  type WorkingCalendar,
} from './sla.js';

const councilDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../council');

const settings = {
  timeZone: 'Europe/London',
  workingDays: [1, 2, 3, 4, 5],
  dayStart: '09:00',
  dayEnd: '17:00',
  dueSoonWithin: { amount: 1, unit: 'working-days' },
  // Only the bank holidays the tests below rely on, so the tests do not depend on the shipped file.
  bankHolidays: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28', '2027-01-01'],
};

const cal = workingCalendar(settings);
const HOUR = 3_600_000;

const days = (amount: number): SlaTarget => ({ amount, unit: 'working-days' });
const hours = (amount: number): SlaTarget => ({ amount, unit: 'working-hours' });

function due(start: string, target: SlaTarget, calendar: WorkingCalendar = cal): string {
  return addWorkingTime(new Date(start), target, calendar).toISOString();
}

function between(from: string, to: string, calendar: WorkingCalendar = cal): number {
  return workingMillisBetween(new Date(from), new Date(to), calendar);
}

/** Every way the settings can be wrong, as the list of messages the calendar reports. */
function problemsWith(overrides: Record<string, unknown>): string {
  try {
    workingCalendar({ ...settings, ...overrides });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail('expected the settings to be refused');
}

// --- Adding working time (January 2026 is GMT, so local time equals UTC) -----------------------

test('hours added within a working day stay on that day', () => {
  assert.equal(due('2026-01-12T10:00:00Z', hours(4)), '2026-01-12T14:00:00.000Z');
  assert.equal(due('2026-01-12T09:00:00Z', hours(1)), '2026-01-12T10:00:00.000Z');
});

test('five working days from Monday 10:00 is the next Monday at 10:00', () => {
  assert.equal(due('2026-01-12T10:00:00Z', days(5)), '2026-01-19T10:00:00.000Z');
});

test('hours that run past Friday afternoon carry over the weekend', () => {
  assert.equal(due('2026-01-16T16:00:00Z', hours(2)), '2026-01-19T10:00:00.000Z');
  assert.equal(due('2026-01-15T15:00:00Z', days(2)), '2026-01-19T15:00:00.000Z');
});

test('a Friday afternoon case skips a Monday bank holiday', () => {
  // 4 May 2026 is the early May bank holiday; BST, so 16:00 local is 15:00Z.
  assert.equal(due('2026-05-01T15:00:00Z', hours(2)), '2026-05-05T09:00:00.000Z');
});

test('work arriving on a Saturday or Sunday starts on Monday morning', () => {
  assert.equal(due('2026-01-17T12:00:00Z', days(1)), '2026-01-19T17:00:00.000Z');
  assert.equal(due('2026-01-18T23:59:00Z', hours(1)), '2026-01-19T10:00:00.000Z');
});

test('work arriving after 17:00 starts the next working morning', () => {
  assert.equal(due('2026-01-13T18:30:00Z', hours(1)), '2026-01-14T10:00:00.000Z');
  assert.equal(due('2026-01-13T17:00:00Z', hours(1)), '2026-01-14T10:00:00.000Z');
  assert.equal(due('2026-01-16T17:30:00Z', days(1)), '2026-01-19T17:00:00.000Z');
});

test('work arriving before 09:00 starts at 09:00 the same day', () => {
  assert.equal(due('2026-01-13T07:15:00Z', hours(1)), '2026-01-13T10:00:00.000Z');
  assert.equal(due('2026-01-13T00:00:00Z', days(1)), '2026-01-13T17:00:00.000Z');
});

test('a target that ends exactly at the close of a working day is due at 17:00, not the next morning', () => {
  assert.equal(due('2026-01-13T09:00:00Z', days(1)), '2026-01-13T17:00:00.000Z');
  assert.equal(due('2026-01-13T13:00:00Z', hours(4)), '2026-01-13T17:00:00.000Z');
  assert.equal(due('2026-01-12T09:00:00Z', days(5)), '2026-01-16T17:00:00.000Z');
});

test('fractional targets are counted to the minute', () => {
  assert.equal(due('2026-01-13T10:00:00Z', hours(0.5)), '2026-01-13T10:30:00.000Z');
  assert.equal(due('2026-01-13T16:45:00Z', hours(0.5)), '2026-01-14T09:15:00.000Z');
  assert.equal(due('2026-01-13T09:00:00Z', hours(1.25)), '2026-01-13T10:15:00.000Z');
  assert.equal(due('2026-01-13T09:00:00Z', days(0.5)), '2026-01-13T13:00:00.000Z');
  assert.equal(due('2026-01-16T15:00:00Z', days(1.5)), '2026-01-20T11:00:00.000Z');
});

// --- Bank holidays ----------------------------------------------------------------------------

test('Good Friday and Easter Monday 2026 are skipped', () => {
  // Thursday 2 April 15:00 BST; Friday 3 and Monday 6 April are bank holidays.
  assert.equal(due('2026-04-02T14:00:00Z', days(1)), '2026-04-07T14:00:00.000Z');
  assert.equal(due('2026-04-02T15:00:00Z', hours(2)), '2026-04-07T09:00:00.000Z');
  assert.equal(due('2026-04-03T10:00:00Z', hours(1)), '2026-04-07T09:00:00.000Z');
});

test('Christmas 2026 is skipped, including the substitute day for Boxing Day on Monday 28 December', () => {
  assert.equal(due('2026-12-24T12:00:00Z', days(1)), '2026-12-29T12:00:00.000Z');
  assert.equal(due('2026-12-24T16:00:00Z', hours(2)), '2026-12-29T10:00:00.000Z');
  // New Year's Day 2027 is a Friday, so the next working day after Thursday 31 December is Monday 4 January.
  assert.equal(due('2026-12-29T09:00:00Z', days(3)), '2026-12-31T17:00:00.000Z');
  assert.equal(due('2026-12-29T09:00:00Z', days(4)), '2027-01-04T17:00:00.000Z');
});

// --- Clock changes ----------------------------------------------------------------------------

test('across the clocks going forward on 29 March 2026, 09:00 moves from 09:00Z to 08:00Z', () => {
  // Friday 27 March is GMT, Monday 30 March is BST.
  assert.equal(due('2026-03-27T16:00:00Z', hours(2)), '2026-03-30T09:00:00.000Z');
  assert.equal(due('2026-03-27T09:00:00Z', days(2)), '2026-03-30T16:00:00.000Z');
  assert.equal(due('2026-03-28T12:00:00Z', hours(1)), '2026-03-30T09:00:00.000Z');
  assert.equal(due('2026-03-29T12:00:00Z', days(1)), '2026-03-30T16:00:00.000Z');
  // Thursday 26 March 12:00 GMT plus five working days is Thursday 2 April 12:00 BST.
  assert.equal(due('2026-03-26T12:00:00Z', days(5)), '2026-04-02T11:00:00.000Z');
});

test('across the clocks going back on 25 October 2026, 09:00 moves from 08:00Z to 09:00Z', () => {
  // Friday 23 October is BST, Monday 26 October is GMT.
  assert.equal(due('2026-10-23T15:00:00Z', hours(2)), '2026-10-26T10:00:00.000Z');
  assert.equal(due('2026-10-23T08:00:00Z', days(2)), '2026-10-26T17:00:00.000Z');
  assert.equal(due('2026-10-25T07:00:00Z', hours(1)), '2026-10-26T10:00:00.000Z');
  assert.equal(due('2026-10-22T11:00:00Z', days(3)), '2026-10-27T12:00:00.000Z');
});

test('another time zone keeps its own working day and clock change', () => {
  const newYork = workingCalendar({ ...settings, timeZone: 'America/New_York', bankHolidays: [] });
  // US clocks go forward on Sunday 8 March 2026: 09:00 is 14:00Z before and 13:00Z after.
  assert.equal(due('2026-03-06T22:30:00Z', hours(1), newYork), '2026-03-09T14:00:00.000Z');
  assert.equal(due('2026-03-06T21:00:00Z', hours(1), newYork), '2026-03-06T22:00:00.000Z');
  assert.equal(due('2026-03-06T14:00:00Z', hours(1), newYork), '2026-03-06T15:00:00.000Z');
});

test('a working day that starts in a missing or repeated hour is read sensibly', () => {
  const nights = workingCalendar({ ...settings, workingDays: [1, 2, 3, 4, 5, 6, 7], dayStart: '01:30', dayEnd: '03:00', bankHolidays: [] });
  // 01:30 does not exist on 29 March 2026: the day starts at 02:30 BST (01:30Z) and ends at 03:00 BST.
  assert.equal(due('2026-03-29T00:00:00Z', hours(0.25), nights), '2026-03-29T01:45:00.000Z');
  assert.equal(between('2026-03-29T00:00:00Z', '2026-03-29T12:00:00Z', nights), 0.5 * HOUR);
  // 01:30 happens twice on 25 October 2026: the day starts the first time (00:30Z) and runs to 03:00 GMT.
  assert.equal(due('2026-10-25T00:00:00Z', hours(0.25), nights), '2026-10-25T00:45:00.000Z');
  assert.equal(between('2026-10-25T00:00:00Z', '2026-10-25T12:00:00Z', nights), 2.5 * HOUR);
});

test('adding refuses a negative amount or an invalid start', () => {
  assert.throws(() => addWorkingTime(new Date('2026-01-12T10:00:00Z'), hours(-1), cal), RangeError);
  assert.throws(() => addWorkingTime(new Date('not a date'), hours(1), cal), RangeError);
});

test('large targets are counted without stepping through every minute', () => {
  // 1000 working days is four years or so of weekdays; this must finish promptly.
  const started = performance.now();
  const result = addWorkingTime(new Date('2026-01-12T09:00:00Z'), days(1000), cal);
  assert.ok(performance.now() - started < 1000);
  assert.equal(between('2026-01-12T09:00:00Z', result.toISOString()), 1000 * 8 * HOUR);
});

// --- Working time elapsed ---------------------------------------------------------------------

test('working time between two moments counts only working hours', () => {
  assert.equal(between('2026-01-12T10:00:00Z', '2026-01-12T12:30:00Z'), 2.5 * HOUR);
  assert.equal(between('2026-01-12T07:00:00Z', '2026-01-12T20:00:00Z'), 8 * HOUR);
  assert.equal(between('2026-01-12T09:00:00Z', '2026-01-19T09:00:00Z'), 40 * HOUR);
});

test('working time between skips the weekend and bank holidays', () => {
  assert.equal(between('2026-01-16T16:00:00Z', '2026-01-19T10:00:00Z'), 2 * HOUR);
  assert.equal(between('2026-04-02T15:00:00Z', '2026-04-07T09:00:00Z'), 2 * HOUR);
  assert.equal(between('2026-12-24T09:00:00Z', '2026-12-29T17:00:00Z'), 16 * HOUR);
  assert.equal(between('2026-01-17T00:00:00Z', '2026-01-18T23:59:59Z'), 0);
});

test('working time between is right across a clock change', () => {
  assert.equal(between('2026-03-27T16:00:00Z', '2026-03-30T09:00:00Z'), 2 * HOUR);
  assert.equal(between('2026-10-23T15:00:00Z', '2026-10-26T10:00:00Z'), 2 * HOUR);
});

test('working time between is 0 when the end is not after the start', () => {
  assert.equal(between('2026-01-12T12:00:00Z', '2026-01-12T12:00:00Z'), 0);
  assert.equal(between('2026-01-12T12:00:00Z', '2026-01-12T10:00:00Z'), 0);
});

test('working time between a start and its due date is the target itself', () => {
  const starts = ['2026-01-16T16:20:00Z', '2026-03-27T11:00:00Z', '2026-04-02T14:00:00Z', '2026-10-23T12:00:00Z', '2026-12-24T16:59:00Z'];
  for (const start of starts) {
    for (const target of [hours(0.5), hours(3), days(1), days(7)]) {
      const expected = target.unit === 'working-days' ? target.amount * 8 * HOUR : target.amount * HOUR;
      assert.equal(between(start, due(start, target)), expected, `${start} + ${workingDaysLabel(target)}`);
    }
  }
});

// --- SLA state --------------------------------------------------------------------------------

test('the SLA state of an open case', () => {
  const now = new Date('2026-01-12T10:00:00Z'); // Monday; due soon means by Tuesday 10:00
  assert.equal(slaState(null, now, cal), null);
  assert.equal(slaState(new Date('2026-01-14T12:00:00Z'), now, cal), 'on-track');
  assert.equal(slaState(new Date('2026-01-13T10:00:01Z'), now, cal), 'on-track');
  assert.equal(slaState(new Date('2026-01-13T10:00:00Z'), now, cal), 'due-soon');
  assert.equal(slaState(new Date('2026-01-12T16:00:00Z'), now, cal), 'due-soon');
  assert.equal(slaState(new Date('2026-01-12T10:00:00Z'), now, cal), 'due-soon');
  assert.equal(slaState(new Date('2026-01-12T09:59:59Z'), now, cal), 'breached');
  assert.equal(slaState(new Date('2026-01-09T17:00:00Z'), now, cal, null), 'breached');
});

test('the SLA state of a closed case depends only on when it closed', () => {
  const now = new Date('2026-02-02T10:00:00Z');
  const dueAt = new Date('2026-01-14T17:00:00Z');
  assert.equal(slaState(dueAt, now, cal, new Date('2026-01-15T09:00:00Z')), 'breached');
  assert.equal(slaState(dueAt, now, cal, new Date('2026-01-14T16:00:00Z')), 'on-track');
  assert.equal(slaState(dueAt, now, cal, dueAt), 'on-track');
  // Closed on time while the due date was near: not due soon, because nothing is left to do.
  assert.equal(slaState(dueAt, new Date('2026-01-14T12:00:00Z'), cal, new Date('2026-01-14T12:00:00Z')), 'on-track');
  assert.equal(slaState(null, now, cal, new Date('2026-01-15T09:00:00Z')), null);
});

test('due soon looks ahead in working time, so on Friday it reaches into Monday', () => {
  assert.equal(dueSoonBoundary(new Date('2026-01-16T15:00:00Z'), cal).toISOString(), '2026-01-19T15:00:00.000Z');
  assert.equal(slaState(new Date('2026-01-19T12:00:00Z'), new Date('2026-01-16T15:00:00Z'), cal), 'due-soon');
  const withinTwoHours = { ...cal, dueSoonWithin: hours(2) };
  assert.equal(dueSoonBoundary(new Date('2026-01-16T16:00:00Z'), withinTwoHours).toISOString(), '2026-01-19T10:00:00.000Z');
});

// --- Labels and working days ------------------------------------------------------------------

test('targets are described in plain words', () => {
  assert.equal(workingDaysLabel(days(5)), '5 working days');
  assert.equal(workingDaysLabel(days(1)), '1 working day');
  assert.equal(workingDaysLabel(hours(4)), '4 working hours');
  assert.equal(workingDaysLabel(hours(1)), '1 working hour');
  assert.equal(workingDaysLabel(hours(0.5)), '0.5 working hours');
});

test('working days are weekdays that are not bank holidays', () => {
  assert.equal(isWorkingDay('2026-01-12', cal), true);
  assert.equal(isWorkingDay('2026-01-17', cal), false);
  assert.equal(isWorkingDay('2026-01-18', cal), false);
  assert.equal(isWorkingDay('2026-12-28', cal), false);
  assert.equal(isWorkingDay('2026-12-29', cal), true);
  assert.throws(() => isWorkingDay('2026-02-30', cal), RangeError);
});

// --- Settings ---------------------------------------------------------------------------------

test('the settings are turned into a calendar', () => {
  assert.equal(cal.timeZone, 'Europe/London');
  assert.deepEqual([...cal.workingDays], [1, 2, 3, 4, 5]);
  assert.equal(cal.dayStartMinutes, 9 * 60);
  assert.equal(cal.dayEndMinutes, 17 * 60);
  assert.deepEqual(cal.dueSoonWithin, days(1));
  assert.equal(cal.bankHolidays.has('2026-12-28'), true);
});

test('times must be on the 24-hour clock and the day must start before it ends', () => {
  assert.match(problemsWith({ dayStart: '9:00' }), /dayStart: must be a time on the 24-hour clock/);
  assert.match(problemsWith({ dayEnd: '24:00' }), /dayEnd: must be a time on the 24-hour clock/);
  assert.match(problemsWith({ dayStart: '09:60' }), /dayStart: must be a time/);
  assert.match(problemsWith({ dayStart: '18:00' }), /dayEnd: must be later than dayStart \(18:00\)/);
  assert.match(problemsWith({ dayStart: '17:00' }), /dayEnd: must be later than dayStart/);
});

test('bank holidays must be real dates', () => {
  assert.match(problemsWith({ bankHolidays: ['2026-02-30'] }), /bankHolidays\.0: 2026-02-30 is not a real date/);
  assert.match(problemsWith({ bankHolidays: ['2026-12-25', '25/12/2026'] }), /bankHolidays\.1: 25\/12\/2026 is not a real date/);
  assert.match(problemsWith({ bankHolidays: ['2026-12-25', '2026-12-25'] }), /bankHolidays: must not list the same date twice/);
  assert.doesNotThrow(() => workingCalendar({ ...settings, bankHolidays: ['2028-02-29'] }));
  assert.match(problemsWith({ bankHolidays: ['2027-02-29'] }), /not a real date/);
});

test('the time zone must be one the system knows', () => {
  assert.match(problemsWith({ timeZone: 'Europe/Atlantis' }), /timeZone: Europe\/Atlantis is not a time zone/);
  assert.match(problemsWith({ timeZone: '' }), /timeZone: .*not a time zone/);
});

test('working days must be a non-empty list of distinct ISO weekdays', () => {
  assert.match(problemsWith({ workingDays: [] }), /workingDays: must list at least one working day/);
  assert.match(problemsWith({ workingDays: [0, 1] }), /workingDays\.0: must be 1 \(Monday\) to 7 \(Sunday\)/);
  assert.match(problemsWith({ workingDays: [1, 8] }), /workingDays\.1: must be 1 \(Monday\) to 7 \(Sunday\)/);
  assert.match(problemsWith({ workingDays: [1.5] }), /workingDays\.0: must be a whole number/);
  assert.match(problemsWith({ workingDays: [1, 1] }), /workingDays: must not list the same day twice/);
});

test('unknown settings and bad targets are refused, with every problem listed at once', () => {
  assert.match(problemsWith({ workingHours: 8 }), /unknown setting "workingHours"/);
  const message = problemsWith({ dayStart: 'nine', dueSoonWithin: { amount: 0, unit: 'working-weeks' } });
  assert.match(message, /^Working time settings are not valid:/);
  assert.match(message, /dayStart: must be a time/);
  assert.match(message, /dueSoonWithin\.amount: must be more than 0/);
  assert.match(message, /dueSoonWithin\.unit: must be "working-days" or "working-hours"/);
  assert.throws(() => workingCalendar(null), /must be an object/);
});

test('an SLA target is a positive amount of up to 1000 working days or hours', () => {
  assert.equal(SlaTargetSchema.safeParse({ amount: 5, unit: 'working-days' }).success, true);
  assert.equal(SlaTargetSchema.safeParse({ amount: 0.5, unit: 'working-hours' }).success, true);
  assert.equal(SlaTargetSchema.safeParse({ amount: 1000, unit: 'working-hours' }).success, true);
  assert.equal(SlaTargetSchema.safeParse({ amount: 0, unit: 'working-days' }).success, false);
  assert.equal(SlaTargetSchema.safeParse({ amount: -1, unit: 'working-days' }).success, false);
  assert.equal(SlaTargetSchema.safeParse({ amount: 1001, unit: 'working-days' }).success, false);
  assert.equal(SlaTargetSchema.safeParse({ amount: '5', unit: 'working-days' }).success, false);
  assert.equal(SlaTargetSchema.safeParse({ amount: 5, unit: 'days' }).success, false);
  assert.equal(SlaTargetSchema.safeParse({ amount: 5, unit: 'working-days', extra: true }).success, false);
});

test('the council working time file loads and lists the bank holidays, with their substitute days', () => {
  const shipped = loadWorkingCalendar(councilDir);
  assert.equal(shipped.timeZone, 'Europe/London');
  for (const date of ['2026-12-25', '2026-12-28', '2027-12-27', '2027-12-28', '2026-04-03', '2026-04-06', '2028-01-03']) {
    assert.equal(shipped.bankHolidays.has(date), true, date);
  }
  for (const date of ['2026-12-26', '2027-12-25', '2027-12-26', '2028-01-01']) {
    assert.equal(shipped.bankHolidays.has(date), false, `${date} falls on a weekend and is replaced by a substitute day`);
  }
  for (const year of ['2025', '2026', '2027', '2028']) {
    const inYear = [...shipped.bankHolidays].filter((date) => date.startsWith(year));
    assert.equal(inYear.length, 8, `${year} has eight bank holidays`);
    for (const date of inYear) assert.equal(isWorkingDay(date, { ...shipped, bankHolidays: new Set() }), true, `${date} is a weekday`);
  }
  assert.equal(WorkingTimeSchema.safeParse({ ...settings, bankHolidays: [...shipped.bankHolidays] }).success, true);
});

test('a missing council working time file names the file', () => {
  assert.throws(() => loadWorkingCalendar(path.join(councilDir, 'no-such-folder')), /working-time\.json could not be read/);
});

test('a local date starts at local midnight, in summer time too', () => {
  assert.equal(startOfLocalDay('2026-01-10', 'Europe/London').toISOString(), '2026-01-10T00:00:00.000Z');
  assert.equal(startOfLocalDay('2026-07-01', 'Europe/London').toISOString(), '2026-06-30T23:00:00.000Z');
  assert.equal(startOfLocalDay('2026-03-29', 'Europe/London').toISOString(), '2026-03-29T00:00:00.000Z', 'the clocks go forward later that night');
  assert.equal(startOfLocalDay('2026-10-25', 'Europe/London').toISOString(), '2026-10-24T23:00:00.000Z', 'the clocks go back later that night');
  assert.equal(isCalendarDate('2026-02-30'), false);
  assert.throws(() => startOfLocalDay('2026-02-30', 'Europe/London'), RangeError);
});
