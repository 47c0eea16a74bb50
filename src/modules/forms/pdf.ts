/**
 * A copy of a resident's submitted answers as a tagged, accessible PDF: offered on the confirmation page and attached to the
 * confirmation email. The structure tree gives screen readers the reading order (title, reference, then each section's
 * questions and answers); page footers are marked as artefacts so they are not read out between answers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { formatDateTime } from '#platform/views/index';

export interface AnswerCopy {
  councilName: string;
  formTitle: string;
  reference: string;
  submittedAt: Date;
  /** Each answer is a list of lines, as shown on the check-your-answers page. */
  sections: { title?: string; rows: { question: string; answer: string[] }[] }[];
}

export interface RenderOptions {
  /** Folder holding LiberationSans-Regular.ttf and LiberationSans-Bold.ttf (Debian's fonts-liberation). */
  fontFolder?: string;
}

const LIBERATION_FOLDER = '/usr/share/fonts/truetype/liberation';
const TEXT_COLOUR = '#0b0c0c';
const SECONDARY_COLOUR = '#484949';
const MARGIN = 56;
const FOOTER_HEIGHT = 48;
const NOT_ANSWERED = 'Not answered';
const CANNOT_SHOW = '(this cannot be shown in this copy)';

type Coverage = (codePoint: number) => boolean;
type Face = 'regular' | 'bold';

interface Style {
  face: Face;
  size: number;
  colour: string;
  /** Space before the block, in points. */
  before: number;
}

const STYLES = {
  council: { face: 'bold', size: 12, colour: SECONDARY_COLOUR, before: 0 },
  title: { face: 'bold', size: 24, colour: TEXT_COLOUR, before: 6 },
  meta: { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 10 },
  section: { face: 'bold', size: 18, colour: TEXT_COLOUR, before: 24 },
  question: { face: 'bold', size: 12, colour: TEXT_COLOUR, before: 14 },
  answer: { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 3 },
  footer: { face: 'regular', size: 9, colour: SECONDARY_COLOUR, before: 0 },
} satisfies Record<string, Style>;

export async function renderAnswersPdf(copy: AnswerCopy, options: RenderOptions = {}): Promise<Buffer> {
  const embedded = liberationFonts(options.fontFolder ?? LIBERATION_FOLDER);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER_HEIGHT },
    pdfVersion: '1.7',
    tagged: true,
    lang: 'en-GB',
    displayTitle: true,
    // Footers say "Page N of M", so every page is kept until the total is known.
    bufferPages: true,
    info: {
      Title: `${inline(copy.formTitle)}: your answers`,
      Author: inline(copy.councilName),
      Subject: `A copy of the answers submitted with reference ${inline(copy.reference)}`,
    },
  });
  const output = collect(doc);

  if (embedded) {
    doc.registerFont('regular', embedded.regular);
    doc.registerFont('bold', embedded.bold);
  } else {
    // Standard fonts are not embedded, which PDF/UA frowns on, but a copy of the answers beats no copy.
    doc.registerFont('regular', 'Helvetica');
    doc.registerFont('bold', 'Helvetica-Bold');
  }
  const coverage: Record<Face, Coverage> = { regular: coverageOf(doc, 'regular'), bold: coverageOf(doc, 'bold') };

  new AnswerWriter(doc, coverage).write(copy);
  doc.end();
  return output;
}

