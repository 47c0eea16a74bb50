import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { prepare, trainModel, type LinkageModel, type PersonRecord } from './index.js';
import { isSearchable, SearchIndex } from './search.js';
import { syntheticPerson, syntheticResidents } from './synthetic.js';

const today = new Date(Date.UTC(2026, 5, 15));

const known: PersonRecord[] = [
  {
    id: 'k1',
    forenames: 'William',
    surname: 'Featherstonehaugh',
    dob: '2012-04-03',
    postcode: 'KT1 2AB',
    address: { streetNumber: '14', lines: ['Acacia Avenue'], town: 'Kingston' },
    identifiers: { nhs_number: '9434765919' },
  },
  { id: 'k2', forenames: 'Priyanka', surname: 'Okonkwo-Baptiste', previousNames: ['Lindqvist'], dob: '1990-11-23', postcode: 'SM2 5XY' },
  { id: 'k3', forenames: 'Zebedee', surname: 'Quartermaine', dob: '2015-07-01', postcode: 'CR0 1AA', identifiers: { upn: 'A123456789012' } },
  // Same surname and postcode as k3, a different child.
  { id: 'k4', forenames: 'Ottoline', surname: 'Quartermaine', dob: '2017-02-09', postcode: 'CR0 1AA' },
];

let model: LinkageModel;
let base: { record: PersonRecord; personId: string }[];

function build(): SearchIndex {
  const index = new SearchIndex(model, { today });
  index.upsert(base);
  index.upsert(known.map((record) => ({ record, personId: `person-${record.id}` })));
  return index;
}

const first = (index: SearchIndex, query: Parameters<SearchIndex['search']>[0]): string | undefined => index.search(query)[0]?.personId;

