import { createHash } from 'node:crypto';

import type { IngestRecord } from '@vigil/contracts';

/**
 * One device MQTT message as ingest accepted it: the records it produced (duplicates already
 * removed), with an id that is the same when the device or the broker sends it again.
 */
export interface JournalMessage {
  readonly siteId: string;
  readonly deviceId: string;
  /**
   * `<site>/<device>/<seq>` when the message's readings carry a seq (the first one's), else
   * `h:` + sha1(topic + payload): a re-sent PUBLISH has the same bytes (DESIGN-12, JetStream
   * message ids dedupe on it).
   */
  readonly msgId: string;
  readonly records: readonly IngestRecord[];
}

/**
 * Where ingest makes a device message durable before the device's PUBLISH is acknowledged
 * (issue 12). memory bus: the local spool (SpoolJournal); jetstream: the records stream
 * (JetStreamJournal); mqtt (legacy bridge): nothing durable (ImmediateJournal).
 */
export abstract class IngestJournal {
  /** Resolves once durable; never rejects for an outage (it waits, bounded and counted). */
  abstract append(message: JournalMessage): Promise<void>;
}

const DURABLE_NOW = Promise.resolve();

/**
 * The legacy bus (VIGIL_BUS=mqtt) holds nothing durable: a message is acknowledged as soon as it
 * is accepted, as before issue 12 (the warning at start says what is lost).
 */
export class ImmediateJournal extends IngestJournal {
  append(): Promise<void> {
    return DURABLE_NOW;
  }
}

/**
 * The message id of a device message (see JournalMessage.msgId). `topic` is
 * `vigil/v1/<site>/<device>/<kind>`; its site and device name the message when no reading does.
 */
export function journalMessage(
  topic: string,
  payload: Buffer,
  records: readonly IngestRecord[],
): JournalMessage {
  for (const record of records) {
    if (record.kind !== 'reading' || record.reading.seq === undefined) continue;
    const { siteId, deviceId, seq } = record.reading;
    return { siteId, deviceId, msgId: `${siteId}/${deviceId}/${seq}`, records };
  }
  // vigil/v1/<site>/<device>/<kind>: 9 = 'vigil/v1/'.length
  const siteEnd = topic.indexOf('/', 9);
  const deviceEnd = topic.indexOf('/', siteEnd + 1);
  const siteId = siteEnd > 9 ? topic.slice(9, siteEnd) : '';
  const deviceId = deviceEnd > siteEnd ? topic.slice(siteEnd + 1, deviceEnd) : '';
  const hash = createHash('sha1').update(topic).update(payload).digest('hex');
  return { siteId, deviceId, msgId: `h:${hash}`, records };
}
