import { Logger } from '@nestjs/common';
import { JSONCodec, type KV } from 'nats';

/** A partition's lease key in `vigil_leases`. */
export function leaseKey(partition: number): string {
  return `p${partition}`;
}
/** A live rules instance's announcement in `vigil_leases` (renewed like a lease). */
export function instanceKey(instance: string): string {
  return `i.${instance}`;
}

/**
 * A lease is used only this fraction of the TTL after the renewal that last succeeded was SENT.
 * The server starts the TTL when it stores the renewal, after it was sent, so an owner that
 * cannot renew has stopped evaluating well before another instance can create the key (no two
 * owners, as long as the two clocks run at about the same rate: a 40 % margin of the TTL).
 */
export const LEASE_SAFE_FRACTION = 0.6;
/** Renewals (and the fair-share pass) per TTL: three attempts fit before the safe deadline. */
const RENEWALS_PER_TTL = 5;
/**
 * A fair-share pass (announce, list the bucket, acquire) is abandoned after this many TTLs and
 * the next one starts. Without a bound one listing that never ended (nats.js `kv.keys()` waits
 * for a message with no pending after it, which may never come when entries expire or change
 * under it) stopped every later pass, and with them the renewals and any re-acquisition: the
 * 2026-12-07 load run's lone instance lost its 16 leases and never took them back.
 */
const PASS_DEADLINE_TTLS = 1;

export interface LeaseValue {
  readonly instance: string;
  readonly at: number;
}

export interface LeaseHandlers {
  /** The partition is this instance's now: start evaluating it (rebuild first). */
  acquired(partition: number): Promise<void>;
  /**
   * Stop evaluating the partition. `clean`: given back on purpose (fair share, shutdown), so the
   * handler may finish its in-flight work first and the lease is deleted after it resolves;
   * otherwise the lease is lost (not renewed in time, or taken): stop at once.
   */
  released(partition: number, clean: boolean): Promise<void>;
}

export interface LeaseOptions {
  readonly instance: string;
  readonly partitions: number;
  readonly ttlMs: number;
  readonly clock?: () => number;
}

interface Held {
  revision: number;
  /** When the renewal that succeeded last was sent (the lease is good until + SAFE × TTL). */
  renewedAt: number;
  /** Still starting (rebuild under way): not given back by the fair-share pass yet. */
  starting: boolean;
}

const codec = JSONCodec<LeaseValue>();

/**
 * Partition ownership for the rules instances (docs/scaling.md §Rules partitioning): leases in the
 * KV bucket `vigil_leases` whose entries expire after the TTL. A free partition is taken with
 * `create` (fails if anyone holds it), a held one renewed with `update(revision)` (fails if it
 * changed hands). Each instance announces itself (`i.<instance>`), aims for ceil(P / live
 * instances) partitions and gives its surplus back, so a new instance gets its share within a
 * renewal period and a dead one's partitions are taken once its leases expire (about one TTL).
 */
export class PartitionLeases {
  private readonly logger = new Logger(PartitionLeases.name);
  private readonly held = new Map<number, Held>();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private renewing: Promise<void> | undefined;
  /**
   * Partitions this instance lost (not renewed in time) whose entry may still name it: taken back
   * by revision as soon as NATS answers (see retake), never left to wait for nobody.
   */
  private readonly lapsed = new Set<number>();
  /** Partitions whose lease another instance held at the last pass. */
  private elsewhere: ReadonlySet<number> = new Set();
  /** Leases lost because they were not renewed in time (the watchdog), since start. */
  lapses = 0;
  /** Fair-share passes that failed or were abandoned at their deadline, since start. */
  passFailures = 0;
  private announcement: number | undefined;
  private announcedAt = 0;
  private stopped = false;
  /** Live instances seen at the last pass (this one included). */
  live = 1;

