import type { AlarmHistoryEvent } from '@vigil/contracts';

import type { WriteChunk } from './schema';

/** A result row keyed by column, with GROUP BY tags merged in; `time` in epoch ms. */
export type QueryRow = Readonly<Record<string, unknown>>;

/** Per call: interactive reads and the readiness probe give up sooner than the writer does. */
export interface StoreRequestOptions {
  /** Abort the request after this long (default: the adapter's `requestTimeoutMs`). */
  readonly timeoutMs?: number;
}

/** What the readiness probe found: `ok` only when an authenticated query on the database passed. */
export interface StoreHealth {
  readonly ok: boolean;
  /** Why not (or a schema notice when ok), e.g. `unauthorized: HTTP 401: authorization failed`. */
  readonly reason?: string;
  /** `unauthorized` (401), `forbidden` (403), `unreachable`, `database-missing`, `error`. */
  readonly kind?: 'unauthorized' | 'forbidden' | 'unreachable' | 'database-missing' | 'error';
}

/** Epoch ms, `from` included, `to` excluded. Every read is bounded in time. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** One metric of one device (measurement `telemetry`). */
export interface TelemetrySeriesRequest extends TimeRange {
  readonly siteId: string;
  readonly deviceId: string;
  /** A field of `telemetry` (a metric name, METRIC_NAME_PATTERN). */
  readonly metric: string;
  /** > 0: mean, min and max per bucket of this many ms (empty buckets left out); 0: raw points. */
  readonly bucketMs: number;
  /** Raw points at most (the newest are kept); ignored when bucketed. */
  readonly limit: number;
}

/** A point of a telemetry series: `value` (the mean when bucketed) as stored, null when missing. */
export interface TelemetrySample {
  readonly time: number;
  readonly value: unknown;
  /** Bucketed only. */
  readonly min?: unknown;
  readonly max?: unknown;
}

/** Alarm transitions (measurement `alarm_event`), newest first. */
export interface AlarmHistoryRequest extends TimeRange {
  /** Only these sites (none: nothing matches); undefined: every site. */
  readonly sites?: readonly string[];
  readonly deviceId?: string;
  readonly ruleId?: string;
  readonly category?: string;
  readonly priority?: number;
  readonly limit: number;
}

/** An alarm's activation (`alarm_event` with action `raise`), for the alarm-system reports. */
export interface StoredRaise {
  readonly at: number;
  readonly alarmId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly priority: number;
  /** The alarm's category (process, warning, quality, system), as stored. */
  readonly category?: string | undefined;
}

/**
 * An operator's response to an alarm (`alarm_event` with action `acknowledge` or `dispose`): the
 * monthly report's mean time to acknowledge and to dispose.
 */
export interface StoredResponse {
  readonly at: number;
  readonly alarmId: string;
  readonly action: 'acknowledge' | 'dispose';
}

/**
 * The storage port: everything the server needs from a time-series database, and the only way it
 * reaches one. Lines arrive encoded (line protocol, nanosecond timestamps) and tagged with a
 * retention class, so an adapter only transports them; reads are named by what they return, and
 * the InfluxQL behind them is built from `schema.ts` (`history-queries.ts`). Adding a database
 * means implementing this interface and adding it to `createTelemetryStore`, nothing else: an
 * adapter that speaks InfluxQL extends `InfluxQLStore` and gets the reads. InfluxV1Store is the
 * adapter tested here (on influxd 1.6.7); InfluxV2Store (classes → buckets) and InfluxV3Store
 * (classes → `<db>/raw`, `<db>/events`) answer InfluxQL through the v1-compatible `/query` and
 * are contract-tested only.
 */
export interface TelemetryStore {
  /**
   * Set when the store carries on with a schema it could not manage (or, on 3.x, always): the
   * persister logs it as an error and readiness returns it as the reason.
   */
  readonly schemaNotice?: string | undefined;
  /** Creates the database and retention policies, or corrects their settings; idempotent. */
  ensureSchema(): Promise<void>;
  /**
   * Stores the chunks' lines, sending each chunk's text as it is (never re-split). Resolves once
   * every line is stored. Rejects with a StoreWriteError: `retryable` when nothing was judged
   * (server or network down, schema missing), so the whole call may be repeated (rewriting a
   * point is idempotent); not retryable when the server refused lines for good, in which case
   * the other lines were stored. Counts are in lines (the chunks' `lines`), not chunks.
   */
  write(chunks: readonly WriteChunk[]): Promise<void>;
  /**
   * Readiness: an authenticated query on the database (never `/ping`, which answers without
   * credentials). Never throws.
   */
  check(options?: StoreRequestOptions): Promise<StoreHealth>;
  /** Whether the database answers (never throws). */
  ping(): Promise<boolean>;
  /**
   * One metric's history, oldest first. Rejects with StoreQueryError (a missing database or
   * measurement says `database not found` / `measurement not found`), as every read does.
   */
  telemetrySeries(
    request: TelemetrySeriesRequest,
    options?: StoreRequestOptions,
  ): Promise<TelemetrySample[]>;
  /** Alarm transitions, newest first, at most `limit`. */
  alarmHistory(
    request: AlarmHistoryRequest,
    options?: StoreRequestOptions,
  ): Promise<AlarmHistoryEvent[]>;
  /** Every activation in the range. */
  alarmRaises(range: TimeRange, options?: StoreRequestOptions): Promise<StoredRaise[]>;
  /** Ids of the alarms disposed as `test` at or after `from` (the reports leave them out). */
  testAlarmIds(from: number, options?: StoreRequestOptions): Promise<string[]>;
  /** Every acknowledgement and disposal in the range. */
  alarmResponses(range: TimeRange, options?: StoreRequestOptions): Promise<StoredResponse[]>;
}

/** What the BatchingWriter needs of a store. */
export type StoreWriter = Pick<TelemetryStore, 'write'>;

export interface StoreWriteErrorDetails {
  readonly retryable: boolean;
  /** Lines (not chunks) refused for good (0 when retryable); the call's other lines were stored. */
  readonly rejectedLines: number;
  /** HTTP status, when the server answered. */
  readonly status?: number;
  readonly cause?: unknown;
}

export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
  readonly retryable: boolean;
  readonly rejectedLines: number;
  readonly status: number | undefined;

  constructor(message: string, details: StoreWriteErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable = details.retryable;
    this.rejectedLines = details.retryable ? 0 : details.rejectedLines;
    this.status = details.status;
  }
}

export class StoreQueryError extends Error {
  override readonly name = 'StoreQueryError';
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server did not answer at all (network, timeout). */
  readonly unreachable: boolean;

  constructor(
    message: string,
    details: {
      readonly cause?: unknown;
      readonly status?: number;
      readonly unreachable?: boolean;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.unreachable = details.unreachable ?? false;
  }
}

/** True only for errors that say "these lines will never be accepted": everything else is retried. */
export function isPermanentWriteError(error: unknown): error is StoreWriteError {
  return error instanceof StoreWriteError && !error.retryable;
}
