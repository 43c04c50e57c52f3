import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** gzip's first two bytes: a saved rule state written since compression (2026-12-07). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * A partition's saved rule state (`s<N>` in `vigil_checkpoints`) as bytes: JSON, gzip-compressed
 * off the event loop (zlib's thread pool), so that a partition of about twice as many devices fits
 * under the bucket's value bound (NATS's max_payload, 1 MiB in deploy/). Measured on a synthetic
 * state of 1,400 gas detectors with random window values (the least compressible case): 1.17 MB of
 * JSON → 0.50 MB; the fault suite's 1,000 detectors of one site came to 0.81 MB of JSON, over the
 * bound before, so a takeover restored nothing (rule state not saved, counted).
 */
export async function encodeRuleState(saved: unknown): Promise<Uint8Array> {
  return new Uint8Array(await gzipAsync(JSON.stringify(saved), { level: 3 }));
}

/** Reads what `encodeRuleState` wrote, and the plain JSON written before compression. */
export async function decodeRuleState(bytes: Uint8Array): Promise<unknown> {
  const compressed = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
  const text = compressed
    ? (await gunzipAsync(bytes)).toString('utf8')
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return JSON.parse(text) as unknown;
}
