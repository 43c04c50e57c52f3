import { z } from 'zod';

import {
  IDENTIFIER_PATTERN,
  guarantorsSchema,
  type AlarmPriority,
  type Reading,
  type RuleSignal,
} from '@vigil/contracts';

import {
  NO_SIGNALS,
  type RuleContext,
  type RuleStep,
  formatNumber,
  numericValue,
  ruleSignal,
} from './rule-signal';

/**
 * Major hazard installation (重大危险源) grade per production or storage unit (生产单元 / 储存单元),
 * GB 18218-2018 §4.2 with the grading method of MEM Decree 40 Annex 1 (domain-standards §3.1):
 *
 * `R = α × Σ βᵢ · qᵢ / Qᵢ`, Q = critical quantity (t), α from the people exposed within 500 m;
 * grade I R ≥ 100, grade II 100 > R ≥ 50, grade III 50 > R ≥ 10, grade IV R < 10 (V).
 * A unit is a major hazard installation only while `S = Σ qᵢ / Qᵢ ≥ 1` (GB 18218-2018 §4.1
 * identification, U): below that it has no grade.
 *
 * Two figures per unit, never mixed: the **regulatory grade** takes q of every tank at its design
 * maximum (GB 18218-2018: 储罐…实际存在量按设计最大量确定; the clause text is not in the reference
 * file: U, issue 10), fixed per registry; the **live index** takes q from current levels
 * (operational, P: no standard grades on live levels).
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
export function mhsIndex(tanks: Iterable<TankInventory>, alpha: number): MhsIndex {
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

/** GB 18218-2018 §4.2: a major hazard source is identified and graded per unit (单元). */
export const MHS_UNIT_KINDS = ['production', 'storage'] as const;
export type MhsUnitKind = (typeof MHS_UNIT_KINDS)[number];

/**
 * α, the correction for people exposed (可能暴露人员), by the number within 500 m
 * (Decree 40 Annex 1 / GB 18218-2018 Table 4; domain-standards §3.1, V; the reference counts them
 * from the plant boundary, 厂区边界: a unit that has no count of its own carries its site's):
 * 100 or more → 2.0, 50–99 → 1.5, 30–49 → 1.2, 1–29 → 1.0, 0 → 0.5.
 * The reference writes "> 100"; the standard's table reads "100 人以上" beside "50～99 人", so 100
 * itself is 2.0 (otherwise 100 would fall in no row).
 */
export const MHS_ALPHA_TABLE: ReadonlyArray<readonly [minPeople: number, alpha: number]> = [
  [100, 2.0],
  [50, 1.5],
  [30, 1.2],
  [1, 1.0],
  [0, 0.5],
];
/** The values α can take (a unit that gives α directly must give one of them). */
export const MHS_ALPHA_VALUES: readonly number[] = MHS_ALPHA_TABLE.map(([, alpha]) => alpha);

/** α for a number of people exposed (an integer ≥ 0). */
export function mhsAlpha(exposedPopulation: number): number {
  for (const [minPeople, alpha] of MHS_ALPHA_TABLE)
    if (exposedPopulation >= minPeople) return alpha;
  return 0.5;
}

/**
 * A production or storage unit of a site (registry `sites[].hazardUnits[]`). α comes from
 * `exposedPopulation` (people within 500 m, the standard's count) or is given as `alpha` (one of
 * the table's values); exactly one of the two.
 */
export const mhsUnitSchema = z
  .strictObject({
    id: z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}'),
    name: z.string().min(1),
    kind: z.enum(MHS_UNIT_KINDS),
    /** The area the unit lies in (optional): its live-grade warning is placed there. */
    area: z.string().regex(IDENTIFIER_PATTERN).optional(),
    exposedPopulation: z.int().min(0).max(10_000_000).optional(),
    alpha: z
      .number()
      .refine(value => MHS_ALPHA_VALUES.includes(value), {
        message: `must be one of ${MHS_ALPHA_VALUES.join(', ')} (GB 18218-2018 α table)`,
      })
      .optional(),
    /**
     * 包保责任人 (issue 15, RSP-01): the unit's principal, technical and operational guarantors;
     * the registry checks them against the users file and derives their duties
     * (`@vigil/contracts` guarantors.ts). The grade does not use them.
     */
    guarantors: guarantorsSchema.optional(),
  })
  .refine(unit => (unit.exposedPopulation === undefined) !== (unit.alpha === undefined), {
    message:
      'give exactly one of exposedPopulation (people within 500 m, GB 18218-2018 α table) or alpha',
  });
export type MhsUnitEntry = z.infer<typeof mhsUnitSchema>;

