import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, skip } from 'rxjs';

import type { TelemetryStore } from '@vigil/storage';

import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { persisterBacklog } from '../persister/persister-backlog';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { TELEMETRY_STORE } from '../storage/telemetry-store.provider';

const PROBE_INTERVAL_MS = 5000;
const PROBE_TIMEOUT_MS = 2000;

export interface StorageState {
  readonly kept: boolean;
  /** Why history is not kept (or a schema notice while it is), for the console and /readyz. */
  readonly reason: string | undefined;
  /** unauthorized, forbidden, unreachable, database-missing, error, off; undefined when kept. */
  readonly kind: string | undefined;
}

const UNKNOWN: StorageState = { kept: false, reason: 'not probed yet', kind: 'unreachable' };

/**
 * Whether history is being kept. `/ping` answers without credentials even where every write is
 * refused, so the probe is an authenticated query on the database (TelemetryStore.check).
 * Operators must never believe data is stored when it is not: a change (including a change of
 * reason, e.g. unreachable → unauthorized) is logged loudly, counted in vigil_storage_ready and
 * pushed to every console.
 */
@Injectable()
export class StorageStatus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(StorageStatus.name);
  private readonly state = new BehaviorSubject<StorageState>(UNKNOWN);
  private readonly probeStore: TelemetryStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly changes$ = this.state.pipe(
    distinctUntilChanged((a, b) => a.kept === b.kept && a.kind === b.kind),
    skip(1),
  );

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    /** The process's one store (telemetry-store.provider.ts); null when VIGIL_INFLUX_MODE=off. */
    @Inject(TELEMETRY_STORE) store: TelemetryStore | null,
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
    /** jetstream: the gateway also judges the persister's backlog and losses in the stream. */
    @Optional() @Inject(BACKBONE) private readonly backbone?: Backbone,
  ) {
    this.probeStore = store ?? undefined;
  }

  get kept(): boolean {
    return this.state.value.kept;
  }

  get current(): StorageState {
    return this.state.value;
  }

  async onModuleInit(): Promise<void> {
    await this.probe();
    if (!this.kept) this.warn(this.state.value);
    this.timer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async probe(): Promise<boolean> {
    let next: StorageState;
    if (!this.probeStore) {
      next = { kept: false, reason: 'VIGIL_INFLUX_MODE=off', kind: 'off' };
    } else {
      const health = await this.probeStore.check({ timeoutMs: PROBE_TIMEOUT_MS });
      next = {
        kept: health.ok,
        reason: health.reason,
        kind: health.ok ? undefined : (health.kind ?? 'error'),
      };
      // InfluxDB answers, yet history is behind or has a hole: say so (docs/interfaces.md §Backbone).
      if (next.kept && this.backbone && this.config.services.includes('gateway')) {
        const behind = await persisterBacklog(this.backbone);
        if (behind) next = { kept: false, reason: behind.reason, kind: behind.kind };
      }
    }
    const previous = this.state.value;
    this.metrics?.storageReady.reset();
    this.metrics?.storageReady.set({ reason: next.kind ?? 'ok' }, next.kept ? 1 : 0);
    if (next.kept !== previous.kept || next.kind !== previous.kind) {
      if (next.kept)
        this.logger.log(
          `InfluxDB at ${this.config.influx.url} answers an authenticated query: history is being kept` +
            (next.reason ? ` (${next.reason})` : ''),
        );
      else if (previous !== UNKNOWN) this.warn(next);
    }
    this.state.next(next);
    return next.kept;
  }

  private warn(state: StorageState): void {
    this.logger.error(
      `!!! HISTORY IS NOT BEING KEPT: InfluxDB ${this.config.influx.mode === 'off' ? 'is switched off (VIGIL_INFLUX_MODE=off)' : `at ${this.config.influx.url}: ${state.kind}: ${state.reason}`}. ` +
        'Alarms still work; readings and alarm events wait in the bounded write buffer and are retried. !!!',
    );
  }
}
