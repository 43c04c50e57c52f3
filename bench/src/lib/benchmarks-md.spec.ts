import type { LoadRunReport, SecondSample } from '@vigil/simulation';

import type { BenchResult, RunOutcome } from './bench-result';
import {
  evaluateTargets,
  lossAccounted,
  renderBenchmarksMarkdown,
  rssSlopeMbPerSecond,
  slowSeconds,
} from './benchmarks-md';
import { parseBenchArgs } from './bench-args';

function report(
  target: string,
  p99: number,
  over: Partial<LoadRunReport> = {},
  rss: (t: number) => number = () => 300,
): LoadRunReport {
  const series: SecondSample[] = Array.from({ length: 60 }, (_, t) => ({
    t,
    offered: 10_000,
    sent: 10_000,
    ingested: null,
    stored: null,
    backlog: null,
    raises: 20,
    latency: { p50: 5, p95: 9, p99 },
    eventLoopLagMs: null,
    processes: { [target]: { cpuPct: 60, rssMb: rss(t) }, mosquitto: { cpuPct: 20, rssMb: 10 } },
  }));
  return {
    kind: 'load-run',
    title: target,
    target,
    startedAt: '2026-11-23T12:00:00.000Z',
    durationMs: 60_000,
    profile: 'steady 10000/s for 1m',
    offeredPeakRate: 10_000,
    qos: 0,
    batch: 1,
    fleet: { name: 'fleet-100k', devices: 100_000 },
    totals: {
      offered: 600_000,
      sent: 600_000,
      stored: 600_000,
      lost: 0,
      lossPct: 0,
      achievedRate: 10_000,
      storedRate: 10_000,
      generatorMissed: 0,
      generatorDeferredTicks: 0,
      deadLetters: 0,
      persisterRejected: 0,
      missingSamples: 0,
    },
    alarms: {
      expected: 1200,
      exactlyOnce: 1200,
      missed: 0,
      duplicated: 0,
      unexpected: 0,
      missedOnWebSocket: 0,
      unexpectedByRule: {},
    },
    latencyMs: {
      publishToWebSocket: { count: 1200, min: 1, p50: 5, p95: 9, p99, max: p99, mean: 5 },
      publishToDetection: { count: 1200, min: 1, p50: 4, p95: 8, p99, max: p99, mean: 4 },
    },
    processes: {
      [target]: {
        cpuAvgPct: 60,
        cpuMaxPct: 70,
        rssStartMb: 250,
        rssMaxMb: Math.max(...series.map(s => s.processes[target]?.rssMb ?? 0)),
        rssEndMb: 300,
      },
    },
    sustained: {
      ok: p99 <= 50,
      reasons: p99 <= 50 ? [] : [`publish → WebSocket p99 ${p99} ms is over 50 ms`],
    },
    series,
    sentBySecond: [],
    storedBySecond: [],
    notes: [],
    ...over,
  };
}

const outcome = (label: string, rate: number, r: LoadRunReport | null): RunOutcome => ({
  label,
  rate,
  report: r,
  error: r ? null : 'Vigil: not ready within 180000 ms',
  startupMs: 8000,
  idleRssMb: 220,
});

const result: BenchResult = {
  kind: 'vigil-bench',
  startedAt: '2026-11-23T12:00:00.000Z',
  finishedAt: '2026-11-23T12:20:00.000Z',
  mode: 'full',
  machine: {
    os: 'Linux 6',
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGb: 24,
    node: 'v20.20.2',
    loadAverageAtStart: [1, 1, 1],
    loadAverageAtEnd: [2, 2, 2],
  },
  versions: {
    vigilCommit: 'abc1234',
    vigilDirty: true,
    mosquitto: 'mosquitto 2.0.11',
    influxd: 'influxd v1.6.7~rc0',
    nodeRed: '4.1.15',
    nodeRedInflux: '0.7.0',
  },
  config: {
    fleet: { name: 'fleet-100k', file: 'simulators/fleets/fleet-100k.yaml', devices: 100_000 },
    compareRate: 10_000,
    compareDurationMs: 60_000,
    sweepRates: [10_000, 20_000],
    stepDurationMs: 60_000,
    qos: 0,
    alarmsPerSecond: 10,
    p99TargetMs: 50,
  },
  comparison: {
    rate: 10_000,
    vigil: outcome('Vigil at 10000/s', 10_000, report('vigil', 12)),
    nodeRed: outcome('Node-RED', 10_000, report('node-red', 40)),
  },
  sweep: [
    outcome('Vigil at 10000/s', 10_000, report('vigil', 12)),
    outcome('Vigil at 20000/s', 20_000, null),
  ],
  sustainedRate: 10_000,
  overload: outcome(
    'Vigil at 20000/s (2 × 10000)',
    20_000,
    report('vigil', 900, {}, t => 300 + 5 * t),
  ),
  batchProbe: null,
  profiles: [
    {
      rate: 20_000,
      why: 'not sustained at 20000/s',
      file: 'bench/out/profiles/p.cpuprofile',
      summary: {
        durationMs: 30_000,
        busyMs: 29_000,
        busyPct: 96.7,
        topSelf: [
          {
            name: 'applySignal (lib/lifecycle.js:71)',
            owner: 'vigil',
            selfMs: 9000,
            selfPct: 31,
            totalMs: 9500,
            totalPct: 32.8,
          },
        ],
        topTotal: [],
        byOwner: [{ owner: 'vigil', selfMs: 18_000, selfPct: 62 }],
      },
      error: null,
    },
  ],
  errors: ['Vigil at 20000/s: Vigil: not ready within 180000 ms'],
};

