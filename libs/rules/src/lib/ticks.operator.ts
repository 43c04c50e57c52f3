import {
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  asyncScheduler,
  interval,
} from 'rxjs';

import type { IngestRecord } from '@vigil/contracts';

import type { EngineInput, EngineTick } from './rule-signal';

/** One tick a second: the offline rule's resolution (brief; 1 s ≪ the 30–100 s timeouts). */
export const DEFAULT_TICK_MS = 1000;

/**
 * Interleaves a `{ kind: 'tick', now }` every `periodMs` (on `scheduler`, `now` = its clock)
 * with the records, so that time-based rules fire while no data arrives. Completes when the
 * records complete and errors when they error; the ticks stop with them.
 *
 * ```
 * records: --a-----b--|        periodMs = 4
 * output:  --a-T---bT-|        T = { kind: 'tick', now: 4 }, { kind: 'tick', now: 8 }
 * ```
 */
export function withTicks(
  periodMs: number = DEFAULT_TICK_MS,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<IngestRecord, EngineInput> {
  return interleaveTicks<IngestRecord>(periodMs, scheduler);
}

/** `withTicks` for any input type (the chatter guard interleaves ticks with signals). */
export function interleaveTicks<T>(
  periodMs: number = DEFAULT_TICK_MS,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, T | EngineTick> {
  return source =>
    new Observable<T | EngineTick>(subscriber => {
      const ticks = interval(periodMs, scheduler).subscribe(() => {
        const tick: EngineTick = { kind: 'tick', now: scheduler.now() };
        subscriber.next(tick);
      });
      const inputs = source.subscribe({
        next: input => subscriber.next(input),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        ticks.unsubscribe();
        inputs.unsubscribe();
      };
    });
}
