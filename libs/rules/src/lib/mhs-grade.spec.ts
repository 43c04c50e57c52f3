import { TestScheduler } from 'rxjs/testing';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { context, runAll } from '../testing/fixtures';
import { classReading } from '../testing/records';
import {
  type MhsGradeOptions,
  type MhsTank,
  type MhsUnit,
  createMhsGradeState,
  findSubstance,
  mhsAlpha,
  mhsGrade,
  mhsIndex,
  mhsLive,
  mhsRegulatory,
  mhsTankOf,
  mhsUnitsOf,
  reduceMhsGrade,
} from './mhs-grade';
import { mhsGradeRule } from './mhs-grade.operator';

function tank(deviceId: string, substance: string, designMaxT: number, unitId = 'tf-1'): MhsTank {
  const found = findSubstance(substance);
  if (!found) throw new Error(substance);
  return {
    siteId: 'plant-1',
    deviceId,
    areaId: 'tank-farm',
    unitId,
    substance: found,
    designMaxT,
    designMaxFrom: 'design_max_t',
  };
}

function unit(unitId: string, alpha: number, tanks: MhsTank[], areaId?: string): MhsUnit {
  return {
    siteId: 'plant-1',
    unitId,
    name: unitId,
    kind: 'storage',
    areaId,
    exposedPopulation: undefined,
    alpha,
    tanks: tanks.map(each => ({ ...each, unitId })),
  };
}

const level = (deviceId: string, ts: number, pct: number): Reading =>
  classReading('mhs-tank', deviceId, ts, { level_pct: pct });

describe(mhsIndex.name, () => {
  it('computes R = α Σ β q/Q and S = Σ q/Q (Decree 40 Annex 1)', () => {
    const ammonia = findSubstance('NH3');
    const methanol = findSubstance('甲醇');
    if (!ammonia || !methanol) throw new Error('table');
    expect(ammonia).toMatchObject({ criticalT: 10, beta: 2 });
    expect(methanol).toMatchObject({ criticalT: 500, beta: 1 });
    // 30 t ammonia: 2 × 3 = 6; 800 t methanol: 1 × 1.6 = 1.6; α 1.5 → 11.4
    const index = mhsIndex(
      [
        { substance: ammonia, quantityT: 30 },
        { substance: methanol, quantityT: 800 },
      ],
      1.5,
    );
    expect(index.r).toBeCloseTo(11.4, 10);
    expect(index.s).toBeCloseTo(4.6, 10);
  });
});

describe(mhsGrade.name, () => {
  it.each([
    [100, 5, 1],
    [99.99, 5, 2],
    [50, 5, 2],
    [49.9, 5, 3],
    [10, 5, 3],
    [9.99, 5, 4],
    [3, 1, 4],
    [3, 0.99, undefined], // not a major hazard installation: S < 1
  ] as const)('R %s, S %s → grade %s', (r, s, grade) => {
    expect(mhsGrade({ r, s })).toBe(grade);
  });

  it('worsens at the boundary but eases only 2 % below it', () => {
    expect(mhsGrade({ r: 50, s: 5 }, 3)).toBe(2);
    expect(mhsGrade({ r: 49.5, s: 5 }, 2)).toBe(2); // within 2 % of 50: stays
    expect(mhsGrade({ r: 48.9, s: 5 }, 2)).toBe(3);
    expect(mhsGrade({ r: 5, s: 0.99 }, 4)).toBe(4);
    expect(mhsGrade({ r: 5, s: 0.97 }, 4)).toBeUndefined();
  });
});

describe(mhsAlpha.name, () => {
  it.each([
    [0, 0.5],
    [1, 1.0],
    [29, 1.0],
    [30, 1.2],
    [49, 1.2],
    [50, 1.5],
    [99, 1.5],
    [100, 2.0], // "100 人以上": 100 itself is in the top row
    [5000, 2.0],
  ])('%s people within 500 m → α %s (GB 18218-2018 α table)', (people, alpha) => {
    expect(mhsAlpha(people)).toBe(alpha);
  });
});

