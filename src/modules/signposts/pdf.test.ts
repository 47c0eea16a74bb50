import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allNodes, assertTaggedDocument, asText, drawnText, pageCount, streams, structureTree } from '#platform/pdf/test-helpers';
import { renderWorkingSetPdf, type WorkingSetCopy } from './pdf.js';

function workingSet(overrides: Partial<WorkingSetCopy> = {}): WorkingSetCopy {
  return {
    councilName: 'Borough Council',
    title: 'Family working set for strategy meeting',
    purpose: { reference: 'SM-2026-0042', reason: 'Section 47 strategy discussion' },
    preparedBy: 'Priya Shah',
    preparedAt: new Date('2026-03-02T09:30:00Z'),
    people: [
      {
        name: 'Jordan Ellis',
        dateOfBirth: '4 March 2014',
        addresses: ['12 Mill Lane, Kingston KT1 2AB'],
        records: [{ source: "Children's social care", recordId: 'CSC-1001', details: ['Child in need plan since January 2026'] }],
        contacts: [{ source: 'Education', professional: 'Sam Okafor', contact: '020 7946 0000', role: 'Designated safeguarding lead' }],
      },
      { name: 'Casey Ellis', dateOfBirth: '19 July 1990', addresses: [], records: [], contacts: [] },
    ],
    timeline: [
      {
        date: '12 Jan 2026',
        person: 'Jordan Ellis',
        source: 'Education',
        type: 'Attendance',
        summary: 'Absent for five days without explanation',
        status: 'Open',
      },
      { date: '20 Jan 2026', person: 'Casey Ellis', source: 'Housing', type: 'Tenancy', summary: 'Rent arrears letter sent & visit booked', status: 'Closed' },
    ],
    hiddenNotice: 'Records from sources you may not see are not included.',
    ...overrides,
  };
}

const longTimeline = Array.from({ length: 300 }, (_, i) => ({
  date: `${(i % 28) + 1} Feb 2026`,
  person: i % 2 ? 'Jordan Ellis' : 'Casey Ellis',
  source: ['Education', 'Police', 'Health visiting', 'Housing'][i % 4] ?? 'Police',
  type: 'Contact',
  summary: `Event ${i + 1}: ${'a note that runs over more than one line in the summary column. '.repeat((i % 3) + 1)}`,
  status: i % 5 ? 'Closed' : 'Open',
}));

