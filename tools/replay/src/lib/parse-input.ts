import { z } from 'zod';

import {
  IDENTIFIER_PATTERN,
  METRIC_NAME_PATTERN,
  metricValueSchema,
  type DeviceRecord,
  type MetricValue,
} from '@vigil/contracts';
import { checkValues, describeIssues, readingRecord, validateMessage } from '@vigil/ingest';
import type { RegisteredDevice } from '@vigil/registry';

/** What the input parser needs to know about a registry device: the registry's own entry. */
export type InputDevice = RegisteredDevice;

export interface ParsedInput {
  /** In file order (arrival order), one record per reading, event or status. */
  readonly records: readonly DeviceRecord[];
  /** `line N: problem`, at most `MAX_ERRORS` of them (then a count). */
  readonly errors: readonly string[];
  readonly format: 'jsonl' | 'csv';
}

const MAX_ERRORS = 20;
const epochMs = z.int().min(0).max(8_640_000_000_000_000);

/** A pinned MQTT message as recorded: the topic, its JSON payload and the server receive time. */
const mqttLineSchema = z.object({
  topic: z.string(),
  payload: z.unknown(),
  receivedAt: epochMs.optional(),
});

/** A reading as ingest emits it (normalised): one sample of one device. */
const readingLineSchema = z.object({
  siteId: z.string().regex(IDENTIFIER_PATTERN),
  deviceId: z.string().regex(IDENTIFIER_PATTERN),
  ts: epochMs,
  receivedAt: epochMs.optional(),
  values: z
    .record(z.string().regex(METRIC_NAME_PATTERN), metricValueSchema)
    .refine(values => Object.keys(values).length > 0, 'values must hold at least one metric'),
});

/**
 * Parses a recording: JSON Lines (each line a pinned MQTT message `{topic, payload, receivedAt}`
 * or a normalised reading `{siteId, deviceId, ts, values, receivedAt?}`) or CSV
 * (`ts,siteId,deviceId,metric,value`, header optional; rows of one device and `ts` in a row make
 * one reading). An MQTT message goes through ingest's own `validateMessage` (`@vigil/ingest`):
 * the same schemas, registry check, unit conversion and device-clock handling as live, so a
 * replay evaluates what the live pipeline evaluated. Normalised readings and CSV rows are already
 * in Vigil's units: checked against the class's metrics, not converted. Never throws: every bad
 * line is an error naming its line.
 */
export function parseInput(
  text: string,
  lookup: (siteId: string, deviceId: string) => InputDevice | undefined,
  formatHint?: 'jsonl' | 'csv',
): ParsedInput {
  const lines = text.split(/\r?\n/);
  const firstLine = lines.find(line => line.trim().length > 0)?.trim() ?? '';
  const format = formatHint ?? (firstLine.startsWith('{') ? 'jsonl' : 'csv');
  const records: DeviceRecord[] = [];
  const errors: string[] = [];
  let errorCount = 0;
  const fail = (lineNumber: number, problem: string) => {
    errorCount += 1;
    if (errors.length < MAX_ERRORS) errors.push(`line ${lineNumber}: ${problem}`);
  };
  if (format === 'jsonl') {
    lines.forEach((line, index) => {
      if (line.trim().length === 0) return;
      const result = parseJsonLine(line, lookup);
      if (typeof result === 'string') fail(index + 1, result);
      else records.push(...result);
    });
  } else {
    parseCsv(lines, lookup, records, fail);
  }
  if (errorCount > errors.length) errors.push(`… and ${errorCount - errors.length} more`);
  if (records.length === 0 && errorCount === 0) errors.push('the input holds no records');
  return { records, errors, format };
}

function parseJsonLine(
  line: string,
  lookup: (siteId: string, deviceId: string) => InputDevice | undefined,
): DeviceRecord[] | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return `not JSON (${(error as Error).message.slice(0, 80)})`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return 'expected an object: an MQTT message {topic, payload, receivedAt} or a reading {siteId, deviceId, ts, values}';
  }
  if ('topic' in json) {
    const parsed = mqttLineSchema.safeParse(json);
    if (!parsed.success) return describeIssues(parsed.error.issues);
    return mqttRecords(parsed.data, lookup);
  }
  const parsed = readingLineSchema.safeParse(json);
  if (!parsed.success) return describeIssues(parsed.error.issues);
  const { siteId, deviceId, ts, values } = parsed.data;
  const device = lookup(siteId, deviceId);
  if (!device) return `${siteId}/${deviceId} is not in the registry`;
  const problem = valuesProblem(device, values);
  if (problem) return problem;
  const receivedAt = parsed.data.receivedAt ?? ts;
  return [recordedReading(device, ts, receivedAt, values)];
}

