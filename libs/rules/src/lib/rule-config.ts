import { z } from 'zod';

import { ALARM_CATEGORIES, EVENT_CODE_PATTERN, METRIC_NAME_PATTERN } from '@vigil/contracts';

/** Rule ids are keys in registry files and part of every signal key. */
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const RULE_KINDS = [
  'threshold',
  'offline',
  'range',
  'stuck',
  'rate',
  'trend',
  'skew',
  'event',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const ruleIdSchema = z.string().regex(RULE_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63}');
const prioritySchema = z.literal([1, 2, 3, 4]);
const delayMsSchema = z.int().min(0).max(86_400_000);
const metricSchema = z
  .string()
  .regex(METRIC_NAME_PATTERN, 'must be a metric name such as lel or temp_c_1');
/** Window of the rate and trend rules: 1 s to 24 h of event time. */
const windowMsSchema = z.int().min(1000).max(86_400_000);
const levelSchema = z.string().min(1).max(16);
const labelSchema = z.string().min(1).max(64);
const unitSchema = z.string().max(16);

/** Fields every rule kind except `offline` has (see the threshold rule for their meaning). */
const commonFields = {
  ruleId: ruleIdSchema,
  latched: z.boolean(),
  priority: prioritySchema,
  category: z.enum(ALARM_CATEGORIES),
  level: levelSchema,
  enabled: z.boolean(),
  label: labelSchema.optional(),
  unit: unitSchema.optional(),
};

/**
 * A set-point rule with hysteresis and delays (ISA-18.2 / OPC UA Part 9 §B.1.5 semantics, see
 * README): raise after the value stays beyond `setpoint` for `onDelayMs` of event time; clear after
 * it stays inside `setpoint ∓ deadband` for `offDelayMs`.
 */
export const thresholdRuleConfigSchema = z.strictObject({
  ruleId: ruleIdSchema,
  kind: z.literal('threshold'),
  metric: metricSchema,
  direction: z.enum(['high', 'low']),
  setpoint: z.number(),
  deadband: z.number().min(0),
  onDelayMs: delayMsSchema,
  offDelayMs: delayMsSchema,
  latched: z.boolean(),
  priority: prioritySchema,
  category: z.enum(ALARM_CATEGORIES),
  /** Shown in signals and messages: `L1`, `L2`, `low`, `high`, … */
  level: z.string().min(1).max(16),
  enabled: z.boolean(),
  /** What the metric measures, for messages (`Combustible gas`, `H2S`); the metric name if absent. */
  label: z.string().min(1).max(64).optional(),
  /** Unit for messages (`%LEL`, `ppm`); none if absent. */
  unit: z.string().max(16).optional(),
});
export type ThresholdRuleConfig = z.infer<typeof thresholdRuleConfigSchema>;

/** No data from a device for `timeoutMs` of server time, or its MQTT last will, raises `offline`. */
export const offlineRuleConfigSchema = z.strictObject({
  ruleId: z.literal('offline'),
  kind: z.literal('offline'),
  timeoutMs: z.int().min(1000).max(86_400_000),
  priority: prioritySchema,
  category: z.literal('quality'),
  enabled: z.boolean(),
});
export type OfflineRuleConfig = z.infer<typeof offlineRuleConfigSchema>;

/**
 * Measuring-range check (data quality): raised when the value stays below `low` or above `high`
 * for `onDelayMs` of event time, cleared when it stays inside `[low, high]` for `offDelayMs`.
 * At least one bound.
 */
export const rangeRuleConfigSchema = z
  .strictObject({
    ...commonFields,
    kind: z.literal('range'),
    metric: metricSchema,
    low: z.number().optional(),
    high: z.number().optional(),
    onDelayMs: delayMsSchema,
    offDelayMs: delayMsSchema,
  })
  .refine(rule => rule.low !== undefined || rule.high !== undefined, {
    message: 'a range rule needs low, high or both',
    path: ['low'],
  })
  .refine(rule => rule.low === undefined || rule.high === undefined || rule.low < rule.high, {
    message: 'low must be below high',
    path: ['high'],
  });
export type RangeRuleConfig = z.infer<typeof rangeRuleConfigSchema>;

/**
 * Flat-line (stuck value): raised when every reading for `durationMs` of event time stays within
 * `minDelta` of the others (max − min < minDelta); cleared by the first reading that breaks it.
 * `skipZero`: a flat line near zero (every value within ±minDelta of 0) is normal clean air.
 */
export const stuckRuleConfigSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('stuck'),
  metric: metricSchema,
  minDelta: z.number().positive(),
  durationMs: z
    .int()
    .min(60_000)
    .max(30 * 86_400_000),
  skipZero: z.boolean(),
});
export type StuckRuleConfig = z.infer<typeof stuckRuleConfigSchema>;

