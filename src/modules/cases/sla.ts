// Service level clocks that count working time only: working days and hours in the council's own
// time zone, skipping weekends and bank holidays. All functions are pure apart from the loader.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { localToInstant, offsetMinutes, parseCalendarDate } from '#platform/council/dates';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Stops the clock from searching for ever on a calendar with no working time in reach (say, every weekday a holiday). */
const MAX_DAYS_WITHOUT_WORK = 366;

export type SlaUnit = 'working-days' | 'working-hours';
export type SlaTarget = { amount: number; unit: SlaUnit };
export type SlaState = 'on-track' | 'due-soon' | 'breached';

/** Names stray keys (usually a typo) instead of zod's generic wording. */
function unknownSettings(issue: { code?: string; keys?: string[] }): string {
  return issue.code === 'unrecognized_keys' ? `unknown setting ${(issue.keys ?? []).map((key) => `"${key}"`).join(', ')}` : 'must be an object';
}

export const SlaTargetSchema = z.strictObject(
  {
    amount: z.number('must be a number').positive('must be more than 0').max(1000, 'must be 1000 or less'),
    unit: z.enum(['working-days', 'working-hours'], 'must be "working-days" or "working-hours"'),
  },
  { error: unknownSettings },
);

const clockTime = z.string('must be a time like 09:00').regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time on the 24-hour clock like 09:00 or 17:30');

const calendarDate = z
  .string('must be a date like 2026-12-25')
  .refine((value) => parseCalendarDate(value) !== undefined, { error: (issue) => `${String(issue.input)} is not a real date in the form YYYY-MM-DD` });

const timeZoneName = z.string('must be a time zone name like Europe/London').refine(isKnownTimeZone, {
  error: (issue) => `${String(issue.input)} is not a time zone this system knows (use an IANA name like Europe/London)`,
});

export const WorkingTimeSchema = z
  .strictObject(
    {
      timeZone: timeZoneName,
      workingDays: z
        .array(
          z.number('must be a number').int('must be a whole number').min(1, 'must be 1 (Monday) to 7 (Sunday)').max(7, 'must be 1 (Monday) to 7 (Sunday)'),
          'must be a list of weekday numbers like [1, 2, 3, 4, 5]',
        )
        .min(1, 'must list at least one working day (1 = Monday … 7 = Sunday)')
        .refine((days) => new Set(days).size === days.length, 'must not list the same day twice'),
      dayStart: clockTime,
      dayEnd: clockTime,
      dueSoonWithin: SlaTargetSchema,
      bankHolidays: z
        .array(calendarDate, 'must be a list of dates like ["2026-12-25"]')
        .refine((days) => new Set(days).size === days.length, 'must not list the same date twice'),
    },
    { error: unknownSettings },
  )
  .superRefine((value, ctx) => {
    // Zero-padded HH:MM strings sort in time order, so a string comparison is enough.
    if (value.dayStart >= value.dayEnd) {
      ctx.addIssue({ code: 'custom', path: ['dayEnd'], message: `must be later than dayStart (${value.dayStart})` });
    }
  });

export interface WorkingCalendar {
  timeZone: string;
  /** ISO weekday numbers: 1 = Monday … 7 = Sunday. */
  workingDays: ReadonlySet<number>;
  /** Minutes after local midnight when the working day starts. */
  dayStartMinutes: number;
  /** Minutes after local midnight when the working day ends. */
  dayEndMinutes: number;
  /** Local dates, YYYY-MM-DD. */
  bankHolidays: ReadonlySet<string>;
  dueSoonWithin: SlaTarget;
}

/** Checks working time settings and turns them into a calendar; throws an Error listing every problem. */
export function workingCalendar(input: unknown): WorkingCalendar {
  return toCalendar(input, 'Working time settings are not valid');
}

/** Reads working-time.json from the council folder. */
export function loadWorkingCalendar(councilDir: string): WorkingCalendar {
  const file = path.join(councilDir, 'working-time.json');
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return toCalendar(input, `${file} is not valid`);
}

