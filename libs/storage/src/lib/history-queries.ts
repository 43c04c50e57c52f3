import type { AlarmActionName, AlarmHistoryEvent } from '@vigil/contracts';

import { quoteIdentifier, quoteString } from './influxql';
import {
  ALARM_EVENT_FIELD,
  MEASUREMENT_COLUMNS,
  MEASUREMENT_RETENTION,
  MEASUREMENTS,
  TAG,
} from './schema';
import type {
  AlarmHistoryRequest,
  QueryRow,
  StoredRaise,
  StoredResponse,
  TelemetrySample,
  TelemetrySeriesRequest,
  TimeRange,
} from './telemetry-store';

/**
 * The InfluxQL of the port's reads, built from schema.ts (measurement, retention policy, tag and
 * field names) so that a rename there is a rename here; and the decoders of their rows. Pure:
 * InfluxQLStore runs them through an adapter's `query`. Every SELECT is bounded in time.
 */

type Measurement = (typeof MEASUREMENTS)[keyof typeof MEASUREMENTS];

/** `"<retention policy>"."<measurement>"`, for a reader that names the database elsewhere (Grafana). */
export function retentionPath(measurement: Measurement): string {
  return [MEASUREMENT_RETENTION[measurement], measurement].map(quoteIdentifier).join('.');
}

/** `"<database>"."<retention policy>"."<measurement>"`: the policy that holds the measurement. */
export function measurementPath(database: string, measurement: Measurement): string {
  return `${quoteIdentifier(database)}.${retentionPath(measurement)}`;
}

const RAISE: AlarmActionName = 'raise';
const DISPOSE: AlarmActionName = 'dispose';
const ACKNOWLEDGE: AlarmActionName = 'acknowledge';
/** The dispose note is "<disposition>: <note>" (lifecycle applyCommand). */
const TEST_DISPOSAL = /^test: /;

const equals = (key: string, value: string): string =>
  `${quoteIdentifier(key)} = ${quoteString(value)}`;
const inRange = ({ from, to }: TimeRange): string => `time >= ${from}ms AND time < ${to}ms`;

/** One metric of one device: mean/min/max per bucket, or the newest `limit` raw points. */
export function telemetrySeriesQuery(database: string, request: TelemetrySeriesRequest): string {
  const field = quoteIdentifier(request.metric);
  const from = measurementPath(database, MEASUREMENTS.telemetry);
  const where = `${equals(TAG.site, request.siteId)} AND ${equals(TAG.device, request.deviceId)} AND ${inRange(request)}`;
  return request.bucketMs > 0
    ? `SELECT mean(${field}) AS "value", min(${field}) AS "min", max(${field}) AS "max" FROM ${from} WHERE ${where} GROUP BY time(${request.bucketMs}ms) fill(none)`
    : `SELECT ${field} AS "value" FROM ${from} WHERE ${where} ORDER BY time DESC LIMIT ${request.limit}`;
}

/** Rows of telemetrySeriesQuery, oldest first (the raw query reads newest first). */
export function telemetrySamples(
  request: TelemetrySeriesRequest,
  rows: readonly QueryRow[],
): TelemetrySample[] {
  const samples = rows.map(row =>
    request.bucketMs > 0
      ? { time: Number(row['time']), value: row['value'], min: row['min'], max: row['max'] }
      : { time: Number(row['time']), value: row['value'] },
  );
  return request.bucketMs > 0 ? samples : samples.reverse();
}

/** Every column of `alarm_event`, from the storage schema: one list, not a copy of it. */
const ALARM_EVENT_COLUMNS = [
  ...MEASUREMENT_COLUMNS.alarm_event.fields,
  ...MEASUREMENT_COLUMNS.alarm_event.tags,
];

