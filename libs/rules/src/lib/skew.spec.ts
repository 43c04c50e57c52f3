import { TestScheduler } from 'rxjs/testing';

import { context, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { skewedReading } from '../testing/records';
import { skewConfig } from '../testing/rule-configs';
import type { SkewRuleConfig } from './rule-config';
import { singleRule } from './single-rule.operator';
import { SKEW_INACTIVE, reduceSkew } from './skew.reducer';

function run(rule: SkewRuleConfig, readings: ReturnType<typeof skewedReading>[]) {
  return runAll(SKEW_INACTIVE, readings, (state, input) => reduceSkew(state, input, rule, context));
}

describe(reduceSkew.name, () => {
  it('raises |skew| > 60 s held over 60 s of receive time and clears within 30 s', () => {
    const signals = run(skewConfig(), [
      skewedReading('d1', 0, 60_000), // exactly 60 s: not more
      skewedReading('d1', 10_000, -61_000), // behind by 61 s: the delay starts
      skewedReading('d1', 40_000, 45_000), // between 30 and 60 s: restarts nothing, holds nothing
      skewedReading('d1', 50_000, -90_000),
      skewedReading('d1', 110_000, -90_000), // 60 s of receive time: raise
      skewedReading('d1', 120_000, 31_000), // not back within 30 s
      skewedReading('d1', 130_000, -30_000), // within 30 s: clear
    ]);
    expect(signals.map(signal => [signal.active, signal.value])).toEqual([
      [true, -90_000],
      [false, -30_000],
    ]);
    expect(signals[0]).toMatchObject({
      ruleId: 'clock-skew',
      category: 'quality',
      priority: 4,
      threshold: 60_000,
      at: 20_000, // event time: received at 110 s from a clock 90 s behind
      message:
        'Device clock 90 s behind the server (more than 60 s): its timestamps cannot be trusted',
    });
    expect(signals[1]?.message).toBe('Device clock back within 30 s of the server (30 s behind)');
  });

  it('never raises for a buffered batch that arrives at once, however old', () => {
    const batch = [0, 1, 2, 3].map(index => ({
      ...skewedReading('d1', 500_000, -400_000 + index * 5_000),
    }));
    expect(run(skewConfig(), batch)).toEqual([]);
  });

  it('raises at once with no on-delay, and ignores readings without a device timestamp', () => {
    const instant = skewConfig({ onDelayMs: 0 });
    const untimed = { ...skewedReading('d1', 0, 0), clockSkewMs: undefined };
    expect(run(instant, [untimed])).toEqual([]);
    expect(run(instant, [skewedReading('d1', 0, 120_000)]).map(s => s.message)).toEqual([
      'Device clock 2 min ahead of the server (more than 60 s): its timestamps cannot be trusted',
    ]);
  });
});

describe(`${singleRule.name} (skew rule)`, () => {
  it('takes readings in receive-time order, however far their event time jumps back', () => {
    const testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
    const day = 86_400_000;
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-b-c-d-e-|', {
        a: skewedReading('d1', 0, 0), // right clock: ts 0
        b: skewedReading('d1', 10_000, -day), // set back a day: every later ts is behind 0
        c: skewedReading('d1', 70_000, -day), // 60 s of receive time: raise
        d: skewedReading('d1', 60_000, 0), // received before c (reordered on the way): skipped
        e: skewedReading('d1', 80_000, 1_000), // back within 30 s: clear
      });
      expectObservable(readings.pipe(singleRule(skewConfig(), context))).toBe('-----R---C-|', {
        R: signalLike('d1', 'clock-skew', true, 70_000 - day, { value: -day }),
        C: signalLike('d1', 'clock-skew', false, 81_000, { value: 1_000 }),
      });
    });
  });

  itBehavesLikeARuleOperator(
    ctx => singleRule(skewConfig({ onDelayMs: 0 }), ctx),
    {
      trigger: skewedReading('d1', 10, 100_000),
      quiet: skewedReading('d1', 5, 1_000),
      // As in production: a reading stamped 100 s in the future is evaluated at its receive time.
      expected: signalLike('d1', 'clock-skew', true, 10, { value: 100_000 }),
    },
    context,
  );
});
