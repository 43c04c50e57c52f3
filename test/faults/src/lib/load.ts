import { connect, type MqttClient } from 'mqtt';

import { FAULT_SITE } from './registry';

export interface LoadOptions {
  readonly devices: readonly string[];
  /** Readings per second over the whole fleet (one reading per MQTT message). */
  readonly rate: number;
  readonly durationMs: number;
  /** Alarm excursions started per second, each on a device that had none yet. */
  readonly excursionsPerSecond: number;
  /** Readings a device stays at 60 %LEL (past L1 and L2) before returning to normal. */
  readonly holdReadings: number;
  /** MQTT connections the devices share (each a persistent session with a stable client id). */
  readonly connections: number;
  readonly clientIdPrefix: string;
}

/** One device's excursion: its readings `raiseSeq`..`clearSeq - 1` are at 60 %LEL. */
export interface Excursion {
  readonly deviceId: string;
  readonly raiseSeq: number;
  readonly clearSeq: number;
  readonly startedAt: number;
  /** When its first reading back to normal was published (undefined: the load ended first). */
  returnedAt: number | undefined;
}

export interface LoadTotals {
  readonly startedAt: number;
  readonly endedAt: number;
  /** Readings handed to the MQTT client (QoS 1), by device: seqs 1..offered[device]. */
  readonly offered: Readonly<Record<string, number>>;
  readonly offeredTotal: number;
  /** Readings the broker acknowledged (PUBACK): what the device may forget. */
  readonly pubackedTotal: number;
  /** Seqs the broker acknowledged, by device (for "acknowledged, then lost"). */
  readonly pubacked: ReadonlyMap<string, ReadonlySet<number>>;
  readonly excursions: readonly Excursion[];
  /** Per second: readings offered. */
  readonly perSecond: readonly number[];
  readonly disconnects: number;
}

interface DeviceState {
  readonly id: string;
  readonly topic: string;
  readonly client: MqttClient;
  seq: number;
  lastTs: number;
  /** Excursion to start on the next reading at or after this time. */
  excursionAt: number | undefined;
  holdUntilSeq: number;
  excursion: Excursion | undefined;
}

const TICK_MS = 20;

/**
 * Steady QoS 1 load: round-robin over the devices at a fixed rate, every reading with its
 * device's seq, values with noise (no stuck-sensor rule fires), and a known schedule of
 * excursions past L1 and L2 and back, each on a fresh device, so that the expected alarm changes
 * are known exactly (see accountAlarms). Devices stay on their persistent
 * sessions through broker restarts: mqtt.js keeps unacknowledged QoS 1 messages and re-sends them.
 * Nothing is refused or dropped here: what the broker did not acknowledge is counted.
 */
export class SteadyLoad {
  private readonly clients: MqttClient[] = [];
  private readonly devices: DeviceState[] = [];
  private readonly pubacked = new Map<string, Set<number>>();
  private readonly excursions: Excursion[] = [];
  private readonly perSecond: number[] = [];
  private cursor = 0;
  private offered = 0;
  private acked = 0;
  private disconnects = 0;
  private noise = 0x9e3779b9;
  private startedAt = 0;

  constructor(private readonly options: LoadOptions) {}

