import { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type JetStreamManager,
  type JsMsg,
} from 'nats';

import { parseInternalAlarms, parseInternalRecords } from '@vigil/contracts';

import type { Backbone } from '../bus/jetstream/backbone';
import type { BackboneHealth } from '../bus/jetstream/backbone-health';
import type { BackboneMetrics } from '../bus/jetstream/backbone-metrics';
import { ALARMS_STREAM, CHECKPOINTS_BUCKET, RECORDS_STREAM } from '../bus/jetstream/subjects';
import type { AlarmUpdate } from '../bus/pipeline-bus';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { PersisterSource, type PersisterSink } from './persister-source';

export const RECORDS_CONSUMER = 'vigil-persister-records';
export const ALARMS_CONSUMER = 'vigil-persister-alarms';
/**
 * Key in vigil_checkpoints with a consumer's losses to the stream limits, `{ lost, at }` (JSON),
 * read by the gateway for the console: `persister.<consumer>.lost`.
 */
export function lostKey(consumer: string): string {
  return `persister.${consumer}.lost`;
}
const ALARMS_FILTER = 'vigil.alarms.>';

export interface JetStreamSourceOptions {
  /** Messages fetched per pull request at most (big batches drain a backlog quickly). */
  readonly fetchMessages?: number;
  /** Messages delivered and not yet acknowledged at most, per consumer. */
  readonly maxUnacked?: number;
  /** The oldest unstored message older than this makes /readyz degraded. */
  readonly lagDegradedMs?: number;
  /** Records lost to the stream limits keep /readyz degraded this long. */
  readonly gapDegradedMs?: number;
  /** How often the consumer's num_pending is read while nothing is fetched. */
  readonly pendingPollMs?: number;
  /** JetStream's ack wait for the consumers (tests shorten it to provoke redelivery). */
  readonly ackWaitMs?: number;
}

const FETCH_MESSAGES = 2000;
const FETCH_EXPIRES_MS = 1000;
const MAX_UNACKED = 20_000;
const LAG_DEGRADED_MS = 30_000;
const GAP_DEGRADED_MS = 10 * 60_000;
const PENDING_POLL_MS = 2000;
const FULL_RETRY_MS = 100;
/**
 * Redelivery of messages this instance holds in its write buffer is never wanted (it waits for
 * InfluxDB itself); a restart recreates the consumer from its ack floor instead of waiting. An
 * outage longer than this still gets them redelivered: counted (`outcome="redelivered"`) and
 * harmless, as every line written again lands on the same point (alarm events included:
 * createAlarmEventEncoder derives an event's timestamp from the event).
 */
const ACK_WAIT_MS = 10 * 60_000;

type StoreOutcome = 'stored' | 'abandoned';

interface Decoded {
  readonly records?: ReturnType<typeof parseInternalRecords>;
  readonly updates?: readonly AlarmUpdate[];
}

/** One fetched batch, acknowledged (AckPolicy.All: its last message) once it and all before it settled. */
interface Pending {
  readonly last: JsMsg;
  /** Messages of the batch (all acknowledged together). */
  readonly messages: number;
  /** Of them, decodable (counted as stored or refused). */
  readonly decoded: number;
  /** Publish time of its first message (ms). */
  readonly since: number;
  outcome: StoreOutcome | undefined;
}

/**
 * The persister's source in jetstream mode: durable pull consumers `vigil-persister-records`
 * (VIGIL_RECORDS) and `vigil-persister-alarms` (VIGIL_ALARMS, alarm subjects only). Each fetched
 * batch goes to the write buffer; it is acknowledged (AckPolicy.All, in fetch order) only once
 * InfluxDB accepted all of it and everything fetched before. An InfluxDB outage therefore waits
 * in the stream (bounded by its limits): nothing more is fetched than maxUnacked, the backlog
 * is `vigil_backbone_consumer_pending`, and /readyz is degraded while the oldest unstored message
 * is older than lagDegradedMs. Messages the stream discarded before they were stored show as a
 * jump of the delivered stream sequence: counted as lost (`vigil_backbone_lost_total`), logged
 * and shown, never silent. Re-writes after a crash are the same points again (InfluxDB keeps one
 * point per series and time), so redelivery is idempotent.
 *
 * One persister instance per backbone: AckPolicy.All acknowledges everything before a message.
 */
