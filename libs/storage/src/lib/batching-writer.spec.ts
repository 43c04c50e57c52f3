import { BatchingWriter, type WriteErrorContext } from './batching-writer';
import type { WriteChunk, WriteLine } from './schema';
import { StoreWriteError, type StoreWriter } from './telemetry-store';

interface StoreCall {
  readonly chunks: readonly WriteChunk[];
  /** The chunks' lines, split again (the test lines hold no newline of their own). */
  readonly lines: readonly WriteLine[];
  readonly settle: (outcome?: unknown) => void;
}

/** An in-memory recorder; each write waits for the test to settle it, unless `autoAck` is on. */
class RecordingStore implements StoreWriter {
  readonly calls: StoreCall[] = [];
  readonly stored: string[] = [];
  autoAck = true;
  failWith: ((lines: readonly WriteLine[]) => unknown) | undefined;

  write(chunks: readonly WriteChunk[]): Promise<void> {
    const lines = chunks.flatMap(({ rp, text }) =>
      (typeof text === 'string' ? text : Buffer.from(text).toString('utf8'))
        .split('\n')
        .map(line => ({ rp, line })),
    );
    return new Promise((resolve, reject) => {
      const settle = (outcome?: unknown): void => {
        if (outcome === undefined) {
          this.stored.push(...lines.map(({ line }) => line));
          resolve();
        } else reject(outcome);
      };
      this.calls.push({ chunks, lines, settle });
      if (this.autoAck) settle(this.failWith?.(lines));
    });
  }

  pending(): number {
    return this.calls.length;
  }

  ensureSchema(): Promise<void> {
    return Promise.resolve();
  }
  async query(): Promise<never[]> {
    return [];
  }
  async ping(): Promise<boolean> {
    return true;
  }
}

const lines = (count: number, from = 0): WriteLine[] =>
  Array.from({ length: count }, (_, i) => ({ rp: 'raw', line: `m v=${from + i}` }));

/** The same lines as `lines(count, from)`, in one chunk. */
const chunk = (count: number, from = 0): WriteChunk => ({
  rp: 'raw',
  text: lines(count, from)
    .map(({ line }) => line)
    .join('\n'),
  lines: count,
});

const chunkSizes = (call: StoreCall | undefined): number[] =>
  call?.chunks.map(({ lines: count }) => count) ?? [];

const retryable = () =>
  new StoreWriteError('HTTP 500: engine busy', { retryable: true, rejectedLines: 0, status: 500 });

