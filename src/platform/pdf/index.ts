/**
 * Tagged, accessible PDFs: the document set up for screen readers (structure tree, language, title shown by the viewer),
 * Liberation Sans embedded when installed, text cleaned so nothing draws as empty boxes or broken bytes, blocks, lists and
 * tables written as structure elements, and page headers and footers marked as artefacts so they are not read out.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';

export const LIBERATION_FOLDER = '/usr/share/fonts/truetype/liberation';
export const TEXT_COLOUR = '#0b0c0c';
export const SECONDARY_COLOUR = '#484949';
/** Drawn in place of text of which the font could draw nothing; the full text still goes to screen readers. */
export const CANNOT_SHOW = '(this cannot be shown in this copy)';

export type Face = 'regular' | 'bold';
export type Coverage = (codePoint: number) => boolean;

export interface TextStyle {
  face: Face;
  size: number;
  colour: string;
  /** Space before the block, in points. */
  before: number;
}

export interface Margins {
  top: number;
  left: number;
  right: number;
  bottom: number;
}

export interface TaggedDocumentOptions {
  title: string;
  author: string;
  subject: string;
  margins: Margins;
  /** Folder holding LiberationSans-Regular.ttf and LiberationSans-Bold.ttf (Debian's fonts-liberation). */
  fontFolder?: string;
  /** A heading keeps room for lines of this height after it. */
  bodyLineHeight?: number;
}

/** A list item; `items` makes a list inside the item, below its text. */
export interface ListItem {
  text: string;
  items?: ListItem[];
}

export interface TableColumn {
  header: string;
  /** Share of the table's width, relative to the other columns. */
  share: number;
}

export interface TableOptions {
  columns: TableColumn[];
  rows: string[][];
  headerStyle: TextStyle;
  cellStyle: TextStyle;
  /** Space inside each cell, in points. */
  padding?: number;
  headerFill?: string;
  ruleColour?: string;
}

type Marking = PDFKit.Mixins.MarkingOptions;
type StructureOptions = PDFKit.Mixins.StructureElementOptions;

const LIST_INDENT = 16;
const BULLET = '\u2022';

export function lineHeight(style: TextStyle): number {
  return style.size * 1.25;
}

/** Single-line text: titles, names and references should not break where the input happened to. */
export function inline(text: string): string {
  return wellFormed(text.replace(/\s+/g, ' ')).trim();
}

/**
 * Composes accents onto their letters (fonts have the composed glyphs) and drops lone surrogates and control
 * characters, which would otherwise end up as broken bytes in the PDF's strings. Tabs become spaces.
 */
export function wellFormed(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (codePoint === 0x09) out += ' ';
    else if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    else if (codePoint === 0x0a || !(codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0))) out += char;
  }
  return out;
}

/**
 * One PDF being written. Create it, add a `Document` structure element with `doc.struct` and `doc.addStructure`, write
 * blocks, lists and tables into it, draw footers, then `finish()` for the bytes.
 */
export class TaggedDocument {
  readonly doc: PDFKit.PDFDocument;
  /** False when Liberation Sans was not found and the standard, unembedded Helvetica is used instead. */
  readonly embedded: boolean;
  private readonly coverage: Record<Face, Coverage>;
  private readonly output: Promise<Buffer>;
  private readonly bodyLineHeight: number;

  constructor(options: TaggedDocumentOptions) {
    const fonts = liberationFonts(options.fontFolder ?? LIBERATION_FOLDER);
    this.embedded = fonts !== null;
    this.bodyLineHeight = options.bodyLineHeight ?? 15;
    this.doc = new PDFDocument({
      size: 'A4',
      margins: options.margins,
      pdfVersion: '1.7',
      tagged: true,
      lang: 'en-GB',
      displayTitle: true,
      // Footers say "Page N of M", so every page is kept until the total is known.
      bufferPages: true,
      info: { Title: options.title, Author: options.author, Subject: options.subject },
    });
    this.output = collect(this.doc);
    if (fonts) {
      this.doc.registerFont('regular', fonts.regular);
      this.doc.registerFont('bold', fonts.bold);
    } else {
      // Standard fonts are not embedded, which PDF/UA frowns on, but a copy beats no copy.
      this.doc.registerFont('regular', 'Helvetica');
      this.doc.registerFont('bold', 'Helvetica-Bold');
    }
    this.coverage = { regular: coverageOf(this.doc, 'regular'), bold: coverageOf(this.doc, 'bold') };
  }

  /** Width of the text column on the current page. */
  get width(): number {
    const { page } = this.doc;
    return page.width - page.margins.left - page.margins.right;
  }

