import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';

import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';

/** What the link needs of the PubackGate: its parked PUBACKs. */
export interface PubackBacklog {
  readonly waiting: number;
  /** When the oldest parked PUBACK's message arrived (ms since the epoch); undefined: none. */
  readonly oldestWaitingSince: number | undefined;
}

/**
 * A PUBACK held longer than this means durability has stalled (the spool's disk, the JetStream
 * pub ack): the broker holds the devices' messages meanwhile, so ingest is not ready. The group
 * fdatasync runs every VIGIL_SPOOL_FSYNC_MS (5 ms), a JetStream ack takes a few ms.
 */
export const PUBACK_PENDING_BOUND_MS = 5_000;

/**
 * How long /readyz says `ingest: false` after the broker lost ingest's persistent session: the
 * messages it had queued for ingest, and what devices published before ingest subscribed again,
 * were acknowledged to the devices and are gone (docs/reliability.md, "The device broker").
 */
export const SESSION_LOST_REPORTED_MS = 5 * 60_000;

export interface IngestBrokerReport {
  readonly ok: boolean;
  readonly reason?: string;
  readonly pubackPending: number;
  readonly oldestPendingMs: number;
  readonly sessionsLost: number;
  readonly lastSessionLostAt?: number;
}

/**
 * Ingest's link to the device broker as /readyz and /metrics see it: the PUBACKs held until their
 * message is durable (how many, the oldest's age: the window in which only the broker has the
 * message), and reconnects on which the broker no longer had ingest's persistent session.
 */
@Injectable()
export class IngestBrokerLink {
  private readonly logger = new Logger('Ingest');
  private backlog: PubackBacklog | undefined;
  private sessionsLost = 0;
  private lastSessionLostAt: number | undefined;

  /** The clock (tests set their own). */
  now: () => number = Date.now;

  constructor(@Inject(VigilMetrics) private readonly metrics: VigilMetrics) {
    const registers = [metrics.registry];
    const pending: Gauge = new Gauge({
      name: 'vigil_ingest_puback_pending',
      help:
        'Device messages received by ingest whose PUBACK to the broker is held until they are ' +
        'durable (bounded by the broker: Mosquitto max_inflight_messages)',
      registers,
      collect: () => pending.set(this.backlog?.waiting ?? 0),
    });
    this.drops = new Counter({
      name: 'vigil_ingest_broker_connection_drops_total',
      help: 'Times ingest lost its MQTT connection while holding PUBACKs of messages not yet durable (the broker re-sends them)',
      registers,
    });
    const oldest: Gauge = new Gauge({
      name: 'vigil_ingest_puback_oldest_pending_seconds',
      help: `Age of the oldest held PUBACK; /readyz reports ingest not ready beyond ${PUBACK_PENDING_BOUND_MS / 1000} s`,
      registers,
      collect: () => oldest.set(this.oldestPendingMs() / 1000),
    });
  }

  /**
   * Ingest's connection to the broker dropped while it held PUBACKs of `forgotten` messages not
   * yet durable: the broker re-sends them all on the persistent session. Counted and logged (rate
   * limited): a connection that keeps dropping under a backlog re-receives the same messages
   * (test/faults 2026-12-08: every ~70 s for 20 minutes, silent but for a few keepalive errors).
   */
  connectionDropped(forgotten: number): void {
    this.drops.inc();
    this.dropsLogged.warn(
      'drop',
      `the connection to the MQTT broker dropped with ${forgotten} device message(s) taken and not yet durable: ` +
        'their PUBACKs were never sent, so the broker re-sends them on the persistent session ' +
        '(vigil_ingest_broker_connection_drops_total)',
    );
  }

  private readonly drops: Counter;
  private readonly dropsLogged = new RateLimitedLogger(this.logger);

  /** The MQTT server's PubackGate (one per connection to the broker). */
  watch(backlog: PubackBacklog | undefined): void {
    this.backlog = backlog;
  }

  /**
   * The broker answered a reconnect with `sessionPresent: false`: it had forgotten ingest's
   * persistent session (restarted without persistence, or expired it). Loud and counted.
   */
  sessionLost(): void {
    this.sessionsLost += 1;
    this.lastSessionLostAt = this.now();
    this.metrics.ingestSessionsLost.inc();
    this.logger.error(
      "the MQTT broker no longer had ingest's persistent session on reconnect: QoS 1 messages " +
        'it had queued for ingest, and those devices published before ingest subscribed again, ' +
        "were acknowledged to the devices and are LOST (how many: the gaps in the devices' seq, " +
        'vigil_ingest_missing_samples_total). Run the broker with persistence ' +
        '(docs/reliability.md, "The device broker")',
    );
  }

  oldestPendingMs(): number {
    const since = this.backlog?.oldestWaitingSince;
    return since === undefined ? 0 : Math.max(0, this.now() - since);
  }

  report(): IngestBrokerReport {
    const oldestPendingMs = this.oldestPendingMs();
    const lost = this.lastSessionLostAt;
    const reasons: string[] = [];
    if (oldestPendingMs > PUBACK_PENDING_BOUND_MS)
      reasons.push(
        `a PUBACK has waited ${Math.round(oldestPendingMs)} ms for its message to be durable (bound ${PUBACK_PENDING_BOUND_MS} ms)`,
      );
    if (lost !== undefined && this.now() - lost < SESSION_LOST_REPORTED_MS)
      reasons.push(
        `the broker lost ingest's persistent session at ${new Date(lost).toISOString()}: messages it had acknowledged to devices may be lost (see vigil_ingest_missing_samples_total)`,
      );
    return {
      ok: reasons.length === 0,
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      pubackPending: this.backlog?.waiting ?? 0,
      oldestPendingMs,
      sessionsLost: this.sessionsLost,
      ...(lost !== undefined ? { lastSessionLostAt: lost } : {}),
    };
  }
}
