import {
  canarySignal,
  type AlarmPriority,
  type DeviceRecord,
  FUTURE_TOLERANCE_MS,
  type Reading,
  isRetainedRecord,
  type RuleSignal,
} from '@vigil/contracts';

import { DeadlineQueue } from './deadline-queue';
import { type MonitoringLostSource, monitoringLostSignal } from './monitoring-lost';
import {
  type CoverPlan,
  coverPlanOf,
  isEarlyWarning,
  withdrawnWarningSignal,
} from './early-warning';
import { type EventState, type RestorableEventAlarm, restoredEventStates } from './event.reducer';
import {
  GATEWAY_OFFLINE_RULE_ID,
  type OfflineWatch,
  startWatch,
  watchDeadline,
  watchDue,
} from './offline.reducer';
import type { RangeState } from './range.reducer';
import type { RateState } from './rate.reducer';
import type { RuleConfig, ThresholdRuleConfig } from './rule-config';
import {
  type RuleEngineServices,
  type RuleInput,
  type RuleKindDescriptor,
  ORDER_BITS,
  emit,
  ruleKindOf,
  ruleKindsOf,
} from './rule-kinds';
import {
  DEFAULT_CLOCK_REBASE_MS,
  DEFAULT_LATE_ALLOWANCE_MS,
  type DeviceRules,
  type EngineInput,
  type EngineTick,
  NO_SIGNALS,
  type ReadingOrder,
  type RuleContext,
  type RuleStep,
  clockSetBack,
  readingOrder,
  recordBody,
  signalKey,
} from './rule-signal';
import type { RestoredRuleState } from './rule-state-snapshot';
import type { SkewState } from './skew.reducer';
import type { StuckState } from './stuck.reducer';
import type { ThresholdState } from './threshold.reducer';
import type { TrendState } from './trend.reducer';

/** Counters for `/metrics`; the engine only increments them. */
export interface RuleEngineStats {
  records: number;
  ticks: number;
  /** Readings older than their device's newest processed reading (late ones included). */
  outOfOrderReadings: number;
  /** Readings older than their device's newest by more than the late allowance: not evaluated. */
  lateReadings: number;
  /** Devices re-based on a clock that was set back (README "Clock jumps"). */
  clockRebases: number;
  /**
   * Readings stamped more than FUTURE_TOLERANCE_MS after their receive time, evaluated at their
   * receive time instead (ingest already does this; the engine holds the line for any source).
   */
  futureReadings: number;
  /**
   * Readings more than FUTURE_TOLERANCE_MS ahead of their device's own recent clock, evaluated on
   * that clock until the new one has held alone for `clockRebaseMs` (a second source, a glitch).
   */
  aheadOfDeviceClock: number;
  /** Devices that moved to a clock ahead of their old one after it held alone `clockRebaseMs`. */
  clockAdvances: number;
  /** Records from devices `lookupDevice` does not know: ignored (ingest dead-letters these). */
  unknownDeviceRecords: number;
  /** Devices whose rules changed (`lookupDevice` returned a different object). */
  reloads: number;
  /** Offline signals not raised because the device's gateway was offline (root cause). */
  suppressedOffline: number;
  signals: number;
  /** Canary records evaluated (answered with a heartbeat; never a device). */
  canaries: number;
  /**
   * Device events raised despite a problem the alarm message states: an unreadable address, a
   * point not in the registry, more than 256 addresses, a missing or unknown device level.
   */
  eventProblems: number;
  /** Devices whose rules threw: quarantined, with a `monitoring-lost` signal each. */
  isolatedDevices: number;
  /** Records of quarantined devices: not evaluated (the monitoring-lost alarm says so). */
  quarantinedRecords: number;
  /** Rule states restored from a previous owner's snapshot (takeover, restart). */
  restoredRuleStates: number;
  /**
   * Rule states that could not be restored and started afresh: a snapshot missing, too old, of
   * another version, or not fitting the rule now (`RestoredRuleState`). Logged with the reason.
   */
  unrestoredRuleStates: number;
  /** Restored rule states set to their open alarm's condition (the durable alarm wins). */
  reconciledRuleStates: number;
  /** Sites whose site rules, chatter guard and MHS grade started afresh after a takeover. */
  freshSiteRuleScopes: number;
}

