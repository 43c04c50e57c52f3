import { type OperatorFunction, type SchedulerLike, asyncScheduler, pipe } from 'rxjs';

import type { RuleSignal } from '@vigil/contracts';

import { reducerOperator } from './reducer-operator';
import type { RuleConfig } from './rule-config';
import { ruleKindOf } from './rule-kinds';
import {
  type SingleRuleInput,
  type SingleRuleOptions,
  type SingleRuleState,
  createSingleRuleState,
  reduceSingleRule,
} from './single-rule.reducer';
import { DEFAULT_TICK_MS, interleaveTicks } from './ticks.operator';

export interface SingleRuleOperatorOptions extends SingleRuleOptions {
  /** Rules with deadlines (offline): how often they are checked (default 1 s). */
  readonly tickMs?: number;
  /** Where ticks come from and what `now` they carry; a `TestScheduler` in tests. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Any one rule, of any kind, over a stream of readings or ingest records: emits the rule's
 * signals for every device in the stream, each device with its own state. It runs the production
 * engine loop (`reduceSingleRule` → `reduceRuleEngine`) with the rule kind's descriptor, so its
 * marble tests test what runs in production; a rule kind with deadlines (offline) gets ticks
 * interleaved (`tickMs`, `scheduler`). Errors and completion of the source pass through; state
 * lives only as long as the subscription.
 *
 * ```
 * readings: -a--b--c--d--|   a..d: lel 10, 30, 22, 19; gas-l1: set-point 25, deadband 5, no delays
 * output:   ----A-----C--|   A: active at 30; 22 is inside the deadband; C: cleared at 19 (< 20)
 * ```
 *
 * @see RULE_KIND_DESCRIPTORS for each kind's step and order policy, README "Rule kinds".
 */
export function singleRule(
  rule: RuleConfig,
  options: SingleRuleOperatorOptions,
): OperatorFunction<SingleRuleInput, RuleSignal> {
  const evaluate = reducerOperator<SingleRuleState, SingleRuleInput>(
    () => createSingleRuleState(rule, options),
    reduceSingleRule,
  );
  if (!ruleKindOf(rule).deadlines) return evaluate;
  return pipe(
    interleaveTicks<SingleRuleInput>(
      options.tickMs ?? DEFAULT_TICK_MS,
      options.scheduler ?? asyncScheduler,
    ),
    evaluate,
  );
}
