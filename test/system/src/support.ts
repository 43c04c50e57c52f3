import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, type MqttClient } from 'mqtt';
import WebSocket from 'ws';

import type { ServerMessage } from '@vigil/contracts';
import { loadConfig, runCredentialsCli, startVigil, type RunningVigil } from '@vigil/server';
import { freePort, waitFor } from '@vigil/testing';

export const REPO_ROOT = join(__dirname, '../../..');
export const SAMPLE_REGISTRY = join(REPO_ROOT, 'registry/sample');

export interface SystemOptions {
  readonly influxUrl?: string;
  /** An external broker; without it the embedded aedes broker runs on a free port. */
  readonly mqttUrl?: string;
  readonly mqttPort?: number;
  readonly services?: string;
  readonly env?: Record<string, string>;
}

/** Starts Vigil in this process on free loopback ports (what `npm start` runs, minus the simulator). */
export async function startSystem(
  options: SystemOptions = {},
): Promise<RunningVigil & { mqttUrl: string; dataDir: string }> {
  const httpPort = await freePort();
  const mqttPort = options.mqttPort ?? (await freePort());
  // Each system gets its own alarm journal, so no state leaks between tests; removed at stop
  // (unless the test brought its own VIGIL_DATA_DIR, e.g. to restart on the same journal).
  const ownDataDir =
    options.env?.['VIGIL_DATA_DIR'] === undefined
      ? mkdtempSync(join(tmpdir(), 'vigil-system-'))
      : undefined;
  const removeDataDir = () => {
    if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
  };
  const config = loadConfig({
    VIGIL_SERVICES: options.services ?? 'all',
    // Split services here talk over the legacy MQTT bus; JetStream tests start their own NATS.
    ...(options.services && options.services !== 'all' ? { VIGIL_BUS: 'mqtt' } : {}),
    VIGIL_HTTP_PORT: String(httpPort),
    VIGIL_MQTT_PORT: String(mqttPort),
    ...(options.mqttUrl ? { VIGIL_MQTT_URL: options.mqttUrl } : {}),
    VIGIL_INFLUX_MODE: options.influxUrl ? 'external' : 'off',
    ...(options.influxUrl ? { VIGIL_INFLUX_URL: options.influxUrl } : {}),
    VIGIL_REGISTRY: SAMPLE_REGISTRY,
    ...(ownDataDir ? { VIGIL_DATA_DIR: ownDataDir } : {}),
    VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
    VIGIL_WRITE_FLUSH_MS: '50',
    VIGIL_RULE_TICK_MS: '200',
    VIGIL_LOG_LEVEL: 'warn',
    ...options.env,
  });
  let running: RunningVigil;
  try {
    running = await startVigil(config);
  } catch (error) {
    removeDataDir();
    throw error;
  }
  const stop = running.stop.bind(running);
  return Object.assign(running, {
    mqttUrl: options.mqttUrl ?? `mqtt://127.0.0.1:${mqttPort}`,
    dataDir: config.dataDir,
    async stop() {
      try {
        await stop();
      } finally {
        removeDataDir();
      }
    },
  });
}

export interface DeviceSecret {
  readonly username: string;
  readonly secret: string;
}

/**
 * Issues device credentials into `dataDir` (what `npm run credentials -- issue` does) and returns
 * the secrets by `site/device`: outside demo mode the broker admits no anonymous device.
 */
export async function issueDeviceCredentials(
  dataDir: string,
  keys: readonly string[],
): Promise<Record<string, DeviceSecret>> {
  mkdirSync(dataDir, { recursive: true });
  const secretsOut = join(dataDir, 'test-device-secrets.json');
  const errors: string[] = [];
  const code = await runCredentialsCli(
    ['issue', ...keys, '--secrets-out', secretsOut],
    { VIGIL_DATA_DIR: dataDir, VIGIL_REGISTRY: SAMPLE_REGISTRY },
    { out: () => undefined, err: line => errors.push(line) },
  );
  if (code !== 0) throw new Error(`issue ${keys.join(' ')}: ${errors.join('\n')}`);
  return JSON.parse(readFileSync(secretsOut, 'utf8')) as Record<string, DeviceSecret>;
}

