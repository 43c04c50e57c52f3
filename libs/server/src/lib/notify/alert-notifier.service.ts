import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';

import type { Alarm, Hazard } from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { AlarmView } from '../alarms/alarm-view';
import { AuthService } from '../auth/auth.service';
import { HazardService } from '../hazards/hazard.service';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AlertOutbox, type OutboxHealth, type PostOutcome } from './alert-outbox';
import { alertsFor, resolved, type ContactLookup, type PostableAlert } from './alerts';
import { hazardAlertsFor } from './hazard-alerts';

/** Alertmanager resolves an alert whose endsAt passed: Vigil sets it four resends ahead, as Prometheus does. */
const ENDS_AFTER_RESENDS = 4;
const POST_TIMEOUT_MS = 5000;

export type NotifyHealth = { readonly url: string } & OutboxHealth;

/**
 * Sends P1/P2 alarms and their escalations to Prometheus Alertmanager (API v2), following the
 * alarm updates the gateway receives (AlarmView: in split mode they come over the bus bridge).
 * Acknowledge, clear, reset, shelve and suppression resolve them (endsAt = now); every firing
 * alert is posted again every `resendMs` (a full reconcile against the open alarms, which also
 * covers alarms already open when the gateway started), with endsAt four resends ahead, so that
 * a Vigil that stops posting lets Alertmanager resolve on its own rather than page forever.
 *
 * Hazards (issue 15) go the same way: each reminder, escalation and wait for approval of the
 * ledger (HazardService, journaled before it is applied) is an alert for the node it reached,
 * posted when the step is committed and again at every resend (so a restart or an Alertmanager
 * outage loses none), resolved once the hazard is rectified, given a new deadline, approved or
 * closed. The people an alert names carry their contacts (users file) as labels.
 */
