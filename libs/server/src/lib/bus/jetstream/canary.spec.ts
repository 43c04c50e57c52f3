import { connect, type NatsConnection } from 'nats';

import { canaryReport, type CanaryReport } from '@vigil/contracts';
import { startNats, waitFor, type NatsHandle } from '@vigil/testing';

import { VigilMetrics } from '../../metrics/metrics';
import type { MqttPublisher } from '../../mqtt/mqtt-publisher';
import { InternalInbox } from '../internal-inbox';
import { PipelineBus } from '../pipeline-bus';
import { forwardCanaryReports, receiveCanaryReports } from './canary';
import { CANARY_SUBJECT } from './subjects';

describe('canary reports on core NATS (real nats-server)', () => {
  let nats: NatsHandle;
  let producer: NatsConnection;
  let consumer: NatsConnection;
  beforeAll(async () => {
    nats = await startNats();
    producer = await connect({ servers: nats.url });
    consumer = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await producer?.close();
    await consumer?.close();
    await nats?.stop();
  });

  const report = (seq: number): CanaryReport =>
    canaryReport('rules', { siteId: 'plant-1', origin: 'gw-a', seq, sentAt: 1000 + seq }, 2000);

  it('forwards the bus reports of one process to a receiver, rejecting malformed messages', async () => {
    const metrics = new VigilMetrics();
    const inbox = new InternalInbox(metrics, {
      publish: () => undefined,
    } as unknown as MqttPublisher);
    const received: CanaryReport[] = [];
    const subscription = receiveCanaryReports(
      consumer,
      inbox,
      reports => received.push(...reports),
      'gateway',
    );
    await consumer.flush();
    const bus = new PipelineBus();
    const forwarding = forwardCanaryReports(bus, producer, 'rules');
    producer.publish(CANARY_SUBJECT, '[{"hop":"nowhere"}]');
    bus.publishCanary([report(1)]);
    bus.publishCanary([report(2), report(3)]);
    await waitFor(() => received.length === 3 || undefined, { what: 'three reports' });
    expect(received.map(r => r.seq)).toEqual([1, 2, 3]);
    const rejected = await metrics.registry.getSingleMetric('vigil_internal_rejected_total')?.get();
    expect(rejected?.values.find(v => v.labels['topic'] === 'canary')?.value).toBe(1);
    forwarding.unsubscribe();
    subscription.unsubscribe();
  });

  it('skips the reports this process sent itself (a co-located gateway saw them on its bus)', async () => {
    const inbox = new InternalInbox(new VigilMetrics(), {
      publish: () => undefined,
    } as unknown as MqttPublisher);
    const received: CanaryReport[] = [];
    const subscription = receiveCanaryReports(
      producer,
      inbox,
      reports => received.push(...reports),
      'rules',
    );
    const other: CanaryReport[] = [];
    const otherSubscription = receiveCanaryReports(
      consumer,
      inbox,
      r => other.push(...r),
      'gateway',
    );
    await producer.flush();
    await consumer.flush();
    const bus = new PipelineBus();
    const forwarding = forwardCanaryReports(bus, producer, 'rules');
    bus.publishCanary([report(7)]);
    await waitFor(() => other.length === 1 || undefined, {
      what: 'the report at the other process',
    });
    await producer.flush();
    expect(received).toEqual([]);
    forwarding.unsubscribe();
    subscription.unsubscribe();
    otherSubscription.unsubscribe();
  });
});
