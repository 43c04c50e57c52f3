import type { AlarmHistoryEvent } from '@vigil/contracts';

import {
  alarmHistoryEvent,
  alarmHistoryQuery,
  alarmRaisesQuery,
  alarmResponsesQuery,
  storedRaise,
  storedResponse,
  telemetrySamples,
  telemetrySeriesQuery,
  testAlarmIdsOf,
  testDisposalsQuery,
} from './history-queries';
import type { WriteChunk } from './schema';
import type {
  AlarmHistoryRequest,
  QueryRow,
  StoreHealth,
  StoreRequestOptions,
  StoredRaise,
  StoredResponse,
  TelemetrySample,
  TelemetrySeriesRequest,
  TelemetryStore,
  TimeRange,
} from './telemetry-store';

/**
 * The port's reads for an adapter that answers InfluxQL: it implements `query` (and the writes and
 * readiness), and the statements come from history-queries.ts, built from the schema. Errors pass
 * through as the adapter's StoreQueryError, never swallowed here.
 */
export abstract class InfluxQLStore implements TelemetryStore {
  /** The database InfluxQL reads name: `"<database>"."<retention policy>"."<measurement>"`. */
  abstract readonly database: string;

  abstract ensureSchema(): Promise<void>;
  abstract write(chunks: readonly WriteChunk[]): Promise<void>;
  abstract check(options?: StoreRequestOptions): Promise<StoreHealth>;
  abstract ping(): Promise<boolean>;
  /**
   * Runs one InfluxQL statement; always give SELECTs explicit time bounds. Not part of the port:
   * the server reads through the named methods, so no caller writes InfluxQL of its own.
   */
  abstract query(influxql: string, options?: StoreRequestOptions): Promise<QueryRow[]>;

  async telemetrySeries(
    request: TelemetrySeriesRequest,
    options?: StoreRequestOptions,
  ): Promise<TelemetrySample[]> {
    const rows = await this.query(telemetrySeriesQuery(this.database, request), options);
    return telemetrySamples(request, rows);
  }

  async alarmHistory(
    request: AlarmHistoryRequest,
    options?: StoreRequestOptions,
  ): Promise<AlarmHistoryEvent[]> {
    if (request.sites?.length === 0) return [];
    const rows = await this.query(alarmHistoryQuery(this.database, request), options);
    return rows.map(alarmHistoryEvent);
  }

  async alarmRaises(range: TimeRange, options?: StoreRequestOptions): Promise<StoredRaise[]> {
    const rows = await this.query(alarmRaisesQuery(this.database, range), options);
    return rows.map(storedRaise);
  }

  async alarmResponses(range: TimeRange, options?: StoreRequestOptions): Promise<StoredResponse[]> {
    const rows = await this.query(alarmResponsesQuery(this.database, range), options);
    return rows.map(storedResponse);
  }

  async testAlarmIds(from: number, options?: StoreRequestOptions): Promise<string[]> {
    return testAlarmIdsOf(await this.query(testDisposalsQuery(this.database, from), options));
  }
}
