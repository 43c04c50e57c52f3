import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  DeliverPolicy,
  JSONCodec,
  type ConsumerMessages,
  type KV,
  type Msg,
  type Subscription,
} from 'nats';

import type { Alarm, IngestRecord } from '@vigil/contracts';

import {
  alarmCommandSchema,
  executeLocally,
  type AlarmCommand,
  type CommandReply,
} from '../alarms/alarm-commands';
import { ALARM_LOG, type DeviceMode } from '../alarms/alarm-journal';
import { AlarmService } from '../alarms/alarm.service';
import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { leaseKey, PartitionLeases } from '../bus/jetstream/partition-leases';
import {
  BATCH_HEADER,
  RECORDS_SEQ_HEADER,
  StreamAlarmJournal,
} from '../bus/jetstream/stream-alarm-journal';
import {
  ALARMS_STREAM,
  CHECKPOINTS_BUCKET,
  commandSubject,
  LEASES_BUCKET,
  partitionAlarmsFilter,
  partitionModesFilter,
  partitionOf,
  partitionRecordsFilter,
  RECORDS_STREAM,
} from '../bus/jetstream/subjects';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { decodeRuleState, encodeRuleState } from './rule-state-codec';
import { RulesService, type RuleScope } from './rules.service';

/** How often each owned partition's checkpoint is written (when it moved). */
const CHECKPOINT_EVERY_MS = 1000;
/** Records messages a partition's consumer has in flight at most. */
const CONSUMER_MAX_MESSAGES = 512;
/**
 * How often each owned partition's rule state is saved with its checkpoint (key `s<N>`): the next
 * owner restores it and evaluates again the records between it and the resume point, with their
 * signals dropped (docs/reliability.md, "Rule state").
 */
const RULE_STATE_EVERY_MS = 5000;
/**
 * Largest rule state saved in the checkpoints bucket, compressed (NATS's default max_payload is
 * 1 MiB; rule-state-codec.ts). A larger one is not written, counted
 * (`vigil_rules_state_not_saved_total`), logged and listed on /readyz (`details.partitions.
 * stateNotSaved`): the next owner restores an older one, or none (its delays start again).
 */
export const MAX_RULE_STATE_BYTES = 768 * 1024;
/**
 * Records messages the next owner evaluates again at most to bring a saved rule state up to the
 * resume point; beyond, the state is too old: not restored (counted, logged).
 */
export const MAX_RULE_STATE_REPLAY = 100_000;

/** The checkpoints bucket key of a partition's saved rule state. */
export const ruleStateKey = (partition: number) => `s${partition}`;

/** What `s<N>` holds. */
interface SavedRuleState {
  /** VIGIL_RECORDS sequence the state reflects (every record up to it evaluated, durable). */
  readonly seq: number;
  readonly instance: string;
  readonly at: number;
  readonly state: unknown;
}

const codec = JSONCodec<unknown>();

/** What the previous owners left of a partition in VIGIL_ALARMS. */
export interface PartitionSnapshot {
  readonly alarms: Alarm[];
  readonly devices: DeviceMode[];
  /** VIGIL_RECORDS sequence whose transitions are all durable: evaluation resumes after it. */
  readonly evaluatedUpTo: number;
  /** Last-per-subject messages read. */
  readonly messages: number;
}

