/**
 * Inspection schedules (隐患排查计划, issue 15): checklists attached to an area or to equipment of a
 * site, each with the level of the organisation that inspects and its cadence; a missed
 * inspection is an alarm of its own (HAZ-04 「隐患不排查,系统有觉察」), and each failed item becomes
 * a hazard in the ledger (source `inspection`).
 *
 * Figures (tags as in `/work/shared/reference/policy-requirements.md`):
 * - Cadence by level: team daily, workshop weekly, plant monthly (「班组日查、车间周查、厂矿月查、
 *   集团公司季查」, HAZ-09, important).
 * - The principal person (主要负责人) leads at least one check per quarter, monthly in high-risk
 *   sectors (「每季度带队…至少开展1次检查」, HAZ-10): `principal` is quarterly by default, and a
 *   schedule may set `cadence: monthly` for a high-risk firm.
 * - Windows are calendar periods of the plant's local time (the site's `timeZone`, Asia/Shanghai
 *   by default): a local day, an ISO week from Monday 00:00, a calendar month, a calendar quarter
 *   (Jan/Apr/Jul/Oct). The documents give the cadence only; calendar windows are a proposal (P).
 */

import type { InspectionScheduleDefinition } from './inspections.schema';

/** Items of one checklist at most. */
export const MAX_INSPECTION_ITEMS = 100;

/** Who inspects: 班组 / 车间 / 厂级 / 主要负责人. */
export const INSPECTION_LEVELS = ['team', 'workshop', 'plant', 'principal'] as const;
export type InspectionLevel = (typeof INSPECTION_LEVELS)[number];

export const INSPECTION_CADENCES = ['daily', 'weekly', 'monthly', 'quarterly'] as const;
export type InspectionCadence = (typeof INSPECTION_CADENCES)[number];

/** Major-hazard-source guarantors (包保责任人, `guarantors.ts`): their duties are schedules too. */
export const GUARANTOR_TIERS = ['principal', 'technical', 'operational'] as const;
export type GuarantorTier = (typeof GUARANTOR_TIERS)[number];

/** HAZ-09 (team, workshop, plant) and HAZ-10 (principal person, quarterly). */
export const DEFAULT_INSPECTION_CADENCE: Readonly<Record<InspectionLevel, InspectionCadence>> = {
  team: 'daily',
  workshop: 'weekly',
  plant: 'monthly',
  principal: 'quarterly',
};

/** The plant's local time when its site names none. */
export const DEFAULT_SITE_TIME_ZONE = 'Asia/Shanghai';

export const INSPECTION_ANSWERS = ['pass', 'fail', 'na'] as const;
export type InspectionAnswer = (typeof INSPECTION_ANSWERS)[number];

/** One calendar window of a schedule, in the plant's local time. */
export interface InspectionWindow {
  /** The local date the window starts on (`2026-12-07`): unique per schedule. */
  readonly id: string;
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive: the window closes here. */
  readonly end: number;
}

/** One answered item of a record. */
export interface InspectionAnswerEntry {
  readonly itemId: string;
  readonly answer: InspectionAnswer;
  readonly note?: string | undefined;
  /** Failed items: the hazard it opened in the ledger. */
  readonly hazardId?: string | undefined;
  readonly hazardNo?: number | undefined;
}

/** An inspection done and signed (谁检查、谁签字、谁负责): the user who records it signs it. */
export interface InspectionRecord {
  readonly id: string;
  /** Record number, per Vigil instance. */
  readonly no: number;
  readonly scheduleId: string;
  readonly siteId: string;
  readonly enterprise: string;
  readonly level: InspectionLevel;
  readonly cadence: InspectionCadence;
  /** The window the inspection counts for (the one it was recorded in). */
  readonly windowId: string;
  /** The user who inspected and signed. */
  readonly by: string;
  readonly role: string;
  readonly at: number;
  readonly answers: readonly InspectionAnswerEntry[];
  readonly note?: string | undefined;
  /** Missed windows this (late) inspection resolved. */
  readonly resolvedWindows?: readonly string[] | undefined;
}

/** A window that closed without an inspection: raised as an alarm of its own. */
export interface InspectionMiss {
  readonly scheduleId: string;
  readonly siteId: string;
  readonly window: InspectionWindow;
  /** When Vigil found it missed (at or after the window's end). */
  readonly at: number;
  /** The missed-inspection alarm's key; absent when too old to raise (see the catch-up bound). */
  readonly alarmKey?: string | undefined;
  /** Resolved by a late inspection (the record's id and time). */
  readonly resolvedAt?: number | undefined;
  readonly resolvedBy?: string | undefined;
}

/** The rule id of the missed-inspection alarm. */
export const INSPECTION_MISSED_RULE_ID = 'inspection-missed';

/** The alarm's `deviceId`: `inspection-${scheduleId}` (schedule ids are at most 48 characters). */
export function inspectionSubject(scheduleId: string): string {
  return `inspection-${scheduleId}`;
}

/** `${siteId}/inspection-${scheduleId}/inspection-missed/${windowId}`: one alarm per window. */
export function inspectionMissedKey(siteId: string, scheduleId: string, windowId: string): string {
  return `${siteId}/${inspectionSubject(scheduleId)}/${INSPECTION_MISSED_RULE_ID}/${windowId}`;
}

/** A schedule as the API answers it: its definition and where it stands now. */
export interface InspectionScheduleView extends InspectionScheduleDefinition {
  readonly siteId: string;
  readonly enterprise: string;
  /** The effective cadence (the level's, or the definition's own). */
  readonly cadence: InspectionCadence;
  readonly timeZone: string;
  /** The window open now, and whether an inspection was recorded in it. */
  readonly current: InspectionWindow;
  readonly doneInCurrent: boolean;
  /** When the current window closes without a record, the inspection is missed: the due time. */
  readonly dueAt: number;
  /** Since when Vigil watches this schedule (its first window starts at or after this). */
  readonly watchedSince: number;
  readonly lastRecord?:
    { readonly id: string; readonly at: number; readonly by: string } | undefined;
  /** Missed windows not yet made up by an inspection (each has its alarm). */
  readonly missed: readonly InspectionMiss[];
  /** Missed and not made up: overdue (逾期未检). */
  readonly overdue: boolean;
}