export function createRuleEngineStats(): RuleEngineStats {
  return {
    records: 0,
    ticks: 0,
    outOfOrderReadings: 0,
    lateReadings: 0,
    clockRebases: 0,
    futureReadings: 0,
    aheadOfDeviceClock: 0,
    clockAdvances: 0,
    unknownDeviceRecords: 0,
    reloads: 0,
    suppressedOffline: 0,
    signals: 0,
    canaries: 0,
    eventProblems: 0,
    isolatedDevices: 0,
    quarantinedRecords: 0,
    restoredRuleStates: 0,
    unrestoredRuleStates: 0,
    reconciledRuleStates: 0,
    freshSiteRuleScopes: 0,
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
  /**
   * Signal keys whose condition was active when the engine last ran (the alarm lifecycle's open
   * alarms after a restart). Threshold, range and offline rules of those keys start active, so the
   * return to normal is noticed and cleared instead of leaving a stale alarm behind.
   */
  readonly activeAtStart?: (key: string) => boolean;
  /**
   * The open alarms after a restart, read once at start: event rules (fire-panel points, device
   * alarms per channel) start with their active addresses, so a `reset` or `cleared` event still
   * clears them (`restoredEventStates`).
   */
  readonly eventAlarmsAtStart?: () => Iterable<RestorableEventAlarm>;
  /** Registered devices, watched by the offline rule from the start even if they never report. */
  readonly expectedDevices?: Iterable<DeviceRules>;
  /**
   * Rule state saved by the previous owner (`snapshotRuleState`): each device created takes its
   * saved state instead of starting afresh (docs/reliability.md, "Rule state"). The caller
   * reconciles with the open alarms once the records since the snapshot were evaluated again
   * (`reconcileRuleState`).
   */
  readonly restoredState?: RestoredRuleState;
  /** Called with the engine's state when it is created: the owner snapshots it from there. */
  readonly onState?: (state: RuleEngineState) => void;
  /** Counters to increment; one is created per subscription when absent. */
  readonly stats?: RuleEngineStats;
  /**
   * How much older than its device's newest reading a reading may be and still join the rate
   * windows (default 5 s); older readings are counted late and ignored by value rules. README
   * "Late and out-of-order data".
   */
  readonly lateAllowanceMs?: number;
  /**
   * How long (receive time) a device's readings must keep arriving late on one steady clock before
   * its watermark is re-based on that clock (default 10 s; `Infinity` never re-bases). README
   * "Clock jumps".
   */
  readonly clockRebaseMs?: number;
}

/** One rule's state for one device, tagged with the rule kind it belongs to. */
export type RuleState =
  | ThresholdState
  | OfflineWatch
  | RangeState
  | StuckState
  | RateState
  | TrendState
  | SkewState
  | EventState;

/** Everything the engine keeps for one device. */
export interface DeviceRuleState {
  /** The object `lookupDevice` returned last: compared by identity to notice reloads. */
  rules: DeviceRules;
  /** Largest `reading.ts` processed (event-time watermark). */
  lastTs: number;
  /** Newest `receivedAt` of the device's readings: an older one was reordered on the way. */
  lastReceivedAt: number;
  /**
   * `receivedAt` of the first of the current run of live late readings (NaN: no run), and its
   * `ts − receivedAt`: the clock that run keeps to. README "Clock jumps".
   */
  behindSince: number;
  behindOffsetMs: number;
  /**
   * The device's own clock: the largest `ts − receivedAt` of its readings on that clock (network
   * delay only lowers it), NaN before the first reading. Issue 10 finding 6: a device's clock is
   * judged against its own recent history as well as the server's.
   */
  clockOffsetMs: number;
  /** Like `behindSince`/`behindOffsetMs`, for a run of readings ahead of `clockOffsetMs`. */
  aheadSince: number;
  aheadOffsetMs: number;
  outOfOrder: number;
  /** Parallel to `rules.rules`; undefined for a disabled rule. */
  states: Array<RuleState | undefined>;
  /**
   * Which alarms cover which early warnings in `rules.rules` (`coverPlanOf`, shared per rule
   * list); undefined when none does. README "Early warnings and the alarms they announce".
   */
  coverPlan: CoverPlan | undefined;
  /** The descriptors of `rules.rules`, parallel to it (`ruleKindsOf`, shared per rule list). */
  kinds: readonly RuleKindDescriptor<RuleConfig, RuleState>[];
}

/** The devices behind one gateway, for root-cause suppression of their offline signals. */
export interface GatewayEntry {
  readonly children: Set<DeviceRuleState>;
  /** Watches that came due while the gateway was offline; raised only if still silent later. */
  suppressed: OfflineWatch[];
  /** Newest `receivedAt` of any device behind the gateway: its traffic proves the path alive. */
  lastChildSeenAt: number;
}

export interface RuleEngineState {
  /** siteId → deviceId → state: one map for all devices, no per-reading key string. */
  readonly devices: Map<string, Map<string, DeviceRuleState>>;
  /**
   * Offline deadlines of every device, so a tick looks only at the due ones. A device already
   * offline stays queued one timeout ahead, so that a reload of a silent device is noticed.
   */
  readonly offlineQueue: DeadlineQueue<OfflineWatch>;
  /** siteId → gateway device id → the devices that report through it. */
  readonly gateways: Map<string, Map<string, GatewayEntry>>;
  /** siteId → deviceId → devices whose rules threw: not evaluated until their rules change. */
  readonly quarantined: Map<string, Map<string, Quarantine>>;
  readonly stats: RuleEngineStats;
  /** Event-rule states restored from open alarms, taken (and removed) when a device is created. */
  readonly restoredEvents?: Map<string, EventState> | undefined;
  /** What the rule kinds' steps use (queue, counters, the record's signals); one per engine. */
  readonly services: RuleEngineServices;
  /** The record being evaluated as the rules see it: one object, overwritten per record. */
  input: RuleInput | undefined;
  /** What `reduceRuleEngine` returns: one object, overwritten per call (no allocation per record). */
  readonly step: { state: RuleEngineState; signals: readonly RuleSignal[] };
}

/** A device taken out of evaluation because its rules threw. */
export interface Quarantine {
  /** What `lookupDevice` returned when it was quarantined: a different object lifts it. */
  rules: DeviceRules | undefined;
  readonly source: MonitoringLostSource;
}

export function createRuleEngineState(options: RuleEngineOptions): RuleEngineState {
  const offlineQueue = new DeadlineQueue<OfflineWatch>();
  const stats = options.stats ?? createRuleEngineStats();
  const state: RuleEngineState = {
    devices: new Map(),
    offlineQueue,
    gateways: new Map(),
    quarantined: new Map(),
    stats,
    restoredEvents: options.eventAlarmsAtStart
      ? restoredEventStates(options.eventAlarmsAtStart())
      : undefined,
    services: {
      context: options,
      offlineQueue,
      stats,
      signals: undefined,
      // Created once per engine, never per record.
      rootCause: (watch, signal) => asRootCause(state, watch, signal),
      releaseGateway: (siteId, gatewayId, now) => releaseChildren(state, siteId, gatewayId, now),
    },
    input: undefined,
    step: { state: undefined as unknown as RuleEngineState, signals: NO_SIGNALS },
  };
  state.step.state = state;
  for (const device of options.expectedDevices ?? []) {
    addDevice(
      state,
      createDeviceState(
        state,
        device,
        options.startedAt,
        false,
        options.activeAtStart,
        state.restoredEvents,
        options.restoredState,
      ),
    );
  }
  options.onState?.(state);
  return state;
}

/**
 * One step of the rule engine. Records run the device's rules in their configured order (offline
 * first by default, then value rules); ticks run only the offline deadlines that are due. Devices
 * are independent, except that a gateway's silence holds back the offline signals of the devices
 * behind it. State is updated in place (see README "State size"), and so is the returned step:
 * read its `signals` before the next call (every caller does; no allocation per record).
 */
export function reduceRuleEngine(
  state: RuleEngineState,
  input: EngineInput,
  options: RuleEngineOptions,
): RuleStep<RuleEngineState> {
  if (input.kind === 'canary') {
    // Vigil's canary proves that the engine is evaluating: it answers with a heartbeat that
    // leaves through the same operators as every signal (RulesService reports it, never alarms).
    state.stats.canaries += 1;
    return stepOf(state, [canarySignal(input.canary, options.clock())]);
  }
  let signals: readonly RuleSignal[];
  state.services.context = options;
  if (input.kind === 'tick') {
    signals = onTick(state, input.now, options);
    if (state.quarantined.size > 0) {
      const lifted = liftReloaded(state, input.now, options);
      if (lifted.length > 0) signals = [...signals, ...lifted];
    }
  } else {
    const body = recordBody(input);
    const quarantine =
      state.quarantined.size > 0
        ? state.quarantined.get(body.siteId)?.get(body.deviceId)
        : undefined;
    if (quarantine) {
      const lifted = liftIfReloaded(state, quarantine, body.receivedAt, body.ts, options);
      if (!lifted) {
        state.stats.quarantinedRecords += 1;
        return stepOf(state, NO_SIGNALS);
      }
      signals = [lifted, ...evaluateRecord(state, input, options)];
    } else signals = evaluateRecord(state, input, options);
  }
  state.stats.signals += signals.length;
  return stepOf(state, signals);
}

/** The engine's one step object, now carrying `signals`. */
function stepOf(state: RuleEngineState, signals: readonly RuleSignal[]): RuleStep<RuleEngineState> {
  const { step } = state;
  step.signals = signals;
  return step;
}

/**
 * One record through its device's rules. A throw (a bug, or a configuration no check caught)
 * quarantines that device alone and raises `monitoring-lost` for it: every other device goes on
 * being evaluated (issue 10, "an error in one rule or one device isolates that device").
 */
function evaluateRecord(
  state: RuleEngineState,
  input: Exclude<EngineInput, { kind: 'tick' | 'canary' }>,
  options: RuleEngineOptions,
): readonly RuleSignal[] {
  try {
    return onRecord(state, input, options);
  } catch (error) {
    state.services.signals = undefined; // the partial record's signals are not emitted
    const body = recordBody(input);
    const source = {
      siteId: body.siteId,
      deviceId: body.deviceId,
      deviceClass: body.deviceClass,
      areaId: 'areaId' in body ? body.areaId : undefined,
    };
    return [isolateDevice(state, source, body.ts, error, options)];
  }
}

/**
 * Takes a device out of evaluation after its rules threw: its state is dropped (it may be
 * inconsistent), its offline watch leaves the queue, and the device is remembered with what
 * `lookupDevice` returns now, so that a reload of its configuration brings it back. Its open
 * alarms stay as they are; the returned `monitoring-lost` signal tells the operator they are no
 * longer kept up to date.
 */
export function isolateDevice(
  state: RuleEngineState,
  source: MonitoringLostSource,
  at: number,
  error: unknown,
  options: RuleEngineOptions,
): RuleSignal {
  const { siteId, deviceId } = source;
  const device = state.devices.get(siteId)?.get(deviceId);
  if (device) {
    const { rules } = device.rules;
    for (let index = 0; index < rules.length; index += 1) {
      const rule = rules[index];
      const ruleState = device.states[index];
      if (rule && ruleState) ruleKindOf(rule).dispose(ruleState, state.services);
    }
    if (device.rules.gatewayId !== undefined)
      state.gateways.get(siteId)?.get(device.rules.gatewayId)?.children.delete(device);
    const site = state.devices.get(siteId);
    site?.delete(deviceId);
    if (site?.size === 0) state.devices.delete(siteId);
  }
  let rules: DeviceRules | undefined = device?.rules;
  try {
    rules = options.lookupDevice(siteId, deviceId);
  } catch {
    // The lookup itself throws: keep the last rules known; a later successful lookup lifts it.
  }
  const context = rules ?? device?.rules;
  const quarantine: Quarantine = {
    rules,
    source: {
      siteId,
      deviceId,
      deviceClass: context?.deviceClass ?? source.deviceClass,
      areaId: context?.areaId ?? source.areaId,
    },
  };
  let site = state.quarantined.get(siteId);
  if (!site) state.quarantined.set(siteId, (site = new Map()));
  site.set(deviceId, quarantine);
  state.stats.isolatedDevices += 1;
  return monitoringLostSignal('device', quarantine.source, true, at, options, error);
}

/**
 * Lifts a quarantine when `lookupDevice` now returns other rules (a reload): the device starts
 * afresh (conditions of its open alarms start active, as after a restart) and the cleared
 * `monitoring-lost` signal is returned. Undefined while its rules are unchanged.
 */
function liftIfReloaded(
  state: RuleEngineState,
  quarantine: Quarantine,
  now: number,
  at: number,
  options: RuleEngineOptions,
): RuleSignal | undefined {
  const { siteId, deviceId } = quarantine.source;
  let next: DeviceRules | undefined;
  try {
    next = options.lookupDevice(siteId, deviceId);
  } catch {
    return undefined;
  }
  if (next === quarantine.rules) return undefined;
  if (next) {
    try {
      addDevice(state, createDeviceState(state, next, now, true, options.activeAtStart));
    } catch {
      quarantine.rules = next; // the new rules cannot even start: stay out until the next reload
      return undefined;
    }
  }
  const site = state.quarantined.get(siteId);
  site?.delete(deviceId);
  if (site?.size === 0) state.quarantined.delete(siteId);
  return monitoringLostSignal('device', quarantine.source, false, at, options);
}

/** A silent quarantined device sends nothing that would reveal a reload: look at each tick. */
function liftReloaded(
  state: RuleEngineState,
  now: number,
  options: RuleEngineOptions,
): RuleSignal[] {
  const lifted: RuleSignal[] = [];
  for (const site of [...state.quarantined.values()])
    for (const quarantine of [...site.values()]) {
      const signal = liftIfReloaded(state, quarantine, now, now, options);
      if (signal) lifted.push(signal);
    }
  return lifted;
}

function onRecord(
  state: RuleEngineState,
  input: DeviceRecord,
  options: RuleEngineOptions,
): readonly RuleSignal[] {
  const { stats, services } = state;
  stats.records += 1;
  services.signals = undefined;
  const body = recordBody(input);
  const next = options.lookupDevice(body.siteId, body.deviceId);
  let device = state.devices.get(body.siteId)?.get(body.deviceId);

  if (!device) {
    if (!next) {
      stats.unknownDeviceRecords += 1;
      return NO_SIGNALS;
    }
    // A retained status proves nothing: silence then counts from the engine's start.
    const proof = !isRetainedRecord(input);
    device = createDeviceState(
      state,
      next,
      proof ? body.receivedAt : options.startedAt,
      proof,
      options.activeAtStart,
      state.restoredEvents,
      options.restoredState,
    );
    addDevice(state, device);
  } else if (device.rules !== next) {
    const reloaded = reloadRules(state, device, next, input, options);
    if (!next) return reloaded;
    for (const signal of reloaded) emit(services, signal);
  }

  const gatewayId = device.rules.gatewayId;
  // A retained message is the broker's memory, not traffic through the gateway (finding 7).
  const retained = isRetainedRecord(input);
  if (gatewayId !== undefined && !retained) {
    const entry = gatewayEntry(state, device.rules.siteId, gatewayId);
    if (body.receivedAt > entry.lastChildSeenAt) entry.lastChildSeenAt = body.receivedAt;
  }

  let order: ReadingOrder = 'in-order';
  // Live: not older in receive time than the device's newest reading (README "Clock jumps").
  let live = false;
  const reading =
    input.kind === 'reading'
      ? onDeviceClock(
          device,
          notFromTheFuture(input.reading, stats),
          stats,
          options.clockRebaseMs ?? DEFAULT_CLOCK_REBASE_MS,
        )
      : undefined;
  if (reading) {
    const { ts, receivedAt } = reading;
    const lateAllowanceMs = options.lateAllowanceMs ?? DEFAULT_LATE_ALLOWANCE_MS;
    live = receivedAt >= device.lastReceivedAt;
    if (live) device.lastReceivedAt = receivedAt;
    order = readingOrder(ts, device.lastTs, lateAllowanceMs);
    const clockRebaseMs = options.clockRebaseMs ?? DEFAULT_CLOCK_REBASE_MS;
    if (
      live &&
      order !== 'in-order' &&
      clockSetBack(device, order, ts, receivedAt, lateAllowanceMs, clockRebaseMs)
    ) {
      rebaseClock(device, ts);
      device.clockOffsetMs = ts - receivedAt;
      stats.clockRebases += 1;
      order = 'in-order';
    }
    if (order === 'in-order') {
      device.lastTs = ts;
      device.behindSince = Number.NaN;
    } else {
      device.outOfOrder += 1;
      stats.outOfOrderReadings += 1;
      // A within-allowance reading has continued or ended the run above (when live).
      if (order === 'late') stats.lateReadings += 1;
    }
  }
  const inOrder = reading !== undefined && order === 'in-order';
  // The order policies this record satisfies, one bit each (ORDER_BITS).
  let accepted = ORDER_BITS.records;
  if (inOrder) accepted |= ORDER_BITS['in-order'];
  if (reading !== undefined && order !== 'late') accepted |= ORDER_BITS.windowed;
  if (reading !== undefined && live) accepted |= ORDER_BITS.live;
  if (input.kind === 'event') accepted |= ORDER_BITS.events;

  let ruleInput = state.input;
  if (ruleInput === undefined) {
    ruleInput = { record: input, reading, order, live, receivedAt: 0, device: device.rules };
    state.input = ruleInput;
  }
  ruleInput.record = input;
  ruleInput.reading = reading;
  ruleInput.order = order;
  ruleInput.live = live;
  ruleInput.receivedAt = body.receivedAt;
  ruleInput.device = device.rules;

  const rules = device.rules.rules;
  const { states, kinds } = device;
  for (let index = 0; index < rules.length; index += 1) {
    const rule = rules[index];
    const ruleState = states[index];
    // The one descriptor lookup per rule (no switch on the kind): an element of a shared array.
    const kind = kinds[index];
    if (!rule || !ruleState || !kind) continue;
    if ((kind.orderBit & accepted) === 0) continue;
    if (kind.withdrawn !== undefined && reading !== undefined) {
      const alarm = activeCover(device, index);
      if (alarm) {
        // Held: not even an older reading joins the window; only an in-order one clears.
        const withdrawn = inOrder && withdrawWarning(device, index, reading, alarm, options);
        if (withdrawn) emit(services, withdrawn);
        continue;
      }
    }
    const nextState = kind.step(ruleState, ruleInput, rule, services);
    states[index] = nextState;
    // An alarm that has just become active withdraws the early warnings it covers at once, right
    // after its own signal, also those evaluated before it in this record.
    if (nextState.active && !ruleState.active && reading !== undefined) {
      const covered = device.coverPlan?.covers[index];
      if (covered && rule.kind === 'threshold') {
        for (const warningIndex of covered) {
          const withdrawn = withdrawWarning(device, warningIndex, reading, rule, options);
          if (withdrawn) emit(services, withdrawn);
        }
      }
    }
  }
  const signals = services.signals;
  services.signals = undefined;
  return signals ?? NO_SIGNALS;
}

/**
 * Never lets a reading from the future move a device's watermark there (issue 10 finding 6): one
 * stamped more than FUTURE_TOLERANCE_MS after its receive time is evaluated at its receive time,
 * as ingest does. Allocates only for such readings.
 */
function notFromTheFuture(reading: Reading, stats: RuleEngineStats): Reading {
  if (!(reading.ts > reading.receivedAt + FUTURE_TOLERANCE_MS)) return reading;
  stats.futureReadings += 1;
  return {
    ...reading,
    ts: reading.receivedAt,
    deviceTime: false,
    clockCorrected: reading.clockCorrected ?? 'future',
  };
}

/**
 * Judges a reading against its device's own recent clock (issue 10 finding 6). One more than
 * FUTURE_TOLERANCE_MS ahead of it (a second source on the device's topic, a clock glitch, a reading
 * ingest put on server time beside a device whose clock runs behind) is evaluated on the device's
 * clock, at `receivedAt + clockOffsetMs`, so that it cannot move the watermark past the device's
 * own readings. A clock that really moved forward is followed once readings on it alone have
 * arrived for `clockRebaseMs` (a reading on the old clock ends the run, as for a clock set back):
 * until then its readings are still evaluated, in order, on the old clock. Allocates only for a
 * reading held back.
 */
function onDeviceClock(
  device: DeviceRuleState,
  reading: Reading,
  stats: RuleEngineStats,
  clockRebaseMs: number,
): Reading {
  const offsetMs = reading.ts - reading.receivedAt;
  const own = device.clockOffsetMs;
  if (!(offsetMs > own + FUTURE_TOLERANCE_MS)) {
    // On its clock (or behind it, or the first reading): the old clock is alive.
    if (!(offsetMs <= own)) device.clockOffsetMs = offsetMs;
    device.aheadSince = Number.NaN;
    return reading;
  }
  if (
    Number.isNaN(device.aheadSince) ||
    Math.abs(offsetMs - device.aheadOffsetMs) > FUTURE_TOLERANCE_MS
  ) {
    device.aheadSince = reading.receivedAt;
    device.aheadOffsetMs = offsetMs;
  }
  if (reading.receivedAt - device.aheadSince >= clockRebaseMs) {
    // The pending delays move with the clock, as on a set-back (rebaseClock): left on the old
    // clock, the jump counted as time in the band and an off-delay ended early (2026-12-08).
    shiftRuleStates(device, offsetMs - own);
    device.clockOffsetMs = offsetMs;
    device.aheadSince = Number.NaN;
    stats.clockAdvances += 1;
    return reading;
  }
  stats.aheadOfDeviceClock += 1;
  return {
    ...reading,
    ts: reading.receivedAt + own,
    deviceTime: false,
    clockCorrected: reading.clockCorrected ?? 'device-clock',
  };
}

/**
 * The first active alarm that covers the early warning at `index`, if any (README "Early warnings
 * and the alarms they announce"). An alarm later in the rule order is seen as of the last record;
 * one that becomes active in this record withdraws the warning itself, right after its signal.
 */
function activeCover(device: DeviceRuleState, index: number): ThresholdRuleConfig | undefined {
  const coveredBy = device.coverPlan?.coveredBy[index];
  if (!coveredBy) return undefined;
  for (const alarmIndex of coveredBy) {
    const alarm = device.rules.rules[alarmIndex];
    if (device.states[alarmIndex]?.active && alarm?.kind === 'threshold') return alarm;
  }
  return undefined;
}

/**
 * Holds the early warning at `index` back while `alarm` covers it: its window is dropped (the
 * shared empty state, so a held warning costs nothing and allocates nothing per reading) and, if
 * it was active, it clears with a signal saying why. Once no alarm covers it, it starts from an
 * empty window: samples from inside the alarm describe the excursion, not an approach, and a fit
 * or a minimum across them forecast the excursion's own tail. Returns the cleared signal, if any.
 */
function withdrawWarning(
  device: DeviceRuleState,
  index: number,
  reading: Reading,
  alarm: ThresholdRuleConfig,
  context: RuleContext,
): RuleSignal | undefined {
  const warning = device.rules.rules[index];
  const state = device.states[index];
  if (!warning || !state || !isEarlyWarning(warning)) return undefined;
  const empty = ruleKindOf(warning).withdrawn;
  if (empty === undefined || state === empty) return undefined;
  device.states[index] = empty;
  return state.active ? withdrawnWarningSignal(reading, warning, alarm, context) : undefined;
}

/**
 * Re-bases a device on a clock that jumped back to `ts` (README "Clock jumps"). Event-time anchors
 * move with the clock (pending on/off-delays, a stuck stretch keep the time they have run up to
 * the last reading on the old clock); the rate and trend windows start empty, as after a silence.
 * Active states and latched alarms are kept: a re-base itself emits nothing. The caller sets the
 * watermark to `ts`.
 */
function rebaseClock(device: DeviceRuleState, ts: number): void {
  shiftRuleStates(device, ts - device.lastTs);
}

/** Moves every rule's device-clock times by `shiftMs` (a clock set back or forward). */
function shiftRuleStates(device: DeviceRuleState, shiftMs: number): void {
  const { states } = device;
  const { rules } = device.rules;
  for (let index = 0; index < states.length; index += 1) {
    const rule = rules[index];
    const ruleState = states[index];
    if (rule && ruleState) states[index] = ruleKindOf(rule).rebase(ruleState, shiftMs);
  }
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
    try {
      const signal = onDueWatch(state, watch, now, options);
      if (signal) (signals ??= []).push(...signal);
    } catch (error) {
      (signals ??= []).push(isolateDevice(state, watch.device, now, error, options));
    }
  }
  return signals ?? NO_SIGNALS;
}

