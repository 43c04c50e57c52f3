import {
  DEVICE_CLASS_DEFINITIONS,
  MAX_FUTURE_SKEW_MS,
  MAX_PAYLOAD_BYTES,
  eventPayloadSchema,
  metricDefinition,
  parseDeviceTopic,
  statusPayloadSchema,
  telemetryBatchSchema,
  telemetrySampleSchema,
  type DeadLetterReason,
  type IngestRecord,
  type MetricValue,
  type TelemetrySample,
} from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { applyConversions, unitConversions } from './normalise';

export type Validation =
  | {
      readonly ok: true;
      readonly records: IngestRecord[];
      readonly samples: readonly TelemetrySample[];
    }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

export interface DeviceLookup {
  device(siteId: string, deviceId: string): RegisteredDevice | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(reason: DeadLetterReason, detail: string): Validation {
  return { ok: false, reason, detail };
}

/** Per-device facts derived once from the registry, not per message. */
interface DeviceFacts {
  readonly conversions: ReturnType<typeof unitConversions>;
  readonly extraMetrics: ReadonlySet<string>;
}
const factsCache = new WeakMap<RegisteredDevice, DeviceFacts>();

function factsOf(device: RegisteredDevice): DeviceFacts {
  let facts = factsCache.get(device);
  if (!facts) {
    const extra = device.attributes['extraMetrics'];
    facts = {
      conversions: unitConversions(device),
      extraMetrics: new Set(typeof extra === 'string' ? extra.split(',').map(s => s.trim()) : []),
    };
    factsCache.set(device, facts);
  }
  return facts;
}

function checkValues(
  device: RegisteredDevice,
  values: Record<string, MetricValue>,
): string | undefined {
  for (const [metric, value] of Object.entries(values)) {
    const definition = metricDefinition(device.deviceClass, metric);
    if (!definition) {
      if (factsOf(device).extraMetrics.has(metric)) continue;
      return `unknown-metric:${metric} is not a metric of ${device.deviceClass}`;
    }
    if (typeof value !== definition.kind) return `bad-value:${metric} must be a ${definition.kind}`;
  }
  return undefined;
}

/**
 * Validates one MQTT message against the public interface and the registry. Pure apart from the
 * clock value passed in; never throws for bad device data, it returns the dead-letter reason.
 */
export function validateMessage(
  topic: string,
  payload: Buffer,
  registry: DeviceLookup,
  receivedAt: number,
): Validation {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return reject('oversized', `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
  }
  const address = parseDeviceTopic(topic);
  if (!address)
    return reject('bad-topic', 'topic is not vigil/v1/{siteId}/{deviceId}/{kind} with valid ids');
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return reject('not-utf8', 'payload is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return reject('not-json', (error as Error).message.slice(0, 200));
  }
  const device = registry.device(address.siteId, address.deviceId);
  if (!device) {
    return reject('unknown-device', `${address.siteId}/${address.deviceId} is not in the registry`);
  }
  const base = {
    siteId: device.siteId,
    deviceId: device.deviceId,
    deviceClass: device.deviceClass,
  };

  switch (address.kind) {
    case 'telemetry': {
      const isBatch = typeof json === 'object' && json !== null && 'batch' in json;
      const parsed = (isBatch ? telemetryBatchSchema : telemetrySampleSchema).safeParse(json);
      if (!parsed.success)
        return reject(shapeOrValue(parsed.error.issues), describe(parsed.error.issues));
      const samples: TelemetrySample[] = 'batch' in parsed.data ? parsed.data.batch : [parsed.data];
      const records: IngestRecord[] = [];
      const facts = factsOf(device);
      for (const sample of samples) {
        const problem = checkValues(device, sample.values);
        if (problem) {
          const [reason, detail] = problem.split(':', 2) as [DeadLetterReason, string];
          return reject(reason, detail);
        }
        if (facts.conversions.length > 0) {
          const converted = applyConversions(sample.values, facts.conversions, device);
          if (!converted.ok) return reject('bad-value', converted.problem);
        }
        const skew = sample.ts === undefined ? undefined : sample.ts - receivedAt;
        const trusted = skew !== undefined && skew <= MAX_FUTURE_SKEW_MS;
        records.push({
          kind: 'reading',
          reading: {
            ...base,
            areaId: device.areaId,
            ts: trusted ? (sample.ts as number) : receivedAt,
            receivedAt,
            seq: sample.seq,
            deviceTime: trusted,
            clockSkewMs: skew,
            values: sample.values,
          },
        });
      }
      return { ok: true, records, samples };
    }
    case 'event': {
      const parsed = eventPayloadSchema.safeParse(json);
      if (!parsed.success)
        return reject(shapeOrValue(parsed.error.issues), describe(parsed.error.issues));
      if (!DEVICE_CLASS_DEFINITIONS[device.deviceClass].events.includes(parsed.data.code)) {
        return reject(
          'bad-value',
          `event code "${parsed.data.code}" is not an event of ${device.deviceClass}`,
        );
      }
      const event = {
        ...base,
        areaId: device.areaId,
        ts: parsed.data.ts ?? receivedAt,
        receivedAt,
        code: parsed.data.code,
        detail: parsed.data.detail,
      };
      return { ok: true, records: [{ kind: 'event', event }], samples: [] };
    }
    case 'status': {
      const parsed = statusPayloadSchema.safeParse(json);
      if (!parsed.success)
        return reject(shapeOrValue(parsed.error.issues), describe(parsed.error.issues));
      const status = {
        ...base,
        online: parsed.data.online,
        ts: parsed.data.ts ?? receivedAt,
        receivedAt,
      };
      return { ok: true, records: [{ kind: 'status', status }], samples: [] };
    }
  }
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

function describe(issues: Issues): string {
  return issues
    .slice(0, 3)
    .map(issue => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
