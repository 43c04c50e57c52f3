import { join } from 'node:path';

import type { InspectionMiss, InspectionRecord } from '@vigil/contracts';

import { JsonlJournal, type JournalStatusSink } from '../journal/jsonl-journal';

/** `${siteId}/${scheduleId}`: schedule ids are unique per site only. */
export function scheduleKey(siteId: string, scheduleId: string): string {
  return `${siteId}/${scheduleId}`;
}

export type InspectionJournalEntry =
  /** Vigil watches a schedule from here on (its first whole window starts at or after `since`). */
  | {
      readonly t: 'watch';
      readonly siteId: string;
      readonly scheduleId: string;
      readonly since: number;
    }
  /** A signed inspection record, in full (again when its hazards are linked). */
  | { readonly t: 'record'; readonly record: InspectionRecord }
  /** A window that closed without a record (again when a late inspection resolves it). */
  | { readonly t: 'missed'; readonly miss: InspectionMiss };

export interface InspectionJournalState {
  /** Schedule key → since when it is watched. */
  readonly watched: Map<string, number>;
  /** Every record, in record-number order. */
  readonly records: Map<string, InspectionRecord>;
  /** `${siteId}/${scheduleId}/${windowId}` → the missed window, in the order found. */
  readonly misses: Map<string, InspectionMiss>;
  readonly entries: number;
  /** A torn last line (the process died mid-write) is skipped and counted here. */
  readonly skipped: number;
}

export function missKey(miss: Pick<InspectionMiss, 'siteId' | 'scheduleId' | 'window'>): string {
  return `${miss.siteId}/${miss.scheduleId}/${miss.window.id}`;
}

/**
 * The inspection ledger's append-only stream, a JsonlJournal like the hazard and permit journals
 * (shown on /readyz as journal `inspections` while an append fails; the step it carried did not
 * happen). It holds when each schedule began to be watched, every signed record and every missed
 * window: a window is journaled missed before its alarm is raised, so a restart neither raises it
 * again nor loses it (the service re-asserts the alarms of the journaled misses at start). Replay
 * keeps the last state per id; at start the file is compacted to one line per schedule, record and
 * miss. Records and misses stay: they are the record of who inspected when, and of what was missed
 * (HAZ-04 系统有觉察). The file grows with them, never with ticks.
 */
export class InspectionJournal {
  private readonly journal: JsonlJournal<InspectionJournalEntry>;
  readonly path: string;

  constructor(directory: string, status?: JournalStatusSink) {
    this.journal = new JsonlJournal(join(directory, 'inspection-journal.jsonl'), {
      name: 'inspections',
      status,
    });
    this.path = this.journal.path;
  }

  open(): InspectionJournalState {
    const watched = new Map<string, number>();
    const records = new Map<string, InspectionRecord>();
    const misses = new Map<string, InspectionMiss>();
    let entries = 0;
    const { skipped } = this.journal.replay(entry => {
      entries += 1;
      switch (entry.t) {
        case 'watch':
          if (!watched.has(scheduleKey(entry.siteId, entry.scheduleId)))
            watched.set(scheduleKey(entry.siteId, entry.scheduleId), entry.since);
          return;
        case 'record':
          records.set(entry.record.id, entry.record);
          return;
        case 'missed':
          misses.set(missKey(entry.miss), entry.miss);
          return;
        default:
          entries -= 1;
      }
    });
    const ordered = new Map([...records.values()].sort((a, b) => a.no - b.no).map(r => [r.id, r]));
    const kept: InspectionJournalEntry[] = [
      ...[...watched].map(([key, since]): InspectionJournalEntry => {
        const [siteId = '', scheduleId = ''] = key.split('/');
        return { t: 'watch', siteId, scheduleId, since };
      }),
      ...[...ordered.values()].map((record): InspectionJournalEntry => ({ t: 'record', record })),
      ...[...misses.values()].map((miss): InspectionJournalEntry => ({ t: 'missed', miss })),
    ];
    this.journal.compact(kept);
    return { watched, records: ordered, misses, entries, skipped };
  }

  /** Appends entries and returns once they are on disk; throws JournalWriteError when not. */
  append(entries: readonly InspectionJournalEntry[]): void {
    this.journal.append(entries);
  }

  close(): void {
    this.journal.close();
  }
}
