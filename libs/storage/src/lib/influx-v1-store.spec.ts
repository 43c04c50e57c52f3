import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';

import type { Alarm, AlarmAction, DeviceEvent, DeviceStatus, Reading } from '@vigil/contracts';
import {
  influxQuery,
  startInfluxd,
  waitFor,
  type InfluxHandle,
  type InfluxRow,
} from '@vigil/testing';

import { BatchingWriter, type WriteErrorContext } from './batching-writer';
import { InfluxV1Store } from './influx-v1-store';
import { encodeLine, msToNs, type FieldValue } from './line-protocol';
import {
  createAlarmEventEncoder,
  deviceEventLine,
  deviceStatusLine,
  readingLine,
  encodeChunks,
  toWriteChunks,
  type WriteLine,
} from './schema';
import { StoreQueryError } from './telemetry-store';

// Integration: a real influxd 1.6.7 started by @vigil/testing (CI installs Debian's influxdb).
jest.setTimeout(60_000);

const DAY_MS = 86_400_000;
// Whole seconds, a minute back: inside the 30-day raw policy and clear of "now".
const BASE = Math.floor(Date.now() / 1_000) * 1_000 - 60_000;
const between = (from: number, to: number): string => `time >= ${from}ms AND time < ${to}ms`;

function reading(deviceId: string, i: number, overrides: Partial<Reading> = {}): Reading {
  return {
    siteId: 'plant-1',
    deviceId,
    deviceClass: 'gas-toxic',
    areaId: deviceId === 'gt-3' ? undefined : 'tank-farm',
    ts: BASE + i * 10,
    receivedAt: BASE + i * 10 + 3,
    seq: i,
    deviceTime: true,
    clockSkewMs: 0,
    values: { ppm: i + 0.25, still: i % 2 === 0 },
    ...overrides,
  };
}

const alarm: Alarm = {
  id: 'alarm-1',
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
  value: 21.5,
  threshold: 20,
  message: 'H2S 21.5 ppm ≥ 20 ppm',
  raisedAt: BASE,
  clearedAt: undefined,
  acknowledgedAt: undefined,
  acknowledgedBy: undefined,
  updatedAt: BASE,
  detectedAt: BASE + 2,
  history: [],
};

const act = (action: AlarmAction['action'], at: number, by?: string): AlarmAction => ({
  action,
  at,
  by,
  note: undefined,
});

