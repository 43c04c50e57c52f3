export type InfluxRow = Record<string, unknown>;

export interface InfluxQueryOptions {
  /** Time column format; default `ms` (numbers), `rfc3339` returns strings. */
  readonly epoch?: 'ns' | 'u' | 'ms' | 's' | 'rfc3339';
  /** Also put each row's measurement name under this key (for queries over several measurements). */
  readonly measurementKey?: string;
}

interface QueryResponse {
  readonly error?: string;
  readonly results?: readonly {
    readonly error?: string;
    readonly series?: readonly {
      readonly name?: string;
      readonly tags?: Record<string, string>;
      readonly columns: readonly string[];
      readonly values?: readonly (readonly unknown[])[];
    }[];
  }[];
}

/**
 * Runs InfluxQL against a 1.x server and returns the rows of every series as objects keyed by
 * column, with GROUP BY tags merged in. Throws on any statement error. Test helper: kept apart from
 * @vigil/storage so that the code under test does not check itself.
 */
export async function influxQuery(
  url: string,
  db: string,
  influxql: string,
  { epoch = 'ms', measurementKey }: InfluxQueryOptions = {},
): Promise<InfluxRow[]> {
  const body = new URLSearchParams({ db, q: influxql });
  if (epoch !== 'rfc3339') body.set('epoch', epoch);
  // POST, because 1.x refuses CREATE/DROP over GET and accepts SELECT either way.
  const response = await fetch(`${url}/query`, { method: 'POST', body });
  const text = await response.text();
  let parsed: QueryResponse;
  try {
    parsed = JSON.parse(text) as QueryResponse;
  } catch {
    throw new Error(`influxQuery: HTTP ${response.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!response.ok || parsed.error !== undefined) {
    throw new Error(`influxQuery: HTTP ${response.status}: ${parsed.error ?? text.slice(0, 500)}`);
  }
  const rows: InfluxRow[] = [];
  for (const result of parsed.results ?? []) {
    if (result.error !== undefined) throw new Error(`influxQuery: ${result.error} (${influxql})`);
    for (const series of result.series ?? []) {
      for (const values of series.values ?? []) {
        const row: InfluxRow = { ...series.tags };
        if (measurementKey !== undefined) row[measurementKey] = series.name;
        series.columns.forEach((column, index) => {
          row[column] = values[index];
        });
        rows.push(row);
      }
    }
  }
  return rows;
}
