import {
  DEVICE_CLASSES,
  deviceTopic,
  eventPayloadSchema,
  type DeviceClass,
  type DeviceTopicKind,
} from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { systemClock, type SimulatorClock, type TimerHandle } from './clock';
import {
  gasLeakDurationSeconds,
  gasLeakLevel,
  planGasLeak,
  type GasLeakOptions,
  type GasLeakPlan,
  type GasLeakProfile,
} from './gas-leak';
import {
  COMBUSTIBLE_BASELINE_LEL,
  createValueGenerator,
  type TelemetryValues,
  type ValueGenerator,
} from './generators';
import {
  mqttConnector,
  type FleetClientOptions,
  type FleetMqttClient,
  type MqttClientFactory,
} from './mqtt-connector';
import { Random, clamp, roundTo } from './random';
import type { FleetDefinition, SiteLayout } from './site-layout';

export type ConnectionMode = 'per-device' | 'shared';

export interface FleetSimulatorOptions {
  /** Simulated seconds per real second (default 1): 10 makes a 5 s device publish every 0.5 s. */
  readonly speed?: number;
  /** Seed of every random choice (default: random); the same seed replays the same values. */
  readonly seed?: number;
  /** QoS of telemetry (default 0). Status messages, last wills and events always use QoS 1. */
  readonly qos?: 0 | 1;
  readonly clock?: SimulatorClock;
  /** `auto` (default): one connection per device up to `maxDeviceConnections`, else one shared. */
  readonly connectionMode?: ConnectionMode | 'auto';
  /** Largest fleet that gets one connection per device in `auto` mode (default 200). */
  readonly maxDeviceConnections?: number;
  /** Publishes awaiting their write (QoS 0) or PUBACK (QoS 1) per connection before new ones are dropped (default 1000). */
  readonly maxInFlightPerConnection?: number;
  /** Client ids are `{prefix}-{siteId}-{deviceId}`, or `{prefix}-gateway` when shared (default `sim`). */
  readonly clientIdPrefix?: string;
  /**
   * Device logins by `site/device`, for a broker that admits no anonymous device: each device
   * then gets its own connection with its own login (a shared connection could only publish for
   * one device), and a device without a login is refused at construction.
   */
  readonly credentials?: ReadonlyMap<
    string,
    { readonly username: string; readonly secret: string }
  >;
  /** How long a graceful stop waits for a connection to close (default 5000 ms). */
  readonly stopTimeoutMs?: number;
  /** Connection problems, one line each; the caller rate-limits. Silent by default. */
  readonly log?: (message: string) => void;
}

export interface StopOptions {
  /**
   * `true` (default): publish `{"online": false}` for every device, then DISCONNECT. `false`: drop
   * the connections without DISCONNECT, so the broker publishes each device's last will.
   */
  readonly graceful?: boolean;
  /**
   * With `graceful`: publish the retained `{"online": false}` first (default true). `false` just
   * DISCONNECTs, so the devices fall silent and the platform's offline rule notices after its
   * timeout, without an offline alarm per device at once (the scenario runner stops its
   * background fleet this way).
   */
  readonly announceOffline?: boolean;
}

export interface FleetStats {
  readonly devices: number;
  readonly connections: number;
  readonly connected: number;
  /** Messages the client library wrote (QoS 0) or the broker acknowledged (QoS 1). */
  readonly sent: number;
  readonly sentByKind: Readonly<Record<DeviceTopicKind, number>>;
  readonly sentByClass: Readonly<Record<DeviceClass, number>>;
  /** Publishes the client refused or lost, e.g. while the broker was unreachable. */
  readonly failed: number;
  /** Publishes not attempted because a connection had `maxInFlightPerConnection` outstanding. */
  readonly dropped: number;
  readonly connectionErrors: number;
  readonly activeLeaks: number;
}

export interface GasLeakInjection extends GasLeakPlan {
  /** Clock time (epoch ms) the leak started at. */
  readonly startedAt: number;
}

/** Reporting period of detectors seeing a leak: alarm-state devices report faster. */
export const LEAK_REPORT_SECONDS = 1;
export const DEFAULT_MAX_DEVICE_CONNECTIONS = 200;
export const DEFAULT_MAX_IN_FLIGHT = 1000;
const OFFLINE_PAYLOAD = JSON.stringify({ online: false });

