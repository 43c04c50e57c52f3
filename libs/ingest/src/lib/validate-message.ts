import {
  CANARY_DEVICE_ID,
  DEVICE_CLASS_DEFINITIONS,
  DEVICE_JSON_LIMITS,
  checkJsonLimits,
  canaryPayloadSchema,
  deviceMetrics,
  MAX_METRICS_PER_SAMPLE,
  FUTURE_TOLERANCE_MS,
  MAX_FUTURE_SKEW_MS,
  MAX_PAYLOAD_BYTES,
  eventPayloadSchema,
  metricDefinition,
  parseDeviceTopic,
  statusPayloadSchema,
  telemetryBatchSchema,
  telemetrySampleSchema,
  type DeadLetterReason,
  type DeviceClass,
  type DeviceTopicKind,
  type IngestRecord,
  type MetricValue,
  type Reading,
  type TelemetrySample,
} from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { applyConversions, unitConversions } from './normalise';

export type Validation =
  | { readonly ok: true; readonly records: IngestRecord[] }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

export interface DeviceLookup {
  device(siteId: string, deviceId: string): RegisteredDevice | undefined;
  /** Whether the site exists: only a registered site has a canary. */
  site?(siteId: string): unknown;
}

function reject(reason: DeadLetterReason, detail: string): Validation {
  return { ok: false, reason, detail };
}

type Conversions = ReturnType<typeof unitConversions>;
/** Per-device unit conversions, derived once from the registry, not per message. */
const conversionsCache = new WeakMap<RegisteredDevice, Conversions>();
/** Most devices convert nothing: they share this one. */
const NO_CONVERSIONS: Conversions = [];

function conversionsOf(device: RegisteredDevice): Conversions {
  let conversions = conversionsCache.get(device);
  if (!conversions) {
    conversions = unitConversions(device);
    if (conversions.length === 0) conversions = NO_CONVERSIONS;
    conversionsCache.set(device, conversions);
  }
  return conversions;
}

/** Metric name → value kind of each class's own metrics (no channel prefixes), for the fast path. */
const METRIC_KINDS = new Map<DeviceClass, ReadonlyMap<string, string>>(
  Object.entries(DEVICE_CLASS_DEFINITIONS).map(([deviceClass, definition]) => [
    deviceClass as DeviceClass,
    new Map(Object.entries(definition.metrics).map(([metric, { kind }]) => [metric, kind])),
  ]),
);

const MAX_EPOCH_MS = 8_640_000_000_000_000;

/**
 * The common case, checked without zod: a JSON object with `values` (1–64 of the class's own
 * metrics, each a finite number or a boolean as the class defines it) and optional integer `ts`
 * and `seq`, nothing else. It accepts a subset of what `telemetrySampleSchema` plus the class
 * check accept, so anything it does not recognise (extra keys, channel metrics, extra metrics,
 * any mistake) goes through zod, which decides and describes the problem. About 3× cheaper per
 * message than the schema (docs/benchmarks.md, CPU profile).
 */
export function plainSample(json: unknown, deviceClass: DeviceClass): TelemetrySample | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const sample = json as { ts?: unknown; seq?: unknown; values?: unknown };
  let keys = 0;
  for (const key in sample) {
    if (key !== 'values' && key !== 'ts' && key !== 'seq') return undefined;
    keys += 1;
  }
  const { ts, seq, values } = sample;
  if (
    ts !== undefined &&
    !(Number.isSafeInteger(ts) && (ts as number) >= 0 && (ts as number) <= MAX_EPOCH_MS)
  )
    return undefined;
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) return undefined;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return undefined;
  const kinds = METRIC_KINDS.get(deviceClass);
  if (!kinds) return undefined;
  let metrics = 0;
  for (const metric in values) {
    const value = (values as Record<string, unknown>)[metric];
    const kind = kinds.get(metric);
    if (kind === undefined || typeof value !== kind) return undefined;
    if (kind === 'number' && !Number.isFinite(value)) return undefined;
    metrics += 1;
  }
  if (metrics === 0 || metrics > MAX_METRICS_PER_SAMPLE) return undefined;
  return keys === 0 ? undefined : (sample as TelemetrySample);
}

/**
 * `vigil/v1/{siteId}/{deviceId}/{kind}` of a registered device, found without splitting the
 * topic or testing identifiers (a registered device's ids are valid); anything else goes to
 * `parseDeviceTopic`, which tells a bad topic from an unknown device.
 */
