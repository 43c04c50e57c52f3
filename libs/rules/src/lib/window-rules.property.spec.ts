import fc from 'fast-check';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { context, lel, runAll } from '../testing/fixtures';
import { rateConfig, trendConfig } from '../testing/rule-configs';
import { RATE_EMPTY, reduceRate } from './rate.reducer';
import type { RateRuleConfig, TrendRuleConfig } from './rule-config';
import { TREND_EMPTY, reduceTrend } from './trend.reducer';

/**
 * One excursion: flat at `base`, a linear rise to `peak`, a plateau, a linear fall back to
 * `base`, flat again; sampled at random gaps (1–15 s, event time), with bounded noise.
 */
const excursion = (maxNoise: number) =>
  fc.record({
    base: fc.double({ min: 0, max: 10, noNaN: true }),
    height: fc.double({ min: 0, max: 90, noNaN: true }),
    leadMs: fc.integer({ min: 0, max: 300_000 }),
    riseMs: fc.integer({ min: 1_000, max: 600_000 }),
    plateauMs: fc.integer({ min: 0, max: 600_000 }),
    fallMs: fc.integer({ min: 1_000, max: 600_000 }),
    tailMs: fc.integer({ min: 0, max: 900_000 }),
    gaps: fc.array(fc.integer({ min: 1_000, max: 15_000 }), { minLength: 1, maxLength: 50 }),
    noise: fc.array(fc.double({ min: -maxNoise, max: maxNoise, noNaN: true }), {
      minLength: 1,
      maxLength: 50,
    }),
  });

type Excursion = typeof excursion extends (n: number) => fc.Arbitrary<infer T> ? T : never;

function sample(shape: Excursion): Reading[] {
  const { base, height, leadMs, riseMs, plateauMs, fallMs, tailMs } = shape;
  const end = leadMs + riseMs + plateauMs + fallMs + tailMs;
  const valueAt = (t: number): number => {
    if (t < leadMs) return base;
    if (t < leadMs + riseMs) return base + (height * (t - leadMs)) / riseMs;
    if (t < leadMs + riseMs + plateauMs) return base + height;
    if (t < leadMs + riseMs + plateauMs + fallMs) {
      return base + height * (1 - (t - leadMs - riseMs - plateauMs) / fallMs);
    }
    return base;
  };
  const readings: Reading[] = [];
  for (let t = 0, index = 0; t <= end; index += 1) {
    const noise = shape.noise[index % shape.noise.length] as number;
    readings.push(lel('d1', t, valueAt(t) + noise));
    t += shape.gaps[index % shape.gaps.length] as number;
  }
  return readings;
}

function raises(signals: readonly RuleSignal[]): number {
  return signals.filter(signal => signal.active).length;
}

function alternates(signals: readonly RuleSignal[]): boolean {
  return signals.every((signal, index) => signal.active === (index % 2 === 0));
}

describe('rate and trend properties', () => {
  it('a rate-of-rise rule raises at most once per excursion (noise within its deadband)', () => {
    const rules: RateRuleConfig[] = [rateConfig(), rateConfig({ below: undefined })];
    fc.assert(
      fc.property(excursion(2.4), fc.constantFrom(...rules), (shape, rule) => {
        const signals = runAll(RATE_EMPTY, sample(shape), (state, input) =>
          reduceRate(state, input, rule, context),
        );
        expect(alternates(signals)).toBe(true);
        expect(raises(signals)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 250 },
    );
  });

  it('a rate-of-rise rule never raises on noise alone', () => {
    fc.assert(
      fc.property(excursion(4.9), shape => {
        const flat = sample({ ...shape, height: 0 });
        const signals = runAll(RATE_EMPTY, flat, (state, input) =>
          reduceRate(state, input, rateConfig({ below: undefined }), context),
        );
        expect(signals).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('a trend rule raises at most once per excursion (noise ≪ minDelta)', () => {
    const rules: TrendRuleConfig[] = [
      trendConfig(),
      trendConfig({ windowMs: 120_000, minSamples: 5, target: 50 }),
    ];
    fc.assert(
      fc.property(excursion(0.05), fc.constantFrom(...rules), (shape, rule) => {
        const signals = runAll(TREND_EMPTY, sample(shape), (state, input) =>
          reduceTrend(state, input, rule, context),
        );
        expect(alternates(signals)).toBe(true);
        expect(raises(signals)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 250 },
    );
  });

  it('a trend rule never raises on a value minDelta or more below the highest of its window', () => {
    // Any excursion, any noise: a falling value is not a rising trend. The fit sees every
    // reading of the last windowMs (and up to a bucket more), so their highest bounds its own.
    const rules: TrendRuleConfig[] = [
      trendConfig(),
      trendConfig({ windowMs: 120_000, minSamples: 5, target: 50 }),
    ];
    fc.assert(
      fc.property(excursion(3), fc.constantFrom(...rules), (shape, rule) => {
        const readings = sample(shape);
        let state = TREND_EMPTY;
        readings.forEach((reading, index) => {
          const step = reduceTrend(state, reading, rule, context);
          state = step.state;
          if (!step.signals.some(signal => signal.active)) return;
          const recent = readings
            .slice(0, index)
            .filter(each => each.ts >= reading.ts - rule.windowMs)
            .map(each => each.values['lel'] as number);
          expect(reading.values['lel'] as number).toBeGreaterThan(
            Math.max(...recent) - rule.minDelta,
          );
        });
      }),
      { numRuns: 250 },
    );
  });

  it('a trend rule never forecasts from noise on a steady value (|noise| ≤ minDelta / 12)', () => {
    fc.assert(
      fc.property(excursion(2 / 12), shape => {
        const flat = sample({ ...shape, height: 0 });
        const signals = runAll(TREND_EMPTY, flat, (state, input) =>
          reduceTrend(state, input, trendConfig(), context),
        );
        expect(signals).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
