import { DEVICE_CLASS_DEFINITIONS, type DeviceClass } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import {
  COMBUSTIBLE_BASELINE_LEL,
  ELECTRICAL_BASELINE,
  OXYGEN_NORMAL_PCT,
  TAG_WALKING_SPEED,
  TANK_LEVEL_PCT,
  createValueGenerator,
  hasTelemetry,
  toxicBackgroundPpm,
  type TelemetryValues,
} from './generators';
import { Random } from './random';
import type { SiteLayout } from './site-layout';

const site: SiteLayout = {
  id: 's1',
  frame: { width: 400, height: 300 },
  areas: [
    {
      id: 'north',
      polygon: [
        [20, 160],
        [180, 160],
        [180, 280],
        [20, 280],
      ],
    },
    {
      id: 'south',
      polygon: [
        [200, 20],
        [380, 20],
        [380, 140],
        [200, 140],
      ],
    },
  ],
};

function device(
  deviceClass: DeviceClass,
  attributes: RegisteredDevice['attributes'] = {},
): RegisteredDevice {
  return {
    siteId: 's1',
    deviceId: `d-${deviceClass}`,
    deviceClass,
    name: deviceClass,
    areaId: undefined,
    profileId: undefined,
    gatewayId: undefined,
    position: undefined,
    intervalSeconds: DEVICE_CLASS_DEFINITIONS[deviceClass].intervalSeconds,
    attributes,
    ruleOverrides: [],
  };
}

/** `count` readings one class interval apart (plus one at a short step to cover fast reporting). */
function run(
  deviceClass: DeviceClass,
  seed: number,
  count = 2000,
  attributes: RegisteredDevice['attributes'] = {},
): TelemetryValues[] {
  const target = device(deviceClass, attributes);
  const generator = createValueGenerator(target, site, Random.forKey(seed, target.deviceId));
  if (!generator) throw new Error(`no generator for ${deviceClass}`);
  return Array.from({ length: count }, (_, i) =>
    generator.next(i % 10 === 0 ? 1 : target.intervalSeconds),
  );
}

function numbers(readings: TelemetryValues[], metric: string): number[] {
  return readings.map(reading => {
    const value = reading[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`${metric} is ${String(value)}`);
    }
    return value;
  });
}

function expectWithin(values: number[], [low, high]: readonly [number, number]): void {
  expect(Math.min(...values)).toBeGreaterThanOrEqual(low);
  expect(Math.max(...values)).toBeLessThanOrEqual(high);
}

