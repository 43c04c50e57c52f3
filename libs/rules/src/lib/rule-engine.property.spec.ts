import fc from 'fast-check';

import type { RuleSignal } from '@vigil/contracts';

import { context, lelRecord, statusRecord, tick } from '../testing/fixtures';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';

const DEVICES = ['gc-1', 'gc-2', 'gc-3'] as const;

/** Registry versions a reload can switch a device to (undefined = removed from the registry). */
function variants(deviceId: string): ReadonlyArray<DeviceRules | undefined> {
  return [
    registered(deviceId, 'gas-combustible'),
    registered(deviceId, 'gas-combustible', {
      overrides: [{ 'gas-l1': { setpoint: 40, onDelayMs: 3_000 } }],
    }),
    registered(deviceId, 'gas-combustible', { overrides: [{ 'gas-l2': { enabled: false } }] }),
    registered(deviceId, 'gas-combustible', { overrides: [{ offline: { enabled: false } }] }),
    undefined,
  ];
}

const step = fc.oneof(
  fc.record({
    kind: fc.constant('reading' as const),
    device: fc.constantFrom(...DEVICES),
    advance: fc.integer({ min: 0, max: 20_000 }),
    skew: fc.integer({ min: -20_000, max: 5_000 }), // negative: late readings
    value: fc.integer({ min: -5, max: 100 }),
  }),
  fc.record({
    kind: fc.constant('status' as const),
    device: fc.constantFrom(...DEVICES),
    advance: fc.integer({ min: 0, max: 20_000 }),
    online: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('tick' as const), advance: fc.integer({ min: 0, max: 60_000 }) }),
  fc.record({
    kind: fc.constant('reload' as const),
    device: fc.constantFrom(...DEVICES),
    variant: fc.nat(4),
  }),
);

describe('rule engine properties', () => {
  it('never emits the same state twice in a row for a key, whatever the data, time and reloads', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 150 }), fc.boolean(), (steps, watchFromStart) => {
        const byDevice = new Map<string, ReadonlyArray<DeviceRules | undefined>>(
          DEVICES.map(deviceId => [deviceId, variants(deviceId)]),
        );
        const registry = new Map<string, DeviceRules | undefined>(
          DEVICES.map(deviceId => [deviceId, byDevice.get(deviceId)?.[0]]),
        );
        const options: RuleEngineOptions = {
          ...context,
          startedAt: 0,
          lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
          ...(watchFromStart
            ? { expectedDevices: [...registry.values()].filter(d => d !== undefined) }
            : {}),
        };
        const state = createRuleEngineState(options);
        const signals: RuleSignal[] = [];
        let now = 0;
        for (const each of steps) {
          if (each.kind === 'reload') {
            registry.set(each.device, byDevice.get(each.device)?.[each.variant]);
            continue;
          }
          now += each.advance;
          let input: EngineInput;
          if (each.kind === 'reading') {
            input = lelRecord(each.device, Math.max(0, now + each.skew), each.value, now);
          } else if (each.kind === 'status') {
            input = statusRecord(each.device, each.online, now);
          } else {
            input = tick(now);
          }
          signals.push(...reduceRuleEngine(state, input, options).signals);
        }
        const lastByKey = new Map<string, boolean>();
        for (const signal of signals) {
          expect([signal.key, signal.active]).toEqual([
            signal.key,
            !(lastByKey.get(signal.key) ?? false),
          ]);
          lastByKey.set(signal.key, signal.active);
        }
      }),
      { numRuns: 300 },
    );
  });
});
