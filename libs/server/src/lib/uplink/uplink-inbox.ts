import {
  UPLINK_STEPS_KEPT,
  type UplinkAck,
  type UplinkAlarm,
  type UplinkBatch,
  type UplinkEnterprise,
  type UplinkHazard,
  type UplinkItem,
  type UplinkRealtime,
  type UplinkStep,
  type SupervisionOrder,
} from '@vigil/contracts';

/** Closed alarms kept per enterprise in the read model (the open ones are all kept). */
export const CLOSED_ALARMS_KEPT = 500;
/** Hazards kept per enterprise (closed ones beyond it go first, oldest first). */
export const HAZARDS_KEPT = 20_000;
/** Gaps remembered per enterprise. */
const GAPS_KEPT = 100;
/** Supervision orders kept per enterprise (the newest). */
export const ORDERS_KEPT = 1000;

/** The link a batch came over (the upper's VIGIL_UPLINK_LINKS entry), without its secret. */
export interface InboxLink {
  readonly enterpriseCode: string;
  readonly name: string;
  readonly node: string;
}

/** What one batch changes, decided before anything is stored. */
export interface InboxStep {
  readonly enterpriseCode: string;
  /** The items to store: those after the acknowledged seq, contiguous. */
  readonly items: readonly UplinkItem[];
  readonly acked: number;
  readonly gap?: { readonly from: number; readonly to: number } | undefined;
  readonly at: number;
}

/** One line of the upper's uplink journal: a step, or one enterprise's state after compaction. */
export type InboxJournalLine =
  | ({ readonly t: 'step' } & InboxStep)
  | { readonly t: 'state'; readonly enterprise: EnterpriseState }
  | { readonly t: 'order'; readonly order: SupervisionOrder };

export interface EnterpriseState {
  enterpriseCode: string;
  acked: number;
  lastReceivedAt: number | undefined;
  gaps: { from: number; to: number; at: number }[];
  received: { realtime: number; alarm: number; hazard: number; outcome: number };
  alarms: (UplinkAlarm & { steps: UplinkStep[] })[];
  hazards: (UplinkHazard & { steps: UplinkStep[] })[];
  realtime: UplinkRealtime[];
  orders: SupervisionOrder[];
  /** The newest order's seq (orders beyond ORDERS_KEPT are gone, their numbers are not reused). */
  lastOrderSeq: number;
}

const OPEN_ALARM = (alarm: UplinkAlarm) => alarm.state !== 'normal';

/**
 * The upper side's memory of the enterprises below it (pure, no I/O): which seq each has
 * acknowledged, and its latest alarms, hazards and major-hazard samples. `plan` decides what a
 * batch adds (dedupe by (enterprise code, seq): items at or below the acknowledged seq are
 * duplicates; storing stops at the first hole, so the acknowledgement is always the highest
 * contiguous seq); the caller makes the step durable, then `apply`s it and answers `ackOf`.
 *
 * A batch whose first item lies beyond acked + 1 means the lower no longer holds the seqs in
 * between: it deletes only what an upper acknowledged, so this upper has lost what it had
 * acknowledged (restored from an old backup, data directory lost). The step records the gap
 * (counted, listed on the enterprise) and carries on from there rather than wait forever.
 */
export class UplinkInbox {
  private readonly enterprises = new Map<string, EnterpriseState>();

  plan(batch: UplinkBatch, now: number): InboxStep {
    const state = this.enterprises.get(batch.enterpriseCode);
    let acked = state?.acked ?? 0;
    const sorted = [...batch.items].sort((a, b) => a.seq - b.seq);
    const first = sorted.find(item => item.seq > acked);
    let gap: InboxStep['gap'];
    if (first && first.seq > acked + 1 && first.seq === sorted[0]?.seq) {
      gap = { from: acked + 1, to: first.seq - 1 };
      acked = first.seq - 1;
    }
    const items: UplinkItem[] = [];
    for (const item of sorted) {
      if (item.seq <= acked) continue;
      if (item.seq !== acked + 1) break;
      items.push(item);
      acked = item.seq;
    }
    return { enterpriseCode: batch.enterpriseCode, items, acked, gap, at: now };
  }

