import type {
  DeviceClass,
  DeviceEvent,
  IngestRecord,
  MetricValue,
  Reading,
} from '@vigil/contracts';

import { SITE } from './fixtures';

/** A reading of any class; `receivedAt` defaults to `ts`, `clockSkewMs` to 0. */
export function classReading(
  deviceClass: DeviceClass,
  deviceId: string,
  ts: number,
  values: Record<string, MetricValue>,
  extra: Partial<Reading> = {},
): Reading {
  return {
    siteId: SITE,
    deviceId,
    deviceClass,
    areaId: 'tank-farm',
    ts,
    receivedAt: ts,
    seq: undefined,
    deviceTime: true,
    clockSkewMs: 0,
    values,
    ...extra,
  };
}

export function classRecord(
  deviceClass: DeviceClass,
  deviceId: string,
  ts: number,
  values: Record<string, MetricValue>,
  extra: Partial<Reading> = {},
): IngestRecord {
  return { kind: 'reading', reading: classReading(deviceClass, deviceId, ts, values, extra) };
}

export function deviceEvent(
  deviceId: string,
  code: string,
  ts: number,
  detail?: Record<string, unknown>,
  deviceClass: DeviceClass = 'fire-panel',
): DeviceEvent {
  return {
    siteId: SITE,
    deviceId,
    deviceClass,
    areaId: 'control-room',
    ts,
    receivedAt: ts,
    code,
    detail,
  };
}

export function deviceEventRecord(
  deviceId: string,
  code: string,
  ts: number,
  detail?: Record<string, unknown>,
  deviceClass: DeviceClass = 'fire-panel',
): IngestRecord {
  return { kind: 'event', event: deviceEvent(deviceId, code, ts, detail, deviceClass) };
}

/**
 * A combustible reading as ingest makes it from a device whose clock is `skewMs` off the server's:
 * received at `receivedAt`, `ts` the device's time.
 */
export function skewedReading(
  deviceId: string,
  receivedAt: number,
  skewMs: number,
  values: Record<string, MetricValue> = { lel: 0 },
): Reading {
  return classReading('gas-combustible', deviceId, receivedAt + skewMs, values, {
    receivedAt,
    clockSkewMs: skewMs,
  });
}