interface Connection {
  readonly clientId: string;
  readonly devices: DeviceRuntime[];
  client: FleetMqttClient | undefined;
  inFlight: number;
  up: boolean;
  everUp: boolean;
}

interface ActiveLeak {
  readonly startedAt: number;
  readonly profile: GasLeakProfile;
}

interface DeviceRuntime {
  readonly device: RegisteredDevice;
  readonly telemetryTopic: string;
  readonly eventTopic: string;
  readonly statusTopic: string;
  readonly generator: ValueGenerator | undefined;
  /** Fraction of a period before the first reading, so devices do not all fire together. */
  readonly phase: number;
  connection: Connection;
  seq: number;
  timer: TimerHandle | undefined;
  dueAt: number;
  lastSampleAt: number | undefined;
  lastValues: TelemetryValues | undefined;
  leaks: ActiveLeak[];
}

/**
 * Publishes realistic telemetry, status and events for a fleet of registered devices over MQTT,
 * following the pinned topics and payloads (`vigil/v1/{siteId}/{deviceId}/{telemetry|event|status}`).
 * All randomness comes from the seed and all time from the clock, so runs replay exactly.
 */
export class FleetSimulator {
  readonly seed: number;
  readonly speed: number;
  readonly connectionMode: ConnectionMode;

  private readonly qos: 0 | 1;
  private readonly clock: SimulatorClock;
  private readonly connect: MqttClientFactory;
  private readonly maxInFlight: number;
  private readonly stopTimeoutMs: number;
  private readonly log: (message: string) => void;
  private readonly credentials: FleetSimulatorOptions['credentials'];
  private readonly sites = new Map<string, SiteLayout>();
  private readonly runtimes = new Map<string, DeviceRuntime>();
  private readonly connections: Connection[] = [];
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private waitingForFirstConnect = 0;
  private started: Promise<void> | undefined;
  private resolveStarted: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private readonly counters = {
    sent: 0,
    failed: 0,
    dropped: 0,
    connectionErrors: 0,
    sentByKind: { telemetry: 0, event: 0, status: 0 } as Record<DeviceTopicKind, number>,
    sentByClass: Object.fromEntries(DEVICE_CLASSES.map(name => [name, 0])) as Record<
      DeviceClass,
      number
    >,
  };

