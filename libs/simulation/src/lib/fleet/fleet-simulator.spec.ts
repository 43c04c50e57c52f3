import { join } from 'node:path';

import {
  DEVICE_CLASS_DEFINITIONS,
  eventPayloadSchema,
  parseDeviceTopic,
  statusPayloadSchema,
  telemetryPayloadSchema,
} from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';

import { ManualClock } from './clock';
import { FleetSimulator, type FleetSimulatorOptions } from './fleet-simulator';
import { hasTelemetry } from './generators';
import type { FleetClientOptions, FleetMqttClient, FleetPublishOptions } from './mqtt-connector';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));
const telemetryDevices = registry.devices.filter(device => hasTelemetry(device.deviceClass));

interface Published {
  readonly topic: string;
  readonly message: string;
  readonly options: FleetPublishOptions;
  readonly at: number;
}

type Listener = (() => void) | ((error: Error) => void);

/** An MQTT client without a network: the test decides when it connects and whether writes complete. */
class FakeClient implements FleetMqttClient {
  connected = false;
  endedWithForce: boolean | undefined;
  /** When false, publish callbacks are held back, as when the socket is congested. */
  completeWrites = true;
  readonly published: Published[] = [];
  private readonly listeners = new Map<string, Listener[]>();

  constructor(
    readonly options: FleetClientOptions,
    private readonly clock: ManualClock,
  ) {}

  publish(
    topic: string,
    message: string,
    options: FleetPublishOptions,
    callback: (error?: Error) => void,
  ): void {
    if (!this.connected) {
      callback(new Error('No connection to broker'));
      return;
    }
    this.published.push({ topic, message, options, at: this.clock.now() });
    if (this.completeWrites) callback();
  }

  end(force: boolean, _options: object, callback: () => void): void {
    this.endedWithForce = force;
    this.connected = false;
    callback();
  }