@Injectable()
export class AlertNotifier implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertNotifier.name);
  private readonly warnings = new RateLimitedLogger(this.logger, 3, 60_000);
  /** What Alertmanager was last told is firing: alarm id → alert key → alert. */
  private readonly firing = new Map<string, Map<string, PostableAlert>>();
  /** The same for hazards: hazard id → alert key → alert. */
  private readonly hazardFiring = new Map<string, Map<string, PostableAlert>>();
  private hazardsReconciled = false;
  private unsubscribeHazards: (() => void) | undefined;
  private readonly outbox: AlertOutbox;
  private readonly url: string;
  private readonly resendMs: number;
  private readonly consoleUrl: string;
  private readonly consoleUrlSet: boolean;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) config: VigilConfig,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Optional() @Inject(HazardService) private readonly hazards?: HazardService,
    @Optional() @Inject(AuthService) private readonly auth?: AuthService,
  ) {
    const notify = config.notify;
    this.url = `${(notify.alertmanagerUrl ?? '').replace(/\/$/, '')}/api/v2/alerts`;
    this.resendMs = notify.resendMs;
    this.consoleUrl = notify.consoleUrl ?? `http://${config.http.host}:${config.http.port}`;
    this.consoleUrlSet = notify.consoleUrl !== undefined;
    this.outbox = new AlertOutbox({
      post: alerts => this.post(alerts),
      count: (outcome, n) => this.metrics.notifyAlerts.inc({ outcome }, n),
      warn: (key, message) => this.warnings.warn(key, message),
      maxPending: notify.maxPending,
    });
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.alarms.onUpdates(
      updates => this.reconcile(updates.map(update => update.alarm)),
      'alertmanager',
    );
    this.unsubscribeHazards = this.hazards?.onChange(hazards => this.reconcileHazards(hazards));
    this.timer = setInterval(() => this.reconcileAll(), this.resendMs);
    this.timer.unref();
    this.reconcileAll();
    this.logger.log(`notifying P1/P2 alarms through Alertmanager ${this.url}`);
    if (!this.consoleUrlSet)
      this.logger.warn(
        `VIGIL_PUBLIC_URL is not set: notifications link to ${this.consoleUrl}, which people outside this host cannot open`,
      );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribeHazards?.();
    if (this.timer) clearInterval(this.timer);
    this.outbox.stop();
  }

  health(): NotifyHealth {
    return { url: this.url, ...this.outbox.health() };
  }

  /** Posts every firing alert again and resolves what is no longer open (the periodic resend). */
  private reconcileAll(): void {
    const open = this.alarms.open();
    const openIds = new Set(open.map(alarm => alarm.id));
    const now = Date.now();
    for (const [alarmId, alerts] of this.firing) {
      if (openIds.has(alarmId)) continue;
      for (const [key, alert] of alerts) this.outbox.enqueue(key, resolved(alert, now));
      this.firing.delete(alarmId);
    }
    this.reconcile(open, true);
    if (this.hazards) this.reconcileHazards(this.hazards.list(), true);
  }

  private readonly contactOf: ContactLookup = userId => this.auth?.contactOf(userId);

  /**
   * Posts the hazards' active notices, resolves the ones no longer active. At the first full
   * reconcile after a start (nothing known to be firing), the notices of hazards that settled
   * within the last four resends are resolved too: they may still be firing at Alertmanager.
   */
  private reconcileHazards(hazards: readonly Hazard[], resend = false): void {
    const now = Date.now();
    const window = ENDS_AFTER_RESENDS * this.resendMs;
    const firstFull = resend && !this.hazardsReconciled;
    if (resend) this.hazardsReconciled = true;
    const context = {
      registry: this.registry.current,
      consoleUrl: this.consoleUrl,
      contactOf: this.contactOf,
    };
    for (const hazard of hazards) {
      const before = this.hazardFiring.get(hazard.id);
      if (!before && hazard.state === 'closed' && !(firstFull && hazard.updatedAt > now - window))
        continue;
      const alerts = hazardAlertsFor(hazard, context, now + window);
      const desired = new Map<string, PostableAlert>();
      for (const { key, alert, active } of alerts) {
        if (active) desired.set(key, alert);
        else if (firstFull && !before && hazard.updatedAt > now - window)
          this.outbox.enqueue(key, resolved(alert, now));
      }
      for (const [key, alert] of before ?? []) {
        if (!desired.has(key)) this.outbox.enqueue(key, resolved(alert, now));
      }
      for (const [key, alert] of desired) {
        const previous = before?.get(key);
        if (resend || !previous || !sameContent(previous, alert)) this.outbox.enqueue(key, alert);
      }
      if (desired.size > 0) this.hazardFiring.set(hazard.id, desired);
      else this.hazardFiring.delete(hazard.id);
    }
    this.countFiring();
  }

  private countFiring(): void {
    let firing = 0;
    for (const alerts of this.firing.values()) firing += alerts.size;
    for (const alerts of this.hazardFiring.values()) firing += alerts.size;
    this.metrics.notifyFiring.set(firing);
  }

  private reconcile(alarms: readonly Alarm[], resend = false): void {
    const now = Date.now();
    const context = {
      registry: this.registry.current,
      consoleUrl: this.consoleUrl,
      contactOf: this.contactOf,
    };
    for (const alarm of alarms) {
      const desired = alertsFor(alarm, context, now + ENDS_AFTER_RESENDS * this.resendMs);
      const before = this.firing.get(alarm.id);
      for (const [key, alert] of before ?? []) {
        if (!desired.has(key)) this.outbox.enqueue(key, resolved(alert, now));
      }
      for (const [key, alert] of desired) {
        // A change of annotations (value, level) is worth a post; an unchanged alert waits for the resend.
        const previous = before?.get(key);
        if (resend || !previous || !sameContent(previous, alert)) this.outbox.enqueue(key, alert);
      }
      if (desired.size > 0) this.firing.set(alarm.id, desired);
      else this.firing.delete(alarm.id);
    }
    this.countFiring();
  }

  private async post(
    alerts: readonly PostableAlert[],
  ): Promise<{ outcome: PostOutcome; detail: string }> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(alerts),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    const detail = `HTTP ${response.status} ${(await response.text()).slice(0, 200)}`.trim();
    if (response.ok) return { outcome: 'sent', detail };
    const retry = response.status >= 500 || response.status === 429 || response.status === 408;
    return { outcome: retry ? 'retry' : 'rejected', detail };
  }
}

function sameContent(a: PostableAlert, b: PostableAlert): boolean {
  return JSON.stringify(a.annotations) === JSON.stringify(b.annotations);
}