/** One due offline watch; a throw here isolates the watch's device (`onTick`). */
function onDueWatch(
  state: RuleEngineState,
  watch: OfflineWatch,
  now: number,
  options: RuleEngineOptions,
): readonly RuleSignal[] | undefined {
  const queue = state.offlineQueue;
  let signals: RuleSignal[] | undefined;
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
  if (!device?.states.includes(watch) || watch.queueIndex >= 0) return signals;
  if (watch.active) {
    queue.schedule(watch, now + watch.config.timeoutMs); // look for reloads again later
    return signals;
  }
  if (now > watchDeadline(watch)) {
    const verdict = gatewayVerdict(state, device, watch, now);
    if (verdict === 'suppress') {
      watch.suppressed = true;
      gatewayEntry(state, siteId, device.rules.gatewayId ?? '').suppressed.push(watch);
      state.stats.suppressedOffline += 1;
      return signals;
    }
    if (verdict !== 'raise') {
      queue.schedule(watch, verdict);
      return signals;
    }
  }
  const signal = watchDue(watch, now, queue, options);
  if (!signal) return signals;
  (signals ??= []).push(asRootCause(state, watch, signal));
  queue.schedule(watch, now + watch.config.timeoutMs);
  return signals;
}

/**
 * What to do with an overdue offline watch of a device behind a gateway (README "Gateways"):
 *
 * - `suppress` while the gateway is offline (or itself suppressed): its root-cause signal covers it;
 * - `raise` when something behind the gateway (the gateway or another device) was heard after this
 *   device went silent: the path works, the device itself is gone;
 * - otherwise the gateway may have died with it: wait (return the time to look again) until just
 *   after the gateway's own deadline, so that the gateway is decided first, but never longer than
 *   one more timeout of the device's own.
 */
