import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Alarm, AlarmAction, IngestRecord } from '@vigil/contracts';
import {
  influxQuery,
  startInfluxd,
  startNats,
  waitFor,
  type InfluxHandle,
  type NatsHandle,
} from '@vigil/testing';

import { openBackbone, type Backbone } from '../bus/jetstream/backbone';
import { BackboneHealth } from '../bus/jetstream/backbone-health';
import { BackboneMetrics } from '../bus/jetstream/backbone-metrics';
import {
  alarmSubject,
  ALARMS_STREAM,
  recordsSubject,
  RECORDS_STREAM,
} from '../bus/jetstream/subjects';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import {
  ALARMS_CONSUMER,
  JetStreamRecordSource,
  RECORDS_CONSUMER,
} from './jetstream-record-source';
import { persisterBacklog } from './persister-backlog';
import { PersisterService } from './persister.service';
import { telemetryStoreFor } from '../storage/telemetry-store.provider';

jest.setTimeout(120_000);

const BASE_TS = Date.now() - 60_000;

function reading(deviceId: string, seq: number): IngestRecord {
  return {
    kind: 'reading',
    reading: {
      siteId: 'plant-1',
      deviceId,
      deviceClass: 'gas-toxic',
      areaId: undefined,
      seq,
      ts: BASE_TS + seq,
      receivedAt: BASE_TS + seq,
      deviceTime: true,
      clockSkewMs: 0,
      values: { ppm: seq % 100 },
    },
  };
}

/** An alarm's raise, then its acknowledge in the same millisecond (one series, two points). */
function alarmUpdates(alarmId: string, deviceId: string): { alarm: Alarm; action: AlarmAction }[] {
  const at = BASE_TS + 1_000;
  const raise: AlarmAction = { action: 'raise', at, by: undefined, note: undefined };
  const acknowledge: AlarmAction = { action: 'acknowledge', at, by: 'op-7', note: undefined };
  const alarm: Alarm = {
    id: alarmId,
    key: `plant-1/${deviceId}/gas-h2s`,
    ruleId: 'gas-h2s',
    siteId: 'plant-1',
    deviceId,
    deviceClass: 'gas-toxic',
    areaId: undefined,
    category: 'process',
    priority: 1,
    level: 'L2',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: false,
    metric: 'ppm',
    value: 21,
    threshold: 20,
    message: 'H2S 21 ppm ≥ 20 ppm',
    raisedAt: at,
    clearedAt: undefined,
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: at,
    detectedAt: at,
    history: [raise],
  };
  return [
    { alarm, action: raise },
    {
      alarm: {
        ...alarm,
        state: 'active-acknowledged',
        acknowledgedAt: at,
        acknowledgedBy: 'op-7',
        history: [raise, acknowledge],
      },
      action: acknowledge,
    },
  ];
}

