import type { UplinkEnterprise } from '@vigil/contracts';

/** Minutes without a batch after which an enterprise's link is shown as stale (heartbeat-free). */
export const LINK_STALE_MINUTES = 5;

export type UplinkFeatures = { readonly upper: boolean; readonly lower: boolean };

/** What one answer says of a side of the uplink: present, absent, or not known yet (ask again). */
export function sidePresent(status: number): boolean | undefined {
  // The controllers exist only where the side is configured: 404 means absent. 403 (a user the
  // authorisation refuses) still means present; no answer or a server error tells nothing.
  if (status === 404) return false;
  if ((status >= 200 && status < 300) || status === 403) return true;
  return undefined;
}

/** What an instance has of the uplink, from its answers; `settled` false: ask again later. */
export function uplinkFeatures(
  upperStatus: number,
  lowerStatus: number,
): UplinkFeatures & { readonly settled: boolean } {
  const upper = sidePresent(upperStatus);
  const lower = sidePresent(lowerStatus);
  return {
    upper: upper ?? false,
    lower: lower ?? false,
    settled: upper !== undefined && lower !== undefined,
  };
}

export interface EnterpriseSummary {
  /** Open alarms (state not `normal`) by priority 1–4. */
  readonly openByPriority: readonly [number, number, number, number];
  /** Hazards by state, the closed ones too. */
  readonly hazardsByState: Readonly<Record<string, number>>;
  /** Hazards not closed whose latest step says overdue. */
  readonly overdue: number;
  /** Minutes since the last batch, or undefined when none was received yet. */
  readonly silentMinutes: number | undefined;
  readonly stale: boolean;
}

export function summariseEnterprise(enterprise: UplinkEnterprise, now: number): EnterpriseSummary {
  const open: [number, number, number, number] = [0, 0, 0, 0];
  for (const alarm of enterprise.alarms)
    if (alarm.state !== 'normal') open[alarm.priority - 1] = (open[alarm.priority - 1] ?? 0) + 1;
  const hazardsByState: Record<string, number> = {};
  let overdue = 0;
  for (const hazard of enterprise.hazards) {
    hazardsByState[hazard.state] = (hazardsByState[hazard.state] ?? 0) + 1;
    if (hazard.overdue && hazard.state !== 'closed') overdue += 1;
  }
  const silentMinutes =
    enterprise.lastReceivedAt === undefined
      ? undefined
      : Math.max(0, Math.floor((now - enterprise.lastReceivedAt) / 60_000));
  return {
    openByPriority: open,
    hazardsByState,
    overdue,
    silentMinutes,
    stale: silentMinutes === undefined || silentMinutes >= LINK_STALE_MINUTES,
  };
}
