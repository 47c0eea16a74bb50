import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shiftDate } from './dates.js';
import {
  evaluate,
  expressionReferences,
  expressionSchema,
  expressionTypeProblems,
  readPath,
  type EvaluationContext,
  type Expression,
  type ValueType,
} from './expressions.js';

const context: EvaluationContext = {
  today: '2024-03-31',
  profile: { email: 'sam@example.com', address: { postcode: 'AA1 1AA' } },
  answers: {
    age: 34,
    role: 'parent',
    concerns: ['housing', 'school'],
    moved: true,
    notes: 'Worried about Rent arrears',
    startedLivingAlone: '2024-03-25',
    movedOut: '2024-01-10',
    applicant: { firstName: 'Sam', lastName: 'Jones' },
    children: [
      { name: 'Ali', age: 4 },
      { name: 'Bo', age: 9 },
      { name: 'Cy', age: 2 },
    ],
    empty: '  ',
  },
};

const holds = (expression: Expression, on: EvaluationContext = context): boolean => evaluate(expression, on);

describe('dates relative to today', () => {
  test('adding a month to the 31st lands on the last day of a shorter month', () => {
    assert.equal(shiftDate('2024-01-31', { months: 1 }), '2024-02-29');
    assert.equal(shiftDate('2023-01-31', { months: 1 }), '2023-02-28');
    assert.equal(shiftDate('2024-03-31', { months: -1 }), '2024-02-29');
  });
  test('days and weeks cross month and year ends', () => {
    assert.equal(shiftDate('2024-03-03', { days: -7 }), '2024-02-25');
    assert.equal(shiftDate('2023-12-28', { weeks: 1 }), '2024-01-04');
    assert.equal(shiftDate('2024-02-29', { years: -18 }), '2006-02-28');
  });
});

describe('reading answers', () => {
  test('dot paths read fields, and one value per repeated item', () => {
    assert.equal(readPath(context.answers, 'applicant.lastName'), 'Jones');
    assert.deepEqual(readPath(context.answers, 'children.age'), [4, 9, 2]);
    assert.equal(readPath(context.answers, 'children.1.name'), 'Bo');
    assert.equal(readPath(context.answers, 'age.years'), undefined);
  });
});

describe('operators', () => {
  test('equals and notEquals compare answers, literals and profile fields', () => {
    assert.equal(holds({ equals: [{ answer: 'role' }, 'parent'] }), true);
    assert.equal(holds({ equals: [{ answer: 'age' }, '34'] }), false);
    assert.equal(holds({ equals: [{ answer: 'moved' }, true] }), true);
    assert.equal(holds({ notEquals: [{ answer: 'role' }, 'professional'] }), true);
    assert.equal(holds({ equals: [{ profile: 'address.postcode' }, 'AA1 1AA'] }), true);
    assert.equal(holds({ equals: [{ answer: 'concerns' }, { answer: 'concerns' }] }), true);
  });
  test('oneOf', () => {
    assert.equal(holds({ oneOf: [{ answer: 'role' }, ['carer', 'parent']] }), true);
    assert.equal(holds({ oneOf: [{ answer: 'missing' }, ['carer', 'parent']] }), false);
  });
  test('contains looks in lists of choices and, ignoring case, in text', () => {
    assert.equal(holds({ contains: [{ answer: 'concerns' }, 'housing'] }), true);
    assert.equal(holds({ contains: [{ answer: 'concerns' }, 'health'] }), false);
    assert.equal(holds({ contains: [{ answer: 'notes' }, 'rent'] }), true);
    assert.equal(holds({ contains: [{ answer: 'age' }, 3] }), false);
  });
  test('greater and less compare numbers only', () => {
    assert.equal(holds({ greater: [{ answer: 'age' }, 18] }), true);
    assert.equal(holds({ less: [{ answer: 'age' }, 18] }), false);
    assert.equal(holds({ greater: [{ answer: 'role' }, 1] }), false);
    assert.equal(holds({ less: [{ answer: 'missing' }, 1] }), false);
  });
  test('isEmpty treats blank text, empty lists and missing answers as empty', () => {
    assert.equal(holds({ isEmpty: { answer: 'empty' } }), true);
    assert.equal(holds({ isEmpty: { answer: 'missing' } }), true);
    assert.equal(holds({ isEmpty: { answer: 'concerns' } }), false);
    assert.equal(holds({ isEmpty: { answer: 'applicant' } }), false);
  });
  test('dateBefore and dateAfter with absolute dates, today and other answers', () => {
    assert.equal(holds({ dateAfter: [{ answer: 'startedLivingAlone' }, { today: { days: -7 } }] }), true);
    assert.equal(holds({ dateAfter: [{ answer: 'startedLivingAlone' }, { today: { days: -6 } }] }), false);
    assert.equal(holds({ dateBefore: [{ answer: 'movedOut' }, '2024-02-01'] }), true);
    assert.equal(holds({ dateBefore: [{ answer: 'movedOut' }, { answer: 'startedLivingAlone' }] }), true);
    assert.equal(holds({ dateBefore: [{ answer: 'role' }, '2024-02-01'] }), false);
  });
  test('relative dates follow month ends: a month before 31 March is 29 February', () => {
    const onLeapDay = { ...context, answers: { when: '2024-02-29' } };
    assert.equal(holds({ equals: [{ answer: 'when' }, { today: { months: -1 } }] }, onLeapDay), true);
    assert.equal(holds({ dateBefore: [{ answer: 'when' }, { today: { months: -1 } }] }, onLeapDay), false);
  });
  test('countOf counts repeated items, optionally those that match', () => {
    assert.equal(holds({ equals: [{ countOf: 'children' }, 3] }), true);
    assert.equal(holds({ equals: [{ countOf: 'children', where: { less: [{ answer: 'age' }, 5] } }, 2] }), true);
    assert.equal(holds({ equals: [{ countOf: 'concerns' }, 2] }), true);
    assert.equal(holds({ equals: [{ countOf: 'missing' }, 0] }), true);
  });
  test('all, any and not combine', () => {
    assert.equal(holds({ all: [{ equals: [{ answer: 'role' }, 'parent'] }, { greater: [{ answer: 'age' }, 30] }] }), true);
    assert.equal(holds({ all: [{ equals: [{ answer: 'role' }, 'parent'] }, { greater: [{ answer: 'age' }, 40] }] }), false);
    assert.equal(holds({ any: [{ equals: [{ answer: 'role' }, 'carer'] }, { greater: [{ answer: 'age' }, 30] }] }), true);
    assert.equal(holds({ not: { equals: [{ answer: 'role' }, 'parent'] } }), false);
  });
});

