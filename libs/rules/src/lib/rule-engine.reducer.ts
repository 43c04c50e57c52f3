import type { RuleSignal } from '@vigil/contracts';

import { DeadlineQueue } from './deadline-queue';
import {
  type OfflineWatch,
  createOfflineWatch,
  startWatch,
  stopWatch,
  watchDue,
  watchRecord,
} from './offline.reducer';
import type { RuleConfig, ThresholdRuleConfig } from './rule-config';
import {
  type DeviceRules,
  type EngineInput,
  NO_SIGNALS,
  type RuleContext,
  type RuleStep,
  recordBody,
  signalKey,
} from './rule-signal';
import { THRESHOLD_INACTIVE, type ThresholdState, reduceThreshold } from './threshold.reducer';

/** Counters for `/metrics`; the engine only increments them. */
export interface RuleEngineStats {
  records: number;
  ticks: number;
  /** Readings older than their device's newest processed reading: ignored by value rules. */
  outOfOrderReadings: number;
  /** Records from devices `lookupDevice` does not know: ignored (ingest dead-letters these). */
  unknownDeviceRecords: number;
  /** Devices whose rules changed (`lookupDevice` returned a different object). */
  reloads: number;
  signals: number;
}

export function createRuleEngineStats(): RuleEngineStats {
  return {
    records: 0,
    ticks: 0,
    outOfOrderReadings: 0,
    unknownDeviceRecords: 0,
    reloads: 0,
    signals: 0,
  };
}

export interface RuleEngineOptions extends RuleContext {
  /**
   * The registry, called once per record (and when an offline deadline comes due). Must return
   * the same object while a device's rules are unchanged: a different object is a reload.
   * `undefined` means the device is not (or no longer) registered.
   */
  readonly lookupDevice: (siteId: string, deviceId: string) => DeviceRules | undefined;
  /** Server time the engine started: silence of devices not heard from yet counts from here. */
  readonly startedAt: number;
  /** Registered devices, watched by the offline rule from the start even if they never report. */
  readonly expectedDevices?: Iterable<DeviceRules>;
  /** Counters to increment; one is created per subscription when absent. */
  readonly stats?: RuleEngineStats;
}

/** One rule's state for one device, tagged with the rule kind it belongs to. */
export type RuleState = ThresholdState | OfflineWatch;

/** Everything the engine keeps for one device. */
export interface DeviceRuleState {
  /** The object `lookupDevice` returned last: compared by identity to notice reloads. */
  rules: DeviceRules;
  /** Largest `reading.ts` processed (event-time watermark). */
  lastTs: number;
  outOfOrder: number;
  /** Parallel to `rules.rules`; undefined for a disabled rule. */
  states: Array<RuleState | undefined>;
}

export interface RuleEngineState {
  /** siteId → deviceId → state: one map for all devices, no per-reading key string. */
  readonly devices: Map<string, Map<string, DeviceRuleState>>;
  /** Offline deadlines of every device, so a tick looks only at the due ones. */
  readonly offlineQueue: DeadlineQueue<OfflineWatch>;
  readonly stats: RuleEngineStats;
}

export function createRuleEngineState(options: RuleEngineOptions): RuleEngineState {
  const state: RuleEngineState = {
    devices: new Map(),
    offlineQueue: new DeadlineQueue(),
    stats: options.stats ?? createRuleEngineStats(),
  };
  for (const device of options.expectedDevices ?? []) {
    addDevice(state, createDeviceState(device, options.startedAt, false, state.offlineQueue));
  }
  return state;
}

/**
 * One step of the rule engine. Records run the device's rules in their configured order (offline
 * first by default, then value rules); ticks run only the offline deadlines that are due. Devices
 * are independent. State is updated in place (see README "State size").
 */
export function reduceRuleEngine(
  state: RuleEngineState,
  input: EngineInput,
  options: RuleEngineOptions,
): RuleStep<RuleEngineState> {
  const signals =
    input.kind === 'tick' ? onTick(state, input.now, options) : onRecord(state, input, options);
  state.stats.signals += signals.length;
  return { state, signals };
}

function onRecord(
  state: RuleEngineState,
  input: Exclude<EngineInput, { kind: 'tick' }>,
  options: RuleEngineOptions,
): readonly RuleSignal[] {
  const { stats, offlineQueue } = state;
  stats.records += 1;
  const body = recordBody(input);
  const next = options.lookupDevice(body.siteId, body.deviceId);
  let device = state.devices.get(body.siteId)?.get(body.deviceId);
  let signals: RuleSignal[] | undefined;

  if (!device) {
    if (!next) {
      stats.unknownDeviceRecords += 1;
      return NO_SIGNALS;
    }
    device = createDeviceState(next, body.receivedAt, true, offlineQueue);
    addDevice(state, device);
  } else if (device.rules !== next) {
    signals = reloadRules(state, device, next, input, options);
    if (!next) return signals;
  }

  let inOrder = true;
  if (input.kind === 'reading') {
    if (input.reading.ts < device.lastTs) {
      inOrder = false;
      device.outOfOrder += 1;
      stats.outOfOrderReadings += 1;
    } else {
      device.lastTs = input.reading.ts;
    }
  }

  const rules = device.rules.rules;
  for (let index = 0; index < rules.length; index += 1) {
    const rule = rules[index];
    const ruleState = device.states[index];
    if (!rule || !ruleState) continue;
    switch (rule.kind) {
      case 'threshold': {
        if (input.kind !== 'reading' || !inOrder || ruleState.kind !== 'threshold') break;
        const step = reduceThreshold(ruleState, input.reading, rule, options);
        device.states[index] = step.state;
        if (step.signals.length > 0) (signals ??= []).push(...step.signals);
        break;
      }
      case 'offline': {
        if (ruleState.kind !== 'offline') break;
        const signal = watchRecord(ruleState, input, offlineQueue, options);
        if (signal) (signals ??= []).push(signal);
        break;
      }
    }
  }
  return signals ?? NO_SIGNALS;
}