describe('persister on JetStream (real nats-server and influxd)', () => {
  let nats: NatsHandle;
  let influx: InfluxHandle;
  let influxDir: string;
  let backbone: Backbone;
  let config: VigilConfig;
  let device = 0;

  beforeAll(async () => {
    nats = await startNats();
    influxDir = await mkdtemp(join(tmpdir(), 'vigil-js-influx-'));
    influx = await startInfluxd({ dataDir: influxDir });
    config = loadConfig({
      VIGIL_SERVICES: 'persister',
      VIGIL_NATS_URL: nats.url,
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '20',
    });
    backbone = await openBackbone(config.bus.nats, 'persister-test');
  });
  afterAll(async () => {
    await backbone?.close();
    await nats?.stop();
    await influx?.stop();
    await rm(influxDir, { recursive: true, force: true });
  });

  async function startPersister(
    options: ConstructorParameters<typeof JetStreamRecordSource>[3] = {},
  ) {
    const metrics = new VigilMetrics();
    const health = new BackboneHealth();
    const source = new JetStreamRecordSource(
      backbone,
      BackboneMetrics.of(metrics.registry),
      health,
      { pendingPollMs: 200, ...options },
    );
    const persister = new PersisterService(
      config,
      telemetryStoreFor(config),
      new PipelineBus(),
      metrics,
      source,
    );
    await persister.onModuleInit();
    await source.started();
    return { persister, source, health, metrics };
  }

  async function publish(
    deviceId: string,
    seqs: readonly number[],
    msgId = (seq: number) => `plant-1/${deviceId}/${seq}`,
  ) {
    await Promise.all(
      seqs.map(seq =>
        backbone.js.publish(
          recordsSubject(0, 'plant-1'),
          JSON.stringify([reading(deviceId, seq)]),
          { msgID: msgId(seq) },
        ),
      ),
    );
  }

  async function stored(deviceId: string): Promise<number> {
    const rows = await influxQuery(
      influx.url,
      config.influx.database,
      `SELECT count(ppm) AS n FROM "raw"."telemetry" WHERE device = '${deviceId}' AND time > now() - 1h`,
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  async function alarmRows(deviceId: string): Promise<number> {
    const rows = await influxQuery(
      influx.url,
      config.influx.database,
      `SELECT count(alarm_id) AS n FROM "events"."alarm_event" WHERE device = '${deviceId}' AND time > now() - 1h`,
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  async function consumerInfo() {
    return backbone.jsm.consumers.info(RECORDS_STREAM, RECORDS_CONSUMER);
  }

  it('stores each reading once: duplicate msg ids are dropped by the stream, re-sent messages rewrite the same points', async () => {
    const id = `dup-${(device += 1)}`;
    const { persister, source } = await startPersister();
    const seqs = Array.from({ length: 200 }, (_, i) => i);
    await publish(id, seqs);
    await publish(id, seqs.slice(0, 50)); // same msg ids: JetStream keeps them once
    await publish(id, seqs.slice(50, 80), seq => `again/${seq}`); // a re-send after the window
    await waitFor(
      async () =>
        (await consumerInfo()).num_ack_pending === 0 && (await consumerInfo()).num_pending === 0,
      {
        what: 'the consumer to acknowledge everything',
        timeoutMs: 30_000,
      },
    );
    expect(await stored(id)).toBe(200);
    expect(await persisterBacklog(backbone, Date.now() + 60_000)).toBeUndefined();
    expect(source.status()[RECORDS_CONSUMER]?.lost).toBe(0);
    await persister.onModuleDestroy();
  });

  it('acknowledges only after InfluxDB accepted: an outage waits in the stream, counted, and all is stored after it', async () => {
    const id = `outage-${(device += 1)}`;
    const { persister, source, health, metrics } = await startPersister({
      lagDegradedMs: 1000,
      maxUnacked: 100,
    });
    await publish(id, [0, 1, 2]);
    await waitFor(async () => (await stored(id)) === 3, {
      what: 'the first readings',
      timeoutMs: 20_000,
    });
    const lastBefore = (await backbone.jsm.streams.info(RECORDS_STREAM)).state.last_seq;
    await waitFor(async () => (await consumerInfo()).ack_floor.stream_seq === lastBefore, {
      what: 'the first ack',
      timeoutMs: 10_000,
    });

    influx.kill('SIGKILL');
    await influx.exited;
    const seqs = Array.from({ length: 500 }, (_, i) => 3 + i);
    await publish(id, seqs);
    // Nothing beyond what was stored is acknowledged; the rest waits in the stream, counted.
    await waitFor(() => !health.ok, { what: '/readyz degraded by the backlog', timeoutMs: 20_000 });
    const during = await consumerInfo();
    expect(during.ack_floor.stream_seq).toBe(lastBefore);
    expect(during.num_pending + during.num_ack_pending).toBe(500);
    expect(source.status()[RECORDS_CONSUMER]?.pending).toBeGreaterThan(0);
    expect(
      await metrics.registry.getSingleMetricAsString('vigil_backbone_consumer_pending'),
    ).toMatch(/vigil_backbone_consumer_pending\{consumer="vigil-persister-records"\} [1-9]/);
    expect(JSON.stringify(health.report())).toMatch(/wait in VIGIL_RECORDS for InfluxDB/);

    // What the gateway shows on the console once nothing was stored for a while.
    expect(await persisterBacklog(backbone, Date.now() + 60_000)).toMatchObject({
      kind: 'backlog',
      reason: expect.stringMatching(/^500 record message\(s\) wait in VIGIL_RECORDS/),
    });
    influx = await startInfluxd({ dataDir: influxDir, httpPort: influx.httpPort });
    await waitFor(async () => (await stored(id)) === 503, {
      what: 'the backlog stored',
      timeoutMs: 60_000,
    });
    await waitFor(async () => (await consumerInfo()).num_ack_pending === 0 && health.ok, {
      what: 'everything acknowledged',
      timeoutMs: 20_000,
    });
    expect((await consumerInfo()).ack_floor.stream_seq).toBe(lastBefore + 500);
    await persister.onModuleDestroy();
  });

  it('an outage longer than the ack wait gets alarm events redelivered, counted, and stored once each', async () => {
    const id = `redeliver-${(device += 1)}`;
    const { persister, metrics } = await startPersister({ ackWaitMs: 1_000 });
    influx.kill('SIGKILL');
    await influx.exited;
    const updates = Array.from({ length: 10 }, (_, i) => alarmUpdates(`${id}-a${i}`, id)).flat();
    await Promise.all(
      updates.map((update, i) =>
        backbone.js.publish(alarmSubject(0, 'plant-1', update.alarm.id), JSON.stringify(update), {
          msgID: `${update.alarm.id}/${i}`,
        }),
      ),
    );
    // JetStream delivers the held messages again after the ack wait: counted, not hidden.
    await waitFor(
      async () =>
        /consumer="vigil-persister-alarms",outcome="redelivered"\} [1-9]/.test(
          await metrics.registry.getSingleMetricAsString('vigil_backbone_consumed_total'),
        ),
      { what: 'a redelivery while InfluxDB is down', timeoutMs: 30_000 },
    );
    influx = await startInfluxd({ dataDir: influxDir, httpPort: influx.httpPort });
    await waitFor(
      async () =>
        (await backbone.jsm.consumers.info(ALARMS_STREAM, ALARMS_CONSUMER)).num_ack_pending === 0,
      { what: 'the alarm events acknowledged', timeoutMs: 60_000 },
    );
    await persister.flush();
    // Each raise and acknowledge once: the copies wrote the same points again, no second rows.
    expect(await alarmRows(id)).toBe(updates.length);
    await persister.onModuleDestroy();
  });

  it('a restarted persister resumes from the ack floor; records discarded by the stream limits count as lost', async () => {
    const id = `gap-${(device += 1)}`;
    const first = await startPersister();
    await publish(id, [0, 1, 2, 3, 4]);
    await waitFor(async () => (await stored(id)) === 5, {
      what: 'the first readings',
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await consumerInfo()).num_ack_pending === 0, {
      what: 'ack',
      timeoutMs: 10_000,
    });
    await first.persister.onModuleDestroy();

    // While the persister is down, the stream keeps only its last 50 messages.
    const stream = await backbone.jsm.streams.info(RECORDS_STREAM);
    await backbone.jsm.streams.update(RECORDS_STREAM, { ...stream.config, max_msgs: 50 });
    await publish(
      id,
      Array.from({ length: 200 }, (_, i) => 5 + i),
    );
    const second = await startPersister();
    await waitFor(async () => (await stored(id)) === 55, {
      what: 'the kept readings stored',
      timeoutMs: 30_000,
    });
    await waitFor(() => second.source.status()[RECORDS_CONSUMER]?.lost === 150, {
      what: 'the gap counted',
      timeoutMs: 10_000,
    });
    expect(second.health.ok).toBe(false);
    expect(JSON.stringify(second.health.report())).toMatch(/150 records message\(s\) lost/);
    expect(
      await second.metrics.registry.getSingleMetricAsString('vigil_backbone_lost_total'),
    ).toMatch(/consumer="vigil-persister-records"\} 150/);
    await waitFor(async () => (await persisterBacklog(backbone))?.kind === 'lost', {
      what: 'the loss shown to the gateway',
      timeoutMs: 10_000,
    });
    expect((await persisterBacklog(backbone))?.reason).toMatch(
      /^150 record message\(s\) were discarded/,
    );
    await second.persister.onModuleDestroy();
    await backbone.jsm.streams.update(RECORDS_STREAM, { ...stream.config, max_msgs: -1 });
  });
});
