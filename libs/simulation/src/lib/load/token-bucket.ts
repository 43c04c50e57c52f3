/**
 * A token bucket for rate-limited publishing: tokens accrue at `rate` per second up to `capacity`,
 * and each reading sent spends one. Time is passed in (milliseconds), so it is pure and testable.
 * The capacity bounds the burst after a stall: a load generator that lost the CPU for a second
 * sends at most `capacity` readings at once, not the whole second's worth, and counts the rest as
 * missed (it reports what it could not send instead of pretending).
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  private missedTokens = 0;

  constructor(
    private rate: number,
    private capacity: number,
    nowMs: number,
  ) {
    if (!(rate >= 0) || !Number.isFinite(rate))
      throw new RangeError(`rate must be ≥ 0, got ${rate}`);
    if (!(capacity >= 1)) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.tokens = 0;
    this.lastMs = nowMs;
  }

  /** Tokens that overflowed the capacity (readings the generator could not keep up with). */
  get missed(): number {
    return Math.floor(this.missedTokens);
  }

  get available(): number {
    return this.tokens;
  }

  /** Changes the rate from now on (load profiles ramp it); tokens accrued so far are kept. */
  setRate(rate: number, nowMs: number): void {
    if (!(rate >= 0) || !Number.isFinite(rate))
      throw new RangeError(`rate must be ≥ 0, got ${rate}`);
    this.refill(nowMs);
    this.rate = rate;
  }

  setCapacity(capacity: number): void {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.capacity = capacity;
    if (this.tokens > capacity) {
      this.missedTokens += this.tokens - capacity;
      this.tokens = capacity;
    }
  }

  /** Tokens available at `nowMs` (whole and fractional), without taking any. */
  peek(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** Takes up to `max` whole tokens available at `nowMs`; returns how many were taken. */
  take(nowMs: number, max = Number.POSITIVE_INFINITY): number {
    this.refill(nowMs);
    const taken = Math.min(Math.floor(this.tokens), Math.max(0, Math.floor(max)));
    this.tokens -= taken;
    return taken;
  }

  private refill(nowMs: number): void {
    const elapsed = nowMs - this.lastMs;
    if (elapsed <= 0) return;
    this.lastMs = nowMs;
    this.tokens += (elapsed * this.rate) / 1000;
    if (this.tokens > this.capacity) {
      this.missedTokens += this.tokens - this.capacity;
      this.tokens = this.capacity;
    }
  }
}
