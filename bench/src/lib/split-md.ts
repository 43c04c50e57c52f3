/**
 * The split-deployment benchmark's figures (bench/src/split.ts, issue 12): one row per deployment
 * and rate, rendered into generated blocks of docs/benchmarks.md and docs/scaling.md. Pure: the
 * tables come from the saved JSON alone, no figure is typed by hand.
 */

export type Deployment = 'allinone' | 'split';

/** One step: one deployment at one rate, fresh processes. */
export interface SplitStep {
  readonly deployment: Deployment;
  readonly rate: number;
  readonly durationMs: number;
  /** null when the step could not be run (the reason is in `error`). */
  readonly offered: number | null;
  readonly sent: number | null;
  readonly achievedRate: number | null;
  readonly stored: number | null;
  readonly lost: number | null;
  /** Samples ingest counted as missing from the devices' seq numbers (dropped before it). */
  readonly missingSamples: number | null;
  readonly alarms: {
    readonly expected: number;
    readonly exactlyOnce: number;
    readonly missed: number;
    readonly duplicated: number;
  } | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Average CPU % of one core over the step, by process (vigil | ingest, rules, …, nats). */
  readonly cpuPct: Readonly<Record<string, number>>;
  /** Peak RSS by process, MB. */
  readonly rssMaxMb: Readonly<Record<string, number>>;
  /** The machine's load average (1, 5, 15 min) at the start and the end of the step. */
  readonly loadStart: readonly number[];
  readonly loadEnd: readonly number[];
  readonly error: string | null;
}

export interface SplitResult {
  readonly kind: 'vigil-split-bench';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly commit: string;
  readonly machine: { readonly cpuModel: string; readonly cores: number; readonly node: string };
  readonly config: {
    readonly rates: readonly number[];
    readonly durationMs: number;
    readonly qos: 0 | 1;
    readonly devices: number;
    readonly sites: number;
    readonly alarmsPerSecond: number;
    readonly natsReplicas: number;
    readonly partitions: number;
  };
  readonly steps: readonly SplitStep[];
}

/** Vigil's own processes in each deployment (what the pipeline costs, without its servers). */
export const VIGIL_PROCESSES: Readonly<Record<Deployment, readonly string[]>> = {
  allinone: ['vigil'],
  split: ['ingest', 'rules', 'persister', 'gateway'],
};
/** The servers beside it (shared by both deployments, plus NATS for the split one). */
export const SERVER_PROCESSES = ['nats', 'mosquitto', 'influxd', 'load-generator'] as const;

/** A step kept up: the generator offered the load, every reading stored, every alarm once. */
export function keptUp(step: SplitStep): boolean {
  return (
    step.error === null &&
    step.lost === 0 &&
    (step.sent ?? 0) >= (step.offered ?? Infinity) * 0.98 &&
    step.alarms !== null &&
    step.alarms.missed === 0 &&
    step.alarms.duplicated === 0
  );
}

/**
 * The deployment itself failed the step (an error, readings not stored, alarms missed or
 * doubled): the sweep stops there. A generator that fell behind its rate (a starved host) is
 * shown in the table but does not stop the sweep: the deployment was not what failed.
 */
export function deploymentFailed(step: SplitStep): boolean {
  return (
    step.error !== null ||
    step.lost !== 0 ||
    step.alarms === null ||
    step.alarms.missed > 0 ||
    step.alarms.duplicated > 0
  );
}

/** Sum of the CPU of Vigil's processes in the step (percent of one core). */
export function vigilCpu(step: SplitStep): number {
  return VIGIL_PROCESSES[step.deployment].reduce((sum, name) => sum + (step.cpuPct[name] ?? 0), 0);
}

/** CPU per 1,000 readings/s (percent of one core), on the rate the generator achieved. */
export function per1k(cpuPct: number, step: SplitStep): number | null {
  const rate = step.achievedRate ?? 0;
  return rate > 0 ? cpuPct / (rate / 1000) : null;
}

export interface HopCost {
  readonly rate: number;
  /** (split's Vigil processes + nats-server) − all-in-one, per 1,000 readings/s. */
  readonly addedCpuPer1k: number | null;
  readonly natsCpuPer1k: number | null;
  readonly addedP50Ms: number | null;
  readonly addedP99Ms: number | null;
  /** Both steps kept up: the comparison is of like with like. */
  readonly bothKeptUp: boolean;
}

