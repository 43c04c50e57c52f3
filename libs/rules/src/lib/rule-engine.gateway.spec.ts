import type { RuleSignal } from '@vigil/contracts';

import { context, lelRecord, statusRecord, tick } from '../testing/fixtures';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  createRuleEngineStats,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';

/** A gateway `gw` (30 s offline timeout) with three gas detectors behind it (30 s each). */
function fleet(gatewayTimeoutMs = 30_000) {
  const gateway = registered('gw', 'gas-combustible', {
    overrides: [{ offline: { timeoutMs: gatewayTimeoutMs } }],
  });
  const child = (deviceId: string): DeviceRules => ({
    ...registered(deviceId, 'gas-combustible'),
    gatewayId: 'gw',
  });
  return [gateway, child('gc-1'), child('gc-2'), child('gc-3')];
}

function engine(devices: readonly DeviceRules[], watchAll = true) {
  const registry = new Map(devices.map(device => [device.deviceId, device]));
  const stats = createRuleEngineStats();
  const options: RuleEngineOptions = {
    ...context,
    startedAt: 0,
    lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
    stats,
    ...(watchAll ? { expectedDevices: devices } : {}),
  };
  const state = createRuleEngineState(options);
  const feed = (...inputs: EngineInput[]): RuleSignal[] =>
    inputs.flatMap(input => reduceRuleEngine(state, input, options).signals);
  return { registry, stats, state, feed };
}

const brief = (signal: RuleSignal) =>
  `${signal.deviceId}/${signal.ruleId} ${signal.active ? 'active' : 'cleared'}`;

/** Every device reports at `at` (server time). */
const everyone = (at: number, ...ids: string[]) => ids.map(id => lelRecord(id, at, 1, at));

describe('gateways (root-cause offline)', () => {
  it('raises one gateway-offline for a silent gateway and no offline for the devices behind it', () => {
    const { feed, stats } = engine(fleet());
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'));
    // The children are due at 31 000 like the gateway: it is decided first, they are held back.
    expect(feed(tick(31_000))).toEqual([]);
    const raised = feed(tick(31_001));
    expect(raised.map(brief)).toEqual(['gw/gateway-offline active']);
    expect(raised[0]).toMatchObject({
      key: 'plant-1/gw/gateway-offline',
      level: 'gateway-offline',
      category: 'quality',
      priority: 2, // the gas detectors behind it
      message:
        'Gateway offline: No data for 30 s (offline after 30 s); the 3 devices behind it are not reported offline one by one',
    });
    for (let now = 32_000; now < 600_000; now += 1_000) expect(feed(tick(now))).toEqual([]);
    expect(stats.suppressedOffline).toBe(3);
  });

  it('raises devices still silent a full timeout after their gateway returns', () => {
    const { feed } = engine(fleet());
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'), tick(32_000), tick(33_000));
    const back = feed(lelRecord('gw', 100_000, 1, 100_000), lelRecord('gc-1', 100_500, 1, 100_500));
    expect(back.map(brief)).toEqual(['gw/gateway-offline cleared']);
    expect(back[0]?.message).toMatch(/^Gateway back: Data received again after 99 s/);
    feed(lelRecord('gw', 120_000, 1, 120_000), lelRecord('gc-1', 120_000, 1, 120_000));
    expect(feed(tick(130_000))).toEqual([]);
    // gc-1 spoke; gc-2 and gc-3 are raised 30 s after the gateway's return.
    const raised = feed(tick(130_001), tick(131_000));
    expect(raised.map(brief).sort()).toEqual(['gc-2/offline active', 'gc-3/offline active']);
    expect(raised[0]?.message).toMatch(/^No data for 129 s/);
  });

  it('raises a device at once when the gateway or another device behind it still reports', () => {
    const { feed } = engine(fleet(120_000));
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'));
    feed(lelRecord('gc-2', 20_000, 1, 20_000), lelRecord('gc-3', 20_000, 1, 20_000));
    expect(feed(tick(31_001)).map(brief)).toEqual(['gc-1/offline active']);
  });

  it('waits at most one more timeout of the device for a slow gateway to decide', () => {
    const { feed } = engine(fleet(300_000));
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'));
    expect(feed(tick(31_001), tick(61_000))).toEqual([]);
    expect(feed(tick(61_001)).map(brief).sort()).toEqual([
      'gc-1/offline active',
      'gc-2/offline active',
      'gc-3/offline active',
    ]);
  });

  it('raises the gateway at once on its last will and holds its devices back', () => {
    const { feed } = engine(fleet());
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'));
    expect(feed(statusRecord('gw', false, 5_000)).map(brief)).toEqual([
      'gw/gateway-offline active',
    ]);
    expect(feed(tick(40_000), tick(100_000))).toEqual([]);
    expect(feed(statusRecord('gw', true, 101_000)).map(brief)).toEqual([
      'gw/gateway-offline cleared',
    ]);
  });

  it('raises a plain offline for a device that nothing reports through', () => {
    const { feed } = engine([registered('gc-9', 'gas-combustible')]);
    feed(lelRecord('gc-9', 0, 1, 0));
    expect(feed(tick(31_000)).map(brief)).toEqual(['gc-9/offline active']);
  });

  it('lets a device behind a gateway with no offline rule go offline on its own', () => {
    const [, ...children] = fleet();
    const gateway = registered('gw', 'gas-combustible', {
      overrides: [{ offline: { enabled: false } }],
    });
    const { feed } = engine([gateway, ...children]);
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'));
    expect(feed(tick(31_001)).map(brief)).toHaveLength(3);
  });

  it('releases held devices when a reload removes the gateway', () => {
    const devices = fleet();
    const { feed, registry } = engine(devices);
    feed(...everyone(1_000, 'gw', 'gc-1', 'gc-2', 'gc-3'), tick(31_001), tick(32_000));
    registry.delete('gw');
    // The offline gateway is looked at again one timeout after it was raised.
    expect(feed(tick(61_002)).map(brief)).toEqual(['gw/gateway-offline cleared']);
    expect(feed(tick(91_002))).toEqual([]);
    expect(feed(tick(91_003)).map(brief).sort()).toEqual([
      'gc-1/offline active',
      'gc-2/offline active',
      'gc-3/offline active',
    ]);
  });
});
