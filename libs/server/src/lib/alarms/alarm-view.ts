import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';

import {
  DEFAULT_ALARM_POLICY,
  isOpen,
  type ActionResult,
  type Actor,
  type OperatorCommand,
  type RaiseRecord,
} from '@vigil/alarms';
import type { Alarm, AlarmState } from '@vigil/contracts';

import { AlarmCommands } from './alarm-commands';
import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { LocalSpool } from '../bus/spool/local-spool';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import type { DurableAlarmLog } from './alarm-log';
import { AlarmStream } from './alarm-stream';

/** Closed alarms kept in memory for the console; older history is queried from InfluxDB. */
const RECENTLY_CLOSED = 2000;
const MAX_RAISES = 100_000;
/** A listener that threw keeps `/readyz` degraded this long after its last failure. */
export const LISTENER_FAILURE_SHOWN_MS = 10 * 60_000;

/** A listener of the alarm updates that threw (`/readyz` `details.alarmListeners`). */
export interface AlarmListenerFailure {
  readonly listener: string;
  readonly errors: number;
  readonly lastError: string;
  readonly lastAt: number;
}

export interface AlarmQuery {
  readonly state?: AlarmState | 'open';
  readonly site?: string;
  readonly since?: number;
}

/**
 * Alarms the gateway raises and owns itself, because the rules process may be what failed (the
 * pipeline canary's stalled-hop alarms). Operator actions on them are applied by their owner.
 */
export interface OwnedAlarms {
  execute(alarmId: string, command: OperatorCommand, actor: Actor): ActionResult;
}

/**
 * Hears every alarm change: `seqs` are their positions in the durable alarm log (jetstream: the
 * VIGIL_ALARMS sequences; memory: the spool's alarm lane), one each; absent for the MQTT bus, for
 * alarms this gateway owns (not in the log) and for updates the lane could not take.
 */
export type AlarmListener = (updates: readonly AlarmUpdate[], seqs?: readonly number[]) => void;

