import { TestScheduler } from 'rxjs/testing';

import type { IngestRecord } from '@vigil/contracts';

import { lelRecord, tick } from '../testing/fixtures';
import { withTicks } from './ticks.operator';

describe(withTicks.name, () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  it('interleaves ticks carrying the scheduler time with the records', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const a = lelRecord('d1', 2, 1);
      const b = lelRecord('d1', 7, 1);
      const records = cold<IngestRecord>('--a----b--|', { a, b });
      expectObservable(records.pipe(withTicks(4, testScheduler))).toBe('--a-T--bT-|', {
        a,
        b,
        T: expect.objectContaining({ kind: 'tick' }),
      });
    });
  });

  it('stamps each tick with now()', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<IngestRecord>('10ms |').pipe(withTicks(4, testScheduler))).toBe(
        '4ms x 3ms y 1ms |',
        {
          x: tick(4),
          y: tick(8),
        },
      );
    });
  });

  it('completes at once on an empty source', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<IngestRecord>('|').pipe(withTicks(4, testScheduler))).toBe('|');
    });
  });

  it('passes errors through and stops ticking', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(
        cold<IngestRecord>('5ms #', undefined, new Error('down')).pipe(withTicks(4, testScheduler)),
      ).toBe('4ms T #', { T: tick(4) }, new Error('down'));
    });
  });

  it('stops ticking and unsubscribes from the source when disposed', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const records = cold<IngestRecord>('-');
      expectObservable(records.pipe(withTicks(4, testScheduler)), '^ 8ms !').toBe('4ms T 3ms U', {
        T: tick(4),
        U: tick(8),
      });
      expectSubscriptions(records.subscriptions).toBe('^ 8ms !');
    });
  });
});
