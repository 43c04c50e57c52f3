import { deflateSync } from 'node:zlib';

/**
 * Photos for the tests, made here (no binary fixtures in the repository): a real PNG that
 * Chromium draws, and byte strings that only start like a JPEG or WebP (Vigil checks the magic
 * bytes, it does not decode).
 */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGB PNG (ISO/IEC 15948) of `width` × `height`, each pixel from `pixel(x, y)`. */
export function png(
  width: number,
  height: number,
  pixel: (x: number, y: number) => readonly [number, number, number],
): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1); // filter byte 0 (none) at the start of each row
    for (let x = 0; x < width; x += 1) {
      const [r, g, b] = pixel(x, y);
      rows[row + 1 + x * 3] = r;
      rows[row + 2 + x * 3] = g;
      rows[row + 3 + x * 3] = b;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A warning-sign picture: yellow and black diagonal stripes with a red band (`seed` shifts them). */
export function hazardPng(seed = 0, width = 240, height = 160): Buffer {
  return png(width, height, (x, y) => {
    if (y > height * 0.4 && y < height * 0.6) return [200, 30, 30];
    return Math.floor((x + y + seed * 7) / 16) % 2 === 0 ? [250, 200, 0] : [20, 20, 20];
  });
}

/** Starts like a JPEG with EXIF (APP1 "Exif"), then `size` bytes of `fill`: not a real image. */
export function jpegLike(size: number, fill = 0x42): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10]),
    Buffer.from('Exif\0\0', 'latin1'),
    Buffer.alloc(size, fill),
  ]);
}

/** Starts like a WebP (RIFF … WEBP VP8), then `size` bytes: not a real image. */
export function webpLike(size: number): Buffer {
  return Buffer.concat([
    Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1'),
    Buffer.alloc(size, 1),
  ]);
}
