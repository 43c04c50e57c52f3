import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';

import { StoreQueryError, type QueryRow, type TelemetryStore } from '@vigil/storage';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { createInfluxStore } from '../persister/influx-store';

/** History queries are interactive: fail fast rather than hold an operator's screen. */
const QUERY_TIMEOUT_MS = 8000;

/**
 * Read access to InfluxDB for the console (alarm history, trends). Every failure becomes a 503
 * that says plainly why there is no history, so the console can show it instead of an empty chart.
 */
@Injectable()
export class HistoryStore {
  private readonly logger = new Logger(HistoryStore.name);
  private readonly store: TelemetryStore | undefined;

  constructor(@Inject(VIGIL_CONFIG) private readonly config: VigilConfig) {
    // Through the one factory: the configured API (v1/v2/v3) and its credentials.
    this.store =
      config.influx.mode === 'off'
        ? undefined
        : createInfluxStore(config, { requestTimeoutMs: QUERY_TIMEOUT_MS });
  }

  get database(): string {
    return this.config.influx.database;
  }

  async query(influxql: string): Promise<QueryRow[]> {
    if (!this.store) {
      throw new ServiceUnavailableException(
        'history is not kept: InfluxDB is switched off (VIGIL_INFLUX_MODE=off)',
      );
    }
    try {
      return await this.store.query(influxql);
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
