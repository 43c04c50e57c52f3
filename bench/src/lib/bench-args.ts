import { parseArgs } from 'node:util';

import { parseDuration } from '@vigil/simulation';

export const BENCH_USAGE = `usage: node bench/run.mjs [options]

Runs Vigil and the Node-RED peer side by side on this machine, then Vigil alone at rising load,
and writes bench/out/bench-<time>.json/.html and docs/benchmarks.md. Bounded: every run has a
fixed length, everything listens on loopback, every process started is stopped by its PID.

options:
  --quick                  15 s steps instead of 60 s (iteration only: nothing counts as sustained)
  --rates <list>           sweep rates, readings/s (default 10000,20000,35000,50000,70000)
  --duration <d>           length of each sweep step (default 60s; --quick 15s)
  --compare-rate <n>       rate of the side-by-side run (default 10000)
  --compare-duration <d>   length of each side-by-side run (default 60s; --quick 15s)
  --fleet <file>           fleet file (default simulators/fleets/fleet-100k.yaml)
  --qos <0|1>              telemetry QoS (default 0)
  --alarms <n>             gas alarms provoked per second (default 10)
  --skip <list>            leave out: peer, sweep, overload, profile, batch
  --out <dir>              where results go (default bench/out)
  --docs <file>            the Markdown to regenerate (default docs/benchmarks.md; --no-docs to leave it)
  --no-docs
  --render <result.json>   regenerate the docs from a saved result (bench/out/…json), run nothing
  --build                  run "npm run build" first (default: only when dist/ is missing)
  -h, --help`;

export interface BenchArgs {
  readonly quick: boolean;
  readonly rates: readonly number[];
  readonly stepMs: number;
  readonly compareRate: number;
  readonly compareMs: number;
  readonly fleet: string;
  readonly qos: 0 | 1;
  readonly alarms: number;
  readonly skip: ReadonlySet<string>;
  readonly out: string;
  readonly docs: string | null;
  readonly build: boolean;
  /** A saved result to render into the docs instead of running. */
  readonly render: string | null;
}

const SKIPPABLE = new Set(['peer', 'sweep', 'overload', 'profile', 'batch']);

export function parseBenchArgs(
  argv: readonly string[],
): BenchArgs | { help: true } | { problems: string[] } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean' },
        rates: { type: 'string' },
        duration: { type: 'string' },
        'compare-rate': { type: 'string' },
        'compare-duration': { type: 'string' },
        fleet: { type: 'string' },
        qos: { type: 'string' },
        alarms: { type: 'string' },
        skip: { type: 'string' },
        out: { type: 'string' },
        docs: { type: 'string' },
        'no-docs': { type: 'boolean' },
        build: { type: 'boolean' },
        render: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    return { problems: [(error as Error).message] };
  }
  if (values.help) return { help: true };
  const problems: string[] = [];
  const quick = values.quick ?? false;
  const defaultStep = quick ? 15_000 : 60_000;
  const duration = (flag: string, text: string | undefined): number => {
    if (text === undefined) return defaultStep;
    const ms = parseDuration(text);
    if (ms === undefined || ms < 1000)
      problems.push(`--${flag}: "${text}" is not a duration of at least 1s`);
    return ms ?? defaultStep;
  };
  const rates = (values.rates ?? '10000,20000,35000,50000,70000').split(',').map(Number);
  if (rates.some(rate => !Number.isInteger(rate) || rate <= 0))
    problems.push(`--rates: "${values.rates}" must be positive integers`);
  const compareRate = Number(values['compare-rate'] ?? 10_000);
  if (!(compareRate > 0)) problems.push('--compare-rate: must be a positive number');
  const alarms = Number(values.alarms ?? 10);
  if (!(alarms >= 0)) problems.push('--alarms: must be a number ≥ 0');
  const qos = values.qos ?? '0';
  if (qos !== '0' && qos !== '1') problems.push('--qos: must be 0 or 1');
  const skip = new Set((values.skip ?? '').split(',').filter(Boolean));
  for (const item of skip)
    if (!SKIPPABLE.has(item))
      problems.push(`--skip: unknown "${item}" (${[...SKIPPABLE].join(', ')})`);
  const result: BenchArgs = {
    quick,
    rates: [...rates].sort((a, b) => a - b),
    stepMs: duration('duration', values.duration),
    compareRate,
    compareMs: duration('compare-duration', values['compare-duration']),
    fleet: values.fleet ?? 'simulators/fleets/fleet-100k.yaml',
    qos: qos === '1' ? 1 : 0,
    alarms,
    skip,
    out: values.out ?? 'bench/out',
    docs: values['no-docs'] ? null : (values.docs ?? 'docs/benchmarks.md'),
    build: values.build ?? false,
    render: values.render ?? null,
  };
  return problems.length ? { problems } : result;
}
