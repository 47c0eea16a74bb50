/**
 * Reads back what the tagged PDF writer produced, for tests: objects, the catalog, the structure tree, document
 * information and the text drawn on the pages. Only what pdfkit writes needs to be understood.
 */
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

/** The file read byte for byte as text, so offsets in the string are offsets in the file. */
export const asText = (pdf: Buffer): string => pdf.toString('latin1');

export function objectBody(pdf: Buffer, ref: string): string {
  const text = asText(pdf);
  const start = text.indexOf(`\n${ref} obj\n`);
  assert.ok(start >= 0, `object ${ref} is in the file`);
  return text.slice(start, text.indexOf('endobj', start));
}

export function refIn(dictionary: string, key: string): string {
  const match = new RegExp(`/${key} (\\d+ \\d+) R`).exec(dictionary);
  assert.ok(match?.[1], `${key} refers to an object`);
  return match[1];
}

export function catalog(pdf: Buffer): string {
  return objectBody(pdf, refIn(asText(pdf), 'Root'));
}

/** The page objects, not the page tree that lists them. */
export function pageCount(pdf: Buffer): number {
  return asText(pdf).match(/\/Type \/Page\b/g)?.length ?? 0;
}

/** Every stream in the file, inflated where it was compressed. */
export function streams(pdf: Buffer): string[] {
  const text = asText(pdf);
  const found: string[] = [];
  for (const match of text.matchAll(/<<((?:(?!<<|>>)[\s\S])*?\/Length (\d+)[\s\S]*?)>>\nstream\n/g)) {
    const start = (match.index ?? 0) + match[0].length;
    const bytes = pdf.subarray(start, start + Number(match[2]));
    found.push((match[1] ?? '').includes('/FlateDecode') ? inflateSync(bytes).toString('latin1') : bytes.toString('latin1'));
  }
  return found;
}

/** Glyph-to-text maps of the embedded fonts, from their ToUnicode CMaps. */
function toUnicodeMaps(all: string[]): Map<number, string>[] {
  return all
    .filter((stream) => stream.includes('beginbfrange'))
    .map((cmap) => {
      const map = new Map<number, string>();
      for (const range of cmap.matchAll(/<([0-9a-f]+)> <[0-9a-f]+> \[([^\]]*)\]/gi)) {
        let code = parseInt(range[1] ?? '0', 16);
        for (const entry of (range[2] ?? '').matchAll(/<([0-9a-f ]+)>/gi)) {
          map.set(code, String.fromCharCode(...(entry[1] ?? '').split(' ').map((unit) => parseInt(unit, 16))));
          code += 1;
        }
      }
      return map;
    });
}

/**
 * The text drawn on the pages, one entry per run of text, decoded with each font's map in turn (text is written as
 * glyph numbers, so only the right font's reading makes sense) and as the standard fonts' single bytes.
 */
export function drawnText(pdf: Buffer): string {
  const all = streams(pdf);
  const maps = toUnicodeMaps(all);
  const lines: string[] = [];
  for (const content of all.filter((stream) => /\bBT\b/.test(stream))) {
    for (const shown of content.matchAll(/\[([^\]]*)\] TJ/g)) {
      const hex = [...(shown[1] ?? '').matchAll(/<([0-9a-f]*)>/gi)].map((part) => part[1] ?? '').join('');
      for (const map of maps) lines.push((hex.match(/.{4}/g) ?? []).map((code) => map.get(parseInt(code, 16)) ?? '\uFFFD').join(''));
      lines.push(Buffer.from(hex, 'hex').toString('latin1'));
    }
  }
  return lines.join('\n');
}

/** The PDF literal string opening at `open`, and where it ends; pdfkit writes strings that are not ASCII as UTF-16BE. */
function literalAt(text: string, open: number): { value: string; end: number } {
  const bytes: number[] = [];
  let depth = 1;
  let i = open + 1;
  for (; i < text.length; i += 1) {
    const char = text[i] ?? '';
    if (char === '\\') {
      i += 1;
      const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3));
      if (octal) {
        bytes.push(parseInt(octal[0], 8));
        i += octal[0].length - 1;
      } else {
        const next = text[i] ?? '';
        bytes.push(({ n: 10, r: 13, t: 9, b: 8, f: 12 } as Record<string, number>)[next] ?? next.charCodeAt(0));
      }
      continue;
    }
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (depth === 0) break;
    bytes.push(char.charCodeAt(0));
  }
  const raw = Buffer.from(bytes);
  const value = raw[0] === 0xfe && raw[1] === 0xff ? Buffer.from(raw.subarray(2)).swap16().toString('utf16le') : raw.toString('latin1');
  return { value, end: i };
}

/** Every value of a string-valued key written inline, such as the ActualText of structure elements. */
export function stringsOf(pdf: Buffer, key: string): string[] {
  const text = asText(pdf);
  const values: string[] = [];
  for (let at = text.indexOf(`/${key} (`); at >= 0;) {
    const { value, end } = literalAt(text, at + key.length + 2);
    values.push(value);
    at = text.indexOf(`/${key} (`, end);
  }
  return values;
}

/** A string entry of the document information dictionary, such as Title. */
export function infoEntry(pdf: Buffer, key: string): string {
  const text = asText(pdf);
  const info = objectBody(pdf, refIn(text.slice(text.lastIndexOf('trailer')), 'Info'));
  const body = objectBody(pdf, refIn(info, key));
  return literalAt(body, body.indexOf('(')).value;
}

export interface StructureNode {
  type: string;
  body: string;
  children: StructureNode[];
}

/** The structure tree from the root's kids down, structure elements only (not marked content). */
export function structureTree(pdf: Buffer): StructureNode[] {
  const read = (ref: string): StructureNode => {
    const body = objectBody(pdf, ref);
    const kids = /\/K \[([^\]]*)\]/.exec(body)?.[1] ?? '';
    const children = [...kids.matchAll(/(\d+ \d+) R/g)]
      .map((kid) => kid[1] ?? '')
      .filter((kid) => /\/S \/\w+/.test(objectBody(pdf, kid)))
      .map(read);
    return { type: /\/S \/(\w+)/.exec(body)?.[1] ?? '?', body, children };
  };
  const root = objectBody(pdf, refIn(catalog(pdf), 'StructTreeRoot'));
  return [...(/\/K \[([^\]]*)\]/.exec(root)?.[1] ?? '').matchAll(/(\d+ \d+) R/g)].map((kid) => read(kid[1] ?? ''));
}

/** Every node of a tree, depth first. */
export function allNodes(nodes: StructureNode[]): StructureNode[] {
  return nodes.flatMap((node) => [node, ...allNodes(node.children)]);
}

/** Checks what every document the platform writes must be: tagged, in British English, showing its own title. */
export function assertTaggedDocument(pdf: Buffer, info: { title: string; author: string; subject: string }): void {
  assert.ok(asText(pdf).startsWith('%PDF-1.7'), 'a PDF 1.7 file');
  const root = catalog(pdf);
  assert.match(root, /\/StructTreeRoot \d+ \d+ R/);
  assert.match(root, /\/Lang \(en-GB\)/);
  assert.match(objectBody(pdf, refIn(root, 'MarkInfo')), /\/Marked true/);
  assert.match(objectBody(pdf, refIn(root, 'ViewerPreferences')), /\/DisplayDocTitle true/);
  assert.equal(infoEntry(pdf, 'Title'), info.title);
  assert.equal(infoEntry(pdf, 'Author'), info.author);
  assert.equal(infoEntry(pdf, 'Subject'), info.subject);
}
