import type { OperatorFunction } from 'rxjs';

import type { RuleSignal } from '@vigil/contracts';

import { reducerOperator } from './reducer-operator';
import {
  type RuleEngineOptions,
  type RuleEngineState,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { EngineInput } from './rule-signal';

/**
 * Runs every device's rules over the ingest records and emits their signals. Records of one device
 * are evaluated in arrival order, rule by rule in configured order; devices are independent. Ticks
 * (`withTicks`) drive the offline deadlines. All device state lives in one map (no subscription
 * per device), so 100,000 devices fit in a few tens of MB (README "State size"). A device whose
 * `lookupDevice` result changes is reloaded (`reloadRules`). Source errors and completion pass
 * through; state lives as long as the subscription.
 *
 * ```
 * input:  -r1--r2--T--|    r1 lel 30, r2 lel 55 (gas-combustible), T = tick
 * output: -a---b------|    a = gas-l1 active, b = gas-l2 active
 * ```
 *
 * @see reduceRuleEngine, reloadRules, README.
 */
export function ruleEngine(options: RuleEngineOptions): OperatorFunction<EngineInput, RuleSignal> {
  return reducerOperator<RuleEngineState, EngineInput>(
    () => createRuleEngineState(options),
    (state, input) => reduceRuleEngine(state, input, options),
  );
}
