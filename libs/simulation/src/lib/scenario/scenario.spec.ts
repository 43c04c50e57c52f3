import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { loadRegistry } from '@vigil/registry-node';

import type { RaiseEvent } from '../observe/alarm-watcher';
import {
  compileScenario,
  plumeAt,
  signalValue,
  storableReadings,
  type Emission,
} from './compile-scenario';
import { knownRuleIds } from './gateway-client';
import { judgeScenario } from './judge-scenario';
import { ScenarioError, loadScenarioFile, parseScenario, type Scenario } from './scenario-schema';

const ROOT = join(__dirname, '../../../../..');
const SCENARIOS = join(ROOT, 'simulators/scenarios');
const sample = loadRegistry(join(ROOT, 'registry/sample'));

const base = {
  name: 't',
  title: 'T',
  registry: 'r',
  site: 'plant-1',
  duration: '20s',
  background: false,
};
const scenario = (extra: Record<string, unknown>): Scenario => parseScenario({ ...base, ...extra });
const of = (emissions: readonly Emission[], deviceId: string): Emission[] =>
  emissions.filter(emission => emission.deviceId === deviceId);

describe('the scenario library', () => {
  const files = readdirSync(SCENARIOS).filter(file => file.endsWith('.yaml'));

  it('has the issue’s scenarios and faults', () => {
    expect(files.sort()).toEqual(
      [
        'clock-skew.yaml',
        'day-at-the-plant.yaml',
        'device-offline.yaml',
        'duplicates-out-of-order.yaml',
        'electrical-fire.yaml',
        'electrical-fire-device-alarm.yaml',
        'fire-panel.yaml',
        'fire-panel-two-fires.yaml',
        'fire-panel-confirmed.yaml',
        'fire-panel-isolation.yaml',
        'fire-panel-linkage.yaml',
        'fire-panel-power.yaml',
        'fire-panel-manual-mode.yaml',
        'fire-panel-reset.yaml',
        'flapping.yaml',
        'gas-leak-wind.yaml',
        'gas-controller-device-alarm.yaml',
        'intrusion.yaml',
        'malformed-payloads.yaml',
        'man-down.yaml',
        'people-gathering.yaml',
        'sos.yaml',
        'stuck-sensor.yaml',
        'tank-overfill.yaml',
      ].sort(),
    );
  });

  it.each(files)('%s is valid and fits the registry it was written for', file => {
    const loaded = loadScenarioFile(join(SCENARIOS, file));
    const registry = loadRegistry(join(SCENARIOS, loaded.registry));
    const compiled = compileScenario(loaded, registry);
    expect(compiled.problems).toEqual([]);
    expect(compiled.emissions.length).toBeGreaterThan(0);
    expect(loaded.expect.length + loaded.expectNone.length).toBeGreaterThan(0);
    for (const emission of compiled.emissions) expect(emission.atMs).toBeLessThan(loaded.duration);
  });
});

describe('scenario schema', () => {
  it('lists every problem with its path', () => {
    try {
      parseScenario({
        ...base,
        duration: 'soon',
        steps: [{ at: '1s', event: { device: 'fp-main', code: 'Fire!' } }, { at: '2s' }],
        expect: [{ device: 'x', rule: 'Gas L2', within: '5s' }],
      });
      throw new Error('expected a ScenarioError');
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      const problems = (error as ScenarioError).problems.join('\n');
      expect(problems).toContain('duration: "soon" is not a duration');
      expect(problems).toContain('steps.0.event.code');
      expect(problems).toContain('steps.1: a step does exactly one thing');
      expect(problems).toContain('expect.0.rule');
    }
  });
});

