import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localToInstant, parseCalendarDate } from '#platform/council/dates';
import { calendarFile, type CalendarEvent } from './ical.js';

const PRODUCT = '-//Borough Council//Appointments//EN';

function londonTime(day: string, time: string): Date {
  const dayNumber = parseCalendarDate(day);
  assert.ok(dayNumber !== undefined, `${day} is not a date`);
  const [hours, minutes] = time.split(':').map(Number);
  return new Date(localToInstant(dayNumber, (hours ?? 0) * 60 + (minutes ?? 0), 'Europe/London'));
}

function booking(overrides: Partial<CalendarEvent> = {}): CalendarEvent {
  return {
    uid: 'b-1001@borough.example',
    start: new Date('2026-03-10T10:00:00Z'),
    end: new Date('2026-03-10T10:30:00Z'),
    summary: 'Blue Badge assessment',
    status: 'CONFIRMED',
    sequence: 0,
    updatedAt: new Date('2026-03-01T12:34:56Z'),
    ...overrides,
  };
}

/** Logical content lines: physical lines joined back up where a CRLF is followed by a space or tab. */
function unfold(text: string): string[] {
  assert.ok(text.endsWith('\r\n'), 'the calendar ends with CRLF');
  return text
    .slice(0, -2)
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n');
}

function physicalLines(text: string): string[] {
  return text.slice(0, -2).split('\r\n');
}

function valueOf(lines: string[], name: string): string {
  const line = lines.find((candidate) => candidate.startsWith(`${name}:`) || candidate.startsWith(`${name};`));
  assert.ok(line !== undefined, `${name} is missing`);
  return line.slice(line.indexOf(':') + 1);
}