function onTick(
  state: RuleEngineState,
  now: number,
  options: RuleEngineOptions,
): readonly RuleSignal[] {
  const queue = state.offlineQueue;
  state.stats.ticks += 1;
  let signals: RuleSignal[] | undefined;
  for (let watch = queue.peek(); watch !== undefined && watch.dueAt < now; watch = queue.peek()) {
    queue.pop();
    // A silent device sends nothing that would reveal a reload: look its rules up now.
    const { siteId, deviceId } = watch.device;
    const device = state.devices.get(siteId)?.get(deviceId);
    if (device) {
      const next = options.lookupDevice(siteId, deviceId);
      if (next !== device.rules) {
        const reloaded = reloadRules(state, device, next, { kind: 'tick', now }, options);
        if (reloaded.length > 0) (signals ??= []).push(...reloaded);
      }
    }
    // Dropped by the reload, or queued again at a new deadline by it.
    if (!device?.states.includes(watch) || watch.queueIndex >= 0) continue;
    const signal = watchDue(watch, now, queue, options);
    if (signal) (signals ??= []).push(signal);
  }
  return signals ?? NO_SIGNALS;
}

/**
 * Applies a registry reload to one device: `next` is what `lookupDevice` returns now (undefined
 * when the device was removed). State is kept for every rule whose id (and kind) still exists and
 * is enabled, even if its parameters changed: the new set-point applies from the next reading.
 * A rule that was removed or disabled while active emits a cleared signal (`at` = the event time
 * of the input that revealed the reload). New rules start inactive; a new offline rule counts
 * silence from the server time of that input. A removed device leaves the engine.
 */
export function reloadRules(
  state: RuleEngineState,
  device: DeviceRuleState,
  next: DeviceRules | undefined,
  input: EngineInput,
  context: RuleContext,
): RuleSignal[] {
  state.stats.reloads += 1;
  const signals: RuleSignal[] = [];
  const at = input.kind === 'tick' ? input.now : recordBody(input).ts;
  const now = input.kind === 'tick' ? input.now : recordBody(input).receivedAt;
  const previous = device.rules.rules;
  const kept = new Set<number>();

  const states = (next?.rules ?? []).map((rule): RuleState | undefined => {
    if (!rule.enabled) return undefined;
    const index = previous.findIndex(old => old.ruleId === rule.ruleId);
    const old = index >= 0 ? device.states[index] : undefined;
    if (old?.kind === rule.kind) {
      kept.add(index);
      if (old.kind === 'offline' && rule.kind === 'offline' && next) {
        old.device = next;
        old.config = rule;
        if (old.queueIndex >= 0) state.offlineQueue.schedule(old, old.lastSeenAt + rule.timeoutMs);
      }
      return old;
    }
    return initialState(next ?? device.rules, rule, now, true, state.offlineQueue);
  });

  previous.forEach((rule, index) => {
    const old = device.states[index];
    if (kept.has(index) || !old) return;
    if (old.kind === 'offline') {
      const signal = stopWatch(old, state.offlineQueue, at, context);
      if (signal) signals.push(signal);
    } else if (old.active && rule.kind === 'threshold') {
      signals.push(removedSignal(device.rules, rule, at, context));
    }
  });

  device.states = states;
  if (next) {
    device.rules = next;
  } else {
    const site = state.devices.get(device.rules.siteId);
    site?.delete(device.rules.deviceId);
    if (site?.size === 0) state.devices.delete(device.rules.siteId);
  }
  return signals;
}

function createDeviceState(
  rules: DeviceRules,
  lastSeenAt: number,
  seen: boolean,
  queue: DeadlineQueue<OfflineWatch>,
): DeviceRuleState {
  return {
    rules,
    lastTs: -Infinity,
    outOfOrder: 0,
    states: rules.rules.map(rule =>
      rule.enabled ? initialState(rules, rule, lastSeenAt, seen, queue) : undefined,
    ),
  };
}

function initialState(
  device: DeviceRules,
  rule: RuleConfig,
  lastSeenAt: number,
  seen: boolean,
  queue: DeadlineQueue<OfflineWatch>,
): RuleState {
  switch (rule.kind) {
    case 'threshold':
      return THRESHOLD_INACTIVE;
    case 'offline': {
      const watch = createOfflineWatch(device, rule, lastSeenAt, seen);
      startWatch(watch, queue);
      return watch;
    }
  }
}

function addDevice(state: RuleEngineState, device: DeviceRuleState): void {
  const { siteId, deviceId } = device.rules;
  let site = state.devices.get(siteId);
  if (!site) {
    site = new Map();
    state.devices.set(siteId, site);
  }
  site.set(deviceId, device);
}

function removedSignal(
  device: DeviceRules,
  rule: ThresholdRuleConfig,
  at: number,
  context: RuleContext,
): RuleSignal {
  return {
    key: signalKey(device.siteId, device.deviceId, rule.ruleId),
    ruleId: rule.ruleId,
    siteId: device.siteId,
    deviceId: device.deviceId,
    deviceClass: device.deviceClass,
    areaId: device.areaId,
    category: rule.category,
    priority: rule.priority,
    level: rule.level,
    active: false,
    latched: rule.latched,
    metric: rule.metric,
    value: undefined,
    threshold: rule.setpoint,
    message: `Rule ${rule.ruleId} removed or disabled by a configuration reload; no longer evaluated`,
    at,
    detectedAt: context.clock(),
  };
}