function registeredAddress(
  topic: string,
  registry: DeviceLookup,
): { device: RegisteredDevice; kind: DeviceTopicKind } | undefined {
  if (!topic.startsWith(TOPIC_PREFIX)) return undefined;
  const siteEnd = topic.indexOf('/', TOPIC_PREFIX.length);
  if (siteEnd < 0) return undefined;
  const deviceEnd = topic.indexOf('/', siteEnd + 1);
  if (deviceEnd < 0 || topic.indexOf('/', deviceEnd + 1) >= 0) return undefined;
  const device = registry.device(
    topic.slice(TOPIC_PREFIX.length, siteEnd),
    topic.slice(siteEnd + 1, deviceEnd),
  );
  if (!device) return undefined;
  const kind = topic.slice(deviceEnd + 1);
  return kind === 'telemetry' || kind === 'event' || kind === 'status'
    ? { device, kind }
    : undefined;
}
const TOPIC_PREFIX = 'vigil/v1/';

const LIMIT_DETAIL = {
  'too-deep': `objects/arrays nested deeper than ${DEVICE_JSON_LIMITS.maxDepth} levels`,
  'too-many-items': `an object or array with more than ${DEVICE_JSON_LIMITS.maxItems} members`,
  'string-too-long': `a string longer than ${DEVICE_JSON_LIMITS.maxStringBytes} bytes`,
} as const;

export function checkValues(
  device: RegisteredDevice,
  values: Record<string, MetricValue>,
): string | undefined {
  for (const [metric, value] of Object.entries(values)) {
    const definition = metricDefinition(device.deviceClass, metric);
    if (!definition) {
      if (deviceMetrics(device).extra.has(metric)) continue;
      return `unknown-metric:${metric} is not a metric of ${device.deviceClass}`;
    }
    if (typeof value !== definition.kind) return `bad-value:${metric} must be a ${definition.kind}`;
  }
  return undefined;
}

/**
 * Strict UTF-8 (a malformed sequence or a lone surrogate is refused, not replaced), the byte-order
 * mark kept (`JSON.parse` then refuses it as before): `TextDecoder` is in every runtime, so this
 * lib runs in Node, the browser and tools alike, and on Node 20 it measured no slower than
 * `buffer.isUtf8` followed by `Buffer#toString` (~130 ns against ~190 ns for a 70-byte sample).
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The one place a reading record is built from a registered device: ingest for every sample, the
 * replay tool for recorded readings. Positional and field by field on purpose: it runs for every
 * sample, and an object spread here cost ~4 µs per message (V8 builds such objects slowly;
 * measured), more than parsing the JSON.
 */
export function readingRecord(
  device: RegisteredDevice,
  ts: number,
  receivedAt: number,
  seq: number | undefined,
  deviceTime: boolean,
  clockSkewMs: number | undefined,
  clockCorrected: Reading['clockCorrected'],
  retained: true | undefined,
  values: Record<string, MetricValue>,
): Extract<IngestRecord, { kind: 'reading' }> {
  return {
    kind: 'reading',
    reading: {
      siteId: device.siteId,
      deviceId: device.deviceId,
      deviceClass: device.deviceClass,
      areaId: device.areaId,
      ts,
      receivedAt,
      seq,
      deviceTime,
      clockSkewMs,
      clockCorrected,
      retained,
      values,
    },
  };
}

/**
 * Validates one MQTT message against the public interface and the registry. Pure apart from the
 * clock value passed in; never throws for bad device data, it returns the dead-letter reason.
 */
