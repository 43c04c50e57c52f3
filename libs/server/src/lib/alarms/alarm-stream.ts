import { Logger } from '@nestjs/common';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';

import { alarmUpdateSchema } from '@vigil/contracts';

import type { InternalInbox } from '../bus/internal-inbox';
import type { AlarmUpdate } from '../bus/pipeline-bus';
import type { Backbone } from '../bus/jetstream/backbone';
import type { BackboneHealth } from '../bus/jetstream/backbone-health';
import type { BackboneMetrics } from '../bus/jetstream/backbone-metrics';
import { ALARMS_STREAM } from '../bus/jetstream/subjects';
import type { DurableAlarmLog, SequencedUpdate } from './alarm-log';

/** Every alarm's updates (not the device modes that share the stream). */
const ALARM_FILTER = 'vigil.alarms.>';
const ALARM_PREFIX = 'vigil.alarms.';
/** A snapshot or a replay that has not finished in this time is abandoned (the caller falls back). */
const READ_TIMEOUT_MS = 30_000;
/** Between two attempts to follow the stream again after the consumer stopped. */
const REFOLLOW_DELAY_MS = 1000;
/**
 * The ordered consumer's pull requests last this long (its idle heartbeat is half) and nats.js
 * waits about this long between its own attempts to re-create it: its default, 30 s, held a
 * gateway's live feed for 30 s and more after the NATS node of its consumer died.
 */
const PULL_EXPIRES_MS = 5000;
/**
 * A consumer that is not created in this time is abandoned for a new one: one JetStream API
 * timeout (5 s), which is what a consumer placed on a node that just died costs.
 */
const CREATE_TIMEOUT_MS = 6000;
/** `/readyz` part (BackboneHealth) that says whether the gateway's alarm feed is current. */
export const ALARM_FEED_PART = 'gateway-alarms';

export interface AlarmStreamOptions {
  /** How often the feed's position is compared with the end of the stream. */
  readonly checkEveryMs?: number;
  /**
   * Behind the stream's end (or unable to read it) for longer than this: the feed is stalled:
   * counted, shown on `/readyz`, and followed again with a new consumer from the last sequence
   * applied when it made no progress meanwhile.
   */
  readonly stallAfterMs?: number;
}

/** Stream ends remembered while the feed is behind them (one a check; the oldest matter most). */
const MAX_ENDS = 1000;

/**
 * What the watchdog knows of the feed against the stream's end (pure; unit-tested): the ends of
 * the stream it saw at each check that the feed has not reached yet. The oldest says since when
 * the feed has been behind: a steady flow reaches each end within a check or two; a stalled or
 * slow feed does not.
 */
export class FeedLag {
  private readonly ends: Array<{ readonly last: number; readonly at: number }> = [];
  private lastAnswerAt: number;
  private lastProgressAt: number;
  private lastApplied: number;
  private refollowedAt = Number.NEGATIVE_INFINITY;
  /** Whether the current stall was counted already (one count per stall). */
  private counted = false;
  /** The stream's last sequence at the last answer. */
  streamLast = 0;

  constructor(
    private readonly stallAfterMs: number,
    now: number,
    applied: number,
  ) {
    this.lastAnswerAt = now;
    this.lastProgressAt = now;
    this.lastApplied = applied;
  }

  /** The stream answered: its last sequence is `last`, the feed has applied up to `applied`. */
  observe(last: number, applied: number, now: number): void {
    this.lastAnswerAt = now;
    this.streamLast = last;
    this.progress(applied, now);
    const newest = this.ends[this.ends.length - 1];
    if (last > applied && (!newest || last > newest.last) && this.ends.length < MAX_ENDS)
      this.ends.push({ last, at: now });
    // Current: a later stall is a new one.
    if (this.ends.length === 0) this.counted = false;
  }

  /** The stream did not answer (its state is unknown). */
  unanswered(applied: number, now: number): void {
    this.progress(applied, now);
  }

