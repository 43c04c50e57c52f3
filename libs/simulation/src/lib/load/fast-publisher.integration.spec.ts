import { connectAsync, type MqttClient } from 'mqtt';

import { startAedes, waitFor, type AedesHandle } from '@vigil/testing';

import {
  FastMqttPublisher,
  encodeRemainingLength,
  publishPacketBytes,
  remainingLengthBytes,
} from './fast-publisher';

describe('MQTT remaining length (MQTT 3.1.1 §2.2.3)', () => {
  it.each([
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2_097_151, [0xff, 0xff, 0x7f]],
    [2_097_152, [0x80, 0x80, 0x80, 0x01]],
  ])('encodes %d', (length, bytes) => {
    const buffer = Buffer.alloc(4);
    expect(encodeRemainingLength(length, buffer, 0)).toBe(bytes.length);
    expect([...buffer.subarray(0, bytes.length)]).toEqual(bytes);
    expect(remainingLengthBytes(length)).toBe(bytes.length);
  });

  it('sizes a PUBLISH packet', () => {
    // header 1 + length 1 + topic length 2 + topic 5 + packet id 2 + payload 10
    expect(publishPacketBytes(5, 10, 1)).toBe(21);
    expect(publishPacketBytes(5, 10, 0)).toBe(19);
  });
});

describe('FastMqttPublisher against a broker', () => {
  let broker: AedesHandle;
  let subscriber: MqttClient;
  const received: { topic: string; payload: string; qos: number }[] = [];

  beforeAll(async () => {
    broker = await startAedes();
    subscriber = await connectAsync(broker.url, { clientId: 'fast-publisher-spec-sub' });
    subscriber.on('message', (topic, payload, packet) =>
      received.push({ topic, payload: payload.toString(), qos: packet.qos }),
    );
    await subscriber.subscribeAsync('fast/#', { qos: 1 });
  });

  afterAll(async () => {
    await subscriber?.endAsync();
    await broker?.stop();
  });

  it('delivers QoS 0 and QoS 1 messages intact and counts the acknowledgements', async () => {
    const publisher = await FastMqttPublisher.connect(broker.url, {
      clientId: 'fast-publisher-spec',
    });
    const big = 'x'.repeat(20_000);
    for (let i = 0; i < 500; i += 1) {
      expect(
        publisher.publish(`fast/${i % 7}`, JSON.stringify({ i, 文字: '温度' }), (i % 2) as 0 | 1),
      ).toBe(true);
    }
    expect(publisher.publish('fast/big', big, 1)).toBe(true);
    publisher.flush();
    await waitFor(() => received.length === 501 && publisher.stats.inFlight === 0, {
      what: 'every message delivered and acknowledged',
      timeoutMs: 10_000,
    });
    // The broker may interleave QoS 0 and QoS 1 differently; each is delivered once.
    const indices = received.filter(m => m.topic !== 'fast/big').map(m => JSON.parse(m.payload).i);
    expect(indices.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(received.find(m => m.payload.includes('"i":3,'))).toEqual({
      topic: 'fast/3',
      payload: '{"i":3,"文字":"温度"}',
      qos: 1,
    });
    expect(received.find(m => m.topic === 'fast/big')?.payload).toBe(big);
    expect(publisher.stats).toMatchObject({
      written: 501,
      delivered: 501,
      inFlight: 0,
      refused: 0,
    });
    await publisher.end();
    expect(publisher.publish('fast/late', '{}', 0)).toBe(false);
  });

  it('refuses QoS 1 beyond its in-flight window instead of queueing', async () => {
    const publisher = await FastMqttPublisher.connect(broker.url, {
      clientId: 'fast-publisher-spec-window',
      maxInFlight: 3,
    });
    expect([1, 2, 3, 4].map(() => publisher.publish('fast/w', '{}', 1))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(publisher.writable).toBe(false);
    publisher.flush();
    await waitFor(() => publisher.stats.inFlight === 0, { what: 'acks' });
    expect(publisher.writable).toBe(true);
    expect(publisher.stats.refused).toBe(1);
    await publisher.end();
  });

  it('reports a refused connection', async () => {
    await expect(
      FastMqttPublisher.connect('mqtt://127.0.0.1:1', { clientId: 'x', connectTimeoutMs: 2000 }),
    ).rejects.toThrow();
    await expect(FastMqttPublisher.connect('ws://127.0.0.1:1', { clientId: 'x' })).rejects.toThrow(
      'mqtt:// only',
    );
  });
});
