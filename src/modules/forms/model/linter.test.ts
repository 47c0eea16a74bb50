import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FormDefinitionInput } from './definition.js';
import { referralForm } from './fixture.test-support.js';
import { formatPath, hasErrors, lintForm, type Finding } from './linter.js';

type PageInput = FormDefinitionInput['pages'][number];

function formWith(pages: PageInput[], extra: Partial<FormDefinitionInput> = {}): FormDefinitionInput {
  return { schemaVersion: 2, id: 'test', slug: 'test', title: 'Test', pages, ...extra };
}

function page(id: string, components: PageInput['components'] = [], routes?: PageInput['routes']): PageInput {
  return { id, slug: id.toLowerCase(), title: id, components, ...(routes ? { routes } : {}) };
}

const summary = (findings: Finding[]): string[] => findings.map((finding) => `${finding.severity} ${finding.path}: ${finding.message}`);

describe('lintForm', () => {
  test('a sound form has no findings', () => {
    assert.deepEqual(summary(lintForm(referralForm())), []);
  });

  test('schema errors carry their path, following into the expression the author meant', () => {
    const findings = lintForm(
      formWith([
        page(
          'a',
          [{ type: 'text', id: 'name', label: '' }, { type: 'telepathy', id: 'x' } as never],
          [{ when: { equals: [{ answer: 'name' }] }, goTo: 'check-answers' }],
        ),
      ]),
    );
    assert.deepEqual(summary(findings), [
      'error pages[0].components[0].label: Too small: expected string to have >=1 characters',
      'error pages[0].components[1].type: Unknown type "telepathy"',
      'error pages[0].routes[0].when.equals: Too small: expected array to have >=2 items',
    ]);
    assert.equal(hasErrors(findings), true);
  });

  test('an operator that does not exist is reported where it is', () => {
    const findings = lintForm(formWith([page('a', [], [{ when: { between: [1, 2] } as never, goTo: 'check-answers' }])]));
    assert.deepEqual(summary(findings), ['error pages[0].routes[0].when: Not a valid value here: check the operator or property names']);
  });

  test('duplicate page ids, slugs, question ids and section ids', () => {
    const findings = lintForm(
      formWith(
        [
          page('a', [{ type: 'text', id: 'name', label: 'Name' }]),
          { ...page('a', [{ type: 'email', id: 'name', label: 'Email' }]), slug: 'a', section: 'missing' },
          page('c', [
            {
              type: 'repeatingGroup',
              id: 'kids',
              label: 'Kids',
              itemName: 'child',
              components: [
                { type: 'text', id: 'n', label: 'N' },
                { type: 'text', id: 'n', label: 'N' },
              ],
            },
          ]),
        ],
        {
          sections: [
            { id: 's', title: 'S' },
            { id: 's', title: 'T' },
          ],
        },
      ),
    );
    assert.deepEqual(summary(findings), [
      'error pages[1].id: Duplicate page id "a"',
      'error pages[1].slug: Duplicate page slug "a"',
      'error pages[1].components[0].id: Duplicate id "name"',
      'error pages[2].components[0].components[1].id: Duplicate id "n" in the repeating group',
      'error sections[1].id: Duplicate section id "s"',
      'error pages[1].section: Unknown section "missing"',
    ]);
  });

  test('references to unknown questions in showIf, requiredIf, routes and computed values, and to unknown pages', () => {
    const findings = lintForm(
      formWith(
        [
          page('a', [
            { type: 'name', id: 'applicant', label: 'Name', showIf: { isEmpty: { answer: 'ghost' } } },
            { type: 'text', id: 'b', label: 'B', requiredIf: { equals: [{ answer: 'applicant.middleName' }, 'x'] } },
          ]),
          page('z', [], [{ when: { equals: [{ answer: 'applicant.firstName' }, 'Sam'] }, goTo: 'nowhere' }, { goTo: 'check-answers' }]),
        ],
        { computed: [{ id: 'c', cases: [{ value: { answer: 'phantom' } }] }] },
      ),
    );
    assert.deepEqual(summary(findings), [
      'error pages[0].components[0].showIf.isEmpty.answer: Refers to unknown question "ghost"',
      'error pages[0].components[1].requiredIf.equals[0].answer: Refers to unknown question "applicant.middleName"',
      'error computed[0].cases[0].value.answer: Refers to unknown question "phantom"',
      'error pages[1].routes[0].goTo: Goes to unknown page "nowhere"',
    ]);
  });

  test('questions inside a repeating group may refer to the same item', () => {
    const findings = lintForm(
      formWith([
        page('a', [
          {
            type: 'repeatingGroup',
            id: 'kids',
            label: 'Kids',
            itemName: 'child',
            components: [
              { type: 'number', id: 'age', label: 'Age' },
              { type: 'text', id: 'nursery', label: 'Nursery', showIf: { less: [{ answer: 'age' }, 5] } },
            ],
          },
          { type: 'text', id: 'x', label: 'X', showIf: { greater: [{ countOf: 'kids', where: { less: [{ answer: 'age' }, 5] } }, 0] } },
          { type: 'text', id: 'y', label: 'Y', showIf: { less: [{ answer: 'age' }, 5] } },
        ]),
      ]),
    );
    assert.deepEqual(summary(findings), ['error pages[0].components[2].showIf.less[0].answer: Refers to unknown question "age"']);
  });

  test('comparisons of incompatible types and options that do not exist', () => {
    const findings = lintForm(
      formWith([
        page('a', [
          { type: 'number', id: 'age', label: 'Age' },
          { type: 'text', id: 'town', label: 'Town' },
          { type: 'select', id: 'ward', label: 'Ward', options: [{ value: 'north', text: 'North' }] },
          { type: 'text', id: 'q1', label: 'Q', showIf: { equals: [{ answer: 'age' }, 'eighteen'] } },
          { type: 'text', id: 'q2', label: 'Q', showIf: { dateBefore: [{ answer: 'town' }, { today: {} }] } },
          { type: 'text', id: 'q3', label: 'Q', showIf: { oneOf: [{ answer: 'ward' }, ['north', 'west']] } },
        ]),
      ]),
    );
    assert.deepEqual(summary(findings), [
      'error pages[0].components[3].showIf.equals: equals compares "age" (number) with "eighteen" (string)',
      'error pages[0].components[4].showIf.dateBefore: dateBefore needs dates, but "town" (string) is not a date',
      'error pages[0].components[5].showIf.oneOf: "ward" has no option "west"',
    ]);
  });

  test('unreachable pages', () => {
    const findings = lintForm(formWith([page('a', [], [{ goTo: 'c' }]), page('b'), page('c')]));
    assert.deepEqual(summary(findings), ['error pages[1]: Page "b" cannot be reached from the first page']);
  });

  test('pages with no way forward, and routes that are never taken', () => {
    const findings = lintForm(
      formWith([
        page('a', [{ type: 'yesNo', id: 'ok', label: 'OK?' }], [{ when: { equals: [{ answer: 'ok' }, true] }, goTo: 'b' }]),
        page('b', [], [{ goTo: 'check-answers' }, { goTo: 'a' }]),
      ]),
    );
    assert.deepEqual(summary(findings), [
      'error pages[0].routes: No way forward when no condition holds: end the routes with one that has no condition',
      'warning pages[1].routes[1]: This route is never taken: an earlier route has no condition',
      'warning pages[0]: Routes can lead back to an earlier page: a → b',
    ]);
  });

  test('routing loops with no way out are errors; loops with one are warnings', () => {
    const closed = lintForm(formWith([page('a'), page('b', [], [{ goTo: 'c' }]), page('c', [], [{ goTo: 'b' }])]));
    assert.deepEqual(summary(closed), ['error pages[1]: Routing loop with no way out: b → c']);
    const open = lintForm(
      formWith([
        page('a', [{ type: 'yesNo', id: 'again', label: 'Again?' }]),
        page('b', [], [{ when: { equals: [{ answer: 'again' }, true] }, goTo: 'a' }, { goTo: 'check-answers' }]),
      ]),
    );
    assert.deepEqual(summary(open), ['warning pages[0]: Routes can lead back to an earlier page: a → b']);
  });

  test('older schema versions are upgraded before linting', () => {
    assert.deepEqual(
      lintForm({ schemaVersion: 1, id: 'old', slug: 'old', title: 'Old', pages: [{ id: 'a', slug: 'a', title: 'A', components: [], next: 'missing' }] }).map(
        (finding) => finding.message,
      ),
      ['Goes to unknown page "missing"'],
    );
  });

  test('paths are written as in JavaScript', () => {
    assert.equal(formatPath(['pages', 2, 'routes', 0, 'goTo']), 'pages[2].routes[0].goTo');
  });
});
