import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';

import { USAGE, parseFaultArgs, selected } from './lib/args';
import { killAllStarted } from './lib/processes';
import {
  renderNotes,
  renderReport,
  renderTable,
  replaceSection,
  type FaultsReport,
} from './lib/report';
import { runScenario, type ScenarioResult } from './lib/run-scenario';
import { catalogue, describeFault, expectationOf } from './lib/scenarios';
import { summariseDrain } from './lib/accounting';

function findRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return process.cwd();
}

const ROOT = findRoot();
const log = (line: string): void =>
  void process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  const args = parseFaultArgs(process.argv.slice(2));
  const all = args.modes.flatMap(mode => catalogue(mode, args.rules));
  const chosen = all.filter(
    scenario =>
      selected(scenario.id, args.scenarios) &&
      // The NATS node kills need the 3-node cluster.
      (!scenario.jetstreamOnly || (args.bus === 'jetstream' && args.natsNodes === 3)),
  );
  if (args.help) {
    process.stdout.write(USAGE);
    process.stdout.write('\nscenarios:\n');
    for (const scenario of all) {
      process.stdout.write(
        `  ${scenario.id.padEnd(26)} ${describeFault(scenario.fault, args.downMs, args.influxDownMs)}  [${expectationOf(scenario.id, args.expect, args.bus)}]${scenario.jetstreamOnly ? ' (bus jetstream only)' : ''}\n`,
      );
    }
    return 0;
  }
  if (args.render) {
    // The docs again from a saved report (the drain summary recomputed from its samples).
    const saved = JSON.parse(readFileSync(join(ROOT, args.render), 'utf8')) as FaultsReport;
    writeDocs({ ...saved, results: saved.results.map(withDrain) });
    return 0;
  }
  if (chosen.length === 0) throw new Error(`no scenario matches ${args.scenarios.join(',')}`);
  if (!existsSync(join(ROOT, 'dist/apps/vigil/src/main.js')))
    throw new Error('dist/ lacks the apps: run `npm run build` first');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(ROOT, 'test/faults/out');
  const logDir = join(outDir, 'logs', stamp);
  mkdirSync(logDir, { recursive: true });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: killing what the suite started`);
      killAllStarted();
      process.exit(130);
    });
  }
  const git = (...command: string[]): string =>
    spawnSync('git', command, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const loadAtStart = loadavg().map(v => Math.round(v * 100) / 100);
  // What ran: the commit and command at the start (the branch may move during a long run).
  const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' (dirty)' : ''}`;
  const results: ScenarioResult[] = [];
  const errors: { id: string; error: string }[] = [];
  const report = (): FaultsReport => ({
    label: args.label,
    startedAt: new Date().toISOString(),
    commit,
    argv: process.argv.slice(2).join(' '),
    machine: {
      cores: cpus().length,
      loadAverage: loadAtStart,
      loadAverageAtEnd: loadavg().map(v => Math.round(v * 100) / 100),
    },
    results,
    errors,
  });
  const write = (): void => {
    const current = report();
    const json = JSON.stringify(current, null, 2);
    const md = renderReport(current);
    writeFileSync(join(outDir, `faults-${stamp}.json`), json);
    writeFileSync(join(outDir, `faults-${stamp}.md`), md);
    writeFileSync(join(outDir, 'latest.json'), json);
    writeFileSync(join(outDir, 'latest.md'), md);
  };
  for (const scenario of chosen) {
    const expectation = expectationOf(scenario.id, args.expect, args.bus);
    try {
      results.push(
        await runScenario(scenario, expectation, {
          root: ROOT,
          bus: args.bus,
          rules: args.rules,
          devices: args.devices,
          rate: args.rate,
          durationMs: args.durationMs,
          faultAtMs: args.faultAtMs,
          downMs: args.downMs,
          influxDownMs: args.influxDownMs,
          excursionsPerSecond: args.excursionsPerSecond,
          holdReadings: args.holdReadings,
          connections: args.connections,
          natsNodes: args.natsNodes,
          drainTimeoutMs: Math.max(60_000, args.influxDownMs * 2),
          logDir,
          log,
        }),
      );
    } catch (error) {
      log(`${scenario.id}: could not run: ${(error as Error).message}`);
      errors.push({ id: scenario.id, error: (error as Error).message });
    }
    write();
  }
  log(`report: test/faults/out/faults-${stamp}.md (and .json, latest.*)`);
  if (args.docs) writeDocs(report());
  const failed = results.filter(r => r.verdict === 'fail');
  for (const r of failed) log(`FAIL ${r.id}: ${r.failures.join('; ')}`);
  return failed.length > 0 || errors.length > 0 ? 1 : 0;
}

/** A result's drain summary from its samples (a saved report may predate the summary's fields). */
function withDrain(r: ScenarioResult): ScenarioResult {
  if (r.recovery.drain === null || r.recovery.restartedAt === null || !r.progress) return r;
  return {
    ...r,
    recovery: {
      ...r.recovery,
      drain: summariseDrain(r.progress, r.recovery.restartedAt, r.settings.rate),
    },
  };
}

/** Writes `<label>-split` / `<label>-allinone` of docs/reliability.md from a report. */
function writeDocs(report: FaultsReport): void {
  const docPath = join(ROOT, 'docs/reliability.md');
  let doc = readFileSync(docPath, 'utf8');
  const loads = (values: readonly number[] | undefined): string =>
    values ? values.map(v => v.toFixed(2)).join(' / ') : '–';
  for (const mode of ['split', 'allinone']) {
    const mine = report.results.filter(r => r.mode === mode);
    if (mine.length === 0) continue;
    const first = mine[0] as ScenarioResult;
    const caption = `Measured ${report.startedAt.slice(0, 10)} on commit ${report.commit} (\`${report.argv ?? `--label ${report.label}`}\`): ${first.settings.rate.toLocaleString('en-US')} readings/s from ${first.settings.devices.toLocaleString('en-US')} detectors at QoS 1, ${first.settings.durationMs / 1000} s, fault ${first.settings.faultAtMs / 1000} s in${mode === 'split' ? `, bus ${first.bus}, rules ×${first.settings.rules}` : ''}. Load average (1 / 5 / 15 min) at the start ${loads(report.machine.loadAverage)}, at the end ${loads(report.machine.loadAverageAtEnd)} (${report.machine.cores} cores, shared with other work).`;
    doc = replaceSection(
      doc,
      `${report.label}-${mode}`,
      `${caption}\n\n${renderTable(mine)}\n\n${renderNotes(mine)}`,
    );
  }
  writeFileSync(docPath, doc);
  log(`docs/reliability.md: ${report.label}-* tables written`);
}

main().then(
  code => process.exit(code),
  (error: unknown) => {
    log(`error: ${(error as Error).message}`);
    killAllStarted();
    process.exit(2);
  },
);
