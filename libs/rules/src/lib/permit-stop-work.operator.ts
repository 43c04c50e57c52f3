import type { OperatorFunction } from 'rxjs';

import type { RuleSignal } from '@vigil/contracts';

import {
  type PermitStopWorkOptions,
  type PermitStopWorkState,
  createPermitStopWorkState,
  reducePermitStopWork,
} from './permit-stop-work.reducer';
import { reducerOperator } from './reducer-operator';
import type { EngineInput } from './rule-signal';

export interface PermitStopWorkOperatorOptions extends PermitStopWorkOptions {
  /** Called once per subscription with its fresh state (the latest gas readings per area). */
  readonly onState?: (state: PermitStopWorkState) => void;
}

/**
 * Stop-work alarms of special-operation permits (停止作业): one P1 per permit whose area's gas
 * leaves the permit's limits while the work is on. Input: the device engine's input (records and
 * ticks, `withTicks`); the permits are read through `options.permits` at each step.
 *
 * ```
 * records: a b t |   a: gd-1 lel 3 in the permit's area (limit ≤ 10 %LEL)
 *                    b: gd-1 lel 14 → S (P1 active, members = workers + people inside)
 *                    t: tick after the permit was closed → C (cleared)
 * output:  - S C |
 * ```
 *
 * Errors and completion of the source pass through; state lives as long as the subscription.
 */
export function permitStopWork(
  options: PermitStopWorkOperatorOptions,
): OperatorFunction<EngineInput, RuleSignal> {
  return reducerOperator<PermitStopWorkState, EngineInput>(
    () => {
      const state = createPermitStopWorkState();
      options.onState?.(state);
      return state;
    },
    (state, input) => reducePermitStopWork(state, input, options),
  );
}
