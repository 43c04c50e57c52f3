import { join } from 'node:path';

import type { Hazard, HazardAction } from '@vigil/contracts';

import { JsonlJournal, type JournalStatusSink } from '../journal/jsonl-journal';

export interface HazardJournalEntry {
  readonly t: 'hazard';
  /** The hazard's full state after the step, its whole signed history included. */
  readonly hazard: Hazard;
  readonly action: HazardAction;
}

export interface HazardJournalState {
  /** Every hazard of the ledger, closed ones too, in ledger-number order. */
  readonly hazards: Map<string, Hazard>;
  readonly entries: number;
  /** A torn last line (the process died mid-write) is skipped and counted here. */
  readonly skipped: number;
}

/**
 * The hazard ledger's append-only stream, a JsonlJournal like the alarm journal
 * (`alarm-journal.ts`): every step is written and fdatasync'd before anyone hears of it, replay
 * keeps the last state per id, and at start the file is compacted to one line per hazard (new
 * file, fsync, rename, fsync of the directory). Unlike alarms, closed hazards stay: the ledger is
 * the record (一患一档). The file grows with the number of hazards, never with time.
 */
export class HazardJournal {
  private readonly journal: JsonlJournal<HazardJournalEntry>;
  readonly path: string;

  constructor(directory: string, status?: JournalStatusSink) {
    this.journal = new JsonlJournal(join(directory, 'hazard-journal.jsonl'), {
      name: 'hazards',
      status,
    });
    this.path = this.journal.path;
  }

  open(): HazardJournalState {
    const hazards = new Map<string, Hazard>();
    let entries = 0;
    const { skipped } = this.journal.replay(entry => {
      if (entry.t !== 'hazard') return;
      entries += 1;
      hazards.set(entry.hazard.id, entry.hazard);
    });
    const ordered = new Map([...hazards.values()].sort((a, b) => a.no - b.no).map(h => [h.id, h]));
    // One line per hazard with its last step (replay reads only `hazard`: a hazard with no step
    // yet is kept all the same, its line without `action`).
    const kept = [...ordered.values()].map(
      hazard =>
        ({
          t: 'hazard',
          hazard,
          action: hazard.history[hazard.history.length - 1],
        }) as HazardJournalEntry,
    );
    this.journal.compact(kept);
    return { hazards: ordered, entries, skipped };
  }

  /** Appends entries and waits until they are on disk. One fdatasync per call (group commit). */
  append(entries: readonly HazardJournalEntry[]): void {
    this.journal.append(entries);
  }

  close(): void {
    this.journal.close();
  }
}
