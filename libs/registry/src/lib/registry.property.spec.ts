import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { parse } from 'yaml';

import { GASES } from '@vigil/rules';

import { RegistryError, type RegistrySource } from './registry';
import { checkRegistry } from './registry-rules';

const SAMPLE_DIR = join(__dirname, '../../../../registry/sample');
/** Parsed registry documents, typed loosely: the mutations break them on purpose. */
type Entry = Record<string, unknown> & {
  id?: unknown;
  class?: unknown;
  profile?: unknown;
  attributes?: Record<string, unknown>;
  rules?: unknown;
};
interface SiteDocument {
  id: string;
  enterprise: string;
  areas: Entry[];
  profiles: Entry[];
  devices: Entry[];
  inspections?: { devices?: unknown[] }[];
}
interface Document {
  source: string;
  content: { sites: SiteDocument[] } & Record<string, unknown>;
}

const SAMPLE: readonly Document[] = readdirSync(SAMPLE_DIR)
  .filter(file => file.endsWith('.yaml'))
  .sort()
  .map(file => ({ source: file, content: parse(readFileSync(join(SAMPLE_DIR, file), 'utf8')) }));

function fresh(): Document[] {
  return structuredClone(SAMPLE) as Document[];
}

function siteOf(sources: Document[]): SiteDocument {
  const site = sources.find(source => Array.isArray(source.content?.sites))?.content.sites[0];
  if (site === undefined) throw new Error('no site left to mutate');
  return site;
}

/** Every plain object in a document, with its parent path, for mutations anywhere. */
function objectsOf(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) value.forEach(item => objectsOf(item, out));
  else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    Object.values(value).forEach(item => objectsOf(item, out));
  }
  return out;
}

type Mutation = (sources: Document[]) => void;

function pick<T>(list: readonly T[], index: number): T {
  const item = list[index % list.length];
  if (item === undefined) throw new Error('nothing to pick');
  return item;
}

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
);

