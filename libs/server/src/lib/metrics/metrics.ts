import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process. Every hop has a counter: what came in, what was dropped and
 * why, what is buffered. Served at GET /metrics by the gateway.
 */
/** Name of the counter of one field of the rule engine's stats: `lateReadings` → `vigil_rules_engine_late_readings_total`. */
export function ruleEngineMetricName(field: string): string {
  return `vigil_rules_engine_${field.replace(/[A-Z]/g, letter => `_${letter.toLowerCase()}`)}_total`;
}

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
  readonly journalFailures = new Counter({
    name: 'vigil_ingest_journal_failures_total',
    help:
      'Device messages the journal (spool or JetStream) could not make durable: not acknowledged ' +
      'to the broker, which re-delivers them',
    registers: [this.registry],
  });
  readonly ingestSessionsLost = new Counter({
    name: 'vigil_ingest_broker_sessions_lost_total',
    help:
      "Reconnects on which the MQTT broker no longer had ingest's persistent session: what it " +
      'had queued for ingest, and what devices published before ingest subscribed again, is lost',
    registers: [this.registry],
  });
  readonly seqRestarts = new Counter({
    name: 'vigil_ingest_seq_restarts_total',
    help: "Devices' seq counters recognised as restarted (their samples are evaluated, not dropped)",
    registers: [this.registry],
  });
  readonly staleSamples = new Counter({
    name: 'vigil_ingest_stale_samples_total',
    help:
      "Samples with a seq more than 64 below their device's newest and a device time no newer: " +
      're-delivered or late, which ingest cannot tell apart; evaluated (late), not a restart',
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
  /** JetStream backbone: rule partitions this rules instance owns (lease held), by instance. */
  readonly rulesPartitionsOwned = new Gauge({
    name: 'vigil_rules_partitions_owned',
    help: 'Rule partitions whose lease this rules instance holds (JetStream backbone)',
    labelNames: ['instance'] as const,
    registers: [this.registry],
  });
  /** JetStream backbone: partitions nobody evaluates, as this rules instance sees them. */
  readonly rulesPartitionsUnowned = new Gauge({
    name: 'vigil_rules_partitions_unowned',
    help: 'Rule partitions nobody evaluates as this rules instance sees them (none here, no other lease): starting, lapsed or unclaimed',
    registers: [this.registry],
  });
  readonly rulesPartitionUnownedSeconds = new Gauge({
    name: 'vigil_rules_partition_unowned_seconds',
    help: 'How long the partition unowned the longest has been (0 when every partition is evaluated)',
    registers: [this.registry],
  });
  readonly rulesPartitionMoves = new Counter({
    name: 'vigil_rules_partition_changes_total',
    help: 'Rule partitions acquired, given back (released) or lost (lease not renewed in time)',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });
  /** Rule state snapshots not saved (too large, or the write failed): the next owner restores an older one. */
  readonly rulesStateNotSaved = new Counter({
    name: 'vigil_rules_state_not_saved_total',
    help: 'Rule state snapshots not saved, by reason (too-large, error): a takeover restores an older one, or none',
    labelNames: ['reason'] as const,
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
  readonly writeTotals = new Counter({
    name: 'vigil_persister_lines_total',
    help: 'Lines by outcome: written, rejected (the buffer was full), failed (permanently), unencodable',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly journalWriteErrors = new Counter({
    name: 'vigil_journal_write_errors_total',
    help: 'Appends to a local JSON-lines journal (alarms, hazards) whose write or fdatasync failed: the step was refused, not made durable',
    labelNames: ['journal'] as const,
    registers: [this.registry],
  });
  readonly hazardPhotos = new Counter({
    name: 'vigil_hazard_photos_total',
    help:
      'Hazard photo uploads by outcome: stored, duplicate (the same bytes already on the hazard), ' +
      'refused-type, refused-size, refused (the lifecycle: closed, bound, role), ' +
      'disk-reserve and write-error (not stored: answered 507/500), read-error (a stored photo ' +
      'missing or damaged when served)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  // ---- inspection schedules (issue 15; docs/interfaces.md §Inspections) ----
  readonly inspectionsMissed = new Counter({
    name: 'vigil_inspections_missed_total',
    help: 'Inspection windows that closed without a signed record (each journaled once and raised as an inspection-missed alarm)',
    labelNames: ['level'] as const,
    registers: [this.registry],
  });
  readonly inspectionsOverdue = new Gauge({
    name: 'vigil_inspections_overdue',
    help: 'Inspection schedules with a missed window not yet made up by an inspection',
    registers: [this.registry],
  });
  readonly inspectionsUnwatched = new Gauge({
    name: 'vigil_inspections_unwatched',
    help: 'Inspection schedules of the registry that this process does not watch (no alarm lifecycle here: split deployment); nobody would notice a missed inspection',
    registers: [this.registry],
  });
  // ---- the monthly report (issue 15; docs/interfaces.md §Reports) ----
  readonly reportPdf = new Counter({
    name: 'vigil_report_pdf_total',
    help: 'Monthly-report PDFs asked for, by outcome: ok, or why none was printed (chromium-missing, busy, timeout, failed); every failure is answered 503 with the reason',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  // ---- special-operation permits (issue 15; docs/interfaces.md §Permits) ----
  readonly permitsUnevaluated = new Gauge({
    name: 'vigil_permits_unevaluated',
    help: 'Active special-operation permits whose stop-work rule no rule engine in this process evaluates now',
    registers: [this.registry],
  });
  readonly permitUnevaluatedTotal = new Counter({
    name: 'vigil_permit_unevaluated_total',
    help: 'Times an active permit was found without a rule engine evaluating its stop-work rule',
    registers: [this.registry],
  });
  // ---- duty and shift hand-over (issue 15; docs/interfaces.md §Duty) ----
  readonly dutyUnmanned = new Gauge({
    name: 'vigil_duty_unmanned',
    help: 'Control rooms whose on-duty shift is past its planned end and VIGIL_DUTY_GRACE_MS without an accepted hand-over',
    registers: [this.registry],
  });
  readonly dutyUnmannedTotal = new Counter({
    name: 'vigil_duty_unmanned_total',
    help: 'Times a control room was found unmanned (each raises a P2 duty-unmanned alarm)',
    registers: [this.registry],
  });
  // ---- the readiness exchange of a split deployment (vigil_health; docs/interfaces.md) ----
  readonly servicesNotReady = new Gauge({
    name: 'vigil_services_not_ready',
    help: 'Gateway: other processes whose latest readiness in vigil_health says not ready (gateway /readyz checks.services false)',
    registers: [this.registry],
  });
  readonly servicesGone = new Gauge({
    name: 'vigil_services_gone',
    help: 'Gateway: processes whose readiness entry in vigil_health expired or was deleted in the last 5 minutes',
    registers: [this.registry],
  });
  readonly servicesHealthStale = new Gauge({
    name: 'vigil_services_health_stale',
    help: "1 while this process's readiness has not reached vigil_health for 6 s, or (gateway) its own entry has not come back from the bucket (blind to the others)",
    registers: [this.registry],
  });
  readonly servicesHealthPublishFailures = new Counter({
    name: 'vigil_services_health_publish_failures_total',
    help: "Failed publications of this process's readiness to vigil_health",
    registers: [this.registry],
  });
  readonly servicesHealthUnreadable = new Counter({
    name: 'vigil_services_health_unreadable_total',
    help: 'Gateway: vigil_health entries it could not read (invalid, or beyond the tracked bound); such a process shows as not ready',
    registers: [this.registry],
  });
  // ---- the local spool (VIGIL_BUS=memory, issue 12; docs/reliability.md) ----
  readonly spoolDropped = new Counter({
    name: 'vigil_spool_dropped_total',
    help: 'Spool entries dropped by its bound before every consumer had them (records: device messages; alarms: alarm update batches)',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly spoolTorn = new Counter({
    name: 'vigil_spool_torn_total',
    help: 'Torn spool entries (the process died mid-write) cut off at open',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({
    name: 'vigil_spool_bytes',
    help: 'Bytes held by the spool, by lane (bounded by VIGIL_SPOOL_MAX_MB / VIGIL_SPOOL_ALARMS_MAX_MB)',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly spoolBacklog = new Gauge({
    name: 'vigil_spool_backlog_entries',
    help: 'Spool entries a consumer (cursor) has not committed yet, by lane and cursor',
    labelNames: ['lane', 'cursor'] as const,
    registers: [this.registry],
  });
  /**
   * The device rule engine's own counters (records, late and out-of-order readings, clock
   * re-bases, …), one counter per field of its stats (`clockRebases` →
   * `vigil_rules_engine_clock_rebases_total`), read when /metrics is scraped. RulesService hands
   * its counters over with `watchRuleEngine`; a process without the rules service has none.
   */
  watchRuleEngine(stats: object): void {
    for (const [field, value] of Object.entries(stats)) {
      if (typeof value !== 'number') continue;
      const name = ruleEngineMetricName(field);
      this.registry.removeSingleMetric(name);
      const counter: Counter = new Counter({
        name,
        help: `Rule engine counter ${field} since start (RuleEngineStats in @vigil/rules)`,
        registers: [this.registry],
        collect: () =>
          this.raiseCounter(counter, {}, (stats as Record<string, number>)[field] ?? 0),
      });
    }
  }

  private readonly counterTotals = new Map<object, Map<string, number>>();

  /**
   * Brings a counter up to a running total kept elsewhere (the engine's and the write buffer's
   * stats): Prometheus counters only count up, so the increase since the last call is added. A
   * total that went back (its owner was re-created) counts from zero again.
   */
  raiseCounter<T extends string>(
    counter: Counter<T>,
    labels: Partial<Record<T, string>>,
    total: number,
  ): void {
    let totals = this.counterTotals.get(counter);
    if (!totals) this.counterTotals.set(counter, (totals = new Map()));
    const key = JSON.stringify(labels);
    const seen = totals.get(key) ?? 0;
    const increase = total >= seen ? total - seen : total;
    totals.set(key, total);
    // An increase of 0 still creates the series, so that every outcome is there from the start.
    counter.inc(labels as never, increase);
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
  readonly wsResyncs = new Counter({
    name: 'vigil_ws_resync_snapshots_total',
    help: 'Consoles that asked to resume and got a snapshot instead of the alarm changes they missed, by resync reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly detectionLatency = new Histogram({
    name: 'vigil_alarm_detection_seconds',
    help: 'From ingest receipt of the reading to the alarm leaving the gateway',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly registryReloads = new Counter({
    name: 'vigil_registry_reloads_total',
    help: 'Registry reloads (HTTP or SIGHUP), by result: applied, or refused (the running registry stays)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly registryReloadRefused = new Gauge({
    name: 'vigil_registry_reload_refused',
    help: '1 while the latest reload was refused: the files on disk are not what this process runs',
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
  readonly alarmListenerErrors = new Counter({
    name: 'vigil_alarm_listener_errors_total',
    help:
      "Alarm updates a gateway listener (the consoles' WebSocket, the Alertmanager notifier) threw " +
      'on; the other listeners still had them',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });
  readonly canaryClockBack = new Counter({
    name: 'vigil_canary_clock_back_total',
    help:
      "Times this process's clock went back behind the canaries already seen (an NTP step, a " +
      'restored VM): the canary re-based every hop on the new clock instead of going blind',
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
  readonly authFailClosed = new Counter({
    name: 'vigil_auth_fail_closed_total',
    help:
      'Principals refused everything (fail-closed) by reason: no-user (a route reached without a ' +
      'user, a defect; every time), unknown-role, unknown-scope (once per user and registry)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly authUsersWithoutAccess = new Gauge({
    name: 'vigil_auth_users_without_access',
    help: 'Users of the users file whose role or scope grants nothing under the current registry',
    labelNames: ['reason'] as const,
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

  readonly storageReady = new Gauge({
    name: 'vigil_storage_ready',
    help:
      'Whether history is being kept: 1 when an authenticated query on the InfluxDB database ' +
      'passed, 0 otherwise (reason: unauthorized, forbidden, unreachable, database-missing, error, off)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly writeRetries = new Counter({
    name: 'vigil_persister_write_retries_total',
    help:
      'Failed InfluxDB write attempts whose lines were kept for retry, by cause: auth (401/403), ' +
      'server (5xx, 404 database not found, 408/429), network',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly brokerDenied = new Counter({
    name: 'vigil_broker_denied_total',
    help: 'CONNECTs, PUBLISHes and SUBSCRIBEs the embedded broker refused, by reason (docs/security.md)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly writeBufferCapacity = new Gauge({
    name: 'vigil_persister_buffer_capacity_lines',
    help: 'Lines the write buffer holds at most (VIGIL_WRITE_BUFFER_LINES): beyond it, lines are rejected',
    registers: [this.registry],
  });
  readonly readyCheck = new Gauge({
    name: 'vigil_ready_check',
    help: 'The /readyz checks of the serving process as of the scrape, 1 passing or 0 failing, by check (broker, storage)',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });

  readonly uplinkItems = new Counter({
    name: 'vigil_uplink_items_total',
    help:
      'Uplink items of the lower side by kind (realtime, alarm, hazard) and outcome: queued ' +
      '(durable in the outbox), sent (acknowledged by the upper), refused (the outbox was full)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly uplinkPosts = new Counter({
    name: 'vigil_uplink_posts_total',
    help: 'Batches posted to the upper Vigil by outcome: ok, failed (retried with backoff)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly uplinkBacklog = new Gauge({
    name: 'vigil_uplink_backlog_items',
    help: 'Uplink items waiting in the outbox for the upper Vigil to acknowledge them',
    registers: [this.registry],
  });
  readonly uplinkLag = new Gauge({
    name: 'vigil_uplink_lag_seconds',
    help: 'Age of the oldest uplink item not yet acknowledged by the upper (0 when none waits)',
    registers: [this.registry],
  });
  readonly uplinkLastSuccess = new Gauge({
    name: 'vigil_uplink_last_success_timestamp_seconds',
    help: 'When the upper Vigil last acknowledged a batch (unix time; 0 never since start)',
    registers: [this.registry],
  });
  readonly uplinkReceived = new Counter({
    name: 'vigil_uplink_received_items_total',
    help:
      'Uplink items the upper side received, by outcome: stored (durable, acknowledged), ' +
      'duplicate (already held: a retry), held-back (after a hole in the seqs, asked again)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly uplinkRefusedBatches = new Counter({
    name: 'vigil_uplink_refused_batches_total',
    help: 'Uplink batches the upper side refused, by reason: token, enterprise, invalid, journal',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly uplinkGaps = new Counter({
    name: 'vigil_uplink_gap_items_total',
    help:
      'Seqs an upper will never receive: the lower no longer held them (the upper had lost what ' +
      'it acknowledged, e.g. restored from an old backup)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
  }
}
