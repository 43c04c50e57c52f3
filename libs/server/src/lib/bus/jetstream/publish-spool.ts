import { Spool, type SpoolCursor } from '@vigil/spool';

/** One message waiting for JetStream: where it goes, its msg id and its bytes. */
export interface SpooledMessage {
  readonly subject: string;
  readonly msgId: string;
  readonly data: Uint8Array;
}

export interface PublishSpoolOptions {
  /** Bytes of messages kept at most; append() waits (counted) while the spool is full. */
  readonly maxBytes: number;
  /** Longest wait before appended messages are fsync'd together (group commit). */
  readonly fsyncMs: number;
  /** Called when an append has to wait because the spool is full. */
  readonly onFull?: () => void;
  /**
   * The lane dropped entries it should never drop (its own bound lies beyond `maxBytes`, which
   * makes appends wait first): logged and counted by the caller.
   */
  readonly onDrop?: (entries: number) => void;
}

/** The drain's position in the lane (`cursors/jetstream`). */
const CURSOR = 'jetstream';
/** Entry payload header: subject length, msg id length (u16 LE each); the lane frames the rest. */
const PAYLOAD_HEADER_BYTES = 4;

/**
 * A bounded, fsync'd file queue for messages that could not be published to JetStream (NATS
 * unreachable, or the publish timed out): ingest acknowledges a device's PUBLISH once the spool
 * has fsync'd it, and the journal drains it to JetStream with the same msg ids when NATS is back
 * (JetStream drops an id it has seen within its duplicate window, so a message that did reach the
 * stream before its timeout is not stored twice).
 *
 * One lane of `@vigil/spool` (segments, CRC per entry, group-commit fdatasync, a torn tail cut
 * at open) with one cursor, the drain's. The cursor is committed after each drained batch without
 * fsync: after a crash a drained batch may be sent again, which the msg ids make harmless.
 *
 * Unlike the memory bus's lanes, this one never drops: what it holds was acknowledged to devices,
 * so beyond `maxBytes` of undrained messages append() waits (`onFull`, counted) and the broker
 * queues. The lane's own drop-oldest bound is set beyond what the waiting lets it reach.
 */
export class PublishSpool {
  private spaceWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(
    private readonly lane: Spool,
    private readonly cursor: SpoolCursor,
    private readonly options: PublishSpoolOptions,
    /** Payload bytes appended and not yet drained. */
    private undrainedBytes: number,
  ) {}

  static async open(dir: string, options: PublishSpoolOptions): Promise<PublishSpool> {
    // Segments of an eighth of the bound (64 KiB to 64 MiB): drained segments are deleted, so
    // the disk holds the undrained bytes plus at most one segment's worth already drained.
    const segmentBytes = Math.min(
      64 * 1024 * 1024,
      Math.max(64 * 1024, Math.floor(options.maxBytes / 8)),
    );
    const lane = Spool.open({
      dir,
      // Never reached while appends wait at maxBytes: undrained bytes, one partly drained
      // segment, and one message larger than the bound (admitted into an empty spool).
      maxBytes: 2 * options.maxBytes + 2 * segmentBytes,
      fsyncMs: options.fsyncMs,
      segmentBytes,
      ...(options.onDrop ? { onDrop: options.onDrop } : {}),
    });
    const cursor = lane.cursor(CURSOR);
    // The undrained bytes of a spool from before the restart (the bound applies to them too).
    let bytes = 0;
    for (let batch = cursor.read(4096); batch.length > 0; batch = cursor.read(4096))
      for (const entry of batch) bytes += entry.payload.length;
    cursor.rewind();
    return new PublishSpool(lane, cursor, options, bytes);
  }

  /** Messages appended and not yet drained. */
  get size(): number {
    return this.cursor.lag;
  }

  /** Payload bytes appended and not yet drained (the bound applies to these; the lane adds 8 an entry). */
  get bytes(): number {
    return this.undrainedBytes;
  }

  /** Torn entries (the process died mid-write, never acknowledged) cut off at open. */
  get tornAtOpen(): number {
    return this.lane.stats().tornAtOpen;
  }

  /** Resolves once the message is fsync'd; waits while the spool is full. */
  async append(message: SpooledMessage): Promise<void> {
    const payload = encodePayload(message);
    const bytes = payload.length;
    let waited = false;
    while (!this.closed && this.bytes + bytes > this.options.maxBytes && this.bytes > 0) {
      if (!waited) this.options.onFull?.();
      waited = true;
      await new Promise<void>(resolve => this.spaceWaiters.push(resolve));
    }
    if (this.closed) throw new Error('spool closed');
    const seq = this.lane.append(payload);
    this.undrainedBytes += bytes;
    await this.lane.durable(seq);
  }

  /**
   * Reads up to `max` messages from the cursor and hands them to `send` (which resolves once
   * JetStream has them all, or rejects: then nothing is advanced); returns how many were drained.
   */
  async drainBatch(
    max: number,
    send: (messages: readonly SpooledMessage[]) => Promise<void>,
  ): Promise<number> {
    const entries = this.cursor.read(max);
    const last = entries[entries.length - 1];
    if (!last) return 0;
    try {
      await send(entries.map(entry => decodePayload(entry.payload)));
    } catch (error) {
      this.cursor.rewind();
      throw error;
    }
    this.cursor.commit(last.seq);
    for (const entry of entries) this.undrainedBytes -= entry.payload.length;
    for (const wake of this.spaceWaiters.splice(0)) wake();
    return entries.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.spaceWaiters.splice(0)) wake();
    await this.lane.close();
  }
}

function encodePayload({ subject, msgId, data }: SpooledMessage): Buffer {
  const subjectBytes = Buffer.from(subject, 'utf8');
  const idBytes = Buffer.from(msgId, 'utf8');
  const payload = Buffer.allocUnsafe(
    PAYLOAD_HEADER_BYTES + subjectBytes.length + idBytes.length + data.length,
  );
  payload.writeUInt16LE(subjectBytes.length, 0);
  payload.writeUInt16LE(idBytes.length, 2);
  subjectBytes.copy(payload, PAYLOAD_HEADER_BYTES);
  idBytes.copy(payload, PAYLOAD_HEADER_BYTES + subjectBytes.length);
  payload.set(data, PAYLOAD_HEADER_BYTES + subjectBytes.length + idBytes.length);
  return payload;
}

function decodePayload(payload: Buffer): SpooledMessage {
  const subjectEnd = PAYLOAD_HEADER_BYTES + payload.readUInt16LE(0);
  const idEnd = subjectEnd + payload.readUInt16LE(2);
  return {
    subject: payload.toString('utf8', PAYLOAD_HEADER_BYTES, subjectEnd),
    msgId: payload.toString('utf8', subjectEnd, idEnd),
    data: payload.subarray(idEnd),
  };
}
