import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';

import { VIGIL_CONFIG, type VigilConfig } from '../../config/vigil-config';
import { VigilMetrics } from '../../metrics/metrics';
import { openBackbone, type Backbone } from './backbone';
import { BackboneMetrics } from './backbone-metrics';

/** The process's JetStream connection, or undefined unless VIGIL_BUS=jetstream. */
export const BACKBONE = Symbol('BACKBONE');

/**
 * Connects before any service starts: a JetStream process without NATS has nothing to do, so
 * start waits (saying so) until a server answers, and is refused when the streams do not match
 * the configuration (BackboneConfigError). JetStream API timeouts at start (no meta leader yet)
 * are retried, counted, for at most VIGIL_NATS_START_WAIT_S (then BackboneUnavailableError).
 */
export const backboneProvider: Provider = {
  provide: BACKBONE,
  inject: [VIGIL_CONFIG, VigilMetrics],
  useFactory: async (config: VigilConfig, metrics: VigilMetrics): Promise<Backbone | undefined> => {
    if (config.bus.kind !== 'jetstream') return undefined;
    const logger = new Logger('Backbone');
    const servers = config.bus.nats.servers.join(', ');
    const waiting = setTimeout(
      () => logger.warn(`waiting for NATS JetStream at ${servers} (VIGIL_NATS_URL)`),
      2000,
    );
    try {
      const backbone = await openBackbone(
        config.bus.nats,
        `vigil-${config.services.join('+')}-${config.bus.instance}`,
        { onStartRetry: () => BackboneMetrics.of(metrics.registry).startRetries.inc() },
      );
      logger.log(
        `JetStream backbone at ${servers}: ${config.bus.nats.partitions} partitions, R${config.bus.nats.replicas}`,
      );
      return backbone;
    } finally {
      clearTimeout(waiting);
    }
  },
};

/** Closes the connection last, after the services have stopped publishing and acknowledging. */
@Injectable()
export class BackboneCloser implements OnApplicationShutdown {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone | undefined) {}

  async onApplicationShutdown(): Promise<void> {
    await this.backbone?.close();
  }
}
