import { Observable, type OperatorFunction } from 'rxjs';

import type { RuleSignal } from '@vigil/contracts';

import type { RuleStep } from './rule-signal';

/**
 * Runs a reducer over a stream and emits each step's signals, in order. Every subscription gets
 * its own state from `initial()`, so a retry starts clean. Source errors and completion pass
 * through; an exception thrown by the reducer (a bug in our code, never bad device data) errors
 * the output instead of being swallowed. Unsubscribing unsubscribes from the source.
 *
 * A hand-written loop rather than `scan` + `mergeMap`: one reading costs one function call and
 * no inner subscription (STYLE.md "The hot path").
 */
export function reducerOperator<S, I>(
  initial: () => S,
  reduce: (state: S, input: I) => RuleStep<S>,
): OperatorFunction<I, RuleSignal> {
  return source =>
    new Observable<RuleSignal>(subscriber => {
      let state = initial();
      return source.subscribe({
        next: input => {
          let step: RuleStep<S>;
          try {
            step = reduce(state, input);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          state = step.state;
          for (const signal of step.signals) {
            if (subscriber.closed) return;
            subscriber.next(signal);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
