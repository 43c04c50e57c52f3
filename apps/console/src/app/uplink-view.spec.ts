import type { UplinkEnterprise } from '@vigil/contracts';

import { approvable, pendingApproval, summariseEnterprise, uplinkFeatures } from './uplink-view';

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

  describe('approvable (批准销号 at the upper)', () => {
    const major = (over: Record<string, unknown> = {}) =>
      ({
        hazardId: 'h-1',
        level: 'major',
        state: 'accepted',
        steps: [{ seq: 4, transition: 'accept', state: 'accepted', at: NOW }],
        ...over,
      }) as unknown as UplinkEnterprise['hazards'][number];
    const approval = (over: Record<string, unknown> = {}) =>
      ({
        seq: 1,
        id: 'o-1',
        kind: 'approve',
        hazardId: 'h-1',
        ...over,
      }) as unknown as UplinkEnterprise['orders'][number];

    it('offers a major hazard the enterprise accepted, nothing else', () => {
      expect(approvable(enterprise(), major())).toBe(true);
      expect(approvable(enterprise(), major({ level: 'general' }))).toBe(false);
      for (const state of ['reported', 'assigned', 'rectifying', 'rectified', 'closed'])
        expect(approvable(enterprise(), major({ state }))).toBe(false);
    });

    it('not once its approve step came back up', () => {
      const steps = [
        { seq: 4, transition: 'accept', state: 'accepted', at: NOW },
        { seq: 5, transition: 'approve', state: 'accepted', at: NOW, by: 'city-demo:chen' },
      ];
      expect(approvable(enterprise(), major({ steps }))).toBe(false);
    });

    it('not while an approval of it is on its way down; again once the lower refused it', () => {
      const pending = enterprise({ orders: [approval()] });
      expect(pendingApproval(pending, 'h-1')?.id).toBe('o-1');
      expect(approvable(pending, major())).toBe(false);
      // Another hazard's approval, or a plain order about this one, does not count.
      expect(approvable(enterprise({ orders: [approval({ hazardId: 'h-2' })] }), major())).toBe(
        true,
      );
      expect(approvable(enterprise({ orders: [approval({ kind: 'order' })] }), major())).toBe(true);
      const refused = enterprise({
        orders: [approval({ outcome: { outcome: 'refused', message: 'not accepted', at: NOW } })],
      });
      expect(pendingApproval(refused, 'h-1')).toBeUndefined();
      expect(approvable(refused, major())).toBe(true);
    });
  });
});
