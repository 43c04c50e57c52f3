import { type OperatorFunction, type SchedulerLike, asyncScheduler, pipe } from 'rxjs';

import type { IngestRecord, RuleSignal } from '@vigil/contracts';

import {
  type OfflineOptions,
  type OfflineState,
  createOfflineState,
  reduceOffline,
} from './offline.reducer';
import { reducerOperator } from './reducer-operator';
import type { EngineInput } from './rule-signal';
import { DEFAULT_TICK_MS, withTicks } from './ticks.operator';

export interface OfflineOperatorOptions extends OfflineOptions {
  /** How often deadlines are checked (default 1 s): the detection delay is at most this much. */
  readonly tickMs?: number;
  /** Where ticks come from and what `now` they carry; a `TestScheduler` in tests. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Emits an active `offline` signal for a device silent for longer than its rule's `timeoutMs`
 * of server time (`receivedAt`), or at once on its MQTT last will; a cleared signal on the next
 * record from it. Deadlines are checked on a tick every `tickMs` on `scheduler`, looking only at
 * due devices. Completes with the records: a device due after that is not reported.
 *
 * ```
 * records (d1): 5ms a 9ms b 59ms c 9ms |   timeoutMs 30, tickMs 10; b last seen at 15
 * output:       50ms O 24ms C 9ms |        O = offline at the tick 50 (> 15 + 30), C = cleared by c
 * ```
 *
 * @see reduceOffline, README "Offline semantics".
 */
export function offlineRule(
  options: OfflineOperatorOptions,
): OperatorFunction<IngestRecord, RuleSignal> {
  const scheduler = options.scheduler ?? asyncScheduler;
  return pipe(
    withTicks(options.tickMs ?? DEFAULT_TICK_MS, scheduler),
    reducerOperator<OfflineState, EngineInput>(
      () => createOfflineState(options),
      (state, input) => reduceOffline(state, input, options),
    ),
  );
}
