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
 * records: a b c 70497ms d 31498ms |   a, b, c: tags 7 m apart in a production area (0–2 ms);
 *                                       d: c walks away (70.5 s); withTicks(1000) adds the ticks
 * output:  62s C 38999ms D 998ms |      C: crowding at the 62 s tick (crowded since 1 s: > 60 s)
 *                                       D: cleared at 101 s (no crowd since 71 s + 30 s off-delay)
 * ```
 *
 * @see README "Site rules" in this folder.
 */
export function siteRules(
  options: SiteRulesOperatorOptions,
): OperatorFunction<SiteInput, RuleSignal> {
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
