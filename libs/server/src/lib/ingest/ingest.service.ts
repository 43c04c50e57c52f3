import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';

import {
  canaryReport,
  type ClockCorrection,
  deadLetterTopic,
  type CanaryStamp,
  type DeadLetter,
  type DeadLetterReason,
  type IngestRecord,
} from '@vigil/contracts';
import { initialSeqState, trackSeq, type SeqState, validateMessage } from '@vigil/ingest';

import { PipelineBus } from '../bus/pipeline-bus';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { RegistryHolder } from '../registry/registry-holder';
import { JetStreamJournal } from '../bus/jetstream/jetstream-journal';
import { ImmediateJournal, IngestJournal, journalMessage } from './ingest-journal';
import { RateLimitedLogger } from '../common/rate-limited-logger';

/** First bytes of an oversized payload kept in its dead letter. */
const DEAD_LETTER_SNIPPET_BYTES = 1024;
/** Reasons whose dead letter keeps only the first DEAD_LETTER_SNIPPET_BYTES, base64. */
const CUT_REASONS: ReadonlySet<DeadLetterReason> = new Set([
  'oversized',
  'ingest-error',
  'too-deep',
  'too-many-items',
  'string-too-long',
]);
/** Devices whose seq gaps are kept for the next warning, at most (a bound on the map). */
const MISSING_DEVICES_TRACKED = 1000;
/** Devices named in a missing-samples warning, worst first. */
const MISSING_DEVICES_NAMED = 5;
/** Records handed to the rules and the persister per bus batch, at most. */
const MAX_BATCH_RECORDS = 5000;

/**
 * Validates device messages, normalises them and hands them to the pipeline in batches. Bad input
 * is counted per reason, logged at a bounded rate and republished to the dead-letter topic.
 */
