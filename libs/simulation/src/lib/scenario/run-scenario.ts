import { connect, type MqttClient } from 'mqtt';

import { deviceTopic } from '@vigil/contracts';

import { FleetSimulator } from '../fleet/fleet-simulator';
import { mqttConnector } from '../fleet/mqtt-connector';
import { hasTelemetry } from '../fleet/generators';
import type { FleetDefinition } from '../fleet/site-layout';
import { AlarmWatcher, type RaiseEvent, type WatchedAlarm } from '../observe/alarm-watcher';
import { countStored, waitForStored, type InfluxTarget } from '../observe/influx';
import { compileScenario, storableReadings, type Emission } from './compile-scenario';
import { GatewayClient, knownRuleIds } from './gateway-client';
import { judgeScenario, type ScenarioVerdict } from './judge-scenario';
import { MAIN_TARGET } from './operator-steps';
import {
  OperatorRunner,
  missingTargets,
  type ActionResult,
  type ActionTarget,
} from './operator-runner';
import { ScenarioError, type Scenario } from './scenario-schema';

export interface ScenarioRunOptions {
  readonly scenario: Scenario;
  /** The gateway (REST and `/ws`), e.g. `http://127.0.0.1:8080`. */
  readonly gatewayUrl: string;
  readonly token?: string;
  /**
   * Further Vigil instances the scenario's operator steps address (`target: city`), by name →
   * gateway URL; `main` is `gatewayUrl`.
   */
  readonly targets?: Readonly<Record<string, string>>;
  /** Targets left out of this run: their steps are reported `skipped` (`--without city`). */
  readonly without?: readonly string[];
  /** Each operator step's result as it ends, awaited before the next (a test's hook). */
  readonly onAction?: (result: ActionResult) => void | Promise<void>;
  readonly mqttUrl: string;
  /**
   * A login for a broker that admits no anonymous client: the injecting connection and the
   * background fleet's publish for many devices, so a gateway's login or a test account.
   */
  readonly mqttLogin?: { readonly username: string; readonly password: string };
  /** InfluxDB 1.x API and database, to compare readings sent with readings stored. */
  readonly influx?: { readonly url: string; readonly database: string };
  /** The fleet to play against; default: what the gateway lists. */
  readonly fleet?: FleetDefinition;
  /** Rule ids this Vigil knows; default: this build's catalogue for the fleet's devices. */
  readonly knownRules?: ReadonlySet<string>;
  readonly siteRuleIds?: readonly string[];
  readonly seed?: number;
  /** Extra wait for alarms after the scenario ends (default 5 s). */
  readonly settleMs?: number;
  readonly onProgress?: (progress: ScenarioProgress) => void;
  readonly log?: (line: string) => void;
}

export interface ScenarioProgress {
  readonly elapsedMs: number;
  readonly totalMs: number;
  readonly sent: number;
  readonly raises: number;
}

