/**
 * Special-operation permits (特殊作业票, GB 30871-2022; policy PER-03, PER-05): a permit for one
 * area and a time window with named workers (their personnel tags). It starts only after a gas
 * analysis of the area that passed; while active its workers may be in the area without a geofence
 * alarm, and a gas or oxygen excursion beyond its limits raises a P1 "stop work" alarm (停止作业).
 *
 * Figures (tags as in `/work/shared/reference/domain-standards.md` §0):
 * - Confined-space oxygen 19.5–21 %VOL, ≤ 23.5 %VOL where enriched: GB 30871 via a secondary
 *   source, domain-standards §5 "Confined-space gas" (S).
 * - Gas analysis within 30 min before entry: same row (S).
 * - Hot-work gas-analysis limits of GB 30871 (%VOL by the gas's LEL) are not in the reference:
 *   the issuer enters the permit's %LEL limit; it may not exceed the first-level combustible
 *   alarm ceiling of 25 %LEL (GB/T 50493-2019 §5.5.2-1, V; using it as a bound is a proposal, P).
 */

/** The GB 30871 kinds built so far; the standard's other six (盲板抽堵, 高处, …) are not. */
export const PERMIT_KINDS = ['hot-work', 'confined-space'] as const;
export type PermitKind = (typeof PERMIT_KINDS)[number];

export const PERMIT_STATES = ['requested', 'approved', 'active', 'suspended', 'closed'] as const;
export type PermitState = (typeof PERMIT_STATES)[number];

export const PERMIT_ACTIONS = [
  'request',
  /** Approved by a supervisor other than the requester. */
  'approve',
  /** Started after a gas analysis of the area that passed (its readings are in `gasCheck`). */
  'start',
  /** Stopped: by Vigil on a gas or oxygen excursion (停止作业), or by a user. */
  'suspend',
  /** Started again after a new gas analysis that passed (a supervisor). */
  'resume',
  /** Finished or cancelled. */
  'close',
] as const;
export type PermitActionName = (typeof PERMIT_ACTIONS)[number];

/** Limits of the permit's gas analysis and of its stop-work rule. */
export interface PermitLimits {
  /** Combustible gas, %LEL (metric `lel`): at or below. */
  readonly maxLel?: number | undefined;
  /** Toxic gas, ppm (metric `ppm`): at or below. */
  readonly maxToxicPpm?: number | undefined;
  /** Oxygen, %VOL (metric `o2`): within [oxygenMin, oxygenMax]. */
  readonly oxygenMin?: number | undefined;
  readonly oxygenMax?: number | undefined;
}

/** GB 30871 via secondary (S): confined-space oxygen 19.5–21 %VOL, at most 23.5 where enriched. */
export const CONFINED_SPACE_OXYGEN_MIN = 19.5;
export const CONFINED_SPACE_OXYGEN_MAX = 21;
export const CONFINED_SPACE_OXYGEN_ENRICHED_MAX = 23.5;
/** GB/T 50493-2019 §5.5.2-1 (V): the first-level combustible alarm is at most 25 %LEL. */
export const PERMIT_MAX_LEL_CEILING = 25;
/** GB 30871 via secondary (S): the gas analysis is done within 30 min before entry. */
export const PERMIT_GAS_CHECK_MAX_AGE_MS = 30 * 60_000;

/** The metrics a permit limits: combustible %LEL, toxic ppm, oxygen %VOL. */
export const PERMIT_METRICS = ['lel', 'ppm', 'o2'] as const;
export type PermitMetric = (typeof PERMIT_METRICS)[number];

export function isPermitMetric(metric: string): metric is PermitMetric {
  return metric === 'lel' || metric === 'ppm' || metric === 'o2';
}

/**
 * Whether `value` of `metric` is within the permit's limits: `undefined` when the permit sets no
 * limit for that metric (the area's own gas alarms still apply).
 */
export function withinPermitLimits(
  limits: PermitLimits,
  metric: PermitMetric,
  value: number,
): boolean | undefined {
  if (!Number.isFinite(value)) return false;
  switch (metric) {
    case 'lel':
      return limits.maxLel === undefined ? undefined : value <= limits.maxLel;
    case 'ppm':
      return limits.maxToxicPpm === undefined ? undefined : value <= limits.maxToxicPpm;
    case 'o2':
      if (limits.oxygenMin === undefined && limits.oxygenMax === undefined) return undefined;
      return (
        (limits.oxygenMin === undefined || value >= limits.oxygenMin) &&
        (limits.oxygenMax === undefined || value <= limits.oxygenMax)
      );
  }
}

/** `≤ 10 %LEL`, `19.5–21 %VOL`: the limit of one metric, for messages. */
export function describePermitLimit(limits: PermitLimits, metric: PermitMetric): string {
  switch (metric) {
    case 'lel':
      return `≤ ${limits.maxLel} %LEL`;
    case 'ppm':
      return `≤ ${limits.maxToxicPpm} ppm`;
    case 'o2':
      return `${limits.oxygenMin ?? '–'}–${limits.oxygenMax ?? '–'} %VOL`;
  }
}

