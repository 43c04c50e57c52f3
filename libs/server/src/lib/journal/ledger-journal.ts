import { join } from 'node:path';

import { JsonlJournal, type JournalStatusSink } from './jsonl-journal';

/** A record of a signed ledger (hazards, permits): numbered, with its append-only signed history. */
export interface LedgerRecord<A> {
  readonly id: string;
  readonly no: number;
  readonly history: readonly A[];
}

/**
 * One line of a ledger journal: the record's full state after the step (its whole signed history
 * included) under its kind, and the step: `{"t":"permit","permit":{…},"action":{…}}`.
 */
export type LedgerJournalEntry<K extends string, R, A> = {
  readonly t: K;
  readonly action: A;
} & { readonly [P in K]: R };

export interface LedgerJournalState<R> {
  /** Every record of the ledger, closed ones too, in ledger-number order. */
  readonly records: Map<string, R>;
  readonly entries: number;
  /** A torn last line (the process died mid-write) is skipped and counted here. */
  readonly skipped: number;
}

/**
 * A signed ledger's append-only stream (the hazard ledger, the permits), a JsonlJournal like the
 * alarm journal: every step is written and fdatasync'd before anyone hears of it (a failed write
 * is counted, shown on /readyz under the journal's name and thrown as JournalWriteError: the step
 * did not happen), replay keeps the last state per id, and at start the file
 * (`<directory>/<kind>-journal.jsonl`) is compacted to one line per record (new file, fsync,
 * rename, fsync of the directory). Unlike alarms, closed records stay: the ledger is the record
 * (一患一档; who worked where, and who signed). The file grows with the number of records, never
 * with time.
 */
export class LedgerJournal<K extends string, R extends LedgerRecord<A>, A> {
  private readonly journal: JsonlJournal<LedgerJournalEntry<K, R, A>>;
  readonly path: string;

  constructor(
    directory: string,
    private readonly kind: K,
    /** The journal's name on /readyz and in JournalWriteError (`hazards`, `permits`). */
    name: string,
    status?: JournalStatusSink,
  ) {
    this.journal = new JsonlJournal(join(directory, `${kind}-journal.jsonl`), { name, status });
    this.path = this.journal.path;
  }

  /** Failed appends since start (each also counted in JournalStatus). */
  get writeErrors(): number {
    return this.journal.writeErrors;
  }

  /** The line of one step: the record after it, and the step. */
  entry(record: R, action: A): LedgerJournalEntry<K, R, A> {
    return { t: this.kind, [this.kind]: record, action } as LedgerJournalEntry<K, R, A>;
  }

  open(): LedgerJournalState<R> {
    const records = new Map<string, R>();
    let entries = 0;
    const { skipped } = this.journal.replay(entry => {
      if (entry.t !== this.kind) return;
      entries += 1;
      const record = entry[this.kind];
      records.set(record.id, record);
    });
    const ordered = new Map([...records.values()].sort((a, b) => a.no - b.no).map(r => [r.id, r]));
    // One line per record with its last step (replay reads only the record: one with no step
    // yet is kept all the same, its line without `action`).
    const kept = [...ordered.values()].map(record =>
      this.entry(record, record.history[record.history.length - 1] as A),
    );
    this.journal.compact(kept);
    return { records: ordered, entries, skipped };
  }

  /**
   * Appends entries and returns once they are on disk (one fdatasync per call: group commit);
   * throws JournalWriteError when not.
   */
  append(entries: readonly LedgerJournalEntry<K, R, A>[]): void {
    this.journal.append(entries);
  }

  close(): void {
    this.journal.close();
  }
}
