import type { Alarm } from '@vigil/contracts';

import { testAlarm } from './alarm.fixture';
import { decideTone, muteCurrent, newChimes, NO_MUTE } from './annunciator';

const NOW = 5_000_000;

describe('annunciator decisions', () => {
  it('loops the most urgent tone while any unacknowledged P1/P2 exists', () => {
    expect(decideTone([], NO_MUTE, NOW)).toBe('off');
    expect(decideTone([testAlarm({ priority: 3 })], NO_MUTE, NOW)).toBe('off');
    expect(decideTone([testAlarm({ priority: 2 })], NO_MUTE, NOW)).toBe('p2');
    expect(decideTone([testAlarm({ priority: 2 }), testAlarm({ priority: 1 })], NO_MUTE, NOW)).toBe(
      'p1',
    );
  });

  it('stops on acknowledge, and does not sound again when the value returns to normal', () => {
    const alarm = testAlarm({ priority: 1 });
    const acknowledged: Alarm = { ...alarm, state: 'active-acknowledged' };
    const returned: Alarm = { ...alarm, state: 'returned-unacknowledged', conditionActive: false };
    expect(decideTone([acknowledged], NO_MUTE, NOW)).toBe('off');
    expect(decideTone([returned], NO_MUTE, NOW)).toBe('off');
  });

  it('never sounds for shelved or suppressed alarms', () => {
    expect(
      decideTone(
        [testAlarm({ priority: 1, shelved: { by: 'li', reason: 'r', until: NOW + 60_000 } })],
        NO_MUTE,
        NOW,
      ),
    ).toBe('off');
    expect(decideTone([testAlarm({ priority: 1, suppressed: 'maintenance' })], NO_MUTE, NOW)).toBe(
      'off',
    );
  });

  it('mutes the current alarms for N seconds, but never a new alarm', () => {
    const current = testAlarm({ priority: 1 });
    const mute = muteCurrent([current], 30, NOW);
    expect(decideTone([current], mute, NOW + 1000)).toBe('muted');
    const newcomer = testAlarm({ priority: 2 });
    expect(decideTone([current, newcomer], mute, NOW + 1000)).toBe('p2');
    expect(decideTone([current], mute, NOW + 30_001)).toBe('p1');
  });

  it('sounds again when a muted alarm is raised again after it returned', () => {
    const alarm = testAlarm({
      id: 'r',
      priority: 1,
      history: [{ action: 'raise', at: 1, by: undefined, note: undefined }],
    });
    const mute = muteCurrent([alarm], 60, NOW);
    const again: Alarm = {
      ...alarm,
      history: [...alarm.history, { action: 'raise', at: 2, by: undefined, note: undefined }],
    };
    expect(decideTone([again], mute, NOW + 1000)).toBe('p1');
  });

  it('chimes once per new P3 activation', () => {
    const chimed = new Set<string>();
    const p3 = testAlarm({ priority: 3 });
    expect(newChimes([p3], chimed, NOW)).toBe(1);
    expect(newChimes([p3], chimed, NOW)).toBe(0);
    expect(
      newChimes([p3, testAlarm({ priority: 3 }), testAlarm({ priority: 2 })], chimed, NOW),
    ).toBe(1);
  });
});
