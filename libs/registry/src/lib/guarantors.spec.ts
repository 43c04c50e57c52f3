import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { DEFAULT_GUARANTOR_ITEMS, inspectionSubject } from '@vigil/contracts';

import { guarantorsOf, sourcesOf } from './guarantors';
import { RegistryError, buildRegistry, type RegistrySource } from './registry';

const SAMPLE_DIR = join(__dirname, '../../../../registry/sample');

interface Unit {
  id: string;
  guarantors?: unknown;
}
interface SiteDocument {
  hazardUnits: Unit[];
  inspections: Array<Record<string, unknown>>;
}

/** The sample registry as parsed documents, with `edit` applied to plant-1. */
function sample(edit: (site: SiteDocument) => void): RegistrySource[] {
  const sources = readdirSync(SAMPLE_DIR)
    .filter(file => file.endsWith('.yaml'))
    .sort()
    .map(file => ({ source: file, content: parse(readFileSync(join(SAMPLE_DIR, file), 'utf8')) }));
  const plant = (
    sources.find(source => source.source === 'site-plant-1.yaml')?.content as {
      sites: SiteDocument[];
    }
  ).sites[0];
  if (!plant) throw new Error('the sample registry changed');
  edit(plant);
  return sources;
}

function unit(site: SiteDocument, id: string): Unit {
  const found = site.hazardUnits.find(each => each.id === id);
  if (!found) throw new Error(`the sample registry has no unit ${id}`);
  return found;
}

const GUARANTORS = { principal: 'wang', technical: 'li', operational: 'zhang' };

function problemsOf(sources: readonly RegistrySource[]): readonly string[] {
  try {
    buildRegistry(sources);
  } catch (error) {
    if (error instanceof RegistryError) return error.problems;
    throw error;
  }
  return [];
}

describe('major-hazard-source guarantors (包保责任人) in the registry', () => {
  it('derives one inspection schedule per guarantor, assigned to the user, with the proposed cadences', () => {
    const registry = buildRegistry(
      sample(site => {
        unit(site, 'reactor-unit-1').guarantors = {
          ...GUARANTORS,
          technical: { user: 'li', cadence: 'weekly' },
        };
      }),
    );
    const duties = (registry.site('plant-1')?.inspections ?? []).filter(
      schedule => schedule.guarantor !== undefined,
    );
    expect(duties.map(duty => [duty.id, duty.assignee, duty.cadence, duty.level])).toEqual([
      ['mhs-reactor-unit-1-principal', 'wang', 'quarterly', 'principal'],
      ['mhs-reactor-unit-1-technical', 'li', 'weekly', 'plant'],
      ['mhs-reactor-unit-1-operational', 'zhang', 'weekly', 'workshop'],
    ]);
    expect(duties[0]).toMatchObject({
      area: 'reactor-unit',
      devices: ['r-201'],
      guarantor: { unit: 'reactor-unit-1', tier: 'principal' },
      items: DEFAULT_GUARANTOR_ITEMS.principal,
    });
    expect(duties[0]?.responsible).toContain('主要负责人');
    expect(duties[0]?.responsible).toContain('wang');
    // The hand-written schedules are still there, before the duties.
    expect(registry.site('plant-1')?.inspections?.[0]?.id).toBe('tf-team-daily');
  });

  it('refuses a unit with a tier missing, an unknown key, or an id too long for its duties', () => {
    const problems = problemsOf(
      sample(site => {
        unit(site, 'reactor-unit-1').guarantors = { principal: 'wang', technical: 'li' };
        unit(site, 'tank-farm-1').guarantors = { ...GUARANTORS, operatonal: 'chen' };
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /hazardUnits\.0\.guarantors: Unrecognized key: "operatonal"; did you mean "operational"\?$/,
      ),
      expect.stringMatching(/hazardUnits\.1\.guarantors\.operational: /),
    ]);
    const long = 'u'.repeat(33);
    expect(
      problemsOf(
        sample(site => {
          const reactor = unit(site, 'reactor-unit-1');
          reactor.id = long;
          reactor.guarantors = GUARANTORS;
        }),
      ),
    ).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^sites\\.plant-1\\.hazardUnits\\.${long}\\.guarantors: .*at most 32 characters`,
        ),
      ),
    );
  });

  it('refuses a hand-written schedule that takes a duty’s id or claims to be a duty', () => {
    const problems = problemsOf(
      sample(site => {
        unit(site, 'reactor-unit-1').guarantors = GUARANTORS;
        const [first] = site.inspections;
        if (!first) throw new Error('the sample registry has no inspections');
        site.inspections.push({ ...first, id: 'mhs-reactor-unit-1-principal' });
        site.inspections.push({
          ...first,
          id: 'fake-duty',
          guarantor: { unit: 'tank-farm-1', tier: 'principal' },
        });
      }),
    );
    expect(problems).toEqual([
      'sites.plant-1.inspections.fake-duty.guarantor: set by hazardUnits[].guarantors, not by hand',
      expect.stringMatching(
        /^sites\.plant-1\.inspections\.mhs-reactor-unit-1-principal: the id of the principal guarantor's duty of unit reactor-unit-1/,
      ),
    ]);
  });

  it('matches an alarm or hazard to its sources: by tank, by area, by a guarantor’s duty', () => {
    const registry = buildRegistry(
      sample(site => {
        unit(site, 'reactor-unit-1').guarantors = GUARANTORS;
      }),
    );
    const ids = (subject: Parameters<typeof sourcesOf>[1]) =>
      sourcesOf(registry, subject).map(source => source.id);
    expect(ids({ siteId: 'plant-1', deviceIds: ['gc-ru-01'] })).toEqual(['reactor-unit-1']);
    expect(ids({ siteId: 'plant-1', deviceIds: ['tk-101'] })).toEqual(['tank-farm-1']);
    expect(ids({ siteId: 'plant-1', areaId: 'tank-farm' })).toEqual(['tank-farm-1']);
    expect(ids({ siteId: 'plant-1', deviceIds: ['gc-lb-01'] })).toEqual([]);
    expect(
      ids({
        siteId: 'plant-1',
        deviceIds: [inspectionSubject('mhs-reactor-unit-1-operational')],
      }),
    ).toEqual(['reactor-unit-1']);
    expect(ids({ siteId: 'elsewhere', deviceIds: ['gc-ru-01'] })).toEqual([]);
    const reactor = registry.site('plant-1')?.hazardUnits?.find(u => u.id === 'reactor-unit-1');
    expect(reactor && guarantorsOf(reactor).map(g => [g.tier, g.userId])).toEqual([
      ['principal', 'wang'],
      ['technical', 'li'],
      ['operational', 'zhang'],
    ]);
  });
});
