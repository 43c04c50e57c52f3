import { TestScheduler } from 'rxjs/testing';

import type { DeviceEvent, RuleSignal } from '@vigil/contracts';

import { context, lelRecord, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { deviceEvent, deviceEventRecord } from '../testing/records';
import { eventConfig } from '../testing/rule-configs';
import { firePanelRules } from './default-rules';
import { type FirePanelMap, MAX_EVENT_ADDRESSES, eventAddress } from './event-address';
import { singleRule } from './single-rule.operator';
import {
  EVENT_INACTIVE,
  type EventDevice,
  type EventState,
  reduceEvent,
  removedEventSignals,
} from './event.reducer';
import type { EventRuleConfig } from './rule-config';

function run(rule: EventRuleConfig, events: DeviceEvent[], device?: EventDevice) {
  return runAll(EVENT_INACTIVE, events, (state, input) =>
    reduceEvent(state, input, rule, context, device),
  );
}

const brief = (signal: { active: boolean; at: number }) => [signal.active, signal.at];

describe(reduceEvent.name, () => {
  it('holds each point’s fire until the panel resets, once per point however many events come', () => {
    const signals = run(eventConfig(), [
      deviceEvent('fp', 'fire', 1, { loop: 1, address: 23 }),
      deviceEvent('fp', 'fire', 2, { loop: 1, address: 24 }), // another point: its own alarm
      deviceEvent('fp', 'fire', 3, { loop: 1, address: 23 }), // already active
      deviceEvent('fp', 'fault', 3), // another code: nothing
      deviceEvent('fp', 'reset', 4),
      deviceEvent('fp', 'reset', 5), // nothing to clear
    ]);
    expect(signals.map(signal => [signal.key, signal.active, signal.at])).toEqual([
      ['plant-1/fp/fire/L1.P23', true, 1],
      ['plant-1/fp/fire/L1.P24', true, 2],
      ['plant-1/fp/fire/L1.P23', false, 4],
      ['plant-1/fp/fire/L1.P24', false, 4],
    ]);
    expect(signals[0]).toMatchObject({
      priority: 1,
      category: 'process',
      latched: true,
      level: 'fire',
      value: undefined,
      areaId: 'control-room', // no registry map: the panel's own area
      location: { loop: '1', point: '23' },
      message: 'Unconfirmed fire at loop 1 point 23 (loop=1 address=23)',
    });
    expect(signals[2]?.message).toBe('Unconfirmed fire at loop 1 point 23: cleared by reset');
  });

  it('keeps the device-level key for an event without an address', () => {
    const [raised] = run(eventConfig(), [deviceEvent('fp', 'fire', 1)]);
    expect(raised).toMatchObject({ key: 'plant-1/fp/fire', message: 'Unconfirmed fire' });
    expect(raised?.location).toBeUndefined();
  });

  it('clears a fault on the same code with detail.cleared, and on reset', () => {
    const fault = eventConfig({ ruleId: 'fault', code: 'fault', label: 'Detector fault' });
    const signals = run(fault, [
      deviceEvent('gc', 'fault', 1, { reason: 'sensor open circuit' }),
      deviceEvent('gc', 'fault', 2, { cleared: true }),
      deviceEvent('gc', 'fault', 3, { cleared: true }), // nothing to clear
      deviceEvent('gc', 'fault', 4),
      deviceEvent('gc', 'reset', 5),
    ]);
    expect(signals.map(brief)).toEqual([
      [true, 1],
      [false, 2],
      [true, 4],
      [false, 5],
    ]);
    expect(signals.map(signal => signal.message)).toEqual([
      'Detector fault (reason=sensor open circuit)',
      'Detector fault: cleared by fault cleared',
      'Detector fault',
      'Detector fault: cleared by reset',
    ]);
  });

  it('raises and clears a pulse in the same step, every time (an SOS, a call point)', () => {
    const sos = eventConfig({ ruleId: 'sos', code: 'sos', mode: 'pulse', clearCodes: [] });
    const signals = run(sos, [deviceEvent('tag-1', 'sos', 7), deviceEvent('tag-1', 'sos', 9)]);
    expect(signals.map(brief)).toEqual([
      [true, 7],
      [false, 7],
      [true, 9],
      [false, 9],
    ]);
    expect(signals[1]?.message).toBe('Unconfirmed fire: cleared by momentary event');
  });
});

describe(`${singleRule.name} (event rule)`, () => {
  itBehavesLikeARuleOperator(
    ctx => singleRule(eventConfig(), ctx),
    {
      trigger: deviceEventRecord('fp', 'fire', 10),
      quiet: deviceEventRecord('fp', 'feedback', 5),
      expected: signalLike('fp', 'fire', true, 10),
    },
    context,
  );

  it('ignores readings and keeps devices apart', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('-a-b-c-d-|', {
        a: lelRecord('fp', 1, 99),
        b: deviceEventRecord('fp-1', 'fire', 2),
        c: deviceEventRecord('fp-2', 'reset', 3), // another panel: clears nothing of fp-1
        d: deviceEventRecord('fp-2', 'fire', 4),
      });
      expectObservable(records.pipe(singleRule(eventConfig(), context))).toBe('---x---y-|', {
        x: signalLike('fp-1', 'fire', true, 2),
        y: signalLike('fp-2', 'fire', true, 4),
      });
    });
  });
});

