import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Registry } from 'prom-client';

import type { CanaryReport, IngestRecord } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';
import { startNats, waitFor, type NatsHandle } from '@vigil/testing';

import { loadConfig } from '../../config/vigil-config';
import { openBackbone, type Backbone } from './backbone';
import { BackboneHealth } from './backbone-health';
import { BackboneMetrics } from './backbone-metrics';
import { journalMessage } from '../../ingest/ingest-journal';
import { IngestService } from '../../ingest/ingest.service';
import { VigilMetrics } from '../../metrics/metrics';
import type { MqttPublisher } from '../../mqtt/mqtt-publisher';
import type { RegistryHolder } from '../../registry/registry-holder';
import { PipelineBus } from '../pipeline-bus';
import { JetStreamJournal } from './jetstream-journal';
import { PublishSpool } from './publish-spool';
import { RECORDS_STREAM } from './subjects';

jest.setTimeout(60_000);

function reading(siteId: string, deviceId: string, seq: number): IngestRecord {
  return {
    kind: 'reading',
    reading: {
      siteId,
      deviceId,
      deviceClass: 'gas-toxic',
      areaId: undefined,
      seq,
      ts: 1_700_000_000_000 + seq,
      receivedAt: 1_700_000_000_000 + seq,
      deviceTime: true,
      clockSkewMs: 0,
      values: { co: seq % 50 },
    },
  };
}

function message(siteId: string, deviceId: string, seq: number) {
  return journalMessage(`vigil/v1/${siteId}/${deviceId}/telemetry`, Buffer.from('p'), [
    reading(siteId, deviceId, seq),
  ]);
}

