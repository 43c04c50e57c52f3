import { z } from 'zod';

import type { WriteChunk, WriteLine } from './schema';
import { isPermanentWriteError, type StoreWriter } from './telemetry-store';

/** Time as the writer sees it; inject a fake one (or use jest fake timers) in tests. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Reads the globals at call time, so jest fake timers apply to it too. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout),
};

export interface WriteErrorContext {
  /** `retrying`: the batch is kept and sent again; `failed-permanently`: the server refused lines for good; `abandoned`: close() gave up on them. */
  readonly outcome: 'retrying' | 'failed-permanently' | 'abandoned';
  /** Lines of the batch concerned. */
  readonly batchLines: number;
  /** Lines lost for good (refused or abandoned); 0 while retrying. */
  readonly lostLines: number;
  /** Which attempt of this batch failed (1 = first). */
  readonly attempt: number;
  readonly retryInMs: number | undefined;
}

export interface WriterStats {
  /** Lines accepted and not yet settled: queued plus in flight. */
  readonly buffered: number;
  /** Lines the store acknowledged. */
  readonly written: number;
  /** Batches the store acknowledged (including those it partly refused). */
  readonly batches: number;
  /** Failed attempts that were retried. */
  readonly retries: number;
  /** Lines the store refused for good (type conflict, parse error, beyond retention). */
  readonly failedPermanent: number;
  /** Lines refused by offer() because the buffer was full or the writer closed. */
  readonly rejected: number;
  /** Lines dropped when close() ran out of time. */
  readonly abandoned: number;
  readonly inFlightBatches: number;
  readonly lastError: string | undefined;
  /** Clock time of the last acknowledged batch. */
  readonly lastFlushAt: number | undefined;
}

const optionsSchema = z
  .object({
    maxBufferedLines: z.number().int().positive().default(200_000),
    batchSize: z.number().int().positive().default(5_000),
    flushIntervalMs: z.number().positive().default(200),
    maxConcurrentWrites: z.number().int().positive().default(2),
    retryInitialMs: z.number().positive().default(100),
    retryMaxMs: z.number().positive().default(5_000),
  })
  .refine(options => options.batchSize <= options.maxBufferedLines, {
    message: 'batchSize must not exceed maxBufferedLines',
  })
  .refine(options => options.retryInitialMs <= options.retryMaxMs, {
    message: 'retryInitialMs must not exceed retryMaxMs',
  });

export type BatchingWriterOptions = z.input<typeof optionsSchema> & {
  readonly clock?: Clock;
  /** Every failure, with what happens next; the writer itself never logs. */
  readonly onError?: (error: unknown, context: WriteErrorContext) => void;
};

interface Batch {
  /** Sequence number of the batch's first line: batches settle out of order. */
  readonly firstSeq: number;
  readonly chunks: readonly WriteChunk[];
  /** Lines in all of `chunks`. */
  readonly lines: number;
}

interface FlushWaiter {
  readonly upToSeq: number;
  readonly resolve: () => void;
}

/**
 * A bounded buffer in front of a TelemetryStore. It sends a batch as soon as `batchSize` lines are
 * queued, and any smaller remainder at most `flushIntervalMs` after its first line arrived, with
 * at most `maxConcurrentWrites` batches in flight. A failed batch keeps its slot and its line order
 * and is retried with capped exponential backoff until the store accepts or refuses it, so an
 * outage fills the buffer and then turns offer() to false: the caller sees the back-pressure and
 * counts it, nothing is dropped silently.
 *
 * The buffer holds WriteChunks (many lines in one string) and hands them to the store as they are:
 * lines wait here until the store acknowledges them, long enough for V8 to promote them to the old
 * generation, and a few large strings cost the GC far less than an object and a string per line.
 * Every bound, counter and sequence number is still in lines. A batch is made of whole chunks in
 * offer order, up to `batchSize` lines; a chunk is never split (a string field may hold a newline,
 * so `\n` is no safe boundary), so a batch may leave with fewer lines when the next chunk does
 * not fit, and a chunk larger than `batchSize` leaves as a batch of its own.
 */
