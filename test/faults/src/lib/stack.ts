import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';

import {
  freePort,
  startInfluxd,
  startMosquitto,
  startNats,
  type InfluxHandle,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import { startChild, type Child, sleep } from './processes';

export type Mode = 'allinone' | 'split';
export type Bus = 'mqtt' | 'jetstream';

export interface StackOptions {
  readonly root: string;
  readonly mode: Mode;
  /** Split mode only: the bus between the processes. */
  readonly bus: Bus;
  /** Split mode only: rules instances (1 or 2). */
  readonly rules: number;
  readonly registryDir: string;
  readonly logDir: string;
  /** Extra environment for every Vigil process (e.g. spool or stream limits). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Mosquitto with persistence, as deploy/mosquitto/mosquitto.conf runs it (its
   * `autosave_interval`, the database in the stack's work dir, kept across restarts). Default: as
   * the test harness runs it, `persistence false`.
   */
  readonly brokerPersistence?: boolean;
  /**
   * `nats-mqtt`: devices and Vigil use the NATS cluster's MQTT listeners (split mode, jetstream;
   * node 1 first, the others as failover URLs) instead of Mosquitto.
   */
  readonly deviceBroker?: 'nats-mqtt';
  /**
   * NATS nodes of the JetStream bus (split mode): 3 (default, streams R3) or 1 (one node, R1, as
   * a single-machine deployment runs it).
   */
  readonly natsNodes?: 1 | 3;
}

interface VigilProcess {
  readonly name: string;
  readonly main: string;
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  child: Child;
}

export const INFLUX_DB = 'vigil';

/**
 * The stack under test: a private Mosquitto and influxd (and a 3-node NATS cluster for the
 * JetStream bus), and Vigil as the built processes from dist/apps: one `vigil` in all-in-one
 * mode, or ingest, rules ×N, persister and gateway in split mode. Every process keeps its port and
 * data dir across restarts, as a supervisor would restart it.
 */
export class Stack {
  readonly processes = new Map<string, VigilProcess>();
  mosquitto!: MosquittoHandle;
  influx!: InfluxHandle;
  nats: NatsHandle | undefined;
  private influxDir = '';
  private workDir = '';

  constructor(private readonly options: StackOptions) {}

  /** The process whose /readyz and /ws a console would use. */
  get front(): string {
    const name = this.options.mode === 'allinone' ? 'vigil' : 'gateway';
    return `http://127.0.0.1:${this.processes.get(name)?.port}`;
  }

  /** Process names in this mode, e.g. `ingest`, `rules-1`, `rules-2`, `persister`, `gateway`. */
  static processNames(mode: Mode, rules: number): string[] {
    if (mode === 'allinone') return ['vigil'];
    return [
      'ingest',
      ...Array.from({ length: rules }, (_, i) => `rules-${i + 1}`),
      'persister',
      'gateway',
    ];
  }

  async start(): Promise<void> {
    const { mode, bus, root } = this.options;
    this.workDir = mkdtempSync(join(tmpdir(), 'vigil-faults-'));
    this.influxDir = join(this.workDir, 'influxd');
    [this.mosquitto, this.influx] = await Promise.all([
      startMosquitto({ extraConfig: this.brokerConfig() }),
      startInfluxd({ dataDir: this.influxDir }),
    ]);
    const natsMqtt = this.options.deviceBroker === 'nats-mqtt';
    if (natsMqtt && (mode !== 'split' || bus !== 'jetstream'))
      throw new Error('the NATS MQTT device broker needs split mode on the jetstream bus');
    if (mode === 'split' && bus === 'jetstream')
      this.nats = await startNats({ nodes: this.options.natsNodes ?? 3, mqtt: natsMqtt });
    const [deviceUrl, ...failoverUrls] = this.deviceBrokerUrls();
    for (const name of Stack.processNames(mode, this.options.rules)) {
      const app = name.startsWith('rules') ? 'rules' : name;
      const port = await vigilPort();
      const dataDir = join(this.workDir, `data-${name}`);
      mkdirSync(dataDir, { recursive: true });
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        VIGIL_HTTP_HOST: '127.0.0.1',
        VIGIL_HTTP_PORT: String(port),
        VIGIL_MQTT_URL: deviceUrl,
        ...(failoverUrls.length > 0 ? { VIGIL_MQTT_FAILOVER_URLS: failoverUrls.join(',') } : {}),
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_URL: this.influx.url,
        VIGIL_INFLUX_DB: INFLUX_DB,
        VIGIL_REGISTRY: this.options.registryDir,
        VIGIL_DATA_DIR: dataDir,
        VIGIL_CONSOLE_DIR: join(root, 'dist/apps/console'),
        VIGIL_INSTANCE: name,
        VIGIL_LOG_LEVEL: 'warn',
        ...(mode === 'allinone' ? { VIGIL_SERVICES: 'all' } : { VIGIL_BUS: bus }),
        ...(this.nats
          ? {
              VIGIL_NATS_URL: this.nats.url,
              VIGIL_NATS_REPLICAS: String(this.options.natsNodes ?? 3),
            }
          : {}),
        ...this.options.env,
      };
      const main = join(root, `dist/apps/${app}/src/main.js`);
      const child = startChild(name, [main], env, this.options.logDir, root);
      this.processes.set(name, { name, main, port, env, child });
    }
    await this.waitReady(120_000);
  }

  /** Every process answers /healthz, and the front /readyz says 200. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const process of this.processes.values()) {
      await this.until(
        `${process.name} /healthz`,
        () => ok(`http://127.0.0.1:${process.port}/healthz`),
        deadline,
        process,
      );
    }
    await this.until('the front /readyz', () => ok(`${this.front}/readyz`), deadline);
    // Another server on a process's port answers its /healthz too: the process itself must live.
    for (const process of this.processes.values())
      if (!process.child.alive())
        throw new Error(`${process.name} exited while starting (see ${this.options.logDir})`);
  }

  private async until(
    what: string,
    probe: () => Promise<boolean>,
    deadline: number,
    process?: VigilProcess,
  ): Promise<void> {
    for (;;) {
      if (process && !process.child.alive())
        throw new Error(`${what}: ${process.name} exited (see ${this.options.logDir})`);
      if (await probe()) return;
      if (Date.now() > deadline) throw new Error(`${what}: not ready in time`);
      await sleep(250);
    }
  }

  /** SIGKILL a Vigil process; resolves once it is gone. */
  async kill(name: string): Promise<void> {
    const process = this.processes.get(name);
    if (!process) throw new Error(`no process ${name} in this stack`);
    process.child.kill('SIGKILL');
    await process.child.exited;
  }

  /** Where devices and ingest connect: Mosquitto, or every NATS node's MQTT listener. */
  deviceBrokerUrls(): string[] {
    if (this.options.deviceBroker !== 'nats-mqtt') return [this.mosquitto.url];
    return (this.nats?.nodes ?? []).map(node => {
      if (!node.mqttUrl) throw new Error(`NATS node ${node.name} has no MQTT listener`);
      return node.mqttUrl;
    });
  }

  /** Starts a Vigil process again with the same port, data dir and environment. */
  restart(name: string): void {
    const process = this.processes.get(name);
    if (!process) throw new Error(`no process ${name} in this stack`);
    process.child = startChild(
      name,
      [process.main],
      process.env,
      this.options.logDir,
      this.options.root,
    );
  }

  async killMosquitto(): Promise<void> {
    this.mosquitto.kill('SIGKILL');
    await this.mosquitto.exited;
  }

  /**
   * Mosquitto again on the same port: a fresh one (`persistence false`, the harness's config), or
   * with `brokerPersistence` one that loads what its last autosave wrote.
   */
  async restartMosquitto(): Promise<void> {
    const port = this.mosquitto.port;
    await this.mosquitto.stop();
    this.mosquitto = await startMosquitto({ port, extraConfig: this.brokerConfig() });
  }

  private brokerConfig(): string[] {
    // The queue bounds deploy/ gives Mosquitto (the test harness's 100,000 messages are 20 s at
    // 5,000 readings/s: the 2026-12-07 10-minute outage run lost 467,754 readings Mosquitto had
    // acknowledged when ingest fell behind during the backlog's drain; deploy/'s 6,000,000 hold
    // 20 minutes). Read from deploy/mosquitto/mosquitto.conf, so the two cannot drift apart.
    const queue = deployQueueBounds(this.options.root);
    if (!this.options.brokerPersistence) return queue;
    const dir = join(this.workDir, 'mosquitto-db');
    mkdirSync(dir, { recursive: true });
    return [
      ...queue,
      // Started as root, Mosquitto switches to the `mosquitto` user, which cannot write the stack's
      // owner-only work dir: it would run without ever saving (as a broker with persistence false).
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      ...deployedAutosave(this.options.root),
    ];
  }

  async killInflux(): Promise<void> {
    this.influx.kill('SIGKILL');
    await this.influx.exited;
  }

  /** influxd again on the same ports and data. */
  async restartInflux(): Promise<void> {
    const { httpPort, rpcPort } = this.influx;
    this.influx = await startInfluxd({ dataDir: this.influxDir, httpPort, rpcPort });
  }

  async killNatsNode(index: number): Promise<void> {
    const node = this.nats?.nodes[index];
    if (!node) throw new Error('no NATS cluster in this stack (split mode, bus jetstream)');
    node.kill('SIGKILL');
    await node.exited();
  }

  async restartNatsNode(index: number): Promise<void> {
    await this.nats?.nodes[index]?.restart();
  }

  pids(): Record<string, number> {
    const pids: Record<string, number> = {
      mosquitto: this.mosquitto.pid,
      influxd: this.influx.pid,
    };
    for (const process of this.processes.values()) pids[process.name] = process.child.pid;
    return pids;
  }

  async stop(): Promise<void> {
    for (const process of this.processes.values()) await process.child.stop();
    await Promise.allSettled([this.mosquitto?.stop(), this.influx?.stop(), this.nats?.stop()]);
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}

async function ok(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** deploy/mosquitto/mosquitto.conf's `autosave_interval` line: the stack saves as production does. */
function deployedAutosave(root: string): string[] {
  const conf = readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
  const line = /^autosave_interval \d+$/m.exec(conf)?.[0];
  if (!line) throw new Error('deploy/mosquitto/mosquitto.conf has no autosave_interval line');
  return [line];
}

/** `max_queued_messages` / `max_queued_bytes` of deploy/mosquitto/mosquitto.conf. */
export function deployQueueBounds(root: string): string[] {
  const conf = readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
  const lines = conf
    .split('\n')
    .map(line => line.trim())
    .filter(line => /^max_queued_(messages|bytes)\s+\d+$/.test(line));
  if (lines.length !== 2)
    throw new Error('deploy/mosquitto/mosquitto.conf: no max_queued_* bounds');
  return lines;
}

/**
 * A free port for a Vigil process, outside the kernel's ephemeral range (32768–60999), where
 * every other test's `freePort()` (port 0) lands: the process binds it seconds after it was
 * chosen, and in CI (2 tasks in parallel) another test's server once took that port first, so the
 * stack's ingest died with EADDRINUSE while the other server answered its /healthz.
 */
async function vigilPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await canBind(port)) return port;
  }
  return freePort();
}

function canBind(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
