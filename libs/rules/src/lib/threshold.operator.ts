import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { reducerOperator } from './reducer-operator';
import type { ThresholdRuleConfig } from './rule-config';
import type { RuleContext } from './rule-signal';
import { type ThresholdStreamState, reduceThresholdStream } from './threshold.reducer';

/**
 * Emits a `RuleSignal` each time a device enters or leaves the rule's condition: `active` once
 * the value has stayed beyond the set-point for `onDelayMs` of event time, `cleared` once it has
 * stayed past the clear point (set-point ∓ deadband) for `offDelayMs`. Never two signals of the same state in a row per
 * device; noise inside the deadband never flaps it. Errors and completion of the source pass
 * through; state lives only as long as the subscription.
 *
 * ```
 * readings: -a--b--c--d--|   a..d: lel 10, 30, 22, 19; gas-l1: set-point 25, deadband 5, no delays
 * output:   ----A-----C--|   A: active at 30; 22 is inside the deadband; C: cleared at 19 (< 20)
 * ```
 *
 * @see reduceThreshold for the state machine, README "Threshold semantics".
 */
export function thresholdRule(
  rule: ThresholdRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<ThresholdStreamState, Reading>(
    () => new Map(),
    (devices, reading) => reduceThresholdStream(devices, reading, rule, context),
  );
}
