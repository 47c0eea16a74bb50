/**
 * A family's working set as a tagged, accessible PDF for a strategy meeting: who the people are, what each agency
 * holds and who is involved, then the family timeline as a table. The protective marking heads every page; screen
 * readers hear it once, at the start, because the running headers and footers are artefacts.
 */
import { inline, type ListItem, lineHeight, SECONDARY_COLOUR, TaggedDocument, TEXT_COLOUR, type TextStyle } from '#platform/pdf/index';
import { formatDateTime } from '#platform/views/index';

export interface WorkingSetCopy {
  councilName: string;
  /** For example "Family working set for strategy meeting". */
  title: string;
  purpose: { reference: string; reason: string };
  /** The member of staff who prepared it. */
  preparedBy: string;
  preparedAt: Date;
  people: {
    name: string;
    dateOfBirth: string;
    addresses: string[];
    records: { source: string; recordId: string; details: string[] }[];
    contacts: { source: string; professional: string; contact: string; role?: string }[];
  }[];
  timeline: { date: string; person: string; source: string; type: string; summary: string; status: string }[];
  /** For example "Records from sources you may not see are not included." */
  hiddenNotice?: string;
}

export interface WorkingSetOptions {
  /** Folder holding LiberationSans-Regular.ttf and LiberationSans-Bold.ttf (Debian's fonts-liberation). */
  fontFolder?: string;
}

export const PROTECTIVE_MARKING = 'OFFICIAL-SENSITIVE';

const MARGIN = 40;
const HEADER_HEIGHT = 30;
const FOOTER_HEIGHT = 32;
const MARGINS = { top: MARGIN + HEADER_HEIGHT, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER_HEIGHT };

const STYLES = {
  marking: { face: 'bold', size: 12, colour: TEXT_COLOUR, before: 0 },
  council: { face: 'bold', size: 12, colour: SECONDARY_COLOUR, before: 0 },
  title: { face: 'bold', size: 24, colour: TEXT_COLOUR, before: 6 },
  meta: { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 10 },
  notice: { face: 'bold', size: 12, colour: TEXT_COLOUR, before: 12 },
  section: { face: 'bold', size: 18, colour: TEXT_COLOUR, before: 24 },
  person: { face: 'bold', size: 16, colour: TEXT_COLOUR, before: 18 },
  subheading: { face: 'bold', size: 12, colour: TEXT_COLOUR, before: 10 },
  body: { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 3 },
  tableHeader: { face: 'bold', size: 11, colour: TEXT_COLOUR, before: 0 },
  tableCell: { face: 'regular', size: 11, colour: TEXT_COLOUR, before: 12 },
  footer: { face: 'regular', size: 10, colour: SECONDARY_COLOUR, before: 0 },
} satisfies Record<string, TextStyle>;

const TIMELINE_COLUMNS = [
  { header: 'Date', share: 10 },
  { header: 'Person', share: 13 },
  { header: 'Agency', share: 14 },
  { header: 'Type', share: 11 },
  { header: 'Summary', share: 42 },
  { header: 'Status', share: 10 },
];

export async function renderWorkingSetPdf(copy: WorkingSetCopy, options: WorkingSetOptions = {}): Promise<Buffer> {
  const pdf = new TaggedDocument({
    title: inline(copy.title),
    author: inline(copy.councilName),
    subject: `${PROTECTIVE_MARKING}: prepared for ${inline(copy.purpose.reference)}`,
    margins: MARGINS,
    fontFolder: options.fontFolder,
    bodyLineHeight: lineHeight(STYLES.body),
  });
  new WorkingSetWriter(pdf).write(copy);
  return pdf.finish();
}

class WorkingSetWriter {
  constructor(private readonly pdf: TaggedDocument) {}

