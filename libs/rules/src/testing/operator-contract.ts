import { type Observable, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

import type { RuleSignal } from '@vigil/contracts';

import type { RuleContext } from '../lib/rule-signal';

export interface ContractInputs<I> {
  /** Emitted first, together in one frame, in every scenario; must emit nothing. */
  readonly setup?: readonly I[];
  /** After `setup`, makes the operator emit `expected`. */
  readonly trigger: I;
  /** After `setup`, before or after `trigger`, emits nothing. */
  readonly quiet: I;
  readonly expected: RuleSignal;
}

/**
 * The behaviour every rule operator shares (STYLE.md: marble tests for empty, error, completion
 * and disposal): registers one `it` per property.
 */
export function itBehavesLikeARuleOperator<I>(
  operator: (context: RuleContext) => OperatorFunction<I, RuleSignal>,
  inputs: ContractInputs<I>,
  context: RuleContext,
): void {
  const scheduler = () =>
    new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  const { trigger, quiet, expected } = inputs;
  const setup = inputs.setup ?? [];
  const setupKeys = setup.map((_, index) => String.fromCharCode(65 + index)); // A, B, …
  // In run mode a group `(AB)` takes as many frames as it has characters; `-` pads the output.
  const prefix = setup.length > 0 ? `(${setupKeys.join('')})` : '';
  const pad = '-'.repeat(prefix.length);
  const values: Record<string, I> = { a: trigger, q: quiet };
  setupKeys.forEach((key, index) => (values[key] = setup[index] as I));

  it('completes at once on an empty source', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<I>('|').pipe(operator(context))).toBe('|');
    });
  });

  it('stays silent on a source that never emits', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<I>('-').pipe(operator(context))).toBe('-');
    });
  });

  it('passes an error in the source through after the signals before it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold(`${prefix}-a-#`, values, new Error('broker down'));
      expectObservable(source.pipe(operator(context))).toBe(
        `${pad}-S-#`,
        { S: expected },
        new Error('broker down'),
      );
    });
  });

  it('completes with its source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(`${prefix}-q-a-|`, values);
      expectObservable(source.pipe(operator(context))).toBe(`${pad}---S-|`, { S: expected });
      expectSubscriptions(source.subscriptions).toBe(`^${pad}----!`);
    });
  });

  it('unsubscribes from the source when disposed early', () => {
    scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(`${prefix}-a-q-a-|`, values);
      const unsubscribe = `^${pad}--!`;
      expectObservable(source.pipe(operator(context)), unsubscribe).toBe(`${pad}-S-`, {
        S: expected,
      });
      expectSubscriptions(source.subscriptions).toBe(unsubscribe);
    });
  });

  it('errors when the rule itself throws, instead of swallowing the bug', () => {
    const broken: RuleContext = {
      clock: () => {
        throw new Error('clock broken');
      },
    };
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(`${prefix}-q-a-q-|`, values);
      expectObservable(source.pipe(operator(broken))).toBe(
        `${pad}---#`,
        undefined,
        new Error('clock broken'),
      );
      expectSubscriptions(source.subscriptions).toBe(`^${pad}--!`);
    });
  });

  it('starts from a clean state on every subscription', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const signals: Observable<RuleSignal> = cold(`${prefix}-a-|`, values).pipe(operator(context));
      expectObservable(signals).toBe(`${pad}-S-|`, { S: expected });
      expectObservable(signals).toBe(`${pad}-S-|`, { S: expected });
    });
  });
}