export class JetStreamRecordSource extends PersisterSource {
  private readonly logger = new Logger('JetStreamRecordSource');
  private readonly loops: ConsumerLoop[] = [];
  private starting: Promise<void> | undefined;

  constructor(
    private readonly backbone: Backbone,
    private readonly metrics: BackboneMetrics,
    private readonly health: BackboneHealth | undefined,
    private readonly options: JetStreamSourceOptions = {},
  ) {
    super();
  }

  start(sink: PersisterSink): void {
    this.starting = this.startLoops(sink).catch((error: unknown) =>
      this.logger.error(
        `the persister's JetStream consumers could not start: ${(error as Error)?.stack ?? String(error)}`,
      ),
    );
  }

  /** Resolves once both consumers are made (tests; start() does not wait). */
  async started(): Promise<void> {
    await this.starting;
  }

  wake(): void {
    for (const loop of this.loops) loop.wake?.();
  }

  private async startLoops(sink: PersisterSink): Promise<void> {
    this.loops.push(
      new ConsumerLoop(
        this.backbone.jsm,
        this.backbone,
        RECORDS_STREAM,
        RECORDS_CONSUMER,
        undefined,
        'records',
        this.metrics,
        this.health,
        this.options,
        sink,
      ),
      new ConsumerLoop(
        this.backbone.jsm,
        this.backbone,
        ALARMS_STREAM,
        ALARMS_CONSUMER,
        ALARMS_FILTER,
        'alarms',
        this.metrics,
        this.health,
        this.options,
        sink,
      ),
    );
    await Promise.all(this.loops.map(loop => loop.start()));
  }

  async stop(): Promise<void> {
    await this.starting;
    await Promise.all(this.loops.map(loop => loop.stop()));
  }

  /** Per consumer: messages lost to the stream limits, unacked and pending (tests, console). */
  status(): Record<string, { lost: number; unacked: number; pending: number; lagMs: number }> {
    return Object.fromEntries(this.loops.map(loop => [loop.consumer, loop.status()]));
  }
}

