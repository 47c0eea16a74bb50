import { z } from 'zod';
import {
  EARTH_RADIUS_METRES,
  bboxOf,
  isPostcodeOutward,
  pointInPolygon,
  type BBox,
  type LatLng,
  type LineStringGeometry,
  type PolygonGeometry,
  type Position,
} from './geometry.js';

/*
 * The demo borough: a fictional council area generated from a few parameters and a seed.
 * Everything is computed in metres on a flat plane about the centre, then converted once to
 * latitude/longitude rounded to six decimal places, so shared ward edges carry identical
 * coordinates and the same seed always gives byte-identical output.
 */

const range = (min: number, max: number) =>
  z.object({ min: z.number().min(min).max(max), max: z.number().min(min).max(max) }).refine((r) => r.min <= r.max, 'min must not exceed max');

const nonEmptyText = z.string().trim().min(1);

export const DemoBoroughParamsSchema = z
  .object({
    name: nonEmptyText,
    town: nonEmptyText,
    seed: z.number().int().min(0).max(0xffffffff),
    centre: z.object({ lat: z.number().min(-80).max(80), lng: z.number().min(-180).max(180) }),
    size: z.object({ widthKm: z.number().min(1).max(100), heightKm: z.number().min(1).max(100) }),
    boundary: z.object({ vertices: z.number().int().min(12).max(400), irregularity: z.number().min(0).max(0.3) }),
    wardLayout: z.object({
      ringFractions: z.array(z.number().gt(0.1).lt(0.95)).max(5),
      sectorsPerRing: z.array(z.number().int().min(1)).min(1),
    }),
    wards: z.array(z.object({ code: nonEmptyText, name: nonEmptyText, locality: nonEmptyText })).min(1),
    civic: z.object({ building: nonEmptyText, street: nonEmptyText }),
    streets: z.object({
      count: z.number().int().min(1).max(5000),
      usrnStart: z.number().int().min(10_000_000).max(90_000_000),
      minLengthMetres: z.number().min(20).max(2000),
      segments: range(1, 20),
      segmentLengthMetres: range(10, 2000),
      branchShare: z.number().min(0).max(1),
      edgeMarginMetres: z.number().min(0).max(2000),
      stems: z.array(nonEmptyText).min(1),
      suffixes: z.array(nonEmptyText).min(1),
      ruralSuffixes: z.array(nonEmptyText).default([]),
    }),
    addresses: z.object({
      target: z.number().int().min(1).max(500_000),
      setbackMetres: range(1, 100),
      namedShare: z.number().min(0).max(1),
      ruralNamedShare: z.number().min(0).max(1),
      houseNamePrefixes: z.array(nonEmptyText).min(1),
      houseNameSuffixes: z.array(nonEmptyText).min(1),
      uprnStart: z.number().int().min(100_000_000_000).max(900_000_000_000),
    }),
    postcodes: z.object({
      districts: z.array(nonEmptyText).min(1),
      addressesPerPostcode: range(1, 100),
      unitsPerSector: range(1, 400),
    }),
    assets: z.object({
      streetlights: z.object({
        target: z.number().int().min(0).max(500_000),
        offsetMetres: z.number().min(0).max(50),
        columnHeightsMetres: z.array(z.number().positive()).min(1),
        lanterns: z.array(nonEmptyText).min(1),
        installedYears: range(1900, 2100),
      }),
      gullies: z.object({
        target: z.number().int().min(0).max(500_000),
        offsetMetres: z.number().min(0).max(50),
        types: z.array(nonEmptyText).min(1),
        lastCleanedFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2025-01-31'),
        lastCleanedDays: z.number().int().min(0).max(10_000),
      }),
    }),
  })
  .superRefine((p, ctx) => {
    const fr = p.wardLayout.ringFractions;
    if (fr.some((f, i) => i > 0 && f - at(fr, i - 1) < 0.1))
      ctx.addIssue({ code: 'custom', path: ['wardLayout', 'ringFractions'], message: 'ring fractions must rise by at least 0.1 each' });
    const spr = p.wardLayout.sectorsPerRing;
    if (spr.length !== fr.length + 1)
      ctx.addIssue({ code: 'custom', path: ['wardLayout', 'sectorsPerRing'], message: 'needs one entry per ring plus one for the centre' });
    if (spr[0] !== 1) ctx.addIssue({ code: 'custom', path: ['wardLayout', 'sectorsPerRing', 0], message: 'the centre is one ward' });
    spr.slice(1).forEach((n, i) => {
      if (n < 2 || n > p.boundary.vertices / 2)
        ctx.addIssue({ code: 'custom', path: ['wardLayout', 'sectorsPerRing', i + 1], message: 'a ring must be split into at least 2 wards' });
    });
    const total = spr.reduce((a, b) => a + b, 0);
    if (total !== p.wards.length) ctx.addIssue({ code: 'custom', path: ['wards'], message: `the layout makes ${total} wards but ${p.wards.length} are named` });
    if (new Set(p.wards.map((w) => w.code)).size !== p.wards.length) ctx.addIssue({ code: 'custom', path: ['wards'], message: 'ward codes must be unique' });
    const names = new Set<string>();
    for (const stem of new Set(p.streets.stems)) for (const suffix of new Set(p.streets.suffixes)) names.add(`${stem} ${suffix}`);
    names.delete(p.civic.street);
    if (names.size < p.streets.count - 1)
      ctx.addIssue({ code: 'custom', path: ['streets', 'stems'], message: `stems and suffixes make only ${names.size} street names` });
    p.postcodes.districts.forEach((d, i) => {
      if (!isPostcodeOutward(d)) ctx.addIssue({ code: 'custom', path: ['postcodes', 'districts', i], message: `${d} is not a postcode district` });
    });
    if (new Set(p.postcodes.districts).size !== p.postcodes.districts.length)
      ctx.addIssue({ code: 'custom', path: ['postcodes', 'districts'], message: 'postcode districts must be unique' });
  });

