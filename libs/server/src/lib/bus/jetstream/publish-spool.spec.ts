import { appendFile, mkdtemp, rm } from 'node:fs/promises';
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
    await appendFile(join(dir, 'publish.log'), Buffer.from([200, 0, 0, 0, 5, 0]));
    const reopened = await PublishSpool.open(dir, { maxBytes: 1 << 20, fsyncMs: 1 });
    expect(reopened.size).toBe(10);
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
});
