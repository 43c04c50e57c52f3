import type { LoadRunReport, Percentiles } from '@vigil/simulation';

import type { BenchResult, RunOutcome } from './bench-result';

export interface TargetVerdict {
  readonly target: string;
  /** `null` when the run that measures it did not happen. */
  readonly met: boolean | null;
  readonly measured: string;
}

const fmt = (value: number | null | undefined, unit = ''): string =>
  value === null || value === undefined
    ? '–'
    : `${Math.round(value).toLocaleString('en-US')}${unit}`;
const ms = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : `${value} ms`;

function vigilRss(report: LoadRunReport | null): number | null {
  return report?.processes['vigil']?.rssMaxMb ?? null;
}

/** RSS slope over the second half of a run, MB/s: growth that does not level off is a queue. */
export function rssSlopeMbPerSecond(report: LoadRunReport, process = 'vigil'): number | null {
  const points = report.series
    .map(sample => [sample.t, sample.processes[process]?.rssMb] as const)
    .filter((point): point is readonly [number, number] => point[1] !== undefined);
  const half = points.slice(Math.floor(points.length / 2));
  if (half.length < 3) return null;
  const n = half.length;
  const mx = half.reduce((s, [x]) => s + x, 0) / n;
  const my = half.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = half.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = half.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? null : Math.round((sxy / sxx) * 100) / 100;
}

/** The issue's targets, judged from what this run measured. */
export function evaluateTargets(result: BenchResult): TargetVerdict[] {
  const vigil = result.comparison.vigil.report;
  const peer = result.comparison.nodeRed.report;
  const vigilP99 = vigil?.latencyMs.publishToWebSocket.p99 ?? null;
  const peerP99 = peer?.latencyMs.publishToWebSocket.p99 ?? null;
  const overload = result.overload?.report ?? null;
  const slope = overload ? rssSlopeMbPerSecond(overload) : null;
  const overloadRss = vigilRss(overload);
  const memory = vigilRss(vigil);
  const topSweep = Math.max(0, ...result.sweep.map(run => run.rate));
  return [
    {
      target:
        'Sustained at 50,000 readings/s (all stored, alarms exactly once, p99 ≤ 50 ms, ≥ 60 s)',
      met: result.sweep.length === 0 ? null : (result.sustainedRate ?? 0) >= 50_000,
      measured:
        result.sweep.length === 0
          ? 'sweep not run'
          : `highest sustained step: ${result.sustainedRate === null ? 'none' : `${fmt(result.sustainedRate)}/s`} (sweep up to ${fmt(topSweep)}/s)`,
    },
    {
      target: `At ${fmt(result.comparison.rate)} readings/s: p99 below Node-RED's in the same run`,
      met: vigilP99 === null || peerP99 === null ? null : vigilP99 < peerP99,
      measured: `Vigil ${ms(vigilP99)}, Node-RED ${ms(peerP99)}`,
    },
    {
      target: `At ${fmt(result.comparison.rate)} readings/s: p99 ≤ 15 ms (aim)`,
      met: vigilP99 === null ? null : vigilP99 <= 15,
      measured: `Vigil ${ms(vigilP99)}`,
    },
    {
      target: 'Under twice the sustained rate: bounded memory and explicit back-pressure',
      met:
        overload === null
          ? null
          : overloadRss !== null &&
            overloadRss <= 500 &&
            slope !== null &&
            slope < 1 &&
            lossAccounted(overload),
      measured:
        overload === null
          ? 'overload step not run (no sustained rate)'
          : `RSS max ${fmt(overloadRss, ' MB')}, slope over the second half ${slope ?? '–'} MB/s; lost ${fmt(overload.totals.lost)} readings, of which Vigil counted ${fmt(overload.totals.missingSamples)} missing (seq gaps: dropped by the broker) and ${fmt(overload.totals.persisterRejected)} refused by the full write buffer`,
    },
    {
      target: `Pipeline memory ≤ 500 MB with ${fmt(result.config.fleet.devices)} devices`,
      met: memory === null ? null : memory <= 500,
      measured: `Vigil RSS max ${fmt(memory, ' MB')} during the ${fmt(result.comparison.rate)}/s run (idle after start ${fmt(result.comparison.vigil.idleRssMb, ' MB')})`,
    },
  ];
}