export type DemoBoroughParams = z.input<typeof DemoBoroughParamsSchema>;
type Params = z.output<typeof DemoBoroughParamsSchema>;

export interface DemoWard {
  code: string;
  name: string;
  locality: string;
  geometry: PolygonGeometry;
}

export interface DemoStreet {
  usrn: string;
  name: string;
  locality: string;
  town: string;
  wardCode: string;
  lengthMetres: number;
  geometry: LineStringGeometry;
}

export interface DemoAddress {
  uprn: string;
  /** The number or the name, as written first on the address. */
  house: string;
  houseNumber: number | null;
  houseName: string | null;
  street: string;
  usrn: string;
  locality: string;
  town: string;
  postcode: string;
  lat: number;
  lng: number;
  wardCode: string;
  singleLine: string;
}

export type AssetKind = 'streetlight' | 'gully';

export interface DemoAsset {
  id: string;
  kind: AssetKind;
  usrn: string;
  lat: number;
  lng: number;
  wardCode: string;
  attributes: Record<string, string | number>;
}

export interface DemoBorough {
  name: string;
  town: string;
  seed: number;
  centre: LatLng;
  boundary: PolygonGeometry;
  wards: DemoWard[];
  streets: DemoStreet[];
  addresses: DemoAddress[];
  assets: DemoAsset[];
}

/** Item `i` of a list whose size the generator has already arranged; a miss is a bug. */
function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new RangeError(`Index ${i} is outside a list of ${items.length}`);
  return item;
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; enough for demo data, not for secrets. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return at(items, Math.floor(this.next() * items.length));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [at(items, j), at(items, i)];
    }
    return items;
  }
}

interface XY {
  x: number;
  y: number;
}

const TAU = Math.PI * 2;
const RAD = Math.PI / 180;

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function insideXY(p: XY, ring: readonly XY[]): boolean {
  let inside = false;
  let b = ring[ring.length - 1];
  for (const a of ring) {
    if (b && a.y > p.y !== b.y > p.y && p.x < a.x + ((p.y - a.y) / (b.y - a.y)) * (b.x - a.x)) inside = !inside;
    b = a;
  }
  return inside;
}

function segmentDistanceXY(p: XY, a: XY, b: XY): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(a.x + t * dx - p.x, a.y + t * dy - p.y);
}