/**
 * Rate of change: raised when the value has risen (`rise`) or fallen (`fall`) by at least `delta`
 * within `windowMs` of event time, optionally only while it is still `below` (rise) or `above`
 * (fall) a level (e.g. the L1 set-point: beyond it the alarm itself speaks). Cleared when the
 * change over the window is back under `delta − deadband`.
 */
export const rateRuleConfigSchema = z
  .strictObject({
    ...commonFields,
    kind: z.literal('rate'),
    metric: metricSchema,
    direction: z.enum(['rise', 'fall']),
    delta: z.number().positive(),
    deadband: z.number().min(0),
    windowMs: windowMsSchema,
    below: z.number().optional(),
    above: z.number().optional(),
  })
  .refine(rule => rule.deadband < rule.delta, {
    message: 'deadband must be below delta',
    path: ['deadband'],
  })
  .refine(rule => rule.below === undefined || rule.direction === 'rise', {
    message: 'below only applies to a rise',
    path: ['below'],
  })
  .refine(rule => rule.above === undefined || rule.direction === 'fall', {
    message: 'above only applies to a fall',
    path: ['above'],
  });
export type RateRuleConfig = z.infer<typeof rateRuleConfigSchema>;

/**
 * Trend forecast: a least-squares line through the readings of the last `windowMs` (event time,
 * at least `minSamples`, spread over at least half the window). Raised when the value has not
 * reached `target` yet, the line has moved toward it by at least `minDelta` over the window (so
 * that noise on a steady value never forecasts anything), and it crosses `target` within
 * `horizonMs`; cleared when the crossing is no longer predicted within `clearHorizonMs`.
 */
export const trendRuleConfigSchema = z
  .strictObject({
    ...commonFields,
    kind: z.literal('trend'),
    metric: metricSchema,
    direction: z.enum(['high', 'low']),
    target: z.number(),
    minDelta: z.number().positive(),
    windowMs: windowMsSchema,
    horizonMs: z
      .int()
      .min(1000)
      .max(7 * 86_400_000),
    clearHorizonMs: z
      .int()
      .min(1000)
      .max(14 * 86_400_000),
    minSamples: z.int().min(3).max(1000),
  })
  .refine(rule => rule.clearHorizonMs >= rule.horizonMs, {
    message: 'clearHorizonMs must be at least horizonMs',
    path: ['clearHorizonMs'],
  });
export type TrendRuleConfig = z.infer<typeof trendRuleConfigSchema>;

/**
 * Device clock skew (`reading.clockSkewMs`): raised when |skew| > `maxSkewMs` on every reading
 * spanning `onDelayMs` of server time (`receivedAt`), cleared by a reading with |skew| ≤
 * `clearSkewMs`.
 */
export const skewRuleConfigSchema = z
  .strictObject({
    ...commonFields,
    kind: z.literal('skew'),
    maxSkewMs: z.int().min(1000).max(86_400_000),
    clearSkewMs: z.int().min(0).max(86_400_000),
    onDelayMs: delayMsSchema,
  })
  .refine(rule => rule.clearSkewMs < rule.maxSkewMs, {
    message: 'clearSkewMs must be below maxSkewMs',
    path: ['clearSkewMs'],
  });
export type SkewRuleConfig = z.infer<typeof skewRuleConfigSchema>;

/** `detail.level` values a device sends: short names such as L1, pre-alarm. */
const eventLevelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, 'must be a level such as L1'), prioritySchema)
  .refine(levels => Object.keys(levels).length <= 8, 'at most 8 levels');

