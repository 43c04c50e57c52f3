import fc from 'fast-check';

import type { IngestRecord, RuleSignal } from '@vigil/contracts';

import { context, lelRecord, readingRecord, statusRecord, tick } from '../testing/fixtures';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';

const DEVICES = ['gw', 'gc-1', 'gc-2', 'gc-3'] as const;

/**
 * Registry versions a reload can switch a device to (undefined = removed from the registry).
 * `gc-*` report through the gateway `gw` in most versions, so root-cause suppression, its
 * release and reloads of the gateway membership are all exercised.
 */
function variants(deviceId: string): ReadonlyArray<DeviceRules | undefined> {
  const behind = (rules: DeviceRules): DeviceRules =>
    deviceId === 'gw' ? rules : { ...rules, gatewayId: 'gw' };
  return [
    behind(registered(deviceId, 'gas-combustible')),
    behind(
      registered(deviceId, 'gas-combustible', {
        overrides: [{ 'gas-l1': { setpoint: 40, onDelayMs: 3_000 }, 'gas-rate': { delta: 6 } }],
      }),
    ),
    behind(
      registered(deviceId, 'gas-combustible', { overrides: [{ 'gas-l2': { enabled: false } }] }),
    ),
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

describe('late and duplicate readings', () => {
  const gc = registered('gc-1', 'gas-combustible', {
    overrides: [{ stuck: { durationMs: 60_000 }, 'clock-skew': { onDelayMs: 10_000 } }],
  });

  /**
   * A random walk of one detector's readings, strictly increasing event time (two different
   * readings with one `ts` are both evaluated, so a copy of the first would not be a no-op).
   */
  const walk = fc.array(
    fc.record({
      gap: fc.integer({ min: 1, max: 8_000 }),
      value: fc.integer({ min: -8, max: 110 }),
      skew: fc.constantFrom(0, 0, 0, -70_000, 90_000, 20_000),
    }),
    { minLength: 1, maxLength: 120 },
  );

  function readingsOf(steps: ReadonlyArray<{ gap: number; value: number; skew: number }>) {
    let ts = 0;
    return steps.map(({ gap, value, skew }) => {
      ts += gap;
      const record = lelRecord('gc-1', ts, value, ts);
      return record.kind === 'reading'
        ? readingRecord({ ...record.reading, clockSkewMs: skew })
        : record;
    });
  }

  function signalsOf(inputs: readonly EngineInput[]): RuleSignal[] {
    const options: RuleEngineOptions = { ...context, startedAt: 0, lookupDevice: () => gc };
    const state = createRuleEngineState(options);
    return inputs.flatMap(input => reduceRuleEngine(state, input, options).signals);
  }

  it('gives the same signals when any reading is delivered again, at any later point', () => {
    fc.assert(
      fc.property(
        walk,
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
        (steps, duplicates) => {
          const clean = readingsOf(steps);
          const noisy: EngineInput[] = [...clean];
          for (const [from, offset] of duplicates) {
            const original = clean[from % clean.length] as EngineInput;
            const at = Math.min(noisy.length, noisy.indexOf(original) + 1 + (offset % 30));
            noisy.splice(at, 0, original); // a re-delivery after the original
          }
          const brief = (signal: RuleSignal) => `${signal.ruleId} ${signal.active} ${signal.at}`;
          expect(signalsOf(noisy).map(brief)).toEqual(signalsOf(clean).map(brief));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never emits a state twice in a row for a key when readings arrive out of order', () => {
    fc.assert(
      fc.property(walk, fc.array(fc.nat(), { maxLength: 40 }), (steps, swaps) => {
        const inputs = readingsOf(steps);
        for (const swap of swaps) {
          const index = swap % inputs.length;
          const next = index + 1 < inputs.length ? index + 1 : index;
          [inputs[index], inputs[next]] = [
            inputs[next] as IngestRecord,
            inputs[index] as IngestRecord,
          ];
        }
        const lastByKey = new Map<string, boolean>();
        for (const signal of signalsOf(inputs)) {
          expect(signal.active).toBe(!(lastByKey.get(signal.key) ?? false));
          lastByKey.set(signal.key, signal.active);
        }
      }),
      { numRuns: 300 },
    );
  });
});
