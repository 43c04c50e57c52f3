import { MqttContext, ServerMqtt, type MessageHandler } from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';

import type { IngestBrokerLink } from './ingest-broker-link';
import { PubackGate } from './puback-gate';

/**
 * Where device messages go when they skip Nest's dispatch: one synchronous call per message.
 * `retained`: the broker delivered it from its retained store (the packet's `retain` flag), so it
 * is the device's last known state, not news from a connected device (issue 10 finding 7).
 */
export type DeviceMessageSink = (
  topic: string,
  payload: Buffer,
  retained: boolean,
  /** Releases the message's PUBACK (QoS 1): call it once the message is durable. */
  ack: () => void,
  /**
   * The broker re-sent it (the PUBLISH's DUP flag, MQTT 3.1.1 §3.3.1.1): ingest was sent it
   * before and did not PUBACK it (a reconnect). Never set by a device's own re-send: the broker
   * does not pass a publisher's DUP flag on.
   */
  redelivered: boolean,
) => void;

/**
 * Nest's MQTT transport, with two changes for device topics (`vigil/v1/…`).
 *
 * Payloads reach ingest as the raw Buffer. The stock server JSON-parses every payload and treats
 * any object with a top-level `pattern` or `data` key as its own envelope, so a hostile device
 * could steer routing, and non-JSON would arrive as a string indistinguishable from a JSON
 * string. Ingest must see the exact bytes to enforce the size limit, UTF-8 and JSON itself, and
 * to dead-letter the original payload. Device topics carry events only (no request/reply).
 *
 * With a sink (`deliverDeviceMessagesTo`, set at start), device messages go straight to it from
 * the MQTT client's message event: no per-message execution context, param pipes, promise chain
 * or pattern lookup (that path cost a quarter of the CPU at 10,000 messages/s; docs/benchmarks.md).
 * Device topics use no guards, interceptors or pipes, so nothing is skipped that applied to them.
 * The controller's @EventPattern handlers still declare the subscriptions.
 */
export class VigilMqttServer extends ServerMqtt {
  private sink: DeviceMessageSink | undefined;
  private shareGroup: string | undefined;
  private gate: PubackGate | undefined;
  private link: IngestBrokerLink | undefined;
  /** Set by close(): device messages are refused from then on (redelivered at the next start). */
  private stopping = false;
  private closed: Promise<void> | undefined;

  /**
   * Reports the held PUBACKs and lost broker sessions to `link` (/readyz, /metrics). Call before
   * the server starts.
   */
  reportTo(link: IngestBrokerLink): void {
    this.link = link;
  }

  deliverDeviceMessagesTo(sink: DeviceMessageSink): void {
    this.sink = sink;
  }

  /**
   * VIGIL_MQTT_SHARE_GROUP: subscribe to the device topics as `$share/<group>/vigil/v1/…`, so
   * that the broker gives each message to one member of the group (several ingest instances).
   * Call before the server starts. Other topics stay plain subscriptions.
   */
  shareDeviceSubscriptions(group: string | undefined): void {
    this.shareGroup = group;
  }

  /** The stock binding; with a share group, device patterns are subscribed through it. */
  override bindEvents(mqttClient: MqttClient): void {
    const group = this.shareGroup;
    if (group !== undefined) {
      // Messages still arrive on their own topic, so the handler lookup is unchanged.
      const subscribe = mqttClient.subscribe.bind(mqttClient) as (...args: unknown[]) => unknown;
      mqttClient.subscribe = ((topic: unknown, ...rest: unknown[]) =>
        subscribe(
          typeof topic === 'string' && topic.startsWith(DEVICE_PREFIX)
            ? `$share/${group}/${topic}`
            : topic,
          ...rest,
        )) as MqttClient['subscribe'];
    }
    super.bindEvents(mqttClient);
  }