describe('grade per unit (GB 18218-2018 §4.2, worked examples)', () => {
  it('storage unit: 50 t ammonia + 800 t methanol at design maximum, α by exposed population', () => {
    // Σ β q/Q = 2 × 50/10 + 1 × 800/500 = 11.6 (S = 6.6 ≥ 1: a major hazard installation)
    const tanks = [tank('tk-nh3', 'ammonia', 50), tank('tk-meoh', 'methanol', 800)];
    const graded = (people: number) => mhsRegulatory(unit('tf-1', mhsAlpha(people), tanks));
    expect(graded(120).index.r).toBeCloseTo(23.2, 10); // α 2.0 → grade III
    expect(graded(120).grade).toBe(3);
    expect(graded(20).index.r).toBeCloseTo(11.6, 10); // α 1.0 → grade III
    expect(graded(0).index.r).toBeCloseTo(5.8, 10); // α 0.5 → grade IV
    expect(graded(0).grade).toBe(4);
  });

  it('chlorine: 40 t (β 4, Q 5) with 150 people → R = 2 × 4 × 8 = 64: grade II; 25 t → 40: grade III', () => {
    expect(mhsRegulatory(unit('cl', mhsAlpha(150), [tank('tk-cl', 'Cl2', 40)]))).toMatchObject({
      grade: 2,
      index: { r: 64, s: 8 },
    });
    expect(mhsRegulatory(unit('cl', mhsAlpha(150), [tank('tk-cl', 'Cl2', 25)])).grade).toBe(3);
  });

  it('two units on one site get their own grades (a site-wide sum would be wrong)', () => {
    const storage = unit('tf-1', mhsAlpha(150), [tank('tk-nh3', 'ammonia', 200)]); // 2 × 2 × 20 = 80
    const production = unit('ru-1', mhsAlpha(40), [tank('r-201', 'hydrogen', 6)]); // 1.2 × 1.5 × 1.2
    expect(mhsRegulatory(storage)).toMatchObject({ grade: 2, index: { r: 80 } });
    expect(mhsRegulatory(production).grade).toBe(4);
    expect(mhsRegulatory(production).index.r).toBeCloseTo(2.16, 10);
    // Two grade-III units (R 40 each) are not one grade-II site (R 80): graded per unit.
    const a = unit('a', 2, [tank('tk-cl', 'Cl2', 25)]);
    const b = unit('b', 2, [tank('tk-nh3', 'ammonia', 100)]);
    expect([mhsRegulatory(a).grade, mhsRegulatory(b).grade]).toEqual([3, 3]);
    expect(mhsRegulatory(unit('site', 2, [...a.tanks, ...b.tanks])).grade).toBe(2);
  });

  it('the live index follows current levels beside the fixed regulatory grade', () => {
    const tf = unit('tf-1', 2, [tank('tk-nh3', 'ammonia', 50), tank('tk-meoh', 'methanol', 800)]);
    const levels: Record<string, number> = { 'tk-nh3': 20 };
    const live = mhsLive(tf, each => levels[each.deviceId]);
    // NH3 at 20 %: 2 × 10/10 = 2; methanol has no level yet: at design maximum, 1.6 → R 7.2
    expect(live.index.r).toBeCloseTo(7.2, 10);
    expect(live.grade).toBe(4);
    expect(live.withoutLevel).toEqual(['tk-meoh']);
    expect(mhsRegulatory(tf).grade).toBe(3);
    // Over-full and negative levels are clamped to 0–100 %.
    expect(mhsLive(tf, () => 130).index.r).toBeCloseTo(mhsRegulatory(tf).index.r, 10);
  });
});

describe(mhsTankOf.name, () => {
  const device = (attributes: Record<string, string | number | boolean>, deviceClass?: string) => ({
    siteId: 'plant-1',
    deviceId: 'tk-1',
    deviceClass,
    areaId: 'tank-farm',
    attributes,
  });

  it('reads substance, unit and the design maximum, in that order of sources', () => {
    expect(
      mhsTankOf(device({ substance: 'ammonia', unit: 'tf-1', design_max_t: 45, capacityT: 50 }))
        .tank,
    ).toMatchObject({ designMaxT: 45, designMaxFrom: 'design_max_t', unitId: 'tf-1' });
    expect(
      mhsTankOf(device({ substance: 'LPG', unit: 'tf-1', capacity_m3: 100, density_t_m3: 0.5 }))
        .tank,
    ).toMatchObject({ designMaxT: 50, designMaxFrom: 'capacity_m3 × density_t_m3' });
    expect(
      mhsTankOf(device({ substance: 'ammonia', unit: 'tf-1', capacityT: 50 })).tank,
    ).toMatchObject({ designMaxT: 50, designMaxFrom: 'capacityT', substance: { name: 'ammonia' } });
    expect(mhsTankOf(device({})).tank).toBeUndefined();
    expect(mhsTankOf(device({})).errors).toEqual([]);
  });

  it('names every missing or wrong attribute', () => {
    expect(mhsTankOf(device({ substance: 'unobtainium', capacityT: -1 })).errors).toEqual([
      expect.stringMatching(
        /^attributes\.substance: no critical quantity is known for "unobtainium"/,
      ),
      expect.stringMatching(/^attributes\.unit: must name the production or storage unit/),
      'attributes.capacityT: must be a positive number (got -1)',
    ]);
    expect(mhsTankOf(device({ unit: 'tf-1' }, 'mhs-tank')).errors).toEqual([
      expect.stringMatching(/^attributes\.substance: a major-hazard tank must name its substance/),
      expect.stringMatching(/^attributes\.design_max_t: the design maximum quantity/),
    ]);
    expect(
      mhsTankOf(device({ substance: 'ammonia', unit: 'tf-1', capacity_m3: 100 })).errors,
    ).toEqual([expect.stringMatching(/capacity_m3 and attributes\.density_t_m3: give both/)]);
  });
});

