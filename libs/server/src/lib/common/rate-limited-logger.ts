import type { Logger } from '@nestjs/common';

/**
 * Logs at most `perWindow` lines per key per window, then one summary of what was suppressed, so
 * that a misbehaving fleet cannot flood the log (bad device data is logged at a bounded rate).
 */
export class RateLimitedLogger {
  private readonly windows = new Map<
    string,
    { start: number; count: number; suppressed: number }
  >();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs unless the key's window is used up; returns whether it logged. */
  warn(key: string, message: string): boolean {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (window && window.suppressed > 0) {
        this.logger.warn(
          `${key}: ${window.suppressed} similar messages suppressed in the last window`,
        );
      }
      window = { start: now, count: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.count < this.perWindow) {
      window.count += 1;
      this.logger.warn(message);
      return true;
    }
    window.suppressed += 1;
    return false;
  }
}
