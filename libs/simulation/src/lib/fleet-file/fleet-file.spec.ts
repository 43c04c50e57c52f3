import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pointInRing } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';

import {
  FleetFileError,
  expandFleet,
  loadFleetFile,
  parseFleetFile,
  writeRegistry,
} from './fleet-file';

const ROOT = join(__dirname, '../../../../..');

const small = parseFleetFile({
  name: 'small',
  sites: [
    {
      id: 'plant',
      count: 2,
      areas: [
        {
          id: 'unit',
          count: 3,
          kind: 'production',
          risk: 'orange',
          devices: {
            'gas-combustible': { count: 5, intervalSeconds: 2 },
            'gas-toxic': 2,
            tag: 1,
          },
        },
      ],
      devices: { 'fire-panel': 1 },
    },
  ],
});

describe('fleet files', () => {
  it('expands counts into sites, areas and devices with stable ids', () => {
    const fleet = expandFleet(small);
    expect(fleet.stats).toMatchObject({
      sites: 2,
      areas: 6,
      devices: 2 * (3 * 8 + 1),
      byClass: { 'gas-combustible': 30, 'gas-toxic': 12, tag: 6, 'fire-panel': 2 },
    });
    // 30 detectors every 2 s, 12 every 5 s (class default), 6 tags every 5 s; panels send none.
    expect(fleet.stats.nominalReadingsPerSecond).toBeCloseTo(15 + 2.4 + 1.2, 3);
    const ids = fleet.registry.devices.map(device => `${device.siteId}/${device.deviceId}`);
    expect(ids).toContain('plant-01/gc-plant-01-unit-01-1');
    expect(ids).toContain('plant-02/gt-plant-02-unit-03-2');
    expect(ids).toContain('plant-02/fp-plant-02-1');
    expect(new Set(ids).size).toBe(ids.length);
    expect(expandFleet(small).registry.devices).toEqual(fleet.registry.devices);
  });

  it('places every positioned device inside its own area, and gives classes their attributes', () => {
    const fleet = expandFleet(small);
    for (const device of fleet.registry.devices) {
      if (!device.position || !device.areaId) continue;
      const area = fleet.registry.area(device.siteId, device.areaId);
      expect(area && pointInRing(device.position, area.polygon)).toBe(true);
    }
    const toxic = fleet.registry.devices.find(device => device.deviceClass === 'gas-toxic');
    expect(toxic?.attributes['gas']).toBe('H2S');
    const tag = fleet.registry.devices.find(device => device.deviceClass === 'tag');
    expect(tag?.position).toBeUndefined();
  });

  it('hangs generated sites under an existing organisation node', () => {
    const fleet = expandFleet(
      parseFleetFile({
        name: 'demo',
        registry: join(ROOT, 'registry/sample/organisation.yaml'),
        organisation: { parent: 'park-chem' },
        sites: [{ id: 'extra', areas: [{ id: 'a', devices: { 'gas-oxygen': 1 } }] }],
      }),
    );
    const site = fleet.registry.site('extra');
    expect(fleet.registry.orgPath(site?.enterprise ?? '').map(node => node.id)).toEqual([
      'city-demo',
      'county-east',
      'park-chem',
      'fleet-enterprise',
    ]);
  });

  it('includes a registry as it is', () => {
    const fleet = expandFleet(
      parseFleetFile({ name: 'sample', registry: join(ROOT, 'registry/sample') }),
    );
    expect(fleet.registry.devices).toHaveLength(
      loadRegistry(join(ROOT, 'registry/sample')).devices.length,
    );
  });

  it('lists every problem of a bad file', () => {
    expect(() => parseFleetFile({ name: 'x' })).toThrow(FleetFileError);
    try {
      parseFleetFile({
        name: 'x',
        sites: [{ id: 'bad id', areas: [{ id: 'a', devices: { laser: 3, 'gas-toxic': -1 } }] }],
      });
      throw new Error('expected a FleetFileError');
    } catch (error) {
      const problems = (error as FleetFileError).problems.join('\n');
      expect(problems).toContain('sites.0.id');
      expect(problems).toContain('laser');
      expect(problems).toContain('gas-toxic');
    }
  });

  it('writes a registry Vigil loads, and refuses to mix it with stale files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-spec-'));
    const fleet = expandFleet(small);
    writeRegistry(fleet, dir);
    expect(loadRegistry(dir).devices).toEqual(fleet.registry.devices);
    expect(() => writeRegistry(fleet, dir)).toThrow(FleetFileError);
    writeFileSync(join(dir, 'notes.txt'), 'kept');
    writeRegistry(fleet, dir, { replace: true });
    expect(readdirSync(dir)).toContain('notes.txt');
    expect(loadRegistry(dir).devices).toHaveLength(fleet.registry.devices.length);
  });

  it('expands the shipped 100,000-device fleet', () => {
    const fleet = loadFleetFile(join(ROOT, 'simulators/fleets/fleet-100k.yaml'));
    expect(fleet.stats.devices).toBe(100_000);
    expect(fleet.stats.sites).toBe(20);
  });
});
