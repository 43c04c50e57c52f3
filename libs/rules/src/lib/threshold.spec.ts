import { TestScheduler } from 'rxjs/testing';

import type { Reading } from '@vigil/contracts';

import { context, lel, lelRule, reading, signalLike } from '../testing/fixtures';
import { singleRule } from './single-rule.operator';

describe(`${singleRule.name} (threshold rule)`, () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  const rule = lelRule(); // set-point 25, deadband 5, no delays

  it('raises at the set-point and clears only below the deadband', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const readings = cold('-a-b-c-d-e-f-|', {
        a: lel('d1', 1, 24.9), // below the set-point: nothing
        b: lel('d1', 2, 25), // at the set-point: raise
        c: lel('d1', 3, 20), // at set-point − deadband: stays raised
        d: lel('d1', 4, 19.9), // below it: clear
        e: lel('d1', 5, 24), // inside the band while cleared: nothing
        f: lel('d1', 6, 31), // raise again
      });
      const subs = '           ^------------!';
      const expected = '       ---R---C---S-|';

      expectObservable(readings.pipe(singleRule(rule, context))).toBe(expected, {
        R: signalLike('d1', 'gas-l1', true, 2, { value: 25, threshold: 25 }),
        C: signalLike('d1', 'gas-l1', false, 4, { value: 19.9 }),
        S: signalLike('d1', 'gas-l1', true, 6, { value: 31 }),
      });
      expectSubscriptions(readings.subscriptions).toBe(subs);
    });
  });

  it('waits out the on- and off-delays on event time, whatever the arrival times', () => {
    const delayed = lelRule({ onDelayMs: 10_000, offDelayMs: 30_000 });
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('abcdefg|', {
        a: lel('d1', 0, 30),
        b: lel('d1', 9_999, 30), // 9.999 s beyond: not yet
        c: lel('d1', 10_000, 30), // 10 s: raise
        d: lel('d1', 20_000, 10), // inside: off-delay starts
        e: lel('d1', 40_000, 22), // back in the band: off-delay restarts
        f: lel('d1', 50_000, 10),
        g: lel('d1', 80_000, 10), // 30 s inside: clear
      });
      expectObservable(readings.pipe(singleRule(delayed, context))).toBe('--R---C|', {
        R: signalLike('d1', 'gas-l1', true, 10_000),
        C: signalLike('d1', 'gas-l1', false, 80_000),
      });
    });
  });

  it('keeps devices apart and ignores late readings of a device', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-b-c-d-|', {
        a: lel('d1', 100, 30),
        b: lel('d2', 50, 10),
        c: lel('d1', 90, 10), // older than d1's 100: ignored
        d: lel('d2', 60, 26),
      });
      expectObservable(readings.pipe(singleRule(rule, context))).toBe('-x-----y-|', {
        x: signalLike('d1', 'gas-l1', true, 100),
        y: signalLike('d2', 'gas-l1', true, 60),
      });
    });
  });

  it('ignores readings without the metric and boolean values', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-b-|', {
        a: reading('d1', 1, { o2: 30 }),
        b: reading('d1', 2, { lel: true }),
      });
      expectObservable(readings.pipe(singleRule(rule, context))).toBe('-----|');
    });
  });

  it('completes at once on an empty source', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<Reading>('|').pipe(singleRule(rule, context))).toBe('|');
    });
  });

  it('stays silent on a source that never emits', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<Reading>('-').pipe(singleRule(rule, context))).toBe('-');
    });
  });

  it('passes an error in the source through after the signals before it', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-#', { a: lel('d1', 1, 30) }, new Error('broker down'));
      expectObservable(readings.pipe(singleRule(rule, context))).toBe(
        '-R-#',
        { R: signalLike('d1', 'gas-l1', true, 1) },
        new Error('broker down'),
      );
    });
  });

  it('completes with the source, dropping a delay that has not elapsed', () => {
    const delayed = lelRule({ onDelayMs: 10 });
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-|', { a: lel('d1', 1, 30) });
      expectObservable(readings.pipe(singleRule(delayed, context))).toBe('---|');
    });
  });

  it('unsubscribes from the source when disposed early', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const readings = hot('-a-b-c-|', {
        a: lel('d1', 1, 30),
        b: lel('d1', 2, 10),
        c: lel('d1', 3, 30),
      });
      expectObservable(readings.pipe(singleRule(rule, context)), '^--!').toBe('-R-', {
        R: signalLike('d1', 'gas-l1', true, 1),
      });
      expectSubscriptions(readings.subscriptions).toBe('^--!');
    });
  });

  it('errors when the rule itself throws, instead of swallowing the bug', () => {
    const broken = {
      clock: () => {
        throw new Error('clock broken');
      },
    };
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const readings = cold('-a-b-|', { a: lel('d1', 1, 10), b: lel('d1', 2, 30) });
      expectObservable(readings.pipe(singleRule(rule, broken))).toBe(
        '---#',
        undefined,
        new Error('clock broken'),
      );
      expectSubscriptions(readings.subscriptions).toBe('^--!');
    });
  });

  it('starts from a clean state on every subscription', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-|', { a: lel('d1', 1, 30) });
      const signals = readings.pipe(singleRule(rule, context));
      const R = signalLike('d1', 'gas-l1', true, 1);
      expectObservable(signals).toBe('-R-|', { R });
      expectObservable(signals).toBe('-R-|', { R });
    });
  });
});
