import type { Response } from 'express';

import { startNats, waitFor, type NatsHandle } from '@vigil/testing';

import { openBackbone, type Backbone } from '../bus/jetstream/backbone';
import { HEALTH_BUCKET } from '../bus/jetstream/subjects';
import { loadConfig, type VigilConfig } from '../config/vigil-config';
import { readiness, type Readiness } from '../gateway/api-responses';
import { HealthController } from '../gateway/health.controller';
import type { StorageStatus } from '../gateway/storage-status';
import { IngestBrokerLink, SESSION_LOST_REPORTED_MS } from '../ingest/ingest-broker-link';
import { Lifecycle } from '../lifecycle';
import { VigilMetrics } from '../metrics/metrics';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import { HealthExchange } from './health-exchange';
import { ReadinessService } from './readiness.service';
import { ServicesHealth } from './services-health';

/**
 * The split deployment's readiness exchange on a real nats-server: a failing check of ingest
 * (its broker session lost) shows on the gateway's /readyz, which is what the console, the load
 * balancers and the fault suite watch. Before, only ingest's own /readyz said so.
 */
describe('HealthExchange (real nats-server): a failing process shows on the gateway', () => {
  let nats: NatsHandle;
  const backbones: Backbone[] = [];
  const exchanges: HealthExchange[] = [];

  beforeAll(async () => {
    nats = await startNats();
  });
  afterEach(async () => {
    await Promise.all(exchanges.splice(0).map(exchange => exchange.onModuleDestroy()));
    await Promise.all(backbones.splice(0).map(backbone => backbone.close()));
  });
  afterAll(async () => {
    await nats?.stop();
  });

  function configOf(services: string, instance: string): VigilConfig {
    return loadConfig({
      VIGIL_NATS_URL: nats.url,
      VIGIL_BUS: 'jetstream',
      VIGIL_SERVICES: services,
      VIGIL_INSTANCE: instance,
    });
  }

  const connected = { connected: true } as MqttPublisher;
  const kept = {
    kept: true,
    current: { kept: true, kind: 'kept', reason: undefined },
    probe: async () => true,
  } as unknown as StorageStatus;

  /** One process: its own backbone connection, readiness and exchange, as VigilModule wires them. */
  async function processOf(services: string, instance: string, ingest?: IngestBrokerLink) {
    const config = configOf(services, instance);
    const backbone = await openBackbone(config.bus.nats, `test-${instance}`);
    backbones.push(backbone);
    const metrics = new VigilMetrics();
    const health = new ServicesHealth(config, metrics);
    const lifecycle = new Lifecycle();
    lifecycle.running();
    // prettier-ignore
    const readiness = new ReadinessService(connected, kept, undefined, undefined, undefined,
      undefined, undefined, undefined, undefined, ingest, undefined, lifecycle, undefined, health);
    const exchange = new HealthExchange(backbone, config, readiness, health, lifecycle);
    exchanges.push(exchange);
    await exchange.onApplicationBootstrap();
    const controller = new HealthController(readiness, connected, kept, metrics);
    return { controller, exchange, health, backbone, metrics };
  }

  async function readyz(controller: HealthController) {
    const answer: { status?: number; body?: Readiness } = {};
    const response = {
      status(code: number) {
        answer.status = code;
        return this;
      },
      json(body: Readiness) {
        answer.body = body;
        return this;
      },
    } as unknown as Response;
    await controller.readyz(response);
    return answer as { status: number; body: Readiness };
  }

  it('answers 503 with checks.services false naming ingest and its check while ingest is not ready, 200 once it recovers', async () => {
    const link = new IngestBrokerLink(new VigilMetrics());
    const ingest = await processOf('ingest', 'ingest-1', link);
    const gateway = await processOf('gateway', 'gw-1');
    await waitFor(async () => (await readyz(gateway.controller)).status === 200, {
      what: 'the gateway ready while every process is',
      timeoutMs: 10_000,
    });
    expect((await readyz(gateway.controller)).body.checks.services).toBe(true);

    // Mosquitto restarted without persistence: ingest's session is gone (ingest-broker-link.ts).
    link.sessionLost();
    expect((await readyz(ingest.controller)).body.checks.ingest).toBe(false);
    const failing = await waitFor(
      async () => {
        const answer = await readyz(gateway.controller);
        return answer.status === 503 ? answer : undefined;
      },
      { what: "the gateway's /readyz to show ingest not ready", timeoutMs: 10_000 },
    );
    expect(failing.body.status).toBe('degraded');
    expect(readiness.safeParse(failing.body).success).toBe(true);
    expect(failing.body.checks.services).toBe(false);
    expect(failing.body.checks.broker).toBe(true);
    const notReady = failing.body.details?.services?.notReady ?? [];
    expect(notReady).toEqual([
      expect.objectContaining({
        instance: 'ingest-1',
        services: ['ingest'],
        failing: [
          expect.objectContaining({
            check: 'ingest',
            reason: expect.stringContaining("the broker lost ingest's persistent session"),
          }),
        ],
      }),
    ]);
    expect((await gateway.metrics.servicesNotReady.get()).values[0]?.value).toBe(1);
    expect(gateway.health.notReady()).toEqual([
      expect.objectContaining({
        instance: 'ingest-1',
        failing: [expect.objectContaining({ check: 'ingest' })],
      }),
    ]);

    // Five minutes later the lost session is no longer reported: ingest is ready, so is the gateway.
    link.now = () => Date.now() + SESSION_LOST_REPORTED_MS + 1000;
    await waitFor(async () => (await readyz(gateway.controller)).status === 200, {
      what: 'the gateway ready again once ingest recovered',
      timeoutMs: 10_000,
    });
    expect((await readyz(gateway.controller)).body.checks.services).toBe(true);
    expect(gateway.health.notReady()).toEqual([]);
    expect((await gateway.metrics.servicesNotReady.get()).values[0]?.value).toBe(0);
  }, 40_000);

  it('lists a process that stopped as gone, without failing the check', async () => {
    const rules = await processOf('rules', 'rules-9');
    const gateway = await processOf('gateway', 'gw-2');
    await waitFor(async () => (await readyz(gateway.controller)).status === 200, {
      what: 'the gateway ready',
      timeoutMs: 10_000,
    });
    await rules.exchange.onModuleDestroy();
    const answer = await waitFor(
      async () => {
        const { body, status } = await readyz(gateway.controller);
        return body.details?.services?.gone.length ? { body, status } : undefined;
      },
      { what: 'the stopped rules instance listed as gone', timeoutMs: 10_000 },
    );
    expect(answer.status).toBe(200);
    expect(readiness.safeParse(answer.body).success).toBe(true);
    expect(answer.body.checks.services).toBe(true);
    expect(answer.body.details?.services?.gone).toEqual([
      expect.objectContaining({ instance: 'rules-9', services: ['rules'], left: true }),
    ]);
  }, 40_000);

  it('does not say "all ready" while it cannot see the bucket: NATS down makes checks.services false, back to true after', async () => {
    const gateway = await processOf('gateway', 'gw-3');
    await waitFor(async () => (await readyz(gateway.controller)).status === 200, {
      what: 'the gateway ready',
      timeoutMs: 10_000,
    });
    const node = nats.nodes[0];
    if (!node) throw new Error('no nats node');
    await node.stop();
    try {
      const blind = await waitFor(
        async () => {
          const answer = await readyz(gateway.controller);
          return answer.status === 503 ? answer : undefined;
        },
        { what: 'the gateway to say it does not see the bucket', timeoutMs: 15_000 },
      );
      expect(blind.body.checks.services).toBe(false);
      expect(blind.body.details?.services?.reason).toMatch(/not seen/);
      expect(gateway.health.notReady()).toEqual([
        expect.objectContaining({
          instance: 'gw-3',
          failing: [expect.objectContaining({ check: 'services' })],
        }),
      ]);
    } finally {
      await node.restart();
    }
    await waitFor(async () => (await readyz(gateway.controller)).status === 200, {
      what: 'the gateway to see the bucket again',
      timeoutMs: 30_000,
    });
  }, 60_000);

  it('creates the bucket with one value per key and the entries expiring after three publish periods', async () => {
    const config = configOf('gateway', 'gw-4');
    const backbone = await openBackbone(config.bus.nats, 'test-bucket');
    backbones.push(backbone);
    const status = await (await backbone.js.views.kv(HEALTH_BUCKET)).status();
    expect(status.history).toBe(1);
    expect(status.ttl).toBe(6000);
    expect(status.replicas).toBe(config.bus.nats.replicas);
  });
});
