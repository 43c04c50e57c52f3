import { startNats, type NatsHandle } from '@vigil/testing';

import { loadConfig } from '../../config/vigil-config';
import { BackboneConfigError, openBackbone } from './backbone';
import { RECORDS_STREAM } from './subjects';

describe('openBackbone (real nats-server)', () => {
  let nats: NatsHandle;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  const settings = (env: Record<string, string> = {}) =>
    loadConfig({ VIGIL_NATS_URL: nats.url, VIGIL_SERVICES: 'rules', ...env }).bus.nats;

  it('creates the streams with the configured limits, and opens again without change', async () => {
    const first = await openBackbone(settings({ VIGIL_STREAM_RECORDS_MAX_MB: '128' }), 'test');
    const info = await first.jsm.streams.info(RECORDS_STREAM);
    expect(info.config.max_bytes).toBe(128 * 1024 * 1024);
    expect(info.config.discard).toBe('old');
    expect(info.config.num_replicas).toBe(1);
    await first.close();
    const second = await openBackbone(settings({ VIGIL_STREAM_RECORDS_MAX_MB: '256' }), 'test');
    expect((await second.jsm.streams.info(RECORDS_STREAM)).config.max_bytes).toBe(
      256 * 1024 * 1024,
    );
    await second.close();
  });

  it('refuses a partition count that differs from the stream', async () => {
    await expect(openBackbone(settings({ VIGIL_PARTITIONS: '7' }), 'test')).rejects.toThrow(
      BackboneConfigError,
    );
  });
});
