import { Inject, Injectable } from '@nestjs/common';

import { VigilMetrics } from '../metrics/metrics';
import type { JournalStatusSink, JournalWriteError } from './jsonl-journal';

export interface JournalFailure {
  /** Failed appends since the last durable one. */
  readonly errors: number;
  readonly lastError: string;
  readonly lastErrorAt: number;
}

/**
 * The local journals of this process (alarms, hazards) whose last append failed: counted in
 * `vigil_journal_write_errors_total{journal}` and shown on /readyz (degraded) until an append
 * is durable again.
 */
@Injectable()
export class JournalStatus implements JournalStatusSink {
  private readonly failing = new Map<string, JournalFailure>();

  constructor(@Inject(VigilMetrics) private readonly metrics: VigilMetrics) {}

  failed(journal: string, error: JournalWriteError): void {
    this.metrics.journalWriteErrors.inc({ journal });
    this.failing.set(journal, {
      errors: (this.failing.get(journal)?.errors ?? 0) + 1,
      lastError: error.message,
      lastErrorAt: Date.now(),
    });
  }

  succeeded(journal: string): void {
    this.failing.delete(journal);
  }

  get ok(): boolean {
    return this.failing.size === 0;
  }

  report(): Record<string, JournalFailure> {
    return Object.fromEntries(this.failing);
  }
}
