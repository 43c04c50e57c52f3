/**
 * Molar volume of an ideal gas at 20 °C and 101.3 kPa, L/mol: `ppm = mg/m³ × 24.04 / M`
 * (domain-standards §0 unit conventions; the conditions GBZ 2.1 limits are given at).
 */
export const MOLAR_VOLUME_L_PER_MOL = 24.04;

export interface ToxicGas {
  /** Formula as written in the registry's `gas` attribute (matched case-insensitively). */
  readonly formula: string;
  readonly name: string;
  /** g/mol. */
  readonly molarMass: number;
  /**
   * Occupational exposure limit used for alarms, mg/m³: MAC, else PC-TWA, else PC-STEL
   * (GB/T 50493-2019, per-gas table in domain-standards §1.2).
   */
  readonly oelMgPerM3: number;
  readonly oelKind: 'MAC' | 'PC-TWA';
}

/** GB/T 50493-2019 per-gas OEL table as quoted in domain-standards §1.2 (tag S: vendor table). */
export const TOXIC_GASES: readonly ToxicGas[] = [
  { formula: 'H2S', name: 'hydrogen sulfide', molarMass: 34.08, oelMgPerM3: 10, oelKind: 'MAC' },
  { formula: 'CO', name: 'carbon monoxide', molarMass: 28.01, oelMgPerM3: 20, oelKind: 'PC-TWA' },
  { formula: 'Cl2', name: 'chlorine', molarMass: 70.9, oelMgPerM3: 1, oelKind: 'MAC' },
  { formula: 'NH3', name: 'ammonia', molarMass: 17.03, oelMgPerM3: 20, oelKind: 'PC-TWA' },
  { formula: 'HCN', name: 'hydrogen cyanide', molarMass: 27.03, oelMgPerM3: 1, oelKind: 'MAC' },
  { formula: 'SO2', name: 'sulfur dioxide', molarMass: 64.07, oelMgPerM3: 5, oelKind: 'PC-TWA' },
  { formula: 'NO2', name: 'nitrogen dioxide', molarMass: 46.01, oelMgPerM3: 5, oelKind: 'PC-TWA' },
  { formula: 'NO', name: 'nitric oxide', molarMass: 30.01, oelMgPerM3: 5, oelKind: 'PC-TWA' },
  { formula: 'C6H6', name: 'benzene', molarMass: 78.11, oelMgPerM3: 6, oelKind: 'PC-TWA' },
  { formula: 'HF', name: 'hydrogen fluoride', molarMass: 20.01, oelMgPerM3: 2, oelKind: 'MAC' },
  { formula: 'HCl', name: 'hydrogen chloride', molarMass: 36.46, oelMgPerM3: 7.5, oelKind: 'MAC' },
  { formula: 'COCl2', name: 'phosgene', molarMass: 98.92, oelMgPerM3: 0.5, oelKind: 'MAC' },
  { formula: 'CH3OH', name: 'methanol', molarMass: 32.04, oelMgPerM3: 25, oelKind: 'PC-TWA' },
  { formula: 'C7H8', name: 'toluene', molarMass: 92.14, oelMgPerM3: 50, oelKind: 'PC-TWA' },
  { formula: 'CO2', name: 'carbon dioxide', molarMass: 44.01, oelMgPerM3: 9000, oelKind: 'PC-TWA' },
];

const BY_NAME = new Map<string, ToxicGas>();
for (const gas of TOXIC_GASES) {
  BY_NAME.set(gas.formula.toUpperCase(), gas);
  BY_NAME.set(gas.name.toUpperCase(), gas);
}

/** Finds a gas by formula (`H2S`, `h2s`) or English name (`benzene`). */
export function findToxicGas(gas: string): ToxicGas | undefined {
  return BY_NAME.get(gas.trim().toUpperCase());
}

/** mg/m³ → ppm at 20 °C, 101.3 kPa (domain-standards §0): H2S 10 mg/m³ ≈ 7.05 ppm. */
export function mgPerM3ToPpm(mgPerM3: number, molarMass: number): number {
  return (mgPerM3 * MOLAR_VOLUME_L_PER_MOL) / molarMass;
}
