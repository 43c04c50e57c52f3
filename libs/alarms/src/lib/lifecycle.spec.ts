import fc from 'fast-check';

import type { Alarm, AlarmPriority, RuleSignal } from '@vigil/contracts';

import type { Actor } from './actor';
import {
  applyCommand,
  applySignal,
  dueTransition,
  isOpen,
  nextDueAt,
  type OperatorCommand,
} from './lifecycle';
import { DEFAULT_ALARM_POLICY as POLICY } from './policy';

let ids = 0;
const context = { newId: () => `a${++ids}` };
const zhang: Actor = { id: 'zhang', role: 'operator' };
const li: Actor = { id: 'li', role: 'operator' };
const wang: Actor = { id: 'wang', role: 'supervisor' };
const PATH = ['ent-huaxin', 'park-chem', 'county-east', 'city-demo'];

function signal(
  active: boolean,
  detectedAt: number,
  overrides: Partial<RuleSignal> = {},
): RuleSignal {
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
    at: detectedAt - 5,
    detectedAt,
    ...overrides,
  };
}

function raised(overrides: Partial<RuleSignal> = {}, at = 1000): Alarm {
  const transition = applySignal(undefined, signal(true, at, overrides), context);
  if (!transition) throw new Error('expected a raise');
  return transition.alarm;
}

function run(
  alarm: Alarm | undefined,
  command: OperatorCommand,
  actor: Actor = zhang,
  at = 2000,
): Alarm {
  const result = applyCommand(alarm, command, actor, at, POLICY);
  if (!result.ok) throw new Error(`${command.action}: ${result.message}`);
  return result.transition.alarm;
}

function refused(alarm: Alarm | undefined, command: OperatorCommand, actor: Actor = zhang): number {
  const result = applyCommand(alarm, command, actor, 2000, POLICY);
  if (result.ok) throw new Error(`${command.action} should have been refused`);
  return result.status;
}

describe('alarm states (ISA-18.2 / IEC 62682)', () => {
  it('raise → active-unacknowledged, with the signal context and its own group', () => {
    const alarm = raised();
    expect(alarm).toMatchObject({
      state: 'active-unacknowledged',
      conditionActive: true,
      openedAt: 1000,
    });
    expect(alarm.groupId).toBe(alarm.id);
  });

  it('repeated and re-delivered active signals change nothing (one alarm per key)', () => {
    expect(applySignal(raised(), signal(true, 1500), context)).toBeUndefined();
  });

  it('clear while unacknowledged → returned-unacknowledged; acknowledge → normal', () => {
    const returned = applySignal(
      raised({ priority: 3 }),
      signal(false, 1500, { priority: 3 }),
      context,
    )?.alarm;
    expect(returned?.state).toBe('returned-unacknowledged');
    const normal = run(returned, { action: 'acknowledge' });
    expect(normal.state).toBe('normal');
    expect(isOpen(normal, POLICY)).toBe(false);
  });

  it('acknowledge while active → active-acknowledged and the first to acknowledge owns it', () => {
    const acked = run(raised(), { action: 'acknowledge', note: 'going' });
    expect(acked).toMatchObject({
      state: 'active-acknowledged',
      acknowledgedBy: 'zhang',
      owner: 'zhang',
    });
    expect(refused(acked, { action: 'acknowledge' })).toBe(409);
  });

  it('a P1/P2 process alarm stays open after it returns to normal until it is disposed (闭环)', () => {
    const acked = run(raised(), { action: 'acknowledge' });
    const normal = applySignal(acked, signal(false, 3000), context)?.alarm as Alarm;
    expect(normal.state).toBe('normal');
    expect(isOpen(normal, POLICY)).toBe(true);
    const disposed = run(normal, {
      action: 'dispose',
      disposition: 'false-alarm',
      note: 'calibration gas',
    });
    expect(isOpen(disposed, POLICY)).toBe(false);
  });

  it('re-activates the same alarm when its condition returns before it closes', () => {
    const first = raised();
    const returned = applySignal(first, signal(false, 1500), context)?.alarm;
    const again = applySignal(returned, signal(true, 1600), context)?.alarm;
    expect(again).toMatchObject({
      id: first.id,
      state: 'active-unacknowledged',
      conditionActive: true,
    });
  });

  it('a latched alarm stays active after the condition clears and needs a reset', () => {
    const latched = raised({
      latched: true,
      priority: 1,
      level: 'L2',
      ruleId: 'gas-l2',
      key: 'plant-1/gc-1/gas-l2',
    });
    expect(refused(latched, { action: 'reset' })).toBe(409);
    const cleared = applySignal(
      latched,
      signal(false, 1500, { latched: true, key: latched.key }),
      context,
    )?.alarm;
    expect(cleared).toMatchObject({ state: 'active-unacknowledged', conditionActive: false });
    expect(run(cleared, { action: 'reset', note: 'checked' })).toMatchObject({
      state: 'normal',
      owner: 'zhang',
    });
    expect(refused(raised(), { action: 'reset' })).toBe(409);
  });
});

