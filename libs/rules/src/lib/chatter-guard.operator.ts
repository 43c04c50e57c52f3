import { type OperatorFunction, type SchedulerLike, asyncScheduler, pipe } from 'rxjs';

import type { RuleSignal } from '@vigil/contracts';

import {
  type ChatterGuardConfig,
  type ChatterGuardState,
  DEFAULT_CHATTER_GUARD,
  createChatterGuardState,
  reduceChatterGuard,
} from './chatter-guard.reducer';
import { reducerOperator } from './reducer-operator';
import type { EngineTick } from './rule-signal';
import { DEFAULT_TICK_MS, interleaveTicks } from './ticks.operator';

export interface ChatterGuardOptions extends Partial<ChatterGuardConfig> {
  /** How often held keys are checked for release (default 1 s). */
  readonly tickMs?: number;
  /**
   * Where ticks come from; its clock must be the rule engine's `clock` (the signals'
   * `detectedAt`): `Date.now` and `asyncScheduler` in the app, a `TestScheduler` in tests.
   */
  readonly scheduler?: SchedulerLike;
  /**
   * Signals that pass through untouched and leave no trace in the guard: those of records
   * evaluated again after a restart (their changes are in the alarm journal already, and the
   * caller drops them). Counted as changes they would make the first live change of a key look
   * like the third within the window: held active as chattering, its clear held back.
   */
  readonly bypass?: (signal: RuleSignal) => boolean;
}

/**
 * Holds chattering signal keys active (ISA-18.2 / EEMUA: ≥ 3 state changes within 60 s; hold
 * with a 60 s off-delay, domain-standards §8 and §9.8): the change that would be the third within
 * the window goes out as one `active: true, chattering: true` signal, later changes are held
 * back, and after 60 s without a change the key's real state goes out with `chattering: false`.
 * Apply it to the rule engine's output. Completes and errors with its source; a key still held
 * at completion is not released.
 *
 * ```
 * signals: -a-b-c-d-----------|   a, c: raise, b, d: clear of one key, 10 ms apart; window 60
 * output:  -a-b-X------------E|   X: held active, chattering; E: 60 after d, cleared, not chattering
 * ```
 *
 * @see reduceChatterGuard, README "Chattering".
 */
export function chatterGuard(
  options: ChatterGuardOptions = {},
): OperatorFunction<RuleSignal, RuleSignal> {
  const config: ChatterGuardConfig = {
    windowMs: options.windowMs ?? DEFAULT_CHATTER_GUARD.windowMs,
    transitions: options.transitions ?? DEFAULT_CHATTER_GUARD.transitions,
    holdMs: options.holdMs ?? DEFAULT_CHATTER_GUARD.holdMs,
  };
  return pipe(
    interleaveTicks<RuleSignal>(
      options.tickMs ?? DEFAULT_TICK_MS,
      options.scheduler ?? asyncScheduler,
    ),
    reducerOperator<ChatterGuardState, RuleSignal | EngineTick>(
      createChatterGuardState,
      (state, input) =>
        !('kind' in input) && options.bypass?.(input)
          ? { state, signals: [input] }
          : reduceChatterGuard(state, input, config),
    ),
  );
}
