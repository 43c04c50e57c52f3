export * from './lib/registry.schema';
export * from './lib/registry';
export * from './lib/geometry';
export * from './lib/load-registry';
export * from './lib/fire-panel';