  on(event: 'connect' | 'close', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  bringUp(): void {
    this.connected = true;
    for (const listener of this.listeners.get('connect') ?? []) (listener as () => void)();
  }

  drop(): void {
    this.connected = false;
    for (const listener of this.listeners.get('close') ?? []) (listener as () => void)();
  }
}

function setup(options: FleetSimulatorOptions = {}) {
  const clock = new ManualClock();
  const clients: FakeClient[] = [];
  const simulator = new FleetSimulator(
    registry,
    clientOptions => {
      const client = new FakeClient(clientOptions, clock);
      clients.push(client);
      return client;
    },
    { seed: 1, clock, ...options },
  );
  const all = (): Published[] =>
    clients.flatMap(client => client.published).sort((a, b) => a.at - b.at);
  const telemetryOf = (deviceId: string) =>
    all()
      .filter(message => message.topic === `vigil/v1/plant-1/${deviceId}/telemetry`)
      .map(message => ({
        at: message.at,
        ...(JSON.parse(message.message) as {
          ts: number;
          seq: number;
          values: Record<string, number>;
        }),
      }));
  return { clock, clients, simulator, all, telemetryOf };
}

describe(FleetSimulator.name, () => {
  it('opens one connection per device up to the limit, each with a retained offline will', () => {
    const { clients, simulator } = setup();
    void simulator.start();
    expect(simulator.connectionMode).toBe('per-device');
    expect(clients).toHaveLength(registry.devices.length);
    expect(new Set(clients.map(client => client.options.clientId)).size).toBe(clients.length);
    for (const client of clients) {
      expect(client.options.will).toEqual({
        topic: expect.stringMatching(/^vigil\/v1\/plant-1\/[^/]+\/status$/),
        payload: '{"online":false}',
        qos: 1,
        retain: true,
      });
    }
  });

  it('shares one connection, gateway style, above the limit', () => {
    const { clients, simulator, all } = setup({ maxDeviceConnections: 10 });
    void simulator.start();
    expect(simulator.connectionMode).toBe('shared');
    expect(clients).toHaveLength(1);
    expect(clients[0]?.options.will).toBeUndefined();
    clients[0]?.bringUp();
    const statusTopics = all().map(message => message.topic);
    expect(statusTopics).toHaveLength(registry.devices.length);
  });

  it('announces every device online, retained, whenever its connection comes up', async () => {
    const { clients, simulator, all, clock } = setup();
    const started = simulator.start();
    for (const client of clients) client.bringUp();
    await started;
    const statuses = all().filter(message => parseDeviceTopic(message.topic)?.kind === 'status');
    expect(statuses).toHaveLength(registry.devices.length);
    for (const status of statuses) {
      expect(status.options).toEqual({ qos: 1, retain: true });
      expect(statusPayloadSchema.parse(JSON.parse(status.message))).toEqual({
        online: true,
        ts: clock.now(),
      });
    }
    clients[0]?.drop();
    expect(simulator.stats().connected).toBe(registry.devices.length - 1);
    clients[0]?.bringUp();
    expect(clients[0]?.published.filter(message => message.topic.endsWith('/status'))).toHaveLength(
      2,
    );
  });

  it('publishes every telemetry device at its interval, phases spread, seq counting up', () => {
    const { clients, simulator, clock, telemetryOf } = setup();
    void simulator.start();
    for (const client of clients) client.bringUp();
    clock.advance(120_000);
    const firstAt = new Set<number>();
    for (const device of telemetryDevices) {
      const readings = telemetryOf(device.deviceId);
      const expected = 120 / device.intervalSeconds;
      expect(readings.length).toBeGreaterThanOrEqual(expected - 1);
      expect(readings.length).toBeLessThanOrEqual(expected + 1);
      readings.forEach((reading, index) => {
        expect(reading.seq).toBe(index);
        expect(reading.ts).toBe(Math.round(reading.at));
        expect(Object.keys(reading).sort()).toEqual(['at', 'seq', 'ts', 'values']);
        expect(telemetryPayloadSchema.safeParse(reading).error).toBeUndefined();
        expect(Object.keys(reading.values).sort()).toEqual(
          Object.keys(DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics).sort(),
        );
      });
      const gaps = readings.slice(1).map((reading, i) => reading.ts - (readings[i]?.ts ?? 0));
      expect(new Set(gaps)).toEqual(new Set([device.intervalSeconds * 1000]));
      firstAt.add(readings[0]?.ts ?? 0);
    }
    expect(firstAt.size).toBeGreaterThan(telemetryDevices.length / 2);
    for (const silent of ['fp-main', 'cp-tf-01', 'cp-ru-01']) {
      expect(telemetryOf(silent)).toEqual([]);
    }
  });

  it('sends a status heartbeat from event-only devices at their interval (no false offline)', () => {
    const { clients, simulator, clock, all } = setup();
    void simulator.start();
    for (const client of clients) client.bringUp();
    clock.advance(20 * 60_000);
    for (const silent of ['fp-main', 'cp-tf-01', 'cp-ru-01']) {
      const interval =
        registry.devices.find(device => device.deviceId === silent)?.intervalSeconds ?? 0;
      const statuses = all().filter(
        message => message.topic === `vigil/v1/plant-1/${silent}/status`,
      );
      const times = statuses.map(
        status => statusPayloadSchema.parse(JSON.parse(status.message)).ts,
      );
      const gaps = [...times.slice(1), clock.now()].map((t, i) => (t ?? 0) - (times[i] ?? 0));
      // The offline rule raises after 3 × interval of silence; a heartbeat comes within one.
      expect(Math.max(...gaps)).toBeLessThanOrEqual(interval * 1000);
      expect(statuses.slice(1).every(status => status.options.retain === false)).toBe(true);
    }
  });

  it('compresses time by the speed factor', () => {
    const { clients, simulator, clock, telemetryOf } = setup({ speed: 10 });
    void simulator.start();
    for (const client of clients) client.bringUp();
    clock.advance(6_000);
    // 60 simulated seconds: 12 readings of a 5 s detector, 2 of a 30 s electrical-fire monitor.
    expect(telemetryOf('gc-tf-01').length).toBeGreaterThanOrEqual(11);
    expect(telemetryOf('ef-ru-mcc').length).toBeGreaterThanOrEqual(1);
    expect(telemetryOf('ef-ru-mcc').length).toBeLessThanOrEqual(3);
  });

  it('replays the same messages for the same seed', () => {
    const run = (seed: number) => {
      const { clients, simulator, clock, all } = setup({ seed });
      void simulator.start();
      for (const client of clients) client.bringUp();
      clock.advance(60_000);
      return all().map(message => `${message.topic} ${message.message}`);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('ramps a gas leak to its peak, reports every second meanwhile, then returns to normal', () => {
    const { clients, simulator, clock, telemetryOf } = setup();
    void simulator.start();
    for (const client of clients) client.bringUp();
    clock.advance(20_000);
    const before = telemetryOf('gc-tf-02').length;
    const leak = simulator.injectGasLeak({ siteId: 'plant-1', deviceId: 'gc-tf-02' });
    expect(simulator.stats().activeLeaks).toBe(1);
    clock.advance(130_000);
    const during = telemetryOf('gc-tf-02').slice(before);
    const elapsed = (reading: { ts: number }) => (reading.ts - leak.startedAt) / 1000;
    const inRamp = during.filter(reading => elapsed(reading) <= 10);
    expect(inRamp.length).toBeGreaterThanOrEqual(10);
    expect(inRamp.find(reading => (reading.values['lel'] as number) > 50)).toBeDefined();
    for (const reading of during) {
      const lel = reading.values['lel'] as number;
      const t = elapsed(reading);
      if (t <= 10) expect(Math.abs(lel - 6.5 * t)).toBeLessThan(4);
      else if (t <= 70) expect(Math.abs(lel - 65)).toBeLessThan(4);
      else if (t >= 100) expect(lel).toBeLessThanOrEqual(3);
    }
    const fast = during.filter(reading => elapsed(reading) < 100);
    const gaps = fast.slice(1).map((reading, i) => reading.ts - (fast[i]?.ts ?? 0));
    expect(new Set(gaps)).toEqual(new Set([1000]));
    // Back to the normal 5 s period once the leak has passed.
    const after = during.filter(reading => elapsed(reading) > 101);
    const afterGaps = after.slice(1).map((reading, i) => reading.ts - (after[i]?.ts ?? 0));
    expect(new Set(afterGaps)).toEqual(new Set([5000]));
    expect(simulator.stats().activeLeaks).toBe(0);
    // Its neighbours saw nothing.
    expect(
      Math.max(...telemetryOf('gc-tf-01').map(reading => reading.values['lel'] as number)),
    ).toBeLessThanOrEqual(3);
  });

  it('lets every combustible detector of an area see an area leak, the nearest most', () => {
    const { clients, simulator, clock, telemetryOf } = setup();
    void simulator.start();
    for (const client of clients) client.bringUp();
    const leak = simulator.injectGasLeak({
      siteId: 'plant-1',
      areaId: 'tank-farm',
      rampSeconds: 5,
      holdSeconds: 30,
    });
    clock.advance(20_000);
    const highest = (deviceId: string) =>
      Math.max(...telemetryOf(deviceId).map(reading => reading.values['lel'] as number));
    expect(leak.targets.map(target => target.deviceId).sort()).toEqual([
      'gc-tf-01',
      'gc-tf-02',
      'gc-tf-03',
    ]);
    expect(highest('gc-tf-02')).toBeGreaterThan(60);
    expect(highest('gc-tf-01')).toBeGreaterThan(10);
    expect(highest('gc-tf-01')).toBeLessThan(highest('gc-tf-02') - 20);
    expect(highest('gc-ru-01')).toBeLessThanOrEqual(3);
  });

  it('publishes events with ts, code and detail; a tag SOS carries its position', () => {
    const { clients, simulator, clock, all } = setup();
    expect(() => simulator.publishEvent('plant-1', 'fp-main', 'fire')).toThrow('not started');
    void simulator.start();
    for (const client of clients) client.bringUp();
    clock.advance(10_000);
    simulator.publishEvent('plant-1', 'fp-main', 'fire', { loop: 1, address: 23 });
    simulator.publishEvent('plant-1', 'cp-tf-01', 'alarm');
    simulator.publishEvent('plant-1', 'tag-001', 'sos');
    const events = all()
      .filter(message => message.topic.endsWith('/event'))
      .map(message => ({
        topic: message.topic,
        qos: message.options.qos,
        payload: eventPayloadSchema.parse(JSON.parse(message.message)),
      }));
    expect(events).toEqual([
      {
        topic: 'vigil/v1/plant-1/fp-main/event',
        qos: 1,
        payload: { ts: clock.now(), code: 'fire', detail: { loop: 1, address: 23 } },
      },
      {
        topic: 'vigil/v1/plant-1/cp-tf-01/event',
        qos: 1,
        payload: { ts: clock.now(), code: 'alarm', detail: {} },
      },
      {
        topic: 'vigil/v1/plant-1/tag-001/event',
        qos: 1,
        payload: {
          ts: clock.now(),
          code: 'sos',
          detail: { x: expect.any(Number), y: expect.any(Number), floor: 0 },
        },
      },
    ]);
    expect(() => simulator.publishEvent('plant-1', 'nope', 'fire')).toThrow('unknown device');
    expect(() => simulator.publishEvent('plant-1', 'fp-main', 'Bad Code')).toThrow();
  });

  it('says goodbye on a graceful stop and lets the wills speak on an abrupt one', async () => {
    const graceful = setup();
    void graceful.simulator.start();
    for (const client of graceful.clients) client.bringUp();
    await graceful.simulator.stop();
    const offline = graceful.all().filter(message => message.message.startsWith('{"online":false'));
    expect(offline).toHaveLength(registry.devices.length);
    expect(offline.every(message => message.options.retain)).toBe(true);
    expect(graceful.clients.every(client => client.endedWithForce === false)).toBe(true);
    const sent = graceful.all().length;
    graceful.clock.advance(60_000);
    expect(graceful.all()).toHaveLength(sent);
    expect(() =>
      graceful.simulator.injectGasLeak({ siteId: 'plant-1', deviceId: 'gc-tf-01' }),
    ).toThrow('stopped');

    const abrupt = setup();
    void abrupt.simulator.start();
    for (const client of abrupt.clients) client.bringUp();
    await abrupt.simulator.stop({ graceful: false });
    expect(abrupt.all().filter(message => message.message.startsWith('{"online":false'))).toEqual(
      [],
    );
    expect(abrupt.clients.every(client => client.endedWithForce === true)).toBe(true);
    expect(abrupt.clock.pending).toBe(0);
  });

  it('bounds unfinished publishes per connection and counts what it drops or fails', () => {
    const { clients, simulator, clock } = setup({
      maxDeviceConnections: 0,
      maxInFlightPerConnection: 30,
    });
    void simulator.start();
    const [gateway] = clients;
    if (!gateway) throw new Error('no client');
    gateway.completeWrites = false;
    gateway.bringUp();
    clock.advance(10_000);
    const stats = simulator.stats();
    expect(gateway.published).toHaveLength(30);
    expect(stats.sent).toBe(0);
    expect(stats.dropped).toBeGreaterThan(0);

    gateway.completeWrites = true;
    gateway.drop();
    clock.advance(10_000);
    expect(simulator.stats().dropped).toBeGreaterThan(stats.dropped);
    expect(simulator.stats().connected).toBe(0);
  });

  it('counts publishes that fail while the broker is away, and seq keeps counting through the gap', () => {
    const { clients, simulator, clock, telemetryOf } = setup();
    void simulator.start();
    for (const client of clients) client.bringUp();
    clock.advance(10_000);
    const target = clients.find(client => client.options.clientId === 'sim-plant-1-gc-tf-01');
    target?.drop();
    clock.advance(20_000);
    target?.bringUp();
    clock.advance(10_000);
    const seqs = telemetryOf('gc-tf-01').map(reading => reading.seq);
    expect(simulator.stats().failed).toBeGreaterThanOrEqual(3);
    expect(seqs[seqs.length - 1]).toBeGreaterThan(seqs.length - 1);
    const stats = simulator.stats();
    expect(stats.sentByClass['gas-combustible']).toBeGreaterThan(0);
    expect(stats.sentByKind.status).toBe(registry.devices.length + 1);
  });

  it('refuses bad options and fleets', () => {
    const connect = () => {
      throw new Error('not used');
    };
    expect(() => new FleetSimulator(registry, connect, { speed: 0 })).toThrow('speed');
    expect(() => new FleetSimulator(registry, connect, { seed: -1 })).toThrow('seed');
    expect(() => new FleetSimulator({ sites: [], devices: registry.devices }, connect)).toThrow(
      'is not in the fleet',
    );
  });
});
