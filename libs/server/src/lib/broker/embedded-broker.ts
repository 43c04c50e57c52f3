import { createServer, type Server } from 'node:net';

import { Logger } from '@nestjs/common';
import { Aedes } from 'aedes';

import { INTERNAL_TOPIC_ROOT } from '@vigil/contracts';

/**
 * The embedded aedes broker: the default for the demo and small sites (MQTT 3.1.1 only; aedes
 * does not speak MQTT 5). Larger sites point Vigil at Mosquitto or EMQX with VIGIL_MQTT_URL.
 */
export class EmbeddedBroker {
  private readonly logger = new Logger(EmbeddedBroker.name);
  private broker: Aedes | undefined;
  private server: Server | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    // Devices must not inject records into the services' internal topics.
    broker.authorizePublish = (client, packet, callback) => {
      const internal = packet.topic.startsWith(`${INTERNAL_TOPIC_ROOT}/`);
      if (internal && client && !client.id.startsWith('vigil-')) {
        callback(new Error('internal topic'));
        return;
      }
      callback(null);
    };
    // No Nagle: a small PUBLISH carrying an alarm must not wait for the previous segment's ACK.
    const server = createServer({ noDelay: true }, broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.broker = broker;
    this.server = server;
    this.logger.log(`embedded MQTT broker listening on mqtt://${this.host}:${this.port}`);
  }

  async stop(): Promise<void> {
    // The broker first, so that it drops its clients: server.close() waits for every connection.
    await new Promise<void>(resolve =>
      this.broker ? this.broker.close(() => resolve()) : resolve(),
    );
    await new Promise<void>(resolve =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
