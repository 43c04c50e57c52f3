import type { DeviceClass } from './device-classes';

/**
 * Vigil keeps three kinds of signal apart (mixing them is what floods consoles):
 * process alarms (the plant is unsafe), early warnings (预警, a trend says it soon will be),
 * and data-quality / device alarms (the measurement cannot be trusted). `system` alarms are about
 * Vigil itself: part of the plant is no longer being monitored (`monitoring-lost`).
 */
export const ALARM_CATEGORIES = ['process', 'warning', 'quality', 'system'] as const;
export type AlarmCategory = (typeof ALARM_CATEGORIES)[number];

/** 1 = critical … 4 = low/diagnostic (domain-standards §9 priorities). */
export type AlarmPriority = 1 | 2 | 3 | 4;

/**
 * Where inside a device an event-rule alarm is: a fire panel's loop / point / zone (GB 26875
 * address), a monitor's or controller's channel. `areaId` on the signal is then the point's area
 * from the registry (`points` / `zones` of the panel), not the panel's own.
 */
export interface AlarmLocation {
  readonly loop?: string | undefined;
  readonly point?: string | undefined;
  readonly zone?: string | undefined;
  readonly channel?: string | undefined;
  /** The registry's name of the point or zone, e.g. `Tank farm smoke detector 23`. */
  readonly name?: string | undefined;
  /** The point's (or zone's) position in the site frame, metres, when the registry gives one. */
  readonly position?: readonly [number, number] | undefined;
}

/**
 * What a rule says about one (source, rule) pair at one moment: the condition became active, or
 * it cleared. The alarm lifecycle turns signals into alarms; rules never hold alarm state.
 */
export interface RuleSignal {
  /** `${siteId}/${deviceId}/${ruleId}`: exactly one alarm per key can be open at a time. */
  readonly key: string;
  readonly ruleId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass | undefined;
  readonly areaId: string | undefined;
  readonly category: AlarmCategory;
  readonly priority: AlarmPriority;
  /** Rule-specific level, e.g. `L1`, `L2`, `HH`, `offline`. */
  readonly level: string;
  readonly active: boolean;
  /** Latched alarms stay active after the condition clears until an operator resets them. */
  readonly latched: boolean;
  readonly metric: string | undefined;
  readonly value: number | boolean | undefined;
  readonly threshold: number | undefined;
  readonly message: string;
  /** Event time of the reading (or tick) that caused the signal. */
  readonly at: number;
  /** Server wall-clock time when the rule engine decided; the start of detection latency. */
  readonly detectedAt: number;
  /**
   * Site rules only: the people (tag ids) or detectors (device ids) the signal is about, e.g. the
   * members of a crowd, the tags near an area in alarm, the detectors of a 2-out-of-N vote.
   * Set on the active signal, as of that moment; absent on device rules.
   */
  readonly members?: readonly string[];
  /**
   * Trend warnings only: event time at which the fitted trend is predicted to cross the alarm
   * level (the message states the same instant).
   */
  readonly predictedAt?: number;
  /**
   * Set by the chatter guard: `true` on the one signal that starts holding a chattering key active
   * (≥ 3 state changes within 60 s, ISA-18.2 / EEMUA 191, domain-standards §8), `false` on the
   * signal that ends the hold. Absent on every other signal.
   */
  readonly chattering?: boolean;
  /**
   * Event rules only: the address inside the device (fire-panel loop/point/zone, channel). The key
   * then ends in that address (`…/fire/L1P23`): one alarm per point.
   */
  readonly location?: AlarmLocation;
}

