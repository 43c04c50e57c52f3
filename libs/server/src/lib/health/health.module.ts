import { Module, type DynamicModule, type Provider } from '@nestjs/common';

import type { VigilConfig } from '../config/vigil-config';
import { HealthController } from '../gateway/health.controller';
import { HealthExchange } from './health-exchange';
import { ReadinessService } from './readiness.service';

/**
 * /healthz, /readyz and /metrics in every process. Readiness reads the state of each service this
 * process runs, so this module imports the service modules it is given (the same module objects
 * VigilModule imports: Nest keeps one instance of each); CoreModule's parts are global.
 */
@Module({})
export class HealthModule {
  static forConfig(config: VigilConfig, services: readonly DynamicModule[]): DynamicModule {
    const providers: Provider[] = [ReadinessService];
    // JetStream: this process's readiness published to vigil_health (ServicesHealth, CoreModule).
    if (config.bus.kind === 'jetstream') providers.push(HealthExchange);
    return {
      module: HealthModule,
      imports: [...services],
      controllers: [HealthController],
      providers,
    };
  }
}
