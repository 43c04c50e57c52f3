import type { Alarm, AlarmPerformance, AlarmPriority } from '@vigil/contracts';

/** One alarm activation, as the performance report counts it. */
export interface RaiseRecord {
  readonly at: number;
  readonly key: string;
  readonly alarmId: string;
  readonly siteId: string;
  readonly priority: AlarmPriority;
}

/** ISA-18.2 / EEMUA 191: a flood is more than 10 alarms in 10 minutes per operator (domain-standards §8). */
const TEN_MINUTES = 10 * 60_000;
const FLOOD_THRESHOLD = 10;
const STANDING_MS = 24 * 60 * 60_000;
const CHATTER_WINDOW_MS = 60_000;
const CHATTER_COUNT = 3;

export interface Flood {
  /** The activation that made it more than 10 within 10 minutes. */
  readonly start: number;
  /** When the count over the trailing 10 minutes fell back to 10 (clipped to the report's end). */
  readonly end: number;
  /** Activations in the flood, from the first of the window that started it to its end. */
  readonly alarms: number;
  /** The most activations within any 10 minutes of it. */
  readonly peak: number;
}

/**
 * Floods on a sliding 10-minute window: at every activation, count the activations in the 10
 * minutes up to and including it; a flood begins when that count exceeds 10 and ends when it
 * falls back to 10 as the oldest ones leave the window. Fixed 10-minute buckets would miss a flood
 * split across a boundary (6 + 6 alarms within 2 minutes).
 */
export function slidingFloods(times: readonly number[], to: number): Flood[] {
  const floods: Flood[] = [];
  let current: { start: number; first: number; peak: number } | undefined;
  let lo = 0;
  for (let i = 0; i < times.length; i += 1) {
    const at = times[i] as number;
    while ((times[lo] as number) <= at - TEN_MINUTES) lo += 1;
    const count = i - lo + 1;
    if (count > FLOOD_THRESHOLD) {
      if (!current) current = { start: at, first: lo, peak: count };
      else current.peak = Math.max(current.peak, count);
    }
    if (!current) continue;
    // Without another activation the count falls to 10 when the 11th most recent one leaves.
    const next = times[i + 1];
    const endsAt = (times[i - FLOOD_THRESHOLD] as number) + TEN_MINUTES;
    if (next === undefined || next >= endsAt) {
      floods.push({
        start: current.start,
        end: Math.min(endsAt, to),
        alarms: i - current.first + 1,
        peak: current.peak,
      });
      current = undefined;
    }
  }
  return floods;
}

/** The most activations within any 10 minutes (sliding, like the floods). */
function peakPerTenMinutes(times: readonly number[]): number {
  let peak = 0;
  let lo = 0;
  for (let i = 0; i < times.length; i += 1) {
    while ((times[lo] as number) <= (times[i] as number) - TEN_MINUTES) lo += 1;
    peak = Math.max(peak, i - lo + 1);
  }
  return peak;
}

/**
 * EEMUA 191 / ISA-18.2 alarm-system performance over [from, to) for the given activations, for one
 * operator position (the caller passes the activations of one console scope). Alarms disposed as
 * `test` (`excluded`: their ids) are left out of every figure: a test is not an alarm the operator
 * had to handle (ISA-18.2 counts annunciated alarms).
 */
export function alarmPerformance(
  raises: readonly RaiseRecord[],
  open: readonly Alarm[],
  from: number,
  to: number,
  now: number,
  excluded: ReadonlySet<string> = new Set(),
): AlarmPerformance {
  const inWindow = raises
    .filter(raise => raise.at >= from && raise.at < to && !excluded.has(raise.alarmId))
    .sort((a, b) => a.at - b.at);
  const windows = Math.max(1, Math.ceil((to - from) / TEN_MINUTES));
  const times = inWindow.map(raise => raise.at);
  const floods = slidingFloods(times, to);
  const inFloodMs = floods.reduce((total, flood) => total + (flood.end - flood.start), 0);

  const byKey = new Map<string, number[]>();
  for (const raise of inWindow) {
    const times = byKey.get(raise.key) ?? [];
    times.push(raise.at);
    byKey.set(raise.key, times);
  }
  const chattering: Array<{ key: string; bursts: number }> = [];
  for (const [key, times] of byKey) {
    let bursts = 0;
    for (let i = 0; i + CHATTER_COUNT - 1 < times.length; i += 1) {
      if ((times[i + CHATTER_COUNT - 1] as number) - (times[i] as number) <= CHATTER_WINDOW_MS)
        bursts += 1;
    }
    if (bursts > 0) chattering.push({ key, bursts });
  }
  const mostFrequent = [...byKey.entries()]
    .map(([key, times]) => ({
      key,
      count: times.length,
      percent: round((100 * times.length) / inWindow.length),
    }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, 10);
  const byPriority: Record<AlarmPriority, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
  for (const raise of inWindow) byPriority[raise.priority] += 1;

  return {
    from,
    to,
    alarms: inWindow.length,
    per10MinAverage: round(inWindow.length / windows),
    per10MinPeak: peakPerTenMinutes(times),
    floods,
    timeInFloodPercent: to > from ? round((100 * inFloodMs) / (to - from)) : 0,
    standing: open
      .filter(
        alarm =>
          alarm.conditionActive &&
          !excluded.has(alarm.id) &&
          alarm.disposition?.kind !== 'test' &&
          now - (alarm.openedAt ?? alarm.detectedAt) > STANDING_MS,
      )
      .map(alarm => ({
        alarmId: alarm.id,
        key: alarm.key,
        sinceMs: now - (alarm.openedAt ?? alarm.detectedAt),
      })),
    chattering: chattering.sort((a, b) => b.bursts - a.bursts),
    mostFrequent,
    byPriority,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
