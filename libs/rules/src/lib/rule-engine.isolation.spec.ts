import { TestScheduler } from 'rxjs/testing';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { lelRecord, signalLike, tick } from '../testing/fixtures';
import { classReading } from '../testing/records';
import { registered } from '../testing/registered';
import { findSubstance, type MhsTank, type MhsUnit } from './mhs-grade';
import { mhsGradeRule } from './mhs-grade.operator';
import { MONITORING_LOST_RULE_ID } from './monitoring-lost';
import { ruleEngine } from './rule-engine.operator';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  createRuleEngineStats,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';
import { DETECTORS, context as siteContext, layout, tick as siteTick } from './site/site-fixtures';
import { compileSiteRules, reduceSiteRules } from './site/site-rules.reducer';
import { createSiteRulesState } from './site/site-state';

/** gc-1's rules throw on every evaluation (a bug, or a configuration no check caught). */
function throwingRules(deviceId: string): DeviceRules {
  const healthy = registered(deviceId, 'gas-combustible');
  return {
    ...healthy,
    rules: healthy.rules.map(rule =>
      rule.kind === 'threshold'
        ? Object.defineProperty({ ...rule }, 'setpoint', {
            get: () => {
              throw new TypeError('boom in a threshold rule');
            },
          })
        : rule,
    ),
  };
}

const lost = (deviceId: string, active: boolean, at: number) =>
  signalLike(deviceId, MONITORING_LOST_RULE_ID, active, at, {
    category: 'system',
    priority: 1,
    level: 'device',
  });

