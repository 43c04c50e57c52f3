import { Module, type DynamicModule, type Provider } from '@nestjs/common';

import { jetstreamJournalProviders } from '../bus/jetstream/jetstream.providers';
import { spoolJournalProvider } from '../bus/spool/spool-parts';
import type { VigilConfig } from '../config/vigil-config';
import { IngestBrokerLink } from './ingest-broker-link';
import { IngestController } from './ingest.controller';
import { IngestService } from './ingest.service';

/**
 * The ingest service: device messages validated onto the bus. Its MQTT connection is started by
 * startVigil (bootstrap.ts), last, once everything downstream is ready.
 */
@Module({})
export class IngestModule {
  static forConfig(config: VigilConfig): DynamicModule {
    const providers: Provider[] = [IngestService, IngestBrokerLink];
    // Where a device message is durable before its PUBACK (the legacy mqtt bus has no journal).
    if (config.bus.kind === 'memory') providers.push(spoolJournalProvider);
    if (config.bus.kind === 'jetstream') providers.push(...jetstreamJournalProviders());
    return {
      module: IngestModule,
      controllers: [IngestController],
      providers,
      // Readiness reads the broker link (held PUBACKs, sessions lost).
      exports: [IngestBrokerLink],
    };
  }
}
