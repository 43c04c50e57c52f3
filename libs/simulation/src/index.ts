// The simulator core shared by the fleet simulator (vigil-sim), the load-test tool
// (vigil-loadtest) and bench/: fleets, scenarios, load generation, observation and reports.
export * from './lib/fleet/clock';
export * from './lib/fleet/fleet-lookup';
export * from './lib/fleet/fleet-simulator';
export * from './lib/fleet/gas-leak';
export * from './lib/fleet/generators';
export * from './lib/fleet/mqtt-connector';
export * from './lib/fleet/random';
export * from './lib/fleet/rate-limited-log';
export * from './lib/fleet/site-layout';
export * from './lib/fleet/summary';
export * from './lib/fleet-file/fleet-file';
export * from './lib/util/duration';