describe(mhsUnitsOf.name, () => {
  const site = (hazardUnits: unknown[]) => ({
    id: 'plant-1',
    areas: [{ id: 'tank-farm' }],
    hazardUnits,
  });
  const tankDevice = (deviceId: string, attributes: Record<string, string | number | boolean>) => ({
    siteId: 'plant-1',
    deviceId,
    deviceClass: 'mhs-tank',
    areaId: 'tank-farm',
    attributes,
  });

  it('groups tanks by unit with α from the exposed population or given', () => {
    const { units, errors } = mhsUnitsOf(
      site([
        {
          id: 'tf-1',
          name: 'Tank farm 1',
          kind: 'storage',
          area: 'tank-farm',
          exposedPopulation: 120,
        },
        { id: 'ru-1', name: 'Reactor unit', kind: 'production', alpha: 1.2 },
      ]),
      [
        tankDevice('tk-1', { substance: 'ammonia', unit: 'tf-1', design_max_t: 50 }),
        tankDevice('r-1', { substance: 'hydrogen', unit: 'ru-1', design_max_t: 6 }),
        { siteId: 'plant-1', deviceId: 'gc-1', areaId: undefined, attributes: { gas: 'CH4' } },
      ],
    );
    expect(errors).toEqual([]);
    expect(units.map(each => [each.unitId, each.alpha, each.tanks.map(t => t.deviceId)])).toEqual([
      ['tf-1', 2, ['tk-1']],
      ['ru-1', 1.2, ['r-1']],
    ]);
  });

  it('refuses what would grade wrongly, listing every problem', () => {
    const { errors } = mhsUnitsOf(
      site([
        { id: 'tf-1', name: 'TF', kind: 'storage', exposedPopulation: 10 },
        { id: 'tf-1', name: 'TF again', kind: 'storage', exposedPopulation: 10 },
        { id: 'u-2', name: 'Both', kind: 'storage', exposedPopulation: 10, alpha: 1 },
        { id: 'u-3', name: 'Neither', kind: 'storage' },
        { id: 'u-4', name: 'Odd α', kind: 'storage', alpha: 1.3 },
        { id: 'u-5', name: 'Nowhere', kind: 'production', area: 'no-such', alpha: 1 },
        { id: 'u-6', name: 'Typo', kind: 'storage', alpha: 1, exposedpopulation: 3 },
      ]),
      [
        tankDevice('tk-1', { substance: 'ammonia', design_max_t: 50 }),
        tankDevice('tk-2', { substance: 'ammonia', unit: 'tf-9', design_max_t: 50 }),
      ],
    );
    expect(errors).toEqual([
      'hazardUnits.tf-1: duplicate unit id',
      expect.stringMatching(/^hazardUnits\.u-2: give exactly one of exposedPopulation/),
      expect.stringMatching(/^hazardUnits\.u-3: give exactly one of exposedPopulation/),
      expect.stringMatching(/^hazardUnits\.u-4\.alpha: must be one of 2, 1\.5, 1\.2, 1, 0\.5/),
      'hazardUnits.u-5.area: "no-such" does not exist in site plant-1',
      expect.stringMatching(/^hazardUnits\.u-6: .*exposedpopulation/),
      expect.stringMatching(/^devices\.tk-1\.attributes\.unit: must name the production/),
      expect.stringMatching(
        /^devices\.tk-2\.attributes\.unit: "tf-9" is not a unit of site plant-1 \(hazardUnits: tf-1, u-5\)/,
      ),
    ]);
  });
});

