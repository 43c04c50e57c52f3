import { appendFileSync, mkdtempSync, readdirSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Spool } from './spool';

describe(Spool.name, () => {
  let dir: string;
  const open: Spool[] = [];
  const spool = (options: Partial<Parameters<typeof Spool.open>[0]> = {}) => {
    const opened = Spool.open({ dir, maxBytes: 64 * 1024 * 1024, fsyncMs: 2, ...options });
    open.push(opened);
    return opened;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    for (const opened of open.splice(0)) await opened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const texts = (entries: readonly { payload: Buffer }[]) => entries.map(e => e.payload.toString());

  it('appends in order, resolves durable() after the group fdatasync, and reads from a cursor', async () => {
    const s = spool();
    const seqs = ['a', 'b', 'c'].map(text => s.append(text));
    expect(seqs).toEqual([1, 2, 3]);
    expect(s.durableSeq).toBe(0);
    await s.durable(3);
    expect(s.durableSeq).toBeGreaterThanOrEqual(3);
    const cursor = s.cursor('persister');
    expect(texts(cursor.read(10))).toEqual(['a', 'b', 'c']);
    expect(cursor.read(10)).toEqual([]);
    cursor.commit(2);
    expect(cursor.lag).toBe(1);
  });

  it('frames entries of any size in order, a multi-byte text by its UTF-8 length, across a reopen', async () => {
    const first = spool({ segmentBytes: 8 * 1024 * 1024 });
    const big = 'x'.repeat(3 * 1024 * 1024); // larger than the buffer appends are framed in
    const payloads = ['a', '气体 报警 ✓', big, Buffer.from([0, 1, 2]), 'b'.repeat(700_000), 'z'];
    for (const payload of payloads) first.append(payload);
    await first.durable(payloads.length);
    await first.close();
    open.length = 0;
    const again = spool({ segmentBytes: 8 * 1024 * 1024 });
    expect(again.stats().tornAtOpen).toBe(0);
    const read = again.cursor('reader').read(10, 64 * 1024 * 1024);
    expect(read.map(entry => entry.payload)).toEqual(
      payloads.map(payload => (typeof payload === 'string' ? Buffer.from(payload) : payload)),
    );
  });

  it('resolves the appends of one turn together, and none before an fdatasync covers it', async () => {
    const s = spool({ fsyncMs: 20 });
    const waits = [s.append('a'), s.append('b'), s.append('c')].map(seq => s.durable(seq));
    const durableWhenResolved: number[] = [];
    await Promise.all(waits.map(wait => wait.then(() => durableWhenResolved.push(s.durableSeq))));
    expect(durableWhenResolved.every(seq => seq >= 3)).toBe(true);
    // Appended after this turn's entries were written: its own wait, resolved by a later fdatasync.
    s.flush();
    const later = s.append('d');
    const laterWait = s.durable(later);
    expect(laterWait).not.toBe(waits[0]);
    await laterWait;
    expect(s.durableSeq).toBeGreaterThanOrEqual(4);
  });

  it('keeps entries and cursor positions across a reopen', async () => {
    const first = spool();
    for (let i = 1; i <= 100; i += 1) first.append(`entry ${i}`);
    first.cursor('rules').commit(60);
    await first.close();
    open.length = 0;
    const again = spool();
    expect(again.lastSeq).toBe(100);
    const cursor = again.cursor('rules');
    expect(cursor.committed).toBe(60);
    expect(texts(cursor.read(3))).toEqual(['entry 61', 'entry 62', 'entry 63']);
    expect(again.append('next')).toBe(101);
  });

  it('reads a backlog from disk when it no longer fits the in-memory tail, across segments', async () => {
    const s = spool({ segmentBytes: 4096, tailCacheBytes: 1024 });
    const cursor = s.cursor('persister');
    for (let i = 1; i <= 2000; i += 1) s.append(`reading ${i}`);
    await s.durable(2000);
    expect(s.stats().segments).toBeGreaterThan(5);
    const seen: string[] = [];
    for (let batch = cursor.read(333); batch.length > 0; batch = cursor.read(333)) {
      seen.push(...texts(batch));
      cursor.commit(batch[batch.length - 1]?.seq ?? 0);
    }
    expect(seen).toHaveLength(2000);
    expect(seen[0]).toBe('reading 1');
    expect(seen[1999]).toBe('reading 2000');
    // Every segment below the cursor is gone but the active one.
    expect(s.stats().segments).toBe(1);
  });

  it('reads every entry byte for byte while the in-memory ring wraps, and what it returned stays intact', () => {
    // Payloads of 1–300 bytes through a 1,000-byte ring, read as they come (the tail) and the
    // first ones again later (the disk): the ring wraps hundreds of times, entries straddle its
    // end, and one larger than the whole ring goes to disk only.
    const s = spool({ tailCacheBytes: 1000 });
    const cursor = s.cursor('persister');
    const expected: string[] = [];
    const returned: { seq: number; payload: Buffer }[] = [];
    for (let i = 1; i <= 3000; i += 1) {
      const text = i === 1500 ? 'L'.repeat(5000) : `${i}:${'é'.repeat(i % 150)}`;
      expected.push(text);
      s.append(text);
      if (i % 7 === 0) returned.push(...cursor.read(100));
    }
    returned.push(...cursor.read(5000));
    expect(returned.map(entry => entry.seq)).toEqual(expected.map((_, index) => index + 1));
    // Read earlier, checked now: the ring has been overwritten many times since.
    expect(texts(returned)).toEqual(expected);
    expect(texts(s.read(1, 3000))).toEqual(expected);
  });

  it('keeps the entries of this turn readable when the ring is too small for them', () => {
    // Not written yet when the ring lets them go: written first, so the cursor finds them on disk.
    const s = spool({ tailCacheBytes: 64 });
    for (let i = 1; i <= 50; i += 1) s.append(`entry number ${i}`);
    expect(texts(s.cursor('persister').read(100))).toEqual(
      Array.from({ length: 50 }, (_, index) => `entry number ${index + 1}`),
    );
  });

  it('trims only below every cursor', async () => {
    const s = spool({ segmentBytes: 1024 });
    const slow = s.cursor('slow');
    const fast = s.cursor('fast');
    for (let i = 1; i <= 500; i += 1) s.append(`x${i}`);
    await s.durable(500);
    const before = s.stats().segments;
    fast.commit(500);
    expect(s.stats().segments).toBe(before);
    slow.commit(250);
    expect(s.stats().segments).toBeLessThan(before);
    expect(s.firstSeq).toBeLessThanOrEqual(251);
    expect(texts(slow.read(1))).toEqual(['x251']);
  });

  it('drops the oldest segments beyond maxBytes, unread or not, and counts what no cursor had read', async () => {
    const drops: number[] = [];
    const s = spool({ maxBytes: 8192, segmentBytes: 2048, onDrop: n => drops.push(n) });
    const cursor = s.cursor('persister');
    const payload = 'y'.repeat(100);
    for (let i = 1; i <= 400; i += 1) s.append(payload);
    await s.durable(400);
    const stats = s.stats();
    expect(stats.bytes).toBeLessThanOrEqual(8192 + 2048);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(stats.dropped);
    // The reader skips what is gone and carries on with what is kept.
    const entries = cursor.read(1000);
    expect(cursor.skipped).toBe(stats.dropped);
    expect(entries[0]?.seq).toBe(stats.firstSeq);
    expect(entries[entries.length - 1]?.seq).toBe(400);
  });

  it('cuts a torn last entry at open and counts it', async () => {
    const s = spool();
    s.append('whole 1');
    s.append('whole 2');
    await s.close();
    open.length = 0;
    const [segment] = readdirSync(dir).filter(name => name.startsWith('seg-'));
    const path = join(dir, segment ?? '');
    const size = statSync(path).size;
    // A third entry whose write was cut short: header and half its payload.
    const header = Buffer.alloc(8);
    header.writeUInt32LE(20, 0);
    appendFileSync(path, Buffer.concat([header, Buffer.from('half')]));
    const again = spool();
    expect(again.stats().tornAtOpen).toBe(1);
    expect(again.lastSeq).toBe(2);
    expect(statSync(path).size).toBe(size);
    expect(texts(again.cursor('c').read(10))).toEqual(['whole 1', 'whole 2']);
    expect(again.append('after')).toBe(3);
  });

  it('cuts an entry whose CRC is wrong (a partly written page)', async () => {
    const s = spool();
    s.append('good');
    s.append('also good');
    await s.close();
    open.length = 0;
    const [segment] = readdirSync(dir).filter(name => name.startsWith('seg-'));
    const path = join(dir, segment ?? '');
    truncateSync(path, statSync(path).size - 1);
    appendFileSync(path, 'X');
    const again = spool();
    expect(again.stats().tornAtOpen).toBe(1);
    expect(again.lastSeq).toBe(1);
  });

  it('never reuses a seq a cursor has passed, even when every segment is gone', async () => {
    const s = spool();
    for (let i = 1; i <= 10; i += 1) s.append(`e${i}`);
    s.cursor('c').commit(10);
    await s.close();
    open.length = 0;
    for (const name of readdirSync(dir)) if (name.startsWith('seg-')) rmSync(join(dir, name));
    const again = spool();
    expect(again.append('new')).toBe(11);
    expect(texts(again.cursor('c').read(5))).toEqual(['new']);
  });

  it('brings a cursor back to what survived when appends were lost with the process', async () => {
    const s = spool();
    for (let i = 1; i <= 5; i += 1) s.append(`e${i}`);
    await s.close();
    open.length = 0;
    // A cursor committed for entries that were never written (still pending at SIGKILL).
    const again = spool();
    const cursor = again.cursor('rules');
    cursor.commit(5);
    await again.close();
    open.length = 0;
    const [segment] = readdirSync(dir).filter(name => name.startsWith('seg-'));
    truncateSync(join(dir, segment ?? ''), 0);
    const third = spool();
    expect(third.cursor('rules').committed).toBe(0);
    third.append('reused seq 1');
    expect(texts(third.cursor('rules').read(5))).toEqual(['reused seq 1']);
  });

  it('keeps the newest retainEntries after every cursor passed them, and reads them by seq', async () => {
    const s = spool({ segmentBytes: 1024, retainEntries: 200 });
    const cursor = s.cursor('persister');
    for (let i = 1; i <= 1000; i += 1) s.append(`a${i}`);
    await s.durable(1000);
    cursor.commit(1000);
    // Whole segments go: at least the last 200 are kept, not everything.
    expect(s.firstSeq).toBeLessThanOrEqual(801);
    expect(s.firstSeq).toBeGreaterThan(500);
    expect(texts(s.read(801, 3))).toEqual(['a801', 'a802', 'a803']);
    expect(s.read(1001, 3)).toEqual([]);
    // Older than what is kept: starts at the oldest kept entry (the caller compares seqs).
    expect(s.read(1, 1)[0]?.seq).toBe(s.firstSeq);
  });

  it('keeps the retained entries without any cursor (segments trimmed as it rolls)', async () => {
    const drops: number[] = [];
    const s = spool({ segmentBytes: 1024, retainEntries: 100, onDrop: n => drops.push(n) });
    for (let i = 1; i <= 2000; i += 1) s.append(`b${i}`);
    await s.durable(2000);
    expect(s.firstSeq).toBeLessThanOrEqual(1901);
    expect(s.stats().segments).toBeLessThan(10);
    expect(drops).toEqual([]);
  });

  it("flush() writes this turn's appends to the file at once (a SIGKILL keeps them)", async () => {
    const s = spool();
    s.append('kept');
    s.flush();
    const [segment] = readdirSync(dir).filter(name => name.startsWith('seg-'));
    expect(statSync(join(dir, segment ?? '')).size).toBeGreaterThan(0);
  });
});
