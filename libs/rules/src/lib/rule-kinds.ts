import type { z } from 'zod';

import type { DeviceRecord, Reading, RuleSignal } from '@vigil/contracts';

import { restoreCondition, saveCondition, shiftCondition, steadyCondition } from './condition';
import type { DeadlineQueue } from './deadline-queue';
import { EVENT_INACTIVE, type EventState, reduceEvent, removedEventSignals } from './event.reducer';
import {
  GATEWAY_OFFLINE_RULE_ID,
  type OfflineWatch,
  createOfflineWatch,
  reconcileWatch,
  restoreWatch,
  saveWatch,
  startWatch,
  stopWatch,
  watchDeadline,
  watchRecord,
} from './offline.reducer';
import {
  RANGE_ACTIVE,
  RANGE_INACTIVE,
  RANGE_STATES,
  type RangeState,
  reduceRange,
} from './range.reducer';
import {
  RATE_EMPTY,
  type RateState,
  reconcileRate,
  restartRate,
  restoreRate,
  saveRate,
  stepRate,
} from './rate.reducer';
import {
  type RuleConfig,
  type RuleKind,
  eventRuleConfigSchema,
  offlineRuleConfigSchema,
  rangeRuleConfigSchema,
  rateRuleConfigSchema,
  skewRuleConfigSchema,
  stuckRuleConfigSchema,
  thresholdRuleConfigSchema,
  trendRuleConfigSchema,
} from './rule-config';
import type { RuleEngineStats, RuleState } from './rule-engine.reducer';
import {
  type DeviceRules,
  NO_SIGNALS,
  type ReadingOrder,
  type RuleContext,
  type RuleStep,
  type SignalSink,
  emitTo,
  removedRuleSignal,
} from './rule-signal';
import type { SavedFields } from './saved-fields';
import { SKEW_INACTIVE, SKEW_STATES, type SkewState, reduceSkew } from './skew.reducer';
import {
  STUCK_EMPTY,
  type StuckState,
  reconcileStuck,
  restoreStuck,
  saveStuck,
  shiftStuck,
  stepStuck,
} from './stuck.reducer';
import {
  THRESHOLD_ACTIVE,
  THRESHOLD_INACTIVE,
  THRESHOLD_STATES,
  type ThresholdState,
  reduceThreshold,
} from './threshold.reducer';
import {
  TREND_EMPTY,
  type TrendState,
  reconcileTrend,
  restartTrend,
  restoreTrend,
  saveTrend,
  stepTrend,
} from './trend.reducer';

/**
 * Which records a rule kind is stepped with (README "Late and out-of-order data", "Clock jumps"):
 *
 * - `in-order`: readings at or after the device's event-time watermark (value rules);
 * - `windowed`: also readings within the late allowance, with their order (window summaries);
 * - `live`: every reading not older in receive time than the device's newest (clock rules);
 * - `events`: device events;
 * - `records`: every record of the device, retained ones too (liveness).
 */
export type OrderPolicy = 'in-order' | 'windowed' | 'live' | 'events' | 'records';

/**
 * One bit per order policy: the engine computes the bits a record satisfies once and tests each
 * rule's bit (`RuleKindDescriptor.orderBit`), a number test instead of a string switch per rule.
 */
export const ORDER_BITS: { readonly [P in OrderPolicy]: number } = {
  'in-order': 1,
  windowed: 2,
  live: 4,
  events: 8,
  records: 16,
};

/**
 * One record as the engine hands it to a rule: one object per engine, overwritten for each record
 * (no allocation per reading). `reading` is the reading after the engine's clock corrections, set
 * for reading records only; `order` and `live` place it against the device's watermark.
 */
export interface RuleInput {
  record: DeviceRecord;
  reading: Reading | undefined;
  order: ReadingOrder;
  live: boolean;
  /** Server time of the record (`receivedAt`). */
  receivedAt: number;
  /** The device's rules as the registry returns them now. */
  device: DeviceRules;
}

/**
 * What the engine lends a rule while it steps: one object per engine state. Signals go to
 * `emit`, in order, so a step returns only its next state (no step object per reading).
 */
