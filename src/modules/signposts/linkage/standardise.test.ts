import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidNhsNumber, nameTokens, nhsCheckDigit, standardise, standardiseDate, standardiseIdentifier, standardisePostcode } from './standardise.js';

describe('nameTokens', () => {
  it('lower-cases, strips accents, punctuation and titles', () => {
    assert.deepEqual(nameTokens('Mrs. Zoë  O’Brien'), ['zoe', 'obrien']);
    assert.deepEqual(nameTokens('Dr José-María'), ['jose', 'maria']);
    assert.deepEqual(nameTokens('  '), []);
    assert.deepEqual(nameTokens(undefined), []);
  });
});

describe('standardise', () => {
  it('splits double-barrelled surnames but keeps the whole', () => {
    const r = standardise({ id: '1', forenames: 'Anne Marie', surname: 'Smith-Jones', previousNames: ['Brown', 'Lloyd Webber'] });
    assert.equal(r.forename, 'anne');
    assert.deepEqual(r.forenameTokens, ['anne', 'marie']);
    assert.equal(r.surname, 'smithjones');
    assert.deepEqual(r.surnameParts, ['smith', 'jones']);
    assert.deepEqual(r.previousSurnames, ['brown', 'lloydwebber', 'lloyd', 'webber']);
    assert.equal(standardise({ id: '2', surname: 'smith jones' }).surname, 'smithjones');
  });

  it('precomputes phonetic keys and nickname groups', () => {
    const bill = standardise({ id: '1', forenames: 'Bill', surname: 'Smyth' });
    const william = standardise({ id: '2', forenames: 'William', surname: 'Smith' });
    assert.equal(bill.surnamePhonetic, william.surnamePhonetic);
    assert.ok(bill.forenameGroups.some((g) => william.forenameGroups.includes(g)));
  });

  it('takes a leading house number from the first address line', () => {
    const r = standardise({ id: '1', address: { lines: ['12A High St'], town: 'Borough-on-Sea' } });
    assert.equal(r.streetNumber, '12a');
    assert.equal(r.addressLine, 'high street');
    assert.equal(r.town, 'borough on sea');
  });

  it('normalises identifiers and gender', () => {
    const r = standardise({ id: '1', gender: 'Female', identifiers: { NHS_number: '943 476 5919', empty: ' ' } });
    assert.deepEqual(r.identifiers, { nhs_number: '9434765919' });
    assert.deepEqual(r.identifierKeys, ['nhs_number']);
    assert.equal(r.gender, 'f');
    assert.equal(standardiseIdentifier('ab 12-34 c'), 'AB1234C');
  });
});

describe('standardiseDate', () => {
  it('reads the common formats', () => {
    for (const text of ['19650112', '1965-01-12', '12/01/1965', '12-01-1965', '12.1.1965', '1965-01-12T00:00:00Z']) {
      assert.deepEqual(standardiseDate(text), { text: '19650112', year: 1965, month: 1, day: 12, precision: 'day' }, text);
    }
  });

  it('keeps partial dates', () => {
    assert.deepEqual(standardiseDate('1965'), { text: '1965', year: 1965, month: 0, day: 0, precision: 'year' });
    assert.deepEqual(standardiseDate('1965-03'), { text: '196503', year: 1965, month: 3, day: 0, precision: 'month' });
    assert.deepEqual(standardiseDate('03/1965'), { text: '196503', year: 1965, month: 3, day: 0, precision: 'month' });
  });

  it('drops what cannot be a date, keeping any valid year and month', () => {
    assert.equal(standardiseDate('').precision, 'none');
    assert.equal(standardiseDate('not a date').precision, 'none');
    assert.equal(standardiseDate('00000000').precision, 'none');
    assert.deepEqual(standardiseDate('19650231'), { text: '196502', year: 1965, month: 2, day: 0, precision: 'month' });
    assert.equal(standardiseDate('19651312').precision, 'year');
    assert.equal(standardiseDate('20000229').precision, 'day');
    assert.equal(standardiseDate('19000229').precision, 'month');
  });
});

describe('standardisePostcode', () => {
  it('splits UK postcodes into sector, district and area', () => {
    assert.deepEqual(standardisePostcode(' sw1a1aa '), { full: 'SW1A 1AA', sector: 'SW1A 1', district: 'SW1A', area: 'SW' });
    assert.deepEqual(standardisePostcode('M1 1AE'), { full: 'M1 1AE', sector: 'M1 1', district: 'M1', area: 'M' });
  });

  it('treats other postcodes as opaque strings with prefixes', () => {
    assert.deepEqual(standardisePostcode('4011'), { full: '4011', sector: '401', district: '40', area: '4' });
    assert.equal(standardisePostcode('').full, '');
  });
});

describe('isValidNhsNumber', () => {
  it('checks the modulus 11 check digit', () => {
    assert.ok(isValidNhsNumber('943 476 5919'));
    assert.ok(!isValidNhsNumber('9434765918'));
    assert.ok(!isValidNhsNumber('94347659'));
    assert.ok(!isValidNhsNumber('abcdefghij'));
  });
});

describe('nhsCheckDigit', () => {
  it('gives the modulus 11 check digit, 0 for 11, and none for 10', () => {
    assert.equal(nhsCheckDigit('943476591'), 9);
    // 4,0,0,0,0,0,0,0,1: weighted sum 42, 11 - 42 % 11 = 2.
    assert.equal(nhsCheckDigit('400000001'), 2);
    // Weighted sum 44: 11 - 0 = 11, written as 0.
    assert.equal(nhsCheckDigit('400000002'), 0);
    // Weighted sum 12: 11 - 1 = 10, which no NHS number has.
    assert.equal(nhsCheckDigit('000000006'), undefined);
    assert.equal(isValidNhsNumber('0000000060'), false);
  });
});
