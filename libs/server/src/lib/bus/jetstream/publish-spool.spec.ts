import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PublishSpool, type SpooledMessage } from './publish-spool';

const message = (i: number): SpooledMessage => ({
  subject: `vigil.records.0.site-${i % 3}`,
  msgId: `site/d/${i}`,
  data: Buffer.from(JSON.stringify([{ i }])),
});

describe('PublishSpool (files on disk)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-pspool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps what was appended across a reopen, cuts a torn tail, and drains in order once', async () => {
    const spool = await PublishSpool.open(dir, { maxBytes: 1 << 20, fsyncMs: 1 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => spool.append(message(i))));
    await spool.close();
    // A crash in the middle of a write: half an entry at the end, never acknowledged.
    const [segment] = (await readdir(dir)).filter(name => name.endsWith('.log'));
    await appendFile(join(dir, String(segment)), Buffer.from([200, 0, 0, 0, 5, 0]));
    const reopened = await PublishSpool.open(dir, { maxBytes: 1 << 20, fsyncMs: 1 });
    expect(reopened.size).toBe(10);
    expect(reopened.tornAtOpen).toBe(1);
    const sent: string[] = [];
    await expect(
      reopened.drainBatch(4, async () => {
        throw new Error('NATS down');
      }),
    ).rejects.toThrow('NATS down');
    expect(reopened.size).toBe(10);
    while (
      (await reopened.drainBatch(4, async batch => void sent.push(...batch.map(m => m.msgId)))) > 0
    );
    expect(sent).toEqual(Array.from({ length: 10 }, (_, i) => `site/d/${i}`));
    expect(reopened.size).toBe(0);
    expect(reopened.bytes).toBe(0);
    await reopened.close();
    expect((await PublishSpool.open(dir, { maxBytes: 1 << 20, fsyncMs: 1 })).size).toBe(0);
  });

  it('makes an append wait while the spool is full, until a drain makes room', async () => {
    const spool = await PublishSpool.open(dir, { maxBytes: 100, fsyncMs: 0, onFull: jest.fn() });
    await spool.append(message(0));
    await spool.append(message(1));
    let third = false;
    const waiting = spool.append(message(2)).then(() => (third = true));
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(third).toBe(false);
    await spool.drainBatch(1, async () => undefined);
    await waiting;
    expect(third).toBe(true);
    await spool.close();
  });

  it('keeps an outage longer than one segment, counts its bytes after a reopen, and never drops', async () => {
    const onDrop = jest.fn();
    // 256 KiB bound: 64 KiB segments, so 2,000 messages (~200 KiB) span several.
    const options = { maxBytes: 256 * 1024, fsyncMs: 1, onDrop };
    const spool = await PublishSpool.open(dir, options);
    const big = (i: number): SpooledMessage => ({ ...message(i), data: Buffer.alloc(80, i % 251) });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => spool.append(big(i))));
    expect(spool.size).toBe(2000);
    await spool.drainBatch(500, async () => undefined);
    const bytes = spool.bytes;
    await spool.close();
    expect((await readdir(dir)).filter(name => name.endsWith('.log')).length).toBeGreaterThan(1);

    const reopened = await PublishSpool.open(dir, options);
    expect(reopened.size).toBe(1500);
    expect(reopened.bytes).toBe(bytes);
    // Fill it to the bound: appends wait (counted by onFull) instead of dropping the oldest.
    const onFull = jest.fn();
    const full = await PublishSpool.open(join(dir, 'full'), { ...options, onFull });
    let appended = 0;
    const appends = Array.from({ length: 4000 }, (_, i) =>
      full.append(big(i)).then(() => (appended += 1)),
    );
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(onFull).toHaveBeenCalled();
    expect(full.bytes).toBeLessThanOrEqual(options.maxBytes);
    const ids: string[] = [];
    while (appended < 4000 || full.size > 0) {
      await full.drainBatch(256, async batch => void ids.push(...batch.map(m => m.msgId)));
      await new Promise(resolve => setImmediate(resolve));
    }
    await Promise.all(appends);
    expect(ids).toEqual(Array.from({ length: 4000 }, (_, i) => `site/d/${i}`));
    expect(onDrop).not.toHaveBeenCalled();

    const drained: string[] = [];
    while (
      (await reopened.drainBatch(333, async b => void drained.push(...b.map(m => m.msgId)))) > 0
    );
    expect(drained).toEqual(Array.from({ length: 1500 }, (_, i) => `site/d/${i + 500}`));
    expect(reopened.bytes).toBe(0);
    await reopened.close();
    await full.close();
  });
});
