import type { Alarm, RuleSignal, SuppressionCause } from '@vigil/contracts';

import { applyCommand, applySignal, dueTransition, nextDueAt } from './lifecycle';
import { DEFAULT_ALARM_POLICY as POLICY } from './policy';
import { reconcileSuppression, suppressionCauses, type LiveCauses } from './suppression';

const PATH = ['ent-huaxin', 'park-chem', 'county-east', 'city-demo'];
const MIN = 60_000;
let ids = 0;
const newId = () => `s${++ids}`;

function signal(active: boolean, at: number, overrides: Partial<RuleSignal> = {}): RuleSignal {
  return {
    key: 'plant-1/gc-1/gas-l2',
    ruleId: 'gas-l2',
    siteId: 'plant-1',
    deviceId: 'gc-1',
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority: 1,
    level: 'L2',
    active,
    latched: false,
    metric: 'lel',
    value: active ? 60 : 5,
    threshold: 50,
    message: active ? 'raised' : 'cleared',
    at,
    detectedAt: at,
    ...overrides,
  };
}

const maintenance: LiveCauses = {
  deviceMode: { mode: 'maintenance', by: 'wang', reason: 'calibration', at: 0 },
};
const gatewayDown: LiveCauses = { offlineGateway: { gatewayId: 'gw-1', since: 0 } };
const none: LiveCauses = {};

function raise(
  at: number,
  causes: readonly SuppressionCause[],
  overrides: Partial<RuleSignal> = {},
) {
  const transition = applySignal(undefined, signal(true, at, overrides), {
    newId,
    suppressedBy: causes,
  });
  if (!transition) throw new Error('expected a raise');
  return transition.alarm;
}

describe(suppressionCauses.name, () => {
  it('hides every alarm of a device in maintenance, with who and why', () => {
    expect(suppressionCauses({ category: 'process', level: 'L2' }, maintenance)).toEqual([
      { kind: 'maintenance', since: 0, by: 'wang', reason: 'calibration' },
    ]);
  });

  it('lets an offline gateway hide only the offline and data-quality alarms of its children', () => {
    for (const level of ['offline', 'gateway-offline', 'stuck', 'range', 'clock'])
      expect(suppressionCauses({ category: 'quality', level }, gatewayDown)).toEqual([
        { kind: 'parent-offline', since: 0, gatewayId: 'gw-1' },
      ]);
    // Process alarms, warnings and faults a device reports itself are never hidden by a parent.
    expect(suppressionCauses({ category: 'process', level: 'L2' }, gatewayDown)).toEqual([]);
    expect(suppressionCauses({ category: 'process', level: 'HH' }, gatewayDown)).toEqual([]);
    expect(suppressionCauses({ category: 'warning', level: 'trend' }, gatewayDown)).toEqual([]);
    expect(suppressionCauses({ category: 'quality', level: 'fault' }, gatewayDown)).toEqual([]);
  });
});