describe('updates of an active alarm', () => {
  it('records a level change (e.g. a major-hazard grade) and the chattering flag as updates of the same alarm', () => {
    const alarm = raised({ level: 'grade-3', priority: 3 });
    const upgraded = applySignal(
      alarm,
      signal(true, 1500, { level: 'grade-2', priority: 2 }),
      context,
    );
    expect(upgraded?.action.action).toBe('update');
    expect(upgraded?.alarm).toMatchObject({ id: alarm.id, level: 'grade-2', priority: 2 });
    const chattering = applySignal(
      upgraded?.alarm,
      signal(true, 1600, { level: 'grade-2', priority: 2, chattering: true }),
      context,
    );
    expect(chattering?.alarm.chattering).toBe(true);
  });
});

describe('operator actions and permissions', () => {
  it('shelves with a named user, reason and expiry; unshelves', () => {
    const alarm = raised({ priority: 3 });
    const shelved = run(alarm, { action: 'shelve', reason: 'sensor under repair', minutes: 30 });
    expect(shelved.shelved).toEqual({
      by: 'zhang',
      reason: 'sensor under repair',
      until: 2000 + 30 * 60_000,
    });
    expect(run(shelved, { action: 'unshelve' }).shelved).toBeUndefined();
    expect(refused(alarm, { action: 'unshelve' })).toBe(409);
  });

  it('refuses shelving P1, P2 by an operator, without a reason, or beyond 8 hours', () => {
    expect(refused(raised({ priority: 1 }), { action: 'shelve', reason: 'x', minutes: 5 })).toBe(
      409,
    );
    expect(refused(raised({ priority: 2 }), { action: 'shelve', reason: 'x', minutes: 5 })).toBe(
      403,
    );
    expect(
      run(raised({ priority: 2 }), { action: 'shelve', reason: 'x', minutes: 5 }, wang).shelved?.by,
    ).toBe('wang');
    expect(refused(raised({ priority: 3 }), { action: 'shelve', reason: ' ', minutes: 5 })).toBe(
      400,
    );
    expect(
      refused(raised({ priority: 3 }), { action: 'shelve', reason: 'x', minutes: 9 * 60 }),
    ).toBe(400);
  });

  it('comments, hands over and disposes; only the owner or a supervisor acts on an owned alarm', () => {
    const owned = run(raised(), { action: 'acknowledge' });
    expect(
      run(owned, { action: 'comment', note: 'smell of gas near T-101' }, li).history.at(-1),
    ).toMatchObject({
      action: 'comment',
      by: 'li',
    });
    expect(refused(owned, { action: 'dispose', disposition: 'real-event', note: 'x' }, li)).toBe(
      403,
    );
    expect(refused(owned, { action: 'assign', to: 'li' }, li)).toBe(403);
    const handed = run(owned, { action: 'assign', to: 'li', note: 'shift change' });
    expect(handed.owner).toBe('li');
    const disposed = run(
      handed,
      { action: 'dispose', disposition: 'real-event', note: 'valve packing leak, isolated' },
      li,
    );
    expect(disposed.disposition).toMatchObject({ kind: 'real-event', by: 'li' });
    expect(refused(disposed, { action: 'dispose', disposition: 'test', note: 'x' }, wang)).toBe(
      409,
    );
    expect(
      run(owned, { action: 'dispose', disposition: 'test', note: 'drill' }, wang).disposition?.by,
    ).toBe('wang');
  });

  it('validates disposition kinds, notes and unknown alarms', () => {
    expect(refused(raised(), { action: 'dispose', disposition: 'oops' as never, note: 'x' })).toBe(
      400,
    );
    expect(refused(raised(), { action: 'dispose', disposition: 'test', note: '' })).toBe(400);
    expect(refused(raised(), { action: 'comment', note: '  ' })).toBe(400);
    expect(refused(undefined, { action: 'acknowledge' })).toBe(404);
  });
});

