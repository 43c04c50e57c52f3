import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Subject } from 'rxjs';

import type { AreaGasReading } from '@vigil/alarms';
import type { Permit, PermitRuleView, PermitUnevaluated, RuleSignal } from '@vigil/contracts';
import { areaGasReadings, type PermitStopWorkState } from '@vigil/rules';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';

/** An evaluation older than this many rule ticks means nobody evaluates the permit now. */
const EVALUATION_TICKS = 3;
/** ...and never less than this (a tick late under load is not yet a lost evaluation). */
const MIN_EVALUATION_BOUND_MS = 5_000;

interface AttachedScope {
  readonly state: PermitStopWorkState;
  /** Replaying records after a restart: its signals are dropped, so it stops nobody's work. */
  warming: boolean;
}

/**
 * Where the permit ledger and the rule engine meet, in one process: the ledger puts the active
 * and suspended permits here (the engine's geofence exemption and stop-work rule read them), with
 * the areas of every open permit; the engine's stop-work rule keeps those areas' latest gas
 * readings here (a permit's start is checked against them) and tells the ledger of every
 * stop-work alarm (it suspends the permit).
 *
 * Only the all-in-one deployment has both sides in one process. A gateway without the rules
 * engine has no gas readings here (`rulesAttached()` false) and refuses to start a permit (503):
 * a permit whose stop-work rule nobody evaluates must never be active (docs/interfaces.md).
 *
 * An active permit can still lose its evaluation (restored active in a process without the rules,
 * a rule stream restarting or warming up, its site in none of this instance's partitions): each
 * rule scope marks the permits it evaluated on every tick, and `check` reports every active
 * permit not evaluated within max(3 ticks, 5 s): counted, logged, on /readyz and on the permit.
 */
@Injectable()
export class PermitBoard {
  private readonly logger = new Logger(PermitBoard.name);
  private views: readonly PermitRuleView[] = [];
  /** siteId → the areas of its open permits (requested, approved, active, suspended). */
  private gasAreas = new Map<string, Set<string>>();
  private readonly scopes = new Map<string, AttachedScope>();
  /** Permit id → when the board first saw it active (the grace before its first evaluation). */
  private readonly activeSince = new Map<string, number>();
  /** Permit id → the active permit nobody evaluates now. */
  private readonly lost = new Map<string, PermitUnevaluated>();
  readonly evaluationBoundMs: number;
  /** Stop-work alarms raised (active signals), after the alarm lifecycle has applied them. */
  readonly stopWork$ = new Subject<RuleSignal>();

  constructor(
    @Optional() @Inject(VIGIL_CONFIG) config?: VigilConfig,
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
  ) {
    this.evaluationBoundMs = Math.max(
      EVALUATION_TICKS * (config?.ruleTickMs ?? 1000),
      MIN_EVALUATION_BOUND_MS,
    );
  }

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

  /**
   * Whether the rule engine keeps the area's gas readings: it has an open permit, which a start
   * or resume will check against them (two map lookups: read on gas readings of areas without
   * an active or suspended permit).
   */
  readonly keepsGasOf = (siteId: string, areaId: string): boolean =>
    this.gasAreas.get(siteId)?.has(areaId) ?? false;

  /**
   * The permits the engine evaluates (`views`), and every open permit (`open`, by default the
   * views): the engine keeps the gas readings of their areas from now on, for the gas analysis of
   * a start or resume (readings from before a permit was requested are not kept).
   */
  setPermits(
    views: readonly PermitRuleView[],
    now = Date.now(),
    open: Iterable<Pick<Permit, 'siteId' | 'areaId' | 'state'>> = views,
  ): void {
    this.views = views;
    const gasAreas = new Map<string, Set<string>>();
    for (const { siteId, areaId, state } of open) {
      if (state === 'closed') continue;
      let areas = gasAreas.get(siteId);
      if (!areas) gasAreas.set(siteId, (areas = new Set()));
      areas.add(areaId);
    }
    this.gasAreas = gasAreas;
    const active = new Set<string>();
    for (const view of views) {
      if (view.state !== 'active') continue;
      active.add(view.id);
      if (!this.activeSince.has(view.id)) this.activeSince.set(view.id, now);
    }
    for (const id of this.activeSince.keys()) if (!active.has(id)) this.activeSince.delete(id);
    for (const id of this.lost.keys()) if (!active.has(id)) this.lost.delete(id);
    this.metrics?.permitsUnevaluated.set(this.lost.size);
  }

