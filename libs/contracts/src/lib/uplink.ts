import { z } from 'zod';

/**
 * The uplink (issue 15, 市县企三级联网, NET-01): what a Vigil at an enterprise forwards to the Vigil
 * of its park, county or city over `POST /api/v1/uplink/batches`. The shape follows the national
 * hazchem risk monitoring system's data access as far as it is known (docs/interfaces.md §Uplink
 * says what is an assumption): the enterprise by its 统一社会信用代码, a major hazard source by its
 * code (重大危险源编码), a reading by its point code (指标编码), a value and a time, an alarm by
 * its type.
 */

/** 统一社会信用代码 (GB 32100-2015): 18 characters, digits and upper-case letters without I O Z S V. */
export const ENTERPRISE_CODE_PATTERN = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;
/** Codes Vigil makes up (hazard source, point): registry ids joined by `.`, bounded. */
const code = z.string().regex(/^[A-Za-z0-9_.-]{1,160}$/, 'must match [A-Za-z0-9_.-]{1,160}');
const text = (max: number) => z.string().max(max);
const time = z.number().int().min(0);

/** Items in one batch at most (the lower's VIGIL_UPLINK_BATCH is at most this). */
export const UPLINK_MAX_BATCH = 1000;
/** Points in one real-time item at most. */
export const UPLINK_MAX_POINTS = 500;

/** Alarm types as the national system words them (超上限 H, 超上上限 HH, …); `other` otherwise. */
export const UPLINK_ALARM_TYPES = ['H', 'HH', 'L', 'LL', 'offline', 'fault', 'other'] as const;
export type UplinkAlarmType = (typeof UPLINK_ALARM_TYPES)[number];

export const uplinkPointSchema = z.strictObject({
  /** 指标编码: `<deviceId>.<metric>` (assumption: the national code is assigned at onboarding). */
  pointCode: code,
  siteId: text(64),
  deviceId: text(64),
  metric: text(64),
  value: z.union([z.number(), z.boolean()]),
  /** Device time of the reading, epoch ms. */
  time,
});

/** Major-hazard real-time data: the latest value of each point of one unit at a sample tick. */
export const uplinkRealtimeSchema = z.strictObject({
  seq: z.number().int().min(1),
  kind: z.literal('realtime'),
  /** 重大危险源编码: `<siteId>.<unitId>` (assumption, see docs). */
  hazardSourceCode: code,
  hazardSourceName: text(200),
  /** When the sample was taken (server time), epoch ms. */
  at: time,
  points: z.array(uplinkPointSchema).min(1).max(UPLINK_MAX_POINTS),
});

/** One lifecycle transition of an alarm, with the alarm's state after it. */
export const uplinkAlarmSchema = z.strictObject({
  seq: z.number().int().min(1),
  kind: z.literal('alarm'),
  alarmId: text(64),
  /** raise, acknowledge, clear, dispose, … (Vigil's alarm actions). */
  transition: text(32),
  /** The alarm's state after the transition. */
  state: text(32),
  alarmType: z.enum(UPLINK_ALARM_TYPES),
  priority: z.number().int().min(1).max(4),
  category: text(32),
  siteId: text(64),
  deviceId: text(64),
  /** The point whose value raised it, when a metric did. */
  pointCode: code.optional(),
  /** The major hazard sources it belongs to (empty: none). */
  hazardSourceCodes: z.array(code).max(20),
  value: z.union([z.number(), z.boolean()]).optional(),
  threshold: z.number().optional(),
  message: text(2000),
  raisedAt: time,
  clearedAt: time.optional(),
  /** When the transition happened, epoch ms. */
  at: time,
  by: text(64).optional(),
  disposition: text(32).optional(),
});

/** One step of a hazard (隐患) of the ledger, with the hazard's state after it. */
export const uplinkHazardSchema = z.strictObject({
  seq: z.number().int().min(1),
  kind: z.literal('hazard'),
  hazardId: text(64),
  /** Which step of the hazard's history this is (1 = its report): the lower's position in it. */
  step: z.number().int().min(1).optional(),
  /** The lower's ledger number (一患一档). */
  no: z.number().int().min(1),
  /** reported, assigned, …, closed (Vigil's hazard steps). */
  transition: text(32),
  state: text(32),
  level: z.enum(['general', 'major']),
  title: text(200),
  siteId: text(64),
  hazardSourceCodes: z.array(code).max(20),
  responsible: text(200).optional(),
  deadline: time.optional(),
  overdue: z.boolean(),
  reportedAt: time,
  closedAt: time.optional(),
  at: time,
  by: text(64).optional(),
});