function ringDistanceXY(p: XY, ring: readonly XY[]): number {
  let best = Infinity;
  let a = ring[ring.length - 1];
  for (const b of ring) {
    if (a) best = Math.min(best, segmentDistanceXY(p, a, b));
    a = b;
  }
  return best;
}

/** A polyline in metres with its cumulative lengths, for walking along it. */
class Polyline {
  readonly cumulative: number[];
  readonly length: number;
  constructor(readonly points: XY[]) {
    if (points.length < 2) throw new RangeError('A polyline needs at least two points');
    this.cumulative = [];
    let total = 0;
    let previous: XY | undefined;
    for (const q of points) {
      if (previous) total += Math.hypot(q.x - previous.x, q.y - previous.y);
      this.cumulative.push(total);
      previous = q;
    }
    this.length = total;
  }
  /** The point `s` metres along, and the unit direction of travel there. */
  at(s: number): { p: XY; dir: XY } {
    const d = Math.max(0, Math.min(this.length, s));
    let i = 1;
    while (i < this.points.length - 1 && at(this.cumulative, i) < d) i++;
    const a = at(this.points, i - 1);
    const b = at(this.points, i);
    const startsAt = at(this.cumulative, i - 1);
    const segLen = at(this.cumulative, i) - startsAt;
    const t = segLen === 0 ? 0 : (d - startsAt) / segLen;
    const dir = segLen === 0 ? { x: 1, y: 0 } : { x: (b.x - a.x) / segLen, y: (b.y - a.y) / segLen };
    return { p: { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }, dir };
  }
  /** A point `s` metres along and `offset` metres to the left (negative: right). */
  offsetAt(s: number, offset: number): XY {
    const { p, dir } = this.at(s);
    return { x: p.x - dir.y * offset, y: p.y + dir.x * offset };
  }
}

/** Uniform grid of sample points of streets already placed, to keep streets apart. */
class SpacingGrid {
  private readonly cells = new Map<number, XY[]>();
  constructor(private readonly cell: number) {}
  private key(cx: number, cy: number): number {
    return (cx + 32768) * 65536 + (cy + 32768);
  }
  add(p: XY): void {
    const k = this.key(Math.floor(p.x / this.cell), Math.floor(p.y / this.cell));
    const list = this.cells.get(k);
    if (list) list.push(p);
    else this.cells.set(k, [p]);
  }
  near(p: XY, radius: number): boolean {
    const cx = Math.floor(p.x / this.cell);
    const cy = Math.floor(p.y / this.cell);
    const reach = Math.ceil(radius / this.cell);
    for (let dx = -reach; dx <= reach; dx++) {
      for (let dy = -reach; dy <= reach; dy++) {
        for (const q of this.cells.get(this.key(cx + dx, cy + dy)) ?? []) {
          if (Math.hypot(q.x - p.x, q.y - p.y) < radius) return true;
        }
      }
    }
    return false;
  }
}

const POSTCODE_UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';
const STREET_SAMPLE_METRES = 10;
const STREET_GAP_METRES = 32;
const JUNCTION_FREE_METRES = 40;
const ADDRESS_END_GAP_METRES = 8;

