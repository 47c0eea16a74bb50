// CSV downloads for staff, written so a spreadsheet opens them safely and shows accents correctly.

export type CsvCell = string | number | boolean | Date | null | undefined;

/** The byte order mark tells Excel the file is UTF-8; without it accented names are garbled. */
const UTF8_BOM = '\uFEFF';
const LINE_END = '\r\n';

/**
 * A spreadsheet treats text starting with these as a formula (tab and carriage return because some
 * spreadsheets strip them and then read what follows), so such text is prefixed with a quote mark.
 */
const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Builds RFC 4180 CSV (CRLF line ends, fields quoted when they contain comma, quote, CR or LF; quotes doubled).
 * Every line, the last included, ends in CRLF, and the file starts with a UTF-8 byte order mark.
 * Text that a spreadsheet would run as a formula is made inert with a leading quote mark (OWASP CSV
 * injection), so pass numbers as numbers: the string "-5" comes out as '-5, the number -5 as -5.
 * Throws if a row has a different number of cells from the header, as that would shift columns.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [csvLine(header)];
  rows.forEach((row, index) => {
    if (row.length !== header.length) {
      throw new RangeError(`CSV row ${index + 1} has ${row.length} cells but the header has ${header.length}`);
    }
    lines.push(csvLine(row));
  });
  return UTF8_BOM + lines.map((line) => line + LINE_END).join('');
}

function csvLine(cells: readonly CsvCell[]): string {
  return cells.map(csvField).join(',');
}

function csvField(cell: CsvCell): string {
  const text = cellText(cell);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function cellText(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') {
    // NaN and Infinity mean nothing to a spreadsheet; -0 is written as 0.
    return Number.isFinite(cell) ? String(cell) : '';
  }
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? '' : cell.toISOString();
  return FORMULA_TRIGGERS.has(cell.charAt(0)) ? `'${cell}` : cell;
}
