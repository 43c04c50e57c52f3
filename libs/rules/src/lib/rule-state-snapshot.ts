import type { ConditionState } from './condition';
import { RANGE_ACTIVE, RANGE_INACTIVE } from './range.reducer';
import { RATE_EMPTY, type RateState } from './rate.reducer';
import type { RuleConfig } from './rule-config';
import {
  type DeviceRuleState,
  GATEWAY_OFFLINE_RULE_ID,
  type RuleEngineState,
  type RuleState,
} from './rule-engine.reducer';
import { signalKey } from './rule-signal';
import { SKEW_INACTIVE } from './skew.reducer';
import { STUCK_EMPTY, type StuckState } from './stuck.reducer';
import { THRESHOLD_ACTIVE, THRESHOLD_INACTIVE } from './threshold.reducer';
import { TREND_EMPTY, type TrendState } from './trend.reducer';
import { bucketMsOf } from './window-buckets';

/**
 * The rule engine's per-device state as plain JSON, so that a new owner of a partition (or a
 * restarted process) goes on where the old one stopped (docs/reliability.md §Rules partitioning
 * and failover, "Rule state"): a running off-delay completes when it would have, a rate or trend
 * window keeps its samples, a stuck stretch its start. Every timer in it is on the device's event
 * time (or, for skew and offline, its records' receive time), so nothing in it depends on when it
 * is restored.
 *
 * Versioned: a snapshot of another version is not read (counted `unrestoredRuleStates`). Compact
 * (tuples, no keys): a gas detector with the default rules costs about 600 bytes, mostly its rate
 * and trend windows. Only non-trivial states are written: a rule in its steady inactive state
 * with no window is the state a fresh engine starts with anyway.
 */
export const RULE_STATE_VERSION = 1;

/** `[ruleId, kind, active, ...fields]`: fields by kind, see `saveRule`. */
export type SavedRule = readonly [string, RuleState['kind'], 0 | 1, ...(number | null)[]];

/** `[siteId, deviceId, lastTs, lastReceivedAt, clockOffsetMs, rules]`. */
export type SavedDevice = readonly [
  string,
  string,
  number | null,
  number | null,
  number | null,
  readonly SavedRule[],
];

export interface RuleStateSnapshot {
  readonly v: typeof RULE_STATE_VERSION;
  readonly devices: readonly SavedDevice[];
}

/** JSON has no infinities nor NaN: they travel as null and come back as the field's default. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function back(value: number | null | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function bucketsOut(buckets: readonly number[]): (number | null)[] {
  return buckets.map(finite);
}

function bucketsIn(saved: readonly (number | null)[], stride: number): number[] {
  // Slot indexes (every `stride`-th field) default to -Infinity (empty slot), sums to 0.
  return saved.map((value, index) => back(value, index % stride === 0 ? -Infinity : 0));
}

/** One rule's state as a tuple; undefined for a state a fresh engine starts with anyway. */
export function saveRule(ruleId: string, state: RuleState): SavedRule | undefined {
  const active = state.active ? 1 : 0;
  switch (state.kind) {
    case 'threshold':
    case 'range':
    case 'skew':
      if (!state.active && state.since === undefined) return undefined;
      return [ruleId, state.kind, active, state.since ?? null];
    case 'stuck':
      if (state === STUCK_EMPTY) return undefined;
      return [ruleId, 'stuck', active, finite(state.since), finite(state.min), finite(state.max)];
    case 'rate':
      if (state === RATE_EMPTY) return undefined;
      return [ruleId, 'rate', active, state.bucketMs, ...bucketsOut(state.buckets)];
    case 'trend':
      if (state === TREND_EMPTY) return undefined;
      return [
        ruleId,
        'trend',
        active,
        state.bucketMs,
        finite(state.lastTs),
        ...bucketsOut(state.buckets),
      ];
    case 'offline':
      return [
        ruleId,
        'offline',
        active,
        state.seen ? 1 : 0,
        finite(state.lastSeenAt),
        state.rootCause ? 1 : 0,
      ];
    case 'event':
      // Restored from the open alarms (`eventAlarmsAtStart`): their active addresses are the state.
      return undefined;
  }
}

/** Every device's rule state (quarantined devices are not evaluated: they start afresh). */
export function snapshotRuleState(state: RuleEngineState): RuleStateSnapshot {
  const devices: SavedDevice[] = [];
  for (const device of deviceStatesOf(state)) {
    const saved = saveDevice(device);
    if (saved) devices.push(saved);
  }
  return { v: RULE_STATE_VERSION, devices };
}

