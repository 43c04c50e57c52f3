import { join } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';

import {
  UPLINK_MAX_ORDERS,
  supervisionOrderSchema,
  type SupervisionOrder,
  type UplinkAck,
  type UplinkBatch,
  type UplinkItemBody,
  type UplinkStatus,
} from '@vigil/contracts';

import { AlarmView } from '../alarms/alarm-view';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { LiveDevices } from '../console-api/live-devices';
import { HazardService } from '../hazards/hazard.service';
import { JournalStatus } from '../journal/journal-status';
import { JsonlJournal } from '../journal/jsonl-journal';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { alarmItem, hazardItem, realtimeItem } from './uplink-items';
import { UplinkOutbox } from './uplink-outbox';

const POST_TIMEOUT_MS = 10_000;
const MIN_BACKOFF_MS = 500;
/** A batch's items in bytes of JSON at most (the envelope adds under 300 bytes). */
const MAX_BATCH_BYTES = 90_000;
/** The outbox this full (of its capacity) is reported as degraded before it refuses anything. */
const NEARLY_FULL = 0.9;

type Lower = NonNullable<VigilConfig['uplink']['lower']>;

/**
 * The lower side of the uplink (issue 15): every alarm transition and hazard step this gateway
 * hears, and a sample of the major-hazard units' latest values every VIGIL_UPLINK_SAMPLE_MS, go
 * into the durable outbox (`<dataDir>/uplink/outbox.jsonl`); one batch at a time is posted to
 * the upper's `POST /api/v1/uplink/batches` with the link token; what the upper acknowledges is
 * removed, everything else is posted again after a backoff (500 ms doubling to
 * VIGIL_UPLINK_RETRY_MAX_MS). Failures, a backlog and refused items are counted, logged
 * (rate-limited) and shown on /readyz and the console until they end.
 */