function mqttRecords(
  line: z.infer<typeof mqttLineSchema>,
  lookup: (siteId: string, deviceId: string) => InputDevice | undefined,
): DeviceRecord[] | string {
  let payload = line.payload;
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload);
    } catch {
      return 'payload: a string that is not JSON';
    }
  }
  const payloadTs =
    typeof payload === 'object' && payload !== null && 'ts' in payload ? payload.ts : undefined;
  const receivedAt = line.receivedAt ?? (typeof payloadTs === 'number' ? payloadTs : undefined);
  if (receivedAt === undefined) return 'receivedAt: required (the server receive time, epoch ms)';
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  const result = validateMessage(line.topic, bytes, { device: lookup }, receivedAt);
  if (!result.ok) return `${result.reason}: ${result.detail}`;
  const records: DeviceRecord[] = [];
  for (const record of result.records) if (record.kind !== 'canary') records.push(record);
  return records;
}

const CSV_HEADER = ['ts', 'siteId', 'deviceId', 'metric', 'value'];

function parseCsv(
  lines: readonly string[],
  lookup: (siteId: string, deviceId: string) => InputDevice | undefined,
  records: DeviceRecord[],
  fail: (lineNumber: number, problem: string) => void,
): void {
  let pending: { device: InputDevice; ts: number; values: Record<string, MetricValue> } | undefined;
  const flush = () => {
    if (!pending) return;
    records.push(recordedReading(pending.device, pending.ts, pending.ts, pending.values));
    pending = undefined;
  };
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim().length === 0) return;
    const cells = line.split(',').map(cell => cell.trim());
    if (cells.join(',') === CSV_HEADER.join(',')) return;
    if (cells.length !== 5) {
      fail(
        lineNumber,
        `expected 5 comma-separated fields ${CSV_HEADER.join(',')}, got ${cells.length}`,
      );
      return;
    }
    const [tsText, siteId, deviceId, metric, valueText] = cells as [
      string,
      string,
      string,
      string,
      string,
    ];
    const ts = Number(tsText);
    if (!/^\d+$/.test(tsText) || !Number.isSafeInteger(ts)) {
      fail(lineNumber, `ts "${tsText}" is not epoch milliseconds`);
      return;
    }
    const device = lookup(siteId, deviceId);
    if (!device) {
      fail(lineNumber, `${siteId}/${deviceId} is not in the registry`);
      return;
    }
    if (!METRIC_NAME_PATTERN.test(metric)) {
      fail(lineNumber, `metric "${metric}" is not a metric name`);
      return;
    }
    const value: MetricValue | undefined =
      valueText === 'true' ? true : valueText === 'false' ? false : parseNumber(valueText);
    if (value === undefined) {
      fail(lineNumber, `value "${valueText}" is not a finite number or true/false`);
      return;
    }
    const problem = valuesProblem(device, { [metric]: value });
    if (problem) {
      fail(lineNumber, problem);
      return;
    }
    if (pending && (pending.device !== device || pending.ts !== ts)) flush();
    if (!pending) pending = { device, ts, values: {} };
    pending.values[metric] = value;
  });
  flush();
}

function parseNumber(text: string): number | undefined {
  if (text.length === 0) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The class's metrics (channels included) or the device's `extraMetrics`, of the right kind. */
function valuesProblem(
  device: InputDevice,
  values: Record<string, MetricValue>,
): string | undefined {
  const problem = checkValues(device, values);
  if (problem === undefined) return undefined;
  const [reason, detail] = problem.split(':', 2);
  return `values: ${reason}: ${detail}`;
}

/**
 * A recorded reading, already in Vigil's units and on the device's clock as recorded: ingest's own
 * record builder, with no sequence number, no clock correction and not retained.
 */
function recordedReading(
  device: InputDevice,
  ts: number,
  receivedAt: number,
  values: Record<string, MetricValue>,
): DeviceRecord {
  return readingRecord(
    device,
    ts,
    receivedAt,
    undefined,
    true,
    ts - receivedAt,
    undefined,
    undefined,
    values,
  );
}
