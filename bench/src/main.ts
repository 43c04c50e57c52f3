import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { connectAsync } from 'mqtt';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';

import {
  expandFleet,
  influxql,
  parseFleetFile,
  readProc,
  renderLoadReportHtml,
  runLoad,
  summariseCpuProfile,
  writeRegistry,
  type CpuProfile,
  type ExpandedFleet,
  type LoadRunReport,
} from '@vigil/simulation';
import {
  freePort,
  startInfluxd,
  startMosquitto,
  type InfluxHandle,
  type MosquittoHandle,
} from '@vigil/testing';

import { BENCH_USAGE, parseBenchArgs, type BenchArgs } from './lib/bench-args';
import type {
  BenchResult,
  CpuProfileOutcome,
  MachineInfo,
  RunOutcome,
  Versions,
} from './lib/bench-result';
import { evaluateTargets, renderBenchmarksMarkdown } from './lib/benchmarks-md';
import { nodeRedFlow, nodeRedSettings } from './lib/node-red-flow';
import { ensurePeer, type PeerInstall } from './lib/peer';
import { carryBlock } from './lib/split-md';
import { httpOk, installCleanup, onInterrupt, startProcess, waitUntil } from './lib/processes';

/** The workspace root (where nx.json is), from the sources or from dist/. */
function findRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return process.cwd();
}
const ROOT = findRoot();
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

interface Rig {
  readonly args: BenchArgs;
  readonly mosquitto: MosquittoHandle;
  readonly influx: InfluxHandle;
  readonly fleet: ExpandedFleet;
  readonly registryDir: string;
  /** One site of the fleet (5,000 devices), for the batch probe: see batchProbeFleet. */
  readonly probe: { readonly fleet: ExpandedFleet; readonly registryDir: string };
  readonly workDir: string;
  readonly logDir: string;
  readonly profileDir: string;
  runs: number;
}

function quietly(command: string, args: readonly string[]): string {
  const result = spawnSync(command, [...args], { encoding: 'utf8', cwd: ROOT });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
}

function versions(peer: PeerInstall | undefined): Versions {
  const mosquitto = /mosquitto version (\S+)/.exec(quietly('mosquitto', ['-h']))?.[1] ?? 'unknown';
  const influxd = /InfluxDB (v\S+)/.exec(quietly('influxd', ['version']))?.[1] ?? 'unknown';
  return {
    vigilCommit: quietly('git', ['rev-parse', '--short', 'HEAD']) || 'unknown',
    vigilDirty: quietly('git', ['status', '--porcelain', '--untracked-files=no']).length > 0,
    mosquitto: `mosquitto ${mosquitto}`,
    influxd: `influxd ${influxd}`,
    nodeRed: peer?.nodeRedVersion ?? null,
    nodeRedInflux: peer?.influxNodeVersion ?? null,
  };
}

function machine(): Omit<MachineInfo, 'loadAverageAtEnd'> {
  return {
    os: `${type()} ${release()}`,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadAverageAtStart: loadavg().map(value => Math.round(value * 100) / 100),
  };
}

const sustainFor = (args: BenchArgs, durationMs: number) =>
  // Quick steps are shorter than a minute: judge them on their own length, and say so in the docs.
  args.quick ? { minDurationMs: durationMs } : {};

