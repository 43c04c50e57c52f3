export * from './lib/aedes';
export * from './lib/binaries';
export * from './lib/free-port';
export * from './lib/influx-query';
export * from './lib/influxd';
export * from './lib/mosquitto';
export * from './lib/service-process';
export * from './lib/wait-for';
