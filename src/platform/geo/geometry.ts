/**
 * Plain geometry over WGS84 longitude/latitude, with no spatial database.
 * GeoJSON positions are `[lng, lat]`; every function taking a point takes `{ lat, lng }`.
 * Distances use a local flat approximation where the figures involved are a few kilometres,
 * which is well inside a metre's error at the scale of a borough.
 */

export type Position = [number, number];

export interface LatLng {
  lat: number;
  lng: number;
}

/** A latitude/longitude box; west/east are longitudes, south/north latitudes. */
export interface BBox {
  south: number;
  west: number;
  north: number;
  east: number;
}

export interface PointGeometry {
  type: 'Point';
  coordinates: Position;
}
export interface LineStringGeometry {
  type: 'LineString';
  coordinates: Position[];
}
export interface MultiLineStringGeometry {
  type: 'MultiLineString';
  coordinates: Position[][];
}
export interface PolygonGeometry {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPolygonGeometry {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}
export type AreaGeometry = PolygonGeometry | MultiPolygonGeometry;
export type Geometry = PointGeometry | LineStringGeometry | MultiLineStringGeometry | PolygonGeometry | MultiPolygonGeometry;

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_METRES = 6_371_008.8;

const RAD = Math.PI / 180;

/** Great-circle distance in metres. */
export function haversineMetres(a: LatLng, b: LatLng): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLng = (b.lng - a.lng) * RAD;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_METRES * Math.asin(Math.min(1, Math.sqrt(s)));
}

/**
 * Ray casting against one ring. Returns 1 inside, 0 on the ring itself, -1 outside.
 * Points on an edge or vertex are reported as on the ring so callers can decide.
 */
function ringSide(lng: number, lat: number, ring: Position[]): -1 | 0 | 1 {
  const last = ring[ring.length - 1];
  if (ring.length < 3 || !last) return -1;
  let inside = false;
  let [xj, yj] = last;
  for (const [xi, yi] of ring) {
    // On the segment (collinear and within its extent)?
    if (lng >= Math.min(xi, xj) && lng <= Math.max(xi, xj) && lat >= Math.min(yi, yj) && lat <= Math.max(yi, yj)) {
      const cross = (xj - xi) * (lat - yi) - (yj - yi) * (lng - xi);
      const scale = Math.abs(xj - xi) + Math.abs(yj - yi);
      if (Math.abs(cross) <= 1e-12 * Math.max(scale, 1e-12)) return 0;
    }
    if (yi > lat !== yj > lat) {
      const x = xi + ((lat - yi) / (yj - yi)) * (xj - xi);
      if (lng < x) inside = !inside;
    }
    xj = xi;
    yj = yi;
  }
  return inside ? 1 : -1;
}

function polygonSide(lng: number, lat: number, rings: Position[][]): -1 | 0 | 1 {
  const [outer, ...holes] = rings;
  if (!outer) return -1;
  const side = ringSide(lng, lat, outer);
  if (side <= 0) return side;
  for (const ring of holes) {
    const hole = ringSide(lng, lat, ring);
    if (hole === 0) return 0;
    if (hole === 1) return -1;
  }
  return 1;
}

/**
 * Whether the point lies in a Polygon or MultiPolygon (holes excluded).
 * Points exactly on an edge count as inside unless `boundary: 'exclude'` is given.
 */
export function pointInPolygon(point: LatLng, geometry: AreaGeometry, opts: { boundary?: 'include' | 'exclude' } = {}): boolean {
  const onEdge = (opts.boundary ?? 'include') === 'include';
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  for (const rings of polygons) {
    const side = polygonSide(point.lng, point.lat, rings);
    if (side === 1 || (side === 0 && onEdge)) return true;
  }
  return false;
}

/** Flat projection around an origin, metres east (x) and north (y). */
function project(origin: LatLng, p: LatLng): { x: number; y: number } {
  return {
    x: (p.lng - origin.lng) * RAD * EARTH_RADIUS_METRES * Math.cos(origin.lat * RAD),
    y: (p.lat - origin.lat) * RAD * EARTH_RADIUS_METRES,
  };
}

