import { connectAsync } from 'mqtt';

import { startMosquitto, type MosquittoHandle } from './mosquitto';

describe(startMosquitto.name, () => {
  let broker: MosquittoHandle | undefined;

  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('starts mosquitto on a free loopback port, delivers a message, and stops by pid', async () => {
    broker = await startMosquitto();
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.port).not.toBe(1883);

    const client = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const received = new Promise<string>(resolve =>
        client.on('message', (_topic, payload) => resolve(payload.toString())),
      );
      await client.subscribeAsync('harness/check', { qos: 1 });
      await client.publishAsync('harness/check', 'hello', { qos: 1 });
      await expect(received).resolves.toBe('hello');
    } finally {
      await client.endAsync();
    }

    const { pid } = broker;
    await broker.stop();
    broker = undefined;
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('fails with what mosquitto printed when its config is wrong', async () => {
    await expect(startMosquitto({ extraConfig: ['no_such_option 1'] })).rejects.toThrow(
      /mosquitto \(pid \d+\) exited with exit code \d+ before it was ready; it printed:\n.*no_such_option/s,
    );
  });
});