/**
 * What became of an instruction from the upper (an approval of a major hazard) at the lower:
 * applied as the hazard's step, or refused (the hazard changed meanwhile), carried back up.
 */
export const uplinkOrderOutcomeSchema = z.strictObject({
  seq: z.number().int().min(1),
  kind: z.literal('outcome'),
  /** The upper's order (its `id` and `seq`) this answers. */
  orderId: text(64),
  orderSeq: z.number().int().min(1),
  outcome: z.enum(['applied', 'refused']),
  /** Why it was refused (the lower's ledger's answer). */
  message: text(500).optional(),
  hazardId: text(64).optional(),
  at: time,
});

export const uplinkItemSchema = z.discriminatedUnion('kind', [
  uplinkRealtimeSchema,
  uplinkAlarmSchema,
  uplinkHazardSchema,
  uplinkOrderOutcomeSchema,
]);
export type UplinkItem = z.infer<typeof uplinkItemSchema>;
export type UplinkRealtime = z.infer<typeof uplinkRealtimeSchema>;
export type UplinkAlarm = z.infer<typeof uplinkAlarmSchema>;
export type UplinkHazard = z.infer<typeof uplinkHazardSchema>;
export type UplinkPoint = z.infer<typeof uplinkPointSchema>;
export type UplinkOrderOutcome = z.infer<typeof uplinkOrderOutcomeSchema>;
/** An item before the outbox numbers it. */
export type UplinkItemBody =
  | Omit<UplinkRealtime, 'seq'>
  | Omit<UplinkAlarm, 'seq'>
  | Omit<UplinkHazard, 'seq'>
  | Omit<UplinkOrderOutcome, 'seq'>;

export const uplinkBatchSchema = z.strictObject({
  version: z.literal(1),
  enterpriseCode: z
    .string()
    .regex(ENTERPRISE_CODE_PATTERN, 'not a 统一社会信用代码 (18 characters)'),
  enterpriseName: text(200).optional(),
  /** The lower's clock when it sent the batch, epoch ms (shown, never trusted for order). */
  sentAt: time,
  /** In seq order, contiguous, starting at the lower's oldest unacknowledged item. */
  items: z.array(uplinkItemSchema).min(1).max(UPLINK_MAX_BATCH),
});
export type UplinkBatch = z.infer<typeof uplinkBatchSchema>;

/** The upper's answer to a batch: the highest seq it holds durably, with every seq below it. */
export interface UplinkAck {
  readonly acked: number;
  /** Items of this batch stored now. */
  readonly accepted: number;
  /** Items of this batch it already had (a retry after a lost answer). */
  readonly duplicates: number;
  /** Seqs the upper will never receive (it had acknowledged less than the lower still holds). */
  readonly gap?: { readonly from: number; readonly to: number } | undefined;
}

/** One transition as the upper received it (the upper's ledger of what came up). */
export interface UplinkStep {
  readonly seq: number;
  readonly transition: string;
  readonly state: string;
  readonly at: number;
  readonly by?: string | undefined;
}

/** Steps kept per alarm or hazard in the upper's read model (the newest). */
export const UPLINK_STEPS_KEPT = 50;

/** The upper's read model of one enterprise below it (`GET /api/v1/uplink/enterprises`). */
export interface UplinkEnterprise {
  readonly enterpriseCode: string;
  readonly name: string;
  /** The organisation node of the upper under which the enterprise sits (its link's `node`). */
  readonly node: string;
  readonly acked: number;
  readonly lastReceivedAt: number | undefined;
  /** Seqs the lower no longer had when this upper asked for them (the upper lost its state). */
  readonly gaps: readonly { readonly from: number; readonly to: number; readonly at: number }[];
  /** Items stored from this enterprise, by kind, since this upper first heard of it. */
  readonly received: {
    readonly realtime: number;
    readonly alarm: number;
    readonly hazard: number;
    /** The lower's answers to approvals (always given by this Vigil; optional for older readers). */
    readonly outcome?: number;
  };
  /**
   * Latest state of each alarm heard of (open ones, and the most recent closed ones), with the
   * transitions received (the newest UPLINK_STEPS_KEPT).
   */
  readonly alarms: readonly (UplinkAlarm & { readonly steps: readonly UplinkStep[] })[];
  /** Latest state of each hazard of its ledger, with the steps received. */
  readonly hazards: readonly (UplinkHazard & { readonly steps: readonly UplinkStep[] })[];
  /** Latest sample of each major hazard source. */
  readonly realtime: readonly UplinkRealtime[];
  /** Supervision orders issued to it here (the newest 1000). */
  readonly orders: readonly SupervisionOrder[];
}

