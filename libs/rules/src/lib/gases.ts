/**
 * The gases Vigil knows: identity (formula, names), molar mass and, for flammable gases, the lower
 * explosive limit. A registry's `gas` / `calibration_gas` attribute must name one of them (a closed
 * list: an unknown gas is refused at load, never assumed to be methane).
 *
 * - Molar masses (g/mol) are computed from IUPAC standard atomic weights (H 1.008, C 12.011,
 *   N 14.007, O 15.999, S 32.06, Cl 35.45, F 18.998); they feed `ppm = mg/m³ × 24.04 / M`
 *   (GBZ 2.1 convention at 20 °C, 101.3 kPa, domain-standards §0).
 * - LEL in %VOL in air: domain-standards §1.3 (textbook values, tag U: "verify per site SDS / the
 *   standard's appendix"); ethanol 3.3 %VOL is the same kind of textbook value (NIOSH Pocket
 *   Guide, U) and is not in domain-standards. Where sources give a range, the lowest value is used:
 *   a lower LEL reads more %LEL for the same %VOL, so the error is on the alarming side.
 *
 * The exposure limits of toxic gases stay in `toxic-gases.ts` (one table per standard); its molar
 * masses must agree with this table (checked by `gases.spec.ts`).
 */
export interface Gas {
  /** As written in the registry (matched case-insensitively, like every name below). */
  readonly formula: string;
  /** English name, then other accepted names (Chinese, common synonyms). */
  readonly names: readonly string[];
  /** g/mol. */
  readonly molarMass: number;
  /** Lower explosive limit, %VOL in air; absent for gases that are not flammable in air. */
  readonly lelPercentVol?: number;
}

export const GASES: readonly Gas[] = [
  // Flammable gases and vapours (LEL: domain-standards §1.3, U).
  {
    formula: 'CH4',
    names: ['methane', '甲烷', 'natural gas', '天然气'],
    molarMass: 16.043,
    lelPercentVol: 5.0,
  },
  { formula: 'C3H8', names: ['propane', '丙烷'], molarMass: 44.097, lelPercentVol: 2.1 },
  {
    formula: 'C4H10',
    names: ['butane', 'n-butane', '丁烷', '正丁烷'],
    molarMass: 58.124,
    lelPercentVol: 1.8,
  },
  { formula: 'H2', names: ['hydrogen', '氢气', '氢'], molarMass: 2.016, lelPercentVol: 4.0 },
  { formula: 'C2H4', names: ['ethylene', 'ethene', '乙烯'], molarMass: 28.054, lelPercentVol: 2.7 },
  {
    formula: 'C3H6',
    names: ['propylene', 'propene', '丙烯'],
    molarMass: 42.081,
    lelPercentVol: 2.0,
  },
  {
    formula: 'C2H2',
    names: ['acetylene', 'ethyne', '乙炔'],
    molarMass: 26.038,
    lelPercentVol: 2.5,
  },
  { formula: 'CH3OH', names: ['methanol', '甲醇'], molarMass: 32.042, lelPercentVol: 6.0 },
  { formula: 'C2H5OH', names: ['ethanol', '乙醇'], molarMass: 46.069, lelPercentVol: 3.3 },
  { formula: 'C6H6', names: ['benzene', '苯'], molarMass: 78.114, lelPercentVol: 1.2 },
  { formula: 'C7H8', names: ['toluene', '甲苯'], molarMass: 92.141, lelPercentVol: 1.1 },
  // Toxic gases that are also flammable (LEL: domain-standards §1.3, U).
  { formula: 'NH3', names: ['ammonia', '氨', '氨气'], molarMass: 17.031, lelPercentVol: 15 },
  { formula: 'CO', names: ['carbon monoxide', '一氧化碳'], molarMass: 28.01, lelPercentVol: 12.5 },
  {
    formula: 'H2S',
    names: ['hydrogen sulfide', 'hydrogen sulphide', '硫化氢'],
    molarMass: 34.076,
    lelPercentVol: 4.0,
  },
  // Toxic gases without an LEL in domain-standards (a combustible detector cannot name them).
  { formula: 'Cl2', names: ['chlorine', '氯气', '氯'], molarMass: 70.9 },
  { formula: 'HCN', names: ['hydrogen cyanide', '氰化氢'], molarMass: 27.026 },
  { formula: 'SO2', names: ['sulfur dioxide', 'sulphur dioxide', '二氧化硫'], molarMass: 64.058 },
  { formula: 'NO2', names: ['nitrogen dioxide', '二氧化氮'], molarMass: 46.005 },
  { formula: 'NO', names: ['nitric oxide', 'nitrogen monoxide', '一氧化氮'], molarMass: 30.006 },
  { formula: 'HF', names: ['hydrogen fluoride', '氟化氢'], molarMass: 20.006 },
  { formula: 'HCl', names: ['hydrogen chloride', '氯化氢'], molarMass: 36.458 },
  { formula: 'COCl2', names: ['phosgene', 'carbonyl chloride', '光气'], molarMass: 98.91 },
  { formula: 'CO2', names: ['carbon dioxide', '二氧化碳'], molarMass: 44.009 },
];

const BY_NAME = new Map<string, Gas>();
for (const gas of GASES) {
  for (const name of [gas.formula, ...gas.names]) BY_NAME.set(name.toUpperCase(), gas);
}

/** Finds a gas by formula (`C3H8`, `c3h8`), English or Chinese name (`propane`, `丙烷`). */
export function findGas(name: string): Gas | undefined {
  return BY_NAME.get(name.trim().toUpperCase());
}

/** Formulas of the known gases, for error messages; flammable ones only when asked. */
export function knownGases(flammableOnly = false): string {
  return GASES.filter(gas => !flammableOnly || gas.lelPercentVol !== undefined)
    .map(gas => `${gas.formula} (${gas.names[0]})`)
    .join(', ');
}
