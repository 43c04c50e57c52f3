export * from './lib/line-protocol';
export * from './lib/schema';
export * from './lib/telemetry-store';
export * from './lib/influxql';
export * from './lib/influx-v1-store';
export * from './lib/batching-writer';
export * from './lib/influx-v2-store';
export * from './lib/influx-v3-store';
