import { createServer } from 'node:net';

import { Aedes } from 'aedes';

export interface AedesHandle {
  /** `mqtt://127.0.0.1:<port>`; MQTT 3.1.1 only (aedes does not speak MQTT 5). */
  readonly url: string;
  readonly port: number;
  readonly broker: Aedes;
  stop(): Promise<void>;
}

/** An in-process aedes broker on a free loopback port, for tests that need any broker. */
export async function startAedes(): Promise<AedesHandle> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await new Promise<void>(resolve => broker.close(() => resolve()));
    throw error;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('aedes: no TCP address');
  const port = address.port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    broker,
    stop: async () => {
      // The broker first, so that it drops its clients: server.close() waits for every connection.
      await new Promise<void>(resolve => broker.close(() => resolve()));
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
