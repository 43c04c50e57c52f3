import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Token ids revoked by logout, kept until the token would have expired anyway, in
 * `<dataDir>/auth/revoked-tokens.jsonl` so that a restart does not bring a logged-out token back.
 * Compacted at start; its size is bounded by the logins the limiter lets through in one token
 * lifetime.
 */
export class RevokedTokens {
  private readonly revoked = new Map<string, number>();
  private readonly path: string;

  constructor(dataDir: string, now: number) {
    this.path = join(dataDir, 'auth', 'revoked-tokens.jsonl');
    mkdirSync(dirname(this.path), { recursive: true });
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        try {
          const { jti, exp } = JSON.parse(line) as { jti?: unknown; exp?: unknown };
          if (typeof jti === 'string' && typeof exp === 'number' && exp * 1000 > now)
            this.revoked.set(jti, exp);
        } catch {
          // a torn last line after a crash: skipped
        }
      }
    }
    writeFileSync(
      this.path,
      [...this.revoked].map(([jti, exp]) => `${JSON.stringify({ jti, exp })}\n`).join(''),
    );
  }

  revoke(jti: string, exp: number): void {
    if (this.revoked.has(jti)) return;
    this.revoked.set(jti, exp);
    appendFileSync(this.path, `${JSON.stringify({ jti, exp })}\n`);
  }

  has(jti: string, now: number): boolean {
    const exp = this.revoked.get(jti);
    if (exp === undefined) return false;
    if (exp * 1000 <= now) {
      this.revoked.delete(jti);
      return false;
    }
    return true;
  }
}
