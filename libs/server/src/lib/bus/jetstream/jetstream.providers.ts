import { join } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';

import type { VigilConfig } from '../../config/vigil-config';
import { VIGIL_CONFIG } from '../../config/vigil-config';
import { IngestJournal } from '../../ingest/ingest-journal';
import { VigilMetrics } from '../../metrics/metrics';
import { JetStreamRecordSource } from '../../persister/jetstream-record-source';
import { PersisterSource } from '../../persister/persister-source';
import { PipelineBus } from '../pipeline-bus';
import type { Backbone } from './backbone';
import { BackboneHealth } from './backbone-health';
import { BackboneMetrics } from './backbone-metrics';
import { BACKBONE } from './backbone.provider';
import { JetStreamJournal } from './jetstream-journal';
import { PublishSpool } from './publish-spool';
import { forwardCanaryReports } from './canary';

/** Where ingest's spool lives in jetstream mode (the memory bus's spool has its own folder). */
export function jetstreamSpoolDir(config: VigilConfig): string {
  return join(config.bus.spool.dir, 'jetstream');
}

const logger = new Logger('JetStreamJournal');

/** Closes the journal after the services stopped (its spool keeps what was not drained). */
@Injectable()
export class JournalCloser implements OnApplicationShutdown {
  constructor(@Inject(IngestJournal) private readonly journal: IngestJournal) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.journal instanceof JetStreamJournal) await this.journal.close();
  }
}

/**
 * Canary reports of this process's hops (ingest, rules, persister) to the gateways' monitors over
 * core NATS (`vigil.canary`, canary.ts; a co-located gateway skips its own process's reports).
 */
@Injectable()
export class CanaryToNats implements OnModuleInit, OnModuleDestroy {
  private subscription: Subscription | undefined;

  constructor(
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(BACKBONE) private readonly backbone: Backbone | undefined,
  ) {}

  onModuleInit(): void {
    const nc = this.backbone?.nc;
    if (!nc) return;
    this.subscription = forwardCanaryReports(this.bus, nc);
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}

/** Ingest's journal on JetStream (IngestModule): pub acks, PublishSpool while NATS is away. */
export function jetstreamJournalProviders(): Provider[] {
  return [
    {
      provide: IngestJournal,
      inject: [VIGIL_CONFIG, BACKBONE, VigilMetrics, BackboneHealth],
      useFactory: async (
        vigil: VigilConfig,
        backbone: Backbone,
        metrics: VigilMetrics,
        health: BackboneHealth,
      ) => {
        const backboneMetrics = BackboneMetrics.of(metrics.registry);
        const spool = await PublishSpool.open(jetstreamSpoolDir(vigil), {
          maxBytes: vigil.bus.spool.maxBytes,
          fsyncMs: vigil.bus.spool.fsyncMs,
          onFull: () => backboneMetrics.spoolFullWaits.inc(),
          // Its appends wait at the bound first: a drop would be a defect, so it is loud.
          onDrop: entries => {
            metrics.spoolDropped.inc({ lane: 'jetstream' }, entries);
            logger.error(
              `ingest spool dropped ${entries} device message(s) acknowledged to devices and NOT sent to JetStream (vigil_spool_dropped_total{lane="jetstream"})`,
            );
          },
        });
        metrics.spoolTorn.inc({ lane: 'jetstream' }, spool.tornAtOpen);
        if (spool.tornAtOpen > 0)
          logger.warn(
            'ingest spool: a torn last entry (the process died mid-write) was cut off at open; it was never acknowledged',
          );
        return new JetStreamJournal(backbone.nc, backbone.js, spool, backboneMetrics, health, {
          partitions: vigil.bus.nats.partitions,
        });
      },
    },
    JournalCloser,
  ];
}

/** The persister's source on JetStream (PersisterModule): VIGIL_RECORDS and VIGIL_ALARMS. */
export const jetstreamRecordSourceProvider: Provider = {
  provide: PersisterSource,
  inject: [BACKBONE, VigilMetrics, BackboneHealth],
  useFactory: (backbone: Backbone, metrics: VigilMetrics, health: BackboneHealth) =>
    new JetStreamRecordSource(backbone, BackboneMetrics.of(metrics.registry), health),
};

/** The services whose hops report the canary, and so forward it over NATS (CoreModule). */
export function canaryForwarding(config: VigilConfig): Provider[] {
  const hops = config.services.some(
    service => service === 'ingest' || service === 'rules' || service === 'persister',
  );
  return config.bus.kind === 'jetstream' && hops ? [CanaryToNats] : [];
}
