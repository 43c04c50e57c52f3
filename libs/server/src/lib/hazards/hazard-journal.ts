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

import type { Hazard, HazardAction } from '@vigil/contracts';

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
 * The hazard ledger's append-only stream, made durable the same way as the alarm journal
 * (`alarm-journal.ts`): every step is written and fdatasync'd before anyone hears of it, replay
 * keeps the last state per id, and at start the file is compacted to one line per hazard (new
 * file, fsync, rename, fsync of the directory). Unlike alarms, closed hazards stay: the ledger is
 * the record (一患一档). The file grows with the number of hazards, never with time.
 */
export class HazardJournal {
  private fd: number | undefined;
  readonly path: string;

  constructor(directory: string) {
    this.path = join(directory, 'hazard-journal.jsonl');
  }

  open(): HazardJournalState {
    mkdirSync(dirname(this.path), { recursive: true });
    const hazards = new Map<string, Hazard>();
    let entries = 0;
    let skipped = 0;
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (line.length === 0) continue;
        let entry: HazardJournalEntry;
        try {
          entry = JSON.parse(line) as HazardJournalEntry;
        } catch {
          skipped += 1;
          continue;
        }
        if (entry.t !== 'hazard') continue;
        entries += 1;
        hazards.set(entry.hazard.id, entry.hazard);
      }
    }
    const ordered = new Map([...hazards.values()].sort((a, b) => a.no - b.no).map(h => [h.id, h]));
    const compacted = `${this.path}.compact`;
    const fd = openSync(compacted, 'w');
    const lines: string[] = [];
    for (const hazard of ordered.values()) {
      const action = hazard.history[hazard.history.length - 1];
      lines.push(JSON.stringify({ t: 'hazard', hazard, action }));
    }
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(compacted, this.path);
    const dir = openSync(dirname(this.path), 'r');
    fsyncSync(dir);
    closeSync(dir);
    this.fd = openSync(this.path, 'a');
    return { hazards: ordered, entries, skipped };
  }

  /** Appends entries and waits until they are on disk. One fdatasync per call (group commit). */
  append(entries: readonly HazardJournalEntry[]): void {
    if (entries.length === 0) return;
    if (this.fd === undefined) throw new Error('hazard journal is not open');
    writeSync(this.fd, `${entries.map(entry => JSON.stringify(entry)).join('\n')}\n`);
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
