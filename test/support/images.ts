import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A small valid PNG (grey pixels), optionally carrying a text chunk as cameras and editors add. */
export function tinyPng(opts: { width?: number; height?: number; text?: string } = {}): Buffer {
  const width = opts.width ?? 2;
  const height = opts.height ?? 2;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter byte
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    ...(opts.text ? [chunk('tEXt', Buffer.from(`Comment\0${opts.text}`, 'latin1'))] : []),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The EXIF block of a photo taken at a point: a TIFF header, IFD0 pointing at a GPS IFD (big-endian). */
function exifAt(lat: number, lng: number): Buffer {
  const rational = (value: number) => {
    const degrees = Math.floor(value);
    const minutesFull = (value - degrees) * 60;
    const minutes = Math.floor(minutesFull);
    const seconds = Math.round((minutesFull - minutes) * 60 * 1000);
    return [degrees, 1, minutes, 1, seconds, 1000];
  };
  const tiff = Buffer.alloc(8 + 2 + 12 + 4 + 2 + 4 * 12 + 4 + 48);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  let at = 8;
  tiff.writeUInt16BE(1, at); // IFD0: one entry, the GPS IFD pointer
  tiff.writeUInt16BE(0x8825, at + 2);
  tiff.writeUInt16BE(4, at + 4);
  tiff.writeUInt32BE(1, at + 6);
  const gpsAt = 8 + 2 + 12 + 4;
  tiff.writeUInt32BE(gpsAt, at + 10);
  tiff.writeUInt32BE(0, at + 14);
  at = gpsAt;
  const valuesAt = gpsAt + 2 + 4 * 12 + 4;
  tiff.writeUInt16BE(4, at);
  const entries: [number, number, number, number | string][] = [
    [1, 2, 2, lat >= 0 ? 'N' : 'S'],
    [2, 5, 3, valuesAt],
    [3, 2, 2, lng >= 0 ? 'E' : 'W'],
    [4, 5, 3, valuesAt + 24],
  ];
  entries.forEach(([tag, type, count, value], i) => {
    const e = at + 2 + i * 12;
    tiff.writeUInt16BE(tag, e);
    tiff.writeUInt16BE(type, e + 2);
    tiff.writeUInt32BE(count, e + 4);
    if (typeof value === 'string') tiff.write(value, e + 8, 'latin1');
    else tiff.writeUInt32BE(value, e + 8);
  });
  [...rational(Math.abs(lat)), ...rational(Math.abs(lng))].forEach((n, i) => tiff.writeUInt32BE(n, valuesAt + i * 4));
  return tiff;
}

/** The same PNG with an eXIf chunk recording where the photo was taken. */
export function pngTakenAt(lat: number, lng: number): Buffer {
  const png = tinyPng();
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), chunk('eXIf', exifAt(lat, lng)), png.subarray(iend)]);
}
