import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { checkUpload, sniffContentType } from './index.js';
import { PHOTO_TYPES, PhotoError, readPhotoPosition, stripPhotoMetadata } from './images.js';

// ---------------------------------------------------------------------------------------------
// Builders for small synthetic images

/** A TIFF tag entry; `words` are written 1 (ASCII), 2 (SHORT) or 4 (others) bytes each, in the file's byte order. */
interface Entry {
  tag: number;
  type: number;
  count: number;
  words: number[];
}
const WORD_SIZE: Record<number, number> = { 2: 1, 3: 2 };
const ascii = (tag: number, text: string): Entry => ({ tag, type: 2, count: text.length + 1, words: [...Buffer.from(`${text}\0`, 'latin1')] });
const short = (tag: number, value: number): Entry => ({ tag, type: 3, count: 1, words: [value] });
/** Rationals written as text, e.g. '53/1 28/1 5088/100' for 53°28'50.88". */
const rationals = (tag: number, text: string, type = 5): Entry => {
  const values = text.split(' ').map((r) => r.split('/').map(Number));
  return { tag, type, count: values.length, words: values.flat() };
};

/** EXIF's TIFF structure: IFD0 with `ifd0` plus a pointer to a GPS IFD holding `gps`, if any. */
function tiff(order: 'II' | 'MM', ifd0: Entry[], gps: Entry[] = []): Buffer {
  const b = Buffer.alloc(1024);
  const write = (value: number, size: number, at: number) => {
    if (size === 1) b.writeUInt8(value, at);
    else if (order === 'II') b.writeUIntLE(value, at, size);
    else b.writeUIntBE(value, at, size);
  };
  b.write(order, 'latin1');
  write(42, 2, 2);
  write(8, 4, 4);
  const gpsAt = 8 + 6 + 12 * (ifd0.length + (gps.length ? 1 : 0));
  let data = gps.length ? gpsAt + 6 + 12 * gps.length : gpsAt;
  const writeIfd = (at: number, entries: Entry[]) => {
    write(entries.length, 2, at);
    entries.forEach((e, i) => {
      const field = at + 2 + i * 12;
      const size = WORD_SIZE[e.type] ?? 4;
      write(e.tag, 2, field);
      write(e.type, 2, field + 2);
      write(e.count, 4, field + 4);
      let to = field + 8;
      if (e.words.length * size > 4) {
        write(data, 4, to);
        to = data;
        data += e.words.length * size;
      }
      e.words.forEach((w, j) => write(w, size, to + j * size));
    });
  };
  writeIfd(8, gps.length ? [...ifd0, { tag: 0x8825, type: 4, count: 1, words: [gpsAt] }] : ifd0);
  if (gps.length) writeIfd(gpsAt, gps);
  return b.subarray(0, data);
}

function gpsOf(lat: string, lng: string, latRef = 'N', lngRef = 'W'): Entry[] {
  return [ascii(1, latRef), rationals(2, lat), ascii(3, lngRef), rationals(4, lng)];
}
/** 53°28'50.88"N 2°14'33.36"W: Manchester Town Hall. */
const MANCHESTER = gpsOf('53/1 28/1 5088/100', '2/1 14/1 3336/100');

function assertNear(actual: { lat: number; lng: number } | null, lat: number, lng: number) {
  assert.ok(actual, 'a position');
  assert.ok(Math.abs(actual.lat - lat) < 1e-9 && Math.abs(actual.lng - lng) < 1e-9, `${actual.lat},${actual.lng} is not ${lat},${lng}`);
}

const bytes = (...parts: (number[] | string | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : Buffer.from(p))));

function segment(marker: number, ...payload: (number[] | string | Buffer)[]): Buffer {
  const p = bytes(...payload);
  return bytes([0xff, marker, (p.length + 2) >> 8, (p.length + 2) & 0xff], p);
}

