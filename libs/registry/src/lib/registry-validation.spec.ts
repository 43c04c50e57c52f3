import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { RegistryError, type RegistrySource } from './registry';
import { checkRegistry } from './registry-rules';

const SAMPLE_DIR = join(__dirname, '../../../../registry/sample');

/** Parsed registry documents, typed loosely: the tests break them on purpose. */
type Entry = Record<string, unknown> & {
  id?: unknown;
  attributes?: Record<string, unknown>;
  rules?: unknown;
  profile?: unknown;
};
interface SiteDocument {
  id: string;
  frame: Record<string, unknown>;
  areas: Entry[];
  devices: Entry[];
  timeZone?: unknown;
  inspections: (Entry & { items: Entry[] })[];
}
interface Document {
  source: string;
  content: { sites: SiteDocument[] };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the sample registry changed');
  return value;
}

/** The sample registry as parsed documents, fresh each time (tests edit them). */
function sample(): Document[] {
  return readdirSync(SAMPLE_DIR)
    .filter(file => file.endsWith('.yaml'))
    .sort()
    .map(file => ({ source: file, content: parse(readFileSync(join(SAMPLE_DIR, file), 'utf8')) }));
}

function plant(sources: Document[]): SiteDocument {
  return must(must(sources.find(source => source.source === 'site-plant-1.yaml')).content.sites[0]);
}

function problemsOf(sources: readonly RegistrySource[]): readonly string[] {
  try {
    checkRegistry(sources);
  } catch (error) {
    if (error instanceof RegistryError) return error.problems;
    throw error;
  }
  return [];
}

function edited(edit: (site: SiteDocument) => void): readonly string[] {
  const sources = sample();
  edit(plant(sources));
  return problemsOf(sources);
}

const area = (site: SiteDocument, id: string): Entry => must(site.areas.find(a => a.id === id));
const device = (site: SiteDocument, id: string): Entry => must(site.devices.find(d => d.id === id));

