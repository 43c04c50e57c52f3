import type { Reading } from '@vigil/contracts';

import { context, lel, reading, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { trendConfig } from '../testing/rule-configs';
import type { TrendRuleConfig } from './rule-config';
import { singleRule } from './single-rule.operator';
import { TREND_EMPTY, reduceTrend } from './trend.reducer';

function run(rule: TrendRuleConfig, readings: Reading[]) {
  return runAll(TREND_EMPTY, readings, (state, input) => reduceTrend(state, input, rule, context));
}

/** lel readings every `stepMs` from `start`. */
function series(start: number, stepMs: number, values: readonly number[]): Reading[] {
  return values.map((value, index) => lel('d1', start + index * stepMs, value));
}

const brief = (signal: { active: boolean; at: number }) => [signal.active, signal.at];

describe(reduceTrend.name, () => {
  it('warns with the predicted crossing time once the fitted line reaches L1 within 5 min', () => {
    // +1 %LEL every 10 s: 0.1 %LEL/s; at 4 %LEL, 25 is 210 s away.
    const signals = run(trendConfig(), series(0, 10_000, [2, 3, 4]));
    expect(signals.map(brief)).toEqual([[true, 20_000]]);
    expect(signals[0]).toMatchObject({
      key: 'plant-1/d1/gas-trend',
      category: 'warning',
      priority: 3,
      level: 'trend',
      value: 4,
      threshold: 25,
      predictedAt: 230_000,
      message:
        'Combustible gas 4 %LEL trending up: predicted to reach 25 %LEL in 3.5 min (at 1970-01-01T00:03:50Z)',
    });
  });

  it('needs minSamples spread over half the window, and a fitted rise of minDelta', () => {
    expect(run(trendConfig(), series(0, 10_000, [2, 3]))).toEqual([]); // 2 samples
    expect(run(trendConfig(), series(0, 3_000, [2, 3, 4, 5]))).toEqual([]); // within 9 s
    // 0.02 %LEL/s would reach 25 in 5 min from 19, but 1.2 %LEL per minute is under minDelta 2.
    expect(run(trendConfig(), series(0, 10_000, [19, 19.2, 19.4, 19.6, 19.8, 20]))).toEqual([]);
  });

  it('clears when the line flattens, and does not raise again for the same plateau', () => {
    const signals = run(
      trendConfig(),
      series(0, 10_000, [2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6]),
    );
    expect(signals.map(signal => signal.active)).toEqual([true, false]);
    expect(signals[1]?.message).toBe(
      'Combustible gas 6 %LEL no longer predicted to reach 25 %LEL within 10 min',
    );
    expect(signals[1]).not.toHaveProperty('predictedAt');
  });

  it('holds while the value is at or past the target, and clears when it turns back', () => {
    const signals = run(
      trendConfig(),
      series(0, 10_000, [17, 19, 21, 23, 25, 27, 24, 27, 29, 27, 24, 21, 18]),
    );
    expect(signals.map(brief)).toEqual([
      [true, 20_000],
      [false, 110_000],
    ]);
  });

  it('does not forecast a rise from a value on its way back down', () => {
    const rule = trendConfig({ windowMs: 120_000, minSamples: 5 }); // the gas-trend shape
    // 2 %LEL for 2 min, up to 12 within 10 s, back down 1 %LEL every 5 s. The least-squares line
    // through the peak still points up after it (before: raised at 9 %LEL, "predicted to reach
    // 25 %LEL"), but the reading has fallen back minDelta or more from the window's highest.
    const bump = [...Array<number>(24).fill(2), 7, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 2, 2];
    expect(run(rule, series(0, 5_000, bump))).toEqual([]);
    // The spike of the load test: 60 %LEL once, then 2 %LEL again (standalone, without L1).
    const spike = [...Array<number>(24).fill(2), 60, ...Array<number>(24).fill(2)];
    expect(run(rule, series(0, 5_000, spike))).toEqual([]);
    // Falling back less than minDelta is not a turn: a rise warns on a reading that dips 0.5.
    const dip = [2, 3, 4, 5, 6, 7, 8, 9, 8.5];
    expect(run(rule, series(0, 5_000, dip)).map(brief)).toEqual([[true, 40_000]]);
  });

  it('forecasts a fall toward a low target', () => {
    const low = trendConfig({ metric: 'o2', direction: 'low', target: 19.5, minDelta: 0.2 });
    const o2 = [20.9, 20.7, 20.5, 20.3].map((value, index) =>
      reading('d1', index * 10_000, { o2: value }),
    );
    const signals = run(low, o2);
    expect(signals.map(brief)).toEqual([[true, 20_000]]);
    expect(signals[0]?.predictedAt).toBe(20_000 + 50_000); // 20.5 → 19.5 at 0.02 /s
  });

  it('lets a duplicate or older reading weigh nothing', () => {
    const rule = trendConfig();
    const [a, b] = series(0, 10_000, [2, 3]);
    const first = reduceTrend(TREND_EMPTY, a as Reading, rule, context).state;
    const second = reduceTrend(first, b as Reading, rule, context).state;
    const sums = [...second.buckets];
    reduceTrend(second, b as Reading, rule, context);
    reduceTrend(second, a as Reading, rule, context);
    expect(second.buckets).toEqual(sums);
  });
});

describe(`${singleRule.name} (trend rule)`, () => {
  itBehavesLikeARuleOperator(
    ctx => singleRule(trendConfig(), ctx),
    {
      setup: [lel('d1', 0, 2), lel('d1', 10_000, 3)],
      trigger: lel('d1', 20_000, 4),
      quiet: lel('d1', 15_000, 3.5),
      expected: signalLike('d1', 'gas-trend', true, 20_000, { predictedAt: 230_000 }),
    },
    context,
  );
});
