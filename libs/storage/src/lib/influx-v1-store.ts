import { z } from 'zod';

import { measurementPath } from './history-queries';
import { RETENTION_PATTERN, goDurationMs, quoteIdentifier, retentionMs } from './influxql';
import { InfluxQLStore } from './influxql-store';
import { MEASUREMENTS, RETENTION_POLICIES, type RetentionPolicy, type WriteChunk } from './schema';
import {
  StoreQueryError,
  StoreWriteError,
  type QueryRow,
  type StoreHealth,
  type StoreRequestOptions,
} from './telemetry-store';

// MEM Decree 40 §13: monitoring data of major hazard installations is kept at least 30 days.
const MIN_RAW_RETENTION_MS = retentionMs('30d');

function retention(minimumMs: number, rule: string) {
  return z
    .string()
    .regex(RETENTION_PATTERN, 'must be <integer><h|d|w>, e.g. 30d')
    .refine(value => !RETENTION_PATTERN.test(value) || retentionMs(value) >= minimumMs, rule);
}

const optionsSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).transform(url => url.replace(/\/+$/, '')),
  // `/` and `-` for InfluxDB 3.x database names (`vigil/raw`: its DBRP naming convention).
  database: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_/-]*$/)
    .default('vigil'),
  rawRetention: retention(MIN_RAW_RETENTION_MS, 'at least 30d (MEM Decree 40 §13)').default('30d'),
  eventsRetention: retention(retentionMs('1h'), 'at least 1h (InfluxDB minimum)').default('400d'),
  requestTimeoutMs: z.number().int().positive().default(10_000),
  /** InfluxDB 1.x user (HTTP Basic, what `u`/`p` carry); with `auth-enabled = true`. */
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  /** InfluxDB 2.x/3.x API token or a 1.x-compatible token: `Authorization: Token …` (wins over user). */
  token: z.string().min(1).optional(),
  /**
   * false: never send DDL (the server's owner manages the database and policies); ensureSchema
   * only checks that they exist. true: create or correct them, and if the server refuses DDL
   * (401/403, not supported), carry on writing into what exists, with `schemaNotice` saying so.
   */
  manageSchema: z.boolean().default(true),
  /** Downsampled history: 1-minute mean/min/max of every telemetry field, kept this long. */
  trendRetention: retention(retentionMs('1h'), 'at least 1h (InfluxDB minimum)').default('365d'),
  downsample: z.boolean().default(true),
  /**
   * POST: `/query` with the parameters as a form body (1.x refuses DDL over GET). GET: the
   * parameters in the query string, the only place InfluxDB 3.x's v1 `/query` reads them.
   */
  queryMethod: z.enum(['POST', 'GET']).default('POST'),
});

/** Where the 1-minute downsampled history goes (a retention policy of its own). */
export const TREND_RETENTION_POLICY = 'trend';
export const TREND_MEASUREMENT = 'telemetry_1m';
export const TREND_CONTINUOUS_QUERY = 'vigil_telemetry_1m';

/**
 * The downsampling statement: 1-minute mean, min and max of every numeric telemetry field per
 * series (GROUP BY *, so every tag is kept), into `trend.telemetry_1m` as `mean_<f>`, `min_<f>`,
 * `max_<f>`. The continuous query wraps it; a test or a backfill may run it by hand with a
 * time range appended to the WHERE clause.
 */
export function downsampleSelect(database: string, where = ''): string {
  const db = quoteIdentifier(database);
  return (
    `SELECT mean(*), min(*), max(*) INTO ${db}.${quoteIdentifier(TREND_RETENTION_POLICY)}.` +
    `${quoteIdentifier(TREND_MEASUREMENT)} FROM ${measurementPath(database, MEASUREMENTS.telemetry)}` +
    `${where ? ` WHERE ${where}` : ''} GROUP BY time(1m), *`
  );
}

export type InfluxV1StoreOptions = z.input<typeof optionsSchema> & {
  /** Seam for tests; defaults to Node's global fetch. */
  readonly fetch?: typeof fetch;
};

