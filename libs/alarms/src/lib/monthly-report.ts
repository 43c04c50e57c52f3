import {
  MONTH_PATTERN,
  type Alarm,
  type Hazard,
  type HazardState,
  type InspectionMiss,
  type MonthlyAlarmFigures,
  type MonthlyHazardCounts,
  type MonthlyHazardFigures,
  type MonthlyInspectionFigures,
  type MonthlyReport,
  type MonthlyReportRow,
  type ScoreDeduction,
} from '@vigil/contracts';
import type { OrgNode } from '@vigil/registry';

import { formatLocalDate, localDate, localMidnight } from './inspection-schedule';
import { alarmPerformance, type RaiseRecord } from './kpi';

/**
 * The monthly report (issue 15), pure: from the month's alarm activations and responses, the
 * hazard ledger, the missed inspections and the organisation tree, the figures per enterprise,
 * rolled up per region (park, county, city), and the ranking. The alarm KPIs are those of the
 * alarm-performance report (`alarmPerformance`, EEMUA 191 / ISA-18.2), computed once per
 * enterprise and once per region over all of its alarms (a region's peak is not a sum of peaks).
 * Month boundaries are local midnights of the plant's time zone (like the inspection windows).
 */

/** An activation, with its alarm class when the store has it. */
export interface MonthlyRaise extends RaiseRecord {
  readonly category?: string | undefined;
}

/** An operator's acknowledgement or disposal of an alarm. */
export interface AlarmResponse {
  readonly at: number;
  readonly alarmId: string;
  readonly action: 'acknowledge' | 'dispose';
}

export interface CalendarMonth {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
}

/** `2026-11` → the month; anything else → undefined. */
export function parseMonth(text: string): CalendarMonth | undefined {
  const match = MONTH_PATTERN.exec(text);
  if (!match) return undefined;
  return { year: Number(match[1]), month: Number(match[2]) };
}

export function formatMonth({ year, month }: CalendarMonth): string {
  return `${year}-${String(month).padStart(2, '0')}`;
}

/** The local calendar month that contains instant `t`. */
export function monthOf(t: number, timeZone: string): CalendarMonth {
  const { year, month } = localDate(t, timeZone);
  return { year, month };
}

