import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

import { Logger } from '@nestjs/common';

import type { Spool } from '@vigil/spool';

import type { DurableAlarmLog, SequencedUpdate } from '../../alarms/alarm-log';
import type { AlarmUpdate } from '../pipeline-bus';

/** Entries read from the lane per turn of the event loop (a long replay does not block it). */
const READ_BATCH_ENTRIES = 500;
const EPOCH_FILE = 'epoch';

/**
 * The spool's alarm lane as the WebSocket's durable alarm log (VIGIL_BUS=memory, issue 12): one
 * entry per alarm update, so the entry's seq is the `seq` of its `alarm` message, and seqs go on
 * across restarts (the lane's segments survive; the newest VIGIL_WS_REPLAY entries are kept
 * after the persister passed them). The epoch is a random id written next to the segments when
 * the lane is created: the same after a restart, new when the lane was wiped (then its seqs start
 * again and a console's old lastSeq must not be read against them).
 */
export class SpoolAlarmLog implements DurableAlarmLog {
  private readonly logger = new Logger('SpoolAlarmLog');
  /** One process serves the consoles: a console ahead of the log lost its seqs with it. */
  readonly shared = false;
  readonly epoch: string;

  constructor(
    private readonly lane: Spool,
    epoch: string,
  ) {
    this.epoch = epoch;
  }

  /**
   * The lane's epoch: read from `<dir>/epoch`, or a new one when the lane had no segment before it
   * was opened (`fresh`) or the file is missing. Written with fsync before any seq is shown.
   */
  static epochOf(dir: string, fresh: boolean): string {
    const path = join(dir, EPOCH_FILE);
    if (!fresh && existsSync(path)) {
      const stored = readFileSync(path, 'utf8').trim();
      if (stored.length > 0) return stored;
    }
    const epoch = `spool@${randomUUID()}`;
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, `${epoch}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return epoch;
  }

  /** True when `dir` holds no segment yet (a new or wiped lane). Call before opening the lane. */
  static isFresh(dir: string): boolean {
    if (!existsSync(dir)) return true;
    return !readdirSync(dir).some(name => name.startsWith('seg-'));
  }

  async read(after: number, until: number): Promise<SequencedUpdate[] | undefined> {
    if (until <= after) return [];
    if (after + 1 < this.lane.firstSeq) return undefined;
    const out: SequencedUpdate[] = [];
    let next = after + 1;
    while (next <= until) {
      const batch = this.lane.read(next, Math.min(READ_BATCH_ENTRIES, until - next + 1));
      if (batch.length === 0) return undefined;
      for (const entry of batch) {
        // The bound dropped entries while this replay waited: what is missing is not sent.
        if (entry.seq !== next) return undefined;
        let updates: readonly AlarmUpdate[];
        try {
          updates = JSON.parse(entry.payload.toString('utf8')) as AlarmUpdate[];
        } catch (error) {
          this.logger.error(
            `alarm lane entry ${entry.seq} unreadable (${(error as Error).message}): the console gets a snapshot`,
          );
          return undefined;
        }
        for (const update of updates) out.push({ seq: entry.seq, update });
        next += 1;
      }
      if (next <= until) await new Promise(resolve => setImmediate(resolve));
    }
    return out;
  }
}
