/**
 * Residents' photos: read the GPS position (to offer it as the report's location), then remove every
 * kind of metadata that can carry personal data before the bytes are stored.
 *
 * JPEG, PNG and WebP are parsed by hand and the pixels copied byte for byte, never re-encoded. Segments
 * and chunks are kept by allow-list, so a metadata format we have not heard of is dropped, not passed on.
 * GIF and HEIC, which `sniffContentType` also recognises, are refused: GIF is not a camera format, and
 * HEIC keeps its EXIF in items addressed by absolute offsets, so removing it means rewriting the file.
 */
import type { LatLng } from '#platform/geo/geometry';
import { sniffContentType } from './index.js';

/** The bytes are not a well-formed JPEG, PNG or WebP; callers tell the resident which types they can upload. */
export class PhotoError extends Error {
  override name = 'PhotoError';
}

/** The types stripPhotoMetadata accepts, for checkUpload's `allowed`. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

/** The GPS position in a photo's EXIF, or null if there is none or anything about it is malformed. */
export function readPhotoPosition(bytes: Buffer): LatLng | null {
  try {
    const tiff = exifOf(bytes);
    return tiff ? gpsPosition(tiff) : null;
  } catch {
    // The position is only a suggestion: a broken file has none, and stripPhotoMetadata reports the breakage.
    return null;
  }
}

/** The same image without EXIF, XMP, IPTC, comments, text or thumbnails. Throws PhotoError for anything else. */
export function stripPhotoMetadata(bytes: Buffer): Buffer {
  switch (sniffContentType(bytes)) {
    case 'image/jpeg':
      return stripJpeg(bytes);
    case 'image/png':
      return stripPng(bytes);
    case 'image/webp':
      return stripWebp(bytes);
    default:
      throw new PhotoError('The file is not a JPEG, PNG or WebP image');
  }
}

/** The TIFF structure inside a photo's EXIF block, if it has one. */
function exifOf(b: Buffer): Buffer | undefined {
  switch (sniffContentType(b)) {
    case 'image/jpeg':
      for (const s of jpegSegments(b)) {
        if (s.marker === SOS) return undefined; // EXIF always comes before the first scan
        if (s.marker === APP1 && startsWith(s.payload, EXIF_HEADER)) return s.payload.subarray(EXIF_HEADER.length);
      }
      return undefined;
    case 'image/png':
      return [...pngChunks(b)].find((c) => c.type === 'eXIf')?.data;
    case 'image/webp': {
      // The WebP specification says raw TIFF, but some writers copy the JPEG "Exif\0\0" header too.
      const data = [...webpChunks(b)].find((c) => c.type === 'EXIF')?.data;
      return data && startsWith(data, EXIF_HEADER) ? data.subarray(EXIF_HEADER.length) : data;
    }
  }
  return undefined;
}

const startsWith = (b: Buffer, text: string) => b.toString('latin1', 0, text.length) === text;

// ---------------------------------------------------------------------------------------------
// JPEG

const EOI = 0xd9;
const SOS = 0xda;
const RST0 = 0xd0;
const RST7 = 0xd7;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const APP15 = 0xef;
const COM = 0xfe;
const EXIF_HEADER = 'Exif\0\0';

interface JpegSegment {
  marker: number;
  /** The whole segment from its marker; a scan's entropy-coded data is part of its SOS segment. */
  bytes: Buffer;
  /** What follows the length field. */
  payload: Buffer;
}

/**
 * Markers of baseline, progressive, lossless and arithmetic-coded JPEG (frames, tables, scans, EOI), then APPn and COM.
 * Anything else is not in a photo, so it is refused rather than copied.
 */
const isJpegMarker = (m: number) => (m >= 0xc0 && m <= 0xcf && m !== 0xc8) || (m >= EOI && m <= 0xdf) || (m >= APP0 && m <= APP15) || m === COM;

/** The segments after SOI, up to and including EOI. */
function* jpegSegments(b: Buffer): Generator<JpegSegment> {
  let pos = 2;
  for (;;) {
    while (b[pos] === 0xff && b[pos + 1] === 0xff) pos++; // fill bytes may pad any marker
    const marker = b[pos + 1];
    if (b[pos] !== 0xff || marker === undefined || !isJpegMarker(marker)) throw new PhotoError(`JPEG has no valid marker at byte ${pos}`);
    if (marker === EOI) {
      yield { marker, bytes: b.subarray(pos, pos + 2), payload: b.subarray(0, 0) };
      return;
    }
    const end = pos + 2 + (pos + 4 <= b.length ? b.readUInt16BE(pos + 2) : 0);
    if (end < pos + 4 || end > b.length) throw new PhotoError(`JPEG segment at byte ${pos} is truncated`);
    const next = marker === SOS ? entropyEnd(b, end) : end;
    yield { marker, bytes: b.subarray(pos, next), payload: b.subarray(pos + 4, end) };
    pos = next;
  }
}

