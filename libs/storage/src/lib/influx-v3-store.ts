import type { InfluxDBClient } from '@influxdata/influxdb3-client';

import { InfluxV1Store, isRetryableStatus } from './influx-v1-store';
import { InfluxQLStore } from './influxql-store';
import { RETENTION_POLICIES, type RetentionPolicy, type WriteChunk } from './schema';
import {
  StoreQueryError,
  StoreWriteError,
  type QueryRow,
  type StoreHealth,
  type StoreRequestOptions,
} from './telemetry-store';

export interface InfluxV3StoreOptions {
  readonly url: string;
  /** A database token (Core: an admin token) that may write and read both databases. */
  readonly token: string;
  /**
   * The v1 database name InfluxQL reads use (`db=`); the data goes to `<database>/raw` and
   * `<database>/events`, InfluxDB 3's DBRP naming convention, so that `"vigil"."raw"."telemetry"`
   * and `"events"."alarm_event"` resolve to them without any mapping.
   */
  readonly database: string;
  readonly requestTimeoutMs?: number;
  /**
   * gzip request bodies (`Content-Encoding: gzip`). Off by default: measured here at 4.2–4.8 µs of
   * CPU per line (a 5,000-line batch, 626 KB → 51 KB), a fifth of a reading's budget at 50,000/s.
   * Worth it only over a slow link to a remote server.
   */
  readonly gzip?: boolean;
  /** Seam for the InfluxQL reads (tests); defaults to Node's global fetch. */
  readonly fetch?: typeof fetch;
}

type Client = Pick<InfluxDBClient, 'write'>;
type ClientModule = typeof import('@influxdata/influxdb3-client');

/** The official client pulls in gRPC and Apache Arrow (about a second to load): only when used. */
let clientModule: Promise<ClientModule> | undefined;
function loadClient(): Promise<ClientModule> {
  clientModule ??= import('@influxdata/influxdb3-client').then(module => {
    // Every failure reaches the caller as a StoreWriteError and is logged there, rate-limited;
    // the client's own console.error per failed request would flood the log during an outage.
    module.setLogger({ error: () => undefined, warn: () => undefined });
    return module;
  });
  return clientModule;
}

/** What `schemaNotice` says on every 3.x start: the retention is the operator's, on the server. */
export function influxV3SchemaNotice(databases: Readonly<Record<RetentionPolicy, string>>): string {
  return (
    `InfluxDB 3.x: Vigil sends no DDL and 3.x has no retention policies or continuous queries. ` +
    `Create the databases ${databases.raw} (retention period at least 30d, MEM Decree 40 §13) and ` +
    `${databases.events} (e.g. 400d) on the server; downsampled trends (1-minute mean/min/max) ` +
    `are not kept unless configured on the 3.x server (e.g. a processing-engine plugin). ` +
    `Untested against a live InfluxDB 3.x.`
  );
}

/**
 * The TelemetryStore adapter for InfluxDB 3.x (Core, Enterprise) through the official client
 * `@influxdata/influxdb3-client`. Writes: line protocol as encoded (nanosecond timestamps, so
 * precision `ns`), one request per retention class, to the database `<database>/<class>`, with
 * `Authorization: Token …`; `noSync` off (the client then uses `/api/v2/write?bucket&precision=ns`
 * and the server answers after the WAL is persisted: the BatchingWriter forgets lines on that
 * answer, so it must mean durable). Reads: InfluxQL through 3.x's v1-compatible `/query`, a GET
 * with the parameters in the query string (3.x reads them nowhere else), the same token. No DDL.
 *
 * Contract-tested against a local HTTP recorder (influx-v3-store.spec.ts); NOT tested against a
 * live InfluxDB 3.x (none can be had on the build machines).
 */
export class InfluxV3Store extends InfluxQLStore {
  readonly database: string;
  readonly databases: Readonly<Record<RetentionPolicy, string>>;
  readonly schemaNotice: string;
  private client: Promise<Client> | undefined;
  private readonly reader: InfluxV1Store;
  private readonly probes: ReadonlyArray<readonly [RetentionPolicy, InfluxV1Store]>;
  private readonly timeout: number;

