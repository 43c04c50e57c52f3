import { FUTURE_TOLERANCE_MS, type Reading } from '@vigil/contracts';

import { type ConditionState, conditionStates, stepCondition, unchangedStep } from './condition';
import type { SkewRuleConfig } from './rule-config';
import { type RuleContext, type RuleStep, formatDuration, ruleSignal } from './rule-signal';

/** One (device, clock-skew rule) pair; the delay runs on server time (`receivedAt`). */
export type SkewState = ConditionState<'skew'>;

/** The kind's two steady states, shared; a restored or reconciled state without a pending delay is one of them. */
export const SKEW_STATES = conditionStates('skew');
export const SKEW_INACTIVE: SkewState = SKEW_STATES.inactive;

/**
 * Device clock skew (domain-standards §9.8 clock-skew row, P): raised once |`clockSkewMs`| has been
 * above `maxSkewMs` at every reading spanning `onDelayMs` of server time, cleared by the first
 * reading with |skew| ≤ `clearSkewMs` (between the two nothing changes).
 *
 * The delay runs on `receivedAt`, not on event time, because a gateway that uploads a buffered
 * batch delivers old samples whose skew looks large: they all arrive at once, so they never span
 * the delay, while a clock that is really wrong stays wrong on readings received minutes apart.
 * Readings must come in receive-time order, whatever their `ts`: a clock set back makes every
 * reading look late against the device's watermark, and those readings are the evidence (the
 * engine and `clockSkewRule` skip only readings received before the device's newest one).
 * Readings without a device timestamp (`clockSkewMs` undefined) change nothing.
 *
 * A reading whose device time was replaced because it ran more than FUTURE_TOLERANCE_MS ahead
 * (`clockCorrected`, issue 10 finding 6) counts as skewed whatever `maxSkewMs` says: its
 * timestamps are already not being used, and the operator must know why.
 */
export function reduceSkew(
  state: SkewState,
  reading: Reading,
  rule: SkewRuleConfig,
  context: RuleContext,
): RuleStep<SkewState> {
  const skew = reading.clockSkewMs;
  if (skew === undefined || !Number.isFinite(skew)) return unchangedStep(SKEW_STATES, state);
  const size = Math.abs(skew);
  const corrected = reading.clockCorrected !== undefined;
  const next = stepCondition(
    SKEW_STATES,
    state,
    reading.receivedAt,
    corrected || size > rule.maxSkewMs,
    !corrected && size <= rule.clearSkewMs,
    rule.onDelayMs,
    0,
  );
  if (next.active === state.active) return unchangedStep(SKEW_STATES, next);
  const direction = skew > 0 ? 'ahead of' : 'behind';
  const limit = corrected ? Math.min(FUTURE_TOLERANCE_MS, rule.maxSkewMs) : rule.maxSkewMs;
  const message = next.active
    ? `Device clock ${formatDuration(size)} ${direction} the server (more than ` +
      `${formatDuration(limit)}): its timestamps cannot be trusted` +
      (corrected ? '; its readings are evaluated on server time' : '')
    : `Device clock back within ${formatDuration(rule.clearSkewMs)} of the server ` +
      `(${formatDuration(size)} ${direction})`;
  return {
    state: next,
    signals: [
      ruleSignal(reading, rule, next.active, reading.ts, context, {
        value: skew,
        threshold: next.active ? limit : rule.maxSkewMs,
        message,
      }),
    ],
  };
}
