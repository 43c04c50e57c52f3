import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import type { HazardPhotoType } from '@vigil/contracts';

/**
 * The image formats a hazard photo may be, told by the file's first bytes (its magic number),
 * never by the Content-Type the client sent:
 *   JPEG  FF D8 FF                                   (ISO/IEC 10918-1 SOI marker + next marker)
 *   PNG   89 50 4E 47 0D 0A 1A 0A                     (ISO/IEC 15948 §5.2 signature)
 *   WebP  "RIFF" <4-byte size> "WEBP"                 (RFC 9649 §2.5)
 * Only the signature is checked: the image is not decoded, so a file that starts right and is
 * broken after is stored as it came (it is served with its type and `nosniff`, never as HTML).
 */
export function sniffPhotoType(bytes: Uint8Array): HazardPhotoType | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return 'image/jpeg';
  if (bytes.length >= 8 && PNG.every((byte, i) => bytes[i] === byte)) return 'image/png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP')
    return 'image/webp';
  return undefined;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export type BoundedBody =
  | { readonly ok: true; readonly bytes: Buffer }
  | {
      readonly ok: false;
      /** Bytes read (and dropped) before giving up. */
      readonly received: number;
      /** Whether the rest was read to the end (false: the sender went past `discardUpTo`). */
      readonly drained: boolean;
    };

/**
 * Reads a request body into memory, at most `maxBytes` of it. A longer body is refused without
 * keeping it: what follows is read and dropped (so that the client hears the 413 instead of a
 * reset connection) up to `discardUpTo` bytes in all, beyond which reading stops (`drained`
 * false: the caller closes the connection).
 */
export function readBoundedBody(
  stream: Readable,
  maxBytes: number,
  discardUpTo: number,
): Promise<BoundedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let over = false;
    const finish = (result: BoundedBody) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (!over && received <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      if (!over) {
        over = true;
        chunks.length = 0;
      }
      if (received > discardUpTo) {
        stream.pause();
        finish({ ok: false, received, drained: false });
      }
    };
    const onEnd = () =>
      finish(
        over ? { ok: false, received, drained: true } : { ok: true, bytes: Buffer.concat(chunks) },
      );
    const onError = (error: Error) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** A photo could not be made durable: nothing refers to it. `status` 507 for no space, else 500. */
export class PhotoWriteError extends Error {
  constructor(
    readonly status: 500 | 507,
    readonly reason: 'disk-reserve' | 'write-error',
    message: string,
  ) {
    super(message);
    this.name = 'PhotoWriteError';
  }
}

/** A stored photo that is missing or no longer matches its SHA-256 (answered 500, counted). */
export class PhotoReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PhotoReadError';
  }
}

export interface StoredPhoto {
  readonly sha256: string;
  /** False: the same bytes were already stored (a re-upload, or another hazard's photo). */
  readonly written: boolean;
}

/**
 * Hazard photos on disk, content-addressed: `<directory>/<sha[0..2]>/<sha256>`, so the same bytes
 * are one file however often they are uploaded. A photo is written to `<directory>/tmp/`, fsync'd,
 * renamed into place and its directory fsync'd before `put` returns: a crash leaves either no
 * file or the whole file under its name, never a torn one (a leftover temp file is removed at
 * start). `put` refuses (507) when the file would leave less than `reserveBytes` free on the
 * file system: photos must not take the space the alarm and hazard journals need.
 */
export class HazardPhotoStore {
  private readonly tmp: string;

  constructor(
    readonly directory: string,
    private readonly reserveBytes: number,
  ) {
    this.tmp = join(directory, 'tmp');
  }

  /** Creates the directories and removes temp files a crash left behind; returns how many. */
  open(): number {
    mkdirSync(this.tmp, { recursive: true });
    const leftovers = readdirSync(this.tmp);
    for (const name of leftovers) rmSync(join(this.tmp, name), { force: true });
    return leftovers.length;
  }

  pathOf(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.directory, sha256.slice(0, 2), sha256);
  }

  static hash(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  /** Stores the bytes durably under their SHA-256; throws PhotoWriteError when it cannot. */
  async put(bytes: Uint8Array): Promise<StoredPhoto> {
    const sha256 = HazardPhotoStore.hash(bytes);
    if (await this.has(sha256)) return { sha256, written: false };
    const free = await this.freeBytes();
    if (free !== undefined && free - bytes.length < this.reserveBytes)
      throw new PhotoWriteError(
        507,
        'disk-reserve',
        `photo not stored: ${free} bytes free on the data directory's file system, and ${this.reserveBytes} are kept for the journals (VIGIL_HAZARD_PHOTO_RESERVE_MB)`,
      );
    const target = this.pathOf(sha256);
    const temp = join(this.tmp, `${sha256}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(this.tmp, { recursive: true });
      const file = await open(temp, 'wx');
      try {
        // write() may write less than asked (a full disk part-way): loop for the rest, or the error.
        for (let offset = 0; offset < bytes.length;) {
          const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
          offset += bytesWritten;
        }
        await file.sync();
      } finally {
        await file.close();
      }
      const shard = join(this.directory, sha256.slice(0, 2));
      await mkdir(shard, { recursive: true });
      await rename(temp, target);
      await fsyncDirectory(shard);
      await fsyncDirectory(this.directory);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      throw new PhotoWriteError(
        code === 'ENOSPC' || code === 'EDQUOT' ? 507 : 500,
        'write-error',
        `photo not stored (${code ?? 'error'}): ${(error as Error).message}`,
      );
    }
    return { sha256, written: true };
  }

  /** The photo's bytes, checked against their SHA-256; throws PhotoReadError when they differ. */
  async read(sha256: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(sha256));
    } catch (error) {
      throw new PhotoReadError(`photo ${sha256} unreadable: ${(error as Error).message}`);
    }
    const actual = HazardPhotoStore.hash(bytes);
    if (actual !== sha256)
      throw new PhotoReadError(`photo ${sha256} is damaged on disk (its SHA-256 is now ${actual})`);
    return bytes;
  }

  /** Bytes available to this process on the directory's file system (undefined: unknown). */
  private async freeBytes(): Promise<number | undefined> {
    try {
      const fs = await statfs(this.directory);
      return fs.bavail * fs.bsize;
    } catch {
      return undefined;
    }
  }
}

async function fsyncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
