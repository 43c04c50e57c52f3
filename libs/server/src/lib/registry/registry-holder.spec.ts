import { join } from 'node:path';

import { loadRegistry } from '@vigil/registry';
import { mhsRegulatory } from '@vigil/rules';

import { registryMhsUnits } from './registry-holder';

const SAMPLE = join(__dirname, '../../../../../registry/sample');

describe(registryMhsUnits.name, () => {
  it('grades the sample site per GB 18218-2018 unit, once per registry', () => {
    const registry = loadRegistry(SAMPLE);
    const units = registryMhsUnits(registry);
    expect(registryMhsUnits(registry)).toBe(units);
    expect(
      units.map(unit => {
        const { index, grade } = mhsRegulatory(unit);
        return [unit.unitId, unit.alpha, unit.tanks.map(tank => tank.deviceId), grade, index.r];
      }),
    ).toEqual([
      // 120 people → α 2: 2 × (2 × 50/10 + 800/500) = 23.2 → grade III
      ['tank-farm-1', 2, ['tk-101', 'tk-102'], 3, expect.closeTo(23.2, 10)],
      // 40 people → α 1.2; 2 t of hydrogen: S = 0.4 < 1, not a major hazard installation
      ['reactor-unit-1', 1.2, ['r-201'], undefined, expect.closeTo(0.72, 10)],
    ]);
  });
});
