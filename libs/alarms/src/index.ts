export * from './lib/actor';
export * from './lib/policy';
export * from './lib/lifecycle';
export * from './lib/access';
export * from './lib/kpi';
export * from './lib/canary-monitor';
export * from './lib/suppression';
export * from './lib/hazard-lifecycle';
