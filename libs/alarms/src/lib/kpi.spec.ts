import type { Alarm } from '@vigil/contracts';

import { inScope, mayAct, mayAdminister } from './access';
import { alarmPerformance, type RaiseRecord } from './kpi';

const MIN = 60_000;
const raise = (
  at: number,
  key = 'plant-1/gc-1/gas-l1',
  priority: 1 | 2 | 3 | 4 = 2,
): RaiseRecord => ({
  at,
  key,
  alarmId: `${key}@${at}`,
  siteId: 'plant-1',
  priority,
});

describe(alarmPerformance.name, () => {
  it('counts alarms per 10 minutes, floods, chattering and the most frequent sources', () => {
    const flood = Array.from({ length: 12 }, (_, i) => raise(i * 1000, `plant-1/d${i}/gas-l1`));
    const chatter = [raise(20 * MIN), raise(20 * MIN + 10_000), raise(20 * MIN + 20_000)];
    const report = alarmPerformance([...flood, ...chatter, raise(-1)], [], 0, 60 * MIN, 60 * MIN);
    expect(report.alarms).toBe(15);
    expect(report.per10MinAverage).toBe(2.5);
    expect(report.per10MinPeak).toBe(12);
    // The 11th activation (at 10 s) starts the flood; it ends when the 2nd (1 s) leaves the window.
    expect(report.floods).toEqual([{ start: 10_000, end: 601_000, alarms: 12, peak: 12 }]);
    expect(report.timeInFloodPercent).toBeCloseTo((100 * 591_000) / (60 * MIN), 2);
    expect(report.chattering).toEqual([{ key: 'plant-1/gc-1/gas-l1', bursts: 1 }]);
    expect(report.mostFrequent[0]).toEqual({ key: 'plant-1/gc-1/gas-l1', count: 3, percent: 20 });
    expect(report.byPriority).toEqual({ 1: 0, 2: 15, 3: 0, 4: 0 });
  });

  it('finds a flood that straddles a 10-minute boundary (sliding window, ISA-18.2 / EEMUA 191)', () => {
    // 6 alarms in the minute before 10:00 and 6 in the minute after: 12 within 2 minutes.
    const before = Array.from({ length: 6 }, (_, i) =>
      raise(9 * MIN + i * 10_000, `plant-1/b${i}/x`),
    );
    const after = Array.from({ length: 6 }, (_, i) =>
      raise(10 * MIN + i * 10_000, `plant-1/a${i}/x`),
    );
    const report = alarmPerformance([...after, ...before], [], 0, 60 * MIN, 60 * MIN);
    expect(report.per10MinPeak).toBe(12);
    expect(report.floods).toEqual([
      { start: 10 * MIN + 40_000, end: 9 * MIN + 10_000 + 10 * MIN, alarms: 12, peak: 12 },
    ]);
  });

  it('does not call 10 alarms in 10 minutes a flood, nor 11 spread over more than 10 minutes', () => {
    const ten = Array.from({ length: 10 }, (_, i) => raise(i * MIN, `plant-1/d${i}/x`));
    expect(alarmPerformance(ten, [], 0, 60 * MIN, 60 * MIN).floods).toEqual([]);
    const spread = Array.from({ length: 11 }, (_, i) => raise(i * MIN, `plant-1/d${i}/x`));
    expect(alarmPerformance(spread, [], 0, 60 * MIN, 60 * MIN).floods).toEqual([]);
    const within = [...spread.slice(0, 10), raise(10 * MIN - 1, 'plant-1/d10/x')];
    expect(alarmPerformance(within, [], 0, 60 * MIN, 60 * MIN).floods).toHaveLength(1);
  });

  it('keeps one flood going while activations keep coming, and clips it at the end of the report', () => {
    const steady = Array.from({ length: 40 }, (_, i) => raise(i * 30_000, `plant-1/d${i}/x`));
    const report = alarmPerformance(steady, [], 0, 15 * MIN, 15 * MIN);
    expect(report.floods).toHaveLength(1);
    expect(report.floods[0]).toMatchObject({ start: 10 * 30_000, end: 15 * MIN, alarms: 30 });
    expect(report.floods[0]?.peak).toBe(20);
  });

  it('leaves alarms disposed as test out of every figure', () => {
    const flood = Array.from({ length: 12 }, (_, i) => raise(i * 1000, `plant-1/d${i}/gas-l1`));
    const tested = new Set(flood.slice(0, 2).map(entry => entry.alarmId));
    const report = alarmPerformance(flood, [], 0, 60 * MIN, 60 * MIN, tested);
    expect(report.alarms).toBe(10);
    expect(report.floods).toEqual([]);
    expect(report.mostFrequent.map(entry => entry.key)).not.toContain('plant-1/d0/gas-l1');
    const standingTest = {
      id: 't',
      key: 'k',
      conditionActive: true,
      openedAt: 0,
      detectedAt: 0,
      disposition: { kind: 'test', note: 'bump test', by: 'wang', at: 1 },
    } as Alarm;
    expect(alarmPerformance([], [standingTest], 0, 26 * 60 * MIN, 26 * 60 * MIN).standing).toEqual(
      [],
    );
  });

  it('lists standing alarms (active for more than 24 hours)', () => {
    const standing = {
      id: 's',
      key: 'k',
      conditionActive: true,
      openedAt: 0,
      detectedAt: 0,
    } as Alarm;
    const fresh = {
      id: 'f',
      key: 'k2',
      conditionActive: true,
      openedAt: 25 * 60 * MIN,
      detectedAt: 0,
    } as Alarm;
    const report = alarmPerformance([], [standing, fresh], 0, 26 * 60 * MIN, 26 * 60 * MIN);
    expect(report.standing.map(entry => entry.alarmId)).toEqual(['s']);
  });
});

describe('access', () => {
  it('sees a site when the user’s node is on its organisation path', () => {
    const path = ['city-demo', 'county-east', 'park-chem', 'ent-huaxin'];
    expect(inScope({ nodeId: 'park-chem' }, path)).toBe(true);
    expect(inScope({ nodeId: 'ent-other' }, path)).toBe(false);
  });

  it('lets operators work alarms and only supervisors and admins administer', () => {
    expect(mayAct('operator', 'acknowledge')).toBe(true);
    expect(mayAct('operator', 'escalate')).toBe(false);
    expect(mayAdminister('operator', 'maintenance')).toBe(false);
    expect(mayAdminister('supervisor', 'maintenance')).toBe(true);
    expect(mayAdminister('supervisor', 'registry')).toBe(false);
  });
});
