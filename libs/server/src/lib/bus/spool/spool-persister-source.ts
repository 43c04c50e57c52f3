import { Logger } from '@nestjs/common';

import type { SpoolCursor, SpoolEntry } from '@vigil/spool';

import { PersisterSource, type PersisterSink } from '../../persister/persister-source';
import type { AlarmUpdate } from '../pipeline-bus';
import { LocalSpool } from './local-spool';

/**
 * Spool entries read per lane and turn of the event loop at most (one device message each; alarm
 * batches in the other lane). Decoding and encoding one costs ~5 µs: when InfluxDB acknowledges a
 * batch and room opens for thousands of lines, the backlog is taken 1,000 entries a turn (~5 ms),
 * with device messages and alarms between the turns, not in one synchronous run of tens of
 * milliseconds that the publish → WebSocket latency waited behind (issue 14).
 */
const ENTRIES_PER_TURN = 1000;
const BYTES_PER_OFFER = 8 * 1024 * 1024;
/** A wake-up now and then, should an append or a settle notification ever be missed. */
const POLL_MS = 500;

/**
 * The persister's source on the memory bus: reads the spool's lanes by cursor while the write
 * buffer has room (a backlog waits on disk, not in memory) and commits each cursor once InfluxDB
 * has settled the lines (BatchingWriter onSettled). After a crash the persister starts from the
 * committed position: entries written but not committed are written again, which InfluxDB takes
 * as the same points (same series and timestamp: idempotent).
 */
export class SpoolPersisterSource extends PersisterSource {
  private readonly logger = new Logger(SpoolPersisterSource.name);
  private sink: PersisterSink | undefined;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly spool: LocalSpool) {
    super();
  }

  start(sink: PersisterSink): void {
    this.sink = sink;
    this.unsubscribe = this.spool.records.onAppend(this.schedule);
    const unsubscribeAlarms = this.spool.alarms.onAppend(this.schedule);
    const unsubscribeRecords = this.unsubscribe;
    this.unsubscribe = () => {
      unsubscribeRecords();
      unsubscribeAlarms();
    };
    this.timer = setInterval(this.schedule, POLL_MS);
    this.timer.unref();
    this.pump();
  }

  wake(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  private readonly schedule = (): void => {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  };

  private pump(): void {
    const sink = this.sink;
    if (!sink || this.stopped) return;
    // Alarm updates first: few, and the audit trail of what operators saw.
    const alarms = this.spool.persisterAlarms;
    const moreAlarms =
      alarms !== undefined &&
      this.drain(alarms, sink, entries =>
        sink.alarms(this.decode(entries, alarmsOf), this.commit(alarms, entries)),
      );
    const records = this.spool.persisterRecords;
    const moreRecords =
      records !== undefined &&
      this.drain(records, sink, entries =>
        sink.records(this.decode(entries, LocalSpool.recordsOf), this.commit(records, entries)),
      );
    // The rest of a backlog on the next turn (what arrived meanwhile goes first).
    if (moreAlarms || moreRecords) this.schedule();
  }

  /**
   * One offer of at most ENTRIES_PER_TURN entries. True when it offered some and the buffer still
   * has room: the lane may hold more (at worst, the next turn finds nothing).
   */
  private drain(
    cursor: SpoolCursor,
    sink: PersisterSink,
    offer: (entries: readonly SpoolEntry[]) => boolean,
  ): boolean {
    const room = sink.room();
    if (room <= 0) return false;
    const wanted = Math.min(ENTRIES_PER_TURN, room);
    const entries = cursor.read(wanted, BYTES_PER_OFFER);
    if (entries.length === 0) return false;
    if (!offer(entries)) {
      // The buffer refused them (closing): read again from the committed position later.
      cursor.rewind();
      return false;
    }
    return sink.room() > 0;
  }

  private commit(cursor: SpoolCursor, entries: readonly SpoolEntry[]): () => void {
    const last = entries[entries.length - 1]?.seq ?? 0;
    return () => cursor.commit(last);
  }

  private decode<T>(entries: readonly SpoolEntry[], of: (payload: Buffer) => readonly T[]): T[] {
    const out: T[] = [];
    for (const entry of entries) {
      try {
        for (const item of of(entry.payload)) out.push(item);
      } catch (error) {
        this.logger.error(
          `spool entry ${entry.seq} unreadable, skipped: ${(error as Error).message}`,
        );
      }
    }
    return out;
  }
}

function alarmsOf(payload: Buffer): readonly AlarmUpdate[] {
  return JSON.parse(payload.toString('utf8')) as AlarmUpdate[];
}