/** The JetStream hop's cost at each rate both deployments ran. */
export function hopCosts(steps: readonly SplitStep[]): HopCost[] {
  const costs: HopCost[] = [];
  for (const split of steps.filter(s => s.deployment === 'split' && s.error === null)) {
    const one = steps.find(
      s => s.deployment === 'allinone' && s.rate === split.rate && s.error === null,
    );
    if (!one) continue;
    const splitPer1k = per1k(vigilCpu(split) + (split.cpuPct['nats'] ?? 0), split);
    const onePer1k = per1k(vigilCpu(one), one);
    const diff = (a: number | null, b: number | null): number | null =>
      a === null || b === null ? null : a - b;
    costs.push({
      rate: split.rate,
      addedCpuPer1k: diff(splitPer1k, onePer1k),
      natsCpuPer1k: per1k(split.cpuPct['nats'] ?? 0, split),
      addedP50Ms: diff(split.p50Ms, one.p50Ms),
      addedP99Ms: diff(split.p99Ms, one.p99Ms),
      bothKeptUp: keptUp(split) && keptUp(one),
    });
  }
  return costs;
}

/** The highest rate a deployment kept up at (null: none). */
export function highestKeptUp(steps: readonly SplitStep[], deployment: Deployment): number | null {
  const rates = steps.filter(s => s.deployment === deployment && keptUp(s)).map(s => s.rate);
  return rates.length ? Math.max(...rates) : null;
}

const n = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : Math.round(value).toLocaleString('en-US');
const ms = (value: number | null): string => (value === null ? '–' : `${Math.round(value)} ms`);
const pct = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined ? '–' : `${value.toFixed(digits)} %`;
const signed = (value: number | null, unit: string, digits = 0): string =>
  value === null ? '–' : `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}${unit}`;
const loads = (values: readonly number[]): string => values.map(v => v.toFixed(1)).join(' / ');

function stepRow(step: SplitStep): string {
  const name = step.deployment === 'allinone' ? 'all-in-one' : 'split (JetStream)';
  if (step.error !== null)
    return `| ${name} | ${n(step.rate)} | could not run: ${step.error.replace(/\|/g, '/')} |  |  |  |  |  |  |  |`;
  const a = step.alarms;
  const cpu = VIGIL_PROCESSES[step.deployment]
    .map(p => `${p} ${pct(step.cpuPct[p], 0)}`)
    .join(', ');
  const servers = ['nats', 'mosquitto', 'influxd', 'load-generator']
    .filter(p => step.cpuPct[p] !== undefined)
    .map(p => `${p === 'load-generator' ? 'generator' : p} ${pct(step.cpuPct[p], 0)}`)
    .join(', ');
  const lost =
    step.lost === null
      ? '–'
      : `${n(step.lost)}${step.missingSamples ? ` (ingest counted ${n(step.missingSamples)} seq gaps)` : ''}`;
  return `| ${name} | ${n(step.rate)} | ${n(step.achievedRate)} | ${n(step.stored)} / ${n(step.sent)} (lost ${lost}) | ${a ? `${a.exactlyOnce}/${a.expected} (missed ${a.missed}, dup ${a.duplicated})` : '–'} | ${ms(step.p50Ms)} / ${ms(step.p99Ms)} | ${cpu} (Σ ${pct(vigilCpu(step), 0)}; ${pct(per1k(vigilCpu(step), step), 2)} per 1k/s) | ${servers} | ${loads(step.loadStart)} → ${loads(step.loadEnd)} | ${keptUp(step) ? 'yes' : '**no**'} |`;
}

