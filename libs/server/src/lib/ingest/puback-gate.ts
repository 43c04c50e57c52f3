import type { MqttClient } from 'mqtt';

/** What the gate needs of an incoming PUBLISH (mqtt.js's decoded packet). */
interface IncomingPublish {
  readonly qos?: number;
  readonly messageId?: number;
}

interface Held {
  readonly messageId: number;
  /** When the PUBLISH arrived (ms since the epoch): the age of the oldest held PUBACK. */
  readonly at: number;
  /** The message is durable (IngestJournal): its PUBACK may go. */
  durable: boolean;
  /** mqtt.js asked to send the PUBACK (its packet), held here until `durable`. */
  puback: Record<string, unknown> | undefined;
}

type SendPacket = (packet: Record<string, unknown>, cb?: (error?: Error) => void) => void;

/**
 * Holds the PUBACK of each QoS 1 device message until ingest says it is durable, without holding
 * up the messages behind it.
 *
 * Why not mqtt.js's `customHandleAcks` (DESIGN-12 named it): mqtt.js 5.16 honours it only with
 * MQTT 5 (client.js: `protocolVersion === 5 && options.customHandleAcks`), and the embedded aedes
 * speaks 3.1.1 only; and in handlers/publish.js the 'message' event is emitted only inside its
 * callback, while the next packet of the socket is parsed only after the PUBACK has been written
 * (`done` is the PUBACK's write callback): holding it there would let one message through per
 * fsync. So the gate lets mqtt.js run as usual ('message', then `handleMessage`, then the PUBACK
 * through `_sendPacket`) and intercepts only the PUBACK: it is parked, mqtt.js is told it was
 * written so that the next packet is processed at once, and it is written when the message is
 * durable. PUBACKs leave in the order their PUBLISHes arrived (MQTT 3.1.1 §4.6). A PUBACK
 * parked when the connection drops is forgotten: the broker re-sends the PUBLISH on the persistent
 * session (clean: false), and ingest's journal stores it again (idempotent downstream).
 */
export class PubackGate {
  private readonly held = new Map<number, Held>();
  private order: Held[] = [];
  private head = 0;
  /** PUBACKs held for good (`refuse`): their messages were not taken. */
  private refused = 0;
  private readonly send: SendPacket;
  /**
   * Told how many PUBACKs a dropped connection forgot (messages taken, not durable yet): the
   * broker re-sends them on the persistent session.
   */
  onForget: ((count: number) => void) | undefined;

  constructor(client: MqttClient) {
    const internals = client as unknown as { _sendPacket: SendPacket };
    const original = internals._sendPacket.bind(client);
    this.send = original;
    internals._sendPacket = (packet, cb) => {
      if (packet['cmd'] === 'puback') {
        const entry = this.held.get(packet['messageId'] as number);
        if (entry && entry.puback === undefined) {
          entry.puback = packet;
          // mqtt.js parses the next packet once this runs: the PUBACK itself waits here.
          cb?.();
          this.release();
          return;
        }
      }
      original(packet, cb);
    };
    client.on('close', () => this.forget());
  }

  /** PUBACKs parked, waiting for their message to be durable (a gauge for tests and metrics). */
  get waiting(): number {
    return this.order.length - this.head;
  }

  /**
   * Parked PUBACKs of messages ingest took and has not made durable yet (the refused ones aside):
   * a stop waits for this to reach 0 before it leaves the broker.
   */
  get inFlight(): number {
    return this.waiting - this.refused;
  }

  /**
   * A message not taken (ingest is stopping): its PUBACK is held until the connection closes, so
   * the broker delivers it again on ingest's persistent session at the next start.
   */
  refuse(packet: IncomingPublish | undefined): void {
    if (!packet || !packet.qos || packet.messageId === undefined) return;
    this.hold(packet);
    this.refused += 1;
  }

  /** When the oldest parked PUBACK's message arrived; undefined when none waits. */
  get oldestWaitingSince(): number | undefined {
    return this.order[this.head]?.at;
  }

  /**
   * Called from the 'message' event, before mqtt.js asks for the PUBACK: returns the callback
   * that releases it. QoS 0 messages have no PUBACK: a no-op.
   */
  hold(packet: IncomingPublish | undefined): () => void {
    if (!packet || !packet.qos || packet.messageId === undefined) return NOTHING;
    const entry: Held = {
      messageId: packet.messageId,
      at: Date.now(),
      durable: false,
      puback: undefined,
    };
    this.held.set(entry.messageId, entry);
    this.order.push(entry);
    return () => {
      if (entry.durable) return;
      entry.durable = true;
      this.release();
    };
  }

  /** Writes the PUBACKs at the head of the arrival order whose messages are durable. */
  private release(): void {
    while (this.head < this.order.length) {
      const entry = this.order[this.head];
      if (!entry || !entry.durable || entry.puback === undefined) break;
      this.head += 1;
      this.held.delete(entry.messageId);
      this.send(entry.puback);
    }
    if (this.head === this.order.length) {
      this.order = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** The connection is gone: its parked PUBACKs mean nothing on the next one. */
  private forget(): void {
    const forgotten = this.inFlight;
    if (forgotten > 0) this.onForget?.(forgotten);
    for (let index = this.head; index < this.order.length; index += 1) {
      const entry = this.order[index];
      // A late ack of a forgotten message must not release anything of the next connection.
      if (entry) entry.durable = true;
    }
    this.held.clear();
    this.order = [];
    this.head = 0;
    this.refused = 0;
  }
}

const NOTHING = (): void => undefined;