  /** Why the feed is not current, or undefined while it is (within the bound). */
  problem(applied: number, now: number): string | undefined {
    this.progress(applied, now);
    const oldest = this.ends[0];
    if (oldest && now - oldest.at > this.stallAfterMs)
      return (
        `the gateway's alarm feed has been behind ${ALARMS_STREAM} for ` +
        `${seconds(now - oldest.at)} (applied up to ${applied}, the stream holds ` +
        `${this.streamLast}): consoles are not getting alarm changes live`
      );
    if (now - this.lastAnswerAt > this.stallAfterMs)
      return (
        `${ALARMS_STREAM} has not answered for ${seconds(now - this.lastAnswerAt)}: whether the ` +
        `gateway's alarm feed is current is unknown`
      );
    return undefined;
  }

  /** True once per stall: the moment it is to be counted. */
  countStall(applied: number, now: number): boolean {
    if (this.problem(applied, now) === undefined) {
      this.counted = false;
      return false;
    }
    if (this.counted) return false;
    this.counted = true;
    return true;
  }

  /** Whether to follow again: stalled, no progress for the bound, none tried within the bound. */
  shouldRefollow(applied: number, now: number): boolean {
    if (this.problem(applied, now) === undefined) return false;
    if (now - this.lastProgressAt <= this.stallAfterMs) return false;
    if (now - this.refollowedAt <= this.stallAfterMs) return false;
    this.refollowedAt = now;
    return true;
  }

  behind(applied: number): number {
    return Math.max(0, this.streamLast - applied);
  }

