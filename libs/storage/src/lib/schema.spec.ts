import type { Alarm, AlarmAction, DeviceEvent, DeviceStatus, Reading } from '@vigil/contracts';

import { goDurationMs, quoteIdentifier, quoteString, retentionMs } from './influxql';
import { LineProtocolError } from './line-protocol';
import {
  MEASUREMENT_COLUMNS,
  canaryLine,
  createAlarmEventEncoder,
  deviceEventLine,
  deviceStatusLine,
  readingLine,
  toWriteChunks,
} from './schema';

const T = 1_767_225_600_000; // 2026-01-01T00:00:00Z

const reading = (overrides: Partial<Reading> = {}): Reading => ({
  siteId: 'plant-1',
  deviceId: 'gt-01',
  deviceClass: 'gas-toxic',
  areaId: 'tank-farm',
  ts: T,
  receivedAt: T + 5,
  seq: 41,
  deviceTime: true,
  clockSkewMs: 0,
  values: { ppm: 12.5, still: false },
  ...overrides,
});

export const sampleAlarm = (overrides: Partial<Alarm> = {}): Alarm => ({
  id: 'a-1',
  key: 'plant-1/gt-01/gas-h2s',
  ruleId: 'gas-h2s',
  siteId: 'plant-1',
  deviceId: 'gt-01',
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
  message: 'H2S 21 ppm ≥ 20 ppm, "L2"',
  raisedAt: T,
  clearedAt: undefined,
  acknowledgedAt: undefined,
  acknowledgedBy: undefined,
  updatedAt: T,
  detectedAt: T + 3,
  history: [],
  ...overrides,
});

const action = (overrides: Partial<AlarmAction> = {}): AlarmAction => ({
  action: 'raise',
  at: T,
  by: undefined,
  note: undefined,
  ...overrides,
});

describe(readingLine.name, () => {
  it('writes telemetry with sorted tags, float and boolean metrics, an integer seq and ns time', () => {
    expect(readingLine(reading())).toEqual({
      rp: 'raw',
      line: 'telemetry,area=tank-farm,class=gas-toxic,device=gt-01,site=plant-1 ppm=12.5,still=false,seq=41i 1767225600000000000',
    });
  });

  it('writes whole numbers as floats so that a metric never changes type', () => {
    expect(readingLine(reading({ values: { ppm: 12 } })).line).toContain(' ppm=12,seq=41i ');
  });

  it('leaves out an unknown area and a missing seq', () => {
    expect(
      readingLine(reading({ areaId: undefined, seq: undefined, values: { ppm: 1 } })).line,
    ).toBe('telemetry,class=gas-toxic,device=gt-01,site=plant-1 ppm=1 1767225600000000000');
  });

  it.each<[string, Partial<Reading>]>([
    ['no values and no seq', { values: {}, seq: undefined }],
    ['a metric named seq', { values: { seq: 1 } }],
    ['a metric named time', { values: { time: 1 } }],
    ['a NaN value', { values: { ppm: Number.NaN } }],
    ['a fractional seq', { seq: 1.5 }],
  ])('refuses a reading with %s', (_case, overrides) => {
    expect(() => readingLine(reading(overrides))).toThrow(LineProtocolError);
  });
});

describe(deviceEventLine.name, () => {
  const event: DeviceEvent = {
    siteId: 'plant-1',
    deviceId: 'fp-1',
    deviceClass: 'fire-panel',
    areaId: undefined,
    ts: T,
    receivedAt: T + 12.7,
    code: 'fire',
    detail: { loop: 2, zone: 'Z "7"\nnorth' },
  };

  it('writes the detail as JSON text and the receipt time as integer ms', () => {
    expect(deviceEventLine(event)).toEqual({
      rp: 'raw',
      line:
        'device_event,class=fire-panel,code=fire,device=fp-1,site=plant-1 ' +
        'detail="{\\"loop\\":2,\\"zone\\":\\"Z \\\\\\"7\\\\\\"\\\\nnorth\\"}",received_at=1767225600012i 1767225600000000000',
    });
  });

  it('leaves out a missing detail', () => {
    expect(deviceEventLine({ ...event, detail: undefined }).line).toBe(
      'device_event,class=fire-panel,code=fire,device=fp-1,site=plant-1 received_at=1767225600012i 1767225600000000000',
    );
  });
});

describe(deviceStatusLine.name, () => {
  it('writes online as a boolean', () => {
    const status: DeviceStatus = {
      siteId: 'plant-1',
      deviceId: 'gt-01',
      deviceClass: 'gas-toxic',
      online: false,
      ts: T,
      receivedAt: T,
    };
    expect(deviceStatusLine(status)).toEqual({
      rp: 'raw',
      line: 'device_status,class=gas-toxic,device=gt-01,site=plant-1 online=false 1767225600000000000',
    });
  });
});

