import { HttpError, InfluxDB } from '@influxdata/influxdb-client';

import { InfluxV1Store, isRetryableStatus, refusedLineCount } from './influx-v1-store';
import { InfluxQLStore } from './influxql-store';
import type { RetentionPolicy, WriteChunk } from './schema';
import {
  StoreWriteError,
  type QueryRow,
  type StoreHealth,
  type StoreRequestOptions,
} from './telemetry-store';

export interface InfluxV2StoreOptions {
  readonly url: string;
  /** An API token with write on both buckets and read for the history API. */
  readonly token: string;
  readonly org: string;
  /** The bucket per retention class, e.g. `{ raw: 'vigil', events: 'vigil-events' }` (init-vigil.sh). */
  readonly buckets: Readonly<Record<RetentionPolicy, string>>;
  /** The v1 database name the DBRP mappings give the buckets (InfluxQL reads, readiness). */
  readonly database?: string;
  readonly requestTimeoutMs?: number;
}

/**
 * The TelemetryStore adapter for InfluxDB 2.x (and 3.x, whose `/api/v2/write` is compatible) through
 * the official client `@influxdata/influxdb-client`: writes go to `/api/v2/write?org&bucket&
 * precision=ns` with `Authorization: Token …`, one request per retention class. The client's own
 * batching and retries are switched off: the BatchingWriter in front bounds, retries and counts.
 * InfluxQL reads and the readiness query go through the v1 compatibility API (`/query` with the
 * DBRP mappings) with the same token; Vigil sends no DDL here, the buckets are the operator's.
 *
 * Contract-tested against a local HTTP recorder (influx-v2-store.spec.ts); NOT tested against a
 * live InfluxDB 2.x/3.x on the build machines (none runs there).
 */
export class InfluxV2Store extends InfluxQLStore {
  readonly database: string;
  private readonly client: InfluxDB;
  private readonly v1: InfluxV1Store;

  constructor(private readonly options: InfluxV2StoreOptions) {
    super();
    this.database = options.database ?? options.buckets.raw;
    const timeout = options.requestTimeoutMs ?? 10_000;
    this.client = new InfluxDB({ url: options.url, token: options.token, timeout });
    this.v1 = new InfluxV1Store({
      url: options.url,
      database: this.database,
      token: options.token,
      manageSchema: false,
      requestTimeoutMs: timeout,
    });
  }

  /** Checks the DBRP mappings exist (no DDL: the buckets are created by the operator). */
  ensureSchema(): Promise<void> {
    return this.v1.ensureSchema();
  }

  get schemaNotice(): string | undefined {
    return this.v1.schemaNotice;
  }

  check(options?: StoreRequestOptions): Promise<StoreHealth> {
    return this.v1.check(options);
  }

  ping(): Promise<boolean> {
    return this.v1.ping();
  }

  query(influxql: string, options?: StoreRequestOptions): Promise<QueryRow[]> {
    return this.v1.query(influxql, options);
  }

  async write(chunks: readonly WriteChunk[]): Promise<void> {
    const groups = new Map<RetentionPolicy, { texts: string[]; lines: number }>();
    for (const { rp, text, lines } of chunks) {
      const group = groups.get(rp) ?? { texts: [], lines: 0 };
      group.texts.push(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
      group.lines += lines;
      groups.set(rp, group);
    }
    for (const [rp, group] of groups) {
      const api = this.client.getWriteApi(this.options.org, this.options.buckets[rp], 'ns', {
        maxRetries: 0,
        // One record (the joined chunk texts) per request; close() sends it.
        batchSize: 2,
        flushInterval: 0,
        gzipThreshold: Number.MAX_SAFE_INTEGER,
      });
      try {
        api.writeRecord(group.texts.join('\n'));
        await api.close();
      } catch (error) {
        throw classify(
          error,
          `write of ${group.lines} lines to bucket ${this.options.buckets[rp]}`,
          group.lines,
        );
      }
    }
  }
}

/** The same classification as the v1 adapter: 401/403, 5xx, 404 and 429 retried; other 4xx refused. */
function classify(error: unknown, what: string, lines: number): StoreWriteError {
  if (error instanceof HttpError) {
    const message = error.body ?? error.message;
    const summary = `${what}: HTTP ${error.statusCode}: ${message.slice(0, 500)}`;
    const retryable = isRetryableStatus(error.statusCode, message) || error.statusCode === 404;
    return new StoreWriteError(summary, {
      retryable,
      rejectedLines: retryable ? 0 : refusedLineCount(message, lines),
      status: error.statusCode,
      cause: error,
    });
  }
  return new StoreWriteError(`${what} failed: ${(error as Error).message}`, {
    retryable: true,
    rejectedLines: 0,
    cause: error,
  });
}
