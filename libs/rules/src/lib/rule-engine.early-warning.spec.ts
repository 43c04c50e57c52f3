import fc from 'fast-check';

import type { DeviceClass, RuleSignal } from '@vigil/contracts';

import { context, device, lelRecord, lelRule } from '../testing/fixtures';
import { classRecord } from '../testing/records';
import { registered } from '../testing/registered';
import { trendConfig } from '../testing/rule-configs';
import { coverPlanOf } from './early-warning';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';

function engine(devices: readonly DeviceRules[], extra: Partial<RuleEngineOptions> = {}) {
  const registry = new Map(devices.map(each => [each.deviceId, each]));
  const options: RuleEngineOptions = {
    ...context,
    startedAt: 0,
    lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
    ...extra,
  };
  const state = createRuleEngineState(options);
  const feed = (...inputs: EngineInput[]): RuleSignal[] =>
    inputs.flatMap(input => reduceRuleEngine(state, input, options).signals);
  return { registry, feed };
}

/** `gas-l1 active @250` (seconds of event time). */
const brief = (signal: RuleSignal) =>
  `${signal.ruleId} ${signal.active ? 'active' : 'cleared'} @${signal.at / 1000}`;

/** lel readings of gc-1 every `stepMs` from `startMs`, one per value. */
function lelSeries(startMs: number, stepMs: number, values: readonly number[]): EngineInput[] {
  return values.map((value, index) => lelRecord('gc-1', startMs + index * stepMs, value));
}

const flat = (count: number, value: number): number[] => Array.from({ length: count }, () => value);
/** `count` readings rising (or falling) by `by` per reading after `from`. */
const ramp = (from: number, by: number, count: number): number[] =>
  Array.from({ length: count }, (_, index) => Number((from + by * (index + 1)).toFixed(6)));

const values =
  (deviceClass: DeviceClass, deviceId: string) => (ts: number, reading: Record<string, number>) =>
    classRecord(deviceClass, deviceId, ts, reading);

