import { TestScheduler } from 'rxjs/testing';

import type { IngestRecord } from '@vigil/contracts';

import { device, lelRecord, offlineConfig, signalLike, statusRecord } from '../testing/fixtures';
import { type SingleRuleOperatorOptions, singleRule } from './single-rule.operator';

describe(`${singleRule.name} (offline rule)`, () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  /** Virtual time: `receivedAt` and the tick `now` are both TestScheduler frames (ms). */
  function options(tickMs: number, extra: Partial<SingleRuleOperatorOptions> = {}) {
    const result: SingleRuleOperatorOptions = {
      clock: () => testScheduler.now(),
      startedAt: 0,
      tickMs,
      scheduler: testScheduler,
      ...extra,
    };
    return result;
  }

  /** The offline rule with `timeoutMs`, alone, ticked every `tickMs`. */
  function offlineRule(
    timeoutMs: number,
    tickMs: number,
    extra: Partial<SingleRuleOperatorOptions> = {},
  ) {
    return singleRule(offlineConfig({ timeoutMs }), options(tickMs, extra));
  }

  it('raises a device silent for longer than its timeout and clears it on its next record', () => {
    testScheduler.run(({ cold, time, expectObservable, expectSubscriptions }) => {
      const timeoutMs = time('------------------------------|'); // 30
      const tickMs = time('   ----------|'); // 10
      const records = cold('  5ms a 9ms b 59ms c 9ms |', {
        a: lelRecord('d1', 5, 1),
        b: lelRecord('d1', 15, 1), // last seen at 15: due after 45
        c: lelRecord('d1', 75, 1),
      });
      const expected = '      50ms O 24ms C 9ms |'; // first tick after 45 is at 50

      expectObservable(records.pipe(offlineRule(timeoutMs, tickMs))).toBe(expected, {
        O: signalLike('d1', 'offline', true, 50, { detectedAt: 50, level: 'offline' }),
        C: signalLike('d1', 'offline', false, 75, { detectedAt: 75 }),
      });
      expectSubscriptions(records.subscriptions).toBe('^ 84ms !');
    });
  });

  it('raises at once on the MQTT last will and only once', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('5ms a 9ms w 49ms |', {
        a: lelRecord('d1', 5, 1),
        w: statusRecord('d1', false, 15),
      });
      expectObservable(records.pipe(offlineRule(30, 10))).toBe('15ms W 49ms |', {
        W: signalLike('d1', 'offline', true, 15, {
          message: 'Device reported offline (MQTT last will)',
        }),
      });
    });
  });

  it('raises an expected device that never reports only after its timeout since start', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const never = device('d9', [offlineConfig({ timeoutMs: 30 })]);
      const records = cold<IngestRecord>('100ms |');
      const sut = offlineRule(30, 10, { startedAt: 0, expectedDevices: [never] });
      expectObservable(records.pipe(sut)).toBe('40ms X 59ms |', {
        X: signalLike('d9', 'offline', true, 40),
      });
    });
  });

  it('watches devices independently', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('5ms a 9ms b 19ms c 29ms |', {
        a: lelRecord('d1', 5, 1),
        b: lelRecord('d2', 15, 1),
        c: lelRecord('d2', 35, 1),
      });
      // d1 due after 35 (tick 40); d2 last seen at 35, due after 65 (after completion at 65).
      expectObservable(records.pipe(offlineRule(30, 10))).toBe('40ms x 24ms |', {
        x: signalLike('d1', 'offline', true, 40),
      });
    });
  });

  it('completes at once on an empty source, with no tick left running', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<IngestRecord>('|').pipe(offlineRule(30, 10))).toBe('|');
    });
  });

  it('passes an error in the source through and stops ticking', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('5ms a 49ms #', { a: lelRecord('d1', 5, 1) }, new Error('broker down'));
      expectObservable(records.pipe(offlineRule(30, 10))).toBe(
        '40ms O 14ms #',
        { O: signalLike('d1', 'offline', true, 40) },
        new Error('broker down'),
      );
    });
  });

  it('completes with the source: a deadline after completion is not reported', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('5ms a 9ms |', { a: lelRecord('d1', 5, 1) });
      expectObservable(records.pipe(offlineRule(30, 10))).toBe('15ms |');
    });
  });

  it('stops the ticks and the source when disposed early (a never-ending source)', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const records = cold('5ms a -', { a: lelRecord('d1', 5, 1) });
      // If the interval outlived the subscription, this virtual-time flush would never end.
      expectObservable(records.pipe(offlineRule(30, 10)), '^ 44ms !').toBe('40ms O', {
        O: signalLike('d1', 'offline', true, 40),
      });
      expectSubscriptions(records.subscriptions).toBe('^ 44ms !');
    });
  });
});
