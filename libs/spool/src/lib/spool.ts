import {
  closeSync,
  existsSync,
  fdatasync,
  ftruncateSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** Bytes before each entry's payload: its length and the CRC-32 of the payload (both u32 LE). */
const HEADER_BYTES = 8;
/** An entry larger than this is a caller's bug (device messages are bounded far below). */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
/** Appends of one turn of the event loop are written together; beyond this, at once. */
const WRITE_AT_BYTES = 1024 * 1024;
/**
 * The appends not written yet are framed straight into one reused buffer of this size (an entry
 * that does not fit in an empty one is written on its own): no Buffer per entry for its UTF-8 and
 * none for its frame. At 50,000 device messages/s those two allocations and copies per message
 * were a measurable part of the all-in-one ingest's journal cost (issue 14, bench/README.md).
 */
const STAGE_BYTES = 2 * WRITE_AT_BYTES;
/**
 * Entries the in-memory tail holds at most, whatever their size: the size of its table of
 * offsets (8 bytes each, 512 KiB), so that the tail never allocates per entry.
 */
const TAIL_MAX_ENTRIES = 65_536;
/** Disk reads of a backlog go in blocks of this size (sequential, one syscall per block). */
const READ_BLOCK_BYTES = 1024 * 1024;
const SEGMENT_PATTERN = /^seg-(\d{16})\.log$/;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface SpoolOptions {
  /** The lane's own directory: segments `seg-<firstSeq>.log` and `cursors/<name>`. */
  readonly dir: string;
  /** Bytes of segments kept at most; beyond, the oldest segments go, consumed or not (counted). */
  readonly maxBytes: number;
  /** Longest wait between appends being written and fdatasync'd (group commit). */
  readonly fsyncMs: number;
  /** Size at which a segment is closed and the next one started (default: maxBytes / 8, 1–64 MiB). */
  readonly segmentBytes?: number;
  /** Recent entries kept in memory for readers that keep up (default: maxBytes / 8, at most 32 MiB). */
  readonly tailCacheBytes?: number;
  /** The bound dropped entries that some cursor had not consumed yet: how many (this time). */
  readonly onDrop?: (entries: number) => void;
  /**
   * The newest entries kept even when every cursor has passed them (readers by seq, such as
   * the WebSocket resume of the alarm lane); `maxBytes` still wins. Default 0.
   */
  readonly retainEntries?: number;
}

export interface SpoolEntry {
  readonly seq: number;
  readonly payload: Buffer;
}

export interface SpoolStats {
  /** Oldest entry still kept (lastSeq + 1 when empty). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Entries up to here are written and fdatasync'd. */
  readonly durableSeq: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly segments: number;
  /** Entries dropped by the bound before every cursor had consumed them, since open. */
  readonly dropped: number;
  /** Torn entries (the process died mid-write) cut off at open. */
  readonly tornAtOpen: number;
  readonly cursors: Readonly<Record<string, number>>;
}

interface Segment {
  readonly firstSeq: number;
  readonly path: string;
  /** Bytes written to the file (not counting appends still pending). */
  bytes: number;
}

interface DurableWaiter {
  /** Resolved once durableSeq reaches this (it grows while the waiter is `openWaiter`). */
  seq: number;
  readonly resolve: () => void;
  readonly promise: Promise<void>;
}

const RESOLVED = Promise.resolve();

/**
 * A segmented append-only log on local disk: the durable hop of the all-in-one pipeline (issue 12).
 *
 * - `append` is synchronous and returns the entry's seq; the entries of one turn of the event
 *   loop are written with one write() (page cache: a SIGKILL keeps them), and fdatasync runs at
 *   most every `fsyncMs` (group commit). `durable(seq)` resolves once an fdatasync covers it.
 * - Named cursors (`cursor(name)`) read from their committed position: recent entries from an
 *   in-memory tail, a backlog from disk. Their position is written to `cursors/<name>` at each
 *   commit without fsync (the page cache survives the process; after a power loss a cursor may be
 *   behind, and entries are read again: consumers are idempotent).
 * - Segments every cursor has passed are deleted. Beyond `maxBytes` the oldest segments are
 *   deleted even if a cursor has not read them: the producer is never stopped (readings keep
 *   reaching the rules); what was dropped unread is counted (`onDrop`, `stats().dropped`).
 * - At open, a torn last entry (length or CRC wrong) is cut off and counted.
 */
export class Spool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly fsyncMs: number;
  private readonly segmentBytes: number;
  private readonly tailCacheBytes: number;
  private readonly onDrop: ((entries: number) => void) | undefined;
  private readonly retainEntries: number;

  private readonly segments: Segment[] = [];
  private activeFd: number;
  /** Files written since the last fdatasync began (the active one, or one just closed). */
  private dirtyFds = new Set<number>();
  private readonly cursorsByName = new Map<string, SpoolCursor>();

  private nextSeq: number;
  private writtenSeq: number;
  private durableSeqValue: number;
  /** Framed appends not written yet: the first `pendingBytes` of `stage`. */
  private stage: Buffer | undefined;
  private pendingBytes = 0;
  /**
   * The newest durability waiter, while no write() has happened since it was made: the appends of
   * one turn share it (one promise per turn, not per entry). Its seq only grows before that write,
   * which then covers it, so it never resolves before its newest entry is durable.
   */
  private openWaiter: DurableWaiter | undefined;
  private writeScheduled = false;
  private syncing = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private lastSyncStart = 0;
  private waiters: DurableWaiter[] = [];
  private waitersHead = 0;

  /**
   * The in-memory tail: the payloads of seqs tailFirst … nextSeq - 1, back to back in one ring of
   * bytes, and where each starts. No object is kept per entry: at 50,000 device messages/s the
   * Buffer-per-entry tail this replaces held ~2 s of entries, so every one of them outlived two
   * scavenges and was promoted, and the old generation filled with garbage that only a full
   * mark-compact of the whole heap (the state of 100,000 devices) frees: the stalls of the
   * publish → WebSocket tail (issue 14; bench/README.md, "The spool's in-memory tail").
   * Allocated at the first append (untouched pages cost no RSS until written).
   */
  private ring: Buffer | undefined;
  /** Logical byte position of the ring's end: the next payload starts at ringEnd % ring.length. */
  private ringEnd = 0;
  /** Logical start of seq's payload at tailStarts[seq % TAIL_MAX_ENTRIES], for the tail's seqs. */
  private tailStarts: Float64Array | undefined;
  private tailFirst: number;

  private droppedTotal = 0;
  private readonly torn: number;
  private closed = false;
  private readonly appendListeners = new Set<() => void>();

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.fsyncMs = options.fsyncMs;
    this.segmentBytes =
      options.segmentBytes ??
      Math.min(64 * 1024 * 1024, Math.max(1024 * 1024, Math.floor(options.maxBytes / 8)));
    this.tailCacheBytes =
      options.tailCacheBytes ?? Math.min(32 * 1024 * 1024, Math.floor(options.maxBytes / 8));
    this.onDrop = options.onDrop;
    this.retainEntries = Math.max(0, options.retainEntries ?? 0);
    mkdirSync(join(this.dir, 'cursors'), { recursive: true });

    for (const name of readdirSync(this.dir).sort()) {
      const match = SEGMENT_PATTERN.exec(name);
      if (match)
        this.segments.push({ firstSeq: Number(match[1]), path: join(this.dir, name), bytes: 0 });
    }
    let torn = 0;
    let last = this.segments[this.segments.length - 1];
    if (last) {
      const recovered = recoverSegment(last.path);
      torn = recovered.torn;
      last.bytes = recovered.bytes;
      this.nextSeq = last.firstSeq + recovered.entries;
      for (const segment of this.segments.slice(0, -1)) segment.bytes = fileSize(segment.path);
    } else {
      // No segment: continue after the cursors, never below them (their seqs would be reused).
      let highest = 0;
      for (const name of readdirSync(join(this.dir, 'cursors'))) {
        if (CURSOR_PATTERN.test(name))
          highest = Math.max(highest, readCursorFile(join(this.dir, 'cursors', name)));
      }
      this.nextSeq = highest + 1;
      last = { firstSeq: this.nextSeq, path: segmentPath(this.dir, this.nextSeq), bytes: 0 };
      this.segments.push(last);
    }
    this.torn = torn;
    this.activeFd = openSync(last.path, 'a');
    this.writtenSeq = this.nextSeq - 1;
    this.durableSeqValue = this.writtenSeq;
    this.tailFirst = this.nextSeq;
  }

  /** Opens (or creates) the spool in `options.dir`, recovering a torn last entry. */
  static open(options: SpoolOptions): Spool {
    if (!(options.maxBytes > 0)) throw new RangeError('Spool: maxBytes must be positive');
    if (!(options.fsyncMs >= 0)) throw new RangeError('Spool: fsyncMs must be 0 or more');
    return new Spool(options);
  }

  /** The seq of the newest entry (0 before the first). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get durableSeq(): number {
    return this.durableSeqValue;
  }

  /** The oldest entry still kept. */
  get firstSeq(): number {
    return this.segments[0]?.firstSeq ?? this.nextSeq;
  }

  /** Appends one entry; returns its seq. Written this turn of the event loop, durable soon after. */
  append(payload: Buffer | string): number {
    if (this.closed) throw new Error('Spool: append after close');
    const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (length > MAX_ENTRY_BYTES)
      throw new RangeError(`Spool: entry of ${length} bytes exceeds ${MAX_ENTRY_BYTES}`);
    const frameLength = HEADER_BYTES + length;
    const active = this.active();
    if (
      active.bytes + this.pendingBytes > 0 &&
      active.bytes + this.pendingBytes + frameLength > this.segmentBytes
    ) {
      this.writePending();
      this.roll();
    }
    if (this.pendingBytes + frameLength > STAGE_BYTES) this.writePending();
    const seq = this.nextSeq;
    this.nextSeq += 1;
    let body: Buffer;
    if (frameLength <= STAGE_BYTES) {
      const stage = (this.stage ??= Buffer.allocUnsafeSlow(STAGE_BYTES));
      const at = this.pendingBytes;
      if (typeof payload === 'string') stage.write(payload, at + HEADER_BYTES, length, 'utf8');
      else payload.copy(stage, at + HEADER_BYTES);
      body = stage.subarray(at + HEADER_BYTES, at + frameLength);
      stage.writeUInt32LE(length, at);
      stage.writeUInt32LE(crc32(body), at + 4);
      this.pendingBytes += frameLength;
    } else {
      // Larger than the stage: framed and written on its own (the stage was written just above).
      body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      const frame = Buffer.allocUnsafe(frameLength);
      frame.writeUInt32LE(length, 0);
      frame.writeUInt32LE(crc32(body), 4);
      body.copy(frame, HEADER_BYTES);
      this.writeFrames(frame);
    }
    this.cacheTail(seq, body);
    if (this.pendingBytes >= WRITE_AT_BYTES) this.writePending();
    else if (this.pendingBytes > 0 && !this.writeScheduled) {
      this.writeScheduled = true;
      setImmediate(this.writeSoon);
    }
    for (const listener of this.appendListeners) listener();
    return seq;
  }

  /**
   * Writes the appends of this turn now (one write(): the page cache, which a SIGKILL keeps;
   * fdatasync follows as usual). For an entry whose seq is shown outside the process at once.
   */
  flush(): void {
    if (!this.closed) this.writePending();
  }

  /**
   * Entries from `fromSeq` on (at most `maxEntries`), by seq, without a cursor: from the tail in
   * memory or from disk. Starts at the oldest kept entry when `fromSeq` is older: callers compare.
   */
  read(fromSeq: number, maxEntries: number): SpoolEntry[] {
    const reader = new DiskReader();
    try {
      return this.readEntries(reader, fromSeq, maxEntries, 16 * 1024 * 1024);
    } finally {
      reader.close();
    }
  }

  /** Resolves once an fdatasync has covered `seq` (at once if it has). */
  durable(seq: number): Promise<void> {
    if (seq <= this.durableSeqValue) return RESOLVED;
    const open = this.openWaiter;
    if (open) {
      if (seq > open.seq) open.seq = seq;
      return open.promise;
    }
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>(done => (resolve = done));
    const waiter: DurableWaiter = { seq, resolve, promise };
    this.waiters.push(waiter);
    // Shared by the next appends only while none of the waiting ones is written: once written,
    // an fdatasync that covers them may start, and a later seq must not join a waiter it covers.
    if (seq > this.writtenSeq) this.openWaiter = waiter;
    return promise;
  }

  /**
   * A named cursor; positions persist. A new one starts before the oldest kept entry, or with
   * `fromEnd` after the newest (a consumer that only needs what comes from now on).
   */
  cursor(name: string, { fromEnd = false }: { readonly fromEnd?: boolean } = {}): SpoolCursor {
    if (!CURSOR_PATTERN.test(name)) throw new RangeError(`Spool: bad cursor name ${name}`);
    let cursor = this.cursorsByName.get(name);
    if (!cursor) {
      const path = join(this.dir, 'cursors', name);
      const stored = existsSync(path)
        ? readCursorFile(path)
        : fromEnd
          ? this.lastSeq
          : this.firstSeq - 1;
      // A cursor beyond what survived (appends lost with the process) would skip the seqs that
      // are now reused for new entries: back to what the spool holds.
      cursor = new SpoolCursor(this, name, path, Math.min(stored, this.lastSeq));
      this.cursorsByName.set(name, cursor);
    }
    return cursor;
  }

  /** Called after every append (a reader waiting for new entries wakes up). */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  stats(): SpoolStats {
    const cursors: Record<string, number> = {};
    for (const [name, cursor] of this.cursorsByName) cursors[name] = cursor.committed;
    return {
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      durableSeq: this.durableSeqValue,
      bytes: this.totalBytes() + this.pendingBytes,
      maxBytes: this.maxBytes,
      segments: this.segments.length,
      dropped: this.droppedTotal,
      tornAtOpen: this.torn,
      cursors,
    };
  }

  /** Writes and fdatasyncs what is pending, then closes every file. Appends are refused after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.writePending();
    while (this.syncing) await new Promise(resolve => setTimeout(resolve, 1));
    clearTimeout(this.syncTimer);
    this.closed = true;
    await this.sync();
    for (const cursor of this.cursorsByName.values()) cursor.release();
    closeSync(this.activeFd);
    this.appendListeners.clear();
  }

  // ---- reading (for SpoolCursor) -----------------------------------------------------------

  /** Entries from `fromSeq` on, at most `maxEntries` and about `maxBytes` of payload. */
  readEntries(
    reader: DiskReader,
    fromSeq: number,
    maxEntries: number,
    maxBytes: number,
  ): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let seq = Math.max(fromSeq, this.firstSeq);
    let bytes = 0;
    while (out.length < maxEntries && bytes < maxBytes && seq < this.nextSeq) {
      let payload: Buffer | undefined;
      if (seq >= this.tailFirst) payload = this.fromTail(seq);
      else payload = reader.read(this, seq);
      if (payload === undefined) break;
      out.push({ seq, payload });
      bytes += payload.length;
      seq += 1;
    }
    return out;
  }

  /** The segment holding `seq` and the next segment's first seq (Infinity for the active one). */
  segmentOf(seq: number): { segment: Segment; endSeq: number } | undefined {
    for (let index = this.segments.length - 1; index >= 0; index -= 1) {
      const segment = this.segments[index];
      if (segment && segment.firstSeq <= seq) {
        const next = this.segments[index + 1];
        return { segment, endSeq: next ? next.firstSeq : this.writtenSeq + 1 };
      }
    }
    return undefined;
  }

  /** A cursor committed: segments every cursor has passed (and not retained) can go. */
  trim(): void {
    let floor = Infinity;
    for (const cursor of this.cursorsByName.values()) floor = Math.min(floor, cursor.committed);
    if (this.retainEntries > 0) floor = Math.min(floor, this.lastSeq - this.retainEntries);
    while (this.segments.length > 1) {
      const next = this.segments[1];
      if (!next || next.firstSeq - 1 > floor) break;
      this.deleteOldest();
    }
  }

  // ---- writing -----------------------------------------------------------------------------

  private readonly writeSoon = (): void => {
    this.writeScheduled = false;
    if (!this.closed) this.writePending();
  };

  private active(): Segment {
    const segment = this.segments[this.segments.length - 1];
    if (!segment) throw new Error('Spool: no active segment');
    return segment;
  }

  private writePending(): void {
    if (this.pendingBytes === 0 || !this.stage) return;
    const data = this.stage.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    this.writeFrames(data);
  }

  /** Writes whole frames to the active segment (the page cache) and schedules their fdatasync. */
  private writeFrames(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.activeFd, data, offset);
    this.active().bytes += data.length;
    this.writtenSeq = this.nextSeq - 1;
    this.openWaiter = undefined;
    this.dirtyFds.add(this.activeFd);
    this.enforceBound();
    this.scheduleSync();
  }

  private roll(): void {
    // The closed segment's fd stays in dirtyFds until the next fdatasync has covered it.
    const oldFd = this.activeFd;
    const segment = { firstSeq: this.nextSeq, path: segmentPath(this.dir, this.nextSeq), bytes: 0 };
    this.segments.push(segment);
    this.activeFd = openSync(segment.path, 'a');
    // An fdatasync in flight may hold it: the next one (which starts after) syncs and closes it.
    this.dirtyFds.add(oldFd);
    this.closeAfterSync.add(oldFd);
    // Only the retention may hold the old segments (no cursor commits to trim them).
    if (this.retainEntries > 0) this.trim();
  }

  private readonly closeAfterSync = new Set<number>();

  private scheduleSync(): void {
    if (this.syncing || this.syncTimer !== undefined || this.closed) return;
    const wait = this.lastSyncStart + this.fsyncMs - Date.now();
    if (wait <= 0) void this.sync();
    else {
      this.syncTimer = setTimeout(() => {
        this.syncTimer = undefined;
        void this.sync();
      }, wait);
    }
  }

  private async sync(): Promise<void> {
    if (this.syncing) return;
    if (this.dirtyFds.size === 0) {
      this.resolveWaiters();
      return;
    }
    this.syncing = true;
    this.lastSyncStart = Date.now();
    const target = this.writtenSeq;
    const fds = [...this.dirtyFds];
    this.dirtyFds = new Set();
    try {
      await Promise.all(
        fds.map(
          fd =>
            new Promise<void>((resolve, reject) =>
              fdatasync(fd, error => (error ? reject(error) : resolve())),
            ),
        ),
      );
    } finally {
      this.syncing = false;
    }
    for (const fd of fds) {
      // Closed after the fdatasync that covered its last write (not while another one is due).
      if (!this.dirtyFds.has(fd) && this.closeAfterSync.delete(fd)) closeSync(fd);
    }
    this.durableSeqValue = Math.max(this.durableSeqValue, target);
    this.resolveWaiters();
    if (this.writtenSeq > this.durableSeqValue) this.scheduleSync();
  }

  private resolveWaiters(): void {
    while (this.waitersHead < this.waiters.length) {
      const waiter = this.waiters[this.waitersHead];
      if (!waiter || waiter.seq > this.durableSeqValue) break;
      this.waitersHead += 1;
      waiter.resolve();
    }
    if (this.waitersHead === this.waiters.length) {
      this.waiters = [];
      this.waitersHead = 0;
    } else if (this.waitersHead >= 4096 && this.waitersHead * 2 >= this.waiters.length) {
      this.waiters = this.waiters.slice(this.waitersHead);
      this.waitersHead = 0;
    }
  }

  /**
   * Copies `seq`'s payload (the newest entry) into the ring, making room by letting the oldest
   * entries go (written to disk first: readers then find them there). A payload larger than the
   * whole ring is not kept: the tail starts again after it.
   */
  private cacheTail(seq: number, body: Buffer): void {
    if (this.tailCacheBytes <= 0) {
      this.tailFirst = seq + 1;
      return;
    }
    this.ring ??= Buffer.allocUnsafeSlow(this.tailCacheBytes);
    this.tailStarts ??= new Float64Array(TAIL_MAX_ENTRIES);
    const ring = this.ring;
    const starts = this.tailStarts;
    const capacity = ring.length;
    while (
      this.tailFirst < seq &&
      (seq - this.tailFirst >= TAIL_MAX_ENTRIES ||
        this.ringEnd + body.length - (starts[this.tailFirst % TAIL_MAX_ENTRIES] ?? 0) > capacity)
    ) {
      // Never drop an entry that is not on disk yet: readers would find it nowhere.
      if (this.tailFirst > this.writtenSeq) this.writePending();
      this.tailFirst += 1;
    }
    if (body.length > capacity) {
      if (seq > this.writtenSeq) this.writePending();
      this.tailFirst = seq + 1;
      return;
    }
    if (this.tailFirst > seq) this.tailFirst = seq;
    starts[seq % TAIL_MAX_ENTRIES] = this.ringEnd;
    const at = this.ringEnd % capacity;
    const first = Math.min(body.length, capacity - at);
    body.copy(ring, at, 0, first);
    if (first < body.length) body.copy(ring, 0, first);
    this.ringEnd += body.length;
  }

  /** A copy of a tail entry's payload (the ring is overwritten later: never a view of it). */
  private fromTail(seq: number): Buffer | undefined {
    const ring = this.ring;
    const starts = this.tailStarts;
    if (!ring || !starts || seq < this.tailFirst || seq >= this.nextSeq) return undefined;
    const start = starts[seq % TAIL_MAX_ENTRIES] ?? 0;
    const end = seq + 1 < this.nextSeq ? (starts[(seq + 1) % TAIL_MAX_ENTRIES] ?? 0) : this.ringEnd;
    const capacity = ring.length;
    const payload = Buffer.allocUnsafe(end - start);
    const at = start % capacity;
    const first = Math.min(payload.length, capacity - at);
    ring.copy(payload, 0, at, at + first);
    if (first < payload.length) ring.copy(payload, first, 0, payload.length - first);
    return payload;
  }

  private totalBytes(): number {
    let bytes = 0;
    for (const segment of this.segments) bytes += segment.bytes;
    return bytes;
  }

  /** Over the bound: the oldest segments go, read or not (the producer is never stopped). */
  private enforceBound(): void {
    let total = this.totalBytes();
    while (total > this.maxBytes && this.segments.length > 1) {
      const oldest = this.segments[0];
      const next = this.segments[1];
      if (!oldest || !next) break;
      let floor = Infinity;
      for (const cursor of this.cursorsByName.values()) floor = Math.min(floor, cursor.committed);
      if (floor === Infinity) floor = oldest.firstSeq - 1;
      const unread = Math.max(0, next.firstSeq - 1 - Math.max(floor, oldest.firstSeq - 1));
      total -= oldest.bytes;
      this.deleteOldest();
      if (unread > 0) {
        this.droppedTotal += unread;
        this.onDrop?.(unread);
      }
    }
  }

  private deleteOldest(): void {
    const oldest = this.segments.shift();
    if (!oldest) return;
    try {
      unlinkSync(oldest.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Dropped entries no longer in memory either; waiters for them are released (they are lost,
    // counted, and the producer must not wait for ever).
    const first = this.firstSeq;
    if (this.tailFirst < first) this.tailFirst = Math.min(first, this.writtenSeq + 1);
  }
}

/** A named position in the spool, committed by its consumer once it is done with entries. */
export class SpoolCursor {
  private committedSeq: number;
  /** Next seq `read` returns (committed + 1 after open or rewind). */
  private position: number;
  private readonly fd: number;
  private readonly reader = new DiskReader();
  /** Entries skipped because the bound dropped them before this cursor read them. */
  skipped = 0;

  constructor(
    private readonly spool: Spool,
    readonly name: string,
    path: string,
    committed: number,
  ) {
    this.committedSeq = committed;
    this.position = committed + 1;
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    this.write();
  }

  /** Every entry up to here is done with (persisted). */
  get committed(): number {
    return this.committedSeq;
  }

  /** Entries appended after the committed position. */
  get lag(): number {
    return this.spool.lastSeq - this.committedSeq;
  }

  /** Entries after the read position, not yet handed out. */
  get unread(): number {
    return this.spool.lastSeq - this.position + 1;
  }

  /** The next entries after what was read last (from the committed position after open). */
  read(maxEntries: number, maxBytes = 16 * 1024 * 1024): SpoolEntry[] {
    if (this.released) return [];
    const first = this.spool.firstSeq;
    if (this.position < first) {
      this.skipped += first - this.position;
      this.position = first;
    }
    const entries = this.spool.readEntries(this.reader, this.position, maxEntries, maxBytes);
    const last = entries[entries.length - 1];
    if (last) this.position = last.seq + 1;
    return entries;
  }

  /** Reads again from the committed position (a consumer that failed and starts over). */
  rewind(): void {
    this.position = this.committedSeq + 1;
  }

  /** Done with every entry up to `seq`; written (not fsync'd) at once. */
  commit(seq: number): void {
    if (seq <= this.committedSeq || this.released) return;
    this.committedSeq = Math.min(seq, this.spool.lastSeq);
    if (this.position <= this.committedSeq) this.position = this.committedSeq + 1;
    this.write();
    this.spool.trim();
  }

  private released = false;

  release(): void {
    if (this.released) return;
    this.released = true;
    this.reader.close();
    closeSync(this.fd);
  }

  private write(): void {
    const text = `${String(this.committedSeq).padStart(20, '0')}\n`;
    writeSync(this.fd, text, 0);
  }
}

/** Sequential reads of one segment at a time, in blocks (a backlog drains at disk speed). */
export class DiskReader {
  private fd: number | undefined;
  private segmentFirst = -1;
  /** The entry at `offset` in the segment has this seq. */
  private seq = -1;
  private offset = 0;
  private block = Buffer.alloc(0);
  private blockStart = 0;
  private blockLength = 0;

  read(spool: Spool, seq: number): Buffer | undefined {
    const located = spool.segmentOf(seq);
    if (!located || seq >= located.endSeq) return undefined;
    const { segment } = located;
    if (segment.firstSeq !== this.segmentFirst || seq < this.seq) {
      this.close();
      try {
        this.fd = openSync(segment.path, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      this.segmentFirst = segment.firstSeq;
      this.seq = segment.firstSeq;
      this.offset = 0;
      this.blockLength = 0;
    }
    while (this.seq <= seq) {
      const header = this.bytes(this.offset, HEADER_BYTES, segment.bytes);
      if (!header) return undefined;
      const length = header.readUInt32LE(0);
      if (this.seq === seq) {
        const body = this.bytes(this.offset + HEADER_BYTES, length, segment.bytes);
        if (!body) return undefined;
        this.offset += HEADER_BYTES + length;
        this.seq += 1;
        return Buffer.from(body); // the block is reused: a copy of its own
      }
      this.offset += HEADER_BYTES + length;
      this.seq += 1;
    }
    return undefined;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.segmentFirst = -1;
  }

  /** `length` bytes at `offset` of the open segment, within its `limit` written bytes. */
  private bytes(offset: number, length: number, limit: number): Buffer | undefined {
    if (this.fd === undefined || offset + length > limit) return undefined;
    if (offset < this.blockStart || offset + length > this.blockStart + this.blockLength) {
      const size = Math.max(READ_BLOCK_BYTES, length);
      if (this.block.length < size) this.block = Buffer.allocUnsafe(size);
      this.blockStart = offset;
      this.blockLength = readSync(this.fd, this.block, 0, Math.min(size, limit - offset), offset);
      if (this.blockLength < length) return undefined;
    }
    const start = offset - this.blockStart;
    return this.block.subarray(start, start + length);
  }
}

function segmentPath(dir: string, firstSeq: number): string {
  return join(dir, `seg-${String(firstSeq).padStart(16, '0')}.log`);
}

function fileSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function readCursorFile(path: string): number {
  const value = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** Counts the whole entries of a segment and cuts a torn tail (length or CRC wrong). */
function recoverSegment(path: string): { entries: number; bytes: number; torn: number } {
  const data = readFileSync(path);
  let offset = 0;
  let entries = 0;
  while (offset + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (length > MAX_ENTRY_BYTES || end > data.length) break;
    if (crc32(data.subarray(offset + HEADER_BYTES, end)) !== data.readUInt32LE(offset + 4)) break;
    offset = end;
    entries += 1;
  }
  const torn = offset < data.length ? 1 : 0;
  if (torn) {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, offset);
    } finally {
      closeSync(fd);
    }
  }
  return { entries, bytes: offset, torn };
}
