import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, type MqttClient } from 'mqtt';
import WebSocket from 'ws';

import type { Alarm, ServerMessage } from '@vigil/contracts';
import { freePort, startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { REPO_ROOT, telemetry, writeFleetRegistry } from './support';

const DEVICES = 15;
const SITE = 'storm';
const deviceId = (i: number) => `gc-${String(i).padStart(3, '0')}`;

interface SeenAlarm {
  readonly seq: number;
  readonly id: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly conditionActive: boolean;
  readonly state: string;
  readonly updatedAt: number;
}

const seen = (seq: number, alarm: Alarm): SeenAlarm => ({
  seq,
  id: alarm.id,
  deviceId: alarm.deviceId,
  ruleId: alarm.ruleId,
  conditionActive: alarm.conditionActive,
  state: alarm.state,
  updatedAt: alarm.updatedAt,
});

/**
 * A console as the real one behaves: reconnects every 200 ms while the gateway is away and
 * resumes with `lastSeq` and `epoch` (its last message's seq, the last hello's epoch).
 */
class ResumingConsole {
  readonly alarms: SeenAlarm[] = [];
  readonly snapshots: { resync?: string; alarms: number }[] = [];
  readonly epochs: string[] = [];
  private socket: WebSocket | undefined;
  private lastSeq: number | undefined;
  private closed = false;

  constructor(
    private readonly httpUrl: string,
    private readonly query = '',
  ) {}

  start(): void {
    if (this.closed) return;
    const resume =
      this.lastSeq !== undefined && this.epochs.length > 0
        ? `?lastSeq=${this.lastSeq}&epoch=${encodeURIComponent(this.epochs[this.epochs.length - 1] ?? '')}`
        : this.query;
    const socket = new WebSocket(`${this.httpUrl.replace(/^http/, 'ws')}/ws${resume}`);
    this.socket = socket;
    socket.on('message', data => this.received(JSON.parse(data.toString()) as ServerMessage));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!this.closed) setTimeout(() => this.start(), 200);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.terminate();
  }

  /** The storm site's alarm messages (not the gateway's own canary alarms, which are not logged). */
  plantAlarms(): SeenAlarm[] {
    return this.alarms.filter(alarm => alarm.deviceId.startsWith('gc-'));
  }

  private received(message: ServerMessage): void {
    if (message.type === 'heartbeat') return;
    if (message.type === 'hello') {
      this.epochs.push(message.epoch);
      return;
    }
    this.lastSeq = message.seq;
    if (message.type === 'alarm') this.alarms.push(seen(message.seq, message.alarm));
    else if (message.type === 'snapshot') {
      const { resync } = message as { resync?: string };
      this.snapshots.push({ ...(resync ? { resync } : {}), alarms: message.alarms.length });
    }
  }
}

/**
 * Issue 12, all-in-one mode (VIGIL_BUS=memory): a console that resumes with lastSeq/epoch after
 * the one process was SIGKILLed and restarted gets every alarm change it missed as `alarm`
 * messages (replayed from the spool's alarm lane, then live), in order, none twice, and no
 * snapshot: the seq and epoch of alarm messages outlive the process. The changes include the
 * ones of readings sent while the process was down (queued by Mosquitto for ingest's persistent
 * session) and after the restart. The reference is a console that reads the whole lane from
 * seq 0. The built process on a real Mosquitto; InfluxDB off (the lane's own retention holds
 * what consoles may resume from).
 */
