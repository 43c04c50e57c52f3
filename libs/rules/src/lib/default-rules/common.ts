import { DEVICE_CLASS_DEFINITIONS, type AlarmPriority, type DeviceClass } from '@vigil/contracts';

import type {
  EventRuleConfig,
  RangeRuleConfig,
  RateRuleConfig,
  RuleConfig,
  SkewRuleConfig,
  StuckRuleConfig,
  TrendRuleConfig,
} from '../rule-config';
import {
  CLOCK_SKEW_CLEAR_MS,
  CLOCK_SKEW_MAX_MS,
  CLOCK_SKEW_ON_DELAY_MS,
  OUT_OF_RANGE_FRACTION,
  RANGE_ON_DELAY_MS,
  RATE_CLEAR_FRACTION,
  RATE_WINDOW_MS,
  STUCK_DURATION_MS,
} from './every-class';

/** What the defaults depend on: a registry device has these fields (and more). */
export interface RuleDevice {
  readonly deviceClass: DeviceClass;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly intervalSeconds: number;
}

export interface DefaultRules {
  readonly rules: readonly RuleConfig[];
  readonly errors: readonly string[];
}

export const GAS_CLASSES: ReadonlySet<DeviceClass> = new Set([
  'gas-combustible',
  'gas-toxic',
  'gas-oxygen',
]);

/**
 * One device family's defaults: appends its rules after `offline` (evaluation order, see
 * `defaultRules`) and its problems to `errors`.
 */
export type FamilyRules = (device: RuleDevice, rules: RuleConfig[], errors: string[]) => void;

export interface Measured {
  readonly metric: string;
  readonly label: string;
  readonly unit: string;
}

/** Sensor fault flag → FAULT at once (GB 15322.1 separate fault state, V; §9.1); P2 for gas. */
export function faultRule(gas: boolean): EventRuleConfig {
  return eventRule(
    'fault',
    'fault',
    'hold',
    gas ? 2 : 3,
    'quality',
    false,
    gas ? 'Detector fault reported: loss of gas protection' : 'Device fault reported',
    ['reset'],
  );
}

export function eventRule(
  ruleId: string,
  code: string,
  mode: EventRuleConfig['mode'],
  priority: AlarmPriority,
  category: EventRuleConfig['category'],
  latched: boolean,
  label: string,
  clearCodes: readonly string[] = ['reset'],
): EventRuleConfig {
  return {
    ruleId,
    kind: 'event',
    code,
    mode,
    clearCodes: mode === 'pulse' ? [] : [...clearCodes],
    priority,
    category,
    latched,
    level: ruleId,
    enabled: true,
    label,
  };
}

export function clockSkewRule(): SkewRuleConfig {
  return {
    ruleId: 'clock-skew',
    kind: 'skew',
    maxSkewMs: CLOCK_SKEW_MAX_MS,
    clearSkewMs: CLOCK_SKEW_CLEAR_MS,
    onDelayMs: CLOCK_SKEW_ON_DELAY_MS,
    priority: 4,
    category: 'quality',
    level: 'clock',
    latched: false,
    enabled: true,
    label: 'Device clock',
  };
}

