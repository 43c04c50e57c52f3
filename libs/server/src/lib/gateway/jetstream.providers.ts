import type { Provider } from '@nestjs/common';

import { AlarmCommands } from '../alarms/alarm-commands';
import { InternalInbox } from '../bus/internal-inbox';
import type { Backbone } from '../bus/jetstream/backbone';
import { BackboneHealth } from '../bus/jetstream/backbone-health';
import { BackboneMetrics } from '../bus/jetstream/backbone-metrics';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { VigilMetrics } from '../metrics/metrics';
import { AlarmStream } from '../alarms/alarm-stream';
import { NatsAlarmCommands } from './nats-alarm-commands';
import { RecordsFeed } from './records-feed';

/**
 * The gateway on the JetStream backbone (any number of them): alarms from VIGIL_ALARMS
 * (AlarmStream, read by AlarmView and WsHub), live records from core NATS (RecordsFeed), operator
 * commands to the owner of the site's partition (NatsAlarmCommands; also when rules run in this
 * process: the partition may be another instance's).
 */
export function gatewayJetstreamProviders(): Provider[] {
  return [
    {
      provide: AlarmStream,
      inject: [BACKBONE, InternalInbox, VigilMetrics, BackboneHealth],
      useFactory: (
        backbone: Backbone,
        inbox: InternalInbox,
        metrics: VigilMetrics,
        health: BackboneHealth,
      ) => new AlarmStream(backbone, inbox, BackboneMetrics.of(metrics.registry), health),
    },
    RecordsFeed,
    { provide: AlarmCommands, useClass: NatsAlarmCommands },
  ];
}