/** Entropy-coded data runs to the first 0xFF that is neither a stuffed 0xFF00 nor a restart marker. */
function entropyEnd(b: Buffer, from: number): number {
  for (let i = b.indexOf(0xff, from); i !== -1; i = b.indexOf(0xff, i + 2)) {
    const next = b[i + 1];
    if (next === undefined) break;
    if (next !== 0 && (next < RST0 || next > RST7)) return i;
  }
  throw new PhotoError('JPEG ends inside its image data');
}

function stripJpeg(b: Buffer): Buffer {
  const kept = [b.subarray(0, 2)];
  let scans = 0;
  for (const s of jpegSegments(b)) {
    if (s.marker === SOS) scans++;
    const keep = keptJpegSegment(s);
    if (keep) kept.push(keep);
  }
  if (scans === 0) throw new PhotoError('JPEG has no image data');
  // Whatever follows EOI is dropped: MPF secondary images carry their own EXIF, and phones append videos and trailers.
  return Buffer.concat(kept);
}

function keptJpegSegment({ marker, bytes, payload }: JpegSegment): Buffer | undefined {
  // JFIF stays (it says how to read the colours) but without its thumbnail, which can show what was cropped out.
  if (marker === APP0) return startsWith(payload, 'JFIF\0') && payload.length >= 14 ? segment(APP0, payload.subarray(0, 12), Buffer.alloc(2)) : undefined;
  // EXIF goes, except the orientation: phones store portrait photos sideways and rely on it to turn them upright.
  if (marker === APP1) return startsWith(payload, EXIF_HEADER) ? orientationExif(payload.subarray(EXIF_HEADER.length)) : undefined;
  if (marker === APP2) return startsWith(payload, 'ICC_PROFILE\0') ? bytes : undefined;
  if (marker === APP14) return startsWith(payload, 'Adobe') ? bytes : undefined;
  return (marker >= APP0 && marker <= APP15) || marker === COM ? undefined : bytes;
}

function segment(marker: number, ...payload: Buffer[]): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(2 + payload.reduce((n, p) => n + p.length, 0));
  return Buffer.concat([Buffer.from([0xff, marker]), length, ...payload]);
}

/** A new EXIF segment holding only the orientation, if the old one had a turn or flip to keep. */
function orientationExif(tiff: Buffer): Buffer | undefined {
  const orientation = exifOrientation(tiff);
  if (orientation === 1) return undefined;
  const out = Buffer.alloc(32);
  out.write(EXIF_HEADER, 'latin1');
  out.write('MM', 6, 'latin1');
  out.writeUInt16BE(42, 8);
  out.writeUInt32BE(8, 10); // IFD0 follows the header
  out.writeUInt16BE(1, 14); // one entry: Orientation, SHORT, count 1; then a zero next-IFD offset
  out.writeUInt16BE(ORIENTATION, 16);
  out.writeUInt16BE(SHORT, 18);
  out.writeUInt32BE(1, 20);
  out.writeUInt16BE(orientation, 24);
  return segment(APP1, out);
}

// ---------------------------------------------------------------------------------------------
// PNG

