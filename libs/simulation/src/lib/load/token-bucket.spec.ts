import fc from 'fast-check';

import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('accrues tokens at the rate and hands out whole ones', () => {
    const bucket = new TokenBucket(1000, 100, 0);
    expect(bucket.take(10)).toBe(10);
    expect(bucket.take(10)).toBe(0);
    expect(bucket.take(15.5)).toBe(5);
    expect(bucket.available).toBeCloseTo(0.5);
  });

  it('caps a burst after a stall at its capacity and counts the overflow as missed', () => {
    const bucket = new TokenBucket(1000, 40, 0);
    expect(bucket.take(1000)).toBe(40);
    expect(bucket.missed).toBe(960);
  });

  it('takes at most max, leaving the rest', () => {
    const bucket = new TokenBucket(1000, 100, 0);
    expect(bucket.take(50, 20)).toBe(20);
    expect(bucket.peek(50)).toBe(30);
  });

  it('changes rate from the moment it is told', () => {
    const bucket = new TokenBucket(100, 1000, 0);
    bucket.setRate(1000, 1000); // 100 tokens accrued at the old rate
    expect(bucket.take(1100)).toBe(200);
  });

  it('refuses nonsense', () => {
    expect(() => new TokenBucket(-1, 10, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 0, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 10, 0).setRate(Number.NaN, 0)).toThrow(RangeError);
  });

  it('never hands out more than rate × time: taken + available + missed = accrued', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 10_000 })), {
          maxLength: 50,
        }),
        (rate, capacity, steps) => {
          const bucket = new TokenBucket(rate, capacity, 0);
          let now = 0;
          let taken = 0;
          for (const [advance, max] of steps) {
            now += advance;
            taken += bucket.take(now, max);
          }
          const accrued = (rate * now) / 1000;
          expect(taken).toBeLessThanOrEqual(accrued + 1e-6);
          expect(taken + bucket.peek(now) + bucket.missed).toBeGreaterThan(accrued - 1.000001);
          expect(taken + bucket.peek(now) + bucket.missed).toBeLessThanOrEqual(accrued + 1e-6);
          expect(bucket.peek(now)).toBeLessThanOrEqual(capacity);
        },
      ),
    );
  });
});
