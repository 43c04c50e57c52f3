import type { RuleSignal } from '@vigil/contracts';

import { MONITORING_LOST_SUBJECTS, monitoringLostSignal } from '../monitoring-lost';
import { NO_SIGNALS, type RuleContext, type RuleStep } from '../rule-signal';
import { areasTick, onDeviceSignal } from './area.reducer';
import {
  type GeofenceExemption,
  type TagClockOptions,
  onTagLastWill,
  onTagReading,
  personnelTick,
} from './personnel.reducer';
import {
  type CompiledSite,
  type SiteLayout,
  type SiteRulesSettings,
  resolveSiteLayouts,
} from './site-config';
import type { SiteInput, SiteRulesState, SiteRulesStats, SiteState } from './site-state';

export interface SiteRulesOptions extends RuleContext, TagClockOptions, GeofenceExemption {
  /** One layout per site, mapped from the registry (README "Mapping the registry"). */
  readonly sites: readonly SiteLayout[];
  /** Settings for every site; defaults for what is left out (`DEFAULT_SITE_RULES_SETTINGS`). */
  readonly settings?: Partial<SiteRulesSettings>;
  /** Counters to increment; one is created per subscription when absent. */
  readonly stats?: SiteRulesStats;
}

/** Thrown by `compileSiteRules` (and so by `siteRules`) with every configuration problem. */
export class SiteRulesConfigError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`Invalid site rule configuration:\n${errors.map(line => `  ${line}`).join('\n')}`);
    this.name = 'SiteRulesConfigError';
  }
}

/**
 * Validates and compiles the layouts once. Throws `SiteRulesConfigError` listing every problem;
 * call `resolveSiteLayouts` to get the list without throwing (registry checks at start).
 */
export function compileSiteRules(
  options: Pick<SiteRulesOptions, 'sites' | 'settings'>,
): CompiledSite[] {
  const { sites, errors } = resolveSiteLayouts(options.sites, options.settings ?? {});
  if (errors.length > 0) throw new SiteRulesConfigError(errors);
  return [...sites];
}

/**
 * One step of the site rules over all sites. Tag readings update positions and areas at once;
 * ticks run the due per-person timers and then the area rules (head-count, crowding,
 * people-present) of every site; device signals drive voting and people-present. Records of other
 * device classes, events (SOS is a device rule) and signals of unknown sites change nothing.
 * State is updated in place.
 */
export function reduceSiteRules(
  state: SiteRulesState,
  input: SiteInput,
  context: RuleContext & TagClockOptions & GeofenceExemption,
): RuleStep<SiteRulesState> {
  const { stats } = state;
  const out: RuleSignal[] = [];
  // One site's rules throwing isolates that site (a `monitoring-lost` signal), never the others.
  const guarded = (site: SiteState, at: number, step: () => void): void => {
    if (state.quarantined.size > 0 && state.quarantined.has(site.site.siteId)) {
      stats.quarantinedInputs += 1;
      return;
    }
    try {
      step();
    } catch (error) {
      out.push(isolateSite(state, site.site.siteId, at, error, context));
    }
  };
  switch (input.kind) {
    case 'tick':
      stats.ticks += 1;
      for (const site of state.sites.values()) {
        guarded(site, input.now, () => {
          personnelTick(site, input.now, context, out);
          areasTick(site, input.now, stats, context, out);
        });
      }
      break;
    case 'signal': {
      stats.signalsIn += 1;
      const site = state.sites.get(input.signal.siteId);
      if (site)
        guarded(site, input.signal.at, () => onDeviceSignal(site, input.signal, context, out));
      else stats.unknownSiteInputs += 1;
      break;
    }
    case 'reading': {
      const { reading } = input;
      if (reading.deviceClass !== 'tag') break;
      const site = state.sites.get(reading.siteId);
      if (site) guarded(site, reading.ts, () => onTagReading(site, reading, stats, context, out));
      else stats.unknownSiteInputs += 1;
      break;
    }
    case 'status': {
      const { status } = input;
      if (status.deviceClass !== 'tag' || status.online) break;
      const site = state.sites.get(status.siteId);
      if (site) guarded(site, status.ts, () => onTagLastWill(site, status, context, out));
      else stats.unknownSiteInputs += 1;
      break;
    }
    case 'event':
      break;
  }
  stats.signals += out.length;
  return { state, signals: out.length > 0 ? out : NO_SIGNALS };
}

/**
 * Takes a site out of the site rules after they threw for it: its state may be inconsistent, so
 * nothing more is evaluated for it until a registry reload starts the site rules afresh.
 */
function isolateSite(
  state: SiteRulesState,
  siteId: string,
  at: number,
  error: unknown,
  context: RuleContext,
): RuleSignal {
  state.quarantined.add(siteId);
  state.stats.isolatedSites += 1;
  const source = {
    siteId,
    deviceId: MONITORING_LOST_SUBJECTS.site,
    deviceClass: undefined,
    areaId: undefined,
  };
  return monitoringLostSignal('site', source, true, at, context, error);
}
