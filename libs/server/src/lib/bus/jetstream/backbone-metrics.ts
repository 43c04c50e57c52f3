import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The JetStream data path's series (docs/interfaces.md §Backbone): ingest's publishes and spool,
 * the persister's consumers. Kept out of metrics.ts so the backbone's counters sit together;
 * registered once per registry.
 */
export class BackboneMetrics {
  readonly published: Counter<'outcome'>;
  readonly publishInFlight: Gauge;
  readonly spoolMessages: Gauge;
  readonly spoolBytes: Gauge;
  readonly spoolFullWaits: Counter;
  readonly consumerPending: Gauge<'consumer'>;
  readonly consumerUnacked: Gauge<'consumer'>;
  readonly consumerLag: Gauge<'consumer'>;
  readonly consumed: Counter<'consumer' | 'outcome'>;
  readonly lost: Counter<'consumer'>;
  readonly alarmFeedBehind: Gauge;
  readonly alarmFeedStalls: Counter;
  readonly alarmFeedRefollows: Counter<'reason'>;
  readonly startRetries: Counter;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.published = new Counter({
      name: 'vigil_backbone_published_total',
      help:
        'Device messages ingest made durable, by outcome: stored (JetStream pub ack), duplicate ' +
        '(JetStream had the msg id already), spooled (NATS unreachable or slow: fsync-ed to the local spool), ' +
        'drained (sent from the spool to JetStream), failed (refused by JetStream for good: logged), ' +
        'joined (the same msg id was already on its way, e.g. the broker re-sent it after a reconnect: ' +
        'it waits for that append instead of queueing a second)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.publishInFlight = new Gauge({
      name: 'vigil_backbone_publish_in_flight',
      help: 'JetStream publishes of ingest awaiting their pub ack',
      registers,
    });
    this.spoolMessages = new Gauge({
      name: 'vigil_backbone_spool_messages',
      help: 'Device messages in the local spool waiting for JetStream (0 when NATS takes them directly)',
      registers,
    });
    this.spoolBytes = new Gauge({
      name: 'vigil_backbone_spool_bytes',
      help: 'Bytes in the local spool waiting for JetStream (bounded by VIGIL_SPOOL_MAX_MB)',
      registers,
    });
    this.spoolFullWaits = new Counter({
      name: 'vigil_backbone_spool_full_waits_total',
      help: 'Device messages that waited for room in a full spool (their PUBACK waits, the broker queues)',
      registers,
    });
    this.consumerPending = new Gauge({
      name: 'vigil_backbone_consumer_pending',
      help: 'Messages in the stream not yet delivered to the consumer (num_pending): the backlog',
      labelNames: ['consumer'] as const,
      registers,
    });
    this.consumerUnacked = new Gauge({
      name: 'vigil_backbone_consumer_unacked',
      help: 'Messages delivered to the persister and not yet acknowledged (waiting for InfluxDB)',
      labelNames: ['consumer'] as const,
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'vigil_backbone_consumer_lag_seconds',
      help: 'Age of the oldest message delivered to the persister and not yet stored (0 when none)',
      labelNames: ['consumer'] as const,
      registers,
    });
    this.consumed = new Counter({
      name: 'vigil_backbone_consumed_total',
      help:
        'Stream messages the persister acknowledged, by outcome: stored (InfluxDB accepted), refused ' +
        '(InfluxDB refused the lines for good: vigil_persister_lines_total{outcome="failed"}), ' +
        'undecodable (not Vigil records: logged); redelivered counts messages JetStream delivered ' +
        'again after its ack wait (an InfluxDB outage longer than it: written again to the same points)',
      labelNames: ['consumer', 'outcome'] as const,
      registers,
    });
    this.lost = new Counter({
      name: 'vigil_backbone_lost_total',
      help:
        'Stream messages discarded by the stream limits before the persister stored them (a jump of ' +
        'the delivered stream sequence); for alarms an upper bound (device mode messages share the stream)',
      labelNames: ['consumer'] as const,
      registers,
    });
    this.alarmFeedBehind = new Gauge({
      name: 'vigil_backbone_alarm_feed_behind',
      help:
        "Stream messages the gateway's alarm feed had not applied at its last check of " +
        'VIGIL_ALARMS (its last sequence minus the last one applied; 0 when current)',
      registers,
    });
    this.alarmFeedStalls = new Counter({
      name: 'vigil_backbone_alarm_feed_stalls_total',
      help:
        "Times the gateway's alarm feed was behind VIGIL_ALARMS (or could not read it) for longer " +
        'than its bound (5 s): consoles did not get alarm changes live meanwhile; /readyz shows it',
      registers,
    });
    this.alarmFeedRefollows = new Counter({
      name: 'vigil_backbone_alarm_feed_refollows_total',
      help:
        "Times the gateway's alarm feed replaced its VIGIL_ALARMS consumer, from the last sequence " +
        'applied, by reason: reconnect (the connection moved to another NATS node), stalled ' +
        '(behind without progress), closed (the consumer stopped or could not be created)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.startRetries = new Counter({
      name: 'vigil_backbone_start_retries_total',
      help:
        'JetStream API requests at start that timed out or were unavailable (a cluster without a meta ' +
        'leader) and were tried again; beyond VIGIL_NATS_START_WAIT_S the process exits',
      registers,
    });
  }

  private static readonly byRegistry = new WeakMap<Registry, BackboneMetrics>();

  static of(registry: Registry): BackboneMetrics {
    let metrics = BackboneMetrics.byRegistry.get(registry);
    if (!metrics)
      BackboneMetrics.byRegistry.set(registry, (metrics = new BackboneMetrics(registry)));
    return metrics;
  }
}
