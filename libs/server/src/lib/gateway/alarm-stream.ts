import { Logger } from '@nestjs/common';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';

import { alarmUpdateSchema } from '@vigil/contracts';

import type { InternalInbox } from '../bus/internal-inbox';
import type { AlarmUpdate } from '../bus/pipeline-bus';
import type { Backbone } from '../bus/jetstream/backbone';
import { ALARMS_STREAM } from '../bus/jetstream/subjects';
import type { DurableAlarmLog, SequencedUpdate } from './alarm-log';

/** Every alarm's updates (not the device modes that share the stream). */
const ALARM_FILTER = 'vigil.alarms.>';
/** A snapshot or a replay that has not finished in this time is abandoned (the caller falls back). */
const READ_TIMEOUT_MS = 30_000;
/** Between two attempts to follow the stream again after the consumer stopped. */
const REFOLLOW_DELAY_MS = 1000;

export type { SequencedUpdate } from './alarm-log';

/**
 * The gateway's reader of VIGIL_ALARMS (docs/interfaces.md §WebSocket, "Resume across
 * gateways"): the snapshot at start (the last message of every alarm subject), then an ordered
 * consumer from the sequence after it; the same for a console that resumes from further back
 * than the gateway's replay buffer (`read`). The ordered consumer re-creates itself after a
 * reconnect or the loss of a node from the last sequence it delivered; should it stop for good
 * (the stream was unreachable too long), `follow` starts a new one from the last sequence applied.
 */
export class AlarmStream implements DurableAlarmLog {
  /** Every gateway follows the stream: a console may come from one that is ahead. */
  readonly shared = true;
  private readonly logger = new Logger('AlarmStream');
  private epochValue: string | undefined;
  private applied = 0;
  private following: ConsumerMessages | undefined;
  private stopped = false;

  constructor(
    private readonly backbone: Backbone,
    private readonly inbox: InternalInbox,
  ) {}

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
    void this.followFrom(onUpdate);
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
    this.following?.stop();
  }

  private async followFrom(onUpdate: (update: SequencedUpdate) => void): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.backbone.js.consumers.get(ALARMS_STREAM, {
          filterSubjects: ALARM_FILTER,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.applied + 1,
        });
        const messages = await consumer.consume({
          callback: message => {
            const seq = message.info.streamSequence;
            if (seq <= this.applied) return; // already applied (a reset re-delivered it)
            this.applied = seq;
            const update = this.decode(message);
            if (update) onUpdate({ seq, update });
          },
        });
        this.following = messages;
        if (this.stopped) messages.stop();
        await messages.closed();
      } catch (error) {
        if (!this.stopped)
          this.logger.error(
            `following ${ALARMS_STREAM} failed (${(error as Error)?.message}): alarm updates ` +
              `wait in the stream; following again from sequence ${this.applied + 1}`,
          );
      }
      if (!this.stopped) await new Promise(resolve => setTimeout(resolve, REFOLLOW_DELAY_MS));
    }
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