  /** Forgets the ends the feed has reached. */
  private progress(applied: number, now: number): void {
    while (this.ends[0] && this.ends[0].last <= applied) this.ends.shift();
    if (applied !== this.lastApplied) {
      this.lastApplied = applied;
      this.lastProgressAt = now;
    }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export type { SequencedUpdate } from './alarm-log';

/**
 * The gateway's reader of VIGIL_ALARMS (docs/interfaces.md §WebSocket, "Resume across
 * gateways"): the snapshot at start (the last message of every alarm subject), then an ordered
 * consumer from the sequence after it; the same for a console that resumes from further back
 * than the gateway's replay buffer (`read`).
 *
 * Following survives the loss of a NATS node (docs/reliability.md, issue 12): the ordered
 * consumer is an R1 in-memory consumer on one node of the cluster; when that node dies, nats.js
 * does not move it (it asks the dead consumer for its state and waits, for as long as the node is
 * away). So `follow` replaces the consumer itself, from the last sequence applied (no gap, no
 * duplicate: a sequence at or below it is never applied again): at once after the connection
 * moved to another node, and when the watchdog sees the feed behind the stream's end for longer
 * than `stallAfterMs` without progress (the consumer's node died under a connection that did
 * not move). The watchdog counts each stall (`vigil_backbone_alarm_feed_stalls_total`) and shows
 * it on `/readyz` (backbone part `gateway-alarms`) until the feed has caught up.
 */
export class AlarmStream implements DurableAlarmLog {
  /** Every gateway follows the stream: a console may come from one that is ahead. */
  readonly shared = true;
  private readonly logger = new Logger('AlarmStream');
  private epochValue: string | undefined;
  private applied = 0;
  private following: ConsumerMessages | undefined;
  /** Only the current consumer's messages are applied: one from before a re-follow is ignored. */
  private generation = 0;
  /** Ends the current consumer, so that `followFrom` starts a new one. */
  private refollow: ((reason: string) => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private checking = false;
  private lag: FeedLag | undefined;
  private stopped = false;
  private readonly checkEveryMs: number;
  private readonly stallAfterMs: number;

  constructor(
    private readonly backbone: Backbone,
    private readonly inbox: InternalInbox,
    private readonly metrics?: BackboneMetrics,
    private readonly health?: BackboneHealth,
    options: AlarmStreamOptions = {},
  ) {
    this.checkEveryMs = options.checkEveryMs ?? 1000;
    this.stallAfterMs = options.stallAfterMs ?? 5000;
  }

  /** `VIGIL_ALARMS@<created>`: the same on every gateway of this stream, new if it is recreated. */
  get epoch(): string {
    if (this.epochValue === undefined) throw new Error('AlarmStream.snapshot() was not called');
    return this.epochValue;
  }

  /** The last stream sequence applied (snapshot or follow). */
  get position(): number {
    return this.applied;
  }

  /** Every alarm's latest state, in stream order, and the sequence it is complete up to. */
  async snapshot(): Promise<SequencedUpdate[]> {
    const info = await this.backbone.jsm.streams.info(ALARMS_STREAM);
    this.epochValue = `${ALARMS_STREAM}@${info.created}`;
    const updates: SequencedUpdate[] = [];
    // Everything up to the stream's end now is covered by the last-per-subject delivery (or is
    // not an alarm): the follower starts after it, or after the newest message delivered.
    let position = info.state.last_seq;
    await this.drain({ deliver_policy: DeliverPolicy.LastPerSubject }, (seq, update) => {
      if (update) updates.push({ seq, update });
      position = Math.max(position, seq);
      return true;
    });
    this.applied = position;
    return updates;
  }

  /** Applies every update after `position()` as it comes, until `stop()`. */
  follow(onUpdate: (update: SequencedUpdate) => void): void {
    this.lag = new FeedLag(this.stallAfterMs, Date.now(), this.applied);
    this.report();
    void this.followFrom(onUpdate);
    void this.refollowOnReconnect();
    this.watchdog = setInterval(() => void this.check(), this.checkEveryMs);
    this.watchdog.unref();
  }

  /**
   * The alarm updates with `after < seq <= until`, from the stream; undefined when the stream no
   * longer holds all of them (limits removed some, or it was recreated): send a snapshot then.
   */
  async read(after: number, until: number): Promise<SequencedUpdate[] | undefined> {
    if (until <= after) return [];
    const info = await this.backbone.jsm.streams.info(ALARMS_STREAM);
    if (`${ALARMS_STREAM}@${info.created}` !== this.epochValue) return undefined;
    if (after + 1 < info.state.first_seq) return undefined;
    const updates: SequencedUpdate[] = [];
    const complete = await this.drain(
      { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 },
      (seq, update) => {
        if (seq > until) return false;
        if (update) updates.push({ seq, update });
        return seq < until;
      },
    );
    return complete ? updates : undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.following?.stop();
    this.refollow?.('stopped');
  }

  /**
   * Follows every message of the stream (device modes too, skipped: so that the position reaches
   * the stream's end and the watchdog can compare them) with one ordered consumer at a time.
   */
  private async followFrom(onUpdate: (update: SequencedUpdate) => void): Promise<void> {
    while (!this.stopped) {
      const generation = (this.generation += 1);
      const from = this.applied + 1;
      let reason = 'the consumer stopped';
      try {
        const consumer = await this.backbone.js.consumers.get(ALARMS_STREAM, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: from,
        });
        const pending = consumer.consume({
          expires: PULL_EXPIRES_MS,
          callback: message => {
            if (generation !== this.generation) return; // a replaced consumer's late message
            const seq = message.info.streamSequence;
            if (seq <= this.applied) return; // already applied (a reset re-delivered it)
            this.applied = seq;
            if (!message.subject.startsWith(ALARM_PREFIX)) return; // a device mode
            const update = this.decode(message);
            if (update) onUpdate({ seq, update });
          },
        });
        const messages = await within(pending, CREATE_TIMEOUT_MS);
        if (!messages) {
          // Placed on a node that is gone (the cluster has not noticed yet): nats.js would ask for
          // the same consumer again and again. A new one (new name) may go elsewhere.
          void pending.then(
            late => {
              late.stop();
              void consumer.delete().catch(() => undefined);
            },
            () => undefined,
          );
          throw new Error(`no consumer within ${seconds(CREATE_TIMEOUT_MS)}`);
        }
        this.following = messages;
        if (this.stopped) messages.stop();
        reason = await new Promise<string>(resolve => {
          this.refollow = resolve;
          void messages.closed().then(
            () => resolve('the consumer stopped'),
            (error: unknown) => resolve(`the consumer stopped (${(error as Error)?.message})`),
          );
        });
        this.refollow = undefined;
        messages.stop();
        // An R1 in-memory consumer: on a dead node it goes with it; else the server would keep it
        // until its inactivity threshold (5 minutes).
        void consumer.delete().catch(() => undefined);
      } catch (error) {
        reason = `following failed (${(error as Error)?.message})`;
      }
      if (this.stopped) break;
      if (this.backbone.nc.isClosed()) {
        // The process is closing its backbone (shutdown): nothing to follow any more.
        this.stop();
        break;
      }
      this.metrics?.alarmFeedRefollows.inc({ reason: reasonLabel(reason) });
      this.logger.warn(
        `${ALARMS_STREAM}: ${reason}; alarm updates wait in the stream; following again from ` +
          `sequence ${this.applied + 1} with a new consumer`,
      );
      // After a reconnect at once (the cluster is there); else give the stream a moment.
      if (reasonLabel(reason) !== 'reconnect')
        await new Promise(resolve => setTimeout(resolve, REFOLLOW_DELAY_MS));
    }
  }

  /**
   * After the connection moved to another NATS node, the consumer may be on the node that went:
   * a new one, from the last sequence applied, costs one consumer creation.
   */
  private async refollowOnReconnect(): Promise<void> {
    const statuses = this.backbone.nc.status();
    for await (const status of statuses) {
      if (this.stopped) break;
      if (status.type === 'reconnect') this.refollow?.(`reconnected to ${String(status.data)}`);
    }
  }

  /**
   * The watchdog: the stream's last sequence against the last one applied; behind for longer than
   * the bound is a stall: counted, shown on `/readyz`, and followed again when it made no progress.
   */
  private async check(): Promise<void> {
    const lag = this.lag;
    if (this.checking || this.stopped || !lag) return;
    this.checking = true;
    try {
      const info = await this.backbone.jsm.streams.info(ALARMS_STREAM);
      lag.observe(info.state.last_seq, this.applied, Date.now());
    } catch {
      lag.unanswered(this.applied, Date.now());
    } finally {
      this.checking = false;
    }
    if (this.stopped) return;
    const now = Date.now();
    if (lag.countStall(this.applied, now)) {
      this.metrics?.alarmFeedStalls.inc();
      this.logger.error(`${lag.problem(this.applied, now) ?? 'stalled'}`);
    }
    if (lag.shouldRefollow(this.applied, now))
      this.refollow?.(`stalled, no progress for ${seconds(this.stallAfterMs)}`);
    this.report();
  }

  private report(): void {
    const lag = this.lag;
    if (!lag) return;
    const now = Date.now();
    const problem = lag.problem(this.applied, now);
    const behind = lag.behind(this.applied);
    this.metrics?.alarmFeedBehind.set(behind);
    this.health?.set(ALARM_FEED_PART, {
      ok: problem === undefined,
      ...(problem ? { reason: problem } : {}),
      detail: { applied: this.applied, streamLast: lag.streamLast, behind },
    });
  }

  /**
   * Reads with an ordered consumer until `next` says stop or nothing is pending; resolves true
   * when it got there, false on timeout. `next` receives undefined for a message that failed
   * validation (counted and dead-lettered by the inbox).
   */
  private async drain(
    options: { deliver_policy: DeliverPolicy; opt_start_seq?: number },
    next: (seq: number, update: AlarmUpdate | undefined) => boolean,
  ): Promise<boolean> {
    const consumer = await this.backbone.js.consumers.get(ALARMS_STREAM, {
      filterSubjects: ALARM_FILTER,
      ...options,
    });
    let finish: (done: boolean) => void = () => undefined;
    const finished = new Promise<boolean>(resolve => (finish = resolve));
    const messages = await consumer.consume({
      expires: PULL_EXPIRES_MS,
      callback: (message: JsMsg) => {
        const more = next(message.info.streamSequence, this.decode(message));
        if (!more || message.info.pending === 0) finish(true);
      },
    });
    // The ordered consumer's server-side consumer, created by consume(): nothing pending then
    // means nothing to read (no message would come to say so).
    const created = (consumer as unknown as { currentConsumer?: { num_pending: number } | null })
      .currentConsumer;
    if (created && created.num_pending === 0) finish(true);
    const timer = setTimeout(() => finish(false), READ_TIMEOUT_MS);
    try {
      return await finished;
    } finally {
      clearTimeout(timer);
      messages.stop();
      void consumer.delete().catch(() => undefined);
    }
  }

  private decode(message: JsMsg): AlarmUpdate | undefined {
    const data = message.data;
    return this.inbox.read(
      'alarms',
      message.subject,
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      alarmUpdateSchema,
    ) as AlarmUpdate | undefined;
  }
}

/** The refollow counter's label for a reason. */
function reasonLabel(reason: string): 'reconnect' | 'stalled' | 'closed' {
  if (reason.startsWith('reconnected')) return 'reconnect';
  if (reason.startsWith('stalled')) return 'stalled';
  return 'closed';
}

/** `promise`'s value, or undefined when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>(resolve => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
