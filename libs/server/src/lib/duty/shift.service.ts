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
  DEFAULT_ALARM_POLICY,
  applyCommand,
  applyShiftCommand,
  applySignal,
  diffDutySnapshots,
  dutyUnmanned,
  isOpen,
  startShift,
  type ActionResult,
  type Actor,
  type DutyActor,
  type OperatorCommand,
  type ShiftCommand,
  type ShiftResult,
  type ShiftStart,
} from '@vigil/alarms';
import {
  DUTY_DEVICE_ID,
  DUTY_SNAPSHOT_MAX_ITEMS,
  DUTY_UNMANNED_RULE_ID,
  dutyUnmannedKey,
  hazardOverdue,
  type Alarm,
  type DutyItem,
  type DutyItemKind,
  type DutySnapshot,
  type DutyUnmanned,
  type RuleSignal,
  type Shift,
  type ShiftView,
} from '@vigil/contracts';

import { AuthorizationService } from '../auth/authorization.service';
import type { AlarmUpdate } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { AlarmView, type OwnedAlarms } from '../alarms/alarm-view';
import { dueOwnedTransitions } from '../alarms/owned-escalation';
import { HazardService } from '../hazards/hazard.service';
import { JournalStatus } from '../journal/journal-status';
import { VigilMetrics } from '../metrics/metrics';
import { PermitService } from '../permits/permit.service';
import { RegistryHolder } from '../registry/registry-holder';
import { ShiftJournal, type ShiftJournalEntry } from './shift-journal';

/** Injected so that tests drive planned ends and the grace in virtual time. */
export const SHIFT_CLOCK = Symbol('SHIFT_CLOCK');
export type ShiftClock = () => number;

/** A one-line summary is cut here: the snapshot is a list, not a copy of each item. */
const SUMMARY_MAX = 200;

/** `siteId/roomId`: one control room. */
export const roomKey = (siteId: string, roomId: string) => `${siteId}/${roomId}`;

/**
 * Owns the duty log (值班记录, issue 15), in the gateway process beside the alarm view, the hazard
 * ledger and the permits it hands over: every step goes through the pure lifecycle
 * (`@vigil/alarms` duty-lifecycle), is journaled and fdatasync'd, and only then applied and
 * answered. A hand-over's snapshot is taken here, from the gateway's own view of the open alarms,
 * hazards and permits of the control room's sites.
 *
 * A control room whose on-duty shift is VIGIL_DUTY_GRACE_MS past its planned end without an
 * accepted hand-over is unmanned: checked every VIGIL_ALARM_TICK_MS (and at every answer),
 * counted, logged and raised as a P2 `duty-unmanned` alarm that this gateway owns (like the
 * canary's stall alarms: on the alarm list, the WebSocket and the notifications, acknowledged by
 * the same lifecycle), cleared when a hand-over is accepted.
 */
