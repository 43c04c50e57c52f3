/**
 * The monthly report (月度报告, issue 15): per enterprise and rolled up per region (park, county,
 * city), the month's alarms and alarm-system KPIs, hazards opened, closed and overdue, missed
 * inspections, and a ranking of the enterprises (HAZ-04 「工作不落实,系统有评分」: the policy asks
 * for the score, not a formula; the formula below is a proposal). `GET /api/v1/reports/monthly`
 * answers it as JSON, HTML or PDF (docs/interfaces.md §Reports).
 */

import type { AlarmPriority } from './alarms';
import type { OrgKind } from './organisation';

/** `2026-11`: a calendar month of the plant's local time. */
export const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export const MONTHLY_REPORT_FORMATS = ['json', 'html', 'pdf'] as const;
export type MonthlyReportFormat = (typeof MONTHLY_REPORT_FORMATS)[number];

export const REPORT_LANGUAGES = ['zh', 'en'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

/** The month's alarms of one enterprise or region, and the EEMUA 191 / ISA-18.2 KPIs over them. */
export interface MonthlyAlarmFigures {
  /** Activations in the month (alarms disposed as `test` left out). */
  readonly alarms: number;
  readonly byPriority: Readonly<Record<AlarmPriority, number>>;
  /** By alarm class (process, warning, quality, system; `unknown` when not stored). */
  readonly byCategory: Readonly<Record<string, number>>;
  /** EEMUA 191: below 1 per 10 minutes per operator position is the target, above 2 needs work. */
  readonly per10MinAverage: number;
  readonly per10MinPeak: number;
  /** Alarms per operator-hour (one console scope = one operator position). */
  readonly perHourAverage: number;
  readonly floods: number;
  readonly timeInFloodPercent: number;
  /** Keys that chattered (3 activations within 1 minute) at least once. */
  readonly chattering: number;
  /**
   * Alarms active for more than 24 hours at the report's time: the current month only (the open
   * alarms of a past month's end are not kept), null otherwise.
   */
  readonly standing: number | null;
  /** Mean time from activation to the first acknowledgement, of the acknowledged ones (ms). */
  readonly meanAckMs: number | null;
  /** Mean time from activation to disposal (处置), of the disposed ones (ms). */
  readonly meanDisposeMs: number | null;
  /** Activated in the month and never acknowledged by the report's time. */
  readonly unacknowledged: number;
}

export interface MonthlyHazardCounts {
  readonly general: number;
  readonly major: number;
  readonly total: number;
}

/** Hazards of the ledger in the month (by the enterprise recorded on each hazard). */
export interface MonthlyHazardFigures {
  /** Reported in the month. */
  readonly opened: MonthlyHazardCounts;
  /** Closed (销号) in the month. */
  readonly closed: MonthlyHazardCounts;
  /** Not closed at the month's end (or now, for the current month). */
  readonly openAtEnd: MonthlyHazardCounts;
  /** Open and past their rectification deadline, not yet signed rectified, at the month's end. */
  readonly overdueAtEnd: MonthlyHazardCounts;
}

export interface MonthlyInspectionFigures {
  /** Inspection windows that closed in the month without an inspection (HAZ-04 系统有觉察). */
  readonly missed: number;
  /** Of those, made up by a late inspection since. */
  readonly madeUp: number;
}

/** One deduction of the score: what it counts, how many, and the points it took. */
export interface ScoreDeduction {
  readonly reason:
    | 'major-overdue'
    | 'general-overdue'
    | 'missed-inspection'
    | 'alarm-load'
    | 'floods'
    | 'standing';
  readonly count: number;
  readonly points: number;
}

/** One enterprise, or one region (its enterprises summed; KPIs over all their alarms). */
export interface MonthlyReportRow {
  readonly nodeId: string;
  readonly name: string;
  readonly kind: OrgKind;
  readonly parent?: string | undefined;
  /** Enterprises: their sites in the report; regions: their enterprises. */
  readonly members: readonly string[];
  readonly alarms: MonthlyAlarmFigures;
  readonly hazards: MonthlyHazardFigures;
  readonly inspections: MonthlyInspectionFigures;
  /**
   * 0–100 (proposal, see MONTHLY_SCORING): enterprises their own; a region the mean of its
   * enterprises' scores.
   */
  readonly score: number;
  readonly deductions: readonly ScoreDeduction[];
  /** Enterprises: 1 = the best score of the report (ties share the rank). */
  readonly rank?: number | undefined;
}

export interface MonthlyReport {
  /** `2026-11`. */
  readonly month: string;
  /** The IANA zone the month's boundaries are in (the sites' own, Asia/Shanghai by default). */
  readonly timeZone: string;
  /** Epoch ms: the month's first local midnight, included. */
  readonly from: number;
  /** Epoch ms: the next month's first local midnight, excluded. */
  readonly to: number;
  /** When the report was made; before `to` for the current month (then `complete` is false). */
  readonly generatedAt: number;
  readonly complete: boolean;
  /** The organisation node reported on (at or beneath the user's own). */
  readonly node: { readonly id: string; readonly name: string; readonly kind: OrgKind };
  /** The user's organisation node. */
  readonly scope: string;
  /** Where the activations came from: InfluxDB (they survive restarts) or the gateway's memory. */
  readonly source: 'influxdb' | 'memory';
  /** Set when part of the data could not be read (e.g. InfluxDB down: memory instead). */
  readonly notices: readonly string[];
  /** The node's whole subtree. */
  readonly total: MonthlyReportRow;
  /** Regions (city, county, park) at and beneath the node, in the registry's order. */
  readonly regions: readonly MonthlyReportRow[];
  /** Enterprises, best score first (the ranking). */
  readonly enterprises: readonly MonthlyReportRow[];
  /** Activations per local day of the month over the whole node (the chart). */
  readonly daily: readonly { readonly date: string; readonly alarms: number }[];
}