  write(copy: WorkingSetCopy): void {
    const { pdf } = this;
    const { doc } = pdf;
    const root = doc.struct('Document');
    doc.addStructure(root);

    this.marking(root);
    pdf.block(root, 'P', STYLES.council, inline(copy.councilName));
    pdf.block(root, 'H1', STYLES.title, inline(copy.title));
    // The space before each line break keeps the facts apart when the paragraph is read out or copied.
    const meta = [
      `Reference: ${inline(copy.purpose.reference)}`,
      `Purpose: ${inline(copy.purpose.reason)}`,
      `Prepared by ${inline(copy.preparedBy)} on ${formatDateTime(copy.preparedAt)}`,
    ];
    pdf.block(root, 'P', STYLES.meta, meta.join(' \n'));
    const notice = inline(copy.hiddenNotice ?? '');
    if (notice) pdf.block(root, 'P', STYLES.notice, notice);

    this.people(root, copy.people);
    this.timeline(root, copy.timeline);
    root.end();

    pdf.everyPage(
      { type: 'Pagination', attached: ['Top'] },
      (page) => {
        pdf.use(STYLES.marking);
        doc.text(PROTECTIVE_MARKING, (page.width - doc.widthOfString(PROTECTIVE_MARKING)) / 2, MARGIN, { lineBreak: false });
      },
      // The first page carries the marking as real text.
      1,
    );
    pdf.footers(PROTECTIVE_MARKING, STYLES.footer, MARGIN, { type: 'Pagination', attached: ['Bottom'] });
  }

  /** The marking at the head of the first page, as text a screen reader reads first. */
  private marking(root: PDFKit.PDFStructureElement): void {
    const { pdf } = this;
    const { doc } = pdf;
    root.add(
      doc.struct('P', {}, () => {
        pdf.use(STYLES.marking);
        doc.text(PROTECTIVE_MARKING, (doc.page.width - doc.widthOfString(PROTECTIVE_MARKING)) / 2, MARGIN, { lineBreak: false });
      }),
    );
    doc.x = doc.page.margins.left;
    doc.y = doc.page.margins.top;
  }

  private people(root: PDFKit.PDFStructureElement, people: WorkingSetCopy['people']): void {
    const { pdf } = this;
    const sect = pdf.doc.struct('Sect');
    root.add(sect);
    pdf.block(sect, 'H2', STYLES.section, 'People', 2);
    if (people.length === 0) pdf.block(sect, 'P', STYLES.body, 'No people are included.');
    for (const person of people) {
      const part = pdf.doc.struct('Sect');
      sect.add(part);
      pdf.block(part, 'H3', STYLES.person, inline(person.name) || 'Name not recorded', 2);
      pdf.block(part, 'P', STYLES.body, `Date of birth: ${inline(person.dateOfBirth) || 'not recorded'}`);

      this.listUnder(
        part,
        'Addresses',
        'No address recorded.',
        person.addresses.map((address) => ({ text: inline(address) })),
      );
      this.listUnder(
        part,
        'Records',
        'No records included.',
        person.records.map((record) => ({
          text: `${inline(record.source)}: ${inline(record.recordId)}`,
          items: record.details.map((detail) => ({ text: inline(detail) })).filter((detail) => detail.text !== ''),
        })),
      );
      this.listUnder(
        part,
        'Professionals involved',
        'No professionals recorded.',
        person.contacts.map((contact) => {
          const role = inline(contact.role ?? '');
          const who = role ? `${inline(contact.professional)}, ${role}` : inline(contact.professional);
          return { text: `${who} (${inline(contact.source)}): ${inline(contact.contact)}` };
        }),
      );
      part.end();
    }
    sect.end();
  }

  private listUnder(parent: PDFKit.PDFStructureElement, heading: string, none: string, items: ListItem[]): void {
    const { pdf } = this;
    pdf.block(parent, 'H4', STYLES.subheading, heading, 1);
    const shown = items.filter((item) => item.text !== '');
    if (shown.length === 0) pdf.block(parent, 'P', STYLES.body, none);
    else pdf.list(parent, shown, STYLES.body);
  }

  /** The timeline starts on a landscape page, where its six columns leave room for the summaries. */
  private timeline(root: PDFKit.PDFStructureElement, events: WorkingSetCopy['timeline']): void {
    const { pdf } = this;
    pdf.newPage({ size: 'A4', layout: 'landscape', margins: MARGINS });
    const sect = pdf.doc.struct('Sect');
    root.add(sect);
    pdf.block(sect, 'H2', STYLES.section, 'Family timeline', 3);
    if (events.length === 0) pdf.block(sect, 'P', STYLES.body, 'No events are included.');
    else
      pdf.table(sect, {
        columns: TIMELINE_COLUMNS,
        rows: events.map((event) => [event.date, event.person, event.source, event.type, event.summary, event.status]),
        headerStyle: STYLES.tableHeader,
        cellStyle: STYLES.tableCell,
      });
    sect.end();
  }
}
