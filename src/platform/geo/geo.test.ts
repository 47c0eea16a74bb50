import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { sql, type Database } from '#platform/db/index';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import {
  areaSquareMetres,
  bboxOf,
  createGeography,
  generateBorough,
  haversineMetres,
  ImportError,
  parseCsv,
  pointInPolygon,
  pointToLineMetres,
  readDemoBoroughParams,
  type DemoBorough,
  type Geography,
  type Position,
} from './index.js';

const councilDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../council');
const params = readDemoBoroughParams(councilDir);
const profile = JSON.parse(readFileSync(path.join(councilDir, 'profile.json'), 'utf8')) as { postcode: { pattern: string } };

let borough: DemoBorough;
let database: Database;
let testApp: TestApp | undefined;
let geo: Geography;

before(async () => {
  const t0 = performance.now();
  borough = generateBorough(params);
  const t1 = performance.now();
  // A fresh database: embedded, or on the PostgreSQL server named by TEST_DATABASE_URL.
  testApp = await createTestApp();
  database = testApp.platform.database;
  geo = createGeography(database.db);
  const result = await geo.seedDemo(params);
  assert.equal(result.seeded, true);
  console.log(
    `demo borough: generated in ${Math.round(t1 - t0)} ms; seed generated in ${Math.round(result.generateMs)} ms and inserted in ${Math.round(result.insertMs)} ms`,
  );
});

after(async () => {
  await testApp?.close();
});

/** The value, failing the test if it is missing. */
function must<T>(value: T | null | undefined, what = 'value'): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

/** Consecutive pairs of a ring or line: its edges. */
function edges(ring: Position[]): [Position, Position][] {
  return ring.slice(1).map((p, i) => [must(ring[i]), p]);
}

