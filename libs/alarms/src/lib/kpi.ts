import type { Alarm, AlarmPerformance, AlarmPriority } from '@vigil/contracts';

/** One alarm activation, as the performance report counts it. */
export interface RaiseRecord {
  readonly at: number;
  readonly key: string;
  readonly alarmId: string;
  readonly siteId: string;
  readonly priority: AlarmPriority;
}

const TEN_MINUTES = 10 * 60_000;
const FLOOD_THRESHOLD = 10;
const STANDING_MS = 24 * 60 * 60_000;
const CHATTER_WINDOW_MS = 60_000;
const CHATTER_COUNT = 3;

/** EEMUA 191 / ISA-18.2 alarm-system performance over [from, to) for the given activations. */
export function alarmPerformance(
  raises: readonly RaiseRecord[],
  open: readonly Alarm[],
  from: number,
  to: number,
  now: number,
): AlarmPerformance {
  const inWindow = raises
    .filter(raise => raise.at >= from && raise.at < to)
    .sort((a, b) => a.at - b.at);
  const windows = Math.max(1, Math.ceil((to - from) / TEN_MINUTES));
  const perWindow = new Array<number>(windows).fill(0);
  for (const raise of inWindow) {
    const index = Math.min(windows - 1, Math.floor((raise.at - from) / TEN_MINUTES));
    perWindow[index] = (perWindow[index] ?? 0) + 1;
  }
  const floods = perWindow
    .map((alarms, index) => ({ start: from + index * TEN_MINUTES, alarms }))
    .filter(window => window.alarms > FLOOD_THRESHOLD);

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
    per10MinPeak: Math.max(0, ...perWindow),
    floods,
    timeInFloodPercent: round((100 * floods.length) / windows),
    standing: open
      .filter(
        alarm => alarm.conditionActive && now - (alarm.openedAt ?? alarm.detectedAt) > STANDING_MS,
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
