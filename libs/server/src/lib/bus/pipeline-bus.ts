import { Subject, type Observable } from 'rxjs';

import type { Alarm, AlarmAction, CanaryReport, IngestRecord } from '@vigil/contracts';

/** An alarm changed: the new alarm and the action that changed it. */
export interface AlarmUpdate {
  readonly alarm: Alarm;
  readonly action: AlarmAction;
}

/**
 * The pipeline's internal streams. Inside one process they are plain subjects; when services run
 * as separate processes the MQTT bridge forwards them in batches over `vigil-internal/v1/…`, so
 * one broker delivery carries many records.
 */
export class PipelineBus {
  private readonly records = new Subject<readonly IngestRecord[]>();
  private readonly alarms = new Subject<readonly AlarmUpdate[]>();
  private readonly canary = new Subject<readonly CanaryReport[]>();

  /** Batches of ingest records, in arrival order per device. */
  readonly records$: Observable<readonly IngestRecord[]> = this.records.asObservable();
  readonly alarms$: Observable<readonly AlarmUpdate[]> = this.alarms.asObservable();
  /** Hops that saw a canary (docs/interfaces.md §Canary): to the gateway's monitor. */
  readonly canary$: Observable<readonly CanaryReport[]> = this.canary.asObservable();

  publishRecords(batch: readonly IngestRecord[]): void {
    if (batch.length > 0) this.records.next(batch);
  }

  publishAlarms(batch: readonly AlarmUpdate[]): void {
    if (batch.length > 0) this.alarms.next(batch);
  }

  publishCanary(reports: readonly CanaryReport[]): void {
    if (reports.length > 0) this.canary.next(reports);
  }

  complete(): void {
    this.canary.complete();
    this.records.complete();
    this.alarms.complete();
  }
}
