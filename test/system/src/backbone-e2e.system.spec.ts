import { connect, type MqttClient } from 'mqtt';

import type { RunningVigil } from '@vigil/server';
import {
  influxQuery,
  startInfluxd,
  startMosquitto,
  startNats,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import { WsRecorder, loginAs, startSystem, telemetry } from './support';

/**
 * Production shape on the durable backbone: Mosquitto for devices, NATS JetStream between the
 * services, each service on its own (ingest, rules, persister, gateway), InfluxDB for history.
 * The whole path end to end: a reading becomes an alarm at the gateway and a row in InfluxDB,
 * an acknowledgement crosses back to the rules owner, a gateway started later shows what is open.
 */
describe('split services on NATS JetStream (VIGIL_BUS=jetstream)', () => {
  let influx: InfluxHandle;
  let mosquitto: MosquittoHandle;
  let nats: NatsHandle;
  const running: RunningVigil[] = [];
  let gateway: RunningVigil;
  let device: MqttClient;
  let ws: WsRecorder;

  const start = async (services: string) => {
    const system = await startSystem({
      influxUrl: influx.url,
      mqttUrl: mosquitto.url,
      services,
      env: { VIGIL_BUS: 'jetstream', VIGIL_NATS_URL: nats.url, VIGIL_INSTANCE: services },
    });
    running.push(system);
    return system;
  };

  beforeAll(async () => {
    [influx, mosquitto, nats] = await Promise.all([startInfluxd(), startMosquitto(), startNats()]);
    gateway = await start('gateway');
    await start('persister');
    await start('rules');
    await start('ingest');
    device = connect(mosquitto.url, { protocolVersion: 5, clientId: 'device-gt-ru-h2s' });
    await new Promise(resolve => device.once('connect', resolve));
    ws = await WsRecorder.open(gateway.httpUrl);
  }, 60_000);

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    for (const system of running.reverse()) await system.stop();
    await nats?.stop();
    await mosquitto?.stop();
    await influx?.stop();
  });

  it('carries a toxic-gas alarm from ingest through the streams to the gateway and into InfluxDB', async () => {
    const ts = Date.now();
    await device.publishAsync(
      'vigil/v1/plant-1/gt-ru-h2s/telemetry',
      telemetry({ ppm: 16 }, 1, ts),
      { qos: 1 },
    );
    const l2 = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'gt-ru-h2s' && m.alarm.level === 'L2'),
      { what: 'the H2S L2 alarm at the gateway', timeoutMs: 15_000 },
    );
    expect(l2.alarm).toMatchObject({ priority: 1, value: 16, state: 'active-unacknowledged' });

    const rows = await waitFor(
      async () => {
        const result = await influxQuery(
          influx.url,
          'vigil',
          `SELECT ppm FROM "vigil"."raw"."telemetry" WHERE device = 'gt-ru-h2s' AND time >= ${ts}ms AND time <= ${ts}ms`,
        );
        return result.length > 0 ? result : undefined;
      },
      { what: 'the reading written by the persister', timeoutMs: 15_000 },
    );
    expect(rows).toEqual([expect.objectContaining({ ppm: 16 })]);
    const events = await waitFor(
      async () => {
        const result = await influxQuery(
          influx.url,
          'vigil',
          `SELECT * FROM "vigil"."events"."alarm_event" WHERE device = 'gt-ru-h2s'`,
        );
        return result.length > 0 ? result : undefined;
      },
      { what: 'the alarm event written by the persister', timeoutMs: 15_000 },
    );
    expect(events.length).toBeGreaterThanOrEqual(1);

    await waitFor(
      async () => {
        const readiness = (await (await fetch(`${gateway.httpUrl}/readyz`)).json()) as {
          status: string;
          pipeline?: { canary: string };
        };
        return readiness.status === 'ready' && readiness.pipeline?.canary === 'ok';
      },
      { what: 'the gateway ready with the canary through every hop', timeoutMs: 20_000 },
    );
  });

  it('acknowledges through the gateway: the command reaches the rules owner of the site', async () => {
    const alarm = ws.alarms().find(m => m.alarm.level === 'L2')?.alarm;
    const li = await loginAs(gateway.httpUrl, 'li');
    const response = await li.post(`/api/v1/alarms/${alarm?.id}/acknowledge`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      state: 'active-acknowledged',
      acknowledgedBy: 'li',
    });
    await waitFor(
      () =>
        ws.alarms().some(m => m.alarm.id === alarm?.id && m.alarm.state === 'active-acknowledged'),
      { what: 'the acknowledged alarm on the WebSocket' },
    );
  });

  it('a gateway started later shows the alarms already open', async () => {
    const late = await start('gateway');
    const alarms = await waitFor(
      async () => {
        const list = (await (
          await fetch(`${late.httpUrl}/api/v1/alarms?state=open`)
        ).json()) as Array<{ deviceId: string; state: string }>;
        return list.some(alarm => alarm.deviceId === 'gt-ru-h2s') ? list : undefined;
      },
      { what: 'the open alarm at the late gateway' },
    );
    expect(alarms.find(alarm => alarm.deviceId === 'gt-ru-h2s')?.state).toBe('active-acknowledged');
  });
});
