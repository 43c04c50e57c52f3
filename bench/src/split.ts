/**
 * `node bench/split-throughput.mjs`: the split deployment (ingest, rules, persister, gateway on
 * the JetStream backbone) beside the all-in-one process, at stepped rates (issue 12: "the
 * throughput of the split deployment beside the all-in-one one" and "the cost of the JetStream
 * hop"). Per step, fresh Vigil processes from dist/apps, a fresh private nats-server (split),
 * Mosquitto and influxd (nothing carries over between steps: ingest's persistent session would
 * otherwise receive the previous step's queue), the same load generator as bench/run.mjs (runLoad), which
 * reports stored/sent, alarms exactly once, publish → WebSocket p50/p99 and the CPU of every
 * process. Writes bench/out/split-<time>.json and, with --docs, the generated blocks of
 * docs/benchmarks.md and docs/scaling.md. Everything on 127.0.0.1 free ports, stopped by PID.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

import {
  expandFleet,
  parseFleetFile,
  runLoad,
  writeRegistry,
  type ExpandedFleet,
  type LoadRunReport,
} from '@vigil/simulation';
import {
  freePort,
  startInfluxd,
  startMosquitto,
  startNats,
  type InfluxHandle,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import { httpOk, installCleanup, onInterrupt, startProcess, waitUntil } from './lib/processes';
import type { Started } from './lib/processes';
import {
  deploymentFailed,
  renderSplitMarkdown,
  replaceBlock,
  type Deployment,
  type SplitResult,
  type SplitStep,
} from './lib/split-md';

export const SPLIT_USAGE = `node bench/split-throughput.mjs [options]

  --rates 2000,5000,10000,20000   readings/s steps (default)
  --duration S                    seconds per step (default 30, at most 30)
  --deployments allinone,split    which, in this order per rate (default both)
  --sites N                       sites of simulators/fleets/fleet-100k.yaml (5,000 devices each; default 4)
  --qos 0|1                       (default 1)
  --alarms N                      gas alarms provoked per second (default 10)
  --replicas 1|3                  JetStream replicas (3 = a 3-node cluster on this host; default 1)
  --partitions N                  VIGIL_PARTITIONS (default 16)
  --docs                          write the tables into docs/benchmarks.md and docs/scaling.md
  --render FILE                   re-render the docs from a saved bench/out/split-*.json
  --keep-going                    run the higher rates of a deployment after a step it failed`;

interface SplitArgs {
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly deployments: readonly Deployment[];
  readonly sites: number;
  readonly qos: 0 | 1;
  readonly alarms: number;
  readonly replicas: 1 | 3;
  readonly partitions: number;
  readonly docs: boolean;
  readonly render: string | null;
  readonly keepGoing: boolean;
}

function parseArgs(argv: readonly string[]): SplitArgs | 'help' {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  if (argv.includes('--help')) return 'help';
  const num = (name: string, fallback: number): number => {
    const raw = value(name);
    const parsed = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} ${raw}: not a number`);
    return parsed;
  };
  const rates = (value('rates') ?? '2000,5000,10000,20000').split(',').map(Number);
  if (rates.some(r => !Number.isFinite(r) || r <= 0)) throw new Error('--rates: positive numbers');
  const durationS = num('duration', 30);
  if (durationS > 30 || durationS < 5) throw new Error('--duration: 5 to 30 s per step');
  const deployments = (value('deployments') ?? 'allinone,split').split(',') as Deployment[];
  if (deployments.some(d => d !== 'allinone' && d !== 'split'))
    throw new Error('--deployments: allinone and/or split');
  const qos = num('qos', 1);
  const replicas = num('replicas', 1);
  if (qos !== 0 && qos !== 1) throw new Error('--qos 0 or 1');
  if (replicas !== 1 && replicas !== 3) throw new Error('--replicas 1 or 3');
  return {
    rates,
    durationMs: durationS * 1000,
    deployments,
    sites: num('sites', 4),
    qos,
    alarms: num('alarms', 10),
    replicas,
    partitions: num('partitions', 16),
    docs: argv.includes('--docs'),
    render: value('render') ?? null,
    keepGoing: argv.includes('--keep-going'),
  };
}

function findRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return process.cwd();
}
const ROOT = findRoot();
const log = (line: string): void =>
  void process.stderr.write(`[split ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const load3 = (): number[] => loadavg().map(v => Math.round(v * 100) / 100);

interface Rig {
  readonly args: SplitArgs;
  /** The current step's servers (fresh each step). */
  mosquitto: MosquittoHandle | undefined;
  influx: InfluxHandle | undefined;
  nats: NatsHandle | undefined;
  readonly fleet: ExpandedFleet;
  readonly registryDir: string;
  readonly workDir: string;
  readonly logDir: string;
  runs: number;
}

