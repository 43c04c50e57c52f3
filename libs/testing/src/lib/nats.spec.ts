import { connect } from 'nats';

import { startNats } from './nats';

describe('startNats (real nats-server)', () => {
  it('starts a 3-node cluster that holds an R3 stream through the loss of one node', async () => {
    const nats = await startNats({ nodes: 3 });
    try {
      const nc = await connect({ servers: nats.url.split(','), maxReconnectAttempts: -1 });
      // A fresh cluster elects its meta leader a moment after the nodes answer /healthz: until
      // then any JetStream API request (the manager's own account check too) times out.
      for (let attempt = 0; ; attempt += 1) {
        try {
          const jsm = await nc.jetstreamManager();
          await jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3 });
          break;
        } catch (error) {
          if (attempt > 50) throw error;
          await new Promise(resolve => setTimeout(resolve, 200));
        }
      }
      const js = nc.jetstream();
      await js.publish('t.1', 'one');
      const [first] = nats.nodes;
      if (!first) throw new Error('no NATS node');
      first.kill('SIGKILL');
      await first.exited();
      let ack;
      for (let attempt = 0; !ack; attempt += 1) {
        ack = await js.publish('t.2', 'two').catch(error => {
          if (attempt > 50) throw error;
          return new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), 200));
        });
      }
      expect(ack.seq).toBe(2);
      await nc.close();
    } finally {
      await nats.stop();
    }
  }, 60_000);
});
