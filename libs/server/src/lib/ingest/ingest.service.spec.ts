import { join } from 'node:path';

import { Logger } from '@nestjs/common';

import type { IngestRecord } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';

import { PipelineBus } from '../bus/pipeline-bus';
import { VigilMetrics } from '../metrics/metrics';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import type { RegistryHolder } from '../registry/registry-holder';
import { IngestJournal, type JournalMessage } from './ingest-journal';
import { IngestService } from './ingest.service';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));
const TOPIC = 'vigil/v1/plant-1/gc-tf-01/telemetry';
const sample = (seq: number) => Buffer.from(`{"seq":${seq},"values":{"lel":${seq % 7}}}`);

function setup() {
  const bus = new PipelineBus();
  const metrics = new VigilMetrics();
  const published: string[] = [];
  const publisher = { publish: (topic: string) => void published.push(topic) };
  const ingest = new IngestService(
    { current: registry } as RegistryHolder,
    bus,
    metrics,
    publisher as unknown as MqttPublisher,
  );
  const records: IngestRecord[] = [];
  bus.records$.subscribe(batch => records.push(...batch));
  const counter = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
  return { ingest, records, published, counter };
}

describe(IngestService.name, () => {
  it('counts samples skipped in seq numbers (the broker dropped them) and drops duplicates', async () => {
    const { ingest, records, counter } = setup();
    for (const seq of [1, 2, 3, 7, 7, 8, 12]) ingest.accept(TOPIC, sample(seq));
    ingest.onModuleDestroy(); // flushes the batch
    expect(records.map(record => record.kind === 'reading' && record.reading.seq)).toEqual([
      1, 2, 3, 7, 8, 12,
    ]);
    expect(await counter('vigil_ingest_missing_samples_total')).toBe(3 + 3);
    expect(await counter('vigil_ingest_duplicate_samples_total')).toBe(1);
    expect(await counter('vigil_ingest_readings_total')).toBe(6);
    expect(ingest.lostSamples('plant-1', 'gc-tf-01')).toBe(6);
    // A late sample fills its gap back for the device; the counter only ever counts gaps seen.
    ingest.accept(TOPIC, sample(5));
    ingest.onModuleDestroy();
    expect(ingest.lostSamples('plant-1', 'gc-tf-01')).toBe(5);
    expect(await counter('vigil_ingest_missing_samples_total')).toBe(6);
  });

  it('names the devices with seq gaps in its warning, worst first (where the broker dropped)', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { ingest } = setup();
      for (const seq of [1, 2, 30]) ingest.accept(TOPIC, sample(seq));
      for (const seq of [1, 5]) ingest.accept('vigil/v1/plant-1/gc-tf-02/telemetry', sample(seq));
      ingest.onModuleDestroy();
      const message = warn.mock.calls.map(call => String(call[0])).find(m => /missing/.test(m));
      expect(message).toContain('30 sample(s) missing');
      expect(message).toContain('(plant-1/gc-tf-01 (27), plant-1/gc-tf-02 (3))');
    } finally {
      warn.mockRestore();
    }
  });

  describe('re-deliveries after a reconnect are duplicates, not device restarts (load runs 2026-12-07)', () => {
    afterEach(() => jest.restoreAllMocks());
    const clock = (at: number) => jest.spyOn(Date, 'now').mockReturnValue(at);
    const T0 = 1_800_000_000_000;

    it('without device time: the broker re-sends (DUP) after 2 minutes away', async () => {
      const { ingest, records, counter } = setup();
      for (let seq = 10; seq <= 40; seq += 1) {
        clock(T0 + seq * 100);
        ingest.accept(TOPIC, sample(seq));
      }
      clock(T0 + 120_000); // ingest's keepalive timed out; it is back 2 minutes later
      for (let seq = 20; seq <= 40; seq += 1)
        ingest.accept(TOPIC, sample(seq), false, undefined, true);
      ingest.onModuleDestroy();
      expect(await counter('vigil_ingest_seq_restarts_total')).toBe(0);
      expect(await counter('vigil_ingest_duplicate_samples_total')).toBe(21);
      expect(records).toHaveLength(31);
    });

    it('with device time: a backlog longer than the seq window is never a restart', async () => {
      const { ingest, records, counter } = setup();
      const stamped = (seq: number) =>
        Buffer.from(`{"ts":${T0 + seq * 100},"seq":${seq},"values":{"lel":${seq % 7}}}`);
      for (let seq = 1; seq <= 200; seq += 1) {
        clock(T0 + seq * 100);
        ingest.accept(TOPIC, stamped(seq));
      }
      clock(T0 + 200_000);
      for (let seq = 1; seq <= 200; seq += 1)
        ingest.accept(TOPIC, stamped(seq), false, undefined, true);
      ingest.onModuleDestroy();
      expect(await counter('vigil_ingest_seq_restarts_total')).toBe(0);
      // The last 64 numbers are known duplicates; the 136 older ones are counted stale and
      // evaluated (the rules count them late; InfluxDB overwrites the same points).
      expect(await counter('vigil_ingest_duplicate_samples_total')).toBe(64);
      expect(await counter('vigil_ingest_stale_samples_total')).toBe(136);
      expect(records).toHaveLength(200 + 136);
      // A genuine restart (seq over, device time newer) is still one.
      clock(T0 + 201_000);
      ingest.accept(TOPIC, Buffer.from(`{"ts":${T0 + 201_000},"seq":0,"values":{"lel":1}}`));
      ingest.onModuleDestroy();
      expect(await counter('vigil_ingest_seq_restarts_total')).toBe(1);
    });
  });

  it('hands a canary on with its batch and reports the ingest hop, not counting it as a reading', async () => {
    const bus = new PipelineBus();
    const metrics = new VigilMetrics();
    const ingest = new IngestService({ current: registry } as RegistryHolder, bus, metrics, {
      publish: () => undefined,
    } as unknown as MqttPublisher);
    const order: string[] = [];
    bus.records$.subscribe(batch => order.push(...batch.map(record => `record:${record.kind}`)));
    bus.canary$.subscribe(reports => order.push(...reports.map(report => `hop:${report.hop}`)));
    ingest.accept(TOPIC, sample(1));
    ingest.accept(
      'vigil/v1/plant-1/_canary/telemetry',
      Buffer.from('{"canary":{"origin":"gw-1","seq":1,"sentAt":5}}'),
    );
    ingest.onModuleDestroy();
    expect(order).toEqual(['record:reading', 'record:canary', 'hop:ingest']);
    const counter = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
    expect(await counter('vigil_ingest_readings_total')).toBe(1);
    expect(await counter('vigil_ingest_messages_total')).toBe(1);
  });

  it('dead-letters bad input without stopping good input', () => {
    const { ingest, records, published } = setup();
    ingest.accept(TOPIC, Buffer.from('not json'));
    ingest.accept('vigil/v1/plant-1/nope/telemetry', sample(1));
    ingest.accept(TOPIC, sample(1));
    ingest.onModuleDestroy();
    expect(published).toEqual([
      'vigil/v1/_deadletter/not-json',
      'vigil/v1/_deadletter/unknown-device',
    ]);
    expect(records).toHaveLength(1);
  });
});

