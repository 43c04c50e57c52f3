import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';

import { parse } from 'yaml';

import { loadRegistry } from '@vigil/registry-node';
import {
  expandFleet,
  formatScenarioSummary,
  loadScenarioFile,
  parseFleetFile,
  renderLoadReportHtml,
  renderScenarioHtml,
  runLoad,
  runScenario,
  writeRegistry,
  type FleetDefinition,
  type ScenarioReport,
} from '@vigil/simulation';

import type { Command } from './cli';
import { Progress, progressLine, thousands } from './progress';

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly progress: Progress;
}

export interface NamedFleet extends FleetDefinition {
  readonly name: string;
}

/** A fleet file (YAML/JSON with a `name`) or a registry (folder or file). */
export function loadFleetOrRegistry(path: string): NamedFleet {
  const full = resolve(path);
  if (!statSync(full).isDirectory()) {
    const text = readFileSync(full, 'utf8');
    const content = extname(full) === '.json' ? JSON.parse(text) : parse(text);
    if (content && typeof content === 'object' && 'name' in content) {
      const fleet = expandFleet(parseFleetFile(content, path), resolve(full, '..'));
      return { name: fleet.name, devices: fleet.registry.devices, sites: fleet.registry.sites };
    }
  }
  const registry = loadRegistry(full);
  return {
    name: basename(full).replace(/\.(ya?ml|json)$/, ''),
    devices: registry.devices,
    sites: registry.sites,
  };
}

function outDir(requested: string | undefined, what: string): string {
  if (requested) {
    mkdirSync(requested, { recursive: true });
    return requested;
  }
  return mkdtempSync(join(tmpdir(), `vigil-loadtest-${what}-`));
}

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

