import { Subject } from 'rxjs';

import type { Alarm, IngestRecord, Reading } from '@vigil/contracts';
import type { RegisteredDevice, Registry } from '@vigil/registry';

import { PipelineBus } from '../bus/pipeline-bus';
import type { RegistryHolder } from '../registry/registry-holder';
import { deviceHealth } from './device-health.controller';
import { LiveDevices } from './live-devices';

function reading(
  deviceId: string,
  ts: number,
  values: Reading['values'],
  receivedAt = ts,
): IngestRecord {
  return {
    kind: 'reading',
    reading: {
      siteId: 'plant-1',
      deviceId,
      deviceClass: 'tag',
      areaId: undefined,
      ts,
      receivedAt,
      seq: undefined,
      deviceTime: true,
      clockSkewMs: 0,
      values,
    },
  };
}

const tag: RegisteredDevice = {
  siteId: 'plant-1',
  deviceId: 'tag-001',
  deviceClass: 'tag',
  name: '张伟',
  areaId: undefined,
  profileId: undefined,
  gatewayId: undefined,
  position: undefined,
  intervalSeconds: 5,
  attributes: {},
  ruleOverrides: [],
};

describe('LiveDevices and device health', () => {
  const bus = new PipelineBus();
  const changes = new Subject<Registry>();
  const live = new LiveDevices(bus, { changes$: changes } as unknown as RegistryHolder);
  afterAll(() => live.onModuleDestroy());

  it('keeps the newest value per metric, ignoring late readings but counting them as signs of life', () => {
    bus.publishRecords([reading('tag-001', 1000, { x: 10, y: 20, battery_pct: 90 })]);
    bus.publishRecords([
      reading('tag-001', 2000, { battery_pct: 89 }),
      reading('tag-001', 1500, { x: 99 }, 2500),
    ]);
    expect(live.get('plant-1', 'tag-001')).toMatchObject({
      lastSeenAt: 2500,
      lastReadingTs: 2000,
      online: true,
      values: { x: 10, y: 20, battery_pct: 89 },
      positionTs: 1000,
    });
    bus.publishRecords([
      {
        kind: 'status',
        status: {
          siteId: 'plant-1',
          deviceId: 'tag-001',
          deviceClass: 'tag',
          online: false,
          ts: 3000,
          receivedAt: 3000,
        },
      },
    ]);
    expect(live.get('plant-1', 'tag-001')?.online).toBe(false);
  });

  it('forgets devices a registry reload removed', () => {
    bus.publishRecords([reading('tag-009', 1000, { x: 1, y: 1 })]);
    changes.next({
      device: (_site: string, id: string) => (id === 'tag-001' ? tag : undefined),
    } as unknown as Registry);
    expect(live.get('plant-1', 'tag-009')).toBeUndefined();
    expect(live.get('plant-1', 'tag-001')).toBeDefined();
  });

  it('classifies health: offline, data-quality fault, stale after 2 intervals, unknown, low battery', () => {
    const state = {
      lastSeenAt: 10_000,
      lastReadingTs: 10_000,
      online: true,
      clockSkewMs: 0,
      values: { battery_pct: 15 },
      positionTs: 10_000,
    };
    const quality = (ruleId: string) =>
      ({ id: ruleId, ruleId, category: 'quality', priority: 3, level: ruleId }) as unknown as Alarm;
    expect(deviceHealth(tag, state, [], 15_000)).toMatchObject({
      status: 'ok',
      silentMs: 5000,
      battery: 15,
      lowBattery: true,
    });
    expect(deviceHealth(tag, state, [], 20_001).status).toBe('stale');
    expect(deviceHealth(tag, state, [quality('stuck')], 15_000).status).toBe('fault');
    expect(deviceHealth(tag, state, [quality('offline'), quality('stuck')], 15_000).status).toBe(
      'offline',
    );
    expect(deviceHealth(tag, { ...state, online: false }, [], 15_000).status).toBe('offline');
    expect(deviceHealth(tag, undefined, [], 15_000)).toMatchObject({
      status: 'unknown',
      lastSeenAt: undefined,
    });
  });
});
