import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm } from '@vigil/contracts';
import type { RunningVigil } from '@vigil/server';
import { SAMPLE_GATEWAY, sampleRegistryWithGateway, waitFor } from '@vigil/testing';

import { SAMPLE_REGISTRY, WsRecorder, mqttClient, startSystem, telemetry } from './support';

/**
 * Issue 10 finding 4, on real parts (embedded broker, ingest, rules, alarm lifecycle, gateway,
 * WebSocket): suppression ends with its cause. An alarm raised in maintenance is shown when
 * maintenance ends, and a new leak on it is not hidden; an offline gateway hides its children's
 * offline alarms but never their gas alarms, and shows what it hid when it returns.
 */
describe('suppression follows its cause (issue 10 finding 4); test alarms out of the KPIs', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let mqtt: MqttClient;
  let ws: WsRecorder;
  let registryDir: string;
  const [child, sibling] = SAMPLE_GATEWAY.children;
  const gateway = SAMPLE_GATEWAY.gatewayId;

  const publish = (deviceId: string, kind: 'telemetry' | 'status', payload: string) =>
    mqtt.publish(`vigil/v1/plant-1/${deviceId}/${kind}`, payload, { qos: 1 });
  const post = (path: string, body: unknown) =>
    fetch(`${vigil.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const hidden = async () =>
    (
      (await (await fetch(`${vigil.httpUrl}/api/v1/alarms/hidden`)).json()) as {
        hidden: Record<string, number>;
      }
    ).hidden;
  const gauge = async (cause: string) => {
    const text = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    const line = text
      .split('\n')
      .find(l => l.startsWith(`vigil_alarms_suppressed{cause="${cause}"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  /** The latest WebSocket state of the alarm of `key` once `accept` holds for it. */
  const wsAlarm = (key: string, accept: (alarm: Alarm) => boolean, what: string) =>
    waitFor(
      () => {
        const latest = ws
          .alarms()
          .map(message => message.alarm)
          .filter(alarm => alarm.key === key)
          .at(-1);
        return latest && accept(latest) ? latest : undefined;
      },
      { what, timeoutMs: 10_000 },
    );
  const lastAction = (alarm: Alarm) => alarm.history.at(-1)?.action;

  beforeAll(async () => {
    registryDir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
    vigil = await startSystem({
      env: { VIGIL_REGISTRY: sampleRegistryWithGateway(SAMPLE_REGISTRY, registryDir) },
    });
    mqtt = await mqttClient(vigil.mqttUrl);
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    mqtt?.end(true);
    await vigil?.stop();
    rmSync(registryDir, { recursive: true, force: true });
  });

  it('always reports the hidden counts, zeros included', async () => {
    expect(await hidden()).toEqual({
      maintenance: 0,
      'out-of-service': 0,
      'parent-offline': 0,
      shelved: 0,
    });
  });

  it('gives maintenance an end: the answer names it, and a longer one than the maximum is refused', async () => {
    const detector = 'gc-tf-02';
    const before = Date.now();
    const started = await post(`/api/v1/devices/plant-1/${detector}/maintenance`, {
      mode: 'maintenance',
      reason: 'sensor swap',
      hours: 2,
    });
    expect(started.status).toBe(200);
    const mode = (await started.json()) as { until?: number };
    expect(mode.until).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
    expect(mode.until).toBeLessThan(Date.now() + 2 * 3_600_000 + 1);
    const tooLong = await post(`/api/v1/devices/plant-1/${detector}/maintenance`, {
      mode: 'maintenance',
      reason: 'forgotten',
      hours: 73,
    });
    expect(tooLong.status).toBe(422);
    expect(await tooLong.text()).toContain('VIGIL_MAINTENANCE_MAX_HOURS');
    await post(`/api/v1/devices/plant-1/${detector}/maintenance`, { mode: null, reason: 'done' });
  });

  it('shows an alarm raised in maintenance when maintenance ends, and a new leak on it is not hidden', async () => {
    const detector = 'gc-tf-03';
    const key = `plant-1/${detector}/gas-l2`;
    const start = await post(`/api/v1/devices/plant-1/${detector}/maintenance`, {
      mode: 'maintenance',
      reason: 'calibration with test gas',
    });
    expect(start.status).toBe(200);

    publish(detector, 'telemetry', telemetry({ lel: 70 }));
    const raised = await wsAlarm(key, alarm => alarm.conditionActive, 'the L2 alarm raised');
    expect(raised).toMatchObject({
      suppressed: 'maintenance',
      suppressedBy: [{ kind: 'maintenance', by: 'admin', reason: 'calibration with test gas' }],
    });
    await waitFor(async () => ((await hidden())['maintenance'] ?? 0) >= 1, {
      what: 'maintenance counted',
    });
    expect(await gauge('maintenance')).toBeGreaterThanOrEqual(1);

    // The gas goes; level 2 is latched, so the alarm stays open for a reset.
    publish(detector, 'telemetry', telemetry({ lel: 0 }));
    await wsAlarm(key, alarm => !alarm.conditionActive, 'the L2 condition cleared');

    expect(
      (
        await post(`/api/v1/devices/plant-1/${detector}/maintenance`, {
          mode: null,
          reason: 'done',
        })
      ).status,
    ).toBe(200);
    const shown = await wsAlarm(
      key,
      alarm => lastAction(alarm) === 'unsuppress',
      'the L2 alarm shown when maintenance ends',
    );
    expect(shown.suppressed).toBeUndefined();
    expect(shown.suppressedBy).toBeUndefined();
    expect(shown.shownAt).toEqual(expect.any(Number));
    expect((await hidden())['maintenance']).toBe(0);
    expect(await gauge('maintenance')).toBe(0);

    // A real leak afterwards re-activates the same alarm, visibly.
    publish(detector, 'telemetry', telemetry({ lel: 70 }));
    const again = await wsAlarm(
      key,
      alarm => alarm.conditionActive && lastAction(alarm) === 'raise',
      'the L2 alarm raised again',
    );
    expect(again.id).toBe(raised.id);
    expect(again.suppressed).toBeUndefined();
    expect(again.state).toBe('active-unacknowledged');
  });

  it('lets an offline gateway hide its child’s offline alarm but never its gas alarm, and shows them when it returns', async () => {
    for (const device of [gateway, child, sibling] as const)
      publish(device, 'telemetry', telemetry({ lel: 0 }));

    // The child drops off (its last will) while the gateway still reports: shown.
    publish(child, 'status', JSON.stringify({ online: false }));
    const offlineKey = `plant-1/${child}/offline`;
    const offline = await wsAlarm(offlineKey, alarm => alarm.conditionActive, 'child offline');
    expect(offline.suppressed).toBeUndefined();

    // The gateway drops off: the child's offline alarm is hidden under it at once.
    publish(gateway, 'status', JSON.stringify({ online: false }));
    await wsAlarm(
      `plant-1/${gateway}/gateway-offline`,
      alarm => alarm.conditionActive,
      'gateway offline',
    );
    const hiddenOffline = await wsAlarm(
      offlineKey,
      alarm => alarm.suppressed === 'parent-offline',
      'child offline hidden under the gateway',
    );
    expect(hiddenOffline.suppressedBy).toEqual([
      expect.objectContaining({ kind: 'parent-offline', gatewayId: gateway }),
    ]);

    // A leak on the other child while the gateway is offline: a reading came, so it is shown.
    publish(sibling, 'telemetry', telemetry({ lel: 70 }));
    const gas = await wsAlarm(
      `plant-1/${sibling}/gas-l2`,
      alarm => alarm.conditionActive,
      'gas alarm behind the offline gateway',
    );
    expect(gas.suppressed).toBeUndefined();
    expect(await hidden()).toMatchObject({ 'parent-offline': 1 });
    expect(await gauge('parent-offline')).toBe(1);

    // The gateway returns: what it hid is shown at once.
    publish(gateway, 'status', JSON.stringify({ online: true }));
    const shown = await wsAlarm(
      offlineKey,
      alarm => lastAction(alarm) === 'unsuppress',
      'child offline shown when the gateway returns',
    );
    expect(shown.suppressed).toBeUndefined();
    expect(shown.conditionActive).toBe(true);
    expect(shown.state).toBe('active-unacknowledged');
    expect((await hidden())['parent-offline']).toBe(0);
    expect(await gauge('parent-offline')).toBe(0);
  });

  it('leaves an alarm disposed as test out of the alarm-performance report', async () => {
    const key = 'plant-1/gc-ru-01/gas-l1';
    const report = async () =>
      (await (await fetch(`${vigil.httpUrl}/api/v1/reports/alarm-performance`)).json()) as {
        mostFrequent: Array<{ key: string }>;
      };
    publish('gc-ru-01', 'telemetry', telemetry({ lel: 30 }));
    const alarm = await wsAlarm(key, candidate => candidate.conditionActive, 'the L1 alarm');
    await waitFor(async () => (await report()).mostFrequent.some(entry => entry.key === key), {
      what: 'the L1 alarm counted',
    });
    const disposed = await post(`/api/v1/alarms/${alarm.id}/dispose`, {
      disposition: 'test',
      note: 'bump test',
    });
    expect(disposed.status).toBe(200);
    await waitFor(async () => !(await report()).mostFrequent.some(entry => entry.key === key), {
      what: 'the test alarm left out',
    });
  });
});

describe('a restart during maintenance keeps the mode and the suppression', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-suppress-restart-'));
  let vigil: (RunningVigil & { mqttUrl: string }) | undefined;
  const detector = 'gc-tf-03';
  const key = `plant-1/${detector}/gas-l2`;
  const alarmOf = async (httpUrl: string) =>
    ((await (await fetch(`${httpUrl}/api/v1/alarms?state=open`)).json()) as Alarm[]).find(
      alarm => alarm.key === key,
    );
  const setMode = (httpUrl: string, mode: string | null) =>
    fetch(`${httpUrl}/api/v1/devices/plant-1/${detector}/maintenance`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ mode, reason: 'sensor replacement' }),
    });

  afterAll(async () => {
    await vigil?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('restores both from the journal, and shows the alarm when maintenance ends after the restart', async () => {
    vigil = await startSystem({ env: { VIGIL_DATA_DIR: dataDir } });
    expect((await setMode(vigil.httpUrl, 'maintenance')).status).toBe(200);
    const mqtt = await mqttClient(vigil.mqttUrl);
    mqtt.publish(`vigil/v1/plant-1/${detector}/telemetry`, telemetry({ lel: 70 }), { qos: 1 });
    const before = await waitFor(() => alarmOf(vigil?.httpUrl ?? ''), { what: 'the L2 alarm' });
    expect(before.suppressed).toBe('maintenance');
    mqtt.end(true);
    await vigil.stop();

    vigil = await startSystem({ env: { VIGIL_DATA_DIR: dataDir } });
    const restored = await alarmOf(vigil.httpUrl);
    expect(restored).toMatchObject({ id: before.id, suppressed: 'maintenance' });
    expect(
      (
        (await (await fetch(`${vigil.httpUrl}/api/v1/alarms/hidden`)).json()) as {
          hidden: Record<string, number>;
        }
      ).hidden['maintenance'],
    ).toBeGreaterThanOrEqual(1);

    expect((await setMode(vigil.httpUrl, null)).status).toBe(200);
    const shown = await waitFor(
      async () => {
        const alarm = await alarmOf(vigil?.httpUrl ?? '');
        return alarm && alarm.suppressed === undefined ? alarm : undefined;
      },
      { what: 'the L2 alarm shown after maintenance ends' },
    );
    expect(shown.history.at(-1)?.action).toBe('unsuppress');
    expect(shown.state).toBe('active-unacknowledged');
  });
});