function gatewayVerdict(
  state: RuleEngineState,
  device: DeviceRuleState,
  watch: OfflineWatch,
  now: number,
): 'raise' | 'suppress' | number {
  const gatewayId = device.rules.gatewayId;
  if (gatewayId === undefined) return 'raise';
  const siteId = device.rules.siteId;
  const gateway = offlineWatchOf(state.devices.get(siteId)?.get(gatewayId));
  if (!gateway || gateway === watch) return 'raise';
  if (gateway.active || gateway.suppressed) return 'suppress';
  const entry = gatewayEntry(state, siteId, gatewayId);
  if (Math.max(gateway.lastSeenAt, entry.lastChildSeenAt) > watch.lastSeenAt) return 'raise';
  const gatewayDeadline = watchDeadline(gateway);
  // The gateway is overdue too: still queued, it is decided later in this tick; look next tick.
  if (now > gatewayDeadline) return gateway.queueIndex >= 0 ? now : 'raise';
  const latest = watchDeadline(watch) + watch.config.timeoutMs;
  return latest < now ? 'raise' : Math.min(gatewayDeadline + 1, latest);
}

/**
 * A gateway's own offline signal, raised or cleared, becomes the root-cause `gateway-offline`
 * signal while devices report through it; other signals pass unchanged.
 */
