import { Module, type DynamicModule } from '@nestjs/common';

import type { ServiceName, VigilConfig } from './config/vigil-config';
import { CoreModule } from './core/core.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { PersisterModule } from './persister/persister.module';
import { RulesModule } from './rules/rules.module';

/**
 * The process: CoreModule, the module of each service it runs (VIGIL_SERVICES, the app's
 * default), and HealthModule, so that the same code runs as one process for a small site or as
 * one process per service. (The broker service is no Nest module: startVigil starts it first.)
 *
 * Hook order (Nest): CoreModule's hooks (a global module) run first at start and last at stop;
 * then the modules in the order listed here, downstream first (persister, rules, gateway, ingest,
 * health), and at stop in the reverse: health, ingest, gateway, rules, the persister last.
 */
@Module({})
export class VigilModule {
  static forConfig(config: VigilConfig): DynamicModule {
    const runs = (service: ServiceName) => config.services.includes(service);
    // One object per module: the gateway and health import the same rules module, one instance.
    const rules = runs('rules') ? RulesModule.forConfig(config) : undefined;
    const services = [
      runs('persister') ? PersisterModule.forConfig(config) : undefined,
      rules,
      runs('gateway') ? GatewayModule.forConfig(config, rules) : undefined,
      runs('ingest') ? IngestModule.forConfig(config) : undefined,
    ].filter(module => module !== undefined);
    return {
      module: VigilModule,
      imports: [
        CoreModule.forConfig(config),
        ...services,
        HealthModule.forConfig(config, services),
      ],
    };
  }
}
