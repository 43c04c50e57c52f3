import { InfluxV1Store } from '@vigil/storage';

import type { VigilConfig } from '../config/vigil-config';

/** The one place the InfluxDB adapter is built from configuration (persister and storage status). */
export function createInfluxStore(
  config: VigilConfig,
  options: { readonly requestTimeoutMs?: number } = {},
): InfluxV1Store {
  const influx = config.influx;
  return new InfluxV1Store({
    url: influx.url,
    database: influx.database,
    rawRetention: influx.rawRetention,
    eventsRetention: influx.eventsRetention,
    username: influx.username,
    password: influx.password,
    token: influx.token,
    manageSchema: influx.manageSchema ?? true,
    ...(influx.trendRetention === undefined ? {} : { trendRetention: influx.trendRetention }),
    ...options,
  });
}
