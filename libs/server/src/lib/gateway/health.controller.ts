import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { Public } from '../auth/auth.guard';
import { ReadinessService } from '../health/readiness.service';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { StorageStatus } from './storage-status';

/** Probes answer without authentication (spec §2) and never throw. */
@ApiTags('probes')
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(MqttPublisher) private readonly broker: MqttPublisher,
    @Inject(StorageStatus) private readonly storage: StorageStatus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Ready when the broker is connected, history is kept (an authenticated query on InfluxDB
   * passed; while it is not, each request probes again, so readiness follows a fix at once), in a
   * process that runs the rules every device, site and stream is evaluated, and (gateway) no hop
   * of the pipeline has stalled (`pipeline.stalled` names the hops whose canary is overdue).
   * Monitoring lost or a stalled hop with the broker and storage reachable answers 503 `degraded`
   * with what is wrong (docs/safety.md: a plant partly unmonitored is not ready, and the
   * operators must hear it). While the process starts (until ingest takes device messages, after
   * the rule state and the spool replay) or stops: 503 `not-ready`, `phase` says which.
   */
  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: 200 ready, 503 degraded or not ready, with what is wrong' })
  async readyz(@Res() response: Response) {
    const { ready, body } = await this.readiness.compute();
    response.status(ready ? 200 : 503).json(body);
  }

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    // The readiness checks as series too, so that Prometheus alerts on a lost broker or InfluxDB.
    this.metrics.readyCheck.set({ check: 'broker' }, this.broker.connected ? 1 : 0);
    this.metrics.readyCheck.set({ check: 'storage' }, this.storage.kept ? 1 : 0);
    return this.metrics.registry.metrics();
  }
}
