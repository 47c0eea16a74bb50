import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inline, TaggedDocument, TEXT_COLOUR, type TextStyle, wellFormed } from '#platform/pdf/index';
import { allNodes, drawnText, infoEntry, pageCount, streams, structureTree } from '#platform/pdf/test-helpers';

const body: TextStyle = { face: 'regular', size: 12, colour: TEXT_COLOUR, before: 3 };
const heading: TextStyle = { face: 'bold', size: 18, colour: TEXT_COLOUR, before: 12 };

function start(): { pdf: TaggedDocument; root: PDFKit.PDFStructureElement } {
  const pdf = new TaggedDocument({ title: 'A test', author: 'Borough Council', subject: 'Testing', margins: { top: 56, left: 56, right: 56, bottom: 96 } });
  const root = pdf.doc.struct('Document');
  pdf.doc.addStructure(root);
  return { pdf, root };
}

describe('text cleaning', () => {
  it('joins lines and drops control characters and lone surrogates', () => {
    assert.equal(inline('  Sam\n\tSmith \u0007'), 'Sam Smith');
    assert.equal(wellFormed('Ze\u0301\tx\ud800y\nz'), 'Zé xy\nz');
  });
});

describe('TaggedDocument', () => {
  it('writes blocks, nested lists and page footers', async () => {
    const { pdf, root } = start();
    pdf.block(root, 'H1', heading, 'Heading', 2);
    pdf.list(root, [{ text: 'First', items: [{ text: 'Inner 😀' }] }, { text: 'Second' }], body);
    root.end();
    pdf.footers('Left', { ...body, size: 9 }, 56);
    const file = await pdf.finish();
    assert.equal(infoEntry(file, 'Title'), 'A test');
    const [document] = structureTree(file);
    assert.deepEqual(
      document?.children.map((node) => node.type),
      ['H1', 'L'],
    );
    const items = document?.children[1]?.children ?? [];
    assert.deepEqual(
      items.map((item) => item.children.map((node) => node.type)),
      [
        ['Lbl', 'LBody'],
        ['Lbl', 'LBody'],
      ],
    );
    const inner = allNodes(items).filter((node) => node.type === 'LBody' && /\/ActualText/.test(node.body));
    assert.equal(inner.length, 1, 'the item with an emoji keeps its full text');
    const text = drawnText(file);
    assert.match(text, /Inner/);
    assert.match(text, /Page 1 of 1/);
  });

  it('repeats a table header on each page it runs on, as an artefact', async () => {
    const { pdf, root } = start();
    const rows = Array.from({ length: 120 }, (_, i) => [`Row ${i + 1}`, 'A cell with enough words to wrap onto a second line in a narrow column']);
    pdf.table(root, {
      columns: [
        { header: 'Name', share: 1 },
        { header: 'Note', share: 2 },
      ],
      rows,
      headerStyle: { ...body, face: 'bold' },
      cellStyle: body,
    });
    root.end();
    const file = await pdf.finish();
    const pages = pageCount(file);
    assert.ok(pages > 2);
    const nodes = allNodes(structureTree(file));
    assert.equal(nodes.filter((node) => node.type === 'TH').length, 2);
    assert.equal(nodes.filter((node) => node.type === 'TR').length, 121);
    assert.equal(
      drawnText(file)
        .split('\n')
        .filter((line) => line === 'Note').length >= pages,
      true,
    );
    const repeated =
      streams(file)
        .join('\n')
        .match(/\/Artifact <<\n\/Type \/Pagination\n>> BDC/g) ?? [];
    assert.equal(repeated.length, pages - 1);
  });
});
