import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidatePairs } from './blocking.js';
import { explainPair } from './explain.js';
import { probabilityFromWeight, scoreWeights, train } from './model.js';
import { standardise } from './standardise.js';
import { syntheticResidents } from './synthetic.js';

const must = <T>(value: T | undefined): T => {
  assert.ok(value !== undefined);
  return value;
};

const records = syntheticResidents({ people: 300, seed: 5 }).map((r) => standardise(r));
const model = train(records, records, candidatePairs(records, undefined));

describe('explainPair', () => {
  const a = standardise({ id: 'a', forenames: 'Bill', surname: 'Smith', dob: '19800304', postcode: 'KT1 2AB' });
  const b = standardise({ id: 'b', forenames: 'William', surname: 'Smith', dob: '19800403', postcode: 'KT1 2AB', gender: 'm' });
  const explanation = explainPair(model, a, b);

  it('describes each field in words', () => {
    const described = Object.fromEntries(explanation.fields.map((f) => [f.field, f.description]));
    assert.equal(described.forename, 'Forename: nickname, spelling variant or shortened form');
    assert.equal(described.dob, 'Date of birth: day and month swapped');
    assert.equal(described.postcode, 'Postcode: exact match');
    assert.equal(described.gender, 'Gender: missing on one or both records');
  });

  it('shows the values compared', () => {
    const dob = must(explanation.fields.find((f) => f.field === 'dob'));
    assert.deepEqual([dob.leftValue, dob.rightValue], ['19800304', '19800403']);
    const gender = must(explanation.fields.find((f) => f.field === 'gender'));
    assert.deepEqual([gender.leftValue, gender.rightValue], ['', 'm']);
  });

  it('sums the prior and field weights to the total, which gives the probability', () => {
    const sum = explanation.priorWeight + explanation.fields.reduce((t, f) => t + f.weight, 0);
    assert.ok(Math.abs(sum - explanation.totalWeight) < 1e-9);
    assert.equal(explanation.probability, probabilityFromWeight(explanation.totalWeight));
    assert.ok(Math.abs(explanation.priorWeight - Math.log2(model.prior / (1 - model.prior))) < 1e-9);
  });

  it('agrees with the scoring pass and gives missing fields no weight', () => {
    const [weight] = scoreWeights(model, [a], [b], { left: Int32Array.of(0), right: Int32Array.of(0) });
    assert.ok(Math.abs(must(weight) - explanation.totalWeight) < 1e-9);
    assert.equal(must(explanation.fields.find((f) => f.field === 'gender')).weight, 0);
    const surname = must(explanation.fields.find((f) => f.field === 'surname'));
    assert.ok(Math.abs(surname.weight - (Math.log2(surname.m / surname.u) + surname.frequencyAdjustment)) < 1e-9);
    assert.ok(Math.abs(surname.bayesFactor - 2 ** surname.weight) < 1e-9);
  });
});
