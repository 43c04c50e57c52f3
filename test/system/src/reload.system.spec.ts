import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { RunningVigil } from '@vigil/server';
import { waitFor } from '@vigil/testing';

import {
  SAMPLE_REGISTRY,
  WsRecorder,
  loginAs,
  mqttClient,
  startSystem,
  telemetry,
} from './support';

/** Rules are data: reloadable without a restart and without losing per-device state (issue 3). */
describe('registry and rule reload without a restart', () => {
  let registryDir: string;
  let vigil: RunningVigil & { mqttUrl: string };
  let device: MqttClient;
  let ws: WsRecorder;

  beforeAll(async () => {
    registryDir = mkdtempSync(join(tmpdir(), 'vigil-reload-'));
    cpSync(SAMPLE_REGISTRY, registryDir, { recursive: true });
    vigil = await startSystem({ env: { VIGIL_REGISTRY: registryDir } });
    device = await mqttClient(vigil.mqttUrl);
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await vigil?.stop();
    rmSync(registryDir, { recursive: true, force: true });
  });

  it('applies a new set-point at once and keeps the state of alarms already active', async () => {
    const admin = await loginAs(vigil.httpUrl, 'admin');
    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 12 }, 1), {
      qos: 1,
    });
    await waitFor(
      () => ws.alarms().some(m => m.alarm.deviceId === 'gc-tf-01' && m.alarm.level === 'L1'),
      { what: 'L1 on gc-tf-01' },
    );
    expect(ws.alarms().some(m => m.alarm.deviceId === 'gc-tf-02')).toBe(false);

    // A bad edit is refused and the running registry stays in force.
    const site = join(registryDir, 'site-plant-1.yaml');
    const original = readFileSync(site, 'utf8');
    writeFileSync(
      site,
      original.replace(
        'class: gas-combustible, profile: catalytic-ch4, area: tank-farm, position: [100, 200]',
        'class: laser',
      ),
    );
    const refused = await admin.post('/api/v1/registry/reload');
    expect(refused.status).toBe(422);
    expect(JSON.stringify(await refused.json())).toMatch(/class/);

    // Lower gc-tf-02's first-level set-point to 10 %LEL (a site-specific override).
    writeFileSync(
      site,
      original.replace(
        '{ id: gc-tf-02, class: gas-combustible, profile: catalytic-ch4, area: tank-farm, position: [100, 200], name: 罐区可燃气 2 }',
        '{ id: gc-tf-02, class: gas-combustible, profile: catalytic-ch4, area: tank-farm, position: [100, 200], name: 罐区可燃气 2, rules: { gas-l1: { setpoint: 10, deadband: 2 } } }',
      ),
    );
    const reloaded = await admin.post('/api/v1/registry/reload');
    expect(reloaded.status).toBe(200);

    await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 12 }, 2), {
      qos: 1,
    });
    const raised = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-02' && m.alarm.level === 'L1'),
      {
        what: 'L1 on gc-tf-02 at the new set-point',
      },
    );
    expect(raised.alarm.threshold).toBe(10);

    // gc-tf-01 kept its active state through the reload: the same reading raises nothing new.
    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 2), {
      qos: 1,
    });
    await new Promise(resolve => setTimeout(resolve, 300));
    const raises = ws
      .alarms()
      .filter(
        m =>
          m.alarm.deviceId === 'gc-tf-01' &&
          m.alarm.level === 'L1' &&
          m.alarm.history.at(-1)?.action === 'raise',
      );
    expect(raises).toHaveLength(1);
  });

  it('refuses a reload by an operator', async () => {
    const zhang = await loginAs(vigil.httpUrl, 'zhang');
    expect((await zhang.post('/api/v1/registry/reload')).status).toBe(403);
  });
});