describe('JetStreamJournal (real nats-server)', () => {
  let nats: NatsHandle;
  let backbone: Backbone;
  let dir: string;
  beforeAll(async () => {
    nats = await startNats();
    backbone = await openBackbone(
      loadConfig({ VIGIL_NATS_URL: nats.url, VIGIL_SERVICES: 'ingest', VIGIL_PARTITIONS: '4' }).bus
        .nats,
      'journal-test',
    );
  });
  afterAll(async () => {
    await backbone?.close();
    await nats?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-journal-'));
    await backbone.jsm.streams.purge(RECORDS_STREAM);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function journal(publishTimeoutMs = 2000) {
    const metrics = BackboneMetrics.of(new Registry());
    const health = new BackboneHealth();
    const spool = await PublishSpool.open(dir, { maxBytes: 16 * 1024 * 1024, fsyncMs: 2 });
    const subject = new JetStreamJournal(backbone.nc, backbone.js, spool, metrics, health, {
      partitions: 4,
      publishTimeoutMs,
      drainRetryMs: 200,
    });
    return { subject, metrics, health, spool };
  }

  async function streamMessages(): Promise<number> {
    return (await backbone.jsm.streams.info(RECORDS_STREAM)).state.messages;
  }

  it('publishes many messages in flight, each once per msg id', async () => {
    const { subject, metrics } = await journal();
    const messages = Array.from({ length: 500 }, (_, i) => message('site-a', `d${i % 7}`, i));
    await Promise.all(messages.map(m => subject.append(m)));
    // The same device messages again (a device re-sent them after a lost PUBACK).
    await Promise.all(messages.slice(0, 100).map(m => subject.append(m)));
    expect(await streamMessages()).toBe(500);
    const counts = await metrics.published.get();
    const by = (outcome: string) =>
      counts.values.find(v => v.labels.outcome === outcome)?.value ?? 0;
    expect(by('stored')).toBe(500);
    expect(by('duplicate')).toBe(100);
    await subject.close();
  });

  /**
   * test/faults 2026-12-08 (InfluxDB down 10 min at 5,000/s, split on JetStream): after each drop
   * of ingest's MQTT connection the broker re-sent everything not PUBACKed, each copy queued
   * behind the first ones for a publish slot, and the session's head never got its PUBACK out.
   */
  it('lets a copy appended while the first is still on its way join it: one publish per msg id', async () => {
    const metrics = BackboneMetrics.of(new Registry());
    const spool = await PublishSpool.open(dir, { maxBytes: 16 * 1024 * 1024, fsyncMs: 2 });
    // Two publish slots: most of the first round waits for one when the copies arrive.
    const subject = new JetStreamJournal(backbone.nc, backbone.js, spool, metrics, undefined, {
      partitions: 4,
      maxInFlight: 2,
    });
    const messages = Array.from({ length: 300 }, (_, i) => message('site-j', `d${i % 5}`, i));
    const first = messages.map(m => subject.append(m));
    // The broker re-sends the whole window after a reconnect, twice.
    const copies = [...messages, ...messages].map(m => subject.append(m));
    await Promise.all([...first, ...copies]);
    expect(await streamMessages()).toBe(300);
    const counts = await metrics.published.get();
    const by = (outcome: string) =>
      counts.values.find(v => v.labels.outcome === outcome)?.value ?? 0;
    expect({ stored: by('stored'), duplicate: by('duplicate'), joined: by('joined') }).toEqual({
      stored: 300,
      duplicate: 0,
      joined: 600,
    });
    // Settled appends are forgotten: a later copy is published (and dropped by JetStream).
    await subject.append(messages[0] as (typeof messages)[number]);
    expect(
      (await metrics.published.get()).values.find(v => v.labels.outcome === 'duplicate')?.value,
    ).toBe(1);
    await subject.close();
  });

  it('spools while NATS is down, acknowledges after fsync, and drains with the same ids', async () => {
    const { subject, health, metrics } = await journal(500);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => subject.append(message('site-b', 'd1', i))),
    );
    const [node] = nats.nodes;
    if (!node) throw new Error('no NATS node');
    node.kill('SIGKILL');
    await node.exited();
    // Every append resolves although NATS is gone: the spool has them.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => subject.append(message('site-b', 'd1', 50 + i))),
    );
    expect(subject.isSpooling).toBe(true);
    expect(health.ok).toBe(false);
    // One of them again, from the spool side: JetStream keeps it once.
    await subject.append(message('site-b', 'd1', 60));
    await node.restart();
    await waitFor(async () => !subject.isSpooling, {
      what: 'the spool to drain',
      timeoutMs: 30_000,
    });
    await waitFor(async () => (await streamMessages()) === 250, {
      what: 'the spool to drain',
      timeoutMs: 30_000,
    });
    expect(health.ok).toBe(true);
    expect((await metrics.spoolMessages.get()).values[0]?.value).toBe(0);
    // Published directly again.
    await subject.append(message('site-b', 'd1', 999));
    expect(await streamMessages()).toBe(251);
    await subject.close();
  });

  it('drains a spool left by a crash at the next start', async () => {
    const spool = await PublishSpool.open(dir, { maxBytes: 1024 * 1024, fsyncMs: 0 });
    const encoder = new TextEncoder();
    for (let i = 0; i < 20; i += 1) {
      const m = message('site-c', 'd1', i);
      await spool.append({
        subject: 'vigil.records.0.site-c',
        msgId: m.msgId,
        data: encoder.encode(JSON.stringify(m.records)),
      });
    }
    await spool.close();
    const { subject } = await journal();
    await waitFor(async () => (await streamMessages()) === 20 && !subject.isSpooling, {
      what: 'the crash spool to drain',
      timeoutMs: 20_000,
    });
    await subject.close();
    const reopened = await PublishSpool.open(dir, { maxBytes: 1024 * 1024, fsyncMs: 0 });
    expect(reopened.size).toBe(0);
    await reopened.close();
  });

  it('ingest in jetstream mode: records only in the stream, PUBACK and the canary hop once there', async () => {
    const { subject } = await journal();
    const bus = new PipelineBus();
    const onBus: IngestRecord[] = [];
    const hops: CanaryReport[] = [];
    bus.records$.subscribe(batch => onBus.push(...batch));
    bus.canary$.subscribe(reports => hops.push(...reports));
    const registry = loadRegistry(join(__dirname, '../../../../../../registry/sample'));
    const ingest = new IngestService(
      { current: registry } as RegistryHolder,
      bus,
      new VigilMetrics(),
      { publish: () => undefined } as unknown as MqttPublisher,
      subject,
    );
    const acked: number[] = [];
    for (const seq of [1, 2, 3])
      ingest.accept(
        'vigil/v1/plant-1/gc-tf-01/telemetry',
        Buffer.from(`{"seq":${seq},"values":{"lel":1}}`),
        false,
        () => acked.push(seq),
      );
    ingest.accept(
      'vigil/v1/plant-1/_canary/telemetry',
      Buffer.from('{"canary":{"origin":"gw-1","seq":1,"sentAt":5}}'),
      false,
      () => acked.push(0),
    );
    expect(acked).toEqual([]);
    await waitFor(() => acked.length === 4, { what: 'the PUBACKs' });
    ingest.onModuleDestroy();
    expect(onBus).toEqual([]);
    expect(hops.map(hop => hop.hop)).toEqual(['ingest']);
    expect(await streamMessages()).toBe(4);
    const stored = await backbone.jsm.streams.getMessage(RECORDS_STREAM, {
      seq: (await backbone.jsm.streams.info(RECORDS_STREAM)).state.first_seq,
    });
    expect(stored.header.get('Nats-Msg-Id')).toBe('plant-1/gc-tf-01/1');
    await subject.close();
  });
});
