// The production broker configuration and ACL, checked with Debian's mosquitto (2.0.x, as in the
// eclipse-mosquitto:2 image) and real clients. Only the port, the file locations and the user
// are rewritten; everything else is deploy/mosquitto/mosquitto.conf and deploy/mosquitto/acl as
// mounted by deploy/compose/docker-compose.yml.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import { connect, connectAsync, type MqttClient } from 'mqtt';

import {
  awaitReady,
  freePort,
  requireBinary,
  spawnService,
  waitFor,
  type ServiceProcess,
} from '@vigil/testing';

const CONF_PATH = join(__dirname, 'mosquitto', 'mosquitto.conf');
const ACL_PATH = join(__dirname, 'mosquitto', 'acl');
const SERVICES = ['vigil-ingest', 'vigil-rules', 'vigil-persister', 'vigil-gateway'] as const;
const ACCOUNTS = [...SERVICES, 'vigil-healthcheck', 'vigil-operator', 'gas-001'] as const;
type Account = (typeof ACCOUNTS)[number];

const passwordOf = (account: string): string => `test-password-of-${account}`;

/** Ingest's restart budget the broker's queue is sized for (docs/scaling.md). */
const RESTART_BUDGET_S = 120;
const PEAK_READINGS_PER_S = 50_000;
const MEAN_PAYLOAD_BYTES = 256;

function replaceLine(conf: string, pattern: RegExp, replacement: string): string {
  const found = conf.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
  if (found !== 1)
    throw new Error(`mosquitto.conf: expected one line matching ${pattern}, found ${found}`);
  return conf.replace(new RegExp(pattern.source, 'm'), replacement);
}

