import fc from 'fast-check';

import { FUTURE_TOLERANCE_MS, type Reading, type RuleSignal } from '@vigil/contracts';

import { GAS_L1_OFF_DELAY_MS } from './default-rules/gas';

import { readingRecord } from '../testing/fixtures';
import { skewedReading } from '../testing/records';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  createRuleEngineStats,
  reduceRuleEngine,
} from './rule-engine.reducer';
import {
  DEFAULT_CLOCK_REBASE_MS,
  DEFAULT_LATE_ALLOWANCE_MS,
  type DeviceRules,
} from './rule-signal';

/** Server time of the scenario's start. */
const T0 = 1_763_900_000_000;
const HOUR = 3_600_000;
/** simulators/scenarios/clock-skew.yaml: a gateway lost its RTC. */
const BEHIND_27H = -27 * HOUR;

/** The engine with the default rules of `devices`; the clock reads the newest `receivedAt` fed. */
function engine(devices: readonly DeviceRules[], extra: Partial<RuleEngineOptions> = {}) {
  const registry = new Map(devices.map(device => [device.deviceId, device]));
  const stats = createRuleEngineStats();
  let now = T0;
  const options: RuleEngineOptions = {
    clock: () => now,
    startedAt: T0 - 60_000,
    lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
    stats,
    ...extra,
  };
  const state = createRuleEngineState(options);
  const feed = (...readings: Reading[]): RuleSignal[] =>
    readings.flatMap(each => {
      now = Math.max(now, each.receivedAt);
      return reduceRuleEngine(state, readingRecord(each), options).signals;
    });
  return { stats, feed };
}

/**
 * `count` readings of `deviceId` received every `everyMs` from `from` (server time), from a device
 * clock `skewMs` off the server's (as ingest records them: `ts` = device time).
 */
function series(
  deviceId: string,
  from: number,
  everyMs: number,
  count: number,
  skewMs: number,
  lel: number | ((index: number) => number),
): Reading[] {
  return Array.from({ length: count }, (_, index) =>
    skewedReading(deviceId, from + index * everyMs, skewMs, {
      lel: typeof lel === 'number' ? lel : lel(index),
    }),
  );
}

const brief = (signal: RuleSignal) => `${signal.ruleId} ${signal.active ? 'active' : 'cleared'}`;