  /** `urls`: the broker, or a cluster's nodes (the first first, the others on reconnect). */
  async connect(urls: readonly string[]): Promise<void> {
    const { connections, clientIdPrefix } = this.options;
    const [first] = urls;
    if (first === undefined) throw new Error('no broker URL');
    const servers = urls.map(url => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port) };
    });
    for (let i = 0; i < connections; i += 1) {
      const client = connect(first, {
        ...(urls.length > 1 ? { servers } : {}),
        clientId: `${clientIdPrefix}-${i}`,
        clean: false,
        reconnectPeriod: 500,
        connectTimeout: 5_000,
        protocolVersion: 4,
      });
      client.on('offline', () => (this.disconnects += 1));
      client.on('error', () => undefined);
      this.clients.push(client);
    }
    await Promise.all(
      this.clients.map(
        client => new Promise<void>(resolve => client.once('connect', () => resolve())),
      ),
    );
    this.options.devices.forEach((id, index) => {
      this.devices.push({
        id,
        topic: `vigil/v1/${FAULT_SITE}/${id}/telemetry`,
        client: this.clients[index % this.clients.length] as MqttClient,
        seq: 0,
        lastTs: 0,
        excursionAt: undefined,
        holdUntilSeq: 0,
        excursion: undefined,
      });
      this.pubacked.set(id, new Set());
    });
  }

  /** Runs the load for `durationMs`; resolves when the last reading was handed to the client. */
  async run(): Promise<void> {
    const { rate, durationMs, excursionsPerSecond, holdReadings } = this.options;
    const count = this.devices.length;
    const periodMs = (count / rate) * 1000;
    this.startedAt = Date.now();
    // Excursions from 2 s in, ending early enough that each returns to normal inside the run.
    const lastStart = durationMs - (holdReadings + 3) * periodMs;
    for (let i = 0; i < count; i += 1) {
      const at = 2_000 + (i * 1000) / excursionsPerSecond;
      if (excursionsPerSecond <= 0 || at > lastStart) break;
      (this.devices[i] as DeviceState).excursionAt = this.startedAt + at;
    }
    await new Promise<void>(resolve => {
      const timer = setInterval(() => {
        const now = Date.now();
        const elapsed = Math.min(now - this.startedAt, durationMs);
        const due = Math.floor((elapsed * rate) / 1000);
        const second = Math.floor(elapsed / 1000);
        while (this.offered < due) {
          this.publish(this.devices[this.cursor++ % count] as DeviceState, now);
          this.perSecond[second] = (this.perSecond[second] ?? 0) + 1;
        }
        if (now - this.startedAt >= durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    this.endedAt = Date.now();
  }

  private endedAt = 0;

  private publish(device: DeviceState, now: number): void {
    device.seq += 1;
    const seq = device.seq;
    // One point per device and ms in InfluxDB: keep each device's timestamps distinct.
    const ts = Math.max(now, device.lastTs + 1);
    device.lastTs = ts;
    let lel: number;
    if (device.excursionAt !== undefined && now >= device.excursionAt) {
      device.excursionAt = undefined;
      device.holdUntilSeq = seq + this.options.holdReadings;
      device.excursion = {
        deviceId: device.id,
        raiseSeq: seq,
        clearSeq: device.holdUntilSeq,
        startedAt: now,
        returnedAt: undefined,
      };
      this.excursions.push(device.excursion);
    }
    if (device.excursion && seq === device.holdUntilSeq) device.excursion.returnedAt = now;
    if (seq < device.holdUntilSeq) lel = 60 + 0.5 * this.jitter();
    else lel = 1 + this.jitter();
    const payload = `{"ts":${ts},"seq":${seq},"values":{"lel":${lel.toFixed(2)}}}`;
    this.offered += 1;
    device.client.publish(device.topic, payload, { qos: 1 }, error => {
      if (error) return;
      this.acked += 1;
      this.pubacked.get(device.id)?.add(seq);
    });
  }

  /** xorshift32 in [-1, 1): values move, so no stuck-sensor rule fires. */
  private jitter(): number {
    let x = this.noise;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.noise = x >>> 0;
    return this.noise / 2_147_483_648 - 1;
  }

  /** Waits (bounded) for the clients to have every reading acknowledged by the broker. */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked < this.offered && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 250));
    }
  }

  /** Readings offered and acknowledged so far (cheap: for sampling during the run). */
  progress(): { readonly offered: number; readonly pubacked: number } {
    return { offered: this.offered, pubacked: this.acked };
  }

  totals(): LoadTotals {
    const offered: Record<string, number> = {};
    for (const device of this.devices) offered[device.id] = device.seq;
    return {
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      offered,
      offeredTotal: this.offered,
      pubackedTotal: this.acked,
      pubacked: this.pubacked,
      excursions: [...this.excursions],
      perSecond: [...this.perSecond],
      disconnects: this.disconnects,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map(client => client.endAsync(true).catch(() => undefined)));
  }
}