/** Shortest distance in metres from a point to the segment a–b. */
export function pointToSegmentMetres(p: LatLng, a: LatLng, b: LatLng): number {
  const A = project(p, a);
  const B = project(p, b);
  const dx = B.x - A.x;
  const dy = B.y - A.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : -(A.x * dx + A.y * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  const cx = A.x + t * dx;
  const cy = A.y + t * dy;
  return Math.hypot(cx, cy);
}

/** Shortest distance in metres from a point to a LineString (or MultiLineString). */
export function pointToLineMetres(p: LatLng, line: LineStringGeometry | MultiLineStringGeometry | Position[]): number {
  const parts: Position[][] = Array.isArray(line) ? [line] : line.type === 'LineString' ? [line.coordinates] : line.coordinates;
  let best = Infinity;
  for (const coords of parts) {
    let previous: LatLng | undefined;
    for (const position of coords) {
      const current = toLatLng(position);
      const d = previous ? pointToSegmentMetres(p, previous, current) : coords.length === 1 ? haversineMetres(p, current) : Infinity;
      if (d < best) best = d;
      previous = current;
    }
  }
  return best;
}

export function toLatLng(position: Position): LatLng {
  return { lat: position[1], lng: position[0] };
}

function eachPosition(geometry: Geometry, fn: (p: Position) => void): void {
  switch (geometry.type) {
    case 'Point':
      fn(geometry.coordinates);
      break;
    case 'LineString':
      geometry.coordinates.forEach(fn);
      break;
    case 'MultiLineString':
    case 'Polygon':
      for (const part of geometry.coordinates) part.forEach(fn);
      break;
    case 'MultiPolygon':
      for (const poly of geometry.coordinates) for (const ring of poly) ring.forEach(fn);
      break;
  }
}

/** The smallest latitude/longitude box holding the geometry. */
export function bboxOf(geometry: Geometry): BBox {
  const box: BBox = { south: Infinity, west: Infinity, north: -Infinity, east: -Infinity };
  eachPosition(geometry, ([lng, lat]) => {
    if (lat < box.south) box.south = lat;
    if (lat > box.north) box.north = lat;
    if (lng < box.west) box.west = lng;
    if (lng > box.east) box.east = lng;
  });
  if (!Number.isFinite(box.south)) throw new Error('bboxOf: the geometry has no coordinates');
  return box;
}

export function bboxContains(box: BBox, p: LatLng): boolean {
  return p.lat >= box.south && p.lat <= box.north && p.lng >= box.west && p.lng <= box.east;
}

export function bboxIntersects(a: BBox, b: BBox): boolean {
  return a.west <= b.east && a.east >= b.west && a.south <= b.north && a.north >= b.south;
}

/** A box reaching at least `metres` from the point in every direction. */
export function boxAround(p: LatLng, metres: number): BBox {
  const dLat = metres / EARTH_RADIUS_METRES / RAD;
  const cos = Math.max(Math.cos(p.lat * RAD), 1e-6);
  const dLng = metres / (EARTH_RADIUS_METRES * cos) / RAD;
  return { south: p.lat - dLat, west: p.lng - dLng, north: p.lat + dLat, east: p.lng + dLng };
}

/** Approximate area in square metres (flat projection about the geometry's centre); holes subtract. */
export function areaSquareMetres(geometry: AreaGeometry): number {
  const box = bboxOf(geometry);
  const origin = { lat: (box.south + box.north) / 2, lng: (box.west + box.east) / 2 };
  const ringArea = (ring: Position[]): number => {
    const points = ring.map((position) => project(origin, toLatLng(position)));
    let sum = 0;
    let a = points[points.length - 1];
    for (const b of points) {
      if (a) sum += a.x * b.y - b.x * a.y;
      a = b;
    }
    return Math.abs(sum) / 2;
  };
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let total = 0;
  for (const rings of polygons) {
    rings.forEach((ring, i) => (total += i === 0 ? ringArea(ring) : -ringArea(ring)));
  }
  return total;
}

/*
 * UK postcode shape (BS 7666): outward code A9, A99, AA9, AA99, A9A or AA9A, then an inward
 * code of a digit and two letters. Letter positions exclude the letters Royal Mail never uses.
 */
const OUTWARD = '(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])';
const INWARD = '[0-9][ABD-HJLNP-UW-Z]{2}';
const POSTCODE = new RegExp(`^(${OUTWARD})(${INWARD})$`);
const OUTWARD_ONLY = new RegExp(`^${OUTWARD}$`);

/**
 * Normalises a UK postcode to upper case with a single space before the inward code
 * (' km1 1aa ' → 'KM1 1AA'). Returns null when the text is not a postcode.
 */
export function normalisePostcode(text: string | null | undefined): string | null {
  if (typeof text !== 'string') return null;
  const compact = text.replace(/\s+/g, '').toUpperCase();
  if (compact.length < 5 || compact.length > 7) return null;
  if (compact === 'GIR0AA') return 'GIR 0AA';
  const m = POSTCODE.exec(compact);
  return m ? `${m[1]} ${m[2]}` : null;
}

/** Whether the text is just the outward part of a UK postcode, such as 'KM1' or 'M60'. */
export function isPostcodeOutward(text: string): boolean {
  return OUTWARD_ONLY.test(text.replace(/\s+/g, '').toUpperCase());
}