/** ISA-18.2 / IEC 62682 alarm states (the subset the lifecycle uses; see docs/interfaces.md). */
export const ALARM_STATES = [
  'active-unacknowledged',
  'active-acknowledged',
  'returned-unacknowledged',
  'normal',
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export const ALARM_ACTIONS = [
  'raise',
  'clear',
  /** The active condition changed level, value or chattering flag (e.g. a major-hazard grade). */
  'update',
  'acknowledge',
  'reset',
  'comment',
  'shelve',
  'unshelve',
  'assign',
  'dispose',
  'escalate',
  'overdue',
  'suppress',
  'unsuppress',
] as const;
export type AlarmActionName = (typeof ALARM_ACTIONS)[number];

/** 处置 outcome, recorded when an operator closes the loop (核查处理, 闭环管理). */
export const DISPOSITIONS = [
  'real-event',
  'false-alarm',
  'test',
  'maintenance',
  'device-fault',
] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export interface AlarmAction {
  readonly action: AlarmActionName;
  readonly at: number;
  readonly by: string | undefined;
  readonly note: string | undefined;
}

/** An alarm as operators see it: one per (source, rule) while open, with its history. */
export interface Alarm {
  readonly id: string;
  readonly key: string;
  readonly ruleId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass | undefined;
  readonly areaId: string | undefined;
  readonly category: AlarmCategory;
  readonly priority: AlarmPriority;
  readonly level: string;
  readonly state: AlarmState;
  /** Whether the rule's condition is still present (a latched alarm can outlive it). */
  readonly conditionActive: boolean;
  readonly latched: boolean;
  readonly metric: string | undefined;
  readonly value: number | boolean | undefined;
  readonly threshold: number | undefined;
  readonly message: string;
  readonly raisedAt: number;
  readonly clearedAt: number | undefined;
  readonly acknowledgedAt: number | undefined;
  readonly acknowledgedBy: string | undefined;
  readonly updatedAt: number;
  readonly detectedAt: number;
  readonly history: readonly AlarmAction[];
  /** Server time this alarm (this id) was opened; deadlines count from here. */
  readonly openedAt?: number | undefined;
  /** The first operator to acknowledge owns the alarm until hand-over (预警信息首接责任制). */
  readonly owner?: string | undefined;
  readonly assignee?: string | undefined;
  /** Shelved by a named user, with a reason and an expiry: hidden, still evaluated and recorded. */
  readonly shelved?:
    { readonly by: string; readonly reason: string; readonly until: number } | undefined;
  /**
   * Suppressed by design: the first of `suppressedBy` (kept for readers that only need the kind).
   * Set and cleared with its causes, never left behind when they end.
   */
  readonly suppressed?: SuppressionKind | undefined;
  /**
   * The live causes hiding this alarm (ISA-18.2 suppressed by design / out of service): each ends
   * on its own (device mode cleared, gateway back), and the alarm is re-evaluated at that moment.
   */
  readonly suppressedBy?: readonly SuppressionCause[] | undefined;
  /**
   * Server time the alarm last became visible again (unsuppressed or unshelved). Escalation and
   * the disposal deadline count from here when it is later: nobody could act on a hidden alarm.
   */
  readonly shownAt?: number | undefined;
  readonly disposition?:
    | {
        readonly kind: Disposition;
        readonly note: string;
        readonly by: string;
        readonly at: number;
      }
    | undefined;
  /** Escalation up the organisation tree: 0 = the site's enterprise, then park/county, then city. */
  readonly escalation?:
    { readonly level: number; readonly nodeId: string; readonly at: number } | undefined;
  /** Not disposed by its deadline. */
  readonly overdue?: boolean | undefined;
  /** Flood grouping: the first-out alarm of the group this alarm belongs to (its own id when first). */
  readonly groupId?: string | undefined;
  /** ISA-18.2 chattering: held active instead of re-annunciated while it flips. */
  readonly chattering?: boolean | undefined;
  /** Tags near the alarm's area when it was raised (the muster list), if any. */
  readonly members?: readonly string[] | undefined;
  /** The address inside the device (fire-panel loop/point/zone, channel), if any. */
  readonly location?: AlarmLocation | undefined;
}

/** Why an alarm is suppressed by design (ISA-18.2 / IEC 62682 §"suppressed by design", "out of service"). */
export const SUPPRESSION_KINDS = ['maintenance', 'out-of-service', 'parent-offline'] as const;
export type SuppressionKind = (typeof SUPPRESSION_KINDS)[number];

/** One live cause hiding an alarm, with who and why (device modes) or which gateway. */
export interface SuppressionCause {
  readonly kind: SuppressionKind;
  /** Server time the cause began (the mode was set, the gateway's offline alarm was raised). */
  readonly since: number;
  /** Device modes: the supervisor who set it, and why. */
  readonly by?: string | undefined;
  readonly reason?: string | undefined;
  /** `parent-offline`: the gateway whose offline alarm hides this one. */
  readonly gatewayId?: string | undefined;
}

/** What can hide an open alarm from the operator's list: suppression by design, or shelving. */
export const HIDDEN_CAUSES = [...SUPPRESSION_KINDS, 'shelved'] as const;
export type HiddenCause = (typeof HIDDEN_CAUSES)[number];

/**
 * Alarm rules whose alarms a parent (gateway) going offline may hide: the consequences of a lost
 * path (the device's own offline, stale/stuck values, range and clock problems). Process and
 * warning alarms, and faults a device reports itself, are never hidden by a parent: a reading
 * that arrives proves the path works. Matched on the alarm's `level`, quality category only.
 */
export const PARENT_OFFLINE_HIDES_LEVELS: ReadonlySet<string> = new Set([
  'offline',
  'gateway-offline',
  'stale',
  'stuck',
  'range',
  'clock',
]);

/** Whether a parent going offline may hide this alarm (see PARENT_OFFLINE_HIDES_LEVELS). */
export function hiddenByParentOffline(alarm: Pick<Alarm, 'category' | 'level'>): boolean {
  return alarm.category === 'quality' && PARENT_OFFLINE_HIDES_LEVELS.has(alarm.level);
}

/** The causes hiding an alarm at `now`: its suppression causes, and shelving until its expiry. */
export function hiddenCauses(
  alarm: Pick<Alarm, 'suppressed' | 'suppressedBy' | 'shelved'>,
  now: number,
): HiddenCause[] {
  const causes: HiddenCause[] = [];
  for (const cause of alarm.suppressedBy ?? []) {
    if (!causes.includes(cause.kind)) causes.push(cause.kind);
  }
  // A journal written before `suppressedBy` existed carries only the kind.
  if (alarm.suppressed !== undefined && !causes.includes(alarm.suppressed))
    causes.push(alarm.suppressed);
  if (alarm.shelved !== undefined && alarm.shelved.until > now) causes.push('shelved');
  return causes;
}

/**
 * How many open alarms each cause hides (an alarm hidden by two causes counts under both), with
 * every cause present, zero included: the console shows all of them, always.
 */
export function countHidden(
  alarms: Iterable<Pick<Alarm, 'suppressed' | 'suppressedBy' | 'shelved'>>,
  now: number,
): Record<HiddenCause, number> {
  const counts = Object.fromEntries(HIDDEN_CAUSES.map(cause => [cause, 0])) as Record<
    HiddenCause,
    number
  >;
  for (const alarm of alarms) for (const cause of hiddenCauses(alarm, now)) counts[cause] += 1;
  return counts;
}
