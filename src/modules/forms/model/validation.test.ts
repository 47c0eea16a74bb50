import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { componentSchema, type QuestionComponent } from './components.js';
import type { EvaluationContext } from './expressions.js';
import { normalisePostcode, validate, type ValidationResult } from './validation.js';

const context: EvaluationContext = { today: '2024-03-31', profile: {}, answers: { wantsCall: true } };

function question(raw: Record<string, unknown>): QuestionComponent {
  return componentSchema.parse({ id: 'q', ...raw }) as QuestionComponent;
}

function error(result: ValidationResult): string | undefined {
  return 'error' in result ? result.error : undefined;
}

function value(result: ValidationResult): unknown {
  assert.ok('value' in result, `expected a value, got ${JSON.stringify(result)}`);
  return result.value;
}

describe('text and textarea', () => {
  const name = question({ type: 'text', label: 'Your reference', maxLength: 10, minLength: 3 });
  test('required, length limits, trimmed value', () => {
    assert.equal(error(validate(name, '  ', context)), 'Enter your reference');
    assert.equal(error(validate(name, 'x'.repeat(11), context)), 'Your reference must be 10 characters or less');
    assert.equal(error(validate(name, 'ab', context)), 'Your reference must be 3 characters or more');
    assert.equal(value(validate(name, ' abc ', context)), 'abc');
  });
  test('a textarea counts characters up to its maximum', () => {
    const details = question({ type: 'textarea', label: 'Details of your complaint', maxLength: 5 });
    assert.equal(error(validate(details, 'abcdef', context)), 'Details of your complaint must be 5 characters or less');
    assert.equal(value(validate(details, 'a\r\nb', context)), 'a\nb');
  });
  test('optional questions may be left empty; requiredIf and shortLabel and requiredMessage apply', () => {
    assert.equal(value(validate(question({ type: 'text', label: 'Nickname', optional: true }), '', context)), undefined);
    const phoneTime = question({
      type: 'text',
      label: 'Best time',
      optional: true,
      requiredIf: { equals: [{ answer: 'wantsCall' }, true] },
      shortLabel: 'a time to call',
    });
    assert.equal(error(validate(phoneTime, '', context)), 'Enter a time to call');
    assert.equal(value(validate(phoneTime, '', { ...context, answers: {} })), undefined);
    assert.equal(
      error(validate(question({ type: 'text', label: 'X', requiredMessage: 'Enter the name of the school' }), '', context)),
      'Enter the name of the school',
    );
  });
  test('a hidden question has no value and no error', () => {
    assert.equal(value(validate(question({ type: 'text', label: 'X', showIf: { isEmpty: { answer: 'wantsCall' } } }), '', context)), undefined);
  });
});

describe('number', () => {
  const children = question({ type: 'number', label: 'Number of children', min: 1, max: 12 });
  test('messages', () => {
    assert.equal(error(validate(children, '', context)), 'Enter number of children');
    assert.equal(error(validate(children, 'three', context)), 'Number of children must be a number');
    assert.equal(error(validate(children, '2.5', context)), 'Number of children must be a whole number');
    assert.equal(error(validate(children, '13', context)), 'Number of children must be between 1 and 12');
    assert.equal(error(validate(question({ type: 'number', label: 'Rent', min: 0 }), '-1', context)), 'Rent must be 0 or more');
    assert.equal(error(validate(question({ type: 'number', label: 'Rent', max: 100 }), '101', context)), 'Rent must be 100 or less');
  });
  test('values, with commas and decimals', () => {
    assert.equal(value(validate(children, ' 3 ', context)), 3);
    assert.equal(value(validate(question({ type: 'number', label: 'Rent', whole: false }), '1,250.50', context)), 1250.5);
  });
});