export class BatchingWriter {
  private readonly store: StoreWriter;
  private readonly clock: Clock;
  private readonly onError: BatchingWriterOptions['onError'];
  private readonly maxBufferedLines: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxConcurrentWrites: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;

  // Queue = queue[head..]; the consumed prefix is cut off now and then instead of shift()ing,
  // and its slots are cleared at once: a chunk may be large, and must go once its batch settles.
  private queue: (WriteChunk | undefined)[] = [];
  private head = 0;
  /** Lines ever accepted: the next line's sequence number. */
  private acceptedSeq = 0;
  /** Lines ever taken from the queue into a batch. */
  private dispatchedSeq = 0;
  /** Lines below this sequence may leave in a partial batch (the interval passed or flush()). */
  private drainBeforeSeq = 0;
  private readonly inFlight = new Set<Batch>();
  private inFlightLines = 0;
  private flushTimer: unknown;
  private waiters: FlushWaiter[] = [];
  /** `onSettled` callbacks, in offer order (their sequence numbers only grow). */
  private settledCallbacks: FlushWaiter[] = [];
  private closed = false;
  private abandoning = false;
  private readonly backoffWakers = new Set<() => void>();
  /** `onStored` callbacks by the chunk they wait for: few (one per canary), never per line. */
  private readonly acks = new Map<WriteChunk, () => void>();

  private written = 0;
  private batches = 0;
  private retries = 0;
  private failedPermanent = 0;
  private rejected = 0;
  private abandoned = 0;
  private lastError: string | undefined;
  private lastFlushAt: number | undefined;