describe('a working set as a PDF', () => {
  it('is a tagged PDF in British English whose viewer shows its title', async () => {
    assertTaggedDocument(await renderWorkingSetPdf(workingSet()), {
      title: 'Family working set for strategy meeting',
      author: 'Borough Council',
      subject: 'OFFICIAL-SENSITIVE: prepared for SM-2026-0042',
    });
  });

  it('reads out the marking, the title, the purpose, then the people and the timeline', async () => {
    const pdf = await renderWorkingSetPdf(workingSet());
    const [document] = structureTree(pdf);
    assert.ok(document);
    assert.equal(document.type, 'Document');
    assert.deepEqual(
      document.children.map((node) => node.type),
      ['P', 'P', 'H1', 'P', 'P', 'Sect', 'Sect'],
    );
    const [people, timeline] = document.children.slice(5);
    assert.ok(people && timeline);
    assert.deepEqual(
      people.children.map((node) => node.type),
      ['H2', 'Sect', 'Sect'],
    );
    assert.deepEqual(
      people.children[1]?.children.map((node) => node.type),
      ['H3', 'P', 'H4', 'L', 'H4', 'L', 'H4', 'L'],
    );
    // A record's details are a list inside its list item's body.
    const records = people.children[1]?.children[5];
    assert.deepEqual(
      records?.children[0]?.children.map((node) => node.type),
      ['Lbl', 'LBody'],
    );
    assert.ok(allNodes(records?.children ?? []).some((node) => node.type === 'L'));
    assert.deepEqual(
      timeline.children.map((node) => node.type),
      ['H2', 'Table'],
    );
  });

  it('writes the timeline as a table with a header row of column headers', async () => {
    const pdf = await renderWorkingSetPdf(workingSet());
    const table = allNodes(structureTree(pdf)).find((node) => node.type === 'Table');
    assert.ok(table);
    const [head, body] = table.children;
    assert.equal(head?.type, 'THead');
    assert.equal(body?.type, 'TBody');
    const headerCells = head.children[0]?.children ?? [];
    assert.deepEqual(
      headerCells.map((cell) => cell.type),
      ['TH', 'TH', 'TH', 'TH', 'TH', 'TH'],
    );
    assert.ok(headerCells.every((cell) => /\/Scope \/Column/.test(cell.body)));
    assert.equal(body.children.length, 2);
    assert.ok(body.children.every((row) => row.type === 'TR' && row.children.length === 6 && row.children.every((cell) => cell.type === 'TD')));
    const text = drawnText(pdf);
    for (const header of ['Date', 'Person', 'Agency', 'Type', 'Summary', 'Status']) assert.match(text, new RegExp(`^${header}$`, 'm'));
    assert.match(text, /Rent arrears letter sent & visit booked/);
  });

  it('shows the marking, the purpose, the people and what each agency holds', async () => {
    const text = drawnText(await renderWorkingSetPdf(workingSet()));
    assert.match(text, /^OFFICIAL-SENSITIVE$/m);
    assert.match(text, /Family working set for strategy meeting/);
    assert.match(text, /Reference: SM-2026-0042/);
    assert.match(text, /Purpose: Section 47 strategy discussion/);
    assert.match(text, /Prepared by Priya Shah on 2 March 2026 at 9:30am/);
    assert.match(text, /Records from sources you may not see are not included\./);
    assert.match(text, /Jordan Ellis/);
    assert.match(text, /Date of birth: 4 March 2014/);
    assert.match(text, /Children's social care: CSC-1001/);
    assert.match(text, /Child in need plan since January 2026/);
    assert.match(text, /Sam Okafor, Designated safeguarding lead \(Education\): 020 7946 0000/);
    assert.match(text, /No address recorded\./);
  });

  it('marks every page at the top and bottom, reading the marking out only once', async () => {
    const pdf = await renderWorkingSetPdf(workingSet({ timeline: longTimeline }));
    const pages = pageCount(pdf);
    const content = streams(pdf).join('\n');
    const headers = content.match(/\/Artifact <<\n\/Type \/Pagination\n\/Attached \[\/Top\]\n>> BDC/g) ?? [];
    const footers = content.match(/\/Artifact <<\n\/Type \/Pagination\n\/Attached \[\/Bottom\]\n>> BDC/g) ?? [];
    // The first page's marking is real text, the rest are running headers.
    assert.equal(headers.length, pages - 1);
    assert.equal(footers.length, pages);
    const text = drawnText(pdf);
    assert.match(text, new RegExp(`Page 1 of ${pages}`));
    assert.match(text, new RegExp(`Page ${pages} of ${pages}`));
  });

  it('carries a 300-event timeline over pages, repeating the header row as an artefact', async () => {
    const pdf = await renderWorkingSetPdf(workingSet({ timeline: longTimeline }));
    const pages = pageCount(pdf);
    assert.ok(pages > 5, `expected several pages, got ${pages}`);
    assert.ok(pages < 40, `expected a sensible number of pages, got ${pages}`);
    const table = allNodes(structureTree(pdf)).find((node) => node.type === 'Table');
    assert.equal(table?.children[1]?.children.length, 300);
    // One real header row; the header drawn again on each later page of the table is not read out.
    assert.equal(allNodes([table]).filter((node) => node.type === 'TH').length, 6);
    const text = drawnText(pdf);
    assert.match(text, /Event 300:/);
    const summaryHeaders = text.split('\n').filter((line) => line === 'Summary').length;
    assert.ok(summaryHeaders >= pages - 2, `header row drawn ${summaryHeaders} times over ${pages} pages`);
  });

  it('cuts a cell too tall for a page, keeping its full text for screen readers', async () => {
    const summary = `Start. ${'A very long account of what happened. '.repeat(400)}End of the account.`;
    const pdf = await renderWorkingSetPdf(
      workingSet({ timeline: [{ date: '1 Mar 2026', person: 'Casey Ellis', source: 'Police', type: 'Incident', summary, status: 'Open' }] }),
    );
    assert.ok(pageCount(pdf) >= 2);
    const cells = allNodes(structureTree(pdf)).filter((node) => node.type === 'TD');
    assert.ok(cells.some((cell) => /\/ActualText/.test(cell.body)));
  });

  it('copes with no people, no events and no notice', async () => {
    const pdf = await renderWorkingSetPdf(workingSet({ people: [], timeline: [], hiddenNotice: undefined }));
    const text = drawnText(pdf);
    assert.match(text, /No people are included\./);
    assert.match(text, /No events are included\./);
    assert.ok(!allNodes(structureTree(pdf)).some((node) => node.type === 'Table'));
  });

  it('falls back to Helvetica and still writes the names', async () => {
    const pdf = await renderWorkingSetPdf(workingSet(), { fontFolder: '/nonexistent/fonts' });
    assert.match(asText(pdf), /\/BaseFont \/Helvetica\b/);
    assert.match(drawnText(pdf), /Jordan Ellis/);
  });
});