  /**
   * @param fleet a registry, or devices with the sites they stand in
   * @param mqtt a broker URL (`mqtt://host:port`), or a factory of clients
   */
  constructor(
    private readonly fleet: FleetDefinition,
    mqtt: string | MqttClientFactory,
    options: FleetSimulatorOptions = {},
  ) {
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0 && Number.isFinite(this.speed))) {
      throw new RangeError(`speed must be a positive number, got ${options.speed}`);
    }
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed >= 2 ** 32) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${options.seed}`);
    }
    this.qos = options.qos ?? 0;
    this.clock = options.clock ?? systemClock;
    this.connect = typeof mqtt === 'string' ? mqttConnector(mqtt) : mqtt;
    this.maxInFlight = options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.log = options.log ?? (() => undefined);
    const maxDeviceConnections = options.maxDeviceConnections ?? DEFAULT_MAX_DEVICE_CONNECTIONS;
    const mode = options.connectionMode ?? 'auto';
    this.credentials = options.credentials;
    if (this.credentials) {
      if (mode === 'shared')
        throw new Error('device credentials need one connection per device, not a shared one');
      const missing = fleet.devices
        .map(device => runtimeKey(device.siteId, device.deviceId))
        .filter(key => !this.credentials?.has(key));
      if (missing.length > 0)
        throw new Error(
          `no credentials for ${missing.length} device(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
        );
    }
    this.connectionMode = this.credentials
      ? 'per-device'
      : mode !== 'auto'
        ? mode
        : fleet.devices.length <= maxDeviceConnections
          ? 'per-device'
          : 'shared';

    for (const site of fleet.sites) this.sites.set(site.id, site);
    const prefix = options.clientIdPrefix ?? 'sim';
    const shared: Connection | undefined =
      this.connectionMode === 'shared' ? this.newConnection(`${prefix}-gateway`) : undefined;

    for (const device of fleet.devices) {
      const site = this.sites.get(device.siteId);
      if (!site) {
        throw new Error(`device ${device.deviceId}: site "${device.siteId}" is not in the fleet`);
      }
      const key = runtimeKey(device.siteId, device.deviceId);
      if (this.runtimes.has(key)) throw new Error(`device ${key} appears twice in the fleet`);
      const runtime: DeviceRuntime = {
        device,
        telemetryTopic: deviceTopic(device.siteId, device.deviceId, 'telemetry'),
        eventTopic: deviceTopic(device.siteId, device.deviceId, 'event'),
        statusTopic: deviceTopic(device.siteId, device.deviceId, 'status'),
        generator: createValueGenerator(device, site, Random.forKey(this.seed, `${key}/values`)),
        phase: Random.forKey(this.seed, `${key}/phase`).next(),
        connection: shared ?? this.newConnection(`${prefix}-${device.siteId}-${device.deviceId}`),
        seq: 0,
        timer: undefined,
        dueAt: 0,
        lastSampleAt: undefined,
        lastValues: undefined,
        leaks: [],
      };
      runtime.connection.devices.push(runtime);
      this.runtimes.set(key, runtime);
    }
  }

  get devices(): readonly RegisteredDevice[] {
    return this.fleet.devices;
  }

  /**
   * Opens the connections. Each device announces itself online (retained) whenever its
   * connection comes up, and starts reporting after a random phase of its first period.
   * Resolves once every connection has been up once, or the simulator was stopped.
   */
  start(): Promise<void> {
    if (this.started) return this.started;
    if (this.state === 'stopped') return Promise.resolve();
    this.state = 'running';
    this.waitingForFirstConnect = this.connections.length;
    this.started = new Promise(resolve => {
      this.resolveStarted = resolve;
      if (this.connections.length === 0) resolve();
    });
    for (const connection of this.connections) this.open(connection);
    return this.started;
  }

  /**
   * Starts a gas leak now: the detector named (or every combustible detector of the area, the
   * farther ones seeing less) ramps to the peak, holds, decays back, and reports every
   * {@link LEAK_REPORT_SECONDS} simulated second meanwhile. Throws a `GasLeakError` on bad input.
   */
  injectGasLeak(options: GasLeakOptions): GasLeakInjection {
    this.assertRunning('inject a gas leak');
    const plan = planGasLeak(options, this.fleet.devices, this.sites.get(options.siteId));
    const startedAt = this.clock.now();
    for (const target of plan.targets) {
      const runtime = this.runtime(plan.siteId, target.deviceId);
      runtime.leaks.push({ startedAt, profile: { ...plan.profile, peakLel: target.peakLel } });
      // Report at once; a device whose connection is not up yet starts with its normal phase.
      if (runtime.connection.everUp) this.schedule(runtime, startedAt);
    }
    return { ...plan, startedAt };
  }

  /**
   * Publishes an event (`fire`, `fault`, `alarm`, `sos`, …) on the device's event topic. A tag's
   * `sos` carries its last position unless `detail` says otherwise.
   */
  publishEvent(
    siteId: string,
    deviceId: string,
    code: string,
    detail: Readonly<Record<string, unknown>> = {},
  ): void {
    this.assertRunning('publish an event');
    const runtime = this.runtime(siteId, deviceId);
    const position =
      runtime.device.deviceClass === 'tag' && runtime.lastValues
        ? {
            x: runtime.lastValues['x'],
            y: runtime.lastValues['y'],
            floor: runtime.lastValues['floor'],
          }
        : {};
    const payload = eventPayloadSchema.parse({
      ts: epochMillis(this.clock.now()),
      code,
      detail: { ...position, ...detail },
    });
    this.publish(runtime, 'event', runtime.eventTopic, JSON.stringify(payload), 1, false);
  }

  /** Stops reporting and closes every connection; see {@link StopOptions}. Safe to call twice. */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    for (const runtime of this.runtimes.values()) this.cancel(runtime);
    this.resolveStarted?.();
    const graceful = options.graceful ?? true;
    this.stopping = wasRunning
      ? Promise.all(
          this.connections.map(connection =>
            this.close(connection, graceful, options.announceOffline ?? true),
          ),
        ).then(() => undefined)
      : Promise.resolve();
    return this.stopping;
  }

  stats(): FleetStats {
    let activeLeaks = 0;
    for (const runtime of this.runtimes.values()) activeLeaks += runtime.leaks.length;
    return {
      devices: this.runtimes.size,
      connections: this.connections.length,
      connected: this.connections.filter(connection => connection.up).length,
      sent: this.counters.sent,
      sentByKind: { ...this.counters.sentByKind },
      sentByClass: { ...this.counters.sentByClass },
      failed: this.counters.failed,
      dropped: this.counters.dropped,
      connectionErrors: this.counters.connectionErrors,
      activeLeaks,
    };
  }

  private newConnection(clientId: string): Connection {
    const connection: Connection = {
      clientId,
      devices: [],
      client: undefined,
      inFlight: 0,
      up: false,
      everUp: false,
    };
    this.connections.push(connection);
    return connection;
  }

  private open(connection: Connection): void {
    const [only] = connection.devices;
    const login = only
      ? this.credentials?.get(runtimeKey(only.device.siteId, only.device.deviceId))
      : undefined;
    const options: FleetClientOptions =
      this.connectionMode === 'per-device' && only
        ? {
            clientId: connection.clientId,
            will: { topic: only.statusTopic, payload: OFFLINE_PAYLOAD, qos: 1, retain: true },
            ...(login ? { username: login.username, password: login.secret } : {}),
          }
        : { clientId: connection.clientId };
    const client = this.connect(options);
    connection.client = client;
    client.on('connect', () => this.onConnect(connection));
    client.on('close', () => {
      if (!connection.up) return;
      connection.up = false;
      if (this.state === 'running') {
        this.log(`${connection.clientId}: connection lost, reconnecting`);
      }
    });
    client.on('error', error => {
      // While stopping, the broker may go first (Ctrl+C reaches Vigil and the simulator at once):
      // a reset then is the expected end, not news worth a line per device.
      if (this.state === 'stopped') return;
      this.counters.connectionErrors += 1;
      this.log(`${connection.clientId}: ${error.message}`);
    });
  }

  private onConnect(connection: Connection): void {
    if (this.state !== 'running') return;
    connection.up = true;
    const now = this.clock.now();
    const online = JSON.stringify({ online: true, ts: epochMillis(now) });
    for (const runtime of connection.devices) {
      this.publish(runtime, 'status', runtime.statusTopic, online, 1, true);
    }
    if (connection.everUp) return;
    connection.everUp = true;
    for (const runtime of connection.devices) {
      // Event-only devices (fire panels, call points) announce themselves at connect, which is
      // their first heartbeat: the next is due between half and one period later.
      const fraction = runtime.generator ? runtime.phase : 0.5 + runtime.phase / 2;
      this.schedule(runtime, now + fraction * this.periodMs(runtime));
    }
    this.waitingForFirstConnect -= 1;
    if (this.waitingForFirstConnect === 0) this.resolveStarted?.();
  }

  private schedule(runtime: DeviceRuntime, dueAt: number): void {
    this.cancel(runtime);
    runtime.dueAt = dueAt;
    runtime.timer = this.clock.setTimeout(
      () => this.tick(runtime),
      Math.max(0, dueAt - this.clock.now()),
    );
  }

  private cancel(runtime: DeviceRuntime): void {
    if (runtime.timer === undefined) return;
    this.clock.clearTimeout(runtime.timer);
    runtime.timer = undefined;
  }

  private tick(runtime: DeviceRuntime): void {
    runtime.timer = undefined;
    if (this.state !== 'running') return;
    const now = this.clock.now();
    if (runtime.generator) this.publishTelemetry(runtime, now);
    else this.publishHeartbeat(runtime, now);
    const period = this.periodMs(runtime);
    // Due times advance by whole periods so rates do not drift; after a stall (a busy event loop)
    // the missed readings are skipped rather than sent in a burst.
    const next = runtime.dueAt + period > now ? runtime.dueAt + period : now + period;
    this.schedule(runtime, next);
  }

  private periodMs(runtime: DeviceRuntime): number {
    const interval = runtime.device.intervalSeconds;
    const seconds = runtime.leaks.length > 0 ? Math.min(interval, LEAK_REPORT_SECONDS) : interval;
    return (seconds * 1000) / this.speed;
  }

  private simulatedSeconds(realMs: number): number {
    return (realMs * this.speed) / 1000;
  }

  private publishTelemetry(runtime: DeviceRuntime, now: number): void {
    const { generator } = runtime;
    if (!generator) return;
    const dt =
      runtime.lastSampleAt === undefined
        ? runtime.device.intervalSeconds
        : this.simulatedSeconds(now - runtime.lastSampleAt);
    runtime.lastSampleAt = now;
    const values = generator.next(dt);
    if (runtime.leaks.length > 0) this.addLeaks(runtime, values, now);
    runtime.lastValues = values;
    const payload = JSON.stringify({ ts: epochMillis(now), seq: runtime.seq, values });
    // The counter moves even when the publish fails: the platform sees the gap as loss.
    runtime.seq += 1;
    this.publish(runtime, 'telemetry', runtime.telemetryTopic, payload, this.qos, false);
  }

  /**
   * A fire panel behind a user information transmission device reports a heartbeat at least every
   * 5 min (GB 26875 practice, domain-standards.md §6 "Heartbeat/poll"); call points on a panel loop
   * are supervised the same way. Without it the offline rule (3 × interval) raised false offline
   * alarms after 15 min. Not retained: the retained status stays the one sent at connect.
   */
  private publishHeartbeat(runtime: DeviceRuntime, now: number): void {
    const payload = JSON.stringify({ online: true, ts: epochMillis(now) });
    this.publish(runtime, 'status', runtime.statusTopic, payload, 1, false);
  }

  private addLeaks(runtime: DeviceRuntime, values: TelemetryValues, now: number): void {
    let added = 0;
    runtime.leaks = runtime.leaks.filter(leak => {
      const elapsed = this.simulatedSeconds(now - leak.startedAt);
      added += gasLeakLevel(leak.profile, elapsed);
      return elapsed < gasLeakDurationSeconds(leak.profile);
    });
    const lel = values['lel'];
    if (typeof lel !== 'number') return;
    // Catalytic and IR detectors read at most 100 %LEL (full scale).
    values['lel'] = roundTo(clamp(lel + added, COMBUSTIBLE_BASELINE_LEL[0], 100), 1);
  }

  private publish(
    runtime: DeviceRuntime,
    kind: DeviceTopicKind,
    topic: string,
    payload: string,
    qos: 0 | 1,
    retain: boolean,
  ): void {
    const connection = runtime.connection;
    const client = connection.client;
    if (!client || connection.inFlight >= this.maxInFlight) {
      this.counters.dropped += 1;
      return;
    }
    connection.inFlight += 1;
    client.publish(topic, payload, { qos, retain }, error => {
      connection.inFlight -= 1;
      if (error) {
        this.counters.failed += 1;
        return;
      }
      this.counters.sent += 1;
      this.counters.sentByKind[kind] += 1;
      this.counters.sentByClass[runtime.device.deviceClass] += 1;
    });
  }

  private close(
    connection: Connection,
    graceful: boolean,
    announceOffline: boolean,
  ): Promise<void> {
    const client = connection.client;
    if (!client) return Promise.resolve();
    if (graceful && announceOffline && client.connected) {
      // A clean DISCONNECT does not fire the will [MQTT-3.14.4-3], so say goodbye explicitly.
      const offline = JSON.stringify({ online: false, ts: epochMillis(this.clock.now()) });
      for (const runtime of connection.devices) {
        this.publish(runtime, 'status', runtime.statusTopic, offline, 1, true);
      }
    }
    return new Promise(resolve => {
      const timer = this.clock.setTimeout(() => {
        this.log(`${connection.clientId}: did not close within ${this.stopTimeoutMs} ms`);
        resolve();
      }, this.stopTimeoutMs);
      client.end(!graceful, {}, () => {
        this.clock.clearTimeout(timer);
        connection.up = false;
        resolve();
      });
    });
  }

  private runtime(siteId: string, deviceId: string): DeviceRuntime {
    const runtime = this.runtimes.get(runtimeKey(siteId, deviceId));
    if (!runtime) throw new Error(`unknown device "${deviceId}" in site "${siteId}"`);
    return runtime;
  }

  private assertRunning(action: string): void {
    if (this.state !== 'running') {
      throw new Error(
        `cannot ${action}: the simulator is ${this.state === 'idle' ? 'not started' : 'stopped'}`,
      );
    }
  }
}

/** Payload timestamps are whole epoch milliseconds; a virtual clock may run on fractions. */
function epochMillis(time: number): number {
  return Math.round(time);
}

function runtimeKey(siteId: string, deviceId: string): string {
  return `${siteId}/${deviceId}`;
}
