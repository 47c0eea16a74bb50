import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formDefinitionSchema } from './definition.js';
import { referralForm } from './fixture.test-support.js';
import { journey, nextPage, pathTaken, pruneAnswers, withComputed, type RoutingContext } from './routing.js';

const form = formDefinitionSchema.parse(referralForm());
const context: RoutingContext = { today: '2024-03-31', profile: {} };

describe('next page', () => {
  test('takes the first route that holds', () => {
    assert.deepEqual(nextPage(form, 'danger', { inDanger: true }, context), { page: 'callNow' });
    assert.deepEqual(nextPage(form, 'danger', { inDanger: false }, context), { page: 'who' });
    assert.deepEqual(nextPage(form, 'callNow', {}, context), { exit: 'https://example.org/emergency' });
    assert.deepEqual(nextPage(form, 'consent', {}, context), { checkAnswers: true });
  });
  test('a page without routes continues to the next page', () => {
    assert.deepEqual(nextPage(form, 'who', {}, context), { page: 'children' });
    assert.deepEqual(nextPage(form, 'early', {}, context), { page: 'consent' });
  });
  test('an unknown page, or no route that holds, leads nowhere', () => {
    assert.equal(nextPage(form, 'nowhere', {}, context), undefined);
    const stuck = formDefinitionSchema.parse({
      ...referralForm(),
      pages: [{ id: 'a', slug: 'a', title: 'A', components: [], routes: [{ when: { isEmpty: 1 }, goTo: 'a' }] }],
    });
    assert.equal(nextPage(stuck, 'a', {}, context), undefined);
    assert.deepEqual(journey(stuck, {}, context), { pages: ['a'], end: 'stuck' });
  });
});

describe('path taken', () => {
  test('stops at the exit for a child in danger', () => {
    assert.deepEqual(journey(form, { inDanger: true }, context), { pages: ['danger', 'callNow'], end: { exit: 'https://example.org/emergency' } });
  });
  test('visits early years only when a child is under five (countOf with where)', () => {
    assert.deepEqual(pathTaken(form, { inDanger: false, children: [{ age: 7 }, { age: 3 }] }, context), ['danger', 'who', 'children', 'early', 'consent']);
    assert.deepEqual(pathTaken(form, { inDanger: false, children: [{ age: 7 }] }, context), ['danger', 'who', 'children', 'consent']);
  });
  test('a route that leads back to a page already seen ends the path', () => {
    const looping = formDefinitionSchema.parse({
      ...referralForm(),
      pages: [
        { id: 'a', slug: 'a', title: 'A', components: [] },
        { id: 'b', slug: 'b', title: 'B', components: [], routes: [{ goTo: 'a' }] },
      ],
    });
    assert.deepEqual(journey(looping, {}, context), { pages: ['a', 'b'], end: 'loop' });
  });
});

describe('computed values', () => {
  test('are worked out from answers', () => {
    assert.equal(withComputed(form, { children: [{ age: 2 }] }, context).hasUnderFives, true);
    assert.equal(withComputed(form, { children: [{ age: 12 }] }, context).hasUnderFives, false);
  });
});

describe('pruning answers', () => {
  const full = {
    inDanger: false,
    role: 'family',
    organisation: 'Northside School',
    children: [
      { childName: 'Ali', age: 7, nursery: 'Little Acorns' },
      { childName: 'Bo', age: 3, nursery: 'Little Acorns' },
    ],
    earlyYears: 'Speech therapy',
    consent: true,
    noConsentReason: 'Not asked',
    stray: 'not a question',
  };
  test('drops follow-ups of options not chosen, hidden questions, hidden items and unknown keys', () => {
    assert.deepEqual(pruneAnswers(form, full, context), {
      inDanger: false,
      role: 'family',
      children: [
        { childName: 'Ali', age: 7 },
        { childName: 'Bo', age: 3, nursery: 'Little Acorns' },
      ],
      earlyYears: 'Speech therapy',
      consent: true,
    });
  });
  test('keeps follow-ups of chosen options', () => {
    assert.equal(pruneAnswers(form, { ...full, role: 'professional' }, context).organisation, 'Northside School');
  });
  test('drops pages left off the route after a changed answer', () => {
    const older = pruneAnswers(form, { ...full, children: [{ childName: 'Ali', age: 7 }] }, context);
    assert.equal(older.earlyYears, undefined);
    assert.deepEqual(pruneAnswers(form, { ...full, inDanger: true }, context), { inDanger: true });
  });
});
