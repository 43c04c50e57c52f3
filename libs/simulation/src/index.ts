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
export * from './lib/load/fast-publisher';
export * from './lib/load/load-generator';
export * from './lib/load/load-profile';
export * from './lib/load/load-run';
export * from './lib/load/token-bucket';
export * from './lib/observe/alarm-watcher';
export * from './lib/observe/influx';
export * from './lib/observe/proc-sampler';
export * from './lib/observe/prometheus';
export * from './lib/report/alarm-accounting';
export * from './lib/report/html-report';
export * from './lib/report/load-report';
export * from './lib/report/percentiles';
export * from './lib/report/svg-chart';
