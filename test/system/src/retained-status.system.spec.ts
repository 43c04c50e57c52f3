import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RunningVigil } from '@vigil/server';
import { startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { WsRecorder, loginAs, mqttClient, startSystem } from './support';

const OFFLINE_MS = 3_000;
const TOPIC = 'vigil/v1/ret/gc-1';

function registry(dir: string): void {
  writeFileSync(
    join(dir, 'site.json'),
    JSON.stringify({
      organisation: [
        { id: 'city-demo', name: 'City', kind: 'city' },
        { id: 'ent-ret', name: 'Retained Co', kind: 'enterprise', parent: 'city-demo' },
      ],
      sites: [
        {
          id: 'ret',
          name: 'Retained site',
          enterprise: 'ent-ret',
          frame: { width: 100, height: 100 },
          areas: [
            {
              id: 'unit-1',
              name: 'Unit 1',
              kind: 'production',
              polygon: [
                [0, 0],
                [100, 0],
                [100, 100],
                [0, 100],
              ],
            },
          ],
          devices: [
            {
              id: 'gc-1',
              class: 'gas-combustible',
              area: 'unit-1',
              position: [50, 50],
              attributes: { gas: 'CH4' },
              rules: { offline: { timeoutMs: OFFLINE_MS } },
            },
          ],
        },
      ],
    }),
  );
}

/**
 * A retained `status {online: true}` is the device's last known state, not a sign of life (issue 10
 * finding 7). On a real mosquitto (which keeps retained messages across Vigil's restarts): a device
 * publishes it retained, then dies; Vigil raises it offline; Vigil restarts on the same broker and
 * data dir and resubscribes, receiving the retained `online: true`: the device stays offline.
 */
describe('retained status is never liveness', () => {
  let broker: MosquittoHandle;
  let work: string;
  let vigil: RunningVigil | undefined;
  let ws: WsRecorder | undefined;

  beforeAll(async () => {
    broker = await startMosquitto();
    work = mkdtempSync(join(tmpdir(), 'vigil-retained-'));
    registry(work);
  });

  afterAll(async () => {
    ws?.close();
    await vigil?.stop();
    await broker?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const env = () => ({ VIGIL_REGISTRY: work, VIGIL_DATA_DIR: join(work, 'data') });

  it('does not bring a dead device back when ingest resubscribes, and raises it offline on time', async () => {
    vigil = await startSystem({ mqttUrl: broker.url, env: env() });
    ws = await WsRecorder.open(vigil.httpUrl);
    const device = await mqttClient(broker.url, 'gc-1');
    await device.publishAsync(`${TOPIC}/status`, JSON.stringify({ online: true }), {
      qos: 1,
      retain: true,
    });
    // Its last reading published retained too: the broker keeps and re-delivers it as well.
    await device.publishAsync(`${TOPIC}/telemetry`, JSON.stringify({ values: { lel: 1 } }), {
      qos: 1,
      retain: true,
    });
    await device.endAsync(); // dies without a last will: only silence tells
    const offline = () =>
      ws
        ?.alarms()
        .map(message => message.alarm)
        .filter(alarm => alarm.deviceId === 'gc-1' && alarm.ruleId === 'offline') ?? [];
    await waitFor(() => offline().some(alarm => alarm.conditionActive), {
      what: 'gc-1 raised offline',
      timeoutMs: OFFLINE_MS + 10_000,
    });
    ws.close();
    await vigil.stop();

    // Restart on the same broker: the subscription delivers the retained online:true at once.
    vigil = await startSystem({ mqttUrl: broker.url, env: env() });
    ws = await WsRecorder.open(vigil.httpUrl);
    const admin = await loginAs(vigil.httpUrl, 'admin');
    const openOffline = async () =>
      (
        (await (await admin.call('/api/v1/alarms?state=open')).json()) as Array<{
          deviceId: string;
          ruleId: string;
          conditionActive: boolean;
        }>
      ).filter(alarm => alarm.deviceId === 'gc-1' && alarm.ruleId === 'offline');
    // Longer than it takes to subscribe and evaluate the retained message, shorter than a timeout.
    await new Promise(resolve => setTimeout(resolve, 2_000));
    expect(offline().filter(alarm => !alarm.conditionActive)).toEqual([]);
    expect((await openOffline()).map(alarm => alarm.conditionActive)).toEqual([true]);
    // And still offline one full timeout later: nothing re-armed the timer.
    await new Promise(resolve => setTimeout(resolve, OFFLINE_MS + 1_000));
    expect(offline().filter(alarm => !alarm.conditionActive)).toEqual([]);
    expect((await openOffline()).map(alarm => alarm.conditionActive)).toEqual([true]);
    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_ingest_retained_messages_total\{kind="status"\} 1\b/);
    expect(metrics).toMatch(/vigil_ingest_retained_messages_total\{kind="telemetry"\} 1\b/);
  });

  it('raises a device that is dead when Vigil starts on time, whatever its retained status says', async () => {
    await vigil?.stop();
    ws?.close();
    rmSync(join(work, 'data'), { recursive: true, force: true }); // no open alarm to restore
    vigil = await startSystem({ mqttUrl: broker.url, env: env() });
    ws = await WsRecorder.open(vigil.httpUrl);
    await waitFor(
      () =>
        ws
          ?.alarms()
          .some(
            m =>
              m.alarm.deviceId === 'gc-1' &&
              m.alarm.ruleId === 'offline' &&
              m.alarm.conditionActive,
          ) ?? false,
      { what: 'gc-1 raised offline after a fresh start', timeoutMs: OFFLINE_MS + 10_000 },
    );
  });
});
