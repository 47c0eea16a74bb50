import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cluster, differentForenames, likelySiblings } from './cluster.js';
import { standardise, type PersonRecord } from './standardise.js';

const twin = (id: string, forenames: string, extra: Partial<PersonRecord> = {}): PersonRecord => ({
  id,
  forenames,
  surname: 'Okafor',
  dob: '20120502',
  postcode: 'KT1 2AB',
  address: { streetNumber: '4', lines: ['Mill Lane'] },
  ...extra,
});

describe('likelySiblings', () => {
  it('flags same birthday, surname and address with clearly different forenames', () => {
    assert.ok(likelySiblings(standardise(twin('1', 'Chidi')), standardise(twin('2', 'Ada'))));
    assert.ok(!likelySiblings(standardise(twin('1', 'Chidi')), standardise(twin('2', 'Chidy'))), 'a typo is the same person');
    assert.ok(!likelySiblings(standardise(twin('1', 'William')), standardise(twin('2', 'Bill'))), 'a nickname is the same person');
    assert.ok(!likelySiblings(standardise(twin('1', 'Chidi')), standardise(twin('2', 'Ada', { postcode: 'SW1A 1AA', address: {} }))));
  });

  it('lets a shared identifier override the guard', () => {
    const a = standardise(twin('1', 'Chidi', { identifiers: { nhs: '9434765919' } }));
    const b = standardise(twin('2', 'Ada', { identifiers: { nhs: '9434765919' } }));
    assert.ok(!likelySiblings(a, b));
    const typo = standardise(twin('3', 'Ada', { identifiers: { nhs: '9434765991' } }));
    assert.ok(!likelySiblings(a, typo));
    const sibling = standardise(twin('4', 'Ada', { identifiers: { nhs: '9434765927' } }));
    assert.ok(likelySiblings(a, sibling));
  });
});

describe('cluster', () => {
  const records = [twin('t1', 'Chidi'), twin('t2', 'Ada'), twin('t3', '', { dob: undefined }), { id: 'x', forenames: 'Chidi', surname: 'Else' }].map((r) =>
    standardise(r),
  );

  it('joins confident pairs and lists uncertain ones for review', () => {
    const result = cluster(records, [
      { left: 0, right: 2, probability: 0.99 },
      { left: 2, right: 3, probability: 0.7 },
    ]);
    assert.equal(result.clusterOf[0], result.clusterOf[2]);
    assert.notEqual(result.clusterOf[2], result.clusterOf[3]);
    assert.deepEqual(result.review, [{ left: 2, right: 3, probability: 0.7, reason: 'uncertain' }]);
    assert.deepEqual([...result.clusterOf], [0, 1, 0, 2]);
  });

  it('never merges likely twins, even through a third record', () => {
    const result = cluster(records, [
      { left: 0, right: 1, probability: 0.999 },
      { left: 0, right: 2, probability: 0.99 },
      { left: 1, right: 2, probability: 0.98 },
    ]);
    assert.notEqual(result.clusterOf[0], result.clusterOf[1]);
    assert.equal(result.clusterOf[0], result.clusterOf[2]);
    assert.deepEqual(
      result.review.map((r) => [r.left, r.right, r.reason]),
      [
        [0, 1, 'possible twins or siblings'],
        [1, 2, 'uncertain'],
      ],
    );
  });

  it('ignores pairs below the review threshold', () => {
    const result = cluster(records, [{ left: 0, right: 3, probability: 0.2 }], { threshold: 0.95, reviewThreshold: 0.3 });
    assert.deepEqual(result.review, []);
    assert.notEqual(result.clusterOf[0], result.clusterOf[3]);
  });
});

it('staff decisions override the model: a rejected pair stays apart, a confirmed pair is joined', () => {
  const records = [
    standardise({ id: 'a', forenames: 'Jane', surname: 'Okafor', dob: '20150301', postcode: 'KM1 1AA' }),
    standardise({ id: 'b', forenames: 'Jane', surname: 'Okafor', dob: '20150301', postcode: 'KM1 1AA' }),
    standardise({ id: 'c', forenames: 'Tom', surname: 'Reid', dob: '19800101', postcode: 'KM2 2BB' }),
    standardise({ id: 'd', forenames: 'Thomas', surname: 'Reed', dob: '19800110', postcode: 'KM3 3CC' }),
  ];
  const pairs = [
    { left: 0, right: 1, probability: 0.999 },
    { left: 2, right: 3, probability: 0.2 },
  ];
  const plain = cluster(records, pairs);
  assert.equal(plain.clusterOf[0], plain.clusterOf[1]);
  assert.notEqual(plain.clusterOf[2], plain.clusterOf[3]);
  const decided = cluster(records, pairs, { decisions: { confirmed: [[2, 3]], rejected: [[0, 1]] } });
  assert.notEqual(decided.clusterOf[0], decided.clusterOf[1]);
  assert.equal(decided.clusterOf[2], decided.clusterOf[3]);
  assert.equal(decided.review.length, 0, 'decided pairs are not asked about again');
});

it('never joins a parent and child at one address, even through a record of each', () => {
  const parent = standardise({ id: 'p', forenames: 'Karen', surname: 'Hartley', dob: '19881120', postcode: 'KM1 2AB' });
  const child = standardise({ id: 'c', forenames: 'Karen', surname: 'Hartley', dob: '20150304', postcode: 'KM1 2AB' });
  const undated = standardise({ id: 'u', forenames: 'Karen', surname: 'Hartley', postcode: 'KM1 2AB' });
  const result = cluster(
    [parent, child, undated],
    [
      { left: 0, right: 2, probability: 0.99 },
      { left: 1, right: 2, probability: 0.98 },
      { left: 0, right: 1, probability: 0.95 },
    ],
  );
  assert.notEqual(result.clusterOf[0], result.clusterOf[1]);
  assert.deepEqual(
    result.review.map((r) => [r.left, r.right]),
    [[1, 2]],
    'the undated record joined the likelier person; whether it is the other is a question for staff',
  );
  const son = standardise({ id: 's', forenames: 'Liam', surname: 'Hartley', postcode: 'KM1 2AB' });
  assert.ok(differentForenames(parent, son));
  const withNumber = (id: string, forenames: string) => standardise({ id, forenames, surname: 'Hartley', identifiers: { nhs_number: '9434765919' } });
  assert.ok(!differentForenames(withNumber('a', 'Karen'), withNumber('b', 'Kaz')), 'unless an identifier is shared');
});
