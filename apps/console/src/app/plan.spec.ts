import type { TagPosition } from '@vigil/contracts';

import { testAlarm } from './alarm.fixture';
import { crowdCircles, deviceLook, locatedAlarms } from './plan';

const tag = (deviceId: string, x: number, y: number): TagPosition => ({
  siteId: 'plant-1',
  deviceId,
  name: deviceId,
  x,
  y,
  ts: 0,
  lastSeenAt: 0,
  stale: false,
});

describe('site plan helpers', () => {
  it('colours a device: offline first, then the most urgent alarm, then a data-quality fault', () => {
    expect(deviceLook([])).toEqual({ state: 'normal', priority: undefined, unacknowledged: false });
    expect(deviceLook([testAlarm({ category: 'quality', ruleId: 'stuck' })]).state).toBe('fault');
    expect(
      deviceLook([
        testAlarm({ priority: 2, state: 'active-acknowledged' }),
        testAlarm({ priority: 1 }),
      ]),
    ).toEqual({
      state: 'alarm',
      priority: 1,
      unacknowledged: true,
    });
    expect(
      deviceLook([
        testAlarm({ priority: 1 }),
        testAlarm({ category: 'quality', ruleId: 'offline' }),
      ]).state,
    ).toBe('offline');
  });

  it('draws a circle around the members of an active crowding alarm', () => {
    const positions = new Map([
      ['tag-001', tag('tag-001', 100, 200)],
      ['tag-002', tag('tag-002', 110, 200)],
      ['tag-003', tag('tag-003', 105, 210)],
    ]);
    const crowd = testAlarm({ ruleId: 'crowding', members: ['tag-001', 'tag-002', 'tag-003'] });
    const [circle] = crowdCircles(
      [crowd, testAlarm({ ruleId: 'crowding', conditionActive: false, members: ['tag-001'] })],
      positions,
      'plant-1',
    );
    expect(circle?.centre).toEqual([105, 203.33333333333334]);
    expect(circle?.radius).toBeGreaterThan(6 + 6.6);
    expect(crowdCircles([crowd], positions, 'plant-2')).toEqual([]);
  });

  it('marks located alarms (fire-panel points) at their own positions while active', () => {
    const fire = testAlarm({
      id: 'a1',
      deviceId: 'fp-main',
      ruleId: 'fire',
      priority: 1,
      location: { loop: '1', point: '23', position: [60, 205] },
    });
    const cleared = testAlarm({
      id: 'a2',
      deviceId: 'fp-main',
      conditionActive: false,
      location: { point: '7', position: [1, 1] },
    });
    const unlocated = testAlarm({ id: 'a3', deviceId: 'fp-main' });
    expect(locatedAlarms([fire, cleared, unlocated], fire.siteId)).toEqual([
      {
        alarmId: 'a1',
        deviceId: 'fp-main',
        position: [60, 205],
        priority: 1,
        unacknowledged: fire.state === 'active-unacknowledged',
      },
    ]);
    expect(locatedAlarms([fire], 'elsewhere')).toEqual([]);
  });
});