export function addMonths({ year, month }: CalendarMonth, months: number): CalendarMonth {
  const index = year * 12 + (month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** [first local midnight of the month, first local midnight of the next), epoch ms. */
export function monthRange(month: CalendarMonth, timeZone: string): { from: number; to: number } {
  const next = addMonths(month, 1);
  return {
    from: localMidnight({ ...month, day: 1 }, timeZone),
    to: localMidnight({ ...next, day: 1 }, timeZone),
  };
}

/**
 * The ranking's score (HAZ-04 「工作不落实,系统有评分」: the policy asks Vigil to score, it gives no
 * formula, so this one is a PROPOSAL). 100 points less capped deductions, whose caps add up to
 * 100, so a score is always within 0–100:
 * - each major hazard overdue at the month's end −10 (at most −40), each general one −3 (at most
 *   −15): late rectification is what HAZ-04 warns of (「整改不及时,系统有警示」);
 * - each missed inspection window −2 (at most −20): 「隐患不排查,系统有觉察」;
 * - alarm load: an average above 2 alarms per 10 minutes −10, above 1 −5 (EEMUA 191: below 1 is
 *   the target, above 2 needs investigating; domain-standards §8);
 * - each alarm flood −1 (at most −10);
 * - each standing alarm (active > 24 h, current month only) −1 (at most −5).
 */
export const MONTHLY_SCORING = {
  majorOverdue: { points: 10, cap: 40 },
  generalOverdue: { points: 3, cap: 15 },
  missedInspection: { points: 2, cap: 20 },
  alarmLoad: { above2Per10Min: 10, above1Per10Min: 5 },
  floods: { points: 1, cap: 10 },
  standing: { points: 1, cap: 5 },
} as const;

export interface MonthlyReportInput {
  readonly month: CalendarMonth;
  readonly timeZone: string;
  /** The report's time: figures are as of min(month end, now). */
  readonly now: number;
  /** The node reported on. */
  readonly node: OrgNode;
  /** The whole organisation tree (the node's subtree is taken from it). */
  readonly organisation: readonly OrgNode[];
  /** The sites the user sees, with their enterprise: nothing else counts. */
  readonly sites: readonly { readonly id: string; readonly enterprise: string }[];
  /** Activations from at least the month (others are ignored). */
  readonly raises: readonly MonthlyRaise[];
  readonly responses: readonly AlarmResponse[];
  /** Alarms open now (standing alarms, the current month only). */
  readonly open: readonly Alarm[];
  /** Ids of alarms disposed as `test`: left out of every alarm figure. */
  readonly excluded: ReadonlySet<string>;
  readonly hazards: readonly Hazard[];
  readonly misses: readonly InspectionMiss[];
  readonly scope: string;
  readonly source: 'influxdb' | 'memory';
  readonly notices?: readonly string[];
}

/** Ten-minute windows per hour: alarms per operator-hour from the 10-minute average. */
const TEN_MINUTE_WINDOWS_PER_HOUR = 6;

/** The report of `input.node`'s subtree for `input.month`. */
export function buildMonthlyReport(input: MonthlyReportInput): MonthlyReport {
  const { from, to } = monthRange(input.month, input.timeZone);
  const complete = input.now >= to;
  // Figures are as of the month's end, or now while it runs.
  const end = Math.min(to, input.now);

  const subtree = nodesBeneath(input.node, input.organisation);
  const enterpriseNodes = subtree.filter(node => node.kind === 'enterprise');
  const enterpriseIds = new Set(enterpriseNodes.map(node => node.id));
  const enterpriseOfSite = new Map(
    input.sites.filter(site => enterpriseIds.has(site.enterprise)).map(s => [s.id, s.enterprise]),
  );

  const raisesOf = groupBy(
    input.raises.filter(raise => enterpriseOfSite.has(raise.siteId)),
    raise => enterpriseOfSite.get(raise.siteId),
  );
  const openOf = groupBy(
    complete ? [] : input.open.filter(alarm => enterpriseOfSite.has(alarm.siteId)),
    alarm => enterpriseOfSite.get(alarm.siteId),
  );
  const hazardsOf = groupBy(
    input.hazards.filter(
      hazard => enterpriseIds.has(hazard.enterprise) && enterpriseOfSite.has(hazard.siteId),
    ),
    hazard => hazard.enterprise,
  );
  const missesOf = groupBy(
    input.misses.filter(
      miss => miss.window.end >= from && miss.window.end < to && enterpriseOfSite.has(miss.siteId),
    ),
    miss => enterpriseOfSite.get(miss.siteId),
  );
  const responses = responsesByAlarm(input.responses);
  const alarmsOver = (raises: readonly MonthlyRaise[], open: readonly Alarm[]) =>
    alarmFigures(raises, open, responses, from, end, input.now, input.excluded, complete);

  const sitesOf = groupBy([...enterpriseOfSite.keys()], site => enterpriseOfSite.get(site));
  const enterpriseRows = new Map<string, MonthlyReportRow>();
  for (const node of enterpriseNodes) {
    const alarms = alarmsOver(raisesOf.get(node.id) ?? [], openOf.get(node.id) ?? []);
    const hazards = hazardFigures(hazardsOf.get(node.id) ?? [], from, to, end, complete);
    const inspections = inspectionFigures(missesOf.get(node.id) ?? []);
    const deductions = scoreDeductions(alarms, hazards, inspections);
    enterpriseRows.set(node.id, {
      ...nodeFields(node),
      members: sitesOf.get(node.id) ?? [],
      alarms,
      hazards,
      inspections,
      score: 100 - deductions.reduce((total, d) => total + d.points, 0),
      deductions,
    });
  }

  const regions: MonthlyReportRow[] = [];
  for (const region of subtree.filter(node => node.kind !== 'enterprise')) {
    const members = nodesBeneath(region, subtree)
      .filter(node => node.kind === 'enterprise')
      .map(node => node.id);
    const rows = members.flatMap(id => enterpriseRows.get(id) ?? []);
    regions.push({
      ...nodeFields(region),
      members,
      alarms: alarmsOver(
        members.flatMap(id => raisesOf.get(id) ?? []),
        members.flatMap(id => openOf.get(id) ?? []),
      ),
      hazards: sumHazards(rows.map(row => row.hazards)),
      inspections: {
        missed: sum(rows.map(row => row.inspections.missed)),
        madeUp: sum(rows.map(row => row.inspections.madeUp)),
      },
      score: rows.length === 0 ? 100 : round(sum(rows.map(row => row.score)) / rows.length),
      deductions: [],
    });
  }

  const ranked = [...enterpriseRows.values()].sort(
    (a, b) => b.score - a.score || a.nodeId.localeCompare(b.nodeId),
  );
  const enterprises = ranked.map(row => ({
    ...row,
    // Ties share the better rank (1, 1, 3).
    rank: ranked.findIndex(other => other.score === row.score) + 1,
  }));
  const total =
    input.node.kind === 'enterprise'
      ? enterprises.find(row => row.nodeId === input.node.id)
      : regions.find(row => row.nodeId === input.node.id);

  return {
    month: formatMonth(input.month),
    timeZone: input.timeZone,
    from,
    to,
    generatedAt: input.now,
    complete,
    node: { id: input.node.id, name: input.node.name, kind: input.node.kind },
    scope: input.scope,
    source: input.source,
    notices: input.notices ?? [],
    total: total ?? emptyRow(input.node),
    regions,
    enterprises,
    daily: dailyCounts(
      input.raises.filter(raise => enterpriseOfSite.has(raise.siteId)),
      input.excluded,
      input.month,
      input.timeZone,
      to,
    ),
  };
}

/** The node and every node beneath it, in the tree's order. */
export function nodesBeneath(root: OrgNode, organisation: readonly OrgNode[]): OrgNode[] {
  const inside = new Set([root.id]);
  // Parents may come after their children in the file: repeat until nothing is added.
  for (let added = true; added;) {
    added = false;
    for (const node of organisation)
      if (!inside.has(node.id) && node.parent !== undefined && inside.has(node.parent)) {
        inside.add(node.id);
        added = true;
      }
  }
  return organisation.filter(node => inside.has(node.id));
}

function nodeFields(node: OrgNode): Pick<MonthlyReportRow, 'nodeId' | 'name' | 'kind' | 'parent'> {
  return { nodeId: node.id, name: node.name, kind: node.kind, parent: node.parent };
}

function emptyRow(node: OrgNode): MonthlyReportRow {
  return {
    ...nodeFields(node),
    members: [],
    alarms: alarmFigures([], [], new Map(), 0, 0, 0, new Set(), true),
    hazards: sumHazards([]),
    inspections: { missed: 0, madeUp: 0 },
    score: 100,
    deductions: [],
  };
}

interface Responses {
  readonly acknowledged: number[];
  readonly disposed: number[];
}

function responsesByAlarm(responses: readonly AlarmResponse[]): Map<string, Responses> {
  const byAlarm = new Map<string, Responses>();
  for (const response of responses) {
    let entry = byAlarm.get(response.alarmId);
    if (!entry) byAlarm.set(response.alarmId, (entry = { acknowledged: [], disposed: [] }));
    (response.action === 'acknowledge' ? entry.acknowledged : entry.disposed).push(response.at);
  }
  for (const entry of byAlarm.values()) {
    entry.acknowledged.sort((a, b) => a - b);
    entry.disposed.sort((a, b) => a - b);
  }
  return byAlarm;
}

/** The first time at or after `at`, or undefined. */
const firstFrom = (times: readonly number[] | undefined, at: number) =>
  times?.find(time => time >= at);

function alarmFigures(
  raises: readonly MonthlyRaise[],
  open: readonly Alarm[],
  responses: ReadonlyMap<string, Responses>,
  from: number,
  end: number,
  now: number,
  excluded: ReadonlySet<string>,
  complete: boolean,
): MonthlyAlarmFigures {
  const performance = alarmPerformance(raises, open, from, end, now, excluded);
  // The same activations alarmPerformance counts: in [from, end), tests left out.
  const counted = raises.filter(r => r.at >= from && r.at < end && !excluded.has(r.alarmId));
  const byCategory: Record<string, number> = {};
  const ackTimes: number[] = [];
  const disposeTimes: number[] = [];
  let unacknowledged = 0;
  for (const raise of counted) {
    const category = raise.category ?? 'unknown';
    byCategory[category] = (byCategory[category] ?? 0) + 1;
    const answered = responses.get(raise.alarmId);
    const acknowledged = firstFrom(answered?.acknowledged, raise.at);
    const disposed = firstFrom(answered?.disposed, raise.at);
    if (acknowledged !== undefined) ackTimes.push(acknowledged - raise.at);
    if (disposed !== undefined) disposeTimes.push(disposed - raise.at);
    if (acknowledged === undefined && disposed === undefined) unacknowledged += 1;
  }
  return {
    alarms: performance.alarms,
    byPriority: performance.byPriority,
    byCategory,
    per10MinAverage: performance.per10MinAverage,
    per10MinPeak: performance.per10MinPeak,
    perHourAverage: round(performance.per10MinAverage * TEN_MINUTE_WINDOWS_PER_HOUR),
    floods: performance.floods.length,
    timeInFloodPercent: performance.timeInFloodPercent,
    chattering: performance.chattering.length,
    standing: complete ? null : performance.standing.length,
    meanAckMs: mean(ackTimes),
    meanDisposeMs: mean(disposeTimes),
    unacknowledged,
  };
}

/** The hazard's state just before `asOf` (its history's last step before then), if it existed. */
function stateAt(hazard: Hazard, asOf: number): HazardState | undefined {
  let state: HazardState | undefined;
  for (const step of hazard.history) if (step.at < asOf) state = step.state;
  return state;
}

type MutableCounts = { -readonly [K in keyof MonthlyHazardCounts]: number };
const zeroCounts = (): MutableCounts => ({ general: 0, major: 0, total: 0 });

function hazardFigures(
  hazards: readonly Hazard[],
  from: number,
  to: number,
  end: number,
  complete: boolean,
): MonthlyHazardFigures {
  const opened = zeroCounts();
  const closed = zeroCounts();
  const openAtEnd = zeroCounts();
  const overdueAtEnd = zeroCounts();
  const count = (counts: MutableCounts, hazard: Hazard) => {
    counts[hazard.level] += 1;
    counts.total += 1;
  };
  // The current month: every step so far counts (end = now, inclusive).
  const asOf = complete ? to : end + 1;
  for (const hazard of hazards) {
    if (hazard.reportedAt >= from && hazard.reportedAt < to) count(opened, hazard);
    if (hazard.history.some(step => step.action === 'close' && step.at >= from && step.at < to))
      count(closed, hazard);
    const state = stateAt(hazard, asOf);
    if (state === undefined || state === 'closed') continue;
    count(openAtEnd, hazard);
    // The deadline of the plan as it stands (the history keeps the steps, not each plan).
    const deadline = hazard.plan.deadline;
    if (
      (state === 'assigned' || state === 'rectifying') &&
      deadline !== undefined &&
      deadline < asOf
    )
      count(overdueAtEnd, hazard);
  }
  return { opened, closed, openAtEnd, overdueAtEnd };
}

function sumHazards(figures: readonly MonthlyHazardFigures[]): MonthlyHazardFigures {
  const add = (pick: (f: MonthlyHazardFigures) => MonthlyHazardCounts): MonthlyHazardCounts => ({
    general: sum(figures.map(f => pick(f).general)),
    major: sum(figures.map(f => pick(f).major)),
    total: sum(figures.map(f => pick(f).total)),
  });
  return {
    opened: add(f => f.opened),
    closed: add(f => f.closed),
    openAtEnd: add(f => f.openAtEnd),
    overdueAtEnd: add(f => f.overdueAtEnd),
  };
}

function inspectionFigures(misses: readonly InspectionMiss[]): MonthlyInspectionFigures {
  return {
    missed: misses.length,
    madeUp: misses.filter(miss => miss.resolvedAt !== undefined).length,
  };
}

/** MONTHLY_SCORING applied: the deductions that took points, each capped. */
export function scoreDeductions(
  alarms: MonthlyAlarmFigures,
  hazards: MonthlyHazardFigures,
  inspections: MonthlyInspectionFigures,
): ScoreDeduction[] {
  const s = MONTHLY_SCORING;
  const capped = (count: number, rule: { points: number; cap: number }) =>
    Math.min(rule.cap, count * rule.points);
  const load =
    alarms.per10MinAverage > 2
      ? s.alarmLoad.above2Per10Min
      : alarms.per10MinAverage > 1
        ? s.alarmLoad.above1Per10Min
        : 0;
  const deductions: ScoreDeduction[] = [
    {
      reason: 'major-overdue',
      count: hazards.overdueAtEnd.major,
      points: capped(hazards.overdueAtEnd.major, s.majorOverdue),
    },
    {
      reason: 'general-overdue',
      count: hazards.overdueAtEnd.general,
      points: capped(hazards.overdueAtEnd.general, s.generalOverdue),
    },
    {
      reason: 'missed-inspection',
      count: inspections.missed,
      points: capped(inspections.missed, s.missedInspection),
    },
    { reason: 'alarm-load', count: alarms.per10MinAverage, points: load },
    { reason: 'floods', count: alarms.floods, points: capped(alarms.floods, s.floods) },
    {
      reason: 'standing',
      count: alarms.standing ?? 0,
      points: capped(alarms.standing ?? 0, s.standing),
    },
  ];
  return deductions.filter(deduction => deduction.points > 0);
}

/** Activations per local day of the month (tests left out). */
function dailyCounts(
  raises: readonly MonthlyRaise[],
  excluded: ReadonlySet<string>,
  month: CalendarMonth,
  timeZone: string,
  to: number,
): { date: string; alarms: number }[] {
  const days: { date: string; start: number; alarms: number }[] = [];
  for (let day = 1; ; day += 1) {
    const date = { ...month, day };
    const start = localMidnight(date, timeZone);
    if (start >= to || localDate(start, timeZone).month !== month.month) break;
    days.push({ date: formatLocalDate(date), start, alarms: 0 });
  }
  const first = days[0]?.start ?? to;
  for (const raise of raises) {
    if (raise.at < first || raise.at >= to || excluded.has(raise.alarmId)) continue;
    // The last day that starts at or before the activation.
    let index = days.length - 1;
    while (index > 0 && (days[index]?.start ?? 0) > raise.at) index -= 1;
    const day = days[index];
    if (day) day.alarms += 1;
  }
  return days.map(({ date, alarms }) => ({ date, alarms }));
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(item);
  }
  return groups;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.round(sum(values) / values.length);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
