import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparisonByKey, COMPARISONS, compareInto } from './comparisons.js';
import { standardise, type PersonRecord } from './standardise.js';

const must = <T>(value: T | undefined): T => {
  assert.ok(value !== undefined);
  return value;
};

const level = (key: string, a: Omit<PersonRecord, 'id'>, b: Omit<PersonRecord, 'id'>): string => {
  const comparison = must(comparisonByKey.get(key));
  return must(comparison.levels[comparison.compare(standardise({ id: 'a', ...a }), standardise({ id: 'b', ...b }))]).key;
};

describe('forename levels', () => {
  it('grades agreement', () => {
    assert.equal(level('forename', { forenames: 'William' }, { forenames: 'william' }), 'exact');
    assert.equal(level('forename', { forenames: 'Bill' }, { forenames: 'William' }), 'nickname');
    assert.equal(level('forename', { forenames: 'Ros' }, { forenames: 'Rosalind' }), 'nickname');
    assert.equal(level('forename', { forenames: 'Al' }, { forenames: 'Alan' }), 'nickname');
    assert.equal(level('forename', { forenames: 'Jo' }, { forenames: 'Jonquil' }), 'else');
    assert.equal(level('forename', { forenames: 'Williem' }, { forenames: 'William' }), 'jw92');
    assert.equal(level('forename', { forenames: 'Anne Marie' }, { forenames: 'Marie' }), 'other');
    assert.equal(level('forename', { forenames: 'Philippa' }, { forenames: 'Filipa' }), 'phonetic');
    assert.equal(level('forename', { forenames: 'William' }, { forenames: 'Margaret' }), 'else');
    assert.equal(level('forename', { forenames: 'William' }, {}), 'null');
  });

  it('recognises forename and surname swapped', () => {
    const a = { forenames: 'James', surname: 'Morgan' };
    const b = { forenames: 'Morgan', surname: 'James' };
    assert.equal(level('forename', a, b), 'swapped');
    assert.equal(level('surname', a, b), 'swapped');
  });
});

describe('surname levels', () => {
  it('grades agreement, including previous and double-barrelled surnames', () => {
    assert.equal(level('surname', { surname: 'Smith' }, { surname: 'SMITH' }), 'exact');
    assert.equal(level('surname', { surname: 'Thompson' }, { surname: 'Thomson' }), 'jw92');
    assert.equal(level('surname', { surname: 'Smith', previousNames: ['Brown'] }, { surname: 'Brown' }), 'previous');
    assert.equal(level('surname', { surname: 'Smith-Jones' }, { surname: 'Jones' }), 'previous');
    assert.equal(level('surname', { surname: 'Smith' }, { surname: 'Patel' }), 'else');
    assert.equal(level('surname', {}, { surname: 'Patel' }), 'null');
  });
});

describe('date of birth levels', () => {
  it('grades agreement', () => {
    assert.equal(level('dob', { dob: '1980-03-14' }, { dob: '14/03/1980' }), 'exact');
    assert.equal(level('dob', { dob: '19800314' }, { dob: '19800315' }), 'typo');
    assert.equal(level('dob', { dob: '19800304' }, { dob: '19800403' }), 'swapped');
    assert.equal(level('dob', { dob: '19800314' }, { dob: '19810315' }), 'typo2');
    assert.equal(level('dob', { dob: '1980-03' }, { dob: '19800314' }), 'month');
    assert.equal(level('dob', { dob: '1980' }, { dob: '19801225' }), 'year');
    assert.equal(level('dob', { dob: '1981' }, { dob: '19801225' }), 'year1');
    assert.equal(level('dob', { dob: '19500101' }, { dob: '19801225' }), 'else');
    assert.equal(level('dob', { dob: 'unknown' }, { dob: '19801225' }), 'null');
  });
});

