import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, type MqttClient } from 'mqtt';

import {
  freePort,
  influxQuery,
  startInfluxd,
  startMosquitto,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
} from '@vigil/testing';

import { REPO_ROOT, writeFleetRegistry } from './support';

/**
 * Issue 12, all-in-one mode (VIGIL_BUS=memory, no NATS): the built process on an external real
 * Mosquitto with a real influxd; devices at QoS 1 with persistent sessions send readings with seq
 * numbers. (a) SIGKILL of Vigil mid-run, restart on the same data dir; (b) influxd down under
 * load. Afterwards every reading sent is in InfluxDB (counted by device and seq) and every
 * expected alarm was raised exactly once. Figures go to stdout (`[allinone]` lines) and
 * test-output/allinone-nothing-lost.json; nothing here asserts on time.
 *
 * Scaled down for CI: 100 devices, ~20 s of load. ALLINONE_BUS=mqtt runs the legacy path for the
 * "before" figures (it is expected to lose readings; only the memory bus asserts).
 */
const DEVICES = 100;
const SITE = 'storm';
const PULSED = 40;
const BUS = process.env['ALLINONE_BUS'] ?? 'memory';
const OUTAGE_MS = Number(process.env['ALLINONE_OUTAGE_MS'] ?? 20_000);
const figures: Record<string, unknown> = { bus: BUS };

const deviceId = (i: number) => `gc-${String(i).padStart(3, '0')}`;

/**
 * Devices at QoS 1 with persistent sessions. Each tick (`tickMs`) every device sends one message of
 * `perMessage` readings; devices below PULSED send one reading at 60 %LEL once (at their own
 * tick), which must raise their alarms exactly once.
 */
class Fleet {
  readonly clients: MqttClient[] = [];
  readonly sent = new Array<number>(DEVICES).fill(0);
  /** Each device's last timestamp: strictly increasing, even for ticks sent late in one burst. */
  private readonly lastTs = new Array<number>(DEVICES).fill(0);
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  unacked = 0;

  static async connect(url: string): Promise<Fleet> {
    const fleet = new Fleet();
    for (let i = 0; i < DEVICES; i += 1) {
      const client = connect(url, {
        clientId: `fleet-${deviceId(i)}`,
        clean: false,
        reconnectPeriod: 200,
        log: () => undefined,
      } as Parameters<typeof connect>[1]);
      client.on('error', () => undefined);
      fleet.clients.push(client);
    }
    await Promise.all(
      fleet.clients.map(
        client => new Promise<void>(resolve => client.once('connect', () => resolve())),
      ),
    );
    return fleet;
  }

  start(perMessage: number, pulseEveryTicks: number, tickMs = 50): void {
    const startedAt = Date.now();
    // Paced by the clock, not by the timer: a late timer sends the ticks it missed.
    this.timer = setInterval(() => {
      const due = Math.floor((Date.now() - startedAt) / tickMs);
      while (this.tick < due) this.sendTick(perMessage, pulseEveryTicks);
    }, tickMs);
  }

