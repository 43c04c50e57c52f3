import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { influxQuery } from '@vigil/testing';

import {
  accountAlarms,
  accountReadings,
  summariseDrain,
  summariseReadyz,
  type AlarmAccounting,
  type DrainSummary,
  type ProgressSample,
  type AuditRow,
  type ReadingAccounting,
  type ReadyzSummary,
} from './accounting';
import { SteadyLoad } from './load';
import { ReadyzWatcher, WsWatcher } from './observers';
import { sleep } from './processes';
import { FAULT_SITE, deviceIds, writeFaultRegistry } from './registry';
import { describeFault, type Expectation, type Scenario } from './scenarios';
import { INFLUX_DB, Stack, type Bus } from './stack';

export interface RunSettings {
  /** The workspace root (dist/apps is built there). */
  readonly root: string;
  readonly bus: Bus;
  readonly rules: number;
  /** NATS nodes of the JetStream bus (default 3, R3; 1: one node, R1). */
  readonly natsNodes?: 1 | 3;
  readonly devices: number;
  readonly rate: number;
  readonly durationMs: number;
  /** When the fault strikes, from the start of the load. */
  readonly faultAtMs: number;
  /** How long a killed process (or Mosquitto, or a NATS node) stays down. */
  readonly downMs: number;
  /** How long influxd stays down in `influx-down`. */
  readonly influxDownMs: number;
  readonly excursionsPerSecond: number;
  readonly holdReadings: number;
  readonly connections: number;
  /** Bound on waiting for the stored count to settle after the load. */
  readonly drainTimeoutMs: number;
  readonly logDir: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly id: string;
  readonly mode: string;
  readonly bus: string;
  readonly fault: string;
  readonly expectation: Expectation;
  readonly settings: {
    readonly devices: number;
    readonly rate: number;
    readonly durationMs: number;
    readonly faultAtMs: number;
    readonly downMs: number;
    readonly rules: number;
  };
  readonly readings: ReadingAccounting & {
    readonly pubacked: number;
    readonly unacknowledgedAtEnd: number;
  };
  readonly alarms: AlarmAccounting & { readonly excursions: number };
  readonly recovery: {
    /** Fault → a reading published after the fault is first seen in InfluxDB (polled each 0.5 s). */
    readonly storedAgainMs: number | null;
    readonly readyz: ReadyzSummary;
    /** ms from the load's start. */
    readonly faultAt: number | null;
    readonly restartedAt: number | null;
    /** Load end → stored count settled. */
    readonly drainMs: number;
    /** After an InfluxDB outage: how the backlog drained (null for other faults). */
    readonly drain: DrainSummary | null;
  };
  /** The generator's pace: readings offered per second over the load (its target is `rate`). */
  readonly offeredPerSecond: { readonly min: number; readonly mean: number };
  /** Offered / acknowledged / stored, sampled every PROGRESS_EVERY_MS from the load's start. */
  readonly progress: readonly ProgressSample[];
  readonly wsReconnects: number;
  readonly mqttDisconnects: number;
  readonly pids: Record<string, number>;
  readonly verdict: 'measured' | 'pass' | 'fail';
  readonly failures: readonly string[];
}