@Injectable()
export class ShiftService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ShiftService.name);
  private readonly shifts = new Map<string, Shift>();
  /** Control room → its shift on duty now. */
  private readonly onDuty = new Map<string, string>();
  private readonly journal: ShiftJournal;
  /** Open duty-unmanned alarms by key. */
  private readonly alarms = new Map<string, Alarm>();
  /** Control room → unmanned since (the shift's planned end + grace), while it is. */
  private readonly unmanned = new Map<string, DutyUnmanned>();
  private lastNo = 0;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  /** Operator actions on the duty-unmanned alarms come back here (AlarmView.ownerOf). */
  private readonly owner: OwnedAlarms = {
    execute: (alarmId, command, actor) => this.executeOnAlarm(alarmId, command, actor),
  };

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(AlarmView) private readonly alarmView: AlarmView,
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(PermitService) private readonly permits: PermitService,
    @Inject(SHIFT_CLOCK) private readonly clock: ShiftClock,
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
    /** Where an unacknowledged duty alarm escalates (the site's enterprise, then up the tree). */
    @Optional() @Inject(RegistryHolder) private readonly registry?: RegistryHolder,
  ) {
    this.journal = new ShiftJournal(join(config.dataDir, 'duty'), journalStatus);
  }

  onModuleInit(): void {
    this.open();
    this.check(this.clock());
    if (this.config.alarmTickMs > 0) {
      this.timer = setInterval(() => this.check(this.clock()), this.config.alarmTickMs);
      this.timer.unref();
    } else
      this.logger.warn(
        'VIGIL_ALARM_TICK_MS=0: unmanned control rooms are found only when someone asks (console, /readyz)',
      );
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.journal.close();
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    const restored = this.journal.open();
    for (const shift of restored.shifts.values()) this.remember(shift);
    this.logger.log(
      `duty journal ${this.journal.path}: ${restored.entries} entries, ${this.shifts.size} shift(s), ${this.onDuty.size} on duty` +
        (restored.skipped > 0 ? `, ${restored.skipped} torn line(s) skipped` : ''),
    );
  }

  list(): Shift[] {
    return [...this.shifts.values()];
  }

  get(id: string): Shift | undefined {
    return this.shifts.get(id);
  }

  /** The shift on duty in a control room now, if any. */
  onDutyIn(siteId: string, roomId: string): Shift | undefined {
    const id = this.onDuty.get(roomKey(siteId, roomId));
    return id === undefined ? undefined : this.shifts.get(id);
  }

  /** A shift as the API answers it: `unmanned` while it is, an open hand-over's `changes`. */
  view(shift: Shift): ShiftView {
    const now = this.clock();
    const unmanned = dutyUnmanned(shift, now, this.config.dutyGraceMs);
    const handOver = shift.state === 'on-duty' ? shift.handOver : undefined;
    return {
      ...shift,
      ...(unmanned ? { unmanned } : {}),
      ...(handOver
        ? { changes: diffDutySnapshots(handOver.snapshot, this.snapshot(shift.sites, now)) }
        : {}),
    };
  }

  /** Control rooms unmanned now (checked at the time of the question), for /readyz. */
  unmannedRooms(): ReadonlyMap<string, DutyUnmanned> {
    this.check(this.clock());
    return this.unmanned;
  }

  start(start: ShiftStart, actor: DutyActor): ShiftResult {
    const now = this.clock();
    const result = startShift(
      start,
      actor,
      { now, sees: this.seesAll(start.sites), id: randomUUID(), no: this.lastNo + 1 },
      this.onDutyIn(start.siteId, start.roomId),
    );
    if (result.ok) this.commit(result);
    return result;
  }

  execute(id: string, command: ShiftCommand, actor: DutyActor): ShiftResult {
    const shift = this.shifts.get(id);
    const now = this.clock();
    const result = applyShiftCommand(shift, command, actor, {
      now,
      sees: this.seesAll(shift?.sites ?? []),
      current: this.snapshot(shift?.sites ?? [], now),
      next: { id: randomUUID(), no: this.lastNo + 1 },
    });
    if (result.ok) this.commit(result);
    return result;
  }

  /** Operator actions on a duty-unmanned alarm, by the same lifecycle as every alarm. */
  executeOnAlarm(alarmId: string, command: OperatorCommand, actor: Actor): ActionResult {
    const open = [...this.alarms.values()].find(alarm => alarm.id === alarmId);
    const result = applyCommand(open, command, actor, this.clock(), DEFAULT_ALARM_POLICY);
    if (result.ok) this.publish([result.transition]);
    return result;
  }

  /**
   * What is open now in these sites: alarms (most urgent first), hazards not closed, permits not
   * closed, each with a one-line summary; at most DUTY_SNAPSHOT_MAX_ITEMS, the rest counted.
   */
  snapshot(sites: readonly string[], now: number): DutySnapshot {
    const inSites = new Set(sites);
    const alarms: DutyItem[] = this.alarmView
      .open()
      .filter(alarm => inSites.has(alarm.siteId))
      .sort((a, b) => a.priority - b.priority || b.raisedAt - a.raisedAt)
      .map(alarm => ({
        kind: 'alarm',
        id: alarm.id,
        siteId: alarm.siteId,
        state:
          alarm.state +
          (alarm.shelved ? '+shelved' : '') +
          (alarm.suppressed ? `+${alarm.suppressed}` : ''),
        priority: alarm.priority,
        summary: cut(`P${alarm.priority} ${alarm.deviceId} ${alarm.ruleId}: ${alarm.message}`),
      }));
    const hazards: DutyItem[] = this.hazards
      .list()
      .filter(hazard => hazard.state !== 'closed' && inSites.has(hazard.siteId))
      .sort((a, b) => a.no - b.no)
      .map(hazard => ({
        kind: 'hazard',
        id: hazard.id,
        siteId: hazard.siteId,
        state: hazard.state + (hazardOverdue(hazard, now) ? '+overdue' : ''),
        summary: cut(
          `No.${hazard.no} ${hazard.level === 'major' ? '重大 major ' : ''}${hazard.title}`,
        ),
      }));
    const permits: DutyItem[] = this.permits
      .list()
      .filter(permit => permit.state !== 'closed' && inSites.has(permit.siteId))
      .sort((a, b) => a.no - b.no)
      .map(permit => ({
        kind: 'permit',
        id: permit.id,
        siteId: permit.siteId,
        state: permit.state,
        summary: cut(`No.${permit.no} ${permit.kind} ${permit.areaId}: ${permit.title}`),
      }));
    const all = [...alarms, ...hazards, ...permits];
    const items = all.slice(0, DUTY_SNAPSHOT_MAX_ITEMS);
    const omitted: Partial<Record<DutyItemKind, number>> = {};
    for (const item of all.slice(DUTY_SNAPSHOT_MAX_ITEMS))
      omitted[item.kind] = (omitted[item.kind] ?? 0) + 1;
    return { at: now, items, ...(Object.keys(omitted).length > 0 ? { omitted } : {}) };
  }

  /**
   * Finds the control rooms unmanned now: counted once per occurrence, logged, raised as (and
   * cleared from) a P2 alarm this gateway owns.
   */
  check(now: number): void {
    const updates: AlarmUpdate[] = [];
    const wanted = new Set<string>();
    for (const id of this.onDuty.values()) {
      const shift = this.shifts.get(id);
      if (!shift) continue;
      const room = roomKey(shift.siteId, shift.roomId);
      const unmanned = dutyUnmanned(shift, now, this.config.dutyGraceMs);
      if (!unmanned) continue;
      wanted.add(room);
      if (!this.unmanned.has(room)) {
        this.metrics?.dutyUnmannedTotal.inc();
        this.logger.error(`!!! CONTROL ROOM ${room} UNMANNED: ${unmanned.reason} !!!`);
      }
      this.unmanned.set(room, unmanned);
      const transition = this.apply(this.signal(shift, unmanned, now));
      if (transition) updates.push(transition);
    }
    for (const [room] of this.unmanned) {
      if (wanted.has(room)) continue;
      this.unmanned.delete(room);
      this.logger.log(`control room ${room} is staffed again`);
    }
    for (const alarm of this.alarms.values()) {
      if (!alarm.conditionActive || wanted.has(roomKey(alarm.siteId, alarm.level))) continue;
      const transition = this.apply(clearSignal(alarm, now));
      if (transition) updates.push(transition);
    }
    // The owned alarms escalate like every alarm: a P2 nobody acknowledges in an unmanned room is
    // exactly the one that must go up the tree. Applied after the signals, on what they left.
    if (this.registry) {
      const pending = new Map(this.alarms);
      for (const update of updates) pending.set(update.alarm.key, update.alarm);
      const open = [...pending.values()].filter(alarm => isOpen(alarm, DEFAULT_ALARM_POLICY));
      for (const due of dueOwnedTransitions(open, now, this.registry.current)) {
        this.metrics?.alarmTransitions.inc({ action: due.action.action });
        updates.push(due);
      }
    }
    this.metrics?.dutyUnmanned.set(this.unmanned.size);
    if (updates.length > 0) this.publish(updates);
  }

  private apply(signal: RuleSignal): AlarmUpdate | undefined {
    return applySignal(this.alarms.get(signal.key), signal, {
      newId: () => `duty-${randomUUID()}`,
    });
  }

  private signal(shift: Shift, unmanned: DutyUnmanned, now: number): RuleSignal {
    return {
      key: dutyUnmannedKey(shift),
      ruleId: DUTY_UNMANNED_RULE_ID,
      siteId: shift.siteId,
      deviceId: DUTY_DEVICE_ID,
      deviceClass: undefined,
      areaId: shift.roomId,
      // A system alarm: on the operators' first list beside the process alarms (console tabOf).
      category: 'system',
      // Nobody is watching the other alarms: urgent, below a process emergency (P1).
      priority: 2,
      // The level names the control room: the key is per room, the clear finds it by this.
      level: shift.roomId,
      active: true,
      latched: false,
      metric: 'duty_overdue_min',
      value: Math.floor((now - unmanned.plannedEnd) / 60_000),
      threshold: this.config.dutyGraceMs / 60_000,
      message: `值班室无人接班 Control room unmanned: ${unmanned.reason}`,
      at: now,
      detectedAt: now,
    };
  }

  private publish(updates: readonly AlarmUpdate[]): void {
    for (const { alarm } of updates) {
      if (isOpen(alarm, DEFAULT_ALARM_POLICY)) this.alarms.set(alarm.key, alarm);
      else this.alarms.delete(alarm.key);
    }
    this.alarmView.applyOwned(updates, this.owner);
  }

  /** Whether a user exists and sees every one of these sites. */
  private seesAll(sites: readonly string[]): (userId: string) => boolean {
    return userId =>
      sites.length > 0 && sites.every(site => this.authorization.userSeesSite(userId, site));
  }

  private commit(result: Extract<ShiftResult, { ok: true }>): void {
    const entry: ShiftJournalEntry = { t: 'shift', shifts: result.shifts, action: result.action };
    // Durable first: nobody hears of a signature that a crash could take back.
    this.journal.append([entry]);
    for (const shift of result.shifts) this.remember(shift);
    this.check(this.clock());
  }

  private remember(shift: Shift): void {
    this.shifts.set(shift.id, shift);
    if (shift.no > this.lastNo) this.lastNo = shift.no;
    const room = roomKey(shift.siteId, shift.roomId);
    if (shift.state === 'on-duty') this.onDuty.set(room, shift.id);
    else if (this.onDuty.get(room) === shift.id) this.onDuty.delete(room);
  }
}

function clearSignal(alarm: Alarm, now: number): RuleSignal {
  return {
    key: alarm.key,
    ruleId: alarm.ruleId,
    siteId: alarm.siteId,
    deviceId: alarm.deviceId,
    deviceClass: undefined,
    areaId: alarm.areaId,
    category: alarm.category,
    priority: alarm.priority,
    level: alarm.level,
    active: false,
    latched: false,
    metric: alarm.metric,
    value: undefined,
    threshold: alarm.threshold,
    message: '值班室已有人接班 Control room staffed: a hand-over was accepted',
    at: now,
    detectedAt: now,
  };
}

function cut(text: string): string {
  return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text;
}
