import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';

import type { AreaGasReading } from '@vigil/alarms';
import type { PermitRuleView, RuleSignal } from '@vigil/contracts';
import { areaGasReadings, type PermitStopWorkState } from '@vigil/rules';

/**
 * Where the permit ledger and the rule engine meet, in one process: the ledger puts the active
 * and suspended permits here (the engine's geofence exemption and stop-work rule read them), the
 * engine's stop-work rule keeps each area's latest gas readings here (a permit's start is checked
 * against them) and tells the ledger of every stop-work alarm (it suspends the permit).
 *
 * Only the all-in-one deployment has both sides in one process. A gateway without the rules
 * engine has no gas readings here (`rulesAttached()` false) and refuses to start a permit (503):
 * a permit whose stop-work rule nobody evaluates must never be active (docs/interfaces.md).
 */
@Injectable()
export class PermitBoard {
  private views: readonly PermitRuleView[] = [];
  private readonly gas = new Map<string, PermitStopWorkState>();
  /** Stop-work alarms raised (active signals), after the alarm lifecycle has applied them. */
  readonly stopWork$ = new Subject<RuleSignal>();

  /** The permits the engine evaluates now (the ledger sets them after each durable step). */
  readonly permits = (): readonly PermitRuleView[] => this.views;

  /** A named worker of an active permit for this area, inside its window. */
  readonly geofenceExempt = (
    siteId: string,
    areaId: string,
    tagId: string,
    now: number,
  ): boolean => {
    for (const permit of this.views)
      if (
        permit.state === 'active' &&
        permit.areaId === areaId &&
        permit.siteId === siteId &&
        now >= permit.from &&
        now < permit.to &&
        permit.workers.includes(tagId)
      )
        return true;
    return false;
  };

  setPermits(views: readonly PermitRuleView[]): void {
    this.views = views;
  }

  /** A rule scope's stop-work state (its latest gas readings); `undefined` detaches it. */
  attachGas(scope: string, state: PermitStopWorkState | undefined): void {
    if (state) this.gas.set(scope, state);
    else this.gas.delete(scope);
  }

  /** Whether a rule engine in this process evaluates the stop-work rule. */
  rulesAttached(): boolean {
    return this.gas.size > 0;
  }

  gasReadings(siteId: string, areaId: string): AreaGasReading[] {
    return [...this.gas.values()].flatMap(state => areaGasReadings(state, siteId, areaId));
  }
}
