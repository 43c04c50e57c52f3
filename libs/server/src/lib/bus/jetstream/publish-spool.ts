import { mkdir, open, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

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
}

/** Entry header: body length (u32 LE), subject length (u16 LE), msg id length (u16 LE). */
const HEADER_BYTES = 8;
const READ_CHUNK_BYTES = 1024 * 1024;
const LOG_FILE = 'publish.log';
const CURSOR_FILE = 'publish.cursor';

interface PendingAppend {
  readonly bytes: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A bounded, fsync'd file queue for messages that could not be published to JetStream (NATS
 * unreachable, or the publish timed out): ingest acknowledges a device's PUBLISH once the spool
 * has fsync'd it, and the journal drains it to JetStream with the same msg ids when NATS is back
 * (JetStream drops an id it has seen within its duplicate window, so a message that did reach the
 * stream before its timeout is not stored twice).
 *
 * One append-only log and a cursor (the byte offset drained up to). The cursor is written after
 * each drained batch without fsync: after a crash a drained batch may be sent again, which the
 * msg ids make harmless. A torn entry at the end of the log (a crash mid-write, never fsync'd, so
 * never acknowledged) is cut off at open. The log is emptied when everything has been drained.
 *
 * This is the minimal spool of the jetstream workstream; the memory bus's spool (helper
 * `allinone`) can take its place behind the same three calls.
 */
export class PublishSpool {
  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private writing = false;
  private spaceWaiters: Array<() => void> = [];
  /** Byte offset of the end of the fsync'd log. */
  private durableEnd: number;
  private cursor: number;
  private messages: number;
  private closed = false;
  /** Set while the drained log is being emptied: writes wait for it. */
  private resetting: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly handle: FileHandle,
    private readonly options: PublishSpoolOptions,
    end: number,
    cursor: number,
    messages: number,
  ) {
    this.durableEnd = end;
    this.cursor = cursor;
    this.messages = messages;
  }

  static async open(dir: string, options: PublishSpoolOptions): Promise<PublishSpool> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOG_FILE);
    const handle = await open(path, 'a+');
    const { size } = await handle.stat();
    let cursor = 0;
    try {
      cursor = Number((await readFile(join(dir, CURSOR_FILE), 'utf8')).trim()) || 0;
    } catch {
      cursor = 0;
    }
    if (cursor > size) cursor = 0;
    // Walk the entries after the cursor: count them and find a torn tail.
    let offset = cursor;
    let messages = 0;
    for (;;) {
      const entry = await readEntry(handle, offset, size);
      if (!entry) break;
      offset = entry.next;
      messages += 1;
    }
    if (offset < size) await handle.truncate(offset);
    const spool = new PublishSpool(dir, handle, options, offset, cursor, messages);
    return spool;
  }

  /** Messages appended and not yet drained. */
  get size(): number {
    return this.messages;
  }

  /** Bytes appended and not yet drained (the bound applies to these). */
  get bytes(): number {
    return this.durableEnd - this.cursor + this.pendingBytes;
  }

  /** Resolves once the message is fsync'd; waits while the spool is full. */
  async append(message: SpooledMessage): Promise<void> {
    const bytes = encodeEntry(message);
    let waited = false;
    while (!this.closed && this.bytes + bytes.length > this.options.maxBytes && this.bytes > 0) {
      if (!waited) this.options.onFull?.();
      waited = true;
      await new Promise<void>(resolve => this.spaceWaiters.push(resolve));
    }
    if (this.closed) throw new Error('spool closed');
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes, resolve, reject });
      this.pendingBytes += bytes.length;
      if (!this.writing) void this.writeLoop();
    });
  }

  /**
   * Reads up to `max` messages from the cursor and hands them to `send` (which resolves once
   * JetStream has them all, or rejects: then nothing is advanced); returns how many were drained.
   */
  async drainBatch(
    max: number,
    send: (messages: readonly SpooledMessage[]) => Promise<void>,
  ): Promise<number> {
    const messages: SpooledMessage[] = [];
    let offset = this.cursor;
    const end = this.durableEnd;
    while (messages.length < max) {
      const entry = await readEntry(this.handle, offset, end);
      if (!entry) break;
      messages.push(entry.message);
      offset = entry.next;
    }
    if (messages.length === 0) return 0;
    await send(messages);
    this.cursor = offset;
    this.messages -= messages.length;
    await this.saveCursor();
    if (this.cursor === this.durableEnd && this.pending.length === 0 && !this.writing) {
      this.resetting = this.reset();
      try {
        await this.resetting;
      } finally {
        this.resetting = undefined;
      }
    }
    for (const wake of this.spaceWaiters.splice(0)) wake();
    return messages.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.spaceWaiters.splice(0)) wake();
    while (this.writing) await new Promise(resolve => setTimeout(resolve, 5));
    await this.handle.close();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        if (this.options.fsyncMs > 0)
          await new Promise(resolve => setTimeout(resolve, this.options.fsyncMs));
        if (this.resetting) await this.resetting;
        const group = this.pending;
        this.pending = [];
        const buffer = Buffer.concat(group.map(item => item.bytes));
        try {
          await this.handle.write(buffer, 0, buffer.length, null);
          await this.handle.datasync();
        } catch (error) {
          this.pendingBytes -= buffer.length;
          for (const item of group) item.reject(error);
          continue;
        }
        this.pendingBytes -= buffer.length;
        this.durableEnd += buffer.length;
        this.messages += group.length;
        for (const item of group) item.resolve();
      }
    } finally {
      this.writing = false;
    }
  }

  private async saveCursor(): Promise<void> {
    const temp = join(this.dir, `${CURSOR_FILE}.tmp`);
    await writeFile(temp, String(this.cursor));
    await rename(temp, join(this.dir, CURSOR_FILE));
  }

  /** Everything drained: empty the log so that it never grows beyond one outage's worth. */
  private async reset(): Promise<void> {
    await this.handle.truncate(0);
    this.durableEnd = 0;
    this.cursor = 0;
    this.messages = 0;
    await this.saveCursor();
  }
}