describe(reduceMhsGrade.name, () => {
  const tankFarm = () =>
    unit('tf-1', 1, [tank('tk-nh3', 'ammonia', 50), tank('tk-meoh', 'methanol', 800)], 'tank-farm');
  const options = (extra: Partial<MhsGradeOptions> = {}): MhsGradeOptions => ({
    ...context,
    units: [tankFarm()],
    ...extra,
  });

  function run(readings: Reading[], extra: Partial<MhsGradeOptions> = {}) {
    const opts = options(extra);
    return runAll(createMhsGradeState(opts), readings, (state, input) =>
      reduceMhsGrade(state, input, opts),
    );
  }

  it('starts from the design maximum and follows the levels, one signal per live-grade change', () => {
    // Full: NH3 2 × 50/10 = 10, MeOH 1 × 800/500 = 1.6 → R 11.6: grade III.
    const signals = run([
      level('tk-nh3', 1_000, 100),
      level('tk-nh3', 2_000, 90), // R = 9 + 1.6 = 10.6: still grade III
      level('tk-nh3', 3_000, 40), // R = 4 + 1.6 = 5.6: grade IV
      level('tk-meoh', 4_000, 10), // S = 2 + 0.16 ≥ 1: grade IV
      level('tk-nh3', 5_000, 2), // S = 0.1 + 0.16 < 1: not a major hazard
    ]);
    expect(signals.map(each => [each.level, each.active, each.at])).toEqual([
      ['grade-3', false, 1_000],
      ['grade-4', false, 3_000],
      ['none', false, 5_000],
    ]);
    expect(signals[0]).toMatchObject({
      key: 'plant-1/tf-1/mhs-grade',
      ruleId: 'mhs-grade',
      category: 'warning',
      deviceId: 'tf-1',
      areaId: 'tank-farm',
      deviceClass: undefined,
      value: 11.6,
      threshold: 10,
      message:
        'tf-1: live index grade III (R = 11.6, S 6.6) from current levels; regulatory grade III at design maximum (R = 11.6, α 1) (GB 18218-2018)',
    });
    expect(signals[1]?.message).toBe(
      'tf-1: live index grade IV (R = 5.6, S 3.6) from current levels; regulatory grade III at design maximum (R = 11.6, α 1) (GB 18218-2018)',
    );
  });

  it('is active for live grades 1 and 2, with α from the unit', () => {
    const at = (alpha: number) => ({ units: [{ ...tankFarm(), alpha }] });
    expect(run([level('tk-nh3', 1_000, 100)], at(5))[0]).toMatchObject({
      level: 'grade-2',
      active: true,
      priority: 3,
      value: 58,
    });
    expect(run([level('tk-nh3', 1_000, 100)], at(10))[0]).toMatchObject({
      level: 'grade-1',
      active: true,
      priority: 2,
    });
  });

  it('grades each unit on its own', () => {
    const signals = run([level('tk-nh3', 1_000, 100), level('r-201', 2_000, 50)], {
      units: [
        unit('tf-1', 2, [tank('tk-nh3', 'ammonia', 50)]),
        unit('ru-1', 1.2, [tank('r-201', 'hydrogen', 2)]),
      ],
    });
    expect(signals.map(each => [each.key, each.level])).toEqual([
      ['plant-1/tf-1/mhs-grade', 'grade-3'], // 2 × 2 × 5 = 20
      ['plant-1/ru-1/mhs-grade', 'none'], // 1 t of H2: S 0.2
    ]);
  });

  it('ignores other devices and readings without a level', () => {
    expect(
      run([level('gc-1', 0, 100), classReading('mhs-tank', 'tk-nh3', 0, { temp_c: 20 })]),
    ).toEqual([]);
  });
});

describe(mhsGradeRule.name, () => {
  it('emits grade changes, passes errors through and completes with its source', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ cold, expectObservable }) => {
      const options: MhsGradeOptions = {
        ...context,
        units: [unit('tf-1', 1, [tank('tk-nh3', 'ammonia', 50)])],
      };
      const readings = cold('-a-b-c-#', {
        a: level('tk-nh3', 1, 100),
        b: level('tk-nh3', 2, 99),
        c: level('tk-nh3', 3, 40),
      });
      expectObservable(readings.pipe(mhsGradeRule(options))).toBe('-x---y-#', {
        x: expect.objectContaining({ level: 'grade-3' }),
        y: expect.objectContaining({ level: 'grade-4' }),
      } as Record<string, RuleSignal>);
      expectObservable(cold<Reading>('|').pipe(mhsGradeRule(options))).toBe('|');
    });
  });
});
