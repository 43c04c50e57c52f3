import type { MqttClient } from 'mqtt';

import { startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { VigilMetrics } from '../metrics/metrics';
import {
  IngestBrokerLink,
  PUBACK_PENDING_BOUND_MS,
  SESSION_LOST_REPORTED_MS,
} from './ingest-broker-link';
import { VigilMqttServer } from './vigil-mqtt.server';

describe(IngestBrokerLink.name, () => {
  function linkAt(clock: { now: number }): { link: IngestBrokerLink; metrics: VigilMetrics } {
    const metrics = new VigilMetrics();
    const link = new IngestBrokerLink(metrics);
    link.now = () => clock.now;
    return { link, metrics };
  }

  it('counts the held PUBACKs and the oldest one’s age, and is not ready beyond the bound', async () => {
    const clock = { now: 1_000_000 };
    const { link, metrics } = linkAt(clock);
    const backlog = { waiting: 0, oldestWaitingSince: undefined as number | undefined };
    link.watch(backlog);
    expect(link.report()).toEqual({
      ok: true,
      pubackPending: 0,
      oldestPendingMs: 0,
      sessionsLost: 0,
    });
    Object.assign(backlog, { waiting: 40, oldestWaitingSince: clock.now });
    clock.now += PUBACK_PENDING_BOUND_MS;
    expect(link.report()).toMatchObject({ ok: true, pubackPending: 40 });
    clock.now += 1;
    expect(link.report()).toMatchObject({
      ok: false,
      reason: expect.stringContaining('a PUBACK has waited 5001 ms'),
      oldestPendingMs: PUBACK_PENDING_BOUND_MS + 1,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('vigil_ingest_puback_pending 40');
    expect(text).toContain('vigil_ingest_puback_oldest_pending_seconds 5.001');
  });

  it('reports a lost broker session for five minutes, and counts it for good', async () => {
    const clock = { now: 2_000_000 };
    const { link, metrics } = linkAt(clock);
    link.sessionLost();
    expect(link.report()).toMatchObject({
      ok: false,
      reason: expect.stringContaining("the broker lost ingest's persistent session"),
      sessionsLost: 1,
      lastSessionLostAt: 2_000_000,
    });
    clock.now += SESSION_LOST_REPORTED_MS;
    expect(link.report()).toMatchObject({ ok: true, sessionsLost: 1 });
    expect(await metrics.registry.metrics()).toContain('vigil_ingest_broker_sessions_lost_total 1');
  });
});

/** Real Mosquitto (`persistence false`, as libs/testing runs it) under the real MQTT server. */
describe(`${IngestBrokerLink.name} on ${VigilMqttServer.name} against Mosquitto`, () => {
  let mosquitto: MosquittoHandle;
  let client: MqttClient | undefined;

  beforeEach(async () => {
    mosquitto = await startMosquitto();
  });
  afterEach(async () => {
    await client?.endAsync(true);
    await mosquitto.stop();
  });

  async function ingestClient(link: IngestBrokerLink): Promise<MqttClient> {
    const server = new VigilMqttServer({
      url: mosquitto.url,
      clientId: 'vigil-ingest-link-test',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 100,
    });
    server.reportTo(link);
    const created = server.createMqttClient();
    created.on('error', () => undefined);
    await new Promise<void>(resolve => created.once('connect', () => resolve()));
    await created.subscribeAsync('vigil/v1/#', { qos: 1 });
    return created;
  }

  it('counts a broker restart that lost ingest’s persistent session, and not a reconnect that kept it', async () => {
    const link = new IngestBrokerLink(new VigilMetrics());
    const ingest = await ingestClient(link);
    client = ingest;

    // The connection drops, the broker keeps the session: nothing lost.
    ingest.stream.destroy();
    await new Promise<void>(resolve => ingest.once('connect', () => resolve()));
    expect(link.report()).toMatchObject({ ok: true, sessionsLost: 0 });

    // SIGKILL and a fresh broker on the same port: the session is gone.
    const { port } = mosquitto;
    mosquitto.kill('SIGKILL');
    await mosquitto.exited;
    await mosquitto.stop();
    mosquitto = await startMosquitto({ port });
    await waitFor(() => link.report().sessionsLost === 1, {
      what: 'the lost session counted',
      timeoutMs: 10_000,
    });
    expect(link.report()).toMatchObject({
      ok: false,
      reason: expect.stringContaining("the broker lost ingest's persistent session"),
    });
  }, 20_000);
});