export function rangeRule(
  { metric, label, unit }: Measured,
  low: number | undefined,
  high: number | undefined,
  ruleId = `range-${metric}`,
): RangeRuleConfig {
  return {
    ruleId,
    kind: 'range',
    metric,
    ...(low === undefined ? {} : { low: round(low) }),
    ...(high === undefined ? {} : { high: round(high) }),
    onDelayMs: RANGE_ON_DELAY_MS,
    offDelayMs: 0,
    // Sensor out of range is a non-critical fault (domain-standards §9 priorities, P3).
    priority: 3,
    category: 'quality',
    level: 'range',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

/** The measuring range: the device's (2 % tolerance, §9.4) or its class's (already tolerant). */
export function classRangeRule(
  device: RuleDevice,
  measured: Measured,
  errors: string[],
): RangeRuleConfig {
  const span = measuringSpan(device, measured.metric, errors);
  if (!span.given) return rangeRule(measured, span.classLow, span.classHigh);
  const margin = OUT_OF_RANGE_FRACTION * span.size;
  return rangeRule(measured, span.low - margin, span.high + margin);
}

export function stuckRule(
  { metric, label, unit }: Measured,
  minDelta: number,
  skipZero: boolean,
  ruleId = 'stuck',
): StuckRuleConfig {
  return {
    ruleId,
    kind: 'stuck',
    metric,
    minDelta,
    durationMs: STUCK_DURATION_MS,
    skipZero,
    // Stuck value → P4 DIAGNOSTIC "长时间不变" (domain-standards §9.1 / §9.4).
    priority: 4,
    category: 'quality',
    level: 'stuck',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

export function rateRule(
  ruleId: string,
  { metric, label, unit }: Measured,
  direction: RateRuleConfig['direction'],
  delta: number,
  priority: 2 | 3,
  guard: { readonly below?: number; readonly above?: number } = {},
): RateRuleConfig {
  return {
    ruleId,
    kind: 'rate',
    metric,
    direction,
    delta,
    deadband: round(delta * RATE_CLEAR_FRACTION),
    windowMs: RATE_WINDOW_MS,
    ...guard,
    priority,
    category: 'warning',
    level: direction === 'rise' ? 'rate-of-rise' : 'rate-of-fall',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

export function trendRule(
  ruleId: string,
  { metric, label, unit }: Measured,
  direction: TrendRuleConfig['direction'],
  target: number,
  shape: Pick<TrendRuleConfig, 'minDelta' | 'windowMs' | 'horizonMs' | 'minSamples'>,
): TrendRuleConfig {
  return {
    ruleId,
    kind: 'trend',
    metric,
    direction,
    target: round(target),
    ...shape,
    clearHorizonMs: 2 * shape.horizonMs,
    // Trends are early warnings: category warning, P3 (domain-standards §9 priorities).
    priority: 3,
    category: 'warning',
    level: 'trend',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

/**
 * A device's measuring range for its main metric: the attributes `rangeLow` / `rangeHigh` (a
 * profile such as "0–100 %LEL"), else `fallback`, else 0 … the class range's top. Other metrics
 * of multi-metric classes use the class range (`DEVICE_CLASS_DEFINITIONS`).
 */
export interface MeasuringSpan {
  /** Whether the device gave its range (`rangeLow` / `rangeHigh` attributes). */
  readonly given: boolean;
  readonly low: number;
  readonly high: number;
  readonly size: number;
  readonly classLow: number | undefined;
  readonly classHigh: number | undefined;
}

export function measuringSpan(
  device: RuleDevice,
  metric: string,
  errors: string[],
  fallback?: readonly [number, number],
): MeasuringSpan {
  const classRange = DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics[metric]?.range;
  const mainMetric = Object.keys(DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics)[0];
  const rawLow = metric === mainMetric ? device.attributes['rangeLow'] : undefined;
  const rawHigh = metric === mainMetric ? device.attributes['rangeHigh'] : undefined;
  const numeric = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value);
  let given = rawLow !== undefined || rawHigh !== undefined;
  if (given && !(numeric(rawLow) && numeric(rawHigh) && rawLow < rawHigh)) {
    errors.push(
      `attributes.rangeLow/rangeHigh: both must be numbers with rangeLow < rangeHigh ` +
        `(got ${JSON.stringify(rawLow)} and ${JSON.stringify(rawHigh)})`,
    );
    given = false;
  }
  const [low, high] =
    given && numeric(rawLow) && numeric(rawHigh)
      ? [rawLow, rawHigh]
      : (fallback ?? [0, classRange?.[1] ?? 100]);
  return {
    given,
    low,
    high,
    size: high - low,
    classLow: classRange?.[0],
    classHigh: classRange?.[1],
  };
}

/** 6 significant digits: set-points computed from factors read as the numbers people expect. */
export function round(value: number): number {
  return Number(value.toPrecision(6));
}
