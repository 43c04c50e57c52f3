import {
  alarmHistoryQuery,
  alarmRaisesQuery,
  alarmResponsesQuery,
  measurementPath,
  telemetrySamples,
  telemetrySeriesQuery,
  testDisposalsQuery,
} from './history-queries';
import type { TelemetrySeriesRequest } from './telemetry-store';

const series: TelemetrySeriesRequest = {
  siteId: 'plant-1',
  deviceId: 'gt-1',
  metric: 'ppm',
  from: 1000,
  to: 2000,
  bucketMs: 0,
  limit: 40,
};

describe('the reads of the storage port, built from schema.ts', () => {
  it('names each measurement with the retention policy that holds it', () => {
    expect(measurementPath('vigil', 'telemetry')).toBe('"vigil"."raw"."telemetry"');
    expect(measurementPath('plant', 'alarm_event')).toBe('"plant"."events"."alarm_event"');
    expect(measurementPath('a"b', 'telemetry')).toBe('"a\\"b"."raw"."telemetry"');
  });

  it('builds the telemetry series, raw (newest first) or as mean/min/max buckets', () => {
    expect(telemetrySeriesQuery('vigil', series)).toBe(
      `SELECT "ppm" AS "value" FROM "vigil"."raw"."telemetry" WHERE "site" = 'plant-1' AND "device" = 'gt-1' AND time >= 1000ms AND time < 2000ms ORDER BY time DESC LIMIT 40`,
    );
    expect(telemetrySeriesQuery('vigil', { ...series, bucketMs: 5000, deviceId: "o'brien" })).toBe(
      `SELECT mean("ppm") AS "value", min("ppm") AS "min", max("ppm") AS "max" FROM "vigil"."raw"."telemetry" WHERE "site" = 'plant-1' AND "device" = 'o\\'brien' AND time >= 1000ms AND time < 2000ms GROUP BY time(5000ms) fill(none)`,
    );
    // The raw query reads newest first so that LIMIT keeps the newest; the port answers oldest first.
    expect(
      telemetrySamples(series, [
        { time: 3, value: 1 },
        { time: 2, value: null },
      ]),
    ).toEqual([
      { time: 2, value: null },
      { time: 3, value: 1 },
    ]);
  });

  it('filters the alarm history by sites, device, rule, category and priority (a tag: text)', () => {
    const everything = alarmHistoryQuery('vigil', { from: 1, to: 2, limit: 5 });
    expect(everything).toMatch(
      /^SELECT "alarm_id", "state", .*, "site" FROM "vigil"\."events"\."alarm_event" WHERE time >= 1ms AND time < 2ms ORDER BY time DESC LIMIT 5$/,
    );
    expect(
      alarmHistoryQuery('vigil', {
        from: 1,
        to: 2,
        limit: 5,
        sites: ['a', 'b'],
        deviceId: 'd',
        ruleId: 'r',
        category: 'fire',
        priority: 1,
      }),
    ).toContain(
      `WHERE time >= 1ms AND time < 2ms AND ("site" = 'a' OR "site" = 'b') AND "device" = 'd' AND "rule" = 'r' AND "category" = 'fire' AND "priority" = '1' ORDER BY`,
    );
    // No site visible is no query at all (InfluxDB cannot say "match nothing").
    expect(() => alarmHistoryQuery('vigil', { from: 1, to: 2, limit: 5, sites: [] })).toThrow(
      RangeError,
    );
  });

  it('builds the report reads: activations in the range, test disposals from `from` on', () => {
    expect(alarmRaisesQuery('vigil', { from: 1, to: 2 })).toBe(
      `SELECT "alarm_id", "priority", "site", "device", "rule", "category" FROM "vigil"."events"."alarm_event" WHERE "action" = 'raise' AND time >= 1ms AND time < 2ms`,
    );
    expect(alarmResponsesQuery('vigil', { from: 1, to: 2 })).toBe(
      `SELECT "alarm_id", "action" FROM "vigil"."events"."alarm_event" WHERE ("action" = 'acknowledge' OR "action" = 'dispose') AND time >= 1ms AND time < 2ms`,
    );
    expect(testDisposalsQuery('vigil', 1)).toBe(
      `SELECT "alarm_id" FROM "vigil"."events"."alarm_event" WHERE "action" = 'dispose' AND "note" =~ /^test: / AND time >= 1ms`,
    );
  });

  it('follows a rename in schema.ts: measurement, retention, tag and field names come from there', () => {
    jest.isolateModules(() => {
      jest.doMock('./schema', () => {
        const actual = jest.requireActual<typeof import('./schema')>('./schema');
        return {
          ...actual,
          MEASUREMENTS: { ...actual.MEASUREMENTS, telemetry: 'readings', alarmEvent: 'alarms' },
          MEASUREMENT_RETENTION: {
            ...actual.MEASUREMENT_RETENTION,
            readings: 'raw',
            alarms: 'log',
          },
          TAG: { ...actual.TAG, site: 'plant', rule: 'rule_id' },
          ALARM_EVENT_FIELD: { ...actual.ALARM_EVENT_FIELD, action: 'act', alarmId: 'id' },
        };
      });
      const renamed = jest.requireActual<typeof import('./history-queries')>('./history-queries');
      const telemetry = renamed.telemetrySeriesQuery('vigil', series);
      expect(telemetry).toContain('FROM "vigil"."raw"."readings" WHERE "plant" = \'plant-1\'');
      expect(telemetry).not.toMatch(/"telemetry"|"site"/);
      const raises = renamed.alarmRaisesQuery('vigil', { from: 1, to: 2 });
      expect(raises).toBe(
        `SELECT "id", "priority", "plant", "device", "rule_id", "category" FROM "vigil"."log"."alarms" WHERE "act" = 'raise' AND time >= 1ms AND time < 2ms`,
      );
      expect(
        renamed.alarmHistoryQuery('vigil', { from: 1, to: 2, limit: 1, sites: ['a'] }),
      ).toContain(
        'FROM "vigil"."log"."alarms" WHERE time >= 1ms AND time < 2ms AND ("plant" = \'a\')',
      );
      expect(
        renamed.storedRaise({
          time: 5,
          id: 'x',
          plant: 'p',
          device: 'd',
          rule_id: 'r',
          priority: '2',
        }),
      ).toEqual({
        at: 5,
        alarmId: 'x',
        siteId: 'p',
        deviceId: 'd',
        ruleId: 'r',
        priority: 2,
      });
    });
  });
});
