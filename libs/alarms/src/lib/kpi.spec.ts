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
    expect(report.floods).toEqual([{ start: 0, alarms: 12 }]);
    expect(report.timeInFloodPercent).toBeCloseTo(16.67, 1);
    expect(report.chattering).toEqual([{ key: 'plant-1/gc-1/gas-l1', bursts: 1 }]);
    expect(report.mostFrequent[0]).toEqual({ key: 'plant-1/gc-1/gas-l1', count: 3, percent: 20 });
    expect(report.byPriority).toEqual({ 1: 0, 2: 15, 3: 0, 4: 0 });
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