export interface RuleEngineServices extends SignalSink {
  /** The options of the current engine call (its clock). */
  context: RuleContext;
  readonly offlineQueue: DeadlineQueue<OfflineWatch>;
  readonly stats: RuleEngineStats;
  /** Signals of the record being evaluated, in order; undefined until the first. */
  signals: RuleSignal[] | undefined;
  /** A gateway's own offline signal becomes its root-cause signal (README "Gateways"). */
  rootCause(watch: OfflineWatch, signal: RuleSignal): RuleSignal;
  /** A gateway is back: the devices held back behind it count their silence from `now`. */
  releaseGateway(siteId: string, gatewayId: string, now: number): void;
}

/** Adds a signal to the record's output. */
export function emit(engine: RuleEngineServices, signal: RuleSignal): void {
  emitTo(engine, signal);
}

/** Adds a reducer step's signals to the record's output and returns its state. */
export function emitStep<S>(engine: RuleEngineServices, step: RuleStep<S>): S {
  const { signals } = step;
  for (let index = 0; index < signals.length; index += 1) {
    const signal = signals[index];
    if (signal) emit(engine, signal);
  }
  return step.state;
}

/** The state every rule kind keeps per device: tagged with its kind, active or not. */
export interface RuleStateBase {
  readonly kind: RuleKind;
  readonly active: boolean;
}

/**
 * Everything the engine knows about one rule kind. The engine loop (`reduceRuleEngine`) and the
 * generic operator (`ruleOperator`, which runs that loop for one rule) look a rule's descriptor up
 * once per rule and record (`ruleKindsOf`) and never switch on the kind. Written with method
 * signatures so that one kind's descriptor stands for `RuleKindDescriptor<RuleConfig, RuleState>`.
 */
export interface RuleKindDescriptor<C extends RuleConfig, S extends RuleStateBase> {
  readonly kind: C['kind'];
  /** The configuration schema (`ruleConfigSchema` is the union of these). */
  readonly schema: z.ZodType<C>;
  /** Which records the rule is stepped with. */
  readonly order: OrderPolicy;
  /** `ORDER_BITS[order]`. */
  readonly orderBit: number;
  /**
   * Whether the rule keeps deadlines on server time in the engine's queue, which ticks drive
   * (`withTicks`): the generic operator interleaves ticks for such a rule.
   */
  readonly deadlines: boolean;
  /**
   * The state an early warning takes while an alarm covers it (its empty window), undefined for
   * other kinds. README "Early warnings and the alarms they announce".
   */
  readonly withdrawn: S | undefined;
  /**
   * A new (device, rule) pair's state. `lastSeenAt` is the server time silence counts from, and
   * `seen` whether a record proved the device alive.
   */
  initial(
    device: DeviceRules,
    rule: C,
    lastSeenAt: number,
    seen: boolean,
    engine: RuleEngineServices,
  ): S;
  /** The state of a rule whose alarm was open when the engine last ran (after a restart). */
  activeAtStart(initial: S): S;
  /** One accepted record: the next state; signals go to `emit`. */
  step(state: S, input: RuleInput, rule: C, engine: RuleEngineServices): S;
  /** The state on a device clock moved by `shiftMs`: back (< 0) or forward (README "Clock jumps"). */
  rebase(state: S, shiftMs: number): S;
  /** A reload kept the rule (same id and kind) with `rule` as its new configuration. */
  keep(state: S, rule: C, device: DeviceRules, engine: RuleEngineServices): void;
  /**
   * A reload removed or disabled the rule (or its device): its cleared signals. `at` is the event
   * time that revealed the reload, `now` its server time.
   */
  remove(
    state: S,
    rule: C,
    device: DeviceRules,
    at: number,
    now: number,
    engine: RuleEngineServices,
  ): readonly RuleSignal[];
  /** The device leaves evaluation (quarantine): release what the engine holds for the rule. */
  dispose(state: S, engine: RuleEngineServices): void;
  /**
   * The state as a rule state snapshot saves it for a takeover or restart (`snapshotRuleState`):
   * its fields after `[ruleId, kind, active]`, or undefined for a state a fresh engine starts
   * with anyway (or one restored from elsewhere). The fields are part of the snapshot format
   * (`SavedFields`).
   */
  save(state: S): SavedFields | undefined;
  /**
   * What `save` wrote, restored into `current`, the state the engine has just created for the
   * same rule (id and kind): the restored state, or undefined when it does not fit the rule now
   * (a changed window, an unreadable field). The caller counts what is not restored.
   */
  restore(fields: SavedFields, active: boolean, rule: C, current: S): S | undefined;
  /**
   * The rule id of the alarm whose condition the state stands for, to reconcile it with after a
   * restore (`reconcileRuleState`); undefined for a kind whose state is restored from its open
   * alarms in the first place. Defaults to the rule's own id.
   */
  alarmRuleId(state: S, rule: C): string | undefined;
  /**
   * After a restore the durable alarm wins: the state with `active` as its open alarm says, any
   * pending delay dropped. A state with nothing to hold the flag comes back as it is (and is not
   * counted as changed).
   */
  reconcile(state: S, active: boolean, engine: RuleEngineServices): S;
}

