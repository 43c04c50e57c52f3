import {
  DEFAULT_GUARANTOR_CADENCE,
  DEFAULT_GUARANTOR_ITEMS,
  GUARANTOR_TIERS,
  GUARANTOR_TIER_NAMES_ZH,
  MAX_GUARANTEED_UNIT_ID,
  guarantorDutyId,
  inspectionSubject,
  type GuarantorTier,
  type InspectionCadence,
  type InspectionItem,
  type InspectionLevel,
} from '@vigil/contracts';
import type { MhsUnitEntry } from '@vigil/rules';

import type { InspectionScheduleEntry, Site } from './registry.schema';

/**
 * Major-hazard-source guarantors (包保责任人, issue 15, RSP-01): the registry's side. A unit's
 * guarantors become inspection schedules (one per tier, assigned to the user), so that their
 * online duty is watched, recorded, missed and alarmed by the one inspection mechanism; and an
 * alarm or hazard is matched to the units it belongs to, whose guarantors answer for it.
 * That the users exist and see the site is checked where the users are (the gateway's
 * AuthorizationService), at start and before a reload is applied.
 */

/** One tier of a unit, with its effective cadence and task list. */
export interface Guarantor {
  readonly tier: GuarantorTier;
  readonly userId: string;
  readonly cadence: InspectionCadence;
  readonly items: readonly InspectionItem[];
}

/**
 * The inspection level a tier's duty is filed under (its metrics label and its default cadence,
 * which coincide with the tiers' proposed ones: principal quarterly per HAZ-10, plant monthly and
 * workshop weekly per HAZ-09).
 */
const LEVEL_OF_TIER: Readonly<Record<GuarantorTier, InspectionLevel>> = {
  principal: 'principal',
  technical: 'plant',
  operational: 'workshop',
};

/** A unit's guarantors with their cadences and task lists resolved; empty when it names none. */
export function guarantorsOf(unit: Pick<MhsUnitEntry, 'guarantors'>): Guarantor[] {
  const given = unit.guarantors;
  if (!given) return [];
  return GUARANTOR_TIERS.map(tier => {
    const entry = given[tier];
    const spec: {
      readonly user: string;
      readonly cadence?: InspectionCadence | undefined;
      readonly items?: readonly InspectionItem[] | undefined;
    } = typeof entry === 'string' ? { user: entry } : entry;
    return {
      tier,
      userId: spec.user,
      cadence: spec.cadence ?? DEFAULT_GUARANTOR_CADENCE[tier],
      items: spec.items ?? DEFAULT_GUARANTOR_ITEMS[tier],
    };
  });
}

/**
 * The duty schedules of a site's guarantors, and the problems that stop them (paths relative to
 * the site): a unit id too long for the schedule ids, a hand-written schedule that takes a duty's
 * id or claims to be a duty. `tanksOf` gives a unit's tanks (devices whose `unit` attribute names
 * it): the duty inspects them and the unit's area.
 */
export function guarantorDuties(
  site: Pick<Site, 'hazardUnits' | 'inspections'>,
  tanksOf: (unitId: string) => readonly string[],
): { readonly schedules: InspectionScheduleEntry[]; readonly problems: string[] } {
  const problems: string[] = [];
  const schedules: InspectionScheduleEntry[] = [];
  const handWritten = new Set((site.inspections ?? []).map(schedule => schedule.id));
  for (const schedule of site.inspections ?? [])
    if (schedule.guarantor !== undefined)
      problems.push(
        `inspections.${schedule.id}.guarantor: set by hazardUnits[].guarantors, not by hand`,
      );
  for (const unit of site.hazardUnits ?? []) {
    const guarantors = guarantorsOf(unit);
    if (guarantors.length === 0) continue;
    const at = `hazardUnits.${unit.id}.guarantors`;
    if (unit.id.length > MAX_GUARANTEED_UNIT_ID) {
      problems.push(
        `${at}: a unit that names guarantors has an id of at most ${MAX_GUARANTEED_UNIT_ID} characters (its duties are the inspection schedules mhs-<unit>-<tier>)`,
      );
      continue;
    }
    const tanks = tanksOf(unit.id).slice(0, 100);
    for (const guarantor of guarantors) {
      const id = guarantorDutyId(unit.id, guarantor.tier);
      if (handWritten.has(id)) {
        problems.push(
          `inspections.${id}: the id of the ${guarantor.tier} guarantor's duty of unit ${unit.id}; rename the schedule`,
        );
        continue;
      }
      const zh = GUARANTOR_TIER_NAMES_ZH[guarantor.tier];
      schedules.push({
        id,
        name: `${unit.name} 包保责任人履职（${zh}）Guarantor duty (${guarantor.tier})`,
        level: LEVEL_OF_TIER[guarantor.tier],
        cadence: guarantor.cadence,
        ...(unit.area !== undefined ? { area: unit.area } : {}),
        ...(tanks.length > 0 ? { devices: [...tanks] } : {}),
        equipment: unit.name,
        responsible: `包保责任人（${zh}）${guarantor.tier} guarantor: ${guarantor.userId}`,
        assignee: guarantor.userId,
        guarantor: { unit: unit.id, tier: guarantor.tier },
        items: [...guarantor.items],
      });
    }
  }
  return { schedules, problems };
}

/** What an alarm or a hazard says about where it is. */
export interface SourceSubject {
  readonly siteId: string;
  /** The alarm's device, or a hazard's devices. */
  readonly deviceIds?: readonly string[] | undefined;
  readonly areaId?: string | undefined;
}

/** What the matching needs of a registry (`Registry` has it). */
export interface SourceRegistry {
  site(siteId: string): Pick<Site, 'hazardUnits'> | undefined;
  device(
    siteId: string,
    deviceId: string,
  ):
    | {
        readonly areaId: string | undefined;
        readonly attributes: Readonly<Record<string, unknown>>;
      }
    | undefined;
}

/**
 * The units (major hazard sources) an alarm or hazard belongs to: a unit whose tank it is (the
 * device's `unit` attribute), whose area it is in (its own, or its device's), or whose guarantor
 * duty it is (the `inspection-missed` alarm of `mhs-<unit>-<tier>`). In the site's order.
 */
export function sourcesOf(registry: SourceRegistry, subject: SourceSubject): MhsUnitEntry[] {
  const units = registry.site(subject.siteId)?.hazardUnits ?? [];
  if (units.length === 0) return [];
  const unitIds = new Set<string>();
  const areaIds = new Set<string>();
  if (subject.areaId !== undefined) areaIds.add(subject.areaId);
  for (const deviceId of subject.deviceIds ?? []) {
    const device = registry.device(subject.siteId, deviceId);
    const unit = device?.attributes['unit'];
    if (typeof unit === 'string') unitIds.add(unit);
    if (device?.areaId !== undefined) areaIds.add(device.areaId);
  }
  const subjects = new Set(subject.deviceIds ?? []);
  return units.filter(
    unit =>
      unitIds.has(unit.id) ||
      (unit.area !== undefined && areaIds.has(unit.area)) ||
      GUARANTOR_TIERS.some(tier => subjects.has(inspectionSubject(guarantorDutyId(unit.id, tier)))),
  );
}
