import { IngestJournal, type JournalMessage } from '../../ingest/ingest-journal';
import type { LocalSpool } from './local-spool';

/**
 * Ingest's journal on the memory bus: each device message is one entry of the spool's records
 * lane; durable once the group fdatasync covers it (at most VIGIL_SPOOL_FSYNC_MS later). A full
 * lane never blocks ingest: it drops its oldest entries instead (LocalSpool, counted).
 */
export class SpoolJournal extends IngestJournal {
  constructor(private readonly spool: LocalSpool) {
    super();
  }

  append(message: JournalMessage): Promise<void> {
    const records = this.spool.records;
    return records.durable(records.append(JSON.stringify(message)));
  }
}