/** A registry tank with what the grade needs. */
export interface MhsTank {
  readonly siteId: string;
  readonly deviceId: string;
  readonly areaId: string | undefined;
  /** The unit (attribute `unit`). */
  readonly unitId: string;
  readonly substance: HazardousSubstance;
  /**
   * Design maximum quantity in tonnes: the q of the regulatory grade (GB 18218-2018: the actual
   * quantity of a tank is taken at its design maximum, 按设计最大量确定), and the full scale of
   * the live index (q = level_pct / 100 × designMaxT).
   */
  readonly designMaxT: number;
  /** Where designMaxT came from, for messages and the console. */
  readonly designMaxFrom: 'design_max_t' | 'capacity_m3 × density_t_m3' | 'capacityT';
}

/** A unit with its tanks and α, ready to grade. */
export interface MhsUnit {
  readonly siteId: string;
  readonly unitId: string;
  readonly name: string;
  readonly kind: MhsUnitKind;
  readonly areaId: string | undefined;
  readonly exposedPopulation: number | undefined;
  readonly alpha: number;
  readonly tanks: readonly MhsTank[];
}

type Attributes = Readonly<Record<string, string | number | boolean>>;

const positive = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;

/**
 * Reads a registry device's tank attributes: `substance`, `unit`, and the design maximum as
 * `design_max_t` (t), else `capacity_m3` × `density_t_m3`, else `capacityT` (t, the older name,
 * read as the design maximum). Returns the tank, nothing for a device that is not a
 * hazardous-substance tank (no `substance` and not of class `mhs-tank`), or errors (one per line)
 * naming every missing or wrong attribute: the registry refuses to load.
 */
export function mhsTankOf(device: {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass?: string;
  readonly areaId: string | undefined;
  readonly attributes: Attributes;
}): { readonly tank?: MhsTank; readonly errors: readonly string[] } {
  const attributes = device.attributes;
  const substanceName = attributes['substance'];
  if (substanceName === undefined && device.deviceClass !== 'mhs-tank') return { errors: [] };
  const errors: string[] = [];
  const substance = typeof substanceName === 'string' ? findSubstance(substanceName) : undefined;
  if (substanceName === undefined) {
    errors.push(
      'attributes.substance: a major-hazard tank must name its substance (GB 18218-2018 Table 1)',
    );
  } else if (!substance) {
    const known = HAZARDOUS_SUBSTANCES.map(each => each.name).join(', ');
    errors.push(
      `attributes.substance: no critical quantity is known for "${String(substanceName)}" (known: ${known})`,
    );
  }
  const unitId = attributes['unit'];
  if (typeof unitId !== 'string' || unitId.length === 0) {
    errors.push(
      `attributes.unit: must name the production or storage unit of the tank (the site's hazardUnits; GB 18218-2018 grades per unit), got ${JSON.stringify(unitId)}`,
    );
  }
  const design = designMaxOf(attributes);
  if (typeof design === 'string') errors.push(design);
  if (!substance || errors.length > 0 || typeof design === 'string') return { errors };
  return {
    tank: {
      siteId: device.siteId,
      deviceId: device.deviceId,
      areaId: device.areaId,
      unitId: unitId as string,
      substance,
      designMaxT: design.tonnes,
      designMaxFrom: design.from,
    },
    errors,
  };
}

function designMaxOf(
  attributes: Attributes,
): { tonnes: number; from: MhsTank['designMaxFrom'] } | string {
  const given = ['design_max_t', 'capacity_m3', 'density_t_m3', 'capacityT'].filter(
    name => attributes[name] !== undefined,
  );
  for (const name of given) {
    if (!positive(attributes[name]))
      return `attributes.${name}: must be a positive number (got ${JSON.stringify(attributes[name])})`;
  }
  if (positive(attributes['design_max_t']))
    return { tonnes: attributes['design_max_t'], from: 'design_max_t' };
  const volume = attributes['capacity_m3'];
  const density = attributes['density_t_m3'];
  if (positive(volume) && positive(density))
    return { tonnes: volume * density, from: 'capacity_m3 × density_t_m3' };
  if (positive(volume) !== positive(density))
    return 'attributes.capacity_m3 and attributes.density_t_m3: give both (design maximum = capacity × density) or design_max_t';
  if (positive(attributes['capacityT']))
    return { tonnes: attributes['capacityT'], from: 'capacityT' };
  return 'attributes.design_max_t: the design maximum quantity in tonnes is required (GB 18218-2018 takes q of a tank at its design maximum), or capacity_m3 with density_t_m3';
}

/**
 * The units of one site with their tanks, and every problem (paths relative to the site):
 * malformed or duplicate units, a unit in an area the site does not have, a tank whose attributes
 * are missing or wrong (`mhsTankOf`) or whose `unit` is not one of the site's units. Pure; the
 * registry calls it for every site and refuses to load on any error.
 */
