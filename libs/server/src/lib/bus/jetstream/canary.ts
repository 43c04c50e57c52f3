import { randomUUID } from 'node:crypto';

import { headers, type NatsConnection, type Subscription as NatsSubscription } from 'nats';
import { bufferTime, filter, type Subscription } from 'rxjs';

import { internalCanaryBatchSchema, type CanaryReport } from '@vigil/contracts';

import type { InternalInbox } from '../internal-inbox';
import type { PipelineBus } from '../pipeline-bus';
import { CANARY_SUBJECT } from './subjects';

/**
 * Canary reports between processes on the JetStream backbone (docs/interfaces.md §Canary): core
 * NATS subject `vigil.canary`, payload = a JSON array that `internalCanaryBatchSchema` accepts
 * (the same as the MQTT bridge's `vigil-internal/v1/canary`). Nothing is kept: a report that
 * cannot leave must show as a stall at the gateway, not arrive late from a stream.
 *
 * Producers (ingest, rules, persister): `forwardCanaryReports(bus, nc)` once per process; it
 * sends what the hops put on `bus.canary$`. Consumer (the gateway's CanaryService):
 * `receiveCanaryReports(nc, inbox, onReports)`, which calls back and never publishes into
 * `bus.canary$` (the forwarder of a co-located hop would send them out again, for ever).
 */

/** Reports of one process are batched over this many ms (like the MQTT bridge). */
const CANARY_BATCH_MS = 5;
/** At most this many reports per message (one per site and hop per canary interval). */
const CANARY_BATCH_ITEMS = 2000;
/** Header naming the sending process, so a co-located gateway skips what it already saw. */
export const CANARY_SENDER_HEADER = 'Vigil-Canary-Sender';
/** This process, as the sender of its canary reports (tests pass their own, one per "process"). */
export const CANARY_SENDER = `p-${process.pid}-${randomUUID().slice(0, 8)}`;

/** Publishes reports on `vigil.canary` now (false while the connection is closed). */
export function publishCanaryReports(
  nc: NatsConnection,
  reports: readonly CanaryReport[],
  sender = CANARY_SENDER,
): boolean {
  if (reports.length === 0 || nc.isClosed()) return false;
  const h = headers();
  h.set(CANARY_SENDER_HEADER, sender);
  for (let i = 0; i < reports.length; i += CANARY_BATCH_ITEMS)
    nc.publish(CANARY_SUBJECT, JSON.stringify(reports.slice(i, i + CANARY_BATCH_ITEMS)), {
      headers: h,
    });
  return true;
}

/** Sends every report the hops of this process put on `bus.canary$`; unsubscribe to stop. */
export function forwardCanaryReports(
  bus: PipelineBus,
  nc: NatsConnection,
  sender = CANARY_SENDER,
): Subscription {
  return bus.canary$
    .pipe(
      bufferTime(CANARY_BATCH_MS, null, 64),
      filter(batches => batches.length > 0),
    )
    .subscribe(batches => publishCanaryReports(nc, batches.flat(), sender));
}

/**
 * Receives the other processes' reports: validated by the inbox (a malformed message is counted
 * and dead-lettered, never thrown), this process's own skipped. Unsubscribe to stop.
 */
export function receiveCanaryReports(
  nc: NatsConnection,
  inbox: InternalInbox,
  onReports: (reports: readonly CanaryReport[]) => void,
  self = CANARY_SENDER,
): NatsSubscription {
  return nc.subscribe(CANARY_SUBJECT, {
    callback: (error, message) => {
      if (error) return; // the connection's status stream says why (backbone.ts logs it)
      if (message.headers?.get(CANARY_SENDER_HEADER) === self) return;
      const reports = inbox.read(
        'canary',
        CANARY_SUBJECT,
        Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
        internalCanaryBatchSchema,
      );
      if (reports) onReports(reports);
    },
  });
}
