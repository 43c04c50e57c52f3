import type { Reading, RuleSignal } from '@vigil/contracts';

import { type ConditionState, conditionStates, stepCondition, unchangedStep } from './condition';
import type { RangeRuleConfig } from './rule-config';
import {
  type RuleContext,
  type RuleStep,
  formatDuration,
  formatNumber,
  formatQuantity,
  numericValue,
  ruleSignal,
} from './rule-signal';

/** One (device, range rule) pair: the delayed condition "outside the measuring range". */
export type RangeState = ConditionState<'range'>;

/** The kind's two steady states, shared; a restored or reconciled state without a pending delay is one of them. */
export const RANGE_STATES = conditionStates('range');
/** The steady active state: an engine restarted under an open alarm starts here. */
export const RANGE_ACTIVE = RANGE_STATES.active;
export const RANGE_INACTIVE: RangeState = RANGE_STATES.inactive;

/**
 * Measuring-range check (data quality, domain-standards §9.1 under-range, §9.4 out of range):
 * raised once the value has been below `low` or above `high` at every reading spanning
 * `onDelayMs` of event time (60 s by default: one stray sample is not a fault), cleared once it has
 * been inside `[low, high]` for `offDelayMs`. A value outside the range is not an alarm about the
 * plant: the measurement cannot be trusted. In-order readings only (the engine filters).
 */
export function reduceRange(
  state: RangeState,
  reading: Reading,
  rule: RangeRuleConfig,
  context: RuleContext,
): RuleStep<RangeState> {
  const value = numericValue(reading, rule.metric);
  if (value === undefined) return unchangedStep(RANGE_STATES, state);
  const below = rule.low !== undefined && value < rule.low;
  const above = rule.high !== undefined && value > rule.high;
  const outside = below || above;
  const next = stepCondition(
    RANGE_STATES,
    state,
    reading.ts,
    outside,
    !outside,
    rule.onDelayMs,
    rule.offDelayMs,
  );
  if (next.active === state.active) return unchangedStep(RANGE_STATES, next);
  const label = rule.label ?? rule.metric;
  const range = describeRange(rule);
  const message = next.active
    ? `${label} ${formatQuantity(value, rule.unit)} ${below ? 'below' : 'above'} the measuring ` +
      `range ${range}${rule.onDelayMs > 0 ? ` for ${formatDuration(rule.onDelayMs)}` : ''}: ` +
      'the measurement cannot be trusted'
    : `${label} ${formatQuantity(value, rule.unit)} back inside the measuring range ${range}`;
  const threshold = below ? rule.low : above ? rule.high : nearestBound(rule, value);
  return {
    state: next,
    signals: [rangeSignal(reading, rule, next.active, value, threshold, message, context)],
  };
}

/** `−5 … 105 %`, `≥ −5 %LEL`, `≤ 2000 mA` */
export function describeRange(rule: RangeRuleConfig): string {
  const unit = rule.unit ? ` ${rule.unit}` : '';
  if (rule.low !== undefined && rule.high !== undefined) {
    return `${formatNumber(rule.low)} … ${formatNumber(rule.high)}${unit}`;
  }
  if (rule.low !== undefined) return `≥ ${formatNumber(rule.low)}${unit}`;
  return `≤ ${formatNumber(rule.high ?? 0)}${unit}`;
}

function nearestBound(rule: RangeRuleConfig, value: number): number | undefined {
  if (rule.low === undefined) return rule.high;
  if (rule.high === undefined) return rule.low;
  return value - rule.low < rule.high - value ? rule.low : rule.high;
}

function rangeSignal(
  reading: Reading,
  rule: RangeRuleConfig,
  active: boolean,
  value: number,
  threshold: number | undefined,
  message: string,
  context: RuleContext,
): RuleSignal {
  return ruleSignal(reading, rule, active, reading.ts, context, { value, threshold, message });
}