describe('rule engine isolation (issue 10: an error in one device isolates that device)', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  function options(devices: Map<string, DeviceRules>, extra: Partial<RuleEngineOptions> = {}) {
    return {
      clock: () => testScheduler.now(),
      startedAt: 0,
      lookupDevice: (_siteId: string, deviceId: string) => devices.get(deviceId),
      stats: createRuleEngineStats(),
      ...extra,
    } satisfies RuleEngineOptions;
  }

  it('quarantines the throwing device, raises monitoring-lost for it, and other devices still alarm', () => {
    const devices = new Map([
      ['gc-1', throwingRules('gc-1')],
      ['gc-2', registered('gc-2', 'gas-combustible')],
    ]);
    const opts = options(devices);
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('-a--b--c--d-|', {
        a: lelRecord('gc-1', 1, 90), // throws: gc-1 isolated
        b: lelRecord('gc-2', 2, 62), // gc-2: L1 and L2
        c: lelRecord('gc-1', 3, 90), // quarantined: not evaluated, nothing emitted
        d: lelRecord('gc-2', 4, 40), // gc-2 still evaluated: L2 clears (< 45)
      });
      expectObservable(records.pipe(ruleEngine(opts))).toBe('-x--(yz)--w-|', {
        x: lost('gc-1', true, 1),
        y: signalLike('gc-2', 'gas-l1', true, 2),
        z: signalLike('gc-2', 'gas-l2', true, 2),
        w: signalLike('gc-2', 'gas-l2', false, 4),
      });
    });
    expect(opts.stats.isolatedDevices).toBe(1);
    expect(opts.stats.quarantinedRecords).toBe(1);
  });

  it('names the device and the error in the monitoring-lost message', () => {
    const devices = new Map([['gc-1', throwingRules('gc-1')]]);
    const opts = options(devices);
    const state = createRuleEngineState(opts);
    const [signal] = reduceRuleEngine(state, lelRecord('gc-1', 1, 90), opts).signals;
    expect(signal?.message).toMatch(/gc-1/);
    expect(signal?.message).toMatch(/boom in a threshold rule/);
    expect(signal?.deviceClass).toBe('gas-combustible');
    expect(signal?.areaId).toBe('tank-farm');
  });

  it('lifts the quarantine when the device configuration is reloaded, and evaluates again', () => {
    const devices = new Map([['gc-1', throwingRules('gc-1')]]);
    const opts = options(devices);
    const state = createRuleEngineState(opts);
    const run = (input: EngineInput) => reduceRuleEngine(state, input, opts).signals;
    expect(run(lelRecord('gc-1', 1, 90))).toEqual([lost('gc-1', true, 1)]);
    expect(run(lelRecord('gc-1', 2, 90))).toEqual([]);
    devices.set('gc-1', registered('gc-1', 'gas-combustible')); // the fixed file, reloaded
    expect(run(lelRecord('gc-1', 3, 90))).toEqual([
      lost('gc-1', false, 3),
      signalLike('gc-1', 'gas-l1', true, 3),
      signalLike('gc-1', 'gas-l2', true, 3),
    ]);
  });

  it('lifts the quarantine of a silent device on a tick after a reload', () => {
    const devices = new Map([['gc-1', throwingRules('gc-1')]]);
    const opts = options(devices);
    const state = createRuleEngineState(opts);
    reduceRuleEngine(state, lelRecord('gc-1', 1, 90), opts);
    expect(reduceRuleEngine(state, tick(1000), opts).signals).toEqual([]);
    devices.set('gc-1', registered('gc-1', 'gas-combustible'));
    expect(reduceRuleEngine(state, tick(2000), opts).signals).toEqual([lost('gc-1', false, 2000)]);
    expect(state.devices.get('plant-1')?.has('gc-1')).toBe(true);
  });

  it('isolates a device whose offline deadline throws on a tick; other devices still go offline', () => {
    const fast = { overrides: [{ offline: { timeoutMs: 30_000 } }] };
    const devices = new Map([
      ['gc-1', registered('gc-1', 'gas-combustible', fast)],
      ['gc-2', registered('gc-2', 'gas-combustible', fast)],
    ]);
    let broken = false;
    const opts = options(devices, {
      lookupDevice: (_siteId, deviceId) => {
        if (broken && deviceId === 'gc-1') throw new Error('registry lookup failed');
        return devices.get(deviceId);
      },
    });
    const state = createRuleEngineState(opts);
    reduceRuleEngine(state, lelRecord('gc-1', 0, 1), opts);
    reduceRuleEngine(state, lelRecord('gc-2', 0, 1), opts);
    broken = true;
    const signals = reduceRuleEngine(state, tick(30_001), opts).signals;
    expect(signals).toEqual(
      expect.arrayContaining([
        lost('gc-1', true, 30_001),
        signalLike('gc-2', 'offline', true, 30_001),
      ]),
    );
    expect(signals).toHaveLength(2);
    expect(opts.stats.isolatedDevices).toBe(1);
  });

  it('never lets one device error the stream: 1,000 records, every other one throwing', () => {
    const devices = new Map<string, DeviceRules>();
    for (let i = 0; i < 100; i += 1)
      devices.set(
        `gc-${i}`,
        i % 2 === 0 ? throwingRules(`gc-${i}`) : registered(`gc-${i}`, 'gas-combustible'),
      );
    const opts = options(devices);
    const signals: RuleSignal[] = [];
    let failed: unknown;
    testScheduler.run(({ cold }) => {
      const values: Record<string, EngineInput> = {};
      let marbles = '';
      for (let i = 0; i < 1000; i += 1) {
        const key = String.fromCharCode(0x100 + i);
        values[key] = lelRecord(`gc-${i % 100}`, i + 1, 60);
        marbles += key;
      }
      cold(`${marbles}|`, values)
        .pipe(ruleEngine(opts))
        .subscribe({ next: signal => signals.push(signal), error: error => (failed = error) });
    });
    expect(failed).toBeUndefined();
    expect(signals.filter(signal => signal.ruleId === MONITORING_LOST_RULE_ID)).toHaveLength(50);
    expect(signals.filter(signal => signal.ruleId === 'gas-l2')).toHaveLength(50);
  });
});

