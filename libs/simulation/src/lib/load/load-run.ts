import type { RegisteredDevice } from '@vigil/registry';

import type { SiteLayout } from '../fleet/site-layout';
import { AlarmWatcher, fetchAlarms } from '../observe/alarm-watcher';
import {
  countStored,
  countStoredPerSecond,
  waitForStored,
  type InfluxTarget,
} from '../observe/influx';
import { ProcSampler } from '../observe/proc-sampler';
import { promSum, promValue, scrapeMetrics, type PromSamples } from '../observe/prometheus';
import { matchAlarms, standingAtStart, type ExpectedAlarm } from '../report/alarm-accounting';
import {
  DEFAULT_SUSTAIN,
  judgeSustained,
  latencySummary,
  summariseProcesses,
  type LoadRunReport,
  type SecondSample,
  type SustainCriteria,
} from '../report/load-report';
import { percentile } from '../report/percentiles';
import { FastMqttPublisher } from './fast-publisher';
import { LoadGenerator, type InjectionOptions, type Trigger } from './load-generator';
import {
  describeProfile,
  offeredReadings,
  peakRate,
  profileDurationMs,
  type LoadProfile,
} from './load-profile';

/** The system under load: where to publish, where alarms come out, where readings are stored. */
export interface LoadTarget {
  /** `vigil`, `node-red`, … */
  readonly name: string;
  readonly mqttUrl: string;
  /** A login for a broker that admits no anonymous client (docs/security.md). */
  readonly mqttLogin?: { readonly username: string; readonly password: string };
  /** The alarm WebSocket, e.g. `ws://127.0.0.1:8080/ws`. */
  readonly wsUrl: string;
  /** Prometheus metrics (Vigil's `/metrics`), sampled every second. */
  readonly metricsUrl?: string;
  /** REST gateway, to reconcile alarms the WebSocket may have missed. */
  readonly gatewayUrl?: string;
  readonly influx?: InfluxTarget;
  /** Processes whose CPU and memory are sampled, by name; the generator is added as `load-generator`. */
  readonly pids?: Readonly<Record<string, number>>;
}

export interface LoadRunOptions {
  readonly title?: string;
  readonly target: LoadTarget;
  readonly fleet: {
    readonly name: string;
    readonly devices: readonly RegisteredDevice[];
    readonly sites: readonly SiteLayout[];
  };
  readonly profile: LoadProfile;
  readonly qos?: 0 | 1;
  readonly batch?: number;
  /** Alarms provoked per second (default 10, 0 for none). */
  readonly injection?: InjectionOptions;
  /** How long to wait for the last alarms after the load stops (default 5 s). */
  readonly settleMs?: number;
  /** How long to wait for the last readings to be stored (default 30 s). */
  readonly storeTimeoutMs?: number;
  readonly sustain?: Partial<SustainCriteria>;
  readonly clientId?: string;
  /** Called every second with the latest sample (for a progress bar). */
  readonly onSecond?: (sample: SecondSample, elapsedMs: number, totalMs: number) => void;
}

