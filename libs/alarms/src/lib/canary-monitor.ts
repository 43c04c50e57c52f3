import {
  CANARY_HOPS,
  type CanaryHop,
  type CanaryHopStatus,
  type CanaryReport,
  type PipelineStatus,
} from '@vigil/contracts';

export interface CanaryMonitorOptions {
  /** The publishing instance: reports of other origins (another gateway's canaries) are ignored. */
  readonly origin: string;
  /** A hop whose newest canary was sent longer ago than this is stalled. */
  readonly timeoutMs: number;
  /** The hops watched in this deployment (the store is not watched when it is switched off). */
  readonly hops: readonly CanaryHop[];
}

/** A (hop, site) that became stalled or recovered, for the log and the stall counter. */
export interface CanaryChange {
  readonly hop: CanaryHop;
  readonly siteId: string;
  readonly stalled: boolean;
  /** Age of the newest canary the hop had seen, at the moment of the change. */
  readonly ageMs: number;
}

/** A stalled hop to show as a system alarm: its root cause (see `evaluate`). */
export interface CanaryStallAlarm {
  readonly hop: CanaryHop;
  readonly siteId: string;
  readonly ageMs: number;
}

export interface CanaryVerdict {
  readonly status: PipelineStatus;
  readonly changes: readonly CanaryChange[];
  /** The stalls to show as alarms now (root causes only): the desired set, not a diff. */
  readonly alarms: readonly CanaryStallAlarm[];
  /**
   * How far the clock went back since the canaries seen were sent (the largest `sentAt − now`),
   * when it did: the monitor has re-based those hops on `now` (see `evaluate`).
   */
  readonly clockWentBackMs?: number;
}

interface SiteWatch {
  /** When the site started being watched: a hop that never saw a canary counts from here. */
  since: number;
  /** Newest `sentAt` seen at each hop. */
  readonly seen: Map<CanaryHop, number>;
  /** Hops judged stalled at the last evaluation. */
  readonly stalled: Set<CanaryHop>;
}

/**
 * Judges the canary's progress through the pipeline. Pure apart from its own state: time is the
 * `now` passed in, so tests drive it with a fake clock. Each (hop, site) is stalled when the
 * newest canary it saw was sent more than `timeoutMs` ago (or, when it saw none, the site has been
 * watched that long), and recovers as soon as a newer canary arrives.
 *
 * Alarms name root causes only: every hop hangs off ingest, so while the canary does not reach
 * ingest for a site, the later hops of that site are reported in the status but raise no alarm
 * of their own (one alarm per cause, not four: EEMUA 191 floods).
 */
export class CanaryMonitor {
  private readonly sites = new Map<string, SiteWatch>();
  private readonly watched: ReadonlySet<CanaryHop>;

  constructor(private readonly options: CanaryMonitorOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.watched = new Set(options.hops);
  }

  /** The sites to watch (the registry's): new ones count from `now`, removed ones are dropped. */
  setSites(siteIds: Iterable<string>, now: number): void {
    const wanted = new Set(siteIds);
    for (const siteId of this.sites.keys()) if (!wanted.has(siteId)) this.sites.delete(siteId);
    for (const siteId of wanted)
      if (!this.sites.has(siteId))
        this.sites.set(siteId, { since: now, seen: new Map(), stalled: new Set() });
  }

  /** A hop saw a canary. False when it is not ours or not for a watched site (ignored). */
  seen(report: CanaryReport): boolean {
    if (report.origin !== this.options.origin) return false;
    const site = this.sites.get(report.siteId);
    if (!site || !this.watched.has(report.hop)) return false;
    const previous = site.seen.get(report.hop);
    if (previous === undefined || report.sentAt > previous)
      site.seen.set(report.hop, report.sentAt);
    return true;
  }