@Injectable()
export class UplinkForwarder implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Uplink');
  private readonly warnings = new RateLimitedLogger(this.logger, 3, 60_000);
  /** Refused items are errors, rate-limited so that a full outbox cannot flood the log. */
  private readonly errors = new RateLimitedLogger(
    { warn: (message: string) => this.logger.error(message) },
    5,
    60_000,
  );
  private lastRefusedAt: number | undefined;
  private readonly lower: Lower;
  readonly outbox: UplinkOutbox;
  private readonly detach: (() => void)[] = [];
  private inFlight = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private sampleTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private consecutiveFailures = 0;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private readonly dropped: Record<string, number> = {};
  /** Supervision orders fetched from the upper (挂牌督办), durable in `orders.jsonl`. */
  private readonly ordersJournal: JsonlJournal<SupervisionOrder>;
  private readonly orderList: SupervisionOrder[] = [];
  private ordersTimer: NodeJS.Timeout | undefined;
  private fetchingOrders = false;
  private lastOrdersError: string | undefined;
  /** `siteId/unitId` → device time of the newest reading already sampled. */
  private readonly sampledUpTo = new Map<string, number>();

  constructor(
    @Inject(VIGIL_CONFIG) config: VigilConfig,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(LiveDevices) private readonly live: LiveDevices,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
  ) {
    if (!config.uplink.lower) throw new Error('UplinkForwarder without VIGIL_UPLINK_URL');
    this.lower = config.uplink.lower;
    this.outbox = new UplinkOutbox(join(config.dataDir, 'uplink', 'outbox.jsonl'), {
      capacity: this.lower.outboxMax,
      status: journalStatus,
    });
    this.ordersJournal = new JsonlJournal(join(config.dataDir, 'uplink', 'orders.jsonl'), {
      name: 'uplink-orders',
      status: journalStatus,
    });
  }

  onModuleInit(): void {
    const byId = new Map<string, SupervisionOrder>();
    this.ordersJournal.replay(order => byId.set(order.id, order));
    this.orderList.push(...[...byId.values()].sort((a, b) => a.seq - b.seq));
    this.ordersJournal.compact(this.orderList);
    const { pending, skipped } = this.outbox.open();
    this.logger.log(
      `uplink to ${this.lower.url} as ${this.lower.enterpriseCode}: outbox ${this.outbox.path}, ` +
        `${pending} item(s) waiting (seq ${this.outbox.ackedSeq + 1}..${this.outbox.lastSeq})` +
        (skipped > 0 ? `, ${skipped} torn line(s) skipped` : ''),
    );
    // Subscribed here, before the pipeline starts: every transition from now on is forwarded.
    this.detach.push(
      this.alarms.onUpdates(updates =>
        this.enqueue(
          updates.map(({ alarm, action }) => alarmItem(this.registry.current, alarm, action)),
        ),
      ),
      this.hazards.onSteps(steps =>
        this.enqueue(
          steps
            .filter(({ hazard }) => hazard.history.length > this.outbox.hazardStep(hazard.id))
            .map(({ hazard, action }) =>
              hazardItem(this.registry.current, hazard, action, hazard.history.length),
            ),
        ),
      ),
    );
    this.metrics.uplinkBacklog.set(this.outbox.size);
  }

  onApplicationBootstrap(): void {
    this.reconcileHazards();
    if (this.lower.sampleMs > 0) {
      this.sampleTimer = setInterval(() => this.sample(Date.now()), this.lower.sampleMs);
      this.sampleTimer.unref();
    }
    this.lagTimer = setInterval(() => this.updateLag(Date.now()), 1000);
    this.lagTimer.unref();
    this.ordersTimer = setInterval(() => void this.fetchOrders(), this.lower.ordersPollMs);
    this.ordersTimer.unref();
    void this.fetchOrders();
    this.pump();
  }

  private updateLag(now: number): void {
    const oldest = this.outbox.oldest;
    this.metrics.uplinkLag.set(oldest ? Math.max(0, (now - oldest.at) / 1000) : 0);
    this.metrics.uplinkBacklog.set(this.outbox.size);
  }

  onModuleDestroy(): void {
    clearInterval(this.lagTimer);
    clearInterval(this.ordersTimer);
    this.ordersJournal.close();
    this.stopped = true;
    for (const detach of this.detach) detach();
    clearInterval(this.sampleTimer);
    clearTimeout(this.retryTimer);
    this.outbox.close();
  }

  /**
   * Forwards the steps of the ledger the outbox never numbered: the whole ledger when the uplink
   * is first set up, and a step whose process died between the hazard journal's fdatasync and
   * the outbox's. Each step once: the outbox remembers per hazard the newest step it numbered.
   */
  reconcileHazards(): void {
    const missing: UplinkItemBody[] = [];
    for (const hazard of this.hazards.list()) {
      const sent = this.outbox.hazardStep(hazard.id);
      hazard.history
        .slice(sent)
        .forEach((action, index) =>
          missing.push(hazardItem(this.registry.current, hazard, action, sent + index + 1)),
        );
    }
    if (missing.length === 0) return;
    this.logger.warn(
      `uplink: ${missing.length} step(s) of the hazard ledger not yet forwarded; queued`,
    );
    this.enqueue(missing);
  }

  /** What /readyz, the heartbeat and the metrics show. */
  status(): UplinkStatus {
    const oldest = this.outbox.oldest;
    const refused = Object.values(this.dropped).reduce((sum, n) => sum + n, 0);
    return {
      // Refused items make it not ok until the upper next acknowledges a batch (they stay counted
      // in `dropped` and vigil_uplink_items_total{outcome="refused"}).
      ok:
        this.consecutiveFailures === 0 &&
        (refused === 0 ||
          (this.lastRefusedAt ?? 0) < (this.lastSuccessAt ?? Number.NEGATIVE_INFINITY)) &&
        this.outbox.size < this.outbox.capacity * NEARLY_FULL,
      url: this.lower.url,
      enterpriseCode: this.lower.enterpriseCode,
      backlog: this.outbox.size,
      capacity: this.outbox.capacity,
      oldestPendingAt: oldest?.at,
      lastSeq: this.outbox.lastSeq,
      ackedSeq: this.outbox.ackedSeq,
      lastSuccessAt: this.lastSuccessAt,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      dropped: { ...this.dropped },
    };
  }

  /** The supervision orders received from the upper, newest first. */
  orders(): SupervisionOrder[] {
    return [...this.orderList].reverse();
  }

  /**
   * Asks the upper for the orders after the newest held, stores them durably, then shows them.
   * A failure is logged (rate-limited) and tried again at the next poll.
   */
  async fetchOrders(): Promise<void> {
    if (this.fetchingOrders || this.stopped) return;
    this.fetchingOrders = true;
    try {
      for (let round = 0; round < 100; round += 1) {
        const after = this.orderList[this.orderList.length - 1]?.seq ?? 0;
        const url = new URL(`${this.lower.url}/api/v1/uplink/links/orders`);
        url.searchParams.set('enterpriseCode', this.lower.enterpriseCode);
        url.searchParams.set('after', String(after));
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${this.lower.token}` },
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
        const parsed = supervisionOrderSchema
          .array()
          .max(UPLINK_MAX_ORDERS)
          .safeParse((JSON.parse(text) as { orders?: unknown }).orders);
        if (!parsed.success)
          throw new Error(`the upper's orders do not parse: ${parsed.error.message}`);
        const fresh = parsed.data.filter(
          order => order.seq > after && order.enterpriseCode === this.lower.enterpriseCode,
        );
        if (fresh.length === 0) break;
        // Approvals first become the hazard's step (durable) and their outcome an outbox item,
        // then the order is journaled: a crash in between fetches it again, and the hazard's
        // history (the step names the order) answers it without a second approval.
        this.applyApprovals(fresh);
        this.ordersJournal.append(fresh);
        this.orderList.push(...fresh.sort((a, b) => a.seq - b.seq));
        for (const order of fresh.filter(held => held.kind !== 'approve'))
          this.logger.warn(
            `supervision order (挂牌督办) No. ${order.seq} from ${order.issuedBy} (${order.issuedByNode}): ${order.title}`,
          );
      }
      this.lastOrdersError = undefined;
    } catch (error) {
      this.lastOrdersError = (error as Error).message;
      this.warnings.warn(
        'uplink-orders',
        `uplink: fetching supervision orders failed (${this.lastOrdersError})`,
      );
    } finally {
      this.fetchingOrders = false;
    }
  }

  /**
   * Applies each approval (an order of kind `approve`) as its hazard's `approve` step signed
   * `<issuedByNode>:<issuedBy>` and queues what became of it for the upper (an `outcome` item):
   * `applied` (also when the history already holds this order's step), or `refused` with the
   * ledger's reason (the hazard changed meanwhile), logged as an error. Throws when the ledger's
   * journal refuses the step (the order is fetched again at the next poll).
   */
  private applyApprovals(orders: readonly SupervisionOrder[]): void {
    const outcomes: UplinkItemBody[] = [];
    for (const order of orders) {
      if (order.kind !== 'approve') continue;
      const by = `${order.issuedByNode}:${order.issuedBy}`.slice(0, 64);
      const result =
        order.hazardId === undefined
          ? { ok: false as const, message: 'the approval names no hazard' }
          : this.hazards.approveFromUpper(
              order.hazardId,
              { orderId: order.id, by, role: order.issuedByRole ?? 'supervisor' },
              order.text || undefined,
            );
      if (result.ok)
        this.logger.warn(
          `hazard No. ${result.hazard.no} approved from above by ${by} (order ${order.seq})`,
        );
      else
        this.logger.error(
          `approval ${order.seq} of hazard ${order.hazardId ?? '?'} by ${by} from the upper refused: ${result.message}`,
        );
      outcomes.push({
        kind: 'outcome',
        orderId: order.id,
        orderSeq: order.seq,
        outcome: result.ok ? 'applied' : 'refused',
        ...(result.ok ? {} : { message: result.message.slice(0, 500) }),
        ...(order.hazardId !== undefined ? { hazardId: order.hazardId } : {}),
        at: Date.now(),
      });
    }
    this.enqueue(outcomes);
  }

  /** Samples every major-hazard unit's tanks that reported since the last sample. */
  sample(now: number): void {
    const items: UplinkItemBody[] = [];
    const registry = this.registry.current;
    for (const site of registry.sites) {
      const units = site.hazardUnits ?? [];
      if (units.length === 0) continue;
      const devices = registry.devices.filter(device => device.siteId === site.id);
      for (const unit of units) {
        const tanks = devices
          .filter(device => device.attributes['unit'] === unit.id)
          .map(device => device.deviceId);
        const key = `${site.id}/${unit.id}`;
        const since = this.sampledUpTo.get(key) ?? 0;
        const item = realtimeItem(
          site.id,
          unit,
          tanks,
          deviceId => {
            const device = this.live.get(site.id, deviceId);
            return device ? { ts: device.lastReadingTs, values: device.values } : undefined;
          },
          since,
          now,
        );
        if (!item || item.kind !== 'realtime') continue;
        this.sampledUpTo.set(key, Math.max(since, ...item.points.map(point => point.time)));
        items.push(item);
      }
    }
    this.enqueue(items);
  }

  private enqueue(items: readonly UplinkItemBody[]): void {
    if (items.length === 0 || this.stopped) return;
    try {
      const { queued, refused } = this.outbox.enqueue(items);
      for (const item of queued)
        this.metrics.uplinkItems.inc({ kind: item.kind, outcome: 'queued' });
      if (refused.length > 0) this.refuse(refused, `the outbox is full (${this.outbox.capacity})`);
    } catch (error) {
      // The outbox's journal counted it (JournalStatus, /readyz `journals`); here it is lost upward.
      this.refuse(items, `the outbox could not store them: ${(error as Error).message}`);
    }
    this.metrics.uplinkBacklog.set(this.outbox.size);
    this.pump();
  }

  /** Items the upper will never get: counted by kind, logged, shown until restart. */
  private refuse(items: readonly UplinkItemBody[], why: string): void {
    for (const item of items) {
      this.dropped[item.kind] = (this.dropped[item.kind] ?? 0) + 1;
      this.metrics.uplinkItems.inc({ kind: item.kind, outcome: 'refused' });
    }
    this.lastError = `${items.length} item(s) NOT forwarded: ${why}`;
    this.lastRefusedAt = Date.now();
    this.errors.warn('uplink-refused', `uplink: ${this.lastError}`);
  }

  private backoffMs(): number {
    return Math.min(
      this.lower.retryMaxMs,
      MIN_BACKOFF_MS * 2 ** Math.min(20, this.consecutiveFailures - 1),
    );
  }

  private pump(): void {
    if (this.inFlight || this.retryTimer !== undefined || this.stopped || this.outbox.size === 0)
      return;
    // Bounded in bytes too (UTF-8: a Chinese character is 3): the upper's JSON body parser takes
    // 100 kB (Express's default), and a 413 would be retried for ever.
    const items = [];
    let bytes = 0;
    for (const item of this.outbox.peek(this.lower.batch)) {
      bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
      if (items.length > 0 && bytes > MAX_BATCH_BYTES) break;
      items.push(item);
    }
    const batch: UplinkBatch = {
      version: 1,
      enterpriseCode: this.lower.enterpriseCode,
      ...(this.lower.enterpriseName !== undefined
        ? { enterpriseName: this.lower.enterpriseName }
        : {}),
      sentAt: Date.now(),
      items,
    };
    this.inFlight = true;
    void this.post(batch).then(outcome => {
      this.inFlight = false;
      if (this.stopped) return;
      if (outcome.ok) this.succeeded(outcome.ack, items.length);
      else this.failed(outcome.error);
    });
  }

  private succeeded(ack: UplinkAck, posted: number): void {
    if (ack.acked > this.outbox.lastSeq) {
      // The upper holds more than this outbox ever numbered: the outbox began again (lost data
      // directory). Without this, the upper would take every new item for a duplicate.
      try {
        const renumbered = this.outbox.rebase(ack.acked);
        this.logger.error(
          `uplink: the upper already holds seq ${ack.acked}, beyond this outbox's newest; the outbox started again from nothing (data directory lost?). ${renumbered} waiting item(s) renumbered from ${ack.acked + 1}`,
        );
      } catch (error) {
        this.failed(`renumbering the outbox failed: ${(error as Error).message}`);
        return;
      }
      this.pump();
      return;
    }
    const acked = ack.acked;
    const before = this.outbox.peek(posted);
    try {
      this.outbox.ack(acked);
    } catch (error) {
      this.failed(`acknowledgement not recorded: ${(error as Error).message}`);
      return;
    }
    for (const item of before)
      if (item.seq <= acked) this.metrics.uplinkItems.inc({ kind: item.kind, outcome: 'sent' });
    if (ack.gap)
      this.logger.warn(
        `uplink: the upper had lost seqs ${ack.gap.from}..${ack.gap.to} it had acknowledged; it records the gap`,
      );
    this.metrics.uplinkPosts.inc({ outcome: 'ok' });
    this.metrics.uplinkBacklog.set(this.outbox.size);
    this.lastSuccessAt = Date.now();
    this.metrics.uplinkLastSuccess.set(this.lastSuccessAt / 1000);
    if (this.consecutiveFailures > 0)
      this.logger.warn(
        `uplink to ${this.lower.url} works again after ${this.consecutiveFailures} failed post(s); ${this.outbox.size} item(s) still waiting`,
      );
    this.consecutiveFailures = 0;
    this.lastError = undefined;
    if (acked < (before[0]?.seq ?? 0)) {
      // The upper took nothing of it (a hole it waits to be filled): not a success to loop on.
      this.failed(`the upper acknowledged ${ack.acked}, below the batch's first seq`);
      return;
    }
    this.pump();
  }

  private failed(error: string): void {
    this.consecutiveFailures += 1;
    this.lastError = error;
    this.metrics.uplinkPosts.inc({ outcome: 'failed' });
    const wait = this.backoffMs();
    this.warnings.warn(
      'uplink-failed',
      `uplink to ${this.lower.url} failed (${error}); ${this.outbox.size} item(s) waiting, retry in ${wait} ms`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, wait);
    this.retryTimer.unref();
  }

  private async post(
    batch: UplinkBatch,
  ): Promise<{ ok: true; ack: UplinkAck } | { ok: false; error: string }> {
    try {
      const response = await fetch(`${this.lower.url}/api/v1/uplink/batches`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.lower.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok)
        return { ok: false, error: `HTTP ${response.status}: ${text.slice(0, 300)}` };
      const ack = JSON.parse(text) as Partial<UplinkAck>;
      if (typeof ack.acked !== 'number' || !Number.isInteger(ack.acked) || ack.acked < 0)
        return { ok: false, error: `the upper's answer has no acked seq: ${text.slice(0, 300)}` };
      return { ok: true, ack: ack as UplinkAck };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { ok: false, error: `${(error as Error).message}${cause ? ` (${cause})` : ''}` };
    }
  }
}
