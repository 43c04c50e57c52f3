import { isValidIdentifier } from './identifiers';

/** Root of every public topic. Versioned so that a v2 can live beside it. */
export const TOPIC_ROOT = 'vigil/v1';

export const TELEMETRY_TOPIC_FILTER = 'vigil/v1/+/+/telemetry';
export const EVENT_TOPIC_FILTER = 'vigil/v1/+/+/event';
export const STATUS_TOPIC_FILTER = 'vigil/v1/+/+/status';

/** Bad input is republished here, one sub-topic per reason (spec §1). */
export const DEAD_LETTER_ROOT = 'vigil/v1/_deadletter';

/**
 * Service-to-service topics, used only when the services run as separate processes.
 * They sit outside `vigil/v1/+/+/…` so that no device topic can ever match them.
 */
export const INTERNAL_TOPIC_ROOT = 'vigil-internal/v1';
export const INTERNAL_READINGS_TOPIC = `${INTERNAL_TOPIC_ROOT}/readings`;
export const INTERNAL_ALARMS_TOPIC = `${INTERNAL_TOPIC_ROOT}/alarms`;
export const INTERNAL_COMMANDS_TOPIC = `${INTERNAL_TOPIC_ROOT}/commands`;
export const INTERNAL_REPLIES_ROOT = `${INTERNAL_TOPIC_ROOT}/replies`;

export type DeviceTopicKind = 'telemetry' | 'event' | 'status';

export interface DeviceTopic {
  readonly siteId: string;
  readonly deviceId: string;
  readonly kind: DeviceTopicKind;
}

const KINDS: ReadonlySet<string> = new Set(['telemetry', 'event', 'status']);

/** Parses `vigil/v1/{siteId}/{deviceId}/{kind}`; `null` for anything else, including hostile ids. */
export function parseDeviceTopic(topic: string): DeviceTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'vigil' || parts[1] !== 'v1') return null;
  const [, , siteId, deviceId, kind] = parts as [string, string, string, string, string];
  if (!KINDS.has(kind) || !isValidIdentifier(siteId) || !isValidIdentifier(deviceId)) return null;
  return { siteId, deviceId, kind: kind as DeviceTopicKind };
}

export function deviceTopic(siteId: string, deviceId: string, kind: DeviceTopicKind): string {
  return `${TOPIC_ROOT}/${siteId}/${deviceId}/${kind}`;
}

export function deadLetterTopic(reason: DeadLetterReason): string {
  return `${DEAD_LETTER_ROOT}/${reason}`;
}

/** Why a message was dead-lettered. Each reason is a counter label and a dead-letter sub-topic. */
export const DEAD_LETTER_REASONS = [
  'oversized',
  'not-utf8',
  'not-json',
  'bad-topic',
  'wrong-shape',
  'bad-value',
  'unknown-device',
  'site-mismatch',
  'unknown-metric',
  /** Nested deeper than `DEVICE_JSON_LIMITS.maxDepth` (checked on the bytes, before parsing). */
  'too-deep',
  /** An object or array with more than `DEVICE_JSON_LIMITS.maxItems` members. */
  'too-many-items',
  /** A string longer than `DEVICE_JSON_LIMITS.maxStringBytes`. */
  'string-too-long',
  /**
   * A malformed message on `vigil-internal/v1/…` (split mode): not JSON, over
   * `INTERNAL_JSON_LIMITS`, or not of its topic's schema. Counted in
   * `vigil_internal_rejected_total{topic}`, never passed on.
   */
  'bad-internal',
  /**
   * Ingest's own code threw on this message (a bug, never bad data by design): dead-lettered
   * and logged with the stack instead of ending the process, so one message never kills it.
   */
  'ingest-error',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];
