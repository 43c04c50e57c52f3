import { TestScheduler } from 'rxjs/testing';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { context, runAll } from '../testing/fixtures';
import { classReading } from '../testing/records';
import {
  type MhsGradeOptions,
  type MhsTank,
  createMhsGradeState,
  findSubstance,
  mhsGrade,
  mhsIndex,
  mhsTankOf,
  reduceMhsGrade,
} from './mhs-grade';
import { mhsGradeRule } from './mhs-grade.operator';

function tank(
  deviceId: string,
  substance: string,
  capacityT: number,
  areaId = 'tank-farm',
): MhsTank {
  const found = findSubstance(substance);
  if (!found) throw new Error(substance);
  return { siteId: 'plant-1', deviceId, areaId, substance: found, capacityT };
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

describe(mhsTankOf.name, () => {
  const device = (attributes: Record<string, string | number | boolean>) => ({
    siteId: 'plant-1',
    deviceId: 'tk-1',
    areaId: 'tank-farm',
    attributes,
  });

  it('reads substance and capacity, and names what is wrong', () => {
    expect(mhsTankOf(device({ substance: 'ammonia', capacityT: 50 })).tank).toMatchObject({
      capacityT: 50,
      substance: { name: 'ammonia' },
    });
    expect(mhsTankOf(device({})).tank).toBeUndefined();
    expect(mhsTankOf(device({})).errors).toEqual([]);
    expect(mhsTankOf(device({ substance: 'unobtainium', capacityT: -1 })).errors).toEqual([
      expect.stringMatching(
        /^attributes\.substance: no critical quantity is known for "unobtainium"/,
      ),
      'attributes.capacityT: must be a positive number of tonnes (got -1)',
    ]);
  });
});

describe(reduceMhsGrade.name, () => {
  const options = (extra: Partial<MhsGradeOptions> = {}): MhsGradeOptions => ({
    ...context,
    tanks: [tank('tk-nh3', 'ammonia', 50), tank('tk-meoh', 'methanol', 800)],
    ...extra,
  });

  function run(readings: Reading[], extra: Partial<MhsGradeOptions> = {}) {
    const opts = options(extra);
    return runAll(createMhsGradeState(opts), readings, (state, input) =>
      reduceMhsGrade(state, input, opts),
    );
  }

  it('starts from the design inventory and follows the levels, one signal per grade change', () => {
    // Full: NH3 2 × 50/10 = 10, MeOH 1 × 800/500 = 1.6 → R 11.6: grade 3.
    const signals = run([
      level('tk-nh3', 1_000, 100),
      level('tk-nh3', 2_000, 90), // R = 9 + 1.6 = 10.6: still grade 3
      level('tk-nh3', 3_000, 40), // R = 4 + 1.6 = 5.6: grade 4
      level('tk-meoh', 4_000, 10), // S = 2 + 0.16 ≥ 1: grade 4
      level('tk-nh3', 5_000, 2), // S = 0.1 + 0.16 < 1: not a major hazard
    ]);
    expect(signals.map(each => [each.level, each.active, each.at])).toEqual([
      ['grade-3', false, 1_000],
      ['grade-4', false, 3_000],
      ['none', false, 5_000],
    ]);
    expect(signals[0]).toMatchObject({
      key: 'plant-1/plant-1/mhs-grade',
      ruleId: 'mhs-grade',
      category: 'warning',
      deviceId: 'plant-1',
      deviceClass: undefined,
      value: 11.6,
      threshold: 10,
      message:
        'plant-1: major hazard grade 3 (R = 11.6, α 1, S 6.6) from live tank inventories (GB 18218-2018)',
    });
  });

  it('is active for grades 1 and 2, with α from the site', () => {
    const signals = run([level('tk-nh3', 1_000, 100)], { alphaOf: () => 5 });
    expect(signals[0]).toMatchObject({ level: 'grade-2', active: true, priority: 3, value: 58 });
    const grade1 = run([level('tk-nh3', 1_000, 100)], { alphaOf: () => 10 });
    expect(grade1[0]).toMatchObject({ level: 'grade-1', active: true, priority: 2 });
  });

  it('grades each area as its own unit when asked', () => {
    const signals = run([level('tk-nh3', 1_000, 100), level('tk-r', 2_000, 50)], {
      unitOf: 'area',
      tanks: [tank('tk-nh3', 'ammonia', 50), tank('tk-r', 'hydrogen', 2, 'reactor-unit')],
    });
    expect(signals.map(each => [each.key, each.level])).toEqual([
      ['plant-1/tank-farm/mhs-grade', 'grade-3'],
      ['plant-1/reactor-unit/mhs-grade', 'none'], // 1 t of H2: S 0.2
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
      const options: MhsGradeOptions = { ...context, tanks: [tank('tk-nh3', 'ammonia', 50)] };
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