  private sendTick(perMessage: number, pulseEveryTicks: number): void {
    {
      this.tick += 1;
      const now = Date.now();
      for (let i = 0; i < DEVICES; i += 1) {
        const readings = [];
        for (let k = 0; k < perMessage; k += 1) {
          const seq = (this.sent[i] ?? 0) + 1;
          this.sent[i] = seq;
          const pulse = i < PULSED && k === 0 && this.tick === 10 + i * pulseEveryTicks;
          // Distinct device timestamps per reading: InfluxDB keeps one point per series and time.
          const ts = Math.max(now - perMessage + k, (this.lastTs[i] ?? 0) + 1);
          this.lastTs[i] = ts;
          readings.push({ ts, seq, values: { lel: pulse ? 60 : 5 } });
        }
        const payload =
          perMessage === 1 ? JSON.stringify(readings[0]) : JSON.stringify({ batch: readings });
        this.unacked += 1;
        this.clients[i]?.publish(
          `vigil/v1/${SITE}/${deviceId(i)}/telemetry`,
          payload,
          { qos: 1 },
          () => {
            this.unacked -= 1;
          },
        );
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  total(): number {
    return this.sent.reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.clients.map(client => client.endAsync(true).catch(() => undefined)));
  }
}

describe('all-in-one: nothing lost (issue 12)', () => {
  let influx: InfluxHandle | undefined;
  let mosquitto: MosquittoHandle | undefined;
  let work: string;
  let vigil: ChildProcess | undefined;
  let fleet: Fleet | undefined;
  let env: Record<string, string>;
  let httpUrl: string;
  let influxDir: string;

  function startVigil(): ChildProcess {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (process.env['ALLINONE_VERBOSE']) process.stderr.write(chunk);
    });
    return child;
  }

  async function ready(timeoutMs = 30_000): Promise<void> {
    let last = '';
    await waitFor(
      async () => {
        const response = await fetch(`${httpUrl}/readyz`).catch(() => undefined);
        last = (await response?.text().catch(() => '')) ?? '';
        return response?.status === 200;
      },
      { what: 'Vigil ready', timeoutMs, intervalMs: 250 },
    ).catch(error => {
      throw new Error(`${(error as Error).message}; last /readyz: ${last.slice(0, 2000)}`);
    });
  }

  /** Readings stored per device (distinct points: one per device timestamp). */
  async function storedPerDevice(): Promise<Map<string, number>> {
    const rows = await influxQuery(
      influx?.url ?? '',
      'vigil',
      `SELECT count(seq) FROM "vigil"."raw"."telemetry" WHERE site = '${SITE}' AND time > now() - 1h GROUP BY device`,
    );
    return new Map(rows.map(row => [String(row['device']), Number(row['count'])]));
  }

  async function storedTotal(): Promise<number> {
    let total = 0;
    for (const count of (await storedPerDevice()).values()) total += count;
    return total;
  }

  /** Alarm raises stored, by device and rule: alarm ids and raise rows. */
  async function raises(): Promise<Map<string, { ids: Set<string>; rows: number }>> {
    const rows = await influxQuery(
      influx?.url ?? '',
      'vigil',
      // The threshold alarms the pulses raise (a starved machine may add offline or stall alarms).
      `SELECT alarm_id, device, "rule" FROM "vigil"."events"."alarm_event" WHERE "action" = 'raise' AND site = '${SITE}' AND ("rule" = 'gas-l1' OR "rule" = 'gas-l2') AND time > now() - 1h`,
    );
    const byKey = new Map<string, { ids: Set<string>; rows: number }>();
    for (const row of rows) {
      const key = `${String(row['device'])}/${String(row['rule'])}`;
      const entry = byKey.get(key) ?? { ids: new Set<string>(), rows: 0 };
      entry.ids.add(String(row['alarm_id']));
      entry.rows += 1;
      byKey.set(key, entry);
    }
    return byKey;
  }

  async function drained(sent: number, timeoutMs: number): Promise<number> {
    const started = Date.now();
    await waitFor(async () => (await storedTotal()) >= sent, {
      what: `all ${sent} readings in InfluxDB`,
      timeoutMs,
      intervalMs: 500,
    }).catch(() => undefined);
    return Date.now() - started;
  }

  function expectAlarmsOnce(byKey: Map<string, { ids: Set<string>; rows: number }>): void {
    const pulsedDevices = new Set([...byKey.keys()].map(key => key.split('/')[0]));
    const missing = Array.from({ length: PULSED }, (_, i) => deviceId(i)).filter(
      id => !pulsedDevices.has(id),
    );
    const twice = [...byKey].filter(([, { ids }]) => ids.size !== 1).map(([key]) => key);
    const strays = [...pulsedDevices].filter(id => Number(id?.slice(3)) >= PULSED);
    expect({ missing, twice, strays }).toEqual({ missing: [], twice: [], strays: [] });
  }

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-allinone-'));
    writeFleetRegistry(
      work,
      Array.from({ length: DEVICES }, (_, i) => deviceId(i)),
    );
    influxDir = join(work, 'influxd');
    mkdirSync(influxDir);
    influx = await startInfluxd({ dataDir: influxDir });
    mosquitto = await startMosquitto();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    env = {
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_MQTT_URL: mosquitto.url,
      VIGIL_BUS: BUS,
      VIGIL_INSTANCE: 'allinone-test',
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: work,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_WRITE_FLUSH_MS: '100',
      // The legacy path with a bounded buffer as shipped (the "before" figure of the outage).
      VIGIL_WRITE_BUFFER_LINES: '200000',
    };
  });

  afterEach(async () => {
    await fleet?.close();
    vigil?.kill('SIGKILL');
    await mosquitto?.stop();
    await influx?.stop();
    rmSync(work, { recursive: true, force: true });
    writeFigures();
  });

  it('(a) SIGKILL mid-run at 2,000 readings/s, restart on the same data dir: every reading stored, every alarm once', async () => {
    vigil = startVigil();
    await ready();
    fleet = await Fleet.connect(mosquitto?.url ?? '');
    fleet.start(1, 8); // 100 devices × 20 messages/s × 1 reading = 2,000 readings/s
    await new Promise(resolve => setTimeout(resolve, 8_000));
    vigil.kill('SIGKILL');
    const killedAt = Date.now();
    const sentAtKill = fleet.total();
    await new Promise(resolve => setTimeout(resolve, 2_000));
    vigil = startVigil();
    // Generous: the build machines are shared (the figure is what matters, not a limit).
    await ready(120_000);
    const readyAfterMs = Date.now() - killedAt;
    await new Promise(resolve => setTimeout(resolve, 10_000));
    fleet.stop();
    const sent = fleet.total();
    await waitFor(() => fleet?.unacked === 0, { what: 'devices acked', timeoutMs: 30_000 });
    const drainMs = await drained(sent, 60_000);
    const perDevice = await storedPerDevice();
    const stored = [...perDevice.values()].reduce((a, b) => a + b, 0);
    const byKey = await raises();
    Object.assign(figures, {
      a: {
        sent,
        sentAtKill,
        stored,
        missingAtEnd: sent - stored,
        readyAfterKillMs: readyAfterMs,
        downMs: 2_000,
        drainAfterLoadMs: drainMs,
        alarmKeys: byKey.size,
        raiseRows: [...byKey.values()].reduce((a, b) => a + b.rows, 0),
      },
    });
    process.stdout.write(`[allinone] (a) ${JSON.stringify(figures['a'])}\n`);
    if (BUS !== 'memory') return;
    const short = Array.from({ length: DEVICES }, (_, i) => deviceId(i)).filter(
      (id, i) => perDevice.get(id) !== fleet?.sent[i],
    );
    expect(short).toEqual([]);
    expect(stored).toBe(sent);
    expectAlarmsOnce(byKey);
  }, 180_000);

  it('(b) InfluxDB down under 5,000 readings/s: the backlog waits on disk and drains, alarm events all stored', async () => {
    vigil = startVigil();
    await ready();
    fleet = await Fleet.connect(mosquitto?.url ?? '');
    fleet.start(5, 5, 100); // 100 devices × 10 messages/s × 5 readings = 5,000 readings/s
    await new Promise(resolve => setTimeout(resolve, 3_000));
    const port = Number(new URL(influx?.url ?? '').port);
    await influx?.stop();
    const downAt = Date.now();
    const sentAtDown = fleet.total();
    await new Promise(resolve => setTimeout(resolve, OUTAGE_MS));
    const sentDuringOutage = fleet.total() - sentAtDown;
    const spoolAtPeak = await spoolStats();
    influx = await startInfluxd({ dataDir: influxDir, httpPort: port, rpcPort: await freePort() });
    const upAt = Date.now();
    const storedAtUp = await storedTotal();
    // Live load continues for a few seconds while the backlog drains.
    await new Promise(resolve => setTimeout(resolve, 3_000));
    fleet.stop();
    const sent = fleet.total();
    await waitFor(() => fleet?.unacked === 0, { what: 'devices acked', timeoutMs: 30_000 });
    await drained(sent, 240_000);
    const caughtUpMs = Date.now() - upAt;
    const stored = await storedTotal();
    const byKey = await raises();
    const backlogAtUp = sent - storedAtUp;
    Object.assign(figures, {
      b: {
        rate: 5_000,
        outageMs: Date.now() - downAt - caughtUpMs,
        sent,
        sentDuringOutage,
        stored,
        missingAtEnd: sent - stored,
        backlogAtUp,
        caughtUpAfterMs: caughtUpMs,
        drainReadingsPerSecond: Math.round(backlogAtUp / (caughtUpMs / 1000)),
        spoolAtPeak,
        alarmKeys: byKey.size,
      },
    });
    process.stdout.write(`[allinone] (b) ${JSON.stringify(figures['b'])}\n`);
    if (BUS !== 'memory') return;
    expect(stored).toBe(sent);
    expectAlarmsOnce(byKey);
  }, 420_000);

  async function spoolStats(): Promise<Record<string, number>> {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const match = /^(vigil_spool_\w+|vigil_persister_buffered_lines)(\{[^}]*\})? (\S+)$/.exec(
        line,
      );
      if (match) out[`${match[1]}${match[2] ?? ''}`] = Number(match[3]);
    }
    return out;
  }
});

function writeFigures(): void {
  const dir = join(REPO_ROOT, 'test-output');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `allinone-nothing-lost.${BUS}.json`), JSON.stringify(figures, null, 2));
}
