import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

import { freePort, startNats, waitFor, type NatsHandle } from '@vigil/testing';

import { REPO_ROOT, telemetry, writeFleetRegistry } from './support';

/**
 * NATS's own MQTT listener as a clustered device broker (issue 12, docs/scaling.md "Device
 * brokers"): a 3-node NATS cluster with MQTT on every node, devices on different nodes, the
 * built Vigil (dist/apps/vigil) on one node with the others as failover nodes. Vigil's topics,
 * retained status and dead letters work there; SIGKILL of the node that ingest and two devices
 * are connected to: everyone reconnects to another node and the readings continue. What is lost
 * (if anything) is counted by ingest from the devices' seq numbers, never silent.
 */
const SITE = 'storm';
const DEVICES = Array.from({ length: 6 }, (_, i) => `gc-${String(i).padStart(2, '0')}`);
const PER_DEVICE_PER_S = 20;

interface VigilProcess {
  hasExited(): boolean;
  outputTail(): string;
  stop(): Promise<void>;
}

/** One sample of a Prometheus text exposition (sum over labels matching `labels`). */
function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels !== '' && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('NATS MQTT cluster as the device broker (real nats-server x3, built Vigil)', () => {
  let nats: NatsHandle;
  let work: string;
  let vigil: VigilProcess | undefined;
  let httpUrl: string;
  const clients: MqttClient[] = [];

  /** An MQTT client that knows every node, starting with `first` (what a device should do). */
  async function client(first: number, options: IClientOptions): Promise<MqttClient> {
    const nodes = nats.nodes.map(node => new URL(node.mqttUrl as string));
    const order = [...nodes.slice(first), ...nodes.slice(0, first)];
    const mqtt = await connectAsync({
      servers: order.map(url => ({ host: url.hostname, port: Number(url.port) })),
      reconnectPeriod: 200,
      connectTimeout: 2_000,
      ...options,
    });
    clients.push(mqtt);
    return mqtt;
  }

  async function metrics(): Promise<string> {
    return (await fetch(`${httpUrl}/metrics`)).text();
  }

  beforeAll(async () => {
    nats = await startNats({ nodes: 3, mqtt: true });
    work = mkdtempSync(join(tmpdir(), 'vigil-nats-mqtt-'));
    writeFleetRegistry(work, DEVICES);
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    const [first, ...others] = nats.nodes.map(node => node.mqttUrl as string);
    const env = {
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_MQTT_URL: first as string,
      VIGIL_MQTT_FAILOVER_URLS: others.join(','),
      VIGIL_INSTANCE: 'nats-mqtt-test',
      VIGIL_BUS: 'memory',
      VIGIL_INFLUX_MODE: 'off',
      VIGIL_REGISTRY: work,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_CANARY_INTERVAL_MS: '0',
      VIGIL_LOG_LEVEL: 'log',
    };
    vigil = spawnWithEnv(env);
    await waitFor(
      async () => {
        if (vigil?.hasExited()) throw new Error(`Vigil exited: ${vigil.outputTail()}`);
        return (await fetch(`${httpUrl}/healthz`).catch(() => undefined))?.status === 200;
      },
      { what: 'Vigil up', timeoutMs: 30_000 },
    );
    // Ingest's subscriptions are in place once a device message is counted.
    const probe = await client(1, { clientId: 'probe' });
    await waitFor(
      async () => {
        await probe.publishAsync(
          `vigil/v1/${SITE}/${DEVICES[0]}/telemetry`,
          telemetry({ lel: 1 }),
          {
            qos: 1,
          },
        );
        return metric(await metrics(), 'vigil_ingest_readings_total') > 0;
      },
      { what: 'ingest subscribed on NATS MQTT', timeoutMs: 20_000 },
    );
  }, 90_000);

  /** The built Vigil with this environment (spawnService inherits the runner's, not jest's). */
  function spawnWithEnv(env: Record<string, string>): VigilProcess {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    return {
      hasExited: () => child.exitCode !== null || child.signalCode !== null,
      outputTail: () => tail,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
    };
  }

  afterAll(async () => {
    await Promise.all(clients.map(c => c.endAsync(true).catch(() => undefined)));
    await vigil?.stop();
    await nats?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('carries Vigil topics: telemetry, events, retained status and dead letters (seen on another node)', async () => {
    const device = await client(2, { clientId: 'topics-device' });
    const watcher = await client(1, { clientId: 'watcher' });
    const deadLetters: string[] = [];
    watcher.on('message', topic => deadLetters.push(topic));
    await watcher.subscribeAsync('vigil/v1/_deadletter/#', { qos: 1 });

    const before = await metrics();
    await device.publishAsync(
      `vigil/v1/${SITE}/${DEVICES[1]}/event`,
      JSON.stringify({ code: 'fault' }),
      {
        qos: 1,
      },
    );
    await device.publishAsync(
      `vigil/v1/${SITE}/${DEVICES[1]}/status`,
      JSON.stringify({ online: true }),
      { qos: 1, retain: true },
    );
    await device.publishAsync(`vigil/v1/${SITE}/${DEVICES[1]}/telemetry`, 'not json', { qos: 1 });
    await waitFor(
      async () => {
        const now = await metrics();
        return (
          metric(now, 'vigil_ingest_messages_total', 'kind="event"') >
            metric(before, 'vigil_ingest_messages_total', 'kind="event"') &&
          metric(now, 'vigil_ingest_messages_total', 'kind="status"') >
            metric(before, 'vigil_ingest_messages_total', 'kind="status"') &&
          deadLetters.length > 0
        );
      },
      { what: 'event, status and a dead letter through NATS MQTT', timeoutMs: 10_000 },
    );
    expect(deadLetters[0]).toMatch(/^vigil\/v1\/_deadletter\//);

    // The retained status is kept by the cluster (JetStream) and given to a new subscriber on
    // another node, with the retain flag that tells ingest it is old news (issue 10 finding 7).
    const late = await client(0, { clientId: 'late-subscriber' });
    const retained: Array<{ topic: string; retain: boolean }> = [];
    late.on('message', (topic, _payload, packet) =>
      retained.push({ topic, retain: packet.retain }),
    );
    await late.subscribeAsync(`vigil/v1/${SITE}/+/status`, { qos: 1 });
    await waitFor(() => retained.length > 0, { what: 'retained status', timeoutMs: 10_000 });
    expect(retained[0]).toEqual({ topic: `vigil/v1/${SITE}/${DEVICES[1]}/status`, retain: true });
  }, 60_000);

  it('SIGKILL of the node ingest and two devices use: all reconnect to other nodes, readings continue, every loss counted', async () => {
    // Two devices per node; ingest is on node 1 (index 0).
    const devices = await Promise.all(
      DEVICES.map((id, i) => client(i % 3, { clientId: `${SITE}-${id}`, clean: false })),
    );
    const start = await metrics();
    const accepted0 = metric(start, 'vigil_ingest_readings_total');
    const missing0 = metric(start, 'vigil_ingest_missing_samples_total');
    const duplicates0 = metric(start, 'vigil_ingest_duplicate_samples_total');
    const seqs = DEVICES.map(() => 1_000);
    let sent = 0;
    let publishErrors = 0;
    let firstError: string | undefined;
    const run = { stop: false };
    const load = (async () => {
      while (!run.stop) {
        DEVICES.forEach((id, i) => {
          seqs[i] = (seqs[i] as number) + 1;
          sent += 1;
          devices[i]
            ?.publishAsync(`vigil/v1/${SITE}/${id}/telemetry`, telemetry({ lel: 2 }, seqs[i]), {
              qos: 1,
            })
            .catch((error: Error) => {
              publishErrors += 1;
              firstError ??= `${id}: ${error.message}`;
            });
        });
        await new Promise(resolve => setTimeout(resolve, 1000 / PER_DEVICE_PER_S));
      }
    })();

    await new Promise(resolve => setTimeout(resolve, 3_000));
    const beforeKill = metric(await metrics(), 'vigil_ingest_readings_total');
    expect(beforeKill).toBeGreaterThan(accepted0);
    const killedAt = Date.now();
    nats.nodes[0]?.kill('SIGKILL');
    await nats.nodes[0]?.exited();

    // Readings flow again through the other nodes.
    let resumedAfterMs = -1;
    await waitFor(
      async () => {
        const now = metric(await metrics(), 'vigil_ingest_readings_total');
        if (now > beforeKill + 3 * DEVICES.length) resumedAfterMs = Date.now() - killedAt;
        return resumedAfterMs >= 0;
      },
      { what: 'readings after the node was killed', timeoutMs: 60_000, intervalMs: 100 },
    ).catch(async (error: Error) => {
      const ingest = (await metrics())
        .split('\n')
        .filter(line => line.startsWith('vigil_ingest_') || line.startsWith('vigil_broker'));
      throw new Error(`${error.message}\n${ingest.join('\n')}\nVigil: ${vigil?.outputTail()}`);
    });
    await new Promise(resolve => setTimeout(resolve, 5_000));
    run.stop = true;
    await load;
    // Devices resend unacknowledged QoS 1 messages after reconnecting; wait until quiet.
    let last = -1;
    let end = '';
    await waitFor(
      async () => {
        end = await metrics();
        const now = metric(end, 'vigil_ingest_readings_total');
        const settled = now === last;
        last = now;
        return settled && now - accepted0 >= sent - 10_000;
      },
      { what: 'ingest settled', timeoutMs: 30_000, intervalMs: 1_500 },
    );
    const accepted = metric(end, 'vigil_ingest_readings_total') - accepted0;
    const missing = metric(end, 'vigil_ingest_missing_samples_total') - missing0;
    const duplicates = metric(end, 'vigil_ingest_duplicate_samples_total') - duplicates0;
    const lost = sent - accepted;
    // The figures for docs/scaling.md (the test asserts only what must always hold).
    console.log(
      JSON.stringify({
        firstError,
        sent,
        accepted,
        lost,
        countedMissing: missing,
        duplicates,
        publishErrors,
        resumedAfterMs,
      }),
    );
    expect(resumedAfterMs).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
    // Nothing disappears silently: every reading not accepted is a counted seq gap.
    expect(missing).toBeGreaterThanOrEqual(lost);
  }, 120_000);
});
