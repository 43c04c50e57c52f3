// The simulator core, for the CLI here and for the load-test tool that grows out of it.
export * from './lib/clock';
export * from './lib/commands';
export * from './lib/fleet-lookup';
export * from './lib/fleet-simulator';
export * from './lib/gas-leak';
export * from './lib/generators';
export * from './lib/mqtt-connector';
export * from './lib/random';
export * from './lib/site-layout';
export * from './lib/summary';
