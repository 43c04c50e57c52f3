import { GAS_L1_OFF_DELAY_MS } from '@vigil/rules';

import type { Excursion } from './load';
import type { ReadyzSample, WsAlarmSighting } from './observers';

/** The rules an excursion to 60 %LEL crosses (COMBUSTIBLE_L1_LEL 25, COMBUSTIBLE_L2_LEL 50). */
export const EXCURSION_RULES = ['gas-l1', 'gas-l2'] as const;

export interface ReadingAccounting {
  readonly offered: number;
  /** Distinct (device, seq) stored. */
  readonly stored: number;
  /** Offered but not stored. */
  readonly missing: number;
  /** Of the missing: the broker had acknowledged them (the device was told they were safe). */
  readonly missingAcknowledged: number;
  /** Rows beyond the first for one (device, seq). */
  readonly duplicateRows: number;
  /** Missing readings by device (first few), for the log. */
  readonly sampleMissing: readonly string[];
}

/** Readings offered (seqs 1..offered per device) against the seqs stored (with repeats). Pure. */
export function accountReadings(
  offered: Readonly<Record<string, number>>,
  stored: ReadonlyMap<string, readonly number[]>,
  acknowledged: ReadonlyMap<string, ReadonlySet<number>>,
): ReadingAccounting {
  let offeredTotal = 0;
  let storedTotal = 0;
  let missing = 0;
  let missingAcknowledged = 0;
  let duplicateRows = 0;
  const sampleMissing: string[] = [];
  for (const [deviceId, last] of Object.entries(offered)) {
    offeredTotal += last;
    const seen = new Map<number, number>();
    for (const seq of stored.get(deviceId) ?? []) seen.set(seq, (seen.get(seq) ?? 0) + 1);
    for (const [seq, times] of seen) {
      if (seq >= 1 && seq <= last) storedTotal += 1;
      duplicateRows += times - 1;
    }
    const acked = acknowledged.get(deviceId);
    for (let seq = 1; seq <= last; seq += 1) {
      if (seen.has(seq)) continue;
      missing += 1;
      if (acked?.has(seq)) missingAcknowledged += 1;
      if (sampleMissing.length < 10) sampleMissing.push(`${deviceId}#${seq}`);
    }
  }
  return {
    offered: offeredTotal,
    stored: storedTotal,
    missing,
    missingAcknowledged,
    duplicateRows,
    sampleMissing,
  };
}

/** One `alarm_event` row (the audit trail in InfluxDB). */
export interface AuditRow {
  readonly deviceId: string;
  readonly ruleId: string;
  readonly alarmId: string;
  readonly action: string;
}

/**
 * Whether the condition of `ruleId` cleared (an alarm change: `clear`) before the load ended at
 * `loadEnd`. L2 is latched with no off-delay: its condition clears with the first normal reading.
 * L1 clears only after its off-delay (GAS_L1_OFF_DELAY_MS, 30 s) below the deadband, so a late
 * excursion's L1 is still active when the load stops: that clear is not expected. A 2 s margin
 * covers the rule tick.
 */
export function clearExpected(excursion: Excursion, ruleId: string, loadEnd: number): boolean {
  if (excursion.returnedAt === undefined) return false;
  const delay = ruleId === 'gas-l1' ? GAS_L1_OFF_DELAY_MS : 0;
  return excursion.returnedAt + delay + 2_000 <= loadEnd;
}

export interface AlarmAccounting {
  /**
   * Alarm changes the load provoked: per excursion, the raise of L1 and of L2, the clear of L2
   * and, when it was due before the load ended, the clear of L1 (clearExpected).
   */
  readonly expectedChanges: number;
  /** Expected (device, rule) alarms raised under exactly one alarm id, none, or several. */
  readonly raisedExactlyOnce: number;
  readonly neverRaised: number;
  readonly raisedTwice: number;
  /** Expected changes no console saw pushed live (a reconnect snapshot may still show a raise). */
  readonly notPushedLive: number;
  /** Expected changes with no trace anywhere: not live, not in a snapshot, no audit row. */
  readonly lost: number;
  /** Expected changes without their `alarm_event` row (raise/clear) in InfluxDB. */
  readonly auditMissing: number;
  readonly auditDuplicated: number;
  /** The expected changes not pushed live or without an audit row, e.g. `d-7/gas-l2 clear (live, audit)`. */
  readonly missingChanges: readonly string[];
  /** Alarm ids nobody provoked (e.g. `offline` during a long outage), by rule. */
  readonly unexpected: Readonly<Record<string, number>>;
}

const keyOf = (deviceId: string, ruleId: string): string => `${deviceId}/${ruleId}`;

