import { context, lel, reading, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { stuckConfig } from '../testing/rule-configs';
import type { StuckRuleConfig } from './rule-config';
import { singleRule } from './single-rule.operator';
import { STUCK_EMPTY, reduceStuck } from './stuck.reducer';

const H = 3_600_000;

function run(rule: StuckRuleConfig, readings: ReturnType<typeof lel>[]) {
  return runAll(STUCK_EMPTY, readings, (state, input) => reduceStuck(state, input, rule, context));
}

describe(reduceStuck.name, () => {
  const day = stuckConfig({ durationMs: 24 * H }); // the §9.1 default

  it('raises a non-zero value flat within 0.1 %LEL for 24 h, and clears when it moves', () => {
    const signals = run(day, [
      lel('d1', 0, 12.3),
      lel('d1', 12 * H, 12.35),
      lel('d1', 24 * H - 1, 12.3), // 1 ms short
      lel('d1', 24 * H, 12.39), // max − min 0.09 < 0.1 over 24 h: stuck
      lel('d1', 30 * H, 12.3), // still flat: nothing new
      lel('d1', 31 * H, 12.45), // 12.3 … 12.45 ≥ 0.1: moved
    ]);
    expect(signals.map(signal => [signal.active, signal.at])).toEqual([
      [true, 24 * H],
      [false, 31 * H],
    ]);
    expect(signals[0]).toMatchObject({
      category: 'quality',
      priority: 4,
      level: 'stuck',
      value: 12.39,
      threshold: 0.1,
      message:
        'Combustible gas flat at 12.39 %LEL for 24 h (changes under 0.1 %LEL): the sensor may be stuck',
    });
    expect(signals[1]?.message).toBe(
      'Combustible gas changing again: 12.45 %LEL after a flat line at 12.3 %LEL',
    );
  });

  it('restarts the flat stretch at every change of minDelta or more', () => {
    const signals = run({ ...day, minDelta: 0.25 }, [
      lel('d1', 0, 5),
      lel('d1', 20 * H, 5.25), // exactly minDelta: a change, the stretch restarts here
      lel('d1', 30 * H, 5.25),
      lel('d1', 44 * H - 1, 5.25),
      lel('d1', 44 * H, 5.25),
    ]);
    expect(signals.map(signal => [signal.active, signal.at])).toEqual([[true, 44 * H]]);
  });

  it('does not flag a constant zero (clean air) unless skipZero is off', () => {
    const zeros = [lel('d1', 0, 0), lel('d1', 25 * H, 0.05)];
    expect(run(day, zeros)).toEqual([]);
    expect(run({ ...day, skipZero: false }, zeros).map(signal => signal.active)).toEqual([true]);
  });

  it('ignores readings without the metric and leaves the shared empty state untouched', () => {
    expect(run(day, [reading('d1', 0, { o2: 20.9 }), reading('d1', 1, { lel: true })])).toEqual([]);
    run(day, [lel('d1', 0, 3), lel('d1', 25 * H, 3)]);
    expect(STUCK_EMPTY).toMatchObject({ active: false });
    expect(Number.isNaN(STUCK_EMPTY.since)).toBe(true);
  });
});

describe(`${singleRule.name} (stuck rule)`, () => {
  itBehavesLikeARuleOperator(
    ctx => singleRule(stuckConfig(), ctx),
    {
      setup: [lel('d1', 0, 12.3)],
      trigger: lel('d1', 60_000, 12.3),
      quiet: lel('d1', 30_000, 12.32),
      expected: signalLike('d1', 'stuck', true, 60_000, { value: 12.3 }),
    },
    context,
  );
});
