import fc from 'fast-check';

import type { IngestRecord, MetricValue, RuleSignal } from '@vigil/contracts';

import { DEFAULT_CLOCK_REBASE_MS, DEFAULT_LATE_ALLOWANCE_MS } from '../rule-signal';
import type { TagClockOptions } from './personnel.reducer';
import {
  SITE,
  expectAlternating,
  layout,
  siteSignalLike,
  skewedTagReading,
  tick,
} from './site-fixtures';
import { compileSiteRules, reduceSiteRules } from './site-rules.reducer';
import { type SiteInput, type SiteState, createSiteRulesState, tagPositions } from './site-state';

/** Server time of the scenario's start. */
const T0 = 1_763_900_000_000;
const HOUR = 3_600_000;
/** simulators/scenarios/clock-skew.yaml: a device that lost its RTC comes up 27 h behind. */
const BEHIND_27H = -27 * HOUR;

/**
 * The site rules over the default layout (yard 0…100 × 0…100 with man-down; sump 200…230 × 0…30,
 * restricted). Records are fed in order, each after the ticks (every second from T0) up to its
 * receive time; the clock reads the newest receive time or tick.
 */
function harness(options: TagClockOptions = {}) {
  const state = createSiteRulesState(compileSiteRules({ sites: [layout()] }));
  let now = T0;
  let nextTick = T0 + 1_000;
  const context = { clock: () => now, ...options };
  const all: RuleSignal[] = [];
  const step = (input: SiteInput, out: RuleSignal[]) => {
    now = Math.max(now, input.kind === 'tick' ? input.now : receivedAt(input));
    out.push(...reduceSiteRules(state, input, context).signals);
  };
  const advance = (to: number, out: RuleSignal[]) => {
    for (; nextTick <= to; nextTick += 1_000) step(tick(nextTick), out);
  };
  const feed = (...records: IngestRecord[]): RuleSignal[] => {
    const out: RuleSignal[] = [];
    for (const record of records) {
      advance(receivedAt(record), out);
      step(record, out);
    }
    all.push(...out);
    return out;
  };
  /** Ticks every second up to `to` (server time). */
  const ticksUntil = (to: number): RuleSignal[] => {
    const out: RuleSignal[] = [];
    advance(to, out);
    all.push(...out);
    return out;
  };
  const site = () => state.sites.get(SITE) as SiteState;
  return { stats: state.stats, feed, ticksUntil, site, all };
}

function receivedAt(input: SiteInput): number {
  if (input.kind === 'reading') return input.reading.receivedAt;
  if (input.kind === 'tick') return input.now;
  return -Infinity;
}

/**
 * `count` readings of `tagId` received every `everyMs` from `from` (server time), from a tag clock
 * `skewMs` off the server's (as ingest records them: `ts` = the tag's time).
 */
function series(
  tagId: string,
  from: number,
  everyMs: number,
  count: number,
  skewMs: number,
  values: (index: number) => Record<string, MetricValue>,
): IngestRecord[] {
  return Array.from({ length: count }, (_, index) =>
    skewedTagReading(tagId, from + index * everyMs, skewMs, values(index)),
  );
}

const at =
  (x: number, y: number, extra: Record<string, MetricValue> = {}) =>
  () => ({ x, y, floor: 1, ...extra });

const brief = (signal: RuleSignal) => `${signal.ruleId} ${signal.active ? 'active' : 'cleared'}`;

