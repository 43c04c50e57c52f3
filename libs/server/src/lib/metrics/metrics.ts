import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process. Every hop has a counter: what came in, what was dropped and
 * why, what is buffered. Served at GET /metrics by the gateway.
 */
export class VigilMetrics {
  readonly registry = new Registry();

  readonly messagesReceived = new Counter({
    name: 'vigil_ingest_messages_total',
    help: 'MQTT messages received by ingest, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly readingsAccepted = new Counter({
    name: 'vigil_ingest_readings_total',
    help: 'Telemetry samples accepted by ingest',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'vigil_ingest_dead_letters_total',
    help: 'Messages rejected and republished to vigil/v1/_deadletter/{reason}',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'vigil_ingest_duplicate_samples_total',
    help: 'Samples whose seq was already seen for the device (dropped, not re-evaluated)',
    registers: [this.registry],
  });
  readonly clockCorrected = new Counter({
    name: 'vigil_ingest_clock_corrected_total',
    help:
      'Readings whose device time was more than 2 s ahead of the server: evaluated on server ' +
      'time and flagged (reason future: up to 60 s ahead; far-future: more), never dropped',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly seqRestarts = new Counter({
    name: 'vigil_ingest_seq_restarts_total',
    help: "Devices' seq counters recognised as restarted (their samples are evaluated, not dropped)",
    registers: [this.registry],
  });
  readonly retainedMessages = new Counter({
    name: 'vigil_ingest_retained_messages_total',
    help: "Device messages delivered from the broker's retained store, by kind: last known state, never liveness",
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly missingSamples = new Counter({
    name: 'vigil_ingest_missing_samples_total',
    help:
      "Samples missing from the devices' seq numbers (gaps; a late sample counts back): dropped by " +
      'the broker when Vigil is slower than the offered load, or lost by the devices',
    registers: [this.registry],
  });
  readonly signals = new Counter({
    name: 'vigil_rules_signals_total',
    help: 'Rule signals emitted, by rule and state',
    labelNames: ['rule', 'active'] as const,
    registers: [this.registry],
  });
  readonly alarmTransitions = new Counter({
    name: 'vigil_alarm_transitions_total',
    help: 'Alarm lifecycle transitions, by action',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly openAlarms = new Gauge({
    name: 'vigil_alarms_open',
    help: 'Alarms not in the normal state',
    registers: [this.registry],
  });
  readonly alarmsSuppressed = new Gauge({
    name: 'vigil_alarms_suppressed',
    help:
      'Open alarms hidden from the operator, by cause: maintenance, out-of-service, parent-offline ' +
      '(suppressed by design while the cause lasts), shelved (until its expiry)',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly writeBuffered = new Gauge({
    name: 'vigil_persister_buffered_lines',
    help: 'Lines waiting to be written to InfluxDB',
    registers: [this.registry],
  });
  readonly writeTotals = new Gauge({
    name: 'vigil_persister_lines',
    help: 'Persister totals (written, rejected when the buffer was full, failed permanently)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /**
   * The device rule engine's own counters (records, late and out-of-order readings, clock
   * re-bases, …), read when /metrics is scraped. RulesService hands its counters over with
   * `watchRuleEngine`; a process without the rules service leaves the series empty.
   */
  private ruleEngineStats: object | undefined;
  readonly ruleEngine = new Gauge({
    name: 'vigil_rules_engine_total',
    help: 'Rule engine counters since start, by counter: records, ticks, outOfOrderReadings, lateReadings, clockRebases, futureReadings, unknownDeviceRecords, reloads, suppressedOffline, signals, eventProblems, isolatedDevices, quarantinedRecords, canaries',
    labelNames: ['counter'] as const,
    registers: [this.registry],
    collect: () => this.collectRuleEngine(),
  });

  watchRuleEngine(stats: object): void {
    this.ruleEngineStats = stats;
  }

  private collectRuleEngine(): void {
    for (const [counter, value] of Object.entries(this.ruleEngineStats ?? {}))
      if (typeof value === 'number') this.ruleEngine.set({ counter }, value);
  }

  readonly wsClients = new Gauge({
    name: 'vigil_ws_clients',
    help: 'Connected WebSocket clients',
    registers: [this.registry],
  });
  readonly wsDropped = new Counter({
    name: 'vigil_ws_dropped_messages_total',
    help: 'Messages not sent to a slow WebSocket client (it is told to resume from its last seq)',
    registers: [this.registry],
  });
  readonly detectionLatency = new Histogram({
    name: 'vigil_alarm_detection_seconds',
    help: 'From ingest receipt of the reading to the alarm leaving the gateway',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly rulesIsolated = new Counter({
    name: 'vigil_rules_isolated_total',
    help:
      'Parts of the rule engine taken out of evaluation after an error, by scope (device, area, ' +
      'site, grade, stream: a resubscribed stream); each ' +
      'raises a P1 monitoring-lost system alarm',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly internalRejected = new Counter({
    name: 'vigil_internal_rejected_total',
    help:
      'Malformed messages on vigil-internal/v1/… (records, alarms, commands, replies) rejected ' +
      'by their zod schema instead of reaching the pipeline, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  /** The pipeline canary (gateway process): docs/interfaces.md §Canary. */
  readonly canaryAge = new Gauge({
    name: 'vigil_canary_age_seconds',
    help: 'Age of the newest canary each hop has seen (worst site); above VIGIL_CANARY_TIMEOUT_MS the hop is stalled',
    labelNames: ['hop'] as const,
    registers: [this.registry],
  });
  readonly canaryStalls = new Counter({
    name: 'vigil_canary_stalls_total',
    help: 'Times a hop (per site) stopped seeing canaries within VIGIL_CANARY_TIMEOUT_MS',
    labelNames: ['hop'] as const,
    registers: [this.registry],
  });
  readonly canariesSent = new Counter({
    name: 'vigil_canary_sent_total',
    help: 'Canaries published by this gateway (one per site per VIGIL_CANARY_INTERVAL_MS)',
    registers: [this.registry],
  });
  readonly authLogins = new Counter({
    name: 'vigil_auth_logins_total',
    help: 'Login attempts by result: ok, failed (wrong password or user), refused (rate limit, lockout, busy)',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });

  readonly notifyAlerts = new Counter({
    name: 'vigil_notify_alerts_total',
    help:
      'Alerts posted to Alertmanager by outcome: sent, failed (retried with backoff), rejected ' +
      '(4xx, not retried), dropped (the bounded queue was full)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly notifyFiring = new Gauge({
    name: 'vigil_notify_firing_alerts',
    help: 'Alerts Vigil holds as firing at Alertmanager (one per alarm and notified organisation node)',
    registers: [this.registry],
  });
  readonly notifyRelay = new Counter({
    name: 'vigil_notify_relay_total',
    help: 'Webhook relay deliveries (WeCom, DingTalk, SMS) by channel and outcome',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly brokerDenied = new Counter({
    name: 'vigil_broker_denied_total',
    help: 'CONNECTs, PUBLISHes and SUBSCRIBEs the embedded broker refused, by reason (docs/security.md)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_process_' });
  }
}
