// A small iCalendar (RFC 5545) writer: the .ics attached to booking emails and the private feed
// each staff calendar subscribes to. Times are always written in UTC so no VTIMEZONE is needed and
// every calendar shows the booking at the right local time, whatever its owner's time zone.

export interface CalendarEvent {
  /** Stable for the life of a booking, e.g. `${bookingId}@${host}`, so updates replace the event rather than add one. */
  uid: string;
  start: Date;
  end: Date;
  summary: string;
  description?: string;
  location?: string;
  url?: string;
  status: 'CONFIRMED' | 'CANCELLED' | 'TENTATIVE';
  /** Goes up each time a booking is moved or cancelled; calendars ignore a change whose sequence has not increased. */
  sequence: number;
  /** Written as both DTSTAMP and LAST-MODIFIED. */
  updatedAt: Date;
  organizer?: { name: string; email: string };
  /** A display reminder for each entry, that many minutes before the start. */
  alarmsMinutesBefore?: number[];
}

export interface CalendarOptions {
  /** PRODID, e.g. `-//Borough Council//Appointments//EN`. */
  productId: string;
  /** Shown by calendar apps as the name of a subscribed feed. */
  name?: string;
  /** PUBLISH for feeds; REQUEST or CANCEL for an invitation sent by email. */
  method?: 'PUBLISH' | 'REQUEST' | 'CANCEL';
}

const CRLF = '\r\n';
/** Longest content line in octets, not counting the CRLF. */
const MAX_LINE_OCTETS = 75;

/** The whole calendar as text, CRLF line endings and folded lines; encode it as UTF-8. */
export function calendarFile(events: CalendarEvent[], opts: CalendarOptions): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${escapeText(opts.productId)}`, 'CALSCALE:GREGORIAN'];
  if (opts.method) lines.push(`METHOD:${opts.method}`);
  if (opts.name !== undefined) lines.push(`X-WR-CALNAME:${escapeText(opts.name)}`);
  for (const event of events) lines.push(...eventLines(event));
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join(CRLF) + CRLF;
}

function eventLines(event: CalendarEvent): string[] {
  const start = utcDateTime(event.start, 'start');
  const end = utcDateTime(event.end, 'end');
  if (event.end.getTime() <= event.start.getTime()) throw new RangeError(`event ${event.uid} must end after it starts`);
  if (!Number.isInteger(event.sequence) || event.sequence < 0)
    throw new RangeError(`event ${event.uid} has a sequence that is not a whole number of 0 or more`);
  const stamp = utcDateTime(event.updatedAt, 'updatedAt');

  const lines = [
    'BEGIN:VEVENT',
    `UID:${escapeText(event.uid)}`,
    `DTSTAMP:${stamp}`,
    `DTSTART:${start}`,
    `DTEND:${end}`,
    `SUMMARY:${escapeText(event.summary)}`,
  ];
  if (event.description !== undefined) lines.push(`DESCRIPTION:${escapeText(event.description)}`);
  if (event.location !== undefined) lines.push(`LOCATION:${escapeText(event.location)}`);
  // A URI is not TEXT, so it is not escaped; dropping control characters stops it breaking the line.
  if (event.url !== undefined) lines.push(`URL:${withoutControls(event.url)}`);
  if (event.organizer) lines.push(`ORGANIZER;CN="${quotedParam(event.organizer.name)}":mailto:${withoutControls(event.organizer.email).replace(/\s/g, '')}`);
  lines.push(`STATUS:${event.status}`, `SEQUENCE:${event.sequence}`, `LAST-MODIFIED:${stamp}`);
  for (const minutes of event.alarmsMinutesBefore ?? []) {
    if (!Number.isInteger(minutes) || minutes < 0) throw new RangeError(`event ${event.uid} has a reminder that is not a whole number of minutes of 0 or more`);
    lines.push('BEGIN:VALARM', 'ACTION:DISPLAY', `TRIGGER:-PT${minutes}M`, `DESCRIPTION:${escapeText(event.summary)}`, 'END:VALARM');
  }
  lines.push('END:VEVENT');
  return lines;
}

/** YYYYMMDDTHHMMSSZ; milliseconds are dropped as the format has no place for them. */
function utcDateTime(at: Date, what: string): string {
  if (Number.isNaN(at.getTime())) throw new RangeError(`${what} is not a valid date`);
  const iso = at.toISOString();
  if (iso.length !== 24) throw new RangeError(`${what} is outside the years 0000 to 9999`);
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** TEXT escaping: backslash, semicolon and comma are escaped and any line break becomes \n; other control characters (bar tab) are not allowed so are dropped. */
function escapeText(value: string): string {
  return withoutControls(value.replace(/[\\;,]/g, (char) => `\\${char}`).replace(/\r\n|\r|\n/g, '\\n'));
}

/** A quoted parameter value may hold anything except control characters and double quotes. */
function quotedParam(value: string): string {
  return withoutControls(value).replace(/"/g, '');
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

/** Drops control characters other than tab. */
function withoutControls(value: string): string {
  return value.replace(CONTROLS, '');
}

/** Splits a line into physical lines of at most 75 octets of UTF-8, each after the first starting with a space, never inside a character. */
function foldLine(line: string): string {
  if (Buffer.byteLength(line, 'utf8') <= MAX_LINE_OCTETS) return line;
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  // The leading space of a continuation line counts towards its 75 octets.
  let limit = MAX_LINE_OCTETS;
  for (const char of line) {
    const size = utf8Octets(char);
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = MAX_LINE_OCTETS - 1;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join(`${CRLF} `);
}

/** Octets of one code point in UTF-8; a lone surrogate is written as U+FFFD, three octets. */
function utf8Octets(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code < 0x10000) return 3;
  return 4;
}
