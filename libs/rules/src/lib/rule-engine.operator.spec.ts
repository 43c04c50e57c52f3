import { TestScheduler } from 'rxjs/testing';

import type { IngestRecord } from '@vigil/contracts';

import { lelRecord, signalLike, statusRecord, tick } from '../testing/fixtures';
import { registered } from '../testing/registered';
import { ruleEngine } from './rule-engine.operator';
import type { RuleEngineOptions } from './rule-engine.reducer';
import type { DeviceRules, EngineInput } from './rule-signal';
import { withTicks } from './ticks.operator';

describe(ruleEngine.name, () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  /** Two combustible detectors whose offline timeout is 30 s (virtual time, 1 frame = 1 ms). */
  function options(extra: Partial<RuleEngineOptions> = {}): RuleEngineOptions {
    const fast = { overrides: [{ offline: { timeoutMs: 30_000 } }] };
    const devices = new Map<string, DeviceRules>([
      ['gc-1', registered('gc-1', 'gas-combustible', fast)],
      ['gc-2', registered('gc-2', 'gas-combustible', fast)],
    ]);
    return {
      clock: () => testScheduler.now(),
      startedAt: 0,
      lookupDevice: (_siteId, deviceId) => devices.get(deviceId),
      ...extra,
    };
  }

  it('emits the signals of each device in rule order', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const records = cold('-a---b---c---d---|', {
        a: lelRecord('gc-1', 1, 30), // L1
        b: lelRecord('gc-2', 1, 62), // L1 and L2 of another device
        c: lelRecord('gc-1', 2, 55), // L2
        d: lelRecord('gc-2', 2, 40), // L2 clears (< 45, no off-delay)
      });
      const expected = '     -x---(yz)w---v---|';
      expectObservable(records.pipe(ruleEngine(options()))).toBe(expected, {
        x: signalLike('gc-1', 'gas-l1', true, 1, { detectedAt: 1 }),
        y: signalLike('gc-2', 'gas-l1', true, 1),
        z: signalLike('gc-2', 'gas-l2', true, 1, { latched: true, priority: 1 }),
        w: signalLike('gc-1', 'gas-l2', true, 2),
        v: signalLike('gc-2', 'gas-l2', false, 2),
      });
      expectSubscriptions(records.subscriptions).toBe('^----------------!');
    });
  });

  it('runs offline deadlines on ticks from withTicks on the injected scheduler', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const second = 1000; // time() counts characters; it does not read `1s`
      const records = cold<IngestRecord>('500ms a 39999ms b 9s |', {
        a: lelRecord('gc-1', 500, 1), // seen at 500 ms
        b: statusRecord('gc-1', true, 40_500), // back: clears
      });
      // Due after 30.5 s: the tick at 31 s raises it.
      const expected = '31s o 9499ms c 9s |';
      expectObservable(records.pipe(withTicks(second, testScheduler), ruleEngine(options()))).toBe(
        expected,
        {
          o: signalLike('gc-1', 'offline', true, 31_000, { detectedAt: 31_000 }),
          c: signalLike('gc-1', 'offline', false, 40_500),
        },
      );
    });
  });

  it('takes ticks from the input like any other record', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const inputs = cold('-a-t-|', { a: lelRecord('gc-1', 0, 1, 0), t: tick(30_001) });
      expectObservable(inputs.pipe(ruleEngine(options()))).toBe('---o-|', {
        o: signalLike('gc-1', 'offline', true, 30_001),
      });
    });
  });

  it('completes at once on an empty source', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<EngineInput>('|').pipe(ruleEngine(options()))).toBe('|');
    });
  });

  it('stays silent on a source that never emits', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<EngineInput>('-').pipe(ruleEngine(options()))).toBe('-');
    });
  });

  it('passes an error in the source through', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('-a-#', { a: lelRecord('gc-1', 1, 30) }, new Error('bus down'));
      expectObservable(records.pipe(ruleEngine(options()))).toBe(
        '-x-#',
        { x: signalLike('gc-1', 'gas-l1', true, 1) },
        new Error('bus down'),
      );
    });
  });

  it('isolates the device, instead of swallowing or erroring, when our own code throws', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const broken = options({
        lookupDevice: () => {
          throw new Error('registry bug');
        },
      });
      const records = cold('-a-b-|', { a: lelRecord('gc-1', 1, 30), b: lelRecord('gc-1', 2, 30) });
      // Loud (a P1 monitoring-lost signal naming the device), and the stream goes on.
      expectObservable(records.pipe(ruleEngine(broken))).toBe('-x---|', {
        x: signalLike('gc-1', 'monitoring-lost', true, 1, {
          category: 'system',
          priority: 1,
          message: expect.stringContaining('registry bug'),
        }),
      });
    });
  });

  it('errors, instead of swallowing, when the input itself is unreadable', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold('-a-|', { a: null as unknown as EngineInput });
      expectObservable(records.pipe(ruleEngine(options()))).toBe(
        '-#',
        undefined,
        expect.any(TypeError),
      );
    });
  });

  it('unsubscribes from the source when disposed early', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const records = hot('-a-b-c-|', {
        a: lelRecord('gc-1', 1, 30),
        b: lelRecord('gc-1', 2, 55),
        c: lelRecord('gc-1', 3, 1),
      });
      expectObservable(records.pipe(ruleEngine(options())), '^--!').toBe('-x-', {
        x: signalLike('gc-1', 'gas-l1', true, 1),
      });
      expectSubscriptions(records.subscriptions).toBe('^--!');
    });
  });
});