@Injectable()
export class IngestService implements OnModuleDestroy {
  private readonly logger = new Logger(IngestService.name);
  private readonly rateLimited = new RateLimitedLogger(this.logger);
  /** siteId → deviceId → seq state: no key string built per reading. */
  private readonly seqs = new Map<string, Map<string, SeqState>>();
  private pending: IngestRecord[] = [];
  /** Canaries in `pending`, reported once their batch has been handed on. */
  private canaries: CanaryStamp[] = [];
  private flushScheduled = false;
  /** Counted per message, added to the Prometheus counters once per batch (label lookups cost). */
  private readonly counts = {
    telemetry: 0,
    event: 0,
    status: 0,
    readings: 0,
    duplicates: 0,
    /** Samples skipped in the devices' seq numbers when a later one arrived. */
    missing: 0,
    /** Devices' seq counters recognised as restarted. */
    seqRestarts: 0,
    /** Old samples beyond the seq window: a re-delivery or a late original, evaluated. */
    seqStale: 0,
    /** Readings evaluated on server time because the device clock was ahead (by reason). */
    clockFuture: 0,
    clockFarFuture: 0,
  };
  /** Messages from the broker's retained store, by kind. */
  private readonly retainedCounts = { telemetry: 0, event: 0, status: 0 };

  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(MqttPublisher) private readonly publisher: MqttPublisher,
    @Optional()
    @Inject(IngestJournal)
    private readonly journal: IngestJournal = new ImmediateJournal(),
  ) {
    this.immediate = this.journal instanceof ImmediateJournal;
    this.viaStream = this.journal instanceof JetStreamJournal;
  }

  /**
   * jetstream: records go only to the records stream (the consumers read it, even when
   * co-located), and the canary's ingest hop counts once its message is in the stream.
   */
  private readonly viaStream: boolean;

  /** Nothing durable behind ingest (VIGIL_BUS=mqtt): acks are called at once, no message built. */
  private readonly immediate: boolean;

  /**
   * One device message, straight from the MQTT client's message event (VigilMqttServer): never
   * throws for device data, allocates one record per sample, and hands records on in batches.
   * `retained`: the broker delivered it from its retained store (the MQTT packet's flag).
   * `ack`: called once the message is durable (IngestJournal), at once when nothing of it is
   * stored (dead-lettered, only duplicates); the MQTT server holds the device's PUBACK until then.
   * `redelivered`: the broker re-sent it after a reconnect (DUP flag): a seq number seen before
   * is then a duplicate, never a device restart (seq-tracker.ts).
   */
  accept(
    topic: string,
    payload: Buffer,
    retained = false,
    ack?: () => void,
    redelivered = false,
  ): void {
    const receivedAt = Date.now();
    const kind = topic.endsWith('/telemetry')
      ? 'telemetry'
      : topic.endsWith('/event')
        ? 'event'
        : 'status';
    let result: ReturnType<typeof validateMessage>;
    try {
      result = validateMessage(topic, payload, this.registry.current, receivedAt, retained);
    } catch (error) {
      // A bug of ours, never bad data by design (the hostile-input property test): one message
      // must not end the process. Loud: an error log with the stack and its own dead letter.
      this.counts[kind] += 1;
      this.logger.error(
        `ingest failed on a message from ${topic.slice(0, 200)}: ${(error as Error)?.stack ?? String(error)}`,
      );
      this.deadLetter(
        topic,
        payload,
        'ingest-error',
        String((error as Error)?.message ?? error).slice(0, 200),
        receivedAt,
      );
      ack?.();
      return;
    }
    if (result.ok && result.records[0]?.kind === 'canary') {
      if (this.viaStream) {
        this.streamCanary(topic, payload, result.records[0], ack);
        return;
      }
      this.acceptCanary(result.records[0]);
      this.journalled(topic, payload, [result.records[0]], ack);
      this.scheduleFlush();
      return;
    }
    this.counts[kind] += 1;
    if (retained) this.retainedCounts[kind] += 1;
    if (!result.ok) {
      this.deadLetter(topic, payload, result.reason, result.detail, receivedAt);
      ack?.();
      return;
    }
    const firstKept = this.pending.length;
    for (const record of result.records) {
      if (record.kind === 'reading') {
        const { seq, siteId, deviceId, ts, deviceTime, clockCorrected } = record.reading;
        if (clockCorrected !== undefined) this.clockCorrected(record.reading, clockCorrected);
        // The device's own clock, else the receive time, tells a restarted counter from a
        // re-delivery (seq-tracker.ts).
        const deviceTs = deviceTime ? ts : undefined;
        if (seq !== undefined) {
          let site = this.seqs.get(siteId);
          if (!site) this.seqs.set(siteId, (site = new Map()));
          const state = site.get(deviceId);
          if (!state) site.set(deviceId, initialSeqState(seq, deviceTs, receivedAt));
          else {
            const lostBefore = state.lost;
            const verdict = trackSeq(state, seq, deviceTs, receivedAt, redelivered);
            if (state.lost > lostBefore) this.missing(siteId, deviceId, state.lost - lostBefore);
            if (verdict === 'duplicate') {
              this.counts.duplicates += 1;
              continue;
            }
            if (verdict === 'restart') this.seqRestarted(siteId, deviceId, seq);
            else if (verdict === 'stale') this.seqStale(siteId, deviceId, seq);
          }
        }
        this.counts.readings += 1;
      }
      this.pending.push(record);
    }
    // Journalled before the batch can flush: what the bus carries is always in the journal
    // first (the rules' spool cursor relies on it).
    if (this.pending.length > firstKept)
      this.journalled(topic, payload, this.pending.slice(firstKept), ack);
    else ack?.();
    this.scheduleFlush();
  }

  /** Hands the message's records to the journal; `ack` once they are durable. */
  private journalled(
    topic: string,
    payload: Buffer,
    records: readonly IngestRecord[],
    ack: (() => void) | undefined,
  ): void {
    if (this.immediate) {
      ack?.();
      return;
    }
    const durable = this.journal.append(journalMessage(topic, payload, records));
    // A journal that cannot make the message durable (the spool's disk failing) must not be an
    // unhandled rejection (the process backstop would end ingest): loud, counted as an ingest
    // error, and the PUBACK withheld, so the broker re-delivers the message on reconnect.
    void durable.then(ack, error => {
      this.metrics.journalFailures.inc();
      this.rateLimited.warn(
        'journal',
        `a message from ${topic.slice(0, 200)} could NOT be made durable; not acknowledged to the broker: ${(error as Error)?.message ?? String(error)}`,
      );
    });
  }

  /** jetstream: the canary travels in the records stream; its ingest hop once it is there. */
  private streamCanary(
    topic: string,
    payload: Buffer,
    record: Extract<IngestRecord, { kind: 'canary' }>,
    ack: (() => void) | undefined,
  ): void {
    void this.journal.append(journalMessage(topic, payload, [record])).then(() => {
      this.bus.publishCanary([canaryReport('ingest', record.canary, Date.now())]);
      ack?.();
    });
  }

  /** Vigil's canary: not a device and not counted as one; its hop report follows its batch. */
  private acceptCanary(record: Extract<IngestRecord, { kind: 'canary' }>): void {
    this.pending.push(record);
    this.canaries.push(record.canary);
  }

  private scheduleFlush(): void {
    if (this.pending.length >= MAX_BATCH_RECORDS) this.flush();
    else if (!this.flushScheduled) {
      // One batch per turn of the event loop: everything that arrived in one socket read.
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  private seqRestarted(siteId: string, deviceId: string, seq: number): void {
    this.counts.seqRestarts += 1;
    this.rateLimited.warn(
      'seq-restart',
      `${siteId}/${deviceId} restarted its seq counter (now ${seq}): its samples are evaluated, ` +
        'not dropped as duplicates (vigil_ingest_seq_restarts_total)',
    );
  }

  private seqStale(siteId: string, deviceId: string, seq: number): void {
    this.counts.seqStale += 1;
    this.rateLimited.warn(
      'seq-stale',
      `${siteId}/${deviceId}: seq ${seq} is more than 64 below the newest and its device time is ` +
        'not newer: a re-delivered or a late sample (cannot tell which); evaluated as late, ' +
        'not taken for a restart (vigil_ingest_stale_samples_total)',
    );
  }

  private clockCorrected(
    reading: { siteId: string; deviceId: string; clockSkewMs: number | undefined },
    reason: ClockCorrection, // ingest sets only `future` and `far-future`
  ): void {
    if (reason === 'far-future') this.counts.clockFarFuture += 1;
    else this.counts.clockFuture += 1;
    this.rateLimited.warn(
      'clock-future',
      `${reading.siteId}/${reading.deviceId}: device clock ${Math.round((reading.clockSkewMs ?? 0) / 1000)} s ` +
        'ahead of the server: its readings are evaluated on server time and flagged ' +
        '(vigil_ingest_clock_corrected_total); fix the device clock',
    );
  }

  /** Messages lost between a device's seq numbers, by device (for device health). */
  lostSamples(siteId: string, deviceId: string): number {
    return this.seqs.get(siteId)?.get(deviceId)?.lost ?? 0;
  }

  onModuleDestroy(): void {
    this.flush();
  }

  private readonly flushSoon = (): void => this.flush();
  private missingSinceWarning = 0;
  /** `site/device` → samples missing since the last warning (at most MISSING_DEVICES_TRACKED). */
  private readonly missingByDevice = new Map<string, number>();

  /** A gap in a device's seq numbers: counted, and named in the next warning. */
  private missing(siteId: string, deviceId: string, samples: number): void {
    this.counts.missing += samples;
    const key = `${siteId}/${deviceId}`;
    const before = this.missingByDevice.get(key);
    if (before !== undefined || this.missingByDevice.size < MISSING_DEVICES_TRACKED)
      this.missingByDevice.set(key, (before ?? 0) + samples);
  }

  /** The devices that missed the most since the last warning, e.g. `plant-1/gc-1 (120), …`. */
  private worstMissing(): string {
    const worst = [...this.missingByDevice]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MISSING_DEVICES_NAMED)
      .map(([device, samples]) => `${device} (${samples})`);
    const more = this.missingByDevice.size - worst.length;
    return worst.join(', ') + (more > 0 ? ` and ${more} more device(s)` : '');
  }

  /**
   * Hands the batch being built on now: when it is full, on the next turn of the event loop, and
   * at the stop (bootstrap, after ingest stopped taking messages; module destroy).
   */
  flush(): void {
    this.flushScheduled = false;
    this.countBatch();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    if (!this.viaStream) this.bus.publishRecords(batch);
    if (this.canaries.length > 0) {
      const seenAt = Date.now();
      const reports = this.canaries.map(stamp => canaryReport('ingest', stamp, seenAt));
      this.canaries = [];
      this.bus.publishCanary(reports);
    }
  }

  private countBatch(): void {
    const counts = this.counts;
    for (const kind of ['telemetry', 'event', 'status'] as const) {
      if (counts[kind] > 0) this.metrics.messagesReceived.inc({ kind }, counts[kind]);
      counts[kind] = 0;
    }
    if (counts.readings > 0) this.metrics.readingsAccepted.inc(counts.readings);
    if (counts.duplicates > 0) this.metrics.duplicates.inc(counts.duplicates);
    if (counts.seqRestarts > 0) this.metrics.seqRestarts.inc(counts.seqRestarts);
    if (counts.seqStale > 0) this.metrics.staleSamples.inc(counts.seqStale);
    if (counts.clockFuture > 0)
      this.metrics.clockCorrected.inc({ reason: 'future' }, counts.clockFuture);
    if (counts.clockFarFuture > 0)
      this.metrics.clockCorrected.inc({ reason: 'far-future' }, counts.clockFarFuture);
    counts.seqRestarts = 0;
    counts.seqStale = 0;
    counts.clockFuture = 0;
    counts.clockFarFuture = 0;
    for (const kind of ['telemetry', 'event', 'status'] as const) {
      if (this.retainedCounts[kind] > 0)
        this.metrics.retainedMessages.inc({ kind }, this.retainedCounts[kind]);
      this.retainedCounts[kind] = 0;
    }
    if (counts.missing > 0) {
      this.metrics.missingSamples.inc(counts.missing);
      this.missingSinceWarning += counts.missing;
      if (
        this.missingSinceWarning > 0 &&
        this.rateLimited.warn(
          'missing-samples',
          `${this.missingSinceWarning} sample(s) missing from devices' seq numbers since the last warning ` +
            `(${this.worstMissing()}): ` +
            'the broker dropped them (Vigil or its subscription is slower than the offered load: ' +
            'vigil_ingest_missing_samples_total) or the devices lost them',
        )
      ) {
        this.missingSinceWarning = 0;
        this.missingByDevice.clear();
      }
    }
    counts.readings = 0;
    counts.duplicates = 0;
    counts.missing = 0;
  }

  private deadLetter(
    topic: string,
    payload: Buffer,
    reason: DeadLetterReason,
    detail: string,
    receivedAt: number,
  ): void {
    this.metrics.deadLettered.inc({ reason });
    this.rateLimited.warn(
      `dead-letter:${reason}`,
      `dead-lettered (${reason}) from ${topic.slice(0, 200)}: ${detail}`,
    );
    // Hostile payloads (oversized, too deep/wide/long) keep only their first bytes: the dead
    // letter must stay small, and a cut UTF-8 text is sent as base64 so it stays exact.
    const cut = CUT_REASONS.has(reason);
    const kept = payload.subarray(0, cut ? DEAD_LETTER_SNIPPET_BYTES : payload.length);
    const isText = reason !== 'not-utf8' && !cut;
    const letter: DeadLetter = {
      reason,
      topic,
      detail,
      receivedAt,
      payload: isText ? kept.toString('utf8') : kept.toString('base64'),
      encoding: isText ? 'utf8' : 'base64',
      bytes: payload.length,
    };
    this.publisher.publish(deadLetterTopic(reason), JSON.stringify(letter));
  }
}
