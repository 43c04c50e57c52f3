import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import {
  freePort,
  startInfluxd,
  startMosquitto,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
} from '@vigil/testing';

import { node, startBuiltVigil, stop, type BuiltVigil, type LoggedChild } from './console-browser';
import { REPO_ROOT, SAMPLE_REGISTRY, WsRecorder, mqttClient, telemetry } from './support';

/** The fire-panel event of issue 10 finding 1: `detail` nested 6,000 levels deep (~36 KB). */
const DEEP_EVENT = `{"code":"fire","detail":${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}}`;

function requireBuild(): void {
  if (!existsSync(join(REPO_ROOT, 'dist/apps/vigil/src/main.js')))
    throw new Error('dist/ is missing: the system tests depend on the build (npm run build)');
}

async function metric(httpUrl: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

const alive = (child: LoggedChild) => child.exitCode === null && child.signalCode === null;

/**
 * Hostile input against the built process on real parts (issue 10 finding 1, issue 11): one
 * message used to kill the whole process. Now it is dead-lettered, counted, and the next alarm
 * arrives over the WebSocket.
 */
describe('hostile input never kills a Vigil process (built process, real InfluxDB)', () => {
  let influx: InfluxHandle;
  let vigil: BuiltVigil;
  let device: MqttClient;
  let ws: WsRecorder;

  beforeAll(async () => {
    requireBuild();
    influx = await startInfluxd();
    vigil = await startBuiltVigil({
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-hostile-')),
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_RULE_TICK_MS: '200',
    });
    device = await mqttClient(vigil.mqttUrl); // anonymous, like the attacker of finding 1
    ws = await WsRecorder.open(vigil.httpUrl);
  }, 60_000);

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await stop(vigil?.process);
    await influx?.stop();
  });

  it('dead-letters the 6,000-deep fire-panel event, stays alive, and still alarms on 90 %LEL', async () => {
    expect(DEEP_EVENT.length).toBeGreaterThan(35_000);
    await device.publishAsync('vigil/v1/plant-1/fp-main/event', DEEP_EVENT, { qos: 1 });
    await waitFor(
      async () =>
        (await metric(
          vigil.httpUrl,
          /vigil_ingest_dead_letters_total\{reason="too-deep"\} (\d+)/,
        )) === 1,
      { what: 'the deep event dead-lettered as too-deep', timeoutMs: 10_000 },
    );

    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 90 }, 1), {
      qos: 1,
    });
    const l2 = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-01' && m.alarm.level === 'L2'),
      { what: 'the 90 %LEL alarm over the WebSocket after the hostile event', timeoutMs: 10_000 },
    );
    expect(l2.alarm).toMatchObject({ priority: 1, value: 90 });
    expect(alive(vigil.process)).toBe(true);
    expect((await fetch(`${vigil.httpUrl}/readyz`)).status).toBe(200);
  });
});

/**
 * Split mode (issue 11): `{"command": null}` on the commands topic killed broker+ingest+rules,
 * `[null]` on the records or alarms topic killed persister+gateway. Both processes stay alive,
 * count what they rejected, and keep carrying alarms.
 */
describe('malformed internal messages are never fatal (split mode, built processes)', () => {
  let influx: InfluxHandle;
  let mosquitto: MosquittoHandle;
  let front: LoggedChild;
  let back: LoggedChild;
  let frontUrl: string;
  let backUrl: string;
  let intruder: MqttClient;
  let ws: WsRecorder;

  async function spawnVigil(services: string): Promise<{ child: LoggedChild; url: string }> {
    const port = await freePort();
    const child = node('dist/apps/vigil/src/main.js', [], {
      VIGIL_SERVICES: services,
      VIGIL_BUS: 'mqtt',
      VIGIL_HTTP_PORT: String(port),
      VIGIL_MQTT_URL: mosquitto.url,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-hostile-split-')),
      VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_RULE_TICK_MS: '200',
      VIGIL_LOG_LEVEL: 'warn',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok, {
      what: `${services} up (log: ${child.log.join('').slice(-2000)})`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return { child, url };
  }

  beforeAll(async () => {
    requireBuild();
    [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
    ({ child: back, url: backUrl } = await spawnVigil('persister,gateway'));
    ({ child: front, url: frontUrl } = await spawnVigil('ingest,rules'));
    intruder = await mqttClient(mosquitto.url);
    ws = await WsRecorder.open(backUrl);
  }, 90_000);

  afterAll(async () => {
    ws?.close();
    await intruder?.endAsync();
    await stop(front);
    await stop(back);
    await mosquitto?.stop();
    await influx?.stop();
  });

  it('rejects {"command": null} and [null], counts them, and every process keeps working', async () => {
    await intruder.publishAsync('vigil-internal/v1/commands', '{"command": null}', { qos: 1 });
    await intruder.publishAsync('vigil-internal/v1/readings', '[null]', { qos: 1 });
    await intruder.publishAsync('vigil-internal/v1/alarms', '[null]', { qos: 1 });

    const rejected = (url: string, topic: string) =>
      metric(url, new RegExp(`vigil_internal_rejected_total\\{topic="${topic}"\\} (\\d+)`));
    await waitFor(async () => (await rejected(frontUrl, 'commands')) === 1, {
      what: 'the null command rejected by the rules process',
      timeoutMs: 10_000,
    });
    await waitFor(
      async () =>
        (await rejected(backUrl, 'records')) === 1 && (await rejected(backUrl, 'alarms')) === 1,
      { what: 'the [null] batches rejected by the gateway process', timeoutMs: 10_000 },
    );

    // Still carrying alarms from ingest (front) to the console (back), across the broker.
    const device = await mqttClient(mosquitto.url);
    try {
      await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 90 }, 1), {
        qos: 1,
      });
      await waitFor(
        () => ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-02' && m.alarm.level === 'L2'),
        { what: 'the 90 %LEL alarm at the gateway process', timeoutMs: 15_000 },
      );
    } finally {
      await device.endAsync();
    }
    expect(alive(front)).toBe(true);
    expect(alive(back)).toBe(true);
  });
});