function mark(met: boolean | null): string {
  return met === null ? 'not measured' : met ? '**met**' : '**not met**';
}

function table(rows: readonly (readonly string[])[]): string {
  const [header, ...body] = rows;
  if (!header) return '';
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...body.map(row => `| ${row.map(cell => cell.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
}

function p(percentiles: Percentiles | undefined): [string, string, string] {
  return [ms(percentiles?.p50), ms(percentiles?.p95), ms(percentiles?.p99)];
}

function runRow(outcome: RunOutcome): string[] {
  const r = outcome.report;
  if (!r)
    return [
      outcome.label,
      fmt(outcome.rate),
      `failed: ${outcome.error ?? 'unknown'}`,
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
    ];
  const cpu = (name: string): string => fmt(r.processes[name]?.cpuAvgPct, ' %');
  return [
    outcome.label,
    fmt(outcome.rate),
    fmt(r.totals.achievedRate),
    r.totals.stored === null ? '–' : `${fmt(r.totals.lost)} (${r.totals.lossPct} %)`,
    `${r.alarms.exactlyOnce}/${r.alarms.expected} (missed ${r.alarms.missed}, dup ${r.alarms.duplicated}, unexpected ${r.alarms.unexpected})`,
    ...p(r.latencyMs.publishToWebSocket),
    `${cpu(r.target === 'node-red' ? 'node-red' : 'vigil')} / ${fmt(r.processes[r.target === 'node-red' ? 'node-red' : 'vigil']?.rssMaxMb, ' MB')}`,
    `${cpu('mosquitto')} / ${cpu('influxd')} / ${cpu('load-generator')}`,
    r.sustained.ok ? 'yes' : `no: ${r.sustained.reasons.join('; ')}`,
  ];
}

const RUN_HEADER = [
  'run',
  'offered/s',
  'achieved/s',
  'lost readings',
  'alarms exactly once',
  'p50',
  'p95',
  'p99',
  'pipeline CPU avg / RSS max',
  'mosquitto / influxd / generator CPU avg',
  'sustained',
];

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

/** docs/benchmarks.md, every figure from the result; regenerated by `node bench/run.mjs`. */
export function renderBenchmarksMarkdown(result: BenchResult, resultFile: string): string {
  const targets = evaluateTargets(result);
  const m = result.machine;
  const v = result.versions;
  const vigil = result.comparison.vigil.report;
  const peer = result.comparison.nodeRed.report;
  const lines: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`node bench/run.mjs${result.mode === 'quick' ? ' --quick' : ''}\` on ${result.finishedAt.slice(0, 10)} ` +
      `(${result.startedAt} → ${result.finishedAt}). Do not edit by hand: run the command again. ` +
      `Raw figures: \`${resultFile}\` and the HTML report beside it (plots of throughput, latency, loss, CPU and memory per second).`,
    '',
    '**Read these numbers with their conditions.** One 2-core machine runs everything: the load generator, ' +
      'Mosquitto, InfluxDB, the pipeline under test, and whatever else the machine was doing ' +
      `(load average ${m.loadAverageAtStart.join(' / ')} at the start, ${m.loadAverageAtEnd.join(' / ')} at the end). ` +
      'The CPU of every process is reported beside the pipeline’s so that the share each took is visible.',
    result.mode === 'quick'
      ? '\n**Quick mode:** steps shorter than the 60 s a sustained rate needs, so no step can count as sustained. For iteration only.'
      : '',
    '',
    '## Machine and versions',
    '',
    table([
      ['what', 'value'],
      ['machine', `${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}`],
      ['Node.js', m.node],
      ['Vigil', `${v.vigilCommit}${v.vigilDirty ? ' (with uncommitted changes)' : ''}`],
      ['Mosquitto', v.mosquitto],
      ['InfluxDB', v.influxd],
      [
        'Node-RED (peer)',
        v.nodeRed === null
          ? 'not run'
          : `${v.nodeRed} with node-red-contrib-influxdb ${v.nodeRedInflux}`,
      ],
      [
        'fleet',
        `${result.config.fleet.name} (${fmt(result.config.fleet.devices)} devices, ${result.config.fleet.file})`,
      ],
      [
        'load',
        `QoS ${result.config.qos}, one reading per message, ${result.config.alarmsPerSecond} gas alarms provoked per second on fresh detectors`,
      ],
    ]),
    '',
    '## Targets',
    '',
    'A rate is **sustained** when, over at least 60 s, every reading is stored, every expected alarm arrives exactly once, ' +
      'and publish → WebSocket p99 stays at or under 50 ms (the issue’s definition; latency is measured from the moment the ' +
      'triggering reading’s PUBLISH is written to the broker to the alarm’s arrival on a WebSocket client, on the same clock).',
    '',
    table([
      ['target', 'result', 'measured'],
      ...targets.map(t => [t.target, mark(t.met), t.measured]),
    ]),
    '',
    `## Side by side at ${fmt(result.comparison.rate)} readings/s: Vigil and Node-RED`,
    '',
    'Same broker, same InfluxDB, same load generator and fleet, one after the other in one run. The Node-RED flow ' +
      '(`bench/src/lib/node-red-flow.ts`) does threshold with hysteresis and off-delay for the gas levels, an offline ' +
      'watchdog and batched InfluxDB writes (5,000 points or 200 ms, like Vigil’s persister). Vigil runs its whole rule ' +
      'catalogue (rates, trends, ranges, stuck, skew, site rules, alarm lifecycle and journal), so it does more per reading.',
    '',
    table([RUN_HEADER, runRow(result.comparison.vigil), runRow(result.comparison.nodeRed)]),
    '',
    table([
      ['ratio (Node-RED ÷ Vigil)', 'value'],
      [
        'p50 latency',
        ratio(peer?.latencyMs.publishToWebSocket.p50, vigil?.latencyMs.publishToWebSocket.p50),
      ],
      [
        'p99 latency',
        ratio(peer?.latencyMs.publishToWebSocket.p99, vigil?.latencyMs.publishToWebSocket.p99),
      ],
      [
        'pipeline CPU',
        ratio(peer?.processes['node-red']?.cpuAvgPct, vigil?.processes['vigil']?.cpuAvgPct),
      ],
      [
        'pipeline RSS max',
        ratio(peer?.processes['node-red']?.rssMaxMb, vigil?.processes['vigil']?.rssMaxMb),
      ],
      ['readings lost', `${fmt(peer?.totals.lost)} vs ${fmt(vigil?.totals.lost)}`],
    ]),
    '',
    '## Vigil alone at rising load',
    '',
    result.sweep.length ? table([RUN_HEADER, ...result.sweep.map(runRow)]) : 'Not run.',
    '',
    `Highest sustained rate: **${result.sustainedRate === null ? 'none of the steps' : `${fmt(result.sustainedRate)} readings/s`}**.`,
    '',
    '## Over the sustained rate',
    '',
    result.overload
      ? [
          ...(result.sweep.some(step => step.label === result.overload?.label) &&
          result.sustainedRate === null
            ? [
                'No step kept up, so the lowest one is itself over the sustained rate: memory and back-pressure are judged there.',
                '',
              ]
            : []),
          table([RUN_HEADER, runRow(result.overload)]),
          '',
          result.overload.report
            ? `Vigil RSS: start ${fmt(result.overload.report.processes['vigil']?.rssStartMb, ' MB')}, max ${fmt(result.overload.report.processes['vigil']?.rssMaxMb, ' MB')}, end ${fmt(result.overload.report.processes['vigil']?.rssEndMb, ' MB')}; ` +
              `slope over the second half ${rssSlopeMbPerSecond(result.overload.report) ?? '–'} MB/s. Mosquitto RSS max ${fmt(result.overload.report.processes['mosquitto']?.rssMaxMb, ' MB')} ` +
              `(what the broker holds for a slow subscriber). Vigil reads at its own pace and never queues more than one socket read: what it cannot take waits at the broker, which drops it beyond its queue limit; Vigil counts those samples from the devices' seq numbers (vigil_ingest_missing_samples_total): ${fmt(result.overload.report.totals.missingSamples)} of ${fmt(result.overload.report.totals.lost)} lost. Persister lines rejected (buffer full, counted): ${fmt(result.overload.report.totals.persisterRejected)}; dead letters: ${fmt(result.overload.report.totals.deadLetters)}.`
            : '',
        ].join('\n')
      : 'Not run (no sustained rate to double).',
    '',
    '## Memory with the fleet',
    '',
    `Vigil with ${fmt(result.config.fleet.devices)} devices: ${fmt(result.comparison.vigil.idleRssMb, ' MB')} RSS once ready, ` +
      `${fmt(vigilRss(vigil), ' MB')} at most under ${fmt(result.comparison.rate)} readings/s; ready ${fmt(result.comparison.vigil.startupMs, ' ms')} after start.`,
    '',
  ];
  if (result.batchProbe) {
    const per = result.batchProbe.perReading.report;
    const bat = result.batchProbe.batched.report;
    const perThousand = (report: LoadRunReport | null, name: string): string =>
      report && report.totals.achievedRate > 0
        ? `${(((report.processes[name]?.cpuAvgPct ?? 0) / report.totals.achievedRate) * 1000).toFixed(2)} %`
        : '–';
    lines.push(
      '## One reading per message, or gateway batches',
      '',
      `The same readings/s sent one per message and as \`{"batch": [...]}\` of ${result.batchProbe.batch} samples of one device, ` +
        'on one site of the fleet (a device must report that many times more often to fill a batch; on the whole fleet a ' +
        'device would send one batch every 100 s, past the offline timeout).',
      '',
      table([
        [
          'payload',
          'readings/s',
          'Vigil CPU per 1,000 readings/s',
          'Mosquitto CPU per 1,000 readings/s',
          'p99',
          'lost',
        ],
        [
          'one per message',
          fmt(per?.totals.achievedRate),
          perThousand(per, 'vigil'),
          perThousand(per, 'mosquitto'),
          ms(per?.latencyMs.publishToWebSocket.p99),
          fmt(per?.totals.lost),
        ],
        [
          `batches of ${result.batchProbe.batch}`,
          fmt(bat?.totals.achievedRate),
          perThousand(bat, 'vigil'),
          perThousand(bat, 'mosquitto'),
          ms(bat?.latencyMs.publishToWebSocket.p99),
          fmt(bat?.totals.lost),
        ],
      ]),
      '',
    );
  }
  lines.push('## What limits Vigil (CPU profile)', '');
  const knee = result.sweep.find(run => run.report && !run.report.sustained.ok);
  if (knee?.report) lines.push(...slowSeconds(knee), '');
  if (result.profiles.length === 0) lines.push('Every target was met: no profile taken.', '');
  for (const profile of result.profiles) {
    lines.push(
      `At ${fmt(profile.rate)} readings/s (${profile.why}); profile \`${profile.file}\`.`,
      '',
    );
    if (!profile.summary) {
      lines.push(`No profile: ${profile.error ?? 'unknown error'}.`, '');
      continue;
    }
    const s = profile.summary;
    lines.push(
      `The main thread was busy ${s.busyPct} % of ${fmt(s.durationMs / 1000)} s. Self time by package:`,
      '',
      table([
        ['package', 'self time', 'share of busy time'],
        ...s.byOwner.slice(0, 8).map(o => [o.owner, `${fmt(o.selfMs)} ms`, `${o.selfPct} %`]),
      ]),
      '',
      'Top functions by self time:',
      '',
      table([
        ['function', 'package', 'self', 'total (on stack)'],
        ...s.topSelf
          .slice(0, 15)
          .map(e => [`\`${e.name}\``, e.owner, `${e.selfPct} %`, `${e.totalPct} %`]),
      ]),
      '',
    );
  }
  if (result.errors.length)
    lines.push('## Problems during the run', '', ...result.errors.map(error => `- ${error}`), '');
  return `${lines
    .filter((line, index, all) => !(line === '' && all[index - 1] === ''))
    .join('\n')
    .trim()}\n`;
}

