import { TestScheduler } from 'rxjs/testing';

import type { Reading } from '@vigil/contracts';

import { context, lel, reading, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { rateConfig } from '../testing/rule-configs';
import { singleRule } from './single-rule.operator';
import { RATE_EMPTY, reduceRate } from './rate.reducer';
import type { RateRuleConfig } from './rule-config';

function run(rule: RateRuleConfig, readings: Reading[]) {
  return runAll(RATE_EMPTY, readings, (state, input) => reduceRate(state, input, rule, context));
}

const brief = (signal: { active: boolean; at: number }) => [signal.active, signal.at];

describe(reduceRate.name, () => {
  it('raises a rise of 10 %LEL within 60 s below L1 and clears when the rise is under 5', () => {
    const signals = run(rateConfig(), [
      lel('d1', 0, 2),
      lel('d1', 20_000, 7),
      lel('d1', 40_000, 11.9), // +9.9: not yet
      lel('d1', 50_000, 12), // +10 over 50 s: raise
      lel('d1', 70_000, 14),
      lel('d1', 100_000, 14), // window 40–100 s (+ a bucket): min 11.9 → rise 2.1 < 5: clear
    ]);
    expect(signals.map(brief)).toEqual([
      [true, 50_000],
      [false, 100_000],
    ]);
    expect(signals[0]).toMatchObject({
      category: 'warning',
      priority: 3,
      level: 'rate-of-rise',
      value: 12,
      threshold: 10,
      message: 'Combustible gas rose 10 %LEL within 60 s to 12 %LEL (rate-of-rise at 10 %LEL)',
    });
    expect(signals[1]?.message).toBe(
      'Combustible gas rise over the last 60 s down to 2.1 %LEL (clears under 5 %LEL)',
    );
  });

  it('stays quiet for a rise that reaches L1: the alarm itself speaks', () => {
    expect(run(rateConfig(), [lel('d1', 0, 10), lel('d1', 30_000, 25)])).toEqual([]);
  });

  it('keeps a raised pre-alarm while the rise goes on past L1, instead of flapping there', () => {
    const signals = run(rateConfig(), [
      lel('d1', 0, 2),
      lel('d1', 10_000, 14), // raise
      lel('d1', 20_000, 26), // past L1: still rising, stays
      lel('d1', 30_000, 38),
    ]);
    expect(signals.map(brief)).toEqual([[true, 10_000]]);
  });

  it('forgets values older than the window and its last bucket', () => {
    const signals = run(rateConfig(), [lel('d1', 0, 0), lel('d1', 71_000, 15)]);
    expect(signals).toEqual([]);
    // 69 s apart: the first bucket (0–10 s) still overlaps [9 s, 69 s]: up to 1/6 more history.
    expect(run(rateConfig(), [lel('d1', 0, 0), lel('d1', 69_000, 15)]).map(brief)).toEqual([
      [true, 69_000],
    ]);
  });

  it('watches a fall with an `above` guard (oxygen)', () => {
    const fall = rateConfig({
      ruleId: 'o2-rate',
      metric: 'o2',
      direction: 'fall',
      delta: 0.5,
      deadband: 0.25,
      below: undefined,
      above: 18,
      label: 'Oxygen',
      unit: '%VOL',
    });
    const o2 = (ts: number, value: number) => reading('d1', ts, { o2: value });
    const signals = run(fall, [o2(0, 20.9), o2(30_000, 20.5), o2(60_000, 20.4), o2(130_000, 20.4)]);
    expect(signals.map(brief)).toEqual([
      [true, 60_000],
      [false, 130_000],
    ]);
    expect(signals[0]?.message).toBe(
      'Oxygen fell 0.5 %VOL within 60 s to 20.4 %VOL (rate-of-rise at 0.5 %VOL)',
    );
    expect(run(fall, [o2(0, 18.5), o2(30_000, 17.9)])).toEqual([]); // already at or below 18
  });

  it('folds readings within the late allowance into the window without deciding on them', () => {
    const rule = rateConfig();
    let state = reduceRate(RATE_EMPTY, lel('d1', 10_000, 8), rule, context).state;
    const late = reduceRate(state, lel('d1', 6_000, 1), rule, context, 'within-allowance');
    expect(late.signals).toEqual([]);
    state = late.state;
    // 8 → 11 is only +3, but the late 1 at 6 s is in the window: +10.
    expect(reduceRate(state, lel('d1', 20_000, 11), rule, context).signals.map(brief)).toEqual([
      [true, 20_000],
    ]);
    expect(reduceRate(RATE_EMPTY, lel('d1', 0, 1), rule, context, 'late').state).toBe(RATE_EMPTY);
  });

  it('starts its buckets afresh when a reload changes the window', () => {
    const rule = rateConfig();
    const state = reduceRate(RATE_EMPTY, lel('d1', 0, 0), rule, context).state;
    const wider = rateConfig({ windowMs: 120_000 });
    expect(reduceRate(state, lel('d1', 30_000, 12), wider, context).signals).toEqual([]);
  });
});

describe(`${singleRule.name} (rate rule)`, () => {
  itBehavesLikeARuleOperator(
    ctx => singleRule(rateConfig(), ctx),
    {
      setup: [lel('d1', 0, 1)],
      trigger: lel('d1', 30_000, 12),
      quiet: lel('d1', 20_000, 2),
      expected: signalLike('d1', 'gas-rate', true, 30_000, { value: 12 }),
    },
    context,
  );

  it('keeps devices apart', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ cold, expectObservable }) => {
      const readings = cold('-a-b-c-d-|', {
        a: lel('d1', 0, 0),
        b: lel('d2', 0, 20),
        c: lel('d2', 10_000, 11), // d2 fell
        d: lel('d1', 10_000, 11), // d1 rose 11
      });
      expectObservable(readings.pipe(singleRule(rateConfig(), context))).toBe('-------x-|', {
        x: signalLike('d1', 'gas-rate', true, 10_000),
      });
    });
  });
});
