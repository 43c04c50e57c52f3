import type { MqttClient } from 'mqtt';

import type { RunningVigil } from '@vigil/server';
import { waitFor } from '@vigil/testing';

import { mqttClient, startSystem, telemetry } from './support';

/**
 * The console's read-side endpoints in one in-process Vigil without InfluxDB: what they answer
 * from live data, how they refuse bad parameters, and that history says plainly it is not kept.
 */
describe('console API: positions, muster, risk, device health, history', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let mqtt: MqttClient;
  const get = async (path: string) => {
    const response = await fetch(`${vigil.httpUrl}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    vigil = await startSystem();
    mqtt = await mqttClient(vigil.mqttUrl);
  });

  afterAll(async () => {
    mqtt?.end(true);
    await vigil?.stop();
  });

  it('tracks tag positions and lists the people in and near an area', async () => {
    mqtt.publish(
      'vigil/v1/plant-1/tag-001/telemetry',
      telemetry({ x: 100, y: 200, floor: 0, battery_pct: 12 }),
    );
    mqtt.publish(
      'vigil/v1/plant-1/tag-002/telemetry',
      telemetry({ x: 220, y: 200, floor: 0, battery_pct: 80 }),
    );
    mqtt.publish(
      'vigil/v1/plant-1/tag-003/telemetry',
      telemetry({ x: 380, y: 20, floor: 0, battery_pct: 80 }),
    );
    const positions = await waitFor(
      async () => {
        const { body } = await get('/api/v1/positions?site=plant-1');
        const tags =
          (body['sites'] as Array<{ tags: Array<{ deviceId: string; areaId?: string }> }>)[0]
            ?.tags ?? [];
        return tags.length === 3 ? tags : undefined;
      },
      { what: 'three tag positions' },
    );
    expect(positions.find(tag => tag.deviceId === 'tag-001')?.areaId).toBe('tank-farm');

    const { status, body } = await get('/api/v1/areas/plant-1/tank-farm/muster');
    expect(status).toBe(200);
    expect(body).toMatchObject({ radiusM: 50, inside: 1, maxPeople: 3 });
    // tag-002 stands in the reactor unit, 40 m from the tank farm's edge; tag-003 is far away.
    expect(
      (body['people'] as Array<{ deviceId: string; distanceM: number }>).map(p => [
        p.deviceId,
        p.distanceM,
      ]),
    ).toEqual([
      ['tag-001', 0],
      ['tag-002', 40],
    ]);
    expect((await get('/api/v1/areas/plant-1/nowhere/muster')).status).toBe(404);
  });

  it('reports device health with battery, and the dynamic risk raised by a live alarm', async () => {
    const health = await get('/api/v1/devices/health?site=plant-1');
    const devices = health.body['devices'] as Array<{
      deviceId: string;
      status: string;
      lowBattery: boolean;
    }>;
    expect(devices).toHaveLength(24);
    expect(devices.find(device => device.deviceId === 'tag-001')).toMatchObject({
      status: 'ok',
      lowBattery: true,
    });
    expect((await get('/api/v1/devices/plant-1/tag-001/live')).body['values']).toMatchObject({
      x: 100,
      battery_pct: 12,
    });

    // Loading bay is yellow by nature; a level-2 leak there makes it red, up to the city.
    mqtt.publish('vigil/v1/plant-1/gc-lb-01/telemetry', telemetry({ lel: 70 }));
    interface Node {
      readonly key: string;
      readonly level: string;
      readonly inherent: string;
      readonly children: readonly Node[];
    }
    const find = (nodes: readonly Node[], key: string): Node | undefined =>
      nodes.map(node => (node.key === key ? node : find(node.children, key))).find(Boolean);
    const roots = await waitFor(
      async () => {
        const nodes = (await get('/api/v1/risk')).body['roots'] as Node[];
        return find(nodes, 'area:plant-1/loading-bay')?.level === 'red' ? nodes : undefined;
      },
      { what: 'the loading bay raised to red' },
    );
    expect(find(roots, 'area:plant-1/loading-bay')?.inherent).toBe('yellow');
    expect(roots.map(root => [root.key, root.level])).toEqual([['city:city-demo', 'red']]);
  });

  it('refuses bad parameters with 400 and says plainly that history is not kept (503)', async () => {
    const badHistory = await get('/api/v1/history/alarms?from=10&to=5&limit=0');
    expect(badHistory.status).toBe(400);
    expect(badHistory.body['issues']).toEqual(
      expect.arrayContaining([expect.stringMatching(/^limit:/)]),
    );
    const badMetric = await get('/api/v1/telemetry/plant-1/gc-tf-01?metric=ppm');
    expect(badMetric).toMatchObject({ status: 400 });
    expect((await get('/api/v1/telemetry/plant-1/nope')).status).toBe(404);

    const history = await get('/api/v1/history/alarms');
    expect(history.status).toBe(503);
    expect(history.body['message']).toMatch(/history is not kept: InfluxDB is switched off/);
    expect((await get('/api/v1/telemetry/plant-1/gc-tf-01?metric=lel')).status).toBe(503);
  });
});
