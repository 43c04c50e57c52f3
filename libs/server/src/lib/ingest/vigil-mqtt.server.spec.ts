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

  it('hands device messages straight to the sink, and everything else to Nest', async () => {
    const direct = new VigilMqttServer({ url: 'mqtt://127.0.0.1:1' });
    const viaNest = jest.fn(async () => undefined);
    direct.addHandler('other/#', Object.assign(viaNest, { isEventHandler: true }), true);
    const sink = jest.fn();
    direct.deliverDeviceMessagesTo(sink);
    const onMessage = direct.getMessageHandler({} as never);
    const payload = Buffer.from('{"values":{"lel":1}}');
    await onMessage('vigil/v1/plant-1/gc-1/telemetry', payload);
    expect(sink).toHaveBeenCalledWith(
      'vigil/v1/plant-1/gc-1/telemetry',
      payload,
      false,
      expect.any(Function),
      false,
    );
    // The packet's retain flag reaches ingest (a retained status is not liveness, issue 10 #7).
    await onMessage('vigil/v1/plant-1/gc-1/status', payload, { retain: true });
    expect(sink).toHaveBeenLastCalledWith(
      'vigil/v1/plant-1/gc-1/status',
      payload,
      true,
      expect.any(Function),
      false,
    );
    // So does its DUP flag: the broker re-sent it after a reconnect (not a device restart).
    await onMessage('vigil/v1/plant-1/gc-1/telemetry', payload, { dup: true });
    expect(sink).toHaveBeenLastCalledWith(
      'vigil/v1/plant-1/gc-1/telemetry',
      payload,
      false,
      expect.any(Function),
      true,
    );
    await onMessage('other/a', Buffer.from('{"x":1}'), {});
    expect(sink).toHaveBeenCalledTimes(3);
    expect(viaNest).toHaveBeenCalledTimes(1);
  });
});
