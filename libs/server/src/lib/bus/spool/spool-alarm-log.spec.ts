import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Spool } from '@vigil/spool';

import { SpoolAlarmLog } from './spool-alarm-log';

const update = (id: string) => ({ alarm: { id }, action: { action: 'raise' } });

describe(SpoolAlarmLog.name, () => {
  let dir: string;
  let lane: Spool | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-alarm-log-'));
  });
  afterEach(async () => {
    await lane?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads back the updates after a seq while the lane keeps them; undefined once they are gone (the console gets a snapshot)', async () => {
    lane = Spool.open({
      dir,
      maxBytes: 1 << 20,
      fsyncMs: 1,
      segmentBytes: 2048,
      retainEntries: 50,
    });
    const persister = lane.cursor('persister');
    const log = new SpoolAlarmLog(lane, SpoolAlarmLog.epochOf(dir, true));
    for (let i = 1; i <= 400; i += 1) lane.append(JSON.stringify([update(`a${i}`)]));
    persister.commit(400); // InfluxDB has them all: only the retention holds the newest
    expect(lane.firstSeq).toBeGreaterThan(1);
    expect(lane.firstSeq).toBeLessThanOrEqual(351);

    const recent = await log.read(390, 400);
    expect(recent?.map(({ seq, update: u }) => `${seq}:${u.alarm.id}`)).toEqual(
      Array.from({ length: 10 }, (_, i) => `${391 + i}:a${391 + i}`),
    );
    expect(await log.read(0, 400)).toBeUndefined();
    expect(await log.read(lane.firstSeq - 1, 400)).toHaveLength(400 - lane.firstSeq + 1);
    expect(await log.read(400, 400)).toEqual([]);
  });

  it('keeps its epoch for a lane that has segments, and makes a new one for a fresh lane', () => {
    const first = SpoolAlarmLog.epochOf(dir, true);
    expect(SpoolAlarmLog.epochOf(dir, false)).toBe(first);
    expect(SpoolAlarmLog.epochOf(dir, true)).not.toBe(first);
    expect(SpoolAlarmLog.isFresh(dir)).toBe(true);
    lane = Spool.open({ dir, maxBytes: 1 << 20, fsyncMs: 1 });
    expect(SpoolAlarmLog.isFresh(dir)).toBe(false);
  });
});
