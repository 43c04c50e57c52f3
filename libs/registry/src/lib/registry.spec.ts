import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { DEVICE_CLASSES } from '@vigil/contracts';

import { RegistryError, buildRegistry, type RegistrySource } from './registry';

const SAMPLE_DIR = join(__dirname, '../../../../registry/sample');

function sample(): RegistrySource[] {
  return readdirSync(SAMPLE_DIR)
    .filter(file => file.endsWith('.yaml'))
    .map(file => ({ source: file, content: parse(readFileSync(join(SAMPLE_DIR, file), 'utf8')) }));
}

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
const site = (devices: unknown[], extra: Record<string, unknown> = {}) => ({
  sites: [
    {
      id: 's1',
      name: 'S1',
      enterprise: 'ent',
      frame: { width: 100, height: 100 },
      devices,
      ...extra,
    },
  ],
});

describe(buildRegistry.name, () => {
  it('loads the sample site with every device class of the public interface', () => {
    const registry = buildRegistry(sample());
    const classes = new Set(registry.devices.map(device => device.deviceClass));
    expect([...classes].sort()).toEqual([...DEVICE_CLASSES].sort());
    expect(registry.device('plant-1', 'gt-ru-h2s')?.attributes['gas']).toBe('H2S');
    expect(registry.orgPath('ent-huaxin').map(node => node.kind)).toEqual([
      'city',
      'county',
      'park',
      'enterprise',
    ]);
  });

  it('resolves the interval from device, then profile, then class default', () => {
    const registry = buildRegistry(
      [
        org,
        site(
          [
            { id: 'a', class: 'gas-combustible', profile: 'p' },
            { id: 'b', class: 'gas-combustible', profile: 'p', intervalSeconds: 2 },
            { id: 'c', class: 'electrical-fire' },
          ],
          { profiles: [{ id: 'p', class: 'gas-combustible', intervalSeconds: 7 }] },
        ),
      ].map((content, index) => ({ source: `f${index}`, content })),
    );
    expect(registry.device('s1', 'a')?.intervalSeconds).toBe(7);
    expect(registry.device('s1', 'b')?.intervalSeconds).toBe(2);
    expect(registry.device('s1', 'c')?.intervalSeconds).toBe(30);
  });

  it('lists every problem at once, with file and path', () => {
    const problems = problemsOf([
      { source: 'org.yaml', content: org },
      {
        source: 'site.yaml',
        content: site([
          { id: 'bad id!', class: 'gas-combustible' },
          { id: 'x', class: 'laser' },
        ]),
      },
    ]);
    expect(problems.some(p => p.startsWith('site.yaml: sites.0.devices.0.id'))).toBe(true);
    expect(problems.some(p => p.startsWith('site.yaml: sites.0.devices.1.class'))).toBe(true);
  });

  it('rejects dangling references and duplicates', () => {
    const problems = problemsOf([
      { source: 'org.yaml', content: org },
      {
        source: 'site.yaml',
        content: site([
          { id: 'a', class: 'gas-combustible', area: 'nowhere' },
          { id: 'a', class: 'gas-combustible' },
          { id: 't', class: 'gas-toxic' },
          { id: 'p', class: 'gas-oxygen', position: [500, 5] },
        ]),
      },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'sites.s1.devices.a.area: "nowhere" does not exist in site s1',
        'sites.s1.devices.a: duplicate device id',
        'sites.s1.devices.t.attributes.gas: a toxic-gas detector must name its gas (e.g. H2S)',
        'sites.s1.devices.p.position: outside the site frame',
      ]),
    );
  });

  it('refuses the reserved canary device id', () => {
    const problems = problemsOf([
      { source: 'org.yaml', content: org },
      { source: 'site.yaml', content: site([{ id: '_canary', class: 'gas-combustible' }]) },
    ]);
    expect(problems).toEqual([
      `site.yaml: sites.0.devices.0.id: "_canary" is reserved for Vigil's pipeline canary`,
    ]);
  });

  it('rejects a site whose enterprise is missing and unknown top-level keys', () => {
    const problems = problemsOf([{ source: 'site.yaml', content: { ...site([]), extra: 1 } }]);
    expect(problems).toEqual(['site.yaml: (root): Unrecognized key: "extra"']);
    expect(problemsOf([{ source: 'site.yaml', content: site([]) }])).toEqual([
      'sites.s1.enterprise: "ent" is not in the organisation',
    ]);
  });

  it('grades the sample site per GB 18218-2018 unit, and refuses a tank it cannot grade', () => {
    expect(
      buildRegistry(sample())
        .site('plant-1')
        ?.hazardUnits?.map(unit => unit.id),
    ).toEqual(['tank-farm-1', 'reactor-unit-1']);
    const sources = [
      org,
      site(
        [
          { id: 't1', class: 'mhs-tank', attributes: { substance: 'ammonia', design_max_t: 50 } },
          { id: 't2', class: 'mhs-tank', attributes: { unit: 'u1', capacity_m3: 80 } },
          {
            id: 't3',
            class: 'mhs-tank',
            attributes: { substance: 'NH3', unit: 'u9', design_max_t: 5 },
          },
        ],
        {
          hazardUnits: [
            { id: 'u1', name: 'U1', kind: 'storage', exposedPopulation: 12 },
            { id: 'u2', name: 'U2', kind: 'storage', exposedPopulation: 12, alpha: 1 },
          ],
        },
      ),
    ].map((content, index) => ({ source: `f${index}`, content }));
    expect(problemsOf(sources)).toEqual([
      expect.stringMatching(/^f1: sites\.0\.hazardUnits\.1: give exactly one of exposedPopulation/),
    ]);
    const fixed = sources.map(source => JSON.parse(JSON.stringify(source)) as RegistrySource);
    (fixed[1]?.content as { sites: Array<{ hazardUnits: unknown[] }> }).sites[0]?.hazardUnits.pop();
    expect(problemsOf(fixed)).toEqual([
      expect.stringMatching(/^sites\.s1\.devices\.t1\.attributes\.unit: must name the production/),
      expect.stringMatching(/^sites\.s1\.devices\.t2\.attributes\.substance: a major-hazard tank/),
      expect.stringMatching(
        /^sites\.s1\.devices\.t2\.attributes\.capacity_m3 and attributes\.density_t_m3/,
      ),
      expect.stringMatching(
        /^sites\.s1\.devices\.t3\.attributes\.unit: "u9" is not a unit of site s1/,
      ),
    ]);
  });
});
