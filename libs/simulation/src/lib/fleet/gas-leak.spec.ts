import { join } from 'node:path';

import { loadRegistry } from '@vigil/registry-node';

import {
  GAS_LEAK_DEFAULTS,
  GasLeakError,
  gasLeakDurationSeconds,
  gasLeakLevel,
  planGasLeak,
} from './gas-leak';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));
const plant = registry.site('plant-1');

describe(gasLeakLevel.name, () => {
  const profile = { peakLel: 60, rampSeconds: 10, holdSeconds: 20, decaySeconds: 30 };

  it('ramps linearly, holds the peak, then decays smoothly to nothing', () => {
    expect(gasLeakLevel(profile, -1)).toBe(0);
    expect(gasLeakLevel(profile, 0)).toBe(0);
    expect(gasLeakLevel(profile, 5)).toBeCloseTo(30);
    expect(gasLeakLevel(profile, 10)).toBe(60);
    expect(gasLeakLevel(profile, 29.9)).toBe(60);
    expect(gasLeakLevel(profile, 45)).toBeCloseTo(30);
    expect(gasLeakLevel(profile, 59.9)).toBeLessThan(0.1);
    expect(gasLeakLevel(profile, 60)).toBe(0);
    expect(gasLeakDurationSeconds(profile)).toBe(60);
  });

  it('treats a zero ramp as a step and a zero decay as a cut-off', () => {
    const step = { peakLel: 40, rampSeconds: 0, holdSeconds: 5, decaySeconds: 0 };
    expect(gasLeakLevel(step, 0)).toBe(40);
    expect(gasLeakLevel(step, 4.9)).toBe(40);
    expect(gasLeakLevel(step, 5)).toBe(0);
  });
});

describe(planGasLeak.name, () => {
  it('targets only the named detector, with the defaults', () => {
    const plan = planGasLeak({ siteId: 'plant-1', deviceId: 'gc-tf-02' }, registry.devices, plant);
    expect(plan.profile).toEqual(GAS_LEAK_DEFAULTS);
    expect(plan.targets).toEqual([{ deviceId: 'gc-tf-02', peakLel: 65, distanceM: 0 }]);
  });

  it('spreads an area leak over its combustible detectors, weaker with distance', () => {
    const plan = planGasLeak(
      { siteId: 'plant-1', areaId: 'tank-farm', peakLel: 80 },
      registry.devices,
      plant,
    );
    const peaks = Object.fromEntries(plan.targets.map(target => [target.deviceId, target.peakLel]));
    // Centroid (100, 220): gc-tf-02 at (100, 200) is nearest; the others are 34–38 m farther.
    expect(Object.keys(peaks).sort()).toEqual(['gc-tf-01', 'gc-tf-02', 'gc-tf-03']);
    expect(peaks['gc-tf-02']).toBe(80);
    for (const farther of ['gc-tf-01', 'gc-tf-03']) {
      expect(peaks[farther]).toBeLessThan(30);
      expect(peaks[farther]).toBeGreaterThan(10);
    }
    expect(peaks['gc-tf-03']).toBeLessThan(peaks['gc-tf-01'] as number);
  });

  it('puts the source at the named detector when both a device and an area are given', () => {
    const plan = planGasLeak(
      { siteId: 'plant-1', areaId: 'tank-farm', deviceId: 'gc-tf-01' },
      registry.devices,
      plant,
    );
    const [strongest] = [...plan.targets].sort((a, b) => b.peakLel - a.peakLel);
    expect(strongest).toMatchObject({ deviceId: 'gc-tf-01', peakLel: 65, distanceM: 0 });
  });

  it('names the problem for bad requests', () => {
    const plan = (options: Parameters<typeof planGasLeak>[0]) => () =>
      planGasLeak(options, registry.devices, registry.site(options.siteId));
    expect(plan({ siteId: 'nowhere', deviceId: 'gc-tf-01' })).toThrow('unknown site "nowhere"');
    expect(plan({ siteId: 'plant-1' })).toThrow('needs a deviceId or an areaId');
    expect(plan({ siteId: 'plant-1', deviceId: 'nope' })).toThrow('unknown device "nope"');
    expect(plan({ siteId: 'plant-1', deviceId: 'gt-ru-h2s' })).toThrow('not gas-combustible');
    expect(plan({ siteId: 'plant-1', areaId: 'office' })).toThrow('no gas-combustible detector');
    expect(plan({ siteId: 'plant-1', areaId: 'moon' })).toThrow('unknown area "moon"');
    expect(plan({ siteId: 'plant-1', deviceId: 'gc-tf-01', peakLel: 0 })).toThrow(GasLeakError);
    expect(plan({ siteId: 'plant-1', deviceId: 'gc-tf-01', peakLel: 101 })).toThrow('peakLel');
    expect(plan({ siteId: 'plant-1', deviceId: 'gc-tf-01', holdSeconds: -1 })).toThrow(
      'holdSeconds',
    );
  });
});
