import {
  InfluxV1Store,
  InfluxV2Store,
  InfluxV3Store,
  type StoreHealth,
  type TelemetryStore,
} from '@vigil/storage';

import type { VigilConfig } from '../config/vigil-config';

/** What the persister and the storage status need: the port, readiness with a reason, notices. */
export type CheckedStore = TelemetryStore & {
  check(): Promise<StoreHealth>;
  readonly schemaNotice?: string | undefined;
};

/** The one place the InfluxDB adapter is built from configuration (persister and storage status). */
export function createInfluxStore(
  config: VigilConfig,
  options: { readonly requestTimeoutMs?: number } = {},
): CheckedStore {
  const influx = config.influx;
  if (influx.api === 'v2' && influx.token !== undefined && influx.org !== undefined) {
    // InfluxDB 2.x/3.x through the official client; untested against a live server here.
    return new InfluxV2Store({
      url: influx.url,
      token: influx.token,
      org: influx.org,
      buckets: { raw: influx.database, events: influx.eventsBucket ?? `${influx.database}-events` },
      database: influx.database,
      ...options,
    });
  }
  if (influx.api === 'v3' && influx.token !== undefined) {
    // InfluxDB 3.x through the official client; untested against a live server here.
    return new InfluxV3Store({
      url: influx.url,
      token: influx.token,
      database: influx.database,
      ...options,
    });
  }
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
