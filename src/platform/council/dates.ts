/** Councils in Great Britain keep UK time; dates residents see and give are days in it. */
export const UK_TIME_ZONE = 'Europe/London';
const UK_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: UK_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** The day (YYYY-MM-DD) a moment falls on in UK time: today by default. The formatter is made once, as making one costs more than a page. */
export function ukDay(at: Date = new Date()): string {
  return UK_DAY.format(at);
}

/** The instant a local date begins in the time zone: what "opened on 3 March" means to an officer. */
export function startOfLocalDay(day: string, timeZone: string): Date {
  const dayNumber = parseCalendarDate(day);
  if (dayNumber === undefined) throw new RangeError(`"${day}" is not a date`);
  return new Date(localToInstant(dayNumber, 0, timeZone));
}

// ---------------------------------------------------------------------------------------------
// A "day number" counts local calendar days from 1970-01-01, so moving from one day to the next
// is plain arithmetic and the time zone is only consulted at the edges.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Day number of a real YYYY-MM-DD date, or undefined for anything else (such as 2026-02-30). */
export function parseCalendarDate(value: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 30 February over into March, so a real date is one that comes back unchanged.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date.getTime() / DAY_MS;
}

interface ZoneCache {
  format: Intl.DateTimeFormat;
  /** Offset in minutes by UTC day; null for a day with a clock change, which is looked up by the hour. */
  offsetByDay: Map<number, number | null>;
  /** Offset in minutes by UTC hour, for hours with no clock change inside them. */
  offsetByHour: Map<number, number>;
}

const zoneCaches = new Map<string, ZoneCache>();
/** Bounds the memory used by long-running processes; a cleared cache simply refills. */
const MAX_CACHED_ENTRIES = 50_000;

function zoneCache(timeZone: string): ZoneCache {
  let cache = zoneCaches.get(timeZone);
  if (!cache) {
    const format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    cache = { format, offsetByDay: new Map(), offsetByHour: new Map() };
    zoneCaches.set(timeZone, cache);
  }
  return cache;
}

/** Minutes the zone's wall clock is ahead of UTC at an instant, read from Intl rather than assumed. */
function exactOffsetMinutes(format: Intl.DateTimeFormat, instant: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  const wholeSecond = Math.floor(instant / 1000) * 1000;
  return Math.round((wall - wholeSecond) / MINUTE_MS);
}

/**
 * Minutes the zone's wall clock is ahead of UTC at an instant (epoch milliseconds). Offsets are
 * cached for a whole UTC day, or hour, when the offset is the same at both ends of it: clocks
 * change at most once in a day, so that means no change inside it. Only the instants close to a
 * change are worked out exactly.
 */
export function offsetMinutes(instant: number, timeZone: string): number {
  const cache = zoneCache(timeZone);
  const day = Math.floor(instant / DAY_MS);
  let dayOffset = cache.offsetByDay.get(day);
  if (dayOffset === undefined) {
    const atStart = exactOffsetMinutes(cache.format, day * DAY_MS);
    dayOffset = atStart === exactOffsetMinutes(cache.format, (day + 1) * DAY_MS - 1) ? atStart : null;
    if (cache.offsetByDay.size >= MAX_CACHED_ENTRIES) cache.offsetByDay.clear();
    cache.offsetByDay.set(day, dayOffset);
  }
  if (dayOffset !== null) return dayOffset;
  const hour = Math.floor(instant / HOUR_MS);
  const known = cache.offsetByHour.get(hour);
  if (known !== undefined) return known;
  const atStart = exactOffsetMinutes(cache.format, hour * HOUR_MS);
  const atEnd = exactOffsetMinutes(cache.format, (hour + 1) * HOUR_MS - 1);
  if (atStart !== atEnd) return exactOffsetMinutes(cache.format, instant);
  if (cache.offsetByHour.size >= MAX_CACHED_ENTRIES) cache.offsetByHour.clear();
  cache.offsetByHour.set(hour, atStart);
  return atStart;
}

/**
 * The UTC instant (epoch milliseconds) of a local wall-clock time, given as a day number and
 * minutes after local midnight. When the clocks go forward the missing time is read as if the
 * clocks had not changed yet (01:30 becomes 02:30 summer time); when they go back the repeated
 * time is taken the first time it happens.
 */
export function localToInstant(dayNumber: number, minutes: number, timeZone: string): number {
  const wall = dayNumber * DAY_MS + minutes * MINUTE_MS;
  const offsetBefore = offsetMinutes(wall - DAY_MS, timeZone);
  const offsetAfter = offsetMinutes(wall + DAY_MS, timeZone);
  const before = wall - offsetBefore * MINUTE_MS;
  if (offsetBefore === offsetAfter) return before;
  const after = wall - offsetAfter * MINUTE_MS;
  const beforeFits = offsetMinutes(before, timeZone) === offsetBefore;
  const afterFits = offsetMinutes(after, timeZone) === offsetAfter;
  if (beforeFits && afterFits) return Math.min(before, after);
  if (afterFits) return after;
  return before;
}
