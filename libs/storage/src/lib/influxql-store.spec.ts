import { createServer, type Server, type Socket } from 'node:net';

import type { Alarm, AlarmAction, Reading } from '@vigil/contracts';
import { startInfluxd, type InfluxHandle } from '@vigil/testing';

import { InfluxV1Store } from './influx-v1-store';
import { createAlarmEventEncoder, readingLine, toWriteChunks } from './schema';
import { StoreQueryError } from './telemetry-store';

// Integration: the port's named reads (history, reports) on a real influxd 1.6.7, over points the
// persister's encoders wrote: the InfluxQL built from schema.ts finds what the writers stored.
jest.setTimeout(60_000);

// Whole seconds, ten minutes back: inside the 30-day raw policy and clear of "now".
const BASE = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;

const reading = (deviceId: string, i: number, ppm: number): Reading => ({
  siteId: 'plant-1',
  deviceId,
  deviceClass: 'gas-toxic',
  areaId: 'tank-farm',
  ts: BASE + i * 1000,
  receivedAt: BASE + i * 1000,
  seq: undefined,
  deviceTime: true,
  clockSkewMs: 0,
  values: { ppm },
});

const alarm = (overrides: Partial<Alarm>): Alarm => ({
  id: 'a-1',
  key: 'plant-1/gt-1/gas-h2s',
  ruleId: 'gas-h2s',
  siteId: 'plant-1',
  deviceId: 'gt-1',
  deviceClass: 'gas-toxic',
  areaId: 'tank-farm',
  category: 'process',
  priority: 1,
  level: 'L2',
  state: 'active-unacknowledged',
  conditionActive: true,
  latched: false,
  metric: 'ppm',
  value: 21,
  threshold: 20,
  message: 'H2S 21 ppm ≥ 20 ppm',
  raisedAt: BASE,
  clearedAt: undefined,
  acknowledgedAt: undefined,
  acknowledgedBy: undefined,
  updatedAt: BASE,
  detectedAt: BASE,
  history: [],
  ...overrides,
});

const act = (action: AlarmAction['action'], at: number, note?: string): AlarmAction => ({
  action,
  at,
  by: 'op-1',
  note,
});