/** One detector's latest reading as the gas analysis saw it. */
export interface PermitGasReading {
  readonly deviceId: string;
  readonly metric: PermitMetric;
  readonly value: number;
  /** When it was received (server time, epoch ms). */
  readonly at: number;
  /** Within the permit's limits; absent when the permit sets none for the metric. */
  readonly within?: boolean | undefined;
  /** Older than PERMIT_GAS_CHECK_MAX_AGE_MS at the check: it does not count. */
  readonly stale?: boolean | undefined;
}

/** The gas analysis a start or resume was given (动火分析 / 受限空间气体检测). */
export interface PermitGasCheck {
  readonly at: number;
  readonly passed: boolean;
  readonly readings: readonly PermitGasReading[];
  /** Why it did not pass, one line per problem. */
  readonly problems: readonly string[];
}

export interface PermitAction {
  readonly action: PermitActionName;
  readonly at: number;
  /** The user who did it (`vigil` for a stop-work suspension). */
  readonly by: string;
  readonly role: string;
  readonly state: PermitState;
  readonly note?: string | undefined;
  readonly gasCheck?: PermitGasCheck | undefined;
  /** The stop-work alarm's key, on a suspension by Vigil. */
  readonly alarmKey?: string | undefined;
}

export interface Permit {
  readonly id: string;
  /** Permit number, per Vigil instance. */
  readonly no: number;
  readonly kind: PermitKind;
  readonly title: string;
  readonly siteId: string;
  readonly enterprise: string;
  readonly areaId: string;
  /** The work window (epoch ms): the workers are exempt from the geofence only inside it. */
  readonly from: number;
  readonly to: number;
  /** Personnel tag ids of the named workers (作业人员). */
  readonly workers: readonly string[];
  /** The guardian on site (监护人): a name or user id. */
  readonly guardian: string;
  readonly limits: PermitLimits;
  readonly state: PermitState;
  readonly requestedBy: string;
  readonly requestedAt: number;
  readonly updatedAt: number;
  readonly approvedBy?: string | undefined;
  readonly startedAt?: number | undefined;
  readonly closedAt?: number | undefined;
  /** The last gas analysis given (passed or not). */
  readonly lastGasCheck?: PermitGasCheck | undefined;
  readonly history: readonly PermitAction[];
}

/** What the rule engine needs of a permit: active and suspended ones, in their window. */
export interface PermitRuleView {
  readonly id: string;
  readonly no: number;
  readonly kind: PermitKind;
  readonly siteId: string;
  readonly areaId: string;
  readonly from: number;
  readonly to: number;
  readonly workers: readonly string[];
  readonly limits: PermitLimits;
  readonly state: 'active' | 'suspended';
}

/** The rule id of the stop-work alarm (P1), one per permit. */
export const STOP_WORK_RULE_ID = 'stop-work';

/** `${siteId}/permit-${id}/stop-work`: the stop-work alarm's key (one per permit). */
export function stopWorkKey(permit: Pick<PermitRuleView, 'siteId' | 'id'>): string {
  return `${permit.siteId}/permit-${permit.id}/${STOP_WORK_RULE_ID}`;
}

/**
 * Continuous gas monitoring during the work (GB 30871 via secondary, domain-standards §5
 * "Confined-space gas": "continuous monitoring during work", S). The standard gives no figure for
 * how long a gap is still "continuous"; this default is a proposal (P): an active permit whose area
 * has had no reading of a limited metric for longer than this raises the stop-work alarm
 * ("no gas monitoring") and is suspended. 60 s is below the gas detectors' offline ceiling
 * (GAS_OFFLINE_MAX_TIMEOUT_MS, 100 s), so the work stops before the device's own offline alarm.
 * Configurable (VIGIL_PERMIT_GAS_SILENCE_MS); set it above the detectors' reporting interval.
 */
export const PERMIT_GAS_SILENCE_MS = 60_000;

/** The rule id of the overstay alarm (P2): named workers still in the area after the window. */
export const PERMIT_OVERSTAY_RULE_ID = 'permit-overstay';

/** `${siteId}/permit-${id}/permit-overstay`: the overstay alarm's key (one per permit). */
export function permitOverstayKey(permit: Pick<PermitRuleView, 'siteId' | 'id'>): string {
  return `${permit.siteId}/permit-${permit.id}/${PERMIT_OVERSTAY_RULE_ID}`;
}

/**
 * What the API adds to a stored permit (never journaled): derived at the time of the answer.
 */
export interface PermitStatus {
  /** Active or suspended after its window ended: overdue until closed (超时未关闭). */
  readonly overdue?: boolean | undefined;
  /**
   * An active permit whose stop-work rule no rule engine evaluates now (engine restarting,
   * split deployment, the permit's site in no scope, the rule stream failing): nobody would stop
   * the work. Also on /readyz (`permits`, degraded).
   */
  readonly unevaluated?: PermitUnevaluated | undefined;
}

export interface PermitUnevaluated {
  /** Since when (epoch ms) no evaluation has been seen. */
  readonly since: number;
  /** The last evaluation seen (tick time, epoch ms), if any. */
  readonly lastEvaluatedAt?: number | undefined;
  readonly reason: string;
}

/** A permit as the API answers it. */
export type PermitView = Permit & PermitStatus;

/** The permit id inside a stop-work key, or undefined for any other key. */
export function permitIdOfStopWorkKey(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length !== 3 || parts[2] !== STOP_WORK_RULE_ID) return undefined;
  const subject = parts[1] ?? '';
  return subject.startsWith('permit-') ? subject.slice('permit-'.length) : undefined;
}
