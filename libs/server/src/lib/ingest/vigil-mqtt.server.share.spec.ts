import { connectAsync, type MqttClient } from 'mqtt';

import { startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { VigilMqttServer } from './vigil-mqtt.server';

/**
 * VIGIL_MQTT_SHARE_GROUP against a real broker (Mosquitto 2 has shared subscriptions for MQTT
 * 3.1.1 clients too, as EMQX does): two ingest servers in one group split the device messages,
 * each message reaching exactly one of them.
 */
describe('VigilMqttServer with a share group (real mosquitto)', () => {
  let broker: MosquittoHandle;
  const servers: VigilMqttServer[] = [];
  let device: MqttClient | undefined;

  beforeAll(async () => {
    broker = await startMosquitto();
  });

  afterAll(async () => {
    await device?.endAsync();
    await Promise.all(servers.map(server => server.close()));
    await broker?.stop();
  });

  async function ingest(name: string, group: string | undefined, seen: string[]): Promise<void> {
    const server = new VigilMqttServer({
      url: broker.url,
      clientId: name,
      subscribeOptions: { qos: 1 },
    });
    server.addHandler(
      'vigil/v1/+/+/telemetry',
      Object.assign(async () => undefined, { isEventHandler: true }),
      true,
    );
    server.deliverDeviceMessagesTo((topic, _payload, _retained, ack) => {
      seen.push(topic);
      ack();
    });
    server.shareDeviceSubscriptions(group);
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.listen(error => (error ? reject(error) : resolve()));
    });
  }

  it('gives each device message to exactly one member of the group; a plain subscriber still sees all', async () => {
    const first: string[] = [];
    const second: string[] = [];
    const plain: string[] = [];
    await ingest('ingest-a', 'vigil-ingest', first);
    await ingest('ingest-b', 'vigil-ingest', second);
    await ingest('ingest-plain', undefined, plain);
    // SUBACKs are in once a message published now reaches the plain subscriber.
    device = await connectAsync(broker.url, { clientId: 'device' });
    await waitFor(
      async () => {
        await device?.publishAsync('vigil/v1/probe/d/telemetry', '{}', { qos: 1 });
        return plain.length > 0 && first.length + second.length > 0;
      },
      { what: 'subscriptions in place' },
    );
    first.length = 0;
    second.length = 0;
    plain.length = 0;

    const topics = Array.from(
      { length: 200 },
      (_, i) => `vigil/v1/site-${i % 4}/gd-${i}/telemetry`,
    );
    for (const topic of topics)
      await device.publishAsync(topic, '{"values":{"lel":1}}', { qos: 1 });
    await waitFor(
      () => plain.length === topics.length && first.length + second.length >= topics.length,
      {
        what: 'every message delivered',
      },
    );
    expect([...first, ...second].sort()).toEqual([...topics].sort());
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    expect(plain.sort()).toEqual([...topics].sort());
  }, 30_000);
});
