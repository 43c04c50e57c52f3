import { z } from 'zod';

import { EVENT_CODE_PATTERN, METRIC_NAME_PATTERN } from './identifiers';

/** Largest payload a device may send (spec §1: at most 64 KiB). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Samples in one gateway batch; more is a wrong shape, not a reason to buffer without bound. */
export const MAX_BATCH_SAMPLES = 1000;
export const MAX_METRICS_PER_SAMPLE = 64;

/** JSON numbers such as `1e999` parse to Infinity, so finiteness is checked here. */
export const metricValueSchema = z.union([z.number().finite(), z.boolean()]);

const epochMillisSchema = z.number().int().min(0).max(8_640_000_000_000_000);

export const telemetrySampleSchema = z.object({
  ts: epochMillisSchema.optional(),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  values: z
    .record(z.string().regex(METRIC_NAME_PATTERN), metricValueSchema)
    .refine(values => Object.keys(values).length > 0, 'values must hold at least one metric')
    .refine(
      values => Object.keys(values).length <= MAX_METRICS_PER_SAMPLE,
      `at most ${MAX_METRICS_PER_SAMPLE} metrics per sample`,
    ),
});
export type TelemetrySample = z.infer<typeof telemetrySampleSchema>;

export const telemetryBatchSchema = z.object({
  batch: z.array(telemetrySampleSchema).min(1).max(MAX_BATCH_SAMPLES),
});

/** A telemetry payload is one sample or a gateway batch of samples for one device. */
export const telemetryPayloadSchema = z.union([telemetrySampleSchema, telemetryBatchSchema]);
export type TelemetryPayload = z.infer<typeof telemetryPayloadSchema>;

export const eventPayloadSchema = z.object({
  ts: epochMillisSchema.optional(),
  code: z.string().regex(EVENT_CODE_PATTERN),
  detail: z.record(z.string().max(64), z.unknown()).optional(),
});
export type EventPayload = z.infer<typeof eventPayloadSchema>;

export const statusPayloadSchema = z.object({
  online: z.boolean(),
  ts: epochMillisSchema.optional(),
});
export type StatusPayload = z.infer<typeof statusPayloadSchema>;

/** What is republished to `vigil/v1/_deadletter/{reason}`: enough to replay or diagnose the message. */
export interface DeadLetter {
  readonly reason: string;
  readonly topic: string;
  readonly detail: string;
  readonly receivedAt: number;
  /** The original payload as UTF-8 text, or base64 when it was not valid UTF-8. */
  readonly payload: string;
  readonly encoding: 'utf8' | 'base64';
  /** Bytes of the original payload; oversized payloads are cut to their first 1 KiB here. */
  readonly bytes: number;
}
