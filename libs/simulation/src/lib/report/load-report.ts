import type { ProcUsage } from '../observe/proc-sampler';
import { summarise, type Percentiles } from './percentiles';

/** One second of a load run. `null` where the target does not expose the figure. */
export interface SecondSample {
  /** Seconds since the run started. */
  readonly t: number;
  readonly offered: number;
  readonly sent: number;
  /** Readings the target accepted (Vigil: `vigil_ingest_readings_total`). */
  readonly ingested: number | null;
  /** Lines the target wrote to InfluxDB (Vigil: `vigil_persister_lines_total{outcome="written"}`). */
  readonly stored: number | null;
  /** Lines waiting in the target's write buffer at the end of the second. */
  readonly backlog: number | null;
  readonly raises: number;
  /** Publish → WebSocket latency of the alarms provoked in this second, ms. */
  readonly latency: { readonly p50: number; readonly p95: number; readonly p99: number } | null;
  readonly eventLoopLagMs: number | null;
  readonly processes: Readonly<Record<string, ProcUsage | null>>;
}

export interface ProcessSummary {
  readonly cpuAvgPct: number;
  readonly cpuMaxPct: number;
  readonly rssStartMb: number;
  readonly rssMaxMb: number;
  readonly rssEndMb: number;
}

export interface AlarmAccounting {
  /** Alarms the run provoked and expects exactly once each. */
  readonly expected: number;
  /** Expected alarms raised exactly once. */
  readonly exactlyOnce: number;
  readonly missed: number;
  readonly duplicated: number;
  /** Raises nobody provoked (e.g. offline alarms of devices the load did not reach in time). */
  readonly unexpected: number;
  /** Expected alarms found over REST but never seen on the WebSocket. */
  readonly missedOnWebSocket: number;
  readonly unexpectedByRule: Readonly<Record<string, number>>;
}

export interface LoadRunReport {
  readonly kind: 'load-run';
  readonly title: string;
  readonly target: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly profile: string;
  readonly offeredPeakRate: number;
  readonly qos: 0 | 1;
  readonly batch: number;
  readonly fleet: { readonly name: string; readonly devices: number };
  readonly totals: {
    readonly offered: number;
    readonly sent: number;
    /** Readings found in InfluxDB with event times inside the run. */
    readonly stored: number | null;
    readonly lost: number | null;
    readonly lossPct: number | null;
    readonly achievedRate: number;
    readonly storedRate: number | null;
    readonly generatorMissed: number;
    readonly generatorDeferredTicks: number;
    readonly deadLetters: number | null;
    readonly persisterRejected: number | null;
    /**
     * Samples the target counted as missing from the devices' seq numbers (Vigil:
     * `vigil_ingest_missing_samples_total`): what the broker dropped when the target fell behind.
     */
    readonly missingSamples: number | null;
  };
  readonly alarms: AlarmAccounting;
  readonly latencyMs: {
    readonly publishToWebSocket: Percentiles;
    readonly publishToDetection: Percentiles;
  };
  readonly processes: Readonly<Record<string, ProcessSummary>>;
  readonly sustained: { readonly ok: boolean; readonly reasons: readonly string[] };
  readonly series: readonly SecondSample[];
  /** Readings sent per second of the generator's clock: `[t seconds, count]`. */
  readonly sentBySecond: readonly (readonly [number, number])[];
  /** Stored readings per second of event time (same seconds), from InfluxQL: `[t seconds, count]`. */
  readonly storedBySecond: readonly (readonly [number, number])[];
  readonly notes: readonly string[];
}

export interface SustainCriteria {
  /** A rate is sustained only over at least this long (default 60 s). */
  readonly minDurationMs: number;
  /** Publish → WebSocket p99 at or under this (default 50 ms). */
  readonly p99TargetMs: number;
  /** The generator must have offered at least this share of the profile (default 0.98). */
  readonly minOfferedShare: number;
}

