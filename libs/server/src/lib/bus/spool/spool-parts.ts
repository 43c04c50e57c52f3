import type { Provider } from '@nestjs/common';

import type { VigilConfig } from '../../config/vigil-config';
import { IngestJournal } from '../../ingest/ingest-journal';
import { PersisterSource } from '../../persister/persister-source';
import { LocalSpool } from './local-spool';
import { SpoolJournal } from './spool-journal';
import { SpoolPersisterSource } from './spool-persister-source';

/** The memory bus's durable hop (LocalSpool): ingest's journal and the persister's source. */
export function spoolProviders(config: VigilConfig): Provider[] {
  if (config.bus.kind !== 'memory') return [];
  return [
    LocalSpool,
    {
      provide: IngestJournal,
      useFactory: (spool: LocalSpool) => new SpoolJournal(spool),
      inject: [LocalSpool],
    },
    ...(config.influx.mode === 'off'
      ? []
      : [
          {
            provide: PersisterSource,
            useFactory: (spool: LocalSpool) => new SpoolPersisterSource(spool),
            inject: [LocalSpool],
          },
        ]),
  ];
}
