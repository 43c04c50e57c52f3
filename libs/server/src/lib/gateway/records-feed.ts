import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Subscription } from 'nats';

import { internalRecordsBatchSchema, type IngestRecord } from '@vigil/contracts';

import { InternalInbox } from '../bus/internal-inbox';
import { PipelineBus } from '../bus/pipeline-bus';
import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { RECORDS_SUBJECTS } from '../bus/jetstream/subjects';

/**
 * jetstream: the gateway's live view of the records (console telemetry, device liveness, the
 * canary's gateway hop) from a core NATS subscription to `vigil.records.*.*`: every JetStream
 * publish is a plain NATS message too, so this costs no consumer and keeps nothing. A gateway
 * that is disconnected misses the readings of that time (the console's live view, not the
 * record: the stream and InfluxDB keep them), which the canary shows as a stalled gateway hop.
 * In jetstream mode nothing else in a process puts records on the local bus, so nothing is
 * seen twice.
 */
@Injectable()
export class RecordsFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RecordsFeed.name);
  private subscription: Subscription | undefined;

  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone | undefined,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(InternalInbox) private readonly inbox: InternalInbox,
  ) {}

  onModuleInit(): void {
    const nc = this.backbone?.nc;
    if (!nc) return;
    this.subscription = nc.subscribe(RECORDS_SUBJECTS, {
      callback: (error, message) => {
        if (error) {
          this.logger.error(`records subscription: ${error.message}`);
          return;
        }
        const data = message.data;
        const records = this.inbox.read(
          'records',
          message.subject,
          Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          internalRecordsBatchSchema,
        );
        if (records) this.bus.publishRecords(records as readonly IngestRecord[]);
      },
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