export async function mqttClient(
  url: string,
  clientId?: string,
  credentials?: DeviceSecret,
): Promise<MqttClient> {
  const client = connect(url, {
    clientId: clientId ?? `test-${Math.random().toString(16).slice(2)}`,
    reconnectPeriod: 200,
    ...(credentials ? { username: credentials.username, password: credentials.secret } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** A WebSocket client that records every message the gateway pushes. */
export class WsRecorder {
  readonly messages: ServerMessage[] = [];
  private socket: WebSocket | undefined;

  static async open(httpUrl: string, query = ''): Promise<WsRecorder> {
    const recorder = new WsRecorder();
    await recorder.connect(httpUrl, query);
    return recorder;
  }

  async connect(httpUrl: string, query = ''): Promise<void> {
    const socket = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/ws${query}`);
    socket.on('message', data => this.messages.push(JSON.parse(data.toString()) as ServerMessage));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.socket = socket;
    await waitFor(() => this.messages.some(message => message.type === 'hello'), {
      what: 'ws hello',
    });
  }

  alarms(): Extract<ServerMessage, { type: 'alarm' }>[] {
    return this.messages.filter(
      (message): message is Extract<ServerMessage, { type: 'alarm' }> => message.type === 'alarm',
    );
  }

  close(): void {
    this.socket?.terminate();
  }
}

export function telemetry(
  values: Record<string, number | boolean>,
  seq?: number,
  ts = Date.now(),
): string {
  return JSON.stringify({ ts, ...(seq === undefined ? {} : { seq }), values });
}

/** Logs in (demo users have the password `vigil-demo`) and returns a fetch that sends the token. */
export async function loginAs(httpUrl: string, username: string, password = 'vigil-demo') {
  const response = await fetch(`${httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login as ${username}: HTTP ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${httpUrl}${path}`, {
      ...init,
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
        ...init.headers,
      },
    });
  return {
    token,
    call,
    post: (path: string, body: unknown = {}) =>
      call(path, { method: 'POST', body: JSON.stringify(body) }),
  };
}

/**
 * A registry of one site, `storm`, of enterprise `ent-storm` under the demo users' city
 * (`city-demo`: admin sees it, zhang does not), with one area `unit-1` (200 × 200 m) and these
 * methane detectors on a 10 m grid: the fleet of the load and fault tests.
 */
export function writeFleetRegistry(dir: string, deviceIds: readonly string[]): void {
  const devices = deviceIds.map((id, i) => ({
    id,
    class: 'gas-combustible',
    attributes: { gas: 'CH4' },
    area: 'unit-1',
    position: [10 + (i % 10) * 10, 10 + Math.floor(i / 10) * 10],
  }));
  writeFileSync(
    join(dir, 'site.json'),
    JSON.stringify({
      organisation: [
        { id: 'city-demo', name: 'City', kind: 'city' },
        { id: 'ent-storm', name: 'Storm Chemicals', kind: 'enterprise', parent: 'city-demo' },
      ],
      sites: [
        {
          id: 'storm',
          name: 'Storm site',
          enterprise: 'ent-storm',
          frame: { width: 200, height: 200 },
          areas: [
            {
              id: 'unit-1',
              name: 'Unit 1',
              kind: 'production',
              polygon: [
                [0, 0],
                [200, 0],
                [200, 200],
                [0, 200],
              ],
            },
          ],
          devices,
        },
      ],
    }),
  );
}

/**
 * A copy of the sample registry at `dir` whose reactor unit (major hazard source reactor-unit-1)
 * names its guarantors (包保责任人): wang principal, li technical, zhang operational. Returns the
 * copy's site file.
 */
export function registryWithGuarantors(dir: string): string {
  cpSync(SAMPLE_REGISTRY, dir, { recursive: true });
  const plant = join(dir, 'site-plant-1.yaml');
  const unit = 'area: reactor-unit, exposedPopulation: 40 }';
  const text = readFileSync(plant, 'utf8');
  if (!text.includes(unit)) throw new Error('the sample registry changed');
  writeFileSync(
    plant,
    text.replace(
      unit,
      'area: reactor-unit, exposedPopulation: 40, guarantors: { principal: wang, technical: li, operational: zhang } }',
    ),
  );
  return plant;
}

/**
 * The inspection journal of an earlier run in Vigil's `dataDir`: it began watching plant-1's
 * schedule `scheduleId` at `since` and recorded nothing since (so its windows are missed).
 */
export function journalWatching(dataDir: string, scheduleId: string, since: number): void {
  const journalDir = join(dataDir, 'inspections');
  mkdirSync(journalDir, { recursive: true });
  writeFileSync(
    join(journalDir, 'inspection-journal.jsonl'),
    `${JSON.stringify({ t: 'watch', siteId: 'plant-1', scheduleId, since })}\n`,
  );
}