describe('registry validation (issue 10 findings 2 and 5)', () => {
  it('accepts the sample registry with every device rule and site rule', () => {
    expect(problemsOf(sample())).toEqual([]);
  });

  it('refuses a typo in an area site rule with its path and the key it meant', () => {
    expect(
      edited(site => (area(site, 'tank-farm').rules = { crowding: { minpeople: 2 } })),
    ).toEqual([
      'sites.plant-1: areas.tank-farm.rules.crowding: Unrecognized key: "minpeople"; did you mean "minPeople"?',
    ]);
  });

  it('refuses a misspelt site rule, in an area with devices or without', () => {
    const problems = edited(site => {
      area(site, 'office').rules = { crowdng: { minPeople: 2 } };
      site.areas.push({
        id: 'yard',
        name: 'Yard',
        kind: 'warning',
        polygon: [
          [0, 0],
          [10, 0],
          [10, 10],
        ],
        rules: { 'head-cont': { maxPeople: 2 } },
      });
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^sites\.plant-1\.areas\.yard\.rules\.head-cont: not a site rule .*; did you mean "head-count"\?$/,
      ),
      'sites.plant-1.devices.ef-of-db: rules.crowdng: not a rule of electrical-fire; did you mean "crowding"? (area overrides)',
    ]);
  });

  it('refuses unknown keys anywhere in the structure, with hints', () => {
    const problems = edited(site => {
      area(site, 'tank-farm').maxpeople = 2;
      device(site, 'gc-tf-01').postion = [1, 1];
      site.frame.hieght = 3;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'site-plant-1.yaml: sites.0.areas.0: Unrecognized key: "maxpeople"; did you mean "maxPeople"?',
        'site-plant-1.yaml: sites.0.devices.0: Unrecognized key: "postion"; did you mean "position"?',
        'site-plant-1.yaml: sites.0.frame: Unrecognized key: "hieght"; did you mean "height"?',
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('refuses a combustible detector without a gas, an unknown gas and an unknown unit', () => {
    const problems = edited(site => {
      site.devices.push(
        { id: 'gc-x-01', class: 'gas-combustible', area: 'loading-bay' },
        { id: 'gc-x-02', class: 'gas-combustible', attributes: { gas: 'marsh gas' } },
        {
          id: 'gc-x-03',
          class: 'gas-combustible',
          attributes: { gas: 'CH4', unit_lel: '%volume' },
        },
        { id: 'gt-x-04', class: 'gas-toxic', attributes: { gas: 'H2S', unit_ppm: 'mg/l' } },
      );
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^sites\.plant-1\.devices\.gc-x-01\.attributes\.gas: a combustible-gas detector must name its gas/,
      ),
      expect.stringMatching(
        /^sites\.plant-1\.devices\.gc-x-02\.attributes\.gas: unknown gas "marsh gas" \(known flammable gases: CH4 \(methane\), C3H8 \(propane\)/,
      ),
      'sites.plant-1.devices.gc-x-03.attributes.unit_lel: unknown unit "%volume" (convertible to %LEL: %LEL, %VOL, ppm)',
      'sites.plant-1.devices.gt-x-04.attributes.unit_ppm: unknown unit "mg/l" (convertible to ppm: ppm, ppb, mg/m³, %VOL)',
    ]);
  });

  it('refuses an extraMetrics list that names no metric, or is not a list', () => {
    const problems = edited(site => {
      device(site, 'gc-tf-01').attributes = { gas: 'CH4', extraMetrics: 'flow_lpm, Flow LPM' };
      site.devices.push({ id: 'cp-x-01', class: 'call-point', attributes: { extraMetrics: 3 } });
    });
    expect(problems).toEqual([
      'sites.plant-1.devices.gc-tf-01.attributes.extraMetrics: "Flow LPM" is not a metric name ([a-z][a-z0-9_]{0,63})',
      'sites.plant-1.devices.cp-x-01.attributes.extraMetrics: must be a comma-separated list of metric names, not a number',
    ]);
  });

  it('accepts gases by name and units in the closed list', () => {
    expect(
      edited(site => {
        device(site, 'gc-tf-01').attributes = { gas: 'propane', unit_lel: '%vol' };
        device(site, 'gt-ru-h2s').attributes = { unit_ppm: 'mg/m3' };
        device(site, 'gc-tf-02').profile = undefined;
        device(site, 'gc-tf-02').attributes = { calibration_gas: '甲烷' };
      }),
    ).toEqual([]);
  });

  it('refuses a device id used by two sites', () => {
    const sources = sample();
    const copy = structuredClone(plant(sources));
    copy.id = 'plant-2';
    copy.devices = [device(copy, 'fp-main')];
    copy.inspections = [];
    must(sources.find(s => s.source === 'site-plant-1.yaml')).content.sites.push(copy);
    expect(problemsOf(sources)).toEqual([
      'sites.plant-2.devices.fp-main: duplicate device id (also a device of site plant-1)',
    ]);
  });

  it('refuses a set-point outside the measuring range the device declares', () => {
    expect(
      edited(site => {
        device(site, 'gt-ru-h2s').rules = { 'gas-l2': { setpoint: 150 } };
      }),
    ).toEqual([
      expect.stringMatching(
        /^sites\.plant-1\.devices\.gt-ru-h2s: rules\.gas-l2\.setpoint: 150 is above the measuring range \(rangeHigh 100\)/,
      ),
    ]);
  });

  it('refuses inspection schedules with a typo, a missing area or device, or an unknown zone', () => {
    const problems = edited(site => {
      site.timeZone = 'Asia/Shangai';
      const [daily, weekly] = site.inspections;
      if (!daily || !weekly) throw new Error('the sample registry changed');
      daily['cadance'] = 'weekly';
      weekly.area = 'reactor';
      weekly.devices = ['r-201', 'r-999'];
      must(weekly.items[0])['hazardlevel'] = 'major';
    });
    expect(problems).toEqual([
      'site-plant-1.yaml: sites.0.timeZone: not an IANA time zone (e.g. Asia/Shanghai)',
      'site-plant-1.yaml: sites.0.inspections.0: Unrecognized key: "cadance"; did you mean "cadence"?',
      'site-plant-1.yaml: sites.0.inspections.1.items.0: Unrecognized key: "hazardlevel"; did you mean "hazardLevel"?',
    ]);
    // Once the schema is met, the references are checked against the site.
    const references = edited(site => {
      const weekly = must(site.inspections[1]);
      weekly.area = 'reactor';
      weekly.devices = ['r-201', 'r-999'];
      site.inspections.push({ ...must(site.inspections[0]) });
    });
    expect(references).toEqual([
      'sites.plant-1.inspections.ru-workshop-weekly.area: "reactor" does not exist in site plant-1',
      'sites.plant-1.inspections.ru-workshop-weekly.devices: "r-999" is not a device of site plant-1',
      'sites.plant-1.inspections.tf-team-daily: duplicate inspection schedule id',
    ]);
  });
});
