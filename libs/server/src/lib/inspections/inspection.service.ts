import { randomUUID } from 'node:crypto';
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
  MAX_WINDOWS_PER_CHECK,
  cadenceOf,
  inspectionMissedSignal,
  newlyMissedWindows,
  recordInspection,
  windowAt,
  type HazardActor,
  type InspectionAnswerInput,
  type InspectionRefusal,
} from '@vigil/alarms';
import {
  inspectionMissedKey,
  type InspectionMiss,
  type InspectionRecord,
  type InspectionScheduleDefinition,
  type InspectionScheduleView,
  type RuleSignal,
} from '@vigil/contracts';

import { siteTimeZone } from '@vigil/registry';

import { AlarmService } from '../alarms/alarm.service';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { HazardService } from '../hazards/hazard.service';
import { JournalStatus } from '../journal/journal-status';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import {
  InspectionJournal,
  missKey,
  scheduleKey,
  type InspectionJournalEntry,
} from './inspection-journal';

/** Injected so that tests drive the windows in virtual time. */
export const INSPECTION_CLOCK = Symbol('INSPECTION_CLOCK');
export type InspectionClock = () => number;

/** A schedule of the registry with its site. */
export type Schedule = InspectionScheduleDefinition & {
  readonly siteId: string;
  readonly enterprise: string;
  readonly timeZone: string;
};

/**
 * Missed windows of one schedule raised as alarms from one search at most: after an outage of
 * weeks a daily schedule would otherwise flood the console with one alarm per day. The older ones
 * are journaled, counted and listed as missed all the same, without an alarm of their own.
 */
export const MAX_MISSED_ALARMS_AT_ONCE = 7;
/** Resolved misses whose alarm is cleared again at start (a crash between journal and clear). */
const REASSERT_RESOLVED_MS = 7 * 24 * 3_600_000;

export type InspectionResult =
  | { readonly ok: true; readonly record: InspectionRecord }
  | InspectionRefusal
  | { readonly ok: false; readonly status: 503; readonly message: string };

/**
 * Owns the inspection ledger (issue 15): the schedules come from the site registry, the records
 * and the missed windows are journaled here. Every VIGIL_ALARM_TICK_MS it looks for windows that
 * closed without a record: each is journaled as missed (durable) and only then raised through the
 * alarm lifecycle as `inspection-missed` (P3, one alarm per window: acknowledged, disposed and
 * escalated like any other). A record made later resolves the schedule's missed windows (journaled)
 * and clears their alarms. At start the journal is replayed and the alarms of its misses are
 * re-asserted (raise for the unresolved, clear for the recently resolved): a signal repeated is a
 * no-op in the lifecycle, so a crash at any point neither doubles nor loses an alarm, and windows
 * that closed while the process was down are found at the first tick.
 *
 * The missed-inspection alarm needs the alarm lifecycle in this process: in a split deployment
 * (gateway without rules, or the JetStream backbone's partitioned lifecycle) inspections are
 * unavailable (the API answers 503, /readyz and `vigil_inspections_unwatched` say so).
 */