/**
 * A device event (`fault`, `fire`, `sos`, …). `hold`: the event raises, and a later event with the
 * same code and `detail.cleared: true`, or any code of `clearCodes` (a panel `reset`), clears.
 * `pulse`: a momentary event that raises and clears in the same step; keep it `latched` so the
 * alarm lifecycle holds it until an operator resets it.
 */
export const eventRuleConfigSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('event'),
  code: z.string().regex(EVENT_CODE_PATTERN, 'must be an event code such as fault'),
  mode: z.enum(['hold', 'pulse']),
  clearCodes: z.array(z.string().regex(EVENT_CODE_PATTERN)).max(8),
  /**
   * The device's own levels (`detail.level`, e.g. L1/L2, pre-alarm/alarm) → alarm priority; the
   * alarm takes the device's level. Absent: the rule's level and priority for every event.
   */
  levels: eventLevelsSchema.optional(),
  /** Fire rules: two points of a zone with a confirmation window → a confirmed fire (P1). */
  confirmZones: z.boolean().optional(),
});
export type EventRuleConfig = z.infer<typeof eventRuleConfigSchema>;

export const ruleConfigSchema = z.discriminatedUnion('kind', [
  thresholdRuleConfigSchema,
  offlineRuleConfigSchema,
  rangeRuleConfigSchema,
  stuckRuleConfigSchema,
  rateRuleConfigSchema,
  trendRuleConfigSchema,
  skewRuleConfigSchema,
  eventRuleConfigSchema,
]);
export type RuleConfig = z.infer<typeof ruleConfigSchema>;

/**
 * One rule's override in a registry layer (profile, area or device): any subset of the fields of
 * any rule kind, without `ruleId` (the key names the rule). Unknown fields are rejected so that a
 * typo such as `setPoint` fails at start instead of being ignored. Whether the merged result is a
 * valid rule is checked by `resolveDeviceRules`.
 */
export const ruleOverrideSchema = z
  .strictObject({
    kind: z.enum(RULE_KINDS),
    metric: metricSchema,
    direction: z.enum(['high', 'low', 'rise', 'fall']),
    setpoint: thresholdRuleConfigSchema.shape.setpoint,
    deadband: thresholdRuleConfigSchema.shape.deadband,
    onDelayMs: delayMsSchema,
    offDelayMs: delayMsSchema,
    latched: z.boolean(),
    priority: prioritySchema,
    category: z.enum(ALARM_CATEGORIES),
    level: levelSchema,
    enabled: z.boolean(),
    label: labelSchema,
    unit: unitSchema,
    timeoutMs: offlineRuleConfigSchema.shape.timeoutMs,
    low: z.number(),
    high: z.number(),
    minDelta: stuckRuleConfigSchema.shape.minDelta,
    durationMs: stuckRuleConfigSchema.shape.durationMs,
    skipZero: z.boolean(),
    delta: rateRuleConfigSchema.shape.delta,
    windowMs: windowMsSchema,
    below: z.number(),
    above: z.number(),
    target: z.number(),
    horizonMs: trendRuleConfigSchema.shape.horizonMs,
    clearHorizonMs: trendRuleConfigSchema.shape.clearHorizonMs,
    minSamples: trendRuleConfigSchema.shape.minSamples,
    maxSkewMs: skewRuleConfigSchema.shape.maxSkewMs,
    clearSkewMs: skewRuleConfigSchema.shape.clearSkewMs,
    code: eventRuleConfigSchema.shape.code,
    mode: eventRuleConfigSchema.shape.mode,
    clearCodes: eventRuleConfigSchema.shape.clearCodes,
    levels: eventLevelsSchema,
    confirmZones: z.boolean(),
  })
  .partial();
export type RuleOverride = z.infer<typeof ruleOverrideSchema>;

/** The `rules:` map of one registry layer: rule id → partial override. */
export const ruleOverrideLayerSchema = z.record(ruleIdSchema, ruleOverrideSchema);
export type RuleOverrideLayer = z.infer<typeof ruleOverrideLayerSchema>;