type ConfigOf<K extends RuleKind> = Extract<RuleConfig, { kind: K }>;

/** What a descriptor must say; the rest defaults to "nothing to do". */
type DescriptorParts<C extends RuleConfig, S extends RuleStateBase> = Pick<
  RuleKindDescriptor<C, S>,
  SaidByEveryKind
> &
  Partial<Omit<RuleKindDescriptor<C, S>, SaidByEveryKind | 'orderBit'>>;

/**
 * What every kind must say for itself: how it is stepped, and how its state survives a takeover
 * (a new kind without `save` and `restore` does not compile, so none is silently left out of
 * the snapshot).
 */
type SaidByEveryKind =
  'kind' | 'schema' | 'order' | 'initial' | 'step' | 'save' | 'restore' | 'reconcile';

/**
 * A complete descriptor, every property present and in one order, so that all descriptors share
 * one hidden class and the engine's property loads on them stay monomorphic.
 */
export function defineRuleKind<C extends RuleConfig, S extends RuleStateBase>(
  parts: DescriptorParts<C, S>,
): RuleKindDescriptor<C, S> {
  return Object.freeze({
    kind: parts.kind,
    schema: parts.schema,
    order: parts.order,
    orderBit: ORDER_BITS[parts.order],
    deadlines: parts.deadlines ?? false,
    withdrawn: parts.withdrawn,
    initial: parts.initial,
    activeAtStart: parts.activeAtStart ?? sameState,
    step: parts.step,
    rebase: parts.rebase ?? sameState,
    keep: parts.keep ?? nothingToKeep,
    remove: parts.remove ?? clearedIfActive,
    dispose: parts.dispose ?? nothingToKeep,
    save: parts.save,
    restore: parts.restore,
    alarmRuleId: parts.alarmRuleId ?? ownRuleId,
    reconcile: parts.reconcile,
  });
}

function ownRuleId(_state: RuleStateBase, rule: RuleConfig): string {
  return rule.ruleId;
}

function sameState<S>(state: S): S {
  return state;
}

function nothingToKeep(): void {
  // The rule's state holds nothing outside itself.
}

function clearedIfActive(
  state: RuleStateBase,
  rule: RuleConfig,
  device: DeviceRules,
  at: number,
  _now: number,
  engine: RuleEngineServices,
): readonly RuleSignal[] {
  if (!state.active || rule.kind === 'offline') return NO_SIGNALS;
  return [removedRuleSignal(device, rule, at, engine.context)];
}

/** Set-point with deadband and on/off delays (`reduceThreshold`). */
export const THRESHOLD_KIND = defineRuleKind<ConfigOf<'threshold'>, ThresholdState>({
  kind: 'threshold',
  schema: thresholdRuleConfigSchema,
  order: 'in-order',
  initial: () => THRESHOLD_INACTIVE,
  activeAtStart: () => THRESHOLD_ACTIVE,
  step: (state, input, rule, engine) =>
    input.reading
      ? emitStep(engine, reduceThreshold(state, input.reading, rule, engine.context))
      : state,
  rebase: shiftCondition,
  save: saveCondition,
  restore: (fields, active) => restoreCondition(THRESHOLD_STATES, fields, active),
  reconcile: (_state, active) => steadyCondition(THRESHOLD_STATES, active),
});

