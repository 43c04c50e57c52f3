import type { AlarmPriority } from '@vigil/contracts';

/**
 * Timings of the closed loop, per priority. Defaults are engineering proposals from
 * domain-standards §9.6 and §9.8 (tagged P there); sites override them.
 */
export interface AlarmPolicy {
  /** Not acknowledged within this time → escalate one level up the organisation tree. */
  readonly acknowledgeWithinMs: Readonly<Record<AlarmPriority, number | undefined>>;
  /** Not disposed (处置) within this time from opening → overdue, and escalate. */
  readonly disposeWithinMs: Readonly<Record<AlarmPriority, number | undefined>>;
  /** Priorities whose process alarms must be disposed before they close (闭环管理). */
  readonly dispositionRequired: ReadonlySet<AlarmPriority>;
  /** Longest shelving an operator may set (§9.8: 8 h), and priorities that cannot be shelved. */
  readonly maxShelveMs: number;
  readonly unshelvable: ReadonlySet<AlarmPriority>;
  /** Related alarms raised within this window of the first-out alarm join its group. */
  readonly groupWindowMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_ALARM_POLICY: AlarmPolicy = {
  // P1 about a minute: an unconfirmed fire not acknowledged in 60 s re-alarms and goes to the
  // supervisor (domain-standards §9.6, re-alarm row).
  acknowledgeWithinMs: { 1: 60_000, 2: 5 * MINUTE, 3: 15 * MINUTE, 4: undefined },
  disposeWithinMs: { 1: 30 * MINUTE, 2: 2 * HOUR, 3: 8 * HOUR, 4: 24 * HOUR },
  dispositionRequired: new Set<AlarmPriority>([1, 2]),
  // §9.8 shelving row: P1 cannot be shelved (P2 only by supervisors, see access rules), max 8 h.
  maxShelveMs: 8 * HOUR,
  unshelvable: new Set<AlarmPriority>([1]),
  // EEMUA 191 flood window: more than 10 alarms in 10 minutes.
  groupWindowMs: 10 * MINUTE,
};
