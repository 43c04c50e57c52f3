import { Controller, Get, Inject, Logger, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import { alarmPerformance, type RaiseRecord } from '@vigil/alarms';
import type { AlarmPerformanceReport, AlarmPriority } from '@vigil/contracts';
import type { TelemetryStore } from '@vigil/storage';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { TELEMETRY_STORE } from '../storage/telemetry-store.provider';
import { AlarmView } from '../alarms/alarm-view';
import { parseOr400 } from '../common/parse';

const DAY = 24 * 60 * 60_000;
export const reportQuery = z.object({
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  site: z.string().optional(),
});

/** EEMUA 191 / ISA-18.2 alarm-system performance per console scope. */
@ApiTags('reports')
@Controller('api/v1/reports')
export class ReportsController {
  private readonly logger = new Logger(ReportsController.name);
  private readonly store: TelemetryStore | undefined;

  constructor(
    /** The process's one store (telemetry-store.provider.ts); null when VIGIL_INFLUX_MODE=off. */
    @Inject(TELEMETRY_STORE) store: TelemetryStore | null,
    @Inject(AlarmView) private readonly view: AlarmView,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {
    this.store = store ?? undefined;
  }

  @Get('alarm-performance')
  @ApiOperation({
    summary:
      'Alarms per 10 min, floods, standing, chattering and most frequent alarms (default: last 24 h)',
  })
  @ApiQuery({ name: 'from', required: false, description: 'epoch ms' })
  @ApiQuery({ name: 'to', required: false, description: 'epoch ms' })
  @ApiQuery({ name: 'site', required: false })
  async performance(
    @Query() query: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlarmPerformanceReport> {
    const { from: fromMs, to: toMs, site } = parseOr400(reportQuery, query);
    const now = Date.now();
    const to = toMs ?? now;
    const from = fromMs ?? to - DAY;
    const sites = this.authorization.visibleSites(user);
    const visible = (siteId: string) =>
      (site === undefined || site === siteId) && sites.has(siteId);
    const { raises, source, tests } = await this.raises(from, to);
    const open = this.view.open().filter(alarm => visible(alarm.siteId));
    return {
      scope: user.scope,
      source,
      ...alarmPerformance(
        raises.filter(r => visible(r.siteId)),
        open,
        from,
        to,
        now,
        tests,
      ),
    };
  }

  /**
   * Activations from InfluxDB (they survive restarts); the in-memory view when history is off. With
   * them the ids of alarms disposed as `test` (disposed at any time after `from`), which the report
   * leaves out.
   */
  private async raises(
    from: number,
    to: number,
  ): Promise<{ raises: RaiseRecord[]; source: 'influxdb' | 'memory'; tests: Set<string> }> {
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
          })),
        };
      } catch (error) {
        this.logger.warn(
          `alarm report from memory: InfluxDB query failed (${(error as Error).message})`,
        );
      }
    }
    return {
      source: 'memory',
      raises: this.view.recentRaises(),
      tests: this.view.testAlarmIds(),
    };
  }
}
