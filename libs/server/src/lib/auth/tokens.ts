import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** User id. */
  readonly sub: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
  /** Issued at, epoch seconds. */
  readonly iat: number;
  /** Token id: what a logout revokes. */
  readonly jti: string;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}

/** A compact HS256 JWT: signed and expiring; the user's role and scope are looked up, not trusted. */
export function signToken(claims: TokenClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

/** The claims of a valid, unexpired token; tokens without an id (older than revocation) are refused. */
export function verifyToken(token: string, secret: string, nowMs: number): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const [, payload, signature] = parts as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
    if (typeof claims.jti !== 'string' || typeof claims.iat !== 'number') return undefined;
    return claims.exp * 1000 > nowMs ? claims : undefined;
  } catch {
    return undefined;
  }
}