  /** The answer to a batch once its step is durable. */
  ackOf(batch: UplinkBatch, step: InboxStep): UplinkAck {
    return {
      acked: step.acked,
      accepted: step.items.length,
      duplicates: batch.items.filter(item => item.seq <= ackedBefore(step)).length,
      ...(step.gap ? { gap: step.gap } : {}),
    };
  }

  apply(step: InboxStep): void {
    const state = this.state(step.enterpriseCode);
    if (step.gap) {
      state.gaps.push({ ...step.gap, at: step.at });
      if (state.gaps.length > GAPS_KEPT) state.gaps.splice(0, state.gaps.length - GAPS_KEPT);
    }
    state.acked = Math.max(state.acked, step.acked);
    if (step.items.length > 0) state.lastReceivedAt = step.at;
    for (const item of step.items) this.fold(state, item);
  }

  /** The seq the next order to `enterpriseCode` gets. */
  nextOrderSeq(enterpriseCode: string): number {
    return (this.enterprises.get(enterpriseCode)?.lastOrderSeq ?? 0) + 1;
  }

  /** Records an order (already durable). */
  addOrder(order: SupervisionOrder): void {
    const state = this.state(order.enterpriseCode);
    if (order.seq <= state.lastOrderSeq) return;
    state.orders.push(order);
    state.lastOrderSeq = order.seq;
    if (state.orders.length > ORDERS_KEPT)
      state.orders.splice(0, state.orders.length - ORDERS_KEPT);
  }

  /**
   * Why the upper cannot approve this hazard of `enterpriseCode` now (its read model of the
   * lower's ledger), or undefined: 404 unknown, 409 not major, not accepted, already approved
   * or an approval already on its way down (not yet answered).
   */
  approvalRefusal(
    enterpriseCode: string,
    hazardId: string,
  ): { status: 404 | 409; message: string } | undefined {
    const state = this.enterprises.get(enterpriseCode);
    const hazard = state?.hazards.find(other => other.hazardId === hazardId);
    if (!state || !hazard)
      return { status: 404, message: `no hazard ${hazardId} of enterprise ${enterpriseCode} here` };
    if (hazard.level !== 'major')
      return { status: 409, message: `hazard No. ${hazard.no} is not major: it needs no approval` };
    const approved = hazard.steps.find(step => step.transition === 'approve');
    if (approved)
      return {
        status: 409,
        message: `hazard No. ${hazard.no} is already approved by ${approved.by ?? 'someone'}`,
      };
    if (hazard.state !== 'accepted')
      return {
        status: 409,
        message: `hazard No. ${hazard.no} is ${hazard.state}: approval comes after acceptance`,
      };
    const pending = state.orders.find(
      order => order.kind === 'approve' && order.hazardId === hazardId && !order.outcome,
    );
    if (pending)
      return {
        status: 409,
        message: `hazard No. ${hazard.no}: approval ${pending.seq} by ${pending.issuedBy} is on its way down, not yet answered`,
      };
    return undefined;
  }

  /** Orders to `enterpriseCode` after `after`, oldest first, at most `max`. */
  ordersAfter(enterpriseCode: string, after: number, max: number): SupervisionOrder[] {
    const orders = this.enterprises.get(enterpriseCode)?.orders ?? [];
    return orders.filter(order => order.seq > after).slice(0, max);
  }

  /** Restores an enterprise from a compacted journal line. */
  restore(enterprise: EnterpriseState): void {
    this.enterprises.set(enterprise.enterpriseCode, {
      ...enterprise,
      received: { ...enterprise.received, outcome: enterprise.received.outcome ?? 0 },
      orders: enterprise.orders ?? [],
      lastOrderSeq: enterprise.lastOrderSeq ?? 0,
    });
  }

  /** One line per enterprise: what a compaction writes. */
  snapshot(): InboxJournalLine[] {
    return [...this.enterprises.values()].map(enterprise => ({ t: 'state', enterprise }));
  }

  acked(enterpriseCode: string): number {
    return this.enterprises.get(enterpriseCode)?.acked ?? 0;
  }

