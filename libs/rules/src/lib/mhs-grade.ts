import type { AlarmPriority, Reading, RuleSignal } from '@vigil/contracts';

import {
  NO_SIGNALS,
  type RuleContext,
  type RuleStep,
  formatNumber,
  numericValue,
  ruleSignal,
} from './rule-signal';

/**
 * Major hazard installation (重大危险源) grade from live tank inventories, GB 18218-2018 with the
 * grading method of MEM Decree 40 Annex 1 (domain-standards §3.1):
 *
 * `R = α × Σ βᵢ · qᵢ / Qᵢ`, q = actual quantity (t), Q = critical quantity (t);
 * grade 1 R ≥ 100, grade 2 100 > R ≥ 50, grade 3 50 > R ≥ 10, grade 4 R < 10 (V).
 * A unit is a major hazard installation only while `S = Σ qᵢ / Qᵢ ≥ 1` (GB 18218-2018 §4.1
 * identification, U): below that it has no grade.
 */
export interface HazardousSubstance {
  /** Canonical name, as the registry's `substance` attribute gives it (any case). */
  readonly name: string;
  readonly aliases: readonly string[];
  /** Critical quantity Q in tonnes (GB 18218-2018 Table 1). */
  readonly criticalT: number;
  /** Correction factor β (Decree 40 Annex 1: toxic gases by table, flammable gas 1.5, other 1). */
  readonly beta: number;
  /** Confidence of Q in domain-standards §3.1 (V verified, S secondary, U unverified). */
  readonly criticalTag: 'V' | 'S' | 'U';
}

/**
 * The reference table, kept as data (domain-standards §3.1 asks for a versioned table, not code
 * constants). β of toxic gases is V; Q values are tagged as the reference tags them: check them
 * against the official GB 18218-2018 Table 1 before a regulatory report (§10 item 8).
 */
export const HAZARDOUS_SUBSTANCES: readonly HazardousSubstance[] = [
  { name: 'ammonia', aliases: ['NH3', '液氨', '氨'], criticalT: 10, beta: 2, criticalTag: 'S' },
  { name: 'chlorine', aliases: ['Cl2', '氯', '氯气'], criticalT: 5, beta: 4, criticalTag: 'U' },
  { name: 'hydrogen', aliases: ['H2', '氢', '氢气'], criticalT: 5, beta: 1.5, criticalTag: 'U' },
  { name: 'methanol', aliases: ['CH3OH', '甲醇'], criticalT: 500, beta: 1, criticalTag: 'U' },
  {
    name: 'LPG',
    aliases: ['liquefied petroleum gas', '液化石油气'],
    criticalT: 50,
    beta: 1.5,
    criticalTag: 'U',
  },
  {
    name: 'methane',
    aliases: ['CH4', 'natural gas', '甲烷', '天然气'],
    criticalT: 50,
    beta: 1.5,
    criticalTag: 'S',
  },
  { name: 'propane', aliases: ['C3H8', '丙烷'], criticalT: 50, beta: 1.5, criticalTag: 'S' },
  { name: 'hydrogen sulfide', aliases: ['H2S', '硫化氢'], criticalT: 5, beta: 5, criticalTag: 'U' },
  {
    name: 'hydrogen cyanide',
    aliases: ['HCN', '氰化氢'],
    criticalT: 1,
    beta: 10,
    criticalTag: 'U',
  },
  {
    name: 'nitrogen dioxide',
    aliases: ['NO2', '二氧化氮'],
    criticalT: 1,
    beta: 10,
    criticalTag: 'S',
  },
  { name: 'benzene', aliases: ['C6H6', '苯'], criticalT: 50, beta: 1, criticalTag: 'U' },
  { name: 'gasoline', aliases: ['petrol', '汽油'], criticalT: 200, beta: 1, criticalTag: 'U' },
];

const SUBSTANCE_BY_NAME = new Map<string, HazardousSubstance>();
for (const substance of HAZARDOUS_SUBSTANCES) {
  for (const name of [substance.name, ...substance.aliases]) {
    SUBSTANCE_BY_NAME.set(name.trim().toUpperCase(), substance);
  }
}

export function findSubstance(name: string): HazardousSubstance | undefined {
  return SUBSTANCE_BY_NAME.get(name.trim().toUpperCase());
}

/** Grade boundaries on R, most severe first (Decree 40 Annex 1, V). */
export const MHS_GRADE_BOUNDS: readonly [number, number, number] = [100, 50, 10];
/** Default α: 1–29 people within 500 m (Decree 40 Annex 1, V); sites give theirs. */
export const DEFAULT_MHS_ALPHA = 1;
/**
 * A grade eases (the number goes up) only when R is 2 % below the boundary, so that a tank level
 * wandering around a boundary does not flap the grade (P). Worsening acts at the boundary.
 */
