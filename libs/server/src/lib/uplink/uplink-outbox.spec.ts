import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { UplinkItemBody } from '@vigil/contracts';

import { UplinkOutbox } from './uplink-outbox';

const hazard = (n: number): UplinkItemBody => ({
  kind: 'hazard',
  hazardId: `h${n}`,
  no: n,
  transition: 'report',
  state: 'reported',
  level: 'general',
  title: `hazard ${n}`,
  siteId: 'plant-1',
  hazardSourceCodes: [],
  overdue: false,
  reportedAt: n,
  at: n,
  by: 'zhang',
});

describe('UplinkOutbox (files on disk)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-outbox-'));
    path = join(dir, 'uplink', 'outbox.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (capacity = 100, compactEvery?: number) => {
    const outbox = new UplinkOutbox(path, { capacity, compactEvery });
    outbox.open();
    return outbox;
  };

  it('numbers items 1, 2, 3 … and keeps them across a restart until acknowledged', () => {
    const outbox = open();
    const { queued } = outbox.enqueue([hazard(1), hazard(2), hazard(3)]);
    expect(queued.map(item => item.seq)).toEqual([1, 2, 3]);
    expect(outbox.ack(2)).toBe(2);
    outbox.close();

    const again = open();
    expect(again.size).toBe(1);
    expect(again.peek(10).map(item => item.seq)).toEqual([3]);
    expect(again.ackedSeq).toBe(2);
    // The numbering goes on after the newest, never re-using a seq.
    expect(again.enqueue([hazard(4)]).queued.map(item => item.seq)).toEqual([4]);
    again.close();
  });

  it('never re-uses a seq after everything was acknowledged and the file compacted', () => {
    const outbox = open(100, 3);
    outbox.enqueue([hazard(1), hazard(2)]);
    outbox.ack(2); // 3 lines since the compaction: compacts to the head line only
    outbox.close();
    expect(readFileSync(path, 'utf8')).toBe(
      '{"t":"head","lastSeq":2,"ackedSeq":2,"hazardSteps":{}}\n',
    );
    const again = open();
    expect(again.size).toBe(0);
    expect(again.enqueue([hazard(3)]).queued[0]?.seq).toBe(3);
    again.close();
  });

  it('skips a torn last line (never acknowledged to anyone) and keeps the whole ones', () => {
    const outbox = open();
    outbox.enqueue([hazard(1)]);
    outbox.close();
    appendFileSync(path, '{"t":"item","item":{"seq":2,');
    const again = new UplinkOutbox(path, { capacity: 100 });
    expect(again.open()).toEqual({ pending: 1, skipped: 1 });
    expect(again.enqueue([hazard(2)]).queued[0]?.seq).toBe(2);
    again.close();
  });

  it('refuses what does not fit when full, without numbering it, and drops nothing queued', () => {
    const outbox = open(3);
    outbox.enqueue([hazard(1), hazard(2)]);
    const { queued, refused } = outbox.enqueue([hazard(3), hazard(4), hazard(5)]);
    expect(queued.map(item => item.seq)).toEqual([3]);
    expect(refused).toHaveLength(2);
    expect(outbox.size).toBe(3);
    // Room again once the upper acknowledged: numbering continues without a hole.
    outbox.ack(1);
    expect(outbox.enqueue([hazard(6)]).queued.map(item => item.seq)).toEqual([4]);
    expect(outbox.peek(10).map(item => item.seq)).toEqual([2, 3, 4]);
    outbox.close();
  });

  it('ignores an old acknowledgement and refuses one beyond the newest item', () => {
    const outbox = open();
    outbox.enqueue([hazard(1), hazard(2)]);
    outbox.ack(2);
    expect(outbox.ack(1)).toBe(0);
    expect(() => outbox.ack(5)).toThrow(/beyond the newest item 2/);
    outbox.close();
  });

  it('renumbers what waits after an upper that holds more than this outbox ever numbered', () => {
    const outbox = open();
    outbox.enqueue([hazard(1), hazard(2)]);
    expect(outbox.rebase(40)).toBe(2);
    expect(outbox.peek(10).map(item => item.seq)).toEqual([41, 42]);
    outbox.close();
    const again = open();
    expect(again.peek(10).map(item => item.seq)).toEqual([41, 42]);
    expect(again.enqueue([hazard(3)]).queued[0]?.seq).toBe(43);
    again.close();
  });
});
