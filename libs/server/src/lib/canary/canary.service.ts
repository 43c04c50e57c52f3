import { randomUUID } from 'node:crypto';

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { BehaviorSubject, type Observable, type Subscription } from 'rxjs';

import {
  CanaryMonitor,
  DEFAULT_ALARM_POLICY,
  applyCommand,
  applySignal,
  canaryOffStatus,
  isOpen,
  type ActionResult,
  type Actor,
  type CanaryStallAlarm,
  type OperatorCommand,
} from '@vigil/alarms';
import {
  CANARY_DEVICE_ID,
  CANARY_HOPS,
  CANARY_STALL_RULE_ID,
  canaryReport,
  type Alarm,
  type CanaryHop,
  type PipelineStatus,
  type RuleSignal,
} from '@vigil/contracts';

import type { Subscription as NatsSubscription } from 'nats';

import { dueOwnedTransitions } from '../alarms/owned-escalation';
import { InternalInbox } from '../bus/internal-inbox';
import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { receiveCanaryReports } from '../bus/jetstream/canary';
import type { AlarmUpdate } from '../bus/pipeline-bus';
import { PipelineBus } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { AlarmView, type OwnedAlarms } from '../alarms/alarm-view';
import { VigilMetrics } from '../metrics/metrics';
import { mqttClientOptions } from '../mqtt/client-options';
import { RegistryHolder } from '../registry/registry-holder';
import { CanaryPublisher } from './canary-publisher';

/** How often the monitor judges the hops and the consoles get a heartbeat. */
export const CANARY_EVALUATE_MS = 1000;

/** What a stall at each hop means for the plant, for the log and the alarm. */
const CONSEQUENCE: Readonly<Record<CanaryHop, string>> = {
  ingest: 'the broker or ingest passes no readings: NOTHING is being evaluated',
  rules: 'the rule engine is not evaluating: NO ALARMS are being raised',
  gateway: 'readings do not reach this gateway: the consoles may be showing stale data',
  persister: 'InfluxDB is not acknowledging writes: history is NOT being kept',
};

/**
 * The pipeline canary, in the gateway process (docs/interfaces.md §Canary). Every
 * VIGIL_CANARY_INTERVAL_MS it publishes one canary per site through the broker; each hop reports
 * the canaries it saw (ingest, rules and persister through the bus, bridged in split mode; the
 * gateway's own hop from the records it receives). Every second it judges the hops
 * (CanaryMonitor) and pushes the verdict to the consoles as a heartbeat. A stalled hop is logged,
 * counted, fails /readyz and raises a P1 system alarm that this gateway owns itself, so that the
 * operator sees it even when the rules process is what stopped.
 */