function asRootCause(state: RuleEngineState, watch: OfflineWatch, signal: RuleSignal): RuleSignal {
  const { siteId, deviceId } = watch.device;
  if (signal.active) {
    const entry = state.gateways.get(siteId)?.get(deviceId);
    if (!entry || entry.children.size === 0) return signal;
    watch.rootCause = true;
    let priority: AlarmPriority = signal.priority;
    for (const child of entry.children) {
      const config = offlineWatchOf(child)?.config;
      if (config && config.priority < priority) priority = config.priority;
    }
    const count = entry.children.size;
    return {
      ...signal,
      key: signalKey(siteId, deviceId, GATEWAY_OFFLINE_RULE_ID),
      ruleId: GATEWAY_OFFLINE_RULE_ID,
      level: GATEWAY_OFFLINE_RULE_ID,
      priority,
      message:
        `Gateway offline: ${signal.message}; the ${count} device${count === 1 ? '' : 's'} ` +
        'behind it are not reported offline one by one',
    };
  }
  if (!watch.rootCause) return signal;
  watch.rootCause = false;
  return {
    ...signal,
    key: signalKey(siteId, deviceId, GATEWAY_OFFLINE_RULE_ID),
    ruleId: GATEWAY_OFFLINE_RULE_ID,
    level: GATEWAY_OFFLINE_RULE_ID,
    message: `Gateway back: ${signal.message}`,
  };
}