/** The lower's forwarder as /readyz, the metrics and the console banner show it. */
export interface UplinkStatus {
  readonly ok: boolean;
  readonly url: string;
  readonly enterpriseCode: string;
  /** Items waiting for the upper's acknowledgement. */
  readonly backlog: number;
  readonly capacity: number;
  readonly oldestPendingAt: number | undefined;
  readonly lastSeq: number;
  readonly ackedSeq: number;
  readonly lastSuccessAt: number | undefined;
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  /** Items refused because the outbox was full, since start (by kind). */
  readonly dropped: Readonly<Record<string, number>>;
}

/**
 * A supervision order (挂牌督办) an upper Vigil issues to an enterprise below it: recorded at the
 * upper, fetched by the lower on its next exchange, shown there.
 */
export interface SupervisionOrder {
  /** Per enterprise, from 1: the lower asks for the orders after the newest it holds. */
  readonly seq: number;
  readonly id: string;
  /**
   * `order` (挂牌督办, shown; absent in orders from before approvals) or `approve`: the approval
   * of the major hazard `hazardId`, applied at the lower as the hazard's `approve` step signed
   * `<issuedByNode>:<issuedBy>`.
   */
  readonly kind?: 'order' | 'approve' | undefined;
  readonly enterpriseCode: string;
  readonly title: string;
  readonly text: string;
  /** The lower's hazard it is about, if any. */
  readonly hazardId?: string | undefined;
  /** epoch ms */
  readonly deadline?: number | undefined;
  readonly issuedBy: string;
  /** The issuing user's organisation node at the upper (the authority). */
  readonly issuedByNode: string;
  /** The issuing user's role at the upper (approvals: the step's role at the lower). */
  readonly issuedByRole?: string | undefined;
  readonly issuedAt: number;
  /** Approvals: what the lower did with it, once it said (carried up as an `outcome` item). */
  readonly outcome?: UplinkOrderOutcomeView | undefined;
}

/** The lower's answer to an approval as the upper shows it. */
export interface UplinkOrderOutcomeView {
  readonly outcome: 'applied' | 'refused';
  readonly message?: string | undefined;
  /** The lower's time, epoch ms. */
  readonly at: number;
}

export const supervisionApprovalBody = z.strictObject({
  note: z.string().trim().max(2000).optional(),
});

export const supervisionOrderBody = z.strictObject({
  title: z.string().trim().min(1).max(200),
  text: z.string().max(4000).default(''),
  hazardId: z.string().min(1).max(64).optional(),
  deadline: z.number().int().min(0).optional(),
});

export const supervisionOrderSchema = z.strictObject({
  seq: z.number().int().min(1),
  id: z.string().min(1).max(64),
  kind: z.enum(['order', 'approve']).optional(),
  enterpriseCode: z.string().regex(ENTERPRISE_CODE_PATTERN),
  title: z.string().max(200),
  text: z.string().max(4000),
  hazardId: z.string().max(64).optional(),
  deadline: z.number().int().min(0).optional(),
  issuedBy: z.string().max(64),
  issuedByNode: z.string().max(64),
  issuedByRole: z.string().max(32).optional(),
  issuedAt: z.number().int().min(0),
  outcome: z
    .strictObject({
      outcome: z.enum(['applied', 'refused']),
      message: z.string().max(500).optional(),
      at: z.number().int().min(0),
    })
    .optional(),
});

/** Orders answered per fetch at most (the lower asks again for the rest). */
export const UPLINK_MAX_ORDERS = 100;
