import { GASES, findGas, knownGases } from './gases';
import { setpointRangeProblems } from './measuring-range';
import { suggestKey } from './suggest-key';
import { TOXIC_GASES } from './toxic-gases';
import { convertValue, deviceMeasurement, unitConversion, unitsConvertibleTo } from './units';

const convert = (value: number, from: string, to: string, gas?: string): number => {
  const result = unitConversion(from, to, gas === undefined ? undefined : findGas(gas));
  if ('problem' in result) throw new Error(result.problem);
  return result.conversion ? convertValue(value, result.conversion) : value;
};

describe('gas table', () => {
  it('finds gases by formula, English and Chinese name, in any case', () => {
    expect(findGas('propane')?.formula).toBe('C3H8');
    expect(findGas(' c3h8 ')?.formula).toBe('C3H8');
    expect(findGas('丙烷')?.formula).toBe('C3H8');
    expect(findGas('Methane')?.lelPercentVol).toBe(5.0);
    expect(findGas('unobtainium')).toBeUndefined();
  });

  it('holds the common combustible and toxic gases with LEL and molar mass (domain-standards §1.3)', () => {
    const lel = Object.fromEntries(GASES.map(gas => [gas.formula, gas.lelPercentVol]));
    expect(lel).toMatchObject({
      CH4: 5.0,
      C3H8: 2.1,
      C4H10: 1.8,
      H2: 4.0,
      C2H4: 2.7,
      C3H6: 2.0,
      C2H2: 2.5,
      NH3: 15,
      CO: 12.5,
      H2S: 4.0,
      CH3OH: 6.0,
      C6H6: 1.2,
      C7H8: 1.1,
    });
    expect(findGas('ethanol')?.lelPercentVol).toBe(3.3);
    expect(findGas('Cl2')?.lelPercentVol).toBeUndefined();
    expect(knownGases(true)).not.toContain('Cl2');
  });

  it('agrees with the OEL table on every toxic gas and its molar mass', () => {
    for (const toxic of TOXIC_GASES) {
      const gas = findGas(toxic.formula);
      expect(Math.abs((gas?.molarMass ?? 0) - toxic.molarMass)).toBeLessThan(0.02);
    }
  });
});

