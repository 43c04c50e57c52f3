import type { Reading } from '@vigil/contracts';

import {
  DEFAULT_LATE_ALLOWANCE_MS,
  NO_SIGNALS,
  type ReadingOrder,
  type RuleStep,
  readingOrder,
} from './rule-signal';

/** One device's slot in a single-rule operator: the rule state and the event-time watermark. */
export interface DeviceSlot<S> {
  /** Largest `reading.ts` processed. */
  lastTs: number;
  /** Readings older than `lastTs` (within the allowance or not). */
  outOfOrder: number;
  /** Readings older than `lastTs − lateAllowanceMs`: ignored. */
  late: number;
  state: S;
}

/** siteId → deviceId → slot: nested maps, so a lookup builds no key string per reading. */
export type DeviceStreamState<S> = Map<string, Map<string, DeviceSlot<S>>>;

/**
 * One reading through a per-device rule, for the single-rule operators (`rangeRule`, `rateRule`,
 * …): finds or creates the device's slot, classifies the reading against its watermark, and calls
 * `reduce` for in-order readings and for readings within the allowance (late ones are counted
 * only). The map is updated in place, like the engine's.
 */
export function reduceDeviceStream<S>(
  devices: DeviceStreamState<S>,
  reading: Reading,
  initial: () => S,
  reduce: (state: S, reading: Reading, order: ReadingOrder) => RuleStep<S>,
  lateAllowanceMs: number = DEFAULT_LATE_ALLOWANCE_MS,
): RuleStep<DeviceStreamState<S>> {
  let site = devices.get(reading.siteId);
  if (!site) {
    site = new Map();
    devices.set(reading.siteId, site);
  }
  let slot = site.get(reading.deviceId);
  if (!slot) {
    slot = { lastTs: -Infinity, outOfOrder: 0, late: 0, state: initial() };
    site.set(reading.deviceId, slot);
  }
  const order = readingOrder(reading.ts, slot.lastTs, lateAllowanceMs);
  if (order === 'in-order') {
    slot.lastTs = reading.ts;
  } else {
    slot.outOfOrder += 1;
    if (order === 'late') {
      slot.late += 1;
      return { state: devices, signals: NO_SIGNALS };
    }
  }
  const step = reduce(slot.state, reading, order);
  slot.state = step.state;
  return { state: devices, signals: step.signals };
}
