/** Where readings are stored: an InfluxDB 1.x HTTP API, a database and a measurement. */
export interface InfluxTarget {
  readonly url: string;
  readonly database: string;
  /** Retention policy; empty for the database's default. */
  readonly retentionPolicy?: string;
  readonly measurement: string;
  /** A field every reading has; counting it counts readings (default `seq`). */
  readonly countField?: string;
}

interface QueryResponse {
  readonly error?: string;
  readonly results?: readonly {
    readonly error?: string;
    readonly series?: readonly {
      readonly columns: readonly string[];
      readonly values?: readonly (readonly unknown[])[];
    }[];
  }[];
}

/** Runs one InfluxQL statement and returns the rows of its first result ([] when empty). */
export async function influxql(
  url: string,
  database: string,
  query: string,
  timeoutMs = 30_000,
): Promise<unknown[][]> {
  const body = new URLSearchParams({ db: database, q: query, epoch: 'ms' });
  const response = await fetch(`${url}/query`, {
    method: 'POST',
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: QueryResponse;
  try {
    parsed = JSON.parse(text) as QueryResponse;
  } catch {
    throw new Error(`InfluxQL: HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  const error = parsed.error ?? parsed.results?.[0]?.error;
  if (!response.ok || error !== undefined) {
    throw new Error(`InfluxQL: HTTP ${response.status}: ${error ?? text.slice(0, 300)} (${query})`);
  }
  return (parsed.results?.[0]?.series ?? []).flatMap(series =>
    (series.values ?? []).map(row => [...row]),
  );
}

function from(target: InfluxTarget): string {
  const rp = target.retentionPolicy ? `"${target.retentionPolicy}"` : '';
  return `"${target.database}".${rp}."${target.measurement}"`;
}

function timeRange(fromMs: number, toMs: number): string {
  return `time >= ${Math.floor(fromMs)}ms AND time <= ${Math.ceil(toMs)}ms`;
}

/** Readings stored with event times in [fromMs, toMs], optionally narrowed by a WHERE clause. */
export async function countStored(
  target: InfluxTarget,
  fromMs: number,
  toMs: number,
  where = '',
): Promise<number> {
  const field = target.countField ?? 'seq';
  const rows = await influxql(
    target.url,
    target.database,
    `SELECT count("${field}") FROM ${from(target)} WHERE ${timeRange(fromMs, toMs)}${where ? ` AND ${where}` : ''}`,
  );
  const value = rows[0]?.[1];
  return typeof value === 'number' ? value : 0;
}

/**
 * Stored readings per second of event time over [fromMs, toMs]: `[epoch ms, count]`. The buckets
 * start at `fromMs` (InfluxQL's time offset), so that they line up with the load generator's seconds.
 */
export async function countStoredPerSecond(
  target: InfluxTarget,
  fromMs: number,
  toMs: number,
): Promise<Array<[number, number]>> {
  const field = target.countField ?? 'seq';
  const offsetMs = Math.floor(fromMs) % 1000;
  const rows = await influxql(
    target.url,
    target.database,
    `SELECT count("${field}") FROM ${from(target)} WHERE ${timeRange(fromMs, toMs)} GROUP BY time(1s, ${offsetMs}ms) fill(0)`,
  );
  return rows.map(([time, count]) => [Number(time), typeof count === 'number' ? count : 0]);
}

/**
 * Polls the stored count until it reaches `expected` or stops growing for `quietMs`, at most
 * `timeoutMs`: writes are batched, so the last readings land a moment after the last publish.
 */
export async function waitForStored(
  count: () => Promise<number>,
  expected: number,
  { quietMs = 3000, timeoutMs = 30_000, intervalMs = 500 } = {},
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    let current = last;
    try {
      current = await count();
    } catch {
      // InfluxDB busy or restarting: keep polling until the deadline.
    }
    if (current !== last) {
      last = current;
      lastChange = Date.now();
    }
    if (current >= expected) return current;
    if (Date.now() - lastChange >= quietMs || Date.now() >= deadline) return Math.max(0, last);
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