describe('SearchIndex', () => {
  before(() => {
    const residents = syntheticResidents({ people: 1500 });
    model = trainModel(prepare([...residents, ...known]));
    base = residents.map((record) => ({ record, personId: syntheticPerson(record.id) }));
  });

  it('finds a person from a mistyped name', () => {
    const index = build();
    assert.equal(first(index, { name: 'William Featherstonhaugh' }), 'person-k1');
    assert.equal(first(index, { forenames: 'Zebedie', surname: 'Quatermaine' }), 'person-k3');
  });

  it('finds a person from a nickname', () => {
    const index = build();
    const hits = index.search({ name: 'Bill Featherstonehaugh' });
    assert.equal(hits[0]?.personId, 'person-k1');
    assert.ok((hits[0]?.score ?? 0) > 0 && (hits[0]?.score ?? 0) <= 1, `score ${hits[0]?.score}`);
    const agreement = index.agreement({ name: 'Bill Featherstonehaugh', dob: '2012-03-04' }, 'k1');
    assert.deepEqual(
      agreement.map((f) => f.description),
      ['Forename: nickname, spelling variant or shortened form', 'Surname: exact match', 'Date of birth: day and month swapped'],
    );
    assert.ok(
      agreement.every((f) => f.weight > 0),
      'each agreeing field adds weight',
    );
  });

  it('finds a person with forename and surname swapped, as free text or with a comma', () => {
    const index = build();
    assert.equal(first(index, { name: 'Featherstonehaugh William' }), 'person-k1');
    assert.equal(first(index, { name: 'Featherstonehaugh, William' }), 'person-k1');
    assert.equal(first(index, { forenames: 'Quartermaine', surname: 'Zebedee' }), 'person-k3');
  });

  it('finds a person by a previous surname or one part of a double-barrelled one', () => {
    const index = build();
    assert.equal(first(index, { name: 'Priyanka Lindqvist' }), 'person-k2');
    assert.equal(first(index, { surname: 'Baptiste', dob: '23/11/1990' }), 'person-k2');
  });

  it('finds a record exactly by NHS number or UPN, in any spacing, and with one digit mistyped', () => {
    const index = build();
    const hits = index.search({ identifier: '943 476 5919' });
    assert.equal(hits.length, 1);
    assert.equal(hits[0]?.personId, 'person-k1');
    assert.deepEqual(
      hits[0]?.records.map((r) => r.id),
      ['k1'],
    );
    assert.equal(first(index, { identifier: 'a123456789012' }), 'person-k3');
    assert.equal(first(index, { identifier: '9434756919' }), 'person-k1');
  });

  it('ranks the right person first from date of birth and surname among people sharing the surname', () => {
    const index = build();
    const hits = index.search({ surname: 'Quartermaine', dob: '2017-02-09' });
    assert.equal(hits[0]?.personId, 'person-k4');
    assert.equal(hits[1]?.personId, 'person-k3');
    assert.ok((hits[0]?.score ?? 0) > (hits[1]?.score ?? 0));
    // Day and month swapped still ranks the right child first.
    assert.equal(first(index, { surname: 'Quartermaine', dob: '2017-09-02' }), 'person-k4');
  });

  it('filters by age range, and will not search on an age range alone', () => {
    const index = build();
    // k3 is 10 and k4 is 9 on the index's date.
    assert.deepEqual(
      index.search({ surname: 'Quartermaine', ageFrom: 10, ageTo: 12 }).map((h) => h.personId),
      ['person-k3'],
    );
    assert.deepEqual(
      index.search({ surname: 'Quartermaine', ageFrom: 0, ageTo: 9 }).map((h) => h.personId),
      ['person-k4'],
    );
    assert.deepEqual(index.search({ ageFrom: 0, ageTo: 18 }), []);
    assert.equal(isSearchable({ ageFrom: 0, ageTo: 18 }), false);
    assert.equal(isSearchable({ postcode: 'CR0 1AA' }), true);
  });

  it('finds people by postcode, partial postcode and address', () => {
    const index = build();
    const people = index.search({ postcode: 'cr01aa' }).map((h) => h.personId);
    assert.deepEqual(people.slice(0, 2).sort(), ['person-k3', 'person-k4']);
    assert.ok(index.search({ postcode: 'CR0 1', surname: 'Quartermaine' }).some((h) => h.personId === 'person-k4'));
    assert.equal(first(index, { address: '14 Acacia Ave', surname: 'Featherstonehaugh' }), 'person-k1');
    assert.equal(first(index, { address: '14 Acacia Avenue, Kingston' }), 'person-k1');
    assert.ok(index.search({ postcode: 'KT1', name: 'William' }).some((h) => h.personId === 'person-k1'));
  });

  it('returns capped results for a common surname alone', () => {
    const index = build();
    const hits = index.search({ surname: 'Smith' }, { limit: 10 });
    assert.equal(hits.length, 10);
    for (let i = 1; i < hits.length; i++) assert.ok((hits[i - 1]?.score ?? 0) >= (hits[i]?.score ?? 0));
  });

  it('groups the records of one person', () => {
    const index = build();
    const duplicated = base.filter((b) => b.record.id.endsWith('-1'))[0];
    assert.ok(duplicated);
    const { record } = duplicated;
    const hits = index.search({ forenames: record.forenames, surname: record.surname, dob: record.dob });
    const hit = hits.find((h) => h.personId === duplicated.personId);
    assert.ok(hit);
    assert.ok(hit.records.length >= 1);
    assert.equal(new Set(hits.map((h) => h.personId)).size, hits.length);
  });

  it('removes records', () => {
    const index = build();
    const size = index.size;
    index.remove(['k1', 'no-such-record']);
    assert.equal(index.size, size - 1);
    assert.equal(
      index.search({ identifier: '9434765919' }).some((h) => h.personId === 'person-k1'),
      false,
    );
    assert.notEqual(first(index, { name: 'William Featherstonehaugh' }), 'person-k1');
  });

  it('replaces a record by id on upsert, with its new person and details', () => {
    const index = build();
    const size = index.size;
    index.upsert([{ record: { ...(known[3] as PersonRecord), surname: 'Lovelace' }, personId: 'person-k3' }]);
    assert.equal(index.size, size);
    const hits = index.search({ surname: 'Quartermaine', dob: '2017-02-09' });
    assert.equal(
      hits.some((h) => h.personId === 'person-k4'),
      false,
    );
    // Found by date of birth now, grouped with the record it was re-linked to.
    assert.equal(hits[0]?.personId, 'person-k3');
    assert.deepEqual(hits[0]?.records.map((r) => r.id).sort(), ['k3', 'k4']);
    const hit = index.search({ surname: 'Lovelace', dob: '2017-02-09' })[0];
    assert.equal(hit?.personId, 'person-k3');
    assert.deepEqual(
      hit?.records.map((r) => r.id),
      ['k4'],
    );
    // The slot freed by a removal is reused.
    index.remove(['k2']);
    index.upsert([{ record: { id: 'k5', forenames: 'Ada', surname: 'Byron', dob: '2015-12-10' }, personId: 'person-k5' }]);
    assert.equal(first(index, { name: 'Ada Byron' }), 'person-k5');
    assert.notEqual(first(index, { name: 'Priyanka Lindqvist' }), 'person-k2');
  });

  it('finds a person by an alias, whole or as a forename, and only while the record gives it', () => {
    const index = build();
    const jayden: PersonRecord = { id: 'k6', forenames: 'Jayden', surname: 'Okafor', aliases: ['Jay', 'Marsh, Tyler'], dob: '2011-05-17', postcode: 'KT2 6QP' };
    index.upsert([{ record: jayden, personId: 'person-k6' }]);
    const size = index.size;
    // "Jay" is a forename the record's surname goes with; "Marsh, Tyler" is a whole other name.
    for (const query of [{ name: 'Jay Okafor' }, { name: 'Tyler Marsh' }, { surname: 'Marsh', forenames: 'Tyler' }]) {
      const hits = index.search(query);
      assert.equal(hits[0]?.personId, 'person-k6', `${JSON.stringify(query)} finds the record by its alias`);
      assert.deepEqual(
        hits[0]?.records.map((r) => r.id),
        ['k6'],
        'the record is listed once, not once per name',
      );
    }
    assert.equal(index.size, size, 'aliases are not counted as records');
    assert.deepEqual(
      index.agreement({ name: 'Tyler Marsh' }, 'k6').map((f) => f.description),
      ['Forename: exact match', 'Surname: exact match'],
      'explained under the name that found it; what was not sought is left out',
    );
    index.upsert([{ record: { ...jayden, aliases: [] }, personId: 'person-k6' }]);
    assert.equal(
      index.search({ name: 'Tyler Marsh' }).some((h) => h.personId === 'person-k6'),
      false,
      'an alias dropped by a later extract no longer finds it',
    );
    assert.equal(first(index, { name: 'Jayden Okafor' }), 'person-k6');
    index.upsert([{ record: jayden, personId: 'person-k6' }]);
    index.remove(['k6']);
    assert.equal(
      index.search({ name: 'Tyler Marsh' }).some((h) => h.personId === 'person-k6'),
      false,
      'a removed record is not found by its aliases either',
    );
  });

  it('scores with a new model after setModel', () => {
    const index = build();
    const before = index.search({ name: 'Zebedee Quartermaine' })[0]?.score ?? 0;
    index.setModel({ ...model, prior: 0.5 });
    const after = index.search({ name: 'Zebedee Quartermaine' })[0]?.score ?? 0;
    assert.ok(after > before);
  });
});