/**
 * The gateway is back (or no longer watched): the devices held back while it was offline count
 * their silence from `now`, so one still silent is raised a full timeout after the return.
 */
function releaseChildren(
  state: RuleEngineState,
  siteId: string,
  gatewayId: string,
  now: number,
): void {
  const entry = state.gateways.get(siteId)?.get(gatewayId);
  if (!entry || entry.suppressed.length === 0) return;
  for (const watch of entry.suppressed) {
    if (!watch.suppressed) continue;
    watch.suppressed = false;
    watch.countFrom = now;
    startWatch(watch, state.offlineQueue);
  }
  entry.suppressed = [];
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
  input: DeviceRecord | EngineTick,
  context: RuleContext,
): RuleSignal[] {
  state.stats.reloads += 1;
  state.services.context = context;
  const signals: RuleSignal[] = [];
  const at = input.kind === 'tick' ? input.now : recordBody(input).ts;
  const now = input.kind === 'tick' ? input.now : recordBody(input).receivedAt;
  const previous = device.rules.rules;
  const kept = new Set<number>();

  const states = (next?.rules ?? []).map((rule): RuleState | undefined => {
    if (!rule.enabled) return undefined;
    const index = previous.findIndex(old => old.ruleId === rule.ruleId);
    const old = index >= 0 ? device.states[index] : undefined;
    const kind = ruleKindOf(rule);
    if (old?.kind === rule.kind) {
      kept.add(index);
      if (next) kind.keep(old, rule, next, state.services);
      return old;
    }
    return kind.initial(next ?? device.rules, rule, now, true, state.services);
  });

  previous.forEach((rule, index) => {
    const old = device.states[index];
    if (kept.has(index) || !old) return;
    const removed = ruleKindOf(rule).remove(old, rule, device.rules, at, now, state.services);
    for (const signal of removed) signals.push(signal);
  });

  const { siteId, deviceId } = device.rules;
  if (device.rules.gatewayId !== next?.gatewayId) {
    if (device.rules.gatewayId !== undefined) {
      state.gateways.get(siteId)?.get(device.rules.gatewayId)?.children.delete(device);
    }
    if (next?.gatewayId !== undefined)
      gatewayEntry(state, siteId, next.gatewayId).children.add(device);
  }
  device.states = states;
  if (next) {
    device.rules = next;
    device.coverPlan = coverPlanOf(next.rules);
    device.kinds = ruleKindsOf(next.rules);
  } else {
    const site = state.devices.get(siteId);
    site?.delete(deviceId);
    if (site?.size === 0) state.devices.delete(siteId);
  }
  return signals;
}