const SOI = bytes([0xff, 0xd8]);
const EOI = bytes([0xff, 0xd9]);
const exif = (t: Buffer) => segment(0xe1, 'Exif\0\0', t);
const JFIF_HEADER = bytes('JFIF\0', [1, 2, 1, 0, 72, 0, 72]);
const JFIF = segment(0xe0, JFIF_HEADER, [2, 1], [1, 2, 3, 4, 5, 6]); // with a 2×1 thumbnail
const JFIF_STRIPPED = segment(0xe0, JFIF_HEADER, [0, 0]);
const XMP = segment(0xe1, 'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>Jane Smith</dc:creator></x:xmpmeta>');
const ICC = segment(0xe2, 'ICC_PROFILE\0', [1, 1], 'profile bytes');
const MPF = segment(0xe2, 'MPF\0', 'MM\0*\0\0\0\x08');
const IPTC = segment(0xed, 'Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x10\x1c\x02\x50\0\x0aJane Smith');
const ADOBE = segment(0xee, 'Adobe', [0, 100, 0, 0, 0, 0, 1]);
const COMMENT = segment(0xfe, 'Taken by Jane Smith at 12 Acacia Avenue');
const DQT = segment(0xdb, [0], Buffer.alloc(64, 1));
const DHT = segment(0xc4, [0], Buffer.alloc(16), []);
const SOF = segment(0xc0, [8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
const SOS = segment(0xda, [1, 1, 0, 0, 63, 0]);
/** Entropy-coded data with a stuffed 0xFF00 and a restart marker, which do not end the scan. */
const SCAN = bytes([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0x78]);
const IMAGE = [DQT, SOF, DHT, SOS, SCAN];
const jpeg = (...metadata: Buffer[]) => Buffer.concat([SOI, ...metadata, ...IMAGE, EOI]);

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, ...data: (number[] | string | Buffer)[]): Buffer {
  const body = bytes(type, ...data);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(body.length - 4);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

const PNG_SIGNATURE = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// A real 1×1 grey PNG: 8-bit greyscale, one scanline of filter byte 0 and pixel 0x80.
const IHDR = chunk('IHDR', [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
const IDAT = chunk('IDAT', deflateSync(bytes([0, 0x80])));
const IEND = chunk('IEND');
const png = (...chunks: Buffer[]) => Buffer.concat([PNG_SIGNATURE, ...chunks]);

function pngChunkTypes(b: Buffer): string[] {
  const types: string[] = [];
  for (let pos = 8; pos < b.length; pos += 12 + b.readUInt32BE(pos)) {
    const end = pos + 8 + b.readUInt32BE(pos);
    assert.equal(b.readUInt32BE(end), crc32(b.subarray(pos + 4, end)), 'chunk CRC');
    types.push(b.toString('latin1', pos + 4, pos + 8));
  }
  return types;
}

function riffChunk(type: string, ...data: (number[] | string | Buffer)[]): Buffer {
  const body = bytes(...data);
  const header = bytes(type, [0, 0, 0, 0]);
  header.writeUInt32LE(body.length, 4);
  return bytes(header, body, body.length % 2 ? [0] : []);
}

const vp8x = (flags: number) => riffChunk('VP8X', [flags, 0, 0, 0, 15, 0, 0, 15, 0, 0]);
const VP8 = riffChunk('VP8 ', [0x30, 0x01, 0x00, 0x9d, 0x01]); // an odd length, so padded
const ICCP = riffChunk('ICCP', 'profile bytes');
const webp = (...chunks: Buffer[]) => {
  const out = bytes('RIFF', [0, 0, 0, 0], 'WEBP', ...chunks);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
};

function assertPhotoError(b: Buffer) {
  assert.throws(() => stripPhotoMetadata(b), PhotoError);
  assert.doesNotThrow(() => readPhotoPosition(b));
}

// ---------------------------------------------------------------------------------------------
// Reading the position

test('reads the GPS position from JPEG EXIF in either byte order', () => {
  for (const order of ['II', 'MM'] as const) {
    assertNear(readPhotoPosition(jpeg(JFIF, exif(tiff(order, [short(0x112, 1)], MANCHESTER)), COMMENT)), 53.4808, -2.2426);
  }
});

test('reads south and east, decimal degrees and decimal minutes', () => {
  const read = (gps: Entry[]) => readPhotoPosition(jpeg(exif(tiff('MM', [], gps))));
  assertNear(read(gpsOf('33/1 51/1 3600/100', '151/1 12/1 0/1', 'S', 'E')), -33.86, 151.2);
  assertNear(read(gpsOf('534808/10000 0/1 0/1', '22426/10000 0/1 0/1')), 53.4808, -2.2426);
  assertNear(read(gpsOf('53/1 28848/1000 0/1', '2/1 14556/1000 0/1')), 53.4808, -2.2426);
});

test('reads the position from a PNG eXIf chunk and a WebP EXIF chunk', () => {
  assertNear(readPhotoPosition(png(IHDR, chunk('eXIf', tiff('II', [], MANCHESTER)), IDAT, IEND)), 53.4808, -2.2426);
  assertNear(readPhotoPosition(webp(vp8x(0x08), VP8, riffChunk('EXIF', tiff('MM', [], MANCHESTER)))), 53.4808, -2.2426);
  assertNear(readPhotoPosition(webp(vp8x(0x08), VP8, riffChunk('EXIF', 'Exif\0\0', tiff('II', [], MANCHESTER)))), 53.4808, -2.2426);
});

test('no position when there is none or it is malformed or out of range', () => {
  const read = (t: Buffer) => readPhotoPosition(jpeg(exif(t)));
  const lat = '53/1 28/1 5088/100';
  const lng = '2/1 14/1 3336/100';
  assert.equal(readPhotoPosition(jpeg(JFIF, XMP)), null);
  assert.equal(read(tiff('II', [short(0x112, 6)])), null);
  assert.equal(read(tiff('II', [], gpsOf('91/1 0/1 0/1', lng))), null, 'latitude over 90');
  assert.equal(read(tiff('II', [], gpsOf(lat, '180/1 0/1 1/1'))), null, 'longitude over 180');
  assert.equal(read(tiff('II', [], gpsOf('53/1 60/1 0/1', lng))), null, '60 minutes');
  assert.equal(read(tiff('II', [], gpsOf('53/1 28/0 0/1', lng))), null, 'zero denominator');
  assert.equal(read(tiff('II', [], gpsOf('0/0 0/0 0/0', '0/0 0/0 0/0'))), null, 'no fix, as zeros over zeros');
  assert.equal(read(tiff('II', [], gpsOf('0/1 0/1 0/1', '0/1 0/1 0/1'))), null, 'no fix, as 0°N 0°E');
  assert.equal(read(tiff('II', [], gpsOf(lat, lng, 'X'))), null, 'unknown hemisphere');
  assert.equal(read(tiff('II', [], MANCHESTER.slice(0, 3))), null, 'no longitude');
  assert.equal(read(tiff('II', [], gpsOf('53/1 28/1', lng))), null, 'two rationals');
  assert.equal(read(tiff('II', [], [ascii(1, 'N'), rationals(2, lat, 10), ascii(3, 'W'), rationals(4, lng, 10)])), null, 'signed rationals');
  assert.equal(read(tiff('II', [{ tag: 0x8825, type: 4, count: 1, words: [60000] }])), null, 'GPS IFD outside the block');
  assert.equal(read(tiff('II', [], [{ ...ascii(1, 'N'), count: 5 }, ...MANCHESTER.slice(1)])), null, 'a reference longer than its inline field');
  const pointerTypes = tiff('II', [], MANCHESTER);
  pointerTypes.writeUInt16LE(13, 12); // the GPS pointer as TIFF's IFD type rather than LONG: fine
  assertNear(read(pointerTypes), 53.4808, -2.2426);
  pointerTypes.writeUInt16LE(3, 12);
  assert.equal(read(pointerTypes), null, 'GPS pointer as a SHORT');
  const good = tiff('MM', [], MANCHESTER);
  assert.equal(read(bytes('XX', good.subarray(2))), null, 'byte order');
  assert.equal(read(bytes('MM\0\x2b', good.subarray(4))), null, 'TIFF magic');
  assert.equal(read(good.subarray(0, good.length - 1)), null, 'truncated');
});

test('reading never throws, whatever the bytes', () => {
  const photo = jpeg(JFIF, exif(tiff('II', [short(0x112, 6)], MANCHESTER)));
  const exifStart = SOI.length + JFIF.length;
  for (let i = exifStart; i < photo.length; i++) {
    for (const value of [0x00, 0x01, 0x7f, 0xff]) {
      const corrupt = Buffer.from(photo);
      corrupt[i] = value;
      const position = readPhotoPosition(corrupt);
      assert.ok(position === null || (Math.abs(position.lat) <= 90 && Math.abs(position.lng) <= 180), `byte ${i} = ${value}`);
    }
  }
  for (const b of [Buffer.alloc(0), bytes('hello'), SOI, PNG_SIGNATURE, bytes('RIFF\xff\xff\xff\xffWEBP')]) assert.equal(readPhotoPosition(b), null);
});

// ---------------------------------------------------------------------------------------------
// Stripping JPEG

test('a JPEG loses EXIF, XMP, IPTC, comments, MPF and the JFIF thumbnail, and keeps its colour information', () => {
  const JFXX = segment(0xe0, 'JFXX\0', [0x10], SOI, 'thumbnail', EOI);
  const shortJfif = segment(0xe0, JFIF_HEADER.subarray(0, 8));
  const photo = jpeg(JFIF, JFXX, shortJfif, exif(tiff('MM', [], MANCHESTER)), XMP, ICC, MPF, IPTC, ADOBE, COMMENT);
  const stripped = stripPhotoMetadata(photo);
  assert.deepEqual(stripped, jpeg(JFIF_STRIPPED, ICC, ADOBE));
  for (const text of ['Exif', 'Jane Smith', 'xap', 'Acacia', 'Photoshop', 'MPF']) assert.ok(!stripped.includes(text), text);
  assert.ok(!stripped.includes(bytes([0, 0, 0x13, 0xe0, 0, 0, 0, 0x64])), 'the latitude seconds (5088/100) are gone');
  assert.deepEqual(stripped.subarray(0, 3), bytes([0xff, 0xd8, 0xff]));
  assert.deepEqual(stripped.subarray(-2), EOI);
  assert.equal(sniffContentType(stripped), 'image/jpeg');
  assert.equal(readPhotoPosition(stripped), null);
  assert.deepEqual(stripPhotoMetadata(stripped), stripped, 'stripping again changes nothing');
});

test('a JPEG keeps its orientation in a new EXIF block with nothing else in it', () => {
  for (const order of ['II', 'MM'] as const) {
    const stripped = stripPhotoMetadata(jpeg(exif(tiff(order, [short(0x10f, 0), short(0x112, 6)], MANCHESTER)), COMMENT));
    assert.deepEqual(stripped, jpeg(exif(tiff('MM', [short(0x112, 6)]))));
    assert.equal(readPhotoPosition(stripped), null);
  }
  assert.deepEqual(stripPhotoMetadata(jpeg(exif(tiff('II', [short(0x112, 9)])))), jpeg(), 'not an orientation');
  assert.deepEqual(stripPhotoMetadata(jpeg(exif(tiff('II', [{ tag: 0x112, type: 4, count: 1, words: [6] }])))), jpeg(), 'not a SHORT');
  assert.deepEqual(stripPhotoMetadata(jpeg(exif(bytes('II*\0\xff\xff\xff\xff')))), jpeg(), 'malformed EXIF');
});

test('a progressive JPEG keeps every scan and loses metadata between scans and after the end', () => {
  const scans = [DQT, segment(0xc2, [8, 0, 16, 0, 16, 1, 1, 0x11, 0]), DHT, SOS, SCAN, DHT, SOS, SCAN];
  const secondImage = Buffer.concat([SOI, exif(tiff('MM', [], MANCHESTER)), ...IMAGE, EOI]);
  const photo = Buffer.concat([SOI, ...scans.slice(0, 5), COMMENT, exif(tiff('II', [], MANCHESTER)), ...scans.slice(5), bytes([0xff, 0xff]), EOI, secondImage]);
  assert.deepEqual(stripPhotoMetadata(photo), Buffer.concat([SOI, ...scans, EOI]));
  assert.equal(readPhotoPosition(photo), null, 'EXIF counts only before the first scan');
});

test('a malformed JPEG is refused', () => {
  const photo = jpeg(JFIF, exif(tiff('II', [], MANCHESTER)));
  for (let length = 3; length < photo.length; length++) assertPhotoError(photo.subarray(0, length));
  assertPhotoError(Buffer.concat([SOI, JFIF, DQT, EOI])); // no image data
  assertPhotoError(Buffer.concat([SOI, JFIF, bytes([0x00]), ...IMAGE, EOI])); // a stray byte between segments
  assertPhotoError(Buffer.concat([SOI, SOI, ...IMAGE, EOI]));
  assertPhotoError(Buffer.concat([SOI, segment(0x02, 'reserved'), ...IMAGE, EOI]));
  assertPhotoError(Buffer.concat([SOI, segment(0xf7, 'JPEG-LS'), ...IMAGE, EOI]));
  assertPhotoError(Buffer.concat([SOI, segment(0xc8, 'reserved for JPEG extensions'), ...IMAGE, EOI]));
  const exifAt = SOI.length + JFIF.length;
  assert.throws(() => stripPhotoMetadata(photo.subarray(0, exifAt + 10)), { name: 'PhotoError', message: `JPEG segment at byte ${exifAt} is truncated` });
  assert.throws(() => stripPhotoMetadata(Buffer.concat([SOI, bytes([0xff, 0xe1, 0, 1]), ...IMAGE, EOI])), /segment at byte 2 is truncated/);
  assert.throws(() => stripPhotoMetadata(Buffer.concat([SOI, DQT, SOF, SOS, SCAN])), /JPEG ends inside its image data/);
});

test('a real JPEG from node_modules survives stripping byte for byte', (t) => {
  const sample = new URL('../../../node_modules/@fastify/static/example/public/images/sample.jpg', import.meta.url);
  if (!existsSync(sample)) return t.skip('no sample JPEG in node_modules');
  const original = readFileSync(sample);
  // It has no metadata (a progressive JPEG starting with DQT), so stripping is a no-op; with metadata added, stripping removes it again.
  assert.deepEqual(stripPhotoMetadata(original), original);
  const withMetadata = Buffer.concat([SOI, exif(tiff('MM', [], MANCHESTER)), XMP, COMMENT, original.subarray(2)]);
  assertNear(readPhotoPosition(withMetadata), 53.4808, -2.2426);
  assert.deepEqual(stripPhotoMetadata(withMetadata), original);
});

// ---------------------------------------------------------------------------------------------
// Stripping PNG and WebP

test('a PNG loses EXIF, text, time and unknown chunks, and keeps its pixels and colour chunks with valid CRCs', () => {
  const gAMA = chunk('gAMA', [0, 0, 0xb1, 0x8f]);
  const pHYs = chunk('pHYs', [0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1]);
  const iCCP = chunk('iCCP', 'ICC\0\0', deflateSync(bytes('profile bytes')));
  const metadata = [
    chunk('eXIf', tiff('MM', [], MANCHESTER)),
    chunk('tEXt', 'Author\0Jane Smith'),
    chunk('zTXt', 'Comment\0\0', deflateSync(bytes('12 Acacia Avenue'))),
    chunk('iTXt', 'XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>'),
    chunk('tIME', [0x07, 0xea, 11, 23, 9, 30, 0]),
    chunk('prVt', 'a private chunk'),
  ];
  const stripped = stripPhotoMetadata(png(IHDR, gAMA, ...metadata, iCCP, pHYs, IDAT, IEND, bytes('trailing')));
  assert.deepEqual(stripped, png(IHDR, gAMA, iCCP, pHYs, IDAT, IEND));
  assert.deepEqual(pngChunkTypes(stripped), ['IHDR', 'gAMA', 'iCCP', 'pHYs', 'IDAT', 'IEND']);
  assert.equal(sniffContentType(stripped), 'image/png');
  assert.equal(readPhotoPosition(stripped), null);
});

test('a malformed PNG is refused', () => {
  const photo = png(IHDR, chunk('tEXt', 'Author\0Jane Smith'), IDAT, IEND);
  for (let length = 8; length < photo.length; length++) assertPhotoError(photo.subarray(0, length));
  assertPhotoError(png(IDAT, IHDR, IEND)); // IHDR not first
  assertPhotoError(png(IHDR, chunk('ID@T', [1]), IEND)); // not a chunk type
});

test('a WebP loses EXIF, XMP and unknown chunks, with its size and VP8X flags put right', () => {
  const photo = webp(
    vp8x(0x20 | 0x10 | 0x08 | 0x04),
    ICCP,
    riffChunk('ALPH', [0]),
    VP8,
    riffChunk('EXIF', tiff('II', [], MANCHESTER)),
    riffChunk('XMP ', '<x:xmpmeta/>'),
    riffChunk('C2PA', 'x'),
  );
  const stripped = stripPhotoMetadata(photo);
  assert.deepEqual(stripped, webp(vp8x(0x20 | 0x10), ICCP, riffChunk('ALPH', [0]), VP8));
  assert.equal(stripped.readUInt32LE(4), stripped.length - 8);
  assert.equal(sniffContentType(stripped), 'image/webp');
  assert.equal(readPhotoPosition(stripped), null);
  const simple = webp(VP8);
  assert.deepEqual(stripPhotoMetadata(Buffer.concat([simple, bytes('trailing')])), simple);
});

test('a malformed WebP is refused', () => {
  const photo = webp(vp8x(0x08), VP8, riffChunk('EXIF', tiff('II', [], MANCHESTER)));
  for (let length = 12; length < photo.length; length++) assertPhotoError(photo.subarray(0, length));
  assertPhotoError(webp(riffChunk('EXIF', tiff('II', [], MANCHESTER)), VP8)); // no image first
  assertPhotoError(webp(riffChunk('VP8X', [0x08]), VP8)); // VP8X too short
  assertPhotoError(webp(VP8, bytes('EXIF', [0xff, 0, 0, 0]))); // a chunk overrunning the RIFF size
  assertPhotoError(webp(VP8, bytes('EXIF'))); // half a chunk header
  assertPhotoError(webp());
});

test('other types are refused', () => {
  for (const b of [
    bytes('GIF89a', Buffer.alloc(20)),
    bytes([0, 0, 0, 0x18], 'ftypheic', Buffer.alloc(20)),
    bytes('%PDF-1.7\n'),
    bytes('hello'),
    Buffer.alloc(0),
  ]) {
    assertPhotoError(b);
  }
  assert.throws(() => stripPhotoMetadata(bytes('%PDF-1.7\n')), { name: 'PhotoError', message: 'The file is not a JPEG, PNG or WebP image' });
  assert.deepEqual(checkUpload(bytes('GIF89a'), { allowed: PHOTO_TYPES, maxBytes: 100 }), {
    ok: false,
    message: 'The selected file must be a JPG, PNG or WebP',
  });
});
