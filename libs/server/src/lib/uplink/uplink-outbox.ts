import type { UplinkItem, UplinkItemBody } from '@vigil/contracts';

import { JsonlJournal, type JournalStatusSink } from '../journal/jsonl-journal';

/**
 * One line of the outbox file: an item numbered by the outbox, an acknowledgement from the upper,
 * or (first line after a compaction) where the numbering stands.
 */
type OutboxLine =
  | { readonly t: 'item'; readonly item: UplinkItem }
  | { readonly t: 'ack'; readonly seq: number }
  | {
      readonly t: 'head';
      readonly lastSeq: number;
      readonly ackedSeq: number;
      /** Hazard id → the newest step of its history numbered (what was ever forwarded). */
      readonly hazardSteps?: Readonly<Record<string, number>>;
    };

export interface OutboxOptions {
  /** Items waiting at most; beyond it `enqueue` refuses new items (counted by the caller). */
  readonly capacity: number;
  readonly status?: JournalStatusSink | undefined;
  /** Lines appended since the last compaction after which an acknowledgement compacts the file. */
  readonly compactEvery?: number;
}

export interface EnqueueResult {
  /** The items now durable, numbered. */
  readonly queued: readonly UplinkItem[];
  /** Items refused because the outbox was full (never numbered: the seqs stay contiguous). */
  readonly refused: readonly UplinkItemBody[];
}

/**
 * The lower side's store-and-forward outbox (issue 15): items numbered with a seq that only grows
 * (per enterprise: one outbox per Vigil and link), appended to a JSON-lines journal and
 * fdatasync'd before `enqueue` returns, removed only when the upper acknowledged them (the ack is
 * journaled too). Replayed at start: what was not acknowledged is sent again, and the upper
 * dedupes by seq. Bounded by `capacity`: when full, new items are refused and returned to the
 * caller, which counts and shows them (never silent); nothing already queued is dropped.
 *
 * The file is compacted at start and every `compactEvery` appended lines on an acknowledgement
 * (new file, fsync, rename, fsync of the directory): it holds at most `capacity` items plus the
 * lines since the last compaction.
 */
export class UplinkOutbox {
  private readonly journal: JsonlJournal<OutboxLine>;
  private readonly pending: UplinkItem[] = [];
  /** Index of the first pending item in `pending` (acknowledged ones are cut off lazily). */
  private head = 0;
  private last = 0;
  private acked = 0;
  private linesSinceCompaction = 0;
  /** Hazard id → the newest step of its history this outbox ever numbered. */
  private readonly hazardSteps = new Map<string, number>();
  private opened = false;
  private readonly compactEvery: number;

  constructor(
    path: string,
    private readonly options: OutboxOptions,
  ) {
    this.journal = new JsonlJournal(path, { name: 'uplink-outbox', status: options.status });
    this.compactEvery = options.compactEvery ?? 10_000;
  }

  get path(): string {
    return this.journal.path;
  }

  /** Replays the file, then compacts it to what is not yet acknowledged. */
  open(): { readonly pending: number; readonly skipped: number } {
    if (this.opened) throw new Error('uplink outbox is already open');
    const items = new Map<number, UplinkItem>();
    const { skipped } = this.journal.replay(line => {
      if (line.t === 'head') {
        this.last = Math.max(this.last, line.lastSeq);
        this.acked = Math.max(this.acked, line.ackedSeq);
        for (const [id, step] of Object.entries(line.hazardSteps ?? {})) this.markHazard(id, step);
      } else if (line.t === 'ack') this.acked = Math.max(this.acked, line.seq);
      else {
        items.set(line.item.seq, line.item);
        if (line.item.kind === 'hazard' && line.item.step !== undefined)
          this.markHazard(line.item.hazardId, line.item.step);
        this.last = Math.max(this.last, line.item.seq);
      }
    });
    this.last = Math.max(this.last, this.acked);
    for (const seq of [...items.keys()].sort((a, b) => a - b))
      if (seq > this.acked) this.pending.push(items.get(seq) as UplinkItem);
    this.compact();
    this.opened = true;
    return { pending: this.pending.length, skipped };
  }

