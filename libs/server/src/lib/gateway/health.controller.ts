import { Controller, Get, Header, HttpCode, Inject, Optional, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';

import { Public } from '../auth/auth.guard';
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
    @Optional() @Inject(NotifyStatus) private readonly notify?: NotifyStatus,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Ready when the broker is connected and history is kept (an authenticated query on InfluxDB
   * passed). While it is not, each request probes again, so readiness follows a fix at once.
   */
  @Get('readyz')
  async readyz(@Res() response: Response) {
    if (!this.storage.kept) await this.storage.probe();
    const checks = { broker: this.broker.connected, storage: this.storage.kept };
    const ready = checks.broker && checks.storage;
    const storage = this.storage.current;
    // Notifications are reported, not required: alarms still reach the console without them.
    // Storage says why it is not kept (or what it carries on with), never silently.
    const reported = {
      ...(this.notify ? { notify: this.notify.report() } : {}),
      ...(!storage.kept || storage.reason
        ? { storage: { kept: storage.kept, kind: storage.kind, reason: storage.reason } }
        : {}),
    };
    const details = Object.keys(reported).length > 0 ? { details: reported } : {};
    response
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not-ready', checks, ...details });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
