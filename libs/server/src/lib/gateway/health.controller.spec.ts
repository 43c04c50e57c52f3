import type { Response } from 'express';

import { createPermitStopWorkState } from '@vigil/rules';

import { IngestBrokerLink } from '../ingest/ingest-broker-link';
import { JournalStatus } from '../journal/journal-status';
import { JournalWriteError } from '../journal/jsonl-journal';
import { Lifecycle } from '../lifecycle';
import { PermitBoard } from '../permits/permit-board';
import { VigilMetrics } from '../metrics/metrics';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import type { PartitionedRules } from '../rules/partitioned-rules';
import type { MonitoringLost, RulesService } from '../rules/rules.service';
import { readiness, type Readiness } from './api-responses';
import { ReadinessService } from '../health/readiness.service';
import { HealthController } from './health.controller';
import type { StorageStatus } from './storage-status';

function controllerWith(
  options: {
    rules?: RulesService;
    broker?: boolean;
    journals?: JournalStatus;
    ingest?: IngestBrokerLink;
    partitions?: PartitionedRules;
    lifecycle?: Lifecycle;
    permits?: PermitBoard;
  } = {},
): HealthController {
  const broker = { connected: options.broker ?? true } as MqttPublisher;
  const storage = {
    kept: true,
    current: { kept: true, kind: 'kept', reason: undefined },
    probe: async () => true,
  } as unknown as StorageStatus;
  return new HealthController(
    new ReadinessService(
      broker,
      storage,
      options.rules,
      undefined,
      undefined,
      undefined,
      options.partitions,
      undefined,
      undefined,
      options.ingest,
      options.journals,
      options.lifecycle,
      options.permits,
    ),
    broker,
    storage,
    new VigilMetrics(),
  );
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
  return answer;
}

async function probe(
  lost: readonly MonitoringLost[] | undefined,
  broker = true,
  ingest?: IngestBrokerLink,
) {
  const rules = lost && ({ monitoringLost: () => lost } as unknown as RulesService);
  return readyz(
    controllerWith({ ...(rules ? { rules } : {}), broker, ...(ingest ? { ingest } : {}) }),
  );
}

const gcLost: MonitoringLost = {
  key: 'plant-1/gc-tf-01/monitoring-lost',
  scope: 'device',
  siteId: 'plant-1',
  deviceId: 'gc-tf-01',
  since: 1,
  message: 'Monitoring lost: the rules of device gc-tf-01 failed (TypeError: boom)',
};

describe('GET /readyz and lost monitoring', () => {
  it('is ready, with the rules check, when everything is evaluated', async () => {
    expect(await probe([])).toEqual({
      status: 200,
      body: { status: 'ready', checks: { broker: true, storage: true, rules: true } },
    });
  });

  it('answers 503 degraded, naming what is not evaluated, while monitoring is lost', async () => {
    expect(await probe([gcLost])).toEqual({
      status: 503,
      body: {
        status: 'degraded',
        checks: { broker: true, storage: true, rules: false },
        monitoringLost: [
          {
            scope: 'device',
            siteId: 'plant-1',
            deviceId: 'gc-tf-01',
            since: 1,
            message: gcLost.message,
          },
        ],
        monitoringLostCount: 1,
      },
    });
  });

  it('says not-ready when the broker is unreachable, and has no rules check without the rules service', async () => {
    expect(await probe(undefined, false)).toEqual({
      status: 503,
      body: { status: 'not-ready', checks: { broker: false, storage: true } },
    });
  });

  it('answers 503 degraded after the broker lost ingest’s session, saying so', async () => {
    const link = new IngestBrokerLink(new VigilMetrics());
    link.now = () => 7_000;
    expect(await probe(undefined, true, link)).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { broker: true, storage: true, ingest: true } },
    });
    link.sessionLost();
    expect(await probe(undefined, true, link)).toMatchObject({
      status: 503,
      body: {
        status: 'degraded',
        checks: { broker: true, storage: true, ingest: false },
        details: {
          ingest: {
            ok: false,
            reason: expect.stringContaining("the broker lost ingest's persistent session"),
            sessionsLost: 1,
            lastSessionLostAt: 7_000,
          },
        },
      },
    });
  });
});

describe('GET /readyz and the local journals', () => {
  it('answers 503 degraded while an alarm or hazard journal append was not made durable', async () => {
    const journals = new JournalStatus(new VigilMetrics());
    journals.failed('hazards', new JournalWriteError('hazards', '/x/hazard-journal.jsonl', 'EIO'));
    const controller = controllerWith({ journals });
    let answer = await readyz(controller);
    expect(answer.status).toBe(503);
    expect(answer.body?.status).toBe('degraded');
    expect(answer.body?.checks).toEqual({ broker: true, storage: true, journals: false });
    expect(answer.body?.details?.journals?.['hazards']?.lastError).toMatch(/NOT made durable/);
    expect(readiness.safeParse(answer.body).success).toBe(true);

    journals.succeeded('hazards');
    answer = await readyz(controller);
    expect(answer.status).toBe(200);
  });
});

