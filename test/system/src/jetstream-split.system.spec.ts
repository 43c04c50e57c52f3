import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, type MqttClient } from 'mqtt';

import {
  freePort,
  influxQuery,
  startInfluxd,
  startMosquitto,
  startNats,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import { REPO_ROOT, telemetry, writeFleetRegistry } from './support';

const DEVICES = 100;
/** Readings per second offered (QoS 1), one reading per MQTT message. */
const RATE = Number(process.env['JSFLOW_RATE'] ?? 1000);
const DURATION_MS = Number(process.env['JSFLOW_DURATION_MS'] ?? 24_000);
const SITE = 'storm';
/** How long a killed process stays down before it is started again. */
const DOWN_MS = Number(process.env['JSFLOW_DOWN_MS'] ?? 2000);

interface VigilProcess {
  readonly name: string;
  readonly httpUrl: string;
  child: ChildProcess | undefined;
  start(): void;
  exited(): Promise<void>;
}

/**
 * The JetStream data path with built processes (issue 12): ingest and persister as separate
 * `dist/apps/vigil` processes on a real Mosquitto, nats-server and influxd. Under a steady QoS 1
 * load each is killed with SIGKILL and restarted; every reading the broker acknowledged to the
 * device is stored exactly once. Figures (not asserted) go to the test log.
 */
describe('jetstream split: SIGKILL of ingest and persister under load', () => {
  let mosquitto: MosquittoHandle;
  let nats: NatsHandle;
  let influx: InfluxHandle;
  /** The influxd killed by the outage test: its data dir goes once the restarted one stopped. */
  let firstInflux: InfluxHandle | undefined;
  let work: string;
  let device: MqttClient | undefined;
  const processes: VigilProcess[] = [];

  async function vigilProcess(name: string, services: string): Promise<VigilProcess> {
    const httpPort = await freePort();
    const env = {
      VIGIL_SERVICES: services,
      VIGIL_BUS: 'jetstream',
      VIGIL_NATS_URL: nats.url,
      VIGIL_PARTITIONS: '4',
      VIGIL_INSTANCE: name,
      VIGIL_MQTT_URL: mosquitto.url,
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: work,
      VIGIL_DATA_DIR: join(work, name),
      VIGIL_LOG_LEVEL: process.env['JSFLOW_LOG_LEVEL'] ?? 'warn',
      VIGIL_WRITE_FLUSH_MS: '50',
    };
    const handle: VigilProcess = {
      name,
      httpUrl: `http://127.0.0.1:${httpPort}`,
      child: undefined,
      start() {
        const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const show = (chunk: Buffer) => {
          if (process.env['JSFLOW_VERBOSE']) process.stderr.write(`[${name}] ${chunk}`);
        };
        child.stdout?.on('data', show);
        child.stderr?.on('data', show);
        handle.child = child;
      },
      exited() {
        const child = handle.child;
        if (!child || child.exitCode !== null || child.signalCode !== null)
          return Promise.resolve();
        return new Promise(resolve => child.once('exit', () => resolve()));
      },
    };
    processes.push(handle);
    return handle;
  }

  async function readyStatus(vigil: VigilProcess): Promise<number | 'down'> {
    try {
      return (await fetch(`${vigil.httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) })).status;
    } catch {
      return 'down';
    }
  }

  async function stored(): Promise<number> {
    const rows = await influxQuery(
      influx.url,
      'vigil',
      `SELECT count(lel) AS n FROM "raw"."telemetry" WHERE site = '${SITE}' AND time > now() - 1h`,
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  /** The device side: QoS 1 publishes, counted once the broker acknowledged them. */
  let sent = 0;
  let failed = 0;
  const seqs = new Array<number>(DEVICES).fill(0);
  const published = () => seqs.reduce((a, b) => a + b, 0);

  async function offerLoad(durationMs: number): Promise<void> {
    const start = Date.now();
    const tickMs = 10;
    const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
    let next = 0;
    for (let tick = 0; Date.now() - start < durationMs; tick += 1) {
      for (let i = 0; i < perTick; i += 1) {
        const index = next % DEVICES;
        next += 1;
        const seq = (seqs[index] = (seqs[index] ?? 0) + 1);
        device?.publish(
          `vigil/v1/${SITE}/gc-${String(index).padStart(3, '0')}/telemetry`,
          telemetry({ lel: seq % 10 }, seq),
          { qos: 1 },
          error => (error ? (failed += 1) : (sent += 1)),
        );
      }
      const due = start + (tick + 1) * tickMs;
      await new Promise(resolve => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  }

  beforeAll(async () => {
    [mosquitto, nats, influx] = await Promise.all([startMosquitto(), startNats(), startInfluxd()]);
    work = mkdtempSync(join(tmpdir(), 'vigil-jsflow-'));
    writeFleetRegistry(
      work,
      Array.from({ length: DEVICES }, (_, i) => `gc-${String(i).padStart(3, '0')}`),
    );
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    for (const vigil of processes) {
      vigil.child?.kill('SIGKILL');
      await vigil.exited();
    }
    await Promise.all([mosquitto?.stop(), nats?.stop(), influx?.stop()]);
    await firstInflux?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('stores every reading the broker took, once, across a SIGKILL of ingest and of the persister', async () => {
    const ingest = await vigilProcess('ingest-1', 'ingest');
    const persister = await vigilProcess('persister-1', 'persister');
    ingest.start();
    persister.start();
    for (const vigil of [ingest, persister])
      await waitFor(async () => (await readyStatus(vigil)) === 200, {
        what: `${vigil.name} ready`,
        timeoutMs: 30_000,
      });

    device = connect(mosquitto.url, { clientId: 'load-1', protocolVersion: 4 });
    await new Promise(resolve => device?.once('connect', resolve));

    // /readyz of both processes through the run.
    const seen: Record<string, Set<string>> = {
      [ingest.name]: new Set(),
      [persister.name]: new Set(),
    };
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const vigil of [ingest, persister])
          seen[vigil.name]?.add(String(await readyStatus(vigil)));
        await new Promise(resolve => setTimeout(resolve, 250));
      }
    })();

    const start = Date.now();
    const load = offerLoad(DURATION_MS);

    const figures: Record<string, number | string> = {};
    const fault = async (vigil: VigilProcess, atMs: number) => {
      await new Promise(resolve => setTimeout(resolve, Math.max(0, start + atMs - Date.now())));
      vigil.child?.kill('SIGKILL');
      await vigil.exited();
      const killedAt = Date.now();
      await new Promise(resolve => setTimeout(resolve, DOWN_MS));
      vigil.start();
      await waitFor(async () => (await readyStatus(vigil)) !== 'down', {
        what: `${vigil.name} answering`,
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      figures[`${vigil.name} down→answering HTTP (s)`] = (Date.now() - killedAt) / 1000;
      figures[`${vigil.name} readyz when first answering`] = await fetch(`${vigil.httpUrl}/readyz`)
        .then(r => r.text())
        .catch(() => 'down');
      const startingBodies = new Set<string>();
      await waitFor(
        async () => {
          const body = await fetch(`${vigil.httpUrl}/readyz`)
            .then(r => r.text())
            .catch(() => 'down');
          startingBodies.add(body.replace(/\d+/g, 'N').slice(0, 400));
          return /"status":"ready"/.test(body);
        },
        {
          what: `${vigil.name} ready again`,
          timeoutMs: 90_000,
          intervalMs: 100,
        },
      );
      figures[`${vigil.name} down→ready again (s)`] = (Date.now() - killedAt) / 1000;
      figures[`${vigil.name} readyz statuses while starting`] = [...startingBodies].join(' | ');
    };
    await Promise.all([
      load,
      fault(ingest, DURATION_MS * 0.25).then(() => fault(persister, DURATION_MS * 0.6)),
    ]);
    const loadEnded = Date.now();
    await waitFor(() => sent + failed === published(), {
      what: 'the broker to acknowledge every publish',
      timeoutMs: 30_000,
    });
    const total = await waitFor(
      async () => {
        const count = await stored();
        return count >= sent ? count : undefined;
      },
      { what: `all ${sent} readings stored`, timeoutMs: 120_000, intervalMs: 500 },
    ).catch(async () => stored());
    figures['caught up after the load ended (s)'] = (Date.now() - loadEnded) / 1000;
    // Anything more that arrives late would be a duplicate point (InfluxDB would overwrite it, but
    // the count per device says whether any reading went missing).
    await new Promise(resolve => setTimeout(resolve, 2000));
    const finalStored = await stored();
    watching = false;
    await watch;
    Object.assign(figures, {
      rate: RATE,
      sent,
      'publish failures': failed,
      stored: finalStored,
      lost: sent - finalStored,
      [`${ingest.name} /readyz seen`]: [...(seen[ingest.name] ?? [])].join(','),
      [`${persister.name} /readyz seen`]: [...(seen[persister.name] ?? [])].join(','),
    });
    console.log(`jetstream split figures: ${JSON.stringify(figures, null, 2)}`);
    expect(failed).toBe(0);
    expect(total).toBe(sent);
    expect(finalStored).toBe(sent);
  }, 240_000);

  it('an InfluxDB outage waits in the stream (counted, /readyz degraded) and drains faster than the live rate', async () => {
    const persister = processes.find(p => p.name === 'persister-1');
    if (!persister || !device) throw new Error('runs after the SIGKILL test');
    const before = sent;
    const backlog = async (): Promise<number> => {
      const body = (await fetch(`${persister.httpUrl}/readyz`).then(r => r.json())) as {
        details?: { backbone?: Record<string, { detail?: { backlog?: number } }> };
      };
      return body.details?.backbone?.['persister-records']?.detail?.backlog ?? 0;
    };
    const outageMs = Number(process.env['JSFLOW_OUTAGE_MS'] ?? 10_000);
    const figures: Record<string, number | string> = { rate: RATE, 'outage (s)': outageMs / 1000 };
    const load = offerLoad(outageMs + 8000);
    await new Promise(resolve => setTimeout(resolve, 2000));
    const dataDir = influx.dataDir;
    const httpPort = influx.httpPort;
    influx.kill('SIGKILL');
    await influx.exited;
    await new Promise(resolve => setTimeout(resolve, outageMs));
    figures['backlog at the end of the outage (messages)'] = await backlog();
    figures['persister /readyz during the outage'] = String(await readyStatus(persister));
    const back = Date.now();
    const restarted = await startInfluxd({ dataDir, httpPort });
    firstInflux = influx;
    influx = restarted;
    await waitFor(async () => (await backlog()) < RATE / 2, {
      what: 'the backlog drained',
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const drainS = (Date.now() - back) / 1000;
    figures['InfluxDB back → backlog drained (s)'] = drainS;
    figures['drain rate vs live rate (×)'] = Math.round(
      (Number(figures['backlog at the end of the outage (messages)']) + RATE * drainS) /
        drainS /
        RATE,
    );
    await load;
    await waitFor(() => sent + failed === published(), { what: 'broker acks', timeoutMs: 30_000 });
    const total = await waitFor(
      async () => {
        const count = await stored();
        return count >= sent ? count : undefined;
      },
      { what: `all ${sent} readings stored`, timeoutMs: 120_000, intervalMs: 500 },
    ).catch(async () => stored());
    figures['sent this phase'] = sent - before;
    figures['lost'] = sent - total;
    console.log(`jetstream InfluxDB outage figures: ${JSON.stringify(figures, null, 2)}`);
    expect(total).toBe(sent);
  }, 240_000);
});
