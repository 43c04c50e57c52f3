import { Logger } from '@nestjs/common';
import type { JetStreamClient, NatsConnection } from 'nats';

import { IngestJournal, type JournalMessage } from '../../ingest/ingest-journal';
import type { BackboneHealth } from './backbone-health';
import type { BackboneMetrics } from './backbone-metrics';
import type { PublishSpool, SpooledMessage } from './publish-spool';
import { partitionOf, recordsSubject } from './subjects';

export interface JetStreamJournalOptions {
  readonly partitions: number;
  /** Publishes awaiting their pub ack at most; append() waits beyond (the PUBACKs wait too). */
  readonly maxInFlight?: number;
  /** A pub ack later than this sends the message to the spool (NATS slow or unreachable). */
  readonly publishTimeoutMs?: number;
  /** How often a non-empty spool tries to drain while NATS is still unreachable. */
  readonly drainRetryMs?: number;
}

const DEFAULT_MAX_IN_FLIGHT = 1024;
const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;
const DEFAULT_DRAIN_RETRY_MS = 1000;
/** Spooled messages published together (pipelined) while draining. */
const DRAIN_BATCH = 512;

/**
 * Ingest's journal in jetstream mode: each device message's records go to
 * `vigil.records.<partition>.<site>` with its msg id, and append() resolves on the pub ack. Many
 * publishes are in flight at once (bounded by maxInFlight). When a publish fails or times out
 * (NATS unreachable), the message goes to the local fsync'd spool and resolves once fsync'd;
 * while the spool holds anything, new messages queue behind it (a device's readings stay in
 * order) and a drain loop sends them to JetStream with the same msg ids.
 */
