import type { DeviceClass, RuleSignal } from '@vigil/contracts';

import { context, lelRecord, tick } from '../testing/fixtures';
import { classRecord, deviceEventRecord } from '../testing/records';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  createRuleEngineStats,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';

function engine(devices: readonly DeviceRules[], extra: Partial<RuleEngineOptions> = {}) {
  const registry = new Map(devices.map(device => [device.deviceId, device]));
  const stats = createRuleEngineStats();
  const options: RuleEngineOptions = {
    ...context,
    startedAt: 0,
    lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
    stats,
    ...extra,
  };
  const state = createRuleEngineState(options);
  const feed = (...inputs: EngineInput[]): RuleSignal[] =>
    inputs.flatMap(input => reduceRuleEngine(state, input, options).signals);
  return { registry, stats, state, feed };
}

const brief = (signal: RuleSignal) =>
  `${signal.deviceId}/${signal.ruleId} ${signal.active ? 'active' : 'cleared'}`;

const values =
  (deviceClass: DeviceClass, deviceId: string) => (ts: number, reading: Record<string, number>) =>
    classRecord(deviceClass, deviceId, ts, reading);

describe('rule engine: the default rules of every class', () => {
  it('combustible: a fast leak gives the rate pre-alarm, then L1 (which withdraws it), L2 and the latched over-range', () => {
    const { feed } = engine([registered('gc-1', 'gas-combustible')]);
    const leak = [0, 1, 2, 3, 8, 14, 22, 35, 60, 100].map((value, index) =>
      lelRecord('gc-1', index * 5_000, value),
    );
    const signals = feed(...leak);
    expect(signals.map(brief)).toEqual([
      'gc-1/gas-rate active', // 14 %LEL at 25 s: +14 within 60 s, below L1
      'gc-1/gas-l1 active',
      'gc-1/gas-rate cleared', // the alarm it announced speaks now (README "Early warnings")
      'gc-1/gas-l2 active',
      'gc-1/gas-over-range active',
    ]);
    expect(signals.map(signal => [signal.category, signal.priority, signal.latched])).toEqual([
      ['warning', 3, false],
      ['process', 2, false],
      ['warning', 3, false],
      ['process', 1, true],
      ['process', 1, true],
    ]);
  });

  it('combustible: a slow leak is forecast minutes before L1, with the predicted time; L1 then withdraws it', () => {
    const { feed } = engine([registered('gc-1', 'gas-combustible')]);
    // +0.5 %LEL every 5 s (6 %LEL a minute: too slow for the rate-of-rise pre-alarm).
    const leak = Array.from({ length: 60 }, (_, index) =>
      lelRecord('gc-1', index * 5_000, index * 0.5),
    );
    const signals = feed(...leak);
    expect(signals.map(brief)).toEqual([
      'gc-1/gas-trend active',
      'gc-1/gas-l1 active',
      'gc-1/gas-trend cleared',
    ]);
    expect(signals[0]).toMatchObject({ at: 40_000, value: 4, predictedAt: 250_000 });
    expect(signals[1]).toMatchObject({ at: 250_000 });
    expect(signals[2]).toMatchObject({ at: 250_000, value: 25 });
  });

  it('combustible: a zero drift below −5 %LEL for 60 s is a quality fault, not an alarm', () => {
    const { feed } = engine([registered('gc-1', 'gas-combustible')]);
    const drift = [0, 20_000, 40_000, 60_000].map(ts => lelRecord('gc-1', ts, -6));
    const signals = feed(...drift);
    expect(signals.map(brief)).toEqual(['gc-1/range-lel active']);
    expect(signals[0]).toMatchObject({ category: 'quality', at: 60_000 });
  });

  it('gas: a fault event raises at once and clears on fault cleared; data does not clear it', () => {
    const { feed } = engine([registered('gc-1', 'gas-combustible')]);
    const fault = (ts: number, detail?: Record<string, unknown>) =>
      deviceEventRecord('gc-1', 'fault', ts, detail, 'gas-combustible');
    expect(feed(fault(1_000)).map(brief)).toEqual(['gc-1/fault active']);
    expect(feed(lelRecord('gc-1', 2_000, 0))).toEqual([]);
    const cleared = feed(fault(3_000, { cleared: true }));
    expect(cleared.map(brief)).toEqual(['gc-1/fault cleared']);
    expect(cleared[0]).toMatchObject({ priority: 2, category: 'quality' });
  });

  it('gas: a clock 90 s behind for a minute of receive time raises clock-skew (P4)', () => {
    const { feed } = engine([registered('gc-1', 'gas-combustible')]);
    const skewed = (receivedAt: number, skew: number) =>
      classRecord(
        'gas-combustible',
        'gc-1',
        receivedAt + skew,
        { lel: 0 },
        { receivedAt, clockSkewMs: skew },
      );
    expect(feed(skewed(100_000, -90_000), skewed(130_000, -90_000))).toEqual([]);
    expect(feed(skewed(160_000, -90_000)).map(brief)).toEqual(['gc-1/clock-skew active']);
    // Set right: a clock 89 s ahead of the device's own is followed once it has held alone for
    // 10 s (until then its readings run on the old clock), then clock-skew clears.
    expect(feed(skewed(170_000, -1_000))).toEqual([]);
    expect(feed(skewed(180_000, -1_000)).map(brief)).toEqual(['gc-1/clock-skew cleared']);
  });

  it('electrical fire: pre-alarm at 210 mA, latched alarm at 300 mA, arc at 14 half-cycles', () => {
    const { feed } = engine([
      registered('ef-1', 'electrical-fire', { attributes: { ratedTempC: 70 } }),
    ]);
    const ef = values('electrical-fire', 'ef-1');
    expect(feed(ef(0, { leak_ma: 150, temp_c: 30, arc: 0 }))).toEqual([]);
    expect(feed(ef(120_000, { leak_ma: 215, temp_c: 30, arc: 8 })).map(brief)).toEqual([
      'ef-1/leak-pre active',
    ]);
    const alarm = feed(ef(240_000, { leak_ma: 320, temp_c: 57, arc: 14 }));
    expect(alarm.map(brief)).toEqual([
      'ef-1/leak-alarm active',
      'ef-1/temp-pre active', // 49 °C
      'ef-1/temp-alarm active', // 56 °C = 0.8 × 70 °C
      'ef-1/arc active',
    ]);
    expect(
      alarm.filter(signal => signal.category === 'process').every(signal => signal.latched),
    ).toBe(true);
    // 9–13 half-cycles neither raise nor clear; below 9 clears (the alarm stays latched downstream).
    expect(feed(ef(360_000, { arc: 12 }))).toEqual([]);
    expect(feed(ef(361_000, { arc: 8 })).map(brief)).toEqual(['ef-1/arc cleared']);
  });

  it('electrical fire: a 100 mA step within 60 s and an 8 °C/min rise are warnings', () => {
    const { feed } = engine([registered('ef-1', 'electrical-fire')]);
    const ef = values('electrical-fire', 'ef-1');
    feed(ef(0, { leak_ma: 40, temp_c: 30 }));
    const signals = feed(ef(30_000, { leak_ma: 145, temp_c: 39 }));
    expect(signals.map(brief)).toEqual(['ef-1/leak-step active', 'ef-1/temp-rate active']);
    expect(signals.map(signal => signal.priority)).toEqual([3, 2]);
  });

  it('tank: H waits 60 s of event time, HH acts at once; pressure only from registry set-points', () => {
    const tank = registered('tk-1', 'mhs-tank', { attributes: { pressure_kpa_hh: 1600 } });
    const { feed } = engine([tank]);
    const tk = values('mhs-tank', 'tk-1');
    expect(feed(tk(0, { level_pct: 86, pressure_kpa: 1000 }))).toEqual([]);
    expect(feed(tk(59_999, { level_pct: 87 }))).toEqual([]);
    expect(feed(tk(60_000, { level_pct: 88 })).map(brief)).toEqual(['tk-1/level-h active']);
    expect(feed(tk(70_000, { level_pct: 96, pressure_kpa: 1650 })).map(brief)).toEqual([
      'tk-1/level-hh active',
      'tk-1/pressure-hh active',
    ]);
  });

  it('fire panel: one P1 per point, located per point; reset clears fires, faults, supervisory, linkage', () => {
    const { feed } = engine([registered('fp-1', 'fire-panel')]);
    const panel = (code: string, ts: number, detail?: Record<string, unknown>) =>
      deviceEventRecord('fp-1', code, ts, detail);
    const raised = feed(
      panel('fire', 1_000, { loop: 1, address: 23 }),
      panel('fire', 1_500, { loop: 1, point: 24 }),
      panel('supervisory', 2_000),
      panel('fault', 3_000),
      panel('feedback', 4_000, { loop: 2, point: 5 }),
      panel('isolation', 4_500, { loop: 3, point: 1 }),
    );
    expect(raised.map(signal => [signal.key, signal.priority, signal.category])).toEqual([
      ['plant-1/fp-1/fire/L1.P23', 1, 'process'],
      ['plant-1/fp-1/fire/L1.P24', 1, 'process'],
      ['plant-1/fp-1/supervisory', 3, 'process'],
      ['plant-1/fp-1/fault', 3, 'quality'],
      ['plant-1/fp-1/feedback/L2.P5', 4, 'warning'],
      ['plant-1/fp-1/isolation/L3.P1', 2, 'quality'],
    ]);
    expect(raised[0]?.message).toBe(
      'Unconfirmed fire (GB 25201 §5.3: confirm or reject) at loop 1 point 23 (loop=1 address=23)',
    );
    expect(raised[0]?.location).toEqual({ loop: '1', point: '23' });
    expect(feed(panel('reset', 5_000)).map(signal => signal.key)).toEqual([
      'plant-1/fp-1/fire/L1.P23',
      'plant-1/fp-1/fire/L1.P24',
      'plant-1/fp-1/fault',
      'plant-1/fp-1/supervisory',
      'plant-1/fp-1/feedback/L2.P5',
    ]);
  });

  it('after a restart, a panel reset and a cleared event still clear the restored points', () => {
    const open = (key: string, ruleId: string, level: string, priority: 1 | 2) => ({
      key: `plant-1/fp-1/${key}`,
      siteId: 'plant-1',
      deviceId: 'fp-1',
      ruleId,
      level,
      priority,
      areaId: 'tank-farm',
      conditionActive: true,
    });
    const { feed } = engine([registered('fp-1', 'fire-panel')], {
      eventAlarmsAtStart: () => [
        open('fire/L1.P23', 'fire', 'fire', 1),
        open('fire/confirmed.Z1', 'fire', 'confirmed', 1),
        open('isolation/L1.P24', 'isolation', 'isolation', 2),
        { ...open('fire/L9.P9', 'fire', 'fire', 1), conditionActive: false }, // already cleared
      ],
    });
    const cleared = feed(deviceEventRecord('fp-1', 'reset', 1_000));
    expect(cleared.map(signal => [signal.key, signal.active, signal.areaId])).toEqual([
      ['plant-1/fp-1/fire/L1.P23', false, 'tank-farm'],
      ['plant-1/fp-1/fire/confirmed.Z1', false, 'tank-farm'],
    ]);
    expect(cleared[1]?.message).toMatch(/^Confirmed fire/);
    expect(
      feed(
        deviceEventRecord('fp-1', 'isolation', 2_000, { loop: 1, point: 24, cleared: true }),
      ).map(signal => [signal.key, signal.active]),
    ).toEqual([['plant-1/fp-1/isolation/L1.P24', false]]);
  });

  it('counts events raised despite an address or level problem (never dropped)', () => {
    const { feed, stats } = engine([registered('fp-1', 'fire-panel')]);
    const raised = feed(deviceEventRecord('fp-1', 'fire', 1_000, { loop: 'a b', point: 1 }));
    expect(raised.map(signal => signal.key)).toEqual(['plant-1/fp-1/fire']);
    expect(stats.eventProblems).toBe(1);
  });

  it('call point and SOS: one latched P1 pulse per press', () => {
    const { feed } = engine([registered('cp-1', 'call-point'), registered('tag-1', 'tag')]);
    expect(
      feed(deviceEventRecord('cp-1', 'alarm', 1_000, undefined, 'call-point')).map(brief),
    ).toEqual(['cp-1/call-point active', 'cp-1/call-point cleared']);
    const sos = feed(deviceEventRecord('tag-1', 'sos', 2_000, undefined, 'tag'));
    expect(
      sos.map(signal => [signal.ruleId, signal.active, signal.priority, signal.latched]),
    ).toEqual([
      ['sos', true, 1, true],
      ['sos', false, 1, true],
    ]);
  });
});

