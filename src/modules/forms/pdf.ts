/**
 * A copy of a resident's submitted answers as a tagged, accessible PDF: offered on the confirmation page and attached to the
 * confirmation email. The structure tree gives screen readers the reading order (title, reference, then each section's
 * questions and answers); page footers are marked as artefacts so they are not read out between answers.
 */
import { inline, lineHeight, SECONDARY_COLOUR, TaggedDocument, TEXT_COLOUR, type TextStyle, wellFormed } from '#platform/pdf/index';
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

const MARGIN = 56;
const FOOTER_HEIGHT = 48;
const NOT_ANSWERED = 'Not answered';

const STYLES = {
  council: { face: 'bold', size: 12, colour: SECONDARY_COLOUR, before: 0 },
  title: { face: 'bold', size: 24, colour: TEXT_COLOUR, before: 6 },
  meta: { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 10 },
  section: { face: 'bold', size: 18, colour: TEXT_COLOUR, before: 24 },
  question: { face: 'bold', size: 12, colour: TEXT_COLOUR, before: 14 },
  answer: { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 3 },
  footer: { face: 'regular', size: 9, colour: SECONDARY_COLOUR, before: 0 },
} satisfies Record<string, TextStyle>;

export async function renderAnswersPdf(copy: AnswerCopy, options: RenderOptions = {}): Promise<Buffer> {
  const pdf = new TaggedDocument({
    title: `${inline(copy.formTitle)}: your answers`,
    author: inline(copy.councilName),
    subject: `A copy of the answers submitted with reference ${inline(copy.reference)}`,
    margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER_HEIGHT },
    fontFolder: options.fontFolder,
    bodyLineHeight: lineHeight(STYLES.answer),
  });
  new AnswerWriter(pdf).write(copy);
  return pdf.finish();
}

class AnswerWriter {
  constructor(private readonly pdf: TaggedDocument) {}

  write(copy: AnswerCopy): void {
    const { pdf } = this;
    const { doc } = pdf;
    const root = doc.struct('Document');
    doc.addStructure(root);

    pdf.block(root, 'P', STYLES.council, inline(copy.councilName));
    pdf.block(root, 'H1', STYLES.title, inline(copy.formTitle));
    // The space before the line break keeps the two facts apart when the paragraph is read out or copied.
    pdf.block(root, 'P', STYLES.meta, `Reference: ${inline(copy.reference)} \nSubmitted: ${formatDateTime(copy.submittedAt)}`);

    for (const section of copy.sections) {
      const title = inline(section.title ?? '');
      if (!title && section.rows.length === 0) continue;
      const sect = doc.struct('Sect');
      root.add(sect);
      if (title) pdf.block(sect, 'H2', STYLES.section, title, 2);
      // Without a section heading the questions sit directly under the title, and heading levels must not skip.
      const questionLevel = title ? 'H3' : 'H2';
      for (const row of section.rows) {
        pdf.block(sect, questionLevel, STYLES.question, inline(row.question), 2);
        this.answer(sect, row.answer);
      }
      sect.end();
    }
    root.end();
    pdf.footers(`Reference: ${inline(copy.reference)}`, STYLES.footer, MARGIN);
  }

  private answer(parent: PDFKit.PDFStructureElement, answer: string[]): void {
    const lines = answer.flatMap((line) => line.split(/\r\n|\r|\n/)).map((line) => wellFormed(line).trimEnd());
    while (lines.length > 0 && lines[0] === '') lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) {
      this.pdf.block(parent, 'P', STYLES.answer, NOT_ANSWERED);
      return;
    }
    let gap = 0;
    for (const line of lines) {
      if (line === '') {
        // A blank line separates paragraphs of a long answer; it has nothing to read out.
        gap += STYLES.answer.size;
        continue;
      }
      this.pdf.block(parent, 'P', { ...STYLES.answer, before: STYLES.answer.before + gap }, line);
      gap = 0;
    }
  }
}
