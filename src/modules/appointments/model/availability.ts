// When an appointment type can be booked: pure functions over the configuration and what is
// already taken. Opening hours are wall-clock times in the council's time zone, so each day's hours
// are turned into instants on their own day, which keeps them right across the clock changes.
import { localToInstant, offsetMinutes, UK_TIME_ZONE } from '#platform/council/dates';
import { clockMinutes, GRANULE_MINUTES, WEEKDAY_NAMES, type AppointmentsConfig, type AppointmentType, type Hours } from './config.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
export const GRANULE_MS = GRANULE_MINUTES * MINUTE_MS;

/** Places taken on each resource, by the start of each granule (epoch milliseconds). */
export type Taken = ReadonlyMap<string, ReadonlyMap<number, number>>;

export interface Slot {
  start: Date;
  end: Date;
  /** One resource for each of the type's needs, in order. */
  resources: string[];
  /** Further bookings this slot can take. */
  placesLeft: number;
}

/** The local calendar day (days since 1970-01-01) an instant falls on. */
export function localDayNumber(instant: number, timeZone: string = UK_TIME_ZONE): number {
  return Math.floor((instant + offsetMinutes(instant, timeZone) * MINUTE_MS) / DAY_MS);
}

export function dayNumberToDate(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday of a day number: 1 is Monday. 1970-01-01 was a Thursday. */
function weekdayIndex(dayNumber: number): number {
  return (((dayNumber + 3) % 7) + 7) % 7;
}

function subtract(hours: readonly [number, number][], breaks: readonly [number, number][]): [number, number][] {
  let open = [...hours];
  for (const [from, to] of breaks) {
    open = open.flatMap(([a, b]): [number, number][] => {
      if (to <= a || from >= b) return [[a, b]];
      const parts: [number, number][] = [];
      if (from > a) parts.push([a, from]);
      if (to < b) parts.push([to, b]);
      return parts;
    });
  }
  return open;
}

const minutesOf = (hours: readonly Hours[]): [number, number][] => hours.map((h) => [clockMinutes(h.from), clockMinutes(h.to)]);

/** Whether the location is shut all day: a closure or a bank holiday it does not open on. */
export function closedReason(config: AppointmentsConfig, locationCode: string, date: string): string | undefined {
  const location = config.locations.get(locationCode);
  if (!location) return 'unknown location';
  const closure = location.closures.find((c) => c.from <= date && date <= c.to);
  if (closure) return closure.reason;
  if (config.bankHolidays.has(date) && !location.openOnBankHolidays) return 'Bank holiday';
  return undefined;
}

/**
 * A resource's working time on a local day as instants: its policy's hours for the weekday less
 * the breaks, or a dated override; nothing when its location is closed.
 */
export function workingTime(config: AppointmentsConfig, resourceCode: string, dayNumber: number): [number, number][] {
  const resource = config.resources.get(resourceCode);
  if (!resource) return [];
  const date = dayNumberToDate(dayNumber);
  if (closedReason(config, resource.location, date)) return [];
  const policy = config.policies.get(resource.policy);
  const override = resource.overrides.find((o) => o.date === date);
  const weekday = WEEKDAY_NAMES[weekdayIndex(dayNumber)] ?? 'monday';
  const minutes = override ? minutesOf(override.hours) : subtract(minutesOf(policy?.week[weekday] ?? []), minutesOf(policy?.breaks ?? []));
  return minutes.map(([from, to]) => [localToInstant(dayNumber, from, UK_TIME_ZONE), localToInstant(dayNumber, to, UK_TIME_ZONE)]);
}

/** The time a booking holds its resources: the appointment with its buffers either side. */
export function heldWindow(type: AppointmentType, start: number): { from: number; to: number } {
  return { from: start - type.bufferBeforeMinutes * MINUTE_MS, to: start + (type.lengthMinutes + type.bufferAfterMinutes) * MINUTE_MS };
}

export interface AvailabilityQuery {
  type: AppointmentType;
  location: string;
  /** Earliest start (now plus the minimum notice) and latest start (the booking horizon). */
  from: number;
  to: number;
  taken: Taken;
  /** Stop after this many slots (the "next available" list). */
  limit?: number;
}

/** The type's free slots at a location between two instants, earliest first. */
export function availableSlots(config: AppointmentsConfig, query: AvailabilityQuery): Slot[] {
  const { type, location, from, to, taken } = query;
  const needs = type.needs.map((need) => need.oneOf.filter((code) => config.resources.get(code)?.location === location));
  if (needs.some((candidates) => candidates.length === 0)) return [];
  const limit = query.limit ?? Infinity;
  const slots: Slot[] = [];
  const lengthMs = type.lengthMinutes * MINUTE_MS;
  const firstDay = localDayNumber(from);
  const lastDay = localDayNumber(to);
  for (let day = firstDay; day <= lastDay && slots.length < limit; day++) {
    if (closedReason(config, location, dayNumberToDate(day))) continue;
    const hoursByResource = new Map<string, [number, number][]>();
    for (const candidates of needs) for (const code of candidates) if (!hoursByResource.has(code)) hoursByResource.set(code, workingTime(config, code, day));
    // Start times step from the earliest opening of the first need's resources, in local minutes.
    const openings = (needs[0] ?? []).flatMap((code) => hoursByResource.get(code) ?? []);
    if (openings.length === 0) continue;
    const dayOpens = Math.min(...openings.map(([a]) => a));
    const dayCloses = Math.max(...openings.map(([, b]) => b));
    for (let start = dayOpens; start + lengthMs <= dayCloses && slots.length < limit; start += type.slotEvery * MINUTE_MS) {
      if (start < from || start > to) continue;
      const window = heldWindow(type, start);
      const chosen: string[] = [];
      let placesLeft = Infinity;
      for (const candidates of needs) {
        let found: { code: string; left: number } | undefined;
        for (const code of candidates) {
          const hours = hoursByResource.get(code) ?? [];
          if (!hours.some(([a, b]) => a <= start && start + lengthMs <= b)) continue;
          const left = placesFree(config, code, type, window, taken);
          if (left > 0) {
            found = { code, left };
            break;
          }
        }
        if (!found) break;
        chosen.push(found.code);
        placesLeft = Math.min(placesLeft, found.left);
      }
      if (chosen.length === needs.length) slots.push({ start: new Date(start), end: new Date(start + lengthMs), resources: chosen, placesLeft });
    }
  }
  return slots;
}

/** How many more bookings of the type a resource can take across a window: its places less the most taken in any granule. */
export function placesFree(config: AppointmentsConfig, code: string, type: AppointmentType, window: { from: number; to: number }, taken: Taken): number {
  const capacity = Math.min(config.resources.get(code)?.capacity ?? 0, type.capacityPerSlot);
  const used = taken.get(code);
  let most = 0;
  if (used)
    for (let g = window.from; g < window.to; g += GRANULE_MS) {
      const n = used.get(g) ?? 0;
      if (n > most) most = n;
    }
  return capacity - most;
}

/** Whether a start time is one the type offers at the location on its day (the grid, the hours), ignoring what is taken. */
export function isOfferedStart(config: AppointmentsConfig, type: AppointmentType, location: string, start: number): boolean {
  const slots = availableSlots(config, { type, location, from: start, to: start, taken: new Map() });
  return slots.some((slot) => slot.start.getTime() === start);
}
