import { Inject, Injectable, Logger } from '@nestjs/common';

import type { ServiceNotReady, ServiceReadiness } from '@vigil/contracts';

import { HEALTH_TTL_MS, healthKey } from '../bus/jetstream/subjects';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import type { Readiness } from '../gateway/api-responses';
import { VigilMetrics } from '../metrics/metrics';

type ServicesDetails = NonNullable<NonNullable<Readiness['details']>['services']>;

/** A process whose entry expired or was deleted is listed as `gone` this long, then forgotten. */
export const GONE_LISTED_MS = 5 * 60_000;
/**
 * Processes tracked at most (a deployment has a handful; the bound keeps a flood of keys from
 * growing memory). Beyond it, new keys are ignored, logged and counted as unreadable.
 */
const MAX_TRACKED = 1000;
/** Entries listed on /readyz at most, per list. */
const MAX_LISTED = 100;

interface Tracked {
  value: ServiceReadiness;
  /** This process's clock when the entry arrived. */
  seenAt: number;
  /** Deleted by its process (it stopped) at this time. */
  leftAt?: number;
}

/**
 * The split deployment's readiness exchange (VIGIL_BUS=jetstream, docs/interfaces.md §Service
 * health), as state and judgement: whether this process's own readiness reaches `vigil_health`,
 * and (a gateway) the latest entry of every other process. HealthExchange does the I/O.
 *
 * An entry is judged on this process's clock by when it arrived (never by comparing clocks): not
 * renewed within HEALTH_TTL_MS, its process is `gone` (listed for GONE_LISTED_MS, not a failing
 * check: the pipeline canary reports a dead hop). A gateway that has not seen its own entry come
 * back within HEALTH_TTL_MS does not see the others either: it says so (checks.services false),
 * never "all ready" while blind.
 */
@Injectable()
export class ServicesHealth {
  private readonly logger = new Logger('ServicesHealth');
  /** This process's key in vigil_health. */
  readonly self: string;
  /** A gateway: it watches the bucket and judges the others. */
  readonly watches: boolean;
  private startedAt: number;
  private publishedAt: number | undefined;
  private publishError: string | undefined;
  private ownSeenAt: number | undefined;
  private readonly tracked = new Map<string, Tracked>();
  private overflowLogged = false;

  /** The clock (tests set their own). */
  now: () => number = Date.now;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {
    this.self = healthKey(config.services, config.bus.instance);
    this.watches = config.services.includes('gateway');
    this.startedAt = this.now();
  }

  /** The exchange starts now (the start before it does not count as silence). */
  begin(): void {
    this.startedAt = this.now();
  }

  published(): void {
    this.publishedAt = this.now();
    this.publishError = undefined;
  }

  /** Returns whether this failure starts a streak (the caller logs only that one). */
  publishFailed(error: string): boolean {
    const first = this.publishError === undefined;
    this.publishError = error;
    this.metrics.servicesHealthPublishFailures.inc();
    return first;
  }

  /** An entry of the bucket arrived (`value` undefined: deleted or purged). */
  seen(key: string, value: ServiceReadiness | undefined): void {
    const now = this.now();
    if (key === this.self) {
      if (value) this.ownSeenAt = now;
      return;
    }
    const known = this.tracked.get(key);
    if (!value) {
      if (known) known.leftAt = now;
      return;
    }
    if (!known && this.tracked.size >= MAX_TRACKED) {
      this.metrics.servicesHealthUnreadable.inc();
      if (!this.overflowLogged)
        this.logger.error(
          `vigil_health has more than ${MAX_TRACKED} processes: ${key} and later ones are ignored`,
        );
      this.overflowLogged = true;
      return;
    }
    this.tracked.set(key, { value, seenAt: now });
  }

