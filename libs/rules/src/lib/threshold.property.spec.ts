import fc from 'fast-check';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { context, lel, lelRule, runAll } from '../testing/fixtures';
import type { ThresholdRuleConfig } from './rule-config';
import { createSingleRuleState, reduceSingleRule } from './single-rule.reducer';
import { THRESHOLD_INACTIVE, reduceThreshold } from './threshold.reducer';

/**
 * Values are multiples of 0.25 so that `setpoint ± deadband` and the mirrored values of a low rule
 * are exact: the properties test the state machine, not floating-point rounding.
 */
const quarter = (min: number, max: number) =>
  fc.integer({ min: min * 4, max: max * 4 }).map(n => n / 4);

const ruleArbitrary = fc.record({
  direction: fc.constantFrom<'high' | 'low'>('high', 'low'),
  setpoint: quarter(-50, 100),
  deadband: quarter(0, 20),
  onDelayMs: fc.integer({ min: 0, max: 5_000 }),
  offDelayMs: fc.integer({ min: 0, max: 5_000 }),
});

type RuleShape = typeof ruleArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** A "distance beyond the set-point" turned into a value for the rule's direction. */
function valueOf(rule: RuleShape, beyond: number): number {
  return rule.direction === 'high' ? rule.setpoint + beyond : rule.setpoint - beyond;
}

const gap = fc.integer({ min: 0, max: 3_000 });
/** (gap to the previous reading, distance beyond the set-point) pairs. */
const steps = (minBeyond: number, maxBeyond: number, maxLength = 40) =>
  fc.array(fc.tuple(gap, quarter(minBeyond, maxBeyond)), { maxLength });

function configOf(shape: RuleShape): ThresholdRuleConfig {
  return lelRule(shape);
}

/** Lays steps out on event time from `start`; returns the readings and the last ts. */
function layOut(
  rule: RuleShape,
  start: number,
  pairs: ReadonlyArray<readonly [number, number]>,
): { readings: Reading[]; end: number } {
  let ts = start;
  const readings = pairs.map(([delta, beyond]) => {
    ts += delta;
    return lel('d1', ts, valueOf(rule, beyond));
  });
  return { readings, end: ts };
}

function signalsOf(rule: ThresholdRuleConfig, readings: readonly Reading[]): RuleSignal[] {
  return runAll(THRESHOLD_INACTIVE, readings, (state, input) =>
    reduceThreshold(state, input, rule, context),
  );
}

/** A reading beyond the set-point now and again after the on-delay: raises for sure. */
function raise(rule: RuleShape, start: number): Reading[] {
  return [lel('d1', start, valueOf(rule, 1)), lel('d1', start + rule.onDelayMs, valueOf(rule, 1))];
}

describe('threshold hysteresis properties', () => {
  it('never clears after a raise while values stay at or beyond set-point − deadband', () => {
    fc.assert(
      fc.property(ruleArbitrary, steps(-20, 50, 60), (shape, pairs) => {
        const rule = configOf(shape);
        const notBelow = pairs.map(
          ([delta, beyond]) => [delta, Math.max(beyond, -shape.deadband)] as const,
        );
        const { readings } = layOut(shape, shape.onDelayMs, notBelow);
        const signals = signalsOf(rule, [...raise(shape, 0), ...readings]);
        expect(signals.map(signal => signal.active)).toEqual([true]);
      }),
    );
  });

  it('raises at most once, and never clears, while values oscillate inside the deadband', () => {
    fc.assert(
      fc.property(ruleArbitrary, steps(-20, 20, 60), (shape, pairs) => {
        const inBand = pairs.map(
          ([delta, beyond]) =>
            [delta, Math.max(-shape.deadband, Math.min(beyond, shape.deadband))] as const,
        );
        const signals = signalsOf(configOf(shape), layOut(shape, 0, inBand).readings);
        expect(signals.filter(signal => signal.active).length).toBeLessThanOrEqual(1);
        expect(signals.filter(signal => !signal.active)).toEqual([]);
      }),
    );
  });

  it('turns one excursion into exactly one raise and at most one clear, for any noise and timing', () => {
    fc.assert(
      fc.property(
        ruleArbitrary,
        fc.record({
          before: steps(-100, -0.25),
          above: fc.array(fc.tuple(gap, quarter(0, 50)), { minLength: 1, maxLength: 20 }),
          lingering: steps(0, 50),
          after: steps(-100, -0.25),
        }),
        (shape, phases) => {
          // Below the clear point: "beyond" at most −deadband − 0.25.
          const below = (pairs: ReadonlyArray<readonly [number, number]>) =>
            pairs.map(([delta, beyond]) => [delta, beyond - shape.deadband] as const);
          const rule = configOf(shape);
          const before = layOut(shape, 0, below(phases.before));
          const above = layOut(shape, before.end + 1, phases.above);
          // Stretch the excursion so that it lasts the on-delay.
          const firstAbove = above.readings[0]?.ts ?? 0;
          const stretched = [
            ...above.readings,
            lel('d1', Math.max(above.end, firstAbove + shape.onDelayMs), valueOf(shape, 0)),
          ];
          const lastAbove = stretched[stretched.length - 1]?.ts ?? 0;
          const lingering = layOut(shape, lastAbove, phases.lingering);
          const after = layOut(shape, lingering.end + 1, below(phases.after));
          const readings = [
            ...before.readings,
            ...stretched,
            ...lingering.readings,
            ...after.readings,
          ];

          const states = signalsOf(rule, readings).map(signal => signal.active);
          // Exactly one raise, then at most one clear: never two actives in a row.
          expect(states[0]).toBe(true);
          expect(states.filter(active => active)).toHaveLength(1);
          expect(states.length).toBeLessThanOrEqual(2);
          // And the clear does come once the values stayed below the clear point for the off-delay.
          const firstAfter = after.readings[0]?.ts;
          if (firstAfter !== undefined && after.end - firstAfter >= shape.offDelayMs) {
            expect(states).toEqual([true, false]);
          }
        },
      ),
    );
  });

  it('alternates active and cleared per device for any values, timings and late readings', () => {
    const reading = fc.record({
      device: fc.constantFrom('d1', 'd2', 'd3'),
      ts: fc.integer({ min: 0, max: 20_000 }),
      beyond: quarter(-30, 30),
    });
    fc.assert(
      fc.property(ruleArbitrary, fc.array(reading, { maxLength: 200 }), (shape, inputs) => {
        const rule = configOf(shape);
        const readings = inputs.map(input =>
          lel(input.device, input.ts, valueOf(shape, input.beyond)),
        );
        // Through the engine loop, with the rule alone (late readings as in production).
        const signals = runAll(createSingleRuleState(rule, context), readings, reduceSingleRule);
        const lastByKey = new Map<string, boolean>();
        for (const signal of signals) {
          expect(signal.active).toBe(!(lastByKey.get(signal.key) ?? false));
          lastByKey.set(signal.key, signal.active);
        }
      }),
    );
  });
});