class ConsumerLoop {
  private readonly logger: Logger;
  private readonly rateLimited: RateLimitedLogger;
  private readonly queue: Pending[] = [];
  private unacked = 0;
  private pending = 0;
  private lost = 0;
  /** Of `lost`, already added to the checkpoints bucket. */
  private lostRecorded = 0;
  private lastGapAt = 0;
  /** The next stream sequence a first delivery should have; undefined before the first. */
  private expected: number | undefined;
  /** The consumer sequence the next delivery should have (1 after the consumer is made). */
  private nextDelivery = 1;
  /** Deliveries that never reached us (a fetch that had ended), redelivered by a resync. */
  private resyncs = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  wake: (() => void) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder();
  private readonly fetchMessages: number;
  private readonly maxUnacked: number;
  private readonly lagDegradedMs: number;
  private readonly gapDegradedMs: number;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly backbone: Backbone,
    private readonly stream: string,
    readonly consumer: string,
    private readonly filter: string | undefined,
    private readonly kind: 'records' | 'alarms',
    private readonly metrics: BackboneMetrics,
    private readonly health: BackboneHealth | undefined,
    private readonly options: JetStreamSourceOptions,
    private readonly sink: PersisterSink,
  ) {
    this.logger = new Logger(`Persister:${consumer}`);
    this.rateLimited = new RateLimitedLogger(this.logger);
    this.fetchMessages = options.fetchMessages ?? FETCH_MESSAGES;
    this.maxUnacked = options.maxUnacked ?? MAX_UNACKED;
    this.lagDegradedMs = options.lagDegradedMs ?? LAG_DEGRADED_MS;
    this.gapDegradedMs = options.gapDegradedMs ?? GAP_DEGRADED_MS;
  }

  async start(): Promise<void> {
    await this.prepareConsumer();
    this.running = true;
    this.loop = this.run();
    this.pollTimer = setInterval(
      () => void this.pollPending(),
      this.options.pendingPollMs ?? PENDING_POLL_MS,
    );
    this.pollTimer.unref();
    void this.pollPending();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.pollTimer);
    this.wake?.();
    await this.loop;
  }

  status(): { lost: number; unacked: number; pending: number; lagMs: number } {
    return { lost: this.lost, unacked: this.unacked, pending: this.pending, lagMs: this.lagMs() };
  }

  /**
   * The durable consumer, recreated from its ack floor: what the previous instance fetched and
   * never acknowledged is delivered again at once (not after the ack wait), and nothing after
   * the floor can be acknowledged for it by AckPolicy.All before it is stored.
   */
  private async prepareConsumer(): Promise<void> {
    let floor: number | undefined;
    try {
      const info = await this.jsm.consumers.info(this.stream, this.consumer);
      floor = info.ack_floor.stream_seq;
      await this.jsm.consumers.delete(this.stream, this.consumer);
    } catch (error) {
      if (!/not found/i.test(String((error as Error)?.message))) throw error;
    }
    const config: Partial<ConsumerConfig> = {
      durable_name: this.consumer,
      ack_policy: AckPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs ?? ACK_WAIT_MS),
      max_ack_pending: this.maxUnacked * 2,
      ...(this.filter ? { filter_subject: this.filter } : {}),
      ...(floor !== undefined && floor > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }
        : { deliver_policy: DeliverPolicy.All }),
    };
    await this.jsm.consumers.add(this.stream, config);
    this.nextDelivery = 1;
    this.expected = floor !== undefined && floor > 0 ? floor + 1 : undefined;
    this.logger.log(
      floor !== undefined
        ? `durable consumer on ${this.stream} resumes after stream sequence ${floor}`
        : `durable consumer on ${this.stream} created (from the start of the stream)`,
    );
  }

  private async run(): Promise<void> {
    let consumer = await this.backbone.js.consumers.get(this.stream, this.consumer);
    while (this.running) {
      const room = this.maxUnacked - this.unacked;
      if (room <= 0) {
        await this.sleep(FULL_RETRY_MS * 5);
        continue;
      }
      let messages: JsMsg[] = [];
      try {
        const batch = await consumer.fetch({
          max_messages: Math.min(this.fetchMessages, room),
          expires: FETCH_EXPIRES_MS,
        });
        for await (const message of batch) messages.push(message);
      } catch (error) {
        this.rateLimited.warn(
          'fetch',
          `fetch from ${this.stream} failed: ${(error as Error).message}`,
        );
        await this.sleep(1000);
        continue;
      }
      if (messages.length === 0) {
        this.pending = 0;
        this.metrics.consumerPending.set({ consumer: this.consumer }, 0);
        this.reportHealth();
        continue;
      }
      if (this.missedDelivery(messages)) {
        await this.resync();
        consumer = await this.backbone.js.consumers.get(this.stream, this.consumer);
        continue;
      }
      messages = await this.checkSequence(messages);
      const redelivered = messages.filter(message => message.info.redelivered).length;
      if (redelivered > 0) {
        this.metrics.consumed.inc({ consumer: this.consumer, outcome: 'redelivered' }, redelivered);
      }
      await this.offer(messages);
      const last = messages.at(-1);
      if (last) this.pending = last.info.pending;
      this.metrics.consumerPending.set({ consumer: this.consumer }, this.pending);
      this.reportHealth();
    }
  }

  /**
   * Whether the server delivered messages this instance never received: a jump of the consumer
   * sequence (a pull request that ended on our side while the server still sent to it). They
   * would be acknowledged unseen by AckPolicy.All, so they must be fetched again.
   */
  private missedDelivery(messages: readonly JsMsg[]): boolean {
    for (const message of messages) {
      if (message.info.deliverySequence !== this.nextDelivery) return true;
      this.nextDelivery += 1;
    }
    return false;
  }

  /**
   * Drops the batch, waits until everything offered before is stored and acknowledged, and
   * recreates the consumer from its ack floor: the missed messages come again, in order.
   */
  private async resync(): Promise<void> {
    this.resyncs += 1;
    this.rateLimited.warn(
      'resync',
      `deliveries from ${this.stream} went missing on the way (consumer sequence jumped): fetching again from the last stored message (${this.resyncs} time(s))`,
    );
    while (this.queue.length > 0 && this.running) await this.sleep(50);
    await this.backbone.nc.flush();
    if (this.running) await this.prepareConsumer();
  }

  /** Counts a jump of the delivered stream sequence (messages discarded by the limits). */
  private async checkSequence(messages: JsMsg[]): Promise<JsMsg[]> {
    for (const message of messages) {
      if (message.info.redelivered) continue;
      const seq = message.info.streamSequence;
      if (this.expected !== undefined && seq > this.expected) {
        // A filtered consumer (alarms) skips other subjects' messages: only what the stream
        // discarded (below its first sequence) counts.
        let missing = seq - this.expected;
        if (this.filter) {
          const first = (await this.jsm.streams.info(this.stream)).state.first_seq;
          missing = Math.max(0, Math.min(seq, first) - this.expected);
        }
        if (missing > 0) this.gap(this.expected, seq, missing);
      }
      if (this.expected === undefined || seq >= this.expected) this.expected = seq + 1;
    }
    return messages;
  }

  private gap(from: number, to: number, missing: number): void {
    this.lost += missing;
    this.lastGapAt = Date.now();
    this.metrics.lost.inc({ consumer: this.consumer }, missing);
    void this.recordLoss();
    this.logger.error(
      `!!! ${missing} ${this.kind} message(s) of ${this.stream} (stream sequences ${from}..${to - 1}) were ` +
        `discarded by the stream limits before the persister stored them: LOST from history ` +
        `(VIGIL_STREAM_${this.kind.toUpperCase()}_MAX_MB / _MAX_AGE_H; vigil_backbone_lost_total) !!!`,
    );
  }

  /** Where the gateway (another process) sees it: a record in the checkpoints bucket. */
  private async recordLoss(): Promise<void> {
    try {
      const kv = await this.backbone.js.views.kv(CHECKPOINTS_BUCKET);
      let before = 0;
      const entry = await kv.get(lostKey(this.consumer));
      if (entry?.value.length) before = Number((entry.json() as { lost?: number }).lost ?? 0);
      await kv.put(
        lostKey(this.consumer),
        JSON.stringify({ lost: before + this.lost - this.lostRecorded, at: this.lastGapAt }),
      );
      this.lostRecorded = this.lost;
    } catch (error) {
      this.rateLimited.warn(
        'lost-record',
        `could not record the loss for the console: ${(error as Error).message}`,
      );
    }
  }

  /** Offers one fetched batch (waiting while the write buffer is full) and queues its ack. */
  private async offer(messages: readonly JsMsg[]): Promise<void> {
    const first = messages[0];
    const last = messages.at(-1);
    if (!first || !last) return;
    const records: NonNullable<Decoded['records']>[number][] = [];
    const updates: AlarmUpdate[] = [];
    let undecodable = 0;
    for (const message of messages) {
      const decoded = this.decode(message);
      if (!decoded) undecodable += 1;
      else if (decoded.records) for (const record of decoded.records) records.push(record);
      else if (decoded.updates) for (const update of decoded.updates) updates.push(update);
    }
    if (undecodable > 0) {
      this.metrics.consumed.inc({ consumer: this.consumer, outcome: 'undecodable' }, undecodable);
      this.rateLimited.warn(
        'undecodable',
        `${undecodable} message(s) on ${this.stream} are not Vigil ${this.kind}: skipped`,
      );
    }
    const entry: Pending = {
      last,
      messages: messages.length,
      decoded: messages.length - undecodable,
      since: Math.floor(first.info.timestampNanos / 1e6),
      outcome: undefined,
    };
    this.queue.push(entry);
    this.unacked += messages.length;
    this.metrics.consumerUnacked.set({ consumer: this.consumer }, this.unacked);
    const settled = (outcome: StoreOutcome) => {
      entry.outcome = outcome;
      this.settle();
    };
    const lines = this.kind === 'records' ? records.length : updates.length;
    for (;;) {
      // Back-pressure: wait for room rather than have the buffer refuse (and warn).
      const taken =
        (this.sink.room() >= lines || this.queue.length === 1) &&
        (this.kind === 'records'
          ? this.sink.records(records, () => settled('stored'))
          : this.sink.alarms(updates, () => settled('stored')));
      if (taken) return;
      this.reportHealth();
      await this.sleep(FULL_RETRY_MS);
      if (!this.running) {
        settled('abandoned');
        return;
      }
    }
  }

  private decode(message: JsMsg): Decoded | undefined {
    let json: unknown;
    try {
      json = JSON.parse(this.decoder.decode(message.data));
    } catch {
      return undefined;
    }
    if (this.kind === 'records') {
      const records = parseInternalRecords(json);
      return records ? { records } : undefined;
    }
    const updates = parseInternalAlarms(Array.isArray(json) ? json : [json]);
    return updates ? { updates } : undefined;
  }

  /** Acknowledges the longest settled prefix (AckPolicy.All: one ack for all of it). */
  private settle(): void {
    let ack: JsMsg | undefined;
    let messages = 0;
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      if (head.outcome === undefined || head.outcome === 'abandoned') break;
      this.queue.shift();
      ack = head.last;
      messages += head.decoded;
      this.unacked -= head.messages;
    }
    if (!ack) return;
    ack.ack();
    // Stored, or refused by InfluxDB for good (vigil_persister_lines_total{outcome="failed"}).
    if (messages > 0)
      this.metrics.consumed.inc({ consumer: this.consumer, outcome: 'stored' }, messages);
    this.metrics.consumerUnacked.set({ consumer: this.consumer }, this.unacked);
    this.reportHealth();
    this.wake?.();
  }

  private lagMs(): number {
    const head = this.queue[0];
    return head ? Math.max(0, Date.now() - head.since) : 0;
  }

  private async pollPending(): Promise<void> {
    try {
      const info = await this.jsm.consumers.info(this.stream, this.consumer);
      this.pending = info.num_pending;
      this.metrics.consumerPending.set({ consumer: this.consumer }, this.pending);
    } catch {
      // NATS unreachable: the fetch loop says so.
    }
    this.reportHealth();
  }

  private reportHealth(): void {
    const lagMs = this.lagMs();
    this.metrics.consumerLag.set({ consumer: this.consumer }, lagMs / 1000);
    const lagging = lagMs > this.lagDegradedMs;
    const recentGap = this.lastGapAt > 0 && Date.now() - this.lastGapAt < this.gapDegradedMs;
    const backlog = this.pending + this.unacked;
    const reasons: string[] = [];
    if (lagging)
      reasons.push(
        `${backlog} ${this.kind} message(s) wait in ${this.stream} for InfluxDB (oldest unstored ${Math.round(lagMs / 1000)} s)`,
      );
    if (this.lost > 0)
      reasons.push(
        `${this.lost} ${this.kind} message(s) lost to the stream limits before they were stored`,
      );
    this.health?.set(`persister-${this.kind}`, {
      ok: !lagging && !recentGap,
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      detail: { backlog, pending: this.pending, unacked: this.unacked, lagMs, lost: this.lost },
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
