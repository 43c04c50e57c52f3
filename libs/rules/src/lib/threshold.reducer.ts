import type { Reading, RuleSignal } from '@vigil/contracts';

import { type ConditionState, conditionStates, stepCondition, unchangedStep } from './condition';
import type { ThresholdRuleConfig } from './rule-config';
import { type RuleContext, type RuleStep, formatQuantity, signalKey } from './rule-signal';

/**
 * One (device, threshold rule) pair: the delayed condition of `condition.ts`. The two steady
 * states are shared constants, so a device that is not changing state costs no memory of its own.
 */
export type ThresholdState = ConditionState<'threshold'>;

/** The kind's two steady states, shared; a restored or reconciled state without a pending delay is one of them. */
export const THRESHOLD_STATES = conditionStates('threshold');
/** The steady active state: an engine restarted under an open alarm starts here. */
export const THRESHOLD_ACTIVE = THRESHOLD_STATES.active;
export const THRESHOLD_INACTIVE: ThresholdState = THRESHOLD_STATES.inactive;

/**
 * Set-point rule with deadband and on/off delays on event time (OPC UA Part 9 §B.1.5 semantics):
 *
 * - inactive → active when the value is at or beyond the set-point (`≥` high, `≤` low) at every
 *   reading spanning at least `onDelayMs` of `reading.ts`;
 * - active → inactive when it is strictly inside `setpoint − deadband` (high) or
 *   `setpoint + deadband` (low) at every reading spanning at least `offDelayMs`.
 *
 * A delay completes at the first reading after it elapsed; a reading back on the wrong side
 * restarts it. Readings without the metric, or with a boolean value, change nothing. Readings must
 * arrive in event-time order per device: the engine drops late ones (`THRESHOLD_KIND`).
 * A latched rule still emits its clear: latching is the alarm lifecycle's job.
 */
export function reduceThreshold(
  state: ThresholdState,
  reading: Reading,
  rule: ThresholdRuleConfig,
  context: RuleContext,
): RuleStep<ThresholdState> {
  const value = reading.values[rule.metric];
  if (typeof value !== 'number' || !Number.isFinite(value))
    return unchangedStep(THRESHOLD_STATES, state);
  const high = rule.direction === 'high';
  const beyond = high ? value >= rule.setpoint : value <= rule.setpoint;
  const inside = high
    ? value < rule.setpoint - rule.deadband
    : value > rule.setpoint + rule.deadband;
  const next = stepCondition(
    THRESHOLD_STATES,
    state,
    reading.ts,
    beyond,
    inside,
    rule.onDelayMs,
    rule.offDelayMs,
  );
  if (next.active === state.active) return unchangedStep(THRESHOLD_STATES, next);
  return { state: next, signals: [thresholdSignal(reading, rule, next.active, value, context)] };
}

function thresholdSignal(
  reading: Reading,
  rule: ThresholdRuleConfig,
  active: boolean,
  value: number,
  context: RuleContext,
): RuleSignal {
  return {
    key: signalKey(reading.siteId, reading.deviceId, rule.ruleId),
    ruleId: rule.ruleId,
    siteId: reading.siteId,
    deviceId: reading.deviceId,
    deviceClass: reading.deviceClass,
    areaId: reading.areaId,
    category: rule.category,
    priority: rule.priority,
    level: rule.level,
    active,
    latched: rule.latched,
    metric: rule.metric,
    value,
    threshold: rule.setpoint,
    message: active ? raisedMessage(rule, value) : clearedMessage(rule, value),
    at: reading.ts,
    detectedAt: context.clock(),
  };
}

/** `Combustible gas 62 %LEL ≥ L2 set-point 50 %LEL` */
export function raisedMessage(rule: ThresholdRuleConfig, value: number): string {
  const comparison = rule.direction === 'high' ? '≥' : '≤';
  return (
    `${rule.label ?? rule.metric} ${formatQuantity(value, rule.unit)} ${comparison} ` +
    `${rule.level} set-point ${formatQuantity(rule.setpoint, rule.unit)}`
  );
}

/** `Combustible gas 42 %LEL back below 45 %LEL (L2 set-point 50 %LEL − deadband 5 %LEL)` */
export function clearedMessage(rule: ThresholdRuleConfig, value: number): string {
  const high = rule.direction === 'high';
  const what = `${rule.label ?? rule.metric} ${formatQuantity(value, rule.unit)} back ${high ? 'below' : 'above'}`;
  const setpoint = `${rule.level} set-point ${formatQuantity(rule.setpoint, rule.unit)}`;
  if (rule.deadband === 0) return `${what} ${setpoint}`;
  const clearPoint = high ? rule.setpoint - rule.deadband : rule.setpoint + rule.deadband;
  return (
    `${what} ${formatQuantity(clearPoint, rule.unit)} ` +
    `(${setpoint} ${high ? '−' : '+'} deadband ${formatQuantity(rule.deadband, rule.unit)})`
  );
}