/** Ancillary chunks that describe only how to draw the pixels. Critical chunks are always kept. */
const PNG_KEEP = new Set(['tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'cICP', 'mDCV', 'cLLI', 'sBIT', 'bKGD', 'hIST', 'pHYs', 'sPLT', 'acTL', 'fcTL', 'fdAT']);

interface Chunk {
  type: string;
  /** The whole chunk, header to CRC or padding. */
  bytes: Buffer;
  data: Buffer;
}

/** The chunks after the signature, from IHDR up to and including IEND. */
function* pngChunks(b: Buffer): Generator<Chunk> {
  for (let pos = 8; ;) {
    const type = b.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + (pos + 12 <= b.length ? b.readUInt32BE(pos) : 0);
    if (end > b.length || !/^[A-Za-z]{4}$/.test(type) || (pos === 8 && type !== 'IHDR')) {
      throw new PhotoError(`PNG chunk at byte ${pos} is not valid`);
    }
    yield { type, bytes: b.subarray(pos, end), data: b.subarray(pos + 8, end - 4) };
    if (type === 'IEND') return;
    pos = end;
  }
}

function stripPng(b: Buffer): Buffer {
  const kept = [b.subarray(0, 8)];
  for (const c of pngChunks(b)) if (/^[A-Z]/.test(c.type) || PNG_KEEP.has(c.type)) kept.push(c.bytes);
  return Buffer.concat(kept);
}

// ---------------------------------------------------------------------------------------------
// WebP

const WEBP_KEEP = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF', 'ICCP']);
/** The VP8X flags saying EXIF and XMP chunks are present. */
const VP8X_METADATA = 0x08 | 0x04;

/** The chunks inside the RIFF container; the first is always the image or VP8X. */
function* webpChunks(b: Buffer): Generator<Chunk> {
  const end = 8 + b.readUInt32LE(4);
  if (end > b.length || !/^VP8[ LX]$/.test(b.toString('latin1', 12, 16))) throw new PhotoError('WebP file is truncated or has no image');
  for (let pos = 12; pos < end;) {
    const size = pos + 8 <= end ? b.readUInt32LE(pos + 4) : end;
    const next = pos + 8 + size + (size % 2); // chunks are padded to an even length
    if (next > end) throw new PhotoError(`WebP chunk at byte ${pos} is truncated`);
    yield { type: b.toString('latin1', pos, pos + 4), bytes: b.subarray(pos, next), data: b.subarray(pos + 8, pos + 8 + size) };
    pos = next;
  }
}

function stripWebp(b: Buffer): Buffer {
  const kept: Buffer[] = [Buffer.from('RIFF\0\0\0\0WEBP', 'latin1')];
  for (const c of webpChunks(b)) {
    if (!WEBP_KEEP.has(c.type)) continue;
    if (c.type !== 'VP8X') {
      kept.push(c.bytes);
      continue;
    }
    if (c.data.length < 10) throw new PhotoError('WebP VP8X chunk is truncated');
    const vp8x = Buffer.from(c.bytes);
    vp8x.writeUInt8(vp8x.readUInt8(8) & ~VP8X_METADATA, 8);
    kept.push(vp8x);
  }
  const out = Buffer.concat(kept);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

// ---------------------------------------------------------------------------------------------
// EXIF: a TIFF structure of IFDs (tables of 12-byte tag entries), in either byte order.

const ORIENTATION = 0x0112;
const GPS_IFD = 0x8825;
const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const IFD = 13;

interface Tiff {
  u16(offset: number): number;
  u32(offset: number): number;
  /** The type, count and value-field offset of a tag in the IFD at `ifd`. */
  entry(ifd: number, tag: number): { type: number; count: number; value: number } | undefined;
  ifd0: number;
}

/** Reads a TIFF structure; offsets outside it throw RangeError, which callers treat as malformed. */
function tiffOf(t: Buffer): Tiff | undefined {
  const order = t.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const u16 = (o: number) => (order === 'II' ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o: number) => (order === 'II' ? t.readUInt32LE(o) : t.readUInt32BE(o));
  if (u16(2) !== 42) return undefined;
  const entry = (ifd: number, tag: number) => {
    for (let i = 0, n = u16(ifd); i < n; i++) {
      const e = ifd + 2 + i * 12;
      if (u16(e) === tag) return { type: u16(e + 2), count: u32(e + 4), value: e + 8 };
    }
    return undefined;
  };
  return { u16, u32, entry, ifd0: u32(4) };
}

/** EXIF Orientation 2-8 (turns and flips), or 1 (as stored) when absent or malformed. */
function exifOrientation(t: Buffer): number {
  try {
    const tiff = tiffOf(t);
    const e = tiff?.entry(tiff.ifd0, ORIENTATION);
    const value = e?.type === SHORT && e.count === 1 ? tiff?.u16(e.value) : undefined;
    return value !== undefined && value >= 2 && value <= 8 ? value : 1;
  } catch {
    return 1;
  }
}

/** GPSLatitude and GPSLongitude (degrees, minutes, seconds as rationals) signed by their N/S and E/W refs. */
function gpsPosition(t: Buffer): LatLng | null {
  const tiff = tiffOf(t);
  const pointer = tiff?.entry(tiff.ifd0, GPS_IFD);
  if (!tiff || !pointer || (pointer.type !== LONG && pointer.type !== IFD)) return null;
  const gps = tiff.u32(pointer.value);
  const rational = (o: number) => tiff.u32(o) / tiff.u32(o + 4);
  const coordinate = (refTag: number, tag: number, hemispheres: Record<string, number>, max: number) => {
    const ref = tiff.entry(gps, refTag);
    const dms = tiff.entry(gps, tag);
    if (ref?.type !== ASCII || ref.count > 4 || dms?.type !== RATIONAL || dms.count !== 3) return null;
    const sign = hemispheres[t.toString('latin1', ref.value, ref.value + 1)];
    const at = tiff.u32(dms.value);
    const [d, m, s] = [rational(at), rational(at + 8), rational(at + 16)] as const;
    if (sign === undefined || m >= 60 || s >= 60) return null;
    const degrees = d + m / 60 + s / 3600;
    return degrees <= max ? sign * degrees : null; // a zero denominator gives NaN or Infinity, which fail this too
  };
  const lat = coordinate(1, 2, { N: 1, S: -1 }, 90);
  const lng = coordinate(3, 4, { E: 1, W: -1 }, 180);
  // Devices without a fix write zeros, and no street fault is at 0°N 0°E.
  return lat === null || lng === null || (lat === 0 && lng === 0) ? null : { lat, lng };
}
