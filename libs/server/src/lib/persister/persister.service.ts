import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';

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
  type TelemetryStore,
  type WriteLine,
} from '@vigil/storage';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import { TELEMETRY_STORE } from '../storage/telemetry-store.provider';
import { BusPersisterSource, PersisterSource } from './persister-source';

const SCHEMA_RETRY_MS = 5000;
const CLOSE_TIMEOUT_MS = 10_000;
/** Write batches a durable source keeps in memory at most (the rest waits on disk). */
const SOURCE_BATCHES_IN_MEMORY = 4;

/**
 * Writes readings, device events and status, and alarm events to InfluxDB in batches. The buffer
 * is bounded: when InfluxDB is down for longer than the buffer lasts, lines are refused, counted
 * (vigil_persister_lines_total{outcome="rejected"}) and logged, never dropped silently. Each record or
 * alarm batch is offered as one string per retention policy (a WriteChunk): lines wait in the
 * buffer until InfluxDB acknowledges them, and a few large strings are far cheaper for the GC to
 * promote and mark than an object and a string per reading.
 */
@Injectable()
export class PersisterService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PersisterService.name);
  private readonly rateLimited = new RateLimitedLogger(this.logger);
  private readonly source: PersisterSource;
  private readonly writer: BatchingWriter | undefined;
  private readonly store: TelemetryStore | undefined;
  private schemaReady = false;
  private schemaTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    /** The process's one store (telemetry-store.provider.ts); null when VIGIL_INFLUX_MODE=off. */
    @Inject(TELEMETRY_STORE) store: TelemetryStore | null,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    /** Where records and alarm updates come from (persister-source.ts); the bus by default. */
    @Optional() @Inject(PersisterSource) source?: PersisterSource,
  ) {
    this.source = source ?? new BusPersisterSource(bus);
    if (store === null) return;
    this.store = store;
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
    const writer = this.writer;
    this.source.start({
      records: (records, settled) => this.writeRecords(records, settled),
      alarms: (updates, settled) => this.writeAlarms(updates, settled),
      // A durable source keeps its backlog on disk: a few batches in memory are enough to write
      // at full speed (maxConcurrentWrites batches in flight and the next ones ready).
      room: () =>
        Math.min(
          this.config.write.bufferLines,
          SOURCE_BATCHES_IN_MEMORY * this.config.write.batchLines,
        ) - writer.stats().buffered,
    });
    this.publishStats(); // every series exists from the start, at 0
    this.statsTimer = setInterval(() => this.publishStats(), 1000);
    this.statsTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    await this.source.stop();
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

  private writeRecords(records: readonly IngestRecord[], settled?: () => void): boolean {
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
    const offered = this.offer(lines, settled);
    if (canaries) for (const canary of canaries) this.offerCanary(canary);
    return offered;
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

  private writeAlarms(updates: readonly AlarmUpdate[], settled?: () => void): boolean {
    return this.offer(
      updates.map(({ alarm, action }) => alarmEventLine(alarm, action)),
      settled,
    );
  }

  /**
   * All the lines of one batch or none, so that a batch's records are never half stored.
   * `settled` (a durable source's commit) runs once they and all before them are settled.
   */
  private offer(lines: readonly WriteLine[], settled?: () => void): boolean {
    if (!this.writer) return false;
    const chunks = lines.length === 0 ? [] : encodeChunks(toWriteChunks(lines));
    const offered = this.writer.offerChunks(
      chunks,
      undefined,
      settled && this.settledThen(settled),
    );
    if (!offered) {
      this.rateLimited.warn(
        'rejected',
        `write buffer full (${this.config.write.bufferLines} lines): ${lines.length} lines NOT stored; InfluxDB is too slow or down`,
      );
    }
    return offered;
  }

  /** The source's commit, then a nudge: a pulling source reads on when the buffer has room. */
  private settledThen(settled: () => void): () => void {
    return () => {
      settled();
      this.source.wake();
    };
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
