import type {
  Alarm,
  MhsGradeFigure,
  MhsUnitRisk,
  RiskLevel,
  RiskNode,
  RiskNodeKind,
  RiskReason,
  RiskReasonKind,
} from '@vigil/contracts';
import type { OrgNode, RegistrySite } from '@vigil/registry';
import { type MhsAssessment, type MhsUnit, mhsLive, mhsRegulatory } from '@vigil/rules';

/**
 * Dynamic four-colour risk (红橙黄蓝), domain-standards §7 and §9.9 (a proposal: no standard gives
 * the formula). Per area:
 *
 *   R_dyn = R_inherent × min(3, 1 + Σ mᵢ), then raised to the floor set by the worst live alarm.
 *
 * - R_inherent: the area's registry colour as a representative LEC score (D = L × E × C: blue < 70,
 *   yellow 70–160, orange 160–320, red ≥ 320); R_dyn maps back with the same cut-points (§7).
 * - mᵢ (§9.9): each active P1 alarm +0.5; each active P2 +0.2 (at most +0.6); crowding +0.3;
 *   monitoring data missing for more than 30 min +0.2.
 * - Floors: any active P1 process alarm or early warning makes the area red, P2 at least orange,
 *   P3 at least yellow (§9 priorities: P1 = gas level 2, P2 = gas level 1 / crowding …); an active
 *   major-hazard grade signal (rule `mhs-grade`, level `grade-1` … `grade-4`, GB 18218-2018 §3)
 *   sets at least the grade's colour (grade 1 red … grade 4 blue).
 *
 * Areas roll up to their site, sites to their enterprise, and so on to the city, by the worst
 * child. Every node carries its reasons so operators see why the colour changed.
 */

export const RISK_ORDER: readonly RiskLevel[] = ['blue', 'yellow', 'orange', 'red'];
const RANK: Readonly<Record<RiskLevel, number>> = { blue: 0, yellow: 1, orange: 2, red: 3 };

/** A representative LEC score per colour (inside its band) and the bands' lower cut-points. */
const INHERENT_SCORE: Readonly<Record<RiskLevel, number>> = {
  blue: 45,
  yellow: 115,
  orange: 240,
  red: 400,
};
const CUT_POINTS: ReadonlyArray<readonly [number, RiskLevel]> = [
  [320, 'red'],
  [160, 'orange'],
  [70, 'yellow'],
];
const MAX_MULTIPLIER = 3;
const P1_WEIGHT = 0.5;
const P2_WEIGHT = 0.2;
const P2_CAP = 0.6;
const CROWDING_WEIGHT = 0.3;
const DATA_MISSING_WEIGHT = 0.2;
const DATA_MISSING_AFTER_MS = 30 * 60_000;
const PRIORITY_FLOOR: Readonly<Record<number, RiskLevel>> = { 1: 'red', 2: 'orange', 3: 'yellow' };

export const CROWDING_RULE = 'crowding';
export const MHS_GRADE_RULE = 'mhs-grade';

export interface RiskInput {
  readonly organisation: readonly OrgNode[];
  readonly sites: readonly RegistrySite[];
  /** Open alarms (any state but normal). */
  readonly alarms: readonly Alarm[];
  readonly now: number;
  /** Return the tree from this organisation node down (the user's scope); default: every root. */
  readonly scope?: string | undefined;
  /** GB 18218-2018 units of every site (`mhsUnitsOf`); shown per site, graded per unit. */
  readonly mhsUnits?: readonly MhsUnit[];
  /** Latest `level_pct` of a tank, for the live index; undefined when none yet. */
  readonly levelOf?: (siteId: string, deviceId: string) => number | undefined;
  /**
   * Enterprises below this Vigil (issue 15, uplink): each hangs under its link's organisation
   * node, coloured by its forwarded open alarms only (the caller filters them by scope).
   */
  readonly forwarded?: readonly ForwardedEnterprise[];
}