  constructor(
    private readonly kv: KV,
    private readonly options: LeaseOptions,
    private readonly handlers: LeaseHandlers,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Partitions this instance evaluates now, in order. */
  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** The fair share of this instance: ceil(P / live instances). */
  target(): number {
    return Math.ceil(this.options.partitions / Math.max(1, this.live));
  }

  /** Partitions held by another instance at the last pass (their key did not name this one). */
  heldElsewhere(): ReadonlySet<number> {
    return this.elsewhere;
  }

  start(): void {
    const period = this.options.ttlMs / RENEWALS_PER_TTL;
    this.timer = setInterval(() => void this.pass(), period);
    // Renewals run on their own: a slow listing or acquisition in the pass never delays them.
    this.renewTimer = setInterval(() => void this.renew(), period);
    // Independent of the pass (a renewal may hang on a dead connection): a lease not renewed in
    // time is given up at its safe deadline, whatever the network does.
    this.watchdog = setInterval(() => this.expireUnrenewed(), Math.max(50, period / 4));
    void this.pass();
  }

  /**
   * One fair-share pass (renewals included); passes never overlap, and one that has not ended
   * after PASS_DEADLINE_TTLS is abandoned (counted, logged) so that the next can start.
   */
  pass(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) {
      const run = withDeadline(
        this.renew().then(() => this.runPass()),
        this.options.ttlMs * PASS_DEADLINE_TTLS,
      ).catch((error: unknown) => {
        this.passFailures += 1;
        this.logger.warn(`lease pass failed: ${(error as Error)?.message ?? String(error)}`);
      });
      this.running = run.then(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Renews every lease held; renewals never overlap (each request has its own timeout). */
  renew(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.renewing ??= this.renewAll().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Gives every partition back (clean), withdraws the announcement. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.renewTimer);
    clearInterval(this.watchdog);
    await this.running?.catch(() => undefined);
    await this.renewing?.catch(() => undefined);
    await Promise.all(this.owned().map(partition => this.giveBack(partition)));
    await this.kv.delete(instanceKey(this.options.instance)).catch(() => undefined);
  }

  private async runPass(): Promise<void> {
    await this.announce();
    const owners = await this.owners();
    this.live = owners.instances;
    await this.retake(owners.leases);
    this.elsewhere = new Set(
      [...owners.leases.keys()].filter(
        partition => !this.held.has(partition) && !this.lapsed.has(partition),
      ),
    );
    await this.rebalance(owners.leases);
  }

  /**
   * Takes back the partitions this instance lost by a lapse whose entry still names it (not
   * expired yet, or renewed by a request that landed after the watchdog gave it up): `update` at
   * the entry's revision succeeds only if nobody wrote the key since, and nobody else can hold a
   * key that names this instance, so there is never a second owner. It is a full takeover again
   * (the handler rebuilt from the stream): what was evaluated before the lapse was dropped.
   */
  private async retake(taken: ReadonlyMap<number, string>): Promise<void> {
    // All of them, whatever the fair share: nobody else can take them before they expire, and a
    // surplus is given back cleanly (deleted) by the rebalance once started.
    for (const partition of [...this.lapsed]) {
      if (this.stopped) return;
      if (this.held.has(partition)) {
        this.lapsed.delete(partition);
        continue;
      }
      if (!taken.has(partition)) {
        this.lapsed.delete(partition); // expired: free for anyone, taken with create below
        continue;
      }
      const entry = await this.kv.get(leaseKey(partition));
      if (!entry || entry.operation !== 'PUT') {
        this.lapsed.delete(partition);
        continue;
      }
      let value: Partial<LeaseValue>;
      try {
        value = entry.json<Partial<LeaseValue>>();
      } catch {
        value = {};
      }
      // Another instance took it once it expired: its now.
      if (value.instance !== this.options.instance) {
        this.lapsed.delete(partition);
        continue;
      }
      await this.claim(partition, sentAt =>
        this.kv.update(
          leaseKey(partition),
          codec.encode({ instance: this.options.instance, at: sentAt }),
          entry.revision,
        ),
      );
      // Not taken (written since, or NATS did not answer): read again at the next pass.
      if (this.held.has(partition)) this.lapsed.delete(partition);
    }
  }

  private async announce(): Promise<void> {
    const key = instanceKey(this.options.instance);
    const value = codec.encode({ instance: this.options.instance, at: this.clock() });
    try {
      this.announcement =
        this.announcement === undefined
          ? await this.kv.put(key, value)
          : await this.kv.update(key, value, this.announcement);
    } catch {
      // Another process announced the same instance name, or the entry expired: take it again.
      this.announcement = await this.kv.put(key, value);
    }
    this.announcedAt = this.clock();
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      this.owned().map(async partition => {
        const held = this.held.get(partition);
        if (!held) return;
        const sentAt = this.clock();
        try {
          const revision = await this.kv.update(
            leaseKey(partition),
            codec.encode({ instance: this.options.instance, at: sentAt }),
            held.revision,
          );
          if (this.held.get(partition) !== held) return; // lost meanwhile
          held.revision = revision;
          held.renewedAt = sentAt;
        } catch (error) {
          // Lost or taken back meanwhile (a newer lease, another revision): not this renewal's.
          if (this.held.get(partition) !== held) return;
          if (isWrongRevision(error)) {
            this.logger.error(`partition ${partition}: lease taken by another instance`);
            // Not awaited: stopping the partition never holds up the other renewals.
            void this.lose(partition);
          }
          // A timeout is retried next pass; the watchdog gives the lease up at its deadline.
        }
      }),
    );
  }

  private async owners(): Promise<{ instances: number; leases: Map<number, string> }> {
    const leases = new Map<number, string>();
    let instances = 0;
    const keys = await this.kv.keys();
    const names: string[] = [];
    // Bounded: an abandoned listing is stopped rather than left to wait for ever.
    const deadline = setTimeout(
      () => keys.stop(new Error('listing the leases bucket timed out')),
      this.options.ttlMs * PASS_DEADLINE_TTLS,
    );
    try {
      for await (const key of keys) names.push(key);
    } finally {
      clearTimeout(deadline);
    }
    for (const key of names) {
      if (key.startsWith('i.')) instances += 1;
      else if (/^p\d+$/.test(key)) leases.set(Number(key.slice(1)), key);
    }
    return { instances: Math.max(1, instances), leases };
  }

  private async rebalance(taken: ReadonlyMap<number, string>): Promise<void> {
    const target = this.target();
    // Surplus first: the highest partitions go back, after their work is durable.
    const surplus = this.owned().filter(partition => !this.held.get(partition)?.starting);
    while (this.held.size > target && surplus.length > 0) {
      const partition = surplus.pop();
      if (partition === undefined) break;
      await this.giveBack(partition);
    }
    if (this.held.size >= target) return;
    // Free partitions, starting from a place of this instance's own so that instances starting
    // together try different ones first.
    const { partitions } = this.options;
    const offset = spread(this.options.instance, partitions);
    for (let i = 0; i < partitions && this.held.size < target && !this.stopped; i += 1) {
      const partition = (offset + i) % partitions;
      if (this.held.has(partition) || taken.has(partition)) continue;
      await this.tryAcquire(partition);
    }
  }

  private tryAcquire(partition: number): Promise<void> {
    return this.claim(partition, sentAt =>
      this.kv.create(
        leaseKey(partition),
        codec.encode({ instance: this.options.instance, at: sentAt }),
      ),
    );
  }

  /** Writes the lease (create, or update at a revision) and starts the partition if it took. */
  private async claim(
    partition: number,
    write: (sentAt: number) => Promise<number>,
  ): Promise<void> {
    if (this.held.has(partition)) return;
    const sentAt = this.clock();
    let revision: number;
    try {
      revision = await write(sentAt);
    } catch {
      return; // another instance was quicker (or the key still exists)
    }
    if (this.stopped) {
      await this.kv.delete(leaseKey(partition), { previousSeq: revision }).catch(() => undefined);
      return;
    }
    const held: Held = { revision, renewedAt: sentAt, starting: true };
    this.held.set(partition, held);
    this.logger.log(`partition ${partition}: lease acquired by ${this.options.instance}`);
    // Not awaited: the rebuild takes a while, and renewals must go on meanwhile.
    void this.handlers.acquired(partition).then(
      () => {
        held.starting = false;
      },
      async (error: unknown) => {
        this.logger.error(
          `partition ${partition}: could not start (${(error as Error)?.message}); giving it back`,
        );
        if (this.held.get(partition) === held) await this.giveBack(partition);
      },
    );
  }

  /** Whether this instance holds the partition's lease now. */
  holds(partition: number): boolean {
    return this.held.has(partition);
  }

  /**
   * Whether the lease is still safe to act on at this instant (before its safe deadline). The
   * watchdog gives it up at that deadline, but a process frozen past it (a long GC pause, SIGSTOP)
   * runs again before its timers: this fence is checked right before anything is published.
   */
  valid(partition: number): boolean {
    const held = this.held.get(partition);
    return (
      held !== undefined && this.clock() < held.renewedAt + this.options.ttlMs * LEASE_SAFE_FRACTION
    );
  }

  private expireUnrenewed(): void {
    const deadline = this.clock() - this.options.ttlMs * LEASE_SAFE_FRACTION;
    for (const [partition, held] of this.held)
      if (held.renewedAt < deadline) {
        this.logger.error(
          `partition ${partition}: lease not renewed for ${this.clock() - held.renewedAt} ms; evaluation stopped before its TTL (${this.options.ttlMs} ms) runs out`,
        );
        this.lapses += 1;
        void this.lose(partition);
      }
  }

  private async lose(partition: number): Promise<void> {
    if (!this.held.delete(partition)) return;
    this.lapsed.add(partition);
    await this.handlers.released(partition, false).catch(() => undefined);
  }

  private async giveBack(partition: number): Promise<void> {
    const held = this.held.get(partition);
    if (!held) return;
    this.held.delete(partition);
    await this.handlers.released(partition, true).catch(() => undefined);
    // Still ours if nobody changed it: delete (the next owner need not wait for the TTL).
    const stillOurs = held.renewedAt >= this.clock() - this.options.ttlMs * LEASE_SAFE_FRACTION;
    if (stillOurs)
      await this.kv
        .delete(leaseKey(partition), { previousSeq: held.revision })
        .catch(() => undefined);
    this.logger.log(`partition ${partition}: lease given back by ${this.options.instance}`);
  }

  /** For tests and /readyz: when this instance last announced itself. */
  get lastAnnouncedAt(): number {
    return this.announcedAt;
  }
}

/** Rejects when `work` has not settled within `ms` (the work itself goes on, unobserved). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms: abandoned`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function isWrongRevision(error: unknown): boolean {
  return /wrong last sequence|key exists/i.test(String((error as Error)?.message ?? error));
}

function spread(instance: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < instance.length; i += 1) {
    hash ^= instance.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
