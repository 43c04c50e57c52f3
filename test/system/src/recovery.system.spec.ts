import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm } from '@vigil/contracts';
import { freePort, influxQuery, startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import {
  REPO_ROOT,
  WsRecorder,
  loginAs,
  mqttClient,
  telemetry,
  writeFleetRegistry,
} from './support';

const DEVICES = 60;

/**
 * Kill the alarm service with SIGKILL during an alarm storm: it comes back with the same open
 * alarms, no duplicates and no lost actions (issue 4). Real InfluxDB, the built Vigil process.
 */
describe('recovery after SIGKILL during an alarm storm', () => {
  let influx: InfluxHandle;
  let work: string;
  let vigil: ChildProcess | undefined;
  let device: MqttClient | undefined;
  let env: Record<string, string>;
  let httpUrl: string;

  function startVigil(): ChildProcess {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', () => undefined);
    return child;
  }

  beforeAll(async () => {
    influx = await startInfluxd();
    work = mkdtempSync(join(tmpdir(), 'vigil-recovery-'));
    writeFleetRegistry(
      work,
      Array.from({ length: DEVICES }, (_, i) => `gc-${String(i).padStart(3, '0')}`),
    );
    const httpPort = await freePort();
    const mqttPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    env = {
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_MQTT_PORT: String(mqttPort),
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: work,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_WRITE_FLUSH_MS: '50',
    };
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    vigil?.kill('SIGKILL');
    await influx?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('comes back with the same open alarms, one per key, and every acknowledged action', async () => {
    vigil = startVigil();
    await waitFor(
      async () => (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.status === 200,
      {
        what: 'Vigil ready',
        timeoutMs: 30_000,
      },
    );
    const ws = await WsRecorder.open(httpUrl);
    const operator = await loginAs(httpUrl, 'admin');
    device = await mqttClient(`mqtt://127.0.0.1:${env['VIGIL_MQTT_PORT']}`);

    // The storm: every detector crosses L1 and L2; operators acknowledge as alarms arrive.
    const acknowledged = new Set<string>();
    const run = { killed: false };
    let seq = 0;
    const storm = (async () => {
      for (let round = 0; round < 150 && !run.killed; round += 1) {
        for (let i = 0; i < DEVICES; i += 1) {
          const lel = round % 2 === 0 ? 30 + (i % 30) : 60;
          device?.publish(
            `vigil/v1/storm/gc-${String(i).padStart(3, '0')}/telemetry`,
            telemetry({ lel }, (seq += 1)),
            { qos: 0 },
          );
        }
        await new Promise(resolve => setTimeout(resolve, 20));
      }
    })();
    const acking = (async () => {
      for (let attempt = 0; attempt < 400 && acknowledged.size < 25; attempt += 1) {
        const target = ws
          .alarms()
          .map(m => m.alarm)
          .find(alarm => alarm.state === 'active-unacknowledged' && !acknowledged.has(alarm.id));
        if (!target) {
          await new Promise(resolve => setTimeout(resolve, 10));
          continue;
        }
        const response = await operator.post(`/api/v1/alarms/${target.id}/acknowledge`, {
          note: 'storm',
        });
        if (response.status === 200) acknowledged.add(target.id);
      }
    })();
    await acking;
    expect(acknowledged.size).toBeGreaterThanOrEqual(10);

    // SIGKILL while the storm is still being published. What anyone was told before the kill
    // (acknowledged over REST, or pushed over the WebSocket) must survive it.
    const killed = new Promise(resolve => vigil?.once('exit', resolve));
    vigil.kill('SIGKILL');
    run.killed = true;
    await killed;
    const seenBeforeKill = new Map<string, Alarm>();
    for (const { alarm } of ws.alarms()) seenBeforeKill.set(alarm.id, alarm);
    ws.close();
    await storm;
    await device.endAsync(true);

    vigil = startVigil();
    await waitFor(
      async () => (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.status === 200,
      {
        what: 'Vigil ready after the restart',
        timeoutMs: 30_000,
      },
    );
    const admin = await loginAs(httpUrl, 'admin');
    // Scope: an operator of another enterprise sees none of this site's alarms.
    const zhang = await loginAs(httpUrl, 'zhang');
    expect(await (await zhang.call('/api/v1/alarms?state=open')).json()).toEqual([]);
    const open = (await (await admin.call('/api/v1/alarms?state=open')).json()) as Alarm[];

    const keys = open.map(alarm => alarm.key);
    expect(new Set(keys).size).toBe(keys.length);
    const openIds = new Set(open.map(alarm => alarm.id));
    for (const alarm of seenBeforeKill.values()) {
      if (alarm.state !== 'normal') expect(openIds.has(alarm.id)).toBe(true);
    }
    for (const id of acknowledged) {
      expect(open.find(alarm => alarm.id === id)).toMatchObject({
        acknowledgedBy: 'admin',
        owner: 'admin',
      });
    }

    // Readings keep arriving after the restart: still no second alarm for any key.
    device = await mqttClient(`mqtt://127.0.0.1:${env['VIGIL_MQTT_PORT']}`);
    for (let i = 0; i < DEVICES; i += 1) {
      await device.publishAsync(
        `vigil/v1/storm/gc-${String(i).padStart(3, '0')}/telemetry`,
        telemetry({ lel: 70 }, 100_000 + i),
        { qos: 1 },
      );
    }
    await new Promise(resolve => setTimeout(resolve, 500));
    const after = (await (await admin.call('/api/v1/alarms?state=open')).json()) as Alarm[];
    expect(new Set(after.map(alarm => alarm.key)).size).toBe(after.length);

    // InfluxDB's audit copy never holds two alarms for one key.
    const rows = await influxQuery(
      influx.url,
      'vigil',
      `SELECT alarm_id, device, "rule" FROM "vigil"."events"."alarm_event" WHERE "action" = 'raise' AND time > now() - 1h`,
    );
    const idsByKey = new Map<string, Set<string>>();
    for (const row of rows) {
      const key = `${String(row['device'])}/${String(row['rule'])}`;
      const ids = idsByKey.get(key) ?? new Set<string>();
      ids.add(String(row['alarm_id']));
      idsByKey.set(key, ids);
    }
    expect(rows.length).toBeGreaterThan(0);
    for (const [key, ids] of idsByKey)
      expect({ key, alarms: ids.size }).toEqual({ key, alarms: 1 });
  });
});
