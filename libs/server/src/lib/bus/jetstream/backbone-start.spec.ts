import { startNats, type NatsHandle } from '@vigil/testing';

import { loadConfig } from '../../config/vigil-config';
import { BackboneUnavailableError, openBackbone } from './backbone';
import { RECORDS_STREAM } from './subjects';

/**
 * A 3-node cluster with one node up has no meta leader: JetStream API requests time out (5 s
 * each) or, a while later, answer 503. That is what a process meets when it starts before the
 * cluster has elected one.
 */
describe('openBackbone at start, JetStream without quorum (real 3-node nats-server cluster)', () => {
  let nats: NatsHandle;
  beforeAll(async () => {
    nats = await startNats({ nodes: 3 });
    // Only n1 is left: no quorum, no meta leader.
    await Promise.all(nats.nodes.slice(1).map(node => node.stop()));
  }, 60_000);
  afterAll(async () => {
    await nats?.stop();
  });

  const settings = (env: Record<string, string>) => {
    const first = nats.nodes[0];
    if (!first) throw new Error('no node');
    return loadConfig({ VIGIL_NATS_URL: first.url, VIGIL_SERVICES: 'rules', ...env }).bus.nats;
  };

  it('gives up after VIGIL_NATS_START_WAIT_S with a clear error, each retry counted', async () => {
    const retries: number[] = [];
    const opening = openBackbone(settings({ VIGIL_NATS_START_WAIT_S: '6' }), 'test', {
      onStartRetry: attempt => retries.push(attempt),
    });
    const error: unknown = await opening.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackboneUnavailableError);
    expect((error as Error).message).toMatch(
      /did not answer within \d+ s .*VIGIL_NATS_START_WAIT_S/,
    );
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries).toEqual(retries.map((_, index) => index + 1));
    expect((error as BackboneUnavailableError).attempts).toBe(retries.length + 1);
  }, 30_000);

  it('waits out the JetStream timeouts until the cluster has a leader, then opens', async () => {
    let retried!: () => void;
    const firstRetry = new Promise<void>(resolve => (retried = resolve));
    let retries = 0;
    const opening = openBackbone(settings({ VIGIL_NATS_START_WAIT_S: '120' }), 'test', {
      onStartRetry: () => {
        retries += 1;
        retried();
      },
    });
    // At least one JetStream API request has failed and is retried: now the other nodes come
    // back. (Without the wait, opening rejects here.)
    await Promise.race([firstRetry, opening]);
    expect(retries).toBeGreaterThanOrEqual(1);
    await Promise.all(nats.nodes.slice(1).map(node => node.restart()));
    const backbone = await opening;
    try {
      expect(retries).toBeGreaterThanOrEqual(1);
      expect((await backbone.jsm.streams.info(RECORDS_STREAM)).config.name).toBe(RECORDS_STREAM);
    } finally {
      await backbone.close();
    }
  }, 90_000);
});
