import { TestScheduler } from 'rxjs/testing';

import type { DeviceEvent } from '@vigil/contracts';

import { context, lelRecord, runAll, signalLike } from '../testing/fixtures';
import { itBehavesLikeARuleOperator } from '../testing/operator-contract';
import { deviceEvent, deviceEventRecord } from '../testing/records';
import { eventConfig } from '../testing/rule-configs';
import { eventRule } from './event.operator';
import { EVENT_INACTIVE, reduceEvent } from './event.reducer';
import type { EventRuleConfig } from './rule-config';

function run(rule: EventRuleConfig, events: DeviceEvent[]) {
  return runAll(EVENT_INACTIVE, events, (state, input) => reduceEvent(state, input, rule, context));
}

const brief = (signal: { active: boolean; at: number }) => [signal.active, signal.at];

describe(reduceEvent.name, () => {
  it('holds a fire until the panel resets, once however many fire events come', () => {
    const signals = run(eventConfig(), [
      deviceEvent('fp', 'fire', 1, { loop: 1, address: 23 }),
      deviceEvent('fp', 'fire', 2, { loop: 1, address: 24 }), // already active
      deviceEvent('fp', 'fault', 3), // another code: nothing
      deviceEvent('fp', 'reset', 4),
      deviceEvent('fp', 'reset', 5), // nothing to clear
    ]);
    expect(signals.map(brief)).toEqual([
      [true, 1],
      [false, 4],
    ]);
    expect(signals[0]).toMatchObject({
      key: 'plant-1/fp/fire',
      priority: 1,
      category: 'process',
      latched: true,
      level: 'fire',
      value: undefined,
      message: 'Unconfirmed fire (loop=1 address=23)',
    });
    expect(signals[1]?.message).toBe('Unconfirmed fire: cleared by reset');
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

describe(eventRule.name, () => {
  itBehavesLikeARuleOperator(
    ctx => eventRule(eventConfig(), ctx),
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
      expectObservable(records.pipe(eventRule(eventConfig(), context))).toBe('---x---y-|', {
        x: signalLike('fp-1', 'fire', true, 2),
        y: signalLike('fp-2', 'fire', true, 4),
      });
    });
  });
});