/** Runs one bounded load run against a target and returns its report. */
export async function runLoad(options: LoadRunOptions): Promise<LoadRunReport> {
  const { target, profile } = options;
  const qos = options.qos ?? 0;
  const batch = options.batch ?? 1;
  const injection = options.injection ?? { perSecond: 10 };
  const notes: string[] = [];
  const totalMs = profileDurationMs(profile);

  let startedAtMs = Date.now();
  const latencyBySecond = new Map<number, number[]>();
  const triggersByKey = new Map<string, Trigger>();
  let raisesThisSecond = 0;
  const watcher = new AlarmWatcher({
    url: target.wsUrl,
    onRaise: event => {
      raisesThisSecond += 1;
      const trigger = triggersByKey.get(`${event.siteId}/${event.deviceId}`);
      if (!trigger) return;
      const second = Math.floor((trigger.publishedAt - startedAtMs) / 1000);
      const list = latencyBySecond.get(second);
      if (list) list.push(event.receivedAt - trigger.publishedAt);
      else latencyBySecond.set(second, [event.receivedAt - trigger.publishedAt]);
    },
  });
  await watcher.start();
  const publisher = await FastMqttPublisher.connect(target.mqttUrl, {
    clientId: options.clientId ?? `loadtest-${process.pid}-${Date.now().toString(36)}`,
    ...(target.mqttLogin ?? {}),
  });
  const generator = new LoadGenerator({
    devices: options.fleet.devices,
    sites: options.fleet.sites,
    profile,
    publisher,
    qos,
    batch,
    injection,
    onTrigger: trigger => triggersByKey.set(`${trigger.siteId}/${trigger.deviceId}`, trigger),
  });
  const telemetryDevices = options.fleet.devices.length;
  const perTick = (peakRate(profile) * 10) / 1000 / batch;
  if (perTick > telemetryDevices) {
    notes.push(
      `at ${peakRate(profile)}/s a device reports more than once per 10 ms tick: readings of one device may share a timestamp and overwrite each other in InfluxDB; use a larger fleet`,
    );
  }

  const lowest = profile.kind === 'ramp' ? Math.min(profile.from, profile.to) : peakRate(profile);
  const periodSeconds = lowest > 0 ? telemetryDevices / lowest : Number.POSITIVE_INFINITY;
  if (periodSeconds > 25) {
    notes.push(
      `at ${Math.round(lowest)}/s each of the ${telemetryDevices} devices reports only every ${Math.round(periodSeconds)} s: ` +
        'past a gas detector’s 30 s offline timeout, so offline alarms are to be expected; use a smaller fleet or a higher rate',
    );
  }

  const sampler = new ProcSampler({ ...target.pids, 'load-generator': process.pid });
  sampler.sample();
  const series: SecondSample[] = [];
  let previousMetrics: PromSamples | undefined;
  let firstMetrics: PromSamples | undefined;
  let lastMetrics: PromSamples | undefined;
  if (target.metricsUrl) {
    try {
      firstMetrics = previousMetrics = await scrapeMetrics(target.metricsUrl);
    } catch (error) {
      notes.push(`metrics not readable at start: ${(error as Error).message}`);
    }
  }

  startedAtMs = Date.now();
  let lastSentSeen = 0;
  let secondIndex = 0;

  let sampling: Promise<void> = Promise.resolve();
  const takeSample = async (): Promise<void> => {
    const t = secondIndex;
    secondIndex += 1;
    const processes = sampler.sample();
    let metrics: PromSamples | undefined;
    if (target.metricsUrl) {
      try {
        metrics = await scrapeMetrics(target.metricsUrl, 900);
      } catch (error) {
        if (process.env['DEBUG_METRICS']) console.error(error);
        metrics = undefined;
      }
    }
    const perSecond = generator.perSecond();
    const generatorSecond = perSecond[t];
    const sentTotal = generator.stats.readingsSent;
    const delta = (name: string, labels?: Record<string, string>): number | null => {
      if (!metrics || !previousMetrics) return null;
      const now = labels ? promValue(metrics, name, labels) : promSum(metrics, name);
      const before = labels
        ? promValue(previousMetrics, name, labels)
        : promSum(previousMetrics, name);
      return now === undefined || before === undefined ? null : Math.max(0, now - before);
    };
    const latencies = latencyBySecond.get(t - 1);
    const sorted = latencies ? [...latencies].sort((a, b) => a - b) : undefined;
    const lag = metrics ? promValue(metrics, 'vigil_nodejs_eventloop_lag_p99_seconds') : undefined;
    const sample: SecondSample = {
      t,
      offered: generatorSecond?.offered ?? 0,
      sent: sentTotal - lastSentSeen,
      ingested: delta('vigil_ingest_readings_total'),
      stored: delta('vigil_persister_lines_total', { outcome: 'written' }),
      backlog: metrics ? (promValue(metrics, 'vigil_persister_buffered_lines') ?? null) : null,
      raises: raisesThisSecond,
      latency: sorted
        ? {
            p50: round1(percentile(sorted, 50) as number),
            p95: round1(percentile(sorted, 95) as number),
            p99: round1(percentile(sorted, 99) as number),
          }
        : null,
      eventLoopLagMs: lag === undefined ? null : round1(lag * 1000),
      processes,
    };
    lastSentSeen = sentTotal;
    raisesThisSecond = 0;
    if (metrics) {
      previousMetrics = metrics;
      lastMetrics = metrics;
    }
    series.push(sample);
    options.onSecond?.(sample, Date.now() - startedAtMs, totalMs);
  };
  const sampleTimer = setInterval(() => {
    sampling = sampling.then(takeSample);
  }, 1000);

  try {
    await generator.run();
    const flushDeadline = Date.now() + 10_000;
    while (publisher.stats.inFlight > 0 && Date.now() < flushDeadline) {
      await sleep(50);
    }
    // Let the last alarms arrive: until each expected one is seen, or settleMs.
    const expectedCount = generator.triggers.reduce(
      (sum, trigger) => sum + trigger.expects.length,
      0,
    );
    const settleDeadline = Date.now() + (options.settleMs ?? 5000);
    while (Date.now() < settleDeadline) {
      const seen = watcher.raises.filter(raise =>
        triggersByKey.has(`${raise.siteId}/${raise.deviceId}`),
      ).length;
      if (seen >= expectedCount) break;
      await sleep(100);
    }
  } finally {
    clearInterval(sampleTimer);
    await sampling;
    await takeSample();
    await publisher.end();
  }
  const endedAtMs = Date.now();

  // Reconcile with REST: raises the WebSocket missed still count, flagged.
  if (target.gatewayUrl) {
    try {
      for (const alarm of await fetchAlarms(target.gatewayUrl, startedAtMs - 1000)) {
        watcher.tracker.observe(alarm, Date.now(), 'rest');
      }
    } catch (error) {
      notes.push(`REST reconciliation failed: ${(error as Error).message}`);
    }
  }
  watcher.stop();

  const expected: ExpectedAlarm[] = generator.triggers.flatMap(trigger =>
    trigger.expects.map(expect => ({
      siteId: trigger.siteId,
      deviceId: trigger.deviceId,
      ruleId: expect.ruleId,
      publishedAt: trigger.publishedAt,
    })),
  );
  const match = matchAlarms(expected, watcher.raises);
  const standing = standingAtStart(expected, watcher.openAtStart, watcher.raises);
  if (standing.standing > 0) {
    notes.push(
      `${standing.standing} of the ${expected.length} provoked alarms were already active in the target before the load ` +
        `started (${standing.missed} of them never raised again, counted as missed): state from before this run ` +
        '(a resumed broker session, a reused data directory); an excursion inside a standing alarm raises nothing new',
    );
  }
  const stats = generator.stats;
  const sent = stats.readingsSent;

  let stored: number | null = null;
  let storedBySecond: [number, number][] = [];
  if (target.influx) {
    const influx = target.influx;
    // Batched samples carry times up to a device period before they were sent.
    const from = startedAtMs - 1000 - generator.maxBackdateMs;
    const to = endedAtMs + 1000;
    stored = await waitForStored(() => countStored(influx, from, to), sent, {
      timeoutMs: options.storeTimeoutMs ?? 30_000,
      quietMs: 5000,
    });
    try {
      const origin = generator.startedAtMs;
      storedBySecond = (await countStoredPerSecond(influx, origin, origin + totalMs - 1)).map(
        ([time, count]) => [Math.round((time - origin) / 1000), count],
      );
    } catch (error) {
      notes.push(`per-second stored counts failed: ${(error as Error).message}`);
    }
  }
  if (stats.freshDetectors === 0 && injection.perSecond > 0) {
    notes.push(
      'ran out of fresh combustible detectors to provoke alarms on: use a larger fleet or fewer alarms per second',
    );
  }

  // Latency per second of the trigger's publish, now that every raise is in (the live samples
  // only knew the alarms that had arrived by then).
  const bySecond = new Map<number, number[]>();
  for (const sample of match.samples) {
    const second = Math.floor((sample.publishedAt - startedAtMs) / 1000);
    const list = bySecond.get(second);
    if (list) list.push(sample.wsMs);
    else bySecond.set(second, [sample.wsMs]);
  }
  const finalSeries = series.map(sample => {
    const values = bySecond.get(sample.t)?.sort((a, b) => a - b);
    return values
      ? {
          ...sample,
          latency: {
            p50: round1(percentile(values, 50) as number),
            p95: round1(percentile(values, 95) as number),
            p99: round1(percentile(values, 99) as number),
          },
        }
      : { ...sample, latency: null };
  });

  const offered = Math.round(offeredReadings(profile));
  const wsLatency = latencySummary(match.wsLatenciesMs);
  const sustain = { ...DEFAULT_SUSTAIN, ...options.sustain };
  const verdict = judgeSustained(
    {
      durationMs: totalMs,
      offered: offered + stats.triggers,
      sent,
      stored,
      alarms: match.accounting,
      p99Ms: wsLatency.p99,
    },
    sustain,
  );
  const metricTotal = (name: string, labels?: Record<string, string>): number | null => {
    if (!lastMetrics || !firstMetrics) return null;
    const end = labels ? promValue(lastMetrics, name, labels) : promSum(lastMetrics, name);
    // A series that appeared during the run (a labelled counter set for the first time) started at 0.
    const start =
      (labels ? promValue(firstMetrics, name, labels) : promSum(firstMetrics, name)) ?? 0;
    return end === undefined ? null : end - start;
  };
  return {
    kind: 'load-run',
    title: options.title ?? `${target.name}: ${describeProfile(profile)}`,
    target: target.name,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: totalMs,
    profile: describeProfile(profile),
    offeredPeakRate: peakRate(profile),
    qos,
    batch,
    fleet: { name: options.fleet.name, devices: options.fleet.devices.length },
    totals: {
      offered,
      sent,
      stored,
      lost: stored === null ? null : Math.max(0, sent - stored),
      lossPct:
        stored === null || sent === 0 ? null : round3((100 * Math.max(0, sent - stored)) / sent),
      achievedRate: Math.round((sent * 1000) / totalMs),
      storedRate: stored === null ? null : Math.round((stored * 1000) / totalMs),
      generatorMissed: stats.missed,
      generatorDeferredTicks: stats.deferredTicks,
      deadLetters: metricTotal('vigil_ingest_dead_letters_total'),
      persisterRejected: metricTotal('vigil_persister_lines_total', { outcome: 'rejected' }),
      missingSamples: metricTotal('vigil_ingest_missing_samples_total'),
    },
    alarms: match.accounting,
    latencyMs: {
      publishToWebSocket: wsLatency,
      publishToDetection: latencySummary(match.detectionLatenciesMs),
    },
    processes: summariseProcesses(series),
    sustained: verdict,
    series: finalSeries,
    sentBySecond: generator.perSecond().map(second => [second.t, second.sent]),
    storedBySecond,
    notes,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
