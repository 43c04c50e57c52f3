import { Module, type DynamicModule, type Provider } from '@nestjs/common';

import { InternalInbox } from '../bus/internal-inbox';
import { BackboneHealth } from '../bus/jetstream/backbone-health';
import { BackboneCloser, backboneProvider } from '../bus/jetstream/backbone.provider';
import { canaryForwarding } from '../bus/jetstream/jetstream.providers';
import { PipelineBus } from '../bus/pipeline-bus';
import { spoolProviders } from '../bus/spool/spool-parts';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { StorageStatus } from '../gateway/storage-status';
import { ServicesHealth } from '../health/services-health';
import { JournalStatus } from '../journal/journal-status';
import { Lifecycle } from '../lifecycle';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { PermitBoard } from '../permits/permit-board';
import { RegistryHolder } from '../registry/registry-holder';
import { telemetryStoreProvider } from '../storage/telemetry-store.provider';
import { providedTokens } from './provided-tokens';

/**
 * What every Vigil process holds whichever services it runs: configuration, metrics, the start
 * and stop phase, the bus and its transport (memory spool or JetStream backbone), the registry,
 * the broker client, the storage port and the journals' status. Global: each service module
 * injects these without importing CoreModule. Its hooks run before the services' at start and
 * after them at stop (Nest orders global modules first).
 */
@Module({})
export class CoreModule {
  static forConfig(config: VigilConfig): DynamicModule {
    const providers: Provider[] = [
      { provide: VIGIL_CONFIG, useValue: config },
      VigilMetrics,
      Lifecycle,
      PipelineBus,
      RegistryHolder,
      MqttPublisher,
      // The one storage port: persister, storage status, history and reports inject it.
      telemetryStoreProvider,
      StorageStatus,
      JournalStatus,
      InternalInbox,
      // Permits (gateway) meet the rule engine here, when both run in this process (PermitBoard).
      PermitBoard,
      backboneProvider,
      BackboneCloser,
      ...spoolProviders(config),
      BackboneHealth,
      ...canaryForwarding(config),
      // JetStream: each process publishes its readiness to vigil_health, a gateway watches it.
      ...(config.bus.kind === 'jetstream' ? [ServicesHealth] : []),
    ];
    return {
      module: CoreModule,
      global: true,
      providers,
      exports: providedTokens(providers),
    };
  }
}
