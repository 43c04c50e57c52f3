import type { Alarm, RuleSignal } from '@vigil/contracts';

import { acknowledge, applySignal, reset } from './alarm-lifecycle';

let ids = 0;
const newId = () => `alarm-${++ids}`;

function signal(active: boolean, at: number, overrides: Partial<RuleSignal> = {}): RuleSignal {
  return {
    key: 'plant-1/gc-1/gas-l1',
    ruleId: 'gas-l1',
    siteId: 'plant-1',
    deviceId: 'gc-1',
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority: 2,
    level: 'L1',
    active,
    latched: false,
    metric: 'lel',
    value: active ? 30 : 10,
    threshold: 25,
    message: active ? 'raised' : 'cleared',
    at,
    detectedAt: at + 1,
    ...overrides,
  };
}

function raise(overrides: Partial<RuleSignal> = {}): Alarm {
  const transition = applySignal(undefined, signal(true, 1000, overrides), newId);
  if (!transition) throw new Error('expected a raise');
  return transition.alarm;
}

describe('alarm lifecycle (ISA-18.2)', () => {
  it('raises an alarm active-unacknowledged with its context', () => {
    expect(raise()).toMatchObject({
      state: 'active-unacknowledged',
      conditionActive: true,
      raisedAt: 1000,
      history: [{ action: 'raise', at: 1001 }],
    });
  });

  it('ignores a repeated active signal: one alarm per key', () => {
    expect(applySignal(raise(), signal(true, 2000), newId)).toBeUndefined();
  });

  it('clear before acknowledgement → returned-unacknowledged; acknowledgement then closes it', () => {
    const returned = applySignal(raise(), signal(false, 2000), newId)?.alarm;
    expect(returned?.state).toBe('returned-unacknowledged');
    const closed = acknowledge(returned, 'op', undefined, 3000);
    expect(closed.ok && closed.transition.alarm.state).toBe('normal');
  });

  it('acknowledgement before the clear → active-acknowledged; the clear closes it', () => {
    const acked = acknowledge(raise(), 'op', 'seen', 1500);
    expect(acked.ok && acked.transition.alarm).toMatchObject({
      state: 'active-acknowledged',
      acknowledgedBy: 'op',
    });
    const closed = acked.ok
      ? applySignal(acked.transition.alarm, signal(false, 2000), newId)
      : undefined;
    expect(closed?.alarm.state).toBe('normal');
  });

  it('re-activates the same alarm while it is returned-unacknowledged', () => {
    const first = raise();
    const returned = applySignal(first, signal(false, 2000), newId)?.alarm;
    const again = applySignal(returned, signal(true, 3000), newId)?.alarm;
    expect(again).toMatchObject({
      id: first.id,
      state: 'active-unacknowledged',
      conditionActive: true,
    });
  });

  it('keeps a latched alarm active after its condition clears, until reset', () => {
    const latched = raise({ latched: true, ruleId: 'gas-l2', level: 'L2' });
    const cleared = applySignal(latched, signal(false, 2000, { latched: true }), newId)?.alarm;
    expect(cleared).toMatchObject({ state: 'active-unacknowledged', conditionActive: false });
    expect(reset(latched, 'op', undefined, 1500)).toMatchObject({ ok: false, status: 409 });
    const done = reset(cleared, 'op', 'checked on site', 2500);
    expect(done.ok && done.transition.alarm).toMatchObject({
      state: 'normal',
      acknowledgedBy: 'op',
    });
  });

  it('refuses actions that make no sense', () => {
    expect(acknowledge(undefined, 'op', undefined, 1)).toMatchObject({ ok: false, status: 404 });
    const acked = acknowledge(raise(), 'op', undefined, 1500);
    expect(acked.ok && acknowledge(acked.transition.alarm, 'op', undefined, 1600)).toMatchObject({
      ok: false,
      status: 409,
    });
  });
});