  /** Ends the document; resolves with the whole file. */
  finish(): Promise<Buffer> {
    this.doc.end();
    return this.output;
  }

  /**
   * Draws one block of text as its own structure element. A heading asks for room for itself and the lines after it,
   * so it is never left alone at the foot of a page; other text needs only its first line to fit and flows on.
   */
  block(parent: PDFKit.PDFStructureElement, tag: string, style: TextStyle, text: string, keepWithNext = 0): void {
    const { doc } = this;
    const { shown, complete } = this.renderable(text, style.face);
    this.use(style);
    const firstPart = keepWithNext > 0 ? doc.heightOfString(shown || ' ', { width: this.width }) : lineHeight(style);
    this.ensureRoom(style.before + firstPart + keepWithNext * this.bodyLineHeight);
    if (!this.atTopOfPage()) doc.y += style.before;
    // When characters had to be dropped, the full text still reaches screen readers and copy and paste.
    const options = complete ? {} : { actual: text };
    const drawn = shown || (complete ? '' : CANNOT_SHOW);
    parent.add(
      doc.struct(tag, options, () => {
        this.use(style);
        doc.text(drawn, doc.page.margins.left, doc.y, { width: this.width });
      }),
    );
  }

  /** A bulleted list (L, LI, Lbl, LBody); an item's own items become a list inside its body. */
  list(parent: PDFKit.PDFStructureElement, items: ListItem[], style: TextStyle, depth = 0): void {
    const { doc } = this;
    const list = doc.struct('L');
    parent.add(list);
    const bulletX = doc.page.margins.left + depth * LIST_INDENT;
    for (const item of items) {
      const { shown, complete } = this.renderable(wellFormed(item.text).trim(), style.face);
      this.use(style);
      this.ensureRoom(style.before + lineHeight(style));
      if (!this.atTopOfPage()) doc.y += style.before;
      const listItem = doc.struct('LI');
      list.add(listItem);
      const top = doc.y;
      listItem.add(
        doc.struct('Lbl', {}, () => {
          this.use(style);
          doc.text(BULLET, bulletX, top, { lineBreak: false });
        }),
      );
      const body = doc.struct('LBody', complete ? {} : { actual: item.text });
      listItem.add(body);
      const x = bulletX + LIST_INDENT;
      body.add(
        doc.struct('Span', {}, () => {
          this.use(style);
          doc.text(shown || (complete ? '' : CANNOT_SHOW), x, top, { width: doc.page.width - doc.page.margins.right - x });
        }),
      );
      if (item.items && item.items.length > 0) this.list(body, item.items, style, depth + 1);
      body.end();
      listItem.end();
    }
    list.end();
  }

