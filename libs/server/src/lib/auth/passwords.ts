import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

// scrypt parameters (RFC 7914 interactive defaults, N=2^14, r=8, p=1): about 50 ms per check.
const N = 16_384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
/** scrypt needs 128·N·r bytes; Node refuses above its default 32 MiB unless told. */
const MAX_MEM = 64 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. Synchronous: for the CLI and start-up only. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_BYTES, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

interface ParsedHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const parsed = {
    n: Number(n),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt, 'base64url'),
    hash: Buffer.from(hash, 'base64url'),
  };
  // A hand-edited users file must not make one login cost seconds of CPU or gigabytes.
  if (![parsed.n, parsed.r, parsed.p].every(Number.isSafeInteger)) return undefined;
  if (parsed.n > 1 << 17 || parsed.r > 16 || parsed.p > 4 || parsed.hash.length === 0)
    return undefined;
  return parsed;
}

/** Synchronous check (tests and tools). The server uses {@link verifyPasswordAsync}. */
export function verifyPassword(password: string, encoded: string): boolean {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const actual = scryptSync(password, parsed.salt, parsed.hash.length, {
    N: parsed.n,
    r: parsed.r,
    p: parsed.p,
    maxmem: MAX_MEM,
  });
  return timingSafeEqual(actual, parsed.hash);
}

/**
 * The server's check: scrypt runs on libuv's thread pool, not on the event loop, so a flood of
 * logins cannot delay an alarm (200 parallel bad logins held the loop 2.7–6.7 s with scryptSync).
 * How many run at once is bounded by the caller ({@link LoginLimiter}).
 */
export function verifyPasswordAsync(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return Promise.resolve(false);
  return new Promise(resolve => {
    scrypt(
      password,
      parsed.salt,
      parsed.hash.length,
      { N: parsed.n, r: parsed.r, p: parsed.p, maxmem: MAX_MEM },
      (error, actual) => resolve(!error && timingSafeEqual(actual, parsed.hash)),
    );
  });
}

/** Minimum length of a new password (NIST SP 800-63B §5.1.1.2 asks for at least 8; we ask 12). */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Problems with a new password, empty when it is acceptable: long enough, not trivially
 * repetitive, not the demo password, not containing the user id.
 */
export function passwordProblems(password: string, userId?: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH)
    problems.push(`at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > 256) problems.push('at most 256 characters');
  if (new Set(password).size < 5) problems.push('at least 5 different characters');
  if (/vigil-?demo/i.test(password)) problems.push('not the demo password');
  if (userId && userId.length >= 3 && password.toLowerCase().includes(userId.toLowerCase()))
    problems.push('must not contain the user id');
  return problems;
}
