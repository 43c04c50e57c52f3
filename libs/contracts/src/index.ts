export * from './lib/identifiers';
export * from './lib/topics';
export * from './lib/device-classes';
export * from './lib/payloads';
export * from './lib/readings';
export * from './lib/alarms';
export * from './lib/ws-messages';