/** Alarm transitions matching the filters, newest first. `sites`, when given, must not be empty. */
export function alarmHistoryQuery(database: string, request: AlarmHistoryRequest): string {
  const where = [inRange(request)];
  if (request.sites !== undefined) {
    if (request.sites.length === 0) throw new RangeError('alarmHistoryQuery: no sites to match');
    where.push(`(${request.sites.map(site => equals(TAG.site, site)).join(' OR ')})`);
  }
  if (request.deviceId !== undefined) where.push(equals(TAG.device, request.deviceId));
  if (request.ruleId !== undefined) where.push(equals(TAG.rule, request.ruleId));
  if (request.category !== undefined) where.push(equals(TAG.category, request.category));
  // A tag: stored as text.
  if (request.priority !== undefined) where.push(equals(TAG.priority, String(request.priority)));
  return (
    `SELECT ${ALARM_EVENT_COLUMNS.map(quoteIdentifier).join(', ')} ` +
    `FROM ${measurementPath(database, MEASUREMENTS.alarmEvent)} ` +
    `WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${request.limit}`
  );
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** One row of alarmHistoryQuery (measurement `alarm_event`, libs/storage/README.md). */
export function alarmHistoryEvent(row: QueryRow): AlarmHistoryEvent {
  return {
    time: Number(row['time']),
    alarmId: str(row[ALARM_EVENT_FIELD.alarmId]) ?? '',
    siteId: str(row[TAG.site]) ?? '',
    deviceId: str(row[TAG.device]) ?? '',
    ruleId: str(row[TAG.rule]) ?? '',
    level: str(row['level']) ?? '',
    priority: Number(row[TAG.priority]),
    category: str(row[TAG.category]) ?? '',
    action: str(row[ALARM_EVENT_FIELD.action]) ?? '',
    state: str(row['state']) ?? '',
    active: row['active'] === true,
    value:
      num(row['value']) ?? (typeof row['value_bool'] === 'boolean' ? row['value_bool'] : undefined),
    threshold: num(row['threshold']),
    metric: str(row['metric']),
    message: str(row['message']) ?? '',
    by: str(row['by']),
    note: str(row[ALARM_EVENT_FIELD.note]),
  };
}

const RAISE_COLUMNS = [
  ALARM_EVENT_FIELD.alarmId,
  TAG.priority,
  TAG.site,
  TAG.device,
  TAG.rule,
  TAG.category,
];

/** Every activation in the range. */
export function alarmRaisesQuery(database: string, range: TimeRange): string {
  return (
    `SELECT ${RAISE_COLUMNS.map(quoteIdentifier).join(', ')} ` +
    `FROM ${measurementPath(database, MEASUREMENTS.alarmEvent)} ` +
    `WHERE ${equals(ALARM_EVENT_FIELD.action, RAISE)} AND ${inRange(range)}`
  );
}

/** One row of alarmRaisesQuery. */
export function storedRaise(row: QueryRow): StoredRaise {
  return {
    at: Number(row['time']),
    alarmId: String(row[ALARM_EVENT_FIELD.alarmId]),
    siteId: String(row[TAG.site]),
    deviceId: String(row[TAG.device]),
    ruleId: String(row[TAG.rule]),
    priority: Number(row[TAG.priority]),
    category: str(row[TAG.category]),
  };
}

/** Every acknowledgement and disposal in the range (the monthly report's response times). */
export function alarmResponsesQuery(database: string, range: TimeRange): string {
  return (
    `SELECT ${[ALARM_EVENT_FIELD.alarmId, ALARM_EVENT_FIELD.action].map(quoteIdentifier).join(', ')} ` +
    `FROM ${measurementPath(database, MEASUREMENTS.alarmEvent)} ` +
    `WHERE (${equals(ALARM_EVENT_FIELD.action, ACKNOWLEDGE)} OR ${equals(ALARM_EVENT_FIELD.action, DISPOSE)}) ` +
    `AND ${inRange(range)}`
  );
}

/** One row of alarmResponsesQuery. */
export function storedResponse(row: QueryRow): StoredResponse {
  return {
    at: Number(row['time']),
    alarmId: String(row[ALARM_EVENT_FIELD.alarmId]),
    action: row[ALARM_EVENT_FIELD.action] === ACKNOWLEDGE ? 'acknowledge' : 'dispose',
  };
}

/** Alarms disposed as `test` at any time from `from` on (a test alarm raised earlier is one too). */
export function testDisposalsQuery(database: string, from: number): string {
  return (
    `SELECT ${quoteIdentifier(ALARM_EVENT_FIELD.alarmId)} ` +
    `FROM ${measurementPath(database, MEASUREMENTS.alarmEvent)} ` +
    `WHERE ${equals(ALARM_EVENT_FIELD.action, DISPOSE)} ` +
    `AND ${quoteIdentifier(ALARM_EVENT_FIELD.note)} =~ ${TEST_DISPOSAL.toString()} AND time >= ${from}ms`
  );
}

/** The alarm ids of testDisposalsQuery's rows. */
export function testAlarmIdsOf(rows: readonly QueryRow[]): string[] {
  return rows.map(row => String(row[ALARM_EVENT_FIELD.alarmId]));
}