describe('site rules isolation (one site throwing isolates that site)', () => {
  it('raises monitoring-lost for the failing site and keeps evaluating the others', () => {
    const other = { ...layout(), siteId: 'plant-2', devices: DETECTORS };
    const state = createSiteRulesState(compileSiteRules({ sites: [layout(), other] }));
    const broken = state.sites.get('plant-1');
    const healthy = state.sites.get('plant-2');
    if (!broken || !healthy) throw new Error('fixture');
    Object.defineProperty(broken, 'areaList', {
      get: () => {
        throw new RangeError('boom in an area rule');
      },
    });
    let healthyEvaluations = 0;
    const areaList = healthy.areaList;
    Object.defineProperty(healthy, 'areaList', {
      get: () => {
        healthyEvaluations += 1;
        return areaList;
      },
    });
    const options = { ...siteContext, sites: [] };
    const first = reduceSiteRules(state, siteTick(1000), options).signals;
    expect(first).toEqual([
      expect.objectContaining({
        key: 'plant-1/site-rules/monitoring-lost',
        category: 'system',
        priority: 1,
        level: 'site',
        active: true,
        message: expect.stringContaining('boom in an area rule'),
      }),
    ]);
    const evaluatedBefore = healthyEvaluations;
    expect(reduceSiteRules(state, siteTick(2000), options).signals).toEqual([]);
    expect(healthyEvaluations).toBeGreaterThan(evaluatedBefore);
    expect(state.stats.isolatedSites).toBe(1);
    expect(state.stats.quarantinedInputs).toBe(1);
  });
});

describe('area rules isolation (one area throwing on a tick isolates that area)', () => {
  it('raises monitoring-lost for the area and keeps evaluating the other areas of the site', () => {
    const state = createSiteRulesState(compileSiteRules({ sites: [layout()] }));
    const site = state.sites.get('plant-1');
    const [broken, ...others] = site?.areaList ?? [];
    if (!broken || others.length === 0) throw new Error('fixture');
    Object.defineProperty(broken, 'present', {
      get: () => {
        throw new TypeError('boom in head-count');
      },
    });
    const options = { ...siteContext, sites: [] };
    expect(reduceSiteRules(state, siteTick(1000), options).signals).toEqual([
      expect.objectContaining({
        key: `plant-1/${broken.area.id}/monitoring-lost`,
        level: 'area',
        areaId: broken.area.id,
        priority: 1,
        message: expect.stringContaining('boom in head-count'),
      }),
    ]);
    expect(reduceSiteRules(state, siteTick(2000), options).signals).toEqual([]);
    expect(state.stats.isolatedAreas).toBe(1);
    expect(state.stats.isolatedSites).toBe(0);
    expect(state.quarantined.size).toBe(0);
  });
});

describe('major-hazard grade isolation (one site throwing isolates that site)', () => {
  const ammonia = findSubstance('ammonia');
  if (!ammonia) throw new Error('fixture');
  const tank = (siteId: string, deviceId: string): MhsTank => ({
    siteId,
    deviceId,
    areaId: 'tank-farm',
    unitId: 'tf-1',
    substance: ammonia,
    designMaxT: 50,
    designMaxFrom: 'design_max_t',
  });
  const unit = (siteId: string, tanks: MhsTank[]): MhsUnit => ({
    siteId,
    unitId: 'tf-1',
    name: 'tank farm',
    kind: 'storage',
    areaId: 'tank-farm',
    exposedPopulation: undefined,
    alpha: 1,
    tanks,
  });
  const level = (siteId: string, deviceId: string, ts: number): Reading => ({
    ...classReading('mhs-tank', deviceId, ts, { level_pct: 100 }),
    siteId,
  });

  it('grades the healthy site after the other one threw', () => {
    // Throws once readings flow (the grade's state is built from the same tank at subscription).
    let armed = false;
    const healthy = tank('plant-1', 'tk-1');
    const broken = Object.defineProperty({ ...healthy }, 'substance', {
      get: () => {
        if (armed) throw new Error('boom in the grade');
        return healthy.substance;
      },
    });
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ cold, expectObservable }) => {
      testScheduler.schedule(() => (armed = true), 1);
      const readings = cold('--a-b-c-|', {
        a: level('plant-1', 'tk-1', 2),
        b: level('plant-2', 'tk-2', 4),
        c: level('plant-1', 'tk-1', 6),
      });
      const rule = mhsGradeRule({
        clock: () => testScheduler.now(),
        units: [unit('plant-1', [broken]), unit('plant-2', [tank('plant-2', 'tk-2')])],
      });
      expectObservable(readings.pipe(rule)).toBe('--x-y---|', {
        x: expect.objectContaining({
          key: 'plant-1/mhs-grade/monitoring-lost',
          level: 'grade',
          active: true,
        }),
        y: expect.objectContaining({ key: 'plant-2/tf-1/mhs-grade', ruleId: 'mhs-grade' }),
      });
    });
  });
});
