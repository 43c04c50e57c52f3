import { defaultRules } from './default-rules';
import type { ThresholdRuleConfig } from './rule-config';
import { TOXIC_GASES, findToxicGas, mgPerM3ToPpm } from './toxic-gases';

/** The ≈ppm column of domain-standards §1.2 (AL = 1 × OEL), to check the table and the formula. */
const QUOTED_L1_PPM: Record<string, number> = {
  H2S: 7.1,
  CO: 17.2,
  Cl2: 0.34,
  NH3: 28.2,
  HCN: 0.89,
  SO2: 1.9,
  NO2: 2.6,
  NO: 4.0,
  C6H6: 1.85,
  HF: 2.4,
  HCl: 4.9,
  COCl2: 0.12,
  CH3OH: 18.8,
  C7H8: 13,
  CO2: 4900,
};

function toxicLevels(gas: string): { l1: ThresholdRuleConfig; l2: ThresholdRuleConfig } {
  const { rules, errors } = defaultRules({
    deviceClass: 'gas-toxic',
    attributes: { gas },
    intervalSeconds: 5,
  });
  expect(errors).toEqual([]);
  const byId = new Map(rules.map(rule => [rule.ruleId, rule]));
  const l1 = byId.get('gas-l1');
  const l2 = byId.get('gas-l2');
  if (l1?.kind !== 'threshold' || l2?.kind !== 'threshold') throw new Error('missing gas rules');
  return { l1, l2 };
}

describe(mgPerM3ToPpm.name, () => {
  it('converts the H2S MAC of 10 mg/m³ to about 7.05 ppm (20 °C, 101.3 kPa)', () => {
    expect(mgPerM3ToPpm(10, 34.08)).toBeCloseTo(7.054, 3);
  });

  it.each(TOXIC_GASES.map(gas => [gas.formula, gas] as const))(
    '%s: 1 × OEL matches the ppm quoted in domain-standards §1.2 within 2 %',
    (formula, gas) => {
      const quoted = QUOTED_L1_PPM[formula];
      expect(quoted).toBeDefined();
      const ppm = mgPerM3ToPpm(gas.oelMgPerM3, gas.molarMass);
      expect(Math.abs(ppm - (quoted ?? 0)) / (quoted ?? 1)).toBeLessThan(0.02);
    },
  );
});

describe(findToxicGas.name, () => {
  it('matches formulas case-insensitively and English names', () => {
    expect(findToxicGas('h2s')?.formula).toBe('H2S');
    expect(findToxicGas(' CL2 ')?.formula).toBe('Cl2');
    expect(findToxicGas('benzene')?.formula).toBe('C6H6');
    expect(findToxicGas('toluene')?.formula).toBe('C7H8');
  });

  it('knows no gas outside the table', () => {
    expect(findToxicGas('CH4')).toBeUndefined();
    expect(findToxicGas('')).toBeUndefined();
  });
});

describe('toxic-gas defaults', () => {
  it('sets H2S L1 at 1 × OEL and L2 at 2 × OEL in ppm, deadband 10 % of L1, L2 latched', () => {
    const { l1, l2 } = toxicLevels('H2S');
    expect(l1).toMatchObject({ metric: 'ppm', direction: 'high', latched: false, priority: 2 });
    expect(l1.setpoint).toBeCloseTo(7.054, 3);
    expect(l2).toMatchObject({ metric: 'ppm', direction: 'high', latched: true, priority: 1 });
    expect(l2.setpoint).toBeCloseTo(14.108, 3);
    expect(l1.deadband).toBeCloseTo(0.7054, 4);
    expect(l2.deadband).toBeCloseTo(l1.deadband, 10);
    expect(l1.label).toBe('H2S');
  });

  it('uses the PC-TWA where the gas has no MAC (CO 20 mg/m³ ≈ 17.2 ppm)', () => {
    expect(toxicLevels('CO').l1.setpoint).toBeCloseTo(17.17, 2);
  });
});
