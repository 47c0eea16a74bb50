import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  areaSquareMetres,
  bboxContains,
  bboxIntersects,
  bboxOf,
  boxAround,
  haversineMetres,
  isPostcodeOutward,
  normalisePostcode,
  pointInPolygon,
  pointToLineMetres,
  pointToSegmentMetres,
  type MultiPolygonGeometry,
  type PolygonGeometry,
  type Position,
} from './geometry.js';

const squareRing: Position[] = [
  [0, 0],
  [10, 0],
  [10, 10],
  [0, 10],
  [0, 0],
];
const square: PolygonGeometry = { type: 'Polygon', coordinates: [squareRing] };

const withHole: PolygonGeometry = {
  type: 'Polygon',
  coordinates: [
    squareRing,
    [
      [4, 4],
      [4, 6],
      [6, 6],
      [6, 4],
      [4, 4],
    ],
  ],
};

// A "U": the notch between x = 3..7 above y = 3 is outside.
const uShape: PolygonGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [0, 0],
      [10, 0],
      [10, 10],
      [7, 10],
      [7, 3],
      [3, 3],
      [3, 10],
      [0, 10],
      [0, 0],
    ],
  ],
};

const diamond: PolygonGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [0, -5],
      [5, 0],
      [0, 5],
      [-5, 0],
      [0, -5],
    ],
  ],
};

const at = (lng: number, lat: number) => ({ lat, lng });

describe('pointInPolygon', () => {
  it('finds points inside and outside a simple polygon', () => {
    assert.equal(pointInPolygon(at(5, 5), square), true);
    assert.equal(pointInPolygon(at(0.001, 9.999), square), true);
    assert.equal(pointInPolygon(at(-0.001, 5), square), false);
    assert.equal(pointInPolygon(at(15, 5), square), false);
    assert.equal(pointInPolygon(at(5, 10.5), square), false);
  });

  it('counts edges and vertices as inside unless told to exclude them', () => {
    for (const p of [at(0, 5), at(10, 5), at(5, 0), at(5, 10), at(0, 0), at(10, 10)]) {
      assert.equal(pointInPolygon(p, square), true, `${p.lng},${p.lat} included`);
      assert.equal(pointInPolygon(p, square, { boundary: 'exclude' }), false, `${p.lng},${p.lat} excluded`);
    }
    assert.equal(pointInPolygon(at(2.5, 2.5), diamond, { boundary: 'exclude' }), false);
    assert.equal(pointInPolygon(at(2.5, 2.5), diamond), true);
  });

  it('is not fooled by a ray passing exactly through a vertex', () => {
    // The horizontal ray from these points passes through the diamond's vertices at y = 0.
    assert.equal(pointInPolygon(at(-7, 0), diamond), false);
    assert.equal(pointInPolygon(at(7, 0), diamond), false);
    assert.equal(pointInPolygon(at(0, 0), diamond), true);
    assert.equal(pointInPolygon(at(4.9, 0), diamond), true);
    assert.equal(pointInPolygon(at(-4.9, 0), diamond), true);
    // A ray along a horizontal edge of the U's notch.
    assert.equal(pointInPolygon(at(1, 3), uShape), true);
    assert.equal(pointInPolygon(at(8, 3), uShape), true);
  });

  it('handles concave polygons', () => {
    assert.equal(pointInPolygon(at(5, 8), uShape), false);
    assert.equal(pointInPolygon(at(5, 2), uShape), true);
    assert.equal(pointInPolygon(at(1.5, 8), uShape), true);
    assert.equal(pointInPolygon(at(8.5, 8), uShape), true);
  });

  it('excludes holes and treats a hole edge as the boundary', () => {
    assert.equal(pointInPolygon(at(5, 5), withHole), false);
    assert.equal(pointInPolygon(at(2, 2), withHole), true);
    assert.equal(pointInPolygon(at(4, 5), withHole), true);
    assert.equal(pointInPolygon(at(4, 5), withHole, { boundary: 'exclude' }), false);
  });

  it('handles MultiPolygons, including a polygon inside another polygon’s hole', () => {
    const island: MultiPolygonGeometry = {
      type: 'MultiPolygon',
      coordinates: [
        withHole.coordinates,
        [
          [
            [4.5, 4.5],
            [5.5, 4.5],
            [5.5, 5.5],
            [4.5, 5.5],
            [4.5, 4.5],
          ],
        ],
        [
          [
            [20, 20],
            [21, 20],
            [21, 21],
            [20, 20],
          ],
        ],
      ],
    };
    assert.equal(pointInPolygon(at(5, 5), island), true);
    assert.equal(pointInPolygon(at(4.2, 5), island), false);
    assert.equal(pointInPolygon(at(20.8, 20.2), island), true);
    assert.equal(pointInPolygon(at(20.2, 20.8), island), false);
    assert.equal(pointInPolygon(at(30, 30), island), false);
  });

  it('works the same whichever way a ring is wound, and with real coordinates', () => {
    const reversed: PolygonGeometry = { type: 'Polygon', coordinates: [[...squareRing].reverse()] };
    assert.equal(pointInPolygon(at(5, 5), reversed), true);
    assert.equal(pointInPolygon(at(11, 5), reversed), false);
    const small: PolygonGeometry = {
      type: 'Polygon',
      coordinates: [
        [
          [-2.05, 53.47],
          [-2.049, 53.47],
          [-2.049, 53.471],
          [-2.05, 53.471],
          [-2.05, 53.47],
        ],
      ],
    };
    assert.equal(pointInPolygon({ lat: 53.4705, lng: -2.0495 }, small), true);
    assert.equal(pointInPolygon({ lat: 53.4705, lng: -2.0489999 }, small), false);
  });

  it('says no for degenerate rings', () => {
    const line: PolygonGeometry = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [1, 1],
        ],
      ],
    };
    assert.equal(pointInPolygon(at(0.5, 0.2), line), false);
    assert.equal(pointInPolygon(at(0.5, 0.5), { type: 'Polygon', coordinates: [] }), false);
  });
});

