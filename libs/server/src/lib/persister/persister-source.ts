import type { Subscription } from 'rxjs';

import type { IngestRecord } from '@vigil/contracts';

import type { AlarmUpdate, PipelineBus } from '../bus/pipeline-bus';

/** What the persister does with what a source hands it. */
export interface PersisterSink {
  /**
   * Offers a batch to the write buffer; `settled` runs once it (and everything offered before
   * it) is stored or refused for good. False: the buffer refused it (full or closed).
   */
  records(batch: readonly IngestRecord[], settled?: () => void): boolean;
  alarms(batch: readonly AlarmUpdate[], settled?: () => void): boolean;
  /** Lines the write buffer takes now before a durable source should wait (back-pressure). */
  room(): number;
}

/**
 * Where the persister's records and alarm updates come from: the in-process bus (no durability:
 * VIGIL_BUS=mqtt), the local spool (memory: read by cursor, committed once stored), or JetStream
 * (durable consumers, acked once stored). The persister is the same above them.
 */
export abstract class PersisterSource {
  abstract start(sink: PersisterSink): void;
  /** The write buffer settled batches: a pulling source reads more. */
  abstract wake(): void;
  abstract stop(): Promise<void>;
}

/** The live bus: what is in flight is lost with the process (the legacy path). */
export class BusPersisterSource extends PersisterSource {
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly bus: PipelineBus) {
    super();
  }

  start(sink: PersisterSink): void {
    this.subscriptions.push(this.bus.records$.subscribe(records => sink.records(records)));
    this.subscriptions.push(this.bus.alarms$.subscribe(updates => sink.alarms(updates)));
  }

  wake(): void {
    // Pushed, not pulled.
  }

  async stop(): Promise<void> {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}
