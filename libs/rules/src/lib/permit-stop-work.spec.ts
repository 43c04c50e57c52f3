import { TestScheduler } from 'rxjs/testing';

import type { IngestRecord, PermitRuleView, RuleSignal } from '@vigil/contracts';

import { SITE, context, lel, reading, readingRecord } from '../testing/fixtures';
import { permitStopWork } from './permit-stop-work.operator';
import {
  areaGasReadings,
  createPermitStopWorkState,
  reducePermitStopWork,
  type PermitStopWorkOptions,
} from './permit-stop-work.reducer';
import type { EngineInput } from './rule-signal';

const hotWork: PermitRuleView = {
  id: 'p1',
  no: 7,
  kind: 'hot-work',
  siteId: SITE,
  areaId: 'tank-farm',
  from: 0,
  to: 3_600_000,
  workers: ['w1', 'w2'],
  limits: { maxLel: 10 },
  state: 'active',
};

const o2Record = (deviceId: string, ts: number, value: number): IngestRecord =>
  readingRecord({ ...reading(deviceId, ts, { o2: value }), deviceClass: 'gas-oxygen' });

function harness(permits: () => readonly PermitRuleView[], inside: readonly string[] = []) {
  const state = createPermitStopWorkState();
  const options: PermitStopWorkOptions = {
    ...context,
    permits,
    peopleInArea: () => inside,
  };
  const feed = (...inputs: EngineInput[]): RuleSignal[] =>
    inputs.flatMap(input => [...reducePermitStopWork(state, input, options).signals]);
  return { state, feed };
}

const brief = (signals: RuleSignal[]) =>
  signals.map(signal => `${signal.key}:${signal.active}:${signal.priority}`);

describe('permit stop-work rule', () => {
  it('raises one P1 per permit on a gas excursion, naming the permit, workers and people inside', () => {
    const { feed } = harness(() => [hotWork], ['w1', 'x9']);
    expect(feed(readingRecord(lel('gd-1', 1_000, 10)))).toEqual([]); // at the limit: within
    const [signal, ...rest] = feed(readingRecord(lel('gd-1', 2_000, 14)));
    expect(rest).toEqual([]);
    expect(signal).toMatchObject({
      key: `${SITE}/permit-p1/stop-work`,
      ruleId: 'stop-work',
      priority: 1,
      active: true,
      areaId: 'tank-farm',
      deviceId: 'gd-1',
      value: 14,
      threshold: 10,
      members: ['w1', 'w2', 'x9'],
    });
    expect(signal?.message).toContain('停止作业 STOP WORK: permit No. 7');
    expect(signal?.message).toContain('named workers: w1, w2; in the area now: w1, x9');
    // A second detector outside too: no second alarm; clears only when both are back.
    expect(feed(readingRecord(lel('gd-2', 3_000, 20)))).toEqual([]);
    expect(feed(readingRecord(lel('gd-1', 4_000, 2)))).toEqual([]);
    expect(brief(feed(readingRecord(lel('gd-2', 5_000, 2))))).toEqual([
      `${SITE}/permit-p1/stop-work:false:1`,
    ]);
  });

  it('checks oxygen against the permit band, both ends', () => {
    const confined = {
      ...hotWork,
      kind: 'confined-space' as const,
      limits: { oxygenMin: 19.5, oxygenMax: 21 },
    };
    const { feed } = harness(() => [confined]);
    expect(feed(o2Record('ox-1', 1_000, 19.5), o2Record('ox-1', 2_000, 21))).toEqual([]);
    expect(feed(o2Record('ox-1', 3_000, 19.4))[0]).toMatchObject({ active: true, threshold: 19.5 });
    expect(feed(o2Record('ox-1', 4_000, 20))[0]).toMatchObject({ active: false });
    expect(feed(o2Record('ox-1', 5_000, 21.2))[0]).toMatchObject({ active: true, threshold: 21 });
  });

  it('ignores other areas, other sites, a suspended permit and readings outside the window', () => {
    const permits = [{ ...hotWork, state: 'suspended' as const }];
    const { feed } = harness(() => permits);
    expect(feed(readingRecord(lel('gd-1', 1_000, 50)))).toEqual([]);
    const active = harness(() => [{ ...hotWork, to: 1_000 }]);
    expect(active.feed(readingRecord(lel('gd-1', 1_000, 50)))).toEqual([]);
    const other = harness(() => [hotWork]);
    expect(
      other.feed(
        readingRecord({ ...lel('gd-1', 1_000, 50), areaId: 'sump' }),
        readingRecord({ ...lel('gd-1', 1_000, 50), siteId: 'plant-2' }),
      ),
    ).toEqual([]);
  });

  it('keeps the latest gas readings per area for the permit start, newest receive time wins', () => {
    const { state, feed } = harness(() => []);
    feed(readingRecord(lel('gd-1', 2_000, 4)), readingRecord(lel('gd-1', 1_000, 9)));
    feed(
      o2Record('ox-1', 1_000, 20.9),
      readingRecord({ ...reading('t1', 1_000, { x: 1 }), deviceClass: 'tag' }),
    );
    expect(areaGasReadings(state, SITE, 'tank-farm')).toEqual([
      { deviceId: 'gd-1', metric: 'lel', value: 4, at: 2_000 },
      { deviceId: 'ox-1', metric: 'o2', value: 20.9, at: 1_000 },
    ]);
    expect(areaGasReadings(state, SITE, 'sump')).toEqual([]);
  });

  it('clears the alarm of a permit that is closed (the next tick)', () => {
    let permits: PermitRuleView[] = [hotWork];
    const { feed } = harness(() => permits);
    expect(brief(feed(readingRecord(lel('gd-1', 1_000, 30))))).toHaveLength(1);
    expect(feed({ kind: 'tick', now: 2_000 })).toEqual([]);
    permits = [];
    expect(feed({ kind: 'tick', now: 3_000 })[0]).toMatchObject({
      active: false,
      deviceId: 'permit-p1',
      at: 3_000,
    });
    expect(feed({ kind: 'tick', now: 4_000 })).toEqual([]);
  });

  it('as an operator: raise and clear in order, errors and completion pass through', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const inputs = cold<EngineInput>('a-b-c-#', {
        a: readingRecord(lel('gd-1', 1, 3)),
        b: readingRecord(lel('gd-1', 2, 14)),
        c: readingRecord(lel('gd-1', 3, 1)),
      });
      const out = inputs.pipe(permitStopWork({ ...context, permits: () => [hotWork] }));
      expectObservable(out).toBe('--S-C-#', {
        S: expect.objectContaining({ active: true, value: 14 }),
        C: expect.objectContaining({ active: false, value: 1 }),
      });
    });
  });
});