/** Starts Vigil (the built app) on the shared broker and InfluxDB, runs one load, stops it. */
async function vigilRun(
  rig: Rig,
  label: string,
  rate: number,
  durationMs: number,
  options: { batch?: number; cpuProfile?: string; probe?: boolean } = {},
): Promise<RunOutcome> {
  const fleet = options.probe ? rig.probe.fleet : rig.fleet;
  const registryDir = options.probe ? rig.probe.registryDir : rig.registryDir;
  rig.runs += 1;
  const port = await freePort();
  const database = `bench_vigil_${rig.runs}`;
  const dataDir = mkdtempSync(join(rig.workDir, 'vigil-data-'));
  const instance = `bench-${rig.runs}`;
  const node = [
    ...(options.cpuProfile
      ? ['--cpu-prof', `--cpu-prof-dir=${rig.profileDir}`, `--cpu-prof-name=${options.cpuProfile}`]
      : []),
    join(ROOT, 'dist/apps/vigil/src/main.js'),
  ];
  log(`${label}: starting Vigil (${database})`);
  const vigil = startProcess(`vigil-${rig.runs}`, process.execPath, node, {
    logDir: rig.logDir,
    cwd: ROOT,
    env: {
      ...process.env,
      VIGIL_SERVICES: 'all',
      VIGIL_HTTP_HOST: '127.0.0.1',
      VIGIL_HTTP_PORT: String(port),
      VIGIL_MQTT_URL: rig.mosquitto.url,
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: rig.influx.url,
      VIGIL_INFLUX_DB: database,
      VIGIL_REGISTRY: registryDir,
      VIGIL_DATA_DIR: dataDir,
      // Ingest's MQTT client id comes from the instance, and its session is persistent (issue
      // 12): on the broker the runs share, a second run under the same id took over the first
      // run's session, with the QoS 1 messages queued for it since: the Node-RED run's alarm
      // excursions on the same detectors (the generator publishes each provoking reading at
      // QoS 1 whatever --qos says; the rest of the load is QoS 0 and was not queued). Replayed at
      // start, they left gas-l1 standing (30 s off-delay) on the detectors this run then
      // provoked, and 191 of 1,180 counted as missed (2026-12-08, reproduced: bench/README.md).
      // One session per run, discarded after it (finally below).
      VIGIL_INSTANCE: instance,
      VIGIL_LOG_LEVEL: 'warn',
    },
  });
  const http = `http://127.0.0.1:${port}`;
  try {
    const startupMs = await waitUntil('Vigil', () => httpOk(`${http}/readyz`), vigil, 180_000);
    const idleRssMb = Math.round(((readProc(vigil.pid)?.rssBytes ?? 0) / 1048576) * 10) / 10;
    log(
      `${label}: Vigil ready in ${startupMs} ms (${idleRssMb} MB); offering ${rate}/s for ${durationMs / 1000} s`,
    );
    const report = await runLoad({
      title: label,
      target: {
        name: 'vigil',
        mqttUrl: rig.mosquitto.url,
        wsUrl: `ws://127.0.0.1:${port}/ws`,
        metricsUrl: `${http}/metrics`,
        gatewayUrl: http,
        influx: { url: rig.influx.url, database, retentionPolicy: 'raw', measurement: 'telemetry' },
        pids: { vigil: vigil.pid, mosquitto: rig.mosquitto.pid, influxd: rig.influx.pid },
      },
      fleet: { name: fleet.name, devices: fleet.registry.devices, sites: fleet.registry.sites },
      profile: { kind: 'steady', rate, durationMs },
      qos: rig.args.qos,
      batch: options.batch ?? 1,
      injection: { perSecond: rig.args.alarms },
      sustain: sustainFor(rig.args, durationMs),
      onSecond: sample => {
        if (sample.t % 10 === 9) {
          log(
            `${label}: ${sample.t + 1}s sent ${sample.sent}/s stored ${sample.stored ?? '–'}/s p99 ${sample.latency?.p99 ?? '–'} ms, Vigil ${sample.processes['vigil']?.cpuPct ?? '–'} % ${sample.processes['vigil']?.rssMb ?? '–'} MB`,
          );
        }
      },
    });
    logSummary(report);
    return { label, rate, report, error: null, startupMs, idleRssMb };
  } catch (error) {
    return failedRun(label, rate, error);
  } finally {
    await vigil.stop(options.cpuProfile ? 60_000 : 15_000);
    await discardSession(rig.mosquitto.url, `vigil-ingest-${instance}`);
  }
}

/**
 * Ends a stopped Vigil's persistent ingest session on the shared broker (a clean connect under its
 * client id, MQTT 3.1.1 §3.1.2.4). Left there, it would queue every later run's QoS 1 messages:
 * the broker's memory and CPU for nobody, and all of a run's readings at --qos 1.
 */
