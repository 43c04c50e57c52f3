import type {
  DeviceClass,
  DeviceEvent,
  DeviceStatus,
  IngestRecord,
  Reading,
  RuleSignal,
} from '@vigil/contracts';

import type { RuleConfig } from './rule-config';

/** Services a reducer may use. Reducers read no global clock: `clock` is injected. */
export interface RuleContext {
  /** Server wall-clock ms, read only when a signal is emitted (its `detectedAt`). */
  readonly clock: () => number;
}

/** What every reducer returns: the next state and the signals of this step, in order. */
export interface RuleStep<S> {
  readonly state: S;
  readonly signals: readonly RuleSignal[];
}

/** Shared empty result, so that the common "nothing happened" step allocates no array. */
export const NO_SIGNALS: readonly RuleSignal[] = Object.freeze([]);

/** Server-time heartbeat that lets time-based rules (offline) fire without any data arriving. */
export interface EngineTick {
  readonly kind: 'tick';
  /** Server wall-clock ms (the scheduler's `now()`), same time base as `receivedAt`. */
  readonly now: number;
}

export type EngineInput = IngestRecord | EngineTick;

/** Where a signal comes from; a registry device has these fields. */
export interface DeviceContext {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly areaId: string | undefined;
}

/** A device and its resolved rules (`resolveDeviceRules`), in evaluation order. */
export interface DeviceRules extends DeviceContext {
  readonly rules: readonly RuleConfig[];
}

export function signalKey(siteId: string, deviceId: string, ruleId: string): string {
  return `${siteId}/${deviceId}/${ruleId}`;
}

/** Up to 4 significant digits (integers from 1000 up): `62`, `7.054`, `0.1213`, `4896`. */
export function formatNumber(value: number): string {
  return Math.abs(value) >= 1000 ? String(Math.round(value)) : String(Number(value.toPrecision(4)));
}

export function formatQuantity(value: number, unit: string | undefined): string {
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** The reading, event or status inside a record: each has siteId, deviceId, ts and receivedAt. */
export function recordBody(record: IngestRecord): Reading | DeviceEvent | DeviceStatus {
  switch (record.kind) {
    case 'reading':
      return record.reading;
    case 'event':
      return record.event;
    case 'status':
      return record.status;
  }
}

/** `45 s`, `1.5 s` */
export function formatSeconds(ms: number): string {
  return `${formatNumber(ms / 1000)} s`;
}