export const MHS_GRADE_HYSTERESIS = 0.02;

/** 1 (most severe) … 4, or undefined when S < 1 (not a major hazard installation). */
export type MhsGrade = 1 | 2 | 3 | 4 | undefined;

export interface MhsIndex {
  /** R = α Σ β q / Q */
  readonly r: number;
  /** S = Σ q / Q (≥ 1: a major hazard installation) */
  readonly s: number;
}

export interface TankInventory {
  readonly substance: HazardousSubstance;
  /** Actual quantity q in tonnes. */
  readonly quantityT: number;
}

/** R and S of a unit's inventories (pure). */
export function mhsIndex(
  tanks: Iterable<TankInventory>,
  alpha: number = DEFAULT_MHS_ALPHA,
): MhsIndex {
  let weighted = 0;
  let s = 0;
  for (const { substance, quantityT } of tanks) {
    const ratio = Math.max(0, quantityT) / substance.criticalT;
    s += ratio;
    weighted += substance.beta * ratio;
  }
  return { r: alpha * weighted, s };
}

/**
 * The grade for an index. With `previous`, a grade eases only once R is `hysteresis` (fraction)
 * below the boundary it crossed, and S below 1 − hysteresis; it worsens at the boundary itself.
 */
export function mhsGrade(
  index: MhsIndex,
  previous?: MhsGrade,
  hysteresis: number = MHS_GRADE_HYSTERESIS,
): MhsGrade {
  const plain = gradeOf(index.r, index.s);
  // No grade before (or "not a major hazard"), or the same or a worse grade: at the boundary.
  if (previous === undefined || (plain !== undefined && plain <= previous)) return plain;
  // Easing: the grade R and S give with the boundaries moved down by the hysteresis. It lies
  // between the previous and the plain grade (the boundaries are ≥ 2× apart).
  return gradeOf(index.r / (1 - hysteresis), index.s / (1 - hysteresis));
}

function gradeOf(r: number, s: number): MhsGrade {
  if (s < 1) return undefined;
  const [g1, g2, g3] = MHS_GRADE_BOUNDS;
  if (r >= g1) return 1;
  if (r >= g2) return 2;
  if (r >= g3) return 3;
  return 4;
}

/** A registry tank with what the grade needs. */
export interface MhsTank {
  readonly siteId: string;
  readonly deviceId: string;
  readonly areaId: string | undefined;
  readonly substance: HazardousSubstance;
  /** Design capacity in tonnes (attribute `capacityT`): q = level_pct / 100 × capacityT. */
  readonly capacityT: number;
}

/**
 * Reads a registry device's tank attributes (`substance`, `capacityT`). Returns the tank, nothing
 * for a device that is not a hazardous-substance tank (no `substance` attribute), or errors (one
 * per line) for attributes that are present but wrong: the registry should refuse to start.
 */
export function mhsTankOf(device: {
  readonly siteId: string;
  readonly deviceId: string;
  readonly areaId: string | undefined;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}): { readonly tank?: MhsTank; readonly errors: readonly string[] } {
  const substanceName = device.attributes['substance'];
  if (substanceName === undefined) return { errors: [] };
  const errors: string[] = [];
  const substance = typeof substanceName === 'string' ? findSubstance(substanceName) : undefined;
  if (!substance) {
    const known = HAZARDOUS_SUBSTANCES.map(each => each.name).join(', ');
    errors.push(
      `attributes.substance: no critical quantity is known for "${String(substanceName)}" (known: ${known})`,
    );
  }
  const capacity = device.attributes['capacityT'];
  if (typeof capacity !== 'number' || !Number.isFinite(capacity) || capacity <= 0) {
    errors.push(
      `attributes.capacityT: must be a positive number of tonnes (got ${JSON.stringify(capacity)})`,
    );
  }
  if (!substance || errors.length > 0) return { errors };
  return {
    tank: {
      siteId: device.siteId,
      deviceId: device.deviceId,
      areaId: device.areaId,
      substance,
      capacityT: capacity as number,
    },
    errors,
  };
}

// ---- The live grade over a stream of tank readings ----

/** Options of the grade reducer and operator. */
export interface MhsGradeOptions extends RuleContext {
  /** Every hazardous-substance tank of the registry (`mhsTankOf`), known up front. */
  readonly tanks: Iterable<MhsTank>;
  /** Grade per site (default) or per area (the area as the GB 18218 unit). */
  readonly unitOf?: 'site' | 'area';
  /** α of a site (population within 500 m); default 1.0. */
  readonly alphaOf?: (siteId: string) => number | undefined;
  readonly hysteresis?: number;
}

interface TankSlot {
  readonly tank: MhsTank;
  readonly unit: UnitState;
  /** Tonnes; the design capacity until the first level reading (the static, worst-case grade). */
  quantityT: number;
}

