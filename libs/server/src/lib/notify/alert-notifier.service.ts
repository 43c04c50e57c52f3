import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';

import type { Alarm } from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { AlarmView } from '../alarms/alarm-view';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AlertOutbox, type OutboxHealth, type PostOutcome } from './alert-outbox';
import { alertsFor, resolved, type PostableAlert } from './alerts';

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
 */
@Injectable()
export class AlertNotifier implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertNotifier.name);
  private readonly warnings = new RateLimitedLogger(this.logger, 3, 60_000);
  /** What Alertmanager was last told is firing: alarm id → alert key → alert. */
  private readonly firing = new Map<string, Map<string, PostableAlert>>();
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
  }

  private reconcile(alarms: readonly Alarm[], resend = false): void {
    const now = Date.now();
    const context = { registry: this.registry.current, consoleUrl: this.consoleUrl };
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
    this.metrics.notifyFiring.set([...this.firing.values()].reduce((n, m) => n + m.size, 0));
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
