import { testAlarm } from './alarm.fixture';
import {
  compareAlarms,
  filterAlarms,
  groupRows,
  needsDisposal,
  raiseToken,
  summariseTabs,
  tabOf,
} from './alarms';

const NOW = 2_000_000;

describe('alarm list logic', () => {
  it('keeps process alarms, early warnings and data-quality alarms apart, and shelved ones aside', () => {
    const alarms = [
      testAlarm({ category: 'process', priority: 1 }),
      testAlarm({ category: 'warning', priority: 3 }),
      testAlarm({ category: 'quality', priority: 2, state: 'active-acknowledged' }),
      testAlarm({
        category: 'process',
        shelved: { by: 'li', reason: 'sensor work', until: NOW + 1 },
      }),
      testAlarm({ category: 'process', shelved: { by: 'li', reason: 'expired', until: NOW - 1 } }),
      testAlarm({ category: 'quality', suppressed: 'parent-offline' }),
    ];
    expect(alarms.map(alarm => tabOf(alarm, NOW))).toEqual([
      'process',
      'warning',
      'quality',
      'shelved',
      'process',
      'shelved',
    ]);
    const tabs = summariseTabs(alarms, NOW);
    expect(tabs.process).toEqual({ total: 2, unacknowledged: 2, worstUnacknowledged: 1 });
    expect(tabs.quality).toEqual({ total: 1, unacknowledged: 0, worstUnacknowledged: undefined });
    expect(tabs.shelved.total).toBe(2);
  });

  it('sorts by priority, then newest first, independent of acknowledgement (rows do not jump)', () => {
    const old = testAlarm({ priority: 2, raisedAt: 10 });
    const recent = testAlarm({ priority: 2, raisedAt: 20, state: 'active-acknowledged' });
    const critical = testAlarm({ priority: 1, raisedAt: 5 });
    expect([old, recent, critical].sort(compareAlarms)).toEqual([critical, recent, old]);
  });

  it('filters by site, area, priority, state and text', () => {
    const a = testAlarm({ priority: 1, areaId: 'tank-farm', deviceId: 'gc-tf-01' });
    const b = testAlarm({ priority: 3, areaId: 'reactor-unit', state: 'active-acknowledged' });
    const c = testAlarm({
      priority: 2,
      siteId: 'plant-2',
      areaId: 'tank-farm',
      state: 'returned-unacknowledged',
    });
    const all = [a, b, c];
    expect(filterAlarms(all, { tab: 'process', siteId: 'plant-1' }, NOW)).toEqual([a, b]);
    expect(filterAlarms(all, { tab: 'process', areaId: 'tank-farm' }, NOW)).toEqual([a, c]);
    expect(filterAlarms(all, { tab: 'process', priorities: new Set([2, 3]) }, NOW)).toEqual([b, c]);
    expect(filterAlarms(all, { tab: 'process', state: 'unacknowledged' }, NOW)).toEqual([a, c]);
    expect(filterAlarms(all, { tab: 'process', state: 'active-acknowledged' }, NOW)).toEqual([b]);
    expect(filterAlarms(all, { tab: 'process', text: 'TF-01' }, NOW)).toEqual([a]);
    expect(filterAlarms(all, { tab: 'warning' }, NOW)).toEqual([]);
  });

  it('groups a flood under its first-out alarm; related P3/P4 collapse, P1/P2 stay visible', () => {
    const first = testAlarm({ id: 'first', groupId: 'first', priority: 2, raisedAt: 100 });
    const p1 = testAlarm({ id: 'p1', groupId: 'first', priority: 1, raisedAt: 110 });
    const p3a = testAlarm({ id: 'p3a', groupId: 'first', priority: 3, raisedAt: 120 });
    const p3b = testAlarm({ id: 'p3b', groupId: 'first', priority: 4, raisedAt: 130 });
    const lone = testAlarm({ id: 'lone', priority: 2, raisedAt: 500 });
    const rows = groupRows([p3b, lone, p3a, first, p1]);
    // The group sorts by its P1 member, so it comes before the lone P2; first-out leads the group.
    expect(rows.map(row => [row.alarm.id, row.role, row.hiddenCount])).toEqual([
      ['first', 'first-out', 2],
      ['p1', 'member', 0],
      ['lone', 'single', 0],
    ]);
    expect(
      groupRows([p3b, lone, p3a, first, p1], new Set(['first'])).map(row => row.alarm.id),
    ).toEqual(['first', 'p1', 'p3a', 'p3b', 'lone']);
  });

  it('groups the rest of a flood when its first-out alarm has closed, without a first-out mark', () => {
    const a = testAlarm({ id: 'a', groupId: 'gone', priority: 2, raisedAt: 1 });
    const b = testAlarm({ id: 'b', groupId: 'gone', priority: 2, raisedAt: 2 });
    expect(groupRows([b, a]).map(row => [row.alarm.id, row.role])).toEqual([
      ['a', 'head'],
      ['b', 'member'],
    ]);
  });

  it('knows which alarms wait for a disposition, and what one activation is', () => {
    expect(needsDisposal(testAlarm({ priority: 1 }))).toBe(true);
    expect(needsDisposal(testAlarm({ priority: 3 }))).toBe(false);
    expect(needsDisposal(testAlarm({ priority: 2, category: 'quality' }))).toBe(false);
    expect(
      needsDisposal(
        testAlarm({ priority: 1, disposition: { kind: 'test', note: 'drill', by: 'li', at: 1 } }),
      ),
    ).toBe(false);

    const raised = testAlarm({
      id: 'x',
      history: [{ action: 'raise', at: 10, by: undefined, note: undefined }],
    });
    const acknowledged = {
      ...raised,
      state: 'active-acknowledged' as const,
      history: [
        ...raised.history,
        { action: 'acknowledge' as const, at: 20, by: 'zhang', note: undefined },
      ],
    };
    const reRaised = {
      ...acknowledged,
      history: [
        ...acknowledged.history,
        { action: 'raise' as const, at: 30, by: undefined, note: undefined },
      ],
    };
    expect(raiseToken(acknowledged)).toBe(raiseToken(raised));
    expect(raiseToken(reRaised)).not.toBe(raiseToken(raised));
  });
});

describe('system alarms (monitoring lost)', () => {
  it('are listed with the process alarms, never on a tab nobody watches', () => {
    const alarm = testAlarm({ category: 'system', priority: 1, ruleId: 'monitoring-lost' });
    expect(tabOf(alarm, NOW)).toBe('process');
    expect(summariseTabs([alarm], NOW).process.unacknowledged).toBe(1);
  });
});
