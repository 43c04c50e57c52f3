import type {
  AlarmCategory,
  AlarmPriority,
  DeviceClass,
  DeviceEvent,
  DeviceRecord,
  DeviceStatus,
  IngestRecord,
  Reading,
  RuleSignal,
} from '@vigil/contracts';

import type { FirePanelMap } from './event-address';
import type { RuleConfig } from './rule-config';

/** Services a reducer may use. Reducers read no global clock: `clock` is injected. */
export interface RuleContext {
  /** Server wall-clock ms, read only when a signal is emitted (its `detectedAt`). */
  readonly clock: () => number;
}

/** What every reducer returns: the next state and the signals of this step, in order. */
export interface RuleStep<S> {
  readonly state: S;
  readonly signals: readonly RuleSignal[];
}

/** Shared empty result, so that the common "nothing happened" step allocates no array. */
export const NO_SIGNALS: readonly RuleSignal[] = Object.freeze([]);

/**
 * Where a step puts its signals, in order: the engine lends one per engine (`RuleEngineServices`),
 * so a step that emits nothing allocates nothing. `signals` is undefined until the first.
 */
export interface SignalSink {
  signals: RuleSignal[] | undefined;
}

/** Adds a signal to a sink. */
export function emitTo(sink: SignalSink, signal: RuleSignal): void {
  if (sink.signals === undefined) sink.signals = [signal];
  else sink.signals.push(signal);
}

/** Runs a sink-style step and returns it as a `RuleStep` (the reducers' own API, for specs). */
export function collectStep<S>(step: (sink: SignalSink) => S): RuleStep<S> {
  const sink: SignalSink = { signals: undefined };
  const state = step(sink);
  return { state, signals: sink.signals ?? NO_SIGNALS };
}

/** Server-time heartbeat that lets time-based rules (offline) fire without any data arriving. */
export interface EngineTick {
  readonly kind: 'tick';
  /** Server wall-clock ms (the scheduler's `now()`), same time base as `receivedAt`. */
  readonly now: number;
}

export type EngineInput = IngestRecord | EngineTick;

/** Where a signal comes from; a registry device has these fields. */
export interface DeviceContext {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly areaId: string | undefined;
  /**
   * The registry device this one reports through (`RegisteredDevice.gatewayId`). While that
   * gateway is offline the engine raises one `gateway-offline` signal for it and no `offline`
   * signal for the devices behind it (README "Gateways").
   */
  readonly gatewayId?: string | undefined;
  /** Fire panels: the registry's points and zones (event alarms located per point). */
  readonly firePanel?: FirePanelMap | undefined;
}

/** A device and its resolved rules (`resolveDeviceRules`), in evaluation order. */
export interface DeviceRules extends DeviceContext {
  readonly rules: readonly RuleConfig[];
}

export function signalKey(siteId: string, deviceId: string, ruleId: string): string {
  return `${siteId}/${deviceId}/${ruleId}`;
}

/** Up to 4 significant digits (integers from 1000 up): `62`, `7.054`, `0.1213`, `4896`. */
export function formatNumber(value: number): string {
  return Math.abs(value) >= 1000 ? String(Math.round(value)) : String(Number(value.toPrecision(4)));
}