  /**
   * A table with a header row (Table, THead, TBody, TR, TH, TD). Rows never split; when a row does not fit, it starts
   * a new page and the header row is drawn again there as an artefact, so it is read out only once. A cell too tall for
   * a whole page is cut short on the page, and its full text is kept for screen readers.
   */
  table(parent: PDFKit.PDFStructureElement, options: TableOptions): void {
    const { doc } = this;
    const padding = options.padding ?? 4;
    const ruleColour = options.ruleColour ?? '#b1b4b6';
    const total = options.columns.reduce((sum, column) => sum + column.share, 0) || 1;
    const headers = options.columns.map((column) => inline(column.header));

    const layout = () => {
      const left = doc.page.margins.left;
      const widths = options.columns.map((column) => (column.share / total) * this.width);
      const xs = widths.map((_, i) => left + widths.slice(0, i).reduce((sum, width) => sum + width, 0));
      return { left, widths, xs };
    };
    const cellHeight = (text: string, style: TextStyle, width: number): number => {
      this.use(style);
      return doc.heightOfString(text || ' ', { width: width - 2 * padding }) + 2 * padding;
    };
    const rowHeight = (cells: string[], style: TextStyle): number => {
      const { widths } = layout();
      return Math.max(...cells.map((cell, i) => cellHeight(this.renderable(cell, style.face).shown, style, widths[i] ?? 0)));
    };
    const bottom = () => doc.page.height - doc.page.margins.bottom;
    const rules = (top: number, height: number, fill?: string) => {
      const { left, xs } = layout();
      const right = left + this.width;
      doc.markContent('Artifact', { type: 'Layout' });
      doc.save();
      if (fill) doc.rect(left, top, right - left, height).fill(fill);
      doc.lineWidth(0.75).strokeColor(ruleColour);
      doc
        .moveTo(left, top + height)
        .lineTo(right, top + height)
        .stroke();
      if (fill) doc.moveTo(left, top).lineTo(right, top).stroke();
      for (const x of [...xs.slice(1), right])
        doc
          .moveTo(x, top)
          .lineTo(x, top + height)
          .stroke();
      doc
        .moveTo(left, top)
        .lineTo(left, top + height)
        .stroke();
      doc.restore();
      doc.endMarkedContent();
    };
    const drawCell = (text: string, style: TextStyle, column: number, top: number, height: number) => {
      const { widths, xs } = layout();
      this.use(style);
      doc.text(text, (xs[column] ?? 0) + padding, top + padding, {
        width: (widths[column] ?? 0) - 2 * padding,
        height: height - 2 * padding + 1,
        ellipsis: true,
      });
    };
    const headerHeight = () => rowHeight(headers, options.headerStyle);
    const repeatHeader = () => {
      const top = doc.y;
      const height = headerHeight();
      rules(top, height, options.headerFill ?? '#f3f2f1');
      doc.markContent('Artifact', { type: 'Pagination' });
      headers.forEach((header, i) => drawCell(this.renderable(header, options.headerStyle.face).shown, options.headerStyle, i, top, height));
      doc.endMarkedContent();
      doc.y = top + height;
    };

    const table = doc.struct('Table');
    parent.add(table);
    // Keep the header with the first row.
    const firstRow = options.rows[0];
    this.ensureRoom(
      options.cellStyle.before + headerHeight() + (firstRow ? Math.min(rowHeight(firstRow, options.cellStyle), lineHeight(options.cellStyle) * 3) : 0),
    );
    if (!this.atTopOfPage()) doc.y += options.cellStyle.before;

    const head = doc.struct('THead');
    table.add(head);
    const headerRow = doc.struct('TR');
    head.add(headerRow);
    {
      const top = doc.y;
      const height = headerHeight();
      rules(top, height, options.headerFill ?? '#f3f2f1');
      headers.forEach((header, i) => {
        const { shown, complete } = this.renderable(header, options.headerStyle.face);
        const cellOptions: StructureOptions & { scope: string } = complete ? { scope: 'Column' } : { scope: 'Column', actual: header };
        headerRow.add(doc.struct('TH', cellOptions, () => drawCell(shown, options.headerStyle, i, top, height)));
      });
      doc.y = top + height;
    }
    headerRow.end();
    head.end();

    const body = doc.struct('TBody');
    table.add(body);
    for (const cells of options.rows) {
      const texts = options.columns.map((_, i) => wellFormed(cells[i] ?? '').trim());
      let height = rowHeight(texts, options.cellStyle);
      if (doc.y + height > bottom()) {
        this.newPage();
        repeatHeader();
      }
      height = Math.min(height, bottom() - doc.y);
      const top = doc.y;
      const row = doc.struct('TR');
      body.add(row);
      rules(top, height);
      texts.forEach((text, i) => {
        const { shown, complete } = this.renderable(text, options.cellStyle.face);
        const cut = cellHeight(shown, options.cellStyle, layout().widths[i] ?? 0) > height;
        const cellOptions = complete && !cut ? {} : { actual: text };
        row.add(doc.struct('TD', cellOptions, () => drawCell(shown || (complete ? '' : CANNOT_SHOW), options.cellStyle, i, top, height)));
      });
      row.end();
      doc.y = top + height;
    }
    body.end();
    table.end();
    doc.x = doc.page.margins.left;
  }

  /** Draws on each page from `first` (counting from 0) inside an artefact, once all pages are known: running headers and the like. */
  everyPage(marking: Marking, draw: (page: PDFKit.PDFPage, index: number, count: number) => void, first = 0): void {
    const { doc } = this;
    const range = doc.bufferedPageRange();
    for (let index = first; index < range.count; index += 1) {
      doc.switchToPage(range.start + index);
      doc.markContent('Artifact', marking);
      draw(doc.page, index, range.count);
      doc.endMarkedContent();
    }
  }

  /** `left` at the foot of each page and "Page N of M" on the right, `fromBottom` points above the page's edge. */
  footers(left: string, style: TextStyle, fromBottom: number, marking: Marking = { type: 'Pagination' }): void {
    const { doc } = this;
    const shownLeft = this.renderable(left, style.face).shown;
    const range = doc.bufferedPageRange();
    for (let index = 0; index < range.count; index += 1) {
      doc.switchToPage(range.start + index);
      const { page } = doc;
      const y = page.height - fromBottom - style.size;
      const label = `Page ${index + 1} of ${range.count}`;
      this.use(style);
      doc.markContent('Artifact', marking);
      // lineBreak: false keeps pdfkit from starting a new page for text drawn inside the bottom margin.
      doc.text(shownLeft, page.margins.left, y, { lineBreak: false });
      doc.text(label, page.width - page.margins.right - doc.widthOfString(label), y, { lineBreak: false });
      doc.endMarkedContent();
    }
  }

