import { join } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Subject, type Subscription } from 'rxjs';

import type { IngestRecord } from '@vigil/contracts';
import { Spool, type SpoolCursor } from '@vigil/spool';

import { alarmUpdateJson } from '../../alarms/alarm-json';
import { VIGIL_CONFIG, type VigilConfig } from '../../config/vigil-config';
import type { JournalMessage } from '../../ingest/ingest-journal';
import { RateLimitedLogger } from '../../common/rate-limited-logger';
import { VigilMetrics } from '../../metrics/metrics';
import { PipelineBus, type AlarmUpdate } from '../pipeline-bus';
import { SpoolAlarmLog } from './spool-alarm-log';

/** Spool entries replayed into the bus per batch at start. */
const REPLAY_BATCH_ENTRIES = 1000;
/** How long a drop keeps /readyz degraded and the console notice up. */
const DROP_VISIBLE_MS = 10 * 60_000;
/** A lane this full is reported before it drops anything. */
const NEARLY_FULL = 0.8;
const STATS_INTERVAL_MS = 1000;

export type SpoolLane = 'records' | 'alarms';

/**
 * Alarm updates as the alarm lane numbered them (one entry each, written to the file before this
 * is emitted); `seqs` absent when the lane could not take them (the console still gets them live).
 */
export interface SpooledAlarmUpdates {
  readonly updates: readonly AlarmUpdate[];
  readonly seqs?: readonly number[];
}

/** What the console shows (a system message on the WebSocket) and /readyz says. */
export interface SpoolNotice {
  readonly level: 'info' | 'warn' | 'error';
  readonly code: 'spool-dropped' | 'spool-backlog' | 'spool-ok';
  readonly message: string;
}

export interface SpoolHealth {
  readonly ok: boolean;
  readonly reason: string | undefined;
  readonly lanes: Record<
    SpoolLane,
    { bytes: number; maxBytes: number; backlog: Record<string, number>; dropped: number }
  >;
}

/**
 * The all-in-one pipeline's durable hop (VIGIL_BUS=memory, issue 12): two spool lanes under
 * `config.bus.spool.dir`.
 *
 * - `records`: every device message ingest accepted (SpoolJournal; the device's PUBACK waits for
 *   the group fdatasync). The persister reads it by cursor `persister` and commits once InfluxDB
 *   settled the lines; the rules commit cursor `rules` after each bus batch was evaluated (the bus
 *   is synchronous), and at start the entries after it are replayed into the bus before ingest
 *   connects: what was accepted but not evaluated when the process died is evaluated now.
 * - `alarms`: every alarm update, one entry each, for the persister (cursor `persister`) and the
 *   WebSocket (`alarmLog`: the entry's seq is the `alarm` message's seq, durable across restarts;
 *   the newest VIGIL_WS_REPLAY entries are kept for consoles that resume). Its own files and
 *   bound: alarm events never make room for readings, nor readings for them.
 *
 * Bounds (VIGIL_SPOOL_MAX_MB, VIGIL_SPOOL_ALARMS_MAX_MB): a full lane drops its oldest segments,
 * read or not (the rules must never stop), counted in `vigil_spool_dropped_total{lane}`, logged,
 * and shown on /readyz (degraded) and the console.
 */
