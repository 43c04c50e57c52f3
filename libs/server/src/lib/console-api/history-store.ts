import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';

import type { AlarmHistoryEvent } from '@vigil/contracts';
import {
  StoreQueryError,
  type AlarmHistoryRequest,
  type StoreRequestOptions,
  type TelemetrySample,
  type TelemetrySeriesRequest,
  type TelemetryStore,
} from '@vigil/storage';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { TELEMETRY_STORE } from '../storage/telemetry-store.provider';

/** History queries are interactive: fail fast rather than hold an operator's screen. */
const QUERY_TIMEOUT_MS = 8000;

/**
 * Read access to the store for the console (alarm history, trends). Every failure becomes a 503
 * that says plainly why there is no history, so the console can show it instead of an empty chart.
 */
@Injectable()
export class HistoryStore {
  private readonly logger = new Logger(HistoryStore.name);
  private readonly store: TelemetryStore | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    /** The process's one store (telemetry-store.provider.ts); null when VIGIL_INFLUX_MODE=off. */
    @Inject(TELEMETRY_STORE) store: TelemetryStore | null,
  ) {
    this.store = store ?? undefined;
  }

  /** One metric's history, oldest first. */
  telemetrySeries(request: TelemetrySeriesRequest): Promise<TelemetrySample[]> {
    return this.read((store, options) => store.telemetrySeries(request, options));
  }

  /** Alarm transitions, newest first. */
  alarmHistory(request: AlarmHistoryRequest): Promise<AlarmHistoryEvent[]> {
    return this.read((store, options) => store.alarmHistory(request, options));
  }

  private async read<T>(
    read: (store: TelemetryStore, options: StoreRequestOptions) => Promise<T[]>,
  ): Promise<T[]> {
    if (!this.store) {
      throw new ServiceUnavailableException(
        'history is not kept: InfluxDB is switched off (VIGIL_INFLUX_MODE=off)',
      );
    }
    try {
      return await read(this.store, { timeoutMs: QUERY_TIMEOUT_MS });
    } catch (error) {
      if (!(error instanceof StoreQueryError)) throw error;
      this.logger.warn(`history query failed: ${error.message}`);
      // A missing database or measurement is "no history yet", not an outage.
      if (/database not found|measurement not found/.test(error.message)) return [];
      // A statement InfluxDB refused is our bug: let it surface as a 500, loudly logged.
      if (/HTTP 400|error parsing query/.test(error.message)) throw error;
      throw new ServiceUnavailableException(
        `history is unavailable: InfluxDB at ${this.config.influx.url} did not answer (${error.message.slice(0, 200)})`,
      );
    }
  }
}
