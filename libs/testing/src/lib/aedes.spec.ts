import { connectAsync } from 'mqtt';

import { startAedes } from './aedes';

describe(startAedes.name, () => {
  it('runs an in-process broker on a free port that delivers messages, and stops', async () => {
    const broker = await startAedes();
    try {
      const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
      const received = new Promise<string>(resolve =>
        client.on('message', (_topic, payload) => resolve(payload.toString())),
      );
      await client.subscribeAsync('harness/check', { qos: 1 });
      await client.publishAsync('harness/check', 'hello', { qos: 1 });
      await expect(received).resolves.toBe('hello');
      // Left connected on purpose: stop() must not hang on open client connections.
    } finally {
      await broker.stop();
    }
  });
});