@Injectable()
export class CanaryService implements OnModuleInit, OnModuleDestroy, OwnedAlarms {
  private readonly logger = new Logger('Canary');
  /** This gateway's canaries: another gateway's do not count for this one. */
  readonly origin = `gw-${randomUUID()}`;
  private readonly monitor: CanaryMonitor | undefined;
  private readonly publisher: CanaryPublisher | undefined;
  private readonly state: BehaviorSubject<PipelineStatus>;
  private readonly subscriptions: Subscription[] = [];
  /** Open stall alarms by key. */
  private readonly alarms = new Map<string, Alarm>();
  private readonly hops: readonly CanaryHop[] = [];
  private seq = 0;
  private natsReports: NatsSubscription | undefined;
  private sendTimer: NodeJS.Timeout | undefined;
  private evaluateTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(AlarmView) private readonly view: AlarmView,
    /** jetstream: the other hops' reports arrive on core `vigil.canary`. */
    @Optional() @Inject(BACKBONE) private readonly backbone?: Backbone,
    @Optional() @Inject(InternalInbox) private readonly inbox?: InternalInbox,
  ) {
    const { intervalMs, timeoutMs } = config.canary;
    this.state = new BehaviorSubject(canaryOffStatus(timeoutMs));
    if (intervalMs === 0) return;
    // Without InfluxDB there is no store hop to watch (StorageStatus says so loudly).
    this.hops = CANARY_HOPS.filter(hop => hop !== 'persister' || config.influx.mode !== 'off');
    this.monitor = new CanaryMonitor({ origin: this.origin, timeoutMs, hops: this.hops });
    // Vigil's internal identity today; give the canary its own account here when it gets one.
    this.publisher = new CanaryPublisher(config.mqtt.url, mqttClientOptions(config));
  }

  /** The pipeline as of the last evaluation (/readyz). */
  get status(): PipelineStatus {
    return this.state.value;
  }

  /** The status every CANARY_EVALUATE_MS: the consoles' heartbeat. */
  get heartbeat$(): Observable<PipelineStatus> {
    return this.state.asObservable();
  }

  onModuleInit(): void {
    const { intervalMs, timeoutMs } = this.config.canary;
    this.evaluateTimer = setInterval(() => this.evaluate(), CANARY_EVALUATE_MS);
    this.evaluateTimer.unref();
    const monitor = this.monitor;
    if (!monitor) {
      this.logger.error(
        '!!! PIPELINE CANARY DISABLED (VIGIL_CANARY_INTERVAL_MS=0): a stalled broker, ingest, rule ' +
          'engine or store will NOT be detected, and no alarm will say so. Set VIGIL_CANARY_INTERVAL_MS ' +
          '(default 2000) to watch the alarm path. !!!',
      );
      return;
    }
    for (const hop of this.hops) this.metrics.canaryStalls.inc({ hop }, 0); // every series from 0
    const sites = () => this.registry.current.sites.map(site => site.id);
    monitor.setSites(sites(), Date.now());
    this.state.next(monitor.evaluate(Date.now()).status);
    this.subscriptions.push(
      this.registry.changes$.subscribe(() => monitor.setSites(sites(), Date.now())),
      this.bus.canary$.subscribe(reports => {
        for (const report of reports) monitor.seen(report);
      }),
      // The gateway's own hop: the canary record reached this gateway's record stream.
      this.bus.records$.subscribe(records => {
        for (const record of records)
          if (record.kind === 'canary')
            monitor.seen(canaryReport('gateway', record.canary, Date.now()));
      }),
    );
    if (this.backbone && this.inbox)
      this.natsReports = receiveCanaryReports(this.backbone.nc, this.inbox, reports => {
        for (const report of reports) monitor.seen(report);
      });
    this.publisher?.start(() => this.send());
    this.sendTimer = setInterval(() => this.send(), intervalMs);
    this.sendTimer.unref();
    this.logger.log(
      `pipeline canary every ${intervalMs} ms per site, a hop is stalled after ${timeoutMs} ms; ` +
        `watching ${this.hops.join(', ')}`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sendTimer);
    clearInterval(this.evaluateTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.natsReports?.unsubscribe();
    await this.publisher?.stop();
  }

  /** Operator actions on a stall alarm, by the same lifecycle as every alarm. */
  execute(alarmId: string, command: OperatorCommand, actor: Actor): ActionResult {
    const open = [...this.alarms.values()].find(alarm => alarm.id === alarmId);
    const result = applyCommand(open, command, actor, Date.now(), DEFAULT_ALARM_POLICY);
    if (result.ok) this.publish([result.transition]);
    return result;
  }

  private send(): void {
    const sentAt = Date.now();
    for (const site of this.registry.current.sites) {
      this.seq += 1;
      if (
        this.publisher?.publish(site.id, { canary: { origin: this.origin, seq: this.seq, sentAt } })
      )
        this.metrics.canariesSent.inc();
    }
  }

  private evaluate(): void {
    const now = Date.now();
    if (!this.monitor) {
      this.state.next(this.state.value);
      return;
    }
    const verdict = this.monitor.evaluate(now);
    if (verdict.clockWentBackMs !== undefined) {
      this.metrics.canaryClockBack.inc();
      this.logger.error(
        `!!! THE CLOCK WENT BACK ${seconds(verdict.clockWentBackMs)} s: every canary hop counts again from now ` +
          `(a hop that sees no new canary within ${seconds(this.config.canary.timeoutMs)} s is stalled); ` +
          'timestamps of alarms and readings around this moment are out of order !!!',
      );
    }
    for (const hop of CANARY_HOPS) {
      const ageMs = verdict.status.hops[hop].ageMs;
      if (ageMs !== undefined) this.metrics.canaryAge.set({ hop }, ageMs / 1000);
    }
    const timeout = this.config.canary.timeoutMs;
    for (const change of verdict.changes) {
      if (change.stalled) {
        this.metrics.canaryStalls.inc({ hop: change.hop });
        this.logger.error(
          `!!! PIPELINE STALLED at ${change.hop} (site ${change.siteId}): no canary for ${seconds(change.ageMs)} s ` +
            `(limit ${seconds(timeout)} s): ${CONSEQUENCE[change.hop]} !!!`,
        );
      } else {
        this.logger.log(`pipeline canary back at ${change.hop} (site ${change.siteId})`);
      }
    }
    this.reconcile(verdict.alarms, now);
    this.state.next(verdict.status);
  }

  /** Raises the stall alarms wanted now and clears the others (the lifecycle's applySignal). */
  private reconcile(wanted: readonly CanaryStallAlarm[], now: number): void {
    const updates: AlarmUpdate[] = [];
    const wantedKeys = new Set<string>();
    const apply = (signal: RuleSignal) => {
      const transition = applySignal(this.alarms.get(signal.key), signal, {
        newId: () => `canary-${randomUUID()}`,
      });
      if (transition) updates.push(transition);
    };
    for (const stall of wanted) {
      const signal = this.stallSignal(stall.siteId, stall.hop, true, stall.ageMs, now);
      wantedKeys.add(signal.key);
      apply(signal);
    }
    for (const [key, alarm] of this.alarms)
      if (alarm.conditionActive && !wantedKeys.has(key))
        apply(this.stallSignal(alarm.siteId, alarm.level as CanaryHop, false, 0, now));
    // A P1 nobody acknowledges escalates up the tree like every alarm (the lifecycle's timers
    // never see this one: the gateway owns it). Applied on what the signals above left.
    const pending = new Map(this.alarms);
    for (const update of updates) pending.set(update.alarm.key, update.alarm);
    const open = [...pending.values()].filter(alarm => isOpen(alarm, DEFAULT_ALARM_POLICY));
    for (const due of dueOwnedTransitions(open, now, this.registry.current)) {
      this.metrics.alarmTransitions.inc({ action: due.action.action });
      updates.push(due);
    }
    if (updates.length > 0) this.publish(updates);
  }

  private publish(updates: readonly AlarmUpdate[]): void {
    for (const { alarm } of updates) {
      if (isOpen(alarm, DEFAULT_ALARM_POLICY)) this.alarms.set(alarm.key, alarm);
      else this.alarms.delete(alarm.key);
    }
    this.view.applyOwned(updates, this);
  }

  private stallSignal(
    siteId: string,
    hop: CanaryHop,
    active: boolean,
    ageMs: number,
    now: number,
  ): RuleSignal {
    const timeout = this.config.canary.timeoutMs;
    return {
      key: `${siteId}/${CANARY_DEVICE_ID}/${CANARY_STALL_RULE_ID}-${hop}`,
      ruleId: CANARY_STALL_RULE_ID,
      siteId,
      deviceId: CANARY_DEVICE_ID,
      deviceClass: undefined,
      areaId: undefined,
      category: 'quality',
      // Monitoring is lost: as urgent as the most urgent alarm it may be hiding.
      priority: 1,
      level: hop,
      active,
      latched: false,
      metric: 'canary_age_s',
      value: active ? Math.round(ageMs / 100) / 10 : undefined,
      threshold: timeout / 1000,
      message: active
        ? `Pipeline stalled at ${hop}: no canary for ${seconds(ageMs)} s (limit ${seconds(timeout)} s); ${CONSEQUENCE[hop]}`
        : `Pipeline canary back at ${hop}`,
      at: now,
      detectedAt: now,
    };
  }
}

function seconds(ms: number): string {
  return (Math.round(ms / 100) / 10).toString();
}
