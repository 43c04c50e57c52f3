import type { SupervisionOrder, UplinkEnterprise } from '@vigil/contracts';

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

type ForwardedHazard = UplinkEnterprise['hazards'][number];

/**
 * The approval (`kind: "approve"`) of a hazard issued here and not answered by the lower yet: on
 * its way down; the server refuses another one meanwhile (docs/interfaces.md §Uplink).
 */
export function pendingApproval(
  enterprise: Pick<UplinkEnterprise, 'orders'>,
  hazardId: string,
): SupervisionOrder | undefined {
  return enterprise.orders.find(
    order => order.kind === 'approve' && order.hazardId === hazardId && order.outcome === undefined,
  );
}

/**
 * Whether the upper may approve (批准销号) a forwarded hazard: major, accepted, no `approve` step
 * received, no approval of it on its way down — the server's own conditions for a 201 (it answers
 * 409 otherwise). The role is the caller's business (operators see no button).
 */
export function approvable(
  enterprise: Pick<UplinkEnterprise, 'orders'>,
  hazard: Pick<ForwardedHazard, 'hazardId' | 'level' | 'state' | 'steps'>,
): boolean {
  return (
    hazard.level === 'major' &&
    hazard.state === 'accepted' &&
    !hazard.steps.some(step => step.transition === 'approve') &&
    pendingApproval(enterprise, hazard.hazardId) === undefined
  );
}