interface Owned {
  readonly partition: number;
  readonly includes: (siteId: string) => boolean;
  readonly scope: RuleScope;
  readonly commands: Subscription;
  messages: ConsumerMessages | undefined;
  loop: Promise<void> | undefined;
  /** Records stream sequence evaluated (and handed to the journal) up to. */
  evaluated: number;
  checkpointed: number;
  /** Records up to this sequence are evaluated again only to rebuild rule state (no signals). */
  warmUntil: number;
  /** When the rule state was last saved (ms). */
  stateSavedAt: number;
  checkpointTimer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

/**
 * The rules on the JetStream backbone (docs/scaling.md §Rules partitioning and failover): this
 * instance evaluates the partitions whose lease it holds. For each it rebuilds the open alarms
 * and device modes from VIGIL_ALARMS, starts the rule engine for the partition's sites as after
 * a restart, consumes `vigil.records.<p>.*` from where the previous owner's work is durable, and
 * answers `vigil.cmd.<p>`. Why this misses, duplicates and re-raises nothing: docs/reliability.md.
 */
@Injectable()
export class PartitionedRules implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PartitionedRules.name);
  private readonly owned = new Map<number, Owned>();
  /** The takeover under way per partition: a newer one (after a lapse) supersedes it. */
  private readonly acquiring = new Map<number, object>();
  /** Partitions nobody evaluates (not here, no other instance's lease), since when (ms). */
  private readonly unownedSince = new Map<number, number>();
  private unownedTimer: NodeJS.Timeout | undefined;
  /** Unowned partitions already reported in the log as overdue (once per episode). */
  private readonly unownedReported = new Set<number>();
  private leases: PartitionLeases | undefined;
  private checkpoints: KV | undefined;
  private readonly partitions: number;
  /** Owned partitions whose latest rule state could not be saved (too large, or an error). */
  private readonly stateNotSaved = new Map<number, { since: number; bytes: number }>();
  /** Records messages that were not an IngestRecord[] (never written by ingest): skipped. */
  unreadable = 0;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(RulesService) private readonly rules: RulesService,
    @Inject(AlarmService) private readonly alarms: AlarmService,
    @Inject(ALARM_LOG) private readonly journal: StreamAlarmJournal,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {
    this.partitions = config.bus.nats.partitions;
  }

  async onApplicationBootstrap(): Promise<void> {
    const kv = await this.backbone.js.views.kv(LEASES_BUCKET);
    this.checkpoints = await this.backbone.js.views.kv(CHECKPOINTS_BUCKET);
    this.leases = new PartitionLeases(
      kv,
      {
        instance: this.config.bus.instance,
        partitions: this.partitions,
        ttlMs: this.config.bus.nats.leaseTtlMs,
      },
      {
        acquired: partition => this.acquire(partition),
        released: (partition, clean) => this.release(partition, clean),
      },
    );
    this.publishOwned();
    this.leases.start();
    this.unownedTimer = setInterval(() => this.unowned(), 1000);
    this.unownedTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.unownedTimer);
    await this.leases?.stop();
  }

  /**
   * For /readyz: who this is, what it owns, its fair share among the live instances, and the
   * partitions nobody evaluates as seen from here (none evaluating here, no other instance's lease
   * at the last pass): starting, lapsed, or unclaimed. Any of them makes /readyz 503.
   */
  status(): {
    instance: string;
    owned: number[];
    live: number;
    target: number;
    unowned: { partition: number; since: number }[];
    lapses: number;
    stateNotSaved?: { partition: number; since: number; bytes: number }[];
  } {
    const notSaved = [...this.stateNotSaved]
      .filter(([partition]) => this.owned.has(partition))
      .map(([partition, entry]) => ({ partition, ...entry }));
    return {
      instance: this.config.bus.instance,
      owned: [...this.owned.keys()].sort((a, b) => a - b),
      live: this.leases?.live ?? 1,
      target: this.leases?.target() ?? this.partitions,
      unowned: this.unowned(),
      lapses: this.leases?.lapses ?? 0,
      // Reported, not a failed check: evaluation goes on; a takeover would start its delays again.
      ...(notSaved.length > 0 ? { stateNotSaved: notSaved } : {}),
    };
  }

  /** Updates and returns the unowned partitions (and their gauges). */
  private unowned(): { partition: number; since: number }[] {
    const now = Date.now();
    const elsewhere = this.leases?.heldElsewhere() ?? new Set<number>();
    // A takeover takes about a TTL (the old lease expires) plus the rebuild: beyond 3 TTLs a
    // partition nobody evaluates is said loudly, once per episode (and on /readyz throughout).
    const overdueMs = 3 * this.config.bus.nats.leaseTtlMs;
    for (let partition = 0; partition < this.partitions; partition += 1) {
      if (this.owned.has(partition) || elsewhere.has(partition)) {
        if (this.unownedReported.delete(partition))
          this.logger.log(`partition ${partition}: evaluated again`);
        this.unownedSince.delete(partition);
        continue;
      }
      const since = this.unownedSince.get(partition) ?? now;
      this.unownedSince.set(partition, since);
      if (now - since > overdueMs && !this.unownedReported.has(partition)) {
        this.unownedReported.add(partition);
        this.logger.error(
          `partition ${partition}: NOT EVALUATED by any rules instance for ${now - since} ms (no lease held here or elsewhere): its alarms are not raised (vigil_rules_partitions_unowned, /readyz)`,
        );
      }
    }
    const unowned = [...this.unownedSince]
      .sort(([a], [b]) => a - b)
      .map(([partition, since]) => ({ partition, since }));
    this.metrics.rulesPartitionsUnowned.set(unowned.length);
    this.metrics.rulesPartitionUnownedSeconds.set(
      unowned.length === 0 ? 0 : (now - Math.min(...unowned.map(u => u.since))) / 1000,
    );
    return unowned;
  }

  private async acquire(partition: number): Promise<void> {
    const started = Date.now();
    const attempt = {};
    this.acquiring.set(partition, attempt);
    const includes = (siteId: string) => partitionOf(siteId, this.partitions) === partition;
    const snapshot = await rebuildPartition(this.backbone, partition);
    const checkpoint = await this.readCheckpoint(partition);
    const saved = await this.readRuleState(partition);
    // All three are "evaluated up to, all transitions durable": the checkpoint when no alarm
    // changed since, the stream's own stamp when the previous owner died after transitions it had
    // not checkpointed yet (re-evaluating those records would raise their alarms again), and the
    // saved rule state's sequence (written, like the checkpoint, only once durable).
    const resumeAfter = Math.max(checkpoint, snapshot.evaluatedUpTo, saved?.seq ?? 0);
    // The rule state is brought from its snapshot up to the resume point by evaluating those
    // records again with their signals dropped; too far behind, it is not restored (counted).
    let restore: { snapshot: unknown; from: string } | undefined;
    if (saved && resumeAfter - saved.seq <= MAX_RULE_STATE_REPLAY)
      restore = {
        snapshot: saved.state,
        from: `${saved.instance}'s snapshot at records seq ${saved.seq} (${resumeAfter - saved.seq} message(s) to evaluate again)`,
      };
    else if (saved) {
      this.rules.countUnrestored(1);
      this.logger.warn(
        `partition ${partition}: saved rule state at records seq ${saved.seq} is ${resumeAfter - saved.seq} messages behind the resume point (more than ${MAX_RULE_STATE_REPLAY}): not restored; rules start as after a restart`,
      );
    } else if (resumeAfter > 0) {
      this.rules.countUnrestored(1);
      this.logger.warn(
        `partition ${partition}: no saved rule state; rules start as after a restart (pending on/off-delays and windows start over)`,
      );
    }
    const startAfter = restore && saved ? saved.seq : resumeAfter;
    // Lost while rebuilding (the lease was not renewed in time), or taken back since by a newer
    // takeover: nothing was started by this one.
    if (!this.leases?.holds(partition) || this.acquiring.get(partition) !== attempt) return;
    this.acquiring.delete(partition);
    const leases = this.leases;
    this.journal.own(partition, resumeAfter, () => leases.valid(partition));
    this.alarms.adopt(snapshot.alarms, snapshot.devices);
    const scope = this.rules.startScope(`partition ${partition}`, includes, restore);
    if (startAfter < resumeAfter) scope.warm(true);
    const commands = this.backbone.nc.subscribe(commandSubject(partition), {
      callback: (error, message) => {
        if (!error) void this.command(partition, includes, message);
      },
    });
    const owned: Owned = {
      partition,
      includes,
      scope,
      commands,
      messages: undefined,
      loop: undefined,
      evaluated: resumeAfter,
      checkpointed: checkpoint,
      warmUntil: startAfter < resumeAfter ? resumeAfter : 0,
      stateSavedAt: Date.now(),
      checkpointTimer: undefined,
      stopped: false,
    };
    this.owned.set(partition, owned);
    // StartSequence from 1 rather than All: nats.js sets opt_start_seq either way, and the
    // server refuses All with a start sequence.
    const consumer = await this.backbone.js.consumers.get(RECORDS_STREAM, {
      filterSubjects: partitionRecordsFilter(partition),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startAfter + 1,
    });
    if (owned.stopped) return;
    // Nothing to evaluate again for this partition (no record of it since the snapshot).
    if (owned.warmUntil > 0 && (await consumer.info()).num_pending === 0) this.warmed(owned);
    owned.messages = await consumer.consume({ max_messages: CONSUMER_MAX_MESSAGES });
    if (owned.stopped) {
      await owned.messages.close();
      return;
    }
    owned.loop = this.evaluate(owned, owned.messages);
    owned.checkpointTimer = setInterval(() => void this.checkpoint(owned), CHECKPOINT_EVERY_MS);
    owned.checkpointTimer.unref();
    this.metrics.rulesPartitionMoves.inc({ change: 'acquired' });
    this.publishOwned();
    this.logger.log(
      `partition ${partition}: ${snapshot.alarms.length} open alarm(s) and ${snapshot.devices.length} device mode(s) rebuilt from ${snapshot.messages} message(s); records from seq ${resumeAfter + 1} (checkpoint ${checkpoint}, alarms stamped ${snapshot.evaluatedUpTo}, rule state ${saved ? `at ${saved.seq}${restore ? `, evaluated again from ${startAfter + 1}` : ', not restored'}` : 'none'}); ready in ${Date.now() - started} ms`,
    );
  }

  /** The records evaluated again reached the resume point: signals from now on are live. */
  private warmed(owned: Owned): void {
    if (owned.warmUntil === 0) return;
    owned.warmUntil = 0;
    owned.scope.warm(false);
  }

  private async evaluate(owned: Owned, messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      if (owned.stopped) break;
      let records: IngestRecord[];
      try {
        records = message.json<IngestRecord[]>();
        if (!Array.isArray(records)) throw new Error('not an array');
      } catch {
        this.unreadable += 1;
        owned.evaluated = Math.max(owned.evaluated, message.seq);
        if (owned.warmUntil > 0 && (message.seq >= owned.warmUntil || message.info.pending === 0))
          this.warmed(owned);
        continue;
      }
      if (owned.warmUntil > 0) {
        if (message.seq <= owned.warmUntil) {
          // Evaluated again for its rule state only: its transitions are durable already.
          owned.scope.push(records);
          owned.scope.flush();
          if (message.seq >= owned.warmUntil || message.info.pending === 0) this.warmed(owned);
          continue;
        }
        this.warmed(owned);
      }
      // Signals raised by ticks since the last message are journaled with the sequence before
      // this one; this message's signals with its own (the stamp means "all durable up to").
      owned.scope.flush();
      this.journal.evaluating(owned.partition, message.seq);
      owned.scope.push(records);
      owned.scope.flush();
      owned.evaluated = message.seq;
    }
  }

  /** Writes the checkpoint once every transition up to it is durable, while still the owner. */
  private async checkpoint(owned: Owned): Promise<void> {
    const seq = owned.evaluated;
    if (seq <= owned.checkpointed || owned.stopped) return;
    // The rule state as of `seq` (evaluation is synchronous: nothing ran since `seq` was read).
    const state =
      owned.warmUntil === 0 && Date.now() - owned.stateSavedAt >= RULE_STATE_EVERY_MS
        ? owned.scope.snapshot()
        : undefined;
    // Only what is durable may be checkpointed: an append abandoned (lease lost) must be
    // evaluated again by the next owner.
    const durable = await this.journal.settled(owned.partition);
    if (!durable || owned.stopped || this.owned.get(owned.partition) !== owned) return;
    if (state) {
      owned.stateSavedAt = Date.now();
      await this.writeRuleState(owned.partition, seq, state);
    }
    await this.writeCheckpoint(owned.partition, seq);
    owned.checkpointed = Math.max(owned.checkpointed, seq);
  }

  /** Saves a partition's rule state as of records `seq` (bounded: MAX_RULE_STATE_BYTES). */
  private async writeRuleState(partition: number, seq: number, state: unknown): Promise<void> {
    const saved: SavedRuleState = {
      seq,
      instance: this.config.bus.instance,
      at: Date.now(),
      state,
    };
    const bytes = await encodeRuleState(saved);
    if (bytes.length > MAX_RULE_STATE_BYTES) {
      this.metrics.rulesStateNotSaved.inc({ reason: 'too-large' });
      this.stateNotSaved.set(partition, {
        since: this.stateNotSaved.get(partition)?.since ?? saved.at,
        bytes: bytes.length,
      });
      this.logger.warn(
        `partition ${partition}: rule state of ${bytes.length} bytes (compressed) not saved (more than ${MAX_RULE_STATE_BYTES}): a takeover restores an older one, or none`,
      );
      return;
    }
    try {
      await this.checkpoints?.put(ruleStateKey(partition), bytes);
      this.stateNotSaved.delete(partition);
    } catch (error) {
      this.metrics.rulesStateNotSaved.inc({ reason: 'error' });
      this.stateNotSaved.set(partition, {
        since: this.stateNotSaved.get(partition)?.since ?? saved.at,
        bytes: bytes.length,
      });
      this.logger.warn(
        `partition ${partition}: rule state not saved: ${(error as Error)?.message}`,
      );
    }
  }

  private async readRuleState(partition: number): Promise<SavedRuleState | undefined> {
    try {
      const entry = await this.checkpoints?.get(ruleStateKey(partition));
      if (!entry || entry.operation !== 'PUT') return undefined;
      const saved = (await decodeRuleState(entry.value)) as Partial<SavedRuleState>;
      if (typeof saved.seq !== 'number' || !Number.isSafeInteger(saved.seq) || saved.seq < 0) {
        this.rules.countUnrestored(1);
        this.logger.warn(`partition ${partition}: saved rule state unreadable: not restored`);
        return undefined;
      }
      return {
        seq: saved.seq,
        instance: String(saved.instance),
        at: Number(saved.at),
        state: saved.state,
      };
    } catch (error) {
      this.rules.countUnrestored(1);
      this.logger.warn(
        `partition ${partition}: saved rule state not read (${(error as Error)?.message}): not restored`,
      );
      return undefined;
    }
  }

  private async writeCheckpoint(partition: number, seq: number): Promise<void> {
    try {
      await this.checkpoints?.put(
        leaseKey(partition),
        codec.encode({ seq, instance: this.config.bus.instance, at: Date.now() }),
      );
    } catch (error) {
      this.logger.warn(
        `partition ${partition}: checkpoint not written: ${(error as Error)?.message}`,
      );
    }
  }

  private async readCheckpoint(partition: number): Promise<number> {
    const entry = await this.checkpoints?.get(leaseKey(partition));
    if (!entry || entry.operation !== 'PUT') return 0;
    const seq = (entry.json() as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
  }

  /**
   * Stops evaluating a partition. Given back (clean): what was evaluated is made durable and
   * checkpointed first, within half a TTL. Lost: at once, nothing more is journaled for it.
   * Either way its rule state, alarms and modes leave this instance's memory.
   */
  private async release(partition: number, clean: boolean): Promise<void> {
    this.acquiring.delete(partition);
    const owned = this.owned.get(partition);
    if (!owned) return;
    this.owned.delete(partition);
    owned.stopped = true;
    clearInterval(owned.checkpointTimer);
    owned.commands.unsubscribe();
    await owned.messages?.close().catch(() => undefined);
    await owned.loop?.catch(() => undefined);
    owned.scope.flush();
    const state = clean && owned.warmUntil === 0 ? owned.scope.snapshot() : undefined;
    owned.scope.stop();
    if (clean) {
      const ttl = this.config.bus.nats.leaseTtlMs;
      const durable = await Promise.race([
        this.journal.settled(partition),
        new Promise<boolean>(resolve => setTimeout(() => resolve(false), ttl / 2).unref()),
      ]);
      // Given back: the next owner goes on with this state as it is now.
      if (durable && state) await this.writeRuleState(partition, owned.evaluated, state);
      if (durable && owned.evaluated > owned.checkpointed)
        await this.writeCheckpoint(partition, owned.evaluated);
    }
    this.journal.disown(partition);
    // Anything still pending for these sites is flushed into a journal that refuses it, then
    // dropped with the rest: the new owner rebuilds from what is durable.
    this.rules.flushPending();
    this.alarms.drop(owned.includes);
    this.metrics.rulesPartitionMoves.inc({ change: clean ? 'released' : 'lost' });
    this.publishOwned();
  }

  private async command(
    partition: number,
    includes: (siteId: string) => boolean,
    message: Msg,
  ): Promise<void> {
    let reply: CommandReply;
    let body: unknown;
    try {
      body = message.json();
    } catch {
      body = undefined;
    }
    const parsed = alarmCommandSchema.safeParse(body);
    if (!parsed.success) {
      reply = { ok: false, status: 400, message: 'not an alarm command' };
    } else {
      const command = parsed.data as AlarmCommand;
      try {
        if (command.action === 'list-open') {
          reply = { ok: true, alarms: this.alarms.open().filter(alarm => includes(alarm.siteId)) };
        } else if (command.action === 'device-mode' && !includes(command.siteId)) {
          reply = {
            ok: false,
            status: 409,
            message: `site ${command.siteId} is not in partition ${partition}`,
          };
        } else {
          reply = executeLocally(this.alarms, command);
          // Answered once durable: an operator never sees an acknowledgement a failover undoes.
          await this.alarms.settled();
          if (!this.owned.has(partition))
            reply = { ok: false, status: 503, message: `partition ${partition} moved; retry` };
        }
      } catch (error) {
        this.logger.error(`command ${command.action} failed: ${(error as Error)?.stack}`);
        reply = { ok: false, status: 503, message: 'the rules service failed on this command' };
      }
    }
    if (message.reply) message.respond(codec.encode(reply));
  }

  private publishOwned(): void {
    this.metrics.rulesPartitionsOwned.set({ instance: this.config.bus.instance }, this.owned.size);
  }
}

