import { TestScheduler } from 'rxjs/testing';

import type { IngestRecord, PermitRuleView, RuleSignal } from '@vigil/contracts';

import { SITE, context, lel, reading, readingRecord } from '../testing/fixtures';
import { permitStopWork } from './permit-stop-work.operator';
import {
  areaGasReadings,
  concernsPermits,
  createPermitStopWorkState,
  forgetRaisedPermitAlarms,
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

function harness(
  permits: () => readonly PermitRuleView[],
  inside: readonly string[] = [],
  extra: Partial<PermitStopWorkOptions> = {},
) {
  const state = createPermitStopWorkState();
  const options: PermitStopWorkOptions = {
    ...context,
    permits,
    peopleInArea: () => inside,
    ...extra,
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

  it('keeps no gas reading at all while no permit is open: state stays empty, steps shared', () => {
    const state = createPermitStopWorkState();
    const options: PermitStopWorkOptions = {
      ...context,
      permits: () => [],
      keepsGasOf: () => false,
    };
    const steps = new Set<unknown>();
    let signals = 0;
    for (let i = 0; i < 1_000; i += 1) {
      const deviceId = `gd-${i % 250}`;
      const input =
        i % 2 === 0 ? readingRecord(lel(deviceId, i, i % 30)) : o2Record(deviceId, i, 18 + (i % 5));
      const step = reducePermitStopWork(state, input, options);
      signals += step.signals.length;
      steps.add(step);
    }
    expect(signals).toBe(0);
    expect(state.latest.size).toBe(0);
    // One shared "nothing happened" step for all of them: nothing allocated per reading.
    expect(steps.size).toBe(1);
    // A permit in another area of the site keeps only its own area.
    const elsewhere = { ...options, permits: () => [{ ...hotWork, areaId: 'sump' }] };
    reducePermitStopWork(state, readingRecord(lel('gd-1', 2_000, 3)), elsewhere);
    expect(state.latest.size).toBe(0);
  });

  it('keeps the area of an open permit from its request on, and drops it once the permit closes', () => {
    let open = true;
    const { state, feed } = harness(() => [], [], {
      keepsGasOf: (siteId, areaId) => open && siteId === SITE && areaId === 'tank-farm',
    });
    // An approved permit (not in `permits` yet): kept for its start, no alarm judged.
    expect(feed(readingRecord(lel('gd-1', 1_000, 40)))).toEqual([]);
    expect(areaGasReadings(state, SITE, 'tank-farm')).toEqual([
      { deviceId: 'gd-1', metric: 'lel', value: 40, at: 1_000 },
    ]);
    open = false;
    feed({ kind: 'tick', now: 2_000 });
    expect(state.latest.size).toBe(0);
    expect(areaGasReadings(state, SITE, 'tank-farm')).toEqual([]);
  });

  it('keeps nothing of a site this scope does not evaluate', () => {
    const { state, feed } = harness(() => [hotWork], [], { includesSite: () => false });
    feed(readingRecord(lel('gd-1', 1_000, 3)));
    expect(state.latest.size).toBe(0);
  });

  it('keeps the latest gas readings per area for the permit start, newest receive time wins', () => {
    const { state, feed } = harness(() => [], [], { keepsGasOf: () => true });
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

  it('concerns gas readings and ticks only (the rules service filters with the same test)', () => {
    expect(concernsPermits({ kind: 'tick', now: 1 })).toBe(true);
    expect(concernsPermits(readingRecord(lel('gd-1', 1, 3)))).toBe(true);
    expect(concernsPermits(o2Record('ox-1', 1, 20))).toBe(true);
    expect(
      concernsPermits(readingRecord({ ...reading('t1', 1, { x: 1 }), deviceClass: 'tag' })),
    ).toBe(false);
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

  describe('no gas monitoring (GB 30871: continuous monitoring during the work)', () => {
    const tick = (now: number): EngineInput => ({ kind: 'tick', now });

    it('raises stop work when a limited metric has no reading for longer than the bound, clears on a reading', () => {
      const { feed } = harness(() => [hotWork], ['w1'], { maxGasSilenceMs: 10_000 });
      expect(feed(readingRecord(lel('gd-1', 1_000, 3)), tick(1_000))).toEqual([]);
      // Fresh readings keep it quiet; the silence is measured from the newest one.
      expect(feed(readingRecord(lel('gd-1', 9_000, 3)), tick(19_000))).toEqual([]);
      const [raised, ...rest] = feed(tick(19_001));
      expect(rest).toEqual([]);
      expect(raised).toMatchObject({
        key: `${SITE}/permit-p1/stop-work`,
        ruleId: 'stop-work',
        priority: 1,
        active: true,
        metric: 'lel',
        deviceId: 'permit-p1',
        members: ['w1', 'w2'],
      });
      expect(raised?.message).toContain('no gas monitoring (no lel reading for 10 s');
      expect(raised?.message).toContain('named workers: w1, w2');
      expect(feed(tick(30_000))).toEqual([]); // one alarm, not one per tick
      // The detector is back, within the limit: the alarm clears.
      expect(brief(feed(readingRecord(lel('gd-1', 31_000, 3))))).toEqual([
        `${SITE}/permit-p1/stop-work:false:1`,
      ]);
    });

    it('counts a permit with no detector at all from the first tick that saw it active', () => {
      const confined = {
        ...hotWork,
        kind: 'confined-space' as const,
        limits: { oxygenMin: 19.5, oxygenMax: 21, maxLel: 10 },
      };
      const { feed } = harness(() => [confined], [], { maxGasSilenceMs: 10_000 });
      // A LEL detector reports, the oxygen one never does.
      expect(feed(tick(5_000), readingRecord(lel('gd-1', 14_000, 1)), tick(15_000))).toEqual([]);
      const [raised] = feed(tick(15_001));
      expect(raised).toMatchObject({ active: true, metric: 'o2' });
      expect(raised?.message).toContain('(no o2 reading;');
      // A LEL reading within does not clear what oxygen still lacks.
      expect(feed(readingRecord(lel('gd-1', 16_000, 1)))).toEqual([]);
      expect(feed(o2Record('ox-1', 17_000, 20.8))[0]).toMatchObject({ active: false });
    });

    it('does not watch a suspended permit, nor one outside its window; uses the default bound', () => {
      const suspended = harness(() => [{ ...hotWork, state: 'suspended' as const }]);
      expect(suspended.feed(tick(1_000), tick(1_000_000))).toEqual([]);
      const later = harness(() => [{ ...hotWork, from: 10_000_000, to: 20_000_000 }]);
      expect(later.feed(tick(1_000), tick(1_000_000))).toEqual([]);
      const fallback = harness(() => [hotWork]);
      expect(fallback.feed(tick(1_000), tick(61_000))).toEqual([]);
      expect(fallback.feed(tick(61_001))[0]).toMatchObject({ active: true });
    });

    it('measures the silence anew when the permit is resumed with the alarm still raised', () => {
      let permits: PermitRuleView[] = [hotWork];
      const { feed } = harness(() => permits, [], { maxGasSilenceMs: 10_000 });
      feed(readingRecord(lel('gd-1', 1_000, 3)), tick(1_000));
      expect(feed(tick(11_001))[0]).toMatchObject({ active: true });
      permits = [{ ...hotWork, state: 'suspended' }];
      expect(feed(tick(12_000))).toEqual([]);
      permits = [hotWork]; // resumed (its gas analysis passed on an older reading)
      expect(feed(tick(13_000))[0]).toMatchObject({ active: false });
      expect(feed(tick(23_000))).toEqual([]);
      // Still silent: raised again, so the permit is suspended again.
      expect(feed(tick(23_001))[0]).toMatchObject({ active: true, metric: 'lel' });
    });
  });

  describe('overstay', () => {
    const tick = (now: number): EngineInput => ({ kind: 'tick', now });

    it('raises once when the window ends with named workers inside, naming permit and people; clears when they leave', () => {
      let inside = ['w2', 'x9'];
      const state = createPermitStopWorkState();
      const options: PermitStopWorkOptions = {
        ...context,
        permits: () => [{ ...hotWork, limits: {} }],
        peopleInArea: () => inside,
      };
      const feed = (input: EngineInput) => [...reducePermitStopWork(state, input, options).signals];
      expect(feed(tick(3_599_999))).toEqual([]);
      const [raised, ...rest] = feed(tick(3_600_000));
      expect(rest).toEqual([]);
      expect(raised).toMatchObject({
        key: `${SITE}/permit-p1/permit-overstay`,
        ruleId: 'permit-overstay',
        priority: 2,
        active: true,
        areaId: 'tank-farm',
        members: ['w2', 'x9'],
      });
      expect(raised?.message).toContain('permit No. 7');
      expect(raised?.message).toContain('named workers are still inside: w2');
      expect(feed(tick(3_700_000))).toEqual([]);
      inside = ['x9']; // only somebody unnamed: the intrusion rule's business
      expect(feed(tick(3_800_000))[0]).toMatchObject({ active: false, ruleId: 'permit-overstay' });
    });

    it('clears when the permit is closed; no alarm when nobody named is inside', () => {
      let permits: PermitRuleView[] = [{ ...hotWork, limits: {} }];
      const { feed } = harness(() => permits, ['w1']);
      expect(feed(tick(3_600_000))[0]).toMatchObject({ active: true });
      permits = [];
      expect(feed(tick(3_600_001))[0]).toMatchObject({ active: false, ruleId: 'permit-overstay' });
      const empty = harness(() => [{ ...hotWork, limits: {} }], ['x9']);
      expect(empty.feed(tick(3_600_000))).toEqual([]);
    });
  });

  it('marks the permits of its own sites evaluated on each tick, forgets closed ones', () => {
    let permits: PermitRuleView[] = [hotWork, { ...hotWork, id: 'p2', siteId: 'plant-2' }];
    const { state, feed } = harness(() => permits, [], {
      includesSite: site => site === SITE,
      maxGasSilenceMs: 1e9,
    });
    feed({ kind: 'tick', now: 5_000 });
    expect([...state.evaluated]).toEqual([['p1', 5_000]]);
    permits = [];
    feed({ kind: 'tick', now: 6_000 });
    expect(state.evaluated.size).toBe(0);
  });

  it('raises again after a warm-up whose signals were dropped (forgetRaisedPermitAlarms)', () => {
    const { state, feed } = harness(() => [hotWork], ['w1']);
    // Replayed while warming: raised in the state, the signal dropped by the rules service.
    expect(brief(feed(readingRecord(lel('gd-1', 1_000, 30))))).toHaveLength(1);
    expect(feed(readingRecord(lel('gd-1', 2_000, 31)))).toEqual([]);
    forgetRaisedPermitAlarms(state);
    expect(brief(feed(readingRecord(lel('gd-1', 3_000, 32))))).toEqual([
      `${SITE}/permit-p1/stop-work:true:1`,
    ]);
  });
});