describe('InfluxV1Store + BatchingWriter against a real influxd', () => {
  let dataDir: string;
  let influx: InfluxHandle | undefined;
  let store: InfluxV1Store;
  let errors: { error: unknown; context: WriteErrorContext }[];

  const url = (): string => {
    if (!influx) throw new Error('influxd is not running');
    return influx.url;
  };
  const query = (influxql: string): Promise<InfluxRow[]> => influxQuery(url(), 'vigil', influxql);
  const newWriter = (
    options: ConstructorParameters<typeof BatchingWriter>[1] = {},
  ): BatchingWriter =>
    new BatchingWriter(store, {
      flushIntervalMs: 20,
      retryInitialMs: 50,
      retryMaxMs: 250,
      onError: (error, context) => errors.push({ error, context }),
      ...options,
    });

  beforeAll(async () => {
    // Our own folder, so that influxd can be stopped and started again on the same data.
    dataDir = await mkdtemp(join(tmpdir(), 'vigil-storage-it-'));
    influx = await startInfluxd({ dataDir });
    store = new InfluxV1Store({ url: influx.url, requestTimeoutMs: 2_000 });
  });

  beforeEach(() => {
    errors = [];
  });

  afterAll(async () => {
    await influx?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates the database and retention policies idempotently and corrects changed durations', async () => {
    // Readiness is an authenticated query on the database: not ready before it exists.
    expect(await store.check()).toMatchObject({ ok: false, kind: 'database-missing' });
    await store.ensureSchema();
    await store.ensureSchema();
    expect(await store.ping()).toBe(true);
    const policies = async (): Promise<InfluxRow[]> =>
      (await query('SHOW RETENTION POLICIES ON "vigil"')).filter(
        row => row['name'] !== 'autogen' && row['name'] !== 'trend',
      );
    expect(await policies()).toEqual([
      expect.objectContaining({ name: 'raw', duration: '720h0m0s', default: true }),
      expect.objectContaining({ name: 'events', duration: '9600h0m0s', default: false }),
    ]);

    await new InfluxV1Store({
      url: url(),
      rawRetention: '45d',
      eventsRetention: '500d',
    }).ensureSchema();
    expect(await policies()).toEqual([
      expect.objectContaining({ name: 'raw', duration: '1080h0m0s', default: true }),
      expect.objectContaining({ name: 'events', duration: '12000h0m0s', default: false }),
    ]);

    await store.ensureSchema();
    expect(await policies()).toEqual([
      expect.objectContaining({ name: 'raw', duration: '720h0m0s', default: true }),
      expect.objectContaining({ name: 'events', duration: '9600h0m0s', default: false }),
    ]);
  });

  it('refuses a raw retention below the 30 days of MEM Decree 40 §13', () => {
    expect(() => new InfluxV1Store({ url: url(), rawRetention: '7d' })).toThrow(
      /rawRetention: at least 30d \(MEM Decree 40 §13\)/,
    );
  });

  it('stores readings, device events, statuses and alarm events exactly as written', async () => {
    const writer = newWriter({ batchSize: 500, maxConcurrentWrites: 2 });
    const devices = ['gt-1', 'gt-2', 'gt-3'];
    const events: DeviceEvent[] = [0, 1, 2, 3, 4].map(i => ({
      siteId: 'plant-1',
      deviceId: 'fp-1',
      deviceClass: 'fire-panel',
      areaId: undefined,
      ts: BASE + i * 1_000,
      receivedAt: BASE + i * 1_000 + 7,
      code: i % 2 === 0 ? 'fire' : 'fault',
      detail: { zone: `Z "${i}"\nnorth, east=1`, loop: i, path: 'C:\\panel' },
    }));
    const statuses: DeviceStatus[] = [0, 1, 2, 3].map(i => ({
      siteId: 'plant-1',
      deviceId: 'gt-1',
      deviceClass: 'gas-toxic',
      online: i % 2 === 1,
      ts: BASE + i * 500,
      receivedAt: BASE + i * 500,
    }));
    const encodeAlarm = createAlarmEventEncoder();
    // A raise and an acknowledge in the same millisecond, on the same series: both must survive,
    // in the order of the alarm's history (each action is in the history it is written with).
    const raise = act('raise', BASE + 5_000);
    const acknowledge = act('acknowledge', BASE + 5_000, 'op-7');
    const clear = act('clear', BASE + 5_001);
    const alarmLines = [
      encodeAlarm({ ...alarm, history: [raise] }, raise),
      encodeAlarm(
        { ...alarm, state: 'active-acknowledged', history: [raise, acknowledge] },
        acknowledge,
      ),
      encodeAlarm(
        { ...alarm, state: 'normal', value: 3, history: [raise, acknowledge, clear] },
        clear,
      ),
    ];

    let offered = 0;
    for (let i = 0; i < 1_000; i += 1) {
      // Mixed retention classes in one offer, as the persister would hand them over.
      const batch: WriteLine[] = devices.map(device => readingLine(reading(device, i)));
      if (i < events.length) batch.push(deviceEventLine(events[i] as DeviceEvent));
      if (i < statuses.length) batch.push(deviceStatusLine(statuses[i] as DeviceStatus));
      if (i < alarmLines.length) batch.push(alarmLines[i] as WriteLine);
      expect(writer.offer(batch)).toBe(true);
      offered += batch.length;
    }
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      buffered: 0,
      written: offered,
      failedPermanent: 0,
      retries: 0,
      rejected: 0,
    });
    expect(offered).toBe(3_000 + 5 + 4 + 3);

    const window = between(BASE, BASE + DAY_MS);
    const counts = await query(
      `SELECT count(ppm) AS n, sum(seq) AS seqs, count(still) AS stills FROM "vigil"."raw"."telemetry" WHERE ${window} GROUP BY device`,
    );
    expect(counts).toEqual(
      devices.map(device => ({ device, time: BASE, n: 1_000, seqs: 499_500, stills: 1_000 })),
    );
    expect(
      await query(
        `SELECT * FROM "vigil"."raw"."telemetry" WHERE device = 'gt-3' AND ${window} LIMIT 2`,
      ),
    ).toEqual([
      {
        time: BASE,
        area: null,
        class: 'gas-toxic',
        device: 'gt-3',
        site: 'plant-1',
        ppm: 0.25,
        seq: 0,
        still: true,
      },
      {
        time: BASE + 10,
        area: null,
        class: 'gas-toxic',
        device: 'gt-3',
        site: 'plant-1',
        ppm: 1.25,
        seq: 1,
        still: false,
      },
    ]);
    expect(
      await query(
        `SELECT last(ppm) FROM "vigil"."raw"."telemetry" WHERE device = 'gt-1' AND area = 'tank-farm' AND ${window}`,
      ),
    ).toEqual([{ time: BASE + 9_990, last: 999.25 }]);

    const storedEvents = await query(`SELECT * FROM "vigil"."raw"."device_event" WHERE ${window}`);
    expect(storedEvents).toHaveLength(5);
    expect(storedEvents.map(row => JSON.parse(String(row['detail'])))).toEqual(
      events.map(event => event.detail),
    );
    expect(storedEvents[1]).toMatchObject({
      code: 'fault',
      device: 'fp-1',
      class: 'fire-panel',
      received_at: BASE + 1_007,
    });

    expect(await query(`SELECT online FROM "vigil"."raw"."device_status" WHERE ${window}`)).toEqual(
      statuses.map(status => ({ time: status.ts, online: status.online })),
    );

    const alarmRows = await query(`SELECT * FROM "vigil"."events"."alarm_event" WHERE ${window}`);
    expect(
      alarmRows.map(row => [
        row['time'],
        row['action'],
        row['state'],
        row['active'],
        row['by'] ?? null,
      ]),
    ).toEqual([
      [BASE + 5_000, 'raise', 'active-unacknowledged', true, null],
      [BASE + 5_000, 'acknowledge', 'active-acknowledged', true, 'op-7'],
      [BASE + 5_001, 'clear', 'normal', false, null],
    ]);
    expect(alarmRows[0]).toMatchObject({
      alarm_id: 'alarm-1',
      rule: 'gas-h2s',
      site: 'plant-1',
      device: 'gt-1',
      category: 'process',
      priority: '1',
      level: 'L2',
      value: 21.5,
      threshold: 20,
      metric: 'ppm',
      message: 'H2S 21.5 ppm ≥ 20 ppm',
      detected_at: BASE + 2,
    });

    // Each measurement lives in its own policy only.
    expect(
      await query(`SELECT count(ppm) FROM "vigil"."events"."telemetry" WHERE ${window}`),
    ).toEqual([]);
    expect(
      await query(`SELECT count(alarm_id) FROM "vigil"."raw"."alarm_event" WHERE ${window}`),
    ).toEqual([]);
    await writer.close();
  });

  it('keeps lines in its buffer while influxd is down and writes them all after a restart', async () => {
    const running = influx;
    if (!running) throw new Error('influxd is not running');
    const writer = newWriter({ batchSize: 200, maxConcurrentWrites: 2 });
    const window = between(BASE + DAY_MS, BASE + 2 * DAY_MS);
    const line = (i: number): WriteLine =>
      readingLine(reading('restart-1', i, { ts: BASE + DAY_MS + i, values: { ppm: i } }));

    for (let i = 0; i < 500; i += 1) writer.offer([line(i)]);
    await writer.flush();

    await running.stop();
    influx = undefined;
    for (let i = 500; i < 1_500; i += 1) expect(writer.offer([line(i)])).toBe(true);
    await waitFor(() => writer.stats().retries >= 3, {
      what: 'the writer to retry against a stopped influxd',
      timeoutMs: 10_000,
    });
    expect(writer.stats()).toMatchObject({ buffered: 1_000, written: 500, failedPermanent: 0 });
    expect(errors.every(({ context }) => context.outcome === 'retrying')).toBe(true);

    influx = await startInfluxd({ dataDir, httpPort: running.httpPort, rpcPort: running.rpcPort });
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      buffered: 0,
      written: 1_500,
      failedPermanent: 0,
      rejected: 0,
    });
    expect(
      await query(
        `SELECT count(ppm) AS n, sum(seq) AS seqs FROM "vigil"."raw"."telemetry" WHERE device = 'restart-1' AND ${window}`,
      ),
    ).toEqual([{ time: BASE + DAY_MS, n: 1_500, seqs: (1_499 * 1_500) / 2 }]);
    // What was written before the restart is still there.
    expect(
      await query(
        `SELECT count(ppm) AS n FROM "vigil"."raw"."telemetry" WHERE device =~ /^gt-/ AND ${between(BASE, BASE + DAY_MS)}`,
      ),
    ).toEqual([{ time: BASE, n: 3_000 }]);
    await writer.close();
  });

  it('counts a field type conflict and a point beyond retention as failed for good, without retrying', async () => {
    const writer = newWriter({ batchSize: 100 });
    const window = between(BASE + 2 * DAY_MS, BASE + 3 * DAY_MS);
    const at = (i: number, values: Reading['values']): WriteLine =>
      readingLine(reading('conflict-1', i, { ts: BASE + 2 * DAY_MS + i, values }));

    writer.offer([at(0, { lel: 1.5 })]);
    await writer.flush();
    // `lel` is a float in this shard now; a boolean `lel` is refused, the rest of the batch is kept.
    writer.offer([at(1, { lel: 2.5 }), at(2, { lel: true }), at(3, { lel: 3.5 })]);
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      written: 3,
      failedPermanent: 1,
      retries: 0,
      buffered: 0,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({
      outcome: 'failed-permanently',
      batchLines: 3,
      lostLines: 1,
    });
    expect(String(errors[0]?.error)).toMatch(/field type conflict/);

    writer.offer([readingLine(reading('conflict-1', 0, { ts: Date.now() - 40 * DAY_MS }))]);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ written: 3, failedPermanent: 2, retries: 0 });
    expect(writer.stats().lastError).toMatch(/beyond retention policy/);

    expect(
      await query(
        `SELECT lel FROM "vigil"."raw"."telemetry" WHERE device = 'conflict-1' AND ${window}`,
      ),
    ).toEqual([
      { time: BASE + 2 * DAY_MS, lel: 1.5 },
      { time: BASE + 2 * DAY_MS + 1, lel: 2.5 },
      { time: BASE + 2 * DAY_MS + 3, lel: 3.5 },
    ]);
    await writer.close();
  });

  it('stores chunks of both classes and counts a refusal inside a chunk in lines', async () => {
    const writer = newWriter({ batchSize: 250 });
    const from = BASE + 3 * DAY_MS;
    const window = between(from, from + DAY_MS);
    const line = (i: number, values: Reading['values']): WriteLine =>
      readingLine(reading('chunk-1', i, { ts: from + i, values }));
    const encodeAlarm = createAlarmEventEncoder();

    // Ten record batches of 100 readings and one alarm event: one chunk per class and batch,
    // every other one as UTF-8 bytes (what the persister buffers), so requests mix both.
    for (let b = 0; b < 10; b += 1) {
      const batch = Array.from({ length: 100 }, (_, k) => line(b * 100 + k, { co: b * 100 + k }));
      batch.push(encodeAlarm({ ...alarm, id: `chunk-alarm-${b}` }, act('raise', from + b)));
      const chunks = toWriteChunks(batch);
      expect(chunks.map(chunk => [chunk.rp, chunk.lines])).toEqual([
        ['raw', 100],
        ['events', 1],
      ]);
      expect(writer.offerChunks(b % 2 === 0 ? encodeChunks(chunks) : chunks)).toBe(true);
    }
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      buffered: 0,
      written: 1_010,
      failedPermanent: 0,
      retries: 0,
    });
    expect(
      await query(
        `SELECT count(co) AS n, sum(co) AS total FROM "vigil"."raw"."telemetry" WHERE device = 'chunk-1' AND ${window}`,
      ),
    ).toEqual([{ time: from, n: 1_000, total: (999 * 1_000) / 2 }]);
    expect(
      await query(
        `SELECT count(alarm_id) AS n FROM "vigil"."events"."alarm_event" WHERE ${window}`,
      ),
    ).toEqual([{ time: from, n: 10 }]);

    // `co` is a float in this shard: influxd refuses the boolean line of the chunk, keeps the rest.
    writer.offerChunks(
      encodeChunks(
        toWriteChunks([
          line(1_000, { co: 1.5 }),
          line(1_001, { co: true }),
          line(1_002, { co: 2.5 }),
        ]),
      ),
    );
    await writer.flush();
    expect(writer.stats()).toMatchObject({ written: 1_012, failedPermanent: 1, retries: 0 });
    expect(errors.map(({ context }) => context)).toEqual([
      expect.objectContaining({ outcome: 'failed-permanently', batchLines: 3, lostLines: 1 }),
    ]);
    expect(
      await query(
        `SELECT count(co) AS n FROM "vigil"."raw"."telemetry" WHERE device = 'chunk-1' AND ${window}`,
      ),
    ).toEqual([{ time: from, n: 1_002 }]);
    await writer.close();
  });

  it('reports InfluxQL errors as StoreQueryError and no data as no rows', async () => {
    await expect(store.query('SELEC nothing')).rejects.toThrow(StoreQueryError);
    await expect(
      store.query('SELECT * FROM "vigil"."raw"."nothing_here" WHERE time > now() - 1h'),
    ).resolves.toEqual([]);
  });

  it('round-trips arbitrary names and values through influxd', async () => {
    const rt = new InfluxV1Store({ url: url(), database: 'roundtrip' });
    await rt.ensureSchema();
    const nameChar = fc.constantFrom(
      '\u0000',
      '\u0001',
      '\u007f',
      '\r',
      ',',
      '=',
      ' ',
      '\\',
      '"',
      "'",
      '#',
      '\t',
      'a',
      'Z',
      '0',
      'é',
      '中',
      '🔥',
    );
    const name = fc
      .string({ unit: nameChar, minLength: 1, maxLength: 8 })
      .filter(value => !/\\(?:[\\,= "]|$)/.test(value));
    const text = fc.string({
      unit: fc.oneof(
        nameChar,
        fc.constantFrom('\n', '\\"', '\\\\'),
        fc.string({ unit: 'binary', maxLength: 1 }),
      ),
      maxLength: 16,
    });
    const fieldsOf = <T extends FieldValue>(prefix: string, value: fc.Arbitrary<T>) =>
      fc
        .dictionary(name, value, { maxKeys: 2 })
        .map(entries =>
          Object.fromEntries(Object.entries(entries).map(([key, v]) => [`${prefix}${key}`, v])),
        );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        name.filter(value => !/^[#\t\0]/.test(value)),
        fc.dictionary(name, name, { maxKeys: 3 }),
        fieldsOf('f_float_', fc.double({ noNaN: true, noDefaultInfinity: true })),
        fieldsOf('f_int_', fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n })),
        fieldsOf('f_bool_', fc.boolean()),
        fieldsOf('f_text_', text),
        fc.bigInt({ min: 0n, max: 86_400_000_000_000n }),
        async (measurement, rawTags, floats, ints, bools, texts, offsetNs) => {
          run += 1;
          const tags = {
            ...Object.fromEntries(Object.entries(rawTags).map(([k, v]) => [`t_${k}`, v])),
            case: `c${run}`,
          };
          const fields = { f_seq: run, ...floats, ...ints, ...bools, ...texts };
          const timestampNs = (BigInt(msToNs(BASE)) + offsetNs).toString();
          await rt.write([
            { rp: 'raw', text: encodeLine({ measurement, tags, fields, timestampNs }), lines: 1 },
          ]);
          const rows = await influxQuery(
            url(),
            'roundtrip',
            `SELECT * FROM /.*/ WHERE "case" = 'c${run}' AND time = ${timestampNs}`,
            {
              measurementKey: '~measurement',
            },
          );
          expect(rows).toHaveLength(1);
          const stored = Object.fromEntries(
            Object.entries(rows[0] ?? {}).filter(([, v]) => v !== null),
          );
          const expected: Record<string, unknown> = {
            '~measurement': measurement,
            time: Number(BigInt(timestampNs) / 1_000_000n),
            ...tags,
          };
          for (const [key, value] of Object.entries(fields)) {
            expected[key] = typeof value === 'bigint' ? Number(value) : value;
          }
          expect(stored).toEqual(expected);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('recreates a dropped database on the next write and loses nothing', async () => {
    await query('DROP DATABASE "vigil"');
    const writer = newWriter({ batchSize: 10 });
    writer.offer([readingLine(reading('wiped-1', 0))]);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ written: 1, failedPermanent: 0 });
    expect(writer.stats().retries).toBeGreaterThanOrEqual(1);
    expect(errors[0]?.error).toMatchObject({
      message: expect.stringMatching(/database not found/),
    });
    expect(
      await query(
        `SELECT count(ppm) AS n FROM "vigil"."raw"."telemetry" WHERE ${between(BASE, BASE + DAY_MS)}`,
      ),
    ).toEqual([{ time: BASE, n: 1 }]);
    await writer.close();
  });
});
