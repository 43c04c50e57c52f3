import type { RaiseEvent } from '../observe/alarm-watcher';
import { matchAlarms } from './alarm-accounting';

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
