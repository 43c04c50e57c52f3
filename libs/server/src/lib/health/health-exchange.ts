import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { KV, KvEntry, QueuedIterator } from 'nats';

import { serviceReadinessSchema, type ServiceReadiness } from '@vigil/contracts';

import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { HEALTH_BUCKET, HEALTH_PUBLISH_MS, HEALTH_TTL_MS } from '../bus/jetstream/subjects';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { Lifecycle } from '../lifecycle';
import { failingChecks } from './readiness-summary';
import { ReadinessService } from './readiness.service';
import { ServicesHealth } from './services-health';

/** A watch that ended is set up again after this long. */
const REWATCH_MS = 1000;

/**
 * The split deployment's readiness exchange over JetStream (docs/interfaces.md §Service health):
 * every HEALTH_PUBLISH_MS this process puts its failing /readyz checks (ReadinessService, the
 * same computation /readyz answers) into `vigil_health`, and a gateway watches the bucket so that
 * a failing check of ingest, a rules instance or the persister shows on the gateway's /readyz
 * (`checks.services`) and on the console. Before, each showed only on its own /readyz, which
 * nobody watching the gateway saw (fault suite, 2026-12-07: ingest's lost broker session).
 */
@Injectable()
export class HealthExchange implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HealthExchange');
  private kv: KV | undefined;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> | undefined;
  private watcher: QueuedIterator<KvEntry> | undefined;
  private rewatch: NodeJS.Timeout | undefined;
  private blindCheck: NodeJS.Timeout | undefined;
  private stopped = false;
  private left = false;
  /** Since when each failing check has failed without a break (this process's clock). */
  private readonly failingSince = new Map<string, number>();

  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(ServicesHealth) private readonly health: ServicesHealth,
    @Inject(Lifecycle) private readonly lifecycle: Lifecycle,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.kv = await this.backbone.js.views.kv(HEALTH_BUCKET);
    this.health.begin();
    if (this.health.watches) await this.watch();
    this.timer = setInterval(() => void this.publish(), HEALTH_PUBLISH_MS);
    void this.publish();
  }

  /** Before the backbone closes (BackboneCloser, at application shutdown): the entry goes first. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.rewatch);
    clearInterval(this.blindCheck);
    this.watcher?.stop();
    await this.publishing;
    await this.leave();
  }

  /** One publication (never two at once: a hung put leaves the entry to go stale, as it should). */
  publish(): Promise<void> {
    if (this.publishing || this.stopped) return this.publishing ?? Promise.resolve();
    this.publishing = this.publishOnce().finally(() => {
      this.publishing = undefined;
    });
    return this.publishing;
  }

  private async publishOnce(): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    // A process that stops takes its entry out (the gateway lists it as gone, not as failing).
    if (this.lifecycle.phase === 'stopping') return this.leave();
    try {
      const { body } = await this.readiness.compute();
      const now = this.health.now();
      const failing = failingChecks(body).map(({ check, reason }) => ({
        check,
        reason,
        since: this.failingSince.get(check) ?? now,
      }));
      this.failingSince.clear();
      for (const { check, since } of failing) this.failingSince.set(check, since);
      const entry: ServiceReadiness = {
        instance: this.config.bus.instance,
        services: [...this.config.services],
        ok: failing.length === 0,
        failing,
        at: now,
      };
      await kv.put(this.health.self, JSON.stringify(entry));
      this.health.published();
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      if (this.health.publishFailed(message))
        this.logger.error(
          `readiness not published to ${HEALTH_BUCKET} (retrying every ${HEALTH_PUBLISH_MS / 1000} s; /readyz checks.services): ${message}`,
        );
    }
  }

  private async leave(): Promise<void> {
    if (this.left || !this.kv) return;
    this.left = true;
    await this.kv.delete(this.health.self).catch((error: unknown) => {
      this.logger.warn(
        `readiness entry not deleted at stop (it expires within ${HEALTH_TTL_MS / 1000} s): ${String(error)}`,
      );
    });
  }

  /**
   * Follows the bucket: the latest entry of every process, then each change. A watch that ends
   * (or whose own entry stops coming back: ServicesHealth reports it) is set up again.
   */
  private async watch(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return;
    let watcher: QueuedIterator<KvEntry>;
    try {
      watcher = await kv.watch({ key: '>' });
    } catch (error) {
      this.logger.warn(`cannot watch ${HEALTH_BUCKET} (retrying): ${String(error)}`);
      this.rewatch = setTimeout(() => void this.watch(), REWATCH_MS);
      return;
    }
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const entry of watcher) this.take(entry);
      } catch (error) {
        this.logger.warn(`watch on ${HEALTH_BUCKET} failed: ${String(error)}`);
      }
      if (!this.stopped) this.rewatch = setTimeout(() => void this.watch(), REWATCH_MS);
    })();
    // Blind for a TTL (its own entry did not come back): start the watch again.
    clearInterval(this.blindCheck);
    this.blindCheck = setInterval(() => {
      if (!this.health.blind()) return;
      clearInterval(this.blindCheck);
      this.logger.warn(`no entry from ${HEALTH_BUCKET} for a while: watching it again`);
      watcher.stop();
    }, HEALTH_TTL_MS);
  }

  private take(entry: KvEntry): void {
    if (entry.operation !== 'PUT') return this.health.seen(entry.key, undefined);
    let parsed: ReturnType<typeof serviceReadinessSchema.safeParse>;
    try {
      parsed = serviceReadinessSchema.safeParse(entry.json());
    } catch (error) {
      return this.health.unreadableEntry(entry.key, `not JSON (${String(error)})`);
    }
    if (!parsed.success)
      return this.health.unreadableEntry(
        entry.key,
        parsed.error.issues
          .slice(0, 3)
          .map(issue => `${issue.path.join('.')}: ${issue.message}`)
          .join('; '),
      );
    this.health.seen(entry.key, parsed.data);
  }
}
