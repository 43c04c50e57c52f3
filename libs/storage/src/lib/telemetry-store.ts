import type { WriteChunk } from './schema';

/** A result row keyed by column, with GROUP BY tags merged in; `time` in epoch ms. */
export type QueryRow = Readonly<Record<string, unknown>>;

/**
 * The storage port: what the persister and the history API need from a time-series database.
 * Lines arrive encoded (line protocol, nanosecond timestamps) and tagged with a retention class,
 * so an adapter only transports them. InfluxV1Store is the adapter tested here (on influxd
 * 1.6.7); InfluxV2Store (classes → buckets) and InfluxV3Store (classes → `<db>/raw`,
 * `<db>/events`) answer InfluxQL through the v1-compatible `/query` and are contract-tested only.
 */
export interface TelemetryStore {
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
  /** Runs one InfluxQL statement; always give SELECTs explicit time bounds. */
  query(influxql: string): Promise<QueryRow[]>;
  /** Whether the database answers (never throws). */
  ping(): Promise<boolean>;
}

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
