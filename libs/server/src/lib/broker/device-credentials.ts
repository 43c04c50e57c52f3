import {
  createHash,
  pbkdf2 as pbkdf2Callback,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

import { z } from 'zod';

import { IDENTIFIER_PATTERN } from '@vigil/contracts';

const scrypt = promisify(scryptCallback) as (
  password: string | Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number },
) => Promise<Buffer>;
const pbkdf2 = promisify(pbkdf2Callback);

/**
 * Device secrets are 192 random bits issued by Vigil, never chosen by a person, so the hash's
 * work factor guards nothing a brute force could reach; it only keeps a leaked secrets file from
 * being a list of usable passwords. Measured on the shared 2-core build machine (load average
 * 13-14): N=2^10 takes 7 ms per check, 2^12 19-33 ms, the interactive 2^14 131 ms. With two
 * checks at a time (broker-access.ts), 10,000 devices reconnecting after a broker restart are
 * admitted in ≈ 35 s at 2^10 instead of ≈ 11 min at 2^14; each secret is checked once per
 * broker process, then by its SHA-256.
 */
const SCRYPT = { N: 1024, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
/** mosquitto_passwd (2.0) defaults: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt, `$7$`. */
const MOSQUITTO_ITERATIONS = 101;
const MOSQUITTO_SALT_BYTES = 12;

const identifier = z.string().regex(IDENTIFIER_PATTERN);

const credentialSchema = z.object({
  site: identifier,
  device: identifier,
  /** `scrypt$N$r$p$salt$hash` (base64url): checked by the embedded broker. */
  hash: z.string().startsWith('scrypt$'),
  /** `$7$101$salt$hash` (base64): what Mosquitto's password_file holds for the same secret. */
  mosquittoHash: z.string().startsWith('$7$'),
  issuedAt: z.string(),
});
export type DeviceCredential = z.infer<typeof credentialSchema>;

export const credentialsFileSchema = z.object({
  version: z.literal(1),
  credentials: z.array(credentialSchema),
});
export type CredentialsFile = z.infer<typeof credentialsFileSchema>;

export function credentialKey(site: string, device: string): string {
  return `${site}/${device}`;
}

/** Reads the secrets file; a missing file is an empty store, a malformed one an error. */
export function readCredentialsFile(path: string): CredentialsFile {
  if (!existsSync(path)) return { version: 1, credentials: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not JSON (${(error as Error).message})`);
  }
  const parsed = credentialsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${path}: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const seen = new Set<string>();
  for (const entry of parsed.data.credentials) {
    const key = credentialKey(entry.site, entry.device);
    if (seen.has(key)) throw new Error(`${path}: ${key} appears twice`);
    seen.add(key);
  }
  return parsed.data;
}

/** Writes the secrets file atomically (temp + rename), readable by its owner only. */
export function writeCredentialsFile(path: string, file: CredentialsFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** A new device secret: 24 random bytes, base64url (32 characters, safe in any config file). */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEY_BYTES, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Asynchronous (libuv thread pool), never on the event loop; false for any malformed hash. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length === 0) return false;
  try {
    const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
    });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/** The line Mosquitto's password_file holds for a secret (what `mosquitto_passwd -b` writes). */
export async function mosquittoHash(secret: string): Promise<string> {
  const salt = randomBytes(MOSQUITTO_SALT_BYTES);
  const hash = await pbkdf2(secret, salt, MOSQUITTO_ITERATIONS, 64, 'sha512');
  return `$7$${MOSQUITTO_ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function newCredential(
  site: string,
  device: string,
  now: Date,
): Promise<{ credential: DeviceCredential; secret: string }> {
  const secret = newSecret();
  const [hash, mosquitto] = await Promise.all([hashSecret(secret), mosquittoHash(secret)]);
  return {
    secret,
    credential: { site, device, hash, mosquittoHash: mosquitto, issuedAt: now.toISOString() },
  };
}

/** SHA-256 of a secret: the key of the broker's cache of already verified secrets. */
export function secretDigest(secret: string | Buffer): Buffer {
  return createHash('sha256').update(secret).digest();
}
