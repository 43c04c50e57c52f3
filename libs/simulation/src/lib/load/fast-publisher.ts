import { connect as connectTcp, type Socket } from 'node:net';

/** What the load generator needs from an MQTT connection. */
export interface ReadingPublisher {
  /** Queues one PUBLISH; `false` when the connection is down or its bounds are reached. */
  publish(topic: string, payload: string, qos: 0 | 1): boolean;
  /** Writes what was queued since the last flush in one go. */
  flush(): void;
  /** Whether the socket and the in-flight window have room (the generator's back-pressure). */
  readonly writable: boolean;
  readonly stats: PublisherStats;
  end(): Promise<void>;
}

export interface PublisherStats {
  /** PUBLISH packets written (QoS 0) or acknowledged by the broker (QoS 1). */
  readonly delivered: number;
  readonly written: number;
  readonly inFlight: number;
  readonly refused: number;
  readonly bytes: number;
}

export interface FastPublisherOptions {
  readonly clientId: string;
  readonly keepaliveSeconds?: number;
  /** QoS 1 publishes awaiting PUBACK before `writable` turns false (≤ 65,535, default 20,000). */
  readonly maxInFlight?: number;
  /** Socket bytes not yet handed to the kernel before `writable` turns false (default 4 MiB). */
  readonly maxBufferedBytes?: number;
  readonly connectTimeoutMs?: number;
  readonly username?: string;
  readonly password?: string;
}

const CHUNK_BYTES = 256 * 1024;

/** MQTT variable-length "remaining length" (MQTT 3.1.1 §2.2.3). */
export function encodeRemainingLength(length: number, into: Buffer, offset: number): number {
  let value = length;
  let at = offset;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    into[at++] = byte;
  } while (value > 0);
  return at;
}

export function remainingLengthBytes(length: number): number {
  return length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
}

/** A PUBLISH packet (MQTT 3.1.1 §3.3) written into `into` at `offset`; returns the new offset. */
export function writePublishPacket(
  into: Buffer,
  offset: number,
  topic: string,
  topicBytes: number,
  payload: string,
  payloadBytes: number,
  qos: 0 | 1,
  packetId: number,
): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  into[offset] = 0x30 | (qos << 1);
  let at = encodeRemainingLength(remaining, into, offset + 1);
  into.writeUInt16BE(topicBytes, at);
  at += 2;
  at += into.write(topic, at, topicBytes, 'utf8');
  if (qos > 0) {
    into.writeUInt16BE(packetId, at);
    at += 2;
  }
  at += into.write(payload, at, payloadBytes, 'utf8');
  return at;
}

export function publishPacketBytes(topicBytes: number, payloadBytes: number, qos: 0 | 1): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  return 1 + remainingLengthBytes(remaining) + remaining;
}

/** CONNECT (MQTT 3.1.1 §3.1), clean session. */
export function connectPacket(
  clientId: string,
  keepaliveSeconds: number,
  username?: string,
  password?: string,
): Buffer {
  const strings = [
    clientId,
    ...(username === undefined ? [] : [username]),
    ...(password === undefined ? [] : [password]),
  ];
  const payload = Buffer.concat(
    strings.map(text => {
      const bytes = Buffer.from(text, 'utf8');
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.length);
      return Buffer.concat([length, bytes]);
    }),
  );
  let flags = 0x02;
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const variable = Buffer.from([
    0,
    4,
    0x4d,
    0x51,
    0x54,
    0x54,
    4,
    flags,
    keepaliveSeconds >> 8,
    keepaliveSeconds & 0xff,
  ]);
  const remaining = variable.length + payload.length;
  const header = Buffer.alloc(1 + remainingLengthBytes(remaining));
  header[0] = 0x10;
  encodeRemainingLength(remaining, header, 1);
  return Buffer.concat([header, variable, payload]);
}

/**
 * A minimal MQTT 3.1.1 publisher for load generation: PUBLISH packets are encoded straight into
 * large chunks and written once per tick, with no per-message objects, callbacks or streams.
 * MQTT.js spends several microseconds per publish, which at 50,000 readings/s would take most of
 * a core from the machine under test. It handles CONNACK, PUBACK and PINGRESP, nothing else:
 * it is a load tool, not a device library (the fleet simulator and scenarios use MQTT.js).
 */
export class FastMqttPublisher implements ReadingPublisher {
  private chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private offset = 0;
  private packetId = 0;
  private inFlight = 0;
  private written = 0;
  private acked = 0;
  private refused = 0;
  private bytes = 0;
  private connected = false;
  private incoming: Buffer = Buffer.alloc(0);
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly maxInFlight: number;
  private readonly maxBufferedBytes: number;
  private qos0Written = 0;

