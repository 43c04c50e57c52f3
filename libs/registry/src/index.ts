export * from './lib/registry.schema';
export * from './lib/registry';
export * from './lib/registry-rules';
export * from './lib/fire-panel';
export * from './lib/guarantors';
