import type { ServiceNotReady, UplinkStatus } from '@vigil/contracts';

import type { HeartbeatSeen } from './staleness';

/** One process that says it is not ready, as the banner shows it. */
export interface NotReadyShown {
  readonly instance: string;
  readonly services: readonly string[];
  /** Its failing checks (`ingest`, `partitions`, `journals`, …). */
  readonly checks: readonly string[];
  /** The gateway's words for each failing check, `check: reason`. */
  readonly reasons: readonly string[];
  /** How long it has been not ready, carried forward on the console's clock. */
  readonly seconds: number;
}

/**
 * The processes of a split deployment whose readiness fails, as the newest heartbeat lists them
 * (gateway `/readyz` `checks.services`): the console shows an error banner while any is listed,
 * because a process that is not ready may delay, drop or not evaluate alarms. A heartbeat without
 * the field (all ready, or a gateway older than it) shows none. Durations are carried forward by
 * the time since the heartbeat arrived, never by comparing the two machines' clocks.
 */
export function servicesNotReady(
  heartbeat: (HeartbeatSeen & { readonly services?: readonly ServiceNotReady[] }) | undefined,
  now: number,
): readonly NotReadyShown[] {
  const listed = heartbeat?.services ?? [];
  return listed.map(({ instance, services, failing, since }) => ({
    instance,
    services,
    checks: failing.map(check => check.check),
    reasons: failing.map(check => `${check.check}: ${check.reason}`),
    seconds: Math.max(
      0,
      Math.floor(
        (heartbeat ? heartbeat.serverTime - since + now - heartbeat.receivedAt : 0) / 1000,
      ),
    ),
  }));
}

/** `ingest-1 (ingest), rules-2 (partitions, journals)`: instance and failing checks. */
export function notReadyList(shown: readonly NotReadyShown[]): string {
  return shown.map(entry => `${entry.instance} (${entry.checks.join(', ')})`).join(', ');
}

/** The numbers of the uplink banner (issue 15): what waits, its bound, failures, refused items. */
export function uplinkBannerFields(uplink: UplinkStatus): Record<string, number> {
  return {
    backlog: uplink.backlog,
    capacity: uplink.capacity,
    failures: uplink.consecutiveFailures,
    dropped: Object.values(uplink.dropped).reduce((sum, n) => sum + n, 0),
  };
}