/** Whether segments p1–p2 and p3–p4 cross or touch, other than at shared end points. */
function segmentsCross(p1: Position, p2: Position, p3: Position, p4: Position): boolean {
  const same = (a: Position, b: Position) => a[0] === b[0] && a[1] === b[1];
  if (same(p1, p3) || same(p1, p4) || same(p2, p3) || same(p2, p4)) return false;
  const d = (a: Position, b: Position, c: Position) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  const d1 = d(p3, p4, p1);
  const d2 = d(p3, p4, p2);
  const d3 = d(p1, p2, p3);
  const d4 = d(p1, p2, p4);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

describe('demo borough generator', () => {
  it('is deterministic: the same seed gives identical output', () => {
    const again = generateBorough(params);
    assert.equal(JSON.stringify(again), JSON.stringify(borough));
    const other = generateBorough({ ...(params as object), seed: 7 });
    assert.notEqual(JSON.stringify(other.boundary), JSON.stringify(borough.boundary));
  });

  it('rejects bad parameters', () => {
    assert.throws(() => generateBorough({ ...(params as object), seed: 'x' }));
    assert.throws(() => generateBorough({ ...(params as object), wards: [] }));
    assert.throws(() => generateBorough({}));
  });

  it('meets the minimum sizes', () => {
    assert.ok(borough.wards.length >= 6, `${borough.wards.length} wards`);
    assert.ok(borough.streets.length >= 300, `${borough.streets.length} streets`);
    assert.ok(borough.addresses.length >= 10_000, `${borough.addresses.length} addresses`);
    const lights = borough.assets.filter((a) => a.kind === 'streetlight').length;
    const gullies = borough.assets.filter((a) => a.kind === 'gully').length;
    assert.ok(lights >= 3000, `${lights} streetlights`);
    assert.ok(gullies >= 2000, `${gullies} gullies`);
    const box = bboxOf(borough.boundary);
    const width = haversineMetres({ lat: box.south, lng: box.west }, { lat: box.south, lng: box.east });
    const height = haversineMetres({ lat: box.south, lng: box.west }, { lat: box.north, lng: box.west });
    assert.ok(width > 8000 && width < 13000, `width ${width}`);
    assert.ok(height > 6000 && height < 11000, `height ${height}`);
  });

  it('draws a simple, irregular boundary and wards that are simple polygons', () => {
    const rings = [must(borough.boundary.coordinates[0]), ...borough.wards.map((w) => must(w.geometry.coordinates[0]))];
    for (const ring of rings) {
      assert.deepEqual(ring[0], ring[ring.length - 1]);
      const sides = edges(ring);
      sides.forEach(([a, b], i) => {
        for (const [c, d] of sides.slice(i + 2)) assert.equal(segmentsCross(a, b, c, d), false, 'ring edges cross');
      });
    }
    assert.ok(must(borough.boundary.coordinates[0]).length > 12, 'not a rectangle');
  });

  it('tiles the boundary with the wards exactly', () => {
    // Shoelace areas in degrees: exact tiling means the parts add up to the whole.
    const shoelace = (ring: Position[]) => Math.abs(edges(ring).reduce((sum, [[x1, y1], [x2, y2]]) => sum + x1 * y2 - x2 * y1, 0)) / 2;
    const total = borough.wards.reduce((sum, w) => sum + shoelace(must(w.geometry.coordinates[0])), 0);
    const whole = shoelace(must(borough.boundary.coordinates[0]));
    assert.ok(Math.abs(total - whole) / whole < 1e-9, `${total} vs ${whole}`);
    const km2 = areaSquareMetres(borough.boundary) / 1e6;
    assert.ok(km2 > 40 && km2 < 90, `${km2} km²`);
    // Sample a grid over the boundary box: inside the boundary means exactly one ward.
    const box = bboxOf(borough.boundary);
    let inside = 0;
    for (let i = 0; i < 80; i++) {
      for (let j = 0; j < 80; j++) {
        const p = { lat: box.south + ((i + 0.37) / 80) * (box.north - box.south), lng: box.west + ((j + 0.61) / 80) * (box.east - box.west) };
        const wards = borough.wards.filter((w) => pointInPolygon(p, w.geometry)).length;
        if (pointInPolygon(p, borough.boundary)) {
          inside++;
          assert.equal(wards, 1, `${p.lat},${p.lng} is in ${wards} wards`);
        } else assert.equal(wards, 0);
      }
    }
    assert.ok(inside > 3000);
  });

  it('puts every address, asset and street inside the boundary and each located thing in exactly one ward', () => {
    const check = (p: { lat: number; lng: number; wardCode: string }, what: string) => {
      assert.ok(pointInPolygon(p, borough.boundary), `${what} outside the boundary`);
      const wards = borough.wards.filter((w) => pointInPolygon(p, w.geometry));
      assert.equal(wards.length, 1, `${what} is in ${wards.length} wards`);
      assert.equal(wards[0]?.code, p.wardCode, `${what} has the wrong ward`);
    };
    for (const a of borough.addresses) check(a, `address ${a.uprn}`);
    for (const a of borough.assets) check(a, `asset ${a.id}`);
    for (const s of borough.streets) {
      for (const [lng, lat] of s.geometry.coordinates) assert.ok(pointInPolygon({ lat, lng }, borough.boundary), `street ${s.usrn}`);
    }
  });

  it('gives unique, well-formed identifiers and street names', () => {
    const uprns = borough.addresses.map((a) => a.uprn);
    assert.equal(new Set(uprns).size, uprns.length);
    assert.ok(uprns.every((u) => /^\d{12}$/.test(u)));
    const usrns = borough.streets.map((s) => s.usrn);
    assert.equal(new Set(usrns).size, usrns.length);
    assert.ok(usrns.every((u) => /^\d{8}$/.test(u)));
    assert.equal(new Set(borough.streets.map((s) => s.name)).size, borough.streets.length);
    const ids = borough.assets.map((a) => a.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(borough.assets.every((a) => (a.kind === 'streetlight' ? /^SL-\d{6}$/ : /^GY-\d{6}$/).test(a.id)));
    const known = new Set(usrns);
    assert.ok(borough.addresses.every((a) => known.has(a.usrn)));
    assert.ok(borough.assets.every((a) => known.has(a.usrn)));
  });

  it('gives postcodes in the council’s format, each on one street covering neighbouring addresses', () => {
    const pattern = new RegExp(profile.postcode.pattern);
    const byPostcode = new Map<string, typeof borough.addresses>();
    for (const a of borough.addresses) {
      assert.match(a.postcode, pattern);
      byPostcode.set(a.postcode, [...(byPostcode.get(a.postcode) ?? []), a]);
    }
    const sizes = [...byPostcode.values()].map((list) => list.length).sort((a, b) => a - b);
    const median = must(sizes[Math.floor(sizes.length / 2)]);
    assert.ok(median >= 10 && median <= 30, `median ${median}`);
    assert.ok(must(sizes[sizes.length - 1]) <= 30);
    assert.ok(sizes.filter((s) => s >= 10).length / sizes.length > 0.95);
    for (const [postcode, list] of byPostcode) {
      assert.equal(new Set(list.map((a) => a.usrn)).size, 1, `${postcode} spans streets`);
      const firstHome = must(list[0]);
      const spread = Math.max(...list.map((a) => haversineMetres(a, firstHome)));
      assert.ok(spread < 600, `${postcode} spreads ${spread} m`);
    }
    const hall = borough.addresses.find((a) => a.house === 'Kingsmere Town Hall');
    assert.equal(hall?.singleLine, 'Kingsmere Town Hall, Market Street, Kingsmere, KM1 1AA');
  });

  it('puts addresses and assets beside their own street', () => {
    const streets = new Map(borough.streets.map((s) => [s.usrn, s]));
    for (const a of [...borough.addresses, ...borough.assets]) {
      const d = pointToLineMetres(a, must(streets.get(a.usrn)).geometry);
      assert.ok(d < 25, `${'uprn' in a ? a.uprn : a.id} is ${d} m from its street`);
    }
  });
});

describe('geography service over the database', () => {
  it('stores everything once and seeding again does nothing', async () => {
    const again = await geo.seedDemo(params);
    assert.equal(again.seeded, false);
    const count = async (table: string) =>
      Number(must((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(database.db)).rows[0]).n);
    assert.equal(await count('geo_wards'), borough.wards.length);
    assert.equal(await count('geo_streets'), borough.streets.length);
    assert.equal(await count('geo_addresses'), borough.addresses.length);
    assert.equal(await count('assets'), borough.assets.length);
    assert.deepEqual((await geo.boundary())?.geometry, borough.boundary);
    assert.deepEqual(
      (await geo.wards()).map((w) => w.code),
      borough.wards.map((w) => w.code).sort(),
    );
  });

  it('knows what is inside the boundary and which ward', async () => {
    const { lat, lng } = borough.centre;
    assert.equal(await geo.isInsideBoundary(lat, lng), true);
    assert.equal(await geo.isInsideBoundary(lat + 50_000 / 111_195, lng), false);
    assert.equal(await geo.isInsideBoundary(lat, lng + 50_000 / 66_000), false);
    assert.equal(await geo.wardAt(lat + 1, lng), null);
    for (const a of borough.addresses.filter((_, i) => i % 97 === 0)) {
      assert.equal((await geo.wardAt(a.lat, a.lng))?.code, a.wardCode);
    }
  });

  it('looks up a postcode, normalising it and ordering houses naturally', async () => {
    const found = await geo.lookupPostcode(' km1 1aa ');
    const expected = borough.addresses.filter((a) => a.postcode === 'KM1 1AA');
    assert.equal(found.length, expected.length);
    assert.ok(found.every((a) => a.postcode === 'KM1 1AA'));
    const numbers = found.flatMap((a) => (a.houseNumber === null ? [] : [a.houseNumber]));
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
    );
    assert.ok(numbers.includes(2) && numbers.includes(10), 'numbers 2 and 10 both present');
    assert.ok(numbers.indexOf(2) < numbers.indexOf(10), 'natural order, not text order');
    assert.ok(found.some((a) => a.house === 'Kingsmere Town Hall'));
    assert.deepEqual(await geo.lookupPostcode('KM9 9ZZ'), []);
    assert.deepEqual(await geo.lookupPostcode('not a postcode'), []);
  });

  it('finds addresses by number and street, part of a street, postcode fragments and typos', async () => {
    const target = must(borough.addresses.find((a) => a.houseNumber === 12 && a.street !== 'Market Street'));
    const [first] = await geo.searchAddresses(`12 ${target.street}`);
    assert.equal(first?.houseNumber, 12);
    assert.equal(first?.street, target.street);

    const partial = must(target.street.split(' ')[0]).slice(0, 5).toLowerCase();
    const partialHits = await geo.searchAddresses(partial, 20);
    assert.ok(partialHits.length > 0);
    assert.ok(partialHits.every((a) => a.singleLine.toLowerCase().includes(partial)));

    const outward = must(target.postcode.split(' ')[0]);
    const byDistrict = await geo.searchAddresses(outward.toLowerCase(), 50);
    assert.ok(byDistrict.length > 0 && byDistrict.every((a) => a.postcode.startsWith(`${outward} `)));
    const sectorFragment = target.postcode.slice(0, -1);
    const bySector = await geo.searchAddresses(sectorFragment, 50);
    assert.ok(bySector.length > 0 && bySector.every((a) => a.postcode.startsWith(sectorFragment)));

    const full = await geo.searchAddresses(target.postcode.replace(' ', '').toLowerCase(), 100);
    assert.ok(full.some((a) => a.uprn === target.uprn));

    const onMarket = must(borough.addresses.find((a) => a.street === 'Market Street' && (a.houseNumber ?? 0) > 5));
    const [typo] = await geo.searchAddresses(`${onMarket.houseNumber} Markt Stret`);
    assert.equal(typo?.uprn, onMarket.uprn);

    assert.deepEqual(await geo.searchAddresses('KM9 9ZZ'), []);
    assert.deepEqual(await geo.searchAddresses('   '), []);
    assert.deepEqual(await geo.searchAddresses('%_%'), []);
    assert.equal((await geo.searchAddresses('Market', 3)).length, 3);
  });

  it('finds an address by UPRN and streets by name', async () => {
    const a = must(borough.addresses[1234]);
    const found = await geo.addressByUprn(a.uprn);
    assert.equal(found?.singleLine, a.singleLine);
    assert.equal(found?.lat, a.lat);
    assert.equal(await geo.addressByUprn('999999999999'), null);
    assert.equal(await geo.addressByUprn('not-a-uprn'), null);

    const street = must(borough.streets[42]);
    const byName = await geo.streetsByName(street.name.toUpperCase());
    assert.equal(byName[0]?.usrn, street.usrn);
    const stem = must(street.name.split(' ')[0]);
    const byStem = await geo.streetsByName(stem.toLowerCase());
    assert.ok(must(byStem[0]).name.toLowerCase().includes(stem.toLowerCase()));
    assert.deepEqual((await geo.streetByUsrn(street.usrn))?.geometry, street.geometry);
  });

  it('finds the nearest street, agreeing with a full scan', async () => {
    const box = bboxOf(borough.boundary);
    for (let i = 0; i < 25; i++) {
      const p = {
        lat: box.south + (((i * 7919) % 1000) / 1000) * (box.north - box.south),
        lng: box.west + (((i * 104729) % 1000) / 1000) * (box.east - box.west),
      };
      if (!pointInPolygon(p, borough.boundary)) continue;
      let best = Infinity;
      let usrn = '';
      for (const s of borough.streets) {
        const d = pointToLineMetres(p, s.geometry);
        if (d < best) [best, usrn] = [d, s.usrn];
      }
      const found = await geo.nearestStreet(p.lat, p.lng, { maxMetres: 5000 });
      assert.ok(found, 'a street is found');
      assert.equal(found.street.usrn, usrn);
      assert.ok(Math.abs(found.distanceMetres - best) < 1e-6);
    }
    const onStreet = must(borough.streets[10]);
    const [lng, lat] = must(onStreet.geometry.coordinates[1]);
    const hit = await geo.nearestStreet(lat, lng);
    assert.equal(hit?.street.usrn, onStreet.usrn);
    assert.ok(must(hit).distanceMetres < 0.5);
    assert.equal(await geo.nearestStreet(borough.centre.lat + 1, borough.centre.lng), null);
  });

  it('finds assets in a box and near a point, nearest first', async () => {
    const { lat, lng } = borough.centre;
    const radius = 300;
    const near = await geo.nearbyAssets(lat, lng, radius);
    const expected = borough.assets.filter((a) => haversineMetres({ lat, lng }, a) <= radius);
    assert.ok(near.length > 5);
    assert.deepEqual(new Set(near.map((a) => a.id)), new Set(expected.map((a) => a.id)));
    near.slice(1).forEach((a, i) => assert.ok(must(near[i]).distanceMetres <= a.distanceMetres));
    assert.ok(near.every((a) => a.distanceMetres <= radius && a.state === 'working'));

    const lights = await geo.nearbyAssets(lat, lng, radius, 'streetlight');
    assert.ok(lights.length > 0 && lights.every((a) => a.kind === 'streetlight'));
    assert.equal(lights.length, expected.filter((a) => a.kind === 'streetlight').length);

    const box = { south: lat - 0.005, west: lng - 0.008, north: lat + 0.005, east: lng + 0.008 };
    const inBox = await geo.assetsInBox(box, 'gully');
    const expectedInBox = borough.assets.filter(
      (a) => a.kind === 'gully' && a.lat >= box.south && a.lat <= box.north && a.lng >= box.west && a.lng <= box.east,
    );
    assert.equal(inBox.length, expectedInBox.length);
    assert.ok(inBox.length > 0);
    assert.ok((await geo.assetsInBox(box)).length > inBox.length);
    await assert.rejects(() => geo.assetsInBox({ south: 1, west: 0, north: 0, east: 1 }));

    const asset = must(near[0]);
    assert.equal(await geo.setAssetState(asset.id, 'fault reported'), true);
    assert.equal((await geo.assetById(asset.id))?.state, 'fault reported');
    assert.equal(await geo.setAssetState('SL-999999', 'working'), false);
  });
});

describe('reading CSV', () => {
  it('reads quoted fields with commas, quotes and line breaks, giving the line each record starts on', () => {
    const text = '\uFEFFid,note\r\n"A,1","say ""hi"""\r\n\r\nB2,"two\nlines"\nC3,  plain  \n  "D4" ,\n';
    assert.deepEqual(parseCsv(text), [
      { line: 1, cells: ['id', 'note'] },
      { line: 2, cells: ['A,1', 'say "hi"'] },
      { line: 4, cells: ['B2', 'two\nlines'] },
      { line: 6, cells: ['C3', '  plain  '] },
      { line: 7, cells: ['D4 ', ''] },
    ]);
    assert.deepEqual(parseCsv('a,b'), [{ line: 1, cells: ['a', 'b'] }]);
    assert.deepEqual(parseCsv('x,5"6\n'), [{ line: 1, cells: ['x', '5"6'] }]);
  });

  it('refuses a quote left open', () => {
    assert.throws(
      () => parseCsv('id,note\n1,"never closed\n2,b\n'),
      (e: Error) => e instanceof ImportError && /line 2: a quoted field has no closing quote/.test(e.message),
    );
  });
});

describe('importing assets', () => {
  const count = async () => Number(must((await sql<{ n: number }>`SELECT count(*)::int AS n FROM assets`.execute(database.db)).rows[0]).n);

  it('loads assets from CSV, working out each one’s ward and keeping other columns as attributes', async () => {
    const { lat, lng } = borough.centre;
    const before = await count();
    const csv = [
      'ID,Kind,Lat,Lng,USRN,Column height,Installed',
      `CSV-LIGHT-1,streetlight,${lat},${lng},12345678,8m,2019`,
      `"CSV-GULLY-1",gully,${lat + 0.001},${lng - 0.001},,,`,
    ].join('\r\n');
    assert.equal(await geo.importAssetsCsv(csv), 2);
    assert.equal(await count(), before + 2);
    const light = must(await geo.assetById('CSV-LIGHT-1'));
    assert.deepEqual(
      { ...light },
      {
        id: 'CSV-LIGHT-1',
        kind: 'streetlight',
        usrn: '12345678',
        lat,
        lng,
        wardCode: must(await geo.wardAt(lat, lng)).code,
        state: 'working',
        attributes: { 'Column height': '8m', Installed: '2019' },
      },
    );
    const gully = must(await geo.assetById('CSV-GULLY-1'));
    assert.equal(gully.usrn, null);
    assert.deepEqual(gully.attributes, {});
    assert.ok((await geo.nearbyAssets(lat, lng, 5, 'streetlight')).some((a) => a.id === 'CSV-LIGHT-1'));
  });

  it('updates assets already held: a new position and attributes, and the state only when the file gives one', async () => {
    const { lat, lng } = borough.centre;
    assert.equal(await geo.setAssetState('CSV-LIGHT-1', 'fault-reported'), true);
    const outside = { lat: lat + 1, lng };
    await geo.importAssetsCsv(`id,kind,lat,lng,colour\nCSV-LIGHT-1,streetlight,${outside.lat},${outside.lng},green\n`);
    const moved = must(await geo.assetById('CSV-LIGHT-1'));
    assert.deepEqual([moved.lat, moved.lng, moved.wardCode, moved.usrn, moved.state], [outside.lat, outside.lng, null, null, 'fault-reported']);
    assert.deepEqual(moved.attributes, { colour: 'green' });
    await geo.importAssetsCsv(`id,kind,lat,lng,state\nCSV-LIGHT-1,streetlight,${lat},${lng},under-maintenance\n`);
    assert.equal((await geo.assetById('CSV-LIGHT-1'))?.state, 'under-maintenance');
  });

  it('refuses a file with bad rows, naming each line, and loads none of it', async () => {
    const { lat, lng } = borough.centre;
    const before = await count();
    const csv = [
      'id,kind,lat,lng,usrn',
      `CSV-GOOD-1,streetlight,${lat},${lng},`,
      `,bench,91,${lng},ABC`,
      `CSV-GOOD-1,gully,${lat},,`,
      `CSV-SHORT,gully,${lat}`,
    ].join('\n');
    await assert.rejects(geo.importAssetsCsv(csv), (e: Error) => {
      assert.ok(e instanceof ImportError);
      assert.deepEqual(e.problems, [
        'line 3: kind must be streetlight or gully',
        'line 3: lat and lng must be coordinates',
        'line 3: id is needed',
        'line 3: usrn must be up to 8 digits',
        'line 4: lat and lng must be coordinates',
        'line 4: id CSV-GOOD-1 is also on line 2',
        'line 5: there are 3 cells but the header row has 5',
        'line 5: lat and lng must be coordinates',
      ]);
      return true;
    });
    assert.equal(await geo.assetById('CSV-GOOD-1'), null);
    assert.equal(await count(), before);
    await assert.rejects(geo.importAssetsCsv('id,type,latitude,lng\nX,gully,1,2\n'), /the header row is missing kind, lat/);
    await assert.rejects(geo.importAssetsCsv(''), /the header row is missing id, kind, lat, lng/);
    await assert.rejects(geo.importAssetsCsv('id,kind,lat,lng,ID\n'), /line 1: the header row names ID twice/);
  });

  it('loads GeoJSON the same way: re-importing updates an asset and keeps its state', async () => {
    const { lat, lng } = borough.centre;
    const feature = (props: Record<string, unknown>, at = { lat, lng }) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [at.lng, at.lat] },
      properties: props,
    });
    const collection = (...features: unknown[]) => JSON.stringify({ type: 'FeatureCollection', features });
    assert.equal(await geo.importAssetsGeoJson(collection(feature({ id: 'GJ-1', kind: 'gully', depth: 2 }))), 1);
    await geo.setAssetState('GJ-1', 'fault-reported');
    await geo.importAssetsGeoJson(collection(feature({ id: 'GJ-1', kind: 'gully', depth: 3 }, { lat: lat + 0.001, lng })));
    const again = must(await geo.assetById('GJ-1'));
    assert.deepEqual([again.lat, again.state, again.attributes], [lat + 0.001, 'fault-reported', { depth: 3 }]);
    await assert.rejects(
      geo.importAssetsGeoJson(collection(feature({ id: 'GJ-2', kind: 'gully' }), feature({ id: 'GJ-2', kind: 'lamp' }))),
      /feature 2: properties.kind must be streetlight or gully[\s\S]*feature 2: properties.id GJ-2 is also on feature 1/,
    );
    assert.equal(await geo.assetById('GJ-2'), null);
  });
});