/** Matches what the suite provoked against the audit trail and the console's view. Pure. */
export function accountAlarms(
  excursions: readonly Excursion[],
  audit: readonly AuditRow[],
  sightings: Iterable<WsAlarmSighting>,
  loadEnd: number,
): AlarmAccounting {
  const rows = new Map<string, AuditRow[]>();
  for (const row of audit) {
    const key = keyOf(row.deviceId, row.ruleId);
    rows.set(key, [...(rows.get(key) ?? []), row]);
  }
  const seen = new Map<string, WsAlarmSighting[]>();
  for (const sighting of sightings) {
    const key = keyOf(sighting.deviceId, sighting.ruleId);
    seen.set(key, [...(seen.get(key) ?? []), sighting]);
  }
  const expectedKeys = new Set<string>();
  let raisedExactlyOnce = 0;
  let neverRaised = 0;
  let raisedTwice = 0;
  let notPushedLive = 0;
  let lost = 0;
  let auditMissing = 0;
  let auditDuplicated = 0;
  let expectedChanges = 0;
  const missingChanges: string[] = [];
  const missing = (key: string, change: string, live: boolean, audited: boolean) => {
    const what = [live ? undefined : 'live', audited ? undefined : 'audit'].filter(Boolean);
    if (what.length > 0) missingChanges.push(`${key} ${change} (${what.join(', ')})`);
  };
  for (const excursion of excursions) {
    for (const ruleId of EXCURSION_RULES) {
      const key = keyOf(excursion.deviceId, ruleId);
      expectedKeys.add(key);
      const auditRows = rows.get(key) ?? [];
      const views = seen.get(key) ?? [];
      const ids = new Set([...auditRows.map(row => row.alarmId), ...views.map(view => view.id)]);
      if (ids.size === 0) neverRaised += 1;
      else if (ids.size === 1) raisedExactlyOnce += 1;
      else raisedTwice += 1;
      const raiseRows = auditRows.filter(row => row.action === 'raise').length;
      const clearRows = auditRows.filter(row => row.action === 'clear').length;
      const liveRaise = views.some(view => view.liveActive);
      const liveClear = views.some(view => view.liveCleared);
      const clears = clearExpected(excursion, ruleId, loadEnd);
      expectedChanges += clears ? 2 : 1;
      notPushedLive += liveRaise ? 0 : 1;
      if (!liveRaise && raiseRows === 0 && !views.some(view => view.inSnapshot)) lost += 1;
      auditMissing += raiseRows === 0 ? 1 : 0;
      auditDuplicated += Math.max(0, raiseRows - 1) + Math.max(0, clearRows - 1);
      missing(key, 'raise', liveRaise, raiseRows > 0);
      if (clears) {
        missing(key, 'clear', liveClear, clearRows > 0);
        notPushedLive += liveClear ? 0 : 1;
        if (!liveClear && clearRows === 0) lost += 1;
        auditMissing += clearRows === 0 ? 1 : 0;
      }
    }
  }
  const unexpectedIds = new Map<string, string>();
  for (const row of audit) {
    if (!expectedKeys.has(keyOf(row.deviceId, row.ruleId)))
      unexpectedIds.set(row.alarmId, row.ruleId);
  }
  for (const views of seen.values()) {
    for (const view of views) {
      if (!expectedKeys.has(keyOf(view.deviceId, view.ruleId)))
        unexpectedIds.set(view.id, view.ruleId);
    }
  }
  const unexpected: Record<string, number> = {};
  for (const ruleId of unexpectedIds.values()) unexpected[ruleId] = (unexpected[ruleId] ?? 0) + 1;
  return {
    expectedChanges,
    raisedExactlyOnce,
    neverRaised,
    raisedTwice,
    notPushedLive,
    lost,
    auditMissing,
    auditDuplicated,
    missingChanges,
    unexpected,
  };
}

export interface ReadyzSummary {
  /** Consecutive equal answers from the fault on, e.g. `200 2.0 s`, `503 storage 9.5 s`. */
  readonly segments: readonly { status: number; failing: string; ms: number }[];
  /** From the fault to the first 200 after the last non-200; 0 when it never left 200. */
  readonly backTo200Ms: number | null;
  /** One line: `200 throughout`, or `down 6.1 s, then 200`, `503 (storage) 8.0 s, then 200`. */
  readonly text: string;
}

/** What /readyz said from the fault on. Pure. `faultAt` in the samples' time base. */
export function summariseReadyz(samples: readonly ReadyzSample[], faultAt: number): ReadyzSummary {
  const after = samples.filter(sample => sample.t >= faultAt);
  const segments: { status: number; failing: string; ms: number; from: number }[] = [];
  for (const sample of after) {
    const failing = sample.failing.join(',');
    const last = segments.at(-1);
    if (last && last.status === sample.status && last.failing === failing) {
      last.ms = sample.t - last.from;
    } else {
      if (last) last.ms = sample.t - last.from;
      segments.push({ status: sample.status, failing, ms: 0, from: sample.t });
    }
  }
  const lastBad = [...after].reverse().find(sample => sample.status !== 200);
  let backTo200Ms: number | null = 0;
  if (lastBad) {
    const recovered = after.find(sample => sample.t > lastBad.t && sample.status === 200);
    backTo200Ms = recovered ? recovered.t - faultAt : null;
  }
  const describe = (segment: { status: number; failing: string; ms: number }): string => {
    const what =
      segment.status === 0
        ? 'down'
        : segment.failing
          ? `${segment.status} (${segment.failing})`
          : `${segment.status}`;
    return `${what} ${(segment.ms / 1000).toFixed(1)} s`;
  };
  let text: string;
  if (segments.length === 0) text = 'no answer recorded';
  else if (segments.every(segment => segment.status === 200)) text = '200 throughout';
  else {
    text = segments
      .map((segment, i) =>
        i === segments.length - 1 && segment.status === 200 ? '200' : describe(segment),
      )
      .join(' → ');
  }
  return {
    segments: segments.map(({ status, failing, ms }) => ({ status, failing, ms })),
    backTo200Ms,
    text,
  };
}

