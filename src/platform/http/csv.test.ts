import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCsv } from './csv.js';

const BOM = '\uFEFF';

/** The CSV of one row under a one-column header, without the BOM and header, to compare cells exactly. */
function cell(value: Parameters<typeof toCsv>[1][number][number]): string {
  const csv = toCsv(['value'], [[value]]);
  const prefix = `${BOM}value\r\n`;
  assert.ok(csv.startsWith(prefix));
  assert.ok(csv.endsWith('\r\n'));
  return csv.slice(prefix.length, -2);
}

/** A strict RFC 4180 reader, so the tests check that what is written reads back as the same cells. */
function parse(csv: string): string[][] {
  assert.ok(csv.startsWith(BOM), 'starts with a byte order mark');
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = BOM.length; i < csv.length; i++) {
    const char = csv[i];
    if (quoted) {
      if (char === '"' && csv[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      assert.equal(field, '', 'a quote may only open a field');
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r') {
      assert.equal(csv[i + 1], '\n', 'a bare CR may only appear inside quotes');
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      assert.notEqual(char, '\n', 'a bare LF may only appear inside quotes');
      field += char;
    }
  }
  assert.equal(quoted, false, 'every quoted field is closed');
  assert.deepEqual(row, [], 'the last line ends in CRLF');
  assert.equal(field, '');
  return rows;
}

test('the file starts with a UTF-8 byte order mark and every line ends in CRLF', () => {
  assert.equal(toCsv(['Name', 'Ward'], [['Zoë Brontë', 'Holloway']]), `${BOM}Name,Ward\r\nZoë Brontë,Holloway\r\n`);
  assert.equal(
    Buffer.from(toCsv(['a'], []), 'utf8')
      .subarray(0, 3)
      .toString('hex'),
    'efbbbf',
  );
});

test('a file with no rows is just the header', () => {
  assert.equal(toCsv(['Reference', 'Opened'], []), `${BOM}Reference,Opened\r\n`);
});

test('fields with a comma, quote, CR or LF are quoted, with quotes doubled', () => {
  assert.equal(cell('Flat 2, 10 High Street'), '"Flat 2, 10 High Street"');
  assert.equal(cell('The "big" bin'), '"The ""big"" bin"');
  assert.equal(cell('"'), '""""');
  assert.equal(cell('line one\nline two'), '"line one\nline two"');
  assert.equal(cell('line one\r\nline two'), '"line one\r\nline two"');
  assert.equal(cell('ends with CR\r'), '"ends with CR\r"');
  assert.equal(cell('plain text; no quotes needed'), 'plain text; no quotes needed');
  assert.equal(cell(''), '');
});

test('embedded newlines, commas and quotes read back as the same cells', () => {
  const header = ['Reference', 'Description', 'Notes'];
  const rows = [
    ['CAS-1', 'Pothole outside\nnumber 12', 'She said "urgent", twice'],
    ['CAS-2', 'a,b,c', 'first line\r\nsecond line'],
  ];
  assert.deepEqual(parse(toCsv(header, rows)), [header, ...rows]);
});

test('text starting with =, +, -, @, tab or CR is prefixed with a quote mark', () => {
  assert.equal(cell('=SUM(A1:A9)'), "'=SUM(A1:A9)");
  assert.equal(cell('=HYPERLINK("http://example.test","Click")'), `"'=HYPERLINK(""http://example.test"",""Click"")"`);
  assert.equal(cell('+44 20 7946 0000'), "'+44 20 7946 0000");
  assert.equal(cell("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
  assert.equal(cell('@SUM(1,2)'), `"'@SUM(1,2)"`);
  assert.equal(cell('\t=1+1'), "'\t=1+1");
  assert.equal(cell('\r=1+1'), `"'\r=1+1"`);
  assert.equal(cell('-5'), "'-5");
});

test('the dangerous characters are harmless anywhere but first', () => {
  assert.equal(cell('a=b'), 'a=b');
  assert.equal(cell('email@example.test'), 'email@example.test');
  assert.equal(cell('2026-01-12'), '2026-01-12');
  assert.equal(cell(' =1+1'), ' =1+1');
  assert.equal(cell("'already quoted"), "'already quoted");
});

test('headers are protected in the same way as cells', () => {
  assert.equal(toCsv(['=cmd', 'a,b'], []), `${BOM}'=cmd,"a,b"\r\n`);
});

test('numbers are written as numbers, negative ones included', () => {
  assert.equal(cell(42), '42');
  assert.equal(cell(-5), '-5');
  assert.equal(cell(0), '0');
  assert.equal(cell(-0), '0');
  assert.equal(cell(1234.5), '1234.5');
  assert.equal(cell(-0.25), '-0.25');
  assert.equal(cell(Number.NaN), '');
  assert.equal(cell(Number.POSITIVE_INFINITY), '');
  assert.equal(cell(Number.NEGATIVE_INFINITY), '');
});

test('dates are written in ISO 8601, booleans as true or false, and nothing as an empty cell', () => {
  assert.equal(cell(new Date('2026-03-29T01:30:00Z')), '2026-03-29T01:30:00.000Z');
  assert.equal(cell(new Date('not a date')), '');
  assert.equal(cell(true), 'true');
  assert.equal(cell(false), 'false');
  assert.equal(cell(null), '');
  assert.equal(cell(undefined), '');
});

test('a mixed row comes out as expected', () => {
  const csv = toCsv(
    ['Reference', 'Count', 'Opened', 'Closed', 'Urgent', 'Summary'],
    [['CAS-0001', -3, new Date('2026-12-28T09:00:00Z'), null, true, '=1+1, "quoted"']],
  );
  assert.equal(csv, `${BOM}Reference,Count,Opened,Closed,Urgent,Summary\r\nCAS-0001,-3,2026-12-28T09:00:00.000Z,,true,"'=1+1, ""quoted"""\r\n`);
});

test('a row with the wrong number of cells is refused rather than shifting the columns', () => {
  assert.throws(() => toCsv(['a', 'b'], [['1', '2'], ['1']]), /CSV row 2 has 1 cells but the header has 2/);
  assert.throws(() => toCsv(['a'], [['1', '2']]), RangeError);
});
