import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';

import {
  HazardPhotoStore,
  PhotoReadError,
  PhotoWriteError,
  readBoundedBody,
  sniffPhotoType,
} from './hazard-photo-store';

const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (value: string) => Uint8Array.from(Buffer.from(value, 'latin1'));

describe(sniffPhotoType.name, () => {
  it('tells JPEG, PNG and WebP by their signatures', () => {
    expect(sniffPhotoType(bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10))).toBe('image/jpeg');
    expect(sniffPhotoType(bytes(0xff, 0xd8, 0xff, 0xe1))).toBe('image/jpeg'); // EXIF (APP1)
    expect(sniffPhotoType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0))).toBe(
      'image/png',
    );
    expect(sniffPhotoType(text('RIFF\x24\x00\x00\x00WEBPVP8 '))).toBe('image/webp');
  });

  it('refuses everything else, near misses and short files included', () => {
    for (const candidate of [
      text('GIF89a......'),
      text('BM6\x00\x00\x00'), // BMP
      text('II*\x00'), // TIFF
      text('%PDF-1.7'),
      text('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      text('<html><script>alert(1)</script>'),
      text('RIFF\x24\x00\x00\x00WAVEfmt '), // RIFF but audio
      text('RIFF\x24\x00\x00\x00WEB'), // cut short
      bytes(0xff, 0xd8), // cut short
      bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a), // cut short
      bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0b), // one byte off
      text('------WebKitFormBoundary\r\n'), // a multipart form, not the file
      bytes(),
    ])
      expect(sniffPhotoType(candidate)).toBeUndefined();
  });
});

describe(readBoundedBody.name, () => {
  const chunks = (...sizes: number[]) => Readable.from(sizes.map(size => Buffer.alloc(size, 1)));

  it('returns a body up to the bound, exactly at it included', async () => {
    expect(await readBoundedBody(chunks(400, 600), 1000, 5000)).toMatchObject({ ok: true });
    const body = await readBoundedBody(chunks(400, 600), 1000, 5000);
    expect(body.ok && body.bytes.length).toBe(1000);
  });

  it('refuses one byte more, reading the rest to the end without keeping it', async () => {
    expect(await readBoundedBody(chunks(400, 601), 1000, 5000)).toEqual({
      ok: false,
      received: 1001,
      drained: true,
    });
  });

  it('stops reading past the discard bound', async () => {
    const stream = new PassThrough();
    const reading = readBoundedBody(stream, 1000, 3000);
    for (let i = 0; i < 4; i += 1) stream.write(Buffer.alloc(1000));
    // Never ended by the sender: the answer comes anyway.
    expect(await reading).toEqual({ ok: false, received: 4000, drained: false });
    stream.destroy();
  });
});

describe(HazardPhotoStore.name, () => {
  let dir: string;
  const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 3)]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-photos-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores under the SHA-256, once, and reads the bytes back', async () => {
    const store = new HazardPhotoStore(join(dir, 'photos'), 0);
    store.open();
    const first = await store.put(JPEG);
    expect(first.written).toBe(true);
    expect(first.sha256).toBe(HazardPhotoStore.hash(JPEG));
    expect(existsSync(join(dir, 'photos', first.sha256.slice(0, 2), first.sha256))).toBe(true);
    expect(await store.put(JPEG)).toEqual({ sha256: first.sha256, written: false });
    expect(Buffer.compare(await store.read(first.sha256), JPEG)).toBe(0);
    // Nothing left in the temp directory.
    expect(readdirSync(join(dir, 'photos', 'tmp'))).toEqual([]);
  });

  it('removes temp files a crash left behind at start', () => {
    const store = new HazardPhotoStore(join(dir, 'photos'), 0);
    store.open();
    writeFileSync(join(dir, 'photos', 'tmp', 'abc.123.tmp'), 'half a photo');
    expect(new HazardPhotoStore(join(dir, 'photos'), 0).open()).toBe(1);
    expect(readdirSync(join(dir, 'photos', 'tmp'))).toEqual([]);
  });

  it('refuses (507) a photo that would eat into the space kept for the journals', async () => {
    const store = new HazardPhotoStore(join(dir, 'photos'), Number.MAX_SAFE_INTEGER);
    store.open();
    await expect(store.put(JPEG)).rejects.toMatchObject({
      name: 'PhotoWriteError',
      status: 507,
      reason: 'disk-reserve',
    });
    expect(await store.has(HazardPhotoStore.hash(JPEG))).toBe(false);
  });

  it('throws the reason when the disk refuses the write, leaving no file under the name', async () => {
    const store = new HazardPhotoStore(join(dir, 'photos'), 0);
    store.open();
    rmSync(join(dir, 'photos', 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'photos', 'tmp'), 'a file where the temp directory was');
    const error = await store.put(JPEG).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PhotoWriteError);
    expect(error).toMatchObject({ status: 500, reason: 'write-error' });
    expect((error as Error).message).toMatch(/^photo not stored \((ENOTDIR|EEXIST)\)/);
    expect(await store.has(HazardPhotoStore.hash(JPEG))).toBe(false);
  });

  it('says so when a stored photo no longer matches its SHA-256', async () => {
    const store = new HazardPhotoStore(join(dir, 'photos'), 0);
    store.open();
    const { sha256 } = await store.put(JPEG);
    writeFileSync(store.pathOf(sha256), Buffer.from('bit rot'));
    await expect(store.read(sha256)).rejects.toBeInstanceOf(PhotoReadError);
    await expect(store.read('0'.repeat(64))).rejects.toBeInstanceOf(PhotoReadError);
  });
});