describe('unit conversions', () => {
  it('%VOL → %LEL by the gas: 2.5 %VOL methane = 50 %LEL, 1.2 %VOL propane ≈ 57 %LEL', () => {
    expect(convert(2.5, '%VOL', '%LEL', 'CH4')).toBeCloseTo(50, 10);
    expect(convert(1.2, '%vol', '%LEL', 'propane')).toBeCloseTo(57.14, 2);
    // Read as methane, the same propane would be 24 %LEL: below L1, which is why no gas is assumed.
    expect(convert(1.2, '%VOL', '%LEL', 'CH4')).toBeCloseTo(24, 10);
    expect(convert(5000, 'ppm', '%LEL', 'CH4')).toBeCloseTo(10, 10);
  });

  it('mg/m³ ↔ ppm by molar mass at 20 °C, 101.3 kPa (GBZ 2.1: ppm = mg/m³ × 24.04 / M)', () => {
    // H2S MAC 10 mg/m³ ≈ 7.05 ppm (domain-standards §1.2: ≈ 7.1).
    expect(convert(10, 'mg/m3', 'ppm', 'H2S')).toBeCloseTo(7.055, 3);
    expect(convert(10, 'mg/m³', 'ppm', 'H2S')).toBeCloseTo((10 * 24.04) / 34.076, 10);
    // NH3 20 mg/m³ ≈ 28.2 ppm, Cl2 1 mg/m³ ≈ 0.34 ppm (§1.2).
    expect(convert(20, 'mg/m3', 'ppm', 'NH3')).toBeCloseTo(28.2, 1);
    expect(convert(1, 'mg/m3', 'ppm', 'Cl2')).toBeCloseTo(0.34, 2);
    expect(convert(500, 'ppb', 'ppm')).toBeCloseTo(0.5, 10);
  });

  it('temperature, pressure and current', () => {
    expect(convert(212, 'degF', '°C')).toBeCloseTo(100, 10);
    expect(convert(273.15, 'K', '°C')).toBeCloseTo(0, 10);
    expect(convert(1.6, 'MPa', 'kPa')).toBeCloseTo(1600, 10);
    expect(convert(2, 'bar', 'kPa')).toBeCloseTo(200, 10);
    expect(convert(0.3, 'A', 'mA')).toBeCloseTo(300, 10);
    expect(convert(42, '%LEL', '%LEL')).toBe(42);
  });

  it('refuses unknown units and impossible conversions, listing what is known', () => {
    expect(unitConversion('%volume', '%LEL')).toEqual({
      problem: 'unknown unit "%volume" (convertible to %LEL: %LEL, %VOL, ppm)',
    });
    expect(unitConversion('mg/m3', '%LEL', findGas('CH4'))).toEqual({
      problem: 'cannot convert mg/m³ to %LEL (convertible to %LEL: %LEL, %VOL, ppm)',
    });
    expect(unitConversion('%VOL', '%LEL')).toMatchObject({
      problem: expect.stringMatching(/needs the device's flammable gas/),
    });
    expect(unitsConvertibleTo('ppm')).toEqual(['ppm', 'ppb', 'mg/m³', '%VOL']);
  });
});

describe(deviceMeasurement.name, () => {
  it('refuses a combustible detector that names no gas: methane is never assumed', () => {
    expect(deviceMeasurement('gas-combustible', { rangeHigh: 100 }).problems).toEqual([
      expect.stringMatching(/^attributes\.gas: a combustible-gas detector must name its gas/),
    ]);
    expect(deviceMeasurement('gas-combustible', { calibration_gas: 'CH4' }).problems).toEqual([]);
  });

  it('takes gas names, not only formulas (gas: propane used to dead-letter every reading)', () => {
    const measured = deviceMeasurement('gas-combustible', { gas: 'propane', unit_lel: '%VOL' });
    expect(measured.problems).toEqual([]);
    const [conversion] = measured.conversions;
    expect(conversion?.metric).toBe('lel');
    expect(conversion && convertValue(1.2, conversion)).toBeCloseTo(57.14, 2);
  });

  it('refuses unknown gases, gases without an LEL, unknown units and unknown metrics', () => {
    expect(
      deviceMeasurement('gas-combustible', { gas: 'swamp gas', unit_lel: '%VOL' }).problems,
    ).toEqual([
      expect.stringMatching(
        /^attributes\.gas: unknown gas "swamp gas" \(known flammable gases: CH4/,
      ),
      expect.stringMatching(/^attributes\.unit_lel: %VOL → %LEL needs the device's flammable gas/),
    ]);
    expect(deviceMeasurement('gas-combustible', { gas: 'Cl2' }).problems).toEqual([
      expect.stringMatching(/^attributes\.gas: Cl2 has no LEL/),
    ]);
    expect(deviceMeasurement('gas-toxic', { gas: 'H2S', unit_ppm: 'mg/m3' }).problems).toEqual([]);
    expect(deviceMeasurement('gas-toxic', { gas: 'H2S', unit_ppm: 'furlongs' }).problems).toEqual([
      'attributes.unit_ppm: unknown unit "furlongs" (convertible to ppm: ppm, ppb, mg/m³, %VOL)',
    ]);
    expect(deviceMeasurement('electrical-fire', { unit_volts: 'V' }).problems).toEqual([
      'attributes.unit_volts: volts is not a metric of electrical-fire, so it has no unit to convert to',
    ]);
    expect(deviceMeasurement('electrical-fire', { unit_temp_c_2: 'degF' }).conversions).toEqual([
      expect.objectContaining({ metric: 'temp_c_2', from: '°F', to: '°C' }),
    ]);
  });
});

describe(setpointRangeProblems.name, () => {
  const device = {
    deviceClass: 'gas-toxic' as const,
    attributes: { rangeLow: 0, rangeHigh: 20 },
    intervalSeconds: 5,
  };
  const rule = (setpoint: number, direction: 'high' | 'low' = 'high') => ({
    ruleId: 'gas-l2',
    kind: 'threshold' as const,
    metric: 'ppm',
    direction,
    setpoint,
    deadband: 1,
    onDelayMs: 0,
    offDelayMs: 0,
    latched: true,
    priority: 1 as const,
    category: 'process' as const,
    level: 'L2',
    enabled: true,
  });

  it('refuses a set-point the detector cannot report, accepts one at full scale', () => {
    expect(setpointRangeProblems(device, [rule(20)])).toEqual([]);
    expect(setpointRangeProblems(device, [rule(25)])).toEqual([
      expect.stringMatching(
        /^rules\.gas-l2\.setpoint: 25 is above the measuring range \(rangeHigh 20\)/,
      ),
    ]);
    expect(setpointRangeProblems(device, [rule(-1, 'low')])).toEqual([
      expect.stringMatching(/below the measuring range \(rangeLow 0\)/),
    ]);
    expect(setpointRangeProblems({ ...device, attributes: {} }, [rule(25)])).toEqual([]);
  });
});

describe(suggestKey.name, () => {
  it('finds the key a typo meant', () => {
    expect(suggestKey('minpeople', ['minPeople', 'enabled'])).toBe('minPeople');
    expect(suggestKey('setPoint', ['setpoint', 'deadband'])).toBe('setpoint');
    expect(suggestKey('crowdng', ['crowding', 'voting'])).toBe('crowding');
    expect(suggestKey('zzz', ['crowding'])).toBeUndefined();
  });
});
