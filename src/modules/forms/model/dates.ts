/** Calendar dates as ISO strings (YYYY-MM-DD), free of time zones: the runner decides what "today" is. */

export interface DateOffset {
  days?: number | undefined;
  weeks?: number | undefined;
  months?: number | undefined;
  years?: number | undefined;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isRealDate(year: number, month: number, day: number): boolean {
  return Number.isInteger(year) && Number.isInteger(month) && Number.isInteger(day) && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  return isRealDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

export function toIsoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function parts(iso: string): [number, number, number] {
  const [year = '0', month = '1', day = '1'] = iso.split('-');
  return [Number(year), Number(month), Number(day)];
}

/**
 * Moves a date by years and months first (keeping the day, or the last day of a shorter month:
 * 31 January plus one month is 28 or 29 February), then by weeks and days.
 */
export function shiftDate(iso: string, offset: DateOffset): string {
  const [year, month, day] = parts(iso);
  const totalMonths = year * 12 + (month - 1) + (offset.years ?? 0) * 12 + (offset.months ?? 0);
  const newYear = Math.floor(totalMonths / 12);
  const newMonth = totalMonths - newYear * 12 + 1;
  const clampedDay = Math.min(day, daysInMonth(newYear, newMonth));
  const shifted = new Date(Date.UTC(newYear, newMonth - 1, clampedDay));
  shifted.setUTCDate(shifted.getUTCDate() + (offset.weeks ?? 0) * 7 + (offset.days ?? 0));
  return toIsoDate(shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate());
}

/** "1 January 2024", as GOV.UK writes dates. */
export function formatDate(iso: string): string {
  const [year, month, day] = parts(iso);
  return `${day} ${MONTH_NAMES[month - 1] ?? ''} ${year}`;
}

/** Month number from "3", "03", "mar" or "March". */
export function parseMonth(input: string): number | undefined {
  const text = input.trim().toLowerCase();
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const index = MONTH_NAMES.findIndex((name) => text.length >= 3 && name.toLowerCase().startsWith(text));
  return index === -1 ? undefined : index + 1;
}