const queryResponseSchema = z.object({
  error: z.string().optional(),
  results: z
    .array(
      z.object({
        error: z.string().optional(),
        series: z
          .array(
            z.object({
              name: z.string().optional(),
              tags: z.record(z.string(), z.string()).optional(),
              columns: z.array(z.string()),
              values: z.array(z.array(z.unknown())).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

const ERROR_TEXT_LIMIT = 500;

/** The chunks of one retention class in one write call: one request. */
interface WriteGroup {
  readonly texts: Array<string | Uint8Array>;
  /** Lines in all of `texts`, for the refusal count. */
  lines: number;
}

/**
 * The TelemetryStore adapter for InfluxDB 1.x (tested against 1.6.7): line protocol to `/write`
 * with `precision=n`, InfluxQL to `/query`, one retention policy per retention class.
 */
export class InfluxV1Store extends InfluxQLStore {
  readonly database: string;
  private readonly url: string;
  private readonly retention: Readonly<Record<RetentionPolicy, string>>;
  private readonly requestTimeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;
  // Set when the server says the database or a policy is gone (a wiped data dir), so that the next
  // write recreates them instead of failing forever.
  private schemaMissing = false;
  private readonly manageSchema: boolean;
  private readonly downsample: boolean;
  private readonly trendRetention: string;
  private readonly queryMethod: 'POST' | 'GET';
  /** Set when ensureSchema could not manage the schema and went on with what exists: say it loudly. */
  schemaNotice: string | undefined;

  constructor(options: InfluxV1StoreOptions) {
    super();
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        issue => `${issue.path.join('.')}: ${issue.message}`,
      );
      throw new RangeError(`invalid InfluxV1Store options: ${problems.join('; ')}`);
    }
    const config = parsed.data;
    this.url = config.url;
    this.database = config.database;
    this.retention = { raw: config.rawRetention, events: config.eventsRetention };
    this.requestTimeoutMs = config.requestTimeoutMs;
    this.manageSchema = config.manageSchema;
    this.downsample = config.downsample;
    this.trendRetention = config.trendRetention;
    this.queryMethod = config.queryMethod;
    this.headers =
      config.token !== undefined
        ? { authorization: `Token ${config.token}` }
        : config.username === undefined
          ? {}
          : {
              authorization: `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}`,
            };
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Readiness: `/ping` answers without credentials even where every write is refused, so the
   * probe is an authenticated query on the database itself. Never throws.
   */
  async check(options?: StoreRequestOptions): Promise<StoreHealth> {
    try {
      const policies = await this.execute(
        `SHOW RETENTION POLICIES ON ${quoteIdentifier(this.database)}`,
        options,
      );
      const names = new Set(policies.map(row => String(row['name'])));
      const missing = RETENTION_POLICIES.filter(rp => !names.has(rp));
      if (missing.length > 0) {
        return {
          ok: false,
          kind: 'database-missing',
          reason: `retention policies ${missing.join(', ')} missing on ${this.database}`,
        };
      }
      return this.schemaNotice === undefined
        ? { ok: true }
        : { ok: true, reason: this.schemaNotice };
    } catch (error) {
      return { ok: false, kind: healthKind(error), reason: errorText(error) };
    }
  }

  async ping(): Promise<boolean> {
    return (await this.check()).ok;
  }

  async ensureSchema(): Promise<void> {
    const db = quoteIdentifier(this.database);
    if (!this.manageSchema) {
      await this.verifySchema('VIGIL_INFLUX_MANAGE_SCHEMA=false');
      return;
    }
    try {
      await this.execute(`CREATE DATABASE ${db}`);
    } catch (error) {
      if (!isDdlRefusal(error)) throw error;
      await this.verifySchema(`the server refused CREATE DATABASE (${errorText(error)})`);
      return;
    }
    const existing = new Map(
      (await this.execute(`SHOW RETENTION POLICIES ON ${db}`)).map(row => [
        String(row['name']),
        row,
      ]),
    );
    try {
      await this.managePolicies(db, existing);
    } catch (error) {
      if (!isDdlRefusal(error)) throw error;
      await this.verifySchema(`the server refused a retention policy change (${errorText(error)})`);
      return;
    }
    this.schemaNotice = undefined;
    if (this.downsample) {
      try {
        await this.ensureDownsampling(db, existing);
      } catch (error) {
        if (!isDdlRefusal(error)) throw error;
        this.schemaNotice = `downsampled history not set up: ${errorText(error)}`;
      }
    }
    this.schemaMissing = false;
  }

  /**
   * Someone else owns the schema: check the database and the policies Vigil writes into exist,
   * and say that Vigil did not manage them. Throws (so the caller retries and reports) if not.
   */
  private async verifySchema(why: string): Promise<void> {
    const db = quoteIdentifier(this.database);
    const names = new Set(
      (await this.execute(`SHOW RETENTION POLICIES ON ${db}`)).map(row => String(row['name'])),
    );
    const missing = RETENTION_POLICIES.filter(rp => !names.has(rp));
    if (missing.length > 0) {
      throw new StoreQueryError(
        `schema not managed (${why}) and retention policies ${missing.join(', ')} are missing on ` +
          `${this.database}: create them (see docs/interfaces.md) or let Vigil manage the schema`,
      );
    }
    this.schemaNotice = `schema not managed by Vigil: ${why}; writing into the existing ${this.database}`;
    this.schemaMissing = false;
  }

  private async ensureDownsampling(db: string, existing: Map<string, QueryRow>): Promise<void> {
    const rp = quoteIdentifier(TREND_RETENTION_POLICY);
    const current = existing.get(TREND_RETENTION_POLICY);
    const target = `${rp} ON ${db} DURATION ${this.trendRetention}`;
    if (current === undefined) {
      await this.execute(`CREATE RETENTION POLICY ${target} REPLICATION 1`);
    } else if (goDurationMs(String(current['duration'])) !== retentionMs(this.trendRetention)) {
      await this.execute(`ALTER RETENTION POLICY ${target}`);
    }
    const queries = await this.execute('SHOW CONTINUOUS QUERIES');
    const exists = queries.some(row => row['name'] === TREND_CONTINUOUS_QUERY);
    if (!exists) {
      await this.execute(
        `CREATE CONTINUOUS QUERY ${quoteIdentifier(TREND_CONTINUOUS_QUERY)} ON ${db} ` +
          `BEGIN ${downsampleSelect(this.database)} END`,
      );
    }
  }

  private async managePolicies(db: string, existing: Map<string, QueryRow>): Promise<void> {
    for (const rp of RETENTION_POLICIES) {
      const duration = this.retention[rp];
      // Raw data is what dashboards and queries without an explicit policy should see.
      const makeDefault = rp === 'raw';
      const current = existing.get(rp);
      const target = `${quoteIdentifier(rp)} ON ${db} DURATION ${duration}`;
      if (current === undefined) {
        await this.execute(
          `CREATE RETENTION POLICY ${target} REPLICATION 1${makeDefault ? ' DEFAULT' : ''}`,
        );
        continue;
      }
      // CREATE fails on an existing policy with other settings, so correct it in place.
      const sameDuration = goDurationMs(String(current['duration'])) === retentionMs(duration);
      const defaultOk = !makeDefault || current['default'] === true;
      if (!sameDuration || !defaultOk) {
        await this.execute(`ALTER RETENTION POLICY ${target}${makeDefault ? ' DEFAULT' : ''}`);
      }
    }
  }

  async write(chunks: readonly WriteChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    if (this.schemaMissing) {
      try {
        await this.ensureSchema();
      } catch (error) {
        throw new StoreWriteError(`schema missing and not recreated: ${errorText(error)}`, {
          retryable: true,
          rejectedLines: 0,
          // The status that stopped it (a 401/403 is an auth problem, not a network one).
          status: error instanceof StoreQueryError ? error.status : undefined,
          cause: error,
        });
      }
    }
    const groups = new Map<RetentionPolicy, WriteGroup>();
    for (const { rp, text, lines } of chunks) {
      const group = groups.get(rp);
      if (group) {
        group.texts.push(text);
        group.lines += lines;
      } else groups.set(rp, { texts: [text], lines });
    }
    const refusals: StoreWriteError[] = [];
    for (const [rp, group] of groups) {
      // A retryable failure ends the call at once: the caller repeats all of it, and rewriting
      // the groups already stored is harmless. A refusal is final, so the other groups go on.
      const refusal = await this.writeGroup(rp, group);
      if (refusal) refusals.push(refusal);
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

  async query(influxql: string, options?: StoreRequestOptions): Promise<QueryRow[]> {
    return this.execute(influxql, options);
  }

  /** Returns the refusal for lines the server will never accept; throws when retrying may help. */
  private async writeGroup(
    rp: RetentionPolicy,
    group: WriteGroup,
  ): Promise<StoreWriteError | undefined> {
    const params = new URLSearchParams({ db: this.database, rp, precision: 'n' });
    let response: Response;
    let body: string;
    try {
      response = await this.fetch(`${this.url}/write?${params}`, {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'text/plain; charset=utf-8' },
        // The chunks' texts go out as they are, joined once here (a lone one without a copy).
        body: requestBody(group.texts),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      body = await response.text();
    } catch (error) {
      throw new StoreWriteError(`write to ${this.url} failed: ${errorText(error)}`, {
        retryable: true,
        rejectedLines: 0,
        cause: error,
      });
    }
    if (response.status === 204 || response.status === 200) return undefined;
    const message = serverError(body);
    const summary =
      `write of ${group.lines} lines to ${this.database}.${rp}: ` +
      `HTTP ${response.status}: ${message.slice(0, ERROR_TEXT_LIMIT)}`;
    if (/database not found|retention policy not found/.test(message)) this.schemaMissing = true;
    if (isRetryableStatus(response.status, message)) {
      throw new StoreWriteError(summary, {
        retryable: true,
        rejectedLines: 0,
        status: response.status,
      });
    }
    return new StoreWriteError(summary, {
      retryable: false,
      rejectedLines: refusedLineCount(message, group.lines),
      status: response.status,
    });
  }

  private async execute(influxql: string, options?: StoreRequestOptions): Promise<QueryRow[]> {
    const params = new URLSearchParams({ db: this.database, q: influxql, epoch: 'ms' });
    let response: Response;
    let text: string;
    try {
      // POST: 1.x refuses CREATE/ALTER over GET and accepts SELECT either way.
      response = await this.fetch(
        this.queryMethod === 'GET' ? `${this.url}/query?${params}` : `${this.url}/query`,
        {
          method: this.queryMethod,
          headers: this.headers,
          ...(this.queryMethod === 'GET' ? {} : { body: params }),
          signal: AbortSignal.timeout(options?.timeoutMs ?? this.requestTimeoutMs),
        },
      );
      text = await response.text();
    } catch (error) {
      throw new StoreQueryError(`query to ${this.url} failed: ${errorText(error)}`, {
        cause: error,
        unreachable: true,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StoreQueryError(
        `query: HTTP ${response.status}: ${text.slice(0, ERROR_TEXT_LIMIT)}`,
        { status: response.status },
      );
    }
    const parsed = queryResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new StoreQueryError(
        `query: unexpected response shape: ${text.slice(0, ERROR_TEXT_LIMIT)}`,
        { status: response.status },
      );
    }
    const { error, results = [] } = parsed.data;
    if (!response.ok || error !== undefined) {
      throw new StoreQueryError(
        `query: HTTP ${response.status}: ${error ?? text.slice(0, ERROR_TEXT_LIMIT)}`,
        { status: response.status },
      );
    }
    const rows: QueryRow[] = [];
    for (const result of results) {
      if (result.error !== undefined) {
        throw new StoreQueryError(`query: ${result.error} (${influxql})`);
      }
      for (const series of result.series ?? []) {
        for (const values of series.values ?? []) {
          const row: Record<string, unknown> = { ...series.tags };
          series.columns.forEach((column, index) => {
            row[column] = values[index];
          });
          rows.push(row);
        }
      }
    }
    return rows;
  }
}

/**
 * 5xx (overload, timeouts, a missing retention policy), 404 (database not found) and the
 * rate-limit statuses may pass later. 401/403 (wrong or missing credentials, no write
 * privilege) say nothing about the lines: they pass once the credentials are fixed, so they are
 * retried (loudly, through the storage status), never counted as refused lines. Other 4xx mean
 * the lines themselves were refused: partial writes (field type conflict, points beyond
 * retention) and parse errors.
 */
export function isRetryableStatus(status: number, message: string): boolean {
  if (status >= 500 || status === 408 || status === 429) return true;
  if (status === 401 || status === 403) return true;
  return status === 404 && /database not found/.test(message);
}

/**
 * How many lines a 400 refused. 1.x stores the valid points of a batch and reports `dropped=N`
 * (partial writes) or one "unable to parse" per bad line; with neither, assume the whole group.
 */
export function refusedLineCount(message: string, groupSize: number): number {
  let refused = 0;
  for (const match of message.matchAll(/dropped=(\d+)/g)) refused += Number(match[1]);
  refused += message.match(/unable to parse/g)?.length ?? 0;
  return refused === 0 ? groupSize : Math.min(refused, groupSize);
}

/** A DDL statement the server will not run for us (no admin right, not supported by 2.x/3.x). */
function isDdlRefusal(error: unknown): boolean {
  if (!(error instanceof StoreQueryError) || error.unreachable) return false;
  if (error.status === 401 || error.status === 403 || error.status === 501) return true;
  return /not authorized|forbidden|requires admin|not implemented|not supported|unsupported/i.test(
    error.message,
  );
}

function healthKind(error: unknown): NonNullable<StoreHealth['kind']> {
  if (error instanceof StoreQueryError) {
    if (error.unreachable) return 'unreachable';
    if (error.status === 401) return 'unauthorized';
    if (error.status === 403) return 'forbidden';
    if (/database not found/.test(error.message)) return 'database-missing';
  }
  return 'error';
}

function serverError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON (a proxy's error page, say): quote it as text.
  }
  return body || '(empty body)';
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

const NEWLINE = Buffer.from('\n');

/** The chunks' texts joined by newlines: one string, or one Buffer when any chunk is bytes. */
function requestBody(texts: ReadonlyArray<string | Uint8Array>): string | Buffer<ArrayBuffer> {
  if (texts.every(text => typeof text === 'string')) return texts.join('\n');
  const parts: Uint8Array[] = [];
  for (const text of texts) {
    if (parts.length > 0) parts.push(NEWLINE);
    parts.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  }
  return Buffer.concat(parts);
}