describe('all-in-one: a console resumes across a SIGKILL (issue 12)', () => {
  let mosquitto: MosquittoHandle | undefined;
  let work: string;
  let vigil: ChildProcess | undefined;
  let device: MqttClient | undefined;
  let consoles: ResumingConsole[] = [];
  let env: Record<string, string>;
  let httpUrl: string;

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

  /** Ready but for storage (InfluxDB is off here): the broker connected, the rules running. */
  async function ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const response = await fetch(`${httpUrl}/readyz`).catch(() => undefined);
        const body = (await response?.json().catch(() => undefined)) as
          { checks?: Record<string, boolean> } | undefined;
        return body?.checks?.['broker'] === true && body.checks['rules'] === true;
      },
      { what: 'Vigil ready (but for storage)', timeoutMs, intervalMs: 250 },
    );
  }

  function send(devices: readonly number[], lel: number): void {
    for (const i of devices)
      device?.publish(`vigil/v1/${SITE}/${deviceId(i)}/telemetry`, telemetry({ lel }), {
        qos: 1,
      });
  }

  const raised = (console: ResumingConsole, devices: readonly number[]) =>
    devices.every(i =>
      console.plantAlarms().some(a => a.deviceId === deviceId(i) && a.conditionActive),
    );

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-ws-resume-'));
    writeFleetRegistry(
      work,
      Array.from({ length: DEVICES }, (_, i) => deviceId(i)),
    );
    mosquitto = await startMosquitto();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    env = {
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_MQTT_URL: mosquitto.url,
      VIGIL_BUS: 'memory',
      VIGIL_INSTANCE: 'ws-resume-test',
      VIGIL_INFLUX_MODE: 'off',
      VIGIL_REGISTRY: work,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_LOG_LEVEL: 'warn',
    };
  });

  afterEach(async () => {
    for (const console of consoles) console.close();
    consoles = [];
    await device?.endAsync(true).catch(() => undefined);
    vigil?.kill('SIGKILL');
    await mosquitto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('replays every alarm change made while it was away (before, during and after the restart), in order, none twice, no snapshot', async () => {
    vigil = startVigil();
    await ready();
    const console = new ResumingConsole(httpUrl);
    consoles.push(console);
    console.start();
    await waitFor(() => console.snapshots.length === 1, { what: 'first snapshot' });
    device = connect(mosquitto?.url ?? '', {
      clientId: 'ws-resume-fleet',
      clean: false,
      reconnectPeriod: 200,
    });
    device.on('error', () => undefined);
    await new Promise<void>(resolve => device?.once('connect', () => resolve()));

    // Before: raised live.
    send([0, 1, 2, 3, 4], 60);
    await waitFor(() => raised(console, [0, 1, 2, 3, 4]), { what: 'first raises live' });
    const epoch = console.epochs[0];

    const exited = new Promise(resolve => vigil?.once('exit', resolve));
    vigil.kill('SIGKILL');
    await exited;
    // While down: Mosquitto keeps these for ingest's persistent session.
    send([5, 6, 7, 8, 9], 60);
    send([0, 1, 2, 3, 4], 5);
    await new Promise(resolve => setTimeout(resolve, 1_000));
    vigil = startVigil();
    await ready();
    // After the restart.
    send([10, 11, 12, 13, 14], 60);
    await waitFor(() => raised(console, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]), {
      what: 'every raise at the resumed console',
      timeoutMs: 30_000,
    });
    // Quiet for a moment: what the restarted process had to evaluate is evaluated.
    await new Promise(resolve => setTimeout(resolve, 2_000));

    const seqs = console.plantAlarms().map(alarm => alarm.seq);
    expect({
      epochs: [...new Set(console.epochs)],
      snapshots: console.snapshots.map(snapshot => snapshot.resync ?? 'first connection'),
      increasing: seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] ?? 0)),
    }).toEqual({ epochs: [epoch], snapshots: ['first connection'], increasing: true });

    // The reference: the whole alarm lane, read by a console that resumes from seq 0.
    const reference = new ResumingConsole(
      httpUrl,
      `?lastSeq=0&epoch=${encodeURIComponent(epoch ?? '')}`,
    );
    consoles.push(reference);
    reference.start();
    await waitFor(() => reference.plantAlarms().length >= console.plantAlarms().length, {
      what: 'the reference replay',
    });
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(reference.snapshots).toEqual([]);
    expect(console.plantAlarms()).toEqual(reference.plantAlarms());
    // The changes of the readings sent while the process was down came to the resumed console.
    expect(console.plantAlarms().length).toBeGreaterThanOrEqual(20);
    process.stdout.write(
      `[ws-resume] ${JSON.stringify({ alarmMessages: console.plantAlarms().length, lastSeq: seqs[seqs.length - 1], connections: console.epochs.length })}\n`,
    );
  }, 180_000);

  it("sends a snapshot saying why to a console whose epoch is not the log's", async () => {
    vigil = startVigil();
    await ready();
    const console = new ResumingConsole(httpUrl, '?lastSeq=3&epoch=spool%40another');
    consoles.push(console);
    console.start();
    await waitFor(() => console.snapshots.length === 1, { what: 'snapshot' });
    expect(console.snapshots.map(snapshot => snapshot.resync)).toEqual(['epoch']);
  }, 60_000);
});
