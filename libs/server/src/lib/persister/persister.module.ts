import { Module, type DynamicModule, type Provider } from '@nestjs/common';

import { jetstreamRecordSourceProvider } from '../bus/jetstream/jetstream.providers';
import { spoolPersisterSourceProvider } from '../bus/spool/spool-parts';
import type { VigilConfig } from '../config/vigil-config';
import { PersisterService } from './persister.service';

/** The persister service: records and alarm updates into the storage port (CoreModule's). */
@Module({})
export class PersisterModule {
  static forConfig(config: VigilConfig): DynamicModule {
    const providers: Provider[] = [PersisterService];
    // Where it reads from: the spool's lanes by cursor, or the JetStream streams; without one
    // (the legacy mqtt bus) it reads the bus itself (BusPersisterSource).
    if (config.bus.kind === 'memory' && config.influx.mode !== 'off')
      providers.push(spoolPersisterSourceProvider);
    if (config.bus.kind === 'jetstream') providers.push(jetstreamRecordSourceProvider);
    return { module: PersisterModule, providers };
  }
}
