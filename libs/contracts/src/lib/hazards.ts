/**
 * The hazard ledger (隐患排查治理台账): every hidden hazard found on site, from an alarm's disposal,
 * an inspection or a report by hand, followed from report to close-out (销号) with the five fields
 * (五落实) and a signed, append-only history (谁检查、谁签字、谁负责). Policy: HAZ-01 … HAZ-07,
 * HAZ-14, HAZ-18 … HAZ-21 in docs/policy-requirements (shared reference).
 */

/** 一般隐患 / 重大事故隐患: a major hazard needs an approver above the enterprise to close. */
export const HAZARD_LEVELS = ['general', 'major'] as const;
export type HazardLevel = (typeof HAZARD_LEVELS)[number];

/** HAZ-02: reported → assigned → rectifying → rectified → accepted → closed (销号). */
export const HAZARD_STATES = [
  'reported',
  'assigned',
  'rectifying',
  'rectified',
  'accepted',
  'closed',
] as const;
export type HazardState = (typeof HAZARD_STATES)[number];

/** Where it was found (HAZ-11): an alarm disposed on site, an inspection, a report by hand. */
export const HAZARD_SOURCES = ['alarm', 'inspection', 'manual'] as const;
export type HazardSource = (typeof HAZARD_SOURCES)[number];

/** Alarm dispositions that found something real on site: only these may open a hazard. */
export const HAZARD_DISPOSITIONS = ['real-event', 'device-fault'] as const;

/**
 * The steps a user commands, in the ledger's order (HAZ-02): what the lifecycle's
 * `applyHazardCommand` (@vigil/alarms) applies, `POST /api/v1/hazards/{id}/{action}` accepts, the
 * console offers and a scenario's hazard step may do. The one list of them: an action Vigil
 * records by itself (report, remind, escalate, photo) is never a command.
 */
export const HAZARD_COMMANDS = [
  /** The five fields are complete and a rectifier is named (HAZ-18 整改通知). */
  'assign',
  /** The rectifier starts the work. */
  'start',
  /** Interim protective measures while it cannot be fixed at once (HAZ-21). */
  'interim',
  /** The rectifier signs that the work is done. */
  'rectify',
  /** Acceptance refused: back to rectifying, with the reason. */
  'reject',
  /** Re-checked and accepted by someone other than the rectifier (HAZ-19). */
  'accept',
  /** Major hazards: approved for close-out above the enterprise (HAZ-14). */
  'approve',
  /** 销号. */
  'close',
] as const;
export type HazardCommandName = (typeof HAZARD_COMMANDS)[number];

/**
 * Every step a hazard's history records (`HazardAction.action`): its report, the commands a user
 * gives (`HAZARD_COMMANDS`), and what Vigil records by itself.
 */
export const HAZARD_ACTIONS = [
  'report',
  ...HAZARD_COMMANDS,
  /** Vigil: the deadline passed, the responsible person is reminded (HAZ-04 系统有警示). */
  'remind',
  /** Vigil: still overdue, escalated one level up the organisation tree (HAZ-07). */
  'escalate',
  /** A photo stored with the hazard, signed by its uploader (issue 15: reported with photos). */
  'photo',
] as const;
export type HazardActionName = (typeof HAZARD_ACTIONS)[number];

/** 五落实 (HAZ-05): responsibility, measures, funds, time limit, contingency plan. */
export interface HazardPlan {
  /** The person responsible for the rectification (name, post or user id). */
  readonly responsible: string;
  readonly measures: string;
  /** Funds set aside, in yuan (元). */
  readonly funds: number;
  /** The rectification deadline (epoch ms). */
  readonly deadline: number;
  readonly contingencyPlan: string;
}
export const HAZARD_PLAN_FIELDS = [
  'responsible',
  'measures',
  'funds',
  'deadline',
  'contingencyPlan',
] as const satisfies readonly (keyof HazardPlan)[];

/**
 * Photo formats a hazard accepts, recognised by their magic bytes (never by the client's
 * Content-Type): JPEG, PNG, WebP.
 */
export const HAZARD_PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type HazardPhotoType = (typeof HAZARD_PHOTO_TYPES)[number];

/** The step a photo is evidence for: the hazard as found, or the rectification (整改前后). */
export const HAZARD_PHOTO_STEPS = ['report', 'rectify'] as const;
export type HazardPhotoStep = (typeof HAZARD_PHOTO_STEPS)[number];

/**
 * A photo stored with a hazard (`GET /api/v1/hazards/{id}/photos/{sha256}`), content-addressed:
 * the same bytes are one photo, stored once.
 */
export interface HazardPhoto {
  /** Lower-case hex SHA-256 of the file: its name and its address. */
  readonly sha256: string;
  readonly type: HazardPhotoType;
  readonly bytes: number;
  /** The step it is evidence for. */
  readonly step: HazardPhotoStep;
  readonly at: number;
  /** The user who uploaded it. */
  readonly by: string;
}