interface UnitState {
  readonly siteId: string;
  readonly unitId: string;
  readonly areaId: string | undefined;
  readonly tanks: TankSlot[];
  /** The grade last emitted; `null` before the first emission. */
  grade: MhsGrade | null;
}

export interface MhsGradeState {
  /**
   * siteId → deviceId → tank (built once). Every reading of the site passes here, most of them
   * not from tanks: two lookups and no key string per reading.
   */
  readonly tanks: Map<string, Map<string, TankSlot>>;
}

export function createMhsGradeState(options: MhsGradeOptions): MhsGradeState {
  const tanks = new Map<string, Map<string, TankSlot>>();
  const units = new Map<string, UnitState>();
  for (const tank of options.tanks) {
    const byArea = options.unitOf === 'area' && tank.areaId !== undefined;
    const unitId = byArea ? (tank.areaId as string) : tank.siteId;
    const unitKey = `${tank.siteId}/${unitId}`;
    let unit = units.get(unitKey);
    if (!unit) {
      unit = {
        siteId: tank.siteId,
        unitId,
        areaId: byArea ? unitId : undefined,
        tanks: [],
        grade: null,
      };
      units.set(unitKey, unit);
    }
    const slot: TankSlot = { tank, unit, quantityT: tank.capacityT };
    unit.tanks.push(slot);
    let site = tanks.get(tank.siteId);
    if (!site) tanks.set(tank.siteId, (site = new Map()));
    site.set(tank.deviceId, slot);
  }
  return { tanks };
}

/**
 * One tank reading: updates the tank's quantity from `level_pct` and recomputes its unit's grade.
 * Emits one signal (rule `mhs-grade`, category `warning`) for the unit's first reading and for every
 * grade change after it; nothing when the grade stays. `active` is true for grades 1 and 2 (the
 * grades with the heaviest duties: SIS, emergency shut-off, Decree 40 §13, domain-standards §3.2),
 * false for grades 3, 4 and "not a major hazard". Consecutive signals may both be active (2 → 1):
 * this is a change stream, `level` carries the grade. Tanks without a reading yet count at their
 * design capacity, so the first grade is the static (worst-case) one and readings refine it.
 * Readings of other devices, and without a numeric `level_pct`, change nothing.
 */
export function reduceMhsGrade(
  state: MhsGradeState,
  reading: Reading,
  options: MhsGradeOptions,
): RuleStep<MhsGradeState> {
  const slot = state.tanks.get(reading.siteId)?.get(reading.deviceId);
  const level = numericValue(reading, 'level_pct');
  if (!slot || level === undefined) return { state, signals: NO_SIGNALS };
  slot.quantityT = (Math.min(100, Math.max(0, level)) / 100) * slot.tank.capacityT;
  const unit = slot.unit;
  const alpha = options.alphaOf?.(unit.siteId) ?? DEFAULT_MHS_ALPHA;
  const index = mhsIndex(
    unit.tanks.map(each => ({ substance: each.tank.substance, quantityT: each.quantityT })),
    alpha,
  );
  const previous = unit.grade;
  const grade = mhsGrade(index, previous ?? undefined, options.hysteresis ?? MHS_GRADE_HYSTERESIS);
  if (previous !== null && grade === previous) return { state, signals: NO_SIGNALS };
  unit.grade = grade;
  return { state, signals: [gradeSignal(unit, grade, index, alpha, reading.ts, options)] };
}

function gradeSignal(
  unit: UnitState,
  grade: MhsGrade,
  index: MhsIndex,
  alpha: number,
  at: number,
  context: RuleContext,
): RuleSignal {
  const level = grade === undefined ? 'none' : `grade-${grade}`;
  const priority: AlarmPriority = grade === 1 ? 2 : grade === 2 ? 3 : 4;
  const bound = grade === undefined ? 1 : grade === 4 ? undefined : MHS_GRADE_BOUNDS[grade - 1];
  const what =
    grade === undefined
      ? `not a major hazard installation (S = Σq/Q ${formatNumber(index.s)} < 1)`
      : `major hazard grade ${grade} (R = ${formatNumber(index.r)}, α ${formatNumber(alpha)}, ` +
        `S ${formatNumber(index.s)})`;
  return ruleSignal(
    { siteId: unit.siteId, deviceId: unit.unitId, deviceClass: undefined, areaId: unit.areaId },
    { ruleId: 'mhs-grade', category: 'warning', priority, level, latched: false, metric: 'mhs_r' },
    grade !== undefined && grade <= 2,
    at,
    context,
    {
      value: Number(index.r.toPrecision(6)),
      threshold: bound,
      message: `${unit.unitId}: ${what} from live tank inventories (GB 18218-2018)`,
    },
  );
}
