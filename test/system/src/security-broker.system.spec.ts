import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { connectAsync, type MqttClient } from 'mqtt';

import { hashPassword, runCredentialsCli, type RunningVigil } from '@vigil/server';
import { freePort, startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import {
  REPO_ROOT,
  SAMPLE_REGISTRY,
  WsRecorder,
  issueDeviceCredentials,
  loginAs,
  startSystem,
  telemetry,
  type DeviceSecret,
} from './support';

/**
 * Issue 11, as an attacker on the plant network: each case reproduces a finding against the old,
 * open broker (anonymous publish as gc-tf-02, `#` and `$SYS/#` granted, `vigil-` client ids and
 * internal topics open to anyone, ingest's client id taken over, one device publishing for
 * another site) and now proves it refused, counted and harmless. Real parts: Vigil's embedded
 * broker, and a real mosquitto with the configuration `npm run credentials -- mosquitto` writes.
 */

const L2_LEL = 62; // past the L2 set-point of combustible gas (pipeline.system.spec.ts)
const connections: MqttClient[] = [];

async function connectAs(
  url: string,
  credentials: DeviceSecret | undefined,
  clientId = `attacker-${Math.random().toString(16).slice(2)}`,
): Promise<MqttClient> {
  const client = await connectAsync(url, {
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...(credentials ? { username: credentials.username, password: credentials.secret } : {}),
  });
  connections.push(client);
  return client;
}

/** SUBACK return codes; mqtt.js rejects when any is 0x80, with the packet attached. */
async function grantsOf(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map(grant => grant.qos);
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw error;
    return packet.granted;
  }
}

/**
 * Publishes what the broker must refuse: aedes closes the connection of a client that publishes
 * where it may not (MQTT 3.1.1 §3.3.5: acknowledge or disconnect; the attacker learns nothing).
 */
async function publishRefused(client: MqttClient, topic: string, payload: string): Promise<void> {
  const closed = new Promise<void>(resolve => client.once('close', () => resolve()));
  client.publish(topic, payload, { qos: 1 });
  await closed;
}

