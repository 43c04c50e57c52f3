import { Inject, Injectable } from '@nestjs/common';

import {
  guarantorDutyId,
  hazardOverdue,
  type Alarm,
  type GuarantorView,
  type Hazard,
  type MhsGuarantorsView,
} from '@vigil/contracts';
import { guarantorsOf, sourcesOf, type RegistrySite, type SourceSubject } from '@vigil/registry';
import type { MhsUnitEntry } from '@vigil/rules';

import { AlarmView } from '../alarms/alarm-view';
import { AuthService } from '../auth/auth.service';
import { HAZARD_CLOCK, HazardService, type HazardClock } from '../hazards/hazard.service';
import { InspectionService } from '../inspections/inspection.service';
import { RegistryHolder } from '../registry/registry-holder';

/** Open alarms (counts) and overdue hazards by source, `siteId/unitId`. */
interface AtSources {
  readonly alarms: ReadonlyMap<string, number>;
  readonly hazards: ReadonlyMap<string, readonly Hazard[]>;
}

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
    const sites = this.registry.current.sites.filter(
      site => siteIds.has(site.id) && (site.hazardUnits?.length ?? 0) > 0,
    );
    if (sites.length === 0) return [];
    const at = this.atSources(new Set(sites.map(site => site.id)));
    return sites.flatMap(site => (site.hazardUnits ?? []).map(unit => this.view(site, unit, at)));
  }

  /** The sources an alarm belongs to (its device's unit or area, or a guarantor's duty). */
  ofAlarm(alarm: Alarm): MhsGuarantorsView[] {
    return this.matching({
      siteId: alarm.siteId,
      deviceIds: [alarm.deviceId],
      areaId: alarm.areaId,
    });
  }

  /** The sources a hazard is at (its area, its devices' units and areas). */
  ofHazard(hazard: Hazard): MhsGuarantorsView[] {
    return this.matching(hazard);
  }

  private matching(subject: SourceSubject): MhsGuarantorsView[] {
    const registry = this.registry.current;
    const site = registry.site(subject.siteId);
    if (!site) return [];
    const units = sourcesOf(registry, subject);
    if (units.length === 0) return [];
    const at = this.atSources(new Set([site.id]));
    return units.map(unit => this.view(site, unit, at));
  }

  /**
   * The open alarms and overdue hazards of the sites, by source (`siteId/unitId`): each alarm and
   * hazard is matched once, not once per source.
   */
  private atSources(siteIds: ReadonlySet<string>): AtSources {
    const registry = this.registry.current;
    const alarms = new Map<string, number>();
    for (const alarm of this.alarms.open()) {
      if (!siteIds.has(alarm.siteId)) continue;
      const subject = { siteId: alarm.siteId, deviceIds: [alarm.deviceId], areaId: alarm.areaId };
      for (const unit of sourcesOf(registry, subject)) {
        const key = `${alarm.siteId}/${unit.id}`;
        alarms.set(key, (alarms.get(key) ?? 0) + 1);
      }
    }
    const now = this.clock();
    const hazards = new Map<string, Hazard[]>();
    for (const hazard of this.hazards.list()) {
      if (!siteIds.has(hazard.siteId) || !hazardOverdue(hazard, now)) continue;
      for (const unit of sourcesOf(registry, hazard)) {
        const key = `${hazard.siteId}/${unit.id}`;
        const list = hazards.get(key);
        if (list) list.push(hazard);
        else hazards.set(key, [hazard]);
      }
    }
    return { alarms, hazards };
  }

  private view(site: RegistrySite, unit: MhsUnitEntry, at: AtSources): MhsGuarantorsView {
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
    const key = `${site.id}/${unit.id}`;
    return {
      siteId: site.id,
      enterprise: site.enterprise,
      unitId: unit.id,
      unitName: unit.name,
      areaId: unit.area,
      guarantors,
      openAlarms: at.alarms.get(key) ?? 0,
      overdueHazards: (at.hazards.get(key) ?? []).map(hazard => ({
        id: hazard.id,
        no: hazard.no,
        title: hazard.title,
      })),
    };
  }
}