@Injectable()
export class LocalSpool implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LocalSpool.name);
  private readonly rateLimited = new RateLimitedLogger(this.logger);
  readonly records: Spool;
  readonly alarms: Spool;
  /** The persister's positions (absent with VIGIL_INFLUX_MODE=off: nothing waits for them). */
  readonly persisterRecords: SpoolCursor | undefined;
  readonly persisterAlarms: SpoolCursor | undefined;
  private readonly rules: SpoolCursor | undefined;
  /**
   * Where the rules' saved state stands (RulesService commits it when it saves the state): the
   * entries after it are kept so that a restart evaluates them again to bring that state up to
   * the `rules` cursor, with their signals dropped (docs/reliability.md, "Rule state").
   */
  readonly rulesState: SpoolCursor | undefined;
  private readonly notices = new Subject<SpoolNotice>();
  /** Changes of the spool's state for the console (WsHub broadcasts them). */
  readonly notices$ = this.notices.asObservable();
  private readonly spooledAlarms = new Subject<SpooledAlarmUpdates>();
  /** Every alarm update with its alarm-lane seq (AlarmView follows this, not the bus). */
  readonly alarms$ = this.spooledAlarms.asObservable();
  /** The alarm lane as the WebSocket's durable alarm log (seq and epoch survive a restart). */
  readonly alarmLog: SpoolAlarmLog;
  private readonly subscriptions: Subscription[] = [];
  private lastDropAt = 0;
  private droppedRecently = { records: 0, alarms: 0 };
  private nearlyFull = false;
  /** While the start replay runs: the last entry handed to the bus (the rules' commit). */
  private replayingSeq: number | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    @Inject(VIGIL_CONFIG) config: VigilConfig,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {
    const { dir, maxBytes, alarmsMaxBytes, fsyncMs } = config.bus.spool;
    this.records = Spool.open({
      dir: join(dir, 'records'),
      maxBytes,
      fsyncMs,
      onDrop: entries => this.dropped('records', entries),
    });
    const alarmsDir = join(dir, 'alarms');
    const freshAlarmLane = SpoolAlarmLog.isFresh(alarmsDir);
    this.alarms = Spool.open({
      dir: alarmsDir,
      maxBytes: alarmsMaxBytes,
      fsyncMs,
      onDrop: entries => this.dropped('alarms', entries),
      // What a console resuming after a restart can still be replayed (as the ring holds live).
      retainEntries: config.wsReplay,
    });
    this.alarmLog = new SpoolAlarmLog(
      this.alarms,
      SpoolAlarmLog.epochOf(alarmsDir, freshAlarmLane),
    );
    for (const lane of ['records', 'alarms'] as const) {
      const torn = this[lane].stats().tornAtOpen;
      metrics.spoolTorn.inc({ lane }, torn);
      if (torn > 0)
        this.logger.warn(
          `spool ${lane}: a torn last entry (the process died mid-write) was cut off at open; it was never acknowledged`,
        );
    }
    // Every consumer's cursor exists from the start: segments are trimmed below all of them.
    if (config.influx.mode !== 'off') {
      this.persisterRecords = this.records.cursor('persister');
      this.persisterAlarms = this.alarms.cursor('persister');
    }
    if (config.services.includes('rules')) {
      this.rules = this.records.cursor('rules', { fromEnd: true });
      this.rulesState = this.records.cursor('rules-state', { fromEnd: true });
    }
    // Alarm updates as the alarm service publishes them (after its own journal has them).
    this.subscriptions.push(bus.alarms$.subscribe(updates => this.spoolAlarms(updates)));
    const stats = this.records.stats();
    this.logger.log(
      `spool ${dir}: records ${stats.lastSeq - stats.firstSeq + 1} entries kept (${Math.round(stats.bytes / 1024)} KiB), ` +
        `persister ${this.persisterRecords ? this.persisterRecords.lag : '-'} behind, rules ${this.rules ? this.rules.lag : '-'} behind`,
    );
  }

  /**
   * After every service's onModuleInit (the rules subscribe to the bus there) and before the
   * MQTT server connects: replays what the rules had not evaluated, then follows the live bus.
   */
  onApplicationBootstrap(): void {
    const rules = this.rules;
    if (rules) {
      this.subscriptions.push(
        this.bus.records$.subscribe(() => rules.commit(this.replayingSeq ?? this.records.lastSeq)),
      );
      this.replay(rules);
    }
    this.publishStats();
    this.statsTimer = setInterval(() => this.publishStats(), STATS_INTERVAL_MS);
    this.statsTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.spooledAlarms.complete();
    clearInterval(this.statsTimer);
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    await this.records.close();
    await this.alarms.close();
    this.notices.complete();
  }

  /** The records entry the rules have evaluated up to (their cursor), 0 without rules. */
  rulesEvaluated(): number {
    return this.rules?.committed ?? 0;
  }

  /** For /readyz: degraded while a lane dropped entries recently or is nearly full. */
  health(): SpoolHealth {
    const lanes = {} as SpoolHealth['lanes'];
    for (const lane of ['records', 'alarms'] as const) {
      const stats = this[lane].stats();
      const backlog: Record<string, number> = {};
      for (const [name, committed] of Object.entries(stats.cursors))
        backlog[name] = stats.lastSeq - committed;
      lanes[lane] = {
        bytes: stats.bytes,
        maxBytes: stats.maxBytes,
        backlog,
        dropped: stats.dropped,
      };
    }
    const recent = Date.now() - this.lastDropAt < DROP_VISIBLE_MS;
    const reason = recent
      ? `spool dropped ${this.droppedRecently.records} record and ${this.droppedRecently.alarms} alarm entries unread (full); they are not stored`
      : this.nearlyFull
        ? 'spool nearly full: InfluxDB is not keeping up or is down'
        : undefined;
    return { ok: reason === undefined, reason, lanes };
  }

  /** Records of a records-lane entry (a JournalMessage). */
  static recordsOf(payload: Buffer): readonly IngestRecord[] {
    return (JSON.parse(payload.toString('utf8')) as JournalMessage).records;
  }

  private replay(rules: SpoolCursor): void {
    const started = Date.now();
    let entries = 0;
    let records = 0;
    try {
      for (
        let batch = rules.read(REPLAY_BATCH_ENTRIES);
        batch.length > 0;
        batch = rules.read(REPLAY_BATCH_ENTRIES)
      ) {
        const out: IngestRecord[] = [];
        for (const entry of batch) {
          try {
            for (const record of LocalSpool.recordsOf(entry.payload)) out.push(record);
          } catch (error) {
            this.logger.error(
              `spool records entry ${entry.seq} unreadable, skipped: ${(error as Error).message}`,
            );
          }
        }
        entries += batch.length;
        records += out.length;
        this.replayingSeq = batch[batch.length - 1]?.seq;
        this.bus.publishRecords(out);
        // No record in the batch (all unreadable): nothing reached the bus to commit it.
        if (out.length === 0 && this.replayingSeq !== undefined) rules.commit(this.replayingSeq);
      }
    } finally {
      this.replayingSeq = undefined;
    }
    if (entries > 0)
      this.logger.warn(
        `replayed ${records} records (${entries} device messages) accepted before the last stop but not evaluated by the rules, in ${Date.now() - started} ms`,
      );
  }

  /**
   * One entry per update (its seq is the WebSocket seq), written to the file before anyone sees
   * the seq: a SIGKILL keeps it (page cache), so a seq a console saw is never reused after a
   * restart. A lane that cannot take them (disk error) is logged and counted; the updates still
   * go to the consoles, unnumbered (not replayable).
   */
  private spoolAlarms(updates: readonly AlarmUpdate[]): void {
    if (this.closed) {
      this.spooledAlarms.next({ updates });
      return;
    }
    let seqs: number[] | undefined;
    try {
      // `JSON.stringify([update])`, with the alarm's JSON made once for journal, lane and consoles.
      seqs = updates.map(({ alarm, action }) =>
        this.alarms.append(`[${alarmUpdateJson(alarm, action)}]`),
      );
      this.alarms.flush();
    } catch (error) {
      seqs = undefined;
      this.metrics.spoolDropped.inc({ lane: 'alarms' }, updates.length);
      this.logger.error(
        `spool alarms lane: ${updates.length} alarm updates NOT spooled (${(error as Error).message}): not stored, not replayable to consoles`,
      );
    }
    this.spooledAlarms.next(seqs ? { updates, seqs } : { updates });
  }

  private dropped(lane: SpoolLane, entries: number): void {
    this.metrics.spoolDropped.inc({ lane }, entries);
    if (Date.now() - this.lastDropAt >= DROP_VISIBLE_MS)
      this.droppedRecently = { records: 0, alarms: 0 };
    this.droppedRecently[lane] += entries;
    this.lastDropAt = Date.now();
    const message = `spool ${lane} lane full: ${entries} unread entries dropped (oldest first) and NOT stored; InfluxDB is down or too slow for longer than the spool lasts (vigil_spool_dropped_total)`;
    if (this.rateLimited.warn(`spool-dropped-${lane}`, message))
      this.notices.next({ level: 'error', code: 'spool-dropped', message });
  }

  private publishStats(): void {
    let nearlyFull = false;
    for (const lane of ['records', 'alarms'] as const) {
      const stats = this[lane].stats();
      this.metrics.spoolBytes.set({ lane }, stats.bytes);
      for (const [cursor, committed] of Object.entries(stats.cursors))
        this.metrics.spoolBacklog.set({ lane, cursor }, stats.lastSeq - committed);
      if (stats.bytes > NEARLY_FULL * stats.maxBytes) nearlyFull = true;
    }
    if (nearlyFull !== this.nearlyFull) {
      this.nearlyFull = nearlyFull;
      const notice: SpoolNotice = nearlyFull
        ? {
            level: 'warn',
            code: 'spool-backlog',
            message: `spool over ${NEARLY_FULL * 100} % full: readings wait on disk for InfluxDB; beyond the bound the oldest are dropped`,
          }
        : { level: 'info', code: 'spool-ok', message: 'spool backlog back under its bound' };
      if (nearlyFull) this.logger.error(notice.message);
      else this.logger.log(notice.message);
      this.notices.next(notice);
    }
  }
}