describe('InfluxQLStore reads on a real influxd', () => {
  let influx: InfluxHandle | undefined;
  let store: InfluxV1Store;

  beforeAll(async () => {
    influx = await startInfluxd();
    store = new InfluxV1Store({ url: influx.url, requestTimeoutMs: 5_000 });
    await store.ensureSchema();
    const encode = createAlarmEventEncoder();
    const lines = [
      ...[1, 2, 3, 4, 5, 6].map(i => readingLine(reading('gt-1', i, i * 10))),
      readingLine(reading('gt-2', 1, 99)),
      encode(alarm({}), act('raise', BASE + 1000)),
      encode(alarm({ state: 'active-acknowledged' }), act('acknowledge', BASE + 2000)),
      encode(
        alarm({ id: 'a-2', siteId: 'plant-2', deviceId: 'ft-1', ruleId: 'fire', priority: 2 }),
        act('raise', BASE + 3000),
      ),
      encode(
        alarm({ id: 'a-2', siteId: 'plant-2', deviceId: 'ft-1', ruleId: 'fire', priority: 2 }),
        act('dispose', BASE + 4000, 'test: drill'),
      ),
    ];
    await store.write(toWriteChunks(lines));
  });

  afterAll(async () => {
    await influx?.stop();
  });

  const range = { from: BASE, to: BASE + 60_000 };

  it('reads one metric of one device raw, oldest first, the newest `limit` points', async () => {
    const series = await store.telemetrySeries({
      ...range,
      siteId: 'plant-1',
      deviceId: 'gt-1',
      metric: 'ppm',
      bucketMs: 0,
      limit: 4,
    });
    expect(series).toEqual([3, 4, 5, 6].map(i => ({ time: BASE + i * 1000, value: i * 10 })));
  });

  it('reads mean, min and max per bucket, empty buckets left out', async () => {
    const series = await store.telemetrySeries({
      ...range,
      siteId: 'plant-1',
      deviceId: 'gt-1',
      metric: 'ppm',
      bucketMs: 3000,
      limit: 4,
    });
    expect(series).toEqual([
      { time: BASE, value: 15, min: 10, max: 20 },
      { time: BASE + 3000, value: 40, min: 30, max: 50 },
      { time: BASE + 6000, value: 60, min: 60, max: 60 },
    ]);
  });

  it('reads alarm transitions newest first, filtered, decoded', async () => {
    const all = await store.alarmHistory({ ...range, limit: 10 });
    expect(all.map(event => `${event.alarmId}:${event.action}`)).toEqual([
      'a-2:dispose',
      'a-2:raise',
      'a-1:acknowledge',
      'a-1:raise',
    ]);
    expect(all[3]).toMatchObject({
      time: BASE + 1000,
      siteId: 'plant-1',
      deviceId: 'gt-1',
      ruleId: 'gas-h2s',
      priority: 1,
      category: 'process',
      state: 'active-unacknowledged',
      active: true,
      value: 21,
      threshold: 20,
      by: 'op-1',
    });
    const plant2 = await store.alarmHistory({ ...range, limit: 10, sites: ['plant-2'] });
    expect(plant2.map(event => event.action)).toEqual(['dispose', 'raise']);
    const p1 = await store.alarmHistory({ ...range, limit: 10, priority: 1, ruleId: 'gas-h2s' });
    expect(p1.map(event => event.action)).toEqual(['acknowledge', 'raise']);
    expect(await store.alarmHistory({ ...range, limit: 10, sites: [] })).toEqual([]);
    expect(await store.alarmHistory({ ...range, limit: 1 })).toHaveLength(1);
  });

  it('reads the activations and the alarms disposed as test for the reports', async () => {
    expect(await store.alarmRaises(range)).toEqual([
      {
        at: BASE + 1000,
        alarmId: 'a-1',
        siteId: 'plant-1',
        deviceId: 'gt-1',
        ruleId: 'gas-h2s',
        priority: 1,
        category: 'process',
      },
      {
        at: BASE + 3000,
        alarmId: 'a-2',
        siteId: 'plant-2',
        deviceId: 'ft-1',
        ruleId: 'fire',
        priority: 2,
        category: 'process',
      },
    ]);
    expect(await store.alarmRaises({ from: BASE + 2000, to: BASE + 60_000 })).toHaveLength(1);
    expect(await store.testAlarmIds(BASE)).toEqual(['a-2']);
    expect(await store.testAlarmIds(BASE + 5000)).toEqual([]);
    const responses = await store.alarmResponses(range);
    expect(responses).toEqual([
      { at: BASE + 2000, alarmId: 'a-1', action: 'acknowledge' },
      { at: BASE + 4000, alarmId: 'a-2', action: 'dispose' },
    ]);
    expect(await store.alarmResponses({ from: BASE + 3000, to: BASE + 60_000 })).toHaveLength(1);
  });

  it('rejects with StoreQueryError when the database is missing (history reads it as "none yet")', async () => {
    const other = new InfluxV1Store({ url: influx?.url ?? '', database: 'nothing_here' });
    const read = other.alarmHistory({ ...range, limit: 1 });
    await expect(read).rejects.toBeInstanceOf(StoreQueryError);
    await expect(read).rejects.toThrow(/database not found/);
  });
});

describe('a read with its own timeout', () => {
  let server: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise(resolve => server.close(resolve));
  });

  it('gives up after the call’s timeoutMs, not the store’s, and says the server did not answer', async () => {
    // Accepts and never answers: a hung InfluxDB.
    server = createServer(socket => sockets.push(socket));
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const store = new InfluxV1Store({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 600_000 });
    const read = store.testAlarmIds(0, { timeoutMs: 200 });
    await expect(read).rejects.toMatchObject({ name: 'StoreQueryError', unreachable: true });
    expect(await store.check({ timeoutMs: 200 })).toMatchObject({ ok: false, kind: 'unreachable' });
  });
});
