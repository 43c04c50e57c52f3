import type { RuleConfig } from './rule-config';
import type { DeviceRuleState, RuleEngineState, RuleState } from './rule-engine.reducer';
import { ruleKindOf } from './rule-kinds';
import { signalKey } from './rule-signal';
import { type SavedFields, restoredNumber, savedNumber } from './saved-fields';

/**
 * The rule engine's per-device state as plain JSON, so that a new owner of a partition (or a
 * restarted process) goes on where the old one stopped (docs/reliability.md §Rules partitioning
 * and failover, "Rule state"): a running off-delay completes when it would have, a rate or trend
 * window keeps its samples, a stuck stretch its start. Every timer in it is on the device's event
 * time (or, for skew and offline, its records' receive time), so nothing in it depends on when it
 * is restored.
 *
 * Generic: what one rule's state saves, and how it is restored and set to its open alarm, is its
 * kind's (`save`, `restore`, `alarmRuleId`, `reconcile` in `rule-kinds.ts`, written next to each
 * reducer), so adding a rule kind does not touch this file.
 *
 * Versioned: a snapshot of another version is not read (counted `unrestoredRuleStates`). Compact
 * (tuples, no keys): a gas detector with the default rules costs about 600 bytes, mostly its rate
 * and trend windows. Only non-trivial states are written: a rule in its steady inactive state
 * with no window is the state a fresh engine starts with anyway.
 */
export const RULE_STATE_VERSION = 1;

/** `[ruleId, kind, active, ...fields]`: the fields are the kind's (`RuleKindDescriptor.save`). */
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

/** One rule's state as a tuple; undefined for a state a fresh engine starts with anyway. */
export function saveRule(rule: RuleConfig, state: RuleState): SavedRule | undefined {
  const fields = ruleKindOf(rule).save(state);
  if (fields === undefined) return undefined;
  return [rule.ruleId, state.kind, state.active ? 1 : 0, ...fields];
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
    const saved = ruleState && saveRule(rule, ruleState);
    if (saved) rules.push(saved);
  });
  if (rules.length === 0 && !Number.isFinite(device.lastTs)) return undefined;
  return [
    device.rules.siteId,
    device.rules.deviceId,
    savedNumber(device.lastTs),
    savedNumber(device.lastReceivedAt),
    savedNumber(device.clockOffsetMs),
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
    device.lastTs = restoredNumber(saved[2], -Infinity);
    device.lastReceivedAt = restoredNumber(saved[3], -Infinity);
    device.clockOffsetMs = restoredNumber(saved[4], Number.NaN);
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
  return ruleKindOf(rule).restore(saved.slice(3) as SavedFields, saved[2] === 1, rule, current);
}

/**
 * After a restore (and the records replayed since the snapshot), the durable alarms win: a rule
 * whose `active` differs from its open alarm's condition (`activeAtStart`) is set to it, its
 * pending delay dropped (`RuleKindDescriptor.reconcile`). Returns how many were changed. Event
 * rules are seeded from the alarms already; a gateway's offline watch follows its root-cause
 * alarm (`alarmRuleId`).
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
        if (!ruleState) return;
        const kind = ruleKindOf(rule);
        const alarmRuleId = kind.alarmRuleId(ruleState, rule);
        if (alarmRuleId === undefined) return;
        const { siteId, deviceId } = device.rules;
        const active = activeAtStart(signalKey(siteId, deviceId, alarmRuleId));
        if (ruleState.active === active) return;
        const reconciled = kind.reconcile(ruleState, active, state.services);
        // A state with nothing to hold the flag (a stuck rule before its first reading): the
        // first readings decide, as after a restart.
        if (reconciled.active !== active) return;
        device.states[index] = reconciled;
        changedRule?.(rule.ruleId, active);
        changed += 1;
      });
  return changed;
}
