import type { OperatorFunction } from 'rxjs';

import type { RuleSignal } from '@vigil/contracts';

import { reducerOperator } from '../reducer-operator';
import { type SiteRulesOptions, compileSiteRules, reduceSiteRules } from './site-rules.reducer';
import { type SiteInput, type SiteRulesState, createSiteRulesState } from './site-state';

export interface SiteRulesOperatorOptions extends SiteRulesOptions {
  /**
   * Called once per subscription with its fresh state, which the operator then updates in place:
   * keep it to answer `peopleInArea`, `musterList`, `tagPositions` and `crowdsInArea`.
   */
  readonly onState?: (state: SiteRulesState) => void;
}

/**
 * Area- and site-level rules that look across devices: geofence (intrusion, overstay), head-count,
 * crowding, man-down, 2-out-of-N voting and people near a process alarm. Input is the device
 * engine's input (records and ticks: `withTicks`) merged with its output signals (`asSiteInput`).
 * One signal per transition and key, never the same state twice in a row. The configuration is
 * checked when the operator is created: it throws `SiteRulesConfigError` listing every problem.
 * Errors and completion of the source pass through; state lives as long as the subscription.
 *
 * ```
 * input:  a 999ms t 59s t 999ms t |   a, b, c: tags 2 m apart in a storage area at 0 ms;
 *                                     t: ticks at 1 s, 61 s (crowded 60 s: not yet), 62 s
 * output: ----------------------C-|   C: crowding (3 people within 15 m for more than 60 s)
 * ```
 *
 * @see README "Site rules" in this folder.
 */
export function siteRules(options: SiteRulesOperatorOptions): OperatorFunction<SiteInput, RuleSignal> {
  const sites = compileSiteRules(options);
  return reducerOperator<SiteRulesState, SiteInput>(
    () => {
      const state = createSiteRulesState(sites, options.stats);
      options.onState?.(state);
      return state;
    },
    (state, input) => reduceSiteRules(state, input, options),
  );
}