describe('postcode, address, town, identifier and gender levels', () => {
  it('grades postcodes by sector, typo, district and area', () => {
    assert.equal(level('postcode', { postcode: 'kt1 2ab' }, { postcode: 'KT12AB' }), 'exact');
    assert.equal(level('postcode', { postcode: 'KT1 2AB' }, { postcode: 'KT1 2XY' }), 'sector');
    assert.equal(level('postcode', { postcode: 'KT1 2AB' }, { postcode: 'KT1 3AB' }), 'typo');
    assert.equal(level('postcode', { postcode: 'KT1 2AB' }, { postcode: 'KT1 5XY' }), 'district');
    assert.equal(level('postcode', { postcode: 'KT1 2AB' }, { postcode: 'KT9 5XY' }), 'area');
    assert.equal(level('postcode', { postcode: 'KT1 2AB' }, { postcode: 'SW1A 1AA' }), 'else');
  });

  it('grades addresses', () => {
    const home = { address: { streetNumber: '12', lines: ['High Street'] } };
    assert.equal(level('address', home, { address: { lines: ['12 high st'] } }), 'exact');
    assert.equal(level('address', home, { address: { streetNumber: '12', lines: ['Hihg Stret'] } }), 'similar');
    assert.equal(level('address', home, { address: { streetNumber: '14', lines: ['High Street'] } }), 'street');
    assert.equal(level('address', home, { address: { streetNumber: '12', lines: ['Mill Lane'] } }), 'number');
    assert.equal(level('address', home, { address: { streetNumber: '3', lines: ['Mill Lane'] } }), 'else');
    assert.equal(level('address', home, {}), 'null');
  });

  it('grades towns, identifiers and gender', () => {
    assert.equal(level('town', { address: { town: 'Guildford' } }, { address: { town: 'Guilford' } }), 'similar');
    assert.equal(level('identifiers', { identifiers: { nhs: '9434765919' } }, { identifiers: { nhs: '943 476 5919' } }), 'exact');
    assert.equal(level('identifiers', { identifiers: { nhs: '9434765919' } }, { identifiers: { nhs: '9434765991' } }), 'typo');
    assert.equal(level('identifiers', { identifiers: { nhs: '9434765919' } }, { identifiers: { nhs: '1234567890' } }), 'else');
    assert.equal(level('identifiers', { identifiers: { nhs: '9434765919' } }, { identifiers: { upn: '9434765919' } }), 'null');
    assert.equal(level('gender', { gender: 'M' }, { gender: 'male' }), 'exact');
  });
});

describe('compareInto', () => {
  it('writes the same levels as each comparison', () => {
    const a = standardise({ id: 'a', forenames: 'Bill', surname: 'Smith', dob: '19800314', postcode: 'KT1 2AB', gender: 'm' });
    const b = standardise({ id: 'b', forenames: 'William', surname: 'Smyth', dob: '19800413', postcode: 'KT1 2AD' });
    const out = new Uint8Array(COMPARISONS.length + 2);
    compareInto(a, b, out, 2);
    assert.deepEqual(
      [...out.slice(2)],
      COMPARISONS.map((c) => c.compare(a, b)),
    );
  });
});

describe('address levels', () => {
  it('counts a move once: a different address in another postcode weighs nothing beyond the postcode', () => {
    const address = COMPARISONS.find((c) => c.key === 'address');
    assert.ok(address);
    const home = standardise({ id: 'a', postcode: 'KM1 2AB', address: { streetNumber: '4', lines: ['Mill Lane'] } });
    const moved = standardise({ id: 'b', postcode: 'KM7 9ZT', address: { streetNumber: '44', lines: ['Quarry Mews'] } });
    const sameArea = standardise({ id: 'c', postcode: 'KM1 2AD', address: { streetNumber: '44', lines: ['Quarry Mews'] } });
    assert.equal(address.levels[address.compare(home, moved)]?.key, 'moved');
    assert.equal(address.levels[address.compare(home, moved)]?.neutral, true);
    assert.equal(address.levels[address.compare(home, sameArea)]?.key, 'else');
  });
});
