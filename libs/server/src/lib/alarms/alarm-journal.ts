import { join } from 'node:path';

import type { Alarm, AlarmAction } from '@vigil/contracts';

import { JsonlJournal, type JournalStatusSink } from '../journal/jsonl-journal';
import { alarmUpdateJson } from './alarm-json';

/** A device put in maintenance or out of service: its alarms are recorded but suppressed. */
export interface DeviceMode {
  readonly siteId: string;
  readonly deviceId: string;
  readonly mode: 'maintenance' | 'out-of-service' | null;
  readonly by: string;
  readonly reason: string;
  readonly at: number;
  /** Maintenance ends by itself at this time (server ms); out of service has no end. */
  readonly until?: number | undefined;
}

export type JournalEntry =
  | { readonly t: 'alarm'; readonly alarm: Alarm; readonly action: AlarmAction }
  | { readonly t: 'device'; readonly device: DeviceMode };

export interface JournalState {
  /** Last state of every alarm id still open, in journal order. */
  readonly alarms: Map<string, Alarm>;
  readonly devices: Map<string, DeviceMode>;
  readonly entries: number;
  /** A torn last line (the process died mid-write) is skipped and counted here. */
  readonly skipped: number;
}

/** Which journal the alarm lifecycle writes to: the file below, or the VIGIL_ALARMS stream. */
export const ALARM_LOG = Symbol('ALARM_LOG');

/**
 * Where the alarm lifecycle makes its transitions durable before anyone hears of them. The file
 * journal (one process) is durable when `append` returns; the JetStream one (split processes,
 * `StreamAlarmJournal`) when the promise `append` returns resolves (it rejects only when the
 * partition was lost meanwhile: the new owner rebuilds from what was durable).
 */
export interface AlarmLog {
  /** Where it is, for the start-up log line. */
  readonly path: string;
  /** The open alarms and device modes to start from (the stream journal adopts them later). */
  open(isOpen: (alarm: Alarm) => boolean): JournalState;
  append(entries: readonly JournalEntry[]): void | Promise<void>;
  close(): void;
}

/**
 * The alarm lifecycle's append-only event stream. Every transition and action is written here and
 * made durable (fdatasync) before anyone hears of it; at start the open alarms are rebuilt from
 * it. Each entry carries the alarm's full state after the transition, so replay is a fold that
 * keeps the last state per id. At start the journal is compacted to the open alarms (written to
 * a new file, fsynced, renamed over the old one), so it grows with activity, not with time. The
 * file itself is a JsonlJournal (shared with the hazard ledger).
 */
export class AlarmJournal implements AlarmLog {
  private readonly journal: JsonlJournal<JournalEntry>;
  readonly path: string;

  constructor(directory: string, status?: JournalStatusSink) {
    this.journal = new JsonlJournal(join(directory, 'alarm-journal.jsonl'), {
      name: 'alarms',
      status,
      serialise: journalLine,
    });
    this.path = this.journal.path;
  }

  /** Reads the journal, keeps what `isOpen` says is open, and compacts the file to that. */
  open(isOpen: (alarm: Alarm) => boolean): JournalState {
    const alarms = new Map<string, Alarm>();
    const devices = new Map<string, DeviceMode>();
    const { entries, skipped } = this.journal.replay(entry => {
      if (entry.t === 'alarm') {
        if (isOpen(entry.alarm)) alarms.set(entry.alarm.id, entry.alarm);
        else alarms.delete(entry.alarm.id);
      } else {
        const key = `${entry.device.siteId}/${entry.device.deviceId}`;
        if (entry.device.mode) devices.set(key, entry.device);
        else devices.delete(key);
      }
    });
    const kept: JournalEntry[] = [];
    for (const device of devices.values()) kept.push({ t: 'device', device });
    for (const alarm of alarms.values()) {
      const last = alarm.history[alarm.history.length - 1] ?? {
        action: 'raise',
        at: alarm.updatedAt,
        by: undefined,
        note: undefined,
      };
      kept.push({ t: 'alarm', alarm, action: last });
    }
    this.journal.compact(kept);
    return { alarms, devices, entries, skipped };
  }

  /** Appends entries and waits until they are on disk. One fdatasync per call (group commit). */
  append(entries: readonly JournalEntry[]): void {
    this.journal.append(entries);
  }

  close(): void {
    this.journal.close();
  }
}

/** `JSON.stringify(entry)`, key for key, with the alarm's JSON made once (alarm-json.ts). */
export function journalLine(entry: JournalEntry): string {
  if (entry.t !== 'alarm') return JSON.stringify(entry);
  return `{"t":"alarm",${alarmUpdateJson(entry.alarm, entry.action).slice(1)}`;
}
