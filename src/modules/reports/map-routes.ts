import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BBox, Position } from '#platform/geo/index';
import type { Platform } from '#platform/platform';
import { daysSince } from './journey-draft.js';
import { ASSET_KIND_NAMES, ASSET_KINDS } from './model/category.js';
import type { ReportsService } from './service.js';

/** The widest box, in degrees either way, the map may ask for: a few kilometres, so answers stay small. */
export const MAX_BOX_DEGREES = 0.2;
const MAX_STREETS = 500;
/** Markers one map view draws at most; past this the answer says it is truncated and the map asks to zoom in. */
const MAX_FEATURES = 500;
const GEOJSON = 'application/geo+json';

type Query = Record<string, string | undefined>;

/** "west,south,east,north" in degrees, as Leaflet's toBBoxString gives it; a message says what is wrong. */
export function parseBox(text: string | undefined): BBox | { error: string } {
  if (!text) return { error: 'Give bbox as west,south,east,north in degrees' };
  const parts = text.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part)));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) return { error: 'Give bbox as four numbers: west,south,east,north in degrees' };
  const [west = 0, south = 0, east = 0, north = 0] = parts;
  if (Math.abs(south) > 90 || Math.abs(north) > 90 || Math.abs(west) > 180 || Math.abs(east) > 180)
    return { error: 'bbox is outside the range of latitude and longitude' };
  if (west >= east || south >= north) return { error: 'bbox must have west less than east and south less than north' };
  if (east - west > MAX_BOX_DEGREES || north - south > MAX_BOX_DEGREES) return { error: `bbox must be at most ${MAX_BOX_DEGREES} degrees across: zoom in` };
  return { west, south, east, north };
}

const point = (lat: number, lng: number): { type: 'Point'; coordinates: Position } => ({ type: 'Point', coordinates: [lng, lat] });

function badRequest(request: FastifyRequest, reply: FastifyReply, message: string) {
  return reply.code(400).header('cache-control', 'no-store').type('application/json').send({ error: message, statusCode: 400, requestId: request.id });
}

function geojson(reply: FastifyReply, body: unknown, maxAgeSeconds: number) {
  return reply.type(GEOJSON).header('cache-control', `public, max-age=${maxAgeSeconds}`).send(JSON.stringify(body));
}

/**
 * What the report maps draw, as GeoJSON for anyone: the council's boundary and wards, its streets (the
 * base map when no tile server is configured), and assets and public reports in a box. Each answer
 * can be cached briefly; a box must be small, so no request can ask for everything at once.
 */
export function registerReportMapRoutes(app: FastifyInstance, service: ReportsService, platform: Platform): void {
  const boundaryAge = platform.config.production ? 3600 : 60;

  app.get('/reports/map/boundary.geojson', async (_request, reply) => {
    const { boundary, wards } = await service.mapBoundary();
    const features = [
      ...(boundary ? [{ type: 'Feature', properties: { kind: 'boundary', name: boundary.name }, geometry: boundary.geometry }] : []),
      ...wards.map((ward) => ({ type: 'Feature', id: ward.code, properties: { kind: 'ward', code: ward.code, name: ward.name }, geometry: ward.geometry })),
    ];
    const bbox = boundary ? [boundary.bbox.west, boundary.bbox.south, boundary.bbox.east, boundary.bbox.north] : undefined;
    return geojson(reply, { type: 'FeatureCollection', ...(bbox ? { bbox } : {}), features }, boundaryAge);
  });

  app.get('/reports/map/streets.geojson', async (request, reply) => {
    const box = parseBox((request.query as Query).bbox);
    if ('error' in box) return badRequest(request, reply, box.error);
    const streets = await service.streetsInBox(box, MAX_STREETS + 1);
    const features = streets
      .slice(0, MAX_STREETS)
      .map((street) => ({ type: 'Feature', id: street.usrn, properties: { usrn: street.usrn, name: street.name }, geometry: street.geometry }));
    return geojson(reply, { type: 'FeatureCollection', truncated: streets.length > MAX_STREETS, features }, boundaryAge);
  });

  app.get('/reports/map/features.geojson', async (request, reply) => {
    const query = request.query as Query;
    const box = parseBox(query.bbox);
    if ('error' in box) return badRequest(request, reply, box.error);
    const assetKind = query.asset_kind ? ASSET_KINDS.find((kind) => kind === query.asset_kind) : undefined;
    if (query.asset_kind && !assetKind) return badRequest(request, reply, `asset_kind must be one of ${ASSET_KINDS.join(', ')}`);
    const categories = query.category ? query.category.split(',').map((code) => code.trim()) : undefined;
    const unknown = categories?.find((code) => !service.category(code));
    if (unknown !== undefined) return badRequest(request, reply, `There is no category "${unknown.slice(0, 60)}"`);

    const { assets, reports, truncated } = await service.mapFeatures(box, { assetKind, categories, limit: MAX_FEATURES });
    const now = new Date();
    const features = [
      ...assets.map((asset) => ({
        type: 'Feature',
        id: asset.id,
        geometry: point(asset.lat, asset.lng),
        properties: { type: 'asset', id: asset.id, kind: asset.kind, kindName: ASSET_KIND_NAMES[asset.kind], state: asset.state },
      })),
      ...reports.map((report) => ({
        type: 'Feature',
        id: report.reference,
        geometry: point(report.lat, report.lng),
        properties: {
          type: 'report',
          reference: report.reference,
          category: report.category.name,
          categoryCode: report.category.code,
          status: report.status,
          statusName: report.statusName,
          closed: report.closed,
          url: `/reports/${report.reference}`,
          ageDays: daysSince(report.createdAt, now),
          updatedDays: daysSince(report.updatedAt, now),
        },
      })),
    ];
    return geojson(reply, { type: 'FeatureCollection', truncated, features }, 30);
  });
}
