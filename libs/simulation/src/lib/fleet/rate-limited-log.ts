import type { SimulatorClock } from './clock';

/**
 * Passes at most `limit` lines per window and then says how many it held back, so a broker that
 * is down cannot flood the terminal with one line per connection per retry.
 */
export class RateLimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly clock: Pick<SimulatorClock, 'now'>,
    private readonly limit = 5,
    private readonly windowMs = 10_000,
  ) {}

  log(line: string): void {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) this.write(`(${this.suppressed} similar lines suppressed)`);
      this.windowStart = now;
      this.written = 0;
      this.suppressed = 0;
    }
    if (this.written < this.limit) {
      this.written += 1;
      this.write(line);
    } else {
      this.suppressed += 1;
    }
  }
}
