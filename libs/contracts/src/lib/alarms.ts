import type { DeviceClass } from './device-classes';

/**
 * Vigil keeps three kinds of signal apart (mixing them is what floods consoles):
 * process alarms (the plant is unsafe), early warnings (预警, a trend says it soon will be),
 * and data-quality / device alarms (the measurement cannot be trusted).
 */
export const ALARM_CATEGORIES = ['process', 'warning', 'quality'] as const;
export type AlarmCategory = (typeof ALARM_CATEGORIES)[number];

/** 1 = critical … 4 = low/diagnostic (domain-standards §9 priorities). */
export type AlarmPriority = 1 | 2 | 3 | 4;

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
}

/** ISA-18.2 / IEC 62682 alarm states (the subset the lifecycle uses; see docs/interfaces.md). */
export const ALARM_STATES = [
  'active-unacknowledged',
  'active-acknowledged',
  'returned-unacknowledged',
  'normal',
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export interface AlarmAction {
  readonly action: 'raise' | 'clear' | 'acknowledge' | 'reset' | 'comment';
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
}