describe('distances', () => {
  it('gives known great-circle distances', () => {
    // One degree of latitude on a sphere of the mean Earth radius.
    assert.ok(Math.abs(haversineMetres({ lat: 0, lng: 0 }, { lat: 1, lng: 0 }) - 111_195.08) < 0.05);
    // One degree of longitude at the equator is the same; at 60° north it is half.
    assert.ok(Math.abs(haversineMetres({ lat: 0, lng: 0 }, { lat: 0, lng: 1 }) - 111_195.08) < 0.05);
    assert.ok(Math.abs(haversineMetres({ lat: 60, lng: 0 }, { lat: 60, lng: 1 }) - 55_595.5) < 5);
    // London (Charing Cross) to Paris (Notre-Dame): about 343.6 km.
    const londonParis = haversineMetres({ lat: 51.5074, lng: -0.1278 }, { lat: 48.8566, lng: 2.3522 });
    assert.ok(Math.abs(londonParis - 343_560) < 500, String(londonParis));
    // Antipodes: half the circumference.
    assert.ok(Math.abs(haversineMetres({ lat: 0, lng: 0 }, { lat: 0, lng: 180 }) - 20_015_114) < 1);
    assert.equal(haversineMetres({ lat: 53.47, lng: -2.05 }, { lat: 53.47, lng: -2.05 }), 0);
  });

  it('is symmetric', () => {
    const a = { lat: 53.4712, lng: -2.0486 };
    const b = { lat: 53.4801, lng: -2.0312 };
    assert.equal(haversineMetres(a, b), haversineMetres(b, a));
  });

  it('measures from a point to a segment, clamping to its ends', () => {
    const a = { lat: 0, lng: 0 };
    const b = { lat: 0, lng: 0.01 };
    // Perpendicular: 0.001° of latitude north of the middle.
    assert.ok(Math.abs(pointToSegmentMetres({ lat: 0.001, lng: 0.005 }, a, b) - 111.195) < 0.01);
    // Beyond the end: the distance to the end point.
    assert.ok(Math.abs(pointToSegmentMetres({ lat: 0, lng: 0.011 }, a, b) - 111.195) < 0.01);
    assert.ok(Math.abs(pointToSegmentMetres({ lat: 0.001, lng: -0.001 }, a, b) - haversineMetres({ lat: 0.001, lng: -0.001 }, a)) < 0.01);
    // On the segment.
    assert.ok(pointToSegmentMetres({ lat: 0, lng: 0.004 }, a, b) < 1e-6);
    // A zero-length segment is a point.
    assert.ok(Math.abs(pointToSegmentMetres({ lat: 0.001, lng: 0 }, a, a) - 111.195) < 0.01);
  });

  it('agrees with the great-circle distance at borough scale', () => {
    const p = { lat: 53.4712, lng: -2.0486 };
    const a = { lat: 53.4801, lng: -2.0612 };
    const d1 = pointToSegmentMetres(p, a, a);
    assert.ok(Math.abs(d1 - haversineMetres(p, a)) < 0.5, `${d1}`);
  });

  it('measures to the nearest part of a line', () => {
    const line = {
      type: 'LineString' as const,
      coordinates: [
        [0, 0],
        [0.01, 0],
        [0.01, 0.01],
      ] as [number, number][],
    };
    assert.ok(Math.abs(pointToLineMetres({ lat: 0.005, lng: 0.011 }, line) - 111.195) < 0.02);
    assert.ok(Math.abs(pointToLineMetres({ lat: -0.002, lng: 0.005 }, line) - 222.39) < 0.02);
    assert.equal(pointToLineMetres({ lat: 0.005, lng: 0.01 }, line) < 1e-6, true);
  });
});

