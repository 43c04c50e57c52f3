import { InfluxV1Store } from './influx-v1-store';
import { InfluxV2Store } from './influx-v2-store';
import { InfluxV3Store } from './influx-v3-store';
import type { TelemetryStore } from './telemetry-store';

/** Which database and how to reach it (the server's VIGIL_INFLUX_* settings, validated there). */
export interface TelemetryStoreConfig {
  /** v1: InfluxDB 1.x `/write` and `/query` (the default); v2, v3: the official clients. */
  readonly api?: 'v1' | 'v2' | 'v3' | undefined;
  readonly url: string;
  readonly database: string;
  readonly rawRetention?: string | undefined;
  readonly eventsRetention?: string | undefined;
  readonly trendRetention?: string | undefined;
  /** false: no DDL at all. */
  readonly manageSchema?: boolean | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** v2 and v3 need it; on 1.x it wins over username/password. */
  readonly token?: string | undefined;
  /** v2: the organisation. */
  readonly org?: string | undefined;
  /** v2: the bucket of alarm events (default `<database>-events`). */
  readonly eventsBucket?: string | undefined;
  /** Every request's bound unless a call gives its own (default 10 s). */
  readonly requestTimeoutMs?: number | undefined;
}

/**
 * The one place an adapter is chosen and built: a new database is an adapter (the port) and a
 * branch here, nothing else. The server calls it once and injects the store everywhere.
 */
export function createTelemetryStore(config: TelemetryStoreConfig): TelemetryStore {
  const timeout =
    config.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: config.requestTimeoutMs };
  if (config.api === 'v2' && config.token !== undefined && config.org !== undefined) {
    // InfluxDB 2.x through the official client; untested against a live server here.
    return new InfluxV2Store({
      url: config.url,
      token: config.token,
      org: config.org,
      buckets: { raw: config.database, events: config.eventsBucket ?? `${config.database}-events` },
      database: config.database,
      ...timeout,
    });
  }
  if (config.api === 'v3' && config.token !== undefined) {
    // InfluxDB 3.x through the official client; untested against a live server here.
    return new InfluxV3Store({
      url: config.url,
      token: config.token,
      database: config.database,
      ...timeout,
    });
  }
  if (config.api === 'v2' || config.api === 'v3') {
    // The server's config refuses this at start; never fall back to 1.x without a word.
    throw new RangeError(
      `InfluxDB API ${config.api} needs a token${config.api === 'v2' ? ' and an organisation' : ''}`,
    );
  }
  return new InfluxV1Store({
    url: config.url,
    database: config.database,
    ...(config.rawRetention === undefined ? {} : { rawRetention: config.rawRetention }),
    ...(config.eventsRetention === undefined ? {} : { eventsRetention: config.eventsRetention }),
    ...(config.trendRetention === undefined ? {} : { trendRetention: config.trendRetention }),
    username: config.username,
    password: config.password,
    token: config.token,
    manageSchema: config.manageSchema ?? true,
    ...timeout,
  });
}
