import { UK_TIME_ZONE } from '#platform/council/dates';

const dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: UK_TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone: UK_TIME_ZONE, hour: 'numeric', minute: '2-digit', hourCycle: 'h12' });
const clockFormat = new Intl.DateTimeFormat('en-GB', { timeZone: UK_TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** GOV.UK style times: "9am", "2:30pm". */
export function formatTime(at: Date): string {
  const parts = timeFormat.formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const minute = get('minute');
  return `${get('hour')}${minute === '00' ? '' : `:${minute}`}${get('dayPeriod').toLowerCase().replace(/[\s.]/g, '')}`;
}

/** "Tuesday 8 December 2026". */
export function formatDay(at: Date): string {
  return dayFormat.format(at).replace(',', '');
}

/** "Tuesday 8 December 2026 at 9:30am". */
export function formatWhen(at: Date): string {
  return `${formatDay(at)} at ${formatTime(at)}`;
}

/** "09:30", for staff calendars. */
export function formatClock(at: Date): string {
  return clockFormat.format(at);
}
