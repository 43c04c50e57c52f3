import { join } from 'node:path';

import { telemetryBatchSchema, telemetrySampleSchema } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';

import type { PublisherStats, ReadingPublisher } from './fast-publisher';
import { LoadGenerator } from './load-generator';

const sample = loadRegistry(join(__dirname, '../../../../../registry/sample'));

class FakePublisher implements ReadingPublisher {
  readonly messages: { topic: string; payload: string; qos: 0 | 1 }[] = [];
  writable = true;
  flushes = 0;
  publish(topic: string, payload: string, qos: 0 | 1): boolean {
    this.messages.push({ topic, payload, qos });
    return true;
  }
  flush(): void {
    this.flushes += 1;
  }
  get stats(): PublisherStats {
    return {
      delivered: this.messages.length,
      written: this.messages.length,
      inFlight: 0,
      refused: 0,
      bytes: 0,
    };
  }
  end(): Promise<void> {
    return Promise.resolve();
  }
}

describe('LoadGenerator', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_763_900_000_000 }));
  afterEach(() => jest.useRealTimers());

  async function run(generator: LoadGenerator, ms: number): Promise<void> {
    const done = generator.run();
    await jest.advanceTimersByTimeAsync(ms);
    await done;
  }

  it('offers the profile’s rate round-robin, in one write per tick, with valid payloads', async () => {
    const publisher = new FakePublisher();
    const generator = new LoadGenerator({
      devices: sample.devices,
      sites: sample.sites,
      profile: { kind: 'steady', rate: 1000, durationMs: 2000 },
      publisher,
    });
    await run(generator, 2100);
    const sent = generator.stats.readingsSent;
    expect(sent).toBeGreaterThanOrEqual(1980);
    expect(sent).toBeLessThanOrEqual(2000);
    expect(publisher.flushes).toBeGreaterThanOrEqual(190);
    const seqs = new Map<string, number[]>();
    for (const { topic, payload, qos } of publisher.messages) {
      expect(qos).toBe(0);
      const parsed = telemetrySampleSchema.parse(JSON.parse(payload));
      seqs.set(topic, [...(seqs.get(topic) ?? []), parsed.seq as number]);
      const values = parsed.values;
      if ('lel' in values) expect(values['lel']).toBeLessThan(5);
      if ('leak_ma' in values) expect(values['leak_ma']).toBeLessThan(200);
      if ('level_pct' in values) expect(values['level_pct']).toBeLessThan(80);
      if ('still' in values) expect(values['still']).toBe(false);
    }
    // Fire panels and call points send no telemetry; every other device takes its turn.
    expect(seqs.size).toBe(sample.devices.length - 3);
    for (const list of seqs.values()) expect(list).toEqual(list.map((_, index) => index));
    expect(generator.perSecond().map(second => second.offered)).toEqual([1000, 1000]);
  });

  it('sends gateway batches of one device when asked', async () => {
    const publisher = new FakePublisher();
    const generator = new LoadGenerator({
      devices: sample.devices,
      profile: { kind: 'steady', rate: 1000, durationMs: 500 },
      publisher,
      batch: 10,
    });
    await run(generator, 600);
    const first = telemetryBatchSchema.parse(JSON.parse(publisher.messages[0]?.payload ?? '{}'));
    expect(first.batch).toHaveLength(10);
    const ts = first.batch.map(s => s.ts as number);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(generator.stats.readingsSent).toBe(publisher.messages.length * 10);
  });

  it('provokes gas alarms on fresh detectors and reports each trigger', async () => {
    const publisher = new FakePublisher();
    const triggers: string[] = [];
    const generator = new LoadGenerator({
      devices: sample.devices,
      profile: { kind: 'steady', rate: 100, durationMs: 3500 },
      publisher,
      injection: { perSecond: 2 },
      onTrigger: trigger => triggers.push(trigger.deviceId),
    });
    await run(generator, 3600);
    expect(triggers).toEqual(['gc-tf-01', 'gc-tf-02', 'gc-tf-03', 'gc-ru-01', 'gc-ru-02']);
    const provoking = publisher.messages.filter(m => m.payload.includes('"lel":60'));
    expect(provoking).toHaveLength(5);
    expect(provoking.every(m => m.qos === 1)).toBe(true);
    expect(generator.triggers[0]?.expects.map(e => e.ruleId)).toEqual(['gas-l1', 'gas-l2']);
  });

  it('holds back while the connection pushes back, and counts what it could not send', async () => {
    const publisher = new FakePublisher();
    publisher.writable = false;
    const generator = new LoadGenerator({
      devices: sample.devices,
      profile: { kind: 'steady', rate: 1000, durationMs: 1000 },
      publisher,
    });
    await run(generator, 1100);
    expect(publisher.messages).toHaveLength(0);
    expect(generator.stats.deferredTicks).toBeGreaterThan(90);
    expect(generator.stats.missed).toBeGreaterThan(900);
  });
});
