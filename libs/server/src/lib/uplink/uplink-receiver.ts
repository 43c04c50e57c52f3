import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';

import {
  UPLINK_MAX_ORDERS,
  type SupervisionOrder,
  type UplinkAck,
  type UplinkBatch,
  type UplinkEnterprise,
} from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig, type UplinkLink } from '../config/vigil-config';
import { JournalStatus } from '../journal/journal-status';
import { JsonlJournal } from '../journal/jsonl-journal';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { UplinkInbox, type InboxJournalLine, type InboxLink } from './uplink-inbox';

export type ReceiveResult =
  | { readonly ok: true; readonly ack: UplinkAck }
  | { readonly ok: false; readonly status: 401 | 403 | 503; readonly message: string };

/**
 * The upper side of the uplink (issue 15): checks a batch's link token (sha256, constant time)
 * against the link of its enterprise code, dedupes by (enterprise code, seq), journals what is
 * new (`<dataDir>/uplink/received.jsonl`, fdatasync'd) and only then applies it to the read model
 * and acknowledges it. Rebuilt from the journal at start, which is compacted to one line per
 * enterprise.
 */
@Injectable()
export class UplinkReceiver implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('UplinkReceiver');
  private readonly inbox = new UplinkInbox();
  private readonly journal: JsonlJournal<InboxJournalLine>;
  private readonly links = new Map<string, { link: UplinkLink; digest: Buffer }>();

  constructor(
    @Inject(VIGIL_CONFIG) config: VigilConfig,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(RegistryHolder) registry: RegistryHolder,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
  ) {
    // A link under a node this Vigil does not have would be invisible to everybody: refused.
    const missing = config.uplink.links.filter(
      link => registry.current.orgPath(link.node).length === 0,
    );
    if (missing.length > 0)
      throw new Error(
        `VIGIL_UPLINK_LINKS: ${missing.map(link => `${link.enterpriseCode} names node "${link.node}"`).join(', ')}, not a node of this Vigil's organisation tree`,
      );
    for (const link of config.uplink.links)
      this.links.set(link.enterpriseCode, { link, digest: Buffer.from(link.tokenSha256, 'hex') });
    this.journal = new JsonlJournal(join(config.dataDir, 'uplink', 'received.jsonl'), {
      name: 'uplink-received',
      status: journalStatus,
    });
  }

  onModuleInit(): void {
    let steps = 0;
    const { skipped } = this.journal.replay(line => {
      if (line.t === 'state') this.inbox.restore(line.enterprise);
      else if (line.t === 'order') this.inbox.addOrder(line.order);
      else {
        steps += 1;
        this.inbox.apply(line);
      }
    });
    this.journal.compact(this.inbox.snapshot());
    this.logger.log(
      `uplink: ${this.links.size} link(s) accepted; journal ${this.journal.path}: ${steps} step(s) replayed` +
        (skipped > 0 ? `, ${skipped} torn line(s) skipped` : ''),
    );
  }

  onModuleDestroy(): void {
    this.journal.close();
  }

  /** The link whose token `token` is, for the batch's enterprise; undefined when not. */
  authorised(enterpriseCode: string, token: string | undefined): InboxLink | undefined {
    const entry = this.links.get(enterpriseCode);
    if (!entry || token === undefined) return undefined;
    const digest = createHash('sha256').update(token).digest();
    return timingSafeEqual(digest, entry.digest) ? entry.link : undefined;
  }

  /** Whether any link has this token (a token for another enterprise is 403, not 401). */
  private knownToken(token: string | undefined): boolean {
    if (token === undefined) return false;
    const digest = createHash('sha256').update(token).digest();
    return [...this.links.values()].some(entry => timingSafeEqual(digest, entry.digest));
  }

  receive(batch: UplinkBatch, token: string | undefined): ReceiveResult {
    if (!this.authorised(batch.enterpriseCode, token)) {
      const known = this.knownToken(token);
      this.metrics.uplinkRefusedBatches.inc({ reason: known ? 'enterprise' : 'token' });
      return known
        ? {
            ok: false,
            status: 403,
            message: `this link's token is not the token of enterprise ${batch.enterpriseCode}`,
          }
        : { ok: false, status: 401, message: 'unknown link token' };
    }
    const step = this.inbox.plan(batch, Date.now());
    try {
      // Durable before acknowledged: an ack the upper could take back would lose the items.
      if (step.items.length > 0 || step.gap) this.journal.append([{ t: 'step', ...step }]);
    } catch (error) {
      this.metrics.uplinkRefusedBatches.inc({ reason: 'journal' });
      return { ok: false, status: 503, message: (error as Error).message };
    }
    this.inbox.apply(step);
    const ack = this.inbox.ackOf(batch, step);
    this.metrics.uplinkReceived.inc({ outcome: 'stored' }, ack.accepted);
    this.metrics.uplinkReceived.inc({ outcome: 'duplicate' }, ack.duplicates);
    const heldBack = batch.items.length - ack.accepted - ack.duplicates;
    if (heldBack > 0) this.metrics.uplinkReceived.inc({ outcome: 'held-back' }, heldBack);
    if (step.gap) {
      this.metrics.uplinkGaps.inc(step.gap.to - step.gap.from + 1);
      this.logger.error(
        `uplink: enterprise ${batch.enterpriseCode} no longer holds seqs ${step.gap.from}..${step.gap.to}, which this Vigil had acknowledged and lost; recorded as a gap`,
      );
    }
    return { ok: true, ack };
  }

  /** The link of an enterprise (no secret), if this Vigil accepts it. */
  link(enterpriseCode: string): InboxLink | undefined {
    return this.links.get(enterpriseCode)?.link;
  }

  /**
   * Records a supervision order (挂牌督办) to an enterprise below, durably, for its Vigil to fetch;
   * the caller has checked that `issuedBy` may issue it there. Throws JournalWriteError when the
   * disk refuses (the order was not issued).
   */
  issueOrder(
    enterpriseCode: string,
    body: Pick<SupervisionOrder, 'title' | 'text' | 'hazardId' | 'deadline'> & {
      readonly kind?: 'approve';
    },
    issuedBy: { readonly id: string; readonly scope: string; readonly role?: string },
  ): SupervisionOrder {
    const order: SupervisionOrder = {
      seq: this.inbox.nextOrderSeq(enterpriseCode),
      id: randomUUID(),
      ...(body.kind !== undefined ? { kind: body.kind } : {}),
      enterpriseCode,
      title: body.title,
      text: body.text,
      ...(body.hazardId !== undefined ? { hazardId: body.hazardId } : {}),
      ...(body.deadline !== undefined ? { deadline: body.deadline } : {}),
      issuedBy: issuedBy.id,
      issuedByNode: issuedBy.scope,
      ...(issuedBy.role !== undefined ? { issuedByRole: issuedBy.role } : {}),
      issuedAt: Date.now(),
    };
    this.journal.append([{ t: 'order', order }]);
    this.inbox.addOrder(order);
    this.logger.log(
      `supervision order ${order.seq} to ${enterpriseCode} by ${issuedBy.id}: ${order.title}`,
    );
    return order;
  }

  /**
   * Approves a major hazard of an enterprise below (the caller has checked the user's role and
   * scope): refused 404/409 when the read model says the hazard is unknown, not major, not
   * accepted, already approved or an approval is already on its way; else recorded durably as an
   * order of kind `approve`, which the lower fetches with its orders and applies as the hazard's
   * `approve` step. Throws JournalWriteError when the disk refuses (nothing was recorded).
   */
  approveHazard(
    enterpriseCode: string,
    hazardId: string,
    note: string | undefined,
    user: { readonly id: string; readonly scope: string; readonly role: string },
  ): { ok: true; order: SupervisionOrder } | { ok: false; status: 404 | 409; message: string } {
    const refusal = this.inbox.approvalRefusal(enterpriseCode, hazardId);
    if (refusal) return { ok: false, ...refusal };
    const hazard = this.inbox
      .view({ enterpriseCode, name: '', node: '' })
      .hazards.find(other => other.hazardId === hazardId);
    const order = this.issueOrder(
      enterpriseCode,
      {
        kind: 'approve',
        title: `重大隐患 No. ${hazard?.no ?? '?'} 批准销号: ${hazard?.title ?? hazardId}`.slice(
          0,
          200,
        ),
        text: note ?? '',
        hazardId,
      },
      user,
    );
    return { ok: true, order };
  }

  /** The orders a lower fetches with its link token: those after `after`, oldest first. */
  ordersFor(
    enterpriseCode: string,
    token: string | undefined,
    after: number,
  ): { ok: true; orders: SupervisionOrder[] } | { ok: false; status: 401 | 403; message: string } {
    if (!this.authorised(enterpriseCode, token)) {
      const known = this.knownToken(token);
      this.metrics.uplinkRefusedBatches.inc({ reason: known ? 'enterprise' : 'token' });
      return known
        ? { ok: false, status: 403, message: `not the token of enterprise ${enterpriseCode}` }
        : { ok: false, status: 401, message: 'unknown link token' };
    }
    return { ok: true, orders: this.inbox.ordersAfter(enterpriseCode, after, UPLINK_MAX_ORDERS) };
  }

  /** Every link's enterprise, with what it sent (the caller filters by scope). */
  enterprises(): UplinkEnterprise[] {
    return [...this.links.values()].map(({ link }) => this.inbox.view(link));
  }
}