/** An enterprise below, as the upper's uplink read model holds it. */
export interface ForwardedEnterprise {
  /** The organisation node of this Vigil it sits under (its link's `node`). */
  readonly node: string;
  readonly enterpriseCode: string;
  readonly name: string;
  readonly lastReceivedAt?: number | undefined;
  readonly realtimeAt?: number | undefined;
  /** The priorities of its forwarded alarms that are not normal. */
  readonly openAlarmPriorities: readonly number[];
}

/**
 * A forwarded enterprise's node: the floor of its open alarms' priorities (P1 red, P2 orange, P3
 * yellow), else blue. No areas, no inherent risk, no modifiers: the upper has none of the
 * lower's registry (docs/interfaces.md §Uplink).
 */
export function forwardedNode(enterprise: ForwardedEnterprise): RiskNode {
  const openAlarms = { p1: 0, p2: 0, p3: 0, p4: 0 };
  let level: RiskLevel = 'blue';
  for (const priority of enterprise.openAlarmPriorities) {
    if (priority === 1) openAlarms.p1 += 1;
    else if (priority === 2) openAlarms.p2 += 1;
    else if (priority === 3) openAlarms.p3 += 1;
    else openAlarms.p4 += 1;
    const floor = PRIORITY_FLOOR[priority];
    if (floor !== undefined) level = worst(level, floor);
  }
  return {
    key: `forwarded:${enterprise.enterpriseCode}`,
    id: enterprise.enterpriseCode,
    kind: 'enterprise',
    name: enterprise.name,
    inherent: 'blue',
    level,
    reasons: [],
    driver: undefined,
    areas: emptyCounts(),
    forwarded: {
      enterpriseCode: enterprise.enterpriseCode,
      ...(enterprise.lastReceivedAt !== undefined
        ? { lastReceivedAt: enterprise.lastReceivedAt }
        : {}),
      ...(enterprise.realtimeAt !== undefined ? { realtimeAt: enterprise.realtimeAt } : {}),
      openAlarms,
    },
    children: [],
  };
}

function figure({ index, grade }: MhsAssessment): MhsGradeFigure {
  return {
    grade: grade ?? null,
    r: Number(index.r.toPrecision(6)),
    s: Number(index.s.toPrecision(6)),
  };
}

/**
 * Each unit's regulatory grade (design maximum) and live index (current levels), side by side:
 * GB 18218-2018 grades per unit, never per site. The live figure here is the plain grade of the
 * current numbers; the `mhs-grade` warning applies a 2 % hysteresis before it changes.
 */
export function unitRisks(
  units: readonly MhsUnit[],
  levelOf: (siteId: string, deviceId: string) => number | undefined = () => undefined,
): MhsUnitRisk[] {
  return units.map(unit => {
    const live = mhsLive(unit, tank => levelOf(tank.siteId, tank.deviceId));
    return {
      id: unit.unitId,
      name: unit.name,
      kind: unit.kind,
      areaId: unit.areaId,
      exposedPopulation: unit.exposedPopulation,
      alpha: unit.alpha,
      tanks: unit.tanks.length,
      regulatory: figure(mhsRegulatory(unit)),
      live: { ...figure(live), withoutLevel: live.withoutLevel },
    };
  });
}

export function worst(a: RiskLevel, b: RiskLevel): RiskLevel {
  return RANK[a] >= RANK[b] ? a : b;
}

export function levelOfScore(score: number): RiskLevel {
  for (const [cut, level] of CUT_POINTS) if (score >= cut) return level;
  return 'blue';
}

/** Major-hazard grade 1…4 (GB 18218-2018, level `grade-N`) as red, orange, yellow, blue. */
const GRADE_COLOURS: readonly RiskLevel[] = ['red', 'orange', 'yellow', 'blue'];

function mhsGradeColour(alarm: Alarm): RiskLevel {
  const grade = /^grade-([1-4])$/.exec(alarm.level);
  if (grade) return GRADE_COLOURS[Number(grade[1]) - 1] as RiskLevel;
  return alarm.level in RANK
    ? (alarm.level as RiskLevel)
    : (PRIORITY_FLOOR[alarm.priority] ?? 'blue');
}

