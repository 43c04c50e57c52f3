import type { Reading, RuleSignal } from '@vigil/contracts';

import {
  SITE,
  context,
  lelRecord,
  reading,
  readingRecord,
  statusRecord,
  tick,
} from '../testing/fixtures';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  createRuleEngineStats,
  reduceRuleEngine,
  reloadRules,
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

function of(deviceClass: Reading['deviceClass'], value: Reading): Reading {
  return { ...value, deviceClass };
}

describe(reduceRuleEngine.name, () => {
  const gc1 = registered('gc-1', 'gas-combustible');

  it('raises L1 then L2 for one reading beyond both set-points', () => {
    const { feed } = engine([gc1]);
    const signals = feed(lelRecord('gc-1', 1_000, 62));
    expect(signals.map(brief)).toEqual(['gc-1/gas-l1 active', 'gc-1/gas-l2 active']);
    expect(signals[1]).toMatchObject({
      key: `${SITE}/gc-1/gas-l2`,
      priority: 1,
      latched: true,
      message: 'Combustible gas 62 %LEL ≥ L2 set-point 50 %LEL',
    });
  });

  it('clears L2 as soon as the value is below 45 %LEL, and L1 only after 30 s below 20 %LEL', () => {
    const { feed } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 62));
    expect(feed(lelRecord('gc-1', 1_000, 44)).map(brief)).toEqual(['gc-1/gas-l2 cleared']);
    expect(feed(lelRecord('gc-1', 2_000, 10), lelRecord('gc-1', 31_999, 10))).toEqual([]);
    expect(feed(lelRecord('gc-1', 32_000, 10)).map(brief)).toEqual(['gc-1/gas-l1 cleared']);
  });

  it('converts toxic limits to ppm for the device gas', () => {
    const h2s = registered('gt-1', 'gas-toxic', { attributes: { gas: 'H2S' } });
    const { feed } = engine([h2s]);
    const [l1] = feed(readingRecord(of('gas-toxic', reading('gt-1', 0, { ppm: 8 }))));
    expect(l1).toMatchObject({
      ruleId: 'gas-l1',
      deviceClass: 'gas-toxic',
      message: 'H2S 8 ppm ≥ L1 set-point 7.054 ppm',
    });
  });

  it('raises under-oxygen at 19.5 %VOL', () => {
    const { feed } = engine([registered('go-1', 'gas-oxygen')]);
    const signals = feed(readingRecord(of('gas-oxygen', reading('go-1', 0, { o2: 19.5 }))));
    expect(signals.map(signal => signal.message)).toEqual([
      'Oxygen 19.5 %VOL ≤ low set-point 19.5 %VOL',
    ]);
  });

  it('ignores late readings for value rules, counts them, and still takes them as signs of life', () => {
    const { feed, stats, state } = engine([gc1]);
    feed(lelRecord('gc-1', 10_000, 3, 10_000));
    expect(feed(lelRecord('gc-1', 5_000, 80, 35_000))).toEqual([]);
    expect(stats.outOfOrderReadings).toBe(1);
    expect(state.devices.get(SITE)?.get('gc-1')).toMatchObject({ lastTs: 10_000, outOfOrder: 1 });
    expect(feed(tick(60_000))).toEqual([]); // seen at 35 000: not offline before 65 000
    expect(feed(tick(65_001)).map(brief)).toEqual(['gc-1/offline active']);
  });

  it('processes a reading with the same event time as the last one', () => {
    const { feed } = engine([gc1]);
    feed(lelRecord('gc-1', 1_000, 3));
    expect(feed(lelRecord('gc-1', 1_000, 30)).map(brief)).toEqual(['gc-1/gas-l1 active']);
  });

  it('ignores and counts records of unknown devices, keeping no state for them', () => {
    const { feed, stats, state } = engine([]);
    expect(feed(lelRecord('ghost', 0, 99), tick(999_999))).toEqual([]);
    expect(stats.unknownDeviceRecords).toBe(1);
    expect(state.devices.size).toBe(0);
  });

  it('does not evaluate a disabled rule', () => {
    const quiet = registered('gc-2', 'gas-combustible', {
      overrides: [{ 'gas-l1': { enabled: false } }],
    });
    const { feed } = engine([quiet]);
    expect(feed(lelRecord('gc-2', 0, 30))).toEqual([]);
  });

  it('clears offline before reporting the gas of a device that comes back', () => {
    const { feed } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 1, 0), tick(40_000));
    expect(feed(lelRecord('gc-1', 41_000, 30, 41_000)).map(brief)).toEqual([
      'gc-1/offline cleared',
      'gc-1/gas-l1 active',
    ]);
  });

  it('watches expected devices from the start without flooding at start', () => {
    const { feed } = engine([gc1], { startedAt: 1_000_000, expectedDevices: [gc1] });
    expect(feed(tick(1_000_500), tick(1_030_000))).toEqual([]);
    expect(feed(tick(1_030_001)).map(brief)).toEqual(['gc-1/offline active']);
  });

  it('keeps devices independent', () => {
    const { feed } = engine([gc1, registered('gc-2', 'gas-combustible')]);
    expect(
      feed(lelRecord('gc-1', 0, 30), lelRecord('gc-2', 0, 3), lelRecord('gc-2', 1, 55)).map(brief),
    ).toEqual(['gc-1/gas-l1 active', 'gc-2/gas-l1 active', 'gc-2/gas-l2 active']);
  });

  it('counts records, ticks and signals', () => {
    const { feed, stats } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 62), tick(1));
    expect(stats).toMatchObject({ records: 1, ticks: 1, signals: 2 });
  });
});