class AnswerWriter {
  private readonly width: number;

  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly coverage: Record<Face, Coverage>,
  ) {
    this.width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  }

  write(copy: AnswerCopy): void {
    const { doc } = this;
    const root = doc.struct('Document');
    doc.addStructure(root);

    this.block(root, 'P', STYLES.council, inline(copy.councilName));
    this.block(root, 'H1', STYLES.title, inline(copy.formTitle));
    // The space before the line break keeps the two facts apart when the paragraph is read out or copied.
    this.block(root, 'P', STYLES.meta, `Reference: ${inline(copy.reference)} \nSubmitted: ${formatDateTime(copy.submittedAt)}`);

    for (const section of copy.sections) {
      const title = inline(section.title ?? '');
      if (!title && section.rows.length === 0) continue;
      const sect = doc.struct('Sect');
      root.add(sect);
      if (title) this.block(sect, 'H2', STYLES.section, title, 2);
      // Without a section heading the questions sit directly under the title, and heading levels must not skip.
      const questionLevel = title ? 'H3' : 'H2';
      for (const row of section.rows) {
        this.block(sect, questionLevel, STYLES.question, inline(row.question), 2);
        this.answer(sect, row.answer);
      }
      sect.end();
    }
    root.end();
    this.footers(inline(copy.reference));
  }

  private answer(parent: PDFKit.PDFStructureElement, answer: string[]): void {
    const lines = answer.flatMap((line) => line.split(/\r\n|\r|\n/)).map((line) => wellFormed(line).trimEnd());
    while (lines.length > 0 && lines[0] === '') lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) {
      this.block(parent, 'P', STYLES.answer, NOT_ANSWERED);
      return;
    }
    let gap = 0;
    for (const line of lines) {
      if (line === '') {
        // A blank line separates paragraphs of a long answer; it has nothing to read out.
        gap += STYLES.answer.size;
        continue;
      }
      this.block(parent, 'P', { ...STYLES.answer, before: STYLES.answer.before + gap }, line);
      gap = 0;
    }
  }

  /**
   * Draws one block of text as its own structure element. A heading asks for room for itself and the lines after it,
   * so it is never left alone at the foot of a page; other text needs only its first line to fit and flows on.
   */
  private block(parent: PDFKit.PDFStructureElement, tag: string, style: Style, text: string, keepWithNext = 0): void {
    const { doc } = this;
    const { shown, complete } = this.renderable(text, style.face);
    this.use(style);
    const firstPart = keepWithNext > 0 ? doc.heightOfString(shown || ' ', { width: this.width }) : lineHeight(style);
    this.ensureRoom(style.before + firstPart + keepWithNext * lineHeight(STYLES.answer));
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

  private footers(reference: string): void {
    const { doc } = this;
    const range = doc.bufferedPageRange();
    const left = this.renderable(`Reference: ${reference}`, STYLES.footer.face).shown;
    for (let index = 0; index < range.count; index += 1) {
      doc.switchToPage(range.start + index);
      const { page } = doc;
      const y = page.height - MARGIN - STYLES.footer.size;
      const label = `Page ${index + 1} of ${range.count}`;
      this.use(STYLES.footer);
      doc.markContent('Artifact', { type: 'Pagination' });
      // lineBreak: false keeps pdfkit from starting a new page for text drawn inside the bottom margin.
      doc.text(left, page.margins.left, y, { lineBreak: false });
      doc.text(label, page.width - page.margins.right - doc.widthOfString(label), y, { lineBreak: false });
      doc.endMarkedContent();
    }
  }

  private use(style: Style): void {
    this.doc.font(style.face).fontSize(style.size).fillColor(style.colour);
  }

  private ensureRoom(height: number): void {
    const { doc } = this;
    const bottom = doc.page.height - doc.page.margins.bottom;
    if (doc.y + height > bottom && !this.atTopOfPage()) doc.addPage();
  }

  private atTopOfPage(): boolean {
    return this.doc.y <= this.doc.page.margins.top;
  }

  /**
   * Keeps only characters the font has glyphs for, so emoji and unusual scripts never draw as empty boxes.
   * An accented letter missing from the font keeps its base letter rather than vanishing.
   */
  private renderable(text: string, face: Face): { shown: string; complete: boolean } {
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

function lineHeight(style: Style): number {
  return style.size * 1.25;
}

function isCombiningMark(char: string): boolean {
  const codePoint = char.codePointAt(0) ?? 0;
  return codePoint >= 0x0300 && codePoint <= 0x036f;
}

/** Single-line text: questions, titles and references should not break where the input happened to. */
function inline(text: string): string {
  return wellFormed(text.replace(/\s+/g, ' ')).trim();
}

/**
 * Composes accents onto their letters (fonts have the composed glyphs) and drops lone surrogates and control
 * characters, which would otherwise end up as broken bytes in the PDF's strings. Tabs become spaces.
 */
function wellFormed(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (codePoint === 0x09) out += ' ';
    else if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    else if (codePoint === 0x0a || !(codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0))) out += char;
  }
  return out;
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