export function formatQuantity(value: number, unit: string | undefined): string {
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** The reading, event or status inside a record: each has siteId, deviceId, ts and receivedAt. */
export function recordBody(record: DeviceRecord): Reading | DeviceEvent | DeviceStatus {
  switch (record.kind) {
    case 'reading':
      return record.reading;
    case 'event':
      return record.event;
    case 'status':
      return record.status;
  }
}

/** `45 s`, `1.5 s` */
export function formatSeconds(ms: number): string {
  return `${formatNumber(ms / 1000)} s`;
}

/**
 * Where a reading stands against its device's event-time watermark (the largest `ts` processed):
 * `in-order` (ts ≥ watermark) is evaluated by every rule; `within-allowance` (older, by at most
 * the late allowance) only updates the order-insensitive window summaries of rate and stuck rules;
 * `late` (older still) is counted and ignored by value rules. README "Late and out-of-order data".
 */
export type ReadingOrder = 'in-order' | 'within-allowance' | 'late';

/** Classifies a reading against a watermark (README "Late and out-of-order data"). */
export function readingOrder(ts: number, lastTs: number, lateAllowanceMs: number): ReadingOrder {
  if (ts >= lastTs) return 'in-order';
  return ts >= lastTs - lateAllowanceMs ? 'within-allowance' : 'late';
}

/** Where a device's (or tag's) run of readings behind its watermark started, and on which clock. */
export interface BehindRun {
  /** Receive time of the run's first reading; NaN when there is no run. */
  behindSince: number;
  /** `ts − receivedAt` of the run's first reading: the clock the run keeps to. */
  behindOffsetMs: number;
}

/**
 * Whether a clock has been set back: this live reading behind the watermark continues a run of
 * live readings behind it (the caller ends the run on a reading at or after the watermark) that
 * keep to one clock, their `ts − receivedAt` within the late allowance of the run's first, over
 * `clockRebaseMs` of receive time. A late reading on another clock starts a new run. A reading
 * within the allowance (`order` 'within-allowance') never starts one: on the run's clock it
 * continues it, since a clock set back by a little more than the allowance catches up at one
 * second a second and passes through the allowance before it reaches the old watermark (ending
 * the run there left such a device blind for up to allowance + `clockRebaseMs` instead of
 * `clockRebaseMs`; found 2026-12-08); on any other clock it ends it: the old clock is alive. A
 * buffered batch or a burst of re-deliveries arrives at once (or drains faster than real time, so
 * its offset drifts), so it never spans the bound. README "Clock jumps"; shared by the device
 * engine and the personnel tags.
 */
export function clockSetBack(
  run: BehindRun,
  order: 'late' | 'within-allowance',
  ts: number,
  receivedAt: number,
  lateAllowanceMs: number,
  clockRebaseMs: number,
): boolean {
  const offsetMs = ts - receivedAt;
  const onRunClock =
    !Number.isNaN(run.behindSince) && Math.abs(offsetMs - run.behindOffsetMs) <= lateAllowanceMs;
  if (!onRunClock) {
    if (order === 'within-allowance') {
      run.behindSince = Number.NaN;
      return false;
    }
    run.behindSince = receivedAt;
    run.behindOffsetMs = offsetMs;
  }
  return receivedAt - run.behindSince >= clockRebaseMs;
}

/**
 * Readings up to 5 s older than their device's newest one still feed window summaries. Proposal:
 * no standard sets it; one gas-detector reporting interval.
 */
export const DEFAULT_LATE_ALLOWANCE_MS = 5_000;

/**
 * A device whose readings keep arriving live but late, on one steady clock, for this much receive
 * time (two gas-detector intervals; proposal, no standard sets it) has had its clock set back: the engine re-bases its watermark
 * on the new clock. README "Clock jumps".
 */
export const DEFAULT_CLOCK_REBASE_MS = 10_000;

/** Where a signal comes from: a reading, an event or a registry device have these fields. */
export interface SignalSource {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass | undefined;
  readonly areaId: string | undefined;
}

/** What a signal takes from its rule. */
export interface SignalRule {
  readonly ruleId: string;
  readonly category: AlarmCategory;
  readonly priority: AlarmPriority;
  readonly level: string;
  readonly latched: boolean;
  readonly metric?: string | undefined;
}

/** What differs from signal to signal of one rule. */
export interface SignalFields {
  readonly value: number | boolean | undefined;
  readonly threshold: number | undefined;
  readonly message: string;
  readonly predictedAt?: number;
}

/** Builds a `RuleSignal`; `detectedAt` is read from the injected clock now. */
export function ruleSignal(
  source: SignalSource,
  rule: SignalRule,
  active: boolean,
  at: number,
  context: RuleContext,
  fields: SignalFields,
): RuleSignal {
  const signal: RuleSignal = {
    key: signalKey(source.siteId, source.deviceId, rule.ruleId),
    ruleId: rule.ruleId,
    siteId: source.siteId,
    deviceId: source.deviceId,
    deviceClass: source.deviceClass,
    areaId: source.areaId,
    category: rule.category,
    priority: rule.priority,
    level: rule.level,
    active,
    latched: rule.latched,
    metric: rule.metric,
    value: fields.value,
    threshold: fields.threshold,
    message: fields.message,
    at,
    detectedAt: context.clock(),
  };
  return fields.predictedAt === undefined ? signal : { ...signal, predictedAt: fields.predictedAt };
}

/** The cleared signal of a rule that a reload removed or disabled while it was active. */
export function removedRuleSignal(
  source: SignalSource,
  rule: SignalRule & { readonly setpoint?: number },
  at: number,
  context: RuleContext,
): RuleSignal {
  return ruleSignal(source, rule, false, at, context, {
    value: undefined,
    threshold: rule.setpoint,
    message: `Rule ${rule.ruleId} removed or disabled by a configuration reload; no longer evaluated`,
  });
}

/** The numeric value of `metric` in a reading, or undefined (absent, boolean or not finite). */
export function numericValue(reading: Reading, metric: string): number | undefined {
  const value = reading.values[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `60 s`, `5 min`, `2 h`, `1.5 d`: durations in messages. */
export function formatDuration(ms: number): string {
  if (ms < 120_000) return formatSeconds(ms);
  if (ms < 7_200_000) return `${formatNumber(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${formatNumber(ms / 3_600_000)} h`;
  return `${formatNumber(ms / 86_400_000)} d`;
}

/** `2025-11-23T12:34:56Z`: an epoch-ms instant in UTC, for messages that state a time. */
export function formatInstant(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