describe(createValueGenerator.name, () => {
  it('emits exactly the default metrics of each telemetry class, in the class ranges', () => {
    for (const deviceClass of Object.keys(DEVICE_CLASS_DEFINITIONS) as DeviceClass[]) {
      const definition = DEVICE_CLASS_DEFINITIONS[deviceClass];
      expect(hasTelemetry(deviceClass)).toBe(Object.keys(definition.metrics).length > 0);
      if (!hasTelemetry(deviceClass)) {
        expect(createValueGenerator(device(deviceClass), site, new Random(1))).toBeUndefined();
        continue;
      }
      const problems: string[] = [];
      for (const reading of run(deviceClass, 1, 500, { gas: 'H2S', capacityT: 50 })) {
        const names = Object.keys(reading).sort().join();
        if (names !== Object.keys(definition.metrics).sort().join()) problems.push(names);
        for (const [metric, value] of Object.entries(reading)) {
          const { kind, range } = definition.metrics[metric] ?? { kind: 'missing' };
          const outOfRange =
            range && typeof value === 'number' && (value < range[0] || value > range[1]);
          if (typeof value !== kind || outOfRange) problems.push(`${metric}=${value}`);
        }
      }
      expect(problems).toEqual([]);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    for (const deviceClass of ['gas-combustible', 'electrical-fire', 'mhs-tank', 'tag'] as const) {
      expect(run(deviceClass, 11, 300)).toEqual(run(deviceClass, 11, 300));
      expect(run(deviceClass, 11, 300)).not.toEqual(run(deviceClass, 12, 300));
    }
  });

  it('keeps clean-air gas readings near zero, never below -0.5 %LEL', () => {
    for (const seed of [1, 2, 3]) {
      const lel = numbers(run('gas-combustible', seed), 'lel');
      expectWithin(lel, COMBUSTIBLE_BASELINE_LEL);
      expect(lel.reduce((a, b) => a + b, 0) / lel.length).toBeLessThan(2);
    }
  });

  it('scales toxic background to the gas', () => {
    const h2s = numbers(run('gas-toxic', 4, 2000, { gas: 'H2S' }), 'ppm');
    const co = numbers(run('gas-toxic', 4, 2000, { gas: 'CO' }), 'ppm');
    expectWithin(h2s, [-0.1 * 0.3, 0.3]);
    expectWithin(co, [-0.3, 3]);
    expect(Math.max(...co)).toBeGreaterThan(Math.max(...h2s));
    expect(toxicBackgroundPpm({ gas: 'XYZ', rangeHigh: 200 })).toBe(2);
    expect(toxicBackgroundPpm({})).toBe(1);
  });

  it('keeps oxygen at 20.9 ± 0.1 %VOL', () => {
    const o2 = numbers(run('gas-oxygen', 5), 'o2');
    expectWithin(o2, OXYGEN_NORMAL_PCT);
    expect(o2.filter(value => value === 20.9).length).toBeGreaterThan(o2.length / 2);
  });

  it('keeps a healthy feeder at 80–180 mA and 25–45 °C with rare arcs', () => {
    const readings = run('electrical-fire', 6, 5000);
    expectWithin(numbers(readings, 'leak_ma'), ELECTRICAL_BASELINE.leakMa);
    expectWithin(numbers(readings, 'temp_c'), ELECTRICAL_BASELINE.tempC);
    const arcs = numbers(readings, 'arc');
    expect(arcs.filter(value => value > 0).length).toBeLessThan(readings.length * 0.02);
    // Drift is slow: consecutive readings 30 s apart differ by a few mA, not tens.
    const leak = numbers(readings, 'leak_ma');
    const jumps = leak.slice(1).map((value, i) => Math.abs(value - (leak[i] as number)));
    expect(jumps.reduce((a, b) => a + b, 0) / jumps.length).toBeLessThan(6);
  });

  it('moves tank levels slowly between 40 and 80 % and reports flow only while transferring', () => {
    for (const substance of ['methanol', 'ammonia', 'unknown']) {
      const readings = run('mhs-tank', 7, 5000, { substance, capacityT: 800 });
      const level = numbers(readings, 'level_pct');
      expectWithin(level, TANK_LEVEL_PCT);
      const steps = level.slice(1).map((value, i) => Math.abs(value - (level[i] as number)));
      expect(Math.max(...steps)).toBeLessThan(1);
      expectWithin(numbers(readings, 'flow_m3h'), [0, 800 * 0.2]);
      expect(new Set(numbers(readings, 'flow_m3h').map(value => value === 0)).size).toBe(2);
    }
    const ammonia = numbers(run('mhs-tank', 7, 100, { substance: 'ammonia' }), 'pressure_kpa');
    expectWithin(ammonia, [700, 1000]);
  });

  it('walks tags at about 1 m/s inside the frame, between area centroids, draining the battery', () => {
    const readings = run('tag', 8, 5000);
    const x = numbers(readings, 'x');
    const y = numbers(readings, 'y');
    expectWithin(x, [0, site.frame.width]);
    expectWithin(y, [0, site.frame.height]);
    for (let i = 1; i < readings.length; i++) {
      const dt = i % 10 === 0 ? 1 : 5;
      const step = Math.hypot(
        (x[i] as number) - (x[i - 1] as number),
        (y[i] as number) - (y[i - 1] as number),
      );
      // Rounding to 0.1 m and the sideways wobble allow a little over walking pace.
      expect(step).toBeLessThanOrEqual(TAG_WALKING_SPEED * dt * 1.5 + 0.2);
    }
    // People spend time at the centroids (100, 220) and (290, 80).
    const atCentroid = readings.filter(
      (_, i) =>
        Math.hypot((x[i] as number) - 100, (y[i] as number) - 220) < 1 ||
        Math.hypot((x[i] as number) - 290, (y[i] as number) - 80) < 1,
    );
    expect(atCentroid.length).toBeGreaterThan(readings.length / 10);
    const battery = numbers(readings, 'battery_pct');
    expect(battery[0]).toBeGreaterThan(90);
    expect(battery.every((value, i) => i === 0 || value <= (battery[i - 1] as number))).toBe(true);
    expect(battery.at(-1)).toBeLessThan(battery[0] as number);
    expect(readings.every(reading => reading['still'] === false && reading['floor'] === 0)).toBe(
      true,
    );
  });

  it('walks tags on a site without areas too', () => {
    const target = device('tag');
    const walker = createValueGenerator(target, { ...site, areas: [] }, new Random(9));
    for (let i = 0; i < 500; i++) {
      const { x, y } = walker?.next(5) ?? {};
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(300);
    }
  });
});