const map: FirePanelMap = {
  points: new Map([
    [
      '1-23',
      {
        loop: '1',
        point: '23',
        zone: '3',
        areaId: 'tank-farm',
        position: [40, 200],
        name: 'T-101 smoke',
      },
    ],
    [
      '1-24',
      {
        loop: '1',
        point: '24',
        zone: '3',
        areaId: 'tank-farm',
        position: [44, 200],
        name: undefined,
      },
    ],
    [
      '2-7',
      {
        loop: '2',
        point: '7',
        zone: '4',
        areaId: 'warehouse',
        position: undefined,
        name: undefined,
      },
    ],
  ]),
  zones: new Map([
    [
      '3',
      {
        zone: '3',
        areaId: 'tank-farm',
        position: undefined,
        name: 'Tank farm',
        confirmWindowMs: 60_000,
      },
    ],
    [
      '4',
      {
        zone: '4',
        areaId: 'warehouse',
        position: undefined,
        name: undefined,
        confirmWindowMs: undefined,
      },
    ],
  ]),
};
const panel: EventDevice = { firePanel: map };
const rules = Object.fromEntries(firePanelRules().map(rule => [rule.ruleId, rule]));
const rule = (id: string) => rules[id] as EventRuleConfig;

/** Feeds every event to every fire-panel default rule, as the engine does, in rule order. */
function runPanel(events: DeviceEvent[]) {
  const states = new Map<string, EventState>();
  const out: RuleSignal[] = [];
  for (const event of events) {
    for (const each of firePanelRules()) {
      const step = reduceEvent(
        states.get(each.ruleId) ?? EVENT_INACTIVE,
        event,
        each,
        context,
        panel,
      );
      states.set(each.ruleId, step.state);
      out.push(...step.signals);
    }
  }
  return out;
}
const line = (signal: RuleSignal) =>
  `${signal.key.slice('plant-1/fp/'.length)} ${signal.active ? 'on' : 'off'} P${signal.priority}`;