  constructor(store: StoreWriter, options: BatchingWriterOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(issue =>
        issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
      );
      throw new RangeError(`invalid BatchingWriter options: ${problems.join('; ')}`);
    }
    this.store = store;
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError;
    this.maxBufferedLines = parsed.data.maxBufferedLines;
    this.batchSize = parsed.data.batchSize;
    this.flushIntervalMs = parsed.data.flushIntervalMs;
    this.maxConcurrentWrites = parsed.data.maxConcurrentWrites;
    this.retryInitialMs = parsed.data.retryInitialMs;
    this.retryMaxMs = parsed.data.retryMaxMs;
  }

  /**
   * Queues all the lines or none, each as a chunk of its own: see offerChunks. Handy for a few
   * lines; a hot path should offer chunks (`toWriteChunks`), which the buffer holds more cheaply.
   */
  offer(lines: readonly WriteLine[]): boolean {
    return this.offerChunks(lines.map(({ rp, line }) => ({ rp, text: line, lines: 1 })));
  }

  /**
   * Queues all the chunks or none: false (and `rejected` counts their lines) when their lines do
   * not fit in the buffer or the writer is closed. Keeping a record batch's lines together avoids
   * half-stored records. Throws a RangeError for a chunk without lines: that is a caller's bug.
   * `onStored` runs once the store has acknowledged the batch holding the last of these chunks
   * in full (the pipeline canary's proof that InfluxDB is taking writes); never when those lines
   * are refused, abandoned or still retrying.
   * `onSettled` runs once these lines and every line offered before them have settled: stored or
   * refused for good (counted in `failedPermanent`), never when abandoned at close. A durable
   * source commits its position there (the local spool: everything before it is in the store).
   */
  offerChunks(
    chunks: readonly WriteChunk[],
    onStored?: () => void,
    onSettled?: () => void,
  ): boolean {
    let count = 0;
    for (const chunk of chunks) {
      if (!Number.isInteger(chunk.lines) || chunk.lines < 1 || chunk.text.length === 0) {
        throw new RangeError(
          `a WriteChunk holds at least one line: lines=${chunk.lines}, ${chunk.text.length} chars`,
        );
      }
      count += chunk.lines;
    }
    if (this.closed || this.buffered() + count > this.maxBufferedLines) {
      this.rejected += count;
      return false;
    }
    if (count === 0) {
      if (onSettled) this.settledCallbacks.push({ upToSeq: this.acceptedSeq, resolve: onSettled });
      this.settle();
      return true;
    }
    for (const chunk of chunks) this.queue.push(chunk);
    const last = chunks[chunks.length - 1];
    if (onStored && last) this.acks.set(last, onStored);
    this.acceptedSeq += count;
    if (onSettled) this.settledCallbacks.push({ upToSeq: this.acceptedSeq, resolve: onSettled });
    this.pump();
    if (this.flushTimer === undefined && this.queued() > 0) {
      this.flushTimer = this.clock.setTimeout(() => this.onFlushTimer(), this.flushIntervalMs);
    }
    return true;
  }

  /**
   * Sends everything accepted so far without waiting for the interval, and resolves when all of it
   * has settled (stored, refused or abandoned), including batches already in flight.
   */
  flush(): Promise<void> {
    const upToSeq = this.acceptedSeq;
    this.drainBeforeSeq = Math.max(this.drainBeforeSeq, upToSeq);
    this.pump();
    if (this.settledSeq() >= upToSeq) return Promise.resolve();
    return new Promise(resolve => this.waiters.push({ upToSeq, resolve }));
  }

  /**
   * Refuses further offers and flushes. Without `timeoutMs` it waits as long as the store needs;
   * with it, lines still unsent after that long are counted as `abandoned` (once the requests in
   * flight return) so that shutdown is bounded.
   */
  async close({ timeoutMs }: { readonly timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    this.cancelFlushTimer();
    const flushed = this.flush();
    if (timeoutMs === undefined) return flushed;
    let deadline: unknown;
    const expired = new Promise<'expired'>(resolve => {
      deadline = this.clock.setTimeout(() => resolve('expired'), timeoutMs);
    });
    const outcome = await Promise.race([flushed, expired]);
    this.clock.clearTimeout(deadline);
    if (outcome === 'expired') {
      this.abandon();
      await flushed;
    }
  }

  stats(): WriterStats {
    return {
      buffered: this.buffered(),
      written: this.written,
      batches: this.batches,
      retries: this.retries,
      failedPermanent: this.failedPermanent,
      rejected: this.rejected,
      abandoned: this.abandoned,
      inFlightBatches: this.inFlight.size,
      lastError: this.lastError,
      lastFlushAt: this.lastFlushAt,
    };
  }

  /** Lines accepted and not yet in a batch. */
  private queued(): number {
    return this.acceptedSeq - this.dispatchedSeq;
  }

  private buffered(): number {
    return this.queued() + this.inFlightLines;
  }

  /** Every line below this sequence number has settled. */
  private settledSeq(): number {
    let settled = this.dispatchedSeq;
    for (const batch of this.inFlight) settled = Math.min(settled, batch.firstSeq);
    return settled;
  }

  private onFlushTimer(): void {
    this.flushTimer = undefined;
    this.drainBeforeSeq = Math.max(this.drainBeforeSeq, this.acceptedSeq);
    this.pump();
  }

  private cancelFlushTimer(): void {
    if (this.flushTimer === undefined) return;
    this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private pump(): void {
    while (this.inFlight.size < this.maxConcurrentWrites && this.queued() > 0 && !this.abandoning) {
      const full = this.queued() >= this.batchSize;
      if (!full && this.dispatchedSeq >= this.drainBeforeSeq) return;
      const batch = this.takeBatch();
      this.inFlight.add(batch);
      this.inFlightLines += batch.lines;
      void this.send(batch);
    }
  }

  /** Whole chunks from the head of the queue, up to batchSize lines but at least one chunk. */
  private takeBatch(): Batch {
    const firstSeq = this.dispatchedSeq;
    const chunks: WriteChunk[] = [];
    let lines = 0;
    while (this.head < this.queue.length) {
      const chunk = this.queue[this.head];
      if (chunk === undefined) break;
      if (lines > 0 && lines + chunk.lines > this.batchSize) break;
      chunks.push(chunk);
      lines += chunk.lines;
      this.queue[this.head] = undefined;
      this.head += 1;
    }
    this.dispatchedSeq += lines;
    this.compactQueue();
    return { firstSeq, chunks, lines };
  }

  private compactQueue(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 65_536 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private async send(batch: Batch): Promise<void> {
    const size = batch.lines;
    try {
      for (let attempt = 1; ; attempt += 1) {
        let failure: unknown;
        try {
          await this.store.write(batch.chunks);
          this.written += size;
          this.batches += 1;
          this.lastFlushAt = this.clock.now();
          this.settleAcks(batch, true);
          return;
        } catch (error) {
          failure = error;
        }
        this.lastError = errorText(failure);
        if (isPermanentWriteError(failure)) {
          const lost = Math.min(Math.max(failure.rejectedLines, 0), size);
          this.failedPermanent += lost;
          this.written += size - lost;
          this.batches += 1;
          this.report(failure, {
            outcome: 'failed-permanently',
            batchLines: size,
            lostLines: lost,
            attempt,
            retryInMs: undefined,
          });
          return;
        }
        if (!this.abandoning) {
          const retryInMs = Math.min(this.retryInitialMs * 2 ** (attempt - 1), this.retryMaxMs);
          this.retries += 1;
          this.report(failure, {
            outcome: 'retrying',
            batchLines: size,
            lostLines: 0,
            attempt,
            retryInMs,
          });
          await this.backoff(retryInMs);
          if (!this.abandoning) continue;
        }
        this.abandoned += size;
        this.report(failure, {
          outcome: 'abandoned',
          batchLines: size,
          lostLines: size,
          attempt,
          retryInMs: undefined,
        });
        return;
      }
    } finally {
      this.settleAcks(batch, false);
      this.inFlight.delete(batch);
      this.inFlightLines -= size;
      this.settle();
      this.pump();
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise(resolve => {
      const wake = (): void => {
        this.backoffWakers.delete(wake);
        this.clock.clearTimeout(timer);
        resolve();
      };
      const timer = this.clock.setTimeout(wake, ms);
      this.backoffWakers.add(wake);
    });
  }

  private abandon(): void {
    this.abandoning = true;
    for (let index = this.head; index < this.queue.length; index += 1) {
      const chunk = this.queue[index];
      if (chunk) this.acks.delete(chunk);
    }
    const unsent = this.queued();
    this.abandoned += unsent;
    this.dispatchedSeq += unsent;
    this.queue = [];
    this.head = 0;
    if (unsent > 0) {
      this.report(new Error('writer closed before these lines could be sent'), {
        outcome: 'abandoned',
        batchLines: unsent,
        lostLines: unsent,
        attempt: 0,
        retryInMs: undefined,
      });
    }
    for (const wake of [...this.backoffWakers]) wake();
    this.settle();
  }

  private settle(): void {
    if (this.settledCallbacks.length > 0) this.runSettledCallbacks();
    if (this.waiters.length === 0) return;
    const settled = this.settledSeq();
    const pending: FlushWaiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.upToSeq <= settled) waiter.resolve();
      else pending.push(waiter);
    }
    this.waiters = pending;
  }

  /** `onSettled` callbacks whose lines have all settled; none once close() abandons lines. */
  private runSettledCallbacks(): void {
    if (this.abandoning) {
      this.settledCallbacks = [];
      return;
    }
    const settled = this.settledSeq();
    // Taken off the list before it runs: a callback may offer more (and settle re-enters).
    for (let next = this.settledCallbacks[0]; next && next.upToSeq <= settled;) {
      this.settledCallbacks.shift();
      try {
        next.resolve();
      } catch (callbackError) {
        queueMicrotask(() => {
          throw callbackError;
        });
      }
      next = this.settledCallbacks[0];
    }
  }

  /** Runs (stored) or forgets (not stored) the `onStored` callbacks waiting for this batch. */
  private settleAcks(batch: Batch, stored: boolean): void {
    if (this.acks.size === 0) return;
    for (const chunk of batch.chunks) {
      const ack = this.acks.get(chunk);
      if (!ack) continue;
      this.acks.delete(chunk);
      if (!stored) continue;
      try {
        ack();
      } catch (callbackError) {
        queueMicrotask(() => {
          throw callbackError;
        });
      }
    }
  }

  private report(error: unknown, context: WriteErrorContext): void {
    if (!this.onError) return;
    try {
      this.onError(error, context);
    } catch (callbackError) {
      // A broken callback is our own bug: surface it loudly, but not at the cost of the buffer's state.
      queueMicrotask(() => {
        throw callbackError;
      });
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
