import type { IngestRecord } from '@vigil/contracts';

/** One device MQTT message's records, as the journal keeps them (DESIGN-12, docs/interfaces.md §Backbone). */
export interface JournalMessage {
  readonly siteId: string;
  readonly deviceId: string;
  /** `<site>/<device>/<seq>` when the readings carry a seq, else `h:` + sha1(topic + payload). */
  readonly msgId: string;
  readonly records: readonly IngestRecord[];
}

/** Where ingest makes a device message durable before the device's PUBLISH is acknowledged. */
export abstract class IngestJournal {
  /** Resolves once durable; never rejects for an outage (it waits, bounded and counted). */
  abstract append(message: JournalMessage): Promise<void>;
}