/** Generates the demo borough. Pure: the same parameters always give identical output. */
export function generateBorough(input: unknown): DemoBorough {
  const p: Params = DemoBoroughParamsSchema.parse(input);
  const rnd = new Random(p.seed);
  const { lat: lat0, lng: lng0 } = p.centre;
  const cosLat0 = Math.cos(lat0 * RAD);

  const toPosition = (q: XY): Position => [round6(lng0 + q.x / (EARTH_RADIUS_METRES * cosLat0) / RAD), round6(lat0 + q.y / EARTH_RADIUS_METRES / RAD)];

  // 1. Boundary and ring outlines, all sharing the same angles so shared edges match exactly.
  const n = p.boundary.vertices;
  const semiX = (p.size.widthKm * 1000) / 2;
  const semiY = (p.size.heightKm * 1000) / 2;
  const irregular = p.boundary.irregularity;
  const phases = [rnd.between(0, TAU), rnd.between(0, TAU), rnd.between(0, TAU)] as const;
  const angles: number[] = [];
  const outerRadii: number[] = [];
  for (let k = 0; k < n; k++) {
    const theta = ((k + rnd.between(-0.3, 0.3)) * TAU) / n;
    const ellipse = 1 / Math.sqrt((Math.cos(theta) / semiX) ** 2 + (Math.sin(theta) / semiY) ** 2);
    const wobble = 0.5 * Math.sin(2 * theta + phases[0]) + 0.3 * Math.sin(3 * theta + phases[1]) + 0.2 * Math.sin(5 * theta + phases[2]);
    angles.push(theta);
    outerRadii.push(ellipse * (1 + irregular * wobble + irregular * rnd.between(-0.2, 0.2)));
  }
  const levels: XY[][] = p.wardLayout.ringFractions.map((fraction) =>
    angles.map((theta, k) => {
      const r = at(outerRadii, k) * fraction * (1 + rnd.between(-0.04, 0.04));
      return { x: r * Math.cos(theta), y: r * Math.sin(theta) };
    }),
  );
  const outline: XY[] = angles.map((theta, k) => ({ x: at(outerRadii, k) * Math.cos(theta), y: at(outerRadii, k) * Math.sin(theta) }));
  levels.push(outline);
  const levelPositions: Position[][] = levels.map((ring) => ring.map(toPosition));
  const closeRing = (ring: Position[]): Position[] => [...ring, at(ring, 0)];
  const boundary: PolygonGeometry = { type: 'Polygon', coordinates: [closeRing(at(levelPositions, levelPositions.length - 1))] };

  // 2. Streets: seeded walks, denser towards the centre, often branching off earlier streets.
  const sp = p.streets;
  const margin = sp.edgeMarginMetres;
  const maxRadius = Math.max(...outerRadii);
  const grid = new SpacingGrid(50);
  // Anything this close to the centre is inside the outline and clear of its edge.
  const safeRadius = ringDistanceXY({ x: 0, y: 0 }, outline) - margin;
  const clearOfEdge = (q: XY) => Math.hypot(q.x, q.y) <= safeRadius || (insideXY(q, outline) && ringDistanceXY(q, outline) >= margin);
  const names = rnd.shuffle(
    [...new Set(sp.stems.flatMap((stem) => [...new Set(sp.suffixes)].map((suffix) => `${stem} ${suffix}`)))].filter((name) => name !== p.civic.street),
  );
  const placed: { name: string; line: Polyline }[] = [];

  const segmentFits = (a: XY, b: XY, startDistance: number, exempt: number): XY[] | null => {
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    const steps = Math.max(1, Math.ceil(len / STREET_SAMPLE_METRES));
    const samples: XY[] = [];
    for (let s = 1; s <= steps; s++) {
      const q = { x: a.x + ((b.x - a.x) * s) / steps, y: a.y + ((b.y - a.y) * s) / steps };
      if (!clearOfEdge(q)) return null;
      if (startDistance + (len * s) / steps > exempt && grid.near(q, STREET_GAP_METRES)) return null;
      samples.push(q);
    }
    return samples;
  };

  const walk = (start: XY, heading: number, exempt: number, civic: boolean): { points: XY[]; samples: XY[] } | null => {
    const points: XY[] = [start];
    const samples: XY[] = [start];
    let length = 0;
    let h = heading;
    const segments = civic ? 4 : rnd.int(sp.segments.min, sp.segments.max);
    for (let s = 0; s < segments; s++) {
      let accepted = false;
      for (let attempt = 0; attempt < 5 && !accepted; attempt++) {
        const turn = s === 0 && attempt === 0 ? 0 : rnd.between(-1, 1) * (0.3 + 0.25 * attempt);
        const segLen = rnd.between(sp.segmentLengthMetres.min, sp.segmentLengthMetres.max);
        const nh = h + (civic ? rnd.between(-0.12, 0.12) : turn);
        const from = at(points, points.length - 1);
        const to = { x: from.x + segLen * Math.cos(nh), y: from.y + segLen * Math.sin(nh) };
        const fit = segmentFits(from, to, length, exempt);
        if (fit) {
          points.push(to);
          samples.push(...fit);
          length += segLen;
          h = nh;
          accepted = true;
        }
      }
      if (!accepted) break;
    }
    return length >= sp.minLengthMetres && points.length >= 2 ? { points, samples } : null;
  };

  // The civic street runs through the centre of town.
  {
    const start = { x: -260, y: -40 };
    const civicWalk = walk(start, rnd.between(-0.15, 0.15), 0, true);
    if (!civicWalk) throw new Error('The demo borough is too small for its civic street');
    civicWalk.samples.forEach((q) => grid.add(q));
    placed.push({ name: p.civic.street, line: new Polyline(civicWalk.points) });
  }
  const maxAttempts = sp.count * 200;
  for (let attempt = 0; placed.length < sp.count && attempt < maxAttempts; attempt++) {
    let start: XY;
    let heading: number;
    let exempt = 0;
    if (rnd.chance(sp.branchShare)) {
      const parent = rnd.pick(placed).line;
      const at = parent.at(rnd.between(0.15, 0.85) * parent.length);
      start = at.p;
      heading = Math.atan2(at.dir.y, at.dir.x) + (rnd.chance(0.5) ? 1 : -1) * (Math.PI / 2 + rnd.between(-0.25, 0.25));
      exempt = JUNCTION_FREE_METRES;
    } else {
      start = { x: rnd.between(-maxRadius, maxRadius), y: rnd.between(-maxRadius, maxRadius) };
      heading = rnd.between(0, TAU);
      const radial = Math.hypot(start.x, start.y) / maxRadius;
      if (!rnd.chance(1 - 0.65 * radial)) continue;
      if (!clearOfEdge(start) || grid.near(start, STREET_GAP_METRES)) continue;
    }
    if (!clearOfEdge(start)) continue;
    const result = walk(start, heading, exempt, false);
    if (!result) continue;
    result.samples.forEach((q) => grid.add(q));
    placed.push({ name: at(names, placed.length - 1), line: new Polyline(result.points) });
  }
  if (placed.length < sp.count) throw new Error(`Only ${placed.length} of ${sp.count} demo streets fitted inside the boundary`);

  // 3. Wards: the centre, then each ring between two outlines cut into sectors at shared vertices,
  //    placed so that each ward in a ring has a similar length of street (and so of homes).
  const wedgeWeights = streetWeights(placed, levels, angles);
  const wards: DemoWard[] = [];
  let wardIndex = 0;
  const wardDef = () => at(p.wards, wardIndex++);
  {
    const w = wardDef();
    wards.push({ code: w.code, name: w.name, locality: w.locality, geometry: { type: 'Polygon', coordinates: [closeRing(at(levelPositions, 0))] } });
  }
  for (let ring = 1; ring < p.wardLayout.sectorsPerRing.length; ring++) {
    const sectors = at(p.wardLayout.sectorsPerRing, ring);
    const inner = at(levelPositions, ring - 1);
    const outer = at(levelPositions, ring);
    const sorted = balancedCuts(at(wedgeWeights, ring), sectors);
    sorted.forEach((from, q) => {
      const to = at(sorted, (q + 1) % sorted.length);
      const span = (to - from + n) % n || n;
      const ringCoords: Position[] = [];
      for (let s = 0; s <= span; s++) ringCoords.push(at(outer, (from + s) % n));
      for (let s = span; s >= 0; s--) ringCoords.push(at(inner, (from + s) % n));
      ringCoords.push(at(ringCoords, 0));
      const w = wardDef();
      wards.push({ code: w.code, name: w.name, locality: w.locality, geometry: { type: 'Polygon', coordinates: [ringCoords] } });
    });
  }
  const wardsWithBoxes: { ward: DemoWard; box: BBox }[] = wards.map((ward) => ({ ward, box: bboxOf(ward.geometry) }));
  const boundaryBox = bboxOf(boundary);
  const locate = (q: XY): { position: Position; ward: DemoWard } | null => {
    const position = toPosition(q);
    const ll = { lat: position[1], lng: position[0] };
    if (ll.lat < boundaryBox.south || ll.lat > boundaryBox.north || ll.lng < boundaryBox.west || ll.lng > boundaryBox.east) return null;
    if (!pointInPolygon(ll, boundary, { boundary: 'exclude' })) return null;
    for (const { ward, box: b } of wardsWithBoxes) {
      if (ll.lat < b.south || ll.lat > b.north || ll.lng < b.west || ll.lng > b.east) continue;
      if (pointInPolygon(ll, ward.geometry, { boundary: 'exclude' })) return { position, ward };
    }
    return null;
  };

  // 4. Street records, named for the ward locality where each street's middle lies.
  let usrn = sp.usrnStart;
  const streets: DemoStreet[] = placed.map(({ name, line }) => {
    usrn += 1 + (rnd.chance(0.3) ? rnd.int(1, 40) : 0);
    const mid = locate(line.at(line.length / 2).p) ?? locate(line.at(0).p);
    if (!mid) throw new Error(`Demo street ${name} is outside the boundary`);
    return {
      usrn: String(usrn),
      name,
      locality: mid.ward.locality,
      town: p.town,
      wardCode: mid.ward.code,
      lengthMetres: Math.round(line.length * 10) / 10,
      geometry: { type: 'LineString', coordinates: line.points.map(toPosition) },
    };
  });

  // 5. Addresses: odd numbers on the left, even on the right, spaced to meet the target.
  const ap = p.addresses;
  const usable = (line: Polyline) => Math.max(0, line.length - 2 * ADDRESS_END_GAP_METRES);
  const totalUsable = placed.reduce((sum, s) => sum + usable(s.line), 0);
  const spacing = (2 * totalUsable) / ap.target;
  const rural = new Set(sp.ruralSuffixes);
  const districtOf = makeDistrictLocator(p.postcodes.districts, at(levels, 0), rnd.between(0, TAU));
  const postcodes = new PostcodeAllocator(p.postcodes.districts, p.postcodes.unitsPerSector, rnd);
  let uprn = ap.uprnStart;
  const addresses: DemoAddress[] = [];

  placed.forEach(({ name, line }, streetIndex) => {
    const street = at(streets, streetIndex);
    const isRural = rural.has(name.slice(name.lastIndexOf(' ') + 1));
    const perSide = Math.floor(usable(line) / spacing) + 1;
    const homes: { number: number; along: number; point: XY }[] = [];
    for (let i = 0; i < perSide; i++) {
      for (const side of [1, -1] as const) {
        const along = Math.min(
          line.length - ADDRESS_END_GAP_METRES,
          ADDRESS_END_GAP_METRES + (i + (side === 1 ? 0 : 0.5)) * spacing + rnd.between(-0.15, 0.15) * spacing,
        );
        const setback = rnd.between(ap.setbackMetres.min, ap.setbackMetres.max);
        homes.push({ number: side === 1 ? 2 * i + 1 : 2 * i + 2, along, point: line.offsetAt(Math.max(ADDRESS_END_GAP_METRES, along), side * setback) });
      }
    }
    homes.sort((a, b) => a.number - b.number);
    const usedNames = new Set<string>();
    const located = homes.flatMap((home) => {
      const where = locate(home.point);
      if (!where) return [];
      let houseName: string | null = null;
      if (streetIndex === 0 && home.number === 1) houseName = p.civic.building;
      else if (rnd.chance(isRural ? ap.ruralNamedShare : ap.namedShare)) {
        for (let t = 0; t < 6 && !houseName; t++) {
          const candidate = `${rnd.pick(ap.houseNamePrefixes)} ${rnd.pick(ap.houseNameSuffixes)}`;
          if (!usedNames.has(candidate)) houseName = candidate;
        }
        if (houseName) usedNames.add(houseName);
      }
      return [{ ...home, where, houseName }];
    });

    const district = districtOf(line.at(line.length / 2).p);
    const groups = splitEvenly(
      located.length,
      rnd.int(p.postcodes.addressesPerPostcode.min, p.postcodes.addressesPerPostcode.max),
      p.postcodes.addressesPerPostcode,
    );
    let cursor = 0;
    for (const size of groups) {
      const postcode = postcodes.next(district);
      for (const home of located.slice(cursor, cursor + size)) {
        uprn += 1 + (rnd.chance(0.1) ? rnd.int(1, 20) : 0);
        const houseNumber = home.houseName ? null : home.number;
        const house = home.houseName ?? String(home.number);
        const lead = home.houseName ? `${home.houseName}, ${name}` : `${home.number} ${name}`;
        const parts = [lead, street.locality !== p.town ? street.locality : null, p.town, postcode].filter(Boolean);
        addresses.push({
          uprn: String(uprn),
          house,
          houseNumber,
          houseName: home.houseName,
          street: name,
          usrn: street.usrn,
          locality: street.locality,
          town: p.town,
          postcode,
          lat: home.where.position[1],
          lng: home.where.position[0],
          wardCode: home.where.ward.code,
          singleLine: parts.join(', '),
        });
      }
      cursor += size;
    }
  });

  // 6. Street furniture: lights alternate sides; gullies sit at the kerb.
  const assets: DemoAsset[] = [];
  const totalLength = placed.reduce((sum, s) => sum + s.line.length, 0);
  const lights = p.assets.streetlights;
  const gullies = p.assets.gullies;
  const cleanedFrom = Date.parse(`${gullies.lastCleanedFrom}T00:00:00Z`);
  let lightNo = 0;
  let gullyNo = 0;
  const pad = (v: number) => String(v).padStart(6, '0');
  placed.forEach(({ line }, streetIndex) => {
    const street = at(streets, streetIndex);
    const place = (target: number, offset: number, make: (where: { position: Position; ward: DemoWard }) => void) => {
      if (target <= 0) return;
      const count = Math.max(1, Math.round(line.length / (totalLength / target)));
      let side = rnd.chance(0.5) ? 1 : -1;
      for (let i = 0; i < count; i++) {
        const where = locate(line.offsetAt(((i + 0.5) * line.length) / count, side * offset));
        side = -side;
        if (where) make(where);
      }
    };
    place(lights.target, lights.offsetMetres, (where) => {
      assets.push({
        id: `SL-${pad(++lightNo)}`,
        kind: 'streetlight',
        usrn: street.usrn,
        lat: where.position[1],
        lng: where.position[0],
        wardCode: where.ward.code,
        attributes: {
          columnHeightMetres: rnd.pick(lights.columnHeightsMetres),
          lantern: rnd.pick(lights.lanterns),
          installedYear: rnd.int(lights.installedYears.min, lights.installedYears.max),
        },
      });
    });
    place(gullies.target, gullies.offsetMetres, (where) => {
      assets.push({
        id: `GY-${pad(++gullyNo)}`,
        kind: 'gully',
        usrn: street.usrn,
        lat: where.position[1],
        lng: where.position[0],
        wardCode: where.ward.code,
        attributes: {
          type: rnd.pick(gullies.types),
          lastCleaned: new Date(cleanedFrom + rnd.int(0, gullies.lastCleanedDays) * 86_400_000).toISOString().slice(0, 10),
        },
      });
    });
  });

  return { name: p.name, town: p.town, seed: p.seed, centre: { lat: lat0, lng: lng0 }, boundary, wards, streets, addresses, assets };
}

