import { join } from 'node:path';

import type { Shift, ShiftAction } from '@vigil/contracts';

import { JsonlJournal, type JournalStatusSink } from '../journal/jsonl-journal';

export interface ShiftJournalEntry {
  readonly t: 'shift';
  /**
   * The shifts' full state after the step, their whole signed history included: one line for an
   * acceptance, which ends the outgoing shift and puts the incoming one on duty at once (a crash
   * cannot leave one without the other).
   */
  readonly shifts: readonly Shift[];
  readonly action: ShiftAction;
}

export interface ShiftJournalState {
  /** Every shift, ended ones too, in shift-number order. */
  readonly shifts: Map<string, Shift>;
  readonly entries: number;
  /** A torn last line (the process died mid-write) is skipped and counted here. */
  readonly skipped: number;
}

/**
 * The duty log's append-only stream (值班记录), a JsonlJournal like the hazard and permit ledgers:
 * every step is written and fdatasync'd before anyone hears of it (a failed write is counted,
 * shown on /readyz as journal `duty` and thrown as JournalWriteError: the step did not happen),
 * replay keeps the last state per id, and at start the file is compacted to one line per shift.
 * Ended shifts stay: the log is the record of who was on duty and what they handed over. The
 * file grows with the number of shifts (a few a day per control room), never with time alone.
 */
export class ShiftJournal {
  private readonly journal: JsonlJournal<ShiftJournalEntry>;
  readonly path: string;

  constructor(directory: string, status?: JournalStatusSink) {
    this.journal = new JsonlJournal(join(directory, 'shift-journal.jsonl'), {
      name: 'duty',
      status,
    });
    this.path = this.journal.path;
  }

  /** Failed appends since start (each also counted in JournalStatus). */
  get writeErrors(): number {
    return this.journal.writeErrors;
  }

  open(): ShiftJournalState {
    const shifts = new Map<string, Shift>();
    let entries = 0;
    const { skipped } = this.journal.replay(entry => {
      if (entry.t !== 'shift') return;
      entries += 1;
      for (const shift of entry.shifts) shifts.set(shift.id, shift);
    });
    const ordered = new Map([...shifts.values()].sort((a, b) => a.no - b.no).map(s => [s.id, s]));
    const kept = [...ordered.values()].flatMap(shift => {
      const action = shift.history[shift.history.length - 1];
      return action ? [{ t: 'shift', shifts: [shift], action } satisfies ShiftJournalEntry] : [];
    });
    this.journal.compact(kept);
    return { shifts: ordered, entries, skipped };
  }

  /** Appends entries and returns once they are on disk; throws JournalWriteError when not. */
  append(entries: readonly ShiftJournalEntry[]): void {
    this.journal.append(entries);
  }

  close(): void {
    this.journal.close();
  }
}