export function validateMessage(
  topic: string,
  payload: Uint8Array,
  registry: DeviceLookup,
  receivedAt: number,
  retained = false,
): Validation {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return reject('oversized', `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
  }
  const registered = registeredAddress(topic, registry);
  const address = registered ? undefined : parseDeviceTopic(topic);
  if (!registered && !address)
    return reject('bad-topic', 'topic is not vigil/v1/{siteId}/{deviceId}/{kind} with valid ids');
  const text = decodeUtf8(payload);
  if (text === undefined) return reject('not-utf8', 'payload is not valid UTF-8');
  // Before anything builds a tree from it: depth, width and string length on the raw bytes.
  const limit = checkJsonLimits(payload, DEVICE_JSON_LIMITS);
  if (limit !== 'ok') return reject(limit, LIMIT_DETAIL[limit]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return reject('not-json', (error as Error).message.slice(0, 200));
  }
  if (!registered && address?.deviceId === CANARY_DEVICE_ID && registry.site?.(address.siteId))
    return canaryRecord(address.siteId, address.kind, json, receivedAt);
  if (!registered) {
    return reject(
      'unknown-device',
      `${address?.siteId}/${address?.deviceId} is not in the registry`,
    );
  }
  const { device, kind } = registered;
  // Records are written out field by field (readingRecord): an object spread cost ~4 µs a message.

  switch (kind) {
    case 'telemetry': {
      const plain = plainSample(json, device.deviceClass);
      let samples: readonly TelemetrySample[];
      if (plain) samples = [plain];
      else {
        const isBatch = typeof json === 'object' && json !== null && 'batch' in json;
        const parsed = (isBatch ? telemetryBatchSchema : telemetrySampleSchema).safeParse(json);
        if (!parsed.success)
          return reject(shapeOrValue(parsed.error.issues), describeIssues(parsed.error.issues));
        samples = 'batch' in parsed.data ? parsed.data.batch : [parsed.data];
        for (const sample of samples) {
          const problem = checkValues(device, sample.values);
          if (problem) {
            const [reason, detail] = problem.split(':', 2) as [DeadLetterReason, string];
            return reject(reason, detail);
          }
        }
      }
      const records: IngestRecord[] = [];
      const conversions = conversionsOf(device);
      for (const sample of samples) {
        if (conversions.length > 0) {
          const converted = applyConversions(sample.values, conversions, device);
          if (!converted.ok) return reject('bad-value', converted.problem);
        }
        const skew = sample.ts === undefined ? undefined : sample.ts - receivedAt;
        // A device clock ahead of the server's by more than the tolerance is evaluated on server
        // time and flagged, never dropped: its event time would otherwise push the device's
        // watermark into the future and make its correct readings "late" (issue 10 finding 6).
        const trusted = skew !== undefined && skew <= FUTURE_TOLERANCE_MS;
        records.push(
          readingRecord(
            device,
            trusted ? (sample.ts as number) : receivedAt,
            receivedAt,
            sample.seq,
            trusted,
            skew,
            trusted || skew === undefined
              ? undefined
              : skew > MAX_FUTURE_SKEW_MS
                ? 'far-future'
                : 'future',
            retained || undefined,
            sample.values,
          ),
        );
      }
      return { ok: true, records };
    }
    case 'event': {
      const parsed = eventPayloadSchema.safeParse(json);
      if (!parsed.success)
        return reject(shapeOrValue(parsed.error.issues), describeIssues(parsed.error.issues));
      if (!DEVICE_CLASS_DEFINITIONS[device.deviceClass].events.includes(parsed.data.code)) {
        return reject(
          'bad-value',
          `event code "${parsed.data.code}" is not an event of ${device.deviceClass}`,
        );
      }
      const event = {
        siteId: device.siteId,
        deviceId: device.deviceId,
        deviceClass: device.deviceClass,
        areaId: device.areaId,
        ts: parsed.data.ts ?? receivedAt,
        receivedAt,
        code: parsed.data.code,
        detail: parsed.data.detail,
        retained: retained || undefined,
      };
      return { ok: true, records: [{ kind: 'event', event }] };
    }
    case 'status': {
      const parsed = statusPayloadSchema.safeParse(json);
      if (!parsed.success)
        return reject(shapeOrValue(parsed.error.issues), describeIssues(parsed.error.issues));
      const status = {
        siteId: device.siteId,
        deviceId: device.deviceId,
        deviceClass: device.deviceClass,
        online: parsed.data.online,
        ts: parsed.data.ts ?? receivedAt,
        receivedAt,
        retained,
      };
      return { ok: true, records: [{ kind: 'status', status }] };
    }
  }
}

/**
 * Vigil's own canary (`vigil/v1/{siteId}/_canary/telemetry`, canary.ts in contracts): checked off
 * the hot path, only once a topic has matched no registered device. Anything else on a canary
 * topic is dead-lettered like any bad input.
 */
function canaryRecord(
  siteId: string,
  kind: DeviceTopicKind,
  json: unknown,
  receivedAt: number,
): Validation {
  if (kind !== 'telemetry') return reject('bad-topic', `${CANARY_DEVICE_ID} only sends telemetry`);
  const parsed = canaryPayloadSchema.safeParse(json);
  if (!parsed.success) return reject('wrong-shape', describeIssues(parsed.error.issues));
  const { origin, seq, sentAt } = parsed.data.canary;
  return {
    ok: true,
    records: [{ kind: 'canary', canary: { siteId, origin, seq, sentAt, receivedAt } }],
  };
}

type Issues = ReadonlyArray<{
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
}>;

/** A value of the wrong type or not finite is `bad-value`; anything structural is `wrong-shape`. */
function shapeOrValue(issues: Issues): DeadLetterReason {
  const valueIssue = issues.every(issue => issue.path.includes('values') && issue.path.length >= 2);
  return valueIssue ? 'bad-value' : 'wrong-shape';
}

/** The first three zod issues, `path: message`, for a dead-letter detail or a replay error. */
export function describeIssues(issues: Issues): string {
  return issues
    .slice(0, 3)
    .map(issue => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
