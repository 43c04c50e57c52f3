// Public API of the area- and site-level rules (README in this folder).
export { siteRules, type SiteRulesOperatorOptions } from './site-rules.operator';
export {
  SiteRulesConfigError,
  compileSiteRules,
  reduceSiteRules,
  type SiteRulesOptions,
} from './site-rules.reducer';
export type { GeofenceExemption, TagClockOptions } from './personnel.reducer';
export {
  asSiteInput,
  createSiteRulesState,
  createSiteRulesStats,
  crowdsInArea,
  musterList,
  peopleInArea,
  siteSignalKey,
  tagPositions,
  type AreaState,
  type MusterEntry,
  type SiteInput,
  type SiteRulesState,
  type SiteRulesStats,
  type SiteSignalInput,
  type SiteState,
  type TagPosition,
  type TagState,
} from './site-state';
export * from './site-config';
export { crowdsWithinRadius, type ClusterPoint } from './clustering';
export { distanceToPolygon, musterOf, type Mustered } from './muster-list';
