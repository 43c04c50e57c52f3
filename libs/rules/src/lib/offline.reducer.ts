import { type DeviceRecord, type RuleSignal, isRetainedRecord } from '@vigil/contracts';

import type { DeadlineItem, DeadlineQueue } from './deadline-queue';
import type { OfflineRuleConfig } from './rule-config';
import {
  type DeviceContext,
  type RuleContext,
  formatSeconds,
  recordBody,
  signalKey,
} from './rule-signal';
import { type SavedFields, restoredNumber, savedNumber } from './saved-fields';

/** Rule id of the root-cause signal a gateway raises instead of `offline` (README "Gateways"). */
export const GATEWAY_OFFLINE_RULE_ID = 'gateway-offline';

/**
 * The offline rule's state for one device. Mutable and owned by one queue: the queue holds it
 * while it waits for its deadline (`queueIndex ≥ 0`), which is exactly when it is not active.
 */
export interface OfflineWatch extends DeadlineItem {
  readonly kind: 'offline';
  device: DeviceContext;
  config: OfflineRuleConfig;
  /** Server time (`receivedAt`) of the newest record, or the engine start before the first one. */
  lastSeenAt: number;
  /** False until the first record since engine start: silence is then counted from the start. */
  seen: boolean;
  active: boolean;
  /**
   * Server time silence is counted from at the earliest (the return of the device's gateway),
   * -Infinity otherwise: the deadline is `max(lastSeenAt, countFrom) + timeoutMs`.
   */
  countFrom: number;
  /** Due while its gateway was offline: neither queued nor raised until the gateway returns. */
  suppressed: boolean;
  /** Raised as its gateway's root-cause `gateway-offline` signal rather than as `offline`. */
  rootCause: boolean;
}

/** A watch that is neither queued nor active; `watchRecord` or `startWatch` queues it. */
export function createOfflineWatch(
  device: DeviceContext,
  config: OfflineRuleConfig,
  lastSeenAt: number,
  seen: boolean,
): OfflineWatch {
  return {
    kind: 'offline',
    device,
    config,
    lastSeenAt,
    seen,
    active: false,
    countFrom: -Infinity,
    suppressed: false,
    rootCause: false,
    dueAt: 0,
    queueIndex: -1,
  };
}

/** Server time after which the watch raises: `max(lastSeenAt, countFrom) + timeoutMs`. */
export function watchDeadline(watch: OfflineWatch): number {
  return Math.max(watch.lastSeenAt, watch.countFrom) + watch.config.timeoutMs;
}

/** Queues a new watch at its deadline (silence counted from `lastSeenAt`). */
export function startWatch(watch: OfflineWatch, queue: DeadlineQueue<OfflineWatch>): void {
  if (!watch.active) queue.schedule(watch, watchDeadline(watch));
}

/**
 * Any record from the device proves it alive and clears an active offline signal, except its
 * MQTT last will (`status.online === false`), which raises at once. `{ online: true }` clears too
 * when a connected device sends it; the same message delivered from the broker's retained store
 * (`status.retained`, e.g. each time ingest subscribes) is only the last known state: it proves
 * nothing, so it neither resets the silence timer nor clears the alarm (issue 10 finding 7). The
 * same holds for retained telemetry and events.
 */
export function watchRecord(
  watch: OfflineWatch,
  record: DeviceRecord,
  queue: DeadlineQueue<OfflineWatch>,
  context: RuleContext,
): RuleSignal | undefined {
  const body = recordBody(record);
  if (record.kind === 'status' && !record.status.online) {
    watch.seen = true;
    if (watch.active) return undefined;
    watch.active = true;
    queue.remove(watch);
    return offlineSignal(watch, true, 'Device reported offline (MQTT last will)', body.ts, context);
  }
  if (isRetainedRecord(record)) {
    // Retained data or events are old news too (the broker keeps whatever was published retained).
    if (!watch.active && watch.queueIndex < 0) queue.schedule(watch, watchDeadline(watch));
    return undefined;
  }
  const silentMs = body.receivedAt - watch.lastSeenAt;
  const wasSeen = watch.seen;
  if (body.receivedAt > watch.lastSeenAt) watch.lastSeenAt = body.receivedAt;
  watch.seen = true;
  watch.suppressed = false;
  if (watch.active) {
    watch.active = false;
    queue.schedule(watch, watchDeadline(watch));
    const message =
      record.kind === 'status'
        ? 'Device reported online again'
        : wasSeen
          ? `Data received again after ${formatSeconds(silentMs)} without data`
          : 'Data received for the first time since the rule engine started';
    return offlineSignal(watch, false, message, body.ts, context);
  }
  if (watch.queueIndex < 0) queue.schedule(watch, watchDeadline(watch));
  return undefined;
}