/** Runs a parsed command; resolves with the exit code. */
export async function runCommand(command: Command, io: Io): Promise<number> {
  switch (command.kind) {
    case 'help':
      return 0;
    case 'fleet': {
      const started = Date.now();
      const text = readFileSync(command.file, 'utf8');
      const content = extname(command.file) === '.json' ? JSON.parse(text) : parse(text);
      const fleet = expandFleet(parseFleetFile(content, command.file), resolve(command.file, '..'));
      const dir = command.out ?? mkdtempSync(join(tmpdir(), `vigil-fleet-${fleet.name}-`));
      const files = writeRegistry(fleet, dir);
      const s = fleet.stats;
      io.out(
        `fleet ${fleet.name}: ${thousands(s.devices)} devices on ${s.sites} site(s), ${s.areas} areas; ` +
          Object.entries(s.byClass)
            .map(([name, n]) => `${name} ${thousands(n as number)}`)
            .join(', '),
      );
      io.out(
        `nominal load ${thousands(s.nominalReadingsPerSecond)} readings/s; expanded and validated in ${s.expandMs} ms`,
      );
      io.out(`registry written to ${dir} (${files.length} files) in ${Date.now() - started} ms`);
      io.out(`VIGIL_REGISTRY=${dir}`);
      return 0;
    }
    case 'scenario': {
      const reports: ScenarioReport[] = [];
      for (const file of command.files) {
        const scenario = loadScenarioFile(file);
        io.err(
          `playing ${scenario.name} (${scenario.duration / 1000} s) against ${command.gateway}`,
        );
        const report = await runScenario({
          scenario,
          gatewayUrl: command.gateway,
          mqttUrl: command.url,
          targets: command.targets,
          without: command.without,
          ...(command.mqttLogin ? { mqttLogin: command.mqttLogin } : {}),
          ...(command.token ? { token: command.token } : {}),
          ...(command.influx
            ? { influx: { url: command.influx, database: command.influxDb } }
            : {}),
          seed: command.seed,
          settleMs: command.settleMs,
          onProgress: p =>
            io.progress.update(
              progressLine(p.elapsedMs, p.totalMs, [
                `sent ${thousands(p.sent)}`,
                `alarms raised ${p.raises}`,
              ]),
            ),
        });
        io.progress.done();
        io.out(formatScenarioSummary(report));
        reports.push(report);
      }
      const dir = outDir(command.out, 'scenario');
      const name = reports.length === 1 ? (reports[0] as ScenarioReport).name : 'scenarios';
      const json = join(dir, `${name}-${stamp()}.json`);
      writeFileSync(json, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
      const html = json.replace(/\.json$/, '.html');
      writeFileSync(html, renderScenarioHtml(`Vigil scenarios: ${name}`, reports));
      io.out(`report: ${json}\n        ${html}`);
      return reports.every(report => report.verdict.passed) ? 0 : 1;
    }
    case 'load': {
      const fleet = loadFleetOrRegistry(command.fleet);
      const tokenQuery = command.token ? `?token=${encodeURIComponent(command.token)}` : '';
      const wsUrl =
        command.ws ?? `${(command.gateway as string).replace(/^http/, 'ws')}/ws${tokenQuery}`;
      io.err(
        `offering ${command.profile.kind} load to ${command.url} from ${thousands(fleet.devices.length)} devices of ${fleet.name}`,
      );
      const report = await runLoad({
        target: {
          name: command.gateway ? 'vigil' : 'system under test',
          mqttUrl: command.url,
          ...(command.mqttLogin ? { mqttLogin: command.mqttLogin } : {}),
          wsUrl,
          ...(command.gateway
            ? { metricsUrl: `${command.gateway}/metrics`, gatewayUrl: command.gateway }
            : {}),
          ...(command.influx
            ? {
                influx: {
                  url: command.influx,
                  database: command.influxDb,
                  retentionPolicy: command.influxRp,
                  measurement: 'telemetry',
                },
              }
            : {}),
          pids: command.pids,
        },
        fleet,
        profile: command.profile,
        qos: command.qos,
        batch: command.batch,
        injection: { perSecond: command.alarmsPerSecond },
        onSecond: (sample, elapsed, total) =>
          io.progress.update(
            progressLine(
              elapsed,
              total,
              [
                `sent ${thousands(sample.sent)}/s`,
                sample.stored === null ? '' : `stored ${thousands(sample.stored)}/s`,
                sample.latency ? `p99 ${sample.latency.p99} ms` : 'p99 –',
              ].filter(Boolean),
            ),
          ),
      });
      io.progress.done();
      const t = report.totals;
      const l = report.latencyMs.publishToWebSocket;
      io.out(`${report.title}`);
      io.out(
        `  sent ${thousands(t.sent)} (${thousands(t.achievedRate)}/s), stored ${t.stored === null ? 'not checked' : `${thousands(t.stored)} (lost ${t.lost}, ${t.lossPct} %)`}`,
      );
      io.out(
        `  alarms expected ${report.alarms.expected}, exactly once ${report.alarms.exactlyOnce}, missed ${report.alarms.missed}, duplicated ${report.alarms.duplicated}, unexpected ${report.alarms.unexpected}`,
      );
      io.out(
        `  publish → WebSocket p50 ${l.p50 ?? '–'} p95 ${l.p95 ?? '–'} p99 ${l.p99 ?? '–'} ms`,
      );
      for (const [name, p] of Object.entries(report.processes)) {
        io.out(
          `  ${name.padEnd(16)} CPU avg ${p.cpuAvgPct} % max ${p.cpuMaxPct} %, RSS max ${p.rssMaxMb} MB`,
        );
      }
      io.out(
        report.sustained.ok
          ? '  sustained'
          : `  not sustained: ${report.sustained.reasons.join('; ')}`,
      );
      const dir = outDir(command.out, 'load');
      const json = join(dir, `load-${stamp()}.json`);
      writeFileSync(json, JSON.stringify(report, null, 2));
      const html = json.replace(/\.json$/, '.html');
      writeFileSync(html, renderLoadReportHtml(`Vigil load test: ${report.title}`, [report]));
      io.out(`report: ${json}\n        ${html}`);
      const lostReadings = (t.lost ?? 0) > 0;
      return report.alarms.missed > 0 || report.alarms.duplicated > 0 || lostReadings ? 1 : 0;
    }
  }
}
