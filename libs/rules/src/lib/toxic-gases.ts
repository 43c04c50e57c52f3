/**
 * Molar volume of an ideal gas at 20 °C and 101.3 kPa, L/mol: `ppm = mg/m³ × 24.04 / M`
 * (domain-standards §0 unit conventions; the conditions GBZ 2.1 limits are given at).
 */
export const MOLAR_VOLUME_L_PER_MOL = 24.04;

/** Confidence tags of domain-standards §0: V verified, S secondary, U unverified, P proposal. */
export type SourceTag = 'V' | 'S' | 'U' | 'P';

/** One GBZ 2.1-2019 occupational exposure limit (职业接触限值) as Vigil holds it. */
export interface ExposureLimit {
  /** mg/m³ at 20 °C, 101.3 kPa. */
  readonly mgPerM3: number;
  readonly tag: SourceTag;
}

export interface ToxicGas {
  /** Formula as written in the registry's `gas` attribute (matched case-insensitively). */
  readonly formula: string;
  readonly name: string;
  /** g/mol. */
  readonly molarMass: number;
  /** GBZ 2.1-2019 最高容许浓度 (MAC), when the gas has one. */
  readonly mac?: ExposureLimit;
  /** GBZ 2.1-2019 时间加权平均容许浓度 (PC-TWA, 8 h), when the gas has one. */
  readonly pcTwa?: ExposureLimit;
  /** GBZ 2.1-2019 短时间接触容许浓度 (PC-STEL, 15 min), when the gas has one. */
  readonly pcStel?: ExposureLimit;
  /**
   * The OEL the alarms use, mg/m³: MAC, else PC-TWA, else PC-STEL (GB/T 50493-2019 OEL priority,
   * domain-standards §1.1, S). L1 = 1 × OEL, L2 = 2 × OEL (GB/T 50493-2019 §5.5.2-3, V: L1
   * ≤ 100 % OEL, L2 ≤ 200 % OEL; the ceilings are used).
   */
  readonly oelMgPerM3: number;
  readonly oelKind: 'MAC' | 'PC-TWA' | 'PC-STEL';
  /** Where the numbers come from and what is left to verify. */
  readonly source: string;
}

/** The OEL of a gas by the priority MAC → PC-TWA → PC-STEL. */
export function oelOf(limits: Pick<ToxicGas, 'mac' | 'pcTwa' | 'pcStel'>): {
  readonly mgPerM3: number;
  readonly kind: ToxicGas['oelKind'];
} {
  if (limits.mac) return { mgPerM3: limits.mac.mgPerM3, kind: 'MAC' };
  if (limits.pcTwa) return { mgPerM3: limits.pcTwa.mgPerM3, kind: 'PC-TWA' };
  if (limits.pcStel) return { mgPerM3: limits.pcStel.mgPerM3, kind: 'PC-STEL' };
  throw new Error('a toxic gas needs at least one GBZ 2.1 limit');
}

/** domain-standards §1.2: the vendor table said to carry GB/T 50493-2019 / GBZ 2.1 values (S). */
const TABLE_1_2 = 'GBZ 2.1-2019 via domain-standards §1.2 (vendor table citing GB/T 50493-2019, S)';
/** domain-standards §1.2 cross-check: the same values quoted at a second site (S). */
const CROSS_CHECKED = `${TABLE_1_2}; cross-checked at a second source (§1.2, S)`;

function gas(
  formula: string,
  name: string,
  molarMass: number,
  limits: Pick<ToxicGas, 'mac' | 'pcTwa' | 'pcStel'>,
  source: string,
): ToxicGas {
  const oel = oelOf(limits);
  return {
    formula,
    name,
    molarMass,
    ...limits,
    oelMgPerM3: oel.mgPerM3,
    oelKind: oel.kind,
    source,
  };
}

const S = (mgPerM3: number): ExposureLimit => ({ mgPerM3, tag: 'S' });
const U = (mgPerM3: number): ExposureLimit => ({ mgPerM3, tag: 'U' });

/**
 * GBZ 2.1-2019 limits of the gases Vigil knows, each with its confidence. Every value was checked
 * against domain-standards §1.2; none against an official copy of GBZ 2.1-2019 (§10 item 1).
 * A limit GBZ 2.1 does not set for a gas is absent (NO has no PC-STEL there; HCN, HF, HCl, Cl2,
 * H2S, COCl2 have only a MAC).
 */
export const TOXIC_GASES: readonly ToxicGas[] = [
  gas('H2S', 'hydrogen sulfide', 34.08, { mac: S(10) }, CROSS_CHECKED),
  gas('CO', 'carbon monoxide', 28.01, { pcTwa: S(20), pcStel: S(30) }, CROSS_CHECKED),
  gas('Cl2', 'chlorine', 70.9, { mac: S(1) }, TABLE_1_2),
  gas('NH3', 'ammonia', 17.03, { pcTwa: S(20), pcStel: S(30) }, CROSS_CHECKED),
  gas('HCN', 'hydrogen cyanide', 27.03, { mac: S(1) }, TABLE_1_2),
  gas('SO2', 'sulfur dioxide', 64.07, { pcTwa: S(5), pcStel: S(10) }, TABLE_1_2),
  gas('NO2', 'nitrogen dioxide', 46.01, { pcTwa: S(5), pcStel: S(10) }, TABLE_1_2),
  gas(
    'NO',
    'nitric oxide',
    30.01,
    { pcTwa: U(15) },
    'GBZ 2.1-2019 PC-TWA 15 mg/m³ (issue 10; U: to verify against the official text). ' +
      'domain-standards §1.2 gives 5 / 10 mg/m³, the NO2 row repeated in the vendor table; ' +
      'GBZ 2.1 sets no PC-STEL for NO (to verify)',
  ),
  gas('C6H6', 'benzene', 78.11, { pcTwa: S(6), pcStel: S(10) }, TABLE_1_2),
  gas('HF', 'hydrogen fluoride', 20.01, { mac: S(2) }, TABLE_1_2),
  gas('HCl', 'hydrogen chloride', 36.46, { mac: S(7.5) }, TABLE_1_2),
  gas('COCl2', 'phosgene', 98.92, { mac: S(0.5) }, TABLE_1_2),
  gas('CH3OH', 'methanol', 32.04, { pcTwa: S(25), pcStel: S(50) }, TABLE_1_2),
  gas('C7H8', 'toluene', 92.14, { pcTwa: S(50), pcStel: S(100) }, TABLE_1_2),
  gas('CO2', 'carbon dioxide', 44.01, { pcTwa: S(9000), pcStel: S(18000) }, CROSS_CHECKED),
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