describe('compileScenario', () => {
  it('drives a device by its signals on top of its healthy values', () => {
    const compiled = compileScenario(
      scenario({
        steps: [
          {
            at: '2s',
            telemetry: {
              device: 'ef-ru-mcc',
              values: { leak_ma: { ramp: [100, 300] }, arc: { sequence: [0, 16] } },
              every: '1s',
              for: '5s',
            },
          },
        ],
      }),
      sample,
    );
    const samples = of(compiled.emissions, 'ef-ru-mcc').filter(e => e.step === 0);
    expect(samples.map(e => e.atMs)).toEqual([2000, 3000, 4000, 5000, 6000]);
    expect(samples.map(e => e.sample?.values['leak_ma'])).toEqual([100, 150, 200, 250, 300]);
    expect(samples.map(e => e.sample?.values['arc'])).toEqual([0, 16, 0, 16, 0]);
    expect(samples.every(e => typeof e.sample?.values['temp_c'] === 'number')).toBe(true);
    const seqs = of(compiled.emissions, 'ef-ru-mcc').map(e => e.sample?.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index));
    expect(compiled.controlled).toEqual(new Set(['plant-1/ef-ru-mcc']));
  });

  it('computes square waves', () => {
    const wave = { wave: { around: 22.5, amplitude: 3, period: 4000 } };
    expect([0, 1000, 2000, 3000, 4000].map(t => signalValue(wave, t, 10_000, 1000, 0))).toEqual([
      25.5, 25.5, 19.5, 19.5, 25.5,
    ]);
  });

  it('carries a leak downwind: nearer detectors see more, sooner; upwind ones nothing', () => {
    const leak = parseScenario({
      ...base,
      steps: [{ at: 0, leak: { source: [40, 200], wind: { towards: 90, speed: 5 }, peakLel: 90 } }],
    }).steps[0]?.leak;
    if (!leak) throw new Error('no leak');
    const near = plumeAt(leak, [40, 200], [50, 200]);
    const far = plumeAt(leak, [40, 200], [100, 200]);
    const off = plumeAt(leak, [40, 200], [90, 80]);
    const upwind = plumeAt(leak, [40, 200], [20, 200]);
    expect(near.peakLel).toBeCloseTo(90 * Math.exp(-10 / 60), 5);
    expect(near.arrivalMs).toBeCloseTo(2000, 5);
    expect(far.peakLel).toBeLessThan(near.peakLel);
    expect(far.arrivalMs).toBeCloseTo(12_000, 5);
    expect(off.peakLel).toBeLessThan(0.01);
    expect(upwind.peakLel).toBeLessThan(1.8);

    const compiled = compileScenario(
      loadScenarioFile(join(SCENARIOS, 'gas-leak-wind.yaml')),
      sample,
    );
    const targets = compiled.plumes.get(0) ?? [];
    expect(targets.map(t => t.deviceId)).toEqual([
      'gc-tf-01',
      'gc-tf-02',
      'gc-tf-03',
      'gc-ru-01',
      'gc-ru-02',
    ]);
    const peak = (id: string) =>
      Math.max(...of(compiled.emissions, id).map(e => Number(e.sample?.values['lel'])));
    expect(peak('gc-tf-01')).toBeGreaterThan(50);
    expect(peak('gc-tf-02')).toBeGreaterThan(25);
    expect(peak('gc-tf-02')).toBeLessThan(45);
    expect(peak('gc-tf-03')).toBeLessThan(20);
    expect(of(compiled.emissions, 'gc-lb-01')).toEqual([]);
  });

  it('applies silences, duplicates, skew, out-of-order and raw payloads', () => {
    const compiled = compileScenario(
      scenario({
        steps: [
          { at: 0, silence: { device: 'gc-lb-01', for: '15s' } },
          {
            at: '1s',
            telemetry: { device: 'gc-ru-01', values: { lel: 30 }, for: '2s', copies: 3 },
          },
          {
            at: '1s',
            telemetry: { device: 'gc-ru-02', values: { lel: 1 }, for: '2s', skew: '-27h' },
          },
          {
            at: '1s',
            telemetry: {
              device: 'gt-ru-h2s',
              values: { ppm: { sequence: [0.1, 0.2] } },
              for: '2s',
              outOfOrder: true,
            },
          },
          { at: '3s', raw: { device: 'gc-tf-03', payloads: ['nope', '{}'], every: '500ms' } },
        ],
      }),
      sample,
    );
    expect(of(compiled.emissions, 'gc-lb-01').every(e => e.atMs >= 15_000)).toBe(true);
    const duplicated = of(compiled.emissions, 'gc-ru-01').filter(e => e.step === 1);
    expect(duplicated.map(e => e.copies)).toEqual([3, 3]);
    const skewed = of(compiled.emissions, 'gc-ru-02').filter(e => e.step === 2);
    expect(skewed.map(e => (e.sample?.tsOffsetMs ?? 0) - e.atMs)).toEqual([
      -97_200_000, -97_200_000,
    ]);
    expect(skewed.every(e => e.skewed)).toBe(true);
    const reordered = of(compiled.emissions, 'gt-ru-h2s').filter(e => e.step === 3);
    expect(reordered.map(e => [e.atMs, e.sample?.tsOffsetMs, e.sample?.values['ppm']])).toEqual([
      [1000, 2000, 0.2],
      [2000, 1000, 0.1],
    ]);
    expect(of(compiled.emissions, 'gc-tf-03').map(e => [e.atMs, e.raw])).toEqual([
      [3000, 'nope'],
      [3500, '{}'],
    ]);
    // Duplicates count once, skewed samples not at all.
    const storable = compiled.emissions.filter(e => e.sample && !e.skewed).length;
    expect(storableReadings(compiled.emissions)).toBe(storable);
  });

  it('names devices that are not in the fleet or of the wrong class', () => {
    const compiled = compileScenario(
      scenario({
        steps: [
          { at: 0, event: { device: 'ghost', code: 'fire' } },
          { at: 0, telemetry: { device: 'fp-main', values: { x: 1 } } },
          { at: 0, move: { devices: ['gc-tf-01'], to: [1, 1], for: '5s' } },
        ],
      }),
      sample,
    );
    expect(compiled.problems).toEqual([
      'steps[0].event: unknown device "ghost" in site plant-1',
      'steps[1].telemetry: fp-main is a fire-panel, which sends no telemetry',
      'steps[2].move: gc-tf-01 is a gas-combustible, not a tag',
    ]);
  });

  it('compiles fire-panel signals to GB 26875 events at registry addresses, refusing unknown ones', () => {
    const compiled = compileScenario(
      scenario({
        steps: [
          { at: '1s', panel: { device: 'fp-main', state: 'fire', address: '1-23' } },
          { at: '2s', panel: { device: 'fp-main', state: 'isolation-end', address: 'zone:4' } },
          { at: '3s', panel: { device: 'fp-main', state: 'reset' } },
          { at: 0, panel: { device: 'fp-main', state: 'fire', address: '7-7' } },
          { at: 0, panel: { device: 'gc-tf-01', state: 'fire' } },
        ],
      }),
      sample,
    );
    expect(compiled.problems).toEqual([
      'steps[3].panel: point 7-7 is not in the registry of fp-main (9 points, e.g. 1-23, 1-24, 1-25)',
      'steps[4].panel: gc-tf-01 is a gas-combustible, not a fire panel',
    ]);
    expect(compiled.emissions.map(emission => [emission.atMs, emission.event])).toEqual([
      [1000, { tsOffsetMs: 1000, code: 'fire', detail: { loop: 1, point: 23, zone: 1 } }],
      [2000, { tsOffsetMs: 2000, code: 'isolation', detail: { zone: 4, cleared: true } }],
      [3000, { tsOffsetMs: 3000, code: 'reset', detail: {} }],
    ]);
  });

  it('moves a group of tags to a point and keeps them there', () => {
    const compiled = compileScenario(
      scenario({
        steps: [
          {
            at: 0,
            move: {
              devices: ['tag-001', 'tag-002', 'tag-003'],
              to: [60, 190],
              speed: 100,
              still: true,
              for: '20s',
            },
          },
        ],
      }),
      sample,
    );
    for (const id of ['tag-001', 'tag-002', 'tag-003']) {
      const last = of(compiled.emissions, id).pop()?.sample?.values;
      expect(Math.hypot(Number(last?.['x']) - 60, Number(last?.['y']) - 190)).toBeLessThan(2);
      expect(last?.['still']).toBe(true);
    }
  });
});

