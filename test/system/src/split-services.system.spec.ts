import { connect, type MqttClient } from 'mqtt';

import type { RunningVigil } from '@vigil/server';
import {
  influxQuery,
  startInfluxd,
  startMosquitto,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
} from '@vigil/testing';

import { WsRecorder, loginAs, startSystem, telemetry } from './support';

/**
 * Production shape: an external Mosquitto broker, and the services split across two Vigil
 * instances (ingest + rules, persister + gateway) whose streams cross the broker in batches.
 * The device speaks MQTT 5, which the embedded aedes broker cannot.
 */
describe('split services on a real Mosquitto and InfluxDB', () => {
  let influx: InfluxHandle;
  let mosquitto: MosquittoHandle;
  let front: RunningVigil;
  let back: RunningVigil;
  let device: MqttClient;
  let ws: WsRecorder;

  beforeAll(async () => {
    [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
    back = await startSystem({
      influxUrl: influx.url,
      mqttUrl: mosquitto.url,
      services: 'persister,gateway',
    });
    front = await startSystem({
      influxUrl: influx.url,
      mqttUrl: mosquitto.url,
      services: 'ingest,rules',
    });
    device = connect(mosquitto.url, { protocolVersion: 5, clientId: 'device-gt-ru-h2s' });
    await new Promise(resolve => device.once('connect', resolve));
    ws = await WsRecorder.open(back.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await front?.stop();
    await back?.stop();
    await mosquitto?.stop();
    await influx?.stop();
  });

  it('carries a toxic-gas alarm from the ingest process to the gateway process and into InfluxDB', async () => {
    const ts = Date.now();
    // H2S: OEL (MAC) 10 mg/m³ ≈ 7.05 ppm, so 16 ppm is past level 2 (200 % OEL ≈ 14.1 ppm).
    await device.publishAsync(
      'vigil/v1/plant-1/gt-ru-h2s/telemetry',
      telemetry({ ppm: 16 }, 1, ts),
      { qos: 1 },
    );
    const l2 = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'gt-ru-h2s' && m.alarm.level === 'L2'),
      {
        what: 'the H2S L2 alarm at the gateway process',
      },
    );
    expect(l2.alarm).toMatchObject({ priority: 1, value: 16, state: 'active-unacknowledged' });
    expect(l2.alarm.threshold).toBeCloseTo(14.11, 1);

    const rows = await waitFor(
      async () => {
        const result = await influxQuery(
          influx.url,
          'vigil',
          `SELECT ppm FROM "vigil"."raw"."telemetry" WHERE device = 'gt-ru-h2s' AND time >= ${ts}ms AND time <= ${ts}ms`,
        );
        return result.length > 0 ? result : undefined;
      },
      { what: 'the reading written by the persister process', timeoutMs: 10_000 },
    );
    expect(rows).toEqual([expect.objectContaining({ ppm: 16 })]);

    // Ready once the canary has crossed every process (on a loaded machine a hop can be late for a
    // moment, and /readyz says so: that is the canary working, not this test's subject).
    const readiness = await waitFor(
      async () => {
        const body = (await (await fetch(`${back.httpUrl}/readyz`)).json()) as { status?: string };
        return body.status === 'ready' ? body : undefined;
      },
      { what: 'the split services ready', timeoutMs: 30_000 },
    );
    expect(readiness).toMatchObject({
      status: 'ready',
      checks: { broker: true, storage: true, pipeline: true },
      pipeline: { canary: 'ok', stalled: [] },
    });
  });

  it('acknowledges through the gateway process: the command crosses the broker to the rules process', async () => {
    const alarm = ws.alarms().find(m => m.alarm.level === 'L2')?.alarm;
    const li = await loginAs(back.httpUrl, 'li');
    const response = await li.post(`/api/v1/alarms/${alarm?.id}/acknowledge`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      state: 'active-acknowledged',
      acknowledgedBy: 'li',
    });
    const unknown = await fetch(`${back.httpUrl}/api/v1/alarms/no-such-alarm/acknowledge`, {
      method: 'POST',
    });
    expect(unknown.status).toBe(404);
  });

  it('hands over, in the gateway process, the alarm the rules process raised (duty works split)', async () => {
    const alarm = ws.alarms().find(m => m.alarm.level === 'L2')?.alarm;
    const zhang = await loginAs(back.httpUrl, 'zhang');
    const started = await zhang.post('/api/v1/duty/shifts', {
      siteId: 'plant-1',
      roomId: 'control-room',
      lead: 'zhang',
      plannedEnd: Date.now() + 3_600_000,
    });
    expect(started.status).toBe(201);
    const shift = (await started.json()) as { id: string };
    const opened = await zhang.post(`/api/v1/duty/shifts/${shift.id}/hand-over`, {
      notes: 'H2S at the reactor unit',
      incoming: { lead: 'li', plannedEnd: Date.now() + 3_600_000 },
    });
    expect(opened.status).toBe(200);
    const body = (await opened.json()) as { handOver: { snapshot: { items: { id: string }[] } } };
    expect(body.handOver.snapshot.items.map(item => item.id)).toContain(alarm?.id);
  });

  it('a gateway started later loads the alarms already open', async () => {
    const late = await startSystem({
      influxUrl: influx.url,
      mqttUrl: mosquitto.url,
      services: 'gateway',
    });
    try {
      const alarms = (await (
        await fetch(`${late.httpUrl}/api/v1/alarms?state=open`)
      ).json()) as Array<{ deviceId: string }>;
      expect(alarms.map(alarm => alarm.deviceId)).toContain('gt-ru-h2s');
    } finally {
      await late.stop();
    }
  });
});
