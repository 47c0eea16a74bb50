import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES } from '#modules/account/permissions';
import { demoColumns, demoDataset } from './demo-data.js';
import { isValidNhsNumber } from './linkage/index.js';
import { loadSignpostsConfig, mapExtract, type SignpostsConfig } from './model/sources.js';

const config = loadSignpostsConfig('council', new Set([...Object.keys(ROLES), 'safeguarding-lead'])) as SignpostsConfig;
const data = demoDataset({ people: 2000, seed: 7 });

describe('demo dataset', () => {
  it('is the same for the same seed and differs for another', () => {
    const again = demoDataset({ people: 2000, seed: 7 });
    assert.deepEqual(again.extracts, data.extracts);
    assert.deepEqual([...again.truth], [...data.truth]);
    assert.deepEqual(again.twins, data.twins);
    const other = demoDataset({ people: 2000, seed: 8 });
    assert.notDeepEqual(other.extracts[4]?.rows.slice(0, 5), data.extracts[4]?.rows.slice(0, 5));
  });

  it('creates at least the people asked for, with about two records each', () => {
    assert.ok(data.people >= 2000 && data.people < 2020, `${data.people} people`);
    const records = new Set(data.extracts.flatMap((e) => e.rows.map((r) => `${e.source}/${Object.values(r)[0] as string}`)));
    const perPerson = records.size / data.people;
    assert.ok(perPerson > 1.5 && perPerson < 2.6, `${perPerson.toFixed(2)} records per person`);
    assert.equal(data.truth.size, records.size);
    assert.ok(new Set(data.truth.values()).size > data.people * 0.9);
  });

  it('has an extract for each of the eight sources with exactly the columns the register maps', () => {
    assert.deepEqual(
      data.extracts.map((e) => e.source),
      config.sources.map((s) => s.code),
    );
    const columns = demoColumns();
    for (const source of config.sources) {
      const { mapping } = source;
      const mapped = [mapping.recordId, ...Object.values(mapping.person), ...Object.values(mapping.event ?? {}), ...Object.values(mapping.relationships ?? {})];
      assert.deepEqual(new Set(columns[source.code]), new Set(mapped), source.code);
      const extract = data.extracts.find((e) => e.source === source.code);
      assert.ok(extract && extract.rows.length > 0, `${source.code} has rows`);
      for (const row of extract.rows) assert.deepEqual(new Set(Object.keys(row)), new Set(mapped));
    }
  });

  it('passes the ingest checks except for a few deliberately bad rows, whose records are refused', () => {
    let rows = 0;
    let problems = 0;
    let accepted = 0;
    for (const extract of data.extracts) {
      const source = config.sources.find((s) => s.code === extract.source);
      assert.ok(source);
      const mapped = mapExtract(source, extract.rows);
      rows += extract.rows.length;
      problems += mapped.problems.length;
      accepted += mapped.records.length;
      for (const record of mapped.records) {
        assert.ok(data.truth.has(`${extract.source}/${record.recordId}`), `${extract.source}/${record.recordId} has a true person`);
        assert.ok(record.events.length >= 1 && record.events.length <= 4);
        for (const event of record.events) {
          assert.ok(event.start && event.start >= '2021-12-01' && event.start <= '2026-12-01', event.start ?? '');
          assert.ok(event.professional && event.contact && event.summary);
        }
      }
    }
    assert.ok(problems > 0, 'some rows are refused');
    assert.ok(problems / rows < 0.01, `${problems} of ${rows} rows refused`);
    assert.ok(accepted > 0.98 * data.truth.size);
  });

  it('gives every NHS number a valid check digit and keeps each one to one person', () => {
    const owner = new Map<string, string>();
    for (const extract of data.extracts) {
      const source = config.sources.find((s) => s.code === extract.source);
      const column = source?.mapping.person.nhsNumber;
      if (!column) continue;
      const { records } = mapExtract(source, extract.rows);
      for (const record of records) {
        const nhs = record.person.identifiers.nhs_number;
        if (!nhs) continue;
        assert.ok(isValidNhsNumber(nhs));
        const person = data.truth.get(`${extract.source}/${record.recordId}`) as string;
        assert.equal(owner.get(nhs) ?? person, person);
        owner.set(nhs, person);
      }
    }
    assert.ok(owner.size > 500);
  });

  it('has twins: same date of birth, surname and address, clearly different forenames', () => {
    assert.ok(data.twins.length > 0);
    const health = data.extracts.find((e) => e.source === 'health');
    assert.ok(health);
    const byPerson = new Map<string, Record<string, string>>();
    for (const row of health.rows) byPerson.set(data.truth.get(`health/${row.patient_id as string}`) as string, row);
    let compared = 0;
    for (const [a, b] of data.twins) {
      const x = byPerson.get(a);
      const y = byPerson.get(b);
      if (!x || !y || !x.birth_date || x.birth_date !== y.birth_date || x.address_line !== y.address_line) continue;
      compared++;
      assert.notEqual(x.given_name?.[0], y.given_name?.[0]);
    }
    assert.ok(compared > 0);
  });

  it('includes duplicate registrations within one source and records of the same family', () => {
    for (const code of ['health', 'housing']) {
      const extract = data.extracts.find((e) => e.source === code);
      assert.ok(extract);
      const idColumn = code === 'health' ? 'patient_id' : 'tenant_ref';
      const people = new Map<string, Set<string>>();
      for (const row of extract.rows) {
        const id = row[idColumn] as string;
        const person = data.truth.get(`${code}/${id}`) as string;
        let set = people.get(person);
        if (!set) people.set(person, (set = new Set()));
        set.add(id);
      }
      assert.ok(
        [...people.values()].some((ids) => ids.size > 1),
        `${code} has a person registered twice`,
      );
    }
    const social = data.extracts.find((e) => e.source === 'childrens-social-care');
    assert.ok(social?.rows.some((r) => r.parent_person_id));
  });

  it('generates 50,000 people quickly', () => {
    const start = performance.now();
    const big = demoDataset();
    const seconds = (performance.now() - start) / 1000;
    assert.ok(big.people >= 50_000);
    assert.ok(seconds < 10, `${seconds.toFixed(1)} s`);
  });

  it('has addresses for a borough of 400,000 people: once every street name is used, names repeat in other districts', () => {
    const large = demoDataset({ people: 400_000 });
    assert.ok(large.people >= 400_000, `${large.people} people`);
    const districts = new Map<string, Set<string>>();
    for (const row of large.extracts.find((e) => e.source === 'housing')?.rows ?? []) {
      const street = /^\d+a?\s+([^,]+),/.exec(row.property_address ?? '')?.[1];
      const district = /^(KM\d)\s/.exec(row.postcode ?? '')?.[1];
      if (street && district) districts.set(street, (districts.get(street) ?? new Set()).add(district));
    }
    assert.ok(
      [...districts.values()].some((d) => d.size > 1),
      'a street name in two districts',
    );
  });
});
