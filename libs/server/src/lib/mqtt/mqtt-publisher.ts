import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { connect, type MqttClient } from 'mqtt';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { mqttClientOptions } from './client-options';

/** Messages held while the broker is unreachable; beyond this they are counted and dropped. */
const MAX_QUEUED = 10_000;

/**
 * One outgoing MQTT connection per process for what services publish themselves (dead letters).
 * mqtt.js queues while reconnecting; the queue is bounded here so that a dead broker cannot grow it.
 */
@Injectable()
export class MqttPublisher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MqttPublisher.name);
  private client: MqttClient | undefined;
  private queued = 0;
  dropped = 0;

  constructor(@Inject(VIGIL_CONFIG) private readonly config: VigilConfig) {}

  publish(topic: string, payload: string): void {
    if (this.queued >= MAX_QUEUED) {
      this.dropped += 1;
      return;
    }
    this.queued += 1;
    this.connection().publish(topic, payload, { qos: this.config.mqtt.qos }, () => {
      this.queued -= 1;
    });
  }

  /** Connects at start, so that readiness reflects the broker from the first probe on. */
  async onModuleInit(): Promise<void> {
    const client = this.connection();
    if (client.connected) return;
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, 5000);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Whether the broker is reachable right now (readiness). */
  get connected(): boolean {
    return this.connection().connected;
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.endAsync();
  }

  private connection(): MqttClient {
    if (!this.client) {
      this.client = connect(this.config.mqtt.url, {
        clientId: `vigil-pub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
        ...mqttClientOptions(this.config),
        reconnectPeriod: 1000,
      });
      this.client.on('error', error => this.logger.warn(`publisher: ${error.message}`));
    }
    return this.client;
  }
}