  /** A rule scope's stop-work state (its latest gas readings); `undefined` detaches it. */
  attachGas(scope: string, state: PermitStopWorkState | undefined): void {
    if (state) this.scopes.set(scope, { state, warming: this.scopes.get(scope)?.warming ?? false });
    else this.scopes.delete(scope);
  }

  /** A scope replays records after a restart (its signals dropped): it evaluates nothing yet. */
  setWarming(scope: string, warming: boolean): void {
    const attached = this.scopes.get(scope);
    if (attached) attached.warming = warming;
  }

  /** Whether a rule engine in this process evaluates the stop-work rule. */
  rulesAttached(): boolean {
    return this.scopes.size > 0;
  }

  gasReadings(siteId: string, areaId: string): AreaGasReading[] {
    return [...this.scopes.values()].flatMap(({ state }) => areaGasReadings(state, siteId, areaId));
  }

  /** The last tick at which a rule scope (not warming) evaluated this permit. */
  lastEvaluatedAt(permitId: string): number | undefined {
    let last: number | undefined;
    for (const { state, warming } of this.scopes.values()) {
      if (warming) continue;
      const at = state.evaluated.get(permitId);
      if (at !== undefined && (last === undefined || at > last)) last = at;
    }
    return last;
  }

  /**
   * Finds the active permits that no rule scope evaluated within the bound: counted (once per
   * loss), logged, and returned (permit id → why). Called by the ledger's timer, /readyz and the
   * API, so the answer is as fresh as the question.
   */
  check(now: number): ReadonlyMap<string, PermitUnevaluated> {
    for (const view of this.views) {
      if (view.state !== 'active') continue;
      const last = this.lastEvaluatedAt(view.id);
      const reference = Math.max(last ?? -Infinity, this.activeSince.get(view.id) ?? now);
      if (now - reference <= this.evaluationBoundMs) {
        if (this.lost.delete(view.id))
          this.logger.warn(`permit No. ${view.no}: its stop-work rule is evaluated again`);
        continue;
      }
      if (this.lost.has(view.id)) continue;
      const lost: PermitUnevaluated = {
        since: reference + this.evaluationBoundMs,
        ...(last === undefined ? {} : { lastEvaluatedAt: last }),
        reason: this.reason(view, last),
      };
      this.lost.set(view.id, lost);
      this.metrics?.permitUnevaluatedTotal.inc();
      this.logger.error(
        `permit No. ${view.no} (${view.siteId}/${view.areaId}) is active and NOT evaluated: ${lost.reason}`,
      );
    }
    this.metrics?.permitsUnevaluated.set(this.lost.size);
    return this.lost;
  }

  private reason(view: PermitRuleView, last: number | undefined): string {
    if (this.scopes.size === 0)
      return 'no rule engine in this process evaluates permits (gateway and rules split, or the rules service stopped): nobody would stop the work';
    if ([...this.scopes.values()].every(scope => scope.warming))
      return 'the rule engine is warming up after a restart (its signals are dropped): nobody would stop the work';
    if (last === undefined)
      return `no rule scope of this process evaluates site ${view.siteId} (not one of its partitions?): nobody would stop the work`;
    return `not evaluated since ${new Date(last).toISOString()}, more than ${this.evaluationBoundMs} ms (rule stream restarting or stalled): nobody would stop the work`;
  }
}