describe('the ack of a device message (issue 12: PUBACK only once durable)', () => {
  class HeldJournal extends IngestJournal {
    readonly appended: JournalMessage[] = [];
    readonly release: Array<() => void> = [];
    append(message: JournalMessage): Promise<void> {
      this.appended.push(message);
      return new Promise(resolve => this.release.push(resolve));
    }
  }

  it('acks a stored message once the journal has it, a dead letter or a duplicate at once', async () => {
    const journal = new HeldJournal();
    const ingest = new IngestService(
      { current: registry } as RegistryHolder,
      new PipelineBus(),
      new VigilMetrics(),
      { publish: () => undefined } as unknown as MqttPublisher,
      journal,
    );
    const acked: string[] = [];
    ingest.accept(TOPIC, sample(1), false, () => acked.push('seq 1'));
    ingest.accept(TOPIC, Buffer.from('not json'), false, () => acked.push('dead letter'));
    ingest.accept(TOPIC, sample(1), false, () => acked.push('duplicate'));
    ingest.accept(TOPIC, Buffer.from('{"values":{"lel":3}}'), false, () => acked.push('no seq'));
    expect(acked).toEqual(['dead letter', 'duplicate']);
    expect(journal.appended.map(message => message.msgId)).toEqual([
      'plant-1/gc-tf-01/1',
      expect.stringMatching(/^h:[0-9a-f]{40}$/),
    ]);
    expect(journal.appended[0]?.records).toHaveLength(1);
    journal.release[1]?.();
    journal.release[0]?.();
    await new Promise(resolve => setImmediate(resolve));
    expect(acked).toEqual(['dead letter', 'duplicate', 'no seq', 'seq 1']);
    ingest.onModuleDestroy();
  });

  it('withholds the ack of a message the journal could not make durable, counted, never thrown', async () => {
    const failing = new (class extends IngestJournal {
      append(): Promise<void> {
        return Promise.reject(new Error('ENOSPC: no space left on device'));
      }
    })();
    const metrics = new VigilMetrics();
    const ingest = new IngestService(
      { current: registry } as RegistryHolder,
      new PipelineBus(),
      metrics,
      { publish: () => undefined } as unknown as MqttPublisher,
      failing,
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const acked: number[] = [];
    ingest.accept(TOPIC, sample(1), false, () => acked.push(1));
    await new Promise(resolve => setTimeout(resolve, 10));
    process.off('unhandledRejection', onUnhandled);
    expect(acked).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(
      await metrics.registry.getSingleMetricAsString('vigil_ingest_journal_failures_total'),
    ).toMatch(/vigil_ingest_journal_failures_total 1/);
    ingest.onModuleDestroy();
  });
});

describe('a bug in ingest on one message (issue 10: one message never kills the process)', () => {
  it('dead-letters that message as ingest-error and keeps accepting the next ones', () => {
    const { ingest, records, published } = setup();
    const broken = {
      current: {
        device: () => {
          throw new TypeError('registry bug');
        },
      },
    };
    const buggy = new IngestService(
      broken as unknown as RegistryHolder,
      new PipelineBus(),
      new VigilMetrics(),
      { publish: (topic: string) => void published.push(topic) } as unknown as MqttPublisher,
    );
    expect(() => buggy.accept(TOPIC, sample(1))).not.toThrow();
    expect(published).toEqual(['vigil/v1/_deadletter/ingest-error']);
    ingest.accept(TOPIC, sample(1));
    ingest.onModuleDestroy();
    expect(records).toHaveLength(1);
  });
});
