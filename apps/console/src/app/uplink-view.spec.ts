import type { UplinkEnterprise } from '@vigil/contracts';

import { summariseEnterprise, uplinkFeatures } from './uplink-view';

const NOW = 1_800_000_000_000;

function enterprise(over: Partial<UplinkEnterprise> = {}): UplinkEnterprise {
  return {
    enterpriseCode: '91310000MA1K4XY83B',
    name: '华新化工',
    node: 'park-chem',
    acked: 0,
    lastReceivedAt: undefined,
    gaps: [],
    received: { realtime: 0, alarm: 0, hazard: 0 },
    alarms: [],
    hazards: [],
    realtime: [],
    orders: [],
    ...over,
  };
}

const alarm = (priority: number, state: string) =>
  ({
    priority,
    state,
    alarmId: `a-${priority}-${state}`,
  }) as unknown as UplinkEnterprise['alarms'][number];
const hazard = (state: string, overdue: boolean) =>
  ({ state, overdue, hazardId: `h-${state}` }) as unknown as UplinkEnterprise['hazards'][number];

describe('uplink view', () => {
  it('counts open alarms by priority, not the ones back to normal', () => {
    const summary = summariseEnterprise(
      enterprise({
        alarms: [
          alarm(1, 'active-unacknowledged'),
          alarm(1, 'active-acknowledged'),
          alarm(3, 'returned-unacknowledged'),
          alarm(2, 'normal'),
        ],
      }),
      NOW,
    );
    expect(summary.openByPriority).toEqual([2, 0, 1, 0]);
  });

  it('counts hazards by state and the overdue ones not closed', () => {
    const summary = summariseEnterprise(
      enterprise({
        hazards: [hazard('rectifying', true), hazard('rectifying', false), hazard('closed', true)],
      }),
      NOW,
    );
    expect(summary.hazardsByState).toEqual({ rectifying: 2, closed: 1 });
    expect(summary.overdue).toBe(1);
  });

  it('calls a link stale when nothing came for five minutes or ever', () => {
    expect(summariseEnterprise(enterprise(), NOW)).toMatchObject({
      silentMinutes: undefined,
      stale: true,
    });
    expect(summariseEnterprise(enterprise({ lastReceivedAt: NOW - 61_000 }), NOW)).toMatchObject({
      silentMinutes: 1,
      stale: false,
    });
    expect(
      summariseEnterprise(enterprise({ lastReceivedAt: NOW - 5 * 60_000 }), NOW),
    ).toMatchObject({ silentMinutes: 5, stale: true });
  });

  it('derives the uplink sides from the answers: 404 means not configured', () => {
    expect(uplinkFeatures(404, 404)).toEqual({ upper: false, lower: false, settled: true });
    expect(uplinkFeatures(200, 404)).toEqual({ upper: true, lower: false, settled: true });
    expect(uplinkFeatures(404, 200)).toEqual({ upper: false, lower: true, settled: true });
    expect(uplinkFeatures(403, 404)).toEqual({ upper: true, lower: false, settled: true });
  });

  it('does not settle on no answer or a server error (the console asks again)', () => {
    expect(uplinkFeatures(0, 404)).toEqual({ upper: false, lower: false, settled: false });
    expect(uplinkFeatures(200, 503)).toEqual({ upper: true, lower: false, settled: false });
  });
});