describe(createAlarmEventEncoder.name, () => {
  it('writes one alarm_event point per action into the events policy', () => {
    const encode = createAlarmEventEncoder();
    expect(encode(sampleAlarm(), action())).toEqual({
      rp: 'events',
      line:
        'alarm_event,category=process,device=gt-01,level=L2,priority=1,rule=gas-h2s,site=plant-1 ' +
        'alarm_id="a-1",state="active-unacknowledged",action="raise",active=true,value=21,threshold=20,' +
        'metric="ppm",message="H2S 21 ppm ≥ 20 ppm, \\"L2\\"",detected_at=1767225600003i 1767225600000002226',
    });
  });

  it('records who acted and their note, and a boolean value in its own field', () => {
    const encode = createAlarmEventEncoder();
    const line = encode(
      sampleAlarm({ state: 'normal', value: true, threshold: undefined, metric: undefined }),
      action({ action: 'comment', by: 'operator 7', note: 'checked on site' }),
    ).line;
    expect(line).toContain(',active=false,value_bool=true,message=');
    expect(line).toContain(',by="operator 7",note="checked on site",detected_at=');
    expect(line).not.toContain('threshold=');
  });

  const timeOf = ({ line }: { line: string }): string => line.slice(line.lastIndexOf(' ') + 1);

  it('keeps events of one series in the same millisecond apart, each inside its millisecond', () => {
    const encode = createAlarmEventEncoder();
    const times = [
      encode(sampleAlarm(), action({ action: 'raise' })),
      encode(
        sampleAlarm({ state: 'active-acknowledged', history: [action(), action()] }),
        action({ action: 'acknowledge' }),
      ),
      encode(
        sampleAlarm({ id: 'a-2' }), // another alarm of the same series (a fire-panel point)
        action({ action: 'raise' }),
      ),
      encode(sampleAlarm({ state: 'normal' }), action({ action: 'clear', at: T + 1 })),
    ].map(timeOf);
    expect(new Set(times).size).toBe(4);
    expect(BigInt(times[1] ?? 0)).toBeGreaterThan(BigInt(times[0] ?? 0)); // raise, then acknowledge
    for (const time of times.slice(0, 3)) expect(time.slice(0, -6)).toBe(String(T));
    expect(times[3]?.slice(0, -6)).toBe(String(T + 1));
  });

  it('writes the same event to the same point again: a redelivery or a replay is no second row', () => {
    const encode = createAlarmEventEncoder();
    const raise = (): [Alarm, AlarmAction] => [sampleAlarm(), action({ action: 'raise' })];
    const first = encode(...raise());
    encode(sampleAlarm({ id: 'a-9' }), action({ action: 'raise' }));
    expect(encode(...raise())).toEqual(first); // the same encoder (a JetStream redelivery)
    expect(createAlarmEventEncoder()(...raise())).toEqual(first); // a restarted process
  });

  it('moves a different event whose slot is taken to the next one, and remembers where', () => {
    // Two alarm ids whose events hash to the same slot: found by search, not hand-picked.
    const slot = (id: string) => timeOf(createAlarmEventEncoder()(sampleAlarm({ id }), action()));
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i += 1) {
      const id = `a-${i}`;
      const other = seen.get(slot(id));
      if (other !== undefined) pair = [other, id];
      else seen.set(slot(id), id);
    }
    const [one, two] = pair;
    const encode = createAlarmEventEncoder();
    const a = timeOf(encode(sampleAlarm({ id: one }), action()));
    const b = timeOf(encode(sampleAlarm({ id: two }), action()));
    expect(b).not.toBe(a);
    expect(timeOf(encode(sampleAlarm({ id: two }), action()))).toBe(b);
    expect(timeOf(encode(sampleAlarm({ id: one }), action()))).toBe(a);
  });

  it('refuses a memory of no events', () => {
    expect(() => createAlarmEventEncoder({ remember: 0 })).toThrow(RangeError);
  });
});

describe(toWriteChunks.name, () => {
  it('joins the lines of each retention class, in their order, and counts them', () => {
    expect(
      toWriteChunks([
        { rp: 'raw', line: 'a v=1' },
        { rp: 'events', line: 'e v=1' },
        { rp: 'raw', line: 'b v=2' },
        { rp: 'raw', line: 'c v="x\ny"' },
      ]),
    ).toEqual([
      { rp: 'raw', text: 'a v=1\nb v=2\nc v="x\ny"', lines: 3 },
      { rp: 'events', text: 'e v=1', lines: 1 },
    ]);
  });

  it('makes no chunk of no lines', () => {
    expect(toWriteChunks([])).toEqual([]);
  });
});

