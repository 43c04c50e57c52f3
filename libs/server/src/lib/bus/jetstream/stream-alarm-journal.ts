import { Logger } from '@nestjs/common';
import { headers as natsHeaders, JSONCodec, type JetStreamClient } from 'nats';

import type { Alarm } from '@vigil/contracts';

import type { AlarmLog, DeviceMode, JournalEntry, JournalState } from '../../alarms/alarm-journal';
import type { AlarmUpdate } from '../pipeline-bus';
import { alarmSubject, deviceModeSubject, partitionOf, ALARMS_STREAM } from './subjects';

/** Header: the VIGIL_RECORDS sequence this partition had been evaluated up to (the cause). */
export const RECORDS_SEQ_HEADER = 'Vigil-Records-Seq';
/** Header: `<index>/<count>` of the message in its append (published in order, one by one). */
export const BATCH_HEADER = 'Vigil-Batch';

/** Between two attempts to publish an append that failed (NATS away, a leader election). */
const RETRY_DELAY_MS = 500;
/** One publish waits this long for its ack before the append is retried (same msg ids). */
const PUBLISH_TIMEOUT_MS = 3000;

const codec = JSONCodec<unknown>();

/** The alarm message id pinned by DESIGN-12: one transition, one id, whoever publishes it. */
export function alarmMsgId(alarm: Alarm): string {
  return `${alarm.id}/${alarm.history.length}/${alarm.updatedAt}`;
}
export function modeMsgId(device: DeviceMode): string {
  return `mode/${device.siteId}/${device.deviceId}/${device.at}`;
}

interface Lane {
  /** VIGIL_RECORDS sequence evaluated up to: stamped on every message appended now. */
  recordsSeq: number;
  /** The appends of this partition, one after the other (their order is the stream's). */
  tail: Promise<void>;
  live: boolean;
  pending: number;
  /** The lease is still safe to act on (checked before every publish attempt). */
  fence: () => boolean;
}

/**
 * The alarm journal on the JetStream backbone: every transition of a partition this instance
 * owns is published to `vigil.alarms.<p>.<site>.<alarmId>` ({alarm, action}: an AlarmUpdate), a
 * device mode to `vigil.modes.<p>.<site>.<device>`, with a pinned msg id and awaited pub acks.
 * Appends of one partition go one after the other and the messages of one append in order, so
 * what is durable is always a prefix of what was appended: the last message of a partition
 * (and its `Vigil-Batch` i/n) says whether its append was whole. Open alarms are rebuilt from the
 * last message per subject by the next owner (rebuildPartition).
 */
export class StreamAlarmJournal implements AlarmLog {
  readonly path = `JetStream stream ${ALARMS_STREAM}`;
  private readonly logger = new Logger(StreamAlarmJournal.name);
  private readonly lanes = new Map<number, Lane>();
  /** Transitions of a partition this instance does not own (a race with a lost lease). */
  dropped = 0;
  failedAttempts = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly partitions: number,
  ) {}

  /** Nothing at start: each partition's alarms are adopted when its lease is acquired. */
  open(): JournalState {
    return { alarms: new Map(), devices: new Map(), entries: 0, skipped: 0 };
  }

  /** Starts journaling a partition just acquired; `fence` says whether its lease still holds. */
  own(partition: number, recordsSeq: number, fence: () => boolean = () => true): void {
    this.lanes.set(partition, {
      recordsSeq,
      tail: Promise.resolve(),
      live: true,
      pending: 0,
      fence,
    });
  }

  /** The consumer is about to evaluate the records message `seq` of the partition. */
  evaluating(partition: number, seq: number): void {
    const lane = this.lanes.get(partition);
    if (lane) lane.recordsSeq = seq;
  }

  /**
   * Resolves when every append of the partition made so far has settled: true if they are all
   * durable, false if the partition was lost meanwhile (then nothing may be checkpointed).
   */
  async settled(partition: number): Promise<boolean> {
    const lane = this.lanes.get(partition);
    if (!lane) return false;
    await lane.tail;
    return lane.live && this.lanes.get(partition) === lane;
  }

  /** Appends not yet acknowledged, over all partitions. */
  backlog(): number {
    let pending = 0;
    for (const lane of this.lanes.values()) pending += lane.pending;
    return pending;
  }

  /** Stops journaling a partition; appends still retrying are abandoned (they reject). */
  disown(partition: number): void {
    const lane = this.lanes.get(partition);
    if (lane) lane.live = false;
    this.lanes.delete(partition);
  }

  append(entries: readonly JournalEntry[]): Promise<void> | void {
    if (entries.length === 0) return;
    const byPartition = new Map<number, JournalEntry[]>();
    for (const entry of entries) {
      const siteId = entry.t === 'alarm' ? entry.alarm.siteId : entry.device.siteId;
      const partition = partitionOf(siteId, this.partitions);
      const list = byPartition.get(partition);
      if (list) list.push(entry);
      else byPartition.set(partition, [entry]);
    }
    const appends: Promise<void>[] = [];
    for (const [partition, list] of byPartition) {
      const lane = this.lanes.get(partition);
      if (!lane) {
        // Our own race (a signal flushed after its partition was lost): the owner evaluates it.
        this.dropped += list.length;
        this.logger.warn(
          `${list.length} transition(s) of partition ${partition}, not owned here: not journaled`,
        );
        appends.push(Promise.reject(new Error(`partition ${partition} not owned`)));
        continue;
      }
      const recordsSeq = lane.recordsSeq;
      lane.pending += 1;
      const next = lane.tail.then(() => this.publish(lane, partition, list, recordsSeq));
      lane.tail = next.catch(() => undefined).finally(() => (lane.pending -= 1));
      appends.push(next);
    }
    return Promise.all(appends).then(() => undefined);
  }

  /**
   * Nothing to close: the lanes belong to the partitions, which PartitionedRules gives back (after
   * their appends are durable) or loses (abandoning them) at shutdown, in whatever order Nest
   * destroys the services.
   */
  close(): void {
    // The connection is the backbone's, closed last by BackboneCloser.
  }

  private async publish(
    lane: Lane,
    partition: number,
    entries: readonly JournalEntry[],
    recordsSeq: number,
  ): Promise<void> {
    for (;;) {
      if (!lane.live || !lane.fence()) {
        lane.live = false;
        throw new Error(`partition ${partition} lost before its append was durable`);
      }
      try {
        // Sent in order on one connection without waiting between them (one round trip), acks
        // awaited together; a retry sends the same msg ids (JetStream drops the duplicates).
        await Promise.all(
          entries.map((entry, index) => {
            const h = natsHeaders();
            h.set(RECORDS_SEQ_HEADER, String(recordsSeq));
            h.set(BATCH_HEADER, `${index}/${entries.length}`);
            if (entry.t === 'alarm') {
              const update: AlarmUpdate = { alarm: entry.alarm, action: entry.action };
              return this.js.publish(
                alarmSubject(partition, entry.alarm.siteId, entry.alarm.id),
                codec.encode(update),
                { msgID: alarmMsgId(entry.alarm), headers: h, timeout: PUBLISH_TIMEOUT_MS },
              );
            }
            return this.js.publish(
              deviceModeSubject(partition, entry.device.siteId, entry.device.deviceId),
              codec.encode(entry.device),
              { msgID: modeMsgId(entry.device), headers: h, timeout: PUBLISH_TIMEOUT_MS },
            );
          }),
        );
        return;
      } catch (error) {
        this.failedAttempts += 1;
        this.logger.warn(
          `partition ${partition}: alarm journal publish failed (${(error as Error)?.message}), retrying`,
        );
        await new Promise(resolve => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }
}