describe('tag clocks (README "Tag clocks")', () => {
  /** Walking in the yard on the right clock at −10, −5 and 0 s: the watermark is at T0. */
  const baseline = () => series('t1', T0 - 10_000, 5_000, 3, 0, at(50, 50, { still: false }));

  it('re-bases a tag set back just past the late allowance within clockRebaseMs, not when it catches up', () => {
    // 12 s back, every second: late for 7 s, then within the allowance for 5 s while it catches up
    // with its old watermark. Before 2026-12-08 the allowance ended the run: frozen for 12 s.
    const backMs = DEFAULT_LATE_ALLOWANCE_MS + 7_001;
    const { feed, stats, site } = harness();
    feed(...baseline());
    feed(
      ...series('t1', T0 + 1_000, 1_000, DEFAULT_CLOCK_REBASE_MS / 1_000 + 1, -backMs, at(60, 60)),
    );
    expect(stats).toMatchObject({ clockRebases: 1 });
    expect(tagPositions(site())).toEqual([expect.objectContaining({ tagId: 't1', x: 60, y: 60 })]);
  });

  it('keeps tracking a tag whose clock jumps 27 h back: man-down from the stillness after it', () => {
    const { feed, ticksUntil, stats, site, all } = harness();
    feed(...baseline());
    // The wearer falls at 25 s and the tag restarts 27 h behind: motionless, every 5 s.
    const jump = series('t1', T0 + 25_000, 5_000, 40, BEHIND_27H, at(52, 50, { still: true }));
    // 25 and 30 s are late; 35 s (10 s of receive time on the new clock) re-bases the tag.
    const signals = [...feed(...jump), ...ticksUntil(T0 + 230_000)];
    expect(signals).toEqual([
      siteSignalLike('t1', 'man-down-l1', true, T0 + 95_000, {
        areaId: 'yard',
        detectedAt: T0 + 95_000,
        message: 't1 motionless for 60 s in Yard (man-down pre-alarm at 60 s)',
      }),
      siteSignalLike('t1', 'man-down-l2', true, T0 + 155_000, { detectedAt: T0 + 155_000 }),
    ]);
    expect(stats).toMatchObject({ clockRebases: 1, lateReadings: 2, outOfOrderReadings: 2 });
    // Position and stillness follow the new clock: not frozen at 20 s, not lost after 90 s.
    expect(tagPositions(site())).toEqual([
      {
        tagId: 't1',
        x: 52,
        y: 50,
        floor: 1,
        fixAt: T0 + 220_000,
        lost: false,
        still: true,
        areaIds: ['yard'],
      },
    ]);
    // Moving again on the new clock clears both; `at` stays the tag's own time.
    const up = feed(skewedTagReading('t1', T0 + 231_000, BEHIND_27H, { still: false }));
    expect(up.map(brief)).toEqual(['man-down-l1 cleared', 'man-down-l2 cleared']);
    expect(up[0]?.at).toBe(T0 + 231_000 + BEHIND_27H);
    expectAlternating(all);
  });

  it('with clockRebaseMs Infinity the tag freezes as before: no man-down, lost after 90 s', () => {
    const { feed, ticksUntil, stats, site } = harness({ clockRebaseMs: Infinity });
    feed(...baseline());
    const jump = series('t1', T0 + 25_000, 5_000, 40, BEHIND_27H, at(52, 50, { still: true }));
    expect([...feed(...jump), ...ticksUntil(T0 + 230_000)]).toEqual([]);
    expect(stats).toMatchObject({ clockRebases: 0, lateReadings: 40, outOfOrderReadings: 40 });
    expect(tagPositions(site())).toMatchObject([
      { x: 50, fixAt: T0, lost: true, still: false, areaIds: ['yard'] },
    ]);
  });

  it.each([
    // Late at 1 … 10 s; 11 s re-bases (10 s after the first); the second fix inside confirms.
    { options: {}, lateReadings: 10, raisedAt: T0 + 1_000 + DEFAULT_CLOCK_REBASE_MS + 1_000 },
    { options: { clockRebaseMs: 2_000 }, lateReadings: 2, raisedAt: T0 + 4_000 },
    { options: { clockRebaseMs: 0 }, lateReadings: 0, raisedAt: T0 + 2_000 },
  ])(
    'raises an intrusion into a restricted area entered at the jump ($options)',
    ({ options, lateReadings, raisedAt }) => {
      const { feed, stats } = harness(options);
      feed(...baseline());
      const signals = feed(...series('t1', T0 + 1_000, 1_000, 15, BEHIND_27H, at(215, 15)));
      expect(signals).toEqual([
        siteSignalLike('t1', 'intrusion', true, raisedAt + BEHIND_27H, {
          areaKey: 'sump',
          detectedAt: raisedAt,
          message: 't1 entered restricted area Sump (≥ 3 m inside, 2 fixes)',
        }),
      ]);
      expect(stats).toMatchObject({ clockRebases: 1, lateReadings });
    },
  );

  it('follows a clock that jumps an hour ahead and then back to the right time', () => {
    const { feed, stats } = harness();
    feed(...baseline());
    // An hour ahead from 5 s (in order), back on the right clock at 30 s, in the sump from 45 s.
    feed(...series('t1', T0 + 5_000, 5_000, 5, HOUR, at(60, 50)));
    const back = feed(
      ...series('t1', T0 + 30_000, 5_000, 3, 0, at(60, 50)),
      ...series('t1', T0 + 45_000, 5_000, 2, 0, at(215, 15)),
    );
    // 30 and 35 s are late; 40 s re-bases the tag; 45 and 50 s confirm the entry.
    expect(back.map(signal => [brief(signal), signal.detectedAt])).toEqual([
      ['intrusion active', T0 + 50_000],
    ]);
    expect(stats).toMatchObject({ clockRebases: 1, lateReadings: 2 });
  });

  describe('late readings that are not a clock jump are still ignored', () => {
    /** Walking in the yard on the right clock every 5 s, 0 … 120 s. */
    const live = () => series('t1', T0, 5_000, 25, 0, at(50, 50));
    /** Fixes inside the sump: two of them would raise an intrusion if they were evaluated. */
    const inSump = { x: 215, y: 15, floor: 1 };

    it('a re-delivered old fix and a store-and-forward batch behind the watermark', () => {
      const { feed, stats, site } = harness();
      const redelivered = skewedTagReading('t1', T0 + 61_000, -41_000, inSump); // ts 20 s
      // A gateway uploads ten buffered fixes (0 … 45 s) at once at 62 s.
      const batch = Array.from({ length: 10 }, (_, index) =>
        skewedTagReading('t1', T0 + 62_000, index * 5_000 - 62_000, inSump),
      );
      const signals = feed(...live().slice(0, 13), redelivered, ...batch, ...live().slice(13));
      expect(signals).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 11, clockRebases: 0 });
      expect(tagPositions(site())).toMatchObject([{ x: 50, fixAt: T0 + 120_000 }]);
    });

    it('a backfill drained faster than real time, with no live reading in between', () => {
      const { feed, stats } = harness();
      feed(...series('t1', T0 + 125_000, 5_000, 1, 0, at(50, 50))); // the newest first: 125 s
      // The 24 buffered fixes (0 … 115 s), one message every 500 ms for 11.5 s.
      const drain = Array.from({ length: 24 }, (_, index) =>
        skewedTagReading('t1', T0 + 126_000 + index * 500, -126_000 + index * 4_500, inSump),
      );
      expect(feed(...drain)).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 24, clockRebases: 0 });
    });

    it('a replay at real-time pace while the tag reports live on the right clock', () => {
      const { feed, stats } = harness();
      const replay = series('t1', T0 + 500, 1_000, 60, -HOUR, () => inSump); // an hour-old copy
      const merged = [...live().slice(0, 13), ...replay].sort(
        (a, b) => receivedAt(a) - receivedAt(b),
      );
      expect(feed(...merged)).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 60, clockRebases: 0 });
    });

    it('copies received before the newest reading, at real-time pace', () => {
      const { feed, stats } = harness();
      feed(...live().slice(0, 13)); // newest received at 60 s
      // Older in receive time too (reordered on the way): not live, so never a run.
      const reordered = Array.from({ length: 20 }, (_, index) =>
        skewedTagReading('t1', T0 + 30_000 + index * 1_000, -HOUR, inSump),
      );
      expect(feed(...reordered)).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 20, clockRebases: 0 });
    });

    it('a reading near the watermark breaks a run (out of order, not late)', () => {
      const { feed, stats } = harness();
      feed(...baseline());
      const jumped = (from: number, count: number) =>
        series('t1', from, 1_000, count, BEHIND_27H, () => inSump);
      // 9 s of late readings, then one 2 s behind the watermark: the run starts again after it.
      feed(...jumped(T0 + 1_000, 9), skewedTagReading('t1', T0 + 10_000, -12_000, inSump));
      expect(stats).toMatchObject({ lateReadings: 9, outOfOrderReadings: 10, clockRebases: 0 });
      const signals = feed(...jumped(T0 + 11_000, 12));
      expect(signals.map(signal => [brief(signal), signal.detectedAt])).toEqual([
        ['intrusion active', T0 + 22_000], // re-based at 21 s (10 s after 11 s), confirmed at 22 s
      ]);
    });
  });

  it('raises an intrusion once, within clockRebaseMs of the entry, whatever the jump back', () => {
    fc.assert(
      fc.property(
        // Jumps of up to a minute too: those near the late allowance are the slowest.
        fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 48 * HOUR })),
        fc.integer({ min: 1_000, max: 30_000 }), // walking … static (≤ 30 s, §9.7)
        fc.nat(30),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 60, maxLength: 60 }),
        (backMs, everyMs, outsideReadings, latencies) => {
          const { feed } = harness();
          feed(...baseline());
          // The tag reports every `everyMs` on a clock `backMs` behind, from between the yard and
          // the sump, then inside the sump; each message takes up to 2 s to arrive, so the offsets
          // `ts − receivedAt` wander (receive order is kept).
          let received = T0;
          const records = latencies.map((latencyMs, index) => {
            const sentAt = T0 + 1_000 + index * everyMs;
            received = Math.max(received, sentAt + latencyMs);
            const position = index < outsideReadings ? at(150, 15) : at(215, 15);
            return skewedTagReading('t1', received, sentAt - backMs - received, position());
          });
          const enteredAt = receivedAt(records[outsideReadings] as IngestRecord);
          const raised = feed(...records).filter(signal => signal.ruleId === 'intrusion');
          expect(raised.map(brief)).toEqual(['intrusion active']);
          const delay = (raised[0]?.detectedAt ?? Infinity) - enteredAt;
          // Evaluated again within clockRebaseMs plus one interval and the jitter. A jump that
          // ends inside the run (readings near the old watermark break it) waits instead for the
          // clock to catch up: up to the late allowance and one interval longer. Then confirmed
          // by the next fix or, for a slow tag, by the tick 5 s after the first fix inside.
          const runOutlastsJump =
            backMs >= DEFAULT_CLOCK_REBASE_MS + DEFAULT_LATE_ALLOWANCE_MS + everyMs + 3_000;
          const blindMs = runOutlastsJump
            ? DEFAULT_CLOCK_REBASE_MS + everyMs + 2_000
            : DEFAULT_CLOCK_REBASE_MS + DEFAULT_LATE_ALLOWANCE_MS + 2 * everyMs + 2_000;
          expect(delay).toBeLessThanOrEqual(blindMs + 6_000);
        },
      ),
      { numRuns: 300 },
    );
  });
});