/**
 * Called when the queue says the watch may be due at server time `now`. Raises if the device has
 * been silent for longer than its timeout; otherwise a record arrived since it was queued, so it
 * goes back in at its real deadline. Records only write `lastSeenAt` (no queue work per reading);
 * each watch comes due about once per timeout period.
 */
export function watchDue(
  watch: OfflineWatch,
  now: number,
  queue: DeadlineQueue<OfflineWatch>,
  context: RuleContext,
): RuleSignal | undefined {
  if (watch.active) return undefined;
  const deadline = watchDeadline(watch);
  if (now <= deadline) {
    queue.schedule(watch, deadline);
    return undefined;
  }
  watch.active = true;
  queue.remove(watch);
  const silence = formatSeconds(now - watch.lastSeenAt);
  const limit = formatSeconds(watch.config.timeoutMs);
  const message = watch.seen
    ? `No data for ${silence} (offline after ${limit})`
    : `No data since the rule engine started ${silence} ago (offline after ${limit})`;
  return offlineSignal(watch, true, message, now, context);
}

/** Stops a watch (its rule was removed or disabled): cleared if it was active. */
export function stopWatch(
  watch: OfflineWatch,
  queue: DeadlineQueue<OfflineWatch>,
  at: number,
  context: RuleContext,
): RuleSignal | undefined {
  queue.remove(watch);
  watch.suppressed = false;
  if (!watch.active) return undefined;
  watch.active = false;
  const message = 'Offline rule removed or disabled by a configuration reload; no longer evaluated';
  return offlineSignal(watch, false, message, at, context);
}

export function offlineSignal(
  watch: OfflineWatch,
  active: boolean,
  message: string,
  at: number,
  context: RuleContext,
): RuleSignal {
  const { device, config } = watch;
  return {
    key: signalKey(device.siteId, device.deviceId, config.ruleId),
    ruleId: config.ruleId,
    siteId: device.siteId,
    deviceId: device.deviceId,
    deviceClass: device.deviceClass,
    areaId: device.areaId,
    category: config.category,
    priority: config.priority,
    level: 'offline',
    active,
    latched: false,
    metric: undefined,
    value: undefined,
    threshold: undefined,
    message,
    at,
    detectedAt: context.clock(),
  };
}

/**
 * The watch as a rule state snapshot saves it: `[seen, lastSeenAt, rootCause]` (the device and
 * rule it watches are the engine's, its deadline follows from these).
 */
export function saveWatch(watch: OfflineWatch): SavedFields {
  return [watch.seen ? 1 : 0, savedNumber(watch.lastSeenAt), watch.rootCause ? 1 : 0];
}

/**
 * What `saveWatch` saved, into the watch the engine has just created and queued for the device:
 * the watch stays the one queued, only what it knows is restored. Silence is still counted from
 * the start of this engine at the earliest (`countFrom`): the records the old owner had not
 * evaluated yet are still to come, and a tick must not outrun them. In place.
 */
export function restoreWatch(
  fields: SavedFields,
  active: boolean,
  watch: OfflineWatch,
): OfflineWatch {
  const from = watch.lastSeenAt;
  watch.active = active;
  watch.seen = fields[0] === 1;
  watch.lastSeenAt = Math.min(restoredNumber(fields[1], from), from);
  watch.countFrom = Math.max(watch.countFrom, from);
  watch.rootCause = fields[2] === 1;
  return watch;
}

/**
 * The watch set to its open alarm after a restore: an active watch leaves the queue (no second
 * raise), an inactive one waits for its deadline in it. In place.
 */
export function reconcileWatch(
  watch: OfflineWatch,
  active: boolean,
  queue: DeadlineQueue<OfflineWatch>,
): OfflineWatch {
  watch.active = active;
  if (active) {
    if (watch.queueIndex >= 0) queue.remove(watch);
  } else if (watch.queueIndex < 0) {
    queue.schedule(watch, watchDeadline(watch));
  }
  return watch;
}