function createDeviceState(
  state: RuleEngineState,
  rules: DeviceRules,
  lastSeenAt: number,
  seen: boolean,
  activeAtStart?: (key: string) => boolean,
  restoredEvents?: Map<string, EventState>,
  restoredState?: RestoredRuleState,
): DeviceRuleState {
  const device: DeviceRuleState = {
    rules,
    lastTs: -Infinity,
    lastReceivedAt: -Infinity,
    behindSince: Number.NaN,
    behindOffsetMs: 0,
    clockOffsetMs: Number.NaN,
    aheadSince: Number.NaN,
    aheadOffsetMs: 0,
    outOfOrder: 0,
    coverPlan: coverPlanOf(rules.rules),
    kinds: ruleKindsOf(rules.rules),
    states: rules.rules.map(rule => {
      if (!rule.enabled) return undefined;
      const kind = ruleKindOf(rule);
      const initial = kind.initial(rules, rule, lastSeenAt, seen, state.services);
      if (rule.kind === 'event' && restoredEvents?.size) {
        const key = signalKey(rules.siteId, rules.deviceId, rule.ruleId);
        const restored = restoredEvents.get(key);
        if (restored) {
          restoredEvents.delete(key); // once: a device re-created later starts afresh
          return restored;
        }
      }
      if (!activeAtStart?.(signalKey(rules.siteId, rules.deviceId, rule.ruleId))) return initial;
      return kind.activeAtStart(initial);
    }),
  };
  restoredState?.restoreInto(device);
  return device;
}

function addDevice(state: RuleEngineState, device: DeviceRuleState): void {
  const { siteId, deviceId, gatewayId } = device.rules;
  let site = state.devices.get(siteId);
  if (!site) {
    site = new Map();
    state.devices.set(siteId, site);
  }
  site.set(deviceId, device);
  if (gatewayId !== undefined) gatewayEntry(state, siteId, gatewayId).children.add(device);
}

function gatewayEntry(state: RuleEngineState, siteId: string, gatewayId: string): GatewayEntry {
  let site = state.gateways.get(siteId);
  if (!site) {
    site = new Map();
    state.gateways.set(siteId, site);
  }
  let entry = site.get(gatewayId);
  if (!entry) {
    entry = { children: new Set(), suppressed: [], lastChildSeenAt: -Infinity };
    site.set(gatewayId, entry);
  }
  return entry;
}

/** The device's enabled offline watch, if it has one. */
function offlineWatchOf(device: DeviceRuleState | undefined): OfflineWatch | undefined {
  if (!device) return undefined;
  for (const each of device.states) if (each?.kind === 'offline') return each;
  return undefined;
}