  /** An entry that is not a readiness: its process shows as not ready (it cannot be read). */
  unreadableEntry(key: string, problem: string): void {
    this.metrics.servicesHealthUnreadable.inc();
    const now = this.now();
    const [services = '?', instance = key] = key.split('.', 2);
    this.seen(key, {
      instance,
      services: services.split('-'),
      ok: false,
      failing: [{ check: 'health-entry', reason: `unreadable entry: ${problem}`, since: now }],
      at: now,
    });
  }

  /** checks.services and its details, or undefined when the exchange has nothing to say. */
  report(): { readonly ok: boolean; readonly details?: ServicesDetails } {
    const { notReady, gone } = this.judge();
    const problems = this.ownProblems();
    const ok = problems.length === 0 && notReady.length === 0;
    if (ok && gone.length === 0) return { ok };
    return {
      ok,
      details: {
        instance: this.self,
        ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
        notReady: notReady.slice(0, MAX_LISTED),
        gone: gone.slice(0, MAX_LISTED),
      },
    };
  }

  /** What the console hears in the heartbeat: the processes not ready, this one if it is blind. */
  notReady(): ServiceNotReady[] {
    const listed: ServiceNotReady[] = this.judge()
      .notReady.slice(0, MAX_LISTED)
      .map(({ instance, services, failing, since }) => ({ instance, services, failing, since }));
    const problems = this.ownProblems();
    if (problems.length > 0) {
      const since = this.ownSeenAt ?? this.publishedAt ?? this.startedAt;
      listed.push({
        instance: this.config.bus.instance,
        services: this.config.services,
        failing: [{ check: 'services', reason: problems.join('; '), since }],
        since,
      });
    }
    return listed;
  }

  /** A gateway whose own entry has not come back from the bucket within HEALTH_TTL_MS. */
  blind(): boolean {
    return this.watches && this.now() - (this.ownSeenAt ?? this.startedAt) > HEALTH_TTL_MS;
  }

  /** This process's own part: its readiness not published, or (gateway) the bucket not seen. */
  private ownProblems(): string[] {
    const now = this.now();
    const problems: string[] = [];
    const published = this.publishedAt ?? this.startedAt;
    if (now - published > HEALTH_TTL_MS)
      problems.push(
        `this process's readiness has not reached vigil_health for ${seconds(now - published)} s` +
          (this.publishError ? ` (${this.publishError})` : ''),
      );
    if (this.blind())
      problems.push(
        `no entry from vigil_health for ${seconds(now - (this.ownSeenAt ?? this.startedAt))} s: the other processes' readiness is not seen`,
      );
    this.metrics.servicesHealthStale.set(problems.length > 0 ? 1 : 0);
    return problems;
  }

  /** The latest entries, sorted by key; forgets what has been gone for GONE_LISTED_MS. */
  private judge(): { notReady: ServicesDetails['notReady']; gone: ServicesDetails['gone'] } {
    const now = this.now();
    const notReady: ServicesDetails['notReady'][number][] = [];
    const gone: ServicesDetails['gone'][number][] = [];
    for (const [key, entry] of [...this.tracked].sort(([a], [b]) => a.localeCompare(b))) {
      const { value } = entry;
      const expiredAt = now - entry.seenAt > HEALTH_TTL_MS ? entry.seenAt : undefined;
      const goneAt = entry.leftAt ?? expiredAt;
      if (goneAt !== undefined) {
        if (now - goneAt > GONE_LISTED_MS) this.tracked.delete(key);
        else
          gone.push({
            instance: value.instance,
            services: value.services,
            lastSeenAt: entry.seenAt,
            left: entry.leftAt !== undefined,
          });
        continue;
      }
      if (value.ok) continue;
      notReady.push({
        instance: value.instance,
        services: value.services,
        failing: value.failing,
        since: Math.min(value.at, ...value.failing.map(check => check.since)),
        at: value.at,
      });
    }
    if (this.watches) {
      this.metrics.servicesNotReady.set(notReady.length);
      this.metrics.servicesGone.set(gone.length);
    }
    return { notReady, gone };
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