describe('rule engine: late and out-of-order readings', () => {
  it('lets a reading up to 5 s late join the rate window, and counts older ones late', () => {
    const { feed, stats } = engine([registered('gc-1', 'gas-combustible')]);
    feed(lelRecord('gc-1', 10_000, 8));
    expect(feed(lelRecord('gc-1', 5_000, 1))).toEqual([]); // 5 s late: within the allowance
    expect(feed(lelRecord('gc-1', 4_000, 1))).toEqual([]); // 6 s late: ignored
    expect(stats).toMatchObject({ outOfOrderReadings: 2, lateReadings: 1 });
    // 8 → 11 alone is +3; with the late 1 at 5 s in the window it is +10.
    expect(feed(lelRecord('gc-1', 20_000, 11)).map(brief)).toEqual(['gc-1/gas-rate active']);
  });

  it('honours a custom allowance', () => {
    const { feed, stats } = engine([registered('gc-1', 'gas-combustible')], { lateAllowanceMs: 0 });
    feed(lelRecord('gc-1', 10_000, 8), lelRecord('gc-1', 9_999, 1));
    expect(stats.lateReadings).toBe(1);
  });
});

describe('rule engine: reloads of the new rule kinds', () => {
  it('keeps a window rule’s state across a reload that changes its parameters', () => {
    const { feed, registry } = engine([registered('gc-1', 'gas-combustible')]);
    feed(lelRecord('gc-1', 0, 1), lelRecord('gc-1', 20_000, 12)); // gas-rate raised
    registry.set(
      'gc-1',
      registered('gc-1', 'gas-combustible', { overrides: [{ 'gas-rate': { delta: 9 } }] }),
    );
    expect(feed(lelRecord('gc-1', 25_000, 13))).toEqual([]); // no second raise
  });

  it('clears an active event rule removed by a reload', () => {
    const { feed, registry } = engine([registered('fp-1', 'fire-panel')]);
    feed(deviceEventRecord('fp-1', 'fire', 1_000));
    registry.set(
      'fp-1',
      registered('fp-1', 'fire-panel', { overrides: [{ fire: { enabled: false } }] }),
    );
    const cleared = feed(deviceEventRecord('fp-1', 'auto_mode', 2_000));
    expect(cleared.map(brief)).toEqual(['fp-1/fire cleared']);
    expect(cleared[0]).toMatchObject({ latched: true, value: undefined, at: 2_000 });
  });

  it('keeps an offline device queued so that its removal is noticed while it stays silent', () => {
    const { feed, registry, state } = engine([registered('gc-1', 'gas-combustible')]);
    feed(lelRecord('gc-1', 0, 1, 0), tick(31_000));
    registry.delete('gc-1');
    expect(feed(tick(61_001)).map(brief)).toEqual(['gc-1/offline cleared']);
    expect(state.devices.size).toBe(0);
    expect(state.offlineQueue.size).toBe(0);
  });
});