export interface ScenarioReport {
  readonly kind: 'scenario';
  readonly name: string;
  readonly title: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly gateway: string;
  readonly verdict: ScenarioVerdict;
  readonly messages: {
    readonly readings: number;
    readonly events: number;
    readonly statuses: number;
    readonly raw: number;
    readonly background: number;
  };
  readonly raises: readonly RaiseEvent[];
  readonly notes: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

function payloadOf(emission: Emission, startedAt: number): string {
  if (emission.raw !== undefined) return emission.raw;
  if (emission.sample) {
    const { tsOffsetMs, seq, values } = emission.sample;
    return JSON.stringify({
      ts: startedAt + tsOffsetMs,
      ...(seq === undefined ? {} : { seq }),
      values,
    });
  }
  if (emission.event) {
    return JSON.stringify({
      ts: startedAt + emission.event.tsOffsetMs,
      code: emission.event.code,
      detail: emission.event.detail,
    });
  }
  const status = emission.status as NonNullable<Emission['status']>;
  return JSON.stringify({ online: status.online, ts: startedAt + status.tsOffsetMs });
}

function emissionTs(emission: Emission, startedAt: number): number | undefined {
  const offset =
    emission.sample?.tsOffsetMs ?? emission.event?.tsOffsetMs ?? emission.status?.tsOffsetMs;
  return offset === undefined ? undefined : startedAt + offset;
}

/**
 * Plays a scenario against a running Vigil and judges it: the devices the scenario drives send
 * its timeline, every other device of the site reports normally (background), the gateway's
 * WebSocket is watched for alarms (REST reconciles at the end), and InfluxDB is asked how many
 * of the readings were stored.
 */
export async function runScenario(options: ScenarioRunOptions): Promise<ScenarioReport> {
  const { scenario } = options;
  const log = options.log ?? (() => undefined);
  const gateway = new GatewayClient(options.gatewayUrl, options.token);
  const fleet = options.fleet ?? (await gateway.fleet());
  const seed = options.seed ?? 1;
  const compiled = compileScenario(scenario, fleet, seed);
  if (compiled.problems.length > 0) throw new ScenarioError([...compiled.problems]);
  const knownRules = options.knownRules ?? knownRuleIds(fleet.devices, options.siteRuleIds);
  const notes: string[] = [];
  const targets = new Map<string, ActionTarget>([[MAIN_TARGET, { url: options.gatewayUrl }]]);
  for (const [name, url] of Object.entries(options.targets ?? {})) targets.set(name, { url });
  const unreachable = missingTargets(scenario, targets, options.without);
  if (unreachable.length > 0) throw new ScenarioError(unreachable);

  const watcher = new AlarmWatcher({ url: gateway.webSocketUrl });
  await watcher.start();

  const client: MqttClient = connect(options.mqttUrl, {
    clientId: `loadtest-scenario-${process.pid}-${Date.now().toString(36)}`,
    protocolVersion: 4,
    reconnectPeriod: 500,
    ...(options.mqttLogin ?? {}),
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });

  const backgroundDevices = scenario.background
    ? fleet.devices.filter(
        device =>
          device.siteId === scenario.site &&
          !compiled.controlled.has(`${device.siteId}/${device.deviceId}`),
      )
    : [];
  const background =
    backgroundDevices.length > 0
      ? new FleetSimulator(
          {
            devices: backgroundDevices,
            sites: fleet.sites.filter(site => site.id === scenario.site),
          },
          options.mqttLogin ? mqttConnector(options.mqttUrl, options.mqttLogin) : options.mqttUrl,
          { seed, qos: 1, clientIdPrefix: `loadtest-bg-${process.pid}`, log },
        )
      : undefined;

  const startedAt = Date.now();
  await background?.start();
  // Operator steps run beside the device timeline; the run lasts until both are done.
  const operators = new OperatorRunner({
    scenario,
    targets,
    startedAt,
    log,
    ...(options.without ? { without: options.without } : {}),
    ...(options.onAction ? { onAction: options.onAction } : {}),
  });
  let operatorsDone = OperatorRunner.stepsOf(scenario).length === 0;
  const operatorRun = operators.run().finally(() => {
    operatorsDone = true;
  });
  const publishedAt = new Map<string, number>();
  const counts = { readings: 0, events: 0, statuses: 0, raw: 0 };
  let next = 0;
  const emissions = compiled.emissions;
  const progress = setInterval(
    () =>
      options.onProgress?.({
        elapsedMs: Date.now() - startedAt,
        totalMs: compiled.durationMs,
        sent: counts.readings + counts.events + counts.statuses + counts.raw,
        raises: watcher.raises.length,
      }),
    500,
  );
  try {
    while (Date.now() - startedAt < compiled.durationMs || !operatorsDone) {
      const elapsed = Date.now() - startedAt;
      while (next < emissions.length && (emissions[next] as Emission).atMs <= elapsed) {
        const emission = emissions[next++] as Emission;
        const topic = deviceTopic(emission.siteId, emission.deviceId, emission.kind);
        const payload = payloadOf(emission, startedAt);
        for (let copy = 0; copy < emission.copies; copy += 1) {
          client.publish(topic, payload, { qos: 1, retain: emission.kind === 'status' });
        }
        const ts = emissionTs(emission, startedAt);
        if (ts !== undefined && emission.raw === undefined) {
          publishedAt.set(`${emission.siteId}/${emission.deviceId}|${ts}`, Date.now());
        }
        if (emission.raw !== undefined) counts.raw += emission.copies;
        else if (emission.kind === 'telemetry') counts.readings += emission.copies;
        else if (emission.kind === 'event') counts.events += 1;
        else counts.statuses += 1;
      }
      const upcoming = emissions[next]?.atMs ?? compiled.durationMs;
      await sleep(Math.max(1, Math.min(50, upcoming - (Date.now() - startedAt))));
    }

    // Wait for what is still due: every expectation whose rule exists, or the settle time.
    const expected = scenario.expect.filter(expectation => knownRules.has(expectation.rule)).length;
    const settleUntil = Date.now() + (options.settleMs ?? 5000);
    while (Date.now() < settleUntil) {
      const keys = new Set(watcher.raises.map(raise => `${raise.deviceId}/${raise.ruleId}`));
      const seen = scenario.expect.filter(expectation =>
        keys.has(`${expectation.device.split('/').pop()}/${expectation.rule}`),
      ).length;
      if (seen >= expected) break;
      await sleep(100);
    }
    await operatorRun;
  } finally {
    clearInterval(progress);
    await background?.stop({ graceful: true, announceOffline: false });
    await client.endAsync();
  }
  const endedAt = Date.now();

  try {
    for (const alarm of await gateway.get<WatchedAlarm[]>(
      `/api/v1/alarms?since=${startedAt - 1000}`,
    )) {
      watcher.tracker.observe(alarm, Date.now(), 'rest');
    }
  } catch (error) {
    notes.push(`REST reconciliation failed: ${(error as Error).message}`);
  }
  watcher.stop();
  // Only what this run raised: an alarm decided before the start belongs to someone else.
  const raises = watcher.raises.filter(
    raise => (raise.detectedAt ?? raise.receivedAt) >= startedAt - 500,
  );

  const backgroundReadings = background?.stats().sentByKind.telemetry ?? 0;
  const skewedDevices = [...new Set(emissions.filter(e => e.skewed).map(e => e.deviceId))];
  const counted = emissions.filter(
    e => !skewedDevices.includes(e.deviceId) && e.siteId === scenario.site,
  );
  const expectedStored = storableReadings(counted) + backgroundReadings;
  let stored: number | null = null;
  if (options.influx) {
    const target: InfluxTarget = {
      url: options.influx.url,
      database: options.influx.database,
      retentionPolicy: 'raw',
      measurement: 'telemetry',
    };
    const where = [
      `"site" = '${scenario.site}'`,
      ...skewedDevices.map(device => `"device" != '${device}'`),
    ].join(' AND ');
    stored = await waitForStored(
      () => countStored(target, startedAt - 1000, endedAt + 1000, where),
      expectedStored,
      {
        quietMs: 3000,
        timeoutMs: 20_000,
      },
    );
    if (skewedDevices.length)
      notes.push(
        `readings of ${skewedDevices.join(', ')} (skewed clocks) are left out of the stored count`,
      );
  } else {
    notes.push('no InfluxDB given (--influx): readings stored were not checked');
  }
  if (background)
    notes.push(
      `${backgroundDevices.length} other devices of ${scenario.site} reported normally (background)`,
    );
  const telemetryDevices = compiled.controlled.size;
  log(`played ${emissions.length} messages for ${telemetryDevices} driven devices`);

  const verdict = judgeScenario({
    scenario,
    raises,
    startedAt,
    knownRules,
    publishedAt,
    actions: operators.results,
    readings: { sent: counts.readings + backgroundReadings, expectedStored, stored },
  });
  return {
    kind: 'scenario',
    name: scenario.name,
    title: scenario.title,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: endedAt - startedAt,
    gateway: options.gatewayUrl,
    verdict,
    messages: { ...counts, background: backgroundReadings },
    raises,
    notes,
  };
}

/** Devices of a fleet that report telemetry (the load generator and background use these). */
export function telemetryDevicesOf(fleet: FleetDefinition): FleetDefinition['devices'] {
  return fleet.devices.filter(device => hasTelemetry(device.deviceClass));
}