/**
 * Reads what the previous owners left of a partition: the last message of every
 * `vigil.alarms.<p>.…` and `vigil.modes.<p>.…` subject. The open alarms and device modes are the
 * state; the newest message says up to which records sequence every transition is durable: its
 * stamp if its append was whole (Vigil-Batch i/n with i = n - 1), else the sequence before (that
 * append was cut: the records it stamps are evaluated again, and the part already durable is
 * seeded into the engine so it is not raised twice).
 */
export async function rebuildPartition(
  backbone: Backbone,
  partition: number,
): Promise<PartitionSnapshot> {
  const alarms = new Map<string, Alarm>();
  const devices = new Map<string, DeviceMode>();
  let newest = { seq: 0, stamp: 0, whole: true };
  let read = 0;
  for (const filter of [partitionAlarmsFilter(partition), partitionModesFilter(partition)]) {
    const info = await backbone.jsm.streams.info(ALARMS_STREAM, { subjects_filter: filter });
    const subjects = Object.keys(info.state.subjects ?? {}).length;
    if (subjects === 0) continue;
    const consumer = await backbone.js.consumers.get(ALARMS_STREAM, {
      filterSubjects: filter,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const messages = await consumer.consume({ max_messages: 1024 });
    let seen = 0;
    for await (const message of messages) {
      read += 1;
      seen += 1;
      const stamp = Number(message.headers?.get(RECORDS_SEQ_HEADER) ?? 0);
      const [index, count] = (message.headers?.get(BATCH_HEADER) ?? '0/1').split('/').map(Number);
      if (message.seq > newest.seq)
        newest = {
          seq: message.seq,
          stamp: Number.isSafeInteger(stamp) ? stamp : 0,
          whole: index === undefined || count === undefined || index >= count - 1,
        };
      try {
        if (message.subject.startsWith('vigil.alarms.')) {
          const { alarm } = message.json<{ alarm: Alarm }>();
          alarms.set(alarm.id, alarm);
        } else {
          const device = message.json<DeviceMode>();
          devices.set(`${device.siteId}/${device.deviceId}`, device);
        }
      } catch {
        // Not written by Vigil: nothing to rebuild from it.
      }
      if (seen >= subjects || message.info.pending === 0) break;
    }
    await messages.close();
  }
  return {
    alarms: [...alarms.values()],
    devices: [...devices.values()].filter(device => device.mode),
    evaluatedUpTo: newest.whole ? newest.stamp : Math.max(0, newest.stamp - 1),
    messages: read,
  };
}