  view(link: InboxLink): UplinkEnterprise {
    const state = this.enterprises.get(link.enterpriseCode);
    return {
      enterpriseCode: link.enterpriseCode,
      name: link.name,
      node: link.node,
      acked: state?.acked ?? 0,
      lastReceivedAt: state?.lastReceivedAt,
      gaps: state?.gaps ?? [],
      received: state ? { ...state.received } : { realtime: 0, alarm: 0, hazard: 0, outcome: 0 },
      alarms: state ? [...state.alarms].sort((a, b) => a.priority - b.priority || b.at - a.at) : [],
      hazards: state ? [...state.hazards].sort((a, b) => b.no - a.no) : [],
      realtime: state?.realtime ?? [],
      orders: state?.orders ?? [],
    };
  }

  private state(enterpriseCode: string): EnterpriseState {
    let state = this.enterprises.get(enterpriseCode);
    if (!state) {
      state = {
        enterpriseCode,
        acked: 0,
        lastReceivedAt: undefined,
        gaps: [],
        received: { realtime: 0, alarm: 0, hazard: 0, outcome: 0 },
        alarms: [],
        hazards: [],
        realtime: [],
        orders: [],
        lastOrderSeq: 0,
      };
      this.enterprises.set(enterpriseCode, state);
    }
    return state;
  }

  private fold(state: EnterpriseState, item: UplinkItem): void {
    state.received[item.kind] += 1;
    if (item.kind === 'outcome') {
      // The lower's answer to an approval: shown on the order (a repeated answer replaces it).
      const index = state.orders.findIndex(order => order.id === item.orderId);
      const order = state.orders[index];
      if (order)
        state.orders[index] = {
          ...order,
          outcome: {
            outcome: item.outcome,
            ...(item.message !== undefined ? { message: item.message } : {}),
            at: item.at,
          },
        };
    } else if (item.kind === 'realtime') {
      replaceBy(state.realtime, item, other => other.hazardSourceCode === item.hazardSourceCode);
    } else if (item.kind === 'alarm') {
      const before = state.alarms.find(other => other.alarmId === item.alarmId);
      replaceBy(
        state.alarms,
        { ...item, steps: withStep(before?.steps, item) },
        other => other.alarmId === item.alarmId,
      );
      const closed = state.alarms.filter(alarm => !OPEN_ALARM(alarm));
      if (closed.length > CLOSED_ALARMS_KEPT) {
        const drop = new Set(
          closed
            .sort((a, b) => a.at - b.at)
            .slice(0, closed.length - CLOSED_ALARMS_KEPT)
            .map(alarm => alarm.alarmId),
        );
        state.alarms = state.alarms.filter(alarm => !drop.has(alarm.alarmId));
      }
    } else {
      const before = state.hazards.find(other => other.hazardId === item.hazardId);
      replaceBy(
        state.hazards,
        { ...item, steps: withStep(before?.steps, item) },
        other => other.hazardId === item.hazardId,
      );
      if (state.hazards.length > HAZARDS_KEPT) {
        const closed = state.hazards
          .filter(hazard => hazard.state === 'closed')
          .sort((a, b) => a.no - b.no);
        const drop = new Set(
          closed.slice(0, state.hazards.length - HAZARDS_KEPT).map(hazard => hazard.hazardId),
        );
        state.hazards = state.hazards.filter(hazard => !drop.has(hazard.hazardId));
      }
    }
  }
}

/** The steps so far with this item's transition, the newest UPLINK_STEPS_KEPT. */
function withStep(
  steps: readonly UplinkStep[] | undefined,
  item: UplinkAlarm | UplinkHazard,
): UplinkStep[] {
  const step: UplinkStep = {
    seq: item.seq,
    transition: item.transition,
    state: item.state,
    at: item.at,
    ...(item.by !== undefined ? { by: item.by } : {}),
  };
  return [...(steps ?? []), step].slice(-UPLINK_STEPS_KEPT);
}

/** Replaces the entry `same` finds (in place), or appends. */
function replaceBy<T>(list: T[], next: T, same: (other: T) => boolean): void {
  const index = list.findIndex(same);
  if (index >= 0) list[index] = next;
  else list.push(next);
}

/** The acknowledged seq before `step`. */
function ackedBefore(step: InboxStep): number {
  return step.gap ? step.gap.from - 1 : step.acked - step.items.length;
}
