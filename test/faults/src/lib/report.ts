import type { ScenarioResult } from './run-scenario';

export interface FaultsReport {
  readonly label: string;
  readonly startedAt: string;
  readonly commit: string;
  /** The command line's options (absent in reports written before it was saved). */
  readonly argv?: string;
  readonly machine: {
    readonly cores: number;
    readonly loadAverage: readonly number[];
    readonly loadAverageAtEnd?: readonly number[];
  };
  readonly results: readonly ScenarioResult[];
  readonly errors: readonly { readonly id: string; readonly error: string }[];
}

const n = (value: number): string => value.toLocaleString('en-US');
const s = (ms: number | null): string => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** The measured table for one mode (docs/reliability.md), rendered from the results alone. Pure. */
export function renderTable(results: readonly ScenarioResult[]): string {
  const lines = [
    '| scenario | fault | readings lost (of them PUBACKed) / offered | duplicate rows | alarms not raised exactly once (never / twice) | alarm changes not pushed live / expected | audit rows missing | stored again after | `/readyz` from the fault on | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const notOnce = r.alarms.neverRaised + r.alarms.raisedTwice;
    lines.push(
      `| ${r.id} | ${r.fault} | ${n(r.readings.missing)} (${n(r.readings.missingAcknowledged)}) / ${n(r.readings.offered)} | ${n(r.readings.duplicateRows)} | ${notOnce} (${r.alarms.neverRaised} / ${r.alarms.raisedTwice}) of ${r.alarms.excursions * 2} | ${r.alarms.notPushedLive} / ${r.alarms.expectedChanges} | ${r.alarms.auditMissing} | ${r.recovery.faultAt === null ? '–' : s(r.recovery.storedAgainMs)} | ${r.recovery.readyz.text} | ${r.verdict}${r.failures.length ? `: ${r.failures.join('; ')}` : ''} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Below the table: the generator's pace (whether it kept its rate) and, after an InfluxDB outage,
 * how the backlog drained against the live rate (the issue: "several times the live rate"). Pure.
 */
export function renderNotes(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const pace = r.offeredPerSecond;
    const parts = [
      `generator offered ${n(r.readings.offered)} readings, ${n(pace.mean)}/s on average (slowest second ${n(pace.min)}/s; target ${n(r.settings.rate)}/s), ${n(r.readings.pubacked)} PUBACKed by the broker`,
    ];
    const loads = r.progress.flatMap(p => (p.load1 === undefined ? [] : [p.load1]));
    if (loads.length > 0)
      parts.push(
        `1-min load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
      );
    const d = r.recovery.drain;
    if (d) {
      parts.push(
        d.caughtUpMs === null
          ? `at InfluxDB's return ${n(d.backlogAtRestart)} readings PUBACKed by the broker were not stored yet: **never caught up** with them before the drain ended; ${d.settledMs === null ? 'nothing more was stored' : `what the pipeline held was stored in ${s(d.settledMs)}, ${n(Math.round(d.settledRate ?? 0))}/s on average (${((d.settledRate ?? 0) / r.settings.rate).toFixed(1)} × the live rate)`} (peak ${d.peakStoreRate === null ? '–' : n(Math.round(d.peakStoreRate))}/s over 5 s)`
          : `backlog at InfluxDB's return ${n(d.backlogAtRestart)} readings, caught up ${s(d.caughtUpMs)} later: ${n(Math.round(d.storeRate ?? 0))} stored/s on average (live included), ${(d.timesLiveRate ?? 0).toFixed(1)} × the live rate (peak ${n(Math.round(d.peakStoreRate ?? 0))}/s over 5 s)`,
      );
    }
    lines.push(`- ${r.id}: ${parts.join('; ')}.`);
  }
  return lines.join('\n');
}

/** The whole report: settings, one table per mode, errors, unexpected alarms. Pure. */
export function renderReport(report: FaultsReport): string {
  const out: string[] = [
    `# Fault injection: ${report.label}`,
    '',
    `Run ${report.startedAt} on commit ${report.commit}, ${report.machine.cores} cores, load average at the start ${report.machine.loadAverage.join(' / ')}.`,
    '',
  ];
  for (const mode of ['split', 'allinone']) {
    const results = report.results.filter(r => r.mode === mode);
    if (results.length === 0) continue;
    const first = results[0] as ScenarioResult;
    out.push(
      `## ${mode === 'split' ? `Split processes (bus: ${first.bus}, rules ×${first.settings.rules})` : 'All-in-one (one process)'}`,
      '',
      `${n(first.settings.rate)} readings/s from ${n(first.settings.devices)} detectors at QoS 1 for ${first.settings.durationMs / 1000} s, fault ${first.settings.faultAtMs / 1000} s in.`,
      '',
      renderTable(results),
      '',
      renderNotes(results),
      '',
    );
    const unexpected = results.filter(r => Object.keys(r.alarms.unexpected).length > 0);
    for (const r of unexpected) {
      out.push(
        `- ${r.id}: alarms nobody provoked: ${Object.entries(r.alarms.unexpected)
          .map(([rule, count]) => `${rule} ×${count}`)
          .join(', ')}`,
      );
    }
    if (unexpected.length) out.push('');
  }
  for (const { id, error } of report.errors) out.push(`- ${id}: **could not run**: ${error}`);
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * Replaces the block between `<!-- faults:<section>:begin -->` and `<!-- faults:<section>:end -->`
 * in `doc` with `body`. Throws when the markers are missing. Pure.
 */
export function replaceSection(doc: string, section: string, body: string): string {
  const begin = `<!-- faults:${section}:begin -->`;
  const end = `<!-- faults:${section}:end -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/reliability.md has no ${begin} … ${end} block`);
  // Blank lines around the body: a table right after an HTML comment line would not render.
  return `${doc.slice(0, from + begin.length)}\n\n${body.trim()}\n\n${doc.slice(to)}`;
}
