import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { firePanelMapFromJson } from '@vigil/rules';

import { RegistryError, buildRegistry, type RegistrySource } from './registry';

const SAMPLE_DIR = join(__dirname, '../../../../registry/sample');

function problemsOf(sources: RegistrySource[]): readonly string[] {
  try {
    buildRegistry(sources);
  } catch (error) {
    if (error instanceof RegistryError) return error.problems;
    throw error;
  }
  return [];
}

const org = { organisation: [{ id: 'ent', name: 'Ent', kind: 'enterprise' }] };
const square = (x: number) => [
  [x, 0],
  [x + 10, 0],
  [x + 10, 10],
  [x, 10],
];
const site = (devices: unknown[]) => ({
  sites: [
    {
      id: 's1',
      name: 'S1',
      enterprise: 'ent',
      frame: { width: 100, height: 100 },
      areas: [
        { id: 'a1', name: 'A1', kind: 'storage', polygon: square(0) },
        { id: 'a2', name: 'A2', kind: 'production', polygon: square(20) },
      ],
      devices,
    },
  ],
});
const files = (devices: unknown[]): RegistrySource[] => [
  { source: 'org.yaml', content: org },
  { source: 'site.yaml', content: site(devices) },
];

describe('registry: fire-panel points and zones', () => {
  it('maps points and zones to areas and positions (point first, then its zone)', () => {
    const registry = buildRegistry(
      files([
        {
          id: 'fp',
          class: 'fire-panel',
          area: 'a1',
          zones: [
            { zone: 1, area: 'a1', name: 'Zone one', confirm: { windowSeconds: 90 } },
            { zone: 'east-2', area: 'a2', position: [25, 5] },
          ],
          points: [
            { loop: 1, point: 23, zone: 1, position: [5, 5], name: 'Smoke 1-23' },
            { loop: 1, point: 24, zone: 'east-2' },
            { point: 7, area: 'a2' },
          ],
        },
      ]),
    );
    const map = registry.device('s1', 'fp')?.firePanel;
    expect(map?.points.get('1-23')).toEqual({
      loop: '1',
      point: '23',
      zone: '1',
      areaId: 'a1',
      position: [5, 5],
      name: 'Smoke 1-23',
    });
    expect(map?.points.get('1-24')).toMatchObject({ areaId: 'a2', position: [25, 5] });
    expect(map?.points.get('7')).toMatchObject({ loop: undefined, areaId: 'a2' });
    expect(map?.zones.get('1')).toMatchObject({ areaId: 'a1', confirmWindowMs: 90_000 });
    expect(map?.zones.get('east-2')?.confirmWindowMs).toBeUndefined();
  });

  it('refuses every problem of a panel’s address book, listing each', () => {
    const problems = problemsOf(
      files([
        {
          id: 'fp',
          class: 'fire-panel',
          zones: [
            { zone: 1, area: 'nowhere' },
            { zone: 1, area: 'a1' },
            { zone: 2, position: [500, 1] },
          ],
          points: [
            { loop: 1, point: 1, zone: 1 },
            { loop: 1, point: 1, zone: 1 },
            { loop: 1, point: 2, zone: 9 },
            { loop: 1, point: 3, zone: 2 },
            { loop: 1, point: 4, area: 'a1', position: [-1, 5] },
          ],
        },
        { id: 'gc', class: 'gas-combustible', points: [{ point: 1, area: 'a1' }] },
      ]),
    );
    expect(problems).toEqual([
      'sites.s1.devices.fp.zones[0].area: "nowhere" does not exist in the site',
      'sites.s1.devices.fp.zones[1]: duplicate zone "1"',
      'sites.s1.devices.fp.zones[2].position: outside the site frame',
      'sites.s1.devices.fp.points[1]: duplicate point 1-1 (loop-point)',
      'sites.s1.devices.fp.points[2].zone: "9" is not one of the panel\'s zones',
      'sites.s1.devices.fp.points[2]: point 1-2 has no area (give area, or a zone with an area)',
      'sites.s1.devices.fp.points[3]: point 1-3 has no area (give area, or a zone with an area)',
      'sites.s1.devices.fp.points[4].position: outside the site frame',
      'sites.s1.devices.gc: points and zones are for fire-panel devices, not gas-combustible',
    ]);
  });

  it('refuses malformed entries by schema: unknown keys, spaces in addresses, windows', () => {
    const problems = problemsOf(
      files([
        {
          id: 'fp',
          class: 'fire-panel',
          zones: [
            { zone: 'tank farm', area: 'a1' },
            { zone: 3, area: 'a1', confirm: { windowSeconds: 0 } },
            { zone: 4, area: 'a1', confirm: { window: 60 } },
          ],
          points: [{ loop: -1, point: 1, area: 'a1', extra: true }],
        },
      ]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/site\.yaml: sites\.0\.devices\.0\.points\.0\.loop: /),
      'site.yaml: sites.0.devices.0.points.0: Unrecognized key: "extra"',
      expect.stringMatching(/sites\.0\.devices\.0\.zones\.0\.zone: /),
      expect.stringMatching(/sites\.0\.devices\.0\.zones\.1\.confirm\.windowSeconds: /),
      expect.stringMatching(/zones\.2\.confirm\.windowSeconds: Invalid input: expected number/),
      'site.yaml: sites.0.devices.0.zones.2.confirm: Unrecognized key: "window"',
    ]);
  });

  it('locates every point of the sample fire panel', () => {
    const registry = buildRegistry(
      readdirSync(SAMPLE_DIR)
        .filter(file => file.endsWith('.yaml'))
        .map(file => ({
          source: file,
          content: parse(readFileSync(join(SAMPLE_DIR, file), 'utf8')),
        })),
    );
    const map = registry.device('plant-1', 'fp-main')?.firePanel;
    expect(map?.points.get('1-23')?.areaId).toBe('tank-farm');
    expect(map?.points.get('2-7')?.areaId).toBe('reactor-unit');
    expect(map?.zones.get('1')?.confirmWindowMs).toBe(120_000);
  });
});

describe('fire-panel map over JSON (GET /api/v1/devices)', () => {
  it('serialises as arrays and comes back as the same map', () => {
    const registry = buildRegistry(
      files([
        {
          id: 'fp',
          class: 'fire-panel',
          zones: [{ zone: 1, area: 'a1', confirm: { windowSeconds: 30 } }],
          points: [{ loop: 1, point: 2, zone: 1 }],
        },
      ]),
    );
    const json = JSON.parse(JSON.stringify(registry.device('s1', 'fp')));
    expect(json.firePanel.points).toEqual([{ loop: '1', point: '2', zone: '1', areaId: 'a1' }]);
    const back = firePanelMapFromJson(json.firePanel);
    expect(back?.points.get('1-2')?.areaId).toBe('a1');
    expect(back?.zones.get('1')?.confirmWindowMs).toBe(30_000);
  });
});
