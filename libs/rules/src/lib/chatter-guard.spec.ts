import { TestScheduler } from 'rxjs/testing';

import type { RuleSignal } from '@vigil/contracts';

import { SITE, tick } from '../testing/fixtures';
import { chatterGuard } from './chatter-guard.operator';
import {
  type ChatterGuardState,
  createChatterGuardState,
  reduceChatterGuard,
} from './chatter-guard.reducer';
import type { EngineTick } from './rule-signal';

/** An engine signal of `deviceId`/gas-l1 decided at server time `detectedAt`. */
function signal(deviceId: string, active: boolean, detectedAt: number): RuleSignal {
  return {
    key: `${SITE}/${deviceId}/gas-l1`,
    ruleId: 'gas-l1',
    siteId: SITE,
    deviceId,
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority: 2,
    level: 'L1',
    active,
    latched: false,
    metric: 'lel',
    value: active ? 26 : 19,
    threshold: 25,
    message: active ? 'raised' : 'cleared',
    at: detectedAt - 100,
    detectedAt,
  };
}

function feed(state: ChatterGuardState, ...inputs: Array<RuleSignal | EngineTick>): RuleSignal[] {
  return inputs.flatMap(input => [...reduceChatterGuard(state, input).signals]);
}

const brief = (each: RuleSignal) =>
  `${each.deviceId} ${each.active ? 'active' : 'cleared'}${each.chattering === undefined ? '' : ` chattering=${each.chattering}`} @${each.detectedAt}`;

describe(reduceChatterGuard.name, () => {
  it('lets two changes through, holds the key active on the third within 60 s, and releases it after 60 s quiet', () => {
    const state = createChatterGuardState();
    expect(
      feed(
        state,
        signal('d1', true, 0),
        signal('d1', false, 10_000),
        signal('d1', true, 20_000), // third change within 60 s
        signal('d1', false, 30_000), // held back
        signal('d1', true, 40_000),
        signal('d1', false, 50_000),
        tick(109_999),
        tick(110_000), // 60 s after the last change
      ).map(brief),
    ).toEqual([
      'd1 active @0',
      'd1 cleared @10000',
      'd1 active chattering=true @20000',
      'd1 cleared chattering=false @110000',
    ]);
  });

  it('says so in the messages and keeps the real state of the last signal on release', () => {
    const state = createChatterGuardState();
    const out = feed(
      state,
      signal('d1', true, 0),
      signal('d1', false, 1_000),
      signal('d1', true, 2_000),
      tick(62_000),
    );
    expect(out[2]).toMatchObject({
      active: true,
      chattering: true,
      message:
        'Chattering: 3 state changes within 60 s; held active until 60 s without a change (now: raised)',
    });
    expect(out[3]).toMatchObject({
      active: true, // still active upstream: only the flag changes
      chattering: false,
      value: 26,
      message: 'Chattering ended after 60 s without a change: raised',
    });
  });

  it('holds active even when the third change is a clear', () => {
    const state = createChatterGuardState();
    expect(
      feed(
        state,
        signal('d1', false, 0),
        signal('d1', true, 5_000),
        signal('d1', false, 9_000),
      ).map(brief),
    ).toEqual(['d1 cleared @0', 'd1 active @5000', 'd1 active chattering=true @9000']);
  });

  it('does not count changes more than 60 s apart', () => {
    const state = createChatterGuardState();
    const out = feed(
      state,
      signal('d1', true, 0),
      signal('d1', false, 30_000),
      signal('d1', true, 60_000), // the change at 0 is 60 s old: out of the window
      signal('d1', false, 91_000),
    );
    expect(out.every(each => each.chattering === undefined)).toBe(true);
  });

  it('keeps keys apart and forgets quiet keys', () => {
    const state = createChatterGuardState();
    feed(state, signal('d1', true, 0), signal('d2', true, 0), signal('d1', false, 1_000));
    expect(feed(state, signal('d2', false, 2_000)).map(brief)).toEqual(['d2 cleared @2000']);
    feed(state, tick(61_000), tick(62_001));
    expect(state.entries.size).toBe(0);
    expect(state.queue.size).toBe(0);
  });

  it('counts the released state as a change, so a key flapping on keeps at most three changes a minute', () => {
    const state = createChatterGuardState();
    feed(state, signal('d1', true, 0), signal('d1', false, 1_000), signal('d1', true, 2_000));
    feed(state, signal('d1', false, 3_000)); // held: upstream is cleared
    const released = feed(state, tick(63_000));
    expect(released.map(brief)).toEqual(['d1 cleared chattering=false @63000']);
    // 63 s: released (1), 64 s: raise (2), 65 s: clear would be the third: held again.
    expect(feed(state, signal('d1', true, 64_000), signal('d1', false, 65_000)).map(brief)).toEqual(
      ['d1 active @64000', 'd1 active chattering=true @65000'],
    );
  });
});

describe(chatterGuard.name, () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('lets two changes through and holds a flapping key on the third', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const signals = cold('-a-b-c-d-|', {
        a: signal('d1', true, 1),
        b: signal('d1', false, 3),
        c: signal('d1', true, 5),
        d: signal('d1', false, 7),
      });
      const guard = chatterGuard({
        windowMs: 60,
        holdMs: 60,
        tickMs: 10,
        scheduler: testScheduler,
      });
      expectObservable(signals.pipe(guard)).toBe('-a-b-X---|', {
        a: expect.objectContaining({ active: true, detectedAt: 1 }),
        b: expect.objectContaining({ active: false, detectedAt: 3 }),
        X: expect.objectContaining({ active: true, chattering: true, detectedAt: 5 }),
      } as Record<string, RuleSignal>);
    });
  });

  it('releases a held key at the first tick 60 after its last change', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const signals = cold('-a-b-c-d 100ms |', {
        a: signal('d1', true, 1),
        b: signal('d1', false, 3),
        c: signal('d1', true, 5),
        d: signal('d1', false, 7),
      });
      const guard = chatterGuard({
        windowMs: 60,
        holdMs: 60,
        tickMs: 10,
        scheduler: testScheduler,
      });
      expectObservable(signals.pipe(guard)).toBe('-a-b-X 64ms E 37ms |', {
        a: expect.objectContaining({ active: true }),
        b: expect.objectContaining({ active: false }),
        X: expect.objectContaining({ active: true, chattering: true }),
        E: expect.objectContaining({ active: false, chattering: false, detectedAt: 70 }),
      } as Record<string, RuleSignal>);
    });
  });

  it('completes and errors with its source, and unsubscribes when disposed', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const guard = () => chatterGuard({ tickMs: 10, scheduler: testScheduler });
      expectObservable(cold<RuleSignal>('|').pipe(guard())).toBe('|');
      const failing = cold('-a-#', { a: signal('d1', true, 1) }, new Error('engine failed'));
      expectObservable(failing.pipe(guard())).toBe(
        '-a-#',
        { a: expect.objectContaining({ active: true }) as RuleSignal },
        new Error('engine failed'),
      );
      const live = hot('-a-b-|', { a: signal('d1', true, 1), b: signal('d1', false, 3) });
      expectObservable(live.pipe(guard()), '^-!').toBe('-a-', {
        a: expect.objectContaining({ active: true }) as RuleSignal,
      });
      expectSubscriptions(live.subscriptions).toBe('^-!');
    });
  });
});
