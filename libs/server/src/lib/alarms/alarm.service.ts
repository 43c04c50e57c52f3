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
  applySignal,
  dueTransition,
  isOpen,
  mayAct,
  reconcileSuppression,
  suppressionCauses,
  type ActionResult,
  SYSTEM,
  type Actor,
  type AlarmPolicy,
  type OperatorCommand,
  type Transition,
} from '@vigil/alarms';
import {
  HIDDEN_CAUSES,
  hiddenByParentOffline,
  hiddenCauses,
  type Alarm,
  type HiddenCause,
  type RuleSignal,
  type SuppressionCause,
} from '@vigil/contracts';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { JournalStatus } from '../journal/journal-status';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import {
  ALARM_LOG,
  AlarmJournal,
  type AlarmLog,
  type DeviceMode,
  type JournalEntry,
} from './alarm-journal';

/** Injected so that tests drive escalation in virtual time. */
export const ALARM_CLOCK = Symbol('ALARM_CLOCK');
export type AlarmClock = () => number;

const OFFLINE_RULES = new Set(['offline', 'gateway-offline']);

/**
 * Owns the open alarms: exactly one per (source, rule) key. Every transition is journaled and
 * made durable before it leaves on the bus or is answered, and the open alarms are rebuilt from
 * the journal at start. The event loop serialises all transitions, so concurrent readings,
 * retries and actions cannot create a second alarm for a key.
 */
