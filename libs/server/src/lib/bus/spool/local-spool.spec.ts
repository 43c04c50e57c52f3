import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { IngestRecord } from '@vigil/contracts';

import type { VigilConfig } from '../../config/vigil-config';
import { VigilMetrics } from '../../metrics/metrics';
import type { PersisterSink } from '../../persister/persister-source';
import { PipelineBus } from '../pipeline-bus';
import { LocalSpool } from './local-spool';
import { SpoolJournal } from './spool-journal';
import { SpoolPersisterSource } from './spool-persister-source';

const reading = (seq: number): IngestRecord =>
  ({
    kind: 'reading',
    reading: { siteId: 's', deviceId: 'd', seq, ts: 1_700_000_000_000 + seq, values: { lel: 1 } },
  }) as unknown as IngestRecord;
const seqOf = (record: IngestRecord): number =>
  record.kind === 'reading' ? (record.reading.seq ?? -1) : -1;
const tick = () => new Promise(resolve => setImmediate(resolve));

describe(LocalSpool.name, () => {
  let dir: string;
  const config = () =>
    ({
      services: ['broker', 'ingest', 'rules', 'persister', 'gateway'],
      influx: { mode: 'external' },
      bus: {
        kind: 'memory',
        spool: { dir, maxBytes: 64 << 20, alarmsMaxBytes: 16 << 20, fsyncMs: 1 },
      },
    }) as unknown as VigilConfig;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function journal(spool: LocalSpool, seqs: number[]): Promise<void> {
    const journal = new SpoolJournal(spool);
    await Promise.all(
      seqs.map(seq =>
        journal.append({
          siteId: 's',
          deviceId: 'd',
          msgId: `s/d/${seq}`,
          records: [reading(seq)],
        }),
      ),
    );
  }

  it('hands the persister what is spooled and commits only what InfluxDB settled; the rest comes again after a restart', async () => {
    const bus = new PipelineBus();
    const spool = new LocalSpool(config(), bus, new VigilMetrics());
    await journal(spool, [1, 2, 3, 4]);
    const offered: { seqs: number[]; settled?: () => void }[] = [];
    const sink: PersisterSink = {
      records: (batch, settled) => (offered.push({ seqs: batch.map(seqOf), settled }), true),
      alarms: () => true,
      room: () => 10_000,
    };
    const source = new SpoolPersisterSource(spool);
    source.start(sink);
    expect(offered.map(o => o.seqs)).toEqual([[1, 2, 3, 4]]);
    expect(spool.persisterRecords?.committed).toBe(0);
    await journal(spool, [5]);
    await tick();
    expect(offered.map(o => o.seqs)).toEqual([[1, 2, 3, 4], [5]]);
    offered[0]?.settled?.(); // InfluxDB took 1–4; 5 is still in flight when the process stops
    expect(spool.persisterRecords?.committed).toBe(4);
    await source.stop();
    await spool.onModuleDestroy();

    const again = new LocalSpool(config(), new PipelineBus(), new VigilMetrics());
    const replayed: number[][] = [];
    new SpoolPersisterSource(again).start({
      ...sink,
      records: batch => (replayed.push(batch.map(seqOf)), true),
    });
    expect(replayed).toEqual([[5]]);
    await again.onModuleDestroy();
  });

  it('waits with a backlog on disk while the write buffer has no room', async () => {
    const spool = new LocalSpool(config(), new PipelineBus(), new VigilMetrics());
    await journal(spool, [1, 2, 3]);
    let room = 0;
    const got: number[] = [];
    const source = new SpoolPersisterSource(spool);
    source.start({
      records: batch => (got.push(...batch.map(seqOf)), true),
      alarms: () => true,
      room: () => room,
    });
    expect(got).toEqual([]);
    room = 2;
    source.wake();
    await tick();
    expect(got).toEqual([1, 2, 3].slice(0, got.length));
    expect(got.length).toBeGreaterThan(0);
    await source.stop();
    await spool.onModuleDestroy();
  });

  it('takes a backlog 1,000 entries a turn of the event loop, never in one synchronous run', async () => {
    // What InfluxDB's acknowledgement makes room for is read over several turns, so device
    // messages and alarms are handled between them (the publish → WebSocket tail, issue 14).
    const spool = new LocalSpool(config(), new PipelineBus(), new VigilMetrics());
    await journal(
      spool,
      Array.from({ length: 2500 }, (_, index) => index + 1),
    );
    const turns: number[][] = [];
    let turn = 0;
    const source = new SpoolPersisterSource(spool);
    source.start({
      records: batch => ((turns[turn] ??= []).push(...batch.map(seqOf)), true),
      alarms: () => true,
      room: () => 100_000,
    });
    while (turn < 5) {
      turn += 1;
      await tick();
    }
    expect(turns.map(seqs => seqs.length)).toEqual([1000, 1000, 500]);
    expect(turns.flat()).toEqual(Array.from({ length: 2500 }, (_, index) => index + 1));
    await source.stop();
    await spool.onModuleDestroy();
  });

  it('replays to the rules at start what they had not evaluated, and commits as the bus carries it', async () => {
    const bus = new PipelineBus();
    const spool = new LocalSpool(config(), bus, new VigilMetrics());
    spool.onApplicationBootstrap();
    await journal(spool, [1, 2]);
    bus.publishRecords([reading(1), reading(2)]); // evaluated live: the rules' cursor follows
    await journal(spool, [3, 4]); // accepted, durable, never on the bus: the process dies here
    await spool.onModuleDestroy();

    const restarted = new PipelineBus();
    const evaluated: number[] = [];
    restarted.records$.subscribe(batch => evaluated.push(...batch.map(seqOf)));
    const again = new LocalSpool(config(), restarted, new VigilMetrics());
    again.onApplicationBootstrap();
    expect(evaluated).toEqual([3, 4]);
    await again.onModuleDestroy();

    // Nothing left to replay: the cursor was committed as the replay went.
    const none: number[] = [];
    const bus3 = new PipelineBus();
    bus3.records$.subscribe(batch => none.push(...batch.map(seqOf)));
    const fourth = new LocalSpool(config(), bus3, new VigilMetrics());
    fourth.onApplicationBootstrap();
    expect(none).toEqual([]);
    await fourth.onModuleDestroy();
  });

  it('puts alarm updates in their own lane for the persister', async () => {
    const bus = new PipelineBus();
    const spool = new LocalSpool(config(), bus, new VigilMetrics());
    bus.publishAlarms([{ alarm: { id: 'a-1' }, action: { action: 'raise' } } as never]);
    const alarms: unknown[] = [];
    const source = new SpoolPersisterSource(spool);
    source.start({
      records: () => true,
      alarms: batch => (alarms.push(...batch), true),
      room: () => 100,
    });
    expect(alarms).toEqual([{ alarm: { id: 'a-1' }, action: { action: 'raise' } }]);
    expect(spool.records.lastSeq).toBe(0);
    await source.stop();
    await spool.onModuleDestroy();
  });

  it('numbers each alarm update by its alarm-lane entry, with an epoch that survives a restart and is new for a wiped lane', async () => {
    const update = (id: string) => ({ alarm: { id }, action: { action: 'raise' } }) as never;
    const bus = new PipelineBus();
    const spool = new LocalSpool(config(), bus, new VigilMetrics());
    const seen: { ids: string[]; seqs?: readonly number[] }[] = [];
    spool.alarms$.subscribe(({ updates, seqs }) =>
      seen.push({ ids: updates.map(u => (u as { alarm: { id: string } }).alarm.id), seqs }),
    );
    bus.publishAlarms([update('a'), update('b')]);
    bus.publishAlarms([update('c')]);
    expect(seen).toEqual([
      { ids: ['a', 'b'], seqs: [1, 2] },
      { ids: ['c'], seqs: [3] },
    ]);
    const epoch = spool.alarmLog.epoch;
    expect(epoch).toMatch(/^spool@/);
    await spool.onModuleDestroy();

    const again = new LocalSpool(config(), new PipelineBus(), new VigilMetrics());
    expect(again.alarmLog.epoch).toBe(epoch);
    const read = await again.alarmLog.read(1, 3);
    expect(read?.map(({ seq, update: u }) => [seq, u.alarm.id])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    await again.onModuleDestroy();

    rmSync(join(dir, 'alarms'), { recursive: true, force: true });
    const wiped = new LocalSpool(config(), new PipelineBus(), new VigilMetrics());
    expect(wiped.alarmLog.epoch).not.toBe(epoch);
    // Seqs start again in the new epoch: a console's old lastSeq is not read against them.
    expect(await wiped.alarmLog.read(0, 1)).toBeUndefined();
    await wiped.onModuleDestroy();
  });
});