/** One signed step of a hazard's history; entries are only ever appended. */
export interface HazardAction {
  readonly action: HazardActionName;
  readonly at: number;
  /** The user who did it (`vigil` for reminders and escalations). */
  readonly by: string;
  readonly role: string;
  readonly note?: string | undefined;
  /** The state after this step. */
  readonly state: HazardState;
  /** Escalations: the organisation node it went to. */
  readonly nodeId?: string | undefined;
  /**
   * `approve` steps that came from an upper Vigil (issue 15): the upper's order id that carried
   * it down, so that a repeated fetch never approves twice.
   */
  readonly upperOrder?: string | undefined;
  /** `photo` steps: the photo stored (its SHA-256, type, size and the step it documents). */
  readonly photo?:
    | {
        readonly sha256: string;
        readonly type: HazardPhotoType;
        readonly bytes: number;
        readonly step: HazardPhotoStep;
      }
    | undefined;
}

/** A hazard found by an inspection: the signed record and the checklist item that failed. */
export interface HazardInspectionLink {
  readonly recordId: string;
  readonly recordNo: number;
  readonly scheduleId: string;
  readonly itemId: string;
}

export interface Hazard {
  readonly id: string;
  /** The ledger number (一患一档), counted per Vigil instance from 1. */
  readonly no: number;
  readonly title: string;
  readonly description: string;
  readonly level: HazardLevel;
  readonly state: HazardState;
  readonly source: HazardSource;
  /** The alarm whose disposal found it (source `alarm`). */
  readonly alarmId?: string | undefined;
  /** The inspection whose failed item found it (source `inspection`, issue 15). */
  readonly inspection?: HazardInspectionLink | undefined;
  readonly siteId: string;
  /** The site's enterprise when the hazard was reported (statistics, approval). */
  readonly enterprise: string;
  readonly areaId?: string | undefined;
  readonly deviceIds: readonly string[];
  /**
   * References to photos kept elsewhere (URLs or file ids), given with the report; the photos
   * Vigil stores itself are `photoFiles`.
   */
  readonly photos: readonly string[];
  /** Photos stored by Vigil, in upload order (absent: none); each also a `photo` history step. */
  readonly photoFiles?: readonly HazardPhoto[] | undefined;
  /** 五落实: partial until assignment, complete from then on. */
  readonly plan: Partial<HazardPlan>;
  readonly interimMeasures?: string | undefined;
  readonly reportedBy: string;
  readonly reportedAt: number;
  readonly updatedAt: number;
  /** The user who does the rectification. */
  readonly assignee?: string | undefined;
  readonly rectifiedBy?: string | undefined;
  readonly acceptedBy?: string | undefined;
  readonly approvedBy?: string | undefined;
  readonly closedBy?: string | undefined;
  readonly closedAt?: number | undefined;
  /** The deadline passed before the work was signed done (set by Vigil, stays on the record). */
  readonly overdue?: boolean | undefined;
  readonly remindedAt?: number | undefined;
  /** Escalation up the organisation tree: 1 = the level above the enterprise, … */
  readonly escalation?:
    { readonly level: number; readonly nodeId: string; readonly at: number } | undefined;
  readonly history: readonly HazardAction[];
}

/** `POST /api/v1/hazards/{id}/photos` answers this (201 stored, 200 the same bytes again). */
export interface HazardPhotoUpload {
  readonly photo: HazardPhoto;
  /** The same bytes were already on this hazard: nothing was added. */
  readonly duplicate: boolean;
  readonly hazard: Hazard;
}

/** Open = not closed. Overdue now = open, not yet rectified, past its deadline. */
export function hazardOverdue(hazard: Hazard, now: number): boolean {
  return (
    (hazard.state === 'assigned' || hazard.state === 'rectifying') &&
    hazard.plan.deadline !== undefined &&
    hazard.plan.deadline < now
  );
}

/** Counts per level of one enterprise or site (GET /api/v1/hazards/stats). */
export interface HazardCounts {
  readonly open: number;
  readonly overdue: number;
  readonly closed: number;
}
export interface HazardStatsRow {
  /** Rows by enterprise and by site. */
  readonly enterprise?: string | undefined;
  /** Rows by site. */
  readonly siteId?: string | undefined;
  /** Rows by region (HAZ-12): a city, county or park node, counting everything beneath it. */
  readonly nodeId?: string | undefined;
  readonly levels: Readonly<Record<HazardLevel, HazardCounts>>;
  readonly total: HazardCounts;
}
export const HAZARD_STATS_BY = ['enterprise', 'site', 'region'] as const;
export type HazardStatsBy = (typeof HAZARD_STATS_BY)[number];
export interface HazardStats {
  readonly at: number;
  readonly by: HazardStatsBy;
  readonly rows: readonly HazardStatsRow[];
}