function run(binary: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(binary, args, error => (error === null ? resolve() : reject(error))),
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

describe('deploy/mosquitto (mosquitto.conf + acl) on a real mosquitto', () => {
  let dir = '';
  let broker: ServiceProcess | undefined;
  let url = '';
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-deploy-mosquitto-'));
    const passwd = requireBinary('mosquitto_passwd', 'mosquitto');
    const passwordFile = join(dir, 'passwd');
    for (const [index, account] of ACCOUNTS.entries()) {
      await run(passwd, [
        ...(index === 0 ? ['-c'] : []),
        '-b',
        passwordFile,
        account,
        passwordOf(account),
      ]);
    }
    const port = await freePort();
    let conf = await readFile(CONF_PATH, 'utf8');
    conf = replaceLine(conf, /^listener 1883$/, `listener ${port} 127.0.0.1`);
    conf = replaceLine(conf, /^password_file \S+$/, `password_file ${passwordFile}`);
    // The shipped ACL has the services only; `npm run credentials -- mosquitto` appends one
    // section per device like this one (libs/server/src/lib/broker/mosquitto-config.ts).
    const aclPath = join(dir, 'acl');
    await writeFile(
      aclPath,
      `${await readFile(ACL_PATH, 'utf8')}\nuser gas-001\n` +
        ['telemetry', 'event', 'status']
          .map(kind => `topic write vigil/v1/plant-1/gas-001/${kind}`)
          .join('\n') +
        '\n',
    );
    conf = replaceLine(conf, /^acl_file \S+$/, `acl_file ${aclPath}`);
    conf = replaceLine(conf, /^persistence_location \S+$/, `persistence_location ${dir}/`);
    // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read the
    // temp dir; the container runs it as `mosquitto` from the start.
    conf += `\nuser ${userInfo().username}\n`;
    const confPath = join(dir, 'mosquitto.conf');
    await writeFile(confPath, conf);

    broker = await spawnService('mosquitto', requireBinary('mosquitto', 'mosquitto'), [
      '-c',
      confPath,
    ]);
    await awaitReady(broker, () => canConnect(port), 10_000);
    url = `mqtt://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map(client => client.endAsync(true)));
    await broker?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function login(account: Account): Promise<MqttClient> {
    const client = await connectAsync(url, {
      username: account,
      password: passwordOf(account),
      clientId: `${account}-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  }

  /** Subscribes and records `topic payload` for every message received. */
  async function listen(account: Account, ...filters: string[]): Promise<string[]> {
    const client = await login(account);
    const received: string[] = [];
    client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync(filters, { qos: 1 });
    return received;
  }

  /**
   * Publishes with QoS 1 (the broker acknowledges denied publishes too), then a marker that
   * `received` must get: mosquitto handles messages in order, so whatever the first publishes
   * delivered has arrived by the time the marker does.
   */
  async function publishThenMark(
    publishes: ReadonlyArray<readonly [Account, string]>,
    marker: readonly [Account, string],
    received: string[],
  ): Promise<void> {
    for (const [account, topic] of publishes) {
      const client = await login(account);
      await client.publishAsync(topic, account, { qos: 1 });
    }
    const [markerAccount, markerTopic] = marker;
    await (await login(markerAccount)).publishAsync(markerTopic, 'marker', { qos: 1 });
    await waitFor(() => received.includes(`${markerTopic} marker`), {
      what: `the marker on ${markerTopic}`,
    });
  }

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connectAsync(url, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/i);
    await expect(
      connectAsync(url, { username: 'vigil-ingest', password: 'wrong', reconnectPeriod: 0 }),
    ).rejects.toThrow(/Not authorized|Bad username or password/i);
  });

  it('lets a device publish its own telemetry, event and status topics on its own site, and nothing else', async () => {
    const ingest = await listen(
      'vigil-ingest',
      'vigil/v1/+/+/telemetry',
      'vigil/v1/+/+/event',
      'vigil/v1/+/+/status',
    );
    const internal = await listen('vigil-persister', 'vigil-internal/v1/#');
    for (const kind of ['telemetry', 'event', 'status']) {
      await (
        await login('gas-001')
      ).publishAsync(`vigil/v1/plant-1/gas-001/${kind}`, 'own', { qos: 1 });
    }
    await publishThenMark(
      [
        ['gas-001', 'vigil/v1/plant-1/gas-002/telemetry'],
        ['gas-001', 'vigil-internal/v1/alarms'],
        ['gas-001', 'vigil-internal/v1/readings'],
        // Another site (the old `pattern write vigil/v1/+/%u/…` allowed this).
        ['gas-001', 'vigil/v1/plant-2/gas-001/telemetry'],
      ],
      ['gas-001', 'vigil/v1/plant-1/gas-001/telemetry'],
      ingest,
    );
    await publishThenMark([], ['vigil-rules', 'vigil-internal/v1/alarms'], internal);
    expect(ingest).toEqual([
      'vigil/v1/plant-1/gas-001/telemetry own',
      'vigil/v1/plant-1/gas-001/event own',
      'vigil/v1/plant-1/gas-001/status own',
      'vigil/v1/plant-1/gas-001/telemetry marker',
    ]);
    expect(internal).toEqual(['vigil-internal/v1/alarms marker']);
  });

  it('carries readings from ingest and alarms from rules to every consumer; persister and gateway cannot publish', async () => {
    const consumers = await Promise.all(
      (['vigil-rules', 'vigil-persister', 'vigil-gateway'] as const).map(account =>
        listen(account, 'vigil-internal/v1/#'),
      ),
    );
    await (
      await login('vigil-ingest')
    ).publishAsync('vigil-internal/v1/readings', 'batch', { qos: 1 });
    const [rules, persister, gateway] = consumers as [string[], string[], string[]];
    await publishThenMark(
      [
        ['vigil-gateway', 'vigil-internal/v1/alarms'],
        ['vigil-persister', 'vigil-internal/v1/readings'],
      ],
      ['vigil-rules', 'vigil-internal/v1/alarms'],
      gateway,
    );
    await waitFor(() => persister.length === 2 && rules.length === 2, {
      what: 'the marker at every consumer',
    });
    for (const received of [rules, persister, gateway]) {
      expect(received).toEqual([
        'vigil-internal/v1/readings batch',
        'vigil-internal/v1/alarms marker',
      ]);
    }
  });

  it('carries the pipeline canary: the gateway publishes it, ingest reads it, the persister reports it', async () => {
    const ingest = await listen('vigil-ingest', 'vigil/v1/+/+/telemetry');
    const gateway = await listen('vigil-gateway', 'vigil-internal/v1/canary');
    await publishThenMark(
      [['gas-001', 'vigil/v1/plant-1/_canary/telemetry']],
      ['vigil-gateway', 'vigil/v1/plant-1/_canary/telemetry'],
      ingest,
    );
    expect(ingest).toEqual(['vigil/v1/plant-1/_canary/telemetry marker']);
    await publishThenMark([], ['vigil-persister', 'vigil-internal/v1/canary'], gateway);
    expect(gateway).toEqual(['vigil-internal/v1/canary marker']);
  });

  it('lets only ingest read device topics and write dead letters, which operators can read', async () => {
    const operator = await listen('vigil-operator', 'vigil/v1/#');
    const intruders = await Promise.all(
      (['vigil-rules', 'vigil-persister', 'vigil-gateway', 'gas-001'] as const).map(account =>
        listen(account, 'vigil/v1/#'),
      ),
    );
    await publishThenMark(
      [
        ['vigil-operator', 'vigil/v1/_deadletter/schema'],
        ['vigil-gateway', 'vigil/v1/_deadletter/schema'],
      ],
      ['vigil-ingest', 'vigil/v1/_deadletter/schema'],
      operator,
    );
    await publishThenMark([], ['gas-001', 'vigil/v1/plant-1/gas-001/telemetry'], operator);
    expect(operator).toEqual([
      'vigil/v1/_deadletter/schema marker',
      'vigil/v1/plant-1/gas-001/telemetry marker',
    ]);
    for (const received of intruders) expect(received).toEqual([]);
  });

  it('keeps up to 1000 QoS 1 messages in flight to an ingest that PUBACKs late (not the default 20)', async () => {
    const ingest = await login('vigil-ingest');
    // Ingest PUBACKs once a message is durable (PubackGate): here never, so what arrives is what
    // the broker lets be in flight at once.
    type SendPacket = (packet: { cmd: string }, written?: () => void) => void;
    const internals = ingest as unknown as { _sendPacket: SendPacket };
    const send = internals._sendPacket.bind(ingest);
    // mqtt.js reads the next packet once the PUBACK is "written": say so, send nothing.
    internals._sendPacket = (packet, written) =>
      packet.cmd === 'puback' ? written?.() : send(packet, written);
    let received = 0;
    ingest.on('message', () => (received += 1));
    await ingest.subscribeAsync('vigil/v1/+/+/telemetry', { qos: 1 });
    const device = await login('gas-001');
    await Promise.all(
      Array.from({ length: 200 }, (_, seq) =>
        device.publishAsync('vigil/v1/plant-1/gas-001/telemetry', `${seq}`, { qos: 1 }),
      ),
    );
    await waitFor(() => received === 200, {
      what: `200 messages in flight, not 20 (the default max_inflight_messages)`,
      timeoutMs: 5_000,
    });
  }, 15_000);

  it('keeps the restart budget for ingest’s disconnected session, re-sending unacknowledged messages with DUP', async () => {
    // docs/scaling.md, "The broker's queue for ingest": 120 s of ingest away at 50,000 readings/s,
    // device payloads of 256 bytes on average. The config must hold that many.
    const conf = await readFile(CONF_PATH, 'utf8');
    const setting = (name: string): number =>
      Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(conf)?.[1] ?? Number.NaN);
    const budget = RESTART_BUDGET_S * PEAK_READINGS_PER_S;
    expect(setting('max_queued_messages')).toBeGreaterThanOrEqual(budget);
    expect(setting('max_queued_bytes')).toBeGreaterThanOrEqual(budget * MEAN_PAYLOAD_BYTES);

    // A real session: more than the old bound (10,000) queued while ingest is away. Sending the
    // whole budget (6 million) takes minutes here; the arithmetic above covers the rest.
    const queued = 25_000;
    const topic = 'vigil/v1/plant-1/gas-001/telemetry';
    const session = {
      username: 'vigil-ingest',
      password: passwordOf('vigil-ingest'),
      clientId: `vigil-ingest-budget-${Math.random().toString(16).slice(2, 10)}`,
      clean: false,
      protocolVersion: 4 as const,
      reconnectPeriod: 0,
    };
    const first = await connectAsync(url, session);
    // Ingest PUBACKs once durable: here never, so these stay in flight when the link drops.
    type SendPacket = (packet: { cmd: string }, written?: () => void) => void;
    const internals = first as unknown as { _sendPacket: SendPacket };
    const send = internals._sendPacket.bind(first);
    internals._sendPacket = (packet, written) =>
      packet.cmd === 'puback' ? written?.() : send(packet, written);
    const inFlight: string[] = [];
    first.on('message', (_topic, payload) => inFlight.push(payload.toString()));
    await first.subscribeAsync('vigil/v1/+/+/telemetry', { qos: 1 });
    const device = await login('gas-001');
    for (const seq of [1, 2, 3]) await device.publishAsync(topic, `${seq}`, { qos: 1 });
    await waitFor(() => inFlight.length === 3, { what: 'three messages in flight' });
    const closed = new Promise(resolve => first.stream.once('close', resolve));
    first.stream.destroy(); // a keepalive timeout: gone without DISCONNECT
    await closed;

    for (let seq = 4; seq < 4 + queued; seq += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, 4 + queued - seq) }, (_, k) =>
          device.publishAsync(topic, `${seq + k}`, { qos: 1 }),
        ),
      );
    }
    const received: Array<[number, boolean]> = [];
    const again = connect(url, session); // the handler is on before the broker re-sends
    clients.push(again);
    again.on('message', (_topic, payload, packet) =>
      received.push([Number(payload.toString()), packet.dup]),
    );
    await waitFor(() => received.length >= 3 + queued, {
      what: `${3 + queued} messages after the reconnect`,
      timeoutMs: 60_000,
    });
    // The three in flight again, marked DUP (ingest's seq check takes a seen number with DUP for
    // a re-delivery, never a device restart), then every queued message, none dropped.
    expect(received.slice(0, 3)).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(received.slice(3).filter(([, dup]) => dup)).toEqual([]);
    expect(received.map(([seq]) => seq)).toEqual(
      Array.from({ length: 3 + queued }, (_, index) => index + 1),
    );
  }, 120_000);

  it('answers the compose healthcheck: vigil-healthcheck reads $SYS/broker/version at once', async () => {
    const version = await listen('vigil-healthcheck', '$SYS/broker/version');
    // docker-compose.yml waits up to 4 s (mosquitto_sub -W 4); the version is a retained message.
    await waitFor(() => version.length === 1, { what: '$SYS/broker/version', timeoutMs: 4_000 });
    expect(version[0]).toMatch(/^\$SYS\/broker\/version mosquitto version 2\./);
  });
});