async function deniedCount(httpUrl: string, reason: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(l => l.startsWith(`vigil_broker_denied_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

afterAll(async () => {
  await Promise.all(connections.map(c => c.endAsync(true).catch(() => undefined)));
});

describe('the embedded broker outside demo mode', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let work: string;
  let dataDir: string;
  let secrets: Record<string, DeviceSecret>;
  let ws: WsRecorder;
  const tf01 = () => secrets['plant-1/gc-tf-01'];
  const tf02 = () => secrets['plant-1/gc-tf-02'];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-security-'));
    dataDir = join(work, 'data');
    writeFileSync(
      join(work, 'users.yaml'),
      `users:\n  - { id: op1, name: Op, role: operator, scope: ent-huaxin, passwordHash: "${hashPassword('correct horse battery')}" }\n`,
    );
    secrets = await issueDeviceCredentials(dataDir, ['plant-1/gc-tf-01', 'plant-1/gc-tf-02']);
    vigil = await startSystem({
      env: {
        VIGIL_DEMO_MODE: 'false',
        VIGIL_USERS: join(work, 'users.yaml'),
        VIGIL_AUTH_SECRET: 'a-test-secret-of-at-least-32-characters!',
        VIGIL_DATA_DIR: dataDir,
      },
    });
    const { token } = await loginAs(vigil.httpUrl, 'op1', 'correct horse battery');
    ws = await WsRecorder.open(vigil.httpUrl, `?token=${token}`);
  });

  afterAll(async () => {
    ws?.close();
    await vigil?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const alarmOf = (deviceId: string) => ws.alarms().find(m => m.alarm.deviceId === deviceId);

  it('refuses anonymous clients and wrong secrets', async () => {
    await expect(connectAs(vigil.mqttUrl, undefined)).rejects.toThrow(
      /Bad username|Not authorized/,
    );
    await expect(
      connectAs(vigil.mqttUrl, { username: 'gc-tf-02', secret: 'guessed' }),
    ).rejects.toThrow(/Bad username|Not authorized/);
    expect(await deniedCount(vigil.httpUrl, 'anonymous')).toBeGreaterThanOrEqual(1);
    expect(await deniedCount(vigil.httpUrl, 'bad-credentials')).toBeGreaterThanOrEqual(1);
  });

  it('admits a device to its own topic: its L2 reading becomes an alarm', async () => {
    const device = await connectAs(vigil.mqttUrl, tf02());
    await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 1 }, 1), {
      qos: 1,
    });
    await device.publishAsync(
      'vigil/v1/plant-1/gc-tf-02/telemetry',
      telemetry({ lel: L2_LEL }, 2),
      { qos: 1 },
    );
    await waitFor(() => alarmOf('gc-tf-02'), { what: 'the L2 alarm of gc-tf-02' });
  });

  it('does not let a device publish as another device (forged alarm) or for another site', async () => {
    const before = await deniedCount(vigil.httpUrl, 'publish-topic');
    // Forged: gc-tf-01's credential, gc-ru-01's topic (a real detector of the same site).
    await publishRefused(
      await connectAs(vigil.mqttUrl, tf01()),
      'vigil/v1/plant-1/gc-ru-01/telemetry',
      telemetry({ lel: L2_LEL }, 1),
    );
    await publishRefused(
      await connectAs(vigil.mqttUrl, tf01()),
      'vigil/v1/plant-2/gc-tf-01/telemetry',
      telemetry({ lel: L2_LEL }, 1),
    );
    // Its own L2 reading after the forgeries: once its alarm is here, anything the forgeries
    // could have raised would be here too (the forgeries were handled before the connections
    // closed).
    const forger = await connectAs(vigil.mqttUrl, tf01());
    await forger.publishAsync(
      'vigil/v1/plant-1/gc-tf-01/telemetry',
      telemetry({ lel: L2_LEL }, 1),
      { qos: 1 },
    );
    await waitFor(() => alarmOf('gc-tf-01'), { what: 'the L2 alarm of gc-tf-01' });
    expect(alarmOf('gc-ru-01')).toBeUndefined();
    expect(await deniedCount(vigil.httpUrl, 'publish-topic')).toBe(before + 2);
  });

  it('grants no subscription to #, $SYS/#, internal topics or another device', async () => {
    const device = await connectAs(vigil.mqttUrl, tf01());
    const grants = await grantsOf(device, [
      '#',
      '$SYS/#',
      'vigil-internal/v1/#',
      'vigil/v1/plant-1/gc-tf-02/telemetry',
    ]);
    expect(grants).toEqual([128, 128, 128, 128]);
    expect(device.connected).toBe(true);
    expect(await deniedCount(vigil.httpUrl, 'wildcard')).toBeGreaterThanOrEqual(1);
    expect(await deniedCount(vigil.httpUrl, 'sys-topic')).toBeGreaterThanOrEqual(1);
  });

  it('keeps internal topics and vigil- client ids to Vigil: no forgery by prefix', async () => {
    await expect(connectAs(vigil.mqttUrl, tf01(), 'vigil-rules-1-forged')).rejects.toThrow(
      /Identifier rejected/,
    );
    const before = await deniedCount(vigil.httpUrl, 'internal-topic');
    const forged = JSON.stringify([{ id: 'forged', deviceId: 'gc-tf-03', level: 'L2' }]);
    await publishRefused(
      await connectAs(vigil.mqttUrl, tf01()),
      'vigil-internal/v1/alarms',
      forged,
    );
    await publishRefused(
      await connectAs(vigil.mqttUrl, tf01()),
      'vigil-internal/v1/commands',
      '{"command":null}',
    );
    expect(await deniedCount(vigil.httpUrl, 'internal-topic')).toBe(before + 2);
  });

  it("refuses to hand a connected client's id to another identity (ingest's, or a device's)", async () => {
    // The old, predictable client id of ingest: refused outright (reserved prefix).
    await expect(
      connectAs(vigil.mqttUrl, tf01(), `vigil-ingest-${hostname()}-${process.pid}`),
    ).rejects.toThrow(/Identifier rejected/);
    const owner = await connectAs(vigil.mqttUrl, tf02(), 'field-unit-7');
    await expect(connectAs(vigil.mqttUrl, tf01(), 'field-unit-7')).rejects.toThrow(
      /Identifier rejected/,
    );
    expect(owner.connected).toBe(true);
    // The owner's session is intact: it still publishes with QoS 1 (acknowledged).
    await owner.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 2 }, 3), {
      qos: 1,
    });
    expect(await deniedCount(vigil.httpUrl, 'client-id-taken')).toBeGreaterThanOrEqual(1);
    const ready = (await (await fetch(`${vigil.httpUrl}/readyz`)).json()) as {
      checks: { broker: boolean };
    };
    expect(ready.checks.broker).toBe(true);
  });

  it('disconnects a revoked device and refuses it from then on', async () => {
    const device = await connectAs(vigil.mqttUrl, tf02());
    const closed = new Promise<void>(resolve => device.once('close', () => resolve()));
    const code = await runCredentialsCli(
      ['revoke', 'plant-1/gc-tf-02'],
      { VIGIL_DATA_DIR: dataDir, VIGIL_REGISTRY: SAMPLE_REGISTRY },
      { out: () => undefined, err: () => undefined },
    );
    expect(code).toBe(0);
    await closed;
    await expect(connectAs(vigil.mqttUrl, tf02())).rejects.toThrow(/Bad username|Not authorized/);
  });
});

describe('the embedded broker in demo mode', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let ws: WsRecorder;

  beforeAll(async () => {
    vigil = await startSystem();
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await vigil?.stop();
  });

  it('still takes anonymous device readings (the demo works out of the box)', async () => {
    const device = await connectAs(vigil.mqttUrl, undefined);
    await device.publishAsync(
      'vigil/v1/plant-1/gc-tf-03/telemetry',
      telemetry({ lel: L2_LEL }, 1),
      {
        qos: 1,
      },
    );
    await waitFor(() => ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-03'), {
      what: 'the L2 alarm of gc-tf-03',
    });
  });

  it('but no #, no $SYS, no internal topics and no vigil- client id for anonymous clients', async () => {
    const device = await connectAs(vigil.mqttUrl, undefined);
    expect(await grantsOf(device, ['#', '$SYS/#', 'vigil-internal/v1/#'])).toEqual([128, 128, 128]);
    await expect(
      connectAs(vigil.mqttUrl, undefined, `vigil-ingest-${hostname()}-${process.pid}`),
    ).rejects.toThrow(/Identifier rejected/);
    const before = await deniedCount(vigil.httpUrl, 'internal-topic');
    await publishRefused(device, 'vigil-internal/v1/readings', '[]');
    expect(await deniedCount(vigil.httpUrl, 'internal-topic')).toBe(before + 1);
  });
});

describe('Vigil on a real mosquitto with the generated configuration', () => {
  let mosquitto: MosquittoHandle;
  let vigil: RunningVigil & { mqttUrl: string };
  let work: string;
  let secrets: Record<string, DeviceSecret>;
  let ws: WsRecorder;
  const INTERNAL = 'internal-password-of-the-security-suite';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-security-mosquitto-'));
    secrets = await issueDeviceCredentials(work, [
      'plant-1/gc-tf-01',
      'plant-1/gc-ru-02',
      'plant-1/gc-tf-03',
    ]);
    const env = {
      VIGIL_DATA_DIR: work,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_MQTT_PASSWORD: INTERNAL,
    };
    const code = await runCredentialsCli(['mosquitto', '--out', join(work, 'mosquitto')], env, {
      out: () => undefined,
      err: () => undefined,
    });
    expect(code).toBe(0);
    mosquitto = await startMosquitto({
      security: {
        passwordFile: join(work, 'mosquitto', 'passwd'),
        aclFile: join(work, 'mosquitto', 'acl'),
      },
    });
    vigil = await startSystem({
      mqttUrl: mosquitto.url,
      env: { VIGIL_MQTT_USERNAME: 'vigil', VIGIL_MQTT_PASSWORD: INTERNAL },
    });
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await vigil?.stop();
    await mosquitto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses anonymous clients', async () => {
    await expect(connectAs(mosquitto.url, undefined)).rejects.toThrow(/Not authorized/);
  });

  it("carries a device's own alarm through Vigil's internal account, and drops its forgeries", async () => {
    // Mosquitto acknowledges a refused QoS 1 publish and drops it; the connection stays.
    const forger = await connectAs(mosquitto.url, secrets['plant-1/gc-ru-02']);
    for (const topic of [
      'vigil/v1/plant-1/gc-tf-01/telemetry', // another device of its site
      'vigil/v1/plant-2/gc-ru-02/telemetry', // itself on another site
    ])
      await forger.publishAsync(topic, telemetry({ lel: L2_LEL }, 1), { qos: 1 });
    await forger.publishAsync(
      'vigil/v1/plant-1/gc-ru-02/telemetry',
      telemetry({ lel: L2_LEL }, 1),
      {
        qos: 1,
      },
    );
    await waitFor(() => ws.alarms().find(m => m.alarm.deviceId === 'gc-ru-02'), {
      what: 'the L2 alarm of gc-ru-02',
    });
    expect(ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-01')).toBeUndefined();
  });

  it('grants a device nothing of #, $SYS/# or the internal topics', async () => {
    const device = await connectAs(mosquitto.url, secrets['plant-1/gc-tf-01']);
    const received: string[] = [];
    device.on('message', topic => received.push(topic));
    await device.subscribeAsync(['#', '$SYS/#', 'vigil-internal/v1/#'], { qos: 1 });
    // Another device's L2 reading is the marker: its alarm on the WebSocket means the broker
    // routed the reading (to ingest, not to the subscriber above).
    const other = await connectAs(mosquitto.url, secrets['plant-1/gc-tf-03']);
    await other.publishAsync('vigil/v1/plant-1/gc-tf-03/telemetry', telemetry({ lel: L2_LEL }, 1), {
      qos: 1,
    });
    await waitFor(() => ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-03'), {
      what: 'the L2 alarm of gc-tf-03',
    });
    expect(received).toEqual([]);
  });
});

/** HTTPS with the site CA (fetch cannot take a CA): status and parsed JSON body. */
function httpsJson(
  url: string,
  ca: Buffer,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = request(
      url,
      {
        ca,
        method: init.method ?? 'GET',
        headers: {
          'Content-Type': 'application/json',
          ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
        },
      },
      response => {
        let text = '';
        response.on('data', chunk => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('production configuration with TLS: MQTTS for devices, HTTPS for the gateway', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let work: string;
  let ca: Buffer;
  let tlsPort: number;
  let secrets: Record<string, DeviceSecret>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-security-tls-'));
    execFileSync(join(REPO_ROOT, 'scripts/make-site-ca.sh'), [
      join(work, 'pki'),
      '127.0.0.1,localhost',
      'gc-ru-01',
    ]);
    ca = readFileSync(join(work, 'pki', 'ca.crt'));
    writeFileSync(
      join(work, 'users.yaml'),
      `users:\n  - { id: op1, name: Op, role: operator, scope: ent-huaxin, passwordHash: "${hashPassword('correct horse battery')}" }\n`,
    );
    secrets = await issueDeviceCredentials(join(work, 'data'), ['plant-1/gc-ru-01']);
    tlsPort = await freePort();
    vigil = await startSystem({
      env: {
        VIGIL_DEMO_MODE: 'false',
        VIGIL_USERS: join(work, 'users.yaml'),
        VIGIL_AUTH_SECRET: 'a-test-secret-of-at-least-32-characters!',
        VIGIL_DATA_DIR: join(work, 'data'),
        VIGIL_MQTT_TLS_PORT: String(tlsPort),
        VIGIL_MQTT_TLS_CERT: join(work, 'pki', 'server.crt'),
        VIGIL_MQTT_TLS_KEY: join(work, 'pki', 'server.key'),
        VIGIL_HTTPS_CERT: join(work, 'pki', 'server.crt'),
        VIGIL_HTTPS_KEY: join(work, 'pki', 'server.key'),
      },
    });
  });

  afterAll(async () => {
    await vigil?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('carries a device reading over MQTTS to an alarm served over HTTPS', async () => {
    expect(vigil.httpUrl).toMatch(/^https:/);
    const login = await httpsJson(`${vigil.httpUrl}/api/v1/auth/login`, ca, {
      method: 'POST',
      body: { username: 'op1', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
    const { token } = login.body as { token: string };
    const device = await connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      ca,
      username: secrets['plant-1/gc-ru-01']?.username,
      password: secrets['plant-1/gc-ru-01']?.secret,
      clientId: 'gc-ru-01-tls',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    connections.push(device);
    await device.publishAsync(
      'vigil/v1/plant-1/gc-ru-01/telemetry',
      telemetry({ lel: L2_LEL }, 1),
      {
        qos: 1,
      },
    );
    await waitFor(
      async () => {
        const alarms = await httpsJson(`${vigil.httpUrl}/api/v1/alarms`, ca, { token });
        return (alarms.body as Array<{ deviceId: string }>).some(a => a.deviceId === 'gc-ru-01');
      },
      { what: 'the alarm of gc-ru-01 over HTTPS' },
    );
  });

  it('refuses a client that does not trust the site CA, and anonymous clients over MQTTS', async () => {
    await expect(
      connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { reconnectPeriod: 0, protocolVersion: 4 }),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await expect(
      connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ca, reconnectPeriod: 0, protocolVersion: 4 }),
    ).rejects.toThrow(/Bad username|Not authorized/);
  });
});