  constructor(private readonly options: InfluxV3StoreOptions) {
    super();
    this.database = options.database;
    this.timeout = options.requestTimeoutMs ?? 10_000;
    this.databases = {
      raw: `${options.database}/raw`,
      events: `${options.database}/events`,
    };
    this.schemaNotice = influxV3SchemaNotice(this.databases);
    const reader = (database: string) =>
      new InfluxV1Store({
        url: options.url,
        database,
        token: options.token,
        manageSchema: false,
        queryMethod: 'GET',
        requestTimeoutMs: this.timeout,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
    this.reader = reader(options.database);
    this.probes = RETENTION_POLICIES.map(rp => [rp, reader(this.databases[rp])] as const);
  }

  /** No DDL on 3.x: nothing to create; the notice says what the operator must set up. */
  async ensureSchema(): Promise<void> {
    return undefined;
  }

  /**
   * Readiness: an authenticated `SHOW MEASUREMENTS` on each database (`/ping` and `/health`
   * prove nothing about the token). When ok, `reason` carries the schema notice.
   */
  async check(options?: StoreRequestOptions): Promise<StoreHealth> {
    for (const [rp, probe] of this.probes) {
      try {
        await probe.query('SHOW MEASUREMENTS LIMIT 1', options);
      } catch (error) {
        return {
          ok: false,
          kind: healthKind(error),
          reason: `${this.databases[rp]}: ${text(error)}`,
        };
      }
    }
    return { ok: true, reason: this.schemaNotice };
  }

  async ping(): Promise<boolean> {
    return (await this.check()).ok;
  }

  query(influxql: string, options?: StoreRequestOptions): Promise<QueryRow[]> {
    return this.reader.query(influxql, options);
  }

  async write(chunks: readonly WriteChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    const groups = new Map<RetentionPolicy, { texts: string[]; lines: number }>();
    for (const { rp, text: chunk, lines } of chunks) {
      const group = groups.get(rp) ?? { texts: [], lines: 0 };
      group.texts.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      group.lines += lines;
      groups.set(rp, group);
    }
    const client = await this.writeClient();
    const refusals: StoreWriteError[] = [];
    for (const [rp, group] of groups) {
      const database = this.databases[rp];
      try {
        // One string: the client joins an array with '\n' itself, the same body.
        await client.write(group.texts.join('\n'), database);
      } catch (error) {
        const classified = classify(
          error,
          `write of ${group.lines} lines to ${database}`,
          group.lines,
        );
        // A retryable failure ends the call (the caller repeats all of it; rewriting is
        // idempotent); a refusal is final, so the other class still goes.
        if (classified.retryable) throw classified;
        refusals.push(classified);
      }
    }
    if (refusals.length === 1 && refusals[0]) throw refusals[0];
    if (refusals.length > 1) {
      throw new StoreWriteError(refusals.map(refusal => refusal.message).join('; '), {
        retryable: false,
        rejectedLines: refusals.reduce((sum, refusal) => sum + refusal.rejectedLines, 0),
        status: refusals[0]?.status,
      });
    }
  }

  private writeClient(): Promise<Client> {
    this.client ??= loadClient().then(
      ({ InfluxDBClient }) =>
        new InfluxDBClient({
          host: this.options.url,
          token: this.options.token,
          writeTimeout: this.timeout,
          writeOptions: {
            precision: 'ns',
            noSync: false,
            gzipThreshold: this.options.gzip ? 0 : Number.MAX_SAFE_INTEGER,
          },
        }),
    );
    return this.client;
  }
}

/**
 * The v1/v2 classification: 401/403, 5xx, 404, 408 and 429 retried (kept, and loud through the
 * storage status); other 4xx refused. A 3.x 400 lists the refused lines in `data` (up to 100)
 * and stores the others (partial write), or says the whole batch failed.
 */
function classify(error: unknown, what: string, lines: number): StoreWriteError {
  const status = httpStatus(error);
  if (status !== undefined) {
    const body = (error as { body?: string }).body ?? '';
    const message = body || (error as Error).message;
    const summary = `${what}: HTTP ${status}: ${message.slice(0, 500)}`;
    const retryable = isRetryableStatus(status, message) || status === 404;
    return new StoreWriteError(summary, {
      retryable,
      rejectedLines: retryable ? 0 : refusedLines(body, lines),
      status,
      cause: error,
    });
  }
  return new StoreWriteError(`${what} failed: ${text(error)}`, {
    retryable: true,
    rejectedLines: 0,
    cause: error,
  });
}

/** The client's HttpError (duck-typed: the class lives in the lazily loaded module). */
function httpStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== 'HttpError') return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** `{"error":"partial write of line protocol occurred","data":[{…line_number…}]}` → its count. */
function refusedLines(body: string, lines: number): number {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; data?: unknown };
    if (
      typeof parsed.error === 'string' &&
      /partial write/.test(parsed.error) &&
      Array.isArray(parsed.data) &&
      parsed.data.length > 0
    ) {
      return Math.min(parsed.data.length, lines);
    }
  } catch {
    // Not JSON (a proxy's page): the whole group.
  }
  return lines;
}

function healthKind(error: unknown): NonNullable<StoreHealth['kind']> {
  if (error instanceof StoreQueryError) {
    if (error.unreachable) return 'unreachable';
    if (error.status === 401) return 'unauthorized';
    if (error.status === 403) return 'forbidden';
    if (error.status === 404 || /database not found|not found/i.test(error.message))
      return 'database-missing';
  }
  return 'error';
}

function text(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