async function discardSession(mqttUrl: string, clientId: string): Promise<void> {
  try {
    const client = await connectAsync(mqttUrl, {
      clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    await client.endAsync();
  } catch (error) {
    log(`could not discard the MQTT session ${clientId}: ${(error as Error).message}`);
  }
}

/** A run that could not be made: logged, and kept in the results with its reason. */
function failedRun(label: string, rate: number, error: unknown): RunOutcome {
  log(`${label}: FAILED: ${(error as Error).message}`);
  return {
    label,
    rate,
    report: null,
    error: (error as Error).message,
    startupMs: null,
    idleRssMb: null,
  };
}

function logSummary(report: LoadRunReport): void {
  const l = report.latencyMs.publishToWebSocket;
  log(
    `  → sent ${report.totals.sent} (${report.totals.achievedRate}/s), lost ${report.totals.lost ?? '–'}, alarms ${report.alarms.exactlyOnce}/${report.alarms.expected} ` +
      `(missed ${report.alarms.missed}, dup ${report.alarms.duplicated}), p50/p95/p99 ${l.p50}/${l.p95}/${l.p99} ms; ${report.sustained.ok ? 'SUSTAINED' : `not sustained: ${report.sustained.reasons.join('; ')}`}`,
  );
}

/** Starts Node-RED with the peer flow on the same broker and InfluxDB, runs the same load, stops it. */
async function nodeRedRun(
  rig: Rig,
  peer: PeerInstall,
  rate: number,
  durationMs: number,
): Promise<RunOutcome> {
  rig.runs += 1;
  const label = `Node-RED ${peer.nodeRedVersion} at ${rate}/s`;
  const port = await freePort();
  const database = `bench_nodered_${rig.runs}`;
  await influxql(rig.influx.url, database, `CREATE DATABASE "${database}"`);
  const userDir = mkdtempSync(join(rig.workDir, 'node-red-'));
  symlinkSync(resolve(ROOT, peer.dir, 'node_modules'), join(userDir, 'node_modules'), 'dir');
  const influxUrl = new URL(rig.influx.url);
  writeFileSync(
    join(userDir, 'flows.json'),
    JSON.stringify(
      nodeRedFlow({
        mqttHost: '127.0.0.1',
        mqttPort: rig.mosquitto.port,
        qos: rig.args.qos,
        influxHost: influxUrl.hostname,
        influxPort: Number(influxUrl.port),
        database,
      }),
    ),
  );
  writeFileSync(join(userDir, 'settings.js'), nodeRedSettings({ port, userDir }));
  log(`${label}: starting Node-RED (${database})`);
  const red = startProcess(
    `node-red-${rig.runs}`,
    process.execPath,
    [
      resolve(ROOT, peer.nodeRedMain),
      '--settings',
      join(userDir, 'settings.js'),
      '--userDir',
      userDir,
      '--port',
      String(port),
    ],
    { logDir: rig.logDir, cwd: userDir },
  );
  try {
    const startupMs = await waitUntil(
      'Node-RED',
      () => httpOk(`http://127.0.0.1:${port}/`),
      red,
      120_000,
    );
    await waitUntil(
      'Node-RED /ws',
      () => canOpenWebSocket(`ws://127.0.0.1:${port}/ws`),
      red,
      30_000,
    );
    // The flow's MQTT client subscribes right after start; give it a moment.
    await new Promise(done => setTimeout(done, 3000));
    const idleRssMb = Math.round(((readProc(red.pid)?.rssBytes ?? 0) / 1048576) * 10) / 10;
    log(
      `${label}: ready in ${startupMs} ms (${idleRssMb} MB); offering ${rate}/s for ${durationMs / 1000} s`,
    );
    const report = await runLoad({
      title: label,
      target: {
        name: 'node-red',
        mqttUrl: rig.mosquitto.url,
        wsUrl: `ws://127.0.0.1:${port}/ws`,
        influx: { url: rig.influx.url, database, retentionPolicy: '', measurement: 'telemetry' },
        pids: { 'node-red': red.pid, mosquitto: rig.mosquitto.pid, influxd: rig.influx.pid },
      },
      fleet: {
        name: rig.fleet.name,
        devices: rig.fleet.registry.devices,
        sites: rig.fleet.registry.sites,
      },
      profile: { kind: 'steady', rate, durationMs },
      qos: rig.args.qos,
      injection: { perSecond: rig.args.alarms },
      sustain: sustainFor(rig.args, durationMs),
      onSecond: sample => {
        if (sample.t % 10 === 9) {
          log(
            `${label}: ${sample.t + 1}s sent ${sample.sent}/s p99 ${sample.latency?.p99 ?? '–'} ms, Node-RED ${sample.processes['node-red']?.cpuPct ?? '–'} % ${sample.processes['node-red']?.rssMb ?? '–'} MB`,
          );
        }
      },
    });
    logSummary(report);
    return { label, rate, report, error: null, startupMs, idleRssMb };
  } catch (error) {
    return failedRun(label, rate, error);
  } finally {
    await red.stop();
  }
}

function canOpenWebSocket(url: string): Promise<boolean> {
  return new Promise(done => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      done(false);
    }, 2000);
    socket.once('open', () => {
      clearTimeout(timer);
      socket.close();
      done(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      done(false);
    });
  });
}

