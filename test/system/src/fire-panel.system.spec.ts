import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm } from '@vigil/contracts';
import type { RunningVigil } from '@vigil/server';
import { influxQuery, startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { WsRecorder, mqttClient, startSystem, telemetry } from './support';

/**
 * Issue 10 finding 9 on real parts (embedded broker, real influxd, the all-in-one Vigil): a GB 26875
 * fire panel's events carry loop/point/zone addresses; every concurrent fire is its own P1 at its
 * point's area from the registry (not one alarm per panel at the panel), the muster list comes from
 * the fire's area, a panel reset clears fires but not isolations or power faults, and device-side
 * electrical-fire alarms are alarms of their own with the device's level. Before this change the
 * second fire raised nothing and both were "at the control room".
 */
describe('fire panels and device-side alarms: MQTT → rules → WebSocket and InfluxDB', () => {
  let influx: InfluxHandle;
  let vigil: RunningVigil & { mqttUrl: string };
  let device: MqttClient;
  let ws: WsRecorder;
  const panel = (code: string, detail?: Record<string, unknown>) =>
    device.publishAsync(
      'vigil/v1/plant-1/fp-main/event',
      JSON.stringify({ ts: Date.now(), code, ...(detail ? { detail } : {}) }),
      { qos: 1 },
    );
  /** The newest state of every alarm of a device, by key. */
  const latest = (deviceId: string): Map<string, Alarm> => {
    const byKey = new Map<string, Alarm>();
    for (const { alarm } of ws.alarms())
      if (alarm.deviceId === deviceId) byKey.set(alarm.key, alarm);
    return byKey;
  };

  beforeAll(async () => {
    influx = await startInfluxd();
    vigil = await startSystem({ influxUrl: influx.url });
    device = await mqttClient(vigil.mqttUrl);
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await vigil?.stop();
    await influx?.stop();
  });

  it('raises one P1 per concurrent fire, each at its point’s area, with the muster list of that area', async () => {
    // Someone is in the tank farm: the muster list of the fire's area must name them.
    await device.publishAsync(
      'vigil/v1/plant-1/tag-001/telemetry',
      telemetry({ x: 70, y: 210, floor: 0, battery_pct: 90 }),
      { qos: 1 },
    );
    await panel('fire', { loop: 1, point: 23, zone: 1 });
    await panel('fire', { loop: 2, point: 7 });
    await panel('fire', { loop: 1, point: 23, zone: 1 }); // the same point again: nothing new

    const fires = await waitFor(
      () => {
        const found = [...latest('fp-main').values()].filter(alarm => alarm.ruleId === 'fire');
        return found.length >= 2 ? found : undefined;
      },
      { what: 'two fire alarms over WebSocket', timeoutMs: 10_000 },
    );
    expect(
      fires.map(alarm => [alarm.key, alarm.priority, alarm.areaId, alarm.location?.point]).sort(),
    ).toEqual([
      ['plant-1/fp-main/fire/L1.P23', 1, 'tank-farm', '23'],
      ['plant-1/fp-main/fire/L2.P7', 1, 'reactor-unit', '7'],
    ]);
    const tankFarm = fires.find(alarm => alarm.areaId === 'tank-farm');
    expect(tankFarm?.location).toMatchObject({ loop: '1', zone: '1', name: '罐区感烟 1-23' });
    expect(tankFarm?.location?.position).toEqual([60, 205]);
    // Exactly one raise per point, however often the panel repeats it.
    const raises = ws
      .alarms()
      .filter(({ alarm }) => alarm.key === 'plant-1/fp-main/fire/L1.P23')
      .map(({ alarm }) => alarm.history.filter(entry => entry.action === 'raise').length);
    expect(Math.max(...raises)).toBe(1);

    const muster = await waitFor(
      async () => {
        const response = await fetch(
          `${vigil.httpUrl}/api/v1/areas/plant-1/${tankFarm?.areaId}/muster`,
        );
        const body = (await response.json()) as { people: Array<{ deviceId: string }> };
        return body.people.length > 0 ? body.people : undefined;
      },
      { what: 'the muster list of the fire’s area' },
    );
    expect(muster.map(person => person.deviceId)).toContain('tag-001');
    // …and the site rules raise people-present for the fire's area (not the control room's).
    const present = await waitFor(
      () =>
        ws
          .alarms()
          .find(m => m.alarm.ruleId === 'people-present' && m.alarm.areaId === 'tank-farm'),
      { what: 'people-present in the tank farm', timeoutMs: 10_000 },
    );
    expect(present.alarm.members).toContain('tag-001');

    // Stored with the point's location and area, one series per rule as before.
    const stored = await waitFor(
      async () => {
        const rows = await influxQuery(
          influx.url,
          'vigil',
          `SELECT area, location FROM "vigil"."events"."alarm_event" WHERE device = 'fp-main' AND rule = 'fire'`,
        );
        return rows.length >= 2 ? rows : undefined;
      },
      { what: 'the fire alarm events in InfluxDB', timeoutMs: 10_000 },
    );
    expect(stored.map(row => row['area']).sort()).toEqual(['reactor-unit', 'tank-farm']);
  });

  it('confirms a fire when a second detector of the same zone reports within its window', async () => {
    await panel('fire', { loop: 1, point: 24 });
    const confirmed = await waitFor(
      () => latest('fp-main').get('plant-1/fp-main/fire/confirmed.Z1'),
      { what: 'the confirmed fire of zone 1', timeoutMs: 10_000 },
    );
    expect(confirmed).toMatchObject({
      priority: 1,
      level: 'confirmed',
      areaId: 'tank-farm',
      members: ['L1.P23', 'L1.P24'],
    });
  });

  it('keeps isolations, power faults and manual mode through a panel reset; clears the fires', async () => {
    await panel('isolation', { loop: 1, point: 25 });
    await panel('mains_fault');
    await panel('manual_mode');
    await waitFor(
      () => {
        const alarms = latest('fp-main');
        return ['isolation/L1.P25', 'mains-fault', 'manual-mode'].every(key =>
          alarms.has(`plant-1/fp-main/${key}`),
        )
          ? true
          : undefined;
      },
      { what: 'isolation, mains fault and manual mode', timeoutMs: 10_000 },
    );
    await panel('reset');
    const alarms = await waitFor(
      () => {
        const now = latest('fp-main');
        return now.get('plant-1/fp-main/fire/L2.P7')?.conditionActive === false ? now : undefined;
      },
      { what: 'the fires cleared by the reset', timeoutMs: 10_000 },
    );
    expect(alarms.get('plant-1/fp-main/fire/L1.P23')?.conditionActive).toBe(false);
    expect(alarms.get('plant-1/fp-main/fire/confirmed.Z1')?.conditionActive).toBe(false);
    expect(alarms.get('plant-1/fp-main/isolation/L1.P25')).toMatchObject({
      conditionActive: true,
      priority: 2,
      areaId: 'tank-farm',
    });
    expect(alarms.get('plant-1/fp-main/mains-fault')).toMatchObject({
      conditionActive: true,
      priority: 2,
    });
    expect(alarms.get('plant-1/fp-main/manual-mode')?.conditionActive).toBe(true);
  });

  it('takes an electrical-fire monitor’s own alarm with its level, per channel, and an arc fault at once', async () => {
    const monitor = (code: string, detail: Record<string, unknown>) =>
      device.publishAsync(
        'vigil/v1/plant-1/ef-ru-mcc/event',
        JSON.stringify({ ts: Date.now(), code, detail }),
        { qos: 1 },
      );
    await monitor('alarm', { level: 'pre-alarm', channel: 2 });
    await waitFor(() => latest('ef-ru-mcc').get('plant-1/ef-ru-mcc/device-alarm/C2'), {
      what: 'the pre-alarm',
      timeoutMs: 10_000,
    });
    await monitor('alarm', { level: 'alarm', channel: 2 });
    await monitor('arc_fault', { channel: 1 });
    const alarms = await waitFor(
      () => {
        const now = latest('ef-ru-mcc');
        return now.get('plant-1/ef-ru-mcc/device-alarm/C2')?.level === 'alarm' &&
          now.has('plant-1/ef-ru-mcc/arc-fault/C1')
          ? now
          : undefined;
      },
      { what: 'the escalated alarm and the arc fault', timeoutMs: 10_000 },
    );
    expect(alarms.get('plant-1/ef-ru-mcc/device-alarm/C2')).toMatchObject({
      priority: 2,
      level: 'alarm',
      latched: true,
      location: { channel: '2' },
    });
    expect(alarms.get('plant-1/ef-ru-mcc/arc-fault/C1')).toMatchObject({ priority: 2 });
  });
});

describe('fire-panel points across a restart', () => {
  it('a panel reset after a restart still clears the fires restored from the alarm journal', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-firepanel-restart-'));
    const env = { VIGIL_DATA_DIR: dataDir };
    let vigil = await startSystem({ env });
    let device = await mqttClient(vigil.mqttUrl);
    let ws = await WsRecorder.open(vigil.httpUrl);
    try {
      await device.publishAsync(
        'vigil/v1/plant-1/fp-main/event',
        JSON.stringify({ ts: Date.now(), code: 'fire', detail: { loop: 2, point: 8 } }),
        { qos: 1 },
      );
      await waitFor(() => ws.alarms().find(m => m.alarm.key === 'plant-1/fp-main/fire/L2.P8'), {
        what: 'the fire before the restart',
        timeoutMs: 10_000,
      });
    } finally {
      ws.close();
      await device.endAsync();
      await vigil.stop();
    }

    vigil = await startSystem({ env });
    device = await mqttClient(vigil.mqttUrl);
    ws = await WsRecorder.open(vigil.httpUrl);
    try {
      await device.publishAsync(
        'vigil/v1/plant-1/fp-main/event',
        JSON.stringify({ ts: Date.now(), code: 'reset' }),
        { qos: 1 },
      );
      const cleared = await waitFor(
        () =>
          ws
            .alarms()
            .find(m => m.alarm.key === 'plant-1/fp-main/fire/L2.P8' && !m.alarm.conditionActive),
        { what: 'the restored fire cleared by the reset', timeoutMs: 10_000 },
      );
      expect(cleared.alarm).toMatchObject({ areaId: 'reactor-unit', latched: true });
    } finally {
      ws.close();
      await device.endAsync();
      await vigil.stop();
    }
  });
});
