import { join } from 'node:path';

import type { Permit, PermitAction } from '@vigil/contracts';

import { JsonlJournal, type JournalStatusSink } from '../journal/jsonl-journal';

export interface PermitJournalEntry {
  readonly t: 'permit';
  /** The permit's full state after the step, its whole signed history included. */
  readonly permit: Permit;
  readonly action: PermitAction;
}

export interface PermitJournalState {
  /** Every permit of the ledger, closed ones too, in ledger-number order. */
  readonly permits: Map<string, Permit>;
  readonly entries: number;
  /** A torn last line (the process died mid-write) is skipped and counted here. */
  readonly skipped: number;
}

/**
 * The permit ledger's append-only stream, a JsonlJournal like the alarm and hazard journals:
 * every step is written and fdatasync'd before anyone hears of it (a failed write is counted,
 * shown on /readyz as journal `permits` and thrown as JournalWriteError: the step did not
 * happen), replay keeps the last state per id, and at start the file is compacted to one line per
 * permit. Closed permits stay: the permit is the record of who worked where and who signed it.
 * The file grows with the number of permits, never with time.
 */
export class PermitJournal {
  private readonly journal: JsonlJournal<PermitJournalEntry>;
  readonly path: string;

  constructor(directory: string, status?: JournalStatusSink) {
    this.journal = new JsonlJournal(join(directory, 'permit-journal.jsonl'), {
      name: 'permits',
      status,
    });
    this.path = this.journal.path;
  }

  /** Failed appends since start (each also counted in JournalStatus). */
  get writeErrors(): number {
    return this.journal.writeErrors;
  }

  open(): PermitJournalState {
    const permits = new Map<string, Permit>();
    let entries = 0;
    const { skipped } = this.journal.replay(entry => {
      if (entry.t !== 'permit') return;
      entries += 1;
      permits.set(entry.permit.id, entry.permit);
    });
    const ordered = new Map([...permits.values()].sort((a, b) => a.no - b.no).map(p => [p.id, p]));
    const kept = [...ordered.values()].map(
      permit =>
        ({
          t: 'permit',
          permit,
          action: permit.history[permit.history.length - 1],
        }) as PermitJournalEntry,
    );
    this.journal.compact(kept);
    return { permits: ordered, entries, skipped };
  }

  /** Appends entries and returns once they are on disk; throws JournalWriteError when not. */
  append(entries: readonly PermitJournalEntry[]): void {
    this.journal.append(entries);
  }

  close(): void {
    this.journal.close();
  }
}
