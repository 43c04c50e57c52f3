import { Controller, Get, Header, HttpCode, Inject, Optional, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';

import { Public } from '../auth/auth.guard';
import { CanaryService } from '../canary/canary.service';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { RulesService } from '../rules/rules.service';
import { NotifyStatus } from '../notify/notify-status';
import { StorageStatus } from './storage-status';

/** Monitoring-lost entries listed on /readyz at most (the count says how many there are). */
const MAX_LISTED = 100;

/** Probes answer without authentication (spec §2) and never throw. */
@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(MqttPublisher) private readonly broker: MqttPublisher,
    @Inject(StorageStatus) private readonly storage: StorageStatus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    /** Present in a process that runs the rules service. */
    @Optional() @Inject(RulesService) private readonly rules?: RulesService,
    /** In the gateway process only: it judges the pipeline canary. */
    @Optional() @Inject(CanaryService) private readonly canary?: CanaryService,
    @Optional() @Inject(NotifyStatus) private readonly notify?: NotifyStatus,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Ready when the broker and the storage are reachable, in a process that runs the rules every
   * device, site and stream is evaluated, and (gateway) no hop of the pipeline has stalled
   * (`pipeline.stalled` names the hops whose canary is overdue). Monitoring lost or a stalled hop
   * with the broker and storage reachable answers 503 `degraded` with what is wrong
   * (docs/safety.md: a plant partly unmonitored is not ready, and the operators must hear it).
   */
  @Get('readyz')
  readyz(@Res() response: Response) {
    const lost = this.rules?.monitoringLost() ?? [];
    const pipeline = this.canary?.status;
    const checks = {
      broker: this.broker.connected,
      storage: this.storage.kept,
      ...(this.rules ? { rules: lost.length === 0 } : {}),
      ...(pipeline ? { pipeline: pipeline.canary !== 'stalled' } : {}),
    };
    const reachable = checks.broker && checks.storage;
    const ready = Object.values(checks).every(Boolean);
    response.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : reachable ? 'degraded' : 'not-ready',
      checks,
      ...(pipeline ? { pipeline } : {}),
      // Notifications are reported, not required: alarms still reach the console without them.
      ...(this.notify ? { details: { notify: this.notify.report() } } : {}),
      ...(lost.length > 0
        ? {
            monitoringLost: lost
              .slice(0, MAX_LISTED)
              .map(({ scope, siteId, deviceId, since, message }) => ({
                scope,
                siteId,
                deviceId,
                since,
                message,
              })),
            monitoringLostCount: lost.length,
          }
        : {}),
    });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
