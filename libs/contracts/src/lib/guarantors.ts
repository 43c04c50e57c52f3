/**
 * Major-hazard-source guarantors (重大危险源安全包保责任人, issue 15): each GB 18218-2018 unit of a
 * site (`sites[].hazardUnits[]`) may name its principal, technical and operational guarantors,
 * users of the users file who see the site. Each guarantor's online duty (线上履职) is a periodic
 * check with a task list (包保责任人隐患排查任务清单, RSP-01), run by the inspection schedules: the
 * registry derives one schedule per guarantor, assigned to that user, and a missed window raises
 * `inspection-missed` naming the guarantor. Alarms of the unit's devices and area, and its hazards,
 * name the unit's guarantors (API `GET /api/v1/guarantors`, the notifier's annotation).
 *
 * Figures (tags as in `/work/shared/reference/policy-requirements.md`):
 * - RSP-01 (important): guarantors perform their duties online, each with a hazard-check task
 *   list; routing alarms and tasks to them is the reference's own inference.
 * - The three tiers (principal 主要负责人, technical 技术负责人, operational 操作负责人) are national
 *   practice, not in the policy documents (glossary: "inference").
 * - The cadences (principal quarterly, technical monthly, operational weekly) are a proposal (P),
 *   consistent with HAZ-10 for the principal person (at least one check per quarter); a unit may
 *   set each tier's cadence.
 */

import type {
  GuarantorTier,
  InspectionCadence,
  InspectionMiss,
  InspectionWindow,
} from './inspections';
import type { InspectionItem } from './inspections.schema';

export const GUARANTOR_TIER_NAMES_ZH: Readonly<Record<GuarantorTier, string>> = {
  principal: '主要负责人',
  technical: '技术负责人',
  operational: '操作负责人',
};

/** Proposal (P): HAZ-10 gives the principal person's quarter; the other two are proposed. */
export const DEFAULT_GUARANTOR_CADENCE: Readonly<Record<GuarantorTier, InspectionCadence>> = {
  principal: 'quarterly',
  technical: 'monthly',
  operational: 'weekly',
};

/**
 * The task list each tier checks unless the unit gives its own (proposal, P: the documents name
 * the list, 任务清单, not its lines).
 */
export const DEFAULT_GUARANTOR_ITEMS: Readonly<Record<GuarantorTier, readonly InspectionItem[]>> = {
  principal: [
    {
      id: 'system',
      text: '包保责任制与安全管理制度落实 Guarantor system and safety rules in force',
    },
    { id: 'resources', text: '安全投入与人员配备到位 Safety funds and staffing in place' },
    {
      id: 'major-hazards',
      text: '重大事故隐患排查整治 Major hazards found and being fixed',
      hazardLevel: 'major',
    },
  ],
  technical: [
    {
      id: 'monitoring',
      text: '监测监控系统正常、报警值设定正确 Monitoring online, alarm set points right',
    },
    {
      id: 'interlocks',
      text: '安全联锁、紧急切断投用 Safety interlocks and emergency shut-off in service',
    },
    { id: 'hazards', text: '隐患整改措施有效 Hazard rectifications effective' },
  ],
  operational: [
    { id: 'parameters', text: '工艺参数在控制范围内 Process parameters within limits' },
    { id: 'equipment', text: '设备设施无泄漏、无异常 Equipment without leaks or anomalies' },
    { id: 'alarms', text: '报警及时处置 Alarms dealt with in time' },
  ],
};

/** The unit's id is at most this long when it names guarantors (the duty schedule ids). */
export const MAX_GUARANTEED_UNIT_ID = 32;

/** `mhs-${unitId}-${tier}`: the inspection schedule of one guarantor's duty (≤ 48 characters). */
export function guarantorDutyId(unitId: string, tier: GuarantorTier): string {
  return `mhs-${unitId}-${tier}`;
}

/** One guarantor of a source as the API answers it, with where their duty stands. */
export interface GuarantorView {
  readonly tier: GuarantorTier;
  readonly userId: string;
  /** The user's name (users file); absent if the user left it since the registry was loaded. */
  readonly name?: string | undefined;
  /** Absent when inspections do not run in this process (split deployment: see inspections). */
  readonly duty?:
    | {
        readonly scheduleId: string;
        readonly cadence: InspectionCadence;
        readonly current: InspectionWindow;
        readonly doneInCurrent: boolean;
        readonly dueAt: number;
        readonly lastRecord?:
          { readonly id: string; readonly at: number; readonly by: string } | undefined;
        /** Missed windows not yet made up (each has its `inspection-missed` alarm). */
        readonly missed: readonly InspectionMiss[];
        readonly overdue: boolean;
      }
    | undefined;
}

/** A major hazard source (a GB 18218-2018 unit) and its guarantors. */
export interface MhsGuarantorsView {
  readonly siteId: string;
  readonly enterprise: string;
  readonly unitId: string;
  readonly unitName: string;
  readonly areaId?: string | undefined;
  /** Empty when the unit names none (shown as a gap: nobody answers for the source). */
  readonly guarantors: readonly GuarantorView[];
  /** Open alarms of the source (its area, its tanks, its duties). */
  readonly openAlarms: number;
  /** Overdue hazards at the source, which its guarantors answer for. */
  readonly overdueHazards: ReadonlyArray<{
    readonly id: string;
    readonly no: number;
    readonly title: string;
  }>;
}