/** One sample of the books during a run (every few seconds; `stored` null while InfluxDB is down). */
export interface ProgressSample {
  /** ms from the load's start. */
  readonly atMs: number;
  /** Readings handed to the devices' MQTT clients so far. */
  readonly offered: number;
  /** Of those, acknowledged by the broker (PUBACK). */
  readonly pubacked: number;
  /** Readings of the run stored in InfluxDB (count), or null when the query failed. */
  readonly stored: number | null;
  /** The machine's 1-minute load average then. */
  readonly load1?: number;
}

export interface DrainSummary {
  /** Readings acknowledged but not yet stored when the outage ended (first sample after it). */
  readonly backlogAtRestart: number;
  /** Restart → stored caught up with what was acknowledged (within `lagAllowance`), or null. */
  readonly caughtUpMs: number | null;
  /** Readings stored per second from the restart until caught up (live readings included). */
  readonly storeRate: number | null;
  /** Highest stored-per-second over one sample interval after the restart. */
  readonly peakStoreRate: number | null;
  /** `storeRate` ÷ the live rate offered. */
  readonly timesLiveRate: number | null;
  /**
   * Outage end → the stored count reached its final value (what the pipeline held was written, be
   * it all that was acknowledged or not): with loss upstream, `caughtUpMs` stays null but this
   * says how fast what had waited was drained. Null when nothing was stored after the outage.
   */
  readonly settledMs: number | null;
  /** Readings stored from the outage's end until `settledMs`, per second. */
  readonly settledRate: number | null;
}

/**
 * How a backlog drained after an outage ended at `restartedAt` (ms from the load's start; timed
 * from the last sample before it that found InfluxDB down, a few seconds early at most): the
 * issue asks it to drain "at several times the live rate". Caught up = the first sample where the
 * stored count is within `lagAllowance` readings of what the broker had acknowledged. Pure.
 */
export function summariseDrain(
  samples: readonly ProgressSample[],
  restartedAt: number,
  liveRate: number,
  lagAllowance = liveRate * 2,
): DrainSummary {
  // InfluxDB answers before the restart call returns (it waits for readiness, which takes seconds
  // on a loaded host): the drain is timed from the last sample that still found it down.
  let lastDown = -1;
  samples.forEach((s, i) => {
    if (s.stored === null && s.atMs <= restartedAt) lastDown = i;
  });
  const from = lastDown >= 0 ? (samples[lastDown] as ProgressSample).atMs : restartedAt;
  const after = samples
    .slice(lastDown + 1)
    .filter((s): s is ProgressSample & { stored: number } => s.atMs >= from && s.stored !== null);
  const first = after[0];
  if (!first) {
    return {
      backlogAtRestart: 0,
      caughtUpMs: null,
      storeRate: null,
      peakStoreRate: null,
      timesLiveRate: null,
      settledMs: null,
      settledRate: null,
    };
  }
  // The stored count before the outage ended (InfluxDB was down: nothing new could be stored).
  const before = samples
    .slice(0, lastDown >= 0 ? lastDown : undefined)
    .filter(s => s.atMs < from && s.stored !== null)
    .at(-1);
  const storedAtRestart = before?.stored ?? first.stored;
  const backlogAtRestart = Math.max(0, first.pubacked - storedAtRestart);
  const caught = after.find(s => s.stored >= s.pubacked - lagAllowance);
  let peak: number | null = null;
  for (let i = 1; i < after.length; i += 1) {
    const a = after[i - 1] as ProgressSample & { stored: number };
    const b = after[i] as ProgressSample & { stored: number };
    if (caught && a.atMs >= caught.atMs) break;
    const rate = ((b.stored - a.stored) * 1000) / Math.max(1, b.atMs - a.atMs);
    peak = peak === null ? rate : Math.max(peak, rate);
  }
  const caughtUpMs = caught ? caught.atMs - from : null;
  const storeRate =
    caught && caughtUpMs !== null && caughtUpMs > 0
      ? ((caught.stored - storedAtRestart) * 1000) / caughtUpMs
      : null;
  const final = (after.at(-1) as ProgressSample & { stored: number }).stored;
  const settled = final > storedAtRestart ? after.find(s => s.stored >= final) : undefined;
  const settledMs = settled ? settled.atMs - from : null;
  return {
    backlogAtRestart,
    caughtUpMs,
    storeRate,
    peakStoreRate: peak,
    timesLiveRate: storeRate === null ? null : storeRate / liveRate,
    settledMs,
    settledRate:
      settled && settledMs !== null && settledMs > 0
        ? ((final - storedAtRestart) * 1000) / settledMs
        : null,
  };
}