describe('escalation and deadlines (virtual time)', () => {
  it('escalates an unacknowledged P1 up the tree every minute, then stops at the city', () => {
    let alarm = raised({ priority: 1 }, 0);
    expect(nextDueAt(alarm, POLICY, PATH)).toBe(60_000);
    expect(dueTransition(alarm, 59_999, POLICY, PATH)).toBeUndefined();
    const levels: string[] = [];
    for (let now = 60_000; now <= 10 * 60_000; now += 1000) {
      const step = dueTransition(alarm, now, POLICY, PATH);
      if (step?.action.action === 'escalate') {
        levels.push(`${now / 1000}s:${step.alarm.escalation?.nodeId}`);
        alarm = step.alarm;
      }
    }
    expect(levels).toEqual(['60s:park-chem', '120s:county-east', '180s:city-demo']);
  });

  it('stops escalating once acknowledged, and marks the alarm overdue when not disposed in time', () => {
    const acked = run(raised({ priority: 1 }, 0), { action: 'acknowledge' }, zhang, 30_000);
    expect(dueTransition(acked, 120_000, POLICY, PATH)).toBeUndefined();
    const overdue = dueTransition(acked, 30 * 60_000, POLICY, PATH);
    expect(overdue?.action.action).toBe('overdue');
    expect(overdue?.alarm).toMatchObject({
      overdue: true,
      escalation: { level: 1, nodeId: 'park-chem' },
    });
    expect(dueTransition(overdue?.alarm as Alarm, 31 * 60_000, POLICY, PATH)).toBeUndefined();
    const disposed = run(
      acked,
      { action: 'dispose', disposition: 'real-event', note: 'fixed' },
      zhang,
      60_000,
    );
    expect(dueTransition(disposed, 30 * 60_000, POLICY, PATH)).toBeUndefined();
  });

  it('ends shelving at its expiry and does not escalate a shelved or suppressed alarm', () => {
    const shelved = run(
      raised({ priority: 3 }, 0),
      { action: 'shelve', reason: 'repair', minutes: 60 },
      zhang,
      0,
    );
    expect(dueTransition(shelved, 20 * 60_000, POLICY, PATH)).toBeUndefined();
    expect(dueTransition(shelved, 60 * 60_000, POLICY, PATH)?.alarm.shelved).toBeUndefined();
    const suppressed = applySignal(undefined, signal(true, 0, { priority: 1 }), {
      ...context,
      suppressedBy: [{ kind: 'maintenance', since: 0, by: 'wang', reason: 'calibration' }],
    })?.alarm as Alarm;
    expect(suppressed.suppressed).toBe('maintenance');
    expect(dueTransition(suppressed, 3_600_000, POLICY, PATH)).toBeUndefined();
  });
});

describe('exactly one alarm per key (property)', () => {
  it('any interleaving of duplicated, re-delivered and reordered signals keeps one alarm per key and never two raises in a row', () => {
    const keys = ['plant-1/a/gas-l1', 'plant-1/b/gas-l1', 'plant-1/a/gas-l2'];
    const event = fc.record({
      key: fc.constantFrom(...keys),
      active: fc.boolean(),
      copies: fc.integer({ min: 1, max: 4 }),
      priority: fc.constantFrom<AlarmPriority>(1, 2, 3, 4),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), events => {
        const open = new Map<string, Alarm>();
        const lastAction = new Map<string, string>();
        let now = 0;
        for (const { key, active, copies, priority } of events) {
          for (let copy = 0; copy < copies; copy += 1) {
            now += 1;
            const t = applySignal(open.get(key), signal(active, now, { key, priority }), context);
            if (!t) continue;
            // Never a raise on a raise, nor a clear on a clear, for the same key; a changed
            // priority of an active alarm is an update of that alarm, not a second raise.
            if (t.action.action !== 'update') {
              expect(t.action.action).not.toBe(lastAction.get(key));
              lastAction.set(key, t.action.action);
            }
            if (isOpen(t.alarm, POLICY)) open.set(key, t.alarm);
            else open.delete(key);
          }
        }
        const ids = [...open.values()].map(alarm => alarm.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set([...open.values()].map(alarm => alarm.key)).size).toBe(open.size);
      }),
    );
  });
});