describe('boxes and areas', () => {
  it('finds the bounding box of each kind of geometry', () => {
    assert.deepEqual(bboxOf(square), { south: 0, west: 0, north: 10, east: 10 });
    assert.deepEqual(bboxOf(diamond), { south: -5, west: -5, north: 5, east: 5 });
    assert.deepEqual(
      bboxOf({
        type: 'LineString',
        coordinates: [
          [-2.1, 53.5],
          [-2.0, 53.4],
        ],
      }),
      { south: 53.4, west: -2.1, north: 53.5, east: -2.0 },
    );
    assert.deepEqual(bboxOf({ type: 'Point', coordinates: [1, 2] }), { south: 2, west: 1, north: 2, east: 1 });
    assert.throws(() => bboxOf({ type: 'LineString', coordinates: [] }));
  });

  it('tests containment and overlap', () => {
    const box = { south: 0, west: 0, north: 1, east: 1 };
    assert.equal(bboxContains(box, { lat: 0.5, lng: 1 }), true);
    assert.equal(bboxContains(box, { lat: 1.1, lng: 0.5 }), false);
    assert.equal(bboxIntersects(box, { south: 1, west: 1, north: 2, east: 2 }), true);
    assert.equal(bboxIntersects(box, { south: 1.01, west: 0, north: 2, east: 1 }), false);
  });

  it('makes a box that reaches the radius in every direction', () => {
    const centre = { lat: 53.47, lng: -2.05 };
    const box = boxAround(centre, 500);
    for (const p of [
      { lat: box.north, lng: centre.lng },
      { lat: box.south, lng: centre.lng },
      { lat: centre.lat, lng: box.east },
      { lat: centre.lat, lng: box.west },
    ]) {
      assert.ok(haversineMetres(centre, p) >= 499.5);
    }
  });

  it('measures areas, taking holes away', () => {
    const cell: PolygonGeometry = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [0.01, 0],
          [0.01, 0.01],
          [0, 0.01],
          [0, 0],
        ],
      ],
    };
    const side = 1111.95;
    assert.ok(Math.abs(areaSquareMetres(cell) / (side * side) - 1) < 0.001);
    assert.ok(Math.abs(areaSquareMetres(withHole) - areaSquareMetres(square) * 0.96) / areaSquareMetres(square) < 0.01);
  });
});

describe('normalisePostcode', () => {
  it('normalises case and spacing', () => {
    assert.equal(normalisePostcode(' km1 1aa '), 'KM1 1AA');
    assert.equal(normalisePostcode('KM11AA'), 'KM1 1AA');
    assert.equal(normalisePostcode('km12   3ab'), 'KM12 3AB');
    assert.equal(normalisePostcode('sw1a1aa'), 'SW1A 1AA');
    assert.equal(normalisePostcode('M601NW'), 'M60 1NW');
    assert.equal(normalisePostcode('w1a 0ax'), 'W1A 0AX');
    assert.equal(normalisePostcode('EC1A 1BB'), 'EC1A 1BB');
    assert.equal(normalisePostcode('B33 8TH'), 'B33 8TH');
    assert.equal(normalisePostcode('CR2 6XH'), 'CR2 6XH');
    assert.equal(normalisePostcode('DN55 1PT'), 'DN55 1PT');
    assert.equal(normalisePostcode('gir 0aa'), 'GIR 0AA');
    assert.equal(normalisePostcode('KM1\t1AA'), 'KM1 1AA');
  });

  it('refuses text that is not a postcode', () => {
    for (const bad of [
      '',
      '   ',
      'KM1',
      'KM1 1A',
      'KM1 1AAA',
      '12345',
      'hello world',
      'KM1-1AA',
      'KM1 1CA', // C is never used in the inward code
      'QM1 1AA', // Q is never the first letter
      'KI1 1AA', // I is never the second letter
      '1KM 1AA',
      'KM123 1AA',
      'KM1 AA1',
    ]) {
      assert.equal(normalisePostcode(bad), null, JSON.stringify(bad));
    }
    assert.equal(normalisePostcode(null), null);
    assert.equal(normalisePostcode(undefined), null);
    assert.equal(normalisePostcode(12345 as unknown as string), null);
  });

  it('recognises a postcode district on its own', () => {
    assert.equal(isPostcodeOutward('KM1'), true);
    assert.equal(isPostcodeOutward('km12'), true);
    assert.equal(isPostcodeOutward('SW1A'), true);
    assert.equal(isPostcodeOutward('KM1 1AA'), false);
    assert.equal(isPostcodeOutward('Market'), false);
    assert.equal(isPostcodeOutward('12'), false);
  });
});
