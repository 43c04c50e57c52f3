import { MqttContext, ServerMqtt, type MessageHandler } from '@nestjs/microservices';

/**
 * Nest's MQTT transport, with one change: device payloads reach the handler as the raw Buffer.
 *
 * The stock server JSON-parses every payload and treats any object with a top-level `pattern`
 * or `data` key as its own envelope, so a hostile device could steer routing, and non-JSON
 * would arrive as a string indistinguishable from a JSON string. Ingest must see the exact bytes
 * to enforce the size limit, UTF-8 and JSON itself, and to dead-letter the original payload.
 * Device topics carry events only (no request/reply), so every message goes to handleEvent.
 */
export class VigilMqttServer extends ServerMqtt {
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
}

const DEVICE_PREFIX = 'vigil/v1/';