@Injectable()
export class AlarmService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AlarmService.name);
  private readonly openByKey = new Map<string, Alarm>();
  private readonly keyById = new Map<string, string>();
  /** Keys of open first-out alarms per site/area: the group search must not scan every alarm. */
  private readonly headsByArea = new Map<string, Set<string>>();
  private readonly deviceModes = new Map<string, DeviceMode>();
  /** Open alarms each cause hides, kept as alarms are remembered and forgotten (the gauge). */
  private readonly hiddenCounts = new Map<HiddenCause, number>(
    HIDDEN_CAUSES.map(cause => [cause, 0]),
  );
  private readonly journal: AlarmLog;
  /** Appends to an asynchronous journal not yet durable: commands answer after them. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly policy: AlarmPolicy = DEFAULT_ALARM_POLICY;
  private timer: NodeJS.Timeout | undefined;
  private restored = false;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(ALARM_CLOCK) private readonly clock: AlarmClock,
    @Optional() @Inject(ALARM_LOG) journal?: AlarmLog,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
  ) {
    this.journal = journal ?? new AlarmJournal(join(config.dataDir, 'alarms'), journalStatus);
  }

  onModuleInit(): void {
    this.restore();
    // The journal holds each alarm's suppression as it was; the causes are what counts now (a mode
    // cleared, a gateway back or a registry changed while the process was down).
    this.reconcile(() => true, this.clock());
    if (this.config.alarmTickMs > 0) {
      this.timer = setInterval(() => this.tick(this.clock()), this.config.alarmTickMs);
      this.timer.unref();
    }
  }

  /** Rebuilds the open alarms from the journal, once; other services may need them first. */
  private restore(): void {
    if (this.restored) return;
    this.restored = true;
    const restored = this.journal.open(alarm => isOpen(alarm, this.policy));
    for (const alarm of restored.alarms.values()) this.remember(alarm);
    for (const [key, mode] of restored.devices) this.deviceModes.set(key, mode);
    this.metrics.openAlarms.set(this.openByKey.size);
    this.publishHiddenCounts();
    this.logger.log(
      `alarm journal ${this.journal.path}: ${restored.entries} entries, ${this.openByKey.size} open alarm(s) restored` +
        (restored.skipped > 0 ? `, ${restored.skipped} torn line(s) skipped` : ''),
    );
    // Say so when alarms of an earlier run come back: a newcomer restarting the demo otherwise
    // sees yesterday's leak as if it were now.
    if (this.openByKey.size > 0) {
      this.logger.warn(
        `${this.openByKey.size} open alarm(s) from an earlier run restored; for a clean demo start use ./scripts/demo.sh --fresh (or VIGIL_FRESH=1 npm start)`,
      );
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.journal.close();
  }

  open(): Alarm[] {
    this.restore(); // the rule engine may ask before onModuleInit
    return [...this.openByKey.values()];
  }

  byId(id: string): Alarm | undefined {
    const key = this.keyById.get(id);
    return key === undefined ? undefined : this.openByKey.get(key);
  }

  /** Whether a rule key has an open alarm whose condition is active (seeds the rule engine). */
  conditionActive(key: string): boolean {
    this.restore();
    return this.openByKey.get(key)?.conditionActive === true;
  }

  applySignals(signals: readonly RuleSignal[]): void {
    const transitions: Transition[] = [];
    /** Devices whose offline alarm changed in this batch: their children are re-evaluated. */
    let parents: Set<string> | undefined;
    for (const signal of signals) {
      const transition = applySignal(this.openByKey.get(signal.key), signal, {
        newId: randomUUID,
        groupHead: candidate => this.groupHead(candidate),
        suppressedBy: this.causesOf(signal),
      });
      if (transition) {
        transitions.push(transition);
        this.remember(transition.alarm); // later signals of this batch see it
        if (OFFLINE_RULES.has(signal.ruleId))
          (parents ??= new Set()).add(`${signal.siteId}/${signal.deviceId}`);
      }
    }
    this.commit(transitions);
    if (parents) {
      const changed = parents;
      const now = this.clock();
      this.reconcile(alarm => {
        const gatewayId = this.registry.current.device(alarm.siteId, alarm.deviceId)?.gatewayId;
        return gatewayId !== undefined && changed.has(`${alarm.siteId}/${gatewayId}`);
      }, now);
    }
  }

  execute(alarmId: string, command: OperatorCommand, actor: Actor): ActionResult {
    if (!mayAct(actor.role, command.action))
      return { ok: false, status: 403, message: `${actor.role} may not ${command.action}` };
    const result = applyCommand(this.byId(alarmId), command, actor, this.clock(), this.policy);
    if (result.ok) this.commit([result.transition]);
    return result;
  }

  setDeviceMode(
    siteId: string,
    deviceId: string,
    mode: DeviceMode['mode'],
    actor: Actor,
    reason: string,
    durationMs?: number,
  ): DeviceMode {
    const now = this.clock();
    // Maintenance always ends (a forgotten one would hide the device's alarms for good); the
    // gateway checks the maximum, this bound holds for every caller.
    const { defaultMs, maxMs } = this.config.maintenance;
    const until =
      mode === 'maintenance' ? now + Math.min(durationMs ?? defaultMs, maxMs) : undefined;
    const device: DeviceMode = {
      siteId,
      deviceId,
      mode,
      by: actor.id,
      reason,
      at: now,
      ...(until === undefined ? {} : { until }),
    };
    this.durably(this.journal.append([{ t: 'device', device }]));
    if (mode) this.deviceModes.set(`${siteId}/${deviceId}`, device);
    else this.deviceModes.delete(`${siteId}/${deviceId}`);
    // The mode is a cause: its device's open alarms are hidden or shown at once, not at their next
    // raise (an alarm raised in maintenance must not stay hidden after it, issue 10 finding 4).
    this.reconcile(alarm => alarm.siteId === siteId && alarm.deviceId === deviceId, now);
    return device;
  }

  deviceMode(siteId: string, deviceId: string): DeviceMode | undefined {
    return this.deviceModes.get(`${siteId}/${deviceId}`);
  }

  /**
   * Applies every time-driven transition due at `now` (shelving expiry, escalation, overdue), after
   * bringing every alarm's suppression in line with its live causes: a cause that changed without
   * an event seen here (a registry reload moving a device to another gateway) is caught within a
   * tick.
   */
  tick(now: number): void {
    this.expireMaintenance(now);
    this.reconcile(() => true, now);
    const transitions: Transition[] = [];
    for (const alarm of this.openByKey.values()) {
      const path = this.escalationPath(alarm.siteId);
      let current = alarm;
      for (let step = 0; step < 8; step += 1) {
        const transition = dueTransition(current, now, this.policy, path);
        if (!transition) break;
        transitions.push(transition);
        current = transition.alarm;
      }
    }
    this.commit(transitions);
  }

  /** Maintenance past its end: the device is back in service and its hidden alarms are shown. */
  private expireMaintenance(now: number): void {
    for (const mode of [...this.deviceModes.values()]) {
      if (mode.mode !== 'maintenance' || mode.until === undefined || mode.until > now) continue;
      this.logger.warn(
        `maintenance of ${mode.siteId}/${mode.deviceId} (by ${mode.by}: ${mode.reason}) ended at its time; its alarms are shown again`,
      );
      this.setDeviceMode(mode.siteId, mode.deviceId, null, SYSTEM, 'maintenance time ended');
    }
  }

  /** Organisation nodes from the site's enterprise up to the city: where escalation goes. */
  escalationPath(siteId: string): string[] {
    const site = this.registry.current.site(siteId);
    if (!site) return [];
    return this.registry.current
      .orgPath(site.enterprise)
      .map(node => node.id)
      .reverse();
  }

  private commit(transitions: readonly Transition[]): void {
    if (transitions.length === 0) return;
    const entries: JournalEntry[] = transitions.map(({ alarm, action }) => ({
      t: 'alarm',
      alarm,
      action,
    }));
    // Durable first: nobody hears of a transition that a crash could take back. In memory at once
    // (the next signal must see this alarm: one per key), on the bus once durable.
    const durable = this.journal.append(entries);
    const updates: AlarmUpdate[] = [];
    for (const { alarm, action } of transitions) {
      if (isOpen(alarm, this.policy)) this.remember(alarm);
      else this.forget(alarm);
      this.metrics.alarmTransitions.inc({ action: action.action });
      updates.push({ alarm, action });
    }
    this.metrics.openAlarms.set(this.openByKey.size);
    this.publishHiddenCounts();
    if (durable) this.durably(durable.then(() => this.bus.publishAlarms(updates)));
    else this.bus.publishAlarms(updates);
  }

  /** Resolves once every transition committed so far is durable (or its partition was lost). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private durably(append: void | Promise<void>): void {
    if (!append) return;
    // A rejection means the partition was lost before the append was durable: the new owner
    // rebuilds from the stream, and this instance has dropped the alarm already.
    const tracked = append.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /**
   * Takes over the open alarms and device modes of some sites (a partition this rules instance
   * now owns, rebuilt from the stream) and brings their suppression in line with the live causes.
   */
  adopt(alarms: Iterable<Alarm>, devices: Iterable<DeviceMode>): void {
    const sites = new Set<string>();
    for (const device of devices) {
      if (device.mode) this.deviceModes.set(`${device.siteId}/${device.deviceId}`, device);
      sites.add(device.siteId);
    }
    for (const alarm of alarms) {
      if (!isOpen(alarm, this.policy)) continue;
      this.remember(alarm);
      sites.add(alarm.siteId);
    }
    this.metrics.openAlarms.set(this.openByKey.size);
    this.publishHiddenCounts();
    this.reconcile(alarm => sites.has(alarm.siteId), this.clock());
  }

  /** Forgets the alarms and device modes of the sites `includes` selects (a partition lost). */
  drop(includes: (siteId: string) => boolean): void {
    for (const alarm of [...this.openByKey.values()])
      if (includes(alarm.siteId)) this.forget(alarm);
    for (const [key, mode] of [...this.deviceModes])
      if (includes(mode.siteId)) this.deviceModes.delete(key);
    this.metrics.openAlarms.set(this.openByKey.size);
    this.publishHiddenCounts();
  }

  /**
   * Re-evaluates the suppression of the open alarms `which` selects against their live causes and
   * commits what changed: suppressed when a cause begins, shown (and escalated from now) when the
   * last one ends.
   */
  private reconcile(which: (alarm: Alarm) => boolean, now: number): void {
    const transitions: Transition[] = [];
    for (const alarm of this.openByKey.values()) {
      if (!which(alarm)) continue;
      const transition = reconcileSuppression(alarm, this.causesOf(alarm), now);
      if (transition) transitions.push(transition);
    }
    this.commit(transitions);
  }

  /** How many open alarms each cause hides: `vigil_alarms_suppressed{cause}`. */
  hidden(): Record<HiddenCause, number> {
    return Object.fromEntries(this.hiddenCounts) as Record<HiddenCause, number>;
  }

  private publishHiddenCounts(): void {
    for (const [cause, count] of this.hiddenCounts)
      this.metrics.alarmsSuppressed.set({ cause }, count);
  }

  private countHidden(alarm: Alarm | undefined, delta: 1 | -1): void {
    if (!alarm) return;
    // Shelving is counted while set: the tick removes it at its expiry.
    for (const cause of hiddenCauses(alarm, -Infinity))
      this.hiddenCounts.set(cause, (this.hiddenCounts.get(cause) ?? 0) + delta);
  }

  private remember(alarm: Alarm): void {
    this.countHidden(this.openByKey.get(alarm.key), -1);
    this.countHidden(alarm, 1);
    this.openByKey.set(alarm.key, alarm);
    this.keyById.set(alarm.id, alarm.key);
    if (alarm.areaId !== undefined && alarm.groupId === alarm.id) {
      const area = `${alarm.siteId}/${alarm.areaId}`;
      let heads = this.headsByArea.get(area);
      if (!heads) this.headsByArea.set(area, (heads = new Set()));
      heads.add(alarm.key);
    }
  }

  private forget(alarm: Alarm): void {
    this.countHidden(this.openByKey.get(alarm.key), -1);
    this.openByKey.delete(alarm.key);
    this.keyById.delete(alarm.id);
    if (alarm.areaId !== undefined)
      this.headsByArea.get(`${alarm.siteId}/${alarm.areaId}`)?.delete(alarm.key);
  }

  /** The live causes that hide an alarm (or the alarm a signal raises) now. */
  private causesOf(
    alarm: Pick<Alarm, 'siteId' | 'deviceId' | 'category' | 'level'>,
  ): SuppressionCause[] {
    const mode = this.deviceModes.get(`${alarm.siteId}/${alarm.deviceId}`);
    const gatewayId = this.registry.current.device(alarm.siteId, alarm.deviceId)?.gatewayId;
    const gateway =
      gatewayId === undefined ? undefined : this.gatewayOffline(alarm.siteId, gatewayId);
    return suppressionCauses(alarm, {
      deviceMode: mode?.mode
        ? { mode: mode.mode, by: mode.by, reason: mode.reason, at: mode.at }
        : undefined,
      offlineGateway:
        gateway && gatewayId !== undefined ? { gatewayId, since: gateway.detectedAt } : undefined,
    });
  }

  private gatewayOffline(siteId: string, gatewayId: string): Alarm | undefined {
    for (const ruleId of OFFLINE_RULES) {
      const alarm = this.openByKey.get(`${siteId}/${gatewayId}/${ruleId}`);
      if (alarm?.conditionActive) return alarm;
    }
    return undefined;
  }

  /**
   * The first-out alarm a new alarm is grouped under: its gateway's offline alarm (root cause) for
   * the consequences of the lost path (the alarms the gateway may hide), or the first alarm of the
   * same area raised within the group window. A process alarm behind an offline gateway is never
   * grouped under it: its reading arrived, the gateway did not cause it (and the console collapses
   * P3/P4 members of a group).
   */
  private groupHead(signal: RuleSignal): Alarm | undefined {
    const gatewayId = hiddenByParentOffline(signal)
      ? this.registry.current.device(signal.siteId, signal.deviceId)?.gatewayId
      : undefined;
    const root = gatewayId ? this.gatewayOffline(signal.siteId, gatewayId) : undefined;
    if (root) return root;
    if (signal.areaId === undefined) return undefined;
    const since = signal.detectedAt - this.policy.groupWindowMs;
    let head: Alarm | undefined;
    for (const key of this.headsByArea.get(`${signal.siteId}/${signal.areaId}`) ?? []) {
      const alarm = this.openByKey.get(key);
      if (!alarm || alarm.groupId !== alarm.id) continue;
      if ((alarm.openedAt ?? alarm.detectedAt) < since || !alarm.conditionActive) continue;
      if (!head || (alarm.openedAt ?? 0) < (head.openedAt ?? 0)) head = alarm;
    }
    return head;
  }
}