/** The generated block: conditions, the stepped table, the hop cost. */
export function renderSplitMarkdown(result: SplitResult, source: string): string {
  const c = result.config;
  const steps = [...result.steps].sort(
    (a, b) => a.rate - b.rate || a.deployment.localeCompare(b.deployment),
  );
  const costs = hopCosts(result.steps);
  const all = result.steps.flatMap(s => [...s.loadStart.slice(0, 1), ...s.loadEnd.slice(0, 1)]);
  const lines = [
    `Generated by \`node bench/split-throughput.mjs\` on ${result.startedAt.slice(0, 10)} (${result.startedAt} → ${result.finishedAt}), commit ${result.commit}. Do not edit by hand: run the command again. Raw figures: \`${source}\`.`,
    '',
    `**Conditions.** One ${result.machine.cores}-core machine (${result.machine.cpuModel}, Node ${result.machine.node}) runs everything: the load generator, Mosquitto, InfluxDB, nats-server, the Vigil processes, **and other work sharing it** (1-minute load average ${all.length ? `${Math.min(...all).toFixed(1)}–${Math.max(...all).toFixed(1)}` : '–'} during the run; per step in the table). On ${result.machine.cores} cores a load average above ${result.machine.cores} means processes waited for a core: read the CPU figures as upper bounds and the rates that kept up as lower bounds. Each step: fresh Vigil processes, a fresh Mosquitto and InfluxDB (and nats-server, JetStream R${c.natsReplicas}, ${c.partitions} partitions, for the split one), ${n(c.devices)} devices on ${c.sites} sites, one reading per message at QoS ${c.qos}, ${c.durationMs / 1000} s, ${c.alarmsPerSecond} gas alarms provoked per second on fresh detectors (each must reach the WebSocket exactly once). Stored = found in InfluxDB at most 30 s after the step's load ended (what came later counts as lost here). Latency: the triggering reading's PUBLISH → the alarm on a WebSocket client of the front (the gateway in split). CPU: average % of one core over the step, from /proc.`,
    '',
    '| deployment | readings/s offered | achieved/s (the generator’s) | stored / sent | alarms exactly once | publish → WebSocket p50 / p99 | Vigil CPU by process | servers CPU | load avg (1/5/15) start → end | kept up |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...steps.map(stepRow),
    '',
    `Highest rate kept up (every reading stored, every alarm once, the generator at ≥ 98 % of the rate; the p99 is reported, not judged): all-in-one **${n(highestKeptUp(result.steps, 'allinone'))}**/s, split on JetStream **${n(highestKeptUp(result.steps, 'split'))}**/s (of ${c.rates.map(r => n(r)).join(', ')}/s).`,
    '',
    '**The JetStream hop, end to end** (split − all-in-one at the same rate: the CPU of the split deployment’s Vigil processes and nats-server against the all-in-one process, per 1,000 readings/s achieved, and the added publish → WebSocket latency):',
    '',
    '| readings/s | added CPU per 1k/s (of it nats-server) | added p50 | added p99 | both kept up |',
    '|---|---|---|---|---|',
    ...costs.map(
      h =>
        `| ${n(h.rate)} | ${signed(h.addedCpuPer1k, ' %', 2)} (${pct(h.natsCpuPer1k, 2)}) | ${signed(h.addedP50Ms, ' ms')} | ${signed(h.addedP99Ms, ' ms')} | ${h.bothKeptUp ? 'yes' : 'no: compare with care'} |`,
    ),
  ];
  return lines.join('\n');
}

/**
 * Replaces the block between `<!-- bench:<name>:begin -->` and `<!-- bench:<name>:end -->` in
 * `doc` with `body`. Throws when the markers are missing. Pure.
 */
export function replaceBlock(doc: string, name: string, body: string): string {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${begin} … ${end} block`);
  return `${doc.slice(0, from + begin.length)}\n\n${body.trim()}\n\n${doc.slice(to)}`;
}

/**
 * Carries the generated `<!-- bench:<name>:… -->` block of `previous` (with its heading line
 * above it, if any) to the end of `next`: docs/benchmarks.md is regenerated whole by
 * `bench/run.mjs`, and must not lose what `bench/split-throughput.mjs` wrote. Pure.
 */
export function carryBlock(previous: string, next: string, name: string): string {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  if (next.includes(begin)) return next;
  const from = previous.indexOf(begin);
  const to = previous.indexOf(end);
  if (from < 0 || to < from) return next;
  // The section heading and text between the heading and the block come along.
  const heading = previous.lastIndexOf('\n## ', from);
  const start = heading >= 0 ? heading + 1 : from;
  return `${next.trimEnd()}\n\n${previous.slice(start, to + end.length)}\n`;
}
