import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidatePairs, dedupe, explain, link, prepare, recordsFromCsv, scorePairs, scorePairsInTurns, trainModel, type PersonRecord } from './index.js';
import { parseCsv } from './csv.js';
import { syntheticPerson, syntheticResidents } from './synthetic.js';

const must = <T>(value: T | undefined): T => {
  assert.ok(value !== undefined);
  return value;
};

describe('recordsFromCsv', () => {
  it('recognises common columns, with comma-and-space separators and empty cells missing', () => {
    const text = [
      'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id',
      'rec-1-org, lachlan, berry, 69, giblin street, killarney, bittern, 4814, qld, 19990219, 7364009',
      'rec-2-org, , waller, , tullaroop street, , st james, 4011, wa, , ',
    ].join('\n');
    const records = recordsFromCsv(text);
    assert.deepEqual(records[0], {
      id: 'rec-1-org',
      forenames: 'lachlan',
      surname: 'berry',
      dob: '19990219',
      postcode: '4814',
      address: { streetNumber: '69', lines: ['giblin street', 'killarney'], town: 'bittern' },
      identifiers: { soc_sec_id: '7364009' },
    });
    assert.deepEqual(records[1], { id: 'rec-2-org', surname: 'waller', postcode: '4011', address: { lines: ['tullaroop street'], town: 'st james' } });
  });

  it('takes other column names from a map and ids from a chosen column', () => {
    const text = 'Ref,First Name,Family,Born,NHS Number,Sex,Old Surname\nR1,"Smith, Jo",Day,1980-03-14,943 476 5919,F,Brown;Green\n';
    const [record] = recordsFromCsv(text, { idColumn: 'ref', map: { surname: 'family', dob: 'born', previousNames: 'old surname' } });
    assert.deepEqual(record, {
      id: 'R1',
      forenames: 'Smith, Jo',
      surname: 'Day',
      previousNames: ['Brown', 'Green'],
      dob: '1980-03-14',
      gender: 'F',
      identifiers: { nhs_number: '943 476 5919' },
    });
    assert.equal(must(recordsFromCsv('first_name\nAnn\n')[0]).id, '1');
    const [withCase] = recordsFromCsv('id,case_ref,forename\n7,C-1,Ann\n', { map: { 'identifier:case': 'case_ref' } });
    assert.deepEqual(withCase, { id: '7', forenames: 'Ann', identifiers: { case: 'C-1' } });
  });

  it('parses quoted cells', () => {
    assert.deepEqual(parseCsv('a,"b ""c"", d"\r\n\n1,2'), [
      ['a', 'b "c", d'],
      ['1', '2'],
    ]);
  });
});

describe('dedupe', () => {
  const records = syntheticResidents({ people: 400, seed: 21 });
  const result = dedupe(records);

  it('groups records of the same person with high precision and recall', () => {
    const clusterOf = new Map(result.clusters.map((c) => [c.id, c.cluster]));
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < records.length; i++) {
      for (let j = i + 1; j < records.length; j++) {
        const same = syntheticPerson(must(records[i]).id) === syntheticPerson(must(records[j]).id);
        const joined = clusterOf.get(must(records[i]).id) === clusterOf.get(must(records[j]).id);
        if (same && joined) tp++;
        else if (joined) fp++;
        else if (same) fn++;
      }
    }
    assert.ok(tp / (tp + fp) > 0.98, `precision ${tp}/${tp + fp}`);
    assert.ok(tp / (tp + fn) > 0.9, `recall ${tp}/${tp + fn}`);
  });

  it('links nickname, typo, swapped names, day/month swap, a changed surname and a move, but keeps twins apart', () => {
    const people: PersonRecord[] = [
      ...records.slice(0, 200),
      { id: 'bill', forenames: 'Bill', surname: 'Fairweather', dob: '19750612', postcode: 'KT5 1AB', address: { streetNumber: '9', lines: ['Elm Road'] } },
      {
        id: 'william',
        forenames: 'William',
        surname: 'Fairweather',
        dob: '19750612',
        postcode: 'KT5 1AB',
        address: { streetNumber: '9', lines: ['Elm Road'] },
      },
      { id: 'typo', forenames: 'Wiliam', surname: 'Fairwether', dob: '19750612', postcode: 'KT5 1AB' },
      { id: 'swap', forenames: 'Fairweather', surname: 'William', dob: '19751206', postcode: 'KT5 1AB' },
      { id: 'maiden', forenames: 'Rosalind', surname: 'Pemberton', dob: '19880917', postcode: 'GU1 3XY', identifiers: { nhs_number: '9434765919' } },
      { id: 'married', forenames: 'Rosalind', surname: 'Achebe', previousNames: ['Pemberton'], dob: '1988-09', postcode: 'GU1 3XY' },
      { id: 'moved', forenames: 'Ros', surname: 'Achebe', dob: '17/09/1988', postcode: 'CR0 2AB', identifiers: { nhs_number: '9434765919' } },
      { id: 'twin-a', forenames: 'Priya', surname: 'Raman', dob: '20150301', postcode: 'SM2 6QT', address: { streetNumber: '22', lines: ['Oak Way'] } },
      { id: 'twin-b', forenames: 'Deepak', surname: 'Raman', dob: '20150301', postcode: 'SM2 6QT', address: { streetNumber: '22', lines: ['Oak Way'] } },
    ];
    const out = dedupe(people, { model: result.model });
    const clusterOf = new Map(out.clusters.map((c) => [c.id, c.cluster]));
    for (const id of ['william', 'typo', 'swap']) assert.equal(clusterOf.get(id), clusterOf.get('bill'), id);
    for (const id of ['married', 'moved']) assert.equal(clusterOf.get(id), clusterOf.get('maiden'), id);
    assert.notEqual(clusterOf.get('maiden'), clusterOf.get('bill'));
    assert.notEqual(clusterOf.get('twin-a'), clusterOf.get('twin-b'));
    assert.ok(out.review.some((r) => r.reason === 'possible twins or siblings' && [r.leftId, r.rightId].sort().join() === 'twin-a,twin-b'));
  });
});

