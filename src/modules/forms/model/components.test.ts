import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressAnswerSchema, answerType, componentSchema, fileAnswerSchema, isQuestion, locationAnswerSchema, type QuestionComponent } from './components.js';

const q = { id: 'q1', label: 'Question' };
const options = [
  { value: 'a', text: 'A' },
  { value: 'b', text: 'B' },
];

/** For each component type: examples the schema accepts, and examples it refuses. */
const examples: Record<string, { valid: unknown[]; invalid: unknown[] }> = {
  heading: {
    valid: [{ type: 'heading', text: 'About you' }],
    invalid: [
      { type: 'heading', text: '' },
      { type: 'heading', text: 'x', size: 'xl' },
    ],
  },
  paragraph: { valid: [{ type: 'paragraph', text: 'Tell us', showIf: { isEmpty: { answer: 'x' } } }], invalid: [{ type: 'paragraph' }] },
  inset: { valid: [{ type: 'inset', text: 'Note' }], invalid: [{ type: 'inset', text: 'x', colour: 'red' }] },
  warning: { valid: [{ type: 'warning', text: 'Call 999' }], invalid: [{ type: 'warning', text: 7 }] },
  details: { valid: [{ type: 'details', summary: 'Help', text: 'More' }], invalid: [{ type: 'details', text: 'More' }] },
  list: { valid: [{ type: 'list', items: ['one', 'two'], numbered: true }], invalid: [{ type: 'list', items: [] }] },
  text: {
    valid: [
      { type: 'text', ...q },
      { type: 'text', ...q, maxLength: 20, minLength: 2, hint: 'h' },
    ],
    invalid: [
      { type: 'text', id: 'q1' },
      { type: 'text', ...q, maxLength: 0 },
    ],
  },
  textarea: { valid: [{ type: 'textarea', ...q, maxLength: 500 }], invalid: [{ type: 'textarea', ...q, maxLength: -1 }] },
  number: { valid: [{ type: 'number', ...q, whole: false, min: 0, max: 10 }], invalid: [{ type: 'number', ...q, min: 10, max: 1 }] },
  email: { valid: [{ type: 'email', ...q }], invalid: [{ type: 'email', ...q, id: 'has-hyphen' }] },
  ukPhone: { valid: [{ type: 'ukPhone', ...q, mobileOnly: true }], invalid: [{ type: 'ukPhone', ...q, mobileOnly: 'yes' }] },
  postcode: { valid: [{ type: 'postcode', ...q, optional: true }], invalid: [{ type: 'postcode', label: 'Postcode' }] },
  date: {
    valid: [{ type: 'date', ...q, when: 'past', earliest: '1900-01-01', latest: { today: { days: -1 } } }],
    invalid: [
      { type: 'date', ...q, when: 'yesterday' },
      { type: 'date', ...q, earliest: '2024-02-30' },
    ],
  },
  time: { valid: [{ type: 'time', ...q }], invalid: [{ type: 'time', ...q, requiredIf: { bogus: 1 } }] },
  radios: {
    valid: [{ type: 'radios', ...q, options: [{ value: 'a', text: 'A', reveals: [{ type: 'text', id: 'more', label: 'More' }] }, options[1]] }],
    invalid: [
      { type: 'radios', ...q, options: [options[0]] },
      { type: 'radios', ...q, options: [{ value: 'a', text: 'A', reveals: [{ type: 'radios', id: 'r', label: 'R', options }] }, options[1]] },
    ],
  },
  checkboxes: {
    valid: [{ type: 'checkboxes', ...q, options, none: { value: 'none', text: 'None of these' } }],
    invalid: [
      { type: 'checkboxes', ...q, options, none: { value: 'a', text: 'None' } },
      { type: 'checkboxes', ...q, options: [] },
    ],
  },
  select: { valid: [{ type: 'select', ...q, options }], invalid: [{ type: 'select', ...q, options: [{ value: '', text: 'Blank' }] }] },
  yesNo: { valid: [{ type: 'yesNo', ...q }], invalid: [{ type: 'yesNo', ...q, options }] },
  name: { valid: [{ type: 'name', ...q, firstNameLabel: "Child's first name" }], invalid: [{ type: 'name', ...q, firstNameLabel: '' }] },
  address: { valid: [{ type: 'address', ...q, insideBoundary: true }], invalid: [{ type: 'address', ...q, lookup: 'postcode' }] },
  location: { valid: [{ type: 'location', ...q, methods: ['map', 'street'] }], invalid: [{ type: 'location', ...q, methods: ['map'] }] },
  fileUpload: {
    valid: [{ type: 'fileUpload', ...q, accept: ['image/jpeg', 'application/pdf'], maxFiles: 3, maxBytes: 5000000 }],
    invalid: [
      { type: 'fileUpload', ...q, accept: ['.jpg'] },
      { type: 'fileUpload', ...q, accept: ['image/png'], minFiles: 4, maxFiles: 2 },
    ],
  },
  repeatingGroup: {
    valid: [
      {
        type: 'repeatingGroup',
        ...q,
        itemName: 'child',
        min: 1,
        max: 6,
        components: [
          { type: 'name', id: 'childName', label: 'Name' },
          { type: 'date', id: 'dob', label: 'Date of birth', when: 'pastOrToday' },
        ],
      },
    ],
    invalid: [
      { type: 'repeatingGroup', ...q, itemName: 'child', components: [] },
      { type: 'repeatingGroup', ...q, itemName: 'child', components: [{ type: 'repeatingGroup', ...q, itemName: 'x', components: [{ type: 'text', ...q }] }] },
      { type: 'repeatingGroup', ...q, itemName: 'child', min: 3, max: 2, components: [{ type: 'text', ...q }] },
    ],
  },
  declaration: { valid: [{ type: 'declaration', ...q, statement: 'The information I have given is correct.' }], invalid: [{ type: 'declaration', ...q }] },
};