/**
 * Street length per ring zone and per wedge between consecutive outline angles:
 * `weights[zone][k]` covers angles from `angles[k]` to `angles[k + 1]`.
 */
function streetWeights(placed: { line: Polyline }[], levels: XY[][], angles: number[]): number[][] {
  const n = angles.length;
  const weights = levels.map(() => new Array<number>(n).fill(0));
  const first = at(angles, 0);
  for (const { line } of placed) {
    for (let d = STREET_SAMPLE_METRES / 2; d < line.length; d += STREET_SAMPLE_METRES) {
      const q = line.at(d).p;
      const zone = levels.findIndex((ring) => insideXY(q, ring));
      if (zone < 0) continue;
      let phi = Math.atan2(q.y, q.x);
      while (phi < first) phi += TAU;
      while (phi >= first + TAU) phi -= TAU;
      let k = 0;
      while (k < n - 1 && at(angles, k + 1) <= phi) k++;
      const row = at(weights, zone);
      row[k] = at(row, k) + STREET_SAMPLE_METRES;
    }
  }
  return weights;
}

/**
 * Chooses `sectors` cut vertices around a ring so the wedge weights between cuts are as even
 * as possible; every sector spans at least two wedges. Returns the cut indices in order.
 */
function balancedCuts(weights: number[], sectors: number): number[] {
  const n = weights.length;
  const total = weights.reduce((a, b) => a + b, 0);
  const share = total / sectors;
  let best: { cuts: number[]; score: number } | null = null;
  for (let start = 0; start < n; start++) {
    const cuts = [start];
    let sum = 0;
    let since = 0;
    const sums: number[] = [];
    for (let step = 0; step < n; step++) {
      const k = (start + step) % n;
      const remainingWedges = n - step;
      const remainingSectors = sectors - cuts.length;
      const w = at(weights, k);
      const overshoot = Math.abs(sum + w - share) > Math.abs(sum - share);
      const mustCut = remainingWedges <= 2 * remainingSectors;
      if (remainingSectors > 0 && since >= 2 && (overshoot || mustCut)) {
        cuts.push(k);
        sums.push(sum);
        sum = 0;
        since = 0;
      }
      sum += w;
      since += 1;
    }
    sums.push(sum);
    if (cuts.length !== sectors) continue;
    const score = Math.max(...sums.map((v) => Math.abs(v - share)));
    if (!best || score < best.score) best = { cuts, score };
  }
  if (!best) throw new Error('The ward layout has too few outline vertices for its sectors');
  return [...best.cuts].sort((a, b) => a - b);
}

