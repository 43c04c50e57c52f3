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
 * input:  -a--b--t--|    a: lel 30, b: lel 55 (one gas-combustible detector), t: a tick
 * output: -x--y-----|    x: gas-l1 active, y: gas-l2 active
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
