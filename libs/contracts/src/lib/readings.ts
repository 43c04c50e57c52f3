import type { CanaryStamp } from './canary';
import type { DeviceClass } from './device-classes';

/**
 * Beyond this a device clock is far ahead: reason `far-future` rather than `future` when its
 * timestamps are replaced (both are evaluated on server time; FUTURE_TOLERANCE_MS decides that).
 */
export const MAX_FUTURE_SKEW_MS = 60_000;

/**
 * How far ahead of the server's clock a device timestamp may be and still be used as event time
 * (issue 10 finding 6). Beyond it the reading is evaluated on server time (`receivedAt`) and
 * flagged (`clockCorrected`), so that no reading can push a device's event-time watermark more
 * than this into the future: a correct reading arriving after it is then at most this much
 * "older" than the watermark, inside the rules' 5 s late allowance, and event-time order returns
 * within this bound. 2 s covers what a device synchronised by (S)NTP is off by (well under 1 s)
 * plus the one-second resolution of many RTU clocks; a larger error is a clock fault, shown by
 * the clock-skew data-quality rule (`clockSkewMs` keeps the device's own value).
 */
export const FUTURE_TOLERANCE_MS = 2_000;

/**
 * Why a reading's `ts` is not the device's own: it was ahead of the server's clock (`future`,
 * `far-future`: set by ingest, evaluated at the receive time), or ahead of the device's own recent
 * clock (`device-clock`: set by the rule engine, evaluated on the device's established clock).
 */
export const CLOCK_CORRECTIONS = ['future', 'far-future', 'device-clock'] as const;
export type ClockCorrection = (typeof CLOCK_CORRECTIONS)[number];

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
   * FUTURE_TOLERANCE_MS ahead gets the server's time instead (`deviceTime` false, `clockCorrected`
   * set): a future timestamp would otherwise make every later correct reading look out of order.
   */
  readonly clockSkewMs: number | undefined;
  /**
   * Set when the device sent a `ts` more than FUTURE_TOLERANCE_MS ahead of the server: `ts` is
   * then the server's receive time (`deviceTime` false), and the reason says how far ahead it was
   * (`future` ≤ MAX_FUTURE_SKEW_MS < `far-future`). Counted in
   * `vigil_ingest_clock_corrected_total{reason}`; never dropped.
   */
  readonly clockCorrected?: ClockCorrection | undefined;
  /** Delivered from the broker's retained store (`DeviceStatus.retained`): old news, no liveness. */
  readonly retained?: boolean | undefined;
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
  /** Delivered from the broker's retained store (`DeviceStatus.retained`): old news, no liveness. */
  readonly retained?: boolean | undefined;
}

export interface DeviceStatus {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly online: boolean;
  readonly ts: number;
  readonly receivedAt: number;
  /**
   * Delivered by the broker from its retained store (MQTT `retain` flag on delivery), not sent
   * by a connected device just now: the device's last known state, never a sign of life. It never
   * resets the offline timer or clears an offline alarm (issue 10 finding 7).
   */
  readonly retained?: boolean | undefined;
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

/**
 * Whether the broker delivered this record from its retained store (the MQTT `retain` flag), e.g.
 * each time ingest subscribes: the device's last known state or data, never a sign of life (issue
 * 10 finding 7).
 */
export function isRetainedRecord(record: IngestRecord): boolean {
  switch (record.kind) {
    case 'reading':
      return record.reading.retained === true;
    case 'event':
      return record.event.retained === true;
    case 'status':
      return record.status.retained === true;
    case 'canary':
      return false;
  }
}
