import type { RaiseEvent, WatchedAlarm } from '../observe/alarm-watcher';
import type { AlarmAccounting } from './load-report';

export interface ExpectedAlarm {
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  /** Wall-clock time the triggering reading was published, for latency. */
  readonly publishedAt: number;
}

export interface AlarmMatch {
  readonly accounting: AlarmAccounting;
  /** Publish → WebSocket arrival, ms, one per expected alarm seen on the WebSocket. */
  readonly wsLatenciesMs: number[];
  /** Publish → rule engine decision (`detectedAt`), ms. */
  readonly detectionLatenciesMs: number[];
  /** Latency samples keyed by the publish time, for per-second series. */
  readonly samples: { readonly publishedAt: number; readonly wsMs: number }[];
}

const key = (siteId: string, deviceId: string, ruleId: string): string =>
  `${siteId}/${deviceId}/${ruleId}`;

/**
 * Matches raises to the alarms a load run provoked: exactly once is the goal; none is a miss,
 * two or more a duplicate; a raise nobody provoked is unexpected. Pure.
 */
export function matchAlarms(
  expected: readonly ExpectedAlarm[],
  raises: readonly RaiseEvent[],
): AlarmMatch {
  const byKey = new Map<string, RaiseEvent[]>();
  for (const raise of raises) {
    const k = key(raise.siteId, raise.deviceId, raise.ruleId);
    const list = byKey.get(k);
    if (list) list.push(raise);
    else byKey.set(k, [raise]);
  }
  let exactlyOnce = 0;
  let missed = 0;
  let duplicated = 0;
  let missedOnWebSocket = 0;
  const wsLatenciesMs: number[] = [];
  const detectionLatenciesMs: number[] = [];
  const samples: { publishedAt: number; wsMs: number }[] = [];
  const expectedKeys = new Set<string>();
  for (const alarm of expected) {
    const k = key(alarm.siteId, alarm.deviceId, alarm.ruleId);
    expectedKeys.add(k);
    const seen = byKey.get(k) ?? [];
    if (seen.length === 0) missed += 1;
    else if (seen.length === 1) exactlyOnce += 1;
    else duplicated += 1;
    const first = seen.find(raise => raise.via === 'ws');
    if (seen.length > 0 && !first) missedOnWebSocket += 1;
    if (first) {
      const wsMs = first.receivedAt - alarm.publishedAt;
      wsLatenciesMs.push(wsMs);
      samples.push({ publishedAt: alarm.publishedAt, wsMs });
      if (first.detectedAt !== undefined)
        detectionLatenciesMs.push(first.detectedAt - alarm.publishedAt);
    }
  }
  let unexpected = 0;
  const unexpectedByRule: Record<string, number> = {};
  for (const [k, list] of byKey) {
    if (expectedKeys.has(k)) continue;
    unexpected += list.length;
    const ruleId = (list[0] as RaiseEvent).ruleId;
    unexpectedByRule[ruleId] = (unexpectedByRule[ruleId] ?? 0) + list.length;
  }
  return {
    accounting: {
      expected: expected.length,
      exactlyOnce,
      missed,
      duplicated,
      unexpected,
      missedOnWebSocket,
      unexpectedByRule,
    },
    wsLatenciesMs,
    detectionLatenciesMs,
    samples,
  };
}

/** Expected alarms whose condition was already active in the target before the run. */
export interface StandingAtStart {
  /** Expected alarms whose key had an alarm with its condition active when watching began. */
  readonly standing: number;
  /** Of those, how many were never raised during the run. */
  readonly missed: number;
}

/**
 * The expected alarms that were already standing when the run began (the target's snapshot when
 * the watcher connected). A provoked excursion inside a standing alarm raises nothing new: one
 * alarm per condition (ISA-18.2), so the target showed the alarm the whole time, yet the run
 * counts it as missed. A fresh target has none; any is state from before the run, e.g. a broker
 * session resumed with another run's excursions queued in it (2026-12-08, bench/README.md). Pure.
 */
export function standingAtStart(
  expected: readonly ExpectedAlarm[],
  openAtStart: readonly WatchedAlarm[],
  raises: readonly RaiseEvent[],
): StandingAtStart {
  const open = new Set<string>();
  for (const alarm of openAtStart)
    if (alarm.conditionActive !== false) open.add(key(alarm.siteId, alarm.deviceId, alarm.ruleId));
  if (open.size === 0) return { standing: 0, missed: 0 };
  const raised = new Set(raises.map(raise => key(raise.siteId, raise.deviceId, raise.ruleId)));
  let standing = 0;
  let missed = 0;
  for (const alarm of expected) {
    const k = key(alarm.siteId, alarm.deviceId, alarm.ruleId);
    if (!open.has(k)) continue;
    standing += 1;
    if (!raised.has(k)) missed += 1;
  }
  return { standing, missed };
}
