import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cluster, likelySiblings } from './cluster.js';
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
  const records = [twin('t1', 'Chidi'), twin('t2', 'Ada'), twin('t3', 'Chidi', { dob: undefined }), { id: 'x', forenames: 'Someone', surname: 'Else' }].map(
    (r) => standardise(r),
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
        [1, 2, 'possible twins or siblings'],
      ],
    );
  });

  it('ignores pairs below the review threshold', () => {
    const result = cluster(records, [{ left: 0, right: 3, probability: 0.2 }], { threshold: 0.95, reviewThreshold: 0.3 });
    assert.deepEqual(result.review, []);
    assert.notEqual(result.clusterOf[0], result.clusterOf[3]);
  });
});
