import { Logger } from '@nestjs/common';
import { connect, type MqttClient } from 'mqtt';
import { bufferTime, filter, type Subscription } from 'rxjs';

import {
  INTERNAL_ALARMS_TOPIC,
  INTERNAL_CANARY_TOPIC,
  INTERNAL_READINGS_TOPIC,
  internalAlarmsBatchSchema,
  internalCanaryBatchSchema,
  internalRecordsBatchSchema,
  type IngestRecord,
} from '@vigil/contracts';

import type { ServiceName } from '../config/vigil-config';
import type { VigilMqttCredentials } from '../mqtt/client-options';
import { withoutNagle } from '../mqtt/no-delay';
import type { InternalInbox } from './internal-inbox';
import type { AlarmUpdate, PipelineBus } from './pipeline-bus';

const PRODUCERS = {
  records: ['ingest'],
  alarms: ['rules'],
  // Every hop reports the canaries it saw; the gateway judges them (its own hop stays local).
  canary: ['ingest', 'rules', 'persister'],
} as const satisfies Record<string, readonly ServiceName[]>;
const CONSUMERS = {
  records: ['rules', 'persister', 'gateway'],
  alarms: ['persister', 'gateway'],
  canary: ['gateway'],
} as const satisfies Record<string, readonly ServiceName[]>;
const TOPICS = {
  records: INTERNAL_READINGS_TOPIC,
  alarms: INTERNAL_ALARMS_TOPIC,
  canary: INTERNAL_CANARY_TOPIC,
} as const;

/** Batches crossing the broker: at most this many items or this many ms, whichever comes first. */
const BRIDGE_BATCH_ITEMS = 2000;
const BRIDGE_BATCH_MS = 5;

export type BridgePlan = {
  readonly publish: Array<keyof typeof TOPICS>;
  readonly subscribe: Array<keyof typeof TOPICS>;
};

/** Which streams this process must forward to the broker, and which it must receive from it. */
export function planBridge(services: readonly ServiceName[]): BridgePlan {
  const plan: BridgePlan = { publish: [], subscribe: [] };
  for (const stream of Object.keys(TOPICS) as Array<keyof typeof TOPICS>) {
    const producers = PRODUCERS[stream] as readonly ServiceName[];
    const consumers = CONSUMERS[stream] as readonly ServiceName[];
    const producesHere = producers.some(service => services.includes(service));
    const allProducersLocal = producers.every(service => services.includes(service));
    const allConsumersLocal = consumers.every(service => services.includes(service));
    if (producesHere && !allConsumersLocal) plan.publish.push(stream);
    if (!allProducersLocal && consumers.some(service => services.includes(service)))
      plan.subscribe.push(stream);
  }
  return plan;
}

/**
 * Forwards the pipeline bus over MQTT when the services run in separate processes. QoS 1, so a
 * broker hiccup does not lose a batch; batches keep per-device order because one client
 * publishes them in order.
 */
export class MqttBusBridge {
  private readonly logger = new Logger(MqttBusBridge.name);
  private client: MqttClient | undefined;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: PipelineBus,
    private readonly plan: BridgePlan,
    private readonly url: string,
    private readonly credentials: VigilMqttCredentials,
    private readonly inbox: InternalInbox,
  ) {}

  async start(): Promise<void> {
    if (this.plan.publish.length === 0 && this.plan.subscribe.length === 0) return;
    const client = withoutNagle(
      connect(this.url, {
        ...this.credentials,
        clientId: `vigil-bridge-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
        reconnectPeriod: 1000,
      }),
    );
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('error', error => this.logger.error(`bus bridge: ${error.message}`));

    for (const stream of this.plan.subscribe) {
      await client.subscribeAsync(TOPICS[stream], { qos: 1 });
    }
    // Every batch is validated before it reaches the bus: a malformed one (`[null]` killed the
    // persister and the gateway, issue 11) is counted and dead-lettered by the inbox, never thrown.
    // JSON has no undefined: fields the contract types declare `T | undefined` arrive absent.
    client.on('message', (topic, payload) => {
      if (topic === INTERNAL_READINGS_TOPIC) {
        const batch = this.inbox.read('records', topic, payload, internalRecordsBatchSchema);
        if (batch) this.bus.publishRecords(batch as readonly IngestRecord[]);
      } else if (topic === INTERNAL_ALARMS_TOPIC) {
        const batch = this.inbox.read('alarms', topic, payload, internalAlarmsBatchSchema);
        if (batch) this.bus.publishAlarms(batch as unknown as readonly AlarmUpdate[]);
      } else if (topic === INTERNAL_CANARY_TOPIC) {
        const batch = this.inbox.read('canary', topic, payload, internalCanaryBatchSchema);
        if (batch) this.bus.publishCanary(batch as never);
      }
    });

    const forward = (
      stream: keyof typeof TOPICS,
      source: typeof this.bus.records$ | typeof this.bus.alarms$ | typeof this.bus.canary$,
    ) =>
      (source as import('rxjs').Observable<readonly unknown[]>)
        .pipe(
          bufferTime(BRIDGE_BATCH_MS, null, 64),
          filter(batches => batches.length > 0),
        )
        .subscribe(batches => {
          const items = batches.flat();
          for (let i = 0; i < items.length; i += BRIDGE_BATCH_ITEMS) {
            let text: string;
            try {
              text = JSON.stringify(items.slice(i, i + BRIDGE_BATCH_ITEMS));
            } catch (error) {
              // Unreachable with ingest's payload limits; loud, and the next batch still goes.
              this.logger.error(
                `bus bridge: a ${stream} batch could not be serialised and was NOT forwarded: ${String(error)}`,
              );
              continue;
            }
            client.publish(TOPICS[stream], text, { qos: 1 });
          }
        });
    if (this.plan.publish.includes('records'))
      this.subscriptions.push(forward('records', this.bus.records$));
    if (this.plan.publish.includes('alarms'))
      this.subscriptions.push(forward('alarms', this.bus.alarms$));
    if (this.plan.publish.includes('canary'))
      this.subscriptions.push(forward('canary', this.bus.canary$));
  }

  async stop(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.client?.endAsync();
  }
}