describe('judgeScenario', () => {
  const judged = parseScenario({
    ...base,
    expect: [
      { device: 'gc-tf-01', rule: 'gas-l2', level: 'L2', within: '10s' },
      { device: 'gc-tf-02', rule: 'gas-l1', within: '10s' },
      { device: 'gc-tf-03', rule: 'gas-l1', within: '10s' },
      { device: 'gc-ru-01', rule: 'gas-l1', after: '5s', within: '5s' },
      { device: 'tag-001', rule: 'teleport', within: '5s' },
    ],
    expectNone: [{ device: 'gc-lb-01' }],
  });
  const start = 1_000_000;
  const raise = (deviceId: string, ruleId: string, at: number, level?: string): RaiseEvent => ({
    alarmId: `${deviceId}/${ruleId}/${at}`,
    siteId: 'plant-1',
    deviceId,
    ruleId,
    level,
    raisedAt: start + at - 20,
    detectedAt: start + at,
    receivedAt: start + at + 5,
    via: 'ws',
  });

  it('tells met, missed, late, duplicated, pending and forbidden apart', () => {
    const verdict = judgeScenario({
      scenario: judged,
      startedAt: start,
      knownRules: new Set(['gas-l1', 'gas-l2', 'offline']),
      publishedAt: new Map([[`plant-1/gc-tf-01|${start + 3000 - 20}`, start + 2990]]),
      raises: [
        raise('gc-tf-01', 'gas-l2', 3000, 'L2'),
        raise('gc-tf-02', 'gas-l1', 2000),
        raise('gc-tf-02', 'gas-l1', 4000),
        raise('gc-ru-01', 'gas-l1', 12_000),
        raise('gc-lb-01', 'offline', 1000),
        raise('gc-tf-03', 'gas-rate', 1000),
      ],
      readings: { sent: 100, expectedStored: 90, stored: 89 },
    });
    expect(verdict.results.map(result => result.status)).toEqual([
      'met',
      'duplicated',
      'missed',
      'late',
      'pending-rule',
    ]);
    expect(verdict.results[0]).toMatchObject({
      detectionMs: 10,
      webSocketMs: 15,
      firstRaiseAtMs: 3000,
    });
    expect(verdict.pendingRules).toEqual(['teleport']);
    expect(verdict.forbiddenRaised.map(f => f.raise.ruleId)).toEqual(['offline']);
    expect(verdict.unexpected.map(r => r.ruleId)).toEqual(['offline', 'gas-rate']);
    expect(verdict.readings.lost).toBe(1);
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toEqual([
      'duplicated: plant-1/gc-tf-02 gas-l1 (raised 2 times, expected 1)',
      'missed: plant-1/gc-tf-03 gas-l1 (never raised)',
      'late: plant-1/gc-ru-01 gas-l1 (raised at 12 s, outside 5–10 s)',
      'forbidden: plant-1/gc-lb-01 offline raised (expectNone {"device":"gc-lb-01"})',
      'lost: 1 of 90 readings not stored',
    ]);
  });

  it('matches an expectation’s area against the alarm’s (a fire-panel point’s area)', () => {
    const located = parseScenario({
      ...base,
      expect: [{ device: 'fp-main', rule: 'fire', area: 'tank-farm', within: '10s' }],
    });
    const fire = (areaId: string): RaiseEvent => ({ ...raise('fp-main', 'fire', 1000), areaId });
    const judge = (raises: RaiseEvent[]) =>
      judgeScenario({
        scenario: located,
        raises,
        startedAt: start,
        knownRules: new Set(['fire']),
        publishedAt: new Map(),
        readings: { sent: 0, expectedStored: 0, stored: null },
      }).results.map(result => result.status);
    expect(judge([fire('tank-farm')])).toEqual(['met']);
    expect(judge([fire('control-room')])).toEqual(['missed']);
  });

  it('passes with pending rules, and says so', () => {
    const verdict = judgeScenario({
      scenario: parseScenario({
        ...base,
        expect: [{ device: 'tag-001', rule: 'teleport', within: '5s' }],
      }),
      startedAt: start,
      knownRules: new Set(),
      publishedAt: new Map(),
      raises: [],
      readings: { sent: 0, expectedStored: 0, stored: null },
    });
    expect(verdict.passed).toBe(true);
    expect(verdict.pendingRules).toEqual(['teleport']);
  });
});

describe('knownRuleIds', () => {
  it('knows the device rules of the fleet and the site rules, not rules that do not exist', () => {
    const known = knownRuleIds(sample.devices);
    for (const rule of [
      'offline',
      'gas-l1',
      'gas-l2',
      'o2-low',
      'leak-alarm',
      'level-hh',
      'fire',
      'sos',
      'call-point',
    ]) {
      expect(known.has(rule)).toBe(true);
    }
    for (const rule of ['intrusion', 'crowding', 'head-count', 'man-down-l1', 'man-down-l2']) {
      expect(known.has(rule)).toBe(true);
    }
    expect(known.has('teleport')).toBe(false);
  });

  it('finds every rule the scenario library expects (none is pending today)', () => {
    const known = knownRuleIds(sample.devices);
    const wanted = readdirSync(SCENARIOS)
      .filter(file => file.endsWith('.yaml'))
      .flatMap(file => {
        const loaded = loadScenarioFile(join(SCENARIOS, file));
        return [...loaded.expect.map(e => e.rule), ...loaded.requires];
      });
    expect(wanted.filter(rule => !known.has(rule))).toEqual([]);
  });
});