  /** Items waiting for an acknowledgement. */
  get size(): number {
    return this.pending.length - this.head;
  }

  get capacity(): number {
    return this.options.capacity;
  }

  /** The seq of the newest item numbered (0: none yet). */
  get lastSeq(): number {
    return this.last;
  }

  /** The highest seq the upper acknowledged. */
  get ackedSeq(): number {
    return this.acked;
  }

  /** The oldest waiting item, if any. */
  get oldest(): UplinkItem | undefined {
    return this.pending[this.head];
  }

  /**
   * Numbers the items that fit, makes them durable, and only then keeps them; the rest is refused
   * (full). Throws JournalWriteError when the disk refuses: then nothing was numbered.
   */
  enqueue(bodies: readonly UplinkItemBody[]): EnqueueResult {
    if (!this.opened) throw new Error('uplink outbox is not open');
    const room = Math.max(0, this.options.capacity - this.size);
    const fitting = bodies.slice(0, room);
    const refused = bodies.slice(room);
    const queued = fitting.map(
      (body, index) => ({ ...body, seq: this.last + 1 + index }) as UplinkItem,
    );
    this.journal.append(queued.map(item => ({ t: 'item', item })));
    this.linesSinceCompaction += queued.length;
    for (const item of queued) {
      this.pending.push(item);
      if (item.kind === 'hazard' && item.step !== undefined)
        this.markHazard(item.hazardId, item.step);
    }
    if (queued.length > 0) this.last += queued.length;
    return { queued, refused };
  }

  /** The newest step of the hazard's history this outbox ever numbered (0: none). */
  hazardStep(hazardId: string): number {
    return this.hazardSteps.get(hazardId) ?? 0;
  }

  private markHazard(hazardId: string, step: number): void {
    if (step > (this.hazardSteps.get(hazardId) ?? 0)) this.hazardSteps.set(hazardId, step);
  }

  /** Up to `max` of the oldest waiting items, in seq order. */
  peek(max: number): UplinkItem[] {
    return this.pending.slice(this.head, this.head + max);
  }

  /**
   * The upper holds every item up to `seq`: journaled, then removed. An ack at or below what is
   * already acknowledged changes nothing; one above the newest item is a defect of the upper and
   * is refused (it would acknowledge what was never sent).
   */
  ack(seq: number): number {
    if (seq <= this.acked) return 0;
    if (seq > this.last)
      throw new Error(`the upper acknowledged seq ${seq}, beyond the newest item ${this.last}`);
    this.journal.append([{ t: 'ack', seq }]);
    this.linesSinceCompaction += 1;
    this.acked = seq;
    let removed = 0;
    while (this.head < this.pending.length && (this.pending[this.head]?.seq ?? 0) <= seq) {
      this.head += 1;
      removed += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    if (this.linesSinceCompaction >= this.compactEvery) this.compact();
    return removed;
  }

  /**
   * The upper holds seqs up to `upperAcked`, beyond the newest this outbox ever numbered: this
   * outbox started again from nothing (its data directory was lost) and the upper would take the
   * new items for duplicates. Renumbers what waits to follow `upperAcked` (durably, compacted)
   * and returns how many items were renumbered.
   */
  rebase(upperAcked: number): number {
    if (upperAcked <= this.last) return 0;
    if (this.head > 0) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    const renumbered = this.pending.map(
      (item, index) => ({ ...item, seq: upperAcked + 1 + index }) as UplinkItem,
    );
    this.pending.splice(0, this.pending.length, ...renumbered);
    this.acked = upperAcked;
    this.last = upperAcked + renumbered.length;
    this.compact();
    return renumbered.length;
  }

  close(): void {
    this.journal.close();
  }

  private compact(): void {
    if (this.head > 0) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    this.journal.compact([
      {
        t: 'head',
        lastSeq: this.last,
        ackedSeq: this.acked,
        hazardSteps: Object.fromEntries(this.hazardSteps),
      },
      ...this.pending.map(item => ({ t: 'item' as const, item })),
    ]);
    this.linesSinceCompaction = 0;
  }
}