describe('InfluxQL helpers', () => {
  it('quotes identifiers and strings', () => {
    expect(quoteIdentifier('my "db"\\x')).toBe('"my \\"db\\"\\\\x"');
    expect(quoteString("it's")).toBe("'it\\'s'");
  });

  it('reads configured retentions and the durations influxd prints', () => {
    expect(retentionMs('30d')).toBe(30 * 86_400_000);
    expect(retentionMs('2w')).toBe(14 * 86_400_000);
    expect(retentionMs('48h')).toBe(2 * 86_400_000);
    expect(() => retentionMs('30 days')).toThrow(RangeError);
    expect(goDurationMs('720h0m0s')).toBe(retentionMs('30d'));
    expect(goDurationMs('0s')).toBe(0);
    expect(goDurationMs('1h30m')).toBe(5_400_000);
    expect(goDurationMs('500ms')).toBe(500);
    expect(() => goDurationMs('forever')).toThrow(RangeError);
  });
});

describe('deviceEventLine with hostile detail (issue 10, finding 1)', () => {
  const base = {
    siteId: 'plant-a',
    deviceId: 'fp-01',
    deviceClass: 'fire-panel' as const,
    areaId: undefined,
    ts: 1767225600000,
    receivedAt: 1767225600012,
    code: 'fire',
  };

  it('never throws on a detail nested 6,000 levels deep (JSON.stringify would)', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 6000; i += 1) deep = { a: deep };
    expect(() => JSON.stringify(deep)).toThrow(RangeError); // what killed the process
    const line = deviceEventLine({ ...base, detail: deep }).line;
    expect(line).toContain('detail="\\"[unserialisable]\\""');
  });

  it('bounds the stored detail', () => {
    const line = deviceEventLine({ ...base, detail: { text: 'x'.repeat(100_000) } }).line;
    expect(line.length).toBeLessThan(5000);
    expect(line).toContain('[truncated');
  });
});

describe(canaryLine.name, () => {
  it('writes the canary to its own measurement at its send time, never as telemetry', () => {
    expect(
      canaryLine({ siteId: 'plant-1', origin: 'gw-1', seq: 42, sentAt: T, receivedAt: T + 3 }),
    ).toEqual({ rp: 'raw', line: `canary,origin=gw-1,site=plant-1 seq=42i ${T}000000` });
  });
});

describe('MEASUREMENT_COLUMNS', () => {
  /** Measurement, tag keys and field keys of a line without escaped characters. */
  const columns = (line: string) => {
    const [series = '', fieldSet = ''] = line.split(/ (?=(?:[^"]*"[^"]*")*[^"]*$)/);
    const [measurement = '', ...tags] = series.split(',');
    const fields = fieldSet
      .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
      .map(field => field.split('=')[0] ?? '');
    return { measurement, tags: tags.map(entry => entry.split('=')[0] ?? ''), fields };
  };

  it('lists every tag and field the line builders write', () => {
    const alarm = sampleAlarm();
    const lines = [
      readingLine(reading({ values: { ppm: 1 } })).line,
      deviceEventLine({
        siteId: 's',
        deviceId: 'd',
        deviceClass: 'fire-panel',
        ts: T,
        receivedAt: T,
        code: 'fire',
        detail: { zone: 'z' },
      } as unknown as DeviceEvent).line,
      deviceStatusLine({
        siteId: 's',
        deviceId: 'd',
        deviceClass: 'tag',
        ts: T,
        online: true,
      } as unknown as DeviceStatus).line,
      createAlarmEventEncoder()(alarm, action({ by: 'op', note: 'n' })).line,
      createAlarmEventEncoder()(
        { ...alarm, value: true, areaId: 'tank-farm', location: { loop: '1', point: '23' } },
        action(),
      ).line,
    ];
    for (const line of lines) {
      const { measurement, tags, fields } = columns(line);
      const known = MEASUREMENT_COLUMNS[measurement as keyof typeof MEASUREMENT_COLUMNS];
      expect(known).toBeDefined();
      expect(tags.filter(tag => !known.tags.includes(tag))).toEqual([]);
      const metricFields = measurement === 'telemetry' ? ['ppm'] : [];
      expect(
        fields.filter(field => !known.fields.includes(field) && !metricFields.includes(field)),
      ).toEqual([]);
    }
    // Every listed alarm_event field and tag is written by some action.
    const alarmColumns = [lines[3], lines[4]].map(line => columns(line as string));
    expect(new Set(alarmColumns.flatMap(c => c.fields))).toEqual(
      new Set(MEASUREMENT_COLUMNS.alarm_event.fields),
    );
    expect(new Set(alarmColumns.flatMap(c => c.tags))).toEqual(
      new Set(MEASUREMENT_COLUMNS.alarm_event.tags),
    );
  });
});
