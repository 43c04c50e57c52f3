import type { Provider } from '@nestjs/common';

import type { VigilConfig } from '../../config/vigil-config';
import { IngestJournal } from '../../ingest/ingest-journal';
import { PersisterSource } from '../../persister/persister-source';
import { LocalSpool } from './local-spool';
import { SpoolJournal } from './spool-journal';
import { SpoolPersisterSource } from './spool-persister-source';

/** The memory bus's durable hop (LocalSpool), shared by the services of the process (CoreModule). */
export function spoolProviders(config: VigilConfig): Provider[] {
  return config.bus.kind === 'memory' ? [LocalSpool] : [];
}

/** Ingest's journal on the memory bus: the spool's `records` lane (IngestModule). */
export const spoolJournalProvider: Provider = {
  provide: IngestJournal,
  useFactory: (spool: LocalSpool) => new SpoolJournal(spool),
  inject: [LocalSpool],
};

/** The persister's source on the memory bus: the spool's lanes by cursor (PersisterModule). */
export const spoolPersisterSourceProvider: Provider = {
  provide: PersisterSource,
  useFactory: (spool: LocalSpool) => new SpoolPersisterSource(spool),
  inject: [LocalSpool],
};
