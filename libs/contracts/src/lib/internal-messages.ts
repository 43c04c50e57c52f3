import { z } from 'zod';

import { alarmActionSchema, alarmSchema } from './alarm.schema';
import type { Alarm, AlarmAction } from './alarms';
import { CANARY_HOPS } from './canary';
import { DEVICE_CLASSES } from './device-classes';
import { METRIC_NAME_PATTERN } from './identifiers';
import type { JsonLimits } from './json-limits';
import { metricValueSchema } from './payloads';
import { CLOCK_CORRECTIONS, type IngestRecord } from './readings';

/**
 * Schemas of what Vigil's own processes send each other on `vigil-internal/v1/…` (split mode).
 * These messages come from the broker, so from anything that can publish there: each one is
 * validated before it reaches the pipeline, and a malformed one is rejected and counted
 * (`vigil_internal_rejected_total{topic}`), never thrown (issue 11: `[null]` on the records topic
 * killed the persister and the gateway). Authentication of internal clients is the broker's job.
 */

/**
 * Internal batches are bigger than device payloads (2,000 items a batch) and carry alarms with
 * their history (100 entries) and event details (8 levels below their record): wider and deeper
 * limits, still checked on the bytes before parsing.
 */
export const INTERNAL_JSON_LIMITS: JsonLimits = {
  maxDepth: 16,
  maxItems: 10_000,
  maxStringBytes: 64 * 1024,
};

const id = z.string().min(1).max(256);
const ms = z.number().finite();
const deviceClass = z.enum(DEVICE_CLASSES);

const readingSchema = z.object({
  siteId: id,
  deviceId: id,
  deviceClass,
  areaId: id.optional(),
  ts: ms,
  receivedAt: ms,
  seq: z.number().int().min(0).optional(),
  deviceTime: z.boolean(),
  clockSkewMs: ms.optional(),
  clockCorrected: z.enum(CLOCK_CORRECTIONS).optional(),
  // Retained messages are never liveness (issue 10 finding 7): the flag must cross processes.
  retained: z.boolean().optional(),
  values: z.record(z.string().regex(METRIC_NAME_PATTERN), metricValueSchema),
});

const eventSchema = z.object({
  siteId: id,
  deviceId: id,
  deviceClass,
  areaId: id.optional(),
  ts: ms,
  receivedAt: ms,
  code: z.string().min(1).max(64),
  detail: z.record(z.string(), z.unknown()).optional(),
  retained: z.boolean().optional(),
});

const statusSchema = z.object({
  siteId: id,
  deviceId: id,
  deviceClass,
  online: z.boolean(),
  ts: ms,
  receivedAt: ms,
  retained: z.boolean().optional(),
});

const canaryStampSchema = z.object({
  siteId: id,
  origin: id,
  seq: z.number().int().min(0),
  sentAt: ms,
  receivedAt: ms,
});

export const ingestRecordSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('canary'), canary: canaryStampSchema }),
  z.object({ kind: z.literal('reading'), reading: readingSchema }),
  z.object({ kind: z.literal('event'), event: eventSchema }),
  z.object({ kind: z.literal('status'), status: statusSchema }),
]);

/** Passthrough: a field added to `Alarm` by a newer process is carried, not a reason to reject. */
export const alarmUpdateSchema = z.object({
  alarm: alarmSchema.passthrough(),
  action: alarmActionSchema,
});

export const internalRecordsBatchSchema = z.array(ingestRecordSchema).min(1);

/** A hop's canary reports (`vigil-internal/v1/canary`, split mode), judged by the gateway. */
export const internalCanaryBatchSchema = z
  .array(
    z.object({
      hop: z.enum(CANARY_HOPS),
      siteId: id,
      origin: id,
      seq: z.number().int().min(0),
      sentAt: ms,
      seenAt: ms,
    }),
  )
  .min(1);
export const internalAlarmsBatchSchema = z.array(alarmUpdateSchema).min(1);

/**
 * What passes these schemas is used as `IngestRecord[]` and `{ alarm: Alarm; action: AlarmAction }[]`:
 * JSON has no `undefined`, so the keys those types declare as `T | undefined` arrive absent, which
 * the schemas accept as optional; every present field has its contract type.
 */
export function parseInternalRecords(json: unknown): readonly IngestRecord[] | undefined {
  const parsed = internalRecordsBatchSchema.safeParse(json);
  return parsed.success ? (parsed.data as readonly IngestRecord[]) : undefined;
}

export function parseInternalAlarms(
  json: unknown,
): ReadonlyArray<{ readonly alarm: Alarm; readonly action: AlarmAction }> | undefined {
  const parsed = internalAlarmsBatchSchema.safeParse(json);
  return parsed.success
    ? (parsed.data as unknown as ReadonlyArray<{ alarm: Alarm; action: AlarmAction }>)
    : undefined;
}
