import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';

import { canaryReport, type CanaryStamp, type IngestRecord } from '@vigil/contracts';
import {
  BatchingWriter,
  canaryLine,
  LineProtocolError,
  StoreWriteError,
  alarmEventLine,
  deviceEventLine,
  deviceStatusLine,
  readingLine,
  encodeChunks,
  toWriteChunks,
  type WriteLine,
} from '@vigil/storage';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { RateLimitedLogger } from '../ingest/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import { createInfluxStore, type CheckedStore } from './influx-store';
import { RecordSource, type PersistSink, type StoreOutcome } from './record-source';

const SCHEMA_RETRY_MS = 5000;
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Writes readings, device events and status, and alarm events to InfluxDB in batches. The buffer
 * is bounded: when InfluxDB is down for longer than the buffer lasts, lines are refused, counted
 * (vigil_persister_lines_total{outcome="rejected"}) and logged, never dropped silently. Each record or
 * alarm batch is offered as one string per retention policy (a WriteChunk): lines wait in the
 * buffer until InfluxDB acknowledges them, and a few large strings are far cheaper for the GC to
 * promote and mark than an object and a string per reading.
 */
@Injectable()
export class PersisterService implements OnModuleInit, OnModuleDestroy, PersistSink {
  private readonly logger = new Logger(PersisterService.name);
  private readonly rateLimited = new RateLimitedLogger(this.logger);
  private readonly subscriptions: Subscription[] = [];
  private readonly writer: BatchingWriter | undefined;
  private readonly store: CheckedStore | undefined;
  private schemaReady = false;
  private schemaTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    /** A durable source (jetstream: the persister's consumers) instead of the in-process bus. */
    @Optional() @Inject(RecordSource) private readonly source?: RecordSource,
  ) {
    if (config.influx.mode === 'off') return;
    this.store = createInfluxStore(config);
    this.writer = new BatchingWriter(this.store, {
      maxBufferedLines: config.write.bufferLines,
      batchSize: config.write.batchLines,
      flushIntervalMs: config.write.flushMs,
      onError: (error, context) => {
        if (context.outcome === 'retrying') {
          this.metrics.writeRetries.inc({ cause: retryCause(error) });
        }
        this.rateLimited.warn(
          `write:${context.outcome}`,
          `InfluxDB write ${context.outcome} (${context.batchLines} lines, attempt ${context.attempt}): ${(error as Error).message}`,
        );
      },
    });
  }

  async onModuleInit(): Promise<void> {
    if (!this.writer) {
      this.logger.warn('VIGIL_INFLUX_MODE=off: readings and alarm events are not persisted');
      return;
    }
    await this.ensureSchema();
    if (this.source) await this.source.start(this);
    else {
      this.subscriptions.push(this.bus.records$.subscribe(records => this.writeRecords(records)));
      this.subscriptions.push(this.bus.alarms$.subscribe(updates => this.writeAlarms(updates)));
    }
    this.publishStats(); // every series exists from the start, at 0
    this.statsTimer = setInterval(() => this.publishStats(), 1000);
    this.statsTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.source?.stop();
    clearTimeout(this.schemaTimer);
    clearInterval(this.statsTimer);
    if (this.writer) {
      await this.writer.close({ timeoutMs: CLOSE_TIMEOUT_MS });
      this.publishStats();
      const stats = this.writer.stats();
      if (stats.abandoned > 0)
        this.logger.error(`${stats.abandoned} lines could not be written before shutdown`);
    }
  }

  /** Whether the database, retention policies and measurements are prepared. */
  get ready(): boolean {
    return this.schemaReady;
  }

  /** Waits until everything offered so far is written (or settled); used by tests and shutdown. */
  async flush(): Promise<void> {
    await this.writer?.flush();
  }

  private async ensureSchema(): Promise<void> {
    try {
      await this.store?.ensureSchema();
      this.schemaReady = true;
      // Carrying on with a schema Vigil could not manage is allowed, never quiet.
      if (this.store?.schemaNotice) this.logger.error(`InfluxDB: ${this.store.schemaNotice}`);
    } catch (error) {
      // InfluxDB may come up after us; the writer buffers meanwhile and retries its batches.
      this.rateLimited.warn(
        'schema',
        `cannot prepare InfluxDB schema yet: ${(error as Error).message}`,
      );
      this.schemaTimer = setTimeout(() => void this.ensureSchema(), SCHEMA_RETRY_MS);
      this.schemaTimer.unref();
    }
  }

  private writeRecords(records: readonly IngestRecord[]): void {
    const lines: WriteLine[] = [];
    let canaries: CanaryStamp[] | undefined;
    for (const record of records) {
      try {
        if (record.kind === 'canary') (canaries ??= []).push(record.canary);
        else if (record.kind === 'reading') lines.push(readingLine(record.reading));
        else if (record.kind === 'event') lines.push(deviceEventLine(record.event));
        else lines.push(deviceStatusLine(record.status));
      } catch (error) {
        if (!(error instanceof LineProtocolError)) throw error;
        this.metrics.writeTotals.inc({ outcome: 'unencodable' });
        this.rateLimited.warn('unencodable', `cannot store a ${record.kind}: ${error.message}`);
      }
    }
    this.offer(lines);
    if (canaries) for (const canary of canaries) this.offerCanary(canary);
  }

  /** PersistSink: a durable source's batch, settled once InfluxDB stored all of its lines. */
  storeRecords(
    records: readonly IngestRecord[],
    settled: (outcome: StoreOutcome) => void,
  ): boolean {
    const lines: WriteLine[] = [];
    const canaries: CanaryStamp[] = [];
    for (const record of records) {
      try {
        if (record.kind === 'canary') canaries.push(record.canary);
        else if (record.kind === 'reading') lines.push(readingLine(record.reading));
        else if (record.kind === 'event') lines.push(deviceEventLine(record.event));
        else lines.push(deviceStatusLine(record.status));
      } catch (error) {
        if (!(error instanceof LineProtocolError)) throw error;
        this.metrics.writeTotals.inc({ outcome: 'unencodable' });
        this.rateLimited.warn('unencodable', `cannot store a ${record.kind}: ${error.message}`);
      }
    }
    if (!this.offerSettled(lines, settled)) return false;
    for (const canary of canaries) this.offerCanary(canary);
    return true;
  }

  /** PersistSink: alarm updates of a durable source (the alarm audit trail). */
  storeAlarms(updates: readonly AlarmUpdate[], settled: (outcome: StoreOutcome) => void): boolean {
    return this.offerSettled(
      updates.map(({ alarm, action }) => alarmEventLine(alarm, action)),
      settled,
    );
  }

  /**
   * Offers every chunk on its own (a batch may carry only some of a call's chunks), and settles
   * once all of them did: stored, else refused (for good), else abandoned. Nothing is offered
   * when the buffer cannot take all the lines.
   */
  private offerSettled(
    lines: readonly WriteLine[],
    settled: (outcome: StoreOutcome) => void,
  ): boolean {
    if (!this.writer) {
      queueMicrotask(() => settled('refused'));
      return true;
    }
    const chunks = encodeChunks(toWriteChunks(lines));
    if (chunks.length === 0) {
      queueMicrotask(() => settled('stored'));
      return true;
    }
    if (this.writer.stats().buffered + lines.length > this.config.write.bufferLines) return false;
    let remaining = chunks.length;
    let worst: StoreOutcome = 'stored';
    const done = (outcome: StoreOutcome) => {
      if (outcome === 'abandoned' || (outcome === 'refused' && worst === 'stored')) worst = outcome;
      remaining -= 1;
      if (remaining === 0) settled(worst);
    };
    for (const chunk of chunks)
      this.writer.offerChunks(
        [chunk],
        () => done('stored'),
        outcome => done(outcome),
      );
    return true;
  }

  /**
   * The canary's own line, after the records it came with: the persister hop counts only once
   * InfluxDB has acknowledged the batch that holds it (`onStored`), so a hung or refusing
   * InfluxDB stalls the hop even while the buffer still accepts lines.
   */
  private offerCanary(canary: CanaryStamp): void {
    if (!this.writer) return;
    this.writer.offerChunks(encodeChunks(toWriteChunks([canaryLine(canary)])), () =>
      this.bus.publishCanary([canaryReport('persister', canary, Date.now())]),
    );
  }

  private writeAlarms(updates: readonly AlarmUpdate[]): void {
    this.offer(updates.map(({ alarm, action }) => alarmEventLine(alarm, action)));
  }

  /** All the lines of one batch or none, so that a batch's records are never half stored. */
  private offer(lines: readonly WriteLine[]): void {
    if (lines.length === 0 || !this.writer) return;
    if (!this.writer.offerChunks(encodeChunks(toWriteChunks(lines)))) {
      this.rateLimited.warn(
        'rejected',
        `write buffer full (${this.config.write.bufferLines} lines): ${lines.length} lines NOT stored; InfluxDB is too slow or down`,
      );
    }
  }

  private publishStats(): void {
    if (!this.writer) return;
    const stats = this.writer.stats();
    this.metrics.writeBuffered.set(stats.buffered);
    this.metrics.writeBufferCapacity.set(this.config.write.bufferLines);
    this.metrics.raiseCounter(this.metrics.writeTotals, { outcome: 'written' }, stats.written);
    this.metrics.raiseCounter(this.metrics.writeTotals, { outcome: 'rejected' }, stats.rejected);
    this.metrics.raiseCounter(
      this.metrics.writeTotals,
      { outcome: 'failed' },
      stats.failedPermanent,
    );
  }
}

/** auth (401/403: fix the credentials), server (5xx, 404, 408/429) or network (no answer). */
export function retryCause(error: unknown): 'auth' | 'server' | 'network' {
  if (!(error instanceof StoreWriteError) || error.status === undefined) return 'network';
  return error.status === 401 || error.status === 403 ? 'auth' : 'server';
}