/** Whether a step kept up at all: every reading stored and the generator offered the load. */
function keptUp(outcome: RunOutcome): boolean {
  const r = outcome.report;
  if (!r) return false;
  return (
    (r.totals.lost ?? 1) === 0 && r.totals.sent >= r.totals.offered * 0.98 && r.alarms.missed === 0
  );
}

async function profileAt(rig: Rig, rate: number, why: string): Promise<CpuProfileOutcome> {
  const name = `vigil-${rate}-${Date.now()}.cpuprofile`;
  const durationMs = rig.args.quick ? 15_000 : 30_000;
  const outcome = await vigilRun(rig, `CPU profile at ${rate}/s`, rate, durationMs, {
    cpuProfile: name,
  });
  const file = join(rig.profileDir, name);
  try {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    return {
      rate,
      why,
      file: relativeToRoot(file),
      summary: summariseCpuProfile(profile, 20),
      error: outcome.error,
    };
  } catch (error) {
    return {
      rate,
      why,
      file: relativeToRoot(file),
      summary: null,
      error: `${(error as Error).message}${outcome.error ? `; ${outcome.error}` : ''}`,
    };
  }
}

/**
 * The first site template of the fleet, once: the batch probe's fleet. A gateway batch holds
 * several samples of one device, so at a given readings/s each device must report `batch` times
 * more often than with one reading per message; on 100,000 devices at 10,000/s that would be one
 * batch per device every 100 s, past the offline timeout. One site (5,000 devices) reports every
 * 0.5 s per reading or every 5 s per batch of 10, both well inside it.
 */
function batchProbeFleet(file: ReturnType<typeof parseFleetFile>, baseDir: string): ExpandedFleet {
  const [first] = file.sites;
  return expandFleet(
    { ...file, name: `${file.name}-one-site`, sites: first ? [{ ...first, count: 1 }] : [] },
    baseDir,
  );
}

/** The repository's Prettier style (`npm run format:check` covers docs/), when Prettier is there. */
async function formatMarkdown(markdown: string, file: string): Promise<string> {
  try {
    const prettier = (await import('prettier')) as typeof import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(markdown, { ...options, filepath: file });
  } catch (error) {
    log(`(not formatted: ${(error as Error).message})`);
    return markdown;
  }
}

/** The split deployment's section (bench/split-throughput.mjs) survives a regeneration. */
function keepSplitBlock(target: string, next: string): string {
  return existsSync(target) ? carryBlock(readFileSync(target, 'utf8'), next, 'split') : next;
}

function relativeToRoot(path: string): string {
  const full = resolve(path);
  return full.startsWith(`${ROOT}/`) ? full.slice(ROOT.length + 1) : full;
}