describe(BatchingWriter.name, () => {
  let store: RecordingStore;
  let errors: { error: unknown; context: WriteErrorContext }[];

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    store = new RecordingStore();
    errors = [];
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  const writer = (options: ConstructorParameters<typeof BatchingWriter>[1] = {}): BatchingWriter =>
    new BatchingWriter(store, {
      onError: (error, context) => errors.push({ error, context }),
      ...options,
    });

  it('sends a batch as soon as it is full and the remainder after the flush interval', async () => {
    const w = writer({ batchSize: 3, flushIntervalMs: 200 });
    expect(w.offer(lines(7))).toBe(true);
    expect(store.calls.map(call => call.lines.length)).toEqual([3, 3]);

    await jest.advanceTimersByTimeAsync(199);
    expect(store.calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(store.calls.map(call => call.lines.length)).toEqual([3, 3, 1]);
    expect(store.stored).toEqual(lines(7).map(({ line }) => line));
    expect(w.stats()).toMatchObject({
      buffered: 0,
      written: 7,
      batches: 3,
      lastFlushAt: 1_000_200,
    });
  });

  it('sends a line offered alone within one flush interval, and does not wake when idle', async () => {
    const w = writer({ flushIntervalMs: 200 });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(jest.getTimerCount()).toBe(0);
    w.offer(lines(1));
    await jest.advanceTimersByTimeAsync(200);
    expect(store.stored).toEqual(['m v=0']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps at most maxConcurrentWrites batches in flight, dispatched in offer order', async () => {
    store.autoAck = false;
    const w = writer({ batchSize: 2, maxConcurrentWrites: 2 });
    w.offer(lines(8));
    expect(store.pending()).toBe(2);
    expect(w.stats()).toMatchObject({ buffered: 8, inFlightBatches: 2 });

    store.calls[1]?.settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.pending()).toBe(3);
    expect(w.stats()).toMatchObject({ buffered: 6, inFlightBatches: 2 });

    store.calls[0]?.settle();
    store.calls[2]?.settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.pending()).toBe(4);
    store.calls[3]?.settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.calls.flatMap(call => call.lines)).toEqual(lines(8));
    expect(w.stats()).toMatchObject({ buffered: 0, written: 8, batches: 4, inFlightBatches: 0 });
  });

  it('refuses lines when the buffer is full, all or nothing, and counts them', () => {
    store.autoAck = false;
    const w = writer({ batchSize: 2, maxBufferedLines: 5, maxConcurrentWrites: 1 });
    expect(w.offer(lines(4))).toBe(true);
    expect(w.offer(lines(2))).toBe(false);
    expect(w.offer(lines(1))).toBe(true);
    expect(w.offer(lines(1))).toBe(false);
    expect(w.stats()).toMatchObject({ buffered: 5, rejected: 3 });
  });

  it('accepts lines again once writes have drained the buffer', async () => {
    store.autoAck = false;
    const w = writer({ batchSize: 2, maxBufferedLines: 2, maxConcurrentWrites: 1 });
    w.offer(lines(2));
    expect(w.offer(lines(1))).toBe(false);
    store.calls[0]?.settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(w.offer(lines(1))).toBe(true);
  });

  it('retries a failed batch with capped exponential backoff, same lines in the same order', async () => {
    let failures = 5;
    store.failWith = () => (failures-- > 0 ? retryable() : undefined);
    const w = writer({ batchSize: 3, retryInitialMs: 100, retryMaxMs: 500 });
    w.offer(lines(3));
    expect(store.calls).toHaveLength(1);

    const attemptTimes: number[] = [0];
    for (let i = 0; i < 5; i += 1) {
      const before = store.calls.length;
      while (store.calls.length === before) await jest.advanceTimersByTimeAsync(10);
      attemptTimes.push(Date.now() - 1_000_000);
    }
    expect(store.calls).toHaveLength(6);
    // Delays 100, 200, 400, then capped at 500.
    expect(attemptTimes).toEqual([0, 100, 300, 700, 1_200, 1_700]);
    for (const call of store.calls) expect(call.lines).toEqual(lines(3));
    expect(w.stats()).toMatchObject({ written: 3, retries: 5, failedPermanent: 0, buffered: 0 });
    expect(errors.map(({ context }) => context.retryInMs)).toEqual([100, 200, 400, 500, 500]);
    expect(
      errors.every(({ context }) => context.outcome === 'retrying' && context.lostLines === 0),
    ).toBe(true);
    expect(w.stats().lastError).toMatch(/engine busy/);
  });

  it('retries errors it cannot classify, such as a network TypeError', async () => {
    let failures = 1;
    store.failWith = () => (failures-- > 0 ? new TypeError('fetch failed') : undefined);
    const w = writer({ batchSize: 1, retryInitialMs: 100 });
    w.offer(lines(1));
    const flushed = w.flush();
    await jest.advanceTimersByTimeAsync(100);
    await flushed;
    expect(w.stats()).toMatchObject({ written: 1, retries: 1 });
  });

  it('does not retry lines the store refused for good, and counts only the refused ones', async () => {
    store.failWith = batch =>
      batch.some(({ line }) => line === 'm v=1')
        ? new StoreWriteError('partial write: field type conflict dropped=1', {
            retryable: false,
            rejectedLines: 1,
            status: 400,
          })
        : undefined;
    const w = writer({ batchSize: 3 });
    w.offer(lines(6));
    await w.flush();
    expect(store.calls).toHaveLength(2);
    expect(w.stats()).toMatchObject({
      written: 5,
      failedPermanent: 1,
      retries: 0,
      batches: 2,
      buffered: 0,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toEqual({
      outcome: 'failed-permanently',
      batchLines: 3,
      lostLines: 1,
      attempt: 1,
      retryInMs: undefined,
    });
  });

  it('flush() also waits for batches already in flight', async () => {
    store.autoAck = false;
    const w = writer({ batchSize: 2 });
    w.offer(lines(3));
    let flushed = false;
    const flush = w.flush().then(() => (flushed = true));
    expect(store.calls.map(call => call.lines.length)).toEqual([2, 1]);
    store.calls[1]?.settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(flushed).toBe(false);
    store.calls[0]?.settle();
    await flush;
    expect(w.stats()).toMatchObject({ written: 3, buffered: 0 });
  });

  it('flush() covers what was offered before it, not what comes after', async () => {
    store.autoAck = false;
    const w = writer({ batchSize: 10, maxConcurrentWrites: 1 });
    w.offer(lines(1));
    const flush = w.flush();
    w.offer(lines(1, 1));
    store.calls[0]?.settle();
    await flush;
    expect(w.stats().buffered).toBe(1);
  });

  it('close() refuses new lines and flushes the rest', async () => {
    const w = writer({ batchSize: 100 });
    w.offer(lines(5));
    await w.close();
    expect(store.stored).toHaveLength(5);
    expect(w.offer(lines(1))).toBe(false);
    expect(w.stats()).toMatchObject({ rejected: 1, written: 5 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('close() with a timeout abandons, and counts, what the store never took', async () => {
    store.failWith = () => retryable();
    const w = writer({ batchSize: 2, maxConcurrentWrites: 1, retryInitialMs: 100 });
    w.offer(lines(5));
    const closed = w.close({ timeoutMs: 1_000 });
    await jest.advanceTimersByTimeAsync(1_000);
    await closed;
    expect(w.stats()).toMatchObject({ buffered: 0, written: 0, abandoned: 5 });
    expect(
      errors
        .filter(({ context }) => context.outcome === 'abandoned')
        .map(({ context }) => context.lostLines),
    ).toEqual([3, 2]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives a plain snapshot from stats()', () => {
    const w = writer();
    const before = w.stats();
    w.offer(lines(1));
    expect(before.buffered).toBe(0);
    expect(w.stats().buffered).toBe(1);
    expect(JSON.parse(JSON.stringify(w.stats()))).toEqual({
      buffered: 1,
      written: 0,
      batches: 0,
      retries: 0,
      failedPermanent: 0,
      rejected: 0,
      abandoned: 0,
      inFlightBatches: 0,
    });
  });

  describe('onStored (the pipeline canary)', () => {
    it('runs once the batch holding the chunks is acknowledged, not before', async () => {
      store.autoAck = false;
      const w = writer({ batchSize: 10, flushIntervalMs: 200 });
      const stored = jest.fn();
      w.offerChunks([chunk(2)]);
      expect(w.offerChunks([chunk(1, 2)], stored)).toBe(true);
      await jest.advanceTimersByTimeAsync(200);
      expect(store.calls).toHaveLength(1);
      expect(stored).not.toHaveBeenCalled();
      store.calls[0]?.settle();
      await jest.advanceTimersByTimeAsync(0);
      expect(stored).toHaveBeenCalledTimes(1);
    });

    it('waits while the batch is retried and never runs for refused or abandoned lines', async () => {
      let failures = 2;
      store.failWith = () => (failures-- > 0 ? retryable() : undefined);
      const w = writer({ batchSize: 1, retryInitialMs: 100 });
      const stored = jest.fn();
      w.offerChunks([chunk(1)], stored);
      await jest.advanceTimersByTimeAsync(100);
      expect(stored).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(200);
      expect(stored).toHaveBeenCalledTimes(1);

      store.failWith = () =>
        new StoreWriteError('parse error', { retryable: false, rejectedLines: 1, status: 400 });
      const refused = jest.fn();
      w.offerChunks([chunk(1)], refused);
      await w.flush();
      expect(refused).not.toHaveBeenCalled();

      store.failWith = () => retryable();
      const abandoned = jest.fn();
      w.offerChunks([chunk(1)], abandoned);
      w.offerChunks([chunk(1)], abandoned);
      const closing = w.close({ timeoutMs: 50 });
      await jest.advanceTimersByTimeAsync(10_000);
      await closing;
      expect(w.stats().abandoned).toBe(2);
      expect(abandoned).not.toHaveBeenCalled();
    });

    it('does not run when the offer is refused (buffer full)', async () => {
      const w = writer({ batchSize: 5, maxBufferedLines: 5 });
      const stored = jest.fn();
      expect(w.offerChunks([chunk(6)], stored)).toBe(false);
      await w.flush();
      expect(stored).not.toHaveBeenCalled();
    });
  });

  describe('with chunks', () => {
    it('bounds the buffer in lines, all chunks of an offer or none', () => {
      store.autoAck = false;
      const w = writer({ batchSize: 5, maxBufferedLines: 10, maxConcurrentWrites: 1 });
      expect(w.offerChunks([chunk(4)])).toBe(true);
      expect(w.offerChunks([chunk(3, 4), chunk(4, 7)])).toBe(false);
      expect(w.stats()).toMatchObject({ buffered: 4, rejected: 7 });
      expect(w.offerChunks([chunk(3, 4), chunk(3, 7)])).toBe(true);
      expect(w.offerChunks([chunk(1, 10)])).toBe(false);
      expect(w.stats()).toMatchObject({ buffered: 10, rejected: 8 });
    });

    it('assembles batches from whole chunks in order, up to batchSize lines', async () => {
      const w = writer({ batchSize: 5, flushIntervalMs: 200 });
      const offered = [chunk(2), chunk(2, 2), chunk(2, 4)];
      w.offerChunks(offered);
      // 6 lines queued: the first two chunks fill 4; the third would make 6 and waits.
      expect(store.calls.map(chunkSizes)).toEqual([[2, 2]]);
      await jest.advanceTimersByTimeAsync(200);
      expect(store.calls.map(chunkSizes)).toEqual([[2, 2], [2]]);
      // Handed over as they are, not split or joined again.
      expect(store.calls.flatMap(call => call.chunks)).toEqual(offered);
      expect(store.calls[0]?.chunks[0]).toBe(offered[0]);
      expect(store.stored).toEqual(lines(6).map(({ line }) => line));
      expect(w.stats()).toMatchObject({ buffered: 0, written: 6, batches: 2 });
    });

    it('sends a chunk larger than batchSize as a batch of its own, unsplit', async () => {
      const w = writer({ batchSize: 5, maxBufferedLines: 20 });
      w.offerChunks([chunk(1), chunk(7, 1), chunk(2, 8)]);
      expect(store.calls.map(chunkSizes)).toEqual([[1], [7]]);
      await w.flush();
      expect(store.calls.map(chunkSizes)).toEqual([[1], [7], [2]]);
      expect(store.stored).toEqual(lines(10).map(({ line }) => line));
      expect(w.stats()).toMatchObject({ buffered: 0, written: 10, batches: 3 });
    });

    it('mixes chunks and single lines in offer order', async () => {
      const w = writer({ batchSize: 4 });
      w.offer(lines(1));
      w.offerChunks([chunk(2, 1)]);
      w.offer(lines(2, 3));
      await w.flush();
      expect(store.calls.map(chunkSizes)).toEqual([[1, 2, 1], [1]]);
      expect(store.stored).toEqual(lines(5).map(({ line }) => line));
    });

    it('counts a partial refusal of a chunked batch in lines', async () => {
      store.failWith = batch =>
        batch.some(({ line }) => line === 'm v=4')
          ? new StoreWriteError('partial write: field type conflict dropped=1', {
              retryable: false,
              rejectedLines: 1,
              status: 400,
            })
          : undefined;
      const w = writer({ batchSize: 10 });
      w.offerChunks([chunk(3), chunk(3, 3)]);
      await w.flush();
      expect(store.calls.map(chunkSizes)).toEqual([[3, 3]]);
      expect(w.stats()).toMatchObject({
        written: 5,
        failedPermanent: 1,
        retries: 0,
        batches: 1,
        buffered: 0,
      });
      expect(errors.map(({ context }) => context)).toEqual([
        {
          outcome: 'failed-permanently',
          batchLines: 6,
          lostLines: 1,
          attempt: 1,
          retryInMs: undefined,
        },
      ]);
    });

    it('retries a chunked batch whole: the same chunks in the same order', async () => {
      let failures = 2;
      store.failWith = () => (failures-- > 0 ? retryable() : undefined);
      const w = writer({ batchSize: 5, retryInitialMs: 100 });
      const offered = [chunk(2), chunk(3, 2)];
      w.offerChunks(offered);
      const flushed = w.flush();
      await jest.advanceTimersByTimeAsync(300);
      await flushed;
      expect(store.calls).toHaveLength(3);
      for (const call of store.calls) {
        expect(call.chunks).toHaveLength(2);
        expect(call.chunks[0]).toBe(offered[0]);
        expect(call.chunks[1]).toBe(offered[1]);
      }
      expect(w.stats()).toMatchObject({ written: 5, retries: 2, batches: 1, buffered: 0 });
      expect(errors.map(({ context }) => context.batchLines)).toEqual([5, 5]);
    });

    it('flush() waits for every line of the chunks offered before it, not after', async () => {
      store.autoAck = false;
      const w = writer({ batchSize: 4, maxConcurrentWrites: 3 });
      w.offerChunks([chunk(3), chunk(3, 3)]);
      let flushed = false;
      const flush = w.flush().then(() => (flushed = true));
      w.offerChunks([chunk(2, 6)]);
      // The chunk offered after flush() waits for its own batch to fill or its interval.
      expect(store.calls.map(chunkSizes)).toEqual([[3], [3]]);
      store.calls[1]?.settle();
      await jest.advanceTimersByTimeAsync(0);
      expect(flushed).toBe(false);
      expect(w.stats().buffered).toBe(5);
      store.calls[0]?.settle();
      await flush;
      expect(w.stats()).toMatchObject({ buffered: 2, written: 6 });
    });

    it('close() refuses chunks, counting their lines, and abandons chunk lines in time', async () => {
      store.failWith = () => retryable();
      const w = writer({ batchSize: 4, maxConcurrentWrites: 1, retryInitialMs: 100 });
      w.offerChunks([chunk(3), chunk(2, 3)]);
      const closed = w.close({ timeoutMs: 1_000 });
      expect(w.offerChunks([chunk(4, 5)])).toBe(false);
      await jest.advanceTimersByTimeAsync(1_000);
      await closed;
      expect(w.stats()).toMatchObject({ buffered: 0, written: 0, rejected: 4, abandoned: 5 });
      expect(
        errors
          .filter(({ context }) => context.outcome === 'abandoned')
          .map(({ context }) => context.lostLines),
      ).toEqual([2, 3]);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('refuses a chunk without lines loudly, and queues nothing of its offer', () => {
      const w = writer();
      expect(() => w.offerChunks([chunk(1), { rp: 'raw', text: '', lines: 0 }])).toThrow(
        RangeError,
      );
      expect(() => w.offerChunks([{ rp: 'raw', text: 'm v=1', lines: 1.5 }])).toThrow(
        /at least one line/,
      );
      expect(w.stats()).toMatchObject({ buffered: 0, rejected: 0 });
      expect(w.offerChunks([])).toBe(true);
    });
  });

  it('lists every problem with its options', () => {
    expect(() => writer({ batchSize: 0, maxBufferedLines: -1 })).toThrow(
      /invalid BatchingWriter options: maxBufferedLines: .*; batchSize: .*/,
    );
    expect(() => writer({ batchSize: 10, maxBufferedLines: 5 })).toThrow(
      /batchSize must not exceed maxBufferedLines/,
    );
  });
});

describe('BatchingWriter onSettled (a durable source commits its position there)', () => {
  const flushTicks = () => new Promise(resolve => setImmediate(resolve));

  it('runs once these lines and every earlier line have settled, in offer order', async () => {
    const store = new RecordingStore();
    store.autoAck = false;
    const writer = new BatchingWriter(store, { batchSize: 2, maxConcurrentWrites: 2 });
    const settled: string[] = [];
    writer.offerChunks([chunk(2, 0)], undefined, () => settled.push('first'));
    writer.offerChunks([chunk(2, 2)], undefined, () => settled.push('second'));
    expect(store.pending()).toBe(2);
    store.calls[1]?.settle(); // the later batch is stored first
    await flushTicks();
    expect(settled).toEqual([]);
    store.calls[0]?.settle();
    await flushTicks();
    expect(settled).toEqual(['first', 'second']);
  });

  it('runs for lines refused for good (counted), never for lines abandoned at close', async () => {
    const store = new RecordingStore();
    store.failWith = () =>
      new StoreWriteError('bad line', { status: 400, rejectedLines: 1, retryable: false });
    const writer = new BatchingWriter(store, { batchSize: 1, flushIntervalMs: 1 });
    const settled: string[] = [];
    writer.offerChunks([chunk(1)], undefined, () => settled.push('refused'));
    await writer.flush();
    expect(settled).toEqual(['refused']);
    expect(writer.stats().failedPermanent).toBe(1);

    const down = new RecordingStore();
    down.failWith = () => new StoreWriteError('unreachable', { retryable: true, rejectedLines: 0 });
    const stuck = new BatchingWriter(down, {
      batchSize: 1,
      flushIntervalMs: 1,
      retryInitialMs: 5,
      retryMaxMs: 5,
    });
    stuck.offerChunks([chunk(1)], undefined, () => settled.push('abandoned'));
    await stuck.close({ timeoutMs: 30 });
    expect(settled).toEqual(['refused']);
  });
});