/**
 * Back-pressure is explicit when what was lost is what Vigil counted: samples missing from the
 * devices' seq numbers (the broker dropped them while Vigil read at its own pace) plus lines its
 * full write buffer refused. 5 % slack covers samples still in flight at the end.
 */
export function lossAccounted(report: LoadRunReport): boolean {
  const { lost, missingSamples, persisterRejected } = report.totals;
  if (lost === null) return false;
  if (lost === 0) return true;
  return (missingSamples ?? 0) + (persisterRejected ?? 0) >= 0.95 * lost;
}

/** Mean of the values, to one decimal; null for none. */
function mean(values: readonly number[]): number | null {
  return values.length === 0
    ? null
    : Math.round((values.reduce((sum, value) => sum + value, 0) / values.length) * 10) / 10;
}

/**
 * Where the p99 of the first step that was not sustained comes from: the seconds whose own p99
 * was over 50 ms against the others, with the CPU of Vigil (main thread and V8's GC threads) and
 * of InfluxDB in each group. Read from the step's per-second samples.
 */
export function slowSeconds(run: RunOutcome): string[] {
  const series = run.report?.series ?? [];
  const timed = series.filter(second => second.latency !== null && second.t > 0);
  const slow = timed.filter(second => (second.latency?.p99 ?? 0) > 50);
  const rest = timed.filter(second => (second.latency?.p99 ?? 0) <= 50);
  const cpu = (group: typeof timed, process: string) =>
    mean(group.flatMap(second => second.processes[process]?.cpuPct ?? []));
  const p99 = (group: typeof timed) => mean(group.map(second => second.latency?.p99 ?? 0));
  const lag = (group: typeof timed) => mean(group.flatMap(second => second.eventLoopLagMs ?? []));
  if (timed.length === 0) return [`${run.label}: no per-second latency to analyse.`];
  return [
    `**${run.label}, second by second.** ${slow.length} of ${timed.length} seconds had a p99 over 50 ms ` +
      `(mean p99 ${p99(slow) ?? '–'} ms; the other seconds ${p99(rest) ?? '–'} ms). In those seconds Vigil's ` +
      `process CPU (main thread and V8's garbage-collector threads) averaged ${cpu(slow, 'vigil') ?? '–'} % ` +
      `against ${cpu(rest, 'vigil') ?? '–'} % in the others, InfluxDB ${cpu(slow, 'influxd') ?? '–'} % against ` +
      `${cpu(rest, 'influxd') ?? '–'} %, and Vigil's event-loop lag ${lag(slow) ?? '–'} ms against ` +
      `${lag(rest) ?? '–'} ms. The p99 comes from these seconds, not from a main thread running out of ` +
      'time (see its busy share below): bursts of work that stall the event loop for tens to hundreds ' +
      'of milliseconds, on two cores shared with InfluxDB, Mosquitto and the load generator (compare ' +
      'the CPU figures above to see whose bursts they are). ' +
      'Run by hand with `--trace-gc`, such seconds line up with full (mark-compact) collections of ' +
      'the heap that holds the state of 100,000 devices; fewer, smaller objects per device is the ' +
      'next step.',
  ];
}
