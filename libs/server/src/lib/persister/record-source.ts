import type { IngestRecord } from '@vigil/contracts';

import type { AlarmUpdate } from '../bus/pipeline-bus';

/** How one offered batch ended: stored by InfluxDB, refused for good, or dropped at shutdown. */
export type StoreOutcome = 'stored' | 'refused' | 'abandoned';

/** The persister's side of a durable record source: its write buffer in front of InfluxDB. */
export interface PersistSink {
  /**
   * Offers the records' lines (canaries are reported once stored, as on the bus path);
   * `settled` runs once, when InfluxDB stored (or refused for good, or shutdown abandoned) every
   * line. false: the write buffer cannot take them now and nothing was offered (try again later).
   */
  storeRecords(records: readonly IngestRecord[], settled: (outcome: StoreOutcome) => void): boolean;
  storeAlarms(updates: readonly AlarmUpdate[], settled: (outcome: StoreOutcome) => void): boolean;
}

/**
 * Where the persister reads records and alarm updates from when it is not the in-process bus:
 * a source that acknowledges upstream only once `settled` says stored (or refused for good).
 * jetstream: JetStreamRecordSource (durable consumers).
 */
export abstract class RecordSource {
  abstract start(sink: PersistSink): Promise<void>;
  /** Stops taking new messages (those in the write buffer settle or are redelivered later). */
  abstract stop(): Promise<void>;
}