/** Outside the measuring range (`reduceRange`). */
export const RANGE_KIND = defineRuleKind<ConfigOf<'range'>, RangeState>({
  kind: 'range',
  schema: rangeRuleConfigSchema,
  order: 'in-order',
  initial: () => RANGE_INACTIVE,
  activeAtStart: () => RANGE_ACTIVE,
  step: (state, input, rule, engine) =>
    input.reading
      ? emitStep(engine, reduceRange(state, input.reading, rule, engine.context))
      : state,
  rebase: shiftCondition,
  save: saveCondition,
  restore: (fields, active) => restoreCondition(RANGE_STATES, fields, active),
  reconcile: (_state, active) => steadyCondition(RANGE_STATES, active),
});

/** Flat line (`reduceStuck`). */
export const STUCK_KIND = defineRuleKind<ConfigOf<'stuck'>, StuckState>({
  kind: 'stuck',
  schema: stuckRuleConfigSchema,
  order: 'in-order',
  initial: () => STUCK_EMPTY,
  step: (state, input, rule, engine) =>
    input.reading ? stepStuck(state, input.reading, rule, engine.context, engine) : state,
  rebase: shiftStuck,
  save: saveStuck,
  restore: restoreStuck,
  reconcile: reconcileStuck,
});

/** Rate of change over a window; readings within the late allowance join it (`reduceRate`). */
export const RATE_KIND = defineRuleKind<ConfigOf<'rate'>, RateState>({
  kind: 'rate',
  schema: rateRuleConfigSchema,
  order: 'windowed',
  withdrawn: RATE_EMPTY,
  initial: () => RATE_EMPTY,
  step: (state, input, rule, engine) =>
    input.reading
      ? stepRate(state, input.reading, rule, engine.context, input.order, engine)
      : state,
  rebase: restartRate,
  save: saveRate,
  restore: restoreRate,
  reconcile: reconcileRate,
});

/** Forecast to a level (`reduceTrend`). */
export const TREND_KIND = defineRuleKind<ConfigOf<'trend'>, TrendState>({
  kind: 'trend',
  schema: trendRuleConfigSchema,
  order: 'in-order',
  withdrawn: TREND_EMPTY,
  initial: () => TREND_EMPTY,
  step: (state, input, rule, engine) =>
    input.reading ? stepTrend(state, input.reading, rule, engine.context, engine) : state,
  rebase: restartTrend,
  save: saveTrend,
  restore: restoreTrend,
  reconcile: reconcileTrend,
});

/** Device clock skew; about the clock, not the value, so on receive time (`reduceSkew`). */
export const SKEW_KIND = defineRuleKind<ConfigOf<'skew'>, SkewState>({
  kind: 'skew',
  schema: skewRuleConfigSchema,
  order: 'live',
  initial: () => SKEW_INACTIVE,
  step: (state, input, rule, engine) =>
    input.reading
      ? emitStep(engine, reduceSkew(state, input.reading, rule, engine.context))
      : state,
  save: saveCondition,
  restore: (fields, active) => restoreCondition(SKEW_STATES, fields, active),
  reconcile: (_state, active) => steadyCondition(SKEW_STATES, active),
});

/** Device events: fire-panel points, device alarms per channel (`reduceEvent`). */
export const EVENT_KIND = defineRuleKind<ConfigOf<'event'>, EventState>({
  kind: 'event',
  schema: eventRuleConfigSchema,
  order: 'events',
  initial: () => EVENT_INACTIVE,
  step: (state, input, rule, engine) => {
    if (input.record.kind !== 'event') return state;
    const step = reduceEvent(state, input.record.event, rule, engine.context, input.device);
    if (step.problems) engine.stats.eventProblems += step.problems;
    return emitStep(engine, step);
  },
  // One cleared signal per active address (fire-panel point, channel).
  remove: (state, rule, device, at, _now, engine) =>
    removedEventSignals(state, device, rule, at, engine.context),
  // Its state is the open alarms' active addresses: restored from them at start
  // (`eventAlarmsAtStart`), not from the snapshot, and so never reconciled with them.
  save: () => undefined,
  restore: () => undefined,
  alarmRuleId: () => undefined,
  reconcile: sameState,
});

