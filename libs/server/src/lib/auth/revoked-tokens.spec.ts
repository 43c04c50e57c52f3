import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RevokedTokens } from './revoked-tokens';

describe('RevokedTokens', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-revoked-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart until the token would have expired, then forgets it', () => {
    const now = 1_800_000_000_000;
    const revoked = new RevokedTokens(dir, now);
    revoked.revoke('a', now / 1000 + 60);
    revoked.revoke('b', now / 1000 + 7200);
    expect(revoked.has('a', now)).toBe(true);

    const later = now + 120_000;
    const restarted = new RevokedTokens(dir, later);
    expect(restarted.has('a', later)).toBe(false);
    expect(restarted.has('b', later)).toBe(true);
    // Compacted at start: the expired id is gone from the file too.
    expect(readFileSync(join(dir, 'auth/revoked-tokens.jsonl'), 'utf8')).not.toContain('"a"');
  });
});