describe('docs/benchmarks.md', () => {
  it('judges the targets from what was measured', () => {
    expect(evaluateTargets(result).map(t => t.met)).toEqual([false, true, true, false, true]);
    expect(rssSlopeMbPerSecond(result.overload?.report as LoadRunReport)).toBe(5);
  });

  it('renders every section from the result, with the conditions of the measurement', () => {
    const markdown = renderBenchmarksMarkdown(result, 'bench/out/bench-x.json');
    expect(markdown).toContain('# Benchmarks');
    expect(markdown).toContain('Test CPU, 2 cores, 24 GB');
    expect(markdown).toContain('abc1234 (with uncommitted changes)');
    expect(markdown).toContain('| Node-RED (peer) | 4.1.15 with node-red-contrib-influxdb 0.7.0 |');
    expect(markdown).toContain('Vigil 12 ms, Node-RED 40 ms');
    expect(markdown).toContain('| p99 latency | 3.33× |');
    expect(markdown).toContain('failed: Vigil: not ready within 180000 ms');
    expect(markdown).toContain('slope over the second half 5 MB/s');
    expect(markdown).toContain('`applySignal (lib/lifecycle.js:71)`');
    expect(markdown).toContain('load average 1 / 1 / 1 at the start');
    expect(markdown).not.toMatch(/\n\n\n/);
  });
});

describe(slowSeconds.name, () => {
  it('compares the seconds over 50 ms with the others', () => {
    const base = report('vigil', 10);
    const series = base.series.map((second, t) =>
      t % 10 === 5
        ? {
            ...second,
            latency: { p50: 20, p95: 150, p99: 200 },
            eventLoopLagMs: 120,
            processes: { vigil: { cpuPct: 90, rssMb: 400 }, influxd: { cpuPct: 30, rssMb: 300 } },
          }
        : {
            ...second,
            eventLoopLagMs: 10,
            processes: { vigil: { cpuPct: 50, rssMb: 400 }, influxd: { cpuPct: 20, rssMb: 300 } },
          },
    );
    const [text] = slowSeconds({
      label: 'Vigil at 35000/s',
      rate: 35_000,
      report: { ...base, series },
      error: null,
      startupMs: 1,
      idleRssMb: 1,
    });
    expect(text).toContain(
      '6 of 59 seconds had a p99 over 50 ms (mean p99 200 ms; the other seconds 10 ms)',
    );
    expect(text).toContain('averaged 90 % against 50 %');
    expect(text).toContain('InfluxDB 30 % against 20 %');
    expect(text).toContain('event-loop lag 120 ms against 10 ms');
  });
});

describe(lossAccounted.name, () => {
  const withLoss = (lost: number, missingSamples: number | null, persisterRejected = 0) => {
    const base = report('vigil', 10);
    return { ...base, totals: { ...base.totals, lost, missingSamples, persisterRejected } };
  };

  it('calls back-pressure explicit when Vigil counted what was lost', () => {
    expect(lossAccounted(withLoss(0, 0))).toBe(true);
    expect(lossAccounted(withLoss(1_000, 980))).toBe(true);
    expect(lossAccounted(withLoss(1_000, 600, 400))).toBe(true);
    expect(lossAccounted(withLoss(1_000, 500))).toBe(false);
    expect(lossAccounted(withLoss(1_000, null))).toBe(false);
  });
});

describe('bench arguments', () => {
  it('has defaults, a quick mode and validation', () => {
    expect(parseBenchArgs([])).toMatchObject({
      quick: false,
      stepMs: 60_000,
      compareRate: 10_000,
      rates: [10_000, 20_000, 35_000, 50_000, 70_000],
    });
    expect(parseBenchArgs(['--quick', '--rates', '20000,10000'])).toMatchObject({
      quick: true,
      stepMs: 15_000,
      compareMs: 15_000,
      rates: [10_000, 20_000],
    });
    expect(parseBenchArgs(['--skip', 'peer,overload', '--no-docs'])).toMatchObject({
      skip: new Set(['peer', 'overload']),
      docs: null,
    });
    expect(parseBenchArgs(['--skip', 'lunch', '--duration', 'x'])).toEqual({
      problems: [
        '--skip: unknown "lunch" (peer, sweep, overload, profile, batch)',
        '--duration: "x" is not a duration of at least 1s',
      ],
    });
  });
});
