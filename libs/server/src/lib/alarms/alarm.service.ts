import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
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
  type ActionResult,
  type Actor,
  type AlarmPolicy,
  type OperatorCommand,
  type Transition,
} from '@vigil/alarms';
import type { Alarm, RuleSignal } from '@vigil/contracts';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AlarmJournal, type DeviceMode, type JournalEntry } from './alarm-journal';

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
  private readonly journal: AlarmJournal;
  private readonly policy: AlarmPolicy = DEFAULT_ALARM_POLICY;
  private timer: NodeJS.Timeout | undefined;
  private restored = false;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(ALARM_CLOCK) private readonly clock: AlarmClock,
  ) {
    this.journal = new AlarmJournal(join(config.dataDir, 'alarms'));
  }

  onModuleInit(): void {
    this.restore();
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
    this.logger.log(
      `alarm journal ${this.journal.path}: ${restored.entries} entries, ${this.openByKey.size} open alarm(s) restored` +
        (restored.skipped > 0 ? `, ${restored.skipped} torn line(s) skipped` : ''),
    );
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.journal.close();
  }

  open(): Alarm[] {
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
    for (const signal of signals) {
      const transition = applySignal(this.openByKey.get(signal.key), signal, {
        newId: randomUUID,
        groupHead: candidate => this.groupHead(candidate),
        suppressed: this.suppression(signal),
      });
      if (transition) {
        transitions.push(transition);
        this.remember(transition.alarm); // later signals of this batch see it
      }
    }
    this.commit(transitions);
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
  ): DeviceMode {
    const device: DeviceMode = { siteId, deviceId, mode, by: actor.id, reason, at: this.clock() };
    this.journal.append([{ t: 'device', device }]);
    if (mode) this.deviceModes.set(`${siteId}/${deviceId}`, device);
    else this.deviceModes.delete(`${siteId}/${deviceId}`);
    return device;
  }

  deviceMode(siteId: string, deviceId: string): DeviceMode | undefined {
    return this.deviceModes.get(`${siteId}/${deviceId}`);
  }

  /** Applies every time-driven transition due at `now` (shelving expiry, escalation, overdue). */
  tick(now: number): void {
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
    // Durable first: nobody hears of a transition that a crash could take back.
    this.journal.append(entries);
    const updates: AlarmUpdate[] = [];
    for (const { alarm, action } of transitions) {
      if (isOpen(alarm, this.policy)) this.remember(alarm);
      else this.forget(alarm);
      this.metrics.alarmTransitions.inc({ action: action.action });
      updates.push({ alarm, action });
    }
    this.metrics.openAlarms.set(this.openByKey.size);
    this.bus.publishAlarms(updates);
  }

  private remember(alarm: Alarm): void {
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
    this.openByKey.delete(alarm.key);
    this.keyById.delete(alarm.id);
    if (alarm.areaId !== undefined)
      this.headsByArea.get(`${alarm.siteId}/${alarm.areaId}`)?.delete(alarm.key);
  }

  private suppression(signal: RuleSignal): Alarm['suppressed'] {
    const mode = this.deviceModes.get(`${signal.siteId}/${signal.deviceId}`)?.mode;
    if (mode) return mode;
    const gatewayId = this.registry.current.device(signal.siteId, signal.deviceId)?.gatewayId;
    if (gatewayId && this.gatewayOffline(signal.siteId, gatewayId)) return 'parent-offline';
    return undefined;
  }

  private gatewayOffline(siteId: string, gatewayId: string): Alarm | undefined {
    for (const ruleId of OFFLINE_RULES) {
      const alarm = this.openByKey.get(`${siteId}/${gatewayId}/${ruleId}`);
      if (alarm?.conditionActive) return alarm;
    }
    return undefined;
  }

  /**
   * The first-out alarm a new alarm is grouped under: its gateway's offline alarm (root cause), or
   * the first alarm of the same area raised within the group window.
   */
  private groupHead(signal: RuleSignal): Alarm | undefined {
    const gatewayId = this.registry.current.device(signal.siteId, signal.deviceId)?.gatewayId;
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