describe('email, phone and postcode', () => {
  const email = question({ type: 'email', label: 'Your email address' });
  test('email', () => {
    assert.equal(error(validate(email, '', context)), 'Enter your email address');
    for (const wrong of ['name', 'name@', 'name@example', 'a b@example.com']) {
      assert.equal(error(validate(email, wrong, context)), 'Enter an email address in the correct format, like name@example.com');
    }
    assert.equal(value(validate(email, ' sam@example.co.uk ', context)), 'sam@example.co.uk');
  });
  test('UK phone', () => {
    const phone = question({ type: 'ukPhone', label: 'Phone number' });
    assert.equal(error(validate(phone, '', context)), 'Enter phone number');
    for (const wrong of ['12345', '01632 960', 'call me', '+1 202 555 0100']) {
      assert.equal(error(validate(phone, wrong, context)), 'Enter a UK phone number, like 01632 960 001 or 07700 900 982');
    }
    for (const right of ['01632 960 001', '07700 900 982', '+44 7700 900982', '(020) 7946 0000']) assert.equal(value(validate(phone, right, context)), right);
    const mobile = question({ type: 'ukPhone', label: 'Mobile', mobileOnly: true });
    assert.equal(error(validate(mobile, '01632 960 001', context)), 'Enter a UK mobile phone number, like 07700 900 982');
  });
  test('postcode is normalised', () => {
    const postcode = question({ type: 'postcode', label: 'Postcode' });
    assert.equal(error(validate(postcode, '', context)), 'Enter postcode');
    assert.equal(error(validate(postcode, 'SW1A', context)), 'Enter a full UK postcode, like AA1 1AA');
    assert.equal(value(validate(postcode, 'sw1a2aa', context)), 'SW1A 2AA');
    assert.equal(normalisePostcode(' m1   1ae '), 'M1 1AE');
  });
});

describe('date', () => {
  const dob = question({ type: 'date', label: 'Date of birth', when: 'past' });
  test('missing and impossible parts', () => {
    assert.equal(error(validate(dob, { day: '', month: '', year: '' }, context)), 'Enter date of birth');
    assert.deepEqual(validate(dob, { day: '', month: '4', year: '2000' }, context), { error: 'Date of birth must include a day', fields: ['day'] });
    assert.equal(error(validate(dob, { day: '1', month: '', year: '' }, context)), 'Date of birth must include a month and year');
    assert.equal(error(validate(dob, { day: '30', month: '2', year: '2000' }, context)), 'Date of birth must be a real date');
    assert.equal(error(validate(dob, { day: 'x', month: '2', year: '2000' }, context)), 'Date of birth must be a real date');
    assert.deepEqual(validate(dob, { day: '1', month: '2', year: '99' }, context), { error: 'Year must include 4 numbers', fields: ['year'] });
  });
  test('past and future rules', () => {
    assert.equal(error(validate(dob, { day: '31', month: '3', year: '2024' }, context)), 'Date of birth must be in the past');
    assert.equal(value(validate(dob, { day: '30', month: 'Mar', year: '2024' }, context)), '2024-03-30');
    const today = { day: '31', month: '3', year: '2024' };
    assert.equal(value(validate(question({ type: 'date', label: 'Date', when: 'pastOrToday' }), today, context)), '2024-03-31');
    assert.equal(error(validate(question({ type: 'date', label: 'Move date', when: 'future' }), today, context)), 'Move date must be in the future');
    assert.equal(
      error(validate(question({ type: 'date', label: 'Move date', when: 'futureOrToday' }), { day: '1', month: '1', year: '2024' }, context)),
      'Move date must be today or in the future',
    );
    assert.equal(
      error(validate(question({ type: 'date', label: 'Date', when: 'pastOrToday' }), { day: '1', month: '4', year: '2024' }, context)),
      'Date must be today or in the past',
    );
  });
  test('earliest and latest, absolute or relative to today', () => {
    const moved = question({ type: 'date', label: 'Date you moved', earliest: { today: { months: -1 } }, latest: '2024-04-30' });
    assert.equal(error(validate(moved, { day: '28', month: '2', year: '2024' }, context)), 'Date you moved must be the same as or after 29 February 2024');
    assert.equal(value(validate(moved, { day: '29', month: '2', year: '2024' }, context)), '2024-02-29');
    assert.equal(error(validate(moved, { day: '1', month: '5', year: '2024' }, context)), 'Date you moved must be the same as or before 30 April 2024');
  });
});