function toCalendar(input: unknown, heading: string): WorkingCalendar {
  const parsed = WorkingTimeSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`).join('\n');
    throw new Error(`${heading}:\n${problems}`);
  }
  const settings = parsed.data;
  return {
    timeZone: settings.timeZone,
    workingDays: new Set(settings.workingDays),
    dayStartMinutes: clockMinutes(settings.dayStart),
    dayEndMinutes: clockMinutes(settings.dayEnd),
    bankHolidays: new Set(settings.bankHolidays),
    dueSoonWithin: { amount: settings.dueSoonWithin.amount, unit: settings.dueSoonWithin.unit },
  };
}

/** Whether a local date (YYYY-MM-DD) is a working day: one of the working weekdays and not a bank holiday. */
export function isWorkingDay(localDate: string, cal: WorkingCalendar): boolean {
  const dayNumber = parseCalendarDate(localDate);
  if (dayNumber === undefined) throw new RangeError(`${localDate} is not a real date in the form YYYY-MM-DD`);
  return cal.workingDays.has(isoWeekday(dayNumber)) && !cal.bankHolidays.has(localDate);
}

/**
 * The moment a target is met when the clock starts at `start` and runs only in working time.
 * A start outside working time counts from the next working period. A result that falls exactly
 * at the end of a working period is that end (17:00), not the start of the next one. A target of
 * zero gives the moment the clock would start.
 */
export function addWorkingTime(start: Date, target: SlaTarget, cal: WorkingCalendar): Date {
  let remaining = targetMillis(target, cal);
  const from = start.getTime();
  if (!Number.isFinite(from)) throw new RangeError('The start of an SLA clock must be a valid date');
  let daysWithoutWork = 0;
  for (let day = localDayNumber(from, cal.timeZone); daysWithoutWork <= MAX_DAYS_WITHOUT_WORK; day++) {
    const period = workingPeriod(day, cal);
    // The clock starts at the later of the period's start and the moment work arrived.
    const begins = period ? Math.max(period.start, from) : Number.POSITIVE_INFINITY;
    if (period === null || begins >= period.end) {
      daysWithoutWork++;
      continue;
    }
    daysWithoutWork = 0;
    const available = period.end - begins;
    if (remaining <= available) return new Date(begins + remaining);
    remaining -= available;
  }
  throw new RangeError(`The working calendar has no working time in the year after ${start.toISOString()}`);
}

/** Working time between two moments, in milliseconds; 0 when `to` is not after `from`. */
export function workingMillisBetween(from: Date, to: Date, cal: WorkingCalendar): number {
  const start = from.getTime();
  const end = to.getTime();
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return 0;
  const lastDay = localDayNumber(end, cal.timeZone);
  let total = 0;
  for (let day = localDayNumber(start, cal.timeZone); day <= lastDay; day++) {
    const period = workingPeriod(day, cal);
    if (period === null) continue;
    const overlap = Math.min(period.end, end) - Math.max(period.start, start);
    if (overlap > 0) total += overlap;
  }
  return total;
}

/** The latest due date that counts as due soon at `now`; also used to filter lists in SQL. */
export function dueSoonBoundary(now: Date, cal: WorkingCalendar): Date {
  return addWorkingTime(now, cal.dueSoonWithin, cal);
}

/**
 * Where a case stands against its due date. A closed case is breached if it closed late and on
 * track otherwise; only open cases can be due soon. Null when there is no due date.
 */
export function slaState(due: Date | null, now: Date, cal: WorkingCalendar, closedAt?: Date | null): SlaState | null {
  if (due === null) return null;
  const measuredAt = closedAt ?? now;
  if (measuredAt.getTime() > due.getTime()) return 'breached';
  if (closedAt) return 'on-track';
  return due.getTime() <= dueSoonBoundary(now, cal).getTime() ? 'due-soon' : 'on-track';
}

/** Plain words for a target: '5 working days', '1 working hour'. */
export function workingDaysLabel(target: SlaTarget): string {
  const noun = target.unit === 'working-days' ? 'day' : 'hour';
  return `${target.amount} working ${noun}${target.amount === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// Dates and time zones, counted in day numbers: local calendar days from 1970-01-01 (see
// #platform/council/dates).

function clockMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function targetMillis(target: SlaTarget, cal: WorkingCalendar): number {
  if (!Number.isFinite(target.amount) || target.amount < 0) throw new RangeError('An SLA target cannot be a negative amount of working time');
  const unitMillis = target.unit === 'working-days' ? (cal.dayEndMinutes - cal.dayStartMinutes) * MINUTE_MS : HOUR_MS;
  return Math.round(target.amount * unitMillis);
}

/** Whether a string is a real YYYY-MM-DD date (2026-02-30 is not). */
export function isCalendarDate(value: string): boolean {
  return parseCalendarDate(value) !== undefined;
}

function formatDayNumber(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday (1 = Monday … 7 = Sunday); day 0, 1 January 1970, was a Thursday. */
function isoWeekday(dayNumber: number): number {
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function localDayNumber(instant: number, timeZone: string): number {
  return Math.floor((instant + offsetMinutes(instant, timeZone) * MINUTE_MS) / DAY_MS);
}

interface WorkingPeriod {
  start: number;
  end: number;
}

/** Bounds the memory used by long-running processes; a cleared cache simply refills. */
const MAX_CACHED_ENTRIES = 50_000;
/** Working periods by day number, per calendar; null marks a day with no working time. */
const periodCaches = new WeakMap<WorkingCalendar, Map<number, WorkingPeriod | null>>();

function workingPeriod(dayNumber: number, cal: WorkingCalendar): WorkingPeriod | null {
  let cache = periodCaches.get(cal);
  if (!cache) {
    cache = new Map();
    periodCaches.set(cal, cache);
  }
  const known = cache.get(dayNumber);
  if (known !== undefined) return known;
  let period: WorkingPeriod | null = null;
  if (cal.workingDays.has(isoWeekday(dayNumber)) && !cal.bankHolidays.has(formatDayNumber(dayNumber))) {
    period = { start: localToInstant(dayNumber, cal.dayStartMinutes, cal.timeZone), end: localToInstant(dayNumber, cal.dayEndMinutes, cal.timeZone) };
  }
  if (cache.size >= MAX_CACHED_ENTRIES) cache.clear();
  cache.set(dayNumber, period);
  return period;
}