describe(reconcileSuppression.name, () => {
  it('shows an alarm raised in maintenance the moment maintenance ends, and escalates it from then', () => {
    const hidden = raise(
      1000,
      suppressionCauses({ category: 'process', level: 'L2' }, maintenance),
    );
    expect(hidden.suppressed).toBe('maintenance');
    expect(
      reconcileSuppression(hidden, suppressionCauses(hidden, maintenance), 5000),
    ).toBeUndefined();
    // Hidden for an hour: never escalated meanwhile.
    expect(dueTransition(hidden, 60 * MIN, POLICY, PATH)).toBeUndefined();
    expect(nextDueAt(hidden, POLICY, PATH)).toBeUndefined();

    const shown = reconcileSuppression(hidden, suppressionCauses(hidden, none), 60 * MIN);
    expect(shown?.action).toMatchObject({ action: 'unsuppress', note: 'maintenance ended' });
    const alarm = shown?.alarm as Alarm;
    expect(alarm.suppressed).toBeUndefined();
    expect(alarm.suppressedBy).toBeUndefined();
    expect(alarm.shownAt).toBe(60 * MIN);
    expect(alarm.state).toBe('active-unacknowledged');
    // The P1 acknowledgement clock (60 s) and the disposal clock start when it is shown.
    expect(dueTransition(alarm, 60 * MIN + 59_000, POLICY, PATH)).toBeUndefined();
    expect(nextDueAt(alarm, POLICY, PATH)).toBe(61 * MIN);
    expect(dueTransition(alarm, 61 * MIN, POLICY, PATH)?.action.action).toBe('escalate');
    // Re-evaluating again changes nothing.
    expect(reconcileSuppression(alarm, [], 62 * MIN)).toBeUndefined();
  });

  it('raises a new leak on the same alarm after maintenance visibly (no suppression carried over)', () => {
    const hidden = raise(
      1000,
      suppressionCauses({ category: 'process', level: 'L2' }, maintenance),
    );
    const cleared = applySignal(hidden, signal(false, 2000), { newId })?.alarm as Alarm;
    expect(cleared.suppressed).toBe('maintenance');
    const shown = reconcileSuppression(cleared, [], 3000)?.alarm as Alarm;
    const again = applySignal(shown, signal(true, 4000), { newId })?.alarm as Alarm;
    expect(again.id).toBe(hidden.id); // one alarm per key
    expect(again.suppressed).toBeUndefined();
    expect(again.state).toBe('active-unacknowledged');
    expect(dueTransition(again, 4000 + 60_000, POLICY, PATH)?.action.action).toBe('escalate');
  });

  it('records each cause and follows them as they begin and end', () => {
    const offline = raise(1000, [], {
      key: 'plant-1/gc-1/offline',
      ruleId: 'offline',
      category: 'quality',
      level: 'offline',
      priority: 2,
    });
    const both = suppressionCauses(offline, { ...maintenance, ...gatewayDown });
    const suppressed = reconcileSuppression(offline, both, 2000);
    expect(suppressed?.action).toMatchObject({
      action: 'suppress',
      note: 'maintenance by wang: calibration; gateway gw-1 offline',
    });
    expect(suppressed?.alarm.suppressedBy).toHaveLength(2);
    // Maintenance ends, the gateway is still offline: still hidden, by the gateway only.
    const gatewayOnly = reconcileSuppression(
      suppressed?.alarm as Alarm,
      suppressionCauses(offline, gatewayDown),
      3000,
    )?.alarm as Alarm;
    expect(gatewayOnly.suppressed).toBe('parent-offline');
    expect(gatewayOnly.suppressedBy).toEqual([
      { kind: 'parent-offline', since: 0, gatewayId: 'gw-1' },
    ]);
    expect(gatewayOnly.shownAt).toBeUndefined();
    const back = reconcileSuppression(gatewayOnly, [], 4000)?.alarm as Alarm;
    expect(back.shownAt).toBe(4000);
    expect(back.history.map(entry => entry.action)).toEqual([
      'raise',
      'suppress',
      'suppress',
      'unsuppress',
    ]);
  });

  it('unsuppresses an alarm restored from an old journal that carries only the kind', () => {
    const old = { ...raise(1000, []), suppressed: 'parent-offline' as const };
    const shown = reconcileSuppression(old, [], 2000);
    expect(shown?.action.action).toBe('unsuppress');
    expect(shown?.alarm.suppressed).toBeUndefined();
  });

  it('keeps a shelved alarm hidden until its shelving ends, then escalates from that moment', () => {
    const alarm = raise(0, [], { priority: 3, level: 'L1' });
    const shelved = applyCommand(
      alarm,
      { action: 'shelve', reason: 'sensor swap', minutes: 60 },
      { id: 'zhang', role: 'operator' },
      0,
      POLICY,
    );
    if (!shelved.ok) throw new Error(shelved.message);
    const expired = dueTransition(shelved.transition.alarm, 60 * MIN, POLICY, PATH);
    expect(expired?.action).toMatchObject({ action: 'unshelve', note: 'shelving expired' });
    expect(expired?.alarm.shownAt).toBe(60 * MIN);
    // P3 must be acknowledged within 15 min of being shown, not of being raised an hour ago.
    expect(dueTransition(expired?.alarm as Alarm, 60 * MIN + 1, POLICY, PATH)).toBeUndefined();
    expect(dueTransition(expired?.alarm as Alarm, 75 * MIN, POLICY, PATH)?.action.action).toBe(
      'escalate',
    );
  });

  it('does not show a shelved alarm when its suppression ends: the shelving still hides it', () => {
    const alarm = { ...raise(0, []), shelved: { by: 'zhang', reason: 'x', until: 10 * MIN } };
    const suppressed = reconcileSuppression(alarm, suppressionCauses(alarm, maintenance), 1000);
    const unsuppressed = reconcileSuppression(suppressed?.alarm as Alarm, [], 2000);
    expect(unsuppressed?.alarm.shownAt).toBeUndefined();
  });
});
