import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { SITE, lelRecord, tick } from '../testing/fixtures';
import { classRecord } from '../testing/records';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules } from './rule-signal';

/**
 * Measures the engine's state per device (README "State size"). It asserts only the budget of
 * the brief (100,000 devices well under 500 MB, i.e. < 5,000 B each), never time. Run with
 * VIGIL_REPORT_MEMORY=1 to print the figures.
 */
const DEVICES = 100_000;
const BUDGET_BYTES_PER_DEVICE = 5_000;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

function heapUsed(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

function report(line: string): void {
  if (process.env['VIGIL_REPORT_MEMORY']) process.stdout.write(`${line}\n`);
}

describe('rule engine memory', () => {
  it(`keeps ${DEVICES} combustible detectors well under 500 MB`, () => {
    // The registry's objects (one DeviceRules per device, rules shared by the profile) are not
    // engine state: build them first, then measure what the engine adds.
    const template = registered('template', 'gas-combustible');
    const registry = new Map<string, DeviceRules>();
    for (let index = 0; index < DEVICES; index += 1) {
      const deviceId = `gc-${index.toString().padStart(6, '0')}`;
      registry.set(deviceId, { ...template, deviceId });
    }
    const options: RuleEngineOptions = {
      clock: () => 0,
      startedAt: 0,
      lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
    };
    const records = [...registry.keys()].map((deviceId, index) =>
      // One device in ten raises L1 and then waits out its 30 s off-delay (a pending state).
      lelRecord(deviceId, 1_000, index % 10 === 0 ? 30 : 3, 1_000),
    );
    const pendingClears = records
      .filter((_, index) => index % 10 === 0)
      .map(record =>
        record.kind === 'reading' ? lelRecord(record.reading.deviceId, 2_000, 1, 2_000) : record,
      );

    const before = heapUsed();
    const state = createRuleEngineState(options);
    let signals = 0;
    for (const input of [...records, ...pendingClears, tick(3_000)]) {
      signals += reduceRuleEngine(state, input, options).signals.length;
    }
    const after = heapUsed();

    const perDevice = (after - before) / DEVICES;
    report(
      `engine state: ${Math.round(perDevice)} B/device, ${Math.round((after - before) / 2 ** 20)} MiB for ${DEVICES}`,
    );
    expect(signals).toBe(DEVICES / 10);
    expect(state.offlineQueue.size).toBe(DEVICES);
    expect(perDevice).toBeLessThan(BUDGET_BYTES_PER_DEVICE);
  });

  it('reports a fleet of electrical-fire monitors (two rate and two trend windows each)', () => {
    const devices = DEVICES / 10;
    const template = registered('template', 'electrical-fire');
    const registry = new Map<string, DeviceRules>();
    for (let index = 0; index < devices; index += 1) {
      const deviceId = `ef-${index.toString().padStart(6, '0')}`;
      registry.set(deviceId, { ...template, deviceId });
    }
    const options: RuleEngineOptions = {
      clock: () => 0,
      startedAt: 0,
      lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
    };
    const before = heapUsed();
    const state = createRuleEngineState(options);
    for (const deviceId of registry.keys()) {
      for (const ts of [1_000, 31_000]) {
        reduceRuleEngine(
          state,
          classRecord('electrical-fire', deviceId, ts, { leak_ma: 120, temp_c: 35, arc: 0 }),
          options,
        );
      }
    }
    const perDevice = (heapUsed() - before) / devices;
    report(`electrical-fire engine state: ${Math.round(perDevice)} B/device`);
    expect(state.devices.get(SITE)?.size).toBe(devices); // also keeps the state alive until here
    expect(perDevice).toBeLessThan(BUDGET_BYTES_PER_DEVICE);
  });

  it('reports what resolving rules per device costs the registry (not engine state)', () => {
    const devices = DEVICES / 10; // zod validation makes this the slow part: sample a tenth
    const before = heapUsed();
    const resolved: DeviceRules[] = [];
    for (let index = 0; index < devices; index += 1) {
      resolved.push(
        registered(`gc-${index}`, 'gas-combustible', {
          overrides: [{ 'gas-l1': { setpoint: 20 } }],
        }),
      );
    }
    const after = heapUsed();
    const perDevice = (after - before) / devices;
    report(`resolved rules, unshared: ${Math.round(perDevice)} B/device`);
    expect(resolved).toHaveLength(devices);
    expect(perDevice).toBeLessThan(BUDGET_BYTES_PER_DEVICE);
  });
});