describe(reloadRules.name, () => {
  const gc1 = registered('gc-1', 'gas-combustible');

  it('keeps the state of a rule that still exists: no second raise, new set-point from now on', () => {
    const { feed, registry, stats } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 30));
    registry.set(
      'gc-1',
      registered('gc-1', 'gas-combustible', {
        overrides: [{ 'gas-l1': { setpoint: 40, offDelayMs: 0 } }],
      }),
    );
    // Still 30: above the old clear point but below the new one (40 − 5): it clears, once.
    expect(feed(lelRecord('gc-1', 1_000, 30)).map(brief)).toEqual(['gc-1/gas-l1 cleared']);
    expect(stats.reloads).toBe(1);
    expect(feed(lelRecord('gc-1', 2_000, 30))).toEqual([]);
  });

  it('keeps an active rule active across a reload that does not change it', () => {
    const { feed, registry } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 62));
    registry.set('gc-1', registered('gc-1', 'gas-combustible'));
    expect(feed(lelRecord('gc-1', 1_000, 62))).toEqual([]);
  });

  it('clears an active rule that was removed or disabled', () => {
    const { feed, registry } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 62));
    registry.set(
      'gc-1',
      registered('gc-1', 'gas-combustible', { overrides: [{ 'gas-l2': { enabled: false } }] }),
    );
    const [cleared] = feed(lelRecord('gc-1', 1_000, 62));
    expect(cleared).toMatchObject({
      ruleId: 'gas-l2',
      active: false,
      latched: true,
      value: undefined,
      at: 1_000,
      message: 'Rule gas-l2 removed or disabled by a configuration reload; no longer evaluated',
    });
    // Re-enabled: it starts from inactive and raises again.
    registry.set('gc-1', gc1);
    expect(feed(lelRecord('gc-1', 2_000, 62)).map(brief)).toEqual(['gc-1/gas-l2 active']);
  });

  it('clears everything of a device removed from the registry and forgets it', () => {
    const { feed, registry, state } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 62), statusRecord('gc-1', false, 500));
    registry.delete('gc-1');
    expect(
      feed(lelRecord('gc-1', 1_000, 62))
        .map(brief)
        .sort(),
    ).toEqual(['gc-1/gas-l1 cleared', 'gc-1/gas-l2 cleared', 'gc-1/offline cleared']);
    expect(state.devices.size).toBe(0);
    expect(state.offlineQueue.size).toBe(0);
    expect(feed(tick(999_999))).toEqual([]);
  });

  it('notices a reload of a silent device when its offline deadline comes due', () => {
    const { feed, registry } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 1, 0));
    registry.set(
      'gc-1',
      registered('gc-1', 'gas-combustible', { overrides: [{ offline: { enabled: false } }] }),
    );
    expect(feed(tick(40_000), tick(400_000))).toEqual([]);
  });

  it('forgets a silent device removed from the registry instead of raising it offline', () => {
    const { feed, registry, state } = engine([gc1]);
    feed(lelRecord('gc-1', 0, 1, 0));
    registry.delete('gc-1');
    expect(feed(tick(40_000), tick(400_000))).toEqual([]);
    expect(state.devices.size).toBe(0);
    expect(state.offlineQueue.size).toBe(0);
  });

  it('applies a shorter offline timeout to a device already being watched', () => {
    const slow = registered('gc-1', 'gas-combustible', {
      overrides: [{ offline: { timeoutMs: 100_000 } }],
    });
    const { feed, registry } = engine([slow]);
    feed(lelRecord('gc-1', 0, 1, 0));
    registry.set('gc-1', gc1); // back to 30 s
    feed(lelRecord('gc-1', 1_000, 1, 1_000)); // reveals the reload; seen at 1 000
    expect(feed(tick(31_000))).toEqual([]);
    expect(feed(tick(31_001)).map(brief)).toEqual(['gc-1/offline active']);
  });

  it('starts a rule added by a reload from inactive', () => {
    const tank = registered('tk-1', 'mhs-tank');
    const { feed, registry } = engine([tank]);
    feed(readingRecord(of('mhs-tank', reading('tk-1', 0, { level_pct: 95 }))));
    const levelHigh = {
      kind: 'threshold',
      metric: 'level_pct',
      direction: 'high',
      setpoint: 90,
      deadband: 2,
      onDelayMs: 0,
      offDelayMs: 0,
      latched: false,
      priority: 3,
      category: 'process',
      level: 'H',
      enabled: true,
    };
    registry.set(
      'tk-1',
      registered('tk-1', 'mhs-tank', { overrides: [{ 'level-high': levelHigh }] }),
    );
    const signals = feed(readingRecord(of('mhs-tank', reading('tk-1', 1_000, { level_pct: 95 }))));
    expect(signals.map(brief)).toEqual(['tk-1/level-high active']);
    expect(signals[0]?.message).toBe('level_pct 95 ≥ H set-point 90');
  });
});