/** One scenario on a fresh stack: start, load, fault, drain, verify, stop. */
export async function runScenario(
  scenario: Scenario,
  expectation: Expectation,
  settings: RunSettings,
): Promise<ScenarioResult> {
  const log = settings.log ?? (() => undefined);
  const work = mkdtempSync(join(tmpdir(), 'vigil-faults-run-'));
  const registryDir = join(work, 'registry');
  const devices = deviceIds(settings.devices);
  writeFaultRegistry(registryDir, devices);
  const logDir = join(settings.logDir, scenario.id.replace('/', '-'));
  mkdirSync(logDir, { recursive: true });
  const stack = new Stack({
    root: settings.root,
    mode: scenario.mode,
    bus: settings.bus,
    rules: settings.rules,
    ...(settings.natsNodes ? { natsNodes: settings.natsNodes } : {}),
    registryDir,
    logDir,
    env: settings.env,
    brokerPersistence: scenario.fault.kind === 'kill-mosquitto' && scenario.fault.persistence,
    ...(scenario.deviceBroker ? { deviceBroker: scenario.deviceBroker } : {}),
  });
  const load = new SteadyLoad({
    devices,
    rate: settings.rate,
    durationMs: settings.durationMs,
    excursionsPerSecond: settings.excursionsPerSecond,
    holdReadings: settings.holdReadings,
    connections: Math.max(settings.connections, scenario.minConnections ?? 0),
    clientIdPrefix: `faults-${scenario.id.replace('/', '-')}`,
  });
  let ws: WsWatcher | undefined;
  let readyz: ReadyzWatcher | undefined;
  try {
    log(`${scenario.id}: starting the stack (logs: ${logDir})`);
    await stack.start();
    await load.connect(stack.deviceBrokerUrls());
    ws = new WsWatcher(() => stack.front);
    ws.start();
    await sleep(1_000);
    const origin = Date.now();
    readyz = new ReadyzWatcher(() => stack.front, origin);
    readyz.start();
    log(
      `${scenario.id}: ${settings.rate}/s from ${settings.devices} devices for ${settings.durationMs / 1000} s; fault: ${describeFault(scenario.fault, settings.downMs, settings.influxDownMs)}`,
    );
    const timeline: { faultAt: number | null; restartedAt: number | null } = {
      faultAt: null,
      restartedAt: null,
    };
    let storedAgainMs: number | null = null;
    let polling = true;
    const influxUrl = () => stack.influx.url;
    // The books every few seconds (offered, PUBACKed, stored): how a backlog builds and drains.
    const progress: ProgressSample[] = [];
    const sampling = (async () => {
      while (polling) {
        const atMs = Date.now() - origin;
        const { offered, pubacked } = load.progress();
        const stored = await countStored(influxUrl(), 0, Date.now() + 3_600_000).catch(() => null);
        progress.push({ atMs, offered, pubacked, stored, load1: loadavg()[0] });
        await sleep(PROGRESS_EVERY_MS);
      }
    })();
    const faulting = (async () => {
      if (scenario.fault.kind === 'none') return;
      await sleep(settings.faultAtMs);
      const faultAbs = Date.now();
      timeline.faultAt = faultAbs - origin;
      // Recovery: a reading published after the fault, stored (what a plot of "latest" shows),
      // watched from the fault on, while the fault lasts too.
      const watching = (async () => {
        while (polling && storedAgainMs === null) {
          const count = await countStored(influxUrl(), faultAbs).catch(() => 0);
          if (count > 0) storedAgainMs = Date.now() - faultAbs;
          else await sleep(500);
        }
      })();
      await inject(stack, scenario, settings);
      timeline.restartedAt = Date.now() - origin;
      log(
        `${scenario.id}: fault at ${timeline.faultAt} ms, restarted at ${timeline.restartedAt} ms`,
      );
      await watching;
    })();
    await load.run();
    log(`${scenario.id}: load done (${load.totals().offeredTotal} readings offered); draining`);
    await load.settle(30_000);
    const drainStart = Date.now();
    await drain(influxUrl, load.totals().offeredTotal, settings.drainTimeoutMs, () =>
      readyz ? readyz.pipelineCaughtUp() : true,
    );
    const drainMs = Date.now() - drainStart;
    polling = false;
    await faulting;
    await sampling;
    // Clears follow the last readings, and alarm events have their own lane to InfluxDB: wait
    // (bounded) for every expected change to be pushed and audited, not a fixed moment.
    const totals = load.totals();
    const watcher = ws;
    const accountNow = async () =>
      accountAlarms(
        totals.excursions,
        await auditRows(influxUrl(), totals.startedAt),
        watcher.sightings.values(),
        totals.endedAt,
      );
    const alarmsSettleStart = Date.now();
    let alarms = await accountNow();
    while (
      (alarms.notPushedLive > 0 || alarms.auditMissing > 0) &&
      Date.now() - alarmsSettleStart < ALARMS_SETTLE_MS
    ) {
      await sleep(1_000);
      alarms = await accountNow();
    }
    const alarmsSettleMs = Date.now() - alarmsSettleStart;
    readyz.stop();
    const stored = await storedSeqs(influxUrl(), totals.offered, totals.startedAt, totals.endedAt);
    const readings = accountReadings(totals.offered, stored, totals.pubacked);
    const readyzSummary = summariseReadyz(readyz.samples, timeline.faultAt ?? 0);
    const failures: string[] = [];
    if (expectation === 'guaranteed') {
      if (readings.missing > 0) failures.push(`${readings.missing} readings not stored`);
      if (readings.duplicateRows > 0) failures.push(`${readings.duplicateRows} duplicate rows`);
      if (alarms.neverRaised > 0) failures.push(`${alarms.neverRaised} alarms never raised`);
      if (alarms.raisedTwice > 0) failures.push(`${alarms.raisedTwice} alarms raised twice`);
      if (alarms.notPushedLive > 0)
        failures.push(`${alarms.notPushedLive} alarm changes not pushed live`);
      if (alarms.auditMissing > 0) failures.push(`${alarms.auditMissing} audit rows missing`);
      if (alarms.missingChanges.length > 0) {
        const shown = alarms.missingChanges.slice(0, 5).join(', ');
        const more = alarms.missingChanges.length > 5 ? ', …' : '';
        failures.push(`missing after ${Math.round(alarmsSettleMs / 1000)} s: ${shown}${more}`);
      }
      if (alarms.auditDuplicated > 0)
        failures.push(`${alarms.auditDuplicated} audit rows duplicated`);
    }
    const result: ScenarioResult = {
      id: scenario.id,
      mode: scenario.mode,
      bus: scenario.mode === 'allinone' ? 'memory' : settings.bus,
      fault: describeFault(scenario.fault, settings.downMs, settings.influxDownMs),
      expectation,
      settings: {
        devices: settings.devices,
        rate: settings.rate,
        durationMs: settings.durationMs,
        faultAtMs: settings.faultAtMs,
        downMs: scenario.fault.kind === 'influx-down' ? settings.influxDownMs : settings.downMs,
        rules: scenario.mode === 'split' ? settings.rules : 1,
      },
      readings: {
        ...readings,
        pubacked: totals.pubackedTotal,
        unacknowledgedAtEnd: totals.offeredTotal - totals.pubackedTotal,
      },
      alarms: { ...alarms, excursions: totals.excursions.length },
      recovery: {
        storedAgainMs,
        readyz: readyzSummary,
        faultAt: timeline.faultAt,
        restartedAt: timeline.restartedAt,
        drainMs,
        drain:
          scenario.fault.kind === 'influx-down' && timeline.restartedAt !== null
            ? summariseDrain(progress, timeline.restartedAt, settings.rate)
            : null,
      },
      offeredPerSecond: paceOf(totals.perSecond),
      progress,
      wsReconnects: ws.reconnects,
      mqttDisconnects: totals.disconnects,
      pids: stack.pids(),
      verdict: expectation === 'measured' ? 'measured' : failures.length === 0 ? 'pass' : 'fail',
      failures,
    };
    log(
      `${scenario.id}: ${readings.stored}/${readings.offered} stored (${readings.missing} missing, ${readings.missingAcknowledged} of them PUBACKed), alarms ${alarms.raisedExactlyOnce}/${totals.excursions.length * 2} raised once, ${alarms.notPushedLive}/${alarms.expectedChanges} changes not pushed live, audit missing ${alarms.auditMissing}; stored again after ${storedAgainMs ?? '–'} ms; /readyz: ${readyzSummary.text}; ${result.verdict}`,
    );
    return result;
  } finally {
    ws?.close();
    readyz?.stop();
    await load.close();
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const PROGRESS_EVERY_MS = 5_000;
/** How long after the drain the expected alarm changes may take to be pushed and audited. */
const ALARMS_SETTLE_MS = 30_000;

/** The generator's pace per whole second of the load (the last, partial second left out). */
function paceOf(perSecond: readonly (number | undefined)[]): { min: number; mean: number } {
  const whole = perSecond.slice(0, -1).map(v => v ?? 0);
  if (whole.length === 0) return { min: 0, mean: 0 };
  return {
    min: Math.min(...whole),
    mean: Math.round(whole.reduce((a, b) => a + b, 0) / whole.length),
  };
}

async function inject(stack: Stack, scenario: Scenario, settings: RunSettings): Promise<void> {
  const fault = scenario.fault;
  switch (fault.kind) {
    case 'none':
      return;
    case 'kill':
      await stack.kill(fault.process);
      await sleep(settings.downMs);
      stack.restart(fault.process);
      return;
    case 'kill-nats-node':
      await stack.killNatsNode(fault.node);
      await sleep(settings.downMs);
      await stack.restartNatsNode(fault.node);
      return;
    case 'kill-mosquitto':
      await stack.killMosquitto();
      await sleep(settings.downMs);
      await stack.restartMosquitto();
      return;
    case 'influx-down':
      await stack.killInflux();
      await sleep(settings.influxDownMs);
      await stack.restartInflux();
      return;
  }
}

const TELEMETRY = `"${INFLUX_DB}"."raw"."telemetry"`;

async function countStored(url: string, sinceMs: number, untilMs?: number): Promise<number> {
  const until = untilMs === undefined ? '' : ` AND time <= ${untilMs}ms`;
  const rows = await influxQuery(
    url,
    INFLUX_DB,
    `SELECT count(seq) FROM ${TELEMETRY} WHERE site = '${FAULT_SITE}' AND time > ${sinceMs}ms${until}`,
  );
  return Number(rows[0]?.['count'] ?? 0);
}

/**
 * Waits (at most `timeoutMs`) until every offered reading is stored and the front says its
 * pipeline has caught up (`caughtUp`: the canary reached every hop, so the rule engine has
 * evaluated the backlog and its alarm changes are out), or until the count has not moved for 10 s
 * while InfluxDB answered and the pipeline had caught up (what is missing then was lost upstream).
 * An InfluxDB that does not answer (still down after an outage longer than the load) is not a
 * count standing still: before this, a 60 s outage that outlasted the load ended the drain 10 s
 * after the load, before InfluxDB was even back, and its backlog counted as lost.
 */
async function drain(
  url: () => string,
  offered: number,
  timeoutMs: number,
  caughtUp: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const count = await countStored(url(), 0, Date.now() + 3_600_000).catch(() => -1);
    if (count >= offered && caughtUp()) return;
    if (count < 0 || count !== last || !caughtUp()) {
      last = count;
      since = Date.now();
    } else if (Date.now() - since > 10_000) return;
    await sleep(1_000);
  }
}

/** Every stored seq by device, queried in chunks that stay under InfluxDB 1.x's row limit. */
async function storedSeqs(
  url: string,
  offered: Readonly<Record<string, number>>,
  startedAt: number,
  endedAt: number,
): Promise<Map<string, number[]>> {
  const devices = Object.keys(offered);
  const most = Math.max(1, ...Object.values(offered));
  const chunk = Math.max(1, Math.floor(5_000 / most));
  const stored = new Map<string, number[]>();
  for (let i = 0; i < devices.length; i += chunk) {
    const list = devices.slice(i, i + chunk);
    const rows = await influxQuery(
      url,
      INFLUX_DB,
      `SELECT seq FROM ${TELEMETRY} WHERE site = '${FAULT_SITE}' AND time >= ${startedAt - 60_000}ms AND time <= ${endedAt + 60_000}ms AND (${list.map(id => `device = '${id}'`).join(' OR ')}) GROUP BY device`,
    );
    for (const row of rows) {
      const device = String(row['device']);
      const seqs = stored.get(device) ?? [];
      seqs.push(Number(row['seq']));
      stored.set(device, seqs);
    }
  }
  return stored;
}

async function auditRows(url: string, startedAt: number): Promise<AuditRow[]> {
  const rows = await influxQuery(
    url,
    INFLUX_DB,
    `SELECT alarm_id, action FROM "${INFLUX_DB}"."events"."alarm_event" WHERE site = '${FAULT_SITE}' AND time >= ${startedAt - 60_000}ms AND time <= ${Date.now() + 60_000}ms GROUP BY device, rule`,
  );
  return rows.map(row => ({
    deviceId: String(row['device']),
    ruleId: String(row['rule']),
    alarmId: String(row['alarm_id']),
    action: String(row['action']),
  }));
}
