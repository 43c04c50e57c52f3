import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import {
  deadLetterTopic,
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
  private readonly seqs = new Map<string, SeqState>();
  private pending: IngestRecord[] = [];
  private flushScheduled = false;

  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(MqttPublisher) private readonly publisher: MqttPublisher,
  ) {}

  accept(topic: string, payload: Buffer, kind: 'telemetry' | 'event' | 'status'): void {
    const receivedAt = Date.now();
    this.metrics.messagesReceived.inc({ kind });
    const result = validateMessage(topic, payload, this.registry.current, receivedAt);
    if (!result.ok) {
      this.deadLetter(topic, payload, result.reason, result.detail, receivedAt);
      return;
    }
    for (const record of result.records) {
      if (record.kind === 'reading' && record.reading.seq !== undefined) {
        const key = `${record.reading.siteId}/${record.reading.deviceId}`;
        const state = this.seqs.get(key);
        if (!state) this.seqs.set(key, initialSeqState(record.reading.seq));
        else if (trackSeq(state, record.reading.seq) === 'duplicate') {
          this.metrics.duplicates.inc();
          continue;
        }
      }
      if (record.kind === 'reading') this.metrics.readingsAccepted.inc();
      this.pending.push(record);
    }
    if (this.pending.length >= MAX_BATCH_RECORDS) this.flush();
    else if (!this.flushScheduled) {
      // One batch per turn of the event loop: everything that arrived in one socket read.
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Messages lost between a device's seq numbers, by device (for device health). */
  lostSamples(siteId: string, deviceId: string): number {
    return this.seqs.get(`${siteId}/${deviceId}`)?.lost ?? 0;
  }

  onModuleDestroy(): void {
    this.flush();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.bus.publishRecords(batch);
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
