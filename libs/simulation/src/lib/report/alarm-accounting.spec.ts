import type { RaiseEvent } from '../observe/alarm-watcher';
import { matchAlarms, standingAtStart } from './alarm-accounting';

const raise = (
  deviceId: string,
  ruleId: string,
  receivedAt: number,
  via: 'ws' | 'rest' = 'ws',
): RaiseEvent => ({
  alarmId: `${deviceId}-${ruleId}-${receivedAt}`,
  siteId: 's',
  deviceId,
  ruleId,
  level: undefined,
  raisedAt: 1000,
  detectedAt: receivedAt - 2,
  receivedAt,
  via,
});

describe('matchAlarms', () => {
  it('sorts raises into exactly once, missed, duplicated, unexpected', () => {
    const expected = ['a', 'b', 'c', 'd'].map(deviceId => ({
      siteId: 's',
      deviceId,
      ruleId: 'gas-l2',
      publishedAt: 1000,
    }));
    const match = matchAlarms(expected, [
      raise('a', 'gas-l2', 1010),
      raise('b', 'gas-l2', 1020),
      raise('b', 'gas-l2', 1500),
      raise('d', 'gas-l2', 1030, 'rest'),
      raise('x', 'offline', 2000),
      raise('y', 'offline', 2000),
    ]);
    expect(match.accounting).toEqual({
      expected: 4,
      exactlyOnce: 2,
      missed: 1,
      duplicated: 1,
      unexpected: 2,
      missedOnWebSocket: 1,
      unexpectedByRule: { offline: 2 },
    });
    expect(match.wsLatenciesMs).toEqual([10, 20]);
    expect(match.detectionLatenciesMs).toEqual([8, 18]);
  });
});

describe('standingAtStart', () => {
  // The 2026-12-08 bench: a run resumed another run's broker session; the replayed excursions
  // left gas-l1 standing (30 s off-delay) on detectors the run then provoked again.
  const expected = ['a', 'b', 'c'].flatMap(deviceId =>
    ['gas-l1', 'gas-l2'].map(ruleId => ({ siteId: 's', deviceId, ruleId, publishedAt: 1000 })),
  );
  const open = (deviceId: string, ruleId: string, conditionActive: boolean) => ({
    id: `${deviceId}-${ruleId}`,
    siteId: 's',
    deviceId,
    ruleId,
    conditionActive,
  });

  it('counts the provoked alarms already active before the run, and those never raised again', () => {
    const result = standingAtStart(
      expected,
      [
        open('a', 'gas-l1', true),
        open('a', 'gas-l2', true),
        open('b', 'gas-l1', true),
        // Latched, condition gone: a new excursion raises it again, so it does not stand.
        open('c', 'gas-l2', false),
        open('z', 'gas-l1', true),
      ],
      [raise('a', 'gas-l2', 1010), raise('b', 'gas-l1', 1020)],
    );
    expect(result).toEqual({ standing: 3, missed: 1 });
  });

  it('finds nothing on a fresh target', () => {
    expect(standingAtStart(expected, [], [])).toEqual({ standing: 0, missed: 0 });
  });
});