describe('fire panels (GB 26875 / GB 4717): every state of the default rules', () => {
  it('fire at a point: P1 located at the point’s area and position, not the panel’s', () => {
    const [fire] = run(rule('fire'), [deviceEvent('fp', 'fire', 1, { loop: 1, point: 23 })], panel);
    expect(fire).toMatchObject({
      key: 'plant-1/fp/fire/L1.P23',
      priority: 1,
      areaId: 'tank-farm',
      location: { loop: '1', point: '23', zone: '3', name: 'T-101 smoke', position: [40, 200] },
    });
    expect(fire?.message).toContain('at loop 1 point 23 (T-101 smoke), zone 3');
  });

  it('two concurrent fires in different areas: two P1 alarms, each in its own area', () => {
    const signals = run(
      rule('fire'),
      [
        deviceEvent('fp', 'fire', 1, { loop: 1, point: 23 }),
        deviceEvent('fp', 'fire', 2, { loop: 2, point: 7 }),
      ],
      panel,
    );
    expect(signals.map(signal => [signal.key, signal.priority, signal.areaId])).toEqual([
      ['plant-1/fp/fire/L1.P23', 1, 'tank-farm'],
      ['plant-1/fp/fire/L2.P7', 1, 'warehouse'],
    ]);
  });

  it('two detectors of a confirming zone within its window: a confirmed P1 for the zone', () => {
    const signals = run(
      rule('fire'),
      [
        deviceEvent('fp', 'fire', 1_000, { loop: 1, point: 23 }),
        deviceEvent('fp', 'fire', 30_000, { loop: 1, point: 24 }),
        deviceEvent('fp', 'fire', 31_000, { loop: 1, point: 23 }), // repeat: nothing
        deviceEvent('fp', 'reset', 40_000),
      ],
      panel,
    );
    expect(signals.map(line)).toEqual([
      'fire/L1.P23 on P1',
      'fire/L1.P24 on P1',
      'fire/confirmed.Z3 on P1',
      'fire/L1.P23 off P1',
      'fire/L1.P24 off P1',
      'fire/confirmed.Z3 off P1',
    ]);
    expect(signals[2]).toMatchObject({
      level: 'confirmed',
      latched: true,
      areaId: 'tank-farm',
      members: ['L1.P23', 'L1.P24'],
      location: { zone: '3', name: 'Tank farm' },
    });
    expect(signals[2]?.message).toMatch(/^Confirmed fire \(two detectors in one zone/);
  });

  it('does not confirm outside the window, with one point twice, or in a zone without confirmation', () => {
    const late = run(
      rule('fire'),
      [
        deviceEvent('fp', 'fire', 1_000, { loop: 1, point: 23 }),
        deviceEvent('fp', 'fire', 62_000, { loop: 1, point: 24 }), // 61 s later: outside 60 s
      ],
      panel,
    );
    expect(late.map(line)).toEqual(['fire/L1.P23 on P1', 'fire/L1.P24 on P1']);
    const noConfirm = run(
      rule('fire'),
      [
        deviceEvent('fp', 'fire', 1, { loop: 2, point: 7 }),
        deviceEvent('fp', 'fire', 2, { zone: 4 }),
      ],
      panel,
    );
    expect(noConfirm.map(line)).toEqual(['fire/L2.P7 on P1', 'fire/Z4 on P1']);
  });

  it('isolation (屏蔽): P2 per point, released by the panel, not by a reset', () => {
    expect(
      runPanel([
        deviceEvent('fp', 'isolation', 1, { loop: 1, point: 23 }),
        deviceEvent('fp', 'reset', 2),
        deviceEvent('fp', 'isolation', 3, { loop: 1, point: 23, cleared: true }),
      ]).map(line),
    ).toEqual(['isolation/L1.P23 on P2', 'isolation/L1.P23 off P2']);
  });

  it('start (启动) and feedback (反馈): P4 states per module, ended by a reset or a clear', () => {
    expect(
      runPanel([
        deviceEvent('fp', 'start', 1, { loop: 2, point: 5 }),
        deviceEvent('fp', 'feedback', 2, { loop: 2, point: 6 }),
        deviceEvent('fp', 'start', 3, { loop: 2, point: 5, cleared: true }),
        deviceEvent('fp', 'reset', 4),
      ]).map(line),
    ).toEqual([
      'start/L2.P5 on P4',
      'feedback/L2.P6 on P4',
      'start/L2.P5 off P4',
      'feedback/L2.P6 off P4',
    ]);
  });

  it('mains (P2) and backup (P3) power faults: held through a reset until restored', () => {
    expect(
      runPanel([
        deviceEvent('fp', 'mains_fault', 1),
        deviceEvent('fp', 'backup_fault', 2),
        deviceEvent('fp', 'reset', 3),
        deviceEvent('fp', 'mains_fault', 4, { cleared: true }),
        deviceEvent('fp', 'backup_fault', 5, { cleared: true }),
      ]).map(line),
    ).toEqual([
      'mains-fault on P2',
      'backup-fault on P3',
      'mains-fault off P2',
      'backup-fault off P3',
    ]);
  });

  it('manual mode: a standing P3 warning until the panel reports auto, not ended by a reset', () => {
    const signals = runPanel([
      deviceEvent('fp', 'manual_mode', 1),
      deviceEvent('fp', 'reset', 2),
      deviceEvent('fp', 'auto_mode', 3),
    ]);
    expect(signals.map(line)).toEqual(['manual-mode on P3', 'manual-mode off P3']);
    expect(signals[0]).toMatchObject({ category: 'warning' });
  });

  it('reset clears fires, faults, supervisory, start and feedback, and only those', () => {
    const signals = runPanel([
      deviceEvent('fp', 'fire', 1, { loop: 1, point: 23 }),
      deviceEvent('fp', 'fault', 2, { loop: 1, point: 30 }),
      deviceEvent('fp', 'supervisory', 3, { loop: 4, point: 1 }),
      deviceEvent('fp', 'start', 4, { loop: 2, point: 5 }),
      deviceEvent('fp', 'feedback', 5, { loop: 2, point: 6 }),
      deviceEvent('fp', 'isolation', 6, { loop: 1, point: 24 }),
      deviceEvent('fp', 'mains_fault', 7),
      deviceEvent('fp', 'backup_fault', 8),
      deviceEvent('fp', 'manual_mode', 9),
      deviceEvent('fp', 'reset', 10),
    ]);
    expect(signals.filter(signal => !signal.active).map(line)).toEqual([
      'fire/L1.P23 off P1',
      'fault/L1.P30 off P3',
      'supervisory/L4.P1 off P3',
      'start/L2.P5 off P4',
      'feedback/L2.P6 off P4',
    ]);
  });
});

describe('device-side alarms with the device own level', () => {
  const gasAlarm = eventConfig({
    ruleId: 'device-alarm',
    code: 'alarm',
    level: 'L2',
    priority: 1,
    latched: false,
    label: 'Gas alarm reported by the device',
    levels: { L1: 2, L2: 1 },
  });
  const gas = (ts: number, detail: Record<string, unknown>) =>
    deviceEvent('gc', 'alarm', ts, detail, 'gas-combustible');

  it('takes L1/L2 from the device, per channel, and escalates an active channel L1 → L2', () => {
    const signals = run(gasAlarm, [
      gas(1, { level: 'L1', channel: 3 }),
      gas(2, { level: 'L1', channel: 3 }), // same: nothing
      gas(3, { level: 'L2', channel: 3 }), // escalates
      gas(4, { level: 'L1', channel: 4 }),
      gas(5, { channel: 3, cleared: true }),
      deviceEvent('gc', 'reset', 6, undefined, 'gas-combustible'),
    ]);
    expect(signals.map(s => [s.key, s.active, s.level, s.priority])).toEqual([
      ['plant-1/gc/device-alarm/C3', true, 'L1', 2],
      ['plant-1/gc/device-alarm/C3', true, 'L2', 1],
      ['plant-1/gc/device-alarm/C4', true, 'L1', 2],
      ['plant-1/gc/device-alarm/C3', false, 'L2', 1],
      ['plant-1/gc/device-alarm/C4', false, 'L1', 2],
    ]);
    expect(signals[0]?.location).toEqual({ channel: '3' });
  });

  it('takes a missing or unknown level as the rule’s most severe one, and says so', () => {
    const signals = run(gasAlarm, [gas(1, {}), gas(2, { level: 'HIGH!', channel: 1 })]);
    expect(signals.map(s => [s.level, s.priority])).toEqual([
      ['L2', 1],
      ['L2', 1],
    ]);
    expect(signals[0]?.message).toContain('no level given: taken as L2');
    expect(signals[1]?.message).toContain('unknown level "HIGH!": taken as L2');
    let deep: Record<string, unknown> = {};
    for (let depth = 0; depth < 10_000; depth += 1) deep = { deep };
    const [nested] = run(gasAlarm, [gas(3, { level: deep, channel: 9 })]);
    expect(nested?.message).toContain('unknown level (object): taken as L2');
  });

  it('raises an arc fault event at once and holds it until reset', () => {
    const arc = eventConfig({
      ruleId: 'arc-fault',
      code: 'arc_fault',
      priority: 2,
      level: 'arc-fault',
      label: 'Arc fault',
    });
    const ef = (code: string, ts: number, detail?: Record<string, unknown>) =>
      deviceEvent('ef', code, ts, detail, 'electrical-fire');
    expect(
      run(arc, [ef('arc_fault', 7, { channel: 2 }), ef('reset', 9)]).map(s => [
        s.key,
        s.active,
        s.at,
        s.priority,
      ]),
    ).toEqual([
      ['plant-1/ef/arc-fault/C2', true, 7, 2],
      ['plant-1/ef/arc-fault/C2', false, 9, 2],
    ]);
  });
});

describe('addresses: never a reason to drop an event', () => {
  it('raises an unreadable address on the device key, saying so', () => {
    const [raised] = run(eventConfig(), [
      deviceEvent('fp', 'fire', 1, { loop: { nested: true }, point: 3 }),
    ]);
    expect(raised?.key).toBe('plant-1/fp/fire');
    expect(raised?.message).toContain('address unreadable');
  });

  it('raises a point missing from the registry at the panel, saying so', () => {
    const [raised] = run(
      eventConfig(),
      [deviceEvent('fp', 'fire', 1, { loop: 9, point: 9 })],
      panel,
    );
    expect(raised).toMatchObject({ key: 'plant-1/fp/fire/L9.P9', areaId: 'control-room' });
    expect(raised?.message).toContain('point 9-9 is not in the registry');
  });

  it(`folds addresses beyond ${MAX_EVENT_ADDRESSES} into the device alarm (bounded state)`, () => {
    const events = Array.from({ length: MAX_EVENT_ADDRESSES + 2 }, (_, index) =>
      deviceEvent('fp', 'fire', index, { loop: 1, point: index }),
    );
    const signals = run(eventConfig(), events);
    expect(signals).toHaveLength(MAX_EVENT_ADDRESSES + 1);
    expect(signals.at(-1)?.key).toBe('plant-1/fp/fire');
    expect(signals.at(-1)?.message).toContain('folded into the device alarm');
  });

  it('reads loop/point/address/zone/channel', () => {
    expect(eventAddress({ zone: '东区-3' }, undefined).key).toBe('Z东区-3');
    expect(eventAddress({ point: 5 }, undefined).key).toBe('P5');
    expect(eventAddress({ loop: 1, address: 5, channel: 2 }, undefined).key).toBe('L1.P5.C2');
    expect(eventAddress({ reason: 'x' }, undefined).key).toBe('');
    expect(eventAddress({ point: -1 }, undefined).problem).toContain('unreadable');
    // A free-text zone name does not cost the point its own key.
    expect(eventAddress({ loop: 1, point: 23, zone: 'tank farm' }, undefined)).toMatchObject({
      key: 'L1.P23',
      zone: undefined,
      problem: 'zone unreadable, ignored',
    });
    expect(eventAddress({ zone: 'tank farm' }, undefined)).toMatchObject({
      key: '',
      problem: 'zone unreadable, ignored',
    });
  });

  it('clears every active address of a rule removed by a reload', () => {
    let state: EventState = EVENT_INACTIVE;
    for (const point of [1, 2]) {
      state = reduceEvent(
        state,
        deviceEvent('fp', 'fire', point, { point }),
        eventConfig(),
        context,
      ).state;
    }
    const source = {
      siteId: 'plant-1',
      deviceId: 'fp',
      deviceClass: 'fire-panel',
      areaId: 'a',
    } as const;
    expect(
      removedEventSignals(state, source, eventConfig(), 9, context).map(s => [s.key, s.active]),
    ).toEqual([
      ['plant-1/fp/fire/P1', false],
      ['plant-1/fp/fire/P2', false],
    ]);
  });
});