export const DEFAULT_SUSTAIN: SustainCriteria = {
  minDurationMs: 60_000,
  p99TargetMs: 50,
  minOfferedShare: 0.98,
};

/**
 * The definition of "sustained": over at least 60 s, every reading is stored, every
 * expected alarm arrives exactly once, and detection → WebSocket p99 stays at or under 50 ms.
 * Returns every reason it is not, so a report says what failed rather than only that it did.
 */
export function judgeSustained(
  input: {
    readonly durationMs: number;
    readonly offered: number;
    readonly sent: number;
    readonly stored: number | null;
    readonly alarms: AlarmAccounting;
    readonly p99Ms: number | null;
  },
  criteria: SustainCriteria = DEFAULT_SUSTAIN,
): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (input.durationMs < criteria.minDurationMs) {
    reasons.push(
      `ran ${Math.round(input.durationMs / 1000)} s, under the ${criteria.minDurationMs / 1000} s a sustained rate needs`,
    );
  }
  if (input.sent < input.offered * criteria.minOfferedShare) {
    reasons.push(
      `the load generator sent ${input.sent} of ${Math.round(input.offered)} offered readings (${pct(input.sent, input.offered)}): it could not keep up`,
    );
  }
  if (input.stored === null) reasons.push('stored readings were not counted (no InfluxDB given)');
  else if (input.stored < input.sent) {
    reasons.push(
      `${input.sent - input.stored} of ${input.sent} readings not stored (${pct(input.sent - input.stored, input.sent)} lost)`,
    );
  }
  const alarms = input.alarms;
  if (alarms.missed > 0)
    reasons.push(`${alarms.missed} of ${alarms.expected} expected alarms missed`);
  if (alarms.duplicated > 0)
    reasons.push(`${alarms.duplicated} expected alarms raised more than once`);
  if (alarms.expected === 0) reasons.push('no alarm was provoked, so latency was not measured');
  if (input.p99Ms === null) {
    if (alarms.expected > 0) reasons.push('no alarm latency was measured');
  } else if (input.p99Ms > criteria.p99TargetMs) {
    reasons.push(`publish → WebSocket p99 ${input.p99Ms} ms is over ${criteria.p99TargetMs} ms`);
  }
  return { ok: reasons.length === 0, reasons };
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(2)} %` : 'n/a';
}

/** Averages and extremes of each process's CPU and memory over the samples. */
export function summariseProcesses(
  series: readonly SecondSample[],
): Record<string, ProcessSummary> {
  const names = new Set<string>();
  for (const sample of series) for (const name of Object.keys(sample.processes)) names.add(name);
  const result: Record<string, ProcessSummary> = {};
  for (const name of names) {
    const usages = series
      .map(sample => sample.processes[name])
      .filter((usage): usage is ProcUsage => usage !== null && usage !== undefined);
    // The first sample only primes the CPU counters.
    const cpu = usages.slice(1).map(usage => usage.cpuPct);
    if (usages.length === 0) continue;
    result[name] = {
      cpuAvgPct: cpu.length ? round1(cpu.reduce((a, b) => a + b, 0) / cpu.length) : 0,
      cpuMaxPct: cpu.length ? round1(Math.max(...cpu)) : 0,
      rssStartMb: (usages[0] as ProcUsage).rssMb,
      rssMaxMb: Math.max(...usages.map(usage => usage.rssMb)),
      rssEndMb: (usages[usages.length - 1] as ProcUsage).rssMb,
    };
  }
  return result;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Latency percentiles of a list, rounded to 0.1 ms. */
export function latencySummary(values: readonly number[]): Percentiles {
  const summary = summarise(values);
  const r = (value: number | null): number | null => (value === null ? null : round1(value));
  return {
    count: summary.count,
    min: r(summary.min),
    p50: r(summary.p50),
    p95: r(summary.p95),
    p99: r(summary.p99),
    max: r(summary.max),
    mean: r(summary.mean),
  };
}
