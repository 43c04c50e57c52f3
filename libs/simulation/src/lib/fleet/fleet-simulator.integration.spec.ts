import { join } from 'node:path';

import { connectAsync, type MqttClient } from 'mqtt';

import {
  DEVICE_CLASS_DEFINITIONS,
  parseDeviceTopic,
  statusPayloadSchema,
  telemetryPayloadSchema,
} from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';
import { startAedes, waitFor, type AedesHandle } from '@vigil/testing';

import { FleetSimulator } from './fleet-simulator';
import { hasTelemetry } from './generators';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));
const telemetryDevices = registry.devices.filter(device => hasTelemetry(device.deviceClass));
/** 30 simulated seconds per real second: a 30 s electrical-fire monitor reports every second. */
const SPEED = 30;

interface Received {
  readonly deviceId: string;
  readonly kind: string;
  readonly payload: Record<string, unknown>;
  readonly raw: string;
  readonly retain: boolean;
}

function collect(client: MqttClient, into: Received[]): void {
  client.on('message', (topic, payload, packet) => {
    const parsed = parseDeviceTopic(topic);
    if (!parsed) throw new Error(`unexpected topic ${topic}`);
    const raw = payload.toString('utf8');
    into.push({
      deviceId: parsed.deviceId,
      kind: parsed.kind,
      payload: JSON.parse(raw) as Record<string, unknown>,
      raw,
      retain: packet.retain,
    });
  });
}

describe('FleetSimulator on an MQTT broker', () => {
  let broker: AedesHandle | undefined;
  let observer: MqttClient | undefined;
  let simulator: FleetSimulator | undefined;
  const received: Received[] = [];
  const of = (deviceId: string, kind: string) =>
    received.filter(message => message.deviceId === deviceId && message.kind === kind);

  beforeAll(async () => {
    broker = await startAedes();
    observer = await connectAsync(broker.url, { clientId: 'observer', reconnectPeriod: 0 });
    collect(observer, received);
    await observer.subscribeAsync('vigil/v1/#', { qos: 1 });
    simulator = new FleetSimulator(registry, broker.url, { speed: SPEED, seed: 7, qos: 1 });
    await simulator.start();
  }, 5_000);

  afterAll(async () => {
    await simulator?.stop({ graceful: false });
    await observer?.endAsync(true);
    await broker?.stop();
  });

  it('announces every device online with a retained status', async () => {
    expect(simulator?.connectionMode).toBe('per-device');
    await waitFor(
      () => registry.devices.every(device => of(device.deviceId, 'status').length > 0),
      { what: 'an online status from every device', timeoutMs: 3_000 },
    );
    // A subscriber arriving later gets the retained status of every device [MQTT-3.3.1-6].
    const late = await connectAsync(broker?.url ?? '', { clientId: 'late', reconnectPeriod: 0 });
    const retained: Received[] = [];
    try {
      collect(late, retained);
      await late.subscribeAsync('vigil/v1/+/+/status', { qos: 1 });
      await waitFor(() => retained.length >= registry.devices.length, {
        what: 'the retained statuses',
        timeoutMs: 2_000,
      });
    } finally {
      await late.endAsync();
    }
    expect(retained.map(message => message.deviceId).sort()).toEqual(
      registry.devices.map(device => device.deviceId).sort(),
    );
    for (const message of retained) {
      expect(message.retain).toBe(true);
      expect(statusPayloadSchema.parse(message.payload)).toEqual({
        online: true,
        ts: expect.any(Number),
      });
    }
  }, 6_000);

  it('sends valid telemetry from every telemetry device, seq counting up by one', async () => {
    await waitFor(
      () => telemetryDevices.every(device => of(device.deviceId, 'telemetry').length >= 2),
      {
        what: 'two readings from every telemetry device',
        timeoutMs: 5_000,
      },
    );
    for (const device of telemetryDevices) {
      const readings = of(device.deviceId, 'telemetry');
      const metrics = Object.keys(DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics).sort();
      readings.forEach((reading, index) => {
        expect(telemetryPayloadSchema.safeParse(reading.payload).error).toBeUndefined();
        expect(Object.keys(reading.payload)).toEqual(['ts', 'seq', 'values']);
        expect(reading.payload['seq']).toBe(index);
        expect(Object.keys(reading.payload['values'] as object).sort()).toEqual(metrics);
      });
    }
    for (const silent of registry.devices.filter(device => !hasTelemetry(device.deviceClass))) {
      expect(of(silent.deviceId, 'telemetry')).toEqual([]);
    }
  }, 6_000);

  it('drives the target detector above 50 %LEL within the ramp of an injected leak', async () => {
    const leak = simulator?.injectGasLeak({ siteId: 'plant-1', deviceId: 'gc-tf-02' });
    if (!leak) throw new Error('no simulator');
    const high = await waitFor(
      () =>
        of('gc-tf-02', 'telemetry').find(
          reading =>
            (reading.payload['ts'] as number) >= leak.startedAt &&
            ((reading.payload['values'] as Record<string, number>)['lel'] ?? 0) > 50,
        ),
      { what: 'gc-tf-02 above 50 %LEL', timeoutMs: 3_000 },
    );
    if (!high) throw new Error('unreachable: waitFor returns a truthy value');
    const simulatedSeconds = (((high.payload['ts'] as number) - leak.startedAt) * SPEED) / 1000;
    expect(simulatedSeconds).toBeLessThanOrEqual(leak.profile.rampSeconds);
    // Reported every simulated second during the ramp, not every 5 s: judged by the gaps between
    // the readings (a late timer on a loaded machine widens one gap, it does not make 5 s ones).
    const rampTimes = of('gc-tf-02', 'telemetry')
      .map(reading => reading.payload['ts'] as number)
      .filter(ts => ts >= leak.startedAt && ts <= (high.payload['ts'] as number));
    expect(rampTimes.length).toBeGreaterThanOrEqual(3);
    const gaps = rampTimes
      .slice(1)
      .map((ts, i) => ((ts - (rampTimes[i] ?? ts)) * SPEED) / 1000)
      .sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThanOrEqual(1.5);
  }, 5_000);

  it('lets the broker publish every last will when the connections drop', async () => {
    const before = received.length;
    await simulator?.stop({ graceful: false });
    await waitFor(
      () =>
        registry.devices.every(device =>
          received
            .slice(before)
            .some(
              message => message.deviceId === device.deviceId && message.raw === '{"online":false}',
            ),
        ),
      { what: 'the last will of every device', timeoutMs: 3_000 },
    );
  }, 5_000);
});
