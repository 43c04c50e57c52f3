import type { LoadRunReport, ProfileSummary } from '@vigil/simulation';

/** Everything one `node bench/run.mjs` measured; docs/benchmarks.md is rendered from it alone. */
export interface BenchResult {
  readonly kind: 'vigil-bench';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly mode: 'full' | 'quick';
  readonly machine: MachineInfo;
  readonly versions: Versions;
  readonly config: BenchConfig;
  readonly comparison: {
    readonly rate: number;
    readonly vigil: RunOutcome;
    readonly nodeRed: RunOutcome;
  };
  readonly sweep: readonly RunOutcome[];
  /** Highest sweep rate that met every criterion; null when none did. */
  readonly sustainedRate: number | null;
  readonly overload: RunOutcome | null;
  readonly batchProbe: {
    readonly perReading: RunOutcome;
    readonly batched: RunOutcome;
    readonly batch: number;
  } | null;
  readonly profiles: readonly CpuProfileOutcome[];
  readonly errors: readonly string[];
}

export interface RunOutcome {
  readonly label: string;
  readonly rate: number;
  /** The load run, or why it could not run. */
  readonly report: LoadRunReport | null;
  readonly error: string | null;
  /** Time from spawning the pipeline to its readiness probe answering, ms. */
  readonly startupMs: number | null;
  /** The pipeline's RSS once ready, before any load, MB. */
  readonly idleRssMb: number | null;
}

export interface CpuProfileOutcome {
  readonly rate: number;
  readonly why: string;
  readonly file: string;
  readonly summary: ProfileSummary | null;
  readonly error: string | null;
}

export interface MachineInfo {
  readonly os: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  /** 1, 5 and 15 minute load averages when the benchmark started: how busy the machine was. */
  readonly loadAverageAtStart: readonly number[];
  readonly loadAverageAtEnd: readonly number[];
}

export interface Versions {
  readonly vigilCommit: string;
  readonly vigilDirty: boolean;
  readonly mosquitto: string;
  readonly influxd: string;
  readonly nodeRed: string | null;
  readonly nodeRedInflux: string | null;
}

export interface BenchConfig {
  readonly fleet: { readonly name: string; readonly file: string; readonly devices: number };
  readonly compareRate: number;
  readonly compareDurationMs: number;
  readonly sweepRates: readonly number[];
  readonly stepDurationMs: number;
  readonly qos: 0 | 1;
  readonly alarmsPerSecond: number;
  readonly p99TargetMs: number;
}
