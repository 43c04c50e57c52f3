import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type AuthAuditEvent = 'login' | 'login-failed' | 'login-refused' | 'logout' | 'user-locked';

export interface AuthAuditEntry {
  readonly at: number;
  readonly event: AuthAuditEvent;
  readonly user: string;
  readonly address: string;
  readonly reason?: string | undefined;
  /** For coalesced refusals: how many were refused since the last entry for this address. */
  readonly count?: number | undefined;
}

/** The audit file is rotated once it passes this size (one previous file is kept). */
const MAX_AUDIT_BYTES = 16 * 1024 * 1024;
/** Refusals from one address and for one reason are written at most once per this period. */
const REFUSAL_COALESCE_MS = 60_000;
const MAX_COALESCED_KEYS = 10_000;

/**
 * Who logged in, failed, was refused or logged out, from where, as JSON lines in
 * `<dataDir>/audit/auth.jsonl` (synchronous appends: an audit entry must not be lost to a crash
 * right after the answer). Refusals under a flood are coalesced per address and reason, so the
 * file grows with real attempts, not with what the limiter turned away.
 */
export class AuthAudit {
  readonly path: string;
  private readonly refusals = new Map<string, { since: number; count: number }>();

  constructor(dataDir: string) {
    const dir = join(dataDir, 'audit');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'auth.jsonl');
  }

  record(entry: AuthAuditEntry): void {
    if (entry.event === 'login-refused') {
      const key = `${entry.address}|${entry.reason ?? ''}`;
      const pending = this.refusals.get(key);
      if (pending && entry.at - pending.since < REFUSAL_COALESCE_MS) {
        pending.count += 1;
        return;
      }
      this.refusals.delete(key);
      if (this.refusals.size >= MAX_COALESCED_KEYS) this.refusals.clear();
      this.refusals.set(key, { since: entry.at, count: 0 });
      this.write({ ...entry, count: 1 + (pending?.count ?? 0) });
      return;
    }
    this.write(entry);
  }

  private write(entry: AuthAuditEntry): void {
    try {
      if ((statSync(this.path, { throwIfNoEntry: false })?.size ?? 0) > MAX_AUDIT_BYTES)
        renameSync(this.path, `${this.path}.1`);
    } catch {
      // rotation is best effort; the append below says loudly if the disk is the problem
    }
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`);
  }
}
