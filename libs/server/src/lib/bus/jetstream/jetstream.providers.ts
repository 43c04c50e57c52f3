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
import { RecordSource } from '../../persister/record-source';
import { PipelineBus } from '../pipeline-bus';
import type { Backbone } from './backbone';
import { BackboneHealth } from './backbone-health';
import { BackboneMetrics } from './backbone-metrics';
import { BACKBONE } from './backbone.provider';
import { JetStreamJournal } from './jetstream-journal';
import { PublishSpool } from './publish-spool';
import { CANARY_SUBJECT } from './subjects';

/** Where ingest's spool lives in jetstream mode (the memory bus's spool has its own folder). */
export function jetstreamSpoolDir(config: VigilConfig): string {
  return join(config.bus.spool.dir, 'jetstream');
}

/** Closes the journal after the services stopped (its spool keeps what was not drained). */
@Injectable()
export class JournalCloser implements OnApplicationShutdown {
  constructor(@Inject(IngestJournal) private readonly journal: IngestJournal) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.journal instanceof JetStreamJournal) await this.journal.close();
  }
}

/**
 * Canary reports of ingest, rules and the persister to the gateway's monitor over core NATS
 * (`vigil.canary`, the JSON of internalCanaryBatchSchema), in a process without the gateway.
 */
@Injectable()
export class CanaryToNats implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CanaryToNats');
  private subscription: Subscription | undefined;

  constructor(
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(BACKBONE) private readonly backbone: Backbone | undefined,
  ) {}

  onModuleInit(): void {
    const nc = this.backbone?.nc;
    if (!nc) return;
    this.subscription = this.bus.canary$.subscribe(reports => {
      try {
        nc.publish(CANARY_SUBJECT, JSON.stringify(reports));
      } catch (error) {
        this.logger.warn(`canary report not sent: ${(error as Error).message}`);
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}

/** The JetStream data path's parts in this process (vigil.module.ts). */
export function jetstreamProviders(config: VigilConfig): Provider[] {
  if (config.bus.kind !== 'jetstream') return [];
  const has = (service: VigilConfig['services'][number]) => config.services.includes(service);
  const providers: Provider[] = [];
  if (has('ingest'))
    providers.push(
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
          });
          return new JetStreamJournal(backbone.nc, backbone.js, spool, backboneMetrics, health, {
            partitions: vigil.bus.nats.partitions,
          });
        },
      },
      JournalCloser,
    );
  if (has('persister'))
    providers.push({
      provide: RecordSource,
      inject: [BACKBONE, VigilMetrics, BackboneHealth],
      useFactory: (backbone: Backbone, metrics: VigilMetrics, health: BackboneHealth) =>
        new JetStreamRecordSource(backbone, BackboneMetrics.of(metrics.registry), health),
    });
  if (!has('gateway')) providers.push(CanaryToNats);
  return providers;
}