describe('time', () => {
  const time = question({ type: 'time', label: 'Time of the incident' });
  test('12 and 24 hour times', () => {
    assert.equal(error(validate(time, '', context)), 'Enter time of the incident');
    assert.equal(value(validate(time, '9:30am', context)), '09:30');
    assert.equal(value(validate(time, '12pm', context)), '12:00');
    assert.equal(value(validate(time, '12:15am', context)), '00:15');
    assert.equal(value(validate(time, '14.05', context)), '14:05');
    for (const wrong of ['25:00', '13pm', '9', 'noon', '10:60'])
      assert.equal(error(validate(time, wrong, context)), 'Time of the incident must be a real time, like 9:30am or 14:30');
  });
});

describe('choices', () => {
  const options = [
    { value: 'parent', text: 'Parent' },
    { value: 'professional', text: 'Professional', showIf: { equals: [{ answer: 'wantsCall' }, false] } },
  ];
  test('radios and select accept only visible options', () => {
    const radios = question({ type: 'radios', label: 'Who is referring', options });
    assert.equal(error(validate(radios, '', context)), 'Select who is referring');
    assert.equal(error(validate(radios, 'professional', context)), 'Select who is referring');
    assert.equal(value(validate(radios, 'parent', context)), 'parent');
    const select = question({ type: 'select', label: 'Ward', options: [{ value: 'north', text: 'North' }] });
    assert.equal(error(validate(select, 'south', context)), 'Select ward');
    assert.equal(value(validate(select, 'north', context)), 'north');
  });
  test('checkboxes, with an exclusive none option', () => {
    const concerns = question({
      type: 'checkboxes',
      label: 'What are your concerns',
      options: [
        { value: 'housing', text: 'Housing' },
        { value: 'school', text: 'School' },
      ],
      none: { value: 'none', text: 'None of these' },
    });
    assert.equal(error(validate(concerns, undefined, context)), 'Select what are your concerns');
    assert.deepEqual(value(validate(concerns, 'housing', context)), ['housing']);
    assert.deepEqual(value(validate(concerns, ['housing', 'school', 'housing'], context)), ['housing', 'school']);
    assert.deepEqual(value(validate(concerns, ['none'], context)), ['none']);
    assert.equal(error(validate(concerns, ['none', 'school'], context)), 'Select what are your concerns, or select ‘None of these’');
    assert.equal(error(validate(concerns, ['pets'], context)), 'Select what are your concerns');
  });
  test('yes or no', () => {
    const yesNo = question({ type: 'yesNo', label: 'Is a child in immediate danger?' });
    assert.equal(error(validate(yesNo, '', context)), 'Select yes or no');
    assert.equal(
      error(validate(question({ type: 'yesNo', label: 'X', requiredMessage: 'Select yes if a child is in danger' }), 'maybe', context)),
      'Select yes if a child is in danger',
    );
    assert.equal(value(validate(yesNo, 'yes', context)), true);
    assert.equal(value(validate(yesNo, 'no', context)), false);
  });
});

describe('name and declaration', () => {
  test('name needs both parts', () => {
    const name = question({ type: 'name', label: 'Your name' });
    assert.equal(error(validate(name, { firstName: '', lastName: '' }, context)), 'Enter your name');
    assert.deepEqual(validate(name, { firstName: 'Sam', lastName: ' ' }, context), { error: 'Enter last name', fields: ['lastName'] });
    assert.deepEqual(validate(name, { firstName: '', lastName: 'Jones' }, context), { error: 'Enter first name', fields: ['firstName'] });
    assert.equal(error(validate(name, { firstName: 'x'.repeat(101), lastName: 'Jones' }, context)), 'First name must be 100 characters or less');
    assert.deepEqual(value(validate(name, { firstName: ' Sam ', lastName: 'Jones' }, context)), { firstName: 'Sam', lastName: 'Jones' });
  });
  test('declaration must be confirmed', () => {
    const declaration = question({ type: 'declaration', label: 'Declaration', statement: 'I confirm the information is correct.' });
    assert.equal(error(validate(declaration, undefined, context)), 'Confirm you have read and agree to the declaration');
    assert.equal(value(validate(declaration, 'confirmed', context)), true);
  });
  test('types assembled elsewhere are not validated from form fields', () => {
    assert.throws(() => validate(question({ type: 'address', label: 'Address' }), {}, context), /not validated from form fields/);
  });
});