describe('GET /readyz of a rules instance on the JetStream backbone', () => {
  const status = (unowned: { partition: number; since: number }[]) => ({
    instance: 'r1',
    owned: [0, 1],
    live: 1,
    target: 4,
    unowned,
    lapses: 4,
  });
  const probeWith = (unowned: { partition: number; since: number }[]) =>
    readyz(
      controllerWith({
        rules: { monitoringLost: () => [] } as unknown as RulesService,
        partitions: { status: () => status(unowned) } as unknown as PartitionedRules,
      }),
    );

  it('answers 503 degraded, naming the partitions nobody evaluates (a lapsed lease)', async () => {
    const answer = await probeWith([
      { partition: 2, since: 10 },
      { partition: 3, since: 10 },
    ]);
    expect(answer.status).toBe(503);
    expect(answer.body?.status).toBe('degraded');
    expect(answer.body?.checks).toEqual({
      broker: true,
      storage: true,
      rules: true,
      partitions: false,
    });
    expect(answer.body?.details?.partitions?.unowned.map(u => u.partition)).toEqual([2, 3]);
    expect(readiness.safeParse(answer.body).success).toBe(true);
  });

  it('is ready once every partition is evaluated', async () => {
    const answer = await probeWith([]);
    expect(answer.status).toBe(200);
    expect(answer.body?.checks.partitions).toBe(true);
    expect(readiness.safeParse(answer.body).success).toBe(true);
  });
});

describe('GET /readyz while the process starts or stops', () => {
  it('answers 503 not-ready naming the phase until ingest takes device messages, then ready; 503 again from the stop', async () => {
    const lifecycle = new Lifecycle();
    const controller = controllerWith({ lifecycle });
    const starting = await readyz(controller);
    expect(starting).toEqual({
      status: 503,
      body: {
        status: 'not-ready',
        phase: 'starting',
        checks: { broker: true, storage: true, started: false },
      },
    });
    expect(readiness.safeParse(starting.body).success).toBe(true);
    lifecycle.running();
    expect(await readyz(controller)).toEqual({
      status: 200,
      body: { status: 'ready', checks: { broker: true, storage: true } },
    });
    lifecycle.stopping();
    lifecycle.running();
    expect(await readyz(controller)).toMatchObject({
      status: 503,
      body: { status: 'not-ready', phase: 'stopping', checks: { started: false } },
    });
  });
});

describe('GET /readyz and special-operation permits', () => {
  it('answers 503 degraded naming an active permit that no rule engine evaluates, ready once one does', async () => {
    const metrics = new VigilMetrics();
    const board = new PermitBoard(undefined, metrics);
    const view = {
      id: 'p1',
      no: 7,
      kind: 'hot-work' as const,
      siteId: 'plant-1',
      areaId: 'tank-farm',
      from: 0,
      to: Date.now() + 3_600_000,
      workers: ['tag-001'],
      limits: { maxLel: 10 },
      state: 'active' as const,
    };
    // Active for a minute, in a process without the rules (a split gateway, say).
    board.setPermits([view], Date.now() - 60_000);
    const controller = controllerWith({ permits: board });
    let answer = await readyz(controller);
    expect(answer.status).toBe(503);
    expect(answer.body?.status).toBe('degraded');
    expect(answer.body?.checks).toEqual({ broker: true, storage: true, permits: false });
    expect(answer.body?.details?.permits).toEqual({
      unevaluated: [
        {
          id: 'p1',
          no: 7,
          siteId: 'plant-1',
          areaId: 'tank-farm',
          since: expect.any(Number),
          reason: expect.stringContaining('no rule engine in this process evaluates permits'),
        },
      ],
      unevaluatedCount: 1,
    });
    expect(readiness.safeParse(answer.body).success).toBe(true);
    expect((await metrics.permitUnevaluatedTotal.get()).values[0]?.value).toBe(1);
    expect((await metrics.permitsUnevaluated.get()).values[0]?.value).toBe(1);

    // A rule scope evaluates it now.
    const state = createPermitStopWorkState();
    state.evaluated.set('p1', Date.now());
    board.attachGas('all', state);
    answer = await readyz(controller);
    expect(answer.status).toBe(200);
    expect(answer.body?.checks).toEqual({ broker: true, storage: true });
    expect((await metrics.permitsUnevaluated.get()).values[0]?.value).toBe(0);
  });
});
