/** Samples of a Prometheus text exposition, keyed `name` or `name{label="value",…}` as written. */
export type PromSamples = ReadonlyMap<string, number>;

/**
 * Parses the Prometheus text format (what prom-client serves at /metrics): comment lines are
 * skipped, each sample line is `name{labels} value [timestamp]`.
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const close = line.lastIndexOf('}');
    const split = close >= 0 ? close + 1 : line.indexOf(' ');
    if (split <= 0) continue;
    const key = line.slice(0, split).trim();
    const value = Number(line.slice(split).trim().split(' ')[0]);
    if (!Number.isNaN(value)) samples.set(key, value);
  }
  return samples;
}

/** A sample by name and labels in any order; `undefined` when absent. */
export function promValue(
  samples: PromSamples,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const wanted = Object.entries(labels);
  if (wanted.length === 0) return samples.get(name);
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`)) continue;
    if (wanted.every(([label, expected]) => key.includes(`${label}="${expected}"`))) return value;
  }
  return undefined;
}

/** Sum of every sample of `name`, whatever its labels (e.g. dead letters over all reasons). */
export function promSum(samples: PromSamples, name: string): number {
  let sum = 0;
  for (const [key, value] of samples) {
    if (key === name || key.startsWith(`${name}{`)) sum += value;
  }
  return sum;
}

export async function scrapeMetrics(url: string, timeoutMs = 2000): Promise<Map<string, number>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return parsePrometheusText(await response.text());
}