/** The engine's devices now, in a list of their own (a save in steps walks it across turns). */
export function deviceStatesOf(state: RuleEngineState): DeviceRuleState[] {
  const devices: DeviceRuleState[] = [];
  for (const site of state.devices.values())
    for (const device of site.values()) devices.push(device);
  return devices;
}

/** One device's rule state; undefined when a fresh engine starts with it anyway. */
export function saveDevice(device: DeviceRuleState): SavedDevice | undefined {
  const rules: SavedRule[] = [];
  device.rules.rules.forEach((rule, index) => {
    const ruleState = device.states[index];
    const saved = ruleState && saveRule(rule.ruleId, ruleState);
    if (saved) rules.push(saved);
  });
  if (rules.length === 0 && !Number.isFinite(device.lastTs)) return undefined;
  return [
    device.rules.siteId,
    device.rules.deviceId,
    finite(device.lastTs),
    finite(device.lastReceivedAt),
    finite(device.clockOffsetMs),
    rules,
  ];
}

/**
 * A snapshot read back, looked up by device when the engine creates a device's state. What it
 * cannot restore it counts (`unrestored`) and says why (`problems`, a few examples).
 */
export class RestoredRuleState {
  private readonly devices = new Map<string, SavedDevice>();
  /** Rule states restored. */
  restored = 0;
  /** Saved rule states not restored (another version, unknown rule, changed window, unreadable). */
  unrestored = 0;
  readonly problems: string[] = [];

  constructor(snapshot: unknown) {
    const candidate = snapshot as Partial<RuleStateSnapshot> | undefined;
    if (!candidate || candidate.v !== RULE_STATE_VERSION || !Array.isArray(candidate.devices)) {
      this.problem(
        `rule state snapshot of version ${String(candidate?.v)} not readable (this is ${RULE_STATE_VERSION})`,
        1,
      );
      return;
    }
    for (const device of candidate.devices) {
      if (!Array.isArray(device) || typeof device[0] !== 'string' || typeof device[1] !== 'string')
        continue;
      this.devices.set(`${device[0]}/${device[1]}`, device as unknown as SavedDevice);
    }
  }

  get size(): number {
    return this.devices.size;
  }

  /**
   * Restores into a freshly created device state (`states` built for `device.rules`) what was
   * saved for it, and forgets it (a device created again later starts afresh). Returns whether
   * anything was saved for the device.
   */
  restoreInto(device: DeviceRuleState): boolean {
    const key = `${device.rules.siteId}/${device.rules.deviceId}`;
    const saved = this.devices.get(key);
    if (!saved) return false;
    this.devices.delete(key);
    device.lastTs = back(saved[2], -Infinity);
    device.lastReceivedAt = back(saved[3], -Infinity);
    device.clockOffsetMs = back(saved[4], Number.NaN);
    const rules = Array.isArray(saved[5]) ? saved[5] : [];
    for (const rule of rules) {
      const index = device.rules.rules.findIndex(each => each.ruleId === rule[0]);
      const config = device.rules.rules[index];
      const current = device.states[index];
      const restored =
        config && current && config.kind === rule[1]
          ? restoreRule(rule, config, current)
          : undefined;
      if (restored) {
        device.states[index] = restored;
        this.restored += 1;
      } else {
        this.problem(
          `${key}/${String(rule[0])}: saved ${String(rule[1])} state does not fit the rule now`,
        );
      }
    }
    return true;
  }

  private problem(message: string, count = 1): void {
    this.unrestored += count;
    if (this.problems.length < 5) this.problems.push(message);
  }
}