export function mhsUnitsOf(
  site: {
    readonly id: string;
    readonly areas?: ReadonlyArray<{ readonly id: string }>;
    readonly hazardUnits?: readonly unknown[] | undefined;
  },
  devices: ReadonlyArray<{
    readonly siteId: string;
    readonly deviceId: string;
    readonly deviceClass?: string;
    readonly areaId: string | undefined;
    readonly attributes: Attributes;
  }>,
): { readonly units: readonly MhsUnit[]; readonly errors: readonly string[] } {
  const errors: string[] = [];
  const entries = new Map<string, MhsUnitEntry>();
  const areaIds = site.areas ? new Set(site.areas.map(area => area.id)) : undefined;
  (site.hazardUnits ?? []).forEach((raw, index) => {
    const parsed = mhsUnitSchema.safeParse(raw);
    const id = (raw as { id?: unknown } | null)?.id;
    const where = `hazardUnits.${typeof id === 'string' ? id : index}`;
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        errors.push(
          `${where}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`,
        );
      return;
    }
    if (entries.has(parsed.data.id)) errors.push(`${where}: duplicate unit id`);
    if (parsed.data.area !== undefined && areaIds && !areaIds.has(parsed.data.area))
      errors.push(`${where}.area: "${parsed.data.area}" does not exist in site ${site.id}`);
    entries.set(parsed.data.id, parsed.data);
  });
  const tanksOf = new Map<string, MhsTank[]>();
  for (const device of devices) {
    const at = `devices.${device.deviceId}`;
    const { tank, errors: tankErrors } = mhsTankOf(device);
    for (const error of tankErrors) errors.push(`${at}.${error}`);
    if (!tank) continue;
    if (!entries.has(tank.unitId)) {
      const known = [...entries.keys()].join(', ') || 'none declared';
      errors.push(
        `${at}.attributes.unit: "${tank.unitId}" is not a unit of site ${site.id} (hazardUnits: ${known})`,
      );
      continue;
    }
    const list = tanksOf.get(tank.unitId);
    if (list) list.push(tank);
    else tanksOf.set(tank.unitId, [tank]);
  }
  const units = [...entries.values()].map((entry): MhsUnit => ({
    siteId: site.id,
    unitId: entry.id,
    name: entry.name,
    kind: entry.kind,
    areaId: entry.area,
    exposedPopulation: entry.exposedPopulation,
    alpha: entry.alpha ?? mhsAlpha(entry.exposedPopulation as number),
    tanks: tanksOf.get(entry.id) ?? [],
  }));
  return { units, errors };
}

/** One unit's index and grade (no hysteresis: the plain grade of the numbers). */
export interface MhsAssessment {
  readonly index: MhsIndex;
  readonly grade: MhsGrade;
}

/**
 * The regulatory grade of a unit: every tank at its design maximum (GB 18218-2018 §4.2; q of a
 * tank is its design maximum). This is the grade a unit is registered with, whatever is in it now.
 */
export function mhsRegulatory(unit: MhsUnit): MhsAssessment {
  const index = mhsIndex(
    unit.tanks.map(tank => ({ substance: tank.substance, quantityT: tank.designMaxT })),
    unit.alpha,
  );
  return { index, grade: mhsGrade(index) };
}

/**
 * The live index of a unit from current levels: q = level_pct / 100 × design maximum (clamped to
 * 0–100 %); a tank without a level counts at its design maximum (listed in `withoutLevel`).
 * Operational information beside the regulatory grade, not a regulatory figure.
 */
export function mhsLive(
  unit: MhsUnit,
  levelOf: (tank: MhsTank) => number | undefined,
): MhsAssessment & { readonly withoutLevel: readonly string[] } {
  const withoutLevel: string[] = [];
  const index = mhsIndex(
    unit.tanks.map(tank => {
      const level = levelOf(tank);
      if (level === undefined || !Number.isFinite(level)) withoutLevel.push(tank.deviceId);
      const fraction =
        level === undefined || !Number.isFinite(level)
          ? 1
          : Math.min(100, Math.max(0, level)) / 100;
      return { substance: tank.substance, quantityT: fraction * tank.designMaxT };
    }),
    unit.alpha,
  );
  return { index, grade: mhsGrade(index), withoutLevel };
}

// ---- The live grade over a stream of tank readings ----

/** Options of the grade reducer and operator. */
export interface MhsGradeOptions extends RuleContext {
  /** Every production and storage unit of the registry with its tanks (`mhsUnitsOf`). */
  readonly units: Iterable<MhsUnit>;
  readonly hysteresis?: number;
}

