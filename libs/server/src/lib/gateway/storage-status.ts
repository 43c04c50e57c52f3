import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, skip } from 'rxjs';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';

const PROBE_INTERVAL_MS = 5000;
const PROBE_TIMEOUT_MS = 2000;

/**
 * Whether history is being kept: InfluxDB answers its ping. Operators must never believe data is
 * stored when it is not, so a change is logged loudly and pushed to every console.
 */
@Injectable()
export class StorageStatus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(StorageStatus.name);
  private readonly state = new BehaviorSubject<boolean>(false);
  private timer: NodeJS.Timeout | undefined;
  readonly changes$ = this.state.pipe(distinctUntilChanged(), skip(1));

  constructor(@Inject(VIGIL_CONFIG) private readonly config: VigilConfig) {}

  get kept(): boolean {
    return this.state.value;
  }

  async onModuleInit(): Promise<void> {
    await this.probe();
    if (!this.kept) this.warn();
    this.timer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async probe(): Promise<boolean> {
    let kept = false;
    if (this.config.influx.mode !== 'off') {
      try {
        const response = await fetch(`${this.config.influx.url}/ping`, {
          signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        });
        kept = response.status === 204;
      } catch {
        kept = false;
      }
    }
    if (kept !== this.state.value) {
      if (kept)
        this.logger.log(`InfluxDB reachable at ${this.config.influx.url}: history is being kept`);
      else if (this.state.value) this.warn();
      this.state.next(kept);
    }
    return kept;
  }

  private warn(): void {
    this.logger.error(
      `!!! HISTORY IS NOT BEING KEPT: InfluxDB ${this.config.influx.mode === 'off' ? 'is switched off (VIGIL_INFLUX_MODE=off)' : `is not reachable at ${this.config.influx.url}`}. ` +
        'Alarms still work; readings and alarm events are not stored. !!!',
    );
  }
}
