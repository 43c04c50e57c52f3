import { TestScheduler } from 'rxjs/testing';

import { context, lel, reading, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { rangeConfig } from '../testing/rule-configs';
import { singleRule } from './single-rule.operator';
import { RANGE_INACTIVE, reduceRange } from './range.reducer';
import type { RangeRuleConfig } from './rule-config';

function run(rule: RangeRuleConfig, readings: ReturnType<typeof lel>[]) {
  return runAll(RANGE_INACTIVE, readings, (state, input) =>
    reduceRange(state, input, rule, context),
  );
}

describe(reduceRange.name, () => {
  it('raises strictly outside [low, high] and clears at the bounds themselves', () => {
    const signals = run(rangeConfig(), [
      lel('d1', 0, -5), // at the bound: inside
      lel('d1', 1, 100),
      lel('d1', 2, -5.1), // below: raise
      lel('d1', 3, -7),
      lel('d1', 4, -5), // back at the bound: clear
      lel('d1', 5, 100.1), // above: raise
    ]);
    expect(signals.map(signal => [signal.active, signal.at, signal.threshold])).toEqual([
      [true, 2, -5],
      [false, 4, -5],
      [true, 5, 100],
    ]);
    expect(signals[0]).toMatchObject({
      key: 'plant-1/d1/range-lel',
      category: 'quality',
      priority: 3,
      level: 'range',
      metric: 'lel',
      value: -5.1,
      message:
        'Combustible gas -5.1 %LEL below the measuring range -5 … 100 %LEL: the measurement cannot be trusted',
    });
    expect(signals[1]?.message).toBe(
      'Combustible gas -5 %LEL back inside the measuring range -5 … 100 %LEL',
    );
  });

  it('waits out 60 s of event time outside before raising (one stray sample is no fault)', () => {
    const rule = rangeConfig({ onDelayMs: 60_000, high: undefined });
    const signals = run(rule, [
      lel('d1', 0, -6),
      lel('d1', 30_000, -6),
      lel('d1', 40_000, 0), // back inside: the delay restarts
      lel('d1', 50_000, -6),
      lel('d1', 109_999, -6),
      lel('d1', 110_000, -6), // 60 s outside
      lel('d1', 120_000, 150), // no upper bound here: inside
    ]);
    expect(signals.map(signal => [signal.active, signal.at])).toEqual([
      [true, 110_000],
      [false, 120_000],
    ]);
    expect(signals[0]?.message).toBe(
      'Combustible gas -6 %LEL below the measuring range ≥ -5 %LEL for 60 s: the measurement cannot be trusted',
    );
  });

  it('ignores readings without the metric and boolean values', () => {
    expect(
      run(rangeConfig(), [reading('d1', 0, { o2: -50 }), reading('d1', 1, { lel: true })]),
    ).toEqual([]);
  });
});

describe(`${singleRule.name} (range rule)`, () => {
  itBehavesLikeARuleOperator(
    ctx => singleRule(rangeConfig(), ctx),
    {
      trigger: lel('d1', 10, 120),
      quiet: lel('d1', 5, 50),
      expected: signalLike('d1', 'range-lel', true, 10, { value: 120 }),
    },
    context,
  );

  it('keeps devices apart and does not evaluate readings older than a device’s newest', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-b-c-d-|', {
        a: lel('d1', 100, 120),
        b: lel('d2', 50, 10),
        c: lel('d1', 99, 10), // older than d1's 100: not evaluated
        d: lel('d2', 60, -20),
      });
      expectObservable(readings.pipe(singleRule(rangeConfig(), context))).toBe('-x-----y-|', {
        x: signalLike('d1', 'range-lel', true, 100),
        y: signalLike('d2', 'range-lel', true, 60),
      });
    });
  });
});
