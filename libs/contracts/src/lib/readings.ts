import type { CanaryStamp } from './canary';
import type { DeviceClass } from './device-classes';

/** How far ahead of the server a device clock may run before its timestamps are replaced. */
export const MAX_FUTURE_SKEW_MS = 60_000;

export type MetricValue = number | boolean;

/**
 * A validated, normalised telemetry sample: what ingest hands to the rules and the persister.
 * `ts` is event time (the device's clock, or the server's when the device sent none).
 */
export interface Reading {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly areaId: string | undefined;
  readonly ts: number;
  readonly receivedAt: number;
  readonly seq: number | undefined;
  /** True when `ts` came from the device, false when the server stamped it. */
  readonly deviceTime: boolean;
  /**
   * Device clock minus server clock at receipt, when the device sent `ts`. A device more than
   * MAX_FUTURE_SKEW_MS ahead gets the server's time instead (`deviceTime` false): a far-future
   * timestamp would otherwise make every later correct reading look out of order.
   */
  readonly clockSkewMs: number | undefined;
  readonly values: Readonly<Record<string, MetricValue>>;
}

export interface DeviceEvent {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly areaId: string | undefined;
  readonly ts: number;
  readonly receivedAt: number;
  readonly code: string;
  readonly detail: Readonly<Record<string, unknown>> | undefined;
}

export interface DeviceStatus {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly online: boolean;
  readonly ts: number;
  readonly receivedAt: number;
}

/** Everything ingest emits, in arrival order per device. */
export type IngestRecord =
  | { readonly kind: 'reading'; readonly reading: Reading }
  | { readonly kind: 'event'; readonly event: DeviceEvent }
  | { readonly kind: 'status'; readonly status: DeviceStatus }
  /** Vigil's own canary (device `_canary`): crosses every hop, is never a device (canary.ts). */
  | { readonly kind: 'canary'; readonly canary: CanaryStamp };

/** The records that come from a real device: everything but the canary. */
export type DeviceRecord = Exclude<IngestRecord, { kind: 'canary' }>;
