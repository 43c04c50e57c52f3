import { Inject, Injectable, Logger } from '@nestjs/common';

import type { AlarmResponse, MonthlyRaise } from '@vigil/alarms';
import type { AlarmPriority } from '@vigil/contracts';
import type { TelemetryStore } from '@vigil/storage';

import { TELEMETRY_STORE } from '../storage/telemetry-store.provider';
import { AlarmView } from './alarm-view';

/** Activations over a range, where they came from, and the ids of alarms disposed as `test`. */
export interface AlarmActivations {
  readonly raises: MonthlyRaise[];
  readonly source: 'influxdb' | 'memory';
  readonly tests: Set<string>;
  /** Why the memory was read instead of InfluxDB, when it was. */
  readonly notice?: string | undefined;
}

/**
 * The alarm activity the reports count (alarm performance, the monthly report): from InfluxDB,
 * where it survives restarts, through the storage port; from the gateway's memory (the last
 * activations it saw) when history is off or the query fails, said so in the answer.
 */
@Injectable()
export class AlarmActivity {
  private readonly logger = new Logger(AlarmActivity.name);
  private readonly store: TelemetryStore | undefined;

  constructor(
    /** The process's one store (telemetry-store.provider.ts); null when VIGIL_INFLUX_MODE=off. */
    @Inject(TELEMETRY_STORE) store: TelemetryStore | null,
    @Inject(AlarmView) private readonly view: AlarmView,
  ) {
    this.store = store ?? undefined;
  }

  /**
   * Activations in [from, to), with the ids of alarms disposed as `test` (disposed at any time
   * after `from`), which the reports leave out.
   */
  async raises(from: number, to: number): Promise<AlarmActivations> {
    if (this.store) {
      try {
        const stored = await this.store.alarmRaises({ from, to });
        const disposed = await this.store.testAlarmIds(from);
        const tests = this.view.testAlarmIds();
        for (const alarmId of disposed) tests.add(alarmId);
        return {
          source: 'influxdb',
          tests,
          raises: stored.map(raise => ({
            at: raise.at,
            alarmId: raise.alarmId,
            key: `${raise.siteId}/${raise.deviceId}/${raise.ruleId}`,
            siteId: raise.siteId,
            priority: raise.priority as AlarmPriority,
            category: raise.category,
          })),
        };
      } catch (error) {
        const notice = `InfluxDB query failed (${(error as Error).message}): alarms from the gateway's memory`;
        this.logger.warn(`alarm report: ${notice}`);
        return { ...this.fromMemory(), notice };
      }
    }
    return this.fromMemory();
  }

  /**
   * Acknowledgements and disposals in [from, to): from InfluxDB, or from the alarms the gateway
   * holds (open and recently closed) when history is off or the query fails (with a notice).
   */
  async responses(
    from: number,
    to: number,
  ): Promise<{ responses: AlarmResponse[]; notice?: string | undefined }> {
    let notice: string | undefined;
    if (this.store) {
      try {
        return { responses: await this.store.alarmResponses({ from, to }) };
      } catch (error) {
        notice = `InfluxDB query failed (${(error as Error).message}): acknowledgements and disposals from the gateway's memory`;
        this.logger.warn(`alarm report: ${notice}`);
      }
    }
    const responses: AlarmResponse[] = [];
    for (const alarm of this.view.query({})) {
      for (const step of alarm.history) {
        if (step.at < from || step.at >= to) continue;
        if (step.action === 'acknowledge' || step.action === 'dispose')
          responses.push({ at: step.at, alarmId: alarm.id, action: step.action });
      }
    }
    return { responses, notice };
  }

  private fromMemory(): AlarmActivations {
    return {
      source: 'memory',
      raises: this.view.recentRaises().map(raise => ({
        ...raise,
        category: this.view.get(raise.alarmId)?.category,
      })),
      tests: this.view.testAlarmIds(),
    };
  }
}
