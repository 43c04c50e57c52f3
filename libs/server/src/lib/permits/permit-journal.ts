import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

import type { Permit, PermitAction } from '@vigil/contracts';

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
 * The permit ledger's append-only stream, made durable the same way as the alarm journal
 * (`alarm-journal.ts`): every step is written and fdatasync'd before anyone hears of it, replay
 * keeps the last state per id, and at start the file is compacted to one line per permit (new
 * file, fsync, rename, fsync of the directory). Closed permits stay: the permit is the record
 * of who worked where and who signed it. A copy of `HazardJournal` with the permit's types (to be
 * made one generic ledger journal). The file grows with the number of permits, never with time.
 */
export class PermitJournal {
  private fd: number | undefined;
  readonly path: string;

  constructor(directory: string) {
    this.path = join(directory, 'permit-journal.jsonl');
  }

  open(): PermitJournalState {
    mkdirSync(dirname(this.path), { recursive: true });
    const permits = new Map<string, Permit>();
    let entries = 0;
    let skipped = 0;
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (line.length === 0) continue;
        let entry: PermitJournalEntry;
        try {
          entry = JSON.parse(line) as PermitJournalEntry;
        } catch {
          skipped += 1;
          continue;
        }
        if (entry.t !== 'permit') continue;
        entries += 1;
        permits.set(entry.permit.id, entry.permit);
      }
    }
    const ordered = new Map([...permits.values()].sort((a, b) => a.no - b.no).map(h => [h.id, h]));
    const compacted = `${this.path}.compact`;
    const fd = openSync(compacted, 'w');
    const lines: string[] = [];
    for (const permit of ordered.values()) {
      const action = permit.history[permit.history.length - 1];
      lines.push(JSON.stringify({ t: 'permit', permit, action }));
    }
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(compacted, this.path);
    const dir = openSync(dirname(this.path), 'r');
    fsyncSync(dir);
    closeSync(dir);
    this.fd = openSync(this.path, 'a');
    return { permits: ordered, entries, skipped };
  }

  /** Appends entries and waits until they are on disk. One fdatasync per call (group commit). */
  append(entries: readonly PermitJournalEntry[]): void {
    if (entries.length === 0) return;
    if (this.fd === undefined) throw new Error('permit journal is not open');
    writeSync(this.fd, `${entries.map(entry => JSON.stringify(entry)).join('\n')}\n`);
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