  /** The client with its PUBACKs held until ingest's journal has the message (PubackGate). */
  override createMqttClient(): MqttClient {
    const client = super.createMqttClient() as MqttClient;
    this.gate = new PubackGate(client);
    this.link?.watch(this.gate);
    const link = this.link;
    if (link) this.gate.onForget = count => link.connectionDropped(count);
    // clean: false, so a CONNACK without the session after a first connection means the broker
    // forgot it (restarted without persistence): mqtt.js subscribes again, but what the broker had
    // queued, and what devices published before that SUBSCRIBE, was acknowledged and dropped.
    let connectedBefore = false;
    client.on('connect', connack => {
      if (connectedBefore && connack.sessionPresent !== true) this.link?.sessionLost();
      connectedBefore = true;
    });
    return client;
  }

  override getMessageHandler(
    pub: Parameters<ServerMqtt['getMessageHandler']>[0],
  ): (channel: string, buffer: Buffer, originalPacket?: Record<string, unknown>) => Promise<void> {
    const viaNest = super.getMessageHandler(pub);
    return (channel, buffer, originalPacket) => {
      if (this.sink && channel.startsWith(DEVICE_PREFIX)) {
        // A property read on the packet mqtt.js already decoded: nothing allocated per message.
        if (this.stopping) {
          this.gate?.refuse(originalPacket);
          return DONE;
        }
        const ack = this.gate ? this.gate.hold(originalPacket) : NO_ACK;
        this.sink(
          channel,
          buffer,
          originalPacket?.['retain'] === true,
          ack,
          originalPacket?.['dup'] === true,
        );
        return DONE;
      }
      return viaNest(channel, buffer, originalPacket) as Promise<void>;
    };
  }

  override async handleMessage(
    channel: string,
    buffer: Buffer,
    _pub: unknown,
    originalPacket?: Record<string, unknown>,
  ): Promise<void> {
    const context = new MqttContext([channel, originalPacket as never]);
    return this.handleEvent(channel, { pattern: channel, data: buffer }, context);
  }

  /**
   * Device topics find their handler by their last level. Nest's own lookup JSON-parses every
   * topic inside a try/catch before matching wildcards: about 16 % of CPU at 10,000 readings/s
   * (docs/benchmarks.md, CPU profile). Anything else goes through Nest's lookup.
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    if (pattern.startsWith(DEVICE_PREFIX)) {
      const levels = pattern.split('/');
      if (levels.length === 5) {
        const handler = this.messageHandlers.get(`${DEVICE_PREFIX}+/+/${levels[4]}`);
        if (handler) return handler;
      }
    }
    return super.getHandlerByPattern(pattern);
  }

  /**
   * Stops taking device messages, waits (at most DRAIN_MS) until what was taken is durable and
   * its PUBACK written, then ends the client and waits for it: the stock close() does not, so the
   * broker was stopped under a client still closing (an `ECONNRESET` error with a stack trace at
   * every Ctrl+C). What arrives meanwhile keeps its PUBACK: the broker delivers it again on the
   * persistent session at the next start. Called by the stop first (bootstrap.ts), again by Nest.
   */
  override close(): Promise<void> {
    this.closed ??= this.drainAndEnd();
    return this.closed;
  }

  private async drainAndEnd(): Promise<void> {
    this.stopping = true;
    const client = this.mqttClient;
    this.pendingEventListeners = [];
    if (!client) return;
    const until = Date.now() + DRAIN_MS;
    while (client.connected && (this.gate?.inFlight ?? 0) > 0 && Date.now() < until)
      await new Promise(resolve => setTimeout(resolve, 5));
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    await new Promise<void>(done => client.end(false, {}, () => done()));
  }
}

/** How long a stop waits for the messages ingest took to become durable (one group fsync). */
const DRAIN_MS = 2_000;
const DEVICE_PREFIX = 'vigil/v1/';
const DONE = Promise.resolve();
const NO_ACK = (): void => undefined;