  private constructor(
    private readonly socket: Socket,
    options: FastPublisherOptions,
  ) {
    this.maxInFlight = Math.min(65_535, options.maxInFlight ?? 20_000);
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  }

  static connect(url: string, options: FastPublisherOptions): Promise<FastMqttPublisher> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'tcp:') {
      return Promise.reject(
        new Error(`the fast publisher speaks plain mqtt:// only, not ${parsed.protocol}`),
      );
    }
    const keepalive = options.keepaliveSeconds ?? 30;
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ host: parsed.hostname, port: Number(parsed.port || 1883) });
      socket.setNoDelay(true);
      const publisher = new FastMqttPublisher(socket, options);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no CONNACK from ${url} within ${options.connectTimeoutMs ?? 10_000} ms`));
      }, options.connectTimeoutMs ?? 10_000);
      socket.once('error', error => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('data', (data: Buffer) =>
        publisher.receive(data, error => {
          clearTimeout(timer);
          if (error) {
            socket.destroy();
            reject(error);
          } else {
            socket.removeAllListeners('error');
            socket.on('error', () => (publisher.connected = false));
            socket.on('close', () => (publisher.connected = false));
            publisher.pingTimer = setInterval(
              () => socket.write(Buffer.from([0xc0, 0x00])),
              (keepalive * 1000) / 2,
            );
            publisher.pingTimer.unref();
            resolve(publisher);
          }
        }),
      );
      socket.once('connect', () =>
        socket.write(
          connectPacket(options.clientId, keepalive, options.username, options.password),
        ),
      );
    });
  }

  get writable(): boolean {
    return (
      this.connected &&
      this.inFlight < this.maxInFlight &&
      this.socket.writableLength < this.maxBufferedBytes
    );
  }

  get stats(): PublisherStats {
    return {
      delivered: this.qos0Written + this.acked,
      written: this.written,
      inFlight: this.inFlight,
      refused: this.refused,
      bytes: this.bytes,
    };
  }

  publish(topic: string, payload: string, qos: 0 | 1): boolean {
    if (!this.connected || (qos === 1 && this.inFlight >= this.maxInFlight)) {
      this.refused += 1;
      return false;
    }
    const topicBytes = Buffer.byteLength(topic, 'utf8');
    const payloadBytes = Buffer.byteLength(payload, 'utf8');
    const size = publishPacketBytes(topicBytes, payloadBytes, qos);
    if (this.offset + size > this.chunk.length) this.nextChunk(size);
    let packetId = 0;
    if (qos === 1) {
      this.packetId = this.packetId >= 65_535 ? 1 : this.packetId + 1;
      packetId = this.packetId;
      this.inFlight += 1;
    } else {
      this.qos0Written += 1;
    }
    this.offset = writePublishPacket(
      this.chunk,
      this.offset,
      topic,
      topicBytes,
      payload,
      payloadBytes,
      qos,
      packetId,
    );
    this.written += 1;
    this.bytes += size;
    return true;
  }

  flush(): void {
    if (this.offset > 0) {
      this.chunks.push(this.chunk.subarray(0, this.offset));
      this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      this.offset = 0;
    }
    if (this.chunks.length === 0) return;
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data);
  }

  end(): Promise<void> {
    this.flush();
    this.connected = false;
    clearInterval(this.pingTimer);
    return new Promise(resolve => {
      if (this.socket.destroyed) return resolve();
      this.socket.end(Buffer.from([0xe0, 0x00]), () => resolve());
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 2000).unref();
    });
  }

  private nextChunk(size: number): void {
    this.chunks.push(this.chunk.subarray(0, this.offset));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, size));
    this.offset = 0;
  }

  private receive(data: Buffer, onConnack: (error?: Error) => void): void {
    this.incoming = this.incoming.length ? Buffer.concat([this.incoming, data]) : data;
    let at = 0;
    while (at + 2 <= this.incoming.length) {
      const type = (this.incoming[at] as number) >> 4;
      let length = 0;
      let multiplier = 1;
      let cursor = at + 1;
      let complete = false;
      while (cursor < this.incoming.length) {
        const byte = this.incoming[cursor++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || cursor + length > this.incoming.length) break;
      if (type === 2) {
        const code = this.incoming[cursor + 1];
        if (code === 0) {
          this.connected = true;
          onConnack();
        } else onConnack(new Error(`broker refused the connection (CONNACK code ${code})`));
      } else if (type === 4 && this.inFlight > 0) {
        this.inFlight -= 1;
        this.acked += 1;
      }
      at = cursor + length;
    }
    this.incoming = at >= this.incoming.length ? Buffer.alloc(0) : this.incoming.subarray(at);
  }
}
