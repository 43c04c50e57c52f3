import { connect, type MqttClient } from 'mqtt';

import { startAedes, type AedesHandle } from '@vigil/testing';

import { PubackGate } from './puback-gate';

/** Real broker, real mqtt.js clients: the publisher's QoS 1 callback is the PUBACK it got. */
describe(PubackGate.name, () => {
  let broker: AedesHandle;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    broker = await startAedes();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.endAsync(true);
    await broker.stop();
  });

  async function client(id: string, clean = true): Promise<MqttClient> {
    const c = connect(broker.url, { clientId: id, clean, reconnectPeriod: 0 });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    return c;
  }

  it('holds each PUBACK until its message is acked, in arrival order, without holding up later messages', async () => {
    const subscriber = await client('ingest');
    const gate = new PubackGate(subscriber);
    const acks: Array<() => void> = [];
    const received: string[] = [];
    subscriber.on('message', (_topic, payload, packet) => {
      received.push(payload.toString());
      acks.push(gate.hold(packet));
    });
    await subscriber.subscribeAsync('t/#', { qos: 1 });
    const publisher = await client('device');
    const acked: string[] = [];
    for (const text of ['a', 'b', 'c']) publisher.publish('t/x', text, { qos: 1 });
    await waitFor(() => received.length === 3);
    // All three arrived though none is acked: the gate does not serialise the socket.
    expect(received).toEqual(['a', 'b', 'c']);
    await waitFor(() => gate.waiting === 3);
    // What leaves the gated client for the broker: its PUBACKs.
    const internals = subscriber as unknown as {
      _writePacket: (p: Record<string, unknown>, cb?: () => void) => void;
    };
    const write = internals._writePacket.bind(subscriber);
    internals._writePacket = (packet, cb) => {
      if (packet['cmd'] === 'puback') acked.push(String(packet['messageId']));
      write(packet, cb);
    };
    acks[1]?.(); // b is durable first: its PUBACK still waits for a's
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(acked).toHaveLength(0);
    acks[0]?.();
    await waitFor(() => acked.length === 2);
    acks[2]?.();
    await waitFor(() => acked.length === 3);
    expect(gate.waiting).toBe(0);
    expect(acked.map(Number)).toEqual([...acked.map(Number)].sort((x, y) => x - y));
  });

  it('forgets parked PUBACKs when the connection drops: the broker re-sends on the persistent session', async () => {
    const first = await client('ingest-p', false);
    await first.subscribeAsync('p/#', { qos: 1 });
    const gate = new PubackGate(first);
    // Told how many it forgot (IngestBrokerLink counts and logs the drop).
    const forgotten: number[] = [];
    gate.onForget = count => forgotten.push(count);
    const seen: string[] = [];
    first.on('message', (_topic, payload, packet) => {
      seen.push(payload.toString());
      gate.hold(packet); // never acked: the process "dies" before the message is durable
    });
    const publisher = await client('device-p');
    await publisher.publishAsync('p/x', 'one', { qos: 1 });
    await waitFor(() => seen.length === 1);
    await first.endAsync(true);
    expect(gate.waiting).toBe(0);
    expect(forgotten).toEqual([1]);
    const again = await client('ingest-p', false);
    const redelivered: string[] = [];
    again.on('message', (_topic, payload) => redelivered.push(payload.toString()));
    await waitFor(() => redelivered.length === 1);
    expect(redelivered).toEqual(['one']);
  });
  it('a stop: messages refused keep their PUBACK (re-sent on the session); inFlight counts only those taken', async () => {
    const first = await client('ingest-r', false);
    await first.subscribeAsync('r/#', { qos: 1 });
    const gate = new PubackGate(first);
    const acks: Array<() => void> = [];
    let stopping = false;
    first.on('message', (_topic, _payload, packet) => {
      if (stopping) gate.refuse(packet);
      else acks.push(gate.hold(packet));
    });
    const publisher = await client('device-r');
    await publisher.publishAsync('r/x', 'taken', { qos: 1 });
    await waitFor(() => acks.length === 1);
    stopping = true;
    publisher.publish('r/x', 'refused', { qos: 1 });
    await waitFor(() => gate.waiting === 2);
    expect(gate.inFlight).toBe(1);
    acks[0]?.();
    // The taken message is durable: nothing of ingest's is in flight any more; the refused one
    // keeps its PUBACK until the connection closes.
    await waitFor(() => gate.inFlight === 0);
    expect(gate.waiting).toBe(1);
    await first.endAsync(false);
    const again = await client('ingest-r', false);
    const redelivered: string[] = [];
    again.on('message', (_topic, payload) => redelivered.push(payload.toString()));
    await waitFor(() => redelivered.length === 1);
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(redelivered).toEqual(['refused']);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}
