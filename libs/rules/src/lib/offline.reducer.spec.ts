import type { RuleSignal } from '@vigil/contracts';

import {
  DETECTED_AT,
  SITE,
  context,
  device,
  eventRecord,
  lelRecord,
  lelRule,
  offlineConfig,
  statusRecord,
  tick,
} from '../testing/fixtures';
import type { RuleConfig } from './rule-config';
import {
  type RuleEngineOptions,
  type RuleEngineState,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';

const TIMEOUT = 30_000;

function harness(
  extra: Partial<RuleEngineOptions> = {},
  rules: readonly RuleConfig[] = [offlineConfig({ timeoutMs: TIMEOUT })],
) {
  const devices = new Map<string, DeviceRules>();
  const options: RuleEngineOptions = {
    ...context,
    startedAt: 0,
    lookupDevice: (_siteId, deviceId) => {
      let found = devices.get(deviceId);
      if (!found) {
        found = device(deviceId, rules);
        devices.set(deviceId, found);
      }
      return found;
    },
    ...extra,
  };
  const state: RuleEngineState = createRuleEngineState(options);
  const feed = (...inputs: EngineInput[]): RuleSignal[] =>
    inputs.flatMap(input => reduceRuleEngine(state, input, options).signals);
  return { state, feed, options };
}

const brief = (signal: RuleSignal) => [signal.deviceId, signal.active, signal.at];

// The offline rule through the engine loop (`OFFLINE_KIND`), as in production.
describe(`offline rule in ${reduceRuleEngine.name}`, () => {
  it('raises once when a device is silent for longer than its timeout, on server time', () => {
    const { feed } = harness();
    expect(feed(lelRecord('d1', 1, 3, 1_000))).toEqual([]);
    expect(feed(tick(31_000))).toEqual([]); // exactly the timeout: not longer
    expect(feed(tick(31_001)).map(brief)).toEqual([['d1', true, 31_001]]);
    expect(feed(tick(32_000), tick(90_000))).toEqual([]);
  });

  it('counts silence from receivedAt, not from the device clock', () => {
    const { feed } = harness();
    feed(lelRecord('d1', 999_999_999, 3, 1_000)); // device clock far ahead
    expect(feed(tick(31_001)).map(brief)).toEqual([['d1', true, 31_001]]);
  });

  it('clears on the next record of any kind, at that record event time', () => {
    const { feed } = harness();
    feed(lelRecord('d1', 1, 3, 1_000), tick(40_000));
    const [cleared] = feed(eventRecord('d1', 'fault', 45_000));
    expect(cleared).toEqual<RuleSignal>({
      key: `${SITE}/d1/offline`,
      ruleId: 'offline',
      siteId: SITE,
      deviceId: 'd1',
      deviceClass: 'gas-combustible',
      areaId: 'tank-farm',
      category: 'quality',
      priority: 2,
      level: 'offline',
      active: false,
      latched: false,
      metric: undefined,
      value: undefined,
      threshold: undefined,
      message: 'Data received again after 44 s without data',
      at: 45_000,
      detectedAt: DETECTED_AT,
    });
    // And it is watched again from there.
    expect(feed(tick(75_000))).toEqual([]);
    expect(feed(tick(75_001)).map(brief)).toEqual([['d1', true, 75_001]]);
  });

  it('keeps a device that keeps reporting online', () => {
    const { feed } = harness();
    const inputs: EngineInput[] = [];
    for (let t = 0; t <= 300_000; t += 1_000) {
      if (t % 5_000 === 0) inputs.push(lelRecord('d1', t, 3, t));
      inputs.push(tick(t));
    }
    expect(feed(...inputs)).toEqual([]);
  });

  it('looks only at due devices: a reporting device comes due about once per timeout', () => {
    const { feed, state } = harness();
    const pop = jest.spyOn(state.offlineQueue, 'pop');
    for (let t = 0; t <= 300_000; t += 1_000) {
      if (t % 5_000 === 0) feed(lelRecord('d1', t, 3, t));
      feed(tick(t));
    }
    // 300 ticks, but the watch is due only every ~30 s.
    expect(pop.mock.calls.length).toBeLessThanOrEqual(10);
    expect(state.offlineQueue.size).toBe(1);
  });

  it('raises at once on the MQTT last will and clears on online:true', () => {
    const { feed } = harness();
    feed(lelRecord('d1', 1, 3, 1_000));
    const [offline] = feed(statusRecord('d1', false, 2_000));
    expect(offline).toMatchObject({
      active: true,
      at: 2_000,
      message: 'Device reported offline (MQTT last will)',
    });
    expect(feed(statusRecord('d1', false, 2_500), tick(60_000))).toEqual([]); // no duplicate
    const [online] = feed(statusRecord('d1', true, 61_000));
    expect(online).toMatchObject({
      active: false,
      at: 61_000,
      message: 'Device reported online again',
    });
  });

  it('raises a device that was never heard of only after its timeout since engine start', () => {
    const expected = device('d9', [offlineConfig({ timeoutMs: TIMEOUT })]);
    const { feed } = harness({ startedAt: 100_000, expectedDevices: [expected] });
    expect(feed(tick(110_000), tick(130_000))).toEqual([]);
    const [raised] = feed(tick(131_000));
    expect(raised).toMatchObject({
      deviceId: 'd9',
      active: true,
      message: 'No data since the rule engine started 31 s ago (offline after 30 s)',
    });
    expect(feed(lelRecord('d9', 140_000, 1))[0]).toMatchObject({
      active: false,
      message: 'Data received for the first time since the rule engine started',
    });
  });

  it('does not raise an expected device that reports before its timeout', () => {
    const expected = device('d9', [offlineConfig({ timeoutMs: TIMEOUT })]);
    const { feed } = harness({ startedAt: 0, expectedDevices: [expected] });
    expect(feed(tick(29_000), lelRecord('d9', 29_500, 1), tick(31_000), tick(59_000))).toEqual([]);
  });

  it('ignores devices that are unknown or have no enabled offline rule', () => {
    expect(
      harness({ lookupDevice: () => undefined }).feed(lelRecord('d1', 1, 1), tick(99_999)),
    ).toEqual([]);
    const noOffline = harness({}, [lelRule()]);
    expect(noOffline.feed(lelRecord('d1', 1, 1), tick(99_999))).toEqual([]);
    expect(noOffline.state.offlineQueue.size).toBe(0); // no watch at all
    const disabled = harness({}, [offlineConfig({ enabled: false })]);
    expect(disabled.feed(lelRecord('d1', 1, 1), tick(99_999))).toEqual([]);
  });

  it('raises many silent devices in one tick, in deadline order', () => {
    const { feed } = harness();
    feed(lelRecord('d2', 0, 1, 2_000), lelRecord('d1', 0, 1, 1_000), lelRecord('d3', 0, 1, 50_000));
    expect(feed(tick(40_000)).map(signal => signal.deviceId)).toEqual(['d1', 'd2']);
  });

  it('takes a retained status as the last known state, never as a sign of life (issue 10 #7)', () => {
    const { feed } = harness();
    const retained = (online: boolean, receivedAt: number): EngineInput => {
      const record = statusRecord('d1', online, receivedAt);
      return record.kind === 'status'
        ? { ...record, status: { ...record.status, retained: true } }
        : record;
    };
    // Never seen live: a retained online:true at 20 s does not move the deadline (0 + 30 s).
    expect(feed(retained(true, 20_000), tick(30_001)).map(brief)).toEqual([['d1', true, 30_001]]);
    // Offline: each resubscription's retained online:true leaves the alarm where it is.
    expect(feed(retained(true, 40_000), retained(true, 80_000), tick(120_000))).toEqual([]);
    // Retained data is old news too.
    const old = lelRecord('d1', 0, 1, 120_500);
    if (old.kind === 'reading')
      expect(feed({ ...old, reading: { ...old.reading, retained: true } })).toEqual([]);
    // Data from the device itself clears it.
    expect(feed(lelRecord('d1', 0, 1, 121_000)).map(brief)).toEqual([['d1', false, 0]]);
  });
});
