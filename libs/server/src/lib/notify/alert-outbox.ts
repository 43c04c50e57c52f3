import type { PostableAlert } from './alerts';

export type PostOutcome = 'sent' | 'retry' | 'rejected';
/** Counted per alert in `vigil_notify_alerts_total{outcome}`. */
export type AlertOutcome = 'sent' | 'failed' | 'rejected' | 'dropped';

export interface OutboxOptions {
  /** Posts one batch; `retry` for network errors, timeouts, 5xx and 429; `rejected` for other 4xx. */
  readonly post: (
    alerts: readonly PostableAlert[],
  ) => Promise<{ outcome: PostOutcome; detail: string }>;
  readonly count: (outcome: AlertOutcome, alerts: number) => void;
  readonly warn: (key: string, message: string) => void;
  readonly now?: () => number;
  readonly setTimer?: (callback: () => void, ms: number) => unknown;
  readonly clearTimer?: (timer: unknown) => void;
  /** Alerts waiting at most; beyond it the oldest is dropped (counted and logged). */
  readonly maxPending?: number;
  readonly batchSize?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface OutboxHealth {
  readonly status: 'ok' | 'degraded';
  readonly pending: number;
  readonly consecutiveFailures: number;
  readonly lastSuccessAt: number | undefined;
  readonly lastError: string | undefined;
  readonly lastErrorAt: number | undefined;
  readonly dropped: number;
  readonly rejected: number;
}

/**
 * Alerts on their way to Alertmanager: bounded, coalescing (a newer state of the same alert
 * replaces the waiting one, so a retry never sends a stale "firing" after a "resolved"), one batch
 * in flight, exponential backoff after a failure. Nothing leaves silently: every alert ends as
 * sent, rejected or dropped, each counted, and failures are logged (rate-limited) and reported by
 * `health()` until the next success.
 */
export class AlertOutbox {
  private readonly pending = new Map<string, PostableAlert>();
  private inFlight = false;
  private retryTimer: unknown;
  private consecutiveFailures = 0;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private lastErrorAt: number | undefined;
  private dropped = 0;
  private rejected = 0;
  private stopped = false;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;
  private readonly maxPending: number;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: OutboxOptions) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms).unref());
    this.clearTimer = options.clearTimer ?? (timer => clearTimeout(timer as NodeJS.Timeout));
    this.maxPending = options.maxPending ?? 10_000;
    this.batchSize = options.batchSize ?? 100;
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  enqueue(key: string, alert: PostableAlert): void {
    if (this.stopped) return;
    this.pending.delete(key);
    this.pending.set(key, alert);
    this.trim();
    this.pump();
  }

  /** Drops the oldest waiting alerts beyond the bound, counted and logged. */
  private trim(): void {
    while (this.pending.size > this.maxPending) {
      const [oldest] = this.pending.keys();
      this.pending.delete(oldest as string);
      this.dropped += 1;
      this.lastError = `queue full (${this.maxPending}): dropped the oldest alert`;
      this.lastErrorAt = this.now();
      this.options.count('dropped', 1);
      this.options.warn(
        'notify-dropped',
        `notify: ${this.maxPending} alerts already waiting for Alertmanager; dropped the oldest (${oldest})`,
      );
    }
  }

  health(): OutboxHealth {
    const failing = this.consecutiveFailures > 0;
    const recentLoss =
      (this.dropped > 0 || this.rejected > 0) &&
      (this.lastErrorAt ?? 0) >= (this.lastSuccessAt ?? 0);
    return {
      status: failing || recentLoss ? 'degraded' : 'ok',
      pending: this.pending.size,
      consecutiveFailures: this.consecutiveFailures,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      dropped: this.dropped,
      rejected: this.rejected,
    };
  }

  /** Resolves once nothing waits and nothing is in flight (tests, shutdown). */
  get idle(): boolean {
    return this.pending.size === 0 && !this.inFlight;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
  }

  private backoffMs(): number {
    return Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (this.consecutiveFailures - 1));
  }

  private pump(): void {
    if (this.inFlight || this.retryTimer !== undefined || this.stopped || this.pending.size === 0)
      return;
    const batch: [string, PostableAlert][] = [];
    for (const entry of this.pending) {
      batch.push(entry);
      if (batch.length >= this.batchSize) break;
    }
    for (const [key] of batch) this.pending.delete(key);
    this.inFlight = true;
    this.options
      .post(batch.map(([, alert]) => alert))
      .catch((error: unknown) => ({
        outcome: 'retry' as const,
        detail: error instanceof Error ? error.message : String(error),
      }))
      .then(({ outcome, detail }) => {
        this.inFlight = false;
        if (outcome === 'sent') {
          this.consecutiveFailures = 0;
          this.lastSuccessAt = this.now();
          this.options.count('sent', batch.length);
        } else if (outcome === 'rejected') {
          // Not retried: the same body would be refused again. Loud, counted, on /readyz.
          this.rejected += batch.length;
          this.lastError = `rejected: ${detail}`;
          this.lastErrorAt = this.now();
          this.options.count('rejected', batch.length);
          this.options.warn(
            'notify-rejected',
            `notify: Alertmanager refused ${batch.length} alert(s): ${detail}`,
          );
        } else {
          this.consecutiveFailures += 1;
          this.lastError = detail;
          this.lastErrorAt = this.now();
          this.options.count('failed', batch.length);
          // Put back what no newer state has replaced meanwhile; it goes out after the backoff.
          for (const [key, alert] of batch) {
            if (!this.pending.has(key)) this.pending.set(key, alert);
          }
          this.trim();
          const wait = this.backoffMs();
          this.options.warn(
            'notify-failed',
            `notify: posting ${batch.length} alert(s) to Alertmanager failed (${detail}); retrying in ${wait} ms, ${this.pending.size} waiting`,
          );
          if (!this.stopped) {
            this.retryTimer = this.setTimer(() => {
              this.retryTimer = undefined;
              this.pump();
            }, wait);
          }
          return;
        }
        this.pump();
      });
  }
}
