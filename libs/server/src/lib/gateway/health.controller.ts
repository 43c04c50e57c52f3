import { Controller, Get, Header, HttpCode, Inject, Optional, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';

import { Public } from '../auth/auth.guard';
import { CanaryService } from '../canary/canary.service';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { NotifyStatus } from '../notify/notify-status';
import { StorageStatus } from './storage-status';

/** Probes answer without authentication (spec §2) and never throw. */
@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(MqttPublisher) private readonly broker: MqttPublisher,
    @Inject(StorageStatus) private readonly storage: StorageStatus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
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
   * Ready when the broker and the storage are reachable and (gateway) no hop of the pipeline has
   * stalled: `pipeline.stalled` names the hops whose canary is overdue.
   */
  @Get('readyz')
  readyz(@Res() response: Response) {
    const pipeline = this.canary?.status;
    const checks = {
      broker: this.broker.connected,
      storage: this.storage.kept,
      ...(pipeline ? { pipeline: pipeline.canary !== 'stalled' } : {}),
    };
    const ready = Object.values(checks).every(Boolean);
    // Notifications are reported, not required: alarms still reach the console without them.
    const details = this.notify ? { details: { notify: this.notify.report() } } : {};
    response.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not-ready',
      checks,
      ...(pipeline ? { pipeline } : {}),
      ...details,
    });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
