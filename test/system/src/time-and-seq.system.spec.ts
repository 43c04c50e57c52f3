import type { MqttClient } from 'mqtt';

import type { RunningVigil } from '@vigil/server';
import { startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { WsRecorder, mqttClient, startSystem } from './support';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function metric(vigil: RunningVigil, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

/**
 * Time and sequence never blind a detector (issue 10 finding 6), on a real mosquitto and Vigil's
 * whole path: readings from a clock ahead of the server's are evaluated on server time and flagged,
 * and a seq counter that restarts without `ts` is recognised, not dropped as duplicates.
 */
describe('time and sequence', () => {
  let broker: MosquittoHandle;
  let vigil: RunningVigil;
  let ws: WsRecorder;
  let device: MqttClient;
  let second: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    vigil = await startSystem({ mqttUrl: broker.url });
    ws = await WsRecorder.open(vigil.httpUrl);
    device = await mqttClient(broker.url);
    second = await mqttClient(broker.url);
  });

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await second?.endAsync();
    await vigil?.stop();
    await broker?.stop();
  });

  const l2 = (deviceId: string) =>
    ws.alarms().some(m => m.alarm.deviceId === deviceId && m.alarm.level === 'L2');

  it('raises L2 on readings at 80 %LEL while a second source stamps its readings 59 s ahead', async () => {
    const topic = 'vigil/v1/plant-1/gc-tf-03/telemetry';
    // Both sources every 250 ms for 10 s, the one from the future first each time. Before the fix
    // the future readings held the watermark 59 s ahead and every real one was "late".
    for (let round = 0; round < 40 && !l2('gc-tf-03'); round += 1) {
      await second.publishAsync(
        topic,
        JSON.stringify({ ts: Date.now() + 59_000, values: { lel: 0 } }),
        { qos: 1 },
      );
      await device.publishAsync(topic, JSON.stringify({ ts: Date.now(), values: { lel: 80 } }), {
        qos: 1,
      });
      await sleep(250);
    }
    await waitFor(() => l2('gc-tf-03'), { what: 'L2 on gc-tf-03', timeoutMs: 5_000 });
    expect(
      await metric(vigil, /vigil_ingest_clock_corrected_total\{reason="future"\} (\d+)/),
    ).toBeGreaterThan(0);
  });

  it('raises L2 on readings at 80 %LEL from a device that restarted its seq without ts', async () => {
    const topic = 'vigil/v1/plant-1/gc-tf-02/telemetry';
    const send = (seq: number, lel: number) =>
      device.publishAsync(topic, JSON.stringify({ seq, values: { lel } }), { qos: 1 });
    for (let seq = 0; seq <= 10; seq += 1) await send(seq, 2);
    await sleep(2_000); // the device reboots
    for (let seq = 0; seq <= 10; seq += 1) {
      await send(seq, 80);
      await sleep(100);
    }
    await waitFor(() => l2('gc-tf-02'), { what: 'L2 on gc-tf-02', timeoutMs: 5_000 });
    expect(await metric(vigil, /vigil_ingest_seq_restarts_total (\d+)/)).toBe(1);
    expect(await metric(vigil, /vigil_ingest_duplicate_samples_total (\d+)/)).toBe(0);
  });
});