async function main(): Promise<void> {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if ('help' in parsed) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return;
  }
  if ('problems' in parsed) {
    for (const problem of parsed.problems) log(problem);
    process.stderr.write(`\n${BENCH_USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const args = parsed;
  if (args.render) {
    // The docs from a saved run: what the template says changed, the figures did not.
    const source = resolve(ROOT, args.render);
    const saved = JSON.parse(readFileSync(source, 'utf8')) as BenchResult;
    const target = resolve(ROOT, args.docs ?? 'docs/benchmarks.md');
    writeFileSync(
      target,
      keepSplitBlock(
        target,
        await formatMarkdown(renderBenchmarksMarkdown(saved, relativeToRoot(source)), target),
      ),
    );
    log(`regenerated ${relativeToRoot(target)} from ${relativeToRoot(source)}`);
    return;
  }
  installCleanup(log);
  if (!existsSync(join(ROOT, 'dist/apps/vigil/src/main.js'))) {
    throw new Error(
      'dist/apps/vigil/src/main.js is missing: run "npm run build" (or node bench/run.mjs --build)',
    );
  }
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const out = resolve(ROOT, args.out);
  const logDir = join(out, 'logs', stamp);
  const profileDir = join(out, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const errors: string[] = [];
  const machineAtStart = machine();

  let peer: PeerInstall | undefined;
  if (!args.skip.has('peer')) {
    try {
      peer = await ensurePeer(join(ROOT, 'bench/.peer'), log);
    } catch (error) {
      errors.push(`Node-RED peer not available: ${(error as Error).message}`);
    }
  }

  const fleetPath = resolve(ROOT, args.fleet);
  const fleetFile = parseFleetFile(parseYaml(readFileSync(fleetPath, 'utf8')), args.fleet);
  const fleet = expandFleet(fleetFile, dirname(fleetPath));
  const registryDir = join(workDir, 'registry');
  writeRegistry(fleet, registryDir);
  log(
    `fleet ${fleet.name}: ${fleet.stats.devices} devices, expanded in ${fleet.stats.expandMs} ms`,
  );
  const probeFleet = batchProbeFleet(fleetFile, dirname(fleetPath));
  const probeRegistryDir = join(workDir, 'registry-probe');
  writeRegistry(probeFleet, probeRegistryDir);

  const mosquitto = await startMosquitto();
  const influx = await startInfluxd();
  onInterrupt(async () => {
    await Promise.allSettled([mosquitto.stop(), influx.stop()]);
    rmSync(workDir, { recursive: true, force: true });
  });
  log(
    `mosquitto ${mosquitto.url} (pid ${mosquitto.pid}), influxd ${influx.url} (pid ${influx.pid}); logs in ${relativeToRoot(logDir)}`,
  );
  const rig: Rig = {
    args,
    mosquitto,
    influx,
    fleet,
    registryDir,
    probe: { fleet: probeFleet, registryDir: probeRegistryDir },
    workDir,
    logDir,
    profileDir,
    runs: 0,
  };

  const skipped = (label: string, rate: number, why: string): RunOutcome => ({
    label,
    rate,
    report: null,
    error: why,
    startupMs: null,
    idleRssMb: null,
  });
  let result: BenchResult | undefined;
  try {
    // 1. Side by side at the comparison rate, one after the other.
    const vigilCompare = await vigilRun(
      rig,
      `Vigil at ${args.compareRate}/s`,
      args.compareRate,
      args.compareMs,
    );
    const peerCompare = peer
      ? await nodeRedRun(rig, peer, args.compareRate, args.compareMs)
      : skipped('Node-RED', args.compareRate, 'skipped');

    // 2. Vigil alone at rising load, until it no longer keeps up.
    const sweep: RunOutcome[] = [];
    if (!args.skip.has('sweep')) {
      for (const rate of args.rates) {
        const step = await vigilRun(rig, `Vigil at ${rate}/s`, rate, args.stepMs);
        sweep.push(step);
        if (!keptUp(step)) {
          log(`Vigil no longer keeps up at ${rate}/s: the sweep stops here`);
          break;
        }
      }
      // When even the first step is too much, halve it (twice at most) to find what it sustains,
      // but not below the rate at which every device still reports within 20 s: slower, and the
      // gas detectors' 30 s offline timeout would raise an offline alarm per device.
      const floor = Math.ceil(fleet.stats.devices / 20);
      for (
        let rate = args.rates[0] ?? 0, extra = 0;
        extra < 2 && sweep.every(step => !keptUp(step));
        extra += 1
      ) {
        rate = Math.round(rate / 2);
        if (rate < Math.max(1000, floor)) break;
        log(`the lowest step was too much: trying ${rate}/s`);
        sweep.unshift(await vigilRun(rig, `Vigil at ${rate}/s`, rate, args.stepMs));
      }
    }
    const sustained = sweep.filter(step => step.report?.sustained.ok).map(step => step.rate);
    const sustainedRate = sustained.length ? Math.max(...sustained) : null;

    // 3. Twice the sustained rate: memory must stay bounded, back-pressure must be explicit.
    let overload: RunOutcome | null = null;
    const base = sustainedRate ?? Math.max(0, ...sweep.filter(keptUp).map(step => step.rate));
    if (!args.skip.has('overload') && base > 0) {
      const twice = sweep.find(step => step.rate === 2 * base);
      overload =
        twice ??
        (await vigilRun(rig, `Vigil at ${2 * base}/s (2 × ${base})`, 2 * base, args.stepMs));
    } else if (!args.skip.has('overload')) {
      // Nothing kept up: the lowest step is itself over the sustained rate; judge memory there.
      overload = sweep.find(step => step.report !== null) ?? null;
    }

    // 4. Gateway batches against one reading per message, at the comparison rate.
    let batchProbe: BenchResult['batchProbe'] = null;
    if (!args.skip.has('batch')) {
      const probeMs = args.quick ? 10_000 : 20_000;
      const devices = probeFleet.stats.devices;
      const perReading = await vigilRun(
        rig,
        `one reading per message at ${args.compareRate}/s (${devices} devices)`,
        args.compareRate,
        probeMs,
        { probe: true },
      );
      const batched = await vigilRun(
        rig,
        `batches of 10 at ${args.compareRate}/s (${devices} devices)`,
        args.compareRate,
        probeMs,
        { probe: true, batch: 10 },
      );
      batchProbe = { perReading, batched, batch: 10 };
    }

    const partial: BenchResult = {
      kind: 'vigil-bench',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mode: args.quick ? 'quick' : 'full',
      machine: { ...machineAtStart, loadAverageAtEnd: [] },
      versions: versions(peer),
      config: {
        fleet: { name: fleet.name, file: args.fleet, devices: fleet.stats.devices },
        compareRate: args.compareRate,
        compareDurationMs: args.compareMs,
        sweepRates: args.rates,
        stepDurationMs: args.stepMs,
        qos: args.qos,
        alarmsPerSecond: args.alarms,
        p99TargetMs: 50,
      },
      comparison: { rate: args.compareRate, vigil: vigilCompare, nodeRed: peerCompare },
      sweep,
      sustainedRate,
      overload,
      batchProbe,
      profiles: [],
      errors,
    };

    // 5. Where a target is not met, a CPU profile of Vigil at that rate names what limits it.
    const profiles: CpuProfileOutcome[] = [];
    if (!args.skip.has('profile')) {
      const verdicts = evaluateTargets(partial);
      if (verdicts[0]?.met === false) {
        const knee = sweep.find(step => !step.report?.sustained.ok)?.rate ?? 50_000;
        profiles.push(await profileAt(rig, knee, `not sustained at ${knee}/s`));
      }
      if (
        verdicts[2]?.met === false &&
        !profiles.some(profile => profile.rate === args.compareRate)
      ) {
        profiles.push(
          await profileAt(rig, args.compareRate, `p99 over 15 ms at ${args.compareRate}/s`),
        );
      }
    }
    for (const outcome of [vigilCompare, peerCompare, ...sweep, ...(overload ? [overload] : [])]) {
      if (outcome.error && outcome.error !== 'skipped')
        errors.push(`${outcome.label}: ${outcome.error}`);
    }
    result = {
      ...partial,
      finishedAt: new Date().toISOString(),
      machine: {
        ...machineAtStart,
        loadAverageAtEnd: loadavg().map(value => Math.round(value * 100) / 100),
      },
      profiles,
    };
  } finally {
    await mosquitto.stop();
    await influx.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  const json = join(out, `bench-${stamp}.json`);
  writeFileSync(json, JSON.stringify(result, null, 2));
  writeFileSync(join(out, 'latest.json'), JSON.stringify(result, null, 2));
  const reports = [
    result.comparison.vigil,
    result.comparison.nodeRed,
    ...result.sweep,
    ...(result.overload ? [result.overload] : []),
    ...(result.batchProbe ? [result.batchProbe.perReading, result.batchProbe.batched] : []),
  ].flatMap(outcome => (outcome.report ? [outcome.report] : []));
  const html = json.replace(/\.json$/, '.html');
  writeFileSync(
    html,
    renderLoadReportHtml(
      'Vigil benchmark',
      reports,
      `${result.startedAt} · ${result.machine.cpuModel}, ${result.machine.cores} cores · ${result.mode}`,
    ),
  );
  log(`results: ${relativeToRoot(json)}, ${relativeToRoot(html)}`);
  if (args.docs) {
    const target = resolve(ROOT, args.docs);
    writeFileSync(
      target,
      keepSplitBlock(
        target,
        await formatMarkdown(renderBenchmarksMarkdown(result, relativeToRoot(json)), target),
      ),
    );
    log(`regenerated ${args.docs}`);
  }
  for (const verdict of evaluateTargets(result)) {
    log(
      `${verdict.met === null ? 'n/a    ' : verdict.met ? 'MET    ' : 'NOT MET'} ${verdict.target}: ${verdict.measured}`,
    );
  }
  // Old profiles pile up: keep the newest few.
  const old = readdirSync(profileDir)
    .filter(file => file.endsWith('.cpuprofile'))
    .sort()
    .slice(0, -6);
  for (const file of old) rmSync(join(profileDir, file), { force: true });
}

void main().then(
  () => process.exit(process.exitCode ?? 0),
  error => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