describe('calendarFile', () => {
  test('writes a calendar with one event in full', () => {
    const text = calendarFile([booking({ description: 'Bring proof of address', location: 'Town Hall', url: 'https://borough.example/bookings/b-1001' })], {
      productId: PRODUCT,
      method: 'PUBLISH',
    });
    assert.deepEqual(unfold(text), [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      `PRODID:${PRODUCT}`,
      'CALSCALE:GREGORIAN',
      'METHOD:PUBLISH',
      'BEGIN:VEVENT',
      'UID:b-1001@borough.example',
      'DTSTAMP:20260301T123456Z',
      'DTSTART:20260310T100000Z',
      'DTEND:20260310T103000Z',
      'SUMMARY:Blue Badge assessment',
      'DESCRIPTION:Bring proof of address',
      'LOCATION:Town Hall',
      'URL:https://borough.example/bookings/b-1001',
      'STATUS:CONFIRMED',
      'SEQUENCE:0',
      'LAST-MODIFIED:20260301T123456Z',
      'END:VEVENT',
      'END:VCALENDAR',
    ]);
  });

  test('an empty feed is still a complete VCALENDAR', () => {
    const text = calendarFile([], { productId: PRODUCT, name: 'Housing officer diary' });
    assert.equal(
      text,
      ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${PRODUCT}`, 'CALSCALE:GREGORIAN', 'X-WR-CALNAME:Housing officer diary', 'END:VCALENDAR', ''].join('\r\n'),
    );
  });

  test('leaves METHOD and X-WR-CALNAME out unless asked for', () => {
    const lines = unfold(calendarFile([booking()], { productId: PRODUCT }));
    assert.ok(!lines.some((line) => line.startsWith('METHOD')));
    assert.ok(!lines.some((line) => line.startsWith('X-WR-CALNAME')));
  });

  test('uses CRLF for every line break and no bare CR or LF', () => {
    const text = calendarFile(
      [
        booking({ description: 'Line one\nLine two\r\nLine three\rLine four', alarmsMinutesBefore: [60] }),
        booking({ uid: 'b-1002@borough.example', summary: 'x'.repeat(300) }),
      ],
      { productId: PRODUCT, name: 'Diary', method: 'PUBLISH' },
    );
    assert.ok(text.endsWith('END:VCALENDAR\r\n'));
    const withoutCrlf = text.replace(/\r\n/g, '');
    assert.ok(!withoutCrlf.includes('\r'), 'no bare CR');
    assert.ok(!withoutCrlf.includes('\n'), 'no bare LF');
  });

  test('escapes TEXT values', () => {
    const lines = unfold(
      calendarFile(
        [
          booking({
            uid: 'b-1;2,3@borough.example',
            summary: 'Council tax; arrears, payment plan',
            description: 'Path C:\\forms\\CT1\nSecond line\r\nThird line\rFourth',
            location: 'Room 2, Civic Centre; Level 1',
          }),
        ],
        { productId: '-//Borough, Council//EN', name: 'Rates; and, more' },
      ),
    );
    assert.equal(valueOf(lines, 'UID'), 'b-1\\;2\\,3@borough.example');
    assert.equal(valueOf(lines, 'SUMMARY'), 'Council tax\\; arrears\\, payment plan');
    assert.equal(valueOf(lines, 'DESCRIPTION'), 'Path C:\\\\forms\\\\CT1\\nSecond line\\nThird line\\nFourth');
    assert.equal(valueOf(lines, 'LOCATION'), 'Room 2\\, Civic Centre\\; Level 1');
    assert.equal(valueOf(lines, 'PRODID'), '-//Borough\\, Council//EN');
    assert.equal(valueOf(lines, 'X-WR-CALNAME'), 'Rates\\; and\\, more');
  });

  test('drops control characters other than tab from text', () => {
    const lines = unfold(calendarFile([booking({ summary: 'Bell\u0007 and\ttab\u007f' })], { productId: PRODUCT }));
    assert.equal(valueOf(lines, 'SUMMARY'), 'Bell and\ttab');
  });

  test('does not escape a URL but stops it breaking the line', () => {
    const lines = unfold(calendarFile([booking({ url: 'https://borough.example/b?a=1,2;x\r\nSTATUS:CANCELLED' })], { productId: PRODUCT }));
    assert.equal(valueOf(lines, 'URL'), 'https://borough.example/b?a=1,2;xSTATUS:CANCELLED');
    assert.deepEqual(
      lines.filter((line) => line.startsWith('STATUS')),
      ['STATUS:CONFIRMED'],
    );
  });

  test('quotes the organiser name and strips what a quoted parameter cannot hold', () => {
    const lines = unfold(
      calendarFile([booking({ organizer: { name: 'Pat "PJ" O\'Neil, Housing;\nTeam', email: 'housing@borough.example\r\n' } })], { productId: PRODUCT }),
    );
    assert.ok(lines.includes('ORGANIZER;CN="Pat PJ O\'Neil, Housing;Team":mailto:housing@borough.example'), lines.join('\n'));
  });

  test('folds long lines at 75 octets without splitting a character, and unfolding restores the text', () => {
    // Every offset, so that each multi-byte character lands across the 75-octet boundary at some point.
    let foldedShortOfTheLimit = 0;
    for (let pad = 0; pad < 6; pad += 1) {
      const description = `${'a'.repeat(pad)}${'Café — résumé ✓ 🗓 '.repeat(12)}done`;
      const text = calendarFile([booking({ description })], { productId: PRODUCT });
      const physical = physicalLines(text);
      for (const line of physical) {
        assert.ok(Buffer.byteLength(line, 'utf8') <= 75, `line of ${Buffer.byteLength(line, 'utf8')} octets: ${line}`);
        assert.ok(!line.includes('\uFFFD'));
      }
      const continuations = physical.filter((line) => line.startsWith(' '));
      assert.ok(continuations.length >= 3, 'the description was folded');
      // Folds fill each line, so only the last physical line of the description may be short.
      const descriptionStart = physical.findIndex((line) => line.startsWith('DESCRIPTION:'));
      const folded = physical.slice(descriptionStart, descriptionStart + continuations.length);
      for (const line of folded) {
        const octets = Buffer.byteLength(line, 'utf8');
        assert.ok(octets >= 72, `line folded early: ${line}`);
        if (octets < 75) foldedShortOfTheLimit += 1;
      }
      assert.equal(valueOf(unfold(text), 'DESCRIPTION'), description);
      // A surrogate pair split across two lines would not survive being written as UTF-8.
      for (const line of physical) assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(line, 'utf8')), line);
    }
    assert.ok(foldedShortOfTheLimit > 0, 'some fold moved a multi-byte character to the next line whole');
  });

  test('folds a line of exactly 75 octets not at all and one of 76 octets once', () => {
    const exact = 'SUMMARY:'.length;
    const fits = calendarFile([booking({ summary: 'x'.repeat(75 - exact) })], { productId: PRODUCT });
    assert.ok(physicalLines(fits).includes(`SUMMARY:${'x'.repeat(75 - exact)}`));
    const over = calendarFile([booking({ summary: 'x'.repeat(76 - exact) })], { productId: PRODUCT });
    const physical = physicalLines(over);
    const at = physical.indexOf(`SUMMARY:${'x'.repeat(75 - exact)}`);
    assert.ok(at >= 0);
    assert.equal(physical[at + 1], ' x');
  });

  test('folds a multi-byte character that would cross the boundary onto the next line whole', () => {
    const summary = `${'x'.repeat(75 - 'SUMMARY:'.length - 1)}é`;
    const physical = physicalLines(calendarFile([booking({ summary })], { productId: PRODUCT }));
    const at = physical.findIndex((line) => line.startsWith('SUMMARY:'));
    assert.equal(Buffer.byteLength(physical[at] ?? '', 'utf8'), 74);
    assert.equal(physical[at + 1], ' é');
  });

  test('writes times in UTC, so summer time bookings move back an hour', () => {
    const summer = booking({ start: londonTime('2026-06-01', '09:00'), end: londonTime('2026-06-01', '09:45'), updatedAt: londonTime('2026-05-20', '00:30') });
    const winter = booking({ start: londonTime('2026-12-01', '09:00'), end: londonTime('2026-12-01', '09:45') });
    const lines = unfold(calendarFile([summer], { productId: PRODUCT }));
    assert.equal(valueOf(lines, 'DTSTART'), '20260601T080000Z');
    assert.equal(valueOf(lines, 'DTEND'), '20260601T084500Z');
    assert.equal(valueOf(lines, 'DTSTAMP'), '20260519T233000Z');
    assert.equal(valueOf(lines, 'LAST-MODIFIED'), '20260519T233000Z');
    const winterLines = unfold(calendarFile([winter], { productId: PRODUCT }));
    assert.equal(valueOf(winterLines, 'DTSTART'), '20261201T090000Z');
  });

  test('drops milliseconds from times', () => {
    const lines = unfold(calendarFile([booking({ start: new Date('2026-03-10T10:00:00.999Z') })], { productId: PRODUCT }));
    assert.equal(valueOf(lines, 'DTSTART'), '20260310T100000Z');
  });

  test('a cancellation carries METHOD:CANCEL, STATUS:CANCELLED and the raised sequence', () => {
    const cancelled = booking({ status: 'CANCELLED', sequence: 2, updatedAt: new Date('2026-03-05T08:00:00Z') });
    const lines = unfold(calendarFile([cancelled], { productId: PRODUCT, method: 'CANCEL' }));
    assert.equal(valueOf(lines, 'METHOD'), 'CANCEL');
    assert.equal(valueOf(lines, 'UID'), 'b-1001@borough.example');
    assert.equal(valueOf(lines, 'STATUS'), 'CANCELLED');
    assert.equal(valueOf(lines, 'SEQUENCE'), '2');
    assert.equal(valueOf(lines, 'DTSTAMP'), '20260305T080000Z');
    assert.ok(lines.indexOf('METHOD:CANCEL') < lines.indexOf('BEGIN:VEVENT'));
  });

  test('adds a display reminder inside the event for each alarm', () => {
    const lines = unfold(calendarFile([booking({ summary: 'Blue Badge, assessment', alarmsMinutesBefore: [1440, 30] })], { productId: PRODUCT }));
    const start = lines.indexOf('BEGIN:VEVENT');
    const end = lines.indexOf('END:VEVENT');
    const alarms = lines.slice(start, end).filter((line) => line === 'BEGIN:VALARM').length;
    assert.equal(alarms, 2);
    const firstAlarm = lines.indexOf('BEGIN:VALARM');
    assert.deepEqual(lines.slice(firstAlarm, firstAlarm + 10), [
      'BEGIN:VALARM',
      'ACTION:DISPLAY',
      'TRIGGER:-PT1440M',
      'DESCRIPTION:Blue Badge\\, assessment',
      'END:VALARM',
      'BEGIN:VALARM',
      'ACTION:DISPLAY',
      'TRIGGER:-PT30M',
      'DESCRIPTION:Blue Badge\\, assessment',
      'END:VALARM',
    ]);
    assert.equal(lines[firstAlarm + 10], 'END:VEVENT');
  });

  test('writes several events each in its own VEVENT', () => {
    const lines = unfold(calendarFile([booking(), booking({ uid: 'b-1002@borough.example' })], { productId: PRODUCT }));
    assert.equal(lines.filter((line) => line === 'BEGIN:VEVENT').length, 2);
    assert.equal(lines.filter((line) => line === 'END:VEVENT').length, 2);
    assert.deepEqual(
      lines.filter((line) => line.startsWith('UID:')),
      ['UID:b-1001@borough.example', 'UID:b-1002@borough.example'],
    );
  });

  test('refuses events that calendars would reject or misread', () => {
    const opts = { productId: PRODUCT };
    assert.throws(() => calendarFile([booking({ start: new Date('not a date') })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ updatedAt: new Date(Number.NaN) })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ end: new Date('2026-03-10T09:00:00Z') })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ end: new Date('2026-03-10T10:00:00Z') })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ sequence: -1 })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ sequence: 1.5 })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ alarmsMinutesBefore: [15.5] })], opts), RangeError);
    assert.throws(() => calendarFile([booking({ alarmsMinutesBefore: [-10] })], opts), RangeError);
  });
});