function encodeEntry({ subject, msgId, data }: SpooledMessage): Buffer {
  const subjectBytes = Buffer.from(subject, 'utf8');
  const idBytes = Buffer.from(msgId, 'utf8');
  const body = subjectBytes.length + idBytes.length + data.length;
  const entry = Buffer.allocUnsafe(HEADER_BYTES + body);
  entry.writeUInt32LE(body, 0);
  entry.writeUInt16LE(subjectBytes.length, 4);
  entry.writeUInt16LE(idBytes.length, 6);
  subjectBytes.copy(entry, HEADER_BYTES);
  idBytes.copy(entry, HEADER_BYTES + subjectBytes.length);
  entry.set(data, HEADER_BYTES + subjectBytes.length + idBytes.length);
  return entry;
}

async function readEntry(
  handle: FileHandle,
  offset: number,
  end: number,
): Promise<{ message: SpooledMessage; next: number } | undefined> {
  if (offset + HEADER_BYTES > end) return undefined;
  const header = Buffer.alloc(HEADER_BYTES);
  await handle.read(header, 0, HEADER_BYTES, offset);
  const body = header.readUInt32LE(0);
  const subjectLength = header.readUInt16LE(4);
  const idLength = header.readUInt16LE(6);
  if (subjectLength + idLength > body || offset + HEADER_BYTES + body > end) return undefined;
  const bytes = Buffer.alloc(body);
  for (let read = 0; read < body;) {
    const chunk = Math.min(READ_CHUNK_BYTES, body - read);
    const { bytesRead } = await handle.read(bytes, read, chunk, offset + HEADER_BYTES + read);
    if (bytesRead === 0) return undefined;
    read += bytesRead;
  }
  return {
    message: {
      subject: bytes.toString('utf8', 0, subjectLength),
      msgId: bytes.toString('utf8', subjectLength, subjectLength + idLength),
      data: bytes.subarray(subjectLength + idLength),
    },
    next: offset + HEADER_BYTES + body,
  };
}
