import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderAnswersPdf, type AnswerCopy } from '#modules/forms/pdf';
import { assertTaggedDocument, asText, catalog, drawnText, objectBody, pageCount, refIn, streams, stringsOf } from '#platform/pdf/test-helpers';

const HAS_LIBERATION = existsSync('/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf');

function answerCopy(overrides: Partial<AnswerCopy> = {}): AnswerCopy {
  return {
    councilName: 'Borough Council',
    formTitle: 'Apply for a resident parking permit',
    reference: 'PP-2026-000123',
    submittedAt: new Date('2026-11-23T14:05:00Z'),
    sections: [
      { rows: [{ question: 'What is your full name?', answer: ['Sam Smith'] }] },
      {
        title: 'Your vehicle',
        rows: [
          { question: 'Registration number', answer: ['AB12 CDE'] },
          { question: 'Anything else?', answer: [] },
        ],
      },
    ],
    ...overrides,
  };
}

/** The file read byte for byte as text, so offsets in the string are offsets in the file. */
function structureTypes(pdf: Buffer, element: string): string[] {
  const kids = /\/K \[([^\]]*)\]/.exec(element)?.[1] ?? '';
  return [...kids.matchAll(/(\d+ \d+) R/g)].map((kid) => /\/S \/(\w+)/.exec(objectBody(pdf, kid[1] ?? ''))?.[1] ?? '?');
}

describe('a copy of the answers as a PDF', () => {
  it('is a tagged PDF in British English whose viewer shows its title', async () => {
    assertTaggedDocument(await renderAnswersPdf(answerCopy()), {
      title: 'Apply for a resident parking permit: your answers',
      author: 'Borough Council',
      subject: 'A copy of the answers submitted with reference PP-2026-000123',
    });
  });

  it('gives screen readers the title, the reference, then each section in order', async () => {
    const pdf = await renderAnswersPdf(answerCopy());
    const tree = objectBody(pdf, refIn(catalog(pdf), 'StructTreeRoot'));
    const [document] = [...(/\/K \[([^\]]*)\]/.exec(tree)?.[1] ?? '').matchAll(/(\d+ \d+) R/g)].map((kid) => objectBody(pdf, kid[1] ?? ''));
    assert.ok(document);
    assert.match(document, /\/S \/Document/);
    assert.deepEqual(structureTypes(pdf, document), ['P', 'H1', 'P', 'Sect', 'Sect']);
    const sections = [...(/\/K \[([^\]]*)\]/.exec(document)?.[1] ?? '').matchAll(/(\d+ \d+) R/g)].slice(3).map((kid) => objectBody(pdf, kid[1] ?? ''));
    // An untitled section's questions are second-level headings, so no heading level is skipped.
    assert.deepEqual(
      sections.map((section) => structureTypes(pdf, section)),
      [
        ['H2', 'P'],
        ['H2', 'H3', 'P', 'H3', 'P'],
      ],
    );
  });

  it('shows the reference, the date in UK time, the questions and the answers', async () => {
    const text = drawnText(await renderAnswersPdf(answerCopy()));
    assert.match(text, /Apply for a resident parking permit/);
    assert.match(text, /Reference: PP-2026-000123/);
    assert.match(text, /Submitted: 23 November 2026 at 2:05pm/);
    assert.match(text, /What is your full name\?/);
    assert.match(text, /Sam Smith/);
    assert.match(text, /Registration number/);
    assert.match(text, /Not answered/);
  });

  it('keeps its content streams compressed', async () => {
    const pdf = await renderAnswersPdf(answerCopy());
    assert.doesNotMatch(asText(pdf), /What is your full name/);
    assert.match(asText(pdf), /\/FlateDecode/);
  });

  it('flows a long answer across pages, with page numbers marked as artefacts', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `Line ${i + 1} of a long answer, long enough to wrap across the width of the page at least once.`);
    const pdf = await renderAnswersPdf(answerCopy({ sections: [{ title: 'More about you', rows: [{ question: 'Tell us more', answer: lines }] }] }));
    const pages = pageCount(pdf);
    assert.ok(pages > 1, `expected several pages, got ${pages}`);
    assert.match(asText(pdf), new RegExp(`/Type /Pages\\n/Count ${pages}\\b`));
    const text = drawnText(pdf);
    assert.match(text, /Line 200 of a long answer/);
    assert.match(text, new RegExp(`Page 1 of ${pages}`));
    assert.match(text, new RegExp(`Page ${pages} of ${pages}`));
    const footers =
      streams(pdf)
        .join('\n')
        .match(/\/Artifact <<\n\/Type \/Pagination\n>> BDC/g) ?? [];
    assert.equal(footers.length, pages);
  });

  it('wraps a single word too long for the line instead of running off the page', async () => {
    const pdf = await renderAnswersPdf(answerCopy({ sections: [{ rows: [{ question: 'Website', answer: [`https://example.org/${'a'.repeat(600)}`] }] }] }));
    assert.ok(pageCount(pdf) >= 1);
    assert.match(drawnText(pdf), /https:\/\/example\.org\/a+/);
  });

  it('renders accents and drops what the font cannot draw, keeping the full text for screen readers', async () => {
    const copy = answerCopy({
      councilName: 'Cyngor Bwrdeistref Sirol Ynys Môn',
      formTitle: 'Café permit ☕',
      sections: [
        {
          title: 'Über 😀',
          rows: [
            { question: 'Full name', answer: ['Zoë Ångström-Núñez 👍🏽', 'Ze\u0301 Bjo\u0308rk'] },
            { question: 'Favourite emoji', answer: ['🎉🎉'] },
            { question: 'Oddities', answer: ['tab\there\u0000\u0007 and a lone \ud800 surrogate', '\u202eright to left\u202c', '中文 ğ'] },
          ],
        },
      ],
    });
    const pdf = await renderAnswersPdf(copy);
    const text = drawnText(pdf);
    assert.match(text, /Zoë Ångström-Núñez/);
    assert.match(text, /Zé Björk/);
    assert.match(text, /\(this cannot be shown in this copy\)/);
    const actual = stringsOf(pdf, 'ActualText');
    assert.ok(actual.includes('Zoë Ångström-Núñez 👍🏽'), `ActualText values: ${actual.join(' | ')}`);
    assert.ok(actual.includes('🎉🎉'));
  });

  it('embeds Liberation Sans so the file does not rely on the reader’s fonts', { skip: !HAS_LIBERATION && 'fonts-liberation is not installed' }, async () => {
    const pdf = await renderAnswersPdf(answerCopy());
    assert.match(asText(pdf), /\/BaseFont \/[A-Z]{6}\+LiberationSans\b/);
    assert.match(asText(pdf), /\/FontFile2 \d+ \d+ R/);
  });

  it('falls back to Helvetica when Liberation Sans is not installed', async () => {
    const copy = answerCopy({ sections: [{ rows: [{ question: 'Full name', answer: ['Zoë Łukasz 😀', '“Quoted” – €5'] }] }] });
    const pdf = await renderAnswersPdf(copy, { fontFolder: '/nonexistent/fonts' });
    assert.match(asText(pdf), /\/BaseFont \/Helvetica\b/);
    assert.doesNotMatch(asText(pdf), /\/FontFile2/);
    const text = drawnText(pdf);
    assert.match(text, /Full name/);
    // Ł has no accent to strip and is not in the standard fonts' repertoire; ë is.
    assert.match(text, /Zoë ukasz/);
    assert.ok(stringsOf(pdf, 'ActualText').includes('Zoë Łukasz 😀'));
  });
});
