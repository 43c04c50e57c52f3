import { z } from 'zod';

import { ALARM_CATEGORIES, METRIC_NAME_PATTERN } from '@vigil/contracts';

/** Rule ids are keys in registry files and part of every signal key. */
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const RULE_KINDS = ['threshold', 'offline'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const ruleIdSchema = z.string().regex(RULE_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63}');
const prioritySchema = z.literal([1, 2, 3, 4]);
const delayMsSchema = z.int().min(0).max(86_400_000);

/**
 * A set-point rule with hysteresis and delays (ISA-18.2 / OPC UA Part 9 §B.1.5 semantics, see
 * README): raise after the value stays beyond `setpoint` for `onDelayMs` of event time; clear after
 * it stays inside `setpoint ∓ deadband` for `offDelayMs`.
 */
export const thresholdRuleConfigSchema = z.strictObject({
  ruleId: ruleIdSchema,
  kind: z.literal('threshold'),
  metric: z.string().regex(METRIC_NAME_PATTERN, 'must be a metric name such as lel or temp_c_1'),
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

export const ruleConfigSchema = z.discriminatedUnion('kind', [
  thresholdRuleConfigSchema,
  offlineRuleConfigSchema,
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
    metric: thresholdRuleConfigSchema.shape.metric,
    direction: thresholdRuleConfigSchema.shape.direction,
    setpoint: thresholdRuleConfigSchema.shape.setpoint,
    deadband: thresholdRuleConfigSchema.shape.deadband,
    onDelayMs: delayMsSchema,
    offDelayMs: delayMsSchema,
    latched: z.boolean(),
    priority: prioritySchema,
    category: z.enum(ALARM_CATEGORIES),
    level: thresholdRuleConfigSchema.shape.level,
    enabled: z.boolean(),
    label: z.string().min(1).max(64),
    unit: z.string().max(16),
    timeoutMs: offlineRuleConfigSchema.shape.timeoutMs,
  })
  .partial();
export type RuleOverride = z.infer<typeof ruleOverrideSchema>;

/** The `rules:` map of one registry layer: rule id → partial override. */
export const ruleOverrideLayerSchema = z.record(ruleIdSchema, ruleOverrideSchema);
export type RuleOverrideLayer = z.infer<typeof ruleOverrideLayerSchema>;
