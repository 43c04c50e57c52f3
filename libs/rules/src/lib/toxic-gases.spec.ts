import { defaultRules } from './default-rules';
import type { ThresholdRuleConfig } from './rule-config';
import { TOXIC_GASES, findToxicGas, mgPerM3ToPpm, oelOf } from './toxic-gases';

/**
 * The ≈ppm column of domain-standards §1.2 (AL = 1 × OEL), to check the table and the formula.
 * NO is the exception: §1.2 repeats the NO2 row (5 mg/m³ ≈ 4.0 ppm); GBZ 2.1-2019 gives PC-TWA
 * 15 mg/m³ ≈ 12.0 ppm (issue 10).
 */
const QUOTED_L1_PPM: Record<string, number> = {
  H2S: 7.1,
  CO: 17.2,
  Cl2: 0.34,
  NH3: 28.2,
  HCN: 0.89,
  SO2: 1.9,
  NO2: 2.6,
  NO: 12.0,
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

describe('OEL table (GBZ 2.1-2019)', () => {
  /** GBZ 2.1-2019 limits, mg/m³, as domain-standards §1.2 lists them ([MAC, PC-TWA, PC-STEL]). */
  const REFERENCE: Record<string, readonly [number?, number?, number?]> = {
    H2S: [10],
    CO: [undefined, 20, 30],
    Cl2: [1],
    NH3: [undefined, 20, 30],
    HCN: [1],
    SO2: [undefined, 5, 10],
    NO2: [undefined, 5, 10],
    C6H6: [undefined, 6, 10],
    HF: [2],
    HCl: [7.5],
    COCl2: [0.5],
    CH3OH: [undefined, 25, 50],
    C7H8: [undefined, 50, 100],
    CO2: [undefined, 9000, 18000],
  };

  it.each(Object.entries(REFERENCE))(
    '%s carries the reference MAC / PC-TWA / PC-STEL',
    (formula, limits) => {
      const gas = findToxicGas(formula);
      const [mac, twa, stel] = limits;
      expect(gas?.mac?.mgPerM3).toBe(mac);
      expect(gas?.pcTwa?.mgPerM3).toBe(twa);
      expect(gas?.pcStel?.mgPerM3).toBe(stel);
    },
  );

  it('NO: PC-TWA 15 mg/m³ (GBZ 2.1-2019), not the 5 mg/m³ of the NO2 row; flagged to verify', () => {
    const no = findToxicGas('NO');
    expect(no).toMatchObject({
      oelMgPerM3: 15,
      oelKind: 'PC-TWA',
      pcTwa: { mgPerM3: 15, tag: 'U' },
    });
    expect(no?.pcStel).toBeUndefined();
    expect(no?.source).toMatch(/to verify/);
    // L1 = 15 mg/m³ × 24.04 / 30.01 ≈ 12.0 ppm, L2 ≈ 24.0 ppm
    const { l1, l2 } = toxicLevels('NO');
    expect(l1.setpoint).toBeCloseTo(12.016, 2);
    expect(l2.setpoint).toBeCloseTo(24.032, 2);
  });

  it('uses MAC, else PC-TWA, else PC-STEL (GB/T 50493-2019 OEL priority) and cites every entry', () => {
    expect(oelOf({ mac: { mgPerM3: 1, tag: 'S' }, pcTwa: { mgPerM3: 2, tag: 'S' } })).toEqual({
      mgPerM3: 1,
      kind: 'MAC',
    });
    expect(oelOf({ pcStel: { mgPerM3: 3, tag: 'U' } })).toEqual({ mgPerM3: 3, kind: 'PC-STEL' });
    expect(() => oelOf({})).toThrow();
    for (const gas of TOXIC_GASES) {
      const chosen = gas.mac ?? gas.pcTwa ?? gas.pcStel;
      expect(gas.oelMgPerM3).toBe(chosen?.mgPerM3);
      expect(gas.oelKind).toBe(gas.mac ? 'MAC' : gas.pcTwa ? 'PC-TWA' : 'PC-STEL');
      expect(gas.source).toMatch(/GBZ 2\.1-2019/);
      for (const limit of [gas.mac, gas.pcTwa, gas.pcStel])
        if (limit) expect(['V', 'S', 'U']).toContain(limit.tag);
      // GB/T 50493-2019 §5.5.2-3: L1 ≤ 100 % OEL, L2 ≤ 200 % OEL; the ceilings are the defaults.
      const { l1, l2 } = toxicLevels(gas.formula);
      expect(l1.setpoint).toBeCloseTo(mgPerM3ToPpm(gas.oelMgPerM3, gas.molarMass), 10);
      expect(l2.setpoint).toBeCloseTo(mgPerM3ToPpm(2 * gas.oelMgPerM3, gas.molarMass), 10);
    }
  });
});
