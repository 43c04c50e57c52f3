import type { CanaryHop, PipelineStatus, ServiceNotReady, UplinkStatus } from '@vigil/contracts';

/** The newest heartbeat, with the console's own clock when it arrived. */
export interface HeartbeatSeen {
  /** `Date.now()` of this browser when the heartbeat arrived. */
  readonly receivedAt: number;
  readonly serverTime: number;
  readonly pipeline: PipelineStatus;
  /** Split deployment: the processes not ready (services-readiness.ts); absent when none. */
  readonly services?: readonly ServiceNotReady[];
  /** A lower Vigil: its uplink while it is not ok (issue 15); absent while it is. */
  readonly uplink?: UplinkStatus;
}

/** Before the first heartbeat tells the gateway's limit (VIGIL_CANARY_TIMEOUT_MS), use this. */
export const DEFAULT_STALE_AFTER_MS = 10_000;

export type Staleness =
  | { readonly stale: false }
  | {
      readonly stale: true;
      /**
       * `no-heartbeat`: nothing from the gateway (socket or gateway dead: the screen is frozen);
       * `stalled`: the gateway names stalled hops; `canary-old`: the last canary through the
       * whole path is too old; `off`: nothing watches the path.
       */
      readonly reason: 'no-heartbeat' | 'stalled' | 'canary-old' | 'off';
      readonly seconds: number;
      readonly hops: readonly CanaryHop[];
    };

/**
 * Whether the operator must be told that the screen may not be current. Judged on the console's
 * own clock (a timer calls this every second), so that a dead socket or gateway, which sends
 * nothing at all, shows the banner too. Ages from the gateway are carried forward by the time
 * since the heartbeat arrived, never by comparing the two machines' clocks.
 */
export function staleness(
  heartbeat: HeartbeatSeen | undefined,
  now: number,
  watchingSince: number,
): Staleness {
  const limit = heartbeat?.pipeline.timeoutMs ?? DEFAULT_STALE_AFTER_MS;
  const silentFor = now - (heartbeat?.receivedAt ?? watchingSince);
  if (silentFor > limit)
    return { stale: true, reason: 'no-heartbeat', seconds: whole(silentFor), hops: [] };
  if (!heartbeat) return { stale: false };
  const { pipeline } = heartbeat;
  if (pipeline.canary === 'off') return { stale: true, reason: 'off', seconds: 0, hops: [] };
  if (pipeline.canary === 'stalled') {
    const ages = pipeline.stalled.map(hop => pipeline.hops[hop].ageMs ?? 0);
    return {
      stale: true,
      reason: 'stalled',
      seconds: whole(Math.max(0, ...ages) + silentFor),
      hops: pipeline.stalled,
    };
  }
  if (pipeline.lastCanaryAt !== undefined) {
    const canaryAge = heartbeat.serverTime - pipeline.lastCanaryAt + silentFor;
    if (canaryAge > limit)
      return { stale: true, reason: 'canary-old', seconds: whole(canaryAge), hops: [] };
  }
  return { stale: false };
}

function whole(ms: number): number {
  return Math.floor(ms / 1000);
}