describe('link, scorePairs and explain', () => {
  const all = syntheticResidents({ people: 300, seed: 9, duplicateShare: 1 });
  const a = all.filter((r) => r.id.endsWith('-0'));
  const b = all.filter((r) => r.id.endsWith('-1'));

  it('links two lists one to one', () => {
    const pairs = link(a, b, { oneToOne: true });
    const right = pairs.filter((p) => syntheticPerson(p.leftId) === syntheticPerson(p.rightId)).length;
    assert.ok(right / pairs.length > 0.98, `precision ${right}/${pairs.length}`);
    assert.ok(right / b.length > 0.93, `recall ${right}/${b.length}`);
    assert.equal(new Set(pairs.map((p) => p.leftId)).size, pairs.length);
    for (let k = 1; k < pairs.length; k++) assert.ok(must(pairs[k - 1]).weight >= must(pairs[k]).weight);
  });

  it('scores given pairs and explains one', () => {
    const model = trainModel(a, { linkWith: b });
    const scored = scorePairs(model, a, b, { left: Int32Array.of(0), right: Int32Array.of(0) });
    const explanation = explain(model, must(a[0]), must(b[0]));
    assert.ok(Math.abs(must(scored.weight[0]) - explanation.totalWeight) < 1e-9);
    assert.ok(Math.abs(must(scored.probability[0]) - explanation.probability) < 1e-12);
    assert.equal(explanation.leftId, must(a[0]).id);
  });

  it('scores a slice at a time, the same as all at once, letting other work run between slices', async () => {
    const model = trainModel(a, { linkWith: b });
    const left = prepare(a);
    const right = prepare(b);
    const pairs = candidatePairs(left, right);
    assert.ok(pairs.left.length > 100, `${pairs.left.length} candidate pairs, several slices of 25`);
    let otherWorkRan = false;
    setImmediate(() => (otherWorkRan = true));
    const inTurns = scorePairsInTurns(model, left, right, pairs, 25).then((scored) => ({ scored, otherWorkRan }));
    const whole = scorePairs(model, left, right, pairs);
    const { scored, otherWorkRan: ranBeforeTheEnd } = await inTurns;
    assert.deepEqual(scored.weight, whole.weight);
    assert.deepEqual(scored.probability, whole.probability);
    assert.ok(ranBeforeTheEnd, 'work queued before scoring began ran before scoring ended');
  });
});

describe('edge cases', () => {
  it('handles empty and single-record lists', () => {
    assert.deepEqual(dedupe([]).clusters, []);
    assert.deepEqual(dedupe([{ id: 'only', forenames: 'Ann' }]).clusters, [{ id: 'only', cluster: 0 }]);
    assert.deepEqual(link([], [{ id: 'x' }]), []);
  });

  it('keeps a model usable after a round trip through JSON', () => {
    const records = syntheticResidents({ people: 100, seed: 2 });
    const model = trainModel(records);
    const copy = JSON.parse(JSON.stringify(model)) as typeof model;
    const a = must(records[0]);
    const b = must(records[1]);
    assert.equal(explain(copy, a, b).totalWeight, explain(model, a, b).totalWeight);
  });
});