/** The gateway's read model of alarms, fed by alarm updates from the bus (local or bridged). */
@Injectable()
export class AlarmView implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AlarmView.name);
  private readonly openById = new Map<string, Alarm>();
  private readonly closed: Alarm[] = [];
  /** Activations seen by this gateway, for the performance report when InfluxDB is off. */
  private readonly raises: RaiseRecord[] = [];
  /** Alarms disposed as `test`, left out of the performance report (bounded like the raises). */
  private readonly testIds = new Set<string>();
  private readonly listeners = new Map<AlarmListener, string>();
  private readonly failures = new Map<string, AlarmListenerFailure>();
  private readonly failureLog = new RateLimitedLogger(
    { warn: message => this.logger.error(message) },
    3,
  );
  /** Alarm id → the gateway component that owns it (not the rules process). */
  private readonly owners = new Map<string, OwnedAlarms>();
  private readonly subscription: Subscription | undefined;
  /**
   * The log position this gateway's following started after (jetstream: its snapshot; memory:
   * the alarm lane's end at start).
   */
  private followedFrom = 0;
  /** memory: the last alarm-lane seq applied. */
  private spoolPosition = 0;
  /** Where the WebSocket's alarm seqs come from, when they outlive this process. */
  readonly log: DurableAlarmLog | undefined;

  constructor(
    @Inject(PipelineBus) bus: PipelineBus,
    @Inject(AlarmCommands) private readonly commands: AlarmCommands,
    /** jetstream: alarms come from VIGIL_ALARMS, never from the local bus. */
    @Optional() @Inject(AlarmStream) readonly stream?: AlarmStream,
    /** memory: alarms come numbered by the spool's alarm lane (issue 12). */
    @Optional() @Inject(LocalSpool) spool?: LocalSpool,
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
  ) {
    if (stream) this.log = stream;
    else if (spool) {
      this.log = spool.alarmLog;
      this.followedFrom = this.spoolPosition = spool.alarms.lastSeq;
      this.subscription = spool.alarms$.subscribe(({ updates, seqs }) => {
        const last = seqs?.[seqs.length - 1];
        if (last !== undefined) this.spoolPosition = Math.max(this.spoolPosition, last);
        this.apply(updates, true, seqs);
      });
    } else this.subscription = bus.alarms$.subscribe(updates => this.apply(updates));
  }

  /** The durable log position this gateway has applied up to (its WebSocket seq). */
  get position(): number {
    return this.stream ? this.stream.position : this.spoolPosition;
  }

  /** Where the following started: the log sequence up to which the ring may lack messages. */
  get snapshotPosition(): number {
    return this.followedFrom;
  }

  /**
   * Starts from the lifecycle's open alarms, so a restarted gateway shows what is already open:
   * in jetstream mode from the stream's snapshot (every alarm's last message; the closed ones
   * fill the recently closed list), then following the stream.
   */
  async onModuleInit(): Promise<void> {
    if (this.stream) {
      const snapshot = await this.stream.snapshot();
      for (const { update } of snapshot) {
        this.remember(update.alarm);
        if (update.alarm.disposition?.kind === 'test') this.testIds.add(update.alarm.id);
      }
      this.followedFrom = this.stream.position;
      this.logger.log(
        `alarms from the stream: ${this.openById.size} open, ${this.closed.length} recently closed, ` +
          `following after sequence ${this.followedFrom}`,
      );
      this.stream.follow(({ seq, update }) => this.apply([update], true, [seq]));
      return;
    }
    const reply = await this.commands.execute({ action: 'list-open' });
    if (reply.ok && 'alarms' in reply) {
      for (const alarm of reply.alarms) {
        if (!this.openById.has(alarm.id)) this.openById.set(alarm.id, alarm);
        if (alarm.disposition?.kind === 'test') this.testIds.add(alarm.id);
      }
    } else {
      this.logger.warn(
        'could not load the open alarms from the rules service; they appear as they change',
      );
    }
  }

  /** `name` labels the listener's failures (metric, log, `/readyz`). */
  onUpdates(listener: AlarmListener, name = 'listener'): () => void {
    this.listeners.set(listener, name);
    return () => this.listeners.delete(listener);
  }

  /** Listeners that threw within LISTENER_FAILURE_SHOWN_MS of `now` (`/readyz`). */
  listenerFailures(now = Date.now()): AlarmListenerFailure[] {
    return [...this.failures.values()].filter(f => now - f.lastAt < LISTENER_FAILURE_SHOWN_MS);
  }

  get(id: string): Alarm | undefined {
    return this.openById.get(id) ?? this.closed.find(alarm => alarm.id === id);
  }

  open(): Alarm[] {
    return [...this.openById.values()];
  }

  query({ state, site, since }: AlarmQuery): Alarm[] {
    const pool = this.open();
    if (state === undefined || state === 'normal') pool.push(...this.closed);
    return pool
      .filter(alarm => state === undefined || state === 'open' || alarm.state === state)
      .filter(alarm => site === undefined || alarm.siteId === site)
      .filter(alarm => since === undefined || alarm.updatedAt >= since)
      .sort((a, b) => a.priority - b.priority || b.raisedAt - a.raisedAt);
  }

  recentRaises(): RaiseRecord[] {
    return [...this.raises];
  }

  /** Ids of alarms disposed as `test` seen by this gateway. */
  testAlarmIds(): Set<string> {
    return new Set(this.testIds);
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.stream?.stop();
  }

  /**
   * Updates of alarms this gateway owns (`owner`): shown and pushed like every alarm, kept out
   * of the alarm KPIs (they are about Vigil, not the plant), and their actions go to `owner`.
   */
  applyOwned(updates: readonly AlarmUpdate[], owner: OwnedAlarms): void {
    for (const { alarm } of updates) {
      if (isOpen(alarm, DEFAULT_ALARM_POLICY)) this.owners.set(alarm.id, owner);
      else this.owners.delete(alarm.id);
    }
    this.apply(updates, false);
  }

  /** The gateway component that owns this alarm, when it is not the rules process. */
  ownerOf(alarmId: string): OwnedAlarms | undefined {
    return this.owners.get(alarmId);
  }

  private apply(
    updates: readonly AlarmUpdate[],
    countRaises = true,
    seqs?: readonly number[],
  ): void {
    for (const { alarm, action } of updates) {
      if (countRaises && action.action === 'raise') {
        this.raises.push({
          at: action.at,
          key: alarm.key,
          alarmId: alarm.id,
          siteId: alarm.siteId,
          priority: alarm.priority,
        });
        if (this.raises.length > MAX_RAISES) this.raises.splice(0, this.raises.length - MAX_RAISES);
      }
      if (alarm.disposition?.kind === 'test' && !this.testIds.has(alarm.id)) {
        this.testIds.add(alarm.id);
        // A Set iterates in insertion order: the oldest id goes first.
        if (this.testIds.size > MAX_RAISES)
          this.testIds.delete(this.testIds.values().next().value as string);
      }
      this.remember(alarm);
    }
    // Each listener on its own: one that throws (a bug in the notifier, say) must not keep the
    // update from the others (the consoles' WebSocket), nor stop the feed that delivers it (an
    // RxJS subscriber, the VIGIL_ALARMS consumer: it would be dropped for everyone after it).
    for (const [listener, name] of this.listeners) {
      try {
        listener(updates, seqs);
      } catch (error) {
        this.listenerFailed(name, error);
      }
    }
  }

  private listenerFailed(name: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failures.set(name, {
      listener: name,
      errors: (this.failures.get(name)?.errors ?? 0) + 1,
      lastError: message.slice(0, 300),
      lastAt: Date.now(),
    });
    this.metrics?.alarmListenerErrors.inc({ listener: name });
    this.failureLog.warn(
      `alarm-listener:${name}`,
      `alarm updates NOT handled by ${name} (the other listeners had them): ` +
        `${error instanceof Error ? (error.stack ?? message) : message}`,
    );
  }

  private remember(alarm: Alarm): void {
    if (!isOpen(alarm, DEFAULT_ALARM_POLICY)) {
      this.openById.delete(alarm.id);
      this.closed.unshift(alarm);
      if (this.closed.length > RECENTLY_CLOSED) this.closed.pop();
    } else {
      this.openById.set(alarm.id, alarm);
    }
  }
}