  evaluate(now: number): CanaryVerdict {
    const clockWentBackMs = this.rebaseOnClockBack(now);
    const changes: CanaryChange[] = [];
    const alarms: CanaryStallAlarm[] = [];
    const worstAge = new Map<CanaryHop, number>();
    const stalledSites = new Map<CanaryHop, string[]>();
    let lastCanaryAt: number | undefined;
    let anySite = false;
    for (const [siteId, site] of this.sites) {
      anySite = true;
      let complete = Number.POSITIVE_INFINITY;
      const ages = new Map<CanaryHop, number>();
      for (const hop of this.options.hops) {
        const sentAt = site.seen.get(hop);
        complete = Math.min(complete, sentAt ?? Number.NEGATIVE_INFINITY);
        const ageMs = now - Math.max(sentAt ?? Number.NEGATIVE_INFINITY, site.since);
        ages.set(hop, ageMs);
        worstAge.set(hop, Math.max(worstAge.get(hop) ?? Number.NEGATIVE_INFINITY, ageMs));
        const stalled = ageMs > this.options.timeoutMs;
        if (stalled) {
          const list = stalledSites.get(hop);
          if (list) list.push(siteId);
          else stalledSites.set(hop, [siteId]);
        }
        if (stalled !== site.stalled.has(hop)) {
          if (stalled) site.stalled.add(hop);
          else site.stalled.delete(hop);
          changes.push({ hop, siteId, stalled, ageMs });
        }
      }
      if (Number.isFinite(complete))
        lastCanaryAt = lastCanaryAt === undefined ? complete : Math.min(lastCanaryAt, complete);
      const roots = site.stalled.has('ingest') ? ['ingest' as const] : [...site.stalled];
      for (const hop of CANARY_HOPS)
        if (roots.includes(hop)) alarms.push({ hop, siteId, ageMs: ages.get(hop) ?? 0 });
    }
    const hops = {} as Record<CanaryHop, CanaryHopStatus>;
    const stalled: CanaryHop[] = [];
    for (const hop of CANARY_HOPS) {
      if (!this.watched.has(hop)) {
        hops[hop] = { state: 'off', ageMs: undefined, stalledSites: [] };
        continue;
      }
      const sites = stalledSites.get(hop) ?? [];
      if (sites.length > 0) stalled.push(hop);
      hops[hop] = {
        state: sites.length > 0 ? 'stalled' : 'ok',
        ageMs: anySite ? worstAge.get(hop) : undefined,
        stalledSites: sites,
      };
    }
    return {
      status: {
        canary: stalled.length > 0 ? 'stalled' : 'ok',
        stalled,
        hops,
        lastCanaryAt,
        timeoutMs: this.options.timeoutMs,
      },
      changes,
      alarms,
      ...(clockWentBackMs > 0 ? { clockWentBackMs } : {}),
    };
  }

  /**
   * The canaries are stamped with this process's own clock, so a `sentAt` after `now` means the
   * clock was set back (an NTP step, a VM restored, an operator's `date`). Left alone, every age
   * would be negative until the clock caught up again: for the size of the jump (an hour, a day)
   * no hop could ever be judged stalled and a dead pipeline would show green. Such a hop forgets
   * the canary from the "future" and counts from `now`, like a site just added: it is stalled
   * unless a canary sent after the jump arrives within the timeout. Returns the largest jump seen.
   */
  private rebaseOnClockBack(now: number): number {
    let jumpMs = 0;
    for (const site of this.sites.values()) {
      let rebase = site.since > now;
      if (rebase) jumpMs = Math.max(jumpMs, site.since - now);
      for (const [hop, sentAt] of site.seen) {
        if (sentAt <= now) continue;
        jumpMs = Math.max(jumpMs, sentAt - now);
        site.seen.delete(hop);
        rebase = true;
      }
      if (rebase) site.since = now;
    }
    return jumpMs;
  }
}

/** The status of a deployment whose canary is disabled: nothing watches the path. */
export function canaryOffStatus(timeoutMs: number): PipelineStatus {
  const off: CanaryHopStatus = { state: 'off', ageMs: undefined, stalledSites: [] };
  return {
    canary: 'off',
    stalled: [],
    hops: { ingest: off, rules: off, gateway: off, persister: off },
    lastCanaryAt: undefined,
    timeoutMs,
  };
}

/**
 * The status as one user may see it: only the sites in their scope are named, and a hop stalled
 * only for sites they cannot see counts as ok for them (their screen is not stale for it).
 */
export function pipelineStatusFor(
  status: PipelineStatus,
  canSeeSite: (siteId: string) => boolean,
): PipelineStatus {
  if (status.stalled.length === 0) return status;
  const hops = { ...status.hops };
  const stalled: CanaryHop[] = [];
  for (const hop of CANARY_HOPS) {
    const hopStatus = hops[hop];
    if (hopStatus.state !== 'stalled') continue;
    const stalledSites = hopStatus.stalledSites.filter(canSeeSite);
    hops[hop] = { ...hopStatus, state: stalledSites.length > 0 ? 'stalled' : 'ok', stalledSites };
    if (stalledSites.length > 0) stalled.push(hop);
  }
  return { ...status, canary: stalled.length > 0 ? 'stalled' : 'ok', stalled, hops };
}