/**
 * Silence on server time: every record keeps the device alive, the engine's deadline queue and
 * ticks raise it (`offline.reducer.ts`); a gateway's silence is its devices' root cause.
 */
export const OFFLINE_KIND = defineRuleKind<ConfigOf<'offline'>, OfflineWatch>({
  kind: 'offline',
  schema: offlineRuleConfigSchema,
  order: 'records',
  deadlines: true,
  initial: (device, rule, lastSeenAt, seen, engine) => {
    const watch = createOfflineWatch(device, rule, lastSeenAt, seen);
    startWatch(watch, engine.offlineQueue);
    return watch;
  },
  activeAtStart: watch => {
    watch.active = true;
    return watch;
  },
  step: (watch, input, _rule, engine) => {
    const queue = engine.offlineQueue;
    const wasActive = watch.active;
    const signal = watchRecord(watch, input.record, queue, engine.context);
    if (signal) emit(engine, engine.rootCause(watch, signal));
    if (watch.active && watch.queueIndex < 0) {
      queue.schedule(watch, input.receivedAt + watch.config.timeoutMs);
    }
    if (wasActive && !watch.active) {
      engine.releaseGateway(input.device.siteId, input.device.deviceId, input.receivedAt);
    }
    return watch;
  },
  keep: (watch, rule, device, engine) => {
    watch.device = device;
    watch.config = rule;
    if (watch.queueIndex >= 0) engine.offlineQueue.schedule(watch, watchDeadline(watch));
  },
  remove: (watch, _rule, device, at, now, engine) => {
    const signal = stopWatch(watch, engine.offlineQueue, at, engine.context);
    engine.releaseGateway(device.siteId, device.deviceId, now);
    return signal ? [engine.rootCause(watch, signal)] : NO_SIGNALS;
  },
  dispose: (watch, engine) => {
    if (watch.queueIndex >= 0) engine.offlineQueue.remove(watch);
  },
  save: saveWatch,
  restore: (fields, active, _rule, watch) => restoreWatch(fields, active, watch),
  // A gateway's watch raised the root-cause `gateway-offline` alarm instead of its own.
  alarmRuleId: (watch, rule) => (watch.rootCause ? GATEWAY_OFFLINE_RULE_ID : rule.ruleId),
  reconcile: (watch, active, engine) => reconcileWatch(watch, active, engine.offlineQueue),
});

/**
 * The registration: one descriptor per rule kind of `RULE_KINDS` (the mapped type makes a missing
 * one a compile error).
 */
export const RULE_KIND_DESCRIPTORS: {
  readonly [K in RuleKind]: RuleKindDescriptor<ConfigOf<K>, RuleStateBase>;
} = {
  threshold: THRESHOLD_KIND,
  offline: OFFLINE_KIND,
  range: RANGE_KIND,
  stuck: STUCK_KIND,
  rate: RATE_KIND,
  trend: TREND_KIND,
  skew: SKEW_KIND,
  event: EVENT_KIND,
};

/** The descriptor of a rule's kind: the one lookup per rule the engine makes. */
export function ruleKindOf(rule: RuleConfig): RuleKindDescriptor<RuleConfig, RuleState> {
  // The registration pairs each kind with its own config and state types; the engine keeps a
  // rule's state beside the rule it was created for (a reload re-creates it when the kind changes).
  return RULE_KIND_DESCRIPTORS[rule.kind] as RuleKindDescriptor<RuleConfig, RuleState>;
}

const kindLists = new WeakMap<
  readonly RuleConfig[],
  readonly RuleKindDescriptor<RuleConfig, RuleState>[]
>();

/**
 * The descriptors of a rule list, parallel to it: computed once per list and shared by every
 * device that has it, so the engine's hot loop reads an array element instead of a keyed lookup.
 */
export function ruleKindsOf(
  rules: readonly RuleConfig[],
): readonly RuleKindDescriptor<RuleConfig, RuleState>[] {
  let kinds = kindLists.get(rules);
  if (kinds === undefined) {
    kinds = rules.map(ruleKindOf);
    kindLists.set(rules, kinds);
  }
  return kinds;
}