describe('component schemas', () => {
  for (const [type, { valid, invalid }] of Object.entries(examples)) {
    test(`${type}: accepts valid examples and refuses invalid ones`, () => {
      for (const example of valid) {
        const parsed = componentSchema.safeParse(example);
        assert.equal(parsed.success, true, `${JSON.stringify(example)}: ${parsed.error?.message ?? ''}`);
      }
      for (const example of invalid) assert.equal(componentSchema.safeParse(example).success, false, JSON.stringify(example));
    });
  }

  test('an unknown type is refused', () => {
    assert.equal(componentSchema.safeParse({ type: 'signature', ...q }).success, false);
  });

  test('defaults are filled in', () => {
    const parsed = componentSchema.parse({ type: 'textarea', ...q });
    assert.ok(parsed.type === 'textarea');
    assert.equal(parsed.maxLength, 2000);
    assert.equal(parsed.optional, false);
  });

  test('questions are told apart from content, and know the type of their answer', () => {
    const question = componentSchema.parse({ type: 'address', ...q });
    assert.equal(isQuestion(componentSchema.parse({ type: 'inset', text: 'x' })), false);
    assert.ok(isQuestion(question));
    assert.equal(answerType(question as QuestionComponent), 'object');
    assert.equal(answerType(question as QuestionComponent, 'postcode'), 'string');
    assert.equal(answerType(question as QuestionComponent, 'colour'), undefined);
    assert.equal(answerType(componentSchema.parse({ type: 'number', ...q }) as QuestionComponent), 'number');
  });
});

describe('answer shapes', () => {
  test('an address, a location and a file', () => {
    assert.equal(addressAnswerSchema.safeParse({ line1: '1 High Street', town: 'Borough', postcode: 'AA1 1AA', uprn: '100000000001' }).success, true);
    assert.equal(addressAnswerSchema.safeParse({ line1: '', town: 'Borough', postcode: 'AA1 1AA' }).success, false);
    assert.equal(locationAnswerSchema.safeParse({ lat: 51.5, lng: -0.1, usrn: '2000001', givenBy: 'map' }).success, true);
    assert.equal(locationAnswerSchema.safeParse({ lat: 95, lng: 0, givenBy: 'map' }).success, false);
    assert.equal(fileAnswerSchema.safeParse({ fileId: 'f1', filename: 'photo.jpg', contentType: 'image/jpeg', bytes: 1200 }).success, true);
  });
});