/** One way a registry can be wrong, applied somewhere chosen by the generated numbers. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Unknown key in any object (file roots, sites, areas, devices, attributes, rule overrides, …).
  fc
    .tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 10 }), junk)
    .map(([index, key, value]): Mutation => sources => {
      const objects = sources.flatMap(source => objectsOf(source.content));
      pick(objects, index)[`x${key}`] = value;
    }),
  // A field of any object replaced by a value of another type.
  fc.tuple(fc.nat(), fc.nat(), junk).map(([index, field, value]): Mutation => sources => {
    const objects = sources.flatMap(source => objectsOf(source.content));
    const target = pick(objects, index);
    const keys = Object.keys(target);
    if (keys.length > 0) target[pick(keys, field)] = value;
  }),
  // A required field removed.
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom('id', 'name', 'class', 'kind', 'polygon', 'enterprise', 'frame'),
    )
    .map(([index, key]): Mutation => sources => {
      const objects = sources.flatMap(source => objectsOf(source.content)).filter(o => key in o);
      if (objects.length > 0) delete pick(objects, index)[key];
    }),
  // A bad unit or gas on a gas detector.
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom('unit_lel', 'unit_ppm', 'gas', 'calibration_gas', 'unit_o2'),
      fc.string({ maxLength: 8 }),
    )
    .map(([index, key, value]): Mutation => sources => {
      const devices = siteOf(sources).devices.filter((d: Entry) =>
        String(d.class).startsWith('gas-'),
      );
      const device = pick(devices, index);
      device.attributes = { ...device.attributes, [key]: `${value}?` };
    }),
  // A combustible detector's gas removed (the profile's too).
  fc.nat().map((index): Mutation => sources => {
    const site = siteOf(sources);
    for (const profile of site.profiles)
      if (profile.class === 'gas-combustible' && profile.attributes)
        delete profile.attributes['gas'];
    const devices = site.devices.filter((d: Entry) => d.class === 'gas-combustible');
    delete pick(devices, index).attributes;
  }),
  // A duplicate device id, in the same site or in a second one.
  fc.tuple(fc.nat(), fc.boolean()).map(([index, otherSite]): Mutation => sources => {
    const site = siteOf(sources);
    const copy = structuredClone(pick(site.devices, index));
    if (!otherSite) site.devices.push(copy);
    else
      sources.push({
        source: 'other.yaml',
        content: {
          sites: [
            {
              id: 'plant-x',
              name: 'X',
              enterprise: site.enterprise,
              frame: { width: 1000, height: 1000 },
              areas: [],
              profiles: [],
              devices: [{ id: copy.id, class: 'call-point' }],
            } as SiteDocument,
          ],
        },
      });
  }),
  // A typo in an area's site rule or a device rule override.
  fc
    .tuple(fc.nat(), fc.constantFrom('crowding', 'head-count', 'voting', 'gas-l1', 'crowdng'))
    .map(([index, rule]): Mutation => sources => {
      const area = pick(siteOf(sources).areas, index);
      area.rules = { ...(area.rules as object), [rule]: { minpeople: 2, setPoint: 3 } };
    }),
  // A set-point beyond the measuring range of a detector that declares one.
  fc
    .tuple(fc.nat(), fc.integer({ min: 101, max: 100_000 }))
    .map(([index, setpoint]): Mutation => sources => {
      const devices = siteOf(sources).devices.filter((d: Entry) => d.profile === 'catalytic-ch4');
      pick(devices, index).rules = { 'gas-l2': { setpoint } };
    }),
  // Anything at all in place of a whole file or site.
  fc.tuple(fc.nat(), fc.anything()).map(([index, value]): Mutation => sources => {
    const source = pick(sources, index);
    if (index % 2 === 0) source.content = value as Document['content'];
    else source.content.sites = [value as SiteDocument];
  }),
);

function outcome(sources: readonly RegistrySource[]) {
  try {
    return { ok: true as const, checked: checkRegistry(sources) };
  } catch (error) {
    return { ok: false as const, error };
  }
}

describe('registry files under random mutation (issue 10: hostile registry files)', () => {
  it('refuses every mutation with RegistryError and a non-empty list of problems, nothing else', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), mutations => {
        const sources = fresh();
        for (const mutate of mutations) {
          try {
            mutate(sources);
          } catch {
            // An earlier mutation changed the shape this one expects: it does not apply.
          }
        }
        const result = outcome(sources);
        if (result.ok) {
          // A mutation may happen to be harmless (a name replaced by a string); then everything
          // it yields is complete: every device has its resolved rules.
          const { registry, deviceRules } = result.checked;
          expect(registry.devices.every(device => deviceRules.has(device))).toBe(true);
          return;
        }
        expect(result.error).toBeInstanceOf(RegistryError);
        const { problems } = result.error as RegistryError;
        expect(problems.length).toBeGreaterThan(0);
        expect(problems.every(problem => typeof problem === 'string' && problem.length > 0)).toBe(
          true,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('refuses each kind of wrong configuration (never harmless)', () => {
    const alwaysWrong = fc.oneof(
      fc.constant<Mutation>(sources => {
        pick(siteOf(sources).areas, 0)['maxpeople'] = 2;
      }),
      fc.constant<Mutation>(sources => {
        pick(siteOf(sources).areas, 0).rules = { crowding: { minpeople: 2 } };
      }),
      fc.constant<Mutation>(sources => {
        pick(siteOf(sources).devices, 0).attributes = { gas: 'propane', unit_lel: '%volume' };
      }),
      fc.constant<Mutation>(sources => {
        pick(siteOf(sources).devices, 0).attributes = { gas: 'marsh gas' };
      }),
      fc.constant<Mutation>(sources => {
        siteOf(sources).devices.push({ ...pick(siteOf(sources).devices, 1) });
      }),
      fc.constant<Mutation>(sources => {
        delete pick(siteOf(sources).devices, 2).class;
      }),
      fc.constant<Mutation>(sources => {
        pick(siteOf(sources).devices, 3).rules = { 'gas-l1': { setpoint: 500 } };
      }),
    );
    fc.assert(
      fc.property(alwaysWrong, mutate => {
        const sources = fresh();
        mutate(sources);
        const result = outcome(sources);
        expect(result.ok).toBe(false);
        expect(result.ok || (result.error as RegistryError).problems.length).toBeGreaterThan(0);
      }),
    );
  });

  it('loads every valid variation of the sample', () => {
    const flammable = GASES.filter(gas => gas.lelPercentVol !== undefined);
    const variation = fc.record({
      combustible: fc.nat(),
      gas: fc.constantFrom(...flammable.flatMap(gas => [gas.formula, ...gas.names])),
      lelUnit: fc.constantFrom('%LEL', '%lel', '%VOL', '%vol', 'vol%', 'ppm'),
      ppmUnit: fc.constantFrom('ppm', 'ppb', 'mg/m3', 'mg/m³', '%VOL'),
      minPeople: fc.integer({ min: 2, max: 50 }),
      setpoint: fc.integer({ min: 1, max: 100 }),
      drop: fc.array(fc.nat(), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(variation, v => {
        const sources = fresh();
        const site = siteOf(sources);
        const combustibles = site.devices.filter((d: Entry) => d.class === 'gas-combustible');
        const chosen = pick(combustibles, v.combustible);
        chosen.attributes = { gas: v.gas, unit_lel: v.lelUnit };
        chosen.rules = { 'gas-l2': { setpoint: v.setpoint } };
        const toxic = pick(
          site.devices.filter((d: Entry) => d.id === 'gt-ru-h2s'),
          0,
        );
        toxic.attributes = { unit_ppm: v.ppmUnit };
        pick(site.areas, 0).rules = { crowding: { minPeople: v.minPeople } };
        for (const index of v.drop) site.devices.splice(index % site.devices.length, 1);
        // Inspection schedules name devices of the site: a dropped device leaves them too.
        for (const schedule of site.inspections ?? [])
          schedule.devices = schedule.devices?.filter(id =>
            site.devices.some((d: Entry) => d.id === id),
          );
        const result = outcome(sources);
        if (!result.ok) throw result.error;
        expect(result.checked.registry.devices).toHaveLength(site.devices.length);
      }),
      { numRuns: 100 },
    );
  });
});