describe('early warnings and the alarms they announce (engine, default rules)', () => {
  const gc1 = registered('gc-1', 'gas-combustible');

  /**
   * The load test's case: a detector at about 2 %LEL reads 60 %LEL once. Before, the spike joined
   * the trend's least-squares window and, as the newest sample, tilted the line up: on the next
   * reading (back at 2 %LEL, falling, L1 still active) gas-trend forecast L1 within minutes. It
   * did so whenever the window held few enough samples for one spike to weigh that much: at the
   * detectors' 5 s interval always, at 3 s about half the time, at 1–2 s never (likely why the
   * load test saw it in 440 of 590 cases, not all). The 1 s case passed before too.
   */
  it.each([
    [5_000, 120_000],
    [5_000, 125_000],
    [5_000, 130_000],
    [5_000, 135_000],
    [3_000, 120_000],
    [10_000, 120_000],
    [1_000, 120_000],
  ])(
    'a one-reading step up and back (every %d ms, spike at %d ms) raises L1 and L2 only',
    (stepMs, spikeAt) => {
      const { feed } = engine([gc1]);
      const count = Math.floor(600_000 / stepMs);
      const readings = Array.from({ length: count }, (_, index) =>
        lelRecord('gc-1', index * stepMs, index * stepMs === spikeAt ? 60 : 2),
      );
      const signals = feed(...readings);
      const back = spikeAt + stepMs;
      // L1 clears at the first reading at least 30 s after the first one back below 20 %LEL.
      const l1Clear = back + Math.ceil(30_000 / stepMs) * stepMs;
      expect(signals.map(brief)).toEqual([
        `gas-l1 active @${spikeAt / 1000}`,
        `gas-l2 active @${spikeAt / 1000}`,
        `gas-l2 cleared @${back / 1000}`,
        `gas-l1 cleared @${l1Clear / 1000}`,
      ]);
    },
  );

  it('a step up and back to a value between (60, then 15 %LEL) raises no rate-of-rise', () => {
    // Before: 15 − 2 = 13 %LEL "rose within 60 s" below the 25 %LEL guard, on a falling value
    // with L1 still active.
    const { feed } = engine([gc1]);
    const signals = feed(...lelSeries(0, 5_000, [...flat(24, 2), 60, ...flat(30, 15)]));
    expect(signals.map(brief)).toEqual([
      'gas-l1 active @120',
      'gas-l2 active @120',
      'gas-l2 cleared @125',
      'gas-l1 cleared @155',
    ]);
  });

  it('a slow rise warns before L1; L1 withdraws the warning; the way down raises nothing', () => {
    const { feed } = engine([gc1]);
    // +0.5 %LEL every 5 s from 0 to 30 (too slow for the rate of rise), a minute at 30, then
    // −1 %LEL every 5 s down to 2 and 2 %LEL for five minutes.
    const up = [0, ...ramp(0, 0.5, 60)];
    const down = ramp(30, -1, 28);
    const signals = feed(...lelSeries(0, 5_000, [...up, ...flat(12, 30), ...down, ...flat(60, 2)]));
    expect(signals.map(brief)).toEqual([
      'gas-trend active @40',
      'gas-l1 active @250',
      'gas-trend cleared @250',
      // 30 s below 20 %LEL (from 19 at 415 s): no forecast from the fall, during or after L1.
      'gas-l1 cleared @445',
    ]);
    expect(signals[0]).toMatchObject({ value: 4, predictedAt: 250_000 });
    expect(signals[2]).toMatchObject({
      key: 'plant-1/gc-1/gas-trend',
      category: 'warning',
      value: 25,
      threshold: 25,
      message:
        'Combustible gas 25 %LEL: the L1 alarm (gas-l1) is active; this early warning is ' +
        'withdrawn while it lasts',
    });
    expect(signals[2]).not.toHaveProperty('predictedAt');
  });

  it('warns again for a new approach after the alarm, from readings after it only', () => {
    const { feed } = engine([gc1]);
    feed(...lelSeries(0, 5_000, [...flat(24, 2), 60, ...flat(12, 2)])); // L1 clears at 155 s
    // A slow rise from 2 %LEL from 185 s: the window restarted when L1 cleared (its samples are
    // 2 %LEL from 155 s on, the spike is not among them), and it forecasts the new approach.
    const signals = feed(...lelSeries(185_000, 5_000, ramp(2, 0.5, 50)));
    expect(signals.map(brief)).toEqual([
      'gas-trend active @220',
      'gas-l1 active @410',
      'gas-trend cleared @410',
    ]);
    expect(signals[0]).toMatchObject({ value: 6 });
  });

  it('raises no trend for a bump below L1 on its way back down', () => {
    // Before: gas-trend at 9 %LEL, three readings after the 12 %LEL peak, "predicted to reach
    // 25 %LEL": the least-squares line through a peak still points up after it. The rise itself
    // (+10 %LEL within 10 s) is the rate-of-rise's, raised on the way up.
    const { feed } = engine([gc1]);
    const bump = [...flat(24, 2), 7, 12, ...ramp(12, -1, 10), ...flat(24, 2)];
    expect(feed(...lelSeries(0, 5_000, bump)).map(brief)).toEqual([
      'gas-rate active @125',
      'gas-rate cleared @155',
    ]);
  });

  it('holds the warning while a latched alarm’s condition stands (L2 with L1 disabled)', () => {
    const noL1 = registered('gc-1', 'gas-combustible', {
      overrides: [{ 'gas-l1': { enabled: false } }],
    });
    const { feed } = engine([noL1]);
    // +1 %LEL every 5 s from 0 to 60: the trend toward 25 %LEL warns, then L2 at 50 %LEL.
    const signals = feed(...lelSeries(0, 5_000, [0, ...ramp(0, 1, 60), ...flat(12, 60)]));
    expect(signals.map(brief)).toEqual([
      'gas-trend active @40',
      'gas-rate active @50', // +10 %LEL within 60 s below 25 %LEL
      'gas-l2 active @250',
      'gas-rate cleared @250',
      'gas-trend cleared @250',
    ]);
    expect(signals[2]).toMatchObject({ latched: true });
  });

  it('keeps the warning held after a restart under an open L1 (activeAtStart)', () => {
    // 22 %LEL rising 0.1 %LEL every 5 s: toward 25 %LEL at 1.2 %LEL a minute.
    const readings = lelSeries(0, 5_000, ramp(22, 0.1, 29));
    expect(
      engine([gc1])
        .feed(...readings)
        .map(brief),
    ).toEqual(['gas-trend active @40']);
    // Restarted with L1 open: 22–24.9 %LEL is inside its deadband, so it stays active, and the
    // trend is not raised beside it.
    const restarted = engine([gc1], { activeAtStart: key => key === 'plant-1/gc-1/gas-l1' });
    expect(restarted.feed(...readings)).toEqual([]);
  });

  it('does not depend on the rule order: an alarm listed after the warning withdraws it at once', () => {
    const custom = device('gc-1', [
      trendConfig({ windowMs: 120_000, minSamples: 5 }),
      lelRule({ offDelayMs: 30_000 }),
    ]);
    const { feed } = engine([custom]);
    const signals = feed(...lelSeries(0, 5_000, [0, ...ramp(0, 0.5, 60)]));
    expect(signals.map(brief)).toEqual([
      'gas-trend active @40',
      'gas-l1 active @250',
      'gas-trend cleared @250',
    ]);
  });

  it('electrical fire: the alarm covers its metric’s step and trend; a pre-alarm covers nothing', () => {
    const { feed } = engine([registered('ef-1', 'electrical-fire')]);
    const ef = values('electrical-fire', 'ef-1');
    feed(ef(0, { leak_ma: 40, temp_c: 55 }));
    // Before: leak-step (+280 mA) beside leak-alarm. A pre-alarm threshold is not an alarm and
    // covers nothing: temp-pre (P3, 61.25 °C) does not hold back temp-rate (P2, +8 °C in 60 s).
    expect(feed(ef(30_000, { leak_ma: 320, temp_c: 63 })).map(brief)).toEqual([
      'leak-pre active @30',
      'leak-alarm active @30',
      'temp-pre active @30',
      'temp-rate active @30',
    ]);
    // temp-alarm (70 °C, process) covers temp-rate: withdrawn at once.
    expect(feed(ef(40_000, { leak_ma: 320, temp_c: 71 })).map(brief)).toEqual([
      'temp-alarm active @40',
      'temp-rate cleared @40',
    ]);
  });

  it('oxygen: the low alarm covers the rate of fall; the high alarm does not', () => {
    const { feed } = engine([registered('go-1', 'gas-oxygen'), registered('go-2', 'gas-oxygen')]);
    const low = values('gas-oxygen', 'go-1');
    feed(low(0, { o2: 20.9 }));
    expect(feed(low(30_000, { o2: 19.4 })).map(brief)).toEqual(['o2-low active @30']);
    const high = values('gas-oxygen', 'go-2');
    feed(high(0, { o2: 24 }));
    // A fall of 0.6 %VOL while enriched is not what o2-high announces: both stand.
    expect(feed(high(30_000, { o2: 23.4 })).map(brief)).toEqual(['o2-rate active @30']);
  });
});