interface TankSlot {
  readonly tank: MhsTank;
  readonly unit: UnitState;
  /** Tonnes; the design maximum until the first level reading (the regulatory quantity). */
  quantityT: number;
}

interface UnitState {
  readonly unit: MhsUnit;
  readonly tanks: TankSlot[];
  /** The regulatory grade (design maximum), fixed per registry: quoted in every message. */
  readonly regulatory: MhsAssessment;
  /** The live grade last emitted; `null` before the first emission. */
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
  for (const unit of options.units) {
    const state: UnitState = { unit, tanks: [], regulatory: mhsRegulatory(unit), grade: null };
    for (const tank of unit.tanks) {
      const slot: TankSlot = { tank, unit: state, quantityT: tank.designMaxT };
      state.tanks.push(slot);
      let site = tanks.get(tank.siteId);
      if (!site) tanks.set(tank.siteId, (site = new Map()));
      site.set(tank.deviceId, slot);
    }
  }
  return { tanks };
}

/**
 * One tank reading: updates the tank's quantity from `level_pct` and recomputes its unit's
 * **live index** (R from current levels; the regulatory grade, at design maximum, is fixed per
 * registry and quoted in the message). Emits one signal (rule `mhs-grade`, category `warning`,
 * `deviceId` = the unit) for the unit's first reading and for every change of the live grade
 * after it; nothing when it stays. `active` is true for live grades 1 and 2 (the grades with the
 * heaviest duties: SIS, emergency shut-off, Decree 40 §13, domain-standards §3.2), false for
 * grades 3, 4 and "not a major hazard". Consecutive signals may both be active (2 → 1): this is a
 * change stream, `level` carries the grade. Tanks without a reading yet count at their design
 * maximum, so the first live grade is the regulatory one and readings refine it. Readings of
 * other devices, and without a numeric `level_pct`, change nothing.
 */
export function reduceMhsGrade(
  state: MhsGradeState,
  reading: Reading,
  options: MhsGradeOptions,
): RuleStep<MhsGradeState> {
  const slot = state.tanks.get(reading.siteId)?.get(reading.deviceId);
  const level = numericValue(reading, 'level_pct');
  if (!slot || level === undefined) return { state, signals: NO_SIGNALS };
  slot.quantityT = (Math.min(100, Math.max(0, level)) / 100) * slot.tank.designMaxT;
  const unit = slot.unit;
  const index = mhsIndex(
    unit.tanks.map(each => ({ substance: each.tank.substance, quantityT: each.quantityT })),
    unit.unit.alpha,
  );
  const previous = unit.grade;
  const grade = mhsGrade(index, previous ?? undefined, options.hysteresis ?? MHS_GRADE_HYSTERESIS);
  if (previous !== null && grade === previous) return { state, signals: NO_SIGNALS };
  unit.grade = grade;
  return { state, signals: [gradeSignal(unit, grade, index, reading.ts, options)] };
}

function gradeText(grade: MhsGrade): string {
  return grade === undefined
    ? 'not a major hazard'
    : `grade ${['I', 'II', 'III', 'IV'][grade - 1]}`;
}

function gradeSignal(
  state: UnitState,
  grade: MhsGrade,
  index: MhsIndex,
  at: number,
  context: RuleContext,
): RuleSignal {
  const unit = state.unit;
  const level = grade === undefined ? 'none' : `grade-${grade}`;
  const priority: AlarmPriority = grade === 1 ? 2 : grade === 2 ? 3 : 4;
  const bound = grade === undefined ? 1 : grade === 4 ? undefined : MHS_GRADE_BOUNDS[grade - 1];
  const live =
    grade === undefined
      ? `live index: not a major hazard (S = Σq/Q ${formatNumber(index.s)} < 1)`
      : `live index ${gradeText(grade)} (R = ${formatNumber(index.r)}, S ${formatNumber(index.s)})`;
  const regulatory = state.regulatory;
  const registered =
    `regulatory ${gradeText(regulatory.grade)} at design maximum ` +
    `(R = ${formatNumber(regulatory.index.r)}, α ${formatNumber(unit.alpha)})`;
  return ruleSignal(
    { siteId: unit.siteId, deviceId: unit.unitId, deviceClass: undefined, areaId: unit.areaId },
    { ruleId: 'mhs-grade', category: 'warning', priority, level, latched: false, metric: 'mhs_r' },
    grade !== undefined && grade <= 2,
    at,
    context,
    {
      value: Number(index.r.toPrecision(6)),
      threshold: bound,
      message: `${unit.name}: ${live} from current levels; ${registered} (GB 18218-2018)`,
    },
  );
}
