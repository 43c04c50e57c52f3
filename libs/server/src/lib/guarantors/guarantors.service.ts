import { Inject, Injectable } from '@nestjs/common';

import {
  guarantorDutyId,
  hazardOverdue,
  type Alarm,
  type GuarantorView,
  type Hazard,
  type MhsGuarantorsView,
} from '@vigil/contracts';
import {
  guarantorsOf,
  sourcesOf,
  type RegistrySite,
  type SourceSubject,
} from '@vigil/registry';
import type { MhsUnitEntry } from '@vigil/rules';

import { AlarmView } from '../alarms/alarm-view';
import { AuthService } from '../auth/auth.service';
import { HAZARD_CLOCK, HazardService, type HazardClock } from '../hazards/hazard.service';
import { InspectionService } from '../inspections/inspection.service';
import { RegistryHolder } from '../registry/registry-holder';

/**
 * Major-hazard-source guarantors (包保责任人, issue 15, RSP-01) as the API and console see them:
 * each GB 18218-2018 unit with its three guarantors, where each one's online duty stands (their
 * inspection schedule `mhs-<unit>-<tier>`: done this window, due, missed), the source's open alarms
 * and its overdue hazards; and the sources an alarm or a hazard belongs to, whose guarantors
 * answer for it. Authorisation is the caller's (the controller asks AuthorizationService).
 */
@Injectable()
export class GuarantorsService {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(InspectionService) private readonly inspections: InspectionService,
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(HAZARD_CLOCK) private readonly clock: HazardClock,
  ) {}

  /** Every source of the sites, in the registry's order. */
  sources(siteIds: ReadonlySet<string>): MhsGuarantorsView[] {
    const open = this.alarms.open();
    const hazards = this.hazards.list();
    return this.registry.current.sites
      .filter(site => siteIds.has(site.id))
      .flatMap(site =>
        (site.hazardUnits ?? []).map(unit => this.view(site, unit, open, hazards)),
      );
  }

  /** The sources an alarm belongs to (its device's unit or area, or a guarantor's duty). */
  ofAlarm(alarm: Alarm): MhsGuarantorsView[] {
    return this.matching(alarm.siteId, [alarm.deviceId], alarm.areaId);
  }

  /** The sources a hazard is at (its area, its devices' units and areas). */
  ofHazard(hazard: Hazard): MhsGuarantorsView[] {
    return this.matching(hazard.siteId, hazard.deviceIds, hazard.areaId);
  }

  private matching(
    siteId: string,
    deviceIds: readonly string[],
    areaId: string | undefined,
  ): MhsGuarantorsView[] {
    const registry = this.registry.current;
    const site = registry.site(siteId);
    if (!site) return [];
    const units = sourcesOf(registry, { siteId, deviceIds, areaId });
    if (units.length === 0) return [];
    const open = this.alarms.open();
    const hazards = this.hazards.list();
    return units.map(unit => this.view(site, unit, open, hazards));
  }

  private view(
    site: RegistrySite,
    unit: MhsUnitEntry,
    open: readonly Alarm[],
    hazards: readonly Hazard[],
  ): MhsGuarantorsView {
    const registry = this.registry.current;
    const inSource = (subject: SourceSubject) =>
      subject.siteId === site.id &&
      sourcesOf(registry, subject).some(source => source.id === unit.id);
    const now = this.clock();
    const guarantors = guarantorsOf(unit).map((guarantor): GuarantorView => {
      const scheduleId = guarantorDutyId(unit.id, guarantor.tier);
      const schedule =
        this.inspections.unavailable === undefined
          ? this.inspections.schedule(site.id, scheduleId)
          : undefined;
      const duty = schedule ? this.inspections.view(schedule) : undefined;
      return {
        tier: guarantor.tier,
        userId: guarantor.userId,
        name: this.auth.knownUser(guarantor.userId)?.name,
        duty: duty && {
          scheduleId,
          cadence: duty.cadence,
          current: duty.current,
          doneInCurrent: duty.doneInCurrent,
          dueAt: duty.dueAt,
          lastRecord: duty.lastRecord,
          missed: duty.missed,
          overdue: duty.overdue,
        },
      };
    });
    return {
      siteId: site.id,
      enterprise: site.enterprise,
      unitId: unit.id,
      unitName: unit.name,
      areaId: unit.area,
      guarantors,
      openAlarms: open.filter(alarm =>
        inSource({ siteId: alarm.siteId, deviceIds: [alarm.deviceId], areaId: alarm.areaId }),
      ).length,
      overdueHazards: hazards
        .filter(hazard => hazardOverdue(hazard, now) && inSource(hazard))
        .map(hazard => ({ id: hazard.id, no: hazard.no, title: hazard.title })),
    };
  }
}