/** The saved state for a rule of the same id and kind; undefined when it does not fit it. */
function restoreRule(
  saved: SavedRule,
  rule: RuleConfig,
  current: RuleState,
): RuleState | undefined {
  const active = saved[2] === 1;
  const fields = saved.slice(3) as (number | null)[];
  switch (current.kind) {
    case 'threshold':
    case 'range':
    case 'skew': {
      const since = fields[0];
      if (since !== null && since !== undefined && !Number.isFinite(since)) return undefined;
      return condition(current.kind, active, since ?? undefined);
    }
    case 'stuck': {
      const state: StuckState = {
        kind: 'stuck',
        active,
        since: back(fields[0], Number.NaN),
        min: back(fields[1], Number.NaN),
        max: back(fields[2], Number.NaN),
      };
      return Number.isFinite(state.since) ? state : undefined;
    }
    case 'rate': {
      if (rule.kind !== 'rate' || fields[0] !== bucketMsOf(rule.windowMs)) return undefined;
      const buckets = bucketsIn(fields.slice(1), 3);
      if (buckets.length !== RATE_EMPTY_SIZE) return undefined;
      const state: RateState = { kind: 'rate', active, bucketMs: fields[0], buckets };
      return state;
    }
    case 'trend': {
      if (rule.kind !== 'trend' || fields[0] !== bucketMsOf(rule.windowMs)) return undefined;
      const buckets = bucketsIn(fields.slice(2), 8);
      if (buckets.length !== TREND_EMPTY_SIZE) return undefined;
      const state: TrendState = {
        kind: 'trend',
        active,
        bucketMs: fields[0],
        lastTs: back(fields[1], -Infinity),
        buckets,
      };
      return state;
    }
    case 'offline': {
      // the old owner had not evaluated yet are still to come, a tick must not outrun them. // is still counted from the start of this engine at the earliest (`countFrom`): the records // The watch stays the one queued for the device; only what it knows is restored. Silence
      const from = current.lastSeenAt;
      current.active = active;
      current.seen = fields[0] === 1;
      current.lastSeenAt = Math.min(back(fields[1], from), from);
      current.countFrom = Math.max(current.countFrom, from);
      current.rootCause = fields[2] === 1;
      return current;
    }
    case 'event':
      return undefined;
  }
}

const RATE_EMPTY_SIZE = 7 * 3;
const TREND_EMPTY_SIZE = 7 * 8;

function condition(
  kind: 'threshold' | 'range' | 'skew',
  active: boolean,
  since: number | undefined,
): ConditionState<typeof kind> {
  if (since === undefined) {
    if (kind === 'threshold') return active ? THRESHOLD_ACTIVE : THRESHOLD_INACTIVE;
    if (kind === 'range') return active ? RANGE_ACTIVE : RANGE_INACTIVE;
    if (!active) return SKEW_INACTIVE;
  }
  return { kind, active, since };
}

/**
 * After a restore (and the records replayed since the snapshot), the durable alarms win: a rule
 * whose `active` differs from its open alarm's condition (`activeAtStart`) is set to it, its
 * pending delay dropped. Returns how many were changed. Event rules are seeded from the alarms
 * already; offline watches follow their alarm the same way.
 */
export function reconcileRuleState(
  state: RuleEngineState,
  activeAtStart: (key: string) => boolean,
  changedRule?: (ruleId: string, active: boolean) => void,
): number {
  let changed = 0;
  for (const site of state.devices.values())
    for (const device of site.values())
      device.rules.rules.forEach((rule, index) => {
        const ruleState = device.states[index];
        if (!ruleState || ruleState.kind === 'event') return;
        const { siteId, deviceId } = device.rules;
        // A gateway's offline watch raised the root-cause `gateway-offline` alarm instead.
        const ruleId =
          ruleState.kind === 'offline' && ruleState.rootCause
            ? GATEWAY_OFFLINE_RULE_ID
            : rule.ruleId;
        const active = activeAtStart(signalKey(siteId, deviceId, ruleId));
        if (ruleState.active === active) return;
        changedRule?.(rule.ruleId, active);
        changed += 1;
        switch (ruleState.kind) {
          case 'threshold':
          case 'range':
          case 'skew':
            device.states[index] = condition(ruleState.kind, active, undefined);
            break;
          case 'offline':
            if (active) {
              ruleState.active = true;
              if (ruleState.queueIndex >= 0) state.offlineQueue.remove(ruleState);
            } else {
              ruleState.active = false;
              if (ruleState.queueIndex < 0)
                state.offlineQueue.schedule(
                  ruleState,
                  Math.max(ruleState.lastSeenAt, ruleState.countFrom) + ruleState.config.timeoutMs,
                );
            }
            break;
          case 'stuck':
            // No stretch to hold an active flag: the first readings decide, as after a restart.
            if (ruleState === STUCK_EMPTY) changed -= 1;
            else ruleState.active = active;
            break;
          case 'rate':
            if (ruleState === RATE_EMPTY) device.states[index] = { ...RATE_EMPTY, active };
            else ruleState.active = active;
            break;
          case 'trend':
            if (ruleState === TREND_EMPTY) device.states[index] = { ...TREND_EMPTY, active };
            else ruleState.active = active;
            break;
        }
      });
  return changed;
}
