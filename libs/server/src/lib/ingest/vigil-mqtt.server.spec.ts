import { VigilMqttServer } from './vigil-mqtt.server';

describe(VigilMqttServer.name, () => {
  const server = new VigilMqttServer({ url: 'mqtt://127.0.0.1:1' });
  const telemetry = Object.assign(async () => undefined, { isEventHandler: true });
  const other = Object.assign(async () => undefined, { isEventHandler: true });
  server.addHandler('vigil/v1/+/+/telemetry', telemetry, true);
  server.addHandler('other/#', other, true);

  it('routes device topics by their last level, as Nest would', () => {
    expect(server.getHandlerByPattern('vigil/v1/plant-1/gc-1/telemetry')).toBe(telemetry);
    expect(server.getHandlerByPattern('vigil/v1/plant-1/gc-1/event')).toBeNull();
  });

  it('leaves every other topic to Nest’s lookup', () => {
    expect(server.getHandlerByPattern('other/a/b')).toBe(other);
    expect(server.getHandlerByPattern('vigil/v1/a/b/c/telemetry')).toBeNull();
  });
});
