import type { Backbone } from '../bus/jetstream/backbone';
import { CHECKPOINTS_BUCKET, RECORDS_STREAM } from '../bus/jetstream/subjects';
import { lostKey, RECORDS_CONSUMER } from './jetstream-record-source';

/** No acknowledgement for this long while records wait: history is behind (InfluxDB slow or down). */
export const BACKLOG_BEHIND_MS = 30_000;
/** Records lost to the stream limits are shown this long after the last loss. */
export const LOSS_SHOWN_MS = 10 * 60_000;

/**
 * The persister's records consumer as another process sees it (the gateway, for the console and
 * /readyz): `backlog` while messages wait and nothing was acknowledged for BACKLOG_BEHIND_MS,
 * `lost` for LOSS_SHOWN_MS after records were discarded by the stream limits before being
 * stored; undefined when history is up to date (or the persister never ran).
 */
export async function persisterBacklog(
  backbone: Backbone,
  now = Date.now(),
): Promise<{ kind: 'backlog' | 'lost'; reason: string } | undefined> {
  try {
    const info = await backbone.jsm.consumers.info(RECORDS_STREAM, RECORDS_CONSUMER);
    const waiting = info.num_pending + info.num_ack_pending;
    const lastAck = timeOf(info.ack_floor.last_active) ?? Date.parse(info.created);
    if (waiting > 0 && now - lastAck > BACKLOG_BEHIND_MS)
      return {
        kind: 'backlog',
        reason: `${waiting} record message(s) wait in ${RECORDS_STREAM}; nothing stored for ${Math.round((now - lastAck) / 1000)} s`,
      };
    const kv = await backbone.js.views.kv(CHECKPOINTS_BUCKET);
    const entry = await kv.get(lostKey(RECORDS_CONSUMER));
    if (entry?.value.length) {
      const { lost, at } = entry.json() as { lost?: number; at?: number };
      if (lost && at && now - at < LOSS_SHOWN_MS)
        return {
          kind: 'lost',
          reason: `${lost} record message(s) were discarded by the ${RECORDS_STREAM} limits before they were stored (last at ${new Date(at).toISOString()})`,
        };
    }
  } catch {
    // No consumer yet (the persister never ran) or NATS unreachable: nothing to add here.
  }
  return undefined;
}

/** The server sends RFC 3339 times (typed as nanoseconds by the client library). */
function timeOf(value: unknown): number | undefined {
  if (typeof value === 'string') return Date.parse(value) || undefined;
  if (typeof value === 'number' && value > 0) return value / 1e6;
  return undefined;
}