@Injectable()
export class InspectionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(InspectionService.name);
  private readonly journal: InspectionJournal;
  private readonly watched = new Map<string, number>();
  private readonly recordsById = new Map<string, InspectionRecord>();
  /** Schedule key → its records, oldest first. */
  private readonly recordsBySchedule = new Map<string, InspectionRecord[]>();
  private readonly misses = new Map<string, InspectionMiss>();
  /** Schedule key → its missed windows, oldest first. */
  private readonly missesBySchedule = new Map<string, InspectionMiss[]>();
  /** Schedule key → no window of it can close before `until` (as of its cadence and zone). */
  private readonly quietUntil = new Map<
    string,
    { readonly cadence: string; readonly timeZone: string; readonly until: number }
  >();
  /** Misses of removed schedules whose alarms were cleared (see `clearOrphans`). */
  private readonly orphansCleared = new Set<string>();
  /** Records with a failed item whose hazard is not opened yet (the ledger refused): retried. */
  private readonly hazardsPending = new Set<string>();
  private lastNo = 0;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  /** Why inspections cannot run in this process, or undefined when they do. */
  readonly unavailable: string | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(INSPECTION_CLOCK) private readonly clock: InspectionClock,
    @Optional() @Inject(AlarmService) private readonly alarms?: AlarmService,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
  ) {
    this.journal = new InspectionJournal(join(config.dataDir, 'inspections'), journalStatus);
    this.unavailable = !this.alarms
      ? 'no alarm lifecycle in this process (gateway and rules split): a missed inspection would raise no alarm; inspections run in the all-in-one deployment'
      : config.bus.kind === 'jetstream'
        ? 'the alarm lifecycle is partitioned across rules instances (JetStream backbone): inspections run in the all-in-one deployment on the local bus'
        : undefined;
  }

  onModuleInit(): void {
    if (this.unavailable !== undefined) {
      const count = this.schedules().length;
      this.metrics?.inspectionsUnwatched.set(count);
      if (count > 0)
        this.logger.error(
          `${count} inspection schedule(s) in the registry are NOT watched: ${this.unavailable}`,
        );
      return;
    }
    this.open();
    this.tick(this.clock());
    if (this.config.alarmTickMs > 0) {
      this.timer = setInterval(() => this.tick(this.clock()), this.config.alarmTickMs);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.journal.close();
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    const restored = this.journal.open();
    for (const [key, since] of restored.watched) this.watched.set(key, since);
    for (const record of restored.records.values()) this.rememberRecord(record);
    for (const miss of restored.misses.values()) this.rememberMiss(miss);
    this.logger.log(
      `inspection journal ${this.journal.path}: ${restored.entries} entries, ${this.recordsById.size} record(s), ${this.misses.size} missed window(s)` +
        (restored.skipped > 0 ? `, ${restored.skipped} torn line(s) skipped` : ''),
    );
    this.reassert(this.clock());
  }

  /**
   * The alarms of the journaled misses as the journal says they should be: raised while
   * unresolved, cleared when resolved recently. The lifecycle must have its own journal restored
   * first (`open()`), or a raise here would open a second alarm for a key it already has.
   */
  private reassert(now: number): void {
    const alarms = this.alarms;
    if (!alarms) return;
    alarms.open();
    const signals: RuleSignal[] = [];
    for (const miss of this.misses.values()) {
      if (miss.alarmKey === undefined) continue;
      const schedule = this.schedule(miss.siteId, miss.scheduleId);
      if (miss.resolvedAt === undefined && schedule)
        signals.push(inspectionMissedSignal(schedule, miss.window, true, now));
      else if (miss.resolvedAt === undefined || miss.resolvedAt >= now - REASSERT_RESOLVED_MS)
        // Resolved, or its schedule left the registry (nothing left to inspect): cleared.
        signals.push(
          inspectionMissedSignal(
            schedule ?? removedSchedule(miss),
            miss.window,
            false,
            miss.resolvedAt ?? now,
          ),
        );
    }
    this.apply(signals);
  }

  /** Every schedule of the registry. */
  schedules(): Schedule[] {
    return this.registry.current.sites.flatMap(site =>
      (site.inspections ?? []).map(definition => ({
        ...definition,
        siteId: site.id,
        enterprise: site.enterprise,
        timeZone: siteTimeZone(site),
      })),
    );
  }

  schedule(siteId: string, scheduleId: string): Schedule | undefined {
    const site = this.registry.current.site(siteId);
    const definition = site?.inspections?.find(schedule => schedule.id === scheduleId);
    return site && definition
      ? { ...definition, siteId, enterprise: site.enterprise, timeZone: siteTimeZone(site) }
      : undefined;
  }

  /** Where a schedule stands at `now`: its window, due time, last record and missed windows. */
  view(schedule: Schedule, now = this.clock()): InspectionScheduleView {
    const key = scheduleKey(schedule.siteId, schedule.id);
    const cadence = cadenceOf(schedule);
    const current = windowAt(cadence, now, schedule.timeZone);
    const last = this.recordsBySchedule.get(key)?.at(-1);
    const missed = (this.missesBySchedule.get(key) ?? []).filter(m => m.resolvedAt === undefined);
    return {
      ...schedule,
      cadence,
      current,
      doneInCurrent: last !== undefined && last.at >= current.start && last.at < current.end,
      dueAt: current.end,
      watchedSince: this.watched.get(key) ?? now,
      ...(last ? { lastRecord: { id: last.id, at: last.at, by: last.by } } : {}),
      missed,
      overdue: missed.length > 0,
    };
  }

  records(): InspectionRecord[] {
    return [...this.recordsById.values()];
  }

  record(id: string): InspectionRecord | undefined {
    return this.recordsById.get(id);
  }

  missed(): InspectionMiss[] {
    return [...this.misses.values()];
  }

  /**
   * Records a signed inspection: durable first (the record, and the missed windows it resolves),
   * then a hazard in the ledger for each failed item (through HazardService, linked back to the
   * record and item), then the record again with its hazards, then the missed alarms cleared.
   */
  recordInspection(
    siteId: string,
    scheduleId: string,
    input: {
      readonly answers: readonly InspectionAnswerInput[];
      readonly note?: string | undefined;
    },
    actor: HazardActor,
  ): InspectionResult {
    if (this.unavailable !== undefined)
      return { ok: false, status: 503, message: this.unavailable };
    const schedule = this.schedule(siteId, scheduleId);
    if (!schedule)
      return { ok: false, status: 404, message: `no inspection schedule ${scheduleId}` };
    const now = this.clock();
    const result = recordInspection(schedule, input, actor, {
      now,
      id: randomUUID(),
      no: this.lastNo + 1,
    });
    if (!result.ok) return result;
    const key = scheduleKey(siteId, scheduleId);
    const resolved = (this.missesBySchedule.get(key) ?? [])
      .filter(miss => miss.resolvedAt === undefined)
      .map((miss): InspectionMiss => ({ ...miss, resolvedAt: now, resolvedBy: result.record.id }));
    const record: InspectionRecord =
      resolved.length > 0
        ? { ...result.record, resolvedWindows: resolved.map(miss => miss.window.id) }
        : result.record;
    const entries: InspectionJournalEntry[] = [
      ...(this.watched.has(key) ? [] : [{ t: 'watch' as const, siteId, scheduleId, since: now }]),
      { t: 'record', record },
      ...resolved.map((miss): InspectionJournalEntry => ({ t: 'missed', miss })),
    ];
    // Durable first: nobody hears of an inspection that a crash could take back.
    this.journal.append(entries);
    if (!this.watched.has(key)) this.watched.set(key, now);
    this.rememberRecord(record);
    for (const miss of resolved) this.rememberMiss(miss);
    const linked = this.openHazards(record, schedule);
    this.apply(
      resolved
        .filter(miss => miss.alarmKey !== undefined)
        .map(miss => inspectionMissedSignal(schedule, miss.window, false, now)),
    );
    if (resolved.length > 0)
      this.logger.log(
        `inspection No. ${record.no} of ${schedule.name} (${siteId}) by ${actor.id} made up ${resolved.length} missed window(s): ${resolved.map(miss => miss.window.id).join(', ')}`,
      );
    this.updateOverdue();
    return { ok: true, record: linked };
  }

  /**
   * Opens a hazard for each failed item that has none yet, through the hazard ledger (its own
   * lifecycle and journal), and journals the record with the hazards linked. A failure of the
   * ledger leaves the record without them: said loudly and retried at each tick.
   */
  private openHazards(record: InspectionRecord, schedule: Schedule | undefined): InspectionRecord {
    if (!record.answers.some(answer => answer.answer === 'fail' && !answer.hazardId)) return record;
    const definition = schedule ?? this.schedule(record.siteId, record.scheduleId);
    let changed = false;
    let failed = false;
    const answers = record.answers.map(answer => {
      if (answer.answer !== 'fail' || answer.hazardId !== undefined) return answer;
      let hazard = this.hazards.forInspectionItem(record.id, answer.itemId);
      if (!hazard) {
        const item = definition?.items.find(candidate => candidate.id === answer.itemId);
        try {
          const reported = this.hazards.report(
            {
              title:
                `${definition?.name ?? record.scheduleId}: ${item?.text ?? answer.itemId}`.slice(
                  0,
                  200,
                ),
              description: answer.note ?? '',
              level: item?.hazardLevel ?? 'general',
              source: 'inspection',
              inspection: {
                recordId: record.id,
                recordNo: record.no,
                scheduleId: record.scheduleId,
                itemId: answer.itemId,
              },
              siteId: record.siteId,
              enterprise: record.enterprise,
              areaId: definition?.area,
              deviceIds: definition?.devices ?? [],
              photos: [],
              plan: {},
              note: `inspection No. ${record.no} (${record.level}, window ${record.windowId})`,
            },
            { id: record.by, role: record.role as HazardActor['role'] },
          );
          if (reported.ok) hazard = reported.hazard;
          else
            this.logger.error(`inspection No. ${record.no}: hazard refused: ${reported.message}`);
        } catch (error) {
          this.logger.error(
            `inspection No. ${record.no}: the hazard of item ${answer.itemId} is NOT in the ledger yet (retried): ${(error as Error).message}`,
          );
        }
      }
      if (!hazard) {
        failed = true;
        return answer;
      }
      changed = true;
      return { ...answer, hazardId: hazard.id, hazardNo: hazard.no };
    });
    if (failed) this.hazardsPending.add(record.id);
    else this.hazardsPending.delete(record.id);
    if (!changed) return record;
    const linked: InspectionRecord = { ...record, answers };
    try {
      this.journal.append([{ t: 'record', record: linked }]);
    } catch (error) {
      // The hazards are in the ledger, linked to the record there; the link on the record is
      // journaled at the next attempt.
      this.hazardsPending.add(record.id);
      this.logger.error(
        `inspection No. ${record.no}: hazard links not journaled: ${(error as Error).message}`,
      );
      return record;
    }
    this.rememberRecord(linked);
    return linked;
  }

  /**
   * Watches new schedules, journals the windows closed without a record as missed (each once),
   * raises their alarms, and retries hazards the ledger refused before.
   */
  tick(now: number): void {
    if (this.unavailable !== undefined) return;
    const watch: InspectionJournalEntry[] = [];
    for (const schedule of this.schedules()) {
      const key = scheduleKey(schedule.siteId, schedule.id);
      if (!this.watched.has(key))
        watch.push({ t: 'watch', siteId: schedule.siteId, scheduleId: schedule.id, since: now });
    }
    if (watch.length > 0) {
      this.journal.append(watch);
      for (const entry of watch)
        if (entry.t === 'watch')
          this.watched.set(scheduleKey(entry.siteId, entry.scheduleId), entry.since);
    }
    const found: { schedule: Schedule; miss: InspectionMiss }[] = [];
    for (const schedule of this.schedules()) {
      const key = scheduleKey(schedule.siteId, schedule.id);
      const cadence = cadenceOf(schedule);
      // Nothing can be missed before the window open at the last search closes (a record only
      // removes misses): the search, with its time-zone arithmetic, runs once per window.
      const quiet = this.quietUntil.get(key);
      if (
        quiet &&
        quiet.cadence === cadence &&
        quiet.timeZone === schedule.timeZone &&
        now < quiet.until
      )
        continue;
      const windows = newlyMissedWindows(
        {
          cadence,
          timeZone: schedule.timeZone,
          watchedSince: this.watched.get(key) ?? now,
          lastRecordAt: this.recordsBySchedule.get(key)?.at(-1)?.at,
          lastMissedEnd: this.missesBySchedule.get(key)?.at(-1)?.window.end,
        },
        now,
      );
      if (windows.length < MAX_WINDOWS_PER_CHECK)
        this.quietUntil.set(key, {
          cadence,
          timeZone: schedule.timeZone,
          until: windowAt(cadence, now, schedule.timeZone).end,
        });
      windows.forEach((window, index) => {
        const alarmed = index >= windows.length - MAX_MISSED_ALARMS_AT_ONCE;
        found.push({
          schedule,
          miss: {
            scheduleId: schedule.id,
            siteId: schedule.siteId,
            window,
            at: now,
            ...(alarmed
              ? { alarmKey: inspectionMissedKey(schedule.siteId, schedule.id, window.id) }
              : {}),
          },
        });
      });
    }
    if (found.length > 0) {
      // Journaled before raised: a crash in between is re-asserted at start, never lost.
      this.journal.append(found.map(({ miss }): InspectionJournalEntry => ({ t: 'missed', miss })));
      for (const { schedule, miss } of found) {
        this.rememberMiss(miss);
        this.metrics?.inspectionsMissed.inc({ level: schedule.level });
        this.logger.warn(
          `inspection missed: ${schedule.name} (${schedule.siteId}, ${schedule.level}) in the window of ${miss.window.id}` +
            (miss.alarmKey ? '' : ' (an older window of a long gap: listed, no alarm of its own)'),
        );
      }
      this.apply(
        found
          .filter(({ miss }) => miss.alarmKey !== undefined)
          .map(({ schedule, miss }) => inspectionMissedSignal(schedule, miss.window, true, now)),
      );
    }
    this.clearOrphans(now);
    for (const id of [...this.hazardsPending]) {
      const record = this.recordsById.get(id);
      if (record) this.openHazards(record, undefined);
      else this.hazardsPending.delete(id);
    }
    this.updateOverdue();
  }

  /**
   * Missed windows of a schedule no longer in the registry (a reload removed it): nothing is left
   * to inspect, so their alarms clear (once: a repeated clear is a no-op) and can be closed.
   */
  private clearOrphans(now: number): void {
    const signals: RuleSignal[] = [];
    for (const miss of this.misses.values()) {
      if (miss.resolvedAt !== undefined || miss.alarmKey === undefined) continue;
      if (this.schedule(miss.siteId, miss.scheduleId)) continue;
      if (this.orphansCleared.has(missKey(miss))) continue;
      this.orphansCleared.add(missKey(miss));
      signals.push(inspectionMissedSignal(removedSchedule(miss), miss.window, false, now));
    }
    this.apply(signals);
  }

  /**
   * Hands signals to the alarm lifecycle. Its failure (its journal) is the lifecycle's to report:
   * rethrown like the rule engine does, it reaches the process backstop; the restart re-asserts.
   */
  private apply(signals: readonly RuleSignal[]): void {
    if (signals.length === 0 || !this.alarms) return;
    try {
      this.alarms.applySignals(signals);
    } catch (error) {
      this.logger.fatal(
        `alarm lifecycle failed on ${signals.length} inspection signal(s): ${(error as Error)?.stack ?? String(error)}`,
      );
      throw error;
    }
  }

  private updateOverdue(): void {
    const overdue = new Set<string>();
    for (const miss of this.misses.values())
      if (miss.resolvedAt === undefined) overdue.add(scheduleKey(miss.siteId, miss.scheduleId));
    this.metrics?.inspectionsOverdue.set(overdue.size);
  }

  private rememberRecord(record: InspectionRecord): void {
    const key = scheduleKey(record.siteId, record.scheduleId);
    const previous = this.recordsById.get(record.id);
    this.recordsById.set(record.id, record);
    let list = this.recordsBySchedule.get(key);
    if (!list) this.recordsBySchedule.set(key, (list = []));
    if (previous) list[list.indexOf(previous)] = record;
    else list.push(record);
    if (record.no > this.lastNo) this.lastNo = record.no;
    if (record.answers.some(answer => answer.answer === 'fail' && !answer.hazardId))
      this.hazardsPending.add(record.id);
  }

  private rememberMiss(miss: InspectionMiss): void {
    const key = missKey(miss);
    const previous = this.misses.get(key);
    this.misses.set(key, miss);
    const scheduleOf = scheduleKey(miss.siteId, miss.scheduleId);
    let list = this.missesBySchedule.get(scheduleOf);
    if (!list) this.missesBySchedule.set(scheduleOf, (list = []));
    if (previous) list[list.indexOf(previous)] = miss;
    else list.push(miss);
  }
}

/** What a cleared signal needs of a schedule no longer in the registry. */
function removedSchedule(miss: InspectionMiss): Schedule {
  return {
    id: miss.scheduleId,
    name: `${miss.scheduleId} (removed from the registry)`,
    level: 'team',
    responsible: '-',
    items: [],
    siteId: miss.siteId,
    enterprise: '',
    timeZone: 'UTC',
  };
}