/** The processes of one deployment, started and ready; `front` serves /ws and /readyz. */
interface Deployed {
  readonly front: string;
  readonly metrics: string;
  readonly pids: Record<string, number>;
  stop(): Promise<void>;
}

async function deploy(
  rig: Rig,
  mosquitto: MosquittoHandle,
  influx: InfluxHandle,
  deployment: Deployment,
  database: string,
): Promise<Deployed> {
  rig.runs += 1;
  const run = rig.runs;
  let nats: NatsHandle | undefined;
  if (deployment === 'split') {
    nats = await startNats({ nodes: rig.args.replicas });
    rig.nats = nats;
  }
  const names = deployment === 'allinone' ? ['vigil'] : ['ingest', 'rules', 'persister', 'gateway'];
  const started: { name: string; port: number; process: Started }[] = [];
  const stop = async (): Promise<void> => {
    for (const { process } of started) await process.stop(15_000);
    await nats?.stop();
    rig.nats = undefined;
  };
  try {
    for (const name of names) {
      const port = await freePort();
      const dataDir = mkdtempSync(join(rig.workDir, `${name}-${run}-`));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        VIGIL_HTTP_HOST: '127.0.0.1',
        VIGIL_HTTP_PORT: String(port),
        VIGIL_MQTT_URL: mosquitto.url,
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_URL: influx.url,
        VIGIL_INFLUX_DB: database,
        VIGIL_REGISTRY: rig.registryDir,
        VIGIL_DATA_DIR: dataDir,
        VIGIL_CONSOLE_DIR: join(ROOT, 'dist/apps/console'),
        VIGIL_LOG_LEVEL: 'warn',
        VIGIL_INSTANCE: name,
        ...(deployment === 'allinone'
          ? { VIGIL_SERVICES: 'all' }
          : {
              VIGIL_BUS: 'jetstream',
              VIGIL_NATS_URL: nats?.url ?? '',
              VIGIL_NATS_REPLICAS: String(rig.args.replicas),
              VIGIL_PARTITIONS: String(rig.args.partitions),
            }),
      };
      const process_ = startProcess(
        `${name}-${run}`,
        process.execPath,
        [join(ROOT, `dist/apps/${name}/src/main.js`)],
        { env, cwd: ROOT, logDir: rig.logDir },
      );
      started.push({ name, port, process: process_ });
    }
    for (const { name, port, process: p } of started)
      await waitUntil(name, () => httpOk(`http://127.0.0.1:${port}/healthz`), p, 180_000);
    const frontName = deployment === 'allinone' ? 'vigil' : 'gateway';
    const front = started.find(s => s.name === frontName);
    const ingest = started.find(s => s.name === (deployment === 'allinone' ? 'vigil' : 'ingest'));
    if (!front || !ingest) throw new Error('no front process');
    await waitUntil(
      `${frontName} /readyz`,
      () => httpOk(`http://127.0.0.1:${front.port}/readyz`),
      front.process,
      120_000,
    );
    const pids: Record<string, number> = {
      mosquitto: mosquitto.pid,
      influxd: influx.pid,
    };
    for (const s of started) pids[s.name] = s.process.pid;
    // One nats-server in R1; with R3 the sampler reads the first node (the others are alike).
    if (nats) pids['nats'] = nats.nodes[0]?.pid() ?? 0;
    return {
      front: `127.0.0.1:${front.port}`,
      metrics: `http://127.0.0.1:${ingest.port}/metrics`,
      pids,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function step(rig: Rig, deployment: Deployment, rate: number): Promise<SplitStep> {
  const database = `bench_split_${rig.runs + 1}`;
  const label = `${deployment} at ${rate}/s`;
  const loadStart = load3();
  const base = {
    deployment,
    rate,
    durationMs: rig.args.durationMs,
  };
  let deployed: Deployed | undefined;
  try {
    log(`${label}: starting (${database})`);
    const [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxd()]);
    rig.mosquitto = mosquitto;
    rig.influx = influx;
    deployed = await deploy(rig, mosquitto, influx, deployment, database);
    log(`${label}: ready; offering ${rate}/s for ${rig.args.durationMs / 1000} s`);
    const report: LoadRunReport = await runLoad({
      title: label,
      target: {
        name: deployment,
        mqttUrl: mosquitto.url,
        wsUrl: `ws://${deployed.front}/ws`,
        gatewayUrl: `http://${deployed.front}`,
        metricsUrl: deployed.metrics,
        influx: {
          url: influx.url,
          database,
          retentionPolicy: 'raw',
          measurement: 'telemetry',
        },
        pids: deployed.pids,
      },
      fleet: {
        name: rig.fleet.name,
        devices: rig.fleet.registry.devices,
        sites: rig.fleet.registry.sites,
      },
      profile: { kind: 'steady', rate, durationMs: rig.args.durationMs },
      qos: rig.args.qos,
      injection: { perSecond: rig.args.alarms },
      sustain: { minDurationMs: rig.args.durationMs },
      onSecond: sample => {
        if (sample.t % 10 === 9)
          log(
            `${label}: ${sample.t + 1}s sent ${sample.sent}/s p99 ${sample.latency?.p99 ?? '–'} ms, load ${loadavg()[0]?.toFixed(1)}`,
          );
      },
    });
    const cpuPct: Record<string, number> = {};
    const rssMaxMb: Record<string, number> = {};
    for (const [name, summary] of Object.entries(report.processes)) {
      cpuPct[name] = Math.round(summary.cpuAvgPct * 10) / 10;
      rssMaxMb[name] = Math.round(summary.rssMaxMb);
    }
    const l = report.latencyMs.publishToWebSocket;
    const result: SplitStep = {
      ...base,
      offered: report.totals.offered,
      sent: report.totals.sent,
      achievedRate: report.totals.achievedRate,
      stored: report.totals.stored,
      lost: report.totals.lost,
      missingSamples: report.totals.missingSamples,
      alarms: {
        expected: report.alarms.expected,
        exactlyOnce: report.alarms.exactlyOnce,
        missed: report.alarms.missed,
        duplicated: report.alarms.duplicated,
      },
      p50Ms: l.p50,
      p99Ms: l.p99,
      cpuPct,
      rssMaxMb,
      loadStart,
      loadEnd: load3(),
      error: null,
    };
    log(
      `${label}: stored ${result.stored}/${result.sent} (lost ${result.lost}), alarms ${result.alarms?.exactlyOnce}/${result.alarms?.expected} (missed ${result.alarms?.missed}, dup ${result.alarms?.duplicated}), p50/p99 ${l.p50}/${l.p99} ms, CPU ${JSON.stringify(cpuPct)}; load ${result.loadEnd.join(' / ')}`,
    );
    return result;
  } catch (error) {
    log(`${label}: FAILED: ${(error as Error).message}`);
    return {
      ...base,
      offered: null,
      sent: null,
      achievedRate: null,
      stored: null,
      lost: null,
      missingSamples: null,
      alarms: null,
      p50Ms: null,
      p99Ms: null,
      cpuPct: {},
      rssMaxMb: {},
      loadStart,
      loadEnd: load3(),
      error: (error as Error).message,
    };
  } finally {
    await deployed?.stop();
    await Promise.allSettled([rig.mosquitto?.stop(), rig.influx?.stop()]);
    rig.mosquitto = undefined;
    rig.influx = undefined;
  }
}

/** The first `sites` plants of the 100k fleet (5,000 devices each). */
function fleetOf(sites: number): ExpandedFleet {
  const path = join(ROOT, 'simulators/fleets/fleet-100k.yaml');
  const file = parseFleetFile(
    parseYaml(readFileSync(path, 'utf8')),
    'simulators/fleets/fleet-100k.yaml',
  );
  const [first] = file.sites;
  return expandFleet(
    {
      ...file,
      name: `fleet-100k, ${sites} sites`,
      sites: first ? [{ ...first, count: sites }] : [],
    },
    dirname(path),
  );
}

/** Writes the block into both pages, in the repository's Prettier style (docs/ is checked). */
async function writeDocs(result: SplitResult, source: string): Promise<void> {
  const body = renderSplitMarkdown(result, source);
  const prettier = (await import('prettier')) as typeof import('prettier');
  for (const doc of ['docs/benchmarks.md', 'docs/scaling.md']) {
    const path = join(ROOT, doc);
    const next = replaceBlock(readFileSync(path, 'utf8'), 'split', body);
    const options = (await prettier.resolveConfig(path)) ?? {};
    writeFileSync(path, await prettier.format(next, { ...options, filepath: path }));
    log(`${doc}: split block written`);
  }
}

const relative = (path: string): string =>
  path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(`${SPLIT_USAGE}\n`);
    return 0;
  }
  if (args.render) {
    const source = resolve(ROOT, args.render);
    await writeDocs(JSON.parse(readFileSync(source, 'utf8')) as SplitResult, relative(source));
    return 0;
  }
  installCleanup(log);
  for (const app of ['vigil', 'ingest', 'rules', 'persister', 'gateway'])
    if (!existsSync(join(ROOT, `dist/apps/${app}/src/main.js`)))
      throw new Error(`dist/apps/${app} is missing: run "npm run build"`);
  const startedAt = new Date().toISOString();
  // What runs: read at the start (the branch may move during the run).
  const git = (...command: string[]): string =>
    spawnSync('git', command, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' (dirty)' : ''}`;
  const stamp = startedAt.replace(/[:.]/g, '-');
  const out = join(ROOT, 'bench/out');
  const logDir = join(out, 'logs', `split-${stamp}`);
  mkdirSync(logDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'vigil-split-'));
  const fleet = fleetOf(args.sites);
  const registryDir = join(workDir, 'registry');
  writeRegistry(fleet, registryDir);
  const rig: Rig = {
    args,
    mosquitto: undefined,
    influx: undefined,
    nats: undefined,
    fleet,
    registryDir,
    workDir,
    logDir,
    runs: 0,
  };
  onInterrupt(async () => {
    await Promise.allSettled([rig.mosquitto?.stop(), rig.influx?.stop(), rig.nats?.stop()]);
    rmSync(workDir, { recursive: true, force: true });
  });
  log(`${fleet.stats.devices} devices; logs in ${relative(logDir)}; load ${load3().join(' / ')}`);
  const steps: SplitStep[] = [];
  const stopped = new Set<Deployment>();
  try {
    for (const rate of args.rates) {
      for (const deployment of args.deployments) {
        if (stopped.has(deployment)) continue;
        const result = await step(rig, deployment, rate);
        steps.push(result);
        if (deploymentFailed(result) && !args.keepGoing) {
          log(`${deployment} failed at ${rate}/s: its higher rates are skipped`);
          stopped.add(deployment);
        }
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const result: SplitResult = {
    kind: 'vigil-split-bench',
    startedAt,
    finishedAt: new Date().toISOString(),
    commit,
    machine: {
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      node: process.version,
    },
    config: {
      rates: args.rates,
      durationMs: args.durationMs,
      qos: args.qos,
      devices: fleet.stats.devices,
      sites: args.sites,
      alarmsPerSecond: args.alarms,
      natsReplicas: args.replicas,
      partitions: args.partitions,
    },
    steps,
  };
  const json = join(out, `split-${stamp}.json`);
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  log(`results: ${relative(json)}`);
  process.stdout.write(`${renderSplitMarkdown(result, relative(json))}\n`);
  if (args.docs) await writeDocs(result, relative(json));
  return 0;
}

main().then(
  code => process.exit(code),
  (error: unknown) => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