/** Alarms whose condition stands: active (a latched alarm stays active until reset), not suppressed. */
function counts(alarm: Alarm): boolean {
  return (
    (alarm.state === 'active-unacknowledged' || alarm.state === 'active-acknowledged') &&
    alarm.suppressed === undefined
  );
}

function reason(
  alarm: Alarm,
  kind: RiskReasonKind,
  weight: number,
  floor: RiskLevel | undefined,
): RiskReason {
  return {
    kind,
    alarmId: alarm.id,
    ruleId: alarm.ruleId,
    siteId: alarm.siteId,
    deviceId: alarm.deviceId,
    priority: alarm.priority,
    level: alarm.level,
    weight,
    floor,
  };
}

/** The reasons a set of alarms gives, with Σ mᵢ and the highest floor. */
export function assess(
  alarms: readonly Alarm[],
  now: number,
): { reasons: RiskReason[]; sum: number; floor: RiskLevel | undefined } {
  const reasons: RiskReason[] = [];
  let p2Total = 0;
  let crowding = false;
  let dataMissing = false;
  const ordered = [...alarms]
    .filter(counts)
    .sort((a, b) => a.priority - b.priority || a.raisedAt - b.raisedAt);
  for (const alarm of ordered) {
    if (alarm.ruleId === MHS_GRADE_RULE) {
      const floor = mhsGradeColour(alarm);
      reasons.push(reason(alarm, 'mhs-grade', 0, floor));
      continue;
    }
    if (alarm.ruleId === CROWDING_RULE) {
      const weight = crowding ? 0 : CROWDING_WEIGHT;
      crowding = true;
      reasons.push(reason(alarm, 'crowding', weight, PRIORITY_FLOOR[alarm.priority]));
      continue;
    }
    if (alarm.category === 'quality') {
      if (alarm.ruleId !== 'offline' || now - alarm.raisedAt <= DATA_MISSING_AFTER_MS) continue;
      const weight = dataMissing ? 0 : DATA_MISSING_WEIGHT;
      dataMissing = true;
      reasons.push(reason(alarm, 'data-missing', weight, undefined));
      continue;
    }
    let weight = 0;
    if (alarm.priority === 1) weight = P1_WEIGHT;
    else if (alarm.priority === 2) {
      weight = Math.min(P2_WEIGHT, P2_CAP - p2Total);
      p2Total += weight;
    }
    reasons.push(reason(alarm, 'alarm', round(weight), PRIORITY_FLOOR[alarm.priority]));
  }
  const sum = round(reasons.reduce((total, r) => total + r.weight, 0));
  const floor = reasons.reduce<RiskLevel | undefined>(
    (highest, r) =>
      r.floor === undefined ? highest : highest === undefined ? r.floor : worst(highest, r.floor),
    undefined,
  );
  return { reasons, sum, floor };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function emptyCounts(): Record<RiskLevel, number> {
  return { red: 0, orange: 0, yellow: 0, blue: 0 };
}

function rollUp(
  base: { key: string; id: string; kind: RiskNodeKind; name: string },
  children: readonly RiskNode[],
  own: { reasons: readonly RiskReason[]; floor: RiskLevel | undefined } = {
    reasons: [],
    floor: undefined,
  },
): RiskNode {
  let inherent: RiskLevel = 'blue';
  let top: RiskNode | undefined;
  const areas = emptyCounts();
  for (const child of children) {
    inherent = worst(inherent, child.inherent);
    if (top === undefined || RANK[child.level] > RANK[top.level]) top = child;
    for (const colour of RISK_ORDER) areas[colour] += child.areas[colour];
  }
  const ownLevel = own.floor ?? 'blue';
  const level = top ? worst(ownLevel, top.level) : ownLevel;
  // The child that set the colour (none when everything is blue or the node's own alarms set it).
  const driver =
    top && top.level !== 'blue' && RANK[top.level] >= RANK[ownLevel] ? top.key : undefined;
  return { ...base, inherent, level, reasons: own.reasons, driver, areas, children };
}

/** The risk tree: organisation nodes → sites → areas, each with its dynamic colour and reasons. */
export function computeRisk({
  organisation,
  sites,
  alarms,
  now,
  scope,
  mhsUnits = [],
  levelOf,
  forwarded = [],
}: RiskInput): RiskNode[] {
  const forwardedOf = new Map<string, ForwardedEnterprise[]>();
  for (const enterprise of forwarded) {
    const list = forwardedOf.get(enterprise.node);
    if (list) list.push(enterprise);
    else forwardedOf.set(enterprise.node, [enterprise]);
  }
  const unitsBySite = new Map<string, MhsUnit[]>();
  for (const unit of mhsUnits) {
    const list = unitsBySite.get(unit.siteId);
    if (list) list.push(unit);
    else unitsBySite.set(unit.siteId, [unit]);
  }
  const alarmsByArea = new Map<string, Alarm[]>();
  const siteWide = new Map<string, Alarm[]>();
  for (const alarm of alarms) {
    const bucket = alarm.areaId === undefined ? siteWide : alarmsByArea;
    const key = alarm.areaId === undefined ? alarm.siteId : `${alarm.siteId}/${alarm.areaId}`;
    const list = bucket.get(key);
    if (list) list.push(alarm);
    else bucket.set(key, [alarm]);
  }

  const siteNode = (site: RegistrySite): RiskNode => {
    const areas = site.areas.map((area): RiskNode => {
      const { reasons, sum, floor } = assess(alarmsByArea.get(`${site.id}/${area.id}`) ?? [], now);
      const multiplier = Math.min(MAX_MULTIPLIER, round(1 + sum));
      const dynamic = round(INHERENT_SCORE[area.risk] * multiplier);
      let level = worst(area.risk, levelOfScore(dynamic));
      if (floor !== undefined) level = worst(level, floor);
      const counts = emptyCounts();
      counts[level] = 1;
      return {
        key: `area:${site.id}/${area.id}`,
        id: area.id,
        kind: 'area',
        name: area.name,
        inherent: area.risk,
        level,
        score: { inherent: INHERENT_SCORE[area.risk], multiplier, dynamic },
        reasons,
        driver: undefined,
        areas: counts,
        areaKind: area.kind,
        children: [],
      };
    });
    const own = assess(siteWide.get(site.id) ?? [], now);
    const node = rollUp(
      { key: `site:${site.id}`, id: site.id, kind: 'site', name: site.name },
      areas,
      own,
    );
    const units = unitsBySite.get(site.id);
    return units ? { ...node, hazardUnits: unitRisks(units, levelOf) } : node;
  };

  const childrenOf = new Map<string | undefined, OrgNode[]>();
  for (const node of organisation) {
    const list = childrenOf.get(node.parent);
    if (list) list.push(node);
    else childrenOf.set(node.parent, [node]);
  }
  const sitesOf = new Map<string, RegistrySite[]>();
  for (const site of sites) {
    const list = sitesOf.get(site.enterprise);
    if (list) list.push(site);
    else sitesOf.set(site.enterprise, [site]);
  }
  const orgNode = (node: OrgNode, depth: number): RiskNode => {
    // The registry refuses cycles; the depth bound only keeps a bad input from recursing forever.
    const children =
      depth > organisation.length
        ? []
        : [
            ...(childrenOf.get(node.id) ?? []).map(child => orgNode(child, depth + 1)),
            ...(sitesOf.get(node.id) ?? []).map(siteNode),
            ...(forwardedOf.get(node.id) ?? []).map(forwardedNode),
          ];
    return rollUp(
      { key: `${node.kind}:${node.id}`, id: node.id, kind: node.kind, name: node.name },
      children,
    );
  };

  const roots =
    scope === undefined
      ? organisation.filter(
          node => node.parent === undefined || !organisation.some(n => n.id === node.parent),
        )
      : organisation.filter(node => node.id === scope);
  return roots.map(root => orgNode(root, 0));
}