describe(coverPlanOf.name, () => {
  it('pairs the process thresholds with the early warnings of their metric and side, once per rule list', () => {
    const rules = registered('gc-1', 'gas-combustible').rules;
    const plan = coverPlanOf(rules);
    const id = (index: number) => rules[index]?.ruleId;
    const rate = rules.findIndex(rule => rule.ruleId === 'gas-rate');
    const trend = rules.findIndex(rule => rule.ruleId === 'gas-trend');
    expect(plan?.coveredBy[rate]?.map(id)).toEqual(['gas-l1', 'gas-l2', 'gas-over-range']);
    expect(plan?.coveredBy[trend]?.map(id)).toEqual(['gas-l1', 'gas-l2', 'gas-over-range']);
    expect(coverPlanOf(rules)).toBe(plan);
    expect(coverPlanOf(registered('fp-1', 'fire-panel').rules)).toBeUndefined();
    const disabled = registered('gc-1', 'gas-combustible', {
      overrides: [{ 'gas-trend': { enabled: false }, 'gas-rate': { category: 'process' } }],
    }).rules;
    expect(coverPlanOf(disabled)).toBeUndefined(); // a rate that is a process alarm is no warning
  });
});

describe('early-warning properties', () => {
  const ALARMS = ['gas-l1', 'gas-l2', 'gas-over-range'];
  const WARNINGS = ['gas-rate', 'gas-trend'];

  /** Readings of one detector: steps, spikes, ramps and noise, some late, some reloads. */
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('reading' as const),
      gap: fc.integer({ min: 0, max: 15_000 }),
      skew: fc.constantFrom(0, 0, 0, 0, -3_000, -20_000),
      value: fc.oneof(
        fc.integer({ min: -5, max: 110 }),
        fc.double({ min: 0, max: 30, noNaN: true }),
      ),
      repeat: fc.integer({ min: 1, max: 30 }),
      slope: fc.double({ min: -2, max: 2, noNaN: true }),
    }),
    fc.record({ kind: fc.constant('reload' as const), variant: fc.nat(2) }),
  );
  const variants: readonly DeviceRules[] = [
    registered('gc-1', 'gas-combustible'),
    registered('gc-1', 'gas-combustible', {
      overrides: [{ 'gas-l1': { setpoint: 20, onDelayMs: 10_000 }, 'gas-trend': { target: 20 } }],
    }),
    registered('gc-1', 'gas-combustible', { overrides: [{ 'gas-l1': { enabled: false } }] }),
  ];

  it('never has gas-trend or gas-rate active while an alarm on the metric is active', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), steps => {
        const { registry, feed } = engine([variants[0] as DeviceRules]);
        const active = new Map<string, boolean>();
        let ts = 0;
        for (const each of steps) {
          if (each.kind === 'reload') {
            registry.set('gc-1', variants[each.variant] as DeviceRules);
            continue;
          }
          for (let index = 0; index < each.repeat; index += 1) {
            ts += each.gap;
            const value = each.value + each.slope * index;
            for (const signal of feed(lelRecord('gc-1', Math.max(0, ts + each.skew), value, ts))) {
              active.set(signal.ruleId, signal.active);
            }
            const alarm = ALARMS.some(ruleId => active.get(ruleId));
            const warning = WARNINGS.some(ruleId => active.get(ruleId));
            expect([alarm, warning]).not.toEqual([true, true]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