describe('clock jumps (README "Clock jumps")', () => {
  const gc = registered('gc-ru-02', 'gas-combustible');
  /** Healthy readings on the right clock at −10, −5 and 0 s: the watermark is at T0. */
  const baseline = () => series('gc-ru-02', T0 - 10_000, 5_000, 3, 0, 1);

  it('reproduces scenarios/clock-skew.yaml: clock-skew once, and gas-l2 at the first 62 %LEL', () => {
    const { feed, stats } = engine([gc]);
    const signals = feed(
      ...baseline(),
      // 27 h behind, every 5 s for 70 s.
      ...series(
        'gc-ru-02',
        T0 + 5_000,
        5_000,
        14,
        BEHIND_27H,
        index => [1.2, 1.4, 1.1][index % 3] ?? 0,
      ),
      // Then real gas, every second.
      ...series('gc-ru-02', T0 + 75_000, 1_000, 20, BEHIND_27H, 62),
    );
    expect(signals.map(brief)).toEqual(['clock-skew active', 'gas-l1 active', 'gas-l2 active']);
    // Late readings are evidence about the clock: 60 s of receive time from the first one.
    expect(signals[0]).toMatchObject({ value: BEHIND_27H, detectedAt: T0 + 65_000 });
    expect(signals[2]).toMatchObject({
      detectedAt: T0 + 75_000, // at once (the scenario allows 10 s)
      at: T0 + 75_000 + BEHIND_27H, // event time stays the device's own
      message: 'Combustible gas 62 %LEL ≥ L2 set-point 50 %LEL',
    });
    // 5 and 10 s were late; 15 s (10 s of receive time on the new clock) re-based the device.
    expect(stats).toMatchObject({ clockRebases: 1, lateReadings: 2, outOfOrderReadings: 2 });
  });

  it('raises gas-l2 at most clockRebaseMs after the jump when the gas comes with it', () => {
    const { feed, stats } = engine([gc]);
    feed(...baseline());
    const signals = feed(...series('gc-ru-02', T0 + 1_000, 1_000, 15, BEHIND_27H, 62));
    expect(signals.map(brief)).toEqual(['gas-l1 active', 'gas-l2 active']);
    expect(signals[1]?.detectedAt).toBe(T0 + 1_000 + DEFAULT_CLOCK_REBASE_MS);
    expect(stats).toMatchObject({ clockRebases: 1, lateReadings: 10 });
  });

  it('re-bases as soon as the option says, and never with clockRebaseMs Infinity', () => {
    const jump = () => series('gc-ru-02', T0 + 1_000, 1_000, 5, BEHIND_27H, 62);
    const quick = engine([gc], { clockRebaseMs: 2_000 });
    quick.feed(...baseline());
    expect(quick.feed(...jump()).map(signal => signal.detectedAt)).toEqual([
      T0 + 3_000,
      T0 + 3_000,
    ]);
    const never = engine([gc], { clockRebaseMs: Infinity });
    never.feed(...baseline());
    const signals = never.feed(...series('gc-ru-02', T0 + 1_000, 1_000, 600, BEHIND_27H, 62));
    expect(signals.map(brief)).toEqual(['clock-skew active']); // the clock is still flagged
    expect(never.stats).toMatchObject({ clockRebases: 0, lateReadings: 600 });
  });

  it.each([
    // An hour ahead: clock-skew is raised, and cleared by the first right reading.
    { aheadMs: HOUR, skewSignals: ['clock-skew active'], backSignals: ['clock-skew cleared'] },
    // 50 s ahead (once under ingest's 60 s limit, and the blind spot of issue 10 finding 6), and
    // just beyond the 2 s tolerance: evaluated on server time, so clock-skew says why.
    {
      aheadMs: 50_000,
      skewSignals: ['clock-skew active'],
      backSignals: ['clock-skew cleared'],
    },
    {
      aheadMs: FUTURE_TOLERANCE_MS + 1,
      skewSignals: ['clock-skew active'],
      backSignals: ['clock-skew cleared'],
    },
  ])(
    'evaluates a clock $aheadMs ms ahead on receive time, so the right clock is never late',
    ({ aheadMs, skewSignals, backSignals }) => {
      const { feed, stats } = engine([gc]);
      feed(...baseline());
      expect(feed(...series('gc-ru-02', T0 + 5_000, 5_000, 14, aheadMs, 1)).map(brief)).toEqual(
        skewSignals,
      );
      expect(stats.futureReadings).toBe(14);
      // Back on the right clock at 75 s: in order, because the watermark never went ahead…
      const back = feed(...series('gc-ru-02', T0 + 75_000, 5_000, 2, 0, 1));
      expect(back.map(brief)).toEqual(backSignals);
      expect(stats).toMatchObject({ lateReadings: 0, outOfOrderReadings: 0, clockRebases: 0 });
      // …so gas raises at the first reading, no re-base needed.
      const gas = feed(...series('gc-ru-02', T0 + 85_000, 1_000, 3, 0, 62));
      expect(gas.map(brief)).toEqual(['gas-l1 active', 'gas-l2 active']);
      expect(gas[1]?.detectedAt).toBe(T0 + 85_000);
      expect(stats.clockRebases).toBe(0);
    },
  );

  it('keeps L2 working while a second source interleaves readings from 59 s ahead (issue 10 #6)', () => {
    const { feed, stats } = engine([gc]);
    feed(...baseline());
    const signals = [];
    for (let second = 1; second <= 40; second += 1) {
      signals.push(...feed(...series('gc-ru-02', T0 + second * 1_000, 1_000, 1, 59_000, 0)));
      signals.push(...feed(...series('gc-ru-02', T0 + second * 1_000 + 500, 1_000, 1, 0, 80)));
    }
    expect(signals.map(brief)).toContain('gas-l2 active');
    expect(stats.lateReadings).toBe(0);
  });

  it("judges a reading against the device's own clock: a source ahead of it cannot blind it", () => {
    const { feed, stats } = engine([gc]);
    // The device's clock runs 10 min behind, steadily; another source stamps server time.
    feed(...series('gc-ru-02', T0 - 10_000, 5_000, 3, -600_000, 1));
    const signals = [];
    for (let second = 1; second <= 20; second += 1) {
      signals.push(...feed(...series('gc-ru-02', T0 + second * 1_000, 1_000, 1, 0, 0)));
      signals.push(
        ...feed(...series('gc-ru-02', T0 + second * 1_000 + 500, 1_000, 1, -600_000, 80)),
      );
    }
    expect(signals.map(brief)).toContain('gas-l2 active');
    expect(stats).toMatchObject({ lateReadings: 0, clockAdvances: 0 });
    expect(stats.aheadOfDeviceClock).toBe(20);
  });

  it('follows a device clock set right (forward) once it holds alone, evaluating meanwhile', () => {
    const { feed, stats } = engine([gc]);
    feed(...series('gc-ru-02', T0 - 10_000, 5_000, 3, -600_000, 1));
    // Set right at T0: held on the old clock (in order, evaluated) for 10 s, then followed.
    const gas = feed(...series('gc-ru-02', T0 + 1_000, 1_000, 15, 0, 62));
    expect(gas.map(brief)).toContain('gas-l2 active');
    expect(gas.find(signal => signal.ruleId === 'gas-l2')?.detectedAt).toBe(T0 + 1_000);
    expect(stats).toMatchObject({ aheadOfDeviceClock: 10, clockAdvances: 1, lateReadings: 0 });
  });

  it('keeps what a pending on-delay has run on the old clock, and no more', () => {
    const slow = registered('gc-ru-02', 'gas-combustible', {
      overrides: [{ 'gas-l1': { onDelayMs: 30_000 } }],
    });
    const { feed } = engine([slow]);
    // 30 %LEL from 0 s to 20 s on the right clock: 20 s of the 30 s on-delay have run.
    expect(feed(...series('gc-ru-02', T0, 5_000, 5, 0, 30))).toEqual([]);
    // 27 h back at 25 s: 25 and 30 s are late, 35 s re-bases (20 s run so far), 45 s completes it.
    const signals = feed(...series('gc-ru-02', T0 + 25_000, 5_000, 6, BEHIND_27H, 30));
    expect(signals.map(brief)).toEqual(['gas-l1 active']);
    expect(signals[0]).toMatchObject({
      detectedAt: T0 + 45_000,
      at: T0 + 45_000 + BEHIND_27H,
    });
  });

  it('keeps what a flat stretch has lasted on the old clock, and no more', () => {
    const flat = registered('gc-ru-02', 'gas-combustible', {
      overrides: [{ stuck: { durationMs: 60_000 } }],
    });
    const { feed } = engine([flat]);
    // 3 %LEL from 0 to 30 s on the right clock; 27 h back from 35 s, re-based at 45 s.
    expect(feed(...series('gc-ru-02', T0, 5_000, 7, 0, 3))).toEqual([]);
    const signals = feed(...series('gc-ru-02', T0 + 35_000, 5_000, 10, BEHIND_27H, 3));
    expect(signals.map(brief)).toEqual(['stuck active']);
    expect(signals[0]?.detectedAt).toBe(T0 + 75_000); // 30 s before the jump, 30 s after
  });

  it('keeps an active latched alarm across the jump: no second raise, clears on the new clock', () => {
    const { feed } = engine([gc]);
    expect(feed(...series('gc-ru-02', T0, 5_000, 2, 0, 62)).map(brief)).toEqual([
      'gas-l1 active',
      'gas-l2 active',
    ]);
    expect(feed(...series('gc-ru-02', T0 + 10_000, 5_000, 4, BEHIND_27H, 62))).toEqual([]);
    expect(feed(...series('gc-ru-02', T0 + 30_000, 5_000, 1, BEHIND_27H, 40)).map(brief)).toEqual([
      'gas-l2 cleared',
    ]);
  });

  it('restarts the rate and trend windows on the new clock', () => {
    const rising = engine([gc]);
    rising.feed(...series('gc-ru-02', T0 - 60_000, 5_000, 13, 0, 1)); // a full window
    // Re-based at 15 s; then a rise of 11 %LEL in 10 s, below L1.
    const rate = rising.feed(
      ...series('gc-ru-02', T0 + 5_000, 5_000, 3, BEHIND_27H, 1),
      ...series('gc-ru-02', T0 + 20_000, 5_000, 2, BEHIND_27H, index => [5, 12][index] ?? 0),
    );
    expect(rate.map(brief)).toEqual(['gas-rate active']);
    expect(rate[0]).toMatchObject({ detectedAt: T0 + 25_000, value: 12 });

    const creeping = engine([gc]);
    creeping.feed(...baseline());
    // 0.075 %LEL/s from 5 %LEL: 4.5 %LEL a minute (no rate warning), 25 %LEL within 5 min.
    const trend = creeping.feed(
      ...series('gc-ru-02', T0 + 5_000, 5_000, 30, BEHIND_27H, index => 5 + index * 0.375),
    );
    expect(trend.map(brief)).toEqual(['gas-trend active', 'clock-skew active']);
    // The first usable fit of the window restarted at 15 s: 15 … 40 s, half the window spanned.
    expect(trend[0]?.detectedAt).toBe(T0 + 40_000);
  });

  describe('late readings that are not a clock jump are still ignored', () => {
    it('a re-delivered old reading and a store-and-forward batch behind the watermark', () => {
      const { feed, stats } = engine([gc]);
      const live = series('gc-ru-02', T0, 5_000, 25, 0, 1); // 0 … 120 s
      const redelivered = skewedReading('gc-ru-02', T0 + 61_000, -41_000, { lel: 80 }); // ts 20 s
      // A gateway uploads ten buffered samples (0 … 45 s) in one message at 62 s.
      const batch = Array.from({ length: 10 }, (_, index) =>
        skewedReading('gc-ru-02', T0 + 62_000, index * 5_000 - 62_000, { lel: 80 }),
      );
      const signals = feed(...live.slice(0, 13), redelivered, ...batch, ...live.slice(13));
      expect(signals).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 11, clockRebases: 0 });
    });

    it('a backfill drained faster than real time, with no live reading in between', () => {
      const { feed, stats } = engine([gc]);
      feed(...series('gc-ru-02', T0 + 125_000, 5_000, 1, 0, 1)); // the newest first: 125 s
      // The 24 buffered samples (0 … 115 s), one message every 500 ms for 11.5 s.
      const drain = Array.from({ length: 24 }, (_, index) =>
        skewedReading('gc-ru-02', T0 + 126_000 + index * 500, -126_000 + index * 4_500, {
          lel: 80,
        }),
      );
      expect(feed(...drain)).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 24, clockRebases: 0 });
    });

    it('a replay at real-time pace while the device reports live on the right clock', () => {
      const { feed, stats } = engine([gc]);
      const live = series('gc-ru-02', T0, 5_000, 13, 0, 1); // 0 … 60 s
      const replay = series('gc-ru-02', T0 + 500, 1_000, 60, -HOUR, 80); // an hour-old copy
      const merged = [...live, ...replay].sort((a, b) => a.receivedAt - b.receivedAt);
      expect(feed(...merged)).toEqual([]);
      expect(stats).toMatchObject({ lateReadings: 60, clockRebases: 0 });
    });
  });

  it('raises gas-l2 once, within clockRebaseMs of the gas, whatever the jump back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 1_000, max: 5_000 }),
        fc.nat(30),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 60, maxLength: 60 }),
        (backMs, everyMs, quietReadings, latencies) => {
          const { feed } = engine([gc]);
          feed(...baseline());
          // The device sends every `everyMs` on a clock `backMs` behind; each message takes up to
          // 2 s to arrive, so the offsets `ts − receivedAt` wander (receive order is kept).
          let receivedAt = T0;
          const readings = latencies.map((latencyMs, index) => {
            const sentAt = T0 + 1_000 + index * everyMs;
            receivedAt = Math.max(receivedAt, sentAt + latencyMs);
            return {
              ...skewedReading('gc-ru-02', receivedAt, 0, {
                lel: index < quietReadings ? 1 : 62,
              }),
              ts: sentAt - backMs,
              clockSkewMs: sentAt - backMs - receivedAt,
            };
          });
          const gasAt = readings[quietReadings]?.receivedAt ?? 0;
          const raised = feed(...readings).filter(signal => signal.ruleId === 'gas-l2');
          expect(raised.map(brief)).toEqual(['gas-l2 active']);
          const delay = (raised[0]?.detectedAt ?? Infinity) - gasAt;
          expect(delay).toBeLessThanOrEqual(DEFAULT_CLOCK_REBASE_MS + everyMs + 2_000);
        },
      ),
      { numRuns: 300 },
    );
  });

  /**
   * A clock set forward (here: a detector 34 s behind whose clock is corrected, or an engine that
   * learnt a replayed message's offset) is taken after `clockRebaseMs` of readings on the new
   * clock (`clockAdvances`). Until 2026-12-08 the pending delays stayed on the old clock, so the
   * jump counted as time in the band: gas-l1's 30 s off-delay ended 10–20 s after the return
   * (found by the bench: a session replayed an earlier run's excursions). The advance now moves
   * them like a set-back does.
   */
  it('a clock set forward does not shorten a pending off-delay', () => {
    const BEHIND = -34_000;
    const { feed, stats } = engine([gc]);
    feed(...series('gc-ru-02', T0 - 10_000, 5_000, 3, BEHIND, 1));
    const signals = [
      ...feed(...series('gc-ru-02', T0 + 2_000, 2_000, 2, BEHIND, 30)), // L1 at 2 s
      // Back in the band at 6 s: the off-delay runs until 36 s (server time).
      ...feed(...series('gc-ru-02', T0 + 6_000, 2_000, 2, BEHIND, 1)),
      // 10 s in, the clock is set right (34 s forward); readings every 2 s in the band.
      ...feed(...series('gc-ru-02', T0 + 10_000, 2_000, 30, 0, 1)),
    ].filter(signal => signal.ruleId === 'gas-l1');
    expect(stats.clockAdvances).toBe(1);
    expect(signals.map(brief)).toEqual(['gas-l1 active', 'gas-l1 cleared']);
    const cleared = signals[1]?.detectedAt ?? 0;
    expect(cleared - (T0 + 6_000)).toBeGreaterThanOrEqual(GAS_L1_OFF_DELAY_MS);
  });

  /**
   * The band the property above almost never draws: a clock set back by a little more than the late
   * allowance. Its readings are late for a while, then, catching up at one second a second, pass
   * through the allowance: until 2026-12-08 that ended their run ("near the watermark: still on
   * the old clock"), so the device was blind until it caught up with its old watermark (up to
   * allowance + re-base = 15 s) instead of at most `clockRebaseMs`. Found by the property below
   * (seed -398238653: 13,001 ms).
   */
  it('raises gas-l2 within clockRebaseMs when the clock is set back just past the late allowance', () => {
    fc.assert(
      fc.property(
        fc.integer({
          min: DEFAULT_LATE_ALLOWANCE_MS + 1,
          max: DEFAULT_LATE_ALLOWANCE_MS + DEFAULT_CLOCK_REBASE_MS + 2_000,
        }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 30, maxLength: 30 }),
        (backMs, latencies) => {
          const { feed } = engine([gc]);
          feed(...baseline());
          let receivedAt = T0;
          const readings = latencies.map((latencyMs, index) => {
            const sentAt = T0 + 1_000 + index * 1_000;
            receivedAt = Math.max(receivedAt, sentAt + latencyMs);
            return {
              ...skewedReading('gc-ru-02', receivedAt, 0, { lel: 62 }),
              ts: sentAt - backMs,
              clockSkewMs: sentAt - backMs - receivedAt,
            };
          });
          const gasAt = readings[0]?.receivedAt ?? 0;
          const raised = feed(...readings).filter(signal => signal.ruleId === 'gas-l2');
          expect(raised.map(brief)).toEqual(['gas-l2 active']);
          const delay = (raised[0]?.detectedAt ?? Infinity) - gasAt;
          expect(delay).toBeLessThanOrEqual(DEFAULT_CLOCK_REBASE_MS + 1_000 + 200);
        },
      ),
      { numRuns: 200 },
    );
  });

  /**
   * Issue 10 finding 6, as a property: a device whose clock does anything (segments on any offset
   * within ±2 h, the future included, each reading up to 2 s on its way), then 40 readings at
   * 80 %LEL one a second, optionally beside a second source stamping its low readings ahead of the
   * server: L2 is raised, within the re-base bound, and no watermark ever runs more than
   * FUTURE_TOLERANCE_MS ahead of the newest receive time.
   */
  it('raises L2 whatever the clock did before, and never lets a watermark into the future', () => {
    const offset = fc.oneof(
      fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
      fc.constantFrom(59_000, FUTURE_TOLERANCE_MS, FUTURE_TOLERANCE_MS + 1, -6_000, 0),
    );
    const segment = fc.record({ offsetMs: offset, readings: fc.integer({ min: 1, max: 20 }) });
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 5 }),
        offset,
        fc.option(
          fc.oneof(
            fc.integer({ min: FUTURE_TOLERANCE_MS + 1, max: 2 * HOUR }),
            fc.integer({ min: -2 * HOUR, max: 0 }),
          ),
          { nil: undefined },
        ),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 40, maxLength: 40 }),
        (before, gasOffsetMs, secondSourceAheadMs, latencies) => {
          const { feed, state } = engineWithState([gc]);
          let receivedAt = T0;
          let sentAt = T0;
          const watermarkOk = () => {
            for (const site of state.devices.values())
              for (const each of site.values())
                expect(each.lastTs).toBeLessThanOrEqual(receivedAt + FUTURE_TOLERANCE_MS);
          };
          for (const { offsetMs, readings } of before) {
            for (let index = 0; index < readings; index += 1) {
              sentAt += 1_000;
              receivedAt = Math.max(receivedAt, sentAt + 100);
              feed({
                ...skewedReading('gc-ru-02', receivedAt, 0, { lel: 1 }),
                ts: sentAt + offsetMs,
              });
              watermarkOk();
            }
          }
          // A second source `secondSourceAheadMs` off the device's clock, beside a device whose
          // own clock is right (the finding) or was set by its own readings (first, before the
          // other source). Not covered, by design: a source within (0, 2 s] ahead of the device
          // (docs/safety.md, "Time"), and one that came first on a clock ahead of the device
          // (indistinguishable from a live device beside a replay, which must not alarm).
          const second = gasOffsetMs === 0 || before.length === 0 ? secondSourceAheadMs : undefined;
          let first = true;
          const raised: RuleSignal[] = [];
          let gasFrom = Number.NaN;
          for (const latencyMs of latencies) {
            sentAt += 1_000;
            if (second !== undefined && !(first && before.length === 0))
              raised.push(
                ...feed({
                  ...skewedReading('gc-ru-02', sentAt, 0, { lel: 0 }),
                  ts: sentAt + gasOffsetMs + second,
                  clockSkewMs: gasOffsetMs + second,
                }),
              );
            first = false;
            receivedAt = Math.max(receivedAt, sentAt + latencyMs);
            if (Number.isNaN(gasFrom)) gasFrom = receivedAt;
            raised.push(
              ...feed({
                ...skewedReading('gc-ru-02', receivedAt, 0, { lel: 80 }),
                ts: sentAt + gasOffsetMs,
                clockSkewMs: sentAt + gasOffsetMs - receivedAt,
              }),
            );
            watermarkOk();
          }
          const l2 = raised.find(signal => signal.ruleId === 'gas-l2' && signal.active);
          expect(l2).toBeDefined();
          expect((l2?.detectedAt ?? Infinity) - gasFrom).toBeLessThanOrEqual(
            DEFAULT_CLOCK_REBASE_MS + 1_000 + 2_000,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** `engine`, with the state exposed to look at the watermarks. */
function engineWithState(devices: readonly DeviceRules[]) {
  const registry = new Map(devices.map(device => [device.deviceId, device]));
  let now = T0;
  const options: RuleEngineOptions = {
    clock: () => now,
    startedAt: T0 - 60_000,
    lookupDevice: (_siteId, deviceId) => registry.get(deviceId),
  };
  const state = createRuleEngineState(options);
  const feed = (reading: Reading): readonly RuleSignal[] => {
    now = Math.max(now, reading.receivedAt);
    return reduceRuleEngine(state, readingRecord(reading), options).signals;
  };
  return { state, feed };
}