  use(style: TextStyle): void {
    this.doc.font(style.face).fontSize(style.size).fillColor(style.colour);
  }

  /** Starts a new page like the current one (size, orientation and margins), unless already at the top of one. */
  ensureRoom(height: number): void {
    const { doc } = this;
    const bottom = doc.page.height - doc.page.margins.bottom;
    if (doc.y + height > bottom && !this.atTopOfPage()) this.newPage();
  }

  newPage(options?: PDFKit.PDFDocumentOptions): void {
    const current: unknown = Reflect.get(this.doc.page, '_options');
    const same = typeof current === 'object' && current !== null ? (current as PDFKit.PDFDocumentOptions) : undefined;
    this.doc.addPage(options ?? same);
  }

  atTopOfPage(): boolean {
    return this.doc.y <= this.doc.page.margins.top;
  }

  /**
   * Keeps only characters the font has glyphs for, so emoji and unusual scripts never draw as empty boxes.
   * An accented letter missing from the font keeps its base letter rather than vanishing.
   */
  renderable(text: string, face: Face): { shown: string; complete: boolean } {
    const covers = this.coverage[face];
    let out = '';
    let complete = true;
    for (const char of text) {
      const codePoint = char.codePointAt(0) ?? 0;
      if (codePoint === 0x0a || codePoint === 0x20 || covers(codePoint)) {
        out += char;
        continue;
      }
      complete = false;
      const [base = '', ...marks] = char.normalize('NFD');
      if (marks.length > 0 && marks.every(isCombiningMark) && covers(base.codePointAt(0) ?? 0)) out += base;
    }
    if (complete) return { shown: text, complete };
    const shown = out
      .split('\n')
      .map((line) => line.replace(/ {2,}/g, ' ').trim())
      .join('\n');
    return { shown, complete };
  }
}

function isCombiningMark(char: string): boolean {
  const codePoint = char.codePointAt(0) ?? 0;
  return codePoint >= 0x0300 && codePoint <= 0x036f;
}

const fontCache = new Map<string, { regular: Buffer; bold: Buffer } | null>();

function liberationFonts(folder: string): { regular: Buffer; bold: Buffer } | null {
  let fonts = fontCache.get(folder);
  if (fonts === undefined) {
    try {
      fonts = { regular: readFileSync(path.join(folder, 'LiberationSans-Regular.ttf')), bold: readFileSync(path.join(folder, 'LiberationSans-Bold.ttf')) };
    } catch {
      fonts = null;
    }
    fontCache.set(folder, fonts);
  }
  return fonts;
}

/**
 * Which code points a registered font can draw. Embedded fonts are asked directly (pdfkit keeps the parsed font
 * beside its own font object); the standard PDF fonts draw the Windows-1252 repertoire.
 */
function coverageOf(doc: PDFKit.PDFDocument, name: string): Coverage {
  doc.font(name);
  const current: unknown = Reflect.get(doc, '_font');
  const face: unknown = typeof current === 'object' && current !== null ? Reflect.get(current, 'font') : undefined;
  if (typeof face === 'object' && face !== null && 'hasGlyphForCodePoint' in face) {
    const probe = face.hasGlyphForCodePoint;
    if (typeof probe === 'function') return (codePoint) => probe.call(face, codePoint) === true;
  }
  return inWindows1252;
}

const WINDOWS_1252_EXTRAS = new Set([
  0x0152, 0x0153, 0x0160, 0x0161, 0x0178, 0x017d, 0x017e, 0x0192, 0x02c6, 0x02dc, 0x2013, 0x2014, 0x2018, 0x2019, 0x201a, 0x201c, 0x201d, 0x201e, 0x2020,
  0x2021, 0x2022, 0x2026, 0x2030, 0x2039, 0x203a, 0x20ac, 0x2122,
]);

function inWindows1252(codePoint: number): boolean {
  return (codePoint >= 0x20 && codePoint <= 0x7e) || (codePoint >= 0xa0 && codePoint <= 0xff) || WINDOWS_1252_EXTRAS.has(codePoint);
}

function collect(doc: PDFKit.PDFDocument): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}
