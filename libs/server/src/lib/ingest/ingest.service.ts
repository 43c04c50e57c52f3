import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import {
  canaryReport,
  deadLetterTopic,
  type CanaryStamp,
  type DeadLetter,
  type DeadLetterReason,
  type IngestRecord,
} from '@vigil/contracts';

import { PipelineBus } from '../bus/pipeline-bus';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { RegistryHolder } from '../registry/registry-holder';
import { RateLimitedLogger } from './rate-limited-logger';
import { initialSeqState, trackSeq, type SeqState } from './seq-tracker';
import { validateMessage } from './validate-message';

/** First bytes of an oversized payload kept in its dead letter. */
const DEAD_LETTER_SNIPPET_BYTES = 1024;
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
  };

  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(MqttPublisher) private readonly publisher: MqttPublisher,
  ) {}

  /**
   * One device message, straight from the MQTT client's message event (VigilMqttServer): never
   * throws for device data, allocates one record per sample, and hands records on in batches.
   */
  accept(topic: string, payload: Buffer): void {
    const receivedAt = Date.now();
    const kind = topic.endsWith('/telemetry')
      ? 'telemetry'
      : topic.endsWith('/event')
        ? 'event'
        : 'status';
    const result = validateMessage(topic, payload, this.registry.current, receivedAt);
    if (result.ok && result.records[0]?.kind === 'canary') {
      this.acceptCanary(result.records[0]);
      return;
    }
    this.counts[kind] += 1;
    if (!result.ok) {
      this.deadLetter(topic, payload, result.reason, result.detail, receivedAt);
      return;
    }
    for (const record of result.records) {
      if (record.kind === 'reading') {
        const { seq, siteId, deviceId, ts, deviceTime } = record.reading;
        // Only the device's own clock tells a restarted counter from a re-delivery.
        const deviceTs = deviceTime ? ts : undefined;
        if (seq !== undefined) {
          let site = this.seqs.get(siteId);
          if (!site) this.seqs.set(siteId, (site = new Map()));
          const state = site.get(deviceId);
          if (!state) site.set(deviceId, initialSeqState(seq, deviceTs));
          else {
            const lostBefore = state.lost;
            const verdict = trackSeq(state, seq, deviceTs);
            if (state.lost > lostBefore) this.counts.missing += state.lost - lostBefore;
            if (verdict === 'duplicate') {
              this.counts.duplicates += 1;
              continue;
            }
          }
        }
        this.counts.readings += 1;
      }
      this.pending.push(record);
    }
    this.scheduleFlush();
  }

  /** Vigil's canary: not a device and not counted as one; its hop report follows its batch. */
  private acceptCanary(record: Extract<IngestRecord, { kind: 'canary' }>): void {
    this.pending.push(record);
    this.canaries.push(record.canary);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.pending.length >= MAX_BATCH_RECORDS) this.flush();
    else if (!this.flushScheduled) {
      // One batch per turn of the event loop: everything that arrived in one socket read.
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
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

  private flush(): void {
    this.flushScheduled = false;
    this.countBatch();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.bus.publishRecords(batch);
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
    if (counts.missing > 0) {
      this.metrics.missingSamples.inc(counts.missing);
      this.missingSinceWarning += counts.missing;
      if (
        this.missingSinceWarning > 0 &&
        this.rateLimited.warn(
          'missing-samples',
          `${this.missingSinceWarning} sample(s) missing from devices' seq numbers since the last warning: ` +
            'the broker dropped them (Vigil or its subscription is slower than the offered load: ' +
            'vigil_ingest_missing_samples_total) or the devices lost them',
        )
      )
        this.missingSinceWarning = 0;
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
    const kept = payload.subarray(
      0,
      reason === 'oversized' ? DEAD_LETTER_SNIPPET_BYTES : payload.length,
    );
    const isText = reason !== 'not-utf8' && reason !== 'oversized';
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