/** Splits `total` into near-equal groups close to `preferred`, kept within [min, max] where possible. */
function splitEvenly(total: number, preferred: number, limits: { min: number; max: number }): number[] {
  if (total <= 0) return [];
  let groups = Math.max(1, Math.round(total / preferred));
  groups = Math.max(groups, Math.ceil(total / limits.max));
  if (total >= 2 * limits.min) groups = Math.min(groups, Math.floor(total / limits.min));
  groups = Math.max(1, groups);
  const base = Math.floor(total / groups);
  const extra = total % groups;
  return Array.from({ length: groups }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The first district covers the town centre; the rest share the surrounding area by bearing. */
function makeDistrictLocator(districts: string[], centreRing: XY[], offset: number): (q: XY) => string {
  const outer = districts.slice(1);
  return (q) => {
    if (outer.length === 0 || insideXY(q, centreRing)) return at(districts, 0);
    const bearing = (((Math.atan2(q.y, q.x) - offset) % TAU) + TAU) % TAU;
    return at(outer, Math.min(outer.length - 1, Math.floor((bearing / TAU) * outer.length)));
  };
}

/** Hands out unit postcodes per district in Royal Mail's order, with gaps like a real area. */
class PostcodeAllocator {
  private readonly state = new Map<string, { sector: number; unit: number; used: number; cap: number }>();
  private readonly units: string[] = [];
  constructor(
    private readonly districts: string[],
    private readonly perSector: { min: number; max: number },
    private readonly rnd: Random,
  ) {
    for (const a of POSTCODE_UNIT_LETTERS) for (const b of POSTCODE_UNIT_LETTERS) this.units.push(a + b);
  }
  next(district: string): string {
    let s = this.state.get(district);
    if (!s) {
      s = { sector: 1, unit: 0, used: 0, cap: this.rnd.int(this.perSector.min, this.perSector.max) };
      this.state.set(district, s);
    } else if (s.used >= s.cap && s.sector < 9) {
      s.sector += 1;
      s.unit = this.rnd.int(0, 3);
      s.used = 0;
      s.cap = this.rnd.int(this.perSector.min, this.perSector.max);
    } else {
      s.unit += 1 + (this.rnd.chance(0.25) ? this.rnd.int(1, 3) : 0);
    }
    const unit = this.units[s.unit];
    if (!unit || !this.districts.includes(district)) throw new Error(`Postcode district ${district} has run out of units`);
    s.used += 1;
    return `${district} ${s.sector}${unit}`;
  }
}
