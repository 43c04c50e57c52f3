/**
 * Bounds what password guessing can cost and gain (OWASP ASVS V2.2.1, NIST SP 800-63B §5.2.2):
 * - per address: at most `attemptsPerAddress` attempts in `addressWindowMs` (a success is refunded);
 * - per user name (known or not, so probing does not tell them apart): `failuresPerUser` failures in
 *   a row lock the name for `userLockMs`; tokens already issued keep working, so an operator who is
 *   logged in is never thrown out of the console by someone guessing their password;
 * - at most `maxConcurrent` password checks run at once and `maxQueued` wait; the rest are refused
 *   at once without hashing (a flood costs the thread pool a bounded amount of work).
 * Every map is bounded by `maxTracked` entries. Time comes from the injected clock.
 */
export interface LoginLimits {
  readonly attemptsPerAddress: number;
  readonly addressWindowMs: number;
  readonly failuresPerUser: number;
  readonly userLockMs: number;
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  readonly maxTracked: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  attemptsPerAddress: 20,
  addressWindowMs: 10 * 60_000,
  failuresPerUser: 5,
  userLockMs: 15 * 60_000,
  maxConcurrent: 2,
  maxQueued: 32,
  maxTracked: 10_000,
};

export type LoginRefusal =
  | { readonly reason: 'address-limited'; readonly retryAfterMs: number }
  | { readonly reason: 'user-locked'; readonly retryAfterMs: number }
  | { readonly reason: 'busy'; readonly retryAfterMs: number };

export interface LoginPermit {
  /**
   * Report the outcome once the password was checked (or skipped); frees the check slot. Returns
   * true when this failure locked the user name (to be audited once).
   */
  done(success: boolean): boolean;
}

interface UserState {
  failures: number;
  lockedUntil: number;
}

export class LoginLimiter {
  private readonly attempts = new Map<string, number[]>();
  private readonly users = new Map<string, UserState>();
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly clock: () => number,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /**
   * Admits one login attempt, or says why not. The permit resolves when a check slot is free;
   * the caller must call `done` exactly once.
   */
  admit(address: string, username: string): Promise<LoginPermit> | LoginRefusal {
    const now = this.clock();
    const user = this.users.get(username);
    if (user && user.lockedUntil > now)
      return { reason: 'user-locked', retryAfterMs: user.lockedUntil - now };
    const recent = this.recentAttempts(address, now);
    if (recent.length >= this.limits.attemptsPerAddress)
      return {
        reason: 'address-limited',
        retryAfterMs: (recent[0] ?? now) + this.limits.addressWindowMs - now,
      };
    if (this.inFlight >= this.limits.maxConcurrent && this.waiting.length >= this.limits.maxQueued)
      return { reason: 'busy', retryAfterMs: 1000 };
    recent.push(now);
    this.track(this.attempts, address, recent);
    const attemptAt = now;
    const permit: LoginPermit = {
      done: success => {
        this.release();
        return this.outcome(address, username, attemptAt, success);
      },
    };
    if (this.inFlight < this.limits.maxConcurrent) {
      this.inFlight += 1;
      return Promise.resolve(permit);
    }
    return new Promise(resolve =>
      this.waiting.push(() => {
        this.inFlight += 1;
        resolve(permit);
      }),
    );
  }

  /** Whether a user name is locked now (for audit and tests). */
  lockedUntil(username: string): number | undefined {
    const until = this.users.get(username)?.lockedUntil ?? 0;
    return until > this.clock() ? until : undefined;
  }

  get checksInFlight(): number {
    return this.inFlight;
  }

  private release(): void {
    this.inFlight -= 1;
    this.waiting.shift()?.();
  }

  private outcome(address: string, username: string, attemptAt: number, success: boolean): boolean {
    if (success) {
      this.users.delete(username);
      // A successful login does not use up the address's budget.
      const recent = this.attempts.get(address);
      const index = recent?.indexOf(attemptAt) ?? -1;
      if (recent && index >= 0) recent.splice(index, 1);
      return false;
    }
    const now = this.clock();
    const state = this.users.get(username) ?? { failures: 0, lockedUntil: 0 };
    if (state.lockedUntil > now) return false; // checked while queued; already locked
    state.failures += 1;
    let locked = false;
    if (state.failures >= this.limits.failuresPerUser) {
      state.lockedUntil = now + this.limits.userLockMs;
      state.failures = 0;
      locked = true;
    }
    this.track(this.users, username, state);
    return locked;
  }

  private recentAttempts(address: string, now: number): number[] {
    const recent = this.attempts.get(address) ?? [];
    const since = now - this.limits.addressWindowMs;
    while (recent.length > 0 && (recent[0] ?? 0) <= since) recent.shift();
    return recent;
  }

  /** Inserts or refreshes a key, evicting the least recently touched beyond `maxTracked`. */
  private track<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.limits.maxTracked) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
    }
  }
}
