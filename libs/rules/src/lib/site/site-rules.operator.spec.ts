import { EMPTY, type Observable, map, merge } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

import type { IngestRecord } from '@vigil/contracts';

import { withTicks } from '../ticks.operator';
import {
  DETECTED_AT,
  SITE,
  deviceSignal,
  fix,
  layout,
  siteSignalLike,
  skewedFix,
} from './site-fixtures';
import { SiteRulesConfigError } from './site-rules.reducer';
import { type SiteRulesOperatorOptions, siteRules } from './site-rules.operator';
import { type SiteInput, type SiteRulesState, asSiteInput, peopleInArea } from './site-state';

describe(siteRules.name, () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  /** Virtual time: `receivedAt` of the records and the tick `now` are TestScheduler frames (ms). */
  function options(extra: Partial<SiteRulesOperatorOptions> = {}): SiteRulesOperatorOptions {
    return {
      sites: [
        layout({
          yard: { maxPeople: 10, rules: { voting: { k: 2 }, crowding: { minPeople: 3 } } },
        }),
      ],
      clock: () => testScheduler.now(),
      ...extra,
    };
  }

  /** The lead's composition: records with ticks, merged with the device engine's signals. */
  function inputs(
    records: Observable<IngestRecord>,
    signals: Observable<SiteInput> = EMPTY,
  ): Observable<SiteInput> {
    return merge(records.pipe(withTicks(1000, testScheduler)), signals);
  }

  it('raises crowding after more than a minute of virtual time and clears 30 s after it broke up', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const records = cold<IngestRecord>('a b c 70497ms d 31498ms |', {
        a: fix('a', 0, 40, 40),
        b: fix('b', 1, 47, 40),
        c: fix('c', 2, 54, 40),
        d: fix('c', 70_500, 90, 90), // c walks away: no crowd from the tick at 71 s
      });
      // Crowded from the first tick (1 s); 62 s − 1 s > 60 s. Quiet from 71 s; + 30 s = 101 s.
      const expected = '62s C 38999ms D 998ms |';
      expectObservable(inputs(records).pipe(siteRules(options()))).toBe(expected, {
        C: siteSignalLike('yard', 'crowding', true, 62_000, {
          members: ['a', 'b', 'c'],
          detectedAt: 62_000,
        }),
        D: siteSignalLike('yard', 'crowding', false, 101_000, { detectedAt: 101_000 }),
      });
      expectSubscriptions(records.subscriptions).toBe('^ 101998ms !');
    });
  });

  it("votes and correlates device signals with the people around, at the signal's frame", () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold<IngestRecord>('t 9999ms |', { t: fix('t1', 0, 20, 20) });
      const signals = cold<SiteInput>('2s x 999ms y 999ms z 999ms w |', {
        x: deviceSignal('gc-1', 'gas-l2', true, 2_000),
        y: deviceSignal('gc-2', 'gas-l2', true, 3_000),
        z: deviceSignal('gc-1', 'gas-l2', false, 4_000),
        w: deviceSignal('gc-2', 'gas-l2', false, 5_000),
      });
      const expected = '2s P 999ms V 999ms U 999ms Q 4999ms |';
      expectObservable(inputs(records, signals).pipe(siteRules(options()))).toBe(expected, {
        P: siteSignalLike('yard', 'people-present', true, 2_000, { members: ['t1'] }),
        V: siteSignalLike('yard', 'vote-gas-l2', true, 3_000, { members: ['gc-1', 'gc-2'] }),
        U: siteSignalLike('yard', 'vote-gas-l2', false, 4_000),
        Q: siteSignalLike('yard', 'people-present', false, 5_000),
      });
    });
  });

  it("raises an intrusion from fixes alone (no tick needed) with the fix's event time", () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold<IngestRecord>('a 499ms b |', {
        a: fix('t1', 0, 215, 15),
        b: fix('t1', 500, 216, 15),
      });
      expectObservable(inputs(records).pipe(siteRules(options()))).toBe('500ms I |', {
        I: siteSignalLike('t1', 'intrusion', true, 500, { areaKey: 'sump', detectedAt: 500 }),
      });
    });
  });

  it('keeps tracking a tag whose clock jumps 27 h back as its wearer falls: man-down raises', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const behind27h = -27 * 3_600_000;
      // Walking in the yard on the right clock every 5 s until 20 s; from 25 s motionless, and the
      // tag (restarted by the fall) 27 h behind, every 5 s until 160 s; the source ends at 165 s.
      const keys = 'abcdefghijklmnopqrstuvwxyzABCDEFG'; // one a frame: 0, 5, … 160 s
      const records: Record<string, IngestRecord> = {};
      for (const [index, key] of [...keys].entries()) {
        const at = index * 5_000;
        records[key] =
          at < 25_000
            ? skewedFix('t1', at, 0, 50, 50, { still: false })
            : skewedFix('t1', at, behind27h, 52, 50, { still: true });
      }
      const marble = `${[...keys].join(' 4999ms ')} 4999ms |`;
      // 25 and 30 s are late; 35 s re-bases the tag (10 s on the new clock) and starts the
      // stillness: pre-alarm at 95 s, alarm at 155 s. Without the re-base: nothing, ever.
      const expected = '95s L 59999ms A 9999ms |';
      expectObservable(inputs(cold(marble, records)).pipe(siteRules(options()))).toBe(expected, {
        L: siteSignalLike('t1', 'man-down-l1', true, 95_000, {
          areaId: 'yard',
          detectedAt: 95_000,
        }),
        A: siteSignalLike('t1', 'man-down-l2', true, 155_000, { detectedAt: 155_000 }),
      });
    });
  });

  it('completes at once on an empty source, with no tick left running', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(inputs(cold<IngestRecord>('|')).pipe(siteRules(options()))).toBe('|');
      expectObservable(cold<SiteInput>('|').pipe(siteRules(options()))).toBe('|');
    });
  });

  it('passes an error in the source through and stops ticking', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const records = cold<IngestRecord>(
        'a 5999ms #',
        { a: fix('t1', 0, 215, 15) },
        new Error('broker down'),
      );
      expectObservable(inputs(records).pipe(siteRules(options()))).toBe(
        '5s I 999ms #',
        { I: siteSignalLike('t1', 'intrusion', true, 5_000, { areaKey: 'sump' }) },
        new Error('broker down'),
      );
    });
  });

  it('completes with the source: a deadline after completion is not reported', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      // Pending entry at 0 would confirm at the 5 s tick; the source completes at 3 s.
      const records = cold<IngestRecord>('a 2999ms |', { a: fix('t1', 0, 215, 15) });
      expectObservable(inputs(records).pipe(siteRules(options()))).toBe('3s |');
    });
  });

  it('stops the ticks and the source when disposed early (a never-ending source)', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const records = cold<IngestRecord>('a -', { a: fix('t1', 0, 215, 15) });
      // If the interval outlived the subscription, this virtual-time flush would never end.
      expectObservable(inputs(records).pipe(siteRules(options())), '^ 7s !').toBe('5s I', {
        I: siteSignalLike('t1', 'intrusion', true, 5_000, { areaKey: 'sump' }),
      });
      expectSubscriptions(records.subscriptions).toBe('^ 7s !');
    });
  });

  it('errors the output when our own code throws (here the injected clock)', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const broken = new Error('clock broken');
      const clock = () => {
        throw broken;
      };
      const records = cold<IngestRecord>('a b 8s |', {
        a: fix('t1', 0, 215, 15),
        b: fix('t1', 1, 215, 15),
      });
      expectObservable(inputs(records).pipe(siteRules(options({ clock })))).toBe(
        '- #',
        undefined,
        broken,
      );
    });
  });

  it('starts every subscription with fresh state and hands it to onState for the queries', () => {
    testScheduler.run(({ cold, expectObservable, flush }) => {
      const states: SiteRulesState[] = [];
      const sut = siteRules(options({ onState: state => states.push(state) }));
      const records = cold<IngestRecord>('a |', { a: fix('t1', 0, 50, 50) });
      expectObservable(inputs(records).pipe(sut)).toBe('- |');
      expectObservable(inputs(records).pipe(sut)).toBe('- |');
      flush();
      expect(states).toHaveLength(2);
      expect(states[0]).not.toBe(states[1]);
      const site = states[0]?.sites.get(SITE);
      expect(site && peopleInArea(site, 'yard')).toEqual(['t1']);
    });
  });

  it('throws at creation with every configuration problem listed', () => {
    const bad = layout({ yard: { rules: { crowding: { minPeople: 1 } } }, sump: { maxPeople: 0 } });
    expect(() => siteRules({ sites: [bad], clock: () => DETECTED_AT })).toThrow(
      SiteRulesConfigError,
    );
    expect(() => siteRules({ sites: [bad], clock: () => DETECTED_AT })).toThrow(
      'Invalid site rule configuration:\n' +
        '  sites.0.areas.1.maxPeople: Too small: expected number to be >0',
    );
    const tooFew = layout({ yard: { rules: { crowding: { minPeople: 1 } } } });
    expect(() => siteRules({ sites: [tooFew], clock: () => DETECTED_AT })).toThrow(
      'plant-1: areas.yard.rules.crowding.minPeople: Too small: expected number to be >=2',
    );
  });

  it('accepts device signals mapped with asSiteInput', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const raw = deviceSignal('gc-1', 'gas-l2', true, 0);
      const signals = cold('a b |', {
        a: raw.kind === 'signal' ? raw.signal : undefined,
        b: (() => {
          const other = deviceSignal('gc-2', 'gas-l2', true, 1);
          return other.kind === 'signal' ? other.signal : undefined;
        })(),
      });
      const sut = signals.pipe(
        map(signal => asSiteInput(signal as NonNullable<typeof signal>)),
        siteRules(options()),
      );
      expectObservable(sut).toBe('- V |', { V: siteSignalLike('yard', 'vote-gas-l2', true, 1) });
    });
  });
});
