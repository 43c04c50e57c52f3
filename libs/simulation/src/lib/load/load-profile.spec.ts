import fc from 'fast-check';

import {
  describeProfile,
  loadProfileSchema,
  offeredReadings,
  peakRate,
  profileDurationMs,
  rateAt,
  type LoadProfile,
} from './load-profile';

describe('load profiles', () => {
  const steady: LoadProfile = { kind: 'steady', rate: 10_000, durationMs: 60_000 };
  const ramp: LoadProfile = { kind: 'ramp', from: 1000, to: 5000, durationMs: 40_000 };
  const burst: LoadProfile = {
    kind: 'burst',
    rate: 1000,
    peak: 8000,
    everyMs: 10_000,
    burstMs: 2000,
    durationMs: 30_000,
  };
  const steps: LoadProfile = {
    kind: 'steps',
    steps: [
      { rate: 10_000, durationMs: 15_000 },
      { rate: 20_000, durationMs: 15_000 },
    ],
  };

  it('gives the rate at each moment and nothing after the end', () => {
    expect(rateAt(steady, 0)).toBe(10_000);
    expect(rateAt(steady, 60_000)).toBeUndefined();
    expect(rateAt(ramp, 20_000)).toBe(3000);
    expect(rateAt(burst, 5000)).toBe(1000);
    expect(rateAt(burst, 8500)).toBe(8000);
    expect(rateAt(burst, 10_000)).toBe(1000);
    expect(rateAt(steps, 14_999)).toBe(10_000);
    expect(rateAt(steps, 15_000)).toBe(20_000);
    expect(rateAt(steps, -1)).toBeUndefined();
  });

  it('knows its length, peak and offered total', () => {
    expect(profileDurationMs(steps)).toBe(30_000);
    expect(peakRate(burst)).toBe(8000);
    expect(offeredReadings(steady)).toBe(600_000);
    expect(offeredReadings(ramp)).toBe(120_000);
    // 3 bursts of 2 s at 8000/s and 24 s at 1000/s.
    expect(offeredReadings(burst)).toBe(3 * 2 * 8000 + 24 * 1000);
    expect(describeProfile(ramp)).toBe('ramp 1000/s → 5000/s over 40s');
  });

  it('offers what its rate integrates to', () => {
    const profile = fc.oneof(
      fc.record({
        kind: fc.constant('ramp' as const),
        from: fc.integer({ min: 0, max: 50_000 }),
        to: fc.integer({ min: 0, max: 50_000 }),
        durationMs: fc.integer({ min: 1000, max: 120_000 }),
      }),
      fc
        .record({
          kind: fc.constant('burst' as const),
          rate: fc.integer({ min: 0, max: 50_000 }),
          peak: fc.integer({ min: 0, max: 50_000 }),
          everyMs: fc.integer({ min: 2, max: 20_000 }),
          burstMs: fc.integer({ min: 1, max: 19_999 }),
          durationMs: fc.integer({ min: 1000, max: 120_000 }),
        })
        .filter(p => p.burstMs < p.everyMs),
    );
    fc.assert(
      fc.property(profile, p => {
        let sum = 0;
        for (let t = 0; t < p.durationMs; t += 1) sum += (rateAt(p, t + 0.5) as number) / 1000;
        expect(Math.abs(sum - offeredReadings(p))).toBeLessThanOrEqual(
          Math.max(1, offeredReadings(p) * 1e-3),
        );
      }),
      { numRuns: 40 },
    );
  });

  it('validates profiles written as data', () => {
    expect(loadProfileSchema.parse({ kind: 'steady', rate: 100, durationMs: '60s' })).toEqual({
      kind: 'steady',
      rate: 100,
      durationMs: 60_000,
    });
    const bad = loadProfileSchema.safeParse({
      kind: 'burst',
      rate: 1,
      peak: 2,
      everyMs: '2s',
      burstMs: '5s',
      durationMs: '10s',
    });
    expect(bad.success).toBe(false);
  });
});
