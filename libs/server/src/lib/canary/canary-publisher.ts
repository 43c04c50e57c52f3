import { Logger } from '@nestjs/common';
import { connect, type MqttClient } from 'mqtt';

import { canaryTopic, type CanaryPayload } from '@vigil/contracts';

import type { VigilMqttCredentials } from '../mqtt/client-options';
import { withoutNagle } from '../mqtt/no-delay';

/**
 * The one place that publishes canaries: its own MQTT connection, like a device's, so the canary
 * crosses the broker exactly as readings do (and, once the broker authenticates clients, with the
 * canary's own credentials: pass them here). QoS 0 and nothing queued while disconnected: a
 * canary that cannot leave must show up as a stall, not arrive late in a burst.
 */
export class CanaryPublisher {
  private readonly logger = new Logger('Canary');
  private client: MqttClient | undefined;

  constructor(
    private readonly url: string,
    private readonly credentials: VigilMqttCredentials,
  ) {}

  /** Connects; `onConnect` runs once connected (the first canary need not wait an interval). */
  start(onConnect?: () => void): void {
    if (this.client) return;
    const client = withoutNagle(
      connect(this.url, {
        ...this.credentials,
        clientId: `vigil-canary-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
        reconnectPeriod: 1000,
        queueQoSZero: false,
      }),
    );
    client.on('error', error => this.logger.warn(`canary publisher: ${error.message}`));
    if (onConnect) client.once('connect', onConnect);
    this.client = client;
  }

  /** False when the broker is not connected: the canary is not sent (the monitor will notice). */
  publish(siteId: string, payload: CanaryPayload): boolean {
    const client = this.client;
    if (!client?.connected) return false;
    client.publish(canaryTopic(siteId), JSON.stringify(payload), { qos: 0 });
    return true;
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
    this.client = undefined;
  }
}