export class JetStreamJournal extends IngestJournal {
  private readonly logger = new Logger('JetStreamJournal');
  private readonly maxInFlight: number;
  private readonly publishTimeoutMs: number;
  private readonly drainRetryMs: number;
  private inFlight = 0;
  private slotWaiters: Array<() => void> = [];
  /** True from the first failed publish until the spool is empty again. */
  private spooling = false;
  private draining = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly spool: PublishSpool,
    private readonly metrics: BackboneMetrics,
    private readonly health: BackboneHealth | undefined,
    options: JetStreamJournalOptions,
  ) {
    super();
    this.partitions = options.partitions;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.drainRetryMs = options.drainRetryMs ?? DEFAULT_DRAIN_RETRY_MS;
    if (spool.size > 0) {
      this.logger.warn(
        `${spool.size} device message(s) in the local spool from before the restart: draining them to JetStream`,
      );
      this.enterSpooling();
    }
    this.reportHealth();
  }

  private readonly partitions: number;
  /** Appends not settled yet, by msg id: a copy appended meanwhile joins the first. */
  private readonly unsettled = new Map<string, Promise<void>>();

  /**
   * Makes the message durable. A message whose msg id is still on its way (waiting for a publish
   * slot, awaiting its pub ack, or going to the spool) joins that append instead of queueing a
   * second one: after ingest's MQTT connection drops, the broker re-sends everything not yet
   * PUBACKed (the persistent session), and each copy used to queue behind the first ones. Under a
   * backlog (InfluxDB back after 10 minutes at 5,000/s, the broker's in-flight window unbounded)
   * the queue grew with every reconnect, the re-sent head of the session waited behind copies of
   * itself, no PUBACK left before the next drop, and ingest re-received the same 100,000 messages
   * for 20 minutes while the newest 13,882 never arrived (test/faults, 2026-12-08). The copy
   * resolves with the first (the first one's records are the same reading: same device and seq,
   * which JetStream would drop as a duplicate anyway). Counted as `joined`.
   */
  append(message: JournalMessage): Promise<void> {
    const first = this.unsettled.get(message.msgId);
    if (first) {
      this.metrics.published.inc({ outcome: 'joined' });
      return first;
    }
    const durable = this.appendOnce(message);
    this.unsettled.set(message.msgId, durable);
    const settled = () => {
      if (this.unsettled.get(message.msgId) === durable) this.unsettled.delete(message.msgId);
    };
    durable.then(settled, settled);
    return durable;
  }

  private async appendOnce(message: JournalMessage): Promise<void> {
    const entry: SpooledMessage = {
      subject: recordsSubject(partitionOf(message.siteId, this.partitions), message.siteId),
      msgId: message.msgId,
      data: this.encoder.encode(JSON.stringify(message.records)),
    };
    if (this.spooling || this.nc.isClosed()) return this.toSpool(entry);
    await this.slot();
    if (this.spooling) {
      this.release();
      return this.toSpool(entry);
    }
    try {
      const ack = await this.js.publish(entry.subject, entry.data, {
        msgID: entry.msgId,
        timeout: this.publishTimeoutMs,
      });
      this.metrics.published.inc({ outcome: ack.duplicate ? 'duplicate' : 'stored' });
    } catch (error) {
      if (isRefusal(error)) {
        this.refused(entry, error);
        return;
      }
      if (!this.spooling)
        this.logger.warn(
          `JetStream publish failed (${(error as Error).message}): device messages go to the local spool ` +
            `${this.spool.size > 0 ? '' : '(fsync-ed) '}until NATS takes them again (vigil_backbone_spool_messages)`,
        );
      this.enterSpooling();
      await this.toSpool(entry);
    } finally {
      this.release();
    }
  }

  /** Stops draining (the spool keeps what is left for the next start). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.drainTimer);
    while (this.draining) await new Promise(resolve => setTimeout(resolve, 10));
    await this.spool.close();
  }

  /** Whether device messages are currently going to the local spool. */
  get isSpooling(): boolean {
    return this.spooling;
  }

  private async toSpool(entry: SpooledMessage): Promise<void> {
    await this.spool.append(entry);
    this.metrics.published.inc({ outcome: 'spooled' });
    this.updateSpoolGauges();
    this.scheduleDrain(0);
  }

  private enterSpooling(): void {
    if (!this.spooling) {
      this.spooling = true;
      this.reportHealth();
    }
    this.scheduleDrain(this.drainRetryMs);
  }

  private scheduleDrain(delayMs: number): void {
    if (this.closed || this.draining || this.drainTimer) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      void this.drain();
    }, delayMs);
    this.drainTimer.unref();
  }

  private async drain(): Promise<void> {
    if (this.draining || this.closed) return;
    this.draining = true;
    let drained = 0;
    try {
      for (;;) {
        if (this.closed) return;
        const count = await this.spool.drainBatch(DRAIN_BATCH, messages =>
          this.publishAll(messages),
        );
        drained += count;
        this.metrics.published.inc({ outcome: 'drained' }, count);
        this.updateSpoolGauges();
        if (count === 0) break;
      }
      // Empty: new messages go straight to JetStream again (appends racing with this moment
      // land in the spool and start another drain).
      if (this.spooling) {
        this.spooling = false;
        this.logger.log(
          `local spool drained to JetStream (${drained} device message(s) this round): publishing directly again`,
        );
        this.reportHealth();
      }
    } catch (error) {
      this.logger.warn(
        `draining the spool to JetStream failed (${(error as Error).message}); ${this.spool.size} message(s) wait, retrying`,
      );
    } finally {
      this.draining = false;
      if (this.spool.size > 0 || this.spooling) this.scheduleDrain(this.drainRetryMs);
    }
  }

  private async publishAll(messages: readonly SpooledMessage[]): Promise<void> {
    const results = await Promise.allSettled(
      messages.map(entry =>
        this.js.publish(entry.subject, entry.data, {
          msgID: entry.msgId,
          timeout: this.publishTimeoutMs,
        }),
      ),
    );
    for (const [index, result] of results.entries()) {
      if (result.status === 'fulfilled') continue;
      const message = messages[index];
      if (message && isRefusal(result.reason)) this.refused(message, result.reason);
      else throw result.reason;
    }
  }

  /** JetStream refused the message for good (e.g. too large): sending it again cannot help. */
  private refused(entry: SpooledMessage, error: unknown): void {
    this.metrics.published.inc({ outcome: 'failed' });
    this.logger.error(
      `JetStream refused ${entry.msgId} on ${entry.subject} (${entry.data.length} bytes) for good: ${(error as Error).message}`,
    );
  }

  private updateSpoolGauges(): void {
    this.metrics.spoolMessages.set(this.spool.size);
    this.metrics.spoolBytes.set(this.spool.bytes);
  }

  private reportHealth(): void {
    this.updateSpoolGauges();
    this.health?.set(
      'ingest-spool',
      this.spooling
        ? {
            ok: false,
            reason: `NATS unreachable or slow: device messages wait in the local spool (${this.spool.size})`,
            detail: { messages: this.spool.size, bytes: this.spool.bytes },
          }
        : { ok: true },
    );
  }

  private async slot(): Promise<void> {
    while (this.inFlight >= this.maxInFlight)
      await new Promise<void>(resolve => this.slotWaiters.push(resolve));
    this.inFlight += 1;
    this.metrics.publishInFlight.set(this.inFlight);
  }

  private release(): void {
    this.inFlight -= 1;
    this.metrics.publishInFlight.set(this.inFlight);
    this.slotWaiters.shift()?.();
  }
}

/**
 * A JetStream API error that sending again cannot fix (message too large, wrong subject). Time
 * outs, no responders (503) and a closed or reconnecting connection are outages: spooled.
 */
function isRefusal(error: unknown): boolean {
  const api = (error as { api_error?: { err_code?: number; code?: number } })?.api_error;
  if (!api) return false;
  return api.code === 400 || api.err_code === 10054; /* message size */
}