describe('expression schema', () => {
  test('accepts the documented forms', () => {
    for (const expression of [
      { all: [{ equals: [{ answer: 'a' }, 1] }, { not: { isEmpty: { answer: 'b.c' } } }] },
      { oneOf: [{ profile: 'ward' }, ['north', 'south']] },
      { dateAfter: [{ answer: 'd' }, { today: { days: -7, months: 1 } }] },
      { greater: [{ countOf: 'children', where: { less: [{ answer: 'age' }, 5] } }, 0] },
    ]) {
      assert.equal(expressionSchema.safeParse(expression).success, true, JSON.stringify(expression));
    }
  });
  test('rejects unknown operators, wrong arity, bad paths and two operators at once', () => {
    for (const expression of [
      { between: [1, 2] },
      { equals: [1] },
      { equals: [{ answer: '1st' }, 1] },
      { equals: [1, 1], notEquals: [1, 2] },
      { all: [] },
      { dateAfter: [{ answer: 'd' }, { today: { days: 1.5 } }] },
    ]) {
      assert.equal(expressionSchema.safeParse(expression).success, false, JSON.stringify(expression));
    }
  });
});

describe('static analysis', () => {
  const types: Record<string, ValueType> = { age: 'number', name: 'string', dob: 'date', kids: 'list', 'kids.age': 'list', agree: 'boolean' };
  const resolve = (path: string, inItem?: string): ValueType | undefined => (inItem === 'kids' && path === 'age' ? 'number' : types[path]);

  test('lists every answer and profile reference with where it is', () => {
    const references = expressionReferences({
      all: [{ equals: [{ answer: 'age' }, 1] }, { greater: [{ countOf: 'kids', where: { less: [{ answer: 'age' }, 5] } }, { profile: 'x' }] }],
    });
    assert.deepEqual(
      references.map((reference) => [reference.kind, reference.path, reference.at.join('.'), reference.inItem]),
      [
        ['answer', 'age', 'all.0.equals.0.answer', undefined],
        ['answer', 'kids', 'all.1.greater.0.countOf', undefined],
        ['answer', 'age', 'all.1.greater.0.where.less.0.answer', 'kids'],
        ['profile', 'x', 'all.1.greater.1.profile', undefined],
      ],
    );
  });
  test('finds comparisons of incompatible types', () => {
    const problems = (expression: Expression): string[] => expressionTypeProblems(expression, resolve).map((problem) => problem.message);
    assert.deepEqual(problems({ equals: [{ answer: 'age' }, 'ten'] }), ['equals compares "age" (number) with "ten" (string)']);
    assert.deepEqual(problems({ dateBefore: [{ answer: 'name' }, { today: {} }] }), ['dateBefore needs dates, but "name" (string) is not a date']);
    assert.deepEqual(problems({ greater: [{ answer: 'dob' }, 3] }), ['greater needs numbers, but "dob" (date) is not a number']);
    assert.deepEqual(problems({ oneOf: [{ answer: 'agree' }, ['yes']] }), ['oneOf compares "agree" (boolean) with "yes" (string)']);
    assert.deepEqual(problems({ contains: [{ answer: 'age' }, 'x'] }), ['contains needs a list of choices or text, but "age" (number) is neither']);
    assert.deepEqual(problems({ equals: [{ countOf: 'name' }, 1] }), ['countOf needs repeated items or a list of choices, but "name" is string']);
    assert.deepEqual(problems({ greater: [{ countOf: 'kids', where: { less: [{ answer: 'age' }, 'x'] } }, 1] }), [
      'less needs numbers, but "x" (string) is not a number',
    ]);
    assert.deepEqual(problems({ all: [{ equals: [{ answer: 'dob' }, '2024-01-01'] }, { dateAfter: [{ answer: 'dob' }, { profile: 'dob' }] }] }), []);
  });
});
